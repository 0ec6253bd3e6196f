// SPDX-License-Identifier: GPL-2.0
/*
 * fw_names: names of policy generations in the state document. See
 * names.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <plumwall/shared.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "names.h"

/* Ids above this are refused: the state is ours, but a corrupted file
 * must not make us allocate gigabytes. */
#define FW_NAMES_MAX_ID (1U << 26)

/* The keys of one generation's table. */
static const char *const fw_names_keys[] = {
	"generation", "tenants", "rules", "segments", "interfaces",
};

static void fw_names_free(struct fw_names *n)
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

struct fw_names *fw_names_get(struct fw_names *n)
{
	if (n)
		atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
	return n;
}

void fw_names_put(struct fw_names *n)
{
	if (n &&
	    atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) == 1)
		fw_names_free(n);
}

static char *fw_names_dup(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? strdup(s) : NULL;
}

/* The largest "id" + 1 of the objects of @arr, each below @limit. */
static int fw_names_ids(const json_t *arr, json_int_t limit, size_t *max)
{
	const json_t *v;
	json_int_t id;
	size_t i;

	*max = 0;
	json_array_foreach(arr, i, v) {
		id = json_integer_value(json_object_get(v, "id"));
		if (id < 0 || id >= limit)
			return -EBADMSG;
		if ((size_t)id + 1 > *max)
			*max = (size_t)id + 1;
	}
	return 0;
}

static int fw_names_parse_into(const json_t *doc, struct fw_names *n)
{
	const json_t *arr, *v, *gen;
	size_t i, max;
	int ret;

	gen = json_object_get(doc, "generation");
	if (!json_is_integer(gen) || json_integer_value(gen) < 0 ||
	    json_integer_value(gen) > UINT32_MAX)
		return -EBADMSG;
	n->generation = (uint32_t)json_integer_value(gen);

	/* tenants: [{id, name}] */
	arr = json_object_get(doc, "tenants");
	ret = fw_names_ids(arr, PW_MAX_TENANTS, &max);
	if (ret)
		return ret;
	n->tenants = calloc(max ? max : 1, sizeof(*n->tenants));
	if (!n->tenants)
		return -ENOMEM;
	n->n_tenants = max;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));

		free(n->tenants[id]);
		n->tenants[id] = fw_names_dup(json_object_get(v, "name"));
	}

	/* rules: [{id, name, tenant}] */
	arr = json_object_get(doc, "rules");
	ret = fw_names_ids(arr, FW_NAMES_MAX_ID, &max);
	if (ret)
		return ret;
	n->rules = calloc(max ? max : 1, sizeof(*n->rules));
	if (!n->rules)
		return -ENOMEM;
	n->n_rules = max;
	json_array_foreach(arr, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		struct fw_rule_name *r = &n->rules[id];

		free(r->name);
		free(r->tenant);
		r->name = fw_names_dup(json_object_get(v, "name"));
		r->tenant = fw_names_dup(json_object_get(v, "tenant"));
		if (r->name && !*r->name) { /* a rule the compiler made up */
			free(r->name);
			r->name = NULL;
		}
	}

	/* segments: [name], indexed by segment id */
	arr = json_object_get(doc, "segments");
	if (json_array_size(arr) > FW_NAMES_MAX_ID)
		return -EBADMSG;
	n->segments = calloc(json_array_size(arr) + 1, sizeof(*n->segments));
	if (!n->segments)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		n->segments[i] = fw_names_dup(v);
		n->n_segments = i + 1;
	}

	/* interfaces: [{name, ifindex, ...}] */
	arr = json_object_get(doc, "interfaces");
	n->ifs = calloc(json_array_size(arr) + 1, sizeof(*n->ifs));
	if (!n->ifs)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		const char *name =
			json_string_value(json_object_get(v, "name"));

		if (!name)
			continue;
		n->ifs[n->n_ifs].ifindex = (uint32_t)json_integer_value(
			json_object_get(v, "ifindex"));
		snprintf(n->ifs[n->n_ifs].name, IF_NAMESIZE, "%s", name);
		n->n_ifs++;
	}
	return 0;
}

int fw_names_parse(const json_t *table, struct fw_names **out)
{
	struct fw_names *n;
	int ret;

	*out = NULL;
	if (!json_is_object(table))
		return -EBADMSG;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	atomic_init(&n->refs, 1);
	ret = fw_names_parse_into(table, n);
	if (ret) {
		fw_names_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

int fw_names_set_read(struct fw_names_set *set, const json_t *state)
{
	const json_t *v;
	size_t i;
	int ret;

	set->n = 0;
	if (!json_is_object(state) ||
	    json_integer_value(json_object_get(state, "layout_version")) !=
		    PW_LAYOUT_VERSION)
		return -EBADMSG;
	ret = fw_names_parse(state, &set->gen[0]);
	if (ret)
		return ret;
	set->n = 1;
	json_array_foreach(json_object_get(state, "previous"), i, v) {
		if (set->n == FW_NAMES_KEEP)
			break;
		ret = fw_names_parse(v, &set->gen[set->n]);
		if (ret) {
			fw_names_set_clear(set);
			return ret;
		}
		set->n++;
	}
	return 0;
}

int fw_names_set_load(struct fw_names_set *set, const char *path)
{
	json_error_t jerr;
	json_t *doc;
	int ret;

	set->n = 0;
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		return access(path, F_OK) ? -ENOENT : -EBADMSG;
	ret = fw_names_resolve(doc);
	if (!ret)
		ret = fw_names_set_read(set, doc);
	json_decref(doc);
	return ret;
}

struct fw_names *fw_names_set_find(const struct fw_names_set *set,
				   uint32_t generation)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->gen[i]->generation == generation)
			return set->gen[i];
	return NULL;
}

void fw_names_set_clear(struct fw_names_set *set)
{
	while (set->n)
		fw_names_put(set->gen[--set->n]);
}

const char *fw_names_tenant(const struct fw_names *n, uint32_t id)
{
	return n && id < n->n_tenants ? n->tenants[id] : NULL;
}

const struct fw_rule_name *fw_names_rule(const struct fw_names *n, uint32_t id)
{
	return n && id < n->n_rules && n->rules[id].name ? &n->rules[id] : NULL;
}

const char *fw_names_segment(const struct fw_names *n, uint32_t id)
{
	return n && id < n->n_segments ? n->segments[id] : NULL;
}

const char *fw_names_ifname(const struct fw_names *n, uint32_t ifindex)
{
	size_t i;

	if (!n)
		return NULL;
	for (i = 0; i < n->n_ifs; i++)
		if (n->ifs[i].ifindex == ifindex)
			return n->ifs[i].name;
	return NULL;
}

/* ---- writing ------------------------------------------------------------- */

static json_t *fw_names_tenant_json(const struct policy_tenant *t)
{
	json_t *o, *arr;
	uint32_t i;

	o = json_object();
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	arr = json_array();
	for (i = 0; i < t->n_interfaces; i++)
		json_array_append_new(arr, json_string(t->interfaces[i].name));
	json_object_set_new(o, "interfaces", arr);
	arr = json_array();
	for (i = 0; i < t->n_vlans; i++)
		json_array_append_new(arr, json_integer(t->vlans[i].id));
	json_object_set_new(o, "vlans", arr);
	return o;
}

int fw_names_write(json_t *doc, const struct policy *pol,
		   const struct policy_compiled *c)
{
	json_t *arr, *o;
	uint32_t i;
	int ret = 0;

	ret |= json_object_set_new(doc, "generation",
				   json_integer(c->generation));
	arr = json_array();
	for (i = 0; i < pol->n_tenants; i++)
		ret |= json_array_append_new(
			arr, fw_names_tenant_json(&pol->tenants[i]));
	ret |= json_object_set_new(doc, "tenants", arr);
	/* Rule names by id: counters and flows carry ids only. */
	arr = json_array();
	for (i = 0; i < pol->n_rules_total; i++) {
		const struct policy_rule *r = policy_rule_by_id(pol, i);

		o = json_object();
		json_object_set_new(o, "id", json_integer(i));
		json_object_set_new(o, "name", json_string(r ? r->name : ""));
		json_object_set_new(
			o, "tenant",
			r && r->tenant >= 0 ?
				json_string(pol->tenants[r->tenant].name) :
				json_null());
		ret |= json_array_append_new(arr, o);
	}
	ret |= json_object_set_new(doc, "rules", arr);
	arr = json_array();
	for (i = 0; i < c->n_segments; i++)
		ret |= json_array_append_new(arr,
					     json_string(c->segments[i]->name));
	ret |= json_object_set_new(doc, "segments", arr);
	return ret ? -ENOMEM : 0;
}

/* @src's generation table: the keys of fw_names_keys, shared. */
static json_t *fw_names_extract(const json_t *src)
{
	json_t *t = json_object();
	size_t i;

	if (!t)
		return NULL;
	for (i = 0; i < sizeof(fw_names_keys) / sizeof(fw_names_keys[0]); i++)
		if (json_object_get(src, fw_names_keys[i]) &&
		    json_object_set(t, fw_names_keys[i],
				    json_object_get(src, fw_names_keys[i]))) {
			json_decref(t);
			return NULL;
		}
	return t;
}

/*
 * Rule tables equal to the new generation's @cur are made that very
 * object, so that the state document names them once (the writer puts
 * "rules_of" in their place, fw_names_resolve() undoes it): a replace
 * that keeps every rule's name, the usual edit, then writes and reads
 * one table of rule names instead of two; at 100,000 rules that is 5 MB
 * less to write twice and parse once per apply. @t is private to the new
 * document (a copy where it was shared with the old one); @old_rules,
 * compared once (@old_eq), is what most tables of the old state share.
 */
static json_t *fw_names_share_rules(json_t *t, json_t *cur,
				    const json_t *old_rules, int old_eq)
{
	const json_t *r = json_object_get(t, "rules");
	json_t *c;

	if (!cur || !r || r == cur)
		return t;
	if (r == old_rules ? !old_eq : !json_equal((json_t *)r, cur))
		return t;
	c = json_copy(t); /* shallow: the members stay shared */
	json_decref(t);
	if (c && json_object_set(c, "rules", cur)) {
		json_decref(c);
		c = NULL;
	}
	return c;
}

int fw_names_history(json_t *doc, const json_t *old,
		     int (*keep)(uint32_t generation, void *ctx), void *ctx)
{
	json_t *prev = json_array(), *t;
	json_t *cur = json_object_get(doc, "rules");
	const json_t *v, *old_rules = NULL;
	int old_eq = 0;
	size_t i;
	int ret = 0;

	if (!prev)
		return -ENOMEM;
	if (old && json_is_integer(json_object_get(old, "generation"))) {
		old_rules = json_object_get(old, "rules");
		old_eq = cur && old_rules &&
			 json_equal((json_t *)old_rules, cur);
		t = fw_names_share_rules(fw_names_extract(old), cur, old_rules,
					 old_eq);
		if (!t || json_array_append_new(prev, t)) {
			ret = -ENOMEM;
			goto out;
		}
		json_array_foreach(json_object_get(old, "previous"), i, v) {
			if (json_array_size(prev) >= FW_NAMES_KEEP - 1)
				break;
			if (!keep ||
			    !keep((uint32_t)json_integer_value(
					  json_object_get(v, "generation")),
				  ctx))
				continue;
			t = fw_names_share_rules(json_incref((json_t *)v), cur,
						 old_rules, old_eq);
			if (!t || json_array_append_new(prev, t)) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
	if (json_object_set(doc, "previous", prev))
		ret = -ENOMEM;
out:
	json_decref(prev);
	return ret;
}

int fw_names_resolve(json_t *doc)
{
	json_t *rules = json_object_get(doc, "rules"), *v, *of;
	size_t i;

	json_array_foreach(json_object_get(doc, "previous"), i, v) {
		of = json_object_get(v, "rules_of");
		if (!of)
			continue;
		/* only the top level's table is ever referred to */
		if (!rules || json_object_get(v, "rules") ||
		    !json_is_integer(of) ||
		    !json_equal(of, json_object_get(doc, "generation")))
			return -EBADMSG;
		if (json_object_set(v, "rules", rules) ||
		    json_object_del(v, "rules_of"))
			return -ENOMEM;
	}
	return 0;
}

const json_t *fw_names_table(const json_t *doc, uint32_t generation)
{
	const json_t *v;
	size_t i;

	if (json_is_integer(json_object_get(doc, "generation")) &&
	    json_integer_value(json_object_get(doc, "generation")) ==
		    generation)
		return doc;
	json_array_foreach(json_object_get(doc, "previous"), i, v)
		if (json_integer_value(json_object_get(v, "generation")) ==
		    generation)
			return v;
	return NULL;
}
