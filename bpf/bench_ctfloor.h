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

/* One flow in two cache lines: pw_ct's key and value, padded to 128. */
struct floor_slot {
	struct pw_ct_key key;
	__u32 pad[2];
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

#endif /* BENCH_CTFLOOR_H */
