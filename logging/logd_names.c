// SPDX-License-Identifier: GPL-2.0
/*
 * Names behind the ids an event carries (tenant, rule, segments,
 * interface), per policy generation: a cache over the state document
 * that `plumwall apply` writes, read with fw/names.h (the reader the CLI
 * uses too).
 *
 * Events carry the generation their verdict was made under; a flow end
 * can come several applies after its start. The document names the
 * running generation and the older ones still in use; the cache keeps
 * the newest LOGD_NAMES_KEEP generations it has seen. An event of a
 * generation neither knows gets no names: its ids are still in the
 * event, and a wrong name would be worse than none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logging/logd.h"

uint64_t logd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Put @n (our reference) into the cache, sorted by generation, newest
 * first. A table of the same generation is replaced (the newer document
 * wins); when the cache is full the oldest generation goes, which may be
 * @n itself.
 */
static void logd_cache_add(struct logd_names_cache *c, struct fw_names *n)
{
	size_t i, pos;

	for (i = 0; i < c->n; i++)
		if (c->gen[i]->generation == n->generation) {
			fw_names_put(c->gen[i]);
			c->gen[i] = n;
			return;
		}
	for (pos = 0; pos < c->n; pos++)
		if (c->gen[pos]->generation < n->generation)
			break;
	if (c->n == LOGD_NAMES_KEEP) {
		if (pos == c->n) {
			fw_names_put(n);
			return;
		}
		fw_names_put(c->gen[--c->n]);
	}
	memmove(&c->gen[pos + 1], &c->gen[pos],
		(c->n - pos) * sizeof(c->gen[0]));
	c->gen[pos] = n;
	c->n++;
}

int logd_names_cache_refresh(struct logd_names_cache *c, const char *state)
{
	struct fw_names_set set = {};
	size_t i;
	int ret;

	ret = fw_names_set_load(&set, state);
	if (ret)
		return ret;
	/* The cache takes over the set's references. */
	for (i = set.n; i > 0; i--)
		logd_cache_add(c, set.gen[i - 1]);
	return 0;
}

static struct fw_names *logd_cache_lookup(struct logd_names_cache *c,
					  uint32_t generation)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->gen[i]->generation == generation)
			return c->gen[i];
	return NULL;
}

struct fw_names *logd_names_cache_find(struct logd_names_cache *c,
				       uint32_t generation, const char *state,
				       const char *state_tmp)
{
	struct fw_names *n = logd_cache_lookup(c, generation);
	uint64_t now;

	if (n)
		return n;
	/* Only a generation newer than all we hold can still appear: the
	 * document names no generation older than the ones we read. */
	if (c->n && c->gen[0]->generation >= generation)
		return NULL;
	now = logd_now_ns();
	if (c->miss_gen == generation && now - c->miss_ns < 100000000ULL)
		return NULL;
	if (state)
		logd_names_cache_refresh(c, state);
	n = logd_cache_lookup(c, generation);
	if (!n && state_tmp) {
		/* apply writes the new state aside, flips, then renames: an
		 * event of the new generation can come in between. */
		logd_names_cache_refresh(c, state_tmp);
		n = logd_cache_lookup(c, generation);
	}
	if (!n) {
		c->miss_gen = generation;
		c->miss_ns = now;
	}
	return n;
}

void logd_names_cache_clear(struct logd_names_cache *c)
{
	while (c->n)
		fw_names_put(c->gen[--c->n]);
}
