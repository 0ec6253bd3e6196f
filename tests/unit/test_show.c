// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of `plumwall show --json` (fw/cmd_policy.c): the document describes
 * the whole policy, so that a policy rebuilt from the JSON alone is the same
 * policy.
 *
 * For every example policy in etc/policies and for the policies below, the
 * test runs the real binary ($PLUMWALL_BUILD/plumwall, default
 * build/plumwall), rebuilds a policy from its JSON output (JSON is YAML flow
 * syntax, so the rebuilt policy is written as JSON), loads both policies
 * with policy_load() and compares the two models field by field. Then
 * `show --json` of the rebuilt policy must print the same document as the
 * original, apart from the file names (and the locations of warnings, which
 * point into different files).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/policy.h"
#include "fixtures.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- environment ----------------------------------------------------------- */

static const char *build_dir(void)
{
	return fixture_env_or("PLUMWALL_BUILD", "build");
}

/* A private directory for the test's files, removed with its files. */
struct tmpdir {
	char path[256];
	char *files[8];
	int n_files;
};

static void tmpdir_make(struct tmpdir *d)
{
	snprintf(d->path, sizeof(d->path), "%s/plumwall-show.XXXXXX",
		 fixture_env_or("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(d->path));
	d->n_files = 0;
}

/* Write @text to @name in @d; returns the file's path. */
static const char *tmpdir_write(struct tmpdir *d, const char *name,
				const char *text)
{
	char *path;
	FILE *f;

	ck_assert_int_lt(d->n_files, (int)ARRAY_SIZE(d->files));
	ck_assert_int_gt(asprintf(&path, "%s/%s", d->path, name), 0);
	d->files[d->n_files++] = path;
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void tmpdir_remove(struct tmpdir *d)
{
	int i;

	for (i = 0; i < d->n_files; i++) {
		unlink(d->files[i]);
		free(d->files[i]);
	}
	ck_assert_int_eq(rmdir(d->path), 0);
}

/* ---- running plumwall ------------------------------------------------------ */

/* stdout of `plumwall show --json PATH`, which must exit 0 and print one
 * line holding one JSON object. */
static json_t *show_json(const char *path)
{
	char cmd[1024], buf[4096];
	char *out = NULL;
	size_t len = 0, n;
	json_error_t error;
	json_t *doc;
	FILE *mem, *p;
	int status;

	ck_assert_msg(!strchr(path, '\'') && !strchr(build_dir(), '\''),
		      "quote in path");
	snprintf(cmd, sizeof(cmd), "'%s/plumwall' show --json '%s'",
		 build_dir(), path);
	mem = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(mem);
	p = popen(cmd, "r");
	ck_assert_msg(p != NULL, "%s: %s", cmd, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, mem);
	status = pclose(p);
	ck_assert_int_eq(fclose(mem), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: status %#x", cmd, status);
	ck_assert_msg(len > 0 && out[len - 1] == '\n' &&
			      strchr(out, '\n') == out + len - 1,
		      "%s: not one line:\n%s", cmd, out);
	doc = json_loads(out, 0, &error);
	ck_assert_msg(doc != NULL, "%s: bad JSON at %d: %s", cmd,
		      error.position, error.text);
	ck_assert(json_is_object(doc));
	free(out);
	return doc;
}

/* ---- rebuilding a policy from the document --------------------------------- */

static const json_t *get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	ck_assert_msg(v != NULL, "show --json: no key '%s'", key);
	return v;
}

/* Copy @key of @from into @to; nulls (meaning "not narrowed") and, with
 * @skip_empty, empty arrays and objects are left out, as a policy omits
 * them. */
static void copy(json_t *to, const json_t *from, const char *key,
		 bool skip_empty)
{
	const json_t *v = get(from, key);

	if (json_is_null(v))
		return;
	if (skip_empty && json_is_array(v) && !json_array_size(v))
		return;
	if (skip_empty && json_is_object(v) && !json_object_size(v))
		return;
	ck_assert_int_eq(json_object_set(to, key, (json_t *)v), 0);
}

static json_t *policy_rule(const json_t *rule)
{
	static const char *const keys[] = { "name",  "from", "to",     "proto",
					    "ports", "icmp", "action", "log" };
	json_t *obj = json_object();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		copy(obj, rule, keys[i], false);
	return obj;
}

/* The rules of @tenant's evaluation list with scope @scope. */
static json_t *policy_rules(const json_t *tenant, const char *scope)
{
	json_t *arr = json_array();
	const json_t *rule;
	size_t i;

	json_array_foreach(get(tenant, "rules"), i, rule) {
		const char *s = json_string_value(get(rule, "scope"));

		ck_assert_ptr_nonnull(s);
		if (!strcmp(s, scope))
			json_array_append_new(arr, policy_rule(rule));
	}
	return arr;
}

static json_t *rebuild(const json_t *doc)
{
	static const char *const tenant_keys[] = {
		"name",	       "id",   "interfaces", "vlans",	 "default",
		"log_default", "mode", "flow_logs",  "segments",
	};
	const json_t *tenants = get(doc, "tenants"), *t;
	json_t *pol = json_object(), *arr, *obj, *global;
	size_t i, k;

	json_object_set_new(pol, "version", json_integer(1));
	copy(pol, doc, "settings", false);
	copy(pol, doc, "segments", true);
	/* Global rules lead every tenant's evaluation list, the same in each
	 * (policy.md 7.3); the first tenant's give the global list. */
	ck_assert_uint_gt(json_array_size(tenants), 0);
	global = policy_rules(json_array_get(tenants, 0), "global");
	arr = json_array();
	json_array_foreach(tenants, i, t) {
		json_t *g = policy_rules(t, "global");

		ck_assert(json_equal(g, global));
		json_decref(g);
		obj = json_object();
		for (k = 0; k < ARRAY_SIZE(tenant_keys); k++)
			copy(obj, t, tenant_keys[k], true);
		json_object_set_new(obj, "rules", policy_rules(t, "tenant"));
		json_array_append_new(arr, obj);
	}
	if (json_array_size(global))
		json_object_set(pol, "rules", global);
	json_decref(global);
	json_object_set_new(pol, "tenants", arr);
	return pol;
}

/* ---- comparing models ------------------------------------------------------ */

static void prefix_eq(const struct pw_prefix *a, const struct pw_prefix *b,
		      const char *what)
{
	char sa[PW_PREFIX_STRLEN], sb[PW_PREFIX_STRLEN];

	ck_assert_msg(!pw_prefix_cmp(a, b), "%s: %s != %s", what,
		      pw_prefix_str(a, false, sa, sizeof(sa)),
		      pw_prefix_str(b, false, sb, sizeof(sb)));
}

static void settings_eq(const struct policy_settings *a,
			const struct policy_settings *b)
{
	int i;

	ck_assert_int_eq(a->unmatched, b->unmatched);
	ck_assert_int_eq(a->non_ip, b->non_ip);
	ck_assert_uint_eq(a->log_rate, b->log_rate);
	ck_assert_uint_eq(a->ct_max_entries, b->ct_max_entries);
	for (i = 0; i < POLICY_TIMEOUT_COUNT; i++)
		ck_assert_msg(a->timeouts[i] == b->timeouts[i],
			      "timeout %s: %u != %u", policy_timeout_name(i),
			      a->timeouts[i], b->timeouts[i]);
}

static void segments_eq(const struct policy_segment *a, uint32_t n_a,
			const struct policy_segment *b, uint32_t n_b)
{
	uint32_t i, j;

	ck_assert_uint_eq(n_a, n_b);
	for (i = 0; i < n_a; i++) {
		ck_assert_str_eq(a[i].name, b[i].name);
		ck_assert_int_eq(a[i].tenant, b[i].tenant);
		ck_assert_uint_eq(a[i].order, b[i].order);
		ck_assert_msg(a[i].n_prefixes == b[i].n_prefixes,
			      "segment %s: %u != %u prefixes", a[i].name,
			      a[i].n_prefixes, b[i].n_prefixes);
		for (j = 0; j < a[i].n_prefixes; j++)
			prefix_eq(&a[i].prefixes[j], &b[i].prefixes[j],
				  a[i].name);
	}
}

static void selectors_eq(const struct policy_selector *a, uint32_t n_a,
			 const struct policy_selector *b, uint32_t n_b,
			 const char *rule)
{
	uint32_t i;

	ck_assert_msg(n_a == n_b, "rule %s: %u != %u selectors", rule, n_a,
		      n_b);
	for (i = 0; i < n_a; i++) {
		ck_assert_msg(a[i].kind == b[i].kind, "rule %s: selector %u",
			      rule, i);
		switch (a[i].kind) {
		case POLICY_SEL_SEGMENT:
			ck_assert_str_eq(a[i].segment->name,
					 b[i].segment->name);
			ck_assert_int_eq(a[i].segment->tenant,
					 b[i].segment->tenant);
			break;
		case POLICY_SEL_PREFIX:
			prefix_eq(&a[i].prefix, &b[i].prefix, rule);
			break;
		case POLICY_SEL_ANY:
		case POLICY_SEL_EXTERNAL:
			break;
		}
	}
}

static void rules_eq(const struct policy_rule *a, uint32_t n_a,
		     const struct policy_rule *b, uint32_t n_b)
{
	uint32_t i, j;

	ck_assert_uint_eq(n_a, n_b);
	for (i = 0; i < n_a; i++) {
		ck_assert_str_eq(a[i].name, b[i].name);
		ck_assert_int_eq(a[i].tenant, b[i].tenant);
		ck_assert_uint_eq(a[i].index, b[i].index);
		ck_assert_uint_eq(a[i].id, b[i].id);
		selectors_eq(a[i].from, a[i].n_from, b[i].from, b[i].n_from,
			     a[i].name);
		selectors_eq(a[i].to, a[i].n_to, b[i].to, b[i].n_to, a[i].name);
		ck_assert_msg(a[i].proto == b[i].proto,
			      "rule %s: proto %d != %d", a[i].name, a[i].proto,
			      b[i].proto);
		ck_assert_uint_eq(a[i].n_ports, b[i].n_ports);
		for (j = 0; j < a[i].n_ports; j++) {
			ck_assert_uint_eq(a[i].ports[j].lo, b[i].ports[j].lo);
			ck_assert_uint_eq(a[i].ports[j].hi, b[i].ports[j].hi);
		}
		ck_assert_uint_eq(a[i].n_icmp, b[i].n_icmp);
		for (j = 0; j < a[i].n_icmp; j++)
			ck_assert_uint_eq(a[i].icmp[j].type, b[i].icmp[j].type);
		ck_assert_int_eq(a[i].action, b[i].action);
		ck_assert_int_eq(a[i].log, b[i].log);
	}
}

static void tenants_eq(const struct policy_tenant *a, uint32_t n_a,
		       const struct policy_tenant *b, uint32_t n_b)
{
	uint32_t i, j;

	ck_assert_uint_eq(n_a, n_b);
	for (i = 0; i < n_a; i++) {
		ck_assert_str_eq(a[i].name, b[i].name);
		ck_assert_uint_eq(a[i].id, b[i].id);
		ck_assert_uint_eq(a[i].n_interfaces, b[i].n_interfaces);
		for (j = 0; j < a[i].n_interfaces; j++)
			ck_assert_str_eq(a[i].interfaces[j].name,
					 b[i].interfaces[j].name);
		ck_assert_uint_eq(a[i].n_vlans, b[i].n_vlans);
		for (j = 0; j < a[i].n_vlans; j++)
			ck_assert_uint_eq(a[i].vlans[j].id, b[i].vlans[j].id);
		ck_assert_int_eq(a[i].default_action, b[i].default_action);
		ck_assert_int_eq(a[i].log_default, b[i].log_default);
		ck_assert_int_eq(a[i].mode, b[i].mode);
		ck_assert_int_eq(a[i].flow_logs, b[i].flow_logs);
		segments_eq(a[i].segments, a[i].n_segments, b[i].segments,
			    b[i].n_segments);
		rules_eq(a[i].rules, a[i].n_rules, b[i].rules, b[i].n_rules);
	}
}

static void policies_eq(const struct policy *a, const struct policy *b)
{
	settings_eq(&a->settings, &b->settings);
	segments_eq(a->segments, a->n_segments, b->segments, b->n_segments);
	rules_eq(a->rules, a->n_rules, b->rules, b->n_rules);
	tenants_eq(a->tenants, a->n_tenants, b->tenants, b->n_tenants);
	ck_assert_uint_eq(a->n_rules_total, b->n_rules_total);
}

/* ---- comparing documents --------------------------------------------------- */

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * @doc as compact JSON (keys in document order) without what depends on
 * the files: the policy's path and files, and the warnings' locations (the
 * warnings become their sorted messages, as locations also decide their
 * order).
 */
static char *doc_text(const json_t *doc)
{
	json_t *copy = json_deep_copy(doc), *policy, *warnings, *w;
	const char **msgs;
	size_t i, n;
	char *text;

	ck_assert_ptr_nonnull(copy);
	policy = json_object_get(copy, "policy");
	ck_assert_int_eq(json_object_del(policy, "path"), 0);
	ck_assert_int_eq(json_object_del(policy, "files"), 0);
	warnings = json_object_get(policy, "warnings");
	n = json_array_size(warnings);
	msgs = calloc(n + 1, sizeof(*msgs));
	ck_assert_ptr_nonnull(msgs);
	json_array_foreach(warnings, i, w)
		msgs[i] = json_string_value(json_object_get(w, "message"));
	qsort(msgs, n, sizeof(*msgs), cmp_strings);
	w = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(w, json_string(msgs[i]));
	free(msgs);
	json_object_set_new(policy, "warnings", w);
	text = json_dumps(copy, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	json_decref(copy);
	return text;
}

/* Keys of @obj in order, joined by ','. */
static void keys_eq(const json_t *obj, const char *expected)
{
	char buf[512] = "";
	const char *key;
	json_t *v;
	size_t len = 0;

	json_object_foreach((json_t *)obj, key, v)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
				len ? "," : "", key);
	ck_assert_str_eq(buf, expected);
}

/* ---- the round trip -------------------------------------------------------- */

/*
 * Show @path, rebuild a policy from the document alone, and check that the
 * rebuilt policy is the same: same model, same document. Returns the
 * original document for further checks.
 */
static json_t *round_trip(const char *path)
{
	struct policy *orig, *again;
	json_t *doc, *doc2, *pol;
	char *text, *t1, *t2;
	struct tmpdir d;
	const char *rebuilt;
	const json_t *t;
	size_t i;

	doc = show_json(path);
	keys_eq(doc, "policy,settings,segments,tenants,map_sizes");
	json_array_foreach(get(doc, "tenants"), i, t)
		keys_eq(t, "name,id,interfaces,vlans,default,log_default,mode,"
			   "flow_logs,segments,classes,rules");

	pol = rebuild(doc);
	text = json_dumps(pol, JSON_INDENT(2));
	ck_assert_ptr_nonnull(text);
	json_decref(pol);
	tmpdir_make(&d);
	rebuilt = tmpdir_write(&d, "rebuilt.yaml", text);

	orig = fixture_load_path_ok(path);
	again = fixture_load_path_ok(rebuilt);
	policies_eq(orig, again);
	policy_free(again);
	policy_free(orig);

	doc2 = show_json(rebuilt);
	t1 = doc_text(doc);
	t2 = doc_text(doc2);
	ck_assert_msg(
		!strcmp(t1, t2),
		"%s: show differs after the round trip:\n%s\n%s\nrebuilt:\n%s",
		path, t1, t2, text);
	free(t1);
	free(t2);
	json_decref(doc2);
	free(text);
	tmpdir_remove(&d);
	return doc;
}

/* ---- policies -------------------------------------------------------------- */

struct case_policy {
	const char *name;
	const char *yaml;
};

static const struct case_policy policies[] = {
	{
		"everything",
		"version: 1\n"
		"settings:\n"
		"  unmatched: allow\n"
		"  non_ip: deny\n"
		"  log_rate: 0\n"
		"  conntrack:\n"
		"    max_entries: 1024\n"
		"    timeouts:\n"
		"      tcp_syn: 5\n"
		"      tcp_established: 2419200\n"
		"      tcp_closing: 1\n"
		"      udp: 17\n"
		"      icmp: 9\n"
		"      other: 120\n"
		"segments:\n"
		"  resolvers: [192.0.2.53, \"2001:db8:53::53\"]\n"
		"  mgmt: [198.51.100.0/24, \"2001:db8:ffff::/48\"]\n"
		"rules:\n"
		"  - name: g.dns\n"
		"    from: any\n"
		"    to: resolvers\n"
		"    proto: udp\n"
		"    ports: [53]\n"
		"    action: allow\n"
		"  - name: G_mgmt-ssh\n"
		"    from: mgmt\n"
		"    to: [any]\n"
		"    proto: 6\n"
		"    ports: [22, \"2200-2299\", 0, \"65535\"]\n"
		"    action: allow\n"
		"    log: true\n"
		"  - name: bogons\n"
		"    from: [203.0.113.0/24, \"2001:db8:dead::/48\", 192.0.2.77]\n"
		"    to: any\n"
		"    action: deny\n"
		"    log: true\n"
		"  - name: gre-out\n"
		"    from: external\n"
		"    to: [192.0.2.1, \"2001:db8::1\"]\n"
		"    proto: 47\n"
		"    action: allow\n"
		"tenants:\n"
		"  - name: alpha\n"
		"    interfaces: [eth0, eth1]\n"
		"    default: allow\n"
		"    log_default: true\n"
		"    flow_logs: true\n"
		"    segments:\n"
		"      hosts: [10.0.0.0/8, \"fd00::/8\"]\n"
		"      printer: [10.9.9.9]\n"
		"    rules:\n"
		"      - name: ping\n"
		"        from: hosts\n"
		"        to: [printer, \"fd00::1\", 10.1.0.0/16]\n"
		"        proto: icmp\n"
		"        icmp: [echo-request, 3, 13, 42]\n"
		"        action: allow\n"
		"      - name: ping6\n"
		"        from: hosts\n"
		"        to: any\n"
		"        proto: icmpv6\n"
		"        icmp: [128, packet-too-big, neighbor-solicitation, 200]\n"
		"        action: allow\n"
		"      - name: udp-out\n"
		"        from: hosts\n"
		"        to: external\n"
		"        proto: udp\n"
		"        ports: [\"0-65535\"]\n"
		"        action: reject\n"
		"        log: false\n"
		"  - name: beta\n"
		"    id: 7\n"
		"    interfaces: [eth0]\n"
		"    vlans: [10, 4094, 1]\n"
		"    default: reject\n"
		"    log_default: false\n"
		"    mode: audit\n"
		"    segments:\n"
		"      app: [\"2001:db8:a::/64\"]\n"
		"    rules:\n"
		"      - name: app-in\n"
		"        from: external\n"
		"        to: app\n"
		"        proto: tcp\n"
		"        ports: [443, \"8000-8100\"]\n"
		"        action: allow\n"
		"      - name: any-any\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: any\n"
		"        action: allow\n",
	},
	{
		"minimal",
		"version: 1\n"
		"tenants:\n"
		"  - name: only\n"
		"    interfaces: [lo0]\n",
	},
	{
		"protocol-numbers-and-ids",
		"version: 1\n"
		"settings:\n"
		"  log_rate: 1000000\n"
		"  conntrack:\n"
		"    max_entries: 16777216\n"
		"    timeouts:\n"
		"      udp: 1\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [a0]\n"
		"    default: deny\n"
		"    log_default: false\n"
		"    segments:\n"
		"      net: [172.16.0.0/12]\n"
		"    rules:\n"
		"      - name: hopopt\n"
		"        from: net\n"
		"        to: net\n"
		"        proto: 0\n"
		"        action: allow\n"
		"      - name: p255\n"
		"        from: net\n"
		"        to: 0.0.0.0/0\n"
		"        proto: 255\n"
		"        action: deny\n"
		"      - name: udp-by-number\n"
		"        from: net\n"
		"        to: external\n"
		"        proto: 17\n"
		"        ports: [\"1000-2000\", 53]\n"
		"        action: allow\n"
		"      - name: icmp-by-number\n"
		"        from: net\n"
		"        to: external\n"
		"        proto: 1\n"
		"        icmp: [0, 8, 11, 255]\n"
		"        action: allow\n"
		"      - name: icmpv6-by-number\n"
		"        from: \"::/0\"\n"
		"        to: \"fe80::/10\"\n"
		"        proto: 58\n"
		"        icmp: [135, 136, echo-reply]\n"
		"        action: allow\n"
		"  - name: b\n"
		"    id: 1\n"
		"    interfaces: [b0]\n"
		"    default: allow\n"
		"  - name: c\n"
		"    interfaces: [b0]\n"
		"    vlans: [2]\n"
		"    default: deny\n"
		"    mode: enforce\n"
		"    flow_logs: false\n",
	},
	{
		"anchors",
		"version: 1\n"
		"segments:\n"
		"  shared: &shared [10.255.0.0/16]\n"
		"tenants:\n"
		"  - name: one\n"
		"    interfaces: &ifs [t0, t1]\n"
		"    vlans: [5]\n"
		"    segments:\n"
		"      mine: *shared\n"
		"    rules:\n"
		"      - &base\n"
		"        name: base\n"
		"        from: mine\n"
		"        to: shared\n"
		"        proto: tcp\n"
		"        ports: [22]\n"
		"        action: allow\n"
		"      - <<: *base\n"
		"        name: derived\n"
		"        ports: [23]\n"
		"        log: true\n"
		"  - name: two\n"
		"    interfaces: *ifs\n"
		"    vlans: [6]\n"
		"    segments:\n"
		"      mine: [10.0.0.1, \"::1\"]\n"
		"    rules:\n"
		"      - name: out\n"
		"        from: mine\n"
		"        to: [shared, external]\n"
		"        action: reject\n",
	},
};

static void round_trip_and_free(const char *path)
{
	json_decref(round_trip(path));
}

START_TEST(test_round_trip_examples)
{
	fixture_for_each_example(round_trip_and_free);
}
END_TEST

START_TEST(test_round_trip_policy)
{
	const struct case_policy *c = &policies[_i];
	struct tmpdir d;
	const char *path;
	char name[128];

	tmpdir_make(&d);
	snprintf(name, sizeof(name), "%s.yaml", c->name);
	path = tmpdir_write(&d, name, c->yaml);
	json_decref(round_trip(path));
	tmpdir_remove(&d);
}
END_TEST

/* A directory policy: segments united, settings and global rules in one
 * file, tenants concatenated. */
START_TEST(test_round_trip_directory)
{
	struct tmpdir d;
	json_t *doc;

	tmpdir_make(&d);
	tmpdir_write(&d, "10-global.yaml",
		     "version: 1\n"
		     "settings:\n"
		     "  unmatched: allow\n"
		     "segments:\n"
		     "  dns: [10.0.0.53]\n"
		     "rules:\n"
		     "  - name: dns\n"
		     "    from: any\n"
		     "    to: dns\n"
		     "    proto: udp\n"
		     "    ports: [53]\n"
		     "    action: allow\n");
	tmpdir_write(&d, "20-red.yaml",
		     "version: 1\n"
		     "segments:\n"
		     "  ntp: [10.0.0.123]\n"
		     "tenants:\n"
		     "  - name: red\n"
		     "    interfaces: [r0]\n"
		     "    segments:\n"
		     "      web: [10.1.0.0/24]\n"
		     "    rules:\n"
		     "      - name: ntp\n"
		     "        from: web\n"
		     "        to: ntp\n"
		     "        proto: udp\n"
		     "        ports: [123]\n"
		     "        action: allow\n");
	tmpdir_write(&d, "30-blue.yml",
		     "version: 1\n"
		     "tenants:\n"
		     "  - name: blue\n"
		     "    interfaces: [b0]\n"
		     "    default: allow\n");
	doc = round_trip(d.path);
	ck_assert_uint_eq(json_array_size(get(get(doc, "policy"), "files")), 3);
	ck_assert_uint_eq(json_object_size(get(doc, "segments")), 2);
	json_decref(doc);
	tmpdir_remove(&d);
}
END_TEST

/* ---- the document against the known content of the examples ---------------- */

static const json_t *tenant_named(const json_t *doc, const char *name)
{
	const json_t *t;
	size_t i;

	json_array_foreach(get(doc, "tenants"), i, t)
		if (!strcmp(json_string_value(get(t, "name")), name))
			return t;
	ck_abort_msg("no tenant %s", name);
	return NULL;
}

static json_int_t integer(const json_t *obj, const char *key)
{
	const json_t *v = get(obj, key);

	ck_assert_msg(json_is_integer(v), "'%s' is not an integer", key);
	return json_integer_value(v);
}

/* @arr is the array of strings @expected (NULL-terminated). */
static void strings_eq(const json_t *arr, const char *const *expected)
{
	size_t i;

	for (i = 0; expected[i]; i++)
		ck_assert_str_eq(json_string_value(json_array_get(arr, i)),
				 expected[i]);
	ck_assert_uint_eq(json_array_size(arr), i);
}

/* Sizes that the document states twice must agree: map_sizes against the
 * tenants' classes, LPM entries and rules. */
static void map_sizes_agree(const json_t *doc)
{
	const json_t *sizes = get(doc, "map_sizes"), *t, *r, *c;
	json_int_t classes = 0, lpm = 0, rules = 0;
	size_t i, j;

	json_array_foreach(get(doc, "tenants"), i, t) {
		classes += json_array_size(get(t, "classes"));
		json_array_foreach(get(t, "classes"), j, c)
			lpm += json_array_size(get(c, "lpm"));
		json_array_foreach(get(t, "rules"), j, r)
			if (!strcmp(json_string_value(get(r, "scope")),
				    "tenant") ||
			    i == 0)
				rules++;
	}
	ck_assert_int_eq(integer(sizes, "address_classes"), classes);
	ck_assert_int_eq(integer(sizes, "lpm_entries"), lpm);
	ck_assert_int_eq(integer(sizes, "rules"), rules);
}

START_TEST(test_example_three_tier)
{
	static const char *const dns[] = { "10.0.0.53", "10.0.1.53",
					   "2001:db8:0:53::53", NULL };
	static const char *const admin[] = { "10.99.0.10", "10.99.0.11", NULL };
	static const char *const lb[] = { "10.20.0.0/28", "2001:db8:20::/64",
					  NULL };
	char *path = fixture_example_path("three-tier.yaml");
	const json_t *t, *segs;
	json_t *doc = show_json(path);

	map_sizes_agree(doc);
	ck_assert_int_eq(integer(get(doc, "map_sizes"), "rules"), 12);
	ck_assert_int_eq(integer(get(doc, "settings"), "log_rate"), 50);
	segs = get(doc, "segments");
	keys_eq(segs, "dns,ntp");
	strings_eq(get(segs, "dns"), dns);
	ck_assert_uint_eq(json_array_size(get(doc, "tenants")), 1);
	t = tenant_named(doc, "webshop");
	ck_assert_int_eq(integer(t, "id"), 10);
	segs = get(t, "segments");
	keys_eq(segs, "lb,web,app,db,admin");
	strings_eq(get(segs, "admin"), admin);
	strings_eq(get(segs, "lb"), lb);
	/* Three global rules, then the tenant's nine. */
	ck_assert_uint_eq(json_array_size(get(t, "rules")), 12);
	json_decref(doc);
	free(path);
}
END_TEST

START_TEST(test_example_vlan_tenants)
{
	static const char *const ops[] = { "10.0.1.250", NULL };
	char *path = fixture_example_path("vlan-tenants.yaml");
	const json_t *red, *blue;
	json_t *doc = show_json(path);

	map_sizes_agree(doc);
	ck_assert_int_eq(integer(get(doc, "map_sizes"), "rules"), 7);
	ck_assert_int_eq(integer(get(doc, "map_sizes"), "tenant_keys"), 6);
	ck_assert_int_eq(integer(get(doc, "map_sizes"), "interfaces"), 2);
	ck_assert_uint_eq(json_object_size(get(doc, "segments")), 0);
	red = tenant_named(doc, "red");
	blue = tenant_named(doc, "blue");
	ck_assert_str_eq(json_string_value(get(blue, "default")), "reject");
	ck_assert_uint_eq(json_array_size(get(red, "vlans")), 2);
	keys_eq(get(red, "segments"), "web,db,office");
	keys_eq(get(blue, "segments"), "web,db,ops");
	strings_eq(get(get(blue, "segments"), "ops"), ops);
	/* Both defaults and one class per segment; in blue, ops is a class
	 * of its own inside db. */
	ck_assert_uint_eq(json_array_size(get(red, "classes")), 5);
	ck_assert_uint_eq(json_array_size(get(blue, "classes")), 5);
	json_decref(doc);
	free(path);
}
END_TEST

START_TEST(test_example_shared_services)
{
	static const char *const dns[] = { "172.16.0.53", "172.16.0.54",
					   "fd00:172:16::53", NULL };
	char *path = fixture_example_path("shared-services.yaml");
	const json_t *t, *ct;
	json_t *doc = show_json(path);

	map_sizes_agree(doc);
	ck_assert_int_eq(integer(get(doc, "map_sizes"), "rules"), 13);
	ct = get(get(doc, "settings"), "conntrack");
	ck_assert_int_eq(integer(ct, "max_entries"), 524288);
	ck_assert_int_eq(integer(get(ct, "timeouts"), "tcp_established"), 3600);
	keys_eq(get(doc, "segments"), "dns,ntp,monitoring,log-collectors");
	strings_eq(get(get(doc, "segments"), "dns"), dns);
	t = tenant_named(doc, "analytics");
	ck_assert_str_eq(json_string_value(get(t, "mode")), "audit");
	t = tenant_named(doc, "shop");
	ck_assert(json_is_true(get(t, "flow_logs")));
	keys_eq(get(t, "segments"), "web,db");
	json_decref(doc);
	free(path);
}
END_TEST

static Suite *show_suite(void)
{
	Suite *s = suite_create("show");
	TCase *tc;

	/* Each case runs the binary a few times. */
	tc = tcase_create("round_trip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip_examples);
	tcase_add_loop_test(tc, test_round_trip_policy, 0,
			    ARRAY_SIZE(policies));
	tcase_add_test(tc, test_round_trip_directory);
	suite_add_tcase(s, tc);

	tc = tcase_create("examples");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_example_three_tier);
	tcase_add_test(tc, test_example_vlan_tenants);
	tcase_add_test(tc, test_example_shared_services);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * Every test's temporary directory lives under one root made here, in the
 * parent process: a failing check ends its forked test before the test's
 * own cleanup, but the parent survives and removes the whole root.
 */
int main(void)
{
	char root[256];
	int ret;

	snprintf(root, sizeof(root), "%s/plumwall-show-tests.XXXXXX",
		 fixture_env_or("TMPDIR", "/tmp"));
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	setenv("TMPDIR", root, 1);
	ret = fixture_run_suite(show_suite());
	fixture_remove_tree(root);
	return ret;
}
