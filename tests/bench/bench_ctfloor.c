// SPDX-License-Identifier: GPL-2.0
/*
 * bench_ctfloor: what an established flow costs at the least, in this
 * kernel's hash maps, against what plumwall's datapath pays (bench_paths
 * "est32k"). The programs of bpf/bench_ctfloor.bpf.c look a flow up and
 * count it and do nothing else; their maps hold N_FLOWS flows and are
 * sized as pw_ct (262,144 entries).
 *
 * Figures as bench_paths takes them (BPF_PROG_TEST_RUN):
 *   hot   one flow's frame run 100,000 times in the kernel;
 *   rr    one run per frame over the N_FLOWS flows, round robin, minus
 *         the same mean for the no-op xdp_pass program.
 * Beside the hash maps, a table of another kind: an array with one
 * 128-byte slot per flow at a hash of its key (bench_ctfloor.h), one
 * random access per packet and no chain or LRU list, the least any flow
 * table among N_FLOWS flows can cost here.
 * And a new flow's least cost (bench_paths "syn" and "synfull"): one
 * insert of pw_ct's sizes per frame, N_FLOWS new flows a round, into an
 * empty map and into a full one (262,144 entries; the kernel evicts),
 * with the common LRU list as pw_ct has it and with per-CPU lists
 * (BPF_F_NO_COMMON_LRU); and into a full table that is not the kernel's
 * LRU: a 2-way set-associative array (bpf/bench_ctfloor.bpf.c,
 * floor_arr2_ins), where a new flow evicts the older of its set's two.
 * Medians of BENCH_ROUNDS (default 5). Figures, not assertions; needs
 * root (exits 77 otherwise).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <plumwall/shared.h>

#include "bpf/bench_ctfloor.h"
#include "bpf/bench_ctfloor.skel.h"
#include "bpf/xdp_pass.skel.h"
#include "tests/bench/bench_util.h"

#define N_FLOWS 32768
#define MAX_ROUNDS 15
#define SRC 0x0a000001U /* 10.0.0.1 */
#define DST 0x0a010001U /* 10.1.0.1 */
#define DPORT 80

enum {
	P_H16,
	P_LRU16,
	P_LRU40,
	P_ARR,
	P_INS_EMPTY,
	P_INS_FULL,
	P_INS_FULL_PCPU,
	P_ARR2_INS,
	P_COUNT
};

/* The lookups run hot and round robin; the inserts round robin only (a
 * repeated frame inserts once). */
#define P_LOOKUPS P_INS_EMPTY

static const char *const prog_names[P_COUNT] = {
	"hash, 16 B key, 8 B value",
	"lru, 16 B key, 64 B value",
	"lru, pw_ct's 40 B key, 72 B value",
	"array, one 128 B slot per flow",
	"insert, pw_ct's sizes, empty map",
	"insert, pw_ct's sizes, full map",
	"insert, full map, per-CPU LRU lists",
	"insert, full 2-way array",
};

static uint8_t (*frames)[BENCH_FRAME_LEN];
static size_t frame_len;

static uint16_t sport_of(unsigned int i)
{
	return (uint16_t)(1024 + i);
}

/* Frame @i's key in the maps of pw_ct's key, as floor_key40() makes it:
 * the frame's bytes as they stand (network order). */
static void frame_key40(unsigned int i, struct pw_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->tenant = 1;
	k->family = 4;
	k->proto = 6;
	memcpy(&k->port_a, frames[i] + 34, 2);
	memcpy(&k->port_b, frames[i] + 36, 2);
	memcpy(k->addr_a, frames[i] + 26, 4);
	memcpy(k->addr_b, frames[i] + 30, 4);
}

/* The maps' keys are the frames' bytes as they stand (network order). */
static int fill(struct bench_ctfloor_bpf *s)
{
	struct floor_slot slot = {};
	struct pw_ct_val v40 = {};
	uint64_t v8 = 0, v64[8] = {};
	__u32 idx;
	struct pw_ct_key k40;
	unsigned int i;
	uint8_t k16[16];

	for (i = 0; i < N_FLOWS; i++) {
		memset(k16, 0, sizeof(k16));
		memcpy(k16, frames[i] + 26, 12);
		frame_key40(i, &k40);
		slot.key = k40;
		idx = floor_slot_index(&k40);
		if (bpf_map_update_elem(bpf_map__fd(s->maps.floor_map_arr),
					&idx, &slot, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.floor_map_h16), k16,
					&v8, BPF_NOEXIST) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.floor_map_lru16),
					k16, v64, BPF_NOEXIST) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.floor_map_lru40),
					&k40, &v40, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

/* The I-th flow no frame has (tenant 3). */
static void other_flow(struct pw_ct_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->tenant = 3;
	k->family = 4;
	k->proto = 17;
	memcpy(k->addr_a, &i, 4);
}

/* floor_map_full and floor_map_full_pcpu: a flow per entry */
static void make_lru_entry(uint32_t i, void *key, void *val)
{
	other_flow(key, i);
	memset(val, 0, sizeof(struct pw_ct_val));
}

/* floor_map_arr2: a flow per slot, last seen in slot order so that each
 * set has an older one */
static void make_arr2_entry(uint32_t i, void *key, void *val)
{
	struct floor_slot *slot = val;

	*(__u32 *)key = i;
	memset(slot, 0, sizeof(*slot));
	other_flow(&slot->key, i);
	slot->val.last_seen_ns = i + 1;
}

/* Fill a map of FLOOR_ENTRIES to its last entry, in batches of 4096
 * entries that @make writes. */
static int fill_all(int fd, size_t key_size, size_t val_size,
		    void (*make)(uint32_t i, void *key, void *val))
{
	const unsigned int n = 4096;
	unsigned char *keys, *vals;
	unsigned int i, done;
	__u32 count;
	int ret = 0;

	keys = calloc(n, key_size);
	vals = calloc(n, val_size);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (done = 0; done < FLOOR_ENTRIES; done += n) {
		for (i = 0; i < n; i++)
			make(done + i, keys + i * key_size,
			     vals + i * val_size);
		count = n;
		if (bpf_map_update_batch(fd, keys, vals, &count, NULL)) {
			ret = -errno;
			goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* The inserts into floor_map_arr2 went in: most of this round's flows
 * are in their set (a later flow of the round evicts an earlier one now
 * and then, as in any 2-way table); -EIO otherwise. */
static int check_arr2(int fd)
{
	struct floor_slot slot;
	struct pw_ct_key k;
	unsigned int i, found = 0;
	__u32 idx, w;

	for (i = 0; i < N_FLOWS; i++) {
		frame_key40(i, &k);
		idx = floor_set_first(&k);
		for (w = 0; w < 2; w++) {
			__u32 at = idx + w;

			if (bpf_map_lookup_elem(fd, &at, &slot))
				return -errno;
			if (!memcmp(&slot.key, &k, sizeof(k))) {
				found++;
				break;
			}
		}
	}
	return found >= N_FLOWS / 10 * 9 ? 0 : -EIO;
}

/* Every frame a new flow: its destination port is @port. */
static void set_dport(uint16_t port)
{
	unsigned int i;

	for (i = 0; i < N_FLOWS; i++) {
		frames[i][36] = (uint8_t)(port >> 8);
		frames[i][37] = (uint8_t)port;
	}
}

/* Empty floor_map_empty again, and check the inserts of the last round
 * went in: -EIO when not all N_FLOWS did. */
static int empty_map(struct bench_ctfloor_bpf *s)
{
	int fd = bpf_map__fd(s->maps.floor_map_empty);
	struct pw_ct_key k, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	while (!bpf_map_get_next_key(fd, NULL, &next))
		if (bpf_map_delete_elem(fd, &next))
			return -errno;
	return n == N_FLOWS || n == 0 ? 0 : -EIO;
}

static double rr_ns(int fd)
{
	double sum = 0, ns;
	unsigned int i;

	for (i = 0; i < N_FLOWS; i++) {
		ns = bench_run_ns(fd, 1, frames[i], frame_len, 1);
		if (ns < 0)
			return -1;
		sum += ns;
	}
	return sum / N_FLOWS;
}

int main(void)
{
	double hot[P_COUNT][MAX_ROUNDS], rr[P_COUNT][MAX_ROUNDS];
	struct bench_ctfloor_bpf *s = NULL;
	struct xdp_pass_bpf *pass = NULL;
	unsigned int rounds = 5, r, p, i;
	const char *env = getenv("BENCH_ROUNDS");
	int fds[P_COUNT], ret = 0;
	cpu_set_t cpu0;
	double floor1;

	if (geteuid()) {
		fprintf(stderr, "bench_ctfloor: needs root (skipped)\n");
		return 77;
	}
	if (env && atoi(env) > 0)
		rounds = (unsigned int)atoi(env) < MAX_ROUNDS ?
				 (unsigned int)atoi(env) :
				 MAX_ROUNDS;
	/* On CPU 0 throughout: the per-CPU LRU map fills CPU 0's lists, and
	 * its inserts must evict from them (a test run runs on the caller's
	 * CPU). */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0)) {
		ret = -errno;
		goto out;
	}
	frames = calloc(N_FLOWS, sizeof(*frames));
	if (!frames)
		return 1;
	for (i = 0; i < N_FLOWS; i++)
		frame_len = bench_frame_tcp(frames[i], 0, SRC, DST, sport_of(i),
					    DPORT, 0x10);
	s = bench_ctfloor_bpf__open_and_load();
	pass = xdp_pass_bpf__open_and_load();
	if (!s || !pass) {
		ret = -errno;
		goto out;
	}
	ret = fill(s);
	if (!ret)
		ret = fill_all(bpf_map__fd(s->maps.floor_map_full),
			       sizeof(struct pw_ct_key),
			       sizeof(struct pw_ct_val), make_lru_entry);
	if (!ret)
		ret = fill_all(bpf_map__fd(s->maps.floor_map_full_pcpu),
			       sizeof(struct pw_ct_key),
			       sizeof(struct pw_ct_val), make_lru_entry);
	if (!ret)
		ret = fill_all(bpf_map__fd(s->maps.floor_map_arr2),
			       sizeof(__u32), sizeof(struct floor_slot),
			       make_arr2_entry);
	if (ret)
		goto out;
	fds[P_H16] = bpf_program__fd(s->progs.floor_h16);
	fds[P_LRU16] = bpf_program__fd(s->progs.floor_lru16);
	fds[P_LRU40] = bpf_program__fd(s->progs.floor_lru40);
	fds[P_INS_EMPTY] = bpf_program__fd(s->progs.floor_ins_empty);
	fds[P_INS_FULL] = bpf_program__fd(s->progs.floor_ins_full);
	fds[P_ARR] = bpf_program__fd(s->progs.floor_arr);
	fds[P_INS_FULL_PCPU] = bpf_program__fd(s->progs.floor_ins_full_pcpu);
	fds[P_ARR2_INS] = bpf_program__fd(s->progs.floor_arr2_ins);
	for (r = 0; r < rounds; r++) {
		set_dport(DPORT);
		floor1 = rr_ns(bpf_program__fd(pass->progs.xdp_pass));
		for (p = 0; p < P_COUNT; p++) {
			if (p >= P_LOOKUPS) {
				/* new flows: ports no round used before */
				set_dport((uint16_t)(DPORT + 1 + r));
				hot[p][r] = 0;
			} else {
				hot[p][r] = bench_run_ns(fds[p], 1, frames[0],
							 frame_len, 100000);
			}
			rr[p][r] = rr_ns(fds[p]) - floor1;
			if (hot[p][r] < 0 || rr[p][r] + floor1 < 0) {
				ret = -EIO;
				goto out;
			}
			if (p == P_INS_EMPTY)
				ret = empty_map(s);
			if (p == P_ARR2_INS)
				ret = check_arr2(
					bpf_map__fd(s->maps.floor_map_arr2));
			if (ret)
				goto out;
		}
	}
	printf("bench_ctfloor: an established flow's least cost in this "
	       "kernel's maps,\n  %u flows in a map of 262,144 "
	       "entries, ns per packet, median of %u rounds\n\n",
	       N_FLOWS, rounds);
	printf("| %-36s | %5s | %8s |\n", "per packet", "hot", "rr 32k");
	printf("| %-36s | ----: | -------: |\n",
	       "------------------------------------");
	for (p = 0; p < P_COUNT; p++)
		if (p < P_LOOKUPS)
			printf("| %-36s | %5.0f | %8.0f |\n", prog_names[p],
			       bench_median(hot[p], rounds),
			       bench_median(rr[p], rounds));
		else
			printf("| %-36s | %5s | %8.0f |\n", prog_names[p], "-",
			       bench_median(rr[p], rounds));
out:
	if (ret)
		fprintf(stderr, "bench_ctfloor: %s\n", strerror(-ret));
	bench_ctfloor_bpf__destroy(s);
	xdp_pass_bpf__destroy(pass);
	free(frames);
	return ret ? 1 : 0;
}
