// SPDX-License-Identifier: GPL-2.0
/*
 * fw_dp: load the plumwall datapath, fill policy slots, read counters,
 * test-run frames. See datapath.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

/* Before the skeleton: its globals have types of shared.h. */
#include "bpflog.h"
#include "datapath.h"
#include "bpf/plumwall.skel.h"

/* The per-slot maps, in the order of struct fw_dp.slot_fd[slot][]. */
enum {
	SM_IFACE,
	SM_TENANT,
	SM_ADDR,
	SM_SVC,
	SM_DECISION,
	SM_RULE,
	SM_SETTINGS,
	SM_RULE_STATS,
	SM_TENANT_STATS,
	SM_IFINDEX,
	SM_COUNT,
};
_Static_assert(SM_COUNT == FW_DP_SLOT_MAPS, "FW_DP_SLOT_MAPS in datapath.h");

/* Must match the inner map templates of bpf/pw_maps.h exactly (type,
 * sizes, flags): the kernel refuses anything else in the outer map. */
static const struct {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size;
	__u32 value_size;
	__u32 flags;
	/* max_entries of a map whose size does not follow the policy: the
	 * template's (arrays without BPF_F_INNER_MAP); 0: sized per policy */
	__u32 fixed_max;
} slot_maps[SM_COUNT] = {
	[SM_IFACE] = { "pw_iface", BPF_MAP_TYPE_HASH,
		       sizeof(struct pw_iface_key), sizeof(struct pw_iface_val),
		       0, 0 },
	[SM_TENANT] = { "pw_tenant", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			sizeof(struct pw_tenant_val), 0, PW_MAX_TENANTS },
	[SM_ADDR] = { "pw_addr", BPF_MAP_TYPE_LPM_TRIE,
		      sizeof(struct pw_addr_key), sizeof(struct pw_addr_val),
		      BPF_F_NO_PREALLOC, 0 },
	[SM_SVC] = { "pw_svc", BPF_MAP_TYPE_LPM_TRIE, sizeof(struct pw_svc_key),
		     sizeof(struct pw_svc_val), BPF_F_NO_PREALLOC, 0 },
	[SM_DECISION] = { "pw_decision", BPF_MAP_TYPE_HASH,
			  sizeof(struct pw_decision_key),
			  sizeof(struct pw_decision_val), 0, 0 },
	[SM_RULE] = { "pw_rule", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		      sizeof(struct pw_rule_val), BPF_F_INNER_MAP, 0 },
	[SM_SETTINGS] = { "pw_settings", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			  sizeof(struct pw_settings), 0, 1 },
	[SM_RULE_STATS] = { "pw_rule_stats", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			    sizeof(struct pw_rule_counter), BPF_F_INNER_MAP,
			    0 },
	[SM_TENANT_STATS] = { "pw_tenant_stats", BPF_MAP_TYPE_ARRAY,
			      sizeof(__u32), sizeof(struct pw_tenant_counter),
			      BPF_F_INNER_MAP, 0 },
	[SM_IFINDEX] = { "pw_ifindex", BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			 sizeof(struct pw_ifindex_val), 0, PW_IFINDEX_SLOTS },
};

struct fw_dp {
	struct plumwall_bpf *skel;
	struct ring_buffer *rb;
	int ncpus;
	/* Inner maps this process installed or looked up, -1: not known.
	 * The kernel's outer maps are the truth: after fork() another
	 * process may have refilled a slot, see slot_inner_fd(). */
	int slot_fd[2][SM_COUNT];
	__u32 slot_id[2][SM_COUNT]; /* map ids of slot_fd[][] */
	int barrier_fd; /* a pw_settings-like map for the RCU barrier */
	/* BTF key and value type ids of the inner map templates, index
	 * SM_* and SM_COUNT for pw_rcu_barrier's: libbpf drops the
	 * templates once the outer maps exist, see btf_opts_like(). */
	__u32 inner_btf[SM_COUNT + 1][2];
	struct pw_dp_config cfg; /* read back before every change */
	bool reused; /* pinned maps were reused */
	bool read_only; /* fw_dp_opts.read_only: nothing loaded */
	/* ring buffer consumer target */
	fw_dp_event_fn fn;
	void *fn_ctx;
};

static struct bpf_map *outer_map(struct fw_dp *dp, int sm)
{
	struct plumwall_bpf *s = dp->skel;

	switch (sm) {
	case SM_IFACE:
		return s->maps.pw_iface;
	case SM_TENANT:
		return s->maps.pw_tenant;
	case SM_ADDR:
		return s->maps.pw_addr;
	case SM_SVC:
		return s->maps.pw_svc;
	case SM_DECISION:
		return s->maps.pw_decision;
	case SM_RULE:
		return s->maps.pw_rule;
	case SM_SETTINGS:
		return s->maps.pw_settings;
	case SM_RULE_STATS:
		return s->maps.pw_rule_stats;
	case SM_IFINDEX:
		return s->maps.pw_ifindex;
	default:
		return s->maps.pw_tenant_stats;
	}
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct fw_dp *dp = ctx;

	if (size < sizeof(struct pw_event) || !dp->fn)
		return 0;
	return dp->fn(data, dp->fn_ctx);
}

static int read_config(struct fw_dp *dp)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.pw_config), &zero,
				&dp->cfg))
		return -errno;
	return 0;
}

static int write_config(struct fw_dp *dp)
{
	__u32 zero = 0;
	int ret;

	ret = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.pw_config), &zero,
				  &dp->cfg, BPF_ANY);
	return ret ? -errno : 0;
}

/*
 * Pin every map under @dir. Pinned maps exist to outlive this process, so
 * they are found again by name; libbpf reuses a pinned map only when its
 * type, sizes and flags match the program's definition. That is checked
 * here first, so that maps of another layout are -EPROTO, never confused
 * with the kernel refusing a program (libbpf's -EINVAL either way).
 */
static int pin_maps(struct fw_dp *dp, const char *dir, bool must_exist,
		    bool read_only)
{
	struct bpf_map_info info;
	char path[256];
	struct bpf_map *m;
	int n = 0, found = 0, fd, ret;
	__u32 len;

	bpf_object__for_each_map(m, dp->skel->obj) {
		if (bpf_map__is_internal(m))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir,
			     bpf_map__name(m)) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		n++;
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			ret = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno :
									0;
			/* A reader takes the map as it is (the object is
			 * never loaded); libbpf keeps a copy of the fd. */
			if (!ret && read_only && bpf_map__reuse_fd(m, fd))
				ret = -errno;
			close(fd);
			if (ret)
				return ret;
			/* What libbpf compares (map_is_reuse_compat()),
			 * but max_entries: sizes are the first apply's
			 * (conntrack size from its policy). */
			if (info.type != bpf_map__type(m) ||
			    info.key_size != bpf_map__key_size(m) ||
			    info.value_size != bpf_map__value_size(m) ||
			    info.map_flags != bpf_map__map_flags(m) ||
			    info.map_extra != bpf_map__map_extra(m))
				return -EPROTO;
			bpf_map__set_max_entries(m, info.max_entries);
			found++;
		}
		if (bpf_map__set_pin_path(m, path))
			return -ENOMEM;
	}
	if (must_exist && found != n)
		return -ENOENT;
	dp->reused = found > 0;
	return 0;
}

/*
 * Inner maps get the BTF key and value types of their outer map's
 * template. The types matter: Linux 6.1 only lets a map into an outer map
 * whose template it equals, and it compares, among others, where the
 * value's bpf_timer is. A map created without BTF has "none known" there,
 * the template (created from the object, with BTF) "none found", so a
 * BTF-less inner map is refused with EINVAL. Later kernels compare BTF
 * records, where both are empty.
 */
static void btf_opts_like(struct fw_dp *dp, int idx,
			  struct bpf_map_create_opts *o)
{
	int btf_fd = bpf_object__btf_fd(dp->skel->obj);

	if (btf_fd < 0 || !dp->inner_btf[idx][1])
		return;
	o->btf_fd = btf_fd;
	o->btf_key_type_id = dp->inner_btf[idx][0];
	o->btf_value_type_id = dp->inner_btf[idx][1];
}

/* Before the load, while libbpf still has the templates. */
static void note_inner_btf(struct fw_dp *dp)
{
	struct bpf_map *tmpl;
	int i;

	for (i = 0; i <= SM_COUNT; i++) {
		tmpl = bpf_map__inner_map(
			i < SM_COUNT ? outer_map(dp, i) :
				       dp->skel->maps.pw_rcu_barrier);
		if (!tmpl)
			continue;
		dp->inner_btf[i][0] = bpf_map__btf_key_type_id(tmpl);
		dp->inner_btf[i][1] = bpf_map__btf_value_type_id(tmpl);
	}
}

/* The map fw_dp_flip() writes into pw_rcu_barrier (see there). */
static int create_barrier(struct fw_dp *dp)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd;

	btf_opts_like(dp, SM_COUNT, &o);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pw_barrier", sizeof(__u32),
			    sizeof(struct pw_settings), 1, &o);
	return fd < 0 ? -errno : fd;
}

int fw_dp_open(struct fw_dp **dpp, const struct fw_dp_opts *opts)
{
	struct fw_dp *dp;
	struct plumwall_bpf *s;
	struct bpf_program *prog;
	int ret, i, j;

	*dpp = NULL;
	/* What libbpf says from here on is about this load
	 * (fw_kern_load_message()). */
	fw_bpflog_begin();
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j < SM_COUNT; j++)
			dp->slot_fd[i][j] = -1;
	dp->barrier_fd = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		ret = dp->ncpus ? dp->ncpus : -EINVAL;
		goto out;
	}
	s = plumwall_bpf__open();
	if (!s) {
		ret = -errno;
		goto out;
	}
	dp->skel = s;
	if (opts && opts->ct_max_entries)
		bpf_map__set_max_entries(s->maps.pw_ct, opts->ct_max_entries);
	if (opts && opts->frag_max_entries)
		bpf_map__set_max_entries(s->maps.pw_frag,
					 opts->frag_max_entries);
	if (opts && opts->rate_max_entries)
		bpf_map__set_max_entries(s->maps.pw_rate,
					 opts->rate_max_entries);
	if (opts && opts->ringbuf_bytes)
		bpf_map__set_max_entries(s->maps.pw_events,
					 opts->ringbuf_bytes);
	if (opts && opts->trace) {
		if (opts->pin_dir) {
			ret = -EINVAL;
			goto out;
		}
		s->rodata->pw_trace_on = 1;
	}
	if (opts && opts->read_only &&
	    (!opts->pin_dir || !opts->pin_must_exist)) {
		ret = -EINVAL;
		goto out;
	}
	if (opts && opts->pin_dir) {
		ret = pin_maps(dp, opts->pin_dir, opts->pin_must_exist,
			       opts->read_only);
		if (ret)
			goto out;
	}
	if (opts && (opts->no_progs || opts->sweep_only))
		bpf_object__for_each_program(prog, s->obj)
			bpf_program__set_autoload(
				prog, !opts->no_progs &&
					      prog == s->progs.pw_sweep_flows);
	note_inner_btf(dp);
	if (opts && opts->read_only) {
		dp->read_only = true;
		goto loaded;
	}
	ret = plumwall_bpf__load(s);
	if (ret) {
		/* A pinned map that libbpf found different (should
		 * pin_maps() have missed a difference) is still a map of
		 * another layout. */
		if (fw_bpflog_failure()->pinned[0])
			ret = -EPROTO;
		goto out;
	}

loaded:
	if (dp->reused) {
		/* Someone else's datapath: its active slot is the truth. */
		ret = read_config(dp);
		if (ret)
			goto out;
		if (dp->cfg.layout_version != PW_LAYOUT_VERSION) {
			ret = -EPROTO;
			goto out;
		}
	} else {
		/* A new datapath: no flow, so no stamp marks one (shared.h,
		 * pw_cts); epoch 1 leaves the zeroed slots outside. */
		struct pw_cts_state cts = { .cur = 1, .floor = 1 };
		__u32 zero = 0;

		dp->cfg.active_slot = 0;
		dp->cfg.layout_version = PW_LAYOUT_VERSION;
		ret = write_config(dp);
		if (ret)
			goto out;
		if (bpf_map_update_elem(bpf_map__fd(s->maps.pw_cts_state),
					&zero, &cts, BPF_ANY)) {
			ret = -errno;
			goto out;
		}
	}
	if (!dp->read_only) {
		dp->barrier_fd = create_barrier(dp);
		if (dp->barrier_fd < 0) {
			ret = dp->barrier_fd;
			goto out;
		}
	}
	dp->rb = ring_buffer__new(bpf_map__fd(s->maps.pw_events), ringbuf_cb,
				  dp, NULL);
	if (!dp->rb) {
		ret = -errno;
		goto out;
	}
	*dpp = dp;
	dp = NULL;
out:
	fw_dp_close(dp);
	return ret;
}

void fw_dp_close(struct fw_dp *dp)
{
	int i, j;

	if (!dp)
		return;
	ring_buffer__free(dp->rb);
	for (i = 0; i < 2; i++)
		for (j = 0; j < SM_COUNT; j++)
			if (dp->slot_fd[i][j] >= 0)
				close(dp->slot_fd[i][j]);
	if (dp->barrier_fd >= 0)
		close(dp->barrier_fd);
	plumwall_bpf__destroy(dp->skel);
	free(dp);
}

int fw_dp_prog_fd(const struct fw_dp *dp, enum fw_dp_prog prog)
{
	switch (prog) {
	case FW_DP_XDP:
		return bpf_program__fd(dp->skel->progs.pw_xdp_ingress);
	case FW_DP_TC_INGRESS:
		return bpf_program__fd(dp->skel->progs.pw_tc_ingress);
	case FW_DP_TC_EGRESS:
		return bpf_program__fd(dp->skel->progs.pw_tc_egress);
	case FW_DP_SWEEP:
		return bpf_program__fd(dp->skel->progs.pw_sweep_flows);
	case FW_DP_TC_ANSWER:
		return bpf_program__fd(dp->skel->progs.pw_tc_answer);
	default:
		return -EINVAL;
	}
}

int fw_dp_map_fd(const struct fw_dp *dp, const char *name)
{
	struct bpf_map *m;

	m = bpf_object__find_map_by_name(dp->skel->obj, name);
	return m ? bpf_map__fd(m) : -ENOENT;
}

int fw_dp_active_slot(struct fw_dp *dp, __u32 *slot)
{
	int ret;

	ret = read_config(dp);
	*slot = dp->cfg.active_slot;
	return ret;
}

/* Id of the inner map in @slot of per-slot map @sm, from the outer map
 * (before Linux 6.8: after an RCU grace period); 0 when empty. */
static __u32 slot_outer_id(struct fw_dp *dp, __u32 slot, int sm)
{
	__u32 id = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(outer_map(dp, sm)), &slot, &id))
		return 0;
	return id;
}

/* Id of the inner map in @slot of per-slot map @sm; 0 when empty. From
 * pw_config while it names the slot's fill (shared.h, pw_dp_config),
 * else from the outer map. */
static __u32 slot_inner_id(struct fw_dp *dp, __u32 slot, int sm)
{
	if (read_config(dp))
		return 0;
	if (dp->cfg.slot_fill[slot])
		return dp->cfg.slot_map_ids[slot][sm];
	return slot_outer_id(dp, slot, sm);
}

/* A policy is installed in @slot (its settings map, installed last). */
static int slot_populated(struct fw_dp *dp, __u32 slot)
{
	return slot_inner_id(dp, slot, SM_SETTINGS) != 0;
}

/* An fd for the inner map now in the slot (cached), or -ENOENT. */
static int slot_inner_fd(struct fw_dp *dp, __u32 slot, int sm)
{
	__u32 id = slot_inner_id(dp, slot, sm);
	int fd;

	if (!id)
		return -ENOENT;
	if (dp->slot_fd[slot][sm] >= 0 && dp->slot_id[slot][sm] == id)
		return dp->slot_fd[slot][sm];
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0 && errno == ENOENT) {
		/* gone: a fill replaced it after the config was read */
		id = slot_outer_id(dp, slot, sm);
		if (!id)
			return -ENOENT;
		fd = bpf_map_get_fd_by_id(id);
	}
	if (fd < 0)
		return -errno;
	if (dp->slot_fd[slot][sm] >= 0)
		close(dp->slot_fd[slot][sm]);
	dp->slot_fd[slot][sm] = fd;
	dp->slot_id[slot][sm] = id;
	return fd;
}

int fw_dp_running_generation(struct fw_dp *dp, __u32 *gen)
{
	struct pw_settings st;
	__u32 slot;
	int ret;

	*gen = 0;
	ret = fw_dp_active_slot(dp, &slot);
	if (ret)
		return ret;
	ret = fw_dp_slot_settings(dp, slot, &st);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	*gen = st.generation;
	return 0;
}

int fw_dp_slot_settings(struct fw_dp *dp, __u32 slot, struct pw_settings *out)
{
	__u32 zero = 0;
	int fd;

	if (slot > 1)
		return -EINVAL;
	fd = slot_inner_fd(dp, slot, SM_SETTINGS);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, out))
		return -errno;
	return 0;
}

static __u32 fd_map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* A fresh inner map for @slot of per-slot map @sm. */
static int create_inner(struct fw_dp *dp, int sm, __u32 slot, size_t entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = slot_maps[sm].flags);
	char name[BPF_OBJ_NAME_LEN];
	__u32 max;
	int fd;

	if (dp->read_only)
		return -EPERM; /* a reader writes no policy */
	if (slot_maps[sm].fixed_max)
		max = slot_maps[sm].fixed_max;
	else if (entries > UINT32_MAX)
		return -E2BIG;
	else
		max = entries ? (__u32)entries : 1;
	btf_opts_like(dp, sm, &o);
	/* "pw_tenant_stats" + "N" is within BPF_OBJ_NAME_LEN - 1 */
	snprintf(name, sizeof(name), "%s%u", slot_maps[sm].name, slot);
	fd = bpf_map_create(slot_maps[sm].type, name, slot_maps[sm].key_size,
			    slot_maps[sm].value_size, max, &o);
	return fd < 0 ? -errno : fd;
}

/* Entries per BPF_MAP_UPDATE_BATCH call. */
#define FILL_CHUNK 4096

/*
 * Write @count (key, value) pairs, @ksz/@vsz bytes, gathered by @get, in
 * batches (one syscall per FILL_CHUNK entries: a 100,000-rule policy has
 * millions of decision entries); map types without batch support get one
 * update per entry.
 */
typedef void (*fill_get_fn)(const void *src, size_t i, void *key, void *val);

static int fill_batched(int fd, const void *src, size_t count, size_t ksz,
			size_t vsz, fill_get_fn get)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	unsigned char *keys = NULL, *vals = NULL;
	size_t i, j, n;
	int ret = 0, batch = 1;
	__u32 cnt;

	keys = malloc(FILL_CHUNK * ksz);
	vals = malloc(FILL_CHUNK * vsz);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i += n) {
		n = count - i < FILL_CHUNK ? count - i : FILL_CHUNK;
		for (j = 0; j < n; j++)
			get(src, i + j, keys + j * ksz, vals + j * vsz);
		if (batch) {
			cnt = (__u32)n;
			if (!bpf_map_update_batch(fd, keys, vals, &cnt, &o))
				continue;
			if (errno != EINVAL && errno != ENOTSUP &&
			    errno != EOPNOTSUPP &&
			    errno != 524 /* ENOTSUPP */) {
				ret = -errno;
				goto out;
			}
			batch = 0;
		}
		for (j = 0; j < n; j++)
			if (bpf_map_update_elem(fd, keys + j * ksz,
						vals + j * vsz, BPF_ANY)) {
				ret = -errno;
				goto out;
			}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* Current fill_entries() source: sizes of the map being filled. */
struct entries_src {
	const struct fw_dp_entries *e;
	size_t ksz, vsz;
};

static void get_entry(const void *src, size_t i, void *key, void *val)
{
	const struct entries_src *s = src;
	const char *p = (const char *)s->e->base + i * s->e->stride;

	memcpy(key, p + s->e->key_off, s->ksz);
	memcpy(val, p + s->e->val_off, s->vsz);
}

static int fill_entries(int fd, int sm, const struct fw_dp_entries *e)
{
	struct entries_src src = { e, slot_maps[sm].key_size,
				   slot_maps[sm].value_size };

	return fill_batched(fd, &src, e->count, src.ksz, src.vsz, get_entry);
}

static void get_rule(const void *src, size_t i, void *key, void *val)
{
	const struct pw_rule_val *rules = src;
	__u32 id = (__u32)i;

	memcpy(key, &id, sizeof(id));
	memcpy(val, &rules[i], sizeof(rules[i]));
}

/* A tenant's entry with its index among the policy's tenants, its
 * counter in each stripe of pw_tenant_stats (shared.h). */
static void get_tenant(const void *src, size_t i, void *key, void *val)
{
	struct pw_tenant_val *tv = val;

	get_entry(src, i, key, val);
	tv->stats_index = (__u16)i;
}

/*
 * pw_ifindex (shared.h) from the policy's bindings: per ifindex below
 * PW_IFINDEX_SLOTS, the tenant of its untagged frames and whether it has
 * VLAN bindings. Sorted by ifindex first, so that the bindings of one
 * interface merge into one entry.
 */
struct ifindex_entry {
	__u32 ifindex;
	struct pw_ifindex_val val;
};

static int ifindex_entry_cmp(const void *a, const void *b)
{
	const struct ifindex_entry *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static void get_ifindex(const void *src, size_t i, void *key, void *val)
{
	const struct ifindex_entry *e = (const struct ifindex_entry *)src + i;

	memcpy(key, &e->ifindex, sizeof(e->ifindex));
	memcpy(val, &e->val, sizeof(e->val));
}

static int fill_ifindex(int fd, const struct fw_dp_entries *ifaces)
{
	struct ifindex_entry *v;
	size_t i, w, n = 0;
	int ret;

	v = calloc(ifaces->count ? ifaces->count : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ifaces->count; i++) {
		const char *p = (const char *)ifaces->base + i * ifaces->stride;
		struct pw_iface_key k;
		struct pw_iface_val iv;

		memcpy(&k, p + ifaces->key_off, sizeof(k));
		memcpy(&iv, p + ifaces->val_off, sizeof(iv));
		if (k.ifindex >= PW_IFINDEX_SLOTS)
			continue; /* the hash decides: beyond the array */
		v[n].ifindex = k.ifindex;
		if (k.vlan)
			v[n].val.vlans = 1;
		else
			v[n].val.tenant = iv.tenant;
		n++;
	}
	qsort(v, n, sizeof(*v), ifindex_entry_cmp);
	for (i = 0, w = 0; i < n; i++) {
		if (w && v[w - 1].ifindex == v[i].ifindex) {
			v[w - 1].val.vlans |= v[i].val.vlans;
			if (v[i].val.tenant)
				v[w - 1].val.tenant = v[i].val.tenant;
		} else {
			v[w++] = v[i];
		}
	}
	ret = fill_batched(fd, v, w, sizeof(__u32),
			   sizeof(struct pw_ifindex_val), get_ifindex);
	free(v);
	return ret;
}

static int fill_slot_map(int sm, int fd, const struct fw_dp_policy *p)
{
	struct entries_src ts = { &p->tenants, sizeof(__u32),
				  sizeof(struct pw_tenant_val) };
	struct pw_settings set;
	__u32 zero = 0;
	int ret = 0;

	switch (sm) {
	case SM_IFACE:
		ret = fill_entries(fd, sm, &p->ifaces);
		break;
	case SM_IFINDEX:
		ret = fill_ifindex(fd, &p->ifaces);
		break;
	case SM_TENANT:
		ret = fill_batched(fd, &ts, p->tenants.count, ts.ksz, ts.vsz,
				   get_tenant);
		break;
	case SM_ADDR:
		ret = fill_entries(fd, sm, &p->addrs);
		break;
	case SM_SVC:
		ret = fill_entries(fd, sm, &p->svcs);
		break;
	case SM_DECISION:
		ret = fill_entries(fd, sm, &p->decisions);
		break;
	case SM_RULE:
		ret = fill_batched(fd, p->rules, p->n_rules, sizeof(__u32),
				   sizeof(struct pw_rule_val), get_rule);
		break;
	case SM_SETTINGS:
		/* The fill id names this fill for the datapath's judgement
		 * cache (shared.h, pw_jcache): the id of this new map, which
		 * no other map alive or made before it has. */
		set = p->settings;
		set.fill_id = fd_map_id(fd);
		set.rule_stats_stride = (__u32)p->n_rules;
		set.tenant_stats_stride = (__u32)p->tenants.count;
		if (!set.fill_id) {
			ret = -EIO;
			break;
		}
		if (bpf_map_update_elem(fd, &zero, &set, BPF_ANY))
			ret = -errno;
		break;
	case SM_RULE_STATS:
	case SM_TENANT_STATS:
		/* arrays: created zeroed, nothing to write */
		break;
	}
	return ret;
}

static size_t slot_entries(const struct fw_dp *dp, int sm,
			   const struct fw_dp_policy *p)
{
	switch (sm) {
	case SM_IFACE:
		return p->ifaces.count;
	case SM_ADDR:
		return p->addrs.count;
	case SM_SVC:
		return p->svcs.count;
	case SM_DECISION:
		return p->decisions.count;
	case SM_RULE:
		return p->n_rules;
	/* a stripe per possible CPU (shared.h, pw_rule_stats) */
	case SM_RULE_STATS:
		return p->n_rules * (size_t)dp->ncpus;
	case SM_TENANT_STATS:
		return p->tenants.count * (size_t)dp->ncpus;
	default:
		return 1;
	}
}

/*
 * Putting an inner map into its outer map returns only after
 * synchronize_rcu() (the kernel waits for running programs), tens of
 * milliseconds on a busy machine, nine times per slot. The outer maps
 * but the settings' are updated at once, each from a thread of its own,
 * so that their waits overlap: grace periods are shared. Settings last,
 * as before.
 */
struct outer_update {
	pthread_t thread;
	bool started;
	int outer;
	__u32 slot;
	int fd;
	int ret;
};

static void *outer_update_run(void *arg)
{
	struct outer_update *u = arg;

	u->ret = bpf_map_update_elem(u->outer, &u->slot, &u->fd, BPF_ANY) ?
			 -errno :
			 0;
	return NULL;
}

/* The inner map @fds[sm] of @slot is in its outer map now. */
static void slot_installed(struct fw_dp *dp, __u32 slot, int sm, int *fds)
{
	if (dp->slot_fd[slot][sm] >= 0)
		close(dp->slot_fd[slot][sm]);
	dp->slot_fd[slot][sm] = fds[sm];
	dp->slot_id[slot][sm] = fd_map_id(fds[sm]);
	fds[sm] = -1;
}

/* pw_config names @fill as @slot's (0: none), with the ids of the maps
 * this process installed there (read, changed, written back). */
static int set_slot_fill(struct fw_dp *dp, __u32 slot, __u32 fill)
{
	int ret = read_config(dp), sm;

	if (ret)
		return ret;
	dp->cfg.slot_fill[slot] = fill;
	for (sm = 0; sm < SM_COUNT; sm++)
		dp->cfg.slot_map_ids[slot][sm] = fill ? dp->slot_id[slot][sm] :
							0;
	return write_config(dp);
}

int fw_dp_slot_fill(struct fw_dp *dp, __u32 slot, const struct fw_dp_policy *p)
{
	struct outer_update up[SM_COUNT];
	int fds[SM_COUNT];
	int ret = 0, sm;

	for (sm = 0; sm < SM_COUNT; sm++)
		fds[sm] = -1;
	if (slot > 1) {
		ret = -EINVAL;
		goto out;
	}
	ret = read_config(dp);
	if (ret)
		goto out;
	if (slot == dp->cfg.active_slot && slot_populated(dp, slot)) {
		ret = -EBUSY;
		goto out;
	}
	/* readers go to the outer maps for this slot from here on */
	ret = set_slot_fill(dp, slot, 0);
	if (ret)
		goto out;
	for (sm = 0; sm < SM_COUNT; sm++) {
		fds[sm] = create_inner(dp, sm, slot, slot_entries(dp, sm, p));
		if (fds[sm] < 0) {
			ret = fds[sm];
			goto out;
		}
		ret = fill_slot_map(sm, fds[sm], p);
		if (ret)
			goto out;
	}
	for (sm = 0; sm < SM_COUNT; sm++) {
		up[sm] = (struct outer_update){
			.outer = bpf_map__fd(outer_map(dp, sm)),
			.slot = slot,
			.fd = fds[sm],
		};
		if (sm == SM_SETTINGS)
			continue;
		/* without a thread, in turn */
		up[sm].started = !pthread_create(&up[sm].thread, NULL,
						 outer_update_run, &up[sm]);
		if (!up[sm].started)
			outer_update_run(&up[sm]);
	}
	for (sm = 0; sm < SM_COUNT; sm++) {
		if (sm == SM_SETTINGS)
			continue;
		if (up[sm].started)
			pthread_join(up[sm].thread, NULL);
		if (up[sm].ret && !ret)
			ret = up[sm].ret;
		if (!up[sm].ret)
			slot_installed(dp, slot, sm, fds);
	}
	if (ret)
		goto out;
	/* Settings last: a slot without settings is "no policy" to the
	 * datapath, so a slot is never used half installed. */
	outer_update_run(&up[SM_SETTINGS]);
	ret = up[SM_SETTINGS].ret;
	if (ret)
		goto out;
	slot_installed(dp, slot, SM_SETTINGS, fds);
	/* the fill's name: its settings map's id, as pw_settings.fill_id */
	ret = set_slot_fill(dp, slot, dp->slot_id[slot][SM_SETTINGS]);
out:
	for (sm = 0; sm < SM_COUNT; sm++)
		if (fds[sm] >= 0)
			close(fds[sm]);
	return ret;
}

int fw_dp_flip(struct fw_dp *dp, __u32 slot)
{
	__u32 zero = 0;
	int ret;

	if (dp->read_only) {
		ret = -EPERM;
		goto out;
	}
	if (slot > 1 || !slot_populated(dp, slot)) {
		ret = -EINVAL;
		goto out;
	}
	ret = read_config(dp);
	if (ret)
		goto out;
	dp->cfg.active_slot = slot;
	ret = write_config(dp);
	if (ret)
		goto out;
	/* Any map-in-map update returns only after synchronize_rcu(): once
	 * it does, no packet still works with the slot we left. */
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.pw_rcu_barrier),
				&zero, &dp->barrier_fd, BPF_ANY))
		ret = -errno;
out:
	return ret;
}

int fw_dp_load(struct fw_dp *dp, const struct fw_dp_policy *p)
{
	__u32 idle;
	int ret;

	ret = read_config(dp);
	if (ret)
		goto out;
	idle = dp->cfg.active_slot ^ 1;
	/* The very first policy may go to the active slot: it is empty. */
	if (!slot_populated(dp, dp->cfg.active_slot))
		idle = dp->cfg.active_slot;
	ret = fw_dp_slot_fill(dp, idle, p);
	if (ret)
		goto out;
	ret = fw_dp_flip(dp, idle);
out:
	return ret;
}

int fw_dp_set_clock_offset(struct fw_dp *dp, __u64 offset_ns)
{
	int ret;

	ret = read_config(dp);
	if (ret)
		return ret;
	dp->cfg.clock_offset_ns = offset_ns;
	return write_config(dp);
}

/* Per-CPU values are summed into one: add @v (one CPU's) to @acc. */
typedef void (*percpu_add_fn)(void *acc, const void *v);

static void add_counter(void *acc, const void *v)
{
	struct pw_counter *a = acc;
	const struct pw_counter *c = v;

	a->packets += c->packets;
	a->bytes += c->bytes;
}

/* Packets and bytes add up; the first hit is the earliest CPU's, the
 * last the latest (0: that CPU saw none). */
static void add_rule_counter(void *acc, const void *v)
{
	struct pw_rule_counter *a = acc;
	const struct pw_rule_counter *c = v;

	a->packets += c->packets;
	a->bytes += c->bytes;
	if (c->first_ns && (!a->first_ns || c->first_ns < a->first_ns))
		a->first_ns = c->first_ns;
	if (c->last_ns > a->last_ns)
		a->last_ns = c->last_ns;
}

static void add_tenant_counter(void *acc, const void *v)
{
	struct pw_tenant_counter *a = acc;
	const struct pw_tenant_counter *c = v;

	add_counter(&a->default_drops, &c->default_drops);
	add_counter(&a->non_ip_drops, &c->non_ip_drops);
}

/* Sum the per-CPU value of @key (@vsz bytes per CPU) into @out. */
static int percpu_value(struct fw_dp *dp, int fd, const void *key, void *out,
			size_t vsz, percpu_add_fn add)
{
	unsigned char *v;
	int ret = 0, i;

	memset(out, 0, vsz);
	v = calloc(dp->ncpus, vsz);
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, key, v)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < dp->ncpus; i++)
		add(out, v + (size_t)i * vsz);
out:
	free(v);
	return ret;
}

/*
 * Counters per stripe of a map of per-CPU stripes (shared.h,
 * pw_rule_stats), from the map itself: its size is ncpus stripes (an
 * empty policy's map has one entry and no stripes).
 */
static int stripe_stride(struct fw_dp *dp, int fd, size_t vsz, __u32 *stride)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != vsz)
		return -EPROTO;
	*stride = info.max_entries / (__u32)dp->ncpus;
	return 0;
}

int fw_dp_rule_counter(struct fw_dp *dp, __u32 slot, __u32 rule_id,
		       struct pw_rule_counter *out)
{
	struct pw_rule_counter v;
	__u32 stride = 0, key;
	int fd, ret, c;

	memset(out, 0, sizeof(*out));
	if (slot > 1)
		return -EINVAL;
	fd = slot_inner_fd(dp, slot, SM_RULE_STATS);
	if (fd < 0)
		return fd;
	ret = stripe_stride(dp, fd, sizeof(v), &stride);
	if (ret)
		return ret;
	if (rule_id >= stride)
		return -ENOENT;
	for (c = 0; c < dp->ncpus; c++) {
		key = (__u32)c * stride + rule_id;
		if (bpf_map_lookup_elem(fd, &key, &v))
			return -errno;
		add_rule_counter(out, &v);
	}
	return 0;
}

int fw_dp_drop_counter(struct fw_dp *dp, enum pw_reason reason,
		       struct pw_counter *out)
{
	__u32 key = reason;

	return percpu_value(dp, bpf_map__fd(dp->skel->maps.pw_drop_stats), &key,
			    out, sizeof(*out), add_counter);
}

/* Entries per BPF_MAP_LOOKUP_BATCH call of percpu_values(). */
#define READ_CHUNK 256

/*
 * Sum the per-CPU values (@vsz bytes per CPU) of a map keyed by __u32
 * into @out[key] for keys below @n (@out zeroed first; keys the map lacks
 * stay zero). One syscall per READ_CHUNK entries where the kernel
 * supports batches, one per key otherwise.
 */
static int percpu_values(struct fw_dp *dp, int fd, void *out, size_t n,
			 size_t vsz, percpu_add_fn add)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	unsigned char *vals = NULL, *dst = out;
	__u32 keys[READ_CHUNK], tok_in = 0, tok_out = 0, cnt, i, key;
	int ret = 0, c, last = 0;
	bool first = true;

	memset(out, 0, n * vsz);
	vals = calloc((size_t)READ_CHUNK * dp->ncpus, vsz);
	if (!vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!last) {
		cnt = READ_CHUNK;
		if (bpf_map_lookup_batch(fd, first ? NULL : &tok_in, &tok_out,
					 keys, vals, &cnt, &o)) {
			if (errno != ENOENT)
				goto one_by_one;
			last = 1; /* cnt holds the last entries */
		}
		first = false;
		tok_in = tok_out;
		for (i = 0; i < cnt; i++) {
			if (keys[i] >= n)
				continue;
			for (c = 0; c < dp->ncpus; c++)
				add(dst + keys[i] * vsz,
				    vals + ((size_t)i * dp->ncpus + c) * vsz);
		}
	}
	goto out;
one_by_one:
	memset(out, 0, n * vsz);
	for (key = 0; key < n; key++) {
		ret = percpu_value(dp, fd, &key, dst + key * vsz, vsz, add);
		if (ret == -ENOENT)
			ret = 0;
		if (ret)
			goto out;
	}
out:
	free(vals);
	return ret;
}

/* Entries per BPF_MAP_LOOKUP_BATCH call of array_read(). */
#define ARRAY_READ_CHUNK 4096

/*
 * Entries 0 to @n - 1 of the ARRAY @fd (@vsz bytes each, @n at most its
 * size) into @vals: one syscall per ARRAY_READ_CHUNK entries where the
 * kernel supports batches, one per entry otherwise.
 */
static int array_read(int fd, __u32 n, size_t vsz, unsigned char *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 keys[ARRAY_READ_CHUNK], tok_in = 0, tok_out = 0, cnt, done = 0;

	while (done < n) {
		cnt = n - done < ARRAY_READ_CHUNK ? n - done : ARRAY_READ_CHUNK;
		if (bpf_map_lookup_batch(fd, done ? &tok_in : NULL, &tok_out,
					 keys, vals + (size_t)done * vsz, &cnt,
					 &o) &&
		    errno != ENOENT)
			goto one_by_one;
		if (!cnt)
			break;
		done += cnt;
		tok_in = tok_out;
	}
	return done == n ? 0 : -EIO;
one_by_one:
	for (done = 0; done < n; done++)
		if (bpf_map_lookup_elem(fd, &done, vals + (size_t)done * vsz))
			return -errno;
	return 0;
}

/*
 * Sum a slot's map of per-CPU stripes (shared.h, pw_rule_stats) of
 * @vsz-byte counters: into @out[i] the counter i of every stripe, for i
 * below @n and the stride (@out zeroed first), or, with @index, into
 * @out[k] counter @index[k] (@n of them, UINT32_MAX: none).
 */
static int stripes_sum(struct fw_dp *dp, __u32 slot, int sm, void *out,
		       size_t n, const __u32 *index, size_t vsz,
		       percpu_add_fn add)
{
	unsigned char *vals = NULL, *dst = out;
	__u32 stride = 0, i;
	size_t k;
	int fd, ret, c;

	memset(out, 0, n * vsz);
	fd = slot_inner_fd(dp, slot, sm);
	if (fd < 0)
		return fd;
	ret = stripe_stride(dp, fd, vsz, &stride);
	if (ret)
		return ret;
	if (!stride)
		return 0;
	vals = calloc((size_t)stride * dp->ncpus, vsz);
	if (!vals)
		return -ENOMEM;
	ret = array_read(fd, stride * (__u32)dp->ncpus, vsz, vals);
	if (ret)
		goto out;
	for (k = 0; k < n; k++) {
		i = index ? index[k] : (__u32)k;
		if (i >= stride)
			continue;
		for (c = 0; c < dp->ncpus; c++)
			add(dst + k * vsz,
			    vals + ((size_t)c * stride + i) * vsz);
	}
out:
	free(vals);
	return ret;
}

int fw_dp_rule_counters(struct fw_dp *dp, __u32 slot,
			struct pw_rule_counter *out, size_t n)
{
	if (slot > 1)
		return -EINVAL;
	return stripes_sum(dp, slot, SM_RULE_STATS, out, n, NULL, sizeof(*out),
			   add_rule_counter);
}

/* @out[tenant id]: the counters of the slot's tenants are at their
 * pw_tenant_val.stats_index. */
int fw_dp_tenant_counters(struct fw_dp *dp, __u32 slot,
			  struct pw_tenant_counter *out, size_t n)
{
	struct pw_tenant_val *tv = NULL;
	__u32 *index = NULL;
	size_t k;
	int fd, ret;

	if (slot > 1)
		return -EINVAL;
	memset(out, 0, n * sizeof(*out));
	if (n > PW_MAX_TENANTS)
		n = PW_MAX_TENANTS;
	if (!n)
		return 0;
	fd = slot_inner_fd(dp, slot, SM_TENANT);
	if (fd < 0)
		return fd;
	tv = calloc(n, sizeof(*tv));
	index = calloc(n, sizeof(*index));
	if (!tv || !index) {
		ret = -ENOMEM;
		goto out;
	}
	ret = array_read(fd, (__u32)n, sizeof(*tv), (unsigned char *)tv);
	if (ret)
		goto out;
	for (k = 0; k < n; k++)
		index[k] = tv[k].present ? tv[k].stats_index : UINT32_MAX;
	ret = stripes_sum(dp, slot, SM_TENANT_STATS, out, n, index,
			  sizeof(*out), add_tenant_counter);
out:
	free(tv);
	free(index);
	return ret;
}

int fw_dp_drop_counters(struct fw_dp *dp, struct pw_counter *out)
{
	return percpu_values(dp, bpf_map__fd(dp->skel->maps.pw_drop_stats), out,
			     PW_REASON_COUNT, sizeof(*out), add_counter);
}

int fw_dp_clock(struct fw_dp *dp, __u64 *now)
{
	struct timespec ts;
	int ret;

	ret = read_config(dp);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec +
	       dp->cfg.clock_offset_ns;
	return 0;
}

int fw_dp_events_lost(struct fw_dp *dp, __u64 *lost)
{
	struct pw_producer *v;
	__u32 zero = 0;
	int ret = 0, i;

	*lost = 0;
	v = calloc(dp->ncpus, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.pw_producer), &zero,
				v)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < dp->ncpus; i++)
		*lost += v[i].lost;
out:
	free(v);
	return ret;
}

int fw_dp_ct_lookup(struct fw_dp *dp, const struct pw_ct_key *key,
		    struct pw_ct_val *val)
{
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.pw_ct), key, val))
		return -errno;
	return 0;
}

int fw_dp_ct_count(struct fw_dp *dp, __u32 *count)
{
	struct pw_ct_key k, next;
	int fd = bpf_map__fd(dp->skel->maps.pw_ct);
	const void *prev = NULL;

	*count = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		(*count)++;
		k = next;
		prev = &k;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Delete every entry of a hash map with keys of at most 64 bytes. */
/*
 * The next key is taken before the current one is deleted: asked for the
 * key after a deleted one, a hash map starts again from its first bucket,
 * which made a flush quadratic in the table size (minutes for a full
 * conntrack table of 262,144).
 */
static int flush_map(int fd)
{
	unsigned char key[64], next[64];
	int more;

	/* Until a walk from the start finds nothing: a running datapath may
	 * add entries meanwhile. */
	while (!bpf_map_get_next_key(fd, NULL, key)) {
		do {
			more = !bpf_map_get_next_key(fd, key, next);
			if (!more && errno != ENOENT)
				return -errno;
			/* Gone meanwhile (LRU eviction): fine. */
			if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
				return -errno;
			memcpy(key, next, sizeof(key));
		} while (more);
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Conntrack entries per BPF_MAP_LOOKUP_BATCH call of fw_dp_ct_foreach(). */
#define CT_CHUNK 1024

/* One syscall and lookup per entry: kernels without batch lookups. */
static int ct_foreach_slow(int fd, fw_dp_ct_fn fn, void *ctx)
{
	struct pw_ct_key k, next;
	struct pw_ct_val v;
	const void *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		/* Gone since (LRU eviction, closed flow): skip it. */
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		ret = fn(&k, &v, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * Batches of CT_CHUNK entries per syscall: apply walks the table to see
 * which policy generations flows still refer to, and a full table of
 * millions of entries costs seconds one entry at a time. A hash map's
 * batch holds whole buckets: ENOSPC asks for a bigger one.
 */
int fw_dp_ct_foreach(struct fw_dp *dp, fw_dp_ct_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	int fd = bpf_map__fd(dp->skel->maps.pw_ct);
	struct pw_ct_key *keys = NULL;
	struct pw_ct_val *vals = NULL;
	__u32 cap = CT_CHUNK, cnt, i;
	/* The token is a bucket index for hash maps; room for a key anyway. */
	__u64 tok_in[8] = {}, tok_out[8] = {};
	bool first = true, last = false;
	int ret = 0;

	while (!last) {
		if (!keys) {
			keys = calloc(cap, sizeof(*keys));
			vals = calloc(cap, sizeof(*vals));
			if (!keys || !vals) {
				ret = -ENOMEM;
				goto out;
			}
		}
		cnt = cap;
		if (bpf_map_lookup_batch(fd, first ? NULL : tok_in, tok_out,
					 keys, vals, &cnt, &o)) {
			if (errno == ENOSPC && cap < (1U << 20)) {
				/* a bucket bigger than the batch */
				cap *= 4;
				free(keys);
				free(vals);
				keys = NULL;
				vals = NULL;
				continue;
			}
			if (errno != ENOENT) {
				if (first) {
					ret = ct_foreach_slow(fd, fn, ctx);
					goto out;
				}
				ret = -errno;
				goto out;
			}
			last = true; /* cnt holds the last entries */
		}
		first = false;
		memcpy(tok_in, tok_out, sizeof(tok_in));
		for (i = 0; i < cnt; i++) {
			ret = fn(&keys[i], &vals[i], ctx);
			if (ret)
				goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

bool fw_dp_reused(const struct fw_dp *dp)
{
	return dp->reused;
}

uint32_t fw_dp_ct_max_entries(const struct fw_dp *dp)
{
	return bpf_map__max_entries(dp->skel->maps.pw_ct);
}

int fw_dp_ct_flush(struct fw_dp *dp)
{
	return flush_map(bpf_map__fd(dp->skel->maps.pw_ct));
}

static int discard_event(const struct pw_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 0;
}

int fw_dp_reset_state(struct fw_dp *dp)
{
	struct plumwall_bpf *s = dp->skel;
	void *zeros = NULL;
	__u32 key;
	int ret;

	ret = flush_map(bpf_map__fd(s->maps.pw_ct));
	if (!ret)
		ret = flush_map(bpf_map__fd(s->maps.pw_frag));
	if (!ret)
		ret = flush_map(bpf_map__fd(s->maps.pw_rate));
	if (ret)
		goto out;
	zeros = calloc(dp->ncpus, sizeof(struct pw_producer));
	if (!zeros) {
		ret = -ENOMEM;
		goto out;
	}
	for (key = 0; key < PW_REASON_COUNT; key++)
		if (bpf_map_update_elem(bpf_map__fd(s->maps.pw_drop_stats),
					&key, zeros, BPF_ANY)) {
			ret = -errno;
			goto out;
		}
	key = 0;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.pw_producer), &key, zeros,
				BPF_ANY)) {
		ret = -errno;
		goto out;
	}
	ret = fw_dp_events_drain(dp, discard_event, NULL);
out:
	free(zeros);
	return ret;
}

static int fd_memlock(int fd, __u64 *bytes)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1) {
			*bytes += v;
			ret = 0;
			break;
		}
	(void)fclose(f); /* read only: nothing to lose */
	return ret;
}

int fw_dp_map_memory(struct fw_dp *dp, __u64 *bytes)
{
	struct bpf_map *m;
	int ret = 0, i, j;

	*bytes = 0;
	bpf_object__for_each_map(m, dp->skel->obj) {
		ret = fd_memlock(bpf_map__fd(m), bytes);
		if (ret)
			goto out;
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j < SM_COUNT; j++) {
			int fd = slot_inner_fd(dp, i, j);

			if (fd == -ENOENT)
				continue;
			ret = fd < 0 ? fd : fd_memlock(fd, bytes);
			if (ret)
				goto out;
		}
out:
	return ret;
}

int fw_dp_slot_ids(struct fw_dp *dp, __u32 slot, __u32 *ids)
{
	int sm;

	if (slot > 1)
		return -EINVAL;
	for (sm = 0; sm < SM_COUNT; sm++)
		ids[sm] = slot_inner_id(dp, slot, sm);
	return 0;
}

int fw_dp_slot_memory(struct fw_dp *dp, __u32 slot, struct fw_dp_map_mem *out,
		      size_t cap)
{
	struct bpf_map_info info;
	__u32 len;
	int ret = 0, sm, fd;

	if (slot > 1 || cap < SM_COUNT)
		return -EINVAL;
	for (sm = 0; sm < SM_COUNT; sm++) {
		memset(&out[sm], 0, sizeof(out[sm]));
		out[sm].name = slot_maps[sm].name;
		fd = slot_inner_fd(dp, slot, sm);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			ret = fd;
			goto out;
		}
		ret = fd_memlock(fd, &out[sm].memlock);
		if (ret)
			goto out;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			ret = -errno;
			goto out;
		}
		out[sm].max_entries = info.max_entries;
	}
	ret = SM_COUNT;
out:
	return ret;
}

int fw_dp_events_drain(struct fw_dp *dp, fw_dp_event_fn fn, void *ctx)
{
	int ret;

	dp->fn = fn;
	dp->fn_ctx = ctx;
	ret = ring_buffer__consume(dp->rb);
	dp->fn = NULL;
	dp->fn_ctx = NULL;
	return ret < 0 ? ret : 0;
}

static int collect_event(const struct pw_event *ev, void *ctx)
{
	struct fw_dp_run *run = ctx;

	if (run->n_events < run->events_cap)
		run->events[run->n_events] = *ev;
	run->n_events++;
	return 0;
}

int fw_dp_test_run(struct fw_dp *dp, struct fw_dp_run *run)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md xctx = {};
	struct __sk_buff sctx = {};
	__u64 trace_seq = 0;
	int fd, ret;

	run->retval = 0;
	run->duration_ns = 0;
	run->mark_out = 0;
	run->out_len = 0;
	run->n_events = 0;
	fd = fw_dp_prog_fd(dp, run->prog);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	/* Events of earlier runs are not this run's. */
	if (!(run->flags & FW_DP_RUN_KEEP_EVENTS)) {
		ret = fw_dp_events_drain(dp, discard_event, NULL);
		if (ret)
			goto out;
	}

	o.data_in = run->in;
	o.data_size_in = run->in_len;
	o.data_out = run->out;
	o.data_size_out = run->out ? run->out_cap : 0;
	/* libbpf's int goes to the kernel's __u32 unchanged */
	o.repeat = (int)run->repeat;
	if (run->prog == FW_DP_XDP) {
		xctx.data_end = run->in_len;
		xctx.ingress_ifindex = run->ifindex;
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
		/* data: where the frame starts after the metadata */
		o.ctx_out = &xctx;
		o.ctx_size_out = sizeof(xctx);
	} else {
		sctx.ifindex = run->ifindex;
		sctx.mark = run->mark;
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
		o.ctx_out = &sctx;
		o.ctx_size_out = sizeof(sctx);
	}
	if (run->trace) {
		if (!dp->skel->bss) {
			ret = -EOPNOTSUPP;
			goto out;
		}
		trace_seq = dp->skel->bss->pw_trace_rec.seq;
	}
	ret = bpf_prog_test_run_opts(fd, &o);
	if (ret) {
		ret = -errno;
		goto out;
	}
	if (run->trace) {
		/* The program wrote it through the skeleton's mmap. */
		*run->trace = *(volatile struct pw_trace *)&dp->skel->bss
				       ->pw_trace_rec;
		if (run->trace->seq == trace_seq) {
			ret = -ENODATA;
			goto out;
		}
	}
	run->retval = o.retval;
	run->duration_ns = o.duration;
	if (run->prog != FW_DP_XDP)
		run->mark_out = sctx.mark;
	run->out_len = o.data_size_out;
	run->meta_out = 0;
	if (run->prog == FW_DP_XDP && xctx.data && run->out &&
	    xctx.data <= run->out_len) {
		/* the output starts at the metadata: strip it */
		if (xctx.data >= sizeof(__u32))
			memcpy(&run->meta_out, run->out, sizeof(__u32));
		memmove(run->out, (char *)run->out + xctx.data,
			run->out_len - xctx.data);
		run->out_len -= xctx.data;
	}
	if (!(run->flags & FW_DP_RUN_KEEP_EVENTS))
		ret = fw_dp_events_drain(dp, collect_event, run);
out:
	return ret;
}

int fw_dp_sweep(struct fw_dp *dp, __u32 flags, struct pw_sweep_args *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct pw_sweep_args a = { .flags = flags };
	int fd, ret;

	fd = fw_dp_prog_fd(dp, FW_DP_SWEEP);
	if (fd < 0)
		return fd;
	/* A syscall program's context is copied back into ctx_in (the
	 * kernel refuses ctx_out for this program type). */
	o.ctx_in = &a;
	o.ctx_size_in = sizeof(a);
	ret = bpf_prog_test_run_opts(fd, &o);
	if (ret)
		return -errno;
	if ((int)o.retval < 0)
		return -ENOENT;
	if (out)
		*out = a;
	return 0;
}

int fw_dp_cts_state(struct fw_dp *dp, struct pw_cts_state *out)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.pw_cts_state), &zero,
				out))
		return -errno;
	return 0;
}

/* The order is what keeps every flow visible: shared.h, pw_cts. */
int fw_dp_sweep_restamp(struct fw_dp *dp, struct pw_sweep_args *out)
{
	int fd = bpf_map__fd(dp->skel->maps.pw_cts_state);
	struct pw_cts_state st;
	__u32 zero = 0;
	int ret;

	if (dp->read_only)
		return -EPERM;
	ret = fw_dp_cts_state(dp, &st);
	if (ret)
		return ret;
	st.cur++;
	if (bpf_map_update_elem(fd, &zero, &st, BPF_ANY))
		return -errno;
	/* Returns after synchronize_rcu(): no program still stamps the
	 * old epoch, and what it inserted is in pw_ct for the walk. */
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.pw_rcu_barrier),
				&zero, &dp->barrier_fd, BPF_ANY))
		return -errno;
	ret = fw_dp_sweep(dp, PW_SWEEP_RESTAMP, out);
	if (ret)
		return ret; /* the window stays wider: hides less */
	st.floor = st.cur;
	if (bpf_map_update_elem(fd, &zero, &st, BPF_ANY))
		return -errno;
	return 0;
}
