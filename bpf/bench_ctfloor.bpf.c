// SPDX-License-Identifier: GPL-2.0
/*
 * bench_ctfloor - the floor under an established flow's cost: XDP
 * programs that do nothing but what any connection tracker in the
 * kernel's hash maps must do per packet, look the flow up and count it,
 * on an untagged IPv4 TCP frame (tests/bench/bench_ctfloor.c).
 *
 *   floor_h16      HASH, 16-byte key (addresses and ports), 8-byte
 *                  value: the smallest tracker there is;
 *   floor_lru16    LRU_HASH, the same key, a 64-byte value (one cache
 *                  line of flow state);
 *   floor_lru40    LRU_HASH with pw_ct's key and value sizes (40 and 72
 *                  bytes) and its updates (last seen, packets, bytes);
 *   floor_ins_empty, floor_ins_full
 *                  a new flow: one insert of pw_ct's sizes into an empty
 *                  LRU_HASH, and into a full one (the kernel evicts);
 *   floor_arr, floor_arr2_ins
 *                  a table that is not a hash map: the lookup in an
 *                  array with one slot per flow, and the insert of a new
 *                  flow into a full 2-way set-associative array.
 *
 * Not a datapath: it judges nothing and checks only what the verifier
 * needs. Maps are sized as pw_ct; user space fills them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include <plumwall/shared.h>

#include "bench_ctfloor.h"

/* Ethernet, then IPv4 without options: addresses at 26, ports at 34. */
#define FLOOR_OFF_ADDRS 26
#define FLOOR_FRAME_MIN (FLOOR_OFF_ADDRS + 12)

struct floor_key16 {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 pad;
};

struct floor_val64 {
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u64 rest[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, struct floor_key16);
	__type(value, __u64);
} floor_map_h16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, struct floor_key16);
	__type(value, struct floor_val64);
} floor_map_lru16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} floor_map_lru40 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} floor_map_empty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} floor_map_full SEC(".maps");

static __always_inline int floor_key(struct xdp_md *ctx, struct floor_key16 *k)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + FLOOR_FRAME_MIN > end)
		return -1;
	__builtin_memcpy(k, p + FLOOR_OFF_ADDRS, 12);
	k->pad = 0;
	return 0;
}

SEC("xdp")
int floor_h16(struct xdp_md *ctx)
{
	struct floor_key16 k;
	__u64 *v;

	if (floor_key(ctx, &k))
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(&floor_map_h16, &k);
	if (!v)
		return XDP_DROP;
	__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

SEC("xdp")
int floor_lru16(struct xdp_md *ctx)
{
	struct floor_val64 *v;
	struct floor_key16 k;

	if (floor_key(ctx, &k))
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(&floor_map_lru16, &k);
	if (!v)
		return XDP_DROP;
	v->last_seen_ns = bpf_ktime_get_coarse_ns();
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, ctx->data_end - ctx->data);
	return XDP_PASS;
}

static __always_inline int floor_key40(struct xdp_md *ctx, struct pw_ct_key *k)
{
	struct floor_key16 k16;

	if (floor_key(ctx, &k16))
		return -1;
	k->tenant = 1;
	k->family = 4;
	k->proto = 6;
	k->port_a = k16.sport;
	k->port_b = k16.dport;
	__builtin_memcpy(k->addr_a, &k16.saddr, 4);
	__builtin_memcpy(k->addr_b, &k16.daddr, 4);
	return 0;
}

SEC("xdp")
int floor_lru40(struct xdp_md *ctx)
{
	struct pw_ct_key k = {};
	struct pw_ct_val *v;

	if (floor_key40(ctx, &k))
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(&floor_map_lru40, &k);
	if (!v)
		return XDP_DROP;
	v->last_seen_ns = bpf_ktime_get_coarse_ns();
	__sync_fetch_and_add(&v->packets[0], 1);
	__sync_fetch_and_add(&v->bytes[0], ctx->data_end - ctx->data);
	return XDP_PASS;
}

static __always_inline int floor_insert(struct xdp_md *ctx, void *map)
{
	struct pw_ct_key k = {};
	struct pw_ct_val v = {};

	if (floor_key40(ctx, &k))
		return XDP_ABORTED;
	v.created_ns = bpf_ktime_get_coarse_ns();
	v.last_seen_ns = v.created_ns;
	v.packets[0] = 1;
	v.bytes[0] = ctx->data_end - ctx->data;
	if (bpf_map_update_elem(map, &k, &v, BPF_NOEXIST))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int floor_ins_empty(struct xdp_md *ctx)
{
	return floor_insert(ctx, &floor_map_empty);
}

SEC("xdp")
int floor_ins_full(struct xdp_md *ctx)
{
	return floor_insert(ctx, &floor_map_full);
}

/* The same insert into a full map whose LRU lists are per CPU
 * (BPF_F_NO_COMMON_LRU): no shared list, but each CPU evicts from its own
 * max_entries / possible CPUs entries. Filled, and run, on CPU 0. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOOR_ENTRIES);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
} floor_map_full_pcpu SEC(".maps");

SEC("xdp")
int floor_ins_full_pcpu(struct xdp_md *ctx)
{
	return floor_insert(ctx, &floor_map_full_pcpu);
}

/* A flow table that is not a hash map: one array slot per flow at a hash
 * of its key (bench_ctfloor.h), one compare, the same updates as
 * floor_lru40. No chain, no LRU list: one random access into the table
 * per packet, the least a lookup among 32k flows can cost. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, __u32);
	__type(value, struct floor_slot);
} floor_map_arr SEC(".maps");

SEC("xdp")
int floor_arr(struct xdp_md *ctx)
{
	struct pw_ct_key k = {};
	struct floor_slot *v;
	__u64 *a, *b, diff = 0;
	__u32 idx;
	int i;

	if (floor_key40(ctx, &k))
		return XDP_ABORTED;
	idx = floor_slot_index(&k);
	v = bpf_map_lookup_elem(&floor_map_arr, &idx);
	if (!v)
		return XDP_DROP;
	a = (__u64 *)&v->key;
	b = (__u64 *)&k;
#pragma unroll
	for (i = 0; i < (int)(sizeof(k) / 8); i++)
		diff |= a[i] ^ b[i];
	if (diff)
		return XDP_DROP;
	v->val.last_seen_ns = bpf_ktime_get_coarse_ns();
	__sync_fetch_and_add(&v->val.packets[0], 1);
	__sync_fetch_and_add(&v->val.bytes[0], ctx->data_end - ctx->data);
	return XDP_PASS;
}

/*
 * A new flow into a full table of plumwall's own kind (not the kernel's
 * LRU): a 2-way set-associative array, every slot holding a flow. The
 * insert reads the set's two slots (a real table compares their keys for
 * a flow already there: the same lines), evicts the one seen longer ago,
 * claims it against other CPUs by making its seq odd with a
 * compare-and-swap, writes the key and value, and makes seq even again.
 * Readers (not measured) would retry or miss while seq is odd, or changed
 * under them. One random set per packet, no list, no bucket lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_ENTRIES);
	__type(key, __u32);
	__type(value, struct floor_slot);
} floor_map_arr2 SEC(".maps");

SEC("xdp")
int floor_arr2_ins(struct xdp_md *ctx)
{
	struct pw_ct_key k = {};
	struct floor_slot *a, *b, *victim;
	struct pw_ct_val v = {};
	__u32 idx, seq;

	if (floor_key40(ctx, &k))
		return XDP_ABORTED;
	idx = floor_set_first(&k);
	a = bpf_map_lookup_elem(&floor_map_arr2, &idx);
	idx++;
	b = bpf_map_lookup_elem(&floor_map_arr2, &idx);
	if (!a || !b)
		return XDP_ABORTED;
	victim = a->val.last_seen_ns <= b->val.last_seen_ns ? a : b;
	seq = victim->seq;
	if ((seq & 1) ||
	    __sync_val_compare_and_swap(&victim->seq, seq, seq + 1) != seq)
		return XDP_DROP; /* another CPU is writing it */
	v.created_ns = bpf_ktime_get_coarse_ns();
	v.last_seen_ns = v.created_ns;
	v.packets[0] = 1;
	v.bytes[0] = ctx->data_end - ctx->data;
	victim->key = k;
	victim->val = v;
	__sync_fetch_and_add(&victim->seq, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
