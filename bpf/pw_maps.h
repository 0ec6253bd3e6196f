/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the datapath. Layouts are in include/plumwall/shared.h.
 *
 * Per-slot maps: one ARRAY_OF_MAPS of two entries per kind of map, named
 * after the map it holds. The __array(values, ...) definitions below are
 * only the templates the kernel checks the inner maps against (type, key
 * and value size, flags, and for arrays max_entries unless
 * BPF_F_INNER_MAP); user space creates the real inner maps per policy
 * (fw/datapath.c) with exactly these parameters and the sizes the policy
 * needs: hash and LPM inner maps may differ in max_entries from the
 * template, so do BPF_F_INNER_MAP arrays. The slots start empty; a packet
 * that finds an empty slot is dropped (fail closed).
 */
#ifndef PW_MAPS_H
#define PW_MAPS_H

#include "pw_common.h"

/* ---- per-slot (policy) maps ---------------------------------------------- */

/*
 * clang emits only forward declarations for the key/value structs of a
 * map definition nested in __array(values, ...), and libbpf cannot size a
 * forward declaration. Referencing the full types from a global first
 * puts complete definitions into BTF. Static and unused: nothing reaches
 * the skeleton or the programs.
 */
struct pw_btf_anchor {
	struct pw_iface_key a;
	struct pw_iface_val b;
	struct pw_tenant_val c;
	struct pw_addr_key d;
	struct pw_addr_val e;
	struct pw_svc_key f;
	struct pw_svc_val g;
	struct pw_decision_key h;
	struct pw_decision_val i;
	struct pw_rule_val j;
	struct pw_settings k;
	struct pw_rule_counter l;
	struct pw_tenant_counter m;
	struct pw_ifindex_val n;
};
static const struct pw_btf_anchor pw_btf_anchor __attribute__((used));

#define PW_SLOT_OUTER(name, inner)                        \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); \
		__uint(max_entries, 2);                   \
		__type(key, __u32);                       \
		__array(values, inner);                   \
	} name SEC(".maps")

struct pw_iface_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct pw_iface_key);
	__type(value, struct pw_iface_val);
};

/* Index = ifindex, a fixed size (shared.h): without BPF_F_INNER_MAP the
 * verifier inlines the lookup. */
struct pw_ifindex_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_IFINDEX_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_ifindex_val);
};

/* Index = tenant id: always the full id space, so no BPF_F_INNER_MAP. */
struct pw_tenant_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_MAX_TENANTS);
	__type(key, __u32);
	__type(value, struct pw_tenant_val);
};

/* LPM tries must be BPF_F_NO_PREALLOC. */
struct pw_addr_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct pw_addr_key);
	__type(value, struct pw_addr_val);
};

struct pw_svc_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct pw_svc_key);
	__type(value, struct pw_svc_val);
};

/* Preallocated: filled once per policy, read on every new flow. */
struct pw_decision_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct pw_decision_key);
	__type(value, struct pw_decision_val);
};

/* Index = rule id; the size follows the policy, hence BPF_F_INNER_MAP
 * (which also stops the verifier from inlining the lookup with the
 * template's max_entries). */
struct pw_rule_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_rule_val);
};

struct pw_settings_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_settings);
};

/* Per-CPU stripes of counters (shared.h): the size follows the policy
 * and the CPU count, hence BPF_F_INNER_MAP. */
struct pw_rule_stats_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_rule_counter);
};

struct pw_tenant_stats_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_tenant_counter);
};

PW_SLOT_OUTER(pw_iface, struct pw_iface_inner);
PW_SLOT_OUTER(pw_tenant, struct pw_tenant_inner);
PW_SLOT_OUTER(pw_addr, struct pw_addr_inner);
PW_SLOT_OUTER(pw_svc, struct pw_svc_inner);
PW_SLOT_OUTER(pw_decision, struct pw_decision_inner);
PW_SLOT_OUTER(pw_rule, struct pw_rule_inner);
PW_SLOT_OUTER(pw_settings, struct pw_settings_inner);
PW_SLOT_OUTER(pw_rule_stats, struct pw_rule_stats_inner);
PW_SLOT_OUTER(pw_tenant_stats, struct pw_tenant_stats_inner);
PW_SLOT_OUTER(pw_ifindex, struct pw_ifindex_inner);

/*
 * Never read by a program: user space updates it after flipping
 * pw_config.active_slot because every update of a map-in-map waits for an
 * RCU grace period (synchronize_rcu), i.e. for every packet that may
 * still have read the old active slot. Only then is the old slot refilled.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct pw_settings_inner);
} pw_rcu_barrier SEC(".maps");

/* ---- global maps ---------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dp_config);
} pw_config SEC(".maps");

/* Sizes below are defaults; user space may resize before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} pw_ct SEC(".maps");

/* Conntrack stamps (shared.h, pw_cts): fixed size, so lookups inline. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_CTS_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} pw_cts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_cts_state);
} pw_cts_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag_val);
} pw_frag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_REASON_COUNT);
	__type(key, __u32);
	__type(value, struct pw_counter);
} pw_drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pw_rate_key);
	__type(value, struct pw_rate_val);
} pw_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_JCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_jc_entry);
} pw_jcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} pw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_producer);
} pw_producer SEC(".maps");

/*
 * Per-CPU scratch for building a reject answer: up to an Ethernet + VLAN
 * header, an IPv6 header, the ICMPv6 header and 1232 quoted bytes (RFC
 * 4443: the error may not exceed the minimum MTU of 1280), plus room to
 * pad the checksummed part to a multiple of 4.
 */
#define PW_REPLY_MAX 1344
struct pw_scratch {
	__u8 buf[PW_REPLY_MAX];
	/*
	 * A new flow's conntrack value, built here rather than on the stack:
	 * Linux 6.1 refuses a program whose frame plus pw_judge()'s exceeds
	 * 512 bytes (each rounded up to 32), and this is the largest local
	 * of the packet path. Per CPU, used within one run of a program.
	 */
	struct pw_ct_val ct_new;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_scratch);
} pw_scratch SEC(".maps");

#endif /* PW_MAPS_H */
