/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_dp: user-space side of the datapath. Opens and loads the plumwall
 * BPF skeleton, writes policy slots, flips the active slot, reads
 * counters, and runs frames through the programs with BPF_PROG_TEST_RUN.
 * No CLI, no pinning, no attaching (issue 4 builds those on top).
 *
 * Policy slots (pw_maps.h): fw_dp_slot_fill() creates fresh inner maps
 * sized for the policy, fills them and installs them into the idle slot;
 * fw_dp_flip() makes that slot active with one pw_config update and then
 * waits for an RCU grace period, after which no packet uses the old slot
 * any more and it may be refilled. fw_dp_load() does both.
 *
 * All functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_DATAPATH_H
#define PLUMWALL_FW_DATAPATH_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/shared.h>

struct fw_dp;

enum fw_dp_prog {
	FW_DP_XDP = 0, /* XDP ingress */
	FW_DP_TC_INGRESS = 1,
	FW_DP_TC_EGRESS = 2,
	FW_DP_SWEEP = 3, /* conntrack sweep (syscall program, plumwalld) */
	/* TC ingress next to XDP: sends the XDP program's reject answers */
	FW_DP_TC_ANSWER = 4,
	FW_DP_PROG_COUNT,
};

/* Sizes of the global maps, fixed at load; 0 keeps the default. */
struct fw_dp_opts {
	__u32 ct_max_entries; /* settings.conntrack.max_entries */
	__u32 frag_max_entries;
	__u32 rate_max_entries;
	__u32 ringbuf_bytes; /* power of two, page multiple */
	/* Pin every map as @pin_dir/NAME, reusing the maps pinned there
	 * (a pinned map whose type, sizes or flags differ: -EPROTO). A
	 * reused pw_config is kept as it is, and must carry
	 * PW_LAYOUT_VERSION (-EPROTO otherwise). NULL: private maps. */
	const char *pin_dir;
	/* Every map must already be pinned in @pin_dir (-ENOENT): readers
	 * never create a datapath of their own. */
	bool pin_must_exist;
	/* Maps only, no programs: a later apply attaches the programs pinned
	 * by the first one, and readers need none. */
	bool no_progs;
	/* Readers (status, stats, flows): the pinned maps opened as they
	 * are, and nothing loaded. No program, no object BTF in the kernel
	 * and so no vmlinux BTF parsed (libbpf reads all of it, about 5
	 * MB, for any load of an object with CO-RE relocations): a reader
	 * cannot write a policy (fw_dp_flip() is refused). Needs @pin_dir
	 * and @pin_must_exist (-EINVAL otherwise). */
	bool read_only;
	/* Only the sweep program (plumwalld): it walks the pinned maps and
	 * attaches nowhere. */
	bool sweep_only;
	/* plumwall trace: the programs note what every packet got
	 * (struct pw_trace, fw_dp_run.trace). Private datapaths only
	 * (-EINVAL with @pin_dir): live ones never pay for it. */
	bool trace;
};

/*
 * A run of map entries in whatever array the caller has: @count entries
 * of @stride bytes from @base, the key at @key_off and the value at
 * @val_off of each. So the fill takes the compiler's arrays
 * (policy/compile.h) as they are, or the plain fw_dp_* entries below.
 */
struct fw_dp_entries {
	const void *base;
	size_t count;
	size_t stride;
	size_t key_off;
	size_t val_off;
};

#define FW_DP_ENTRIES(arr, n, type, kfield, vfield)                 \
	((struct fw_dp_entries){ .base = (arr),                     \
				 .count = (n),                      \
				 .stride = sizeof(type),            \
				 .key_off = offsetof(type, kfield), \
				 .val_off = offsetof(type, vfield) })

struct fw_dp_iface {
	struct pw_iface_key key;
	struct pw_iface_val val;
};

struct fw_dp_tenant {
	__u32 id;
	struct pw_tenant_val val;
};

struct fw_dp_addr {
	struct pw_addr_key key;
	struct pw_addr_val val;
};

struct fw_dp_svc {
	struct pw_svc_key key;
	struct pw_svc_val val;
};

struct fw_dp_decision {
	struct pw_decision_key key;
	struct pw_decision_val val;
};

/* Everything one slot holds. */
struct fw_dp_policy {
	struct pw_settings settings;
	struct fw_dp_entries ifaces; /* pw_iface_key -> pw_iface_val */
	struct fw_dp_entries tenants; /* __u32 tenant id -> pw_tenant_val */
	struct fw_dp_entries addrs; /* pw_addr_key -> pw_addr_val */
	struct fw_dp_entries svcs; /* pw_svc_key -> pw_svc_val */
	struct fw_dp_entries decisions; /* pw_decision_key -> pw_decision_val */
	const struct pw_rule_val *rules; /* index = rule id */
	size_t n_rules;
};

struct policy_compiled;

/*
 * Describe the compiler's output (policy/compile.h) as a fw_dp_policy.
 * Interfaces are named there: @resolve (NULL: if_nametoindex) turns names
 * into ifindexes, into *@ifaces (malloc'd, the caller frees it after the
 * fill). @resolve returning 1 leaves the entry out (an interface that does
 * not exist yet, FW_APPLY_ABSENT_OK in apply.h). The other arrays are used in place, so @c must outlive @out.
 */
typedef int (*fw_dp_ifindex_fn)(const char *ifname, void *ctx,
				uint32_t *ifindex);
int fw_dp_policy_from_compiled(const struct policy_compiled *c,
			       fw_dp_ifindex_fn resolve, void *ctx,
			       struct fw_dp_policy *out,
			       struct fw_dp_iface **ifaces);
/* fw_dp_policy_from_compiled() + fw_dp_load(). */
int fw_dp_load_compiled(struct fw_dp *dp, const struct policy_compiled *c,
			fw_dp_ifindex_fn resolve, void *ctx);

/*
 * Open the skeleton, size, pin (fw_dp_opts) and load it. -EPROTO: maps
 * pinned under @opts->pin_dir belong to another layout (a map's type,
 * sizes or flags differ, or pw_config's layout_version does); nothing
 * else returns it. Other errors are libbpf's (-EACCES or -EINVAL when the
 * verifier refuses a program, -ENOMEM, -EPERM, ...): fw_bpflog
 * (bpflog.h), when installed, has noted which program or map failed and
 * kept the verifier's log, and fw_kern_load_message() (kernel.h) says so
 * in one line.
 */
int fw_dp_open(struct fw_dp **dpp, const struct fw_dp_opts *opts);
void fw_dp_close(struct fw_dp *dp);

/* Program and map file descriptors, for attaching and pinning. Active
 * slot, slot contents and pw_config are always read from the kernel, so
 * several processes (or a forked child) may share one datapath. */
int fw_dp_prog_fd(const struct fw_dp *dp, enum fw_dp_prog prog);
int fw_dp_map_fd(const struct fw_dp *dp, const char *name);

int fw_dp_active_slot(struct fw_dp *dp, __u32 *slot);
/* The generation of the policy the datapath runs (the active slot's), 0
 * when none: the truth an interrupted apply's state is checked against. */
int fw_dp_running_generation(struct fw_dp *dp, __u32 *gen);
/* The settings in @slot (its policy's generation, ...); -ENOENT: empty. */
int fw_dp_slot_settings(struct fw_dp *dp, __u32 slot, struct pw_settings *out);
/* Fill @slot, which must not be the active one (-EBUSY). */
int fw_dp_slot_fill(struct fw_dp *dp, __u32 slot, const struct fw_dp_policy *p);
int fw_dp_flip(struct fw_dp *dp, __u32 slot);
/* Fill the idle slot and flip to it. */
int fw_dp_load(struct fw_dp *dp, const struct fw_dp_policy *p);

/*
 * End expired flows (flags 0) or every flow (PW_SWEEP_SHUTDOWN) with the
 * pw_sweep program, which emits their flow end events (shared.h, struct
 * pw_sweep_args). @out (may be NULL) gets the counts. -ENOENT: no policy
 * is active.
 */
int fw_dp_sweep(struct fw_dp *dp, __u32 flags, struct pw_sweep_args *out);

/*
 * fw_dp_sweep(dp, PW_SWEEP_RESTAMP, out) inside a move of the conntrack
 * stamps' window (shared.h, pw_cts): epoch + 1, an RCU grace period, the
 * sweep stamping every flow it keeps, then the window's floor. One
 * process at a time (plumwalld). -EPERM in a read-only datapath.
 */
int fw_dp_sweep_restamp(struct fw_dp *dp, struct pw_sweep_args *out);

/* The conntrack stamps' window (tests). */
int fw_dp_cts_state(struct fw_dp *dp, struct pw_cts_state *out);

/* Tests: move the datapath clock. */
int fw_dp_set_clock_offset(struct fw_dp *dp, __u64 offset_ns);

/* Counters, summed over CPUs (a rule's first hit is the earliest of the
 * CPUs', its last the latest). -ENOENT: no such rule in that slot. */
int fw_dp_rule_counter(struct fw_dp *dp, __u32 slot, __u32 rule_id,
		       struct pw_rule_counter *out);
int fw_dp_drop_counter(struct fw_dp *dp, enum pw_reason reason,
		       struct pw_counter *out);
/* The same for rules 0..@n-1 of @slot, tenant ids 0..@n-1 of @slot, and
 * for every reason (@out has PW_REASON_COUNT entries), in as few
 * syscalls as the kernel allows; entries the slot lacks read as zero.
 * -ENOENT: the slot is empty. */
int fw_dp_rule_counters(struct fw_dp *dp, __u32 slot,
			struct pw_rule_counter *out, size_t n);
int fw_dp_tenant_counters(struct fw_dp *dp, __u32 slot,
			  struct pw_tenant_counter *out, size_t n);
int fw_dp_drop_counters(struct fw_dp *dp, struct pw_counter *out);
/* The datapath clock now (shared.h: CLOCK_MONOTONIC + the test offset),
 * the clock of pw_ct_val and pw_rule_counter times. */
int fw_dp_clock(struct fw_dp *dp, __u64 *now);
int fw_dp_events_lost(struct fw_dp *dp, __u64 *lost);

/* Conntrack access for tests and tools. */
int fw_dp_ct_lookup(struct fw_dp *dp, const struct pw_ct_key *key,
		    struct pw_ct_val *val);
int fw_dp_ct_count(struct fw_dp *dp, __u32 *count);
int fw_dp_ct_flush(struct fw_dp *dp);
/* Hand every conntrack entry to @fn; a nonzero return stops the walk and
 * is returned. */
typedef int (*fw_dp_ct_fn)(const struct pw_ct_key *key,
			   const struct pw_ct_val *val, void *ctx);
int fw_dp_ct_foreach(struct fw_dp *dp, fw_dp_ct_fn fn, void *ctx);
/* True when fw_dp_open() reused pinned maps rather than creating them. */
bool fw_dp_reused(const struct fw_dp *dp);
/* Size of the conntrack table: a reused (pinned) table keeps the size the
 * first apply gave it. */
uint32_t fw_dp_ct_max_entries(const struct fw_dp *dp);
/* Clear pw_frag, pw_rate, the drop counters and pending events too:
 * everything a test case may have left behind. */
int fw_dp_reset_state(struct fw_dp *dp);

/* Memory the kernel reports for the maps (fdinfo memlock), total. */
int fw_dp_map_memory(struct fw_dp *dp, __u64 *bytes);

/* One inner map of a policy slot: its name, the kernel's memlock figure
 * (fdinfo; what the map costs with its overhead) and max_entries. */
struct fw_dp_map_mem {
	const char *name;
	__u64 memlock;
	__u32 max_entries;
};
#define FW_DP_SLOT_MAPS PW_SLOT_MAPS

/* The inner maps of @slot (pw_iface, pw_tenant, pw_addr, pw_svc,
 * pw_decision, pw_rule, pw_settings, pw_rule_stats, pw_tenant_stats,
 * pw_ifindex; zero when the slot is empty) into @out
 * (@cap >= FW_DP_SLOT_MAPS). Returns how many. */
int fw_dp_slot_memory(struct fw_dp *dp, __u32 slot, struct fw_dp_map_mem *out,
		      size_t cap);

/* The ids of @slot's inner maps (0: none), FW_DP_SLOT_MAPS of them: they
 * change when an apply refills the slot. */
int fw_dp_slot_ids(struct fw_dp *dp, __u32 slot, __u32 *ids);

typedef int (*fw_dp_event_fn)(const struct pw_event *ev, void *ctx);
/* Hand every event in the ring buffer to @fn (without waiting). */
int fw_dp_events_drain(struct fw_dp *dp, fw_dp_event_fn fn, void *ctx);

/* fw_dp_run.flags: leave the ring buffer alone (neither discard what is
 * there before the run nor collect after it). */
#define FW_DP_RUN_KEEP_EVENTS (1U << 0)

/* One BPF_PROG_TEST_RUN. */
struct fw_dp_run {
	enum fw_dp_prog prog;
	__u32 flags; /* FW_DP_RUN_* */
	const void *in;
	__u32 in_len;
	__u32 ifindex; /* 0: the loopback device test runs default to */
	__u32 repeat; /* 0 = 1 */
	__u32 mark; /* TC: skb->mark going in */
	/* results */
	__u32 retval; /* XDP_* or TC_ACT_* */
	__u32 duration_ns; /* mean per run */
	__u32 mark_out; /* TC: skb->mark after the program */
	/* XDP: the first 4 bytes of XDP metadata the program left in front
	 * of the frame (host order), 0 when it left none; out holds the
	 * frame without it */
	__u32 meta_out;
	void *out; /* optional, the frame after the program */
	__u32 out_cap;
	__u32 out_len;
	struct pw_event *events; /* optional, events emitted (drained) */
	__u32 events_cap;
	__u32 n_events; /* may exceed events_cap: the rest was dropped */
	/* optional, with fw_dp_opts.trace: what the packet got; the run
	 * fails with -ENODATA when the program noted nothing */
	struct pw_trace *trace;
};

int fw_dp_test_run(struct fw_dp *dp, struct fw_dp_run *run);

#endif /* PLUMWALL_FW_DATAPATH_H */
