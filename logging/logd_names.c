// SPDX-License-Identifier: GPL-2.0
/*
 * Names behind the ids an event carries (tenant, rule, segments,
 * interface), per policy generation, from the state document that
 * `plumwall apply` writes (fw/cmd_apply.c, fw/runtime.h).
 *
 * Events carry the generation their verdict was made under; a flow end
 * can come several applies after its start. The cache keeps the tables
 * of the last LOGD_NAMES_KEEP generations seen. An event of a generation
 * logd never saw (older than its start, or evicted) gets no names: its
 * ids are still in the event, and a wrong name would be worse than none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "logging/logd.h"

/* Ids above this are refused: the state is ours, but a corrupted file
 * must not make us allocate gigabytes. */
#define LOGD_NAMES_MAX_ID (1U << 26)

uint64_t logd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void logd_names_free(struct logd_names *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_tenants; i++)
		free(n->tenants[i]);
	for (i = 0; i < n->n_rules; i++) {
		free(n->rules[i].name);
		free(n->rules[i].tenant);
	}
	for (i = 0; i < n->n_segments; i++)
		free(n->segments[i]);
	free(n->tenants);
	free(n->rules);
	free(n->segments);
	free(n->ifs);
	free(n);
}

struct logd_names *logd_names_get(struct logd_names *n)
{
	if (n)
		atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
	return n;
}

void logd_names_put(struct logd_names *n)
{
	if (n && atomic_fetch_sub_explicit(&n->refs, 1,
					   memory_order_acq_rel) == 1)
		logd_names_free(n);
}

static char *logd_dup_json(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? strdup(s) : NULL;
}

static int logd_names_parse(const json_t *doc, struct logd_names *n)
{
	const json_t *arr, *v, *gen;
	size_t i, max;

	gen = json_object_get(doc, "generation");
	if (!json_is_integer(gen) ||
	    json_integer_value(json_object_get(doc, "layout_version")) !=
		    PW_LAYOUT_VERSION)
		return -EBADMSG;
	n->generation = (uint32_t)json_integer_value(gen);

	/* tenants: [{id, name}] */
	arr = json_object_get(doc, "tenants");
	max = 0;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));

		if (id < 0 || id >= PW_MAX_TENANTS)
			return -EBADMSG;
		if ((size_t)id + 1 > max)
			max = id + 1;
	}
	n->tenants = calloc(max ? max : 1, sizeof(*n->tenants));
	if (!n->tenants)
		return -ENOMEM;
	n->n_tenants = max;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));

		free(n->tenants[id]);
		n->tenants[id] = logd_dup_json(json_object_get(v, "name"));
	}

	/* rules: [{id, name, tenant}] */
	arr = json_object_get(doc, "rules");
	max = 0;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));

		if (id < 0 || id >= LOGD_NAMES_MAX_ID)
			return -EBADMSG;
		if ((size_t)id + 1 > max)
			max = id + 1;
	}
	n->rules = calloc(max ? max : 1, sizeof(*n->rules));
	if (!n->rules)
		return -ENOMEM;
	n->n_rules = max;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		struct logd_rule_name *r = &n->rules[id];

		free(r->name);
		free(r->tenant);
		r->name = logd_dup_json(json_object_get(v, "name"));
		r->tenant = logd_dup_json(json_object_get(v, "tenant"));
		if (r->name && !*r->name) { /* a rule the compiler made up */
			free(r->name);
			r->name = NULL;
		}
	}

	/* segments: [name], indexed by segment id */
	arr = json_object_get(doc, "segments");
	if (json_array_size(arr) > LOGD_NAMES_MAX_ID)
		return -EBADMSG;
	n->segments = calloc(json_array_size(arr) + 1, sizeof(*n->segments));
	if (!n->segments)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		n->segments[i] = logd_dup_json(v);
		n->n_segments = i + 1;
	}

	/* interfaces: [{name, ifindex, mode}] */
	arr = json_object_get(doc, "interfaces");
	n->ifs = calloc(json_array_size(arr) + 1, sizeof(*n->ifs));
	if (!n->ifs)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (!name)
			continue;
		n->ifs[n->n_ifs].ifindex =
			json_integer_value(json_object_get(v, "ifindex"));
		snprintf(n->ifs[n->n_ifs].name, IF_NAMESIZE, "%s", name);
		n->n_ifs++;
	}
	return 0;
}

int logd_names_load(const char *path, struct logd_names **out)
{
	struct logd_names *n;
	json_error_t jerr;
	json_t *doc;
	int ret;

	*out = NULL;
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		return access(path, F_OK) ? -ENOENT : -EBADMSG;
	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = -ENOMEM;
		goto out;
	}
	atomic_init(&n->refs, 1);
	ret = logd_names_parse(doc, n);
	if (ret) {
		logd_names_free(n);
		goto out;
	}
	*out = n;
out:
	json_decref(doc);
	return ret;
}

const char *logd_names_tenant(const struct logd_names *n, uint32_t id)
{
	return n && id < n->n_tenants ? n->tenants[id] : NULL;
}

const struct logd_rule_name *logd_names_rule(const struct logd_names *n,
					     uint32_t id)
{
	return n && id < n->n_rules && n->rules[id].name ? &n->rules[id] :
							     NULL;
}

const char *logd_names_segment(const struct logd_names *n, uint32_t id)
{
	return n && id < n->n_segments ? n->segments[id] : NULL;
}

const char *logd_names_ifname(const struct logd_names *n, uint32_t ifindex)
{
	size_t i;

	if (!n)
		return NULL;
	for (i = 0; i < n->n_ifs; i++)
		if (n->ifs[i].ifindex == ifindex)
			return n->ifs[i].name;
	return NULL;
}

/* Put @n (our reference) into the cache, replacing a table of the same
 * generation (apply rewrote the state without a new generation: it never
 * does today, but the newer file wins). */
static void logd_cache_add(struct logd_names_cache *c, struct logd_names *n)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->gen[i]->generation == n->generation) {
			logd_names_put(c->gen[i]);
			memmove(&c->gen[1], &c->gen[0], i * sizeof(c->gen[0]));
			c->gen[0] = n;
			return;
		}
	if (c->n == LOGD_NAMES_KEEP)
		logd_names_put(c->gen[--c->n]);
	memmove(&c->gen[1], &c->gen[0], c->n * sizeof(c->gen[0]));
	c->gen[0] = n;
	c->n++;
}

int logd_names_cache_refresh(struct logd_names_cache *c, const char *state)
{
	struct logd_names *n;
	int ret;

	ret = logd_names_load(state, &n);
	if (ret)
		return ret;
	logd_cache_add(c, n);
	return 0;
}

static struct logd_names *logd_cache_lookup(struct logd_names_cache *c,
					    uint32_t generation)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->gen[i]->generation == generation)
			return c->gen[i];
	return NULL;
}

struct logd_names *logd_names_cache_find(struct logd_names_cache *c,
					 uint32_t generation, const char *state,
					 const char *state_tmp)
{
	struct logd_names *n = logd_cache_lookup(c, generation);
	uint64_t now;

	if (n)
		return n;
	/* Only a generation newer than all we hold can still appear. */
	for (size_t i = 0; i < c->n; i++)
		if (c->gen[i]->generation >= generation)
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
		logd_names_put(c->gen[--c->n]);
}
