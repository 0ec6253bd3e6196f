// SPDX-License-Identifier: GPL-2.0
/*
 * fw_ctr: counters that outlive applies, and durations. See counters.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <plumwall/strmap.h>

#include "counters.h"
#include "datapath.h"
#include "names.h"

/* Identities of one generation's table: rule "TENANT/NAME" ("/NAME" for
 * a global rule; tenant names never hold a '/') -> rule id + 1, tenant
 * name -> index in "tenants" + 1. */
struct fw_ctr_ids {
	struct pw_strmap rules;
	struct pw_strmap tenants;
	char *keys; /* the rule keys, one after the other */
};

static void fw_ctr_ids_free(struct fw_ctr_ids *ids)
{
	pw_strmap_free(&ids->rules);
	pw_strmap_free(&ids->tenants);
	free(ids->keys);
}

/* @ids of @table; its rules only when @with_rules (the tenants always). */
static int fw_ctr_ids_build(struct fw_ctr_ids *ids, const json_t *table,
			    bool with_rules)
{
	const json_t *arr, *v;
	const char *name, *tenant;
	size_t i, len = 0, off = 0, klen;
	json_int_t id;
	char *k;
	int ret = 0;

	memset(ids, 0, sizeof(*ids));
	pw_strmap_init(&ids->rules);
	pw_strmap_init(&ids->tenants);
	arr = with_rules ? json_object_get(table, "rules") : NULL;
	json_array_foreach(arr, i, v) {
		name = json_string_value(json_object_get(v, "name"));
		tenant = json_string_value(json_object_get(v, "tenant"));
		len += (name ? strlen(name) : 0) +
		       (tenant ? strlen(tenant) : 0) + 2;
	}
	ids->keys = malloc(len ? len : 1);
	if (!ids->keys) {
		ret = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		name = json_string_value(json_object_get(v, "name"));
		tenant = json_string_value(json_object_get(v, "tenant"));
		id = json_integer_value(json_object_get(v, "id"));
		/* rules the compiler made up have no name, hence no
		 * identity */
		if (!name || !*name || id < 0)
			continue;
		k = ids->keys + off;
		klen = (size_t)sprintf(k, "%s/%s", tenant ? tenant : "", name);
		off += klen + 1;
		ret = pw_strmap_add(&ids->rules, k, klen,
				    (void *)(uintptr_t)(id + 1), NULL);
		if (ret == -EEXIST)
			ret = 0;
		if (ret)
			goto out;
	}
	json_array_foreach(json_object_get(table, "tenants"), i, v) {
		name = json_string_value(json_object_get(v, "name"));
		if (!name)
			continue;
		ret = pw_strmap_add(&ids->tenants, name, strlen(name),
				    (void *)(uintptr_t)(i + 1), NULL);
		if (ret == -EEXIST)
			ret = 0;
		if (ret)
			goto out;
	}
out:
	if (ret)
		fw_ctr_ids_free(ids);
	return ret;
}

/*
 * Two tables whose rules are the same (the same object, as the state
 * shares a table of names between generations, or equal): every rule
 * keeps its id, and nothing need be looked up by name. A replace that
 * only edits ports or addresses is this case.
 */
static bool fw_ctr_same_rules(const json_t *a, const json_t *b)
{
	json_t *ra = json_object_get(a, "rules"),
	       *rb = json_object_get(b, "rules");

	return ra && rb && (ra == rb || json_equal(ra, rb));
}

/* The rule id in @ids of the rule @v of another table, -1 if none; @same:
 * the tables' rules are the same (fw_ctr_same_rules()), @ids has none. */
static long fw_ctr_ids_rule(const struct fw_ctr_ids *ids, bool same,
			    const json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *tenant = json_string_value(json_object_get(v, "tenant"));
	json_int_t id;
	char buf[256];
	int len;
	void *p;

	if (!name || !*name)
		return -1;
	if (same) {
		id = json_integer_value(json_object_get(v, "id"));
		return id >= 0 && id < LONG_MAX ? (long)id : -1;
	}
	len = snprintf(buf, sizeof(buf), "%s/%s", tenant ? tenant : "", name);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -1;
	p = pw_strmap_get(&ids->rules, buf, (size_t)len);
	return p ? (long)(uintptr_t)p - 1 : -1;
}

static long fw_ctr_ids_tenant(const struct fw_ctr_ids *ids, const char *name)
{
	void *p;

	if (!name)
		return -1;
	p = pw_strmap_get(&ids->tenants, name, strlen(name));
	return p ? (long)(uintptr_t)p - 1 : -1;
}

/* Rules of @table: one past the largest id. */
static size_t fw_ctr_rule_ids(const json_t *table)
{
	const json_t *v;
	json_int_t id;
	size_t i, n = 0;

	json_array_foreach(json_object_get(table, "rules"), i, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id >= 0 && (size_t)id + 1 > n)
			n = (size_t)id + 1;
	}
	return n;
}

size_t fw_ctr_tenant_ids(const json_t *table)
{
	const json_t *v;
	json_int_t id;
	size_t i, n = 0;

	json_array_foreach(json_object_get(table, "tenants"), i, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id >= 0 && id < PW_MAX_TENANTS && (size_t)id + 1 > n)
			n = (size_t)id + 1;
	}
	return n;
}

int fw_ctr_init(struct fw_ctr *c, const json_t *table, int64_t since)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->n_rules = fw_ctr_rule_ids(table);
	c->n_tenants = json_array_size(json_object_get(table, "tenants"));
	c->rules = calloc(c->n_rules ? c->n_rules : 1, sizeof(*c->rules));
	c->tenants =
		calloc(c->n_tenants ? c->n_tenants : 1, sizeof(*c->tenants));
	if (!c->rules || !c->tenants) {
		fw_ctr_free(c);
		return -ENOMEM;
	}
	for (i = 0; i < c->n_rules; i++)
		c->rules[i].since = since;
	for (i = 0; i < c->n_tenants; i++)
		c->tenants[i].since = since;
	return 0;
}

void fw_ctr_free(struct fw_ctr *c)
{
	free(c->rules);
	free(c->tenants);
	memset(c, 0, sizeof(*c));
}

static int64_t fw_ctr_int(const json_t *arr, size_t i)
{
	return (int64_t)json_integer_value(json_array_get(arr, i));
}

int fw_ctr_read(struct fw_ctr *c, const json_t *state)
{
	const json_t *ctr = json_object_get(state, "counters"), *v;
	struct fw_ctr_rule *r;
	struct fw_ctr_tenant *t;
	size_t i;
	int ret;

	ret = fw_ctr_init(c, state,
			  (int64_t)json_integer_value(
				  json_object_get(state, "loaded_at")));
	if (ret)
		return ret;
	json_array_foreach(json_object_get(ctr, "rules"), i, v) {
		if (i >= c->n_rules)
			break;
		r = &c->rules[i];
		if (json_is_integer(v)) { /* never hit: its start only */
			r->since = (int64_t)json_integer_value(v);
			continue;
		}
		r->packets = (uint64_t)fw_ctr_int(v, 0);
		r->bytes = (uint64_t)fw_ctr_int(v, 1);
		r->first_hit = fw_ctr_int(v, 2);
		r->last_hit = fw_ctr_int(v, 3);
		r->since = fw_ctr_int(v, 4);
	}
	json_array_foreach(json_object_get(ctr, "tenants"), i, v) {
		if (i >= c->n_tenants)
			break;
		t = &c->tenants[i];
		t->default_drops.packets = (uint64_t)fw_ctr_int(v, 0);
		t->default_drops.bytes = (uint64_t)fw_ctr_int(v, 1);
		t->non_ip_drops.packets = (uint64_t)fw_ctr_int(v, 2);
		t->non_ip_drops.bytes = (uint64_t)fw_ctr_int(v, 3);
		t->since = fw_ctr_int(v, 4);
	}
	return 0;
}

/* A JSON integer of a counter (jansson's are signed 64 bits). */
static json_t *fw_ctr_jint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *fw_ctr_json(const struct fw_ctr *c, int64_t prev_generation)
{
	json_t *doc = json_object(), *arr, *row;
	size_t i;
	int err = !doc;

	if (err)
		return NULL;
	if (prev_generation >= 0)
		err |= json_object_set_new(doc, "prev_generation",
					   json_integer(prev_generation));
	/* Arrays, not objects: the document holds one per rule, and a
	 * 100,000-rule policy should not cost megabytes of key names. A
	 * rule never hit, most of a large policy, is its start alone. */
	arr = json_array();
	for (i = 0; i < c->n_rules; i++) {
		const struct fw_ctr_rule *r = &c->rules[i];

		if (!r->packets && !r->bytes && !r->first_hit && !r->last_hit) {
			err |= json_array_append_new(
				arr, json_integer((json_int_t)r->since));
			continue;
		}
		row = json_pack("[IIIII]", (json_int_t)r->packets,
				(json_int_t)r->bytes, (json_int_t)r->first_hit,
				(json_int_t)r->last_hit, (json_int_t)r->since);
		err |= json_array_append_new(arr, row);
	}
	err |= json_object_set_new(doc, "rules", arr);
	arr = json_array();
	for (i = 0; i < c->n_tenants; i++) {
		const struct fw_ctr_tenant *t = &c->tenants[i];

		row = json_array();
		err |= json_array_append_new(
			row, fw_ctr_jint(t->default_drops.packets));
		err |= json_array_append_new(
			row, fw_ctr_jint(t->default_drops.bytes));
		err |= json_array_append_new(
			row, fw_ctr_jint(t->non_ip_drops.packets));
		err |= json_array_append_new(
			row, fw_ctr_jint(t->non_ip_drops.bytes));
		err |= json_array_append_new(row, json_integer(t->since));
		err |= json_array_append_new(arr, row);
	}
	err |= json_object_set_new(doc, "tenants", arr);
	if (err) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* A datapath time (ns, 0: never) as wall clock seconds. */
static int64_t fw_ctr_wall(uint64_t t, const struct fw_ctr_clock *clk)
{
	int64_t ago;

	if (!t)
		return 0;
	ago = t < clk->dp_ns ? (int64_t)(clk->dp_ns - t) : 0;
	return (clk->wall_ns - ago) / 1000000000LL;
}

static void fw_ctr_merge_rule(struct fw_ctr_rule *r, uint64_t packets,
			      uint64_t bytes, int64_t first, int64_t last)
{
	r->packets += packets;
	r->bytes += bytes;
	if (first && (!r->first_hit || first < r->first_hit))
		r->first_hit = first;
	if (last > r->last_hit)
		r->last_hit = last;
}

static void fw_ctr_add_counter(struct pw_counter *a, const struct pw_counter *b)
{
	a->packets += b->packets;
	a->bytes += b->bytes;
}

int fw_ctr_rule_map(const json_t *to, const json_t *from, long **map, size_t *n)
{
	bool same = fw_ctr_same_rules(to, from);
	struct fw_ctr_ids ids;
	const json_t *v;
	json_int_t id;
	size_t i;
	int ret;

	*n = fw_ctr_rule_ids(from);
	*map = malloc((*n ? *n : 1) * sizeof(**map));
	if (!*map)
		return -ENOMEM;
	for (i = 0; i < *n; i++)
		(*map)[i] = -1;
	ret = fw_ctr_ids_build(&ids, to, !same);
	if (ret) {
		free(*map);
		*map = NULL;
		return ret;
	}
	json_array_foreach(json_object_get(from, "rules"), i, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id >= 0 && (size_t)id < *n)
			(*map)[id] = fw_ctr_ids_rule(&ids, same, v);
	}
	fw_ctr_ids_free(&ids);
	return 0;
}

int fw_ctr_add_slot(struct fw_ctr *c, const json_t *to, const json_t *from,
		    const struct pw_rule_counter *rules, size_t n_rules,
		    const struct pw_tenant_counter *tenants,
		    size_t n_tenant_ids, const struct fw_ctr_clock *clk)
{
	struct fw_ctr_ids ids;
	size_t i, n_map;
	const json_t *v;
	json_int_t id;
	long dst, *map;
	int ret;

	ret = fw_ctr_rule_map(to, from, &map, &n_map);
	if (ret)
		return ret;
	for (i = 0; i < n_map && i < n_rules; i++) {
		dst = map[i];
		if (!rules[i].packets || dst < 0 || (size_t)dst >= c->n_rules)
			continue;
		fw_ctr_merge_rule(&c->rules[dst], rules[i].packets,
				  rules[i].bytes,
				  fw_ctr_wall(rules[i].first_ns, clk),
				  fw_ctr_wall(rules[i].last_ns, clk));
	}
	free(map);
	ret = fw_ctr_ids_build(&ids, to, false);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(from, "tenants"), i, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id < 0 || (size_t)id >= n_tenant_ids)
			continue;
		dst = fw_ctr_ids_tenant(
			&ids, json_string_value(json_object_get(v, "name")));
		if (dst < 0 || (size_t)dst >= c->n_tenants)
			continue;
		fw_ctr_add_counter(&c->tenants[dst].default_drops,
				   &tenants[id].default_drops);
		fw_ctr_add_counter(&c->tenants[dst].non_ip_drops,
				   &tenants[id].non_ip_drops);
	}
	fw_ctr_ids_free(&ids);
	return 0;
}

int fw_ctr_carry(struct fw_ctr *out, const json_t *to, const struct fw_ctr *old,
		 const json_t *from, int64_t now)
{
	struct fw_ctr_ids ids;
	size_t i, n_map;
	const json_t *v;
	long dst, *map;
	int ret;

	ret = fw_ctr_init(out, to, now);
	if (ret)
		return ret;
	ret = fw_ctr_rule_map(to, from, &map, &n_map);
	if (ret)
		goto fail;
	for (i = 0; i < n_map && i < old->n_rules; i++) {
		dst = map[i];
		if (dst >= 0 && (size_t)dst < out->n_rules)
			out->rules[dst] = old->rules[i];
	}
	free(map);
	ret = fw_ctr_ids_build(&ids, to, false);
	if (ret)
		goto fail;
	json_array_foreach(json_object_get(from, "tenants"), i, v) {
		if (i >= old->n_tenants)
			break;
		dst = fw_ctr_ids_tenant(
			&ids, json_string_value(json_object_get(v, "name")));
		if (dst >= 0 && (size_t)dst < out->n_tenants)
			out->tenants[dst] = old->tenants[i];
	}
	fw_ctr_ids_free(&ids);
	return 0;
fail:
	fw_ctr_free(out);
	return ret;
}

/* ---- durations ----------------------------------------------------------- */

/* 100 years: far beyond any counter's life, far below overflow. */
#define FW_DURATION_MAX (100ULL * 366 * 86400)

int fw_duration_parse(const char *s, uint64_t *seconds)
{
	uint64_t total = 0, n, unit;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = 0;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > FW_DURATION_MAX)
				return -ERANGE;
			p++;
		}
		switch (*p) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7ULL * 86400;
			break;
		default:
			return -EINVAL; /* no unit, or an unknown one */
		}
		p++;
		if (n > FW_DURATION_MAX / unit)
			return -ERANGE;
		total += n * unit;
		if (total > FW_DURATION_MAX)
			return -ERANGE;
	}
	*seconds = total;
	return 0;
}

/* ---- with the datapath --------------------------------------------------- */

int fw_ctr_clock_now(struct fw_dp *dp, struct fw_ctr_clock *clk)
{
	struct timespec ts;
	__u64 dp_ns;
	int ret;

	ret = fw_dp_clock(dp, &dp_ns);
	if (ret)
		return ret;
	clk->dp_ns = dp_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	clk->wall_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return 0;
}

int fw_ctr_add_dp(struct fw_ctr *c, const json_t *to, const json_t *from,
		  struct fw_dp *dp, __u32 slot, const struct fw_ctr_clock *clk)
{
	struct pw_rule_counter *rules = NULL;
	struct pw_tenant_counter *tenants = NULL;
	size_t n_rules = fw_ctr_rule_ids(from);
	size_t n_tids = fw_ctr_tenant_ids(from);
	int ret;

	rules = calloc(n_rules ? n_rules : 1, sizeof(*rules));
	tenants = calloc(n_tids ? n_tids : 1, sizeof(*tenants));
	if (!rules || !tenants) {
		ret = -ENOMEM;
		goto out;
	}
	ret = fw_dp_rule_counters(dp, slot, rules, n_rules);
	if (!ret)
		ret = fw_dp_tenant_counters(dp, slot, tenants, n_tids);
	if (!ret)
		ret = fw_ctr_add_slot(c, to, from, rules, n_rules, tenants,
				      n_tids, clk);
out:
	free(rules);
	free(tenants);
	return ret;
}

/* The slot holds the policy of @generation. */
static bool fw_ctr_slot_is(struct fw_dp *dp, __u32 slot, uint32_t generation)
{
	struct pw_settings set;

	return !fw_dp_slot_settings(dp, slot, &set) &&
	       set.generation == generation;
}

int fw_ctr_totals(struct fw_dp *dp, const json_t *st, struct fw_ctr *out)
{
	__u32 ids0[2][FW_DP_SLOT_MAPS], ids1[2][FW_DP_SLOT_MAPS], active;
	const json_t *prev, *table = NULL;
	struct fw_ctr_clock clk;
	uint32_t gen;
	int ret;

	memset(out, 0, sizeof(*out));
	gen = (uint32_t)json_integer_value(json_object_get(st, "generation"));
	prev = json_object_get(json_object_get(st, "counters"),
			       "prev_generation");
	ret = fw_dp_slot_ids(dp, 0, ids0[0]);
	if (!ret)
		ret = fw_dp_slot_ids(dp, 1, ids0[1]);
	if (!ret)
		ret = fw_dp_active_slot(dp, &active);
	if (!ret)
		ret = fw_ctr_clock_now(dp, &clk);
	if (!ret)
		ret = fw_ctr_read(out, st);
	if (ret)
		goto out;
	/* An apply between reading the state and the slots: the caller
	 * reads the state again. */
	if (!fw_ctr_slot_is(dp, active, gen)) {
		ret = -EAGAIN;
		goto out;
	}
	ret = fw_ctr_add_dp(out, st, st, dp, active, &clk);
	if (ret)
		goto out;
	if (json_is_integer(prev))
		table = fw_names_table(st, (uint32_t)json_integer_value(prev));
	if (table && fw_ctr_slot_is(dp, active ^ 1,
				    (uint32_t)json_integer_value(prev))) {
		ret = fw_ctr_add_dp(out, st, table, dp, active ^ 1, &clk);
		if (ret)
			goto out;
	}
	ret = fw_dp_slot_ids(dp, 0, ids1[0]);
	if (!ret)
		ret = fw_dp_slot_ids(dp, 1, ids1[1]);
	if (!ret && memcmp(ids0, ids1, sizeof(ids0)))
		ret = -EAGAIN;
out:
	if (ret)
		fw_ctr_free(out);
	return ret;
}
