/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bpf/bench_ctfloor.bpf.c and tests/bench/bench_ctfloor.c share: the
 * maps' size and the direct-mapped flow table's slot and index (a table
 * of another kind than the kernel's hash maps, measured as the least any
 * flow table could cost here).
 */
#ifndef BENCH_CTFLOOR_H
#define BENCH_CTFLOOR_H

#define FLOOR_ENTRIES 262144 /* as pw_ct; a power of two */

/* One flow in two cache lines: pw_ct's key and value, padded to 128.
 * seq: odd while a writer rewrites the slot (floor_arr2_ins). */
struct floor_slot {
	struct pw_ct_key key;
	__u32 seq;
	__u32 pad;
	struct pw_ct_val val;
	__u64 pad2;
};
_Static_assert(sizeof(struct floor_slot) == 128, "floor_slot layout");

/* The slot of a key: FNV-1a over its ten 32-bit words, folded. Colliding
 * flows share a slot (the later one misses), as in any direct-mapped
 * table; the cost of the lookup is the same. */
static inline __u32 floor_slot_index(const struct pw_ct_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 0x811c9dc5;
	int i;

	for (i = 0; i < (int)(sizeof(*k) / 4); i++)
		h = (h ^ w[i]) * 0x01000193;
	return (h ^ (h >> 15)) & (FLOOR_ENTRIES - 1);
}

/* The 2-way table: slots 2s and 2s + 1 make set s (256 bytes). */
static inline __u32 floor_set_first(const struct pw_ct_key *k)
{
	return floor_slot_index(k) & ~1U;
}

#endif /* BENCH_CTFLOOR_H */
