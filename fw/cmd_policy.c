// SPDX-License-Identifier: GPL-2.0
/*
 * Policy tools: `plumwall check POLICY` and `plumwall show POLICY [--json]`
 * (cli.md). Neither needs privileges nor touches the system.
 *
 * `show` describes the compiled policy once, as a JSON document; the text
 * output is rendered from that same document (see output.h), so both
 * formats always carry the same facts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "fw.h"
#include "output.h"

/*
 * The compiler, with its refusal as errors at the rules that cost the
 * most, so check, show, apply and plumwalld say the same.
 */
static int fw_policy_compile(const char *prog, struct fw_policy_ctx *ctx)
{
	struct policy_compile_opts o = { .diags = &ctx->diags };
	const char *env = getenv("PLUMWALL_MAX_DECISIONS");
	struct pw_loc loc = { 0 };
	size_t errors = ctx->diags.n_errors;
	unsigned long long v;
	char *end;
	int ret;

	/* A lower limit, for a tighter bound on kernel memory (and tests). */
	if (env) {
		errno = 0;
		v = strtoull(env, &end, 10);
		if (errno || end == env || *end || !v ||
		    v > POLICY_COMPILE_MAX_DECISIONS)
			fprintf(stderr,
				"%s: warning: PLUMWALL_MAX_DECISIONS must be a number from 1 to %u, not '%s'; ignored\n",
				prog, POLICY_COMPILE_MAX_DECISIONS, env);
		else
			o.max_decisions = v;
	}

	ret = policy_compile_opts(ctx->an, 0, &o, &ctx->compiled);
	if (ret == -E2BIG && ctx->diags.n_errors == errors) {
		/* A map other than pw_decision: no rule to blame. */
		loc.file = ctx->pol->n_files ? ctx->pol->files[0] :
					       ctx->pol->path;
		pw_error(
			&ctx->diags, &loc,
			"the compiled policy needs more entries than a datapath map can hold");
	}
	return ret;
}

int fw_policy_read(const char *prog, const char *path, const char *buf,
		   size_t len, unsigned int flags, struct fw_policy_ctx *ctx)
{
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	pw_diags_init(&ctx->diags);
	if (buf)
		ret = policy_load_buffer(path, buf, len, &ctx->diags,
					 &ctx->pol);
	else
		ret = policy_load(path, &ctx->diags, &ctx->pol);
	if (ret)
		goto out;
	ret = policy_analyze(ctx->pol, &ctx->an);
	if (ret)
		goto out;
	ret = policy_warn(ctx->an, &ctx->diags);
	if (!ret && (flags & FW_POLICY_COMPILE))
		ret = fw_policy_compile(prog, ctx);
out:
	pw_diags_sort(&ctx->diags);
	if (!(flags & FW_POLICY_QUIET))
		pw_diags_print(&ctx->diags, stderr);
	if (!ret && ctx->diags.n_errors)
		ret = -EINVAL;
	/* Failures that are not the policy's fault (out of memory in the
	 * analysis) have no diagnostic of their own. */
	if (ret && !ctx->diags.n_errors)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-ret));
	return ret;
}

int fw_policy_open(const char *prog, const char *path,
		   struct fw_policy_ctx *ctx)
{
	return fw_policy_read(prog, path, NULL, 0, 0, ctx);
}

void fw_policy_close(struct fw_policy_ctx *ctx)
{
	policy_compiled_free(ctx->compiled);
	if (ctx->an)
		policy_analysis_free(ctx->an);
	if (ctx->pol)
		policy_free(ctx->pol);
	pw_diags_free(&ctx->diags);
}

static const struct option fw_check_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

static const struct option fw_show_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parse a policy tool's options (@opts: -h, and --json which sets *@json),
 * then exactly one POLICY argument. Returns FW_EXIT_OK with *@path set,
 * -1 when --help was shown, or the exit status of a usage error.
 */
static int fw_policy_args(int argc, char **argv, const struct option *opts,
			  void (*usage)(FILE *out), bool *json,
			  const char **path)
{
	const char *prog = argv[0];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return -1;
		case 'j':
			*json = true;
			break;
		default:
			return fw_usage_hint(prog);
		}
	}
	if (optind >= argc)
		return fw_usage_error(prog, "missing POLICY");
	if (argc - optind > 1)
		return fw_usage_error(prog, "unexpected argument '%s'",
				      argv[optind + 1]);
	*path = argv[optind];
	return FW_EXIT_OK;
}

/* ------------------------------------------------------- show: document */

/*
 * Builders of the show document. Allocation failures are sticky in *err:
 * once set, values handed in are released instead of inserted, so a
 * builder never has to unwind and nothing leaks (jansson's *_new setters
 * also release the value when they fail).
 */
static void fw_jset(json_t *obj, const char *key, json_t *value, int *err)
{
	if (*err || !obj) {
		json_decref(value);
		*err = *err ? *err : -ENOMEM;
		return;
	}
	if (json_object_set_new(obj, key, value))
		*err = -ENOMEM;
}

static void fw_jappend(json_t *arr, json_t *value, int *err)
{
	if (*err || !arr) {
		json_decref(value);
		*err = *err ? *err : -ENOMEM;
		return;
	}
	if (json_array_append_new(arr, value))
		*err = -ENOMEM;
}

static json_t *fw_jint(uint64_t value)
{
	return json_integer((json_int_t)value);
}

/* Selectors and rule literals keep the bare address a user would write;
 * LPM entries are keys and always show their length. */
static json_t *fw_jprefix(const struct pw_prefix *prefix, bool bare_host)
{
	char buf[PW_PREFIX_STRLEN];

	return json_string(pw_prefix_str(prefix, bare_host, buf, sizeof(buf)));
}

static json_t *fw_jfamily(uint8_t family)
{
	return json_string(family == PW_AF_INET6 ? "ipv6" : "ipv4");
}

static json_t *fw_jselectors(const struct policy_selector *sel, uint32_t n,
			     int *err)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; i < n; i++) {
		switch (sel[i].kind) {
		case POLICY_SEL_SEGMENT:
			fw_jappend(arr, json_string(sel[i].segment->name), err);
			break;
		case POLICY_SEL_PREFIX:
			fw_jappend(arr, fw_jprefix(&sel[i].prefix, true), err);
			break;
		case POLICY_SEL_ANY:
			fw_jappend(arr, json_string("any"), err);
			break;
		case POLICY_SEL_EXTERNAL:
			fw_jappend(arr, json_string("external"), err);
			break;
		}
	}
	return arr;
}

/* Protocol by name where it has one, else its number. */
static json_t *fw_jproto(int proto)
{
	const char *name = policy_proto_name(proto);

	return name ? json_string(name) : json_integer(proto);
}

/* Ports as written in policies: "80", "8000-8100"; null: every port. */
static json_t *fw_jports(const struct policy_rule *rule, int *err)
{
	char buf[sizeof("65535-65535")];
	json_t *arr;
	uint32_t i;

	if (!rule->n_ports)
		return json_null();
	arr = json_array();
	for (i = 0; i < rule->n_ports; i++) {
		const struct policy_port_range *r = &rule->ports[i];

		if (r->lo == r->hi)
			snprintf(buf, sizeof(buf), "%u", r->lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", r->lo, r->hi);
		fw_jappend(arr, json_string(buf), err);
	}
	return arr;
}

/* ICMP types by name where policy.md names them, else by number; null:
 * every type. */
static json_t *fw_jicmp(const struct policy_rule *rule, int *err)
{
	const char *name;
	json_t *arr;
	uint32_t i;

	if (!rule->n_icmp)
		return json_null();
	arr = json_array();
	for (i = 0; i < rule->n_icmp; i++) {
		name = policy_icmp_type_name(rule->proto, rule->icmp[i].type);
		fw_jappend(arr,
			   name ? json_string(name) :
				  fw_jint(rule->icmp[i].type),
			   err);
	}
	return arr;
}

/*
 * Segment definitions, in definition order: name -> its prefixes as a
 * policy would write them (bare address for a single host), so that the
 * document describes the whole policy and a policy can be rebuilt from it.
 */
static json_t *fw_jsegments(const struct policy_segment *segs, uint32_t n,
			    int *err)
{
	json_t *obj = json_object();
	json_t *arr;
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		arr = json_array();
		for (j = 0; j < segs[i].n_prefixes; j++)
			fw_jappend(arr, fw_jprefix(&segs[i].prefixes[j], true),
				   err);
		fw_jset(obj, segs[i].name, arr, err);
	}
	return obj;
}

static json_t *fw_jclass_set(const struct policy_class_set *set, int *err)
{
	json_t *arr = json_array();
	uint64_t bits;
	uint32_t i;

	for (i = 0; i < set->n_words; i++)
		for (bits = set->bits[i]; bits; bits &= bits - 1)
			fw_jappend(arr,
				   fw_jint(set->word[i] * 64ULL +
					   (uint64_t)__builtin_ctzll(bits)),
				   err);
	return arr;
}

static json_t *fw_jrule(uint32_t pos, const struct policy_rule_view *rv,
			int *err)
{
	const struct policy_rule *rule = rv->rule;
	json_t *obj = json_object();

	fw_jset(obj, "position", fw_jint(pos), err);
	fw_jset(obj, "id", fw_jint(rule->id), err);
	fw_jset(obj, "scope",
		json_string(rule->tenant < 0 ? "global" : "tenant"), err);
	fw_jset(obj, "name", json_string(rule->name), err);
	fw_jset(obj, "from", fw_jselectors(rule->from, rule->n_from, err), err);
	fw_jset(obj, "to", fw_jselectors(rule->to, rule->n_to, err), err);
	fw_jset(obj, "proto", fw_jproto(rule->proto), err);
	fw_jset(obj, "ports", fw_jports(rule, err), err);
	fw_jset(obj, "icmp", fw_jicmp(rule, err), err);
	fw_jset(obj, "action", json_string(policy_action_name(rule->action)),
		err);
	fw_jset(obj, "log", json_boolean(rule->log), err);
	fw_jset(obj, "from_classes", fw_jclass_set(rv->src, err), err);
	fw_jset(obj, "to_classes", fw_jclass_set(rv->dst, err), err);
	return obj;
}

/* The class, with an empty "lpm" array that fw_jclasses() fills. */
static json_t *fw_jclass(const struct policy_addr_class *cls, int *err)
{
	json_t *obj = json_object();
	json_t *arr;
	uint32_t i;

	fw_jset(obj, "id", fw_jint(cls->id), err);
	fw_jset(obj, "family", fw_jfamily(cls->family), err);
	fw_jset(obj, "default", json_boolean(cls->is_default), err);
	fw_jset(obj, "external", json_boolean(cls->external), err);
	arr = json_array();
	for (i = 0; i < cls->n_segments; i++)
		fw_jappend(arr, json_string(cls->segments[i]->name), err);
	fw_jset(obj, "segments", arr, err);
	arr = json_array();
	for (i = 0; i < cls->n_literals; i++)
		fw_jappend(arr, fw_jprefix(&cls->literals[i], true), err);
	fw_jset(obj, "literals", arr, err);
	fw_jset(obj, "lpm", json_array(), err);
	return obj;
}

static json_t *fw_jclasses(const struct policy_tenant_view *tv, int *err)
{
	const struct policy_lpm_entry *e;
	json_t *arr = json_array();
	json_t *entry, *cls;
	uint32_t i;

	for (i = 0; i < tv->n_classes; i++)
		fw_jappend(arr, fw_jclass(&tv->classes[i], err), err);
	/* One pass over the LPM table, already in prefix order. */
	for (i = 0; i < tv->n_lpm && !*err; i++) {
		e = &tv->lpm[i];
		cls = json_array_get(arr, e->class_id);
		entry = json_object();
		fw_jset(entry, "prefix", fw_jprefix(&e->prefix, false), err);
		fw_jset(entry, "segment",
			e->segment ? json_string(e->segment->name) :
				     json_null(),
			err);
		fw_jappend(json_object_get(cls, "lpm"), entry, err);
	}
	return arr;
}

static json_t *fw_jtenant(const struct policy_tenant_view *tv, int *err)
{
	const struct policy_tenant *t = tv->tenant;
	json_t *obj = json_object();
	json_t *arr;
	uint32_t i;

	fw_jset(obj, "name", json_string(t->name), err);
	fw_jset(obj, "id", fw_jint(t->id), err);
	arr = json_array();
	for (i = 0; i < t->n_interfaces; i++)
		fw_jappend(arr, json_string(t->interfaces[i].name), err);
	fw_jset(obj, "interfaces", arr, err);
	/* Empty: the tenant owns the untagged traffic (policy.md 3). */
	arr = json_array();
	for (i = 0; i < t->n_vlans; i++)
		fw_jappend(arr, fw_jint(t->vlans[i].id), err);
	fw_jset(obj, "vlans", arr, err);
	fw_jset(obj, "default",
		json_string(policy_action_name(t->default_action)), err);
	fw_jset(obj, "log_default", json_boolean(t->log_default), err);
	fw_jset(obj, "mode", json_string(policy_mode_name(t->mode)), err);
	fw_jset(obj, "flow_logs", json_boolean(t->flow_logs), err);
	fw_jset(obj, "segments", fw_jsegments(t->segments, t->n_segments, err),
		err);
	fw_jset(obj, "classes", fw_jclasses(tv, err), err);
	arr = json_array();
	for (i = 0; i < tv->n_rules; i++)
		fw_jappend(arr, fw_jrule(i + 1, &tv->rules[i], err), err);
	fw_jset(obj, "rules", arr, err);
	return obj;
}

/* Same names and nesting as the settings section of a policy. */
static json_t *fw_jsettings(const struct policy_settings *s, int *err)
{
	json_t *obj = json_object();
	json_t *ct = json_object();
	json_t *timeouts = json_object();
	int i;

	fw_jset(obj, "unmatched", json_string(policy_action_name(s->unmatched)),
		err);
	fw_jset(obj, "non_ip", json_string(policy_action_name(s->non_ip)), err);
	fw_jset(obj, "log_rate", fw_jint(s->log_rate), err);
	fw_jset(ct, "max_entries", fw_jint(s->ct_max_entries), err);
	for (i = 0; i < POLICY_TIMEOUT_COUNT; i++)
		fw_jset(timeouts, policy_timeout_name(i),
			fw_jint(s->timeouts[i]), err);
	fw_jset(ct, "timeouts", timeouts, err);
	fw_jset(obj, "conntrack", ct, err);
	return obj;
}

/* Interfaces are shared between tenants that split them by VLAN, and the
 * interface map has one entry per interface. */
static uint32_t fw_count_interfaces(const struct policy *pol)
{
	uint32_t t, i, u, v, n = 0;
	bool seen;

	for (t = 0; t < pol->n_tenants; t++) {
		for (i = 0; i < pol->tenants[t].n_interfaces; i++) {
			const char *name = pol->tenants[t].interfaces[i].name;

			seen = false;
			for (u = 0; u <= t && !seen; u++) {
				const struct policy_tenant *o =
					&pol->tenants[u];
				uint32_t end = u == t ? i : o->n_interfaces;

				for (v = 0; v < end && !seen; v++)
					seen = !strcmp(o->interfaces[v].name,
						       name);
			}
			if (!seen)
				n++;
		}
	}
	return n;
}

/* What the compiler fills into each per-policy datapath map. */
static json_t *fw_jmaps(const struct policy_compiled *c, int *err)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; i < POLICY_MAP_COUNT; i++) {
		const struct policy_map_size *m = &c->maps[i];
		json_t *obj = json_object();

		fw_jset(obj, "name", json_string(m->name), err);
		fw_jset(obj, "entries", fw_jint(m->entries), err);
		fw_jset(obj, "key_size", fw_jint(m->key_size), err);
		fw_jset(obj, "value_size", fw_jint(m->value_size), err);
		fw_jset(obj, "bytes", fw_jint(m->bytes), err);
		fw_jappend(arr, obj, err);
	}
	return arr;
}

static json_t *fw_jmap_sizes(const struct policy *pol,
			     const struct policy_analysis *an,
			     const struct policy_compiled *c, int *err)
{
	uint64_t keys = 0, lpm = 0, classes = 0;
	json_t *obj = json_object();
	const struct policy_tenant *t;
	uint32_t i;

	for (i = 0; i < pol->n_tenants; i++) {
		t = &pol->tenants[i];
		/* One (interface, VLAN) key per pair; untagged is VLAN 0. */
		keys += (uint64_t)t->n_interfaces *
			(t->n_vlans ? t->n_vlans : 1);
	}
	for (i = 0; i < an->n_tenants; i++) {
		lpm += an->tenants[i].n_lpm;
		classes += an->tenants[i].n_classes;
	}
	fw_jset(obj, "tenant_keys", fw_jint(keys), err);
	fw_jset(obj, "interfaces", fw_jint(fw_count_interfaces(pol)), err);
	fw_jset(obj, "lpm_entries", fw_jint(lpm), err);
	fw_jset(obj, "address_classes", fw_jint(classes), err);
	/* One counter slot per rule. */
	fw_jset(obj, "rules", fw_jint(pol->n_rules_total), err);
	fw_jset(obj, "conntrack_max_entries",
		fw_jint(pol->settings.ct_max_entries), err);
	/* Key and value bytes only: the kernel's own overhead (hash
	 * buckets, trie nodes, preallocated arrays) comes on top. */
	fw_jset(obj, "maps", fw_jmaps(c, err), err);
	fw_jset(obj, "bytes", fw_jint(c->total_bytes), err);
	return obj;
}

static json_t *fw_jpolicy(const struct fw_policy_ctx *ctx, int *err)
{
	const struct pw_diag *d;
	json_t *obj = json_object();
	json_t *arr, *w;
	uint32_t i;
	size_t k;

	fw_jset(obj, "path", json_string(ctx->pol->path), err);
	arr = json_array();
	for (i = 0; i < ctx->pol->n_files; i++)
		fw_jappend(arr, json_string(ctx->pol->files[i]), err);
	fw_jset(obj, "files", arr, err);
	/* Also on stderr; here for scripts that only read stdout. */
	arr = json_array();
	for (k = 0; k < ctx->diags.count; k++) {
		d = &ctx->diags.items[k];
		w = json_object();
		fw_jset(w, "file", d->file ? json_string(d->file) : json_null(),
			err);
		fw_jset(w, "line", fw_jint(d->loc.line), err);
		fw_jset(w, "column", fw_jint(d->loc.col), err);
		fw_jset(w, "message", json_string(d->message), err);
		fw_jappend(arr, w, err);
	}
	fw_jset(obj, "warnings", arr, err);
	return obj;
}

/* A line or column of a diagnostic: null when it concerns a whole file
 * (0) or no file. */
static json_t *fw_jpos(const struct pw_diag *d, uint32_t v)
{
	return d->file && v ? json_integer(v) : json_null();
}

/* A diagnostic of check --json: where, how bad, what. */
static json_t *fw_jdiag(const struct pw_diag *d, int *err)
{
	json_t *obj = json_object();

	fw_jset(obj, "file", d->file ? json_string(d->file) : json_null(), err);
	fw_jset(obj, "line", fw_jpos(d, d->loc.line), err);
	fw_jset(obj, "column", fw_jpos(d, d->loc.col), err);
	fw_jset(obj, "severity",
		json_string(d->severity == PW_SEV_ERROR ? "error" : "warning"),
		err);
	fw_jset(obj, "message", json_string(d->message), err);
	return obj;
}

/*
 * show's document but for "tenants": each tenant's part (its classes with
 * their LPM prefixes, its rules) is built, written and freed one at a
 * time (fw_show_write), so a policy of millions of prefixes never has its
 * whole document in memory.
 */
static int fw_show_doc(const struct fw_policy_ctx *ctx,
		       const struct policy_compiled *c, json_t **out)
{
	json_t *doc = json_object();
	int err = 0;

	fw_jset(doc, "policy", fw_jpolicy(ctx, &err), &err);
	fw_jset(doc, "settings", fw_jsettings(&ctx->pol->settings, &err), &err);
	fw_jset(doc, "segments",
		fw_jsegments(ctx->pol->segments, ctx->pol->n_segments, &err),
		&err);
	fw_jset(doc, "map_sizes", fw_jmap_sizes(ctx->pol, ctx->an, c, &err),
		&err);
	if (err) {
		json_decref(doc);
		doc = NULL;
	}
	*out = doc;
	return err;
}

/* ------------------------------------------------------------------ check */

/* The name standard input goes by in diagnostics and output. */
#define FW_STDIN_NAME "<stdin>"

static void fw_check_usage(FILE *out)
{
	fputs("Usage: plumwall check [-h] [--json] POLICY...\n"
	      "\n"
	      "Validate each POLICY, a YAML file, a directory of *.yaml/*.yml\n"
	      "files, or - for standard input (named <stdin> in messages), and\n"
	      "compile it as apply would: a policy that passes would load,\n"
	      "map limits included. Every error and warning goes to stderr as\n"
	      "FILE:LINE:COLUMN: error|warning: MESSAGE; each valid policy gets\n"
	      "a one-line summary on stdout.\n"
	      "\n"
	      "Options:\n"
	      "  --json      one JSON document on stdout instead: per policy its\n"
	      "              path, ok, files, tenant and rule counts, and its\n"
	      "              diagnostics (file, line, column, severity, message)\n"
	      "  -h, --help  show this help\n"
	      "\n"
	      "Exit status: 0 no errors (warnings allowed), 1 errors in some\n"
	      "POLICY or one unreadable, 2 usage error.\n",
	      out);
}

static const char *fw_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* All of standard input, for `check -`. */
static int fw_read_stdin(char **buf, size_t *len)
{
	size_t cap = 0, n = 0, got;
	char *p = NULL, *grown;
	int ret = 0;

	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(p, cap);
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			p = grown;
		}
		got = fread(p + n, 1, cap - n, stdin);
		n += got;
	} while (got);
	if (ferror(stdin))
		ret = errno ? -errno : -EIO;
out:
	if (ret) {
		free(p);
		p = NULL;
		n = 0;
	}
	*buf = p;
	*len = n;
	return ret;
}

/*
 * One checked policy as the check document describes it: path, ok, files
 * read, tenant and rule counts (null when the policy did not load), error
 * and warning counts, and the diagnostics. @failure (a negative errno
 * with no diagnostic of its own, e.g. out of memory) becomes one.
 */
static json_t *fw_check_policy_doc(const char *path,
				   const struct fw_policy_ctx *ctx, bool ok,
				   int failure, int *err)
{
	const struct policy *pol = ctx->pol;
	size_t k, n_errors = ctx->diags.n_errors;
	json_t *obj = json_object();
	json_t *arr, *d;
	uint32_t i;

	fw_jset(obj, "path", json_string(path), err);
	fw_jset(obj, "ok", json_boolean(ok), err);
	arr = pol ? json_array() : json_null();
	for (i = 0; pol && i < pol->n_files; i++)
		fw_jappend(arr, json_string(pol->files[i]), err);
	fw_jset(obj, "files", arr, err);
	fw_jset(obj, "tenants", pol ? fw_jint(pol->n_tenants) : json_null(),
		err);
	fw_jset(obj, "rules", pol ? fw_jint(pol->n_rules_total) : json_null(),
		err);
	arr = json_array();
	for (k = 0; k < ctx->diags.count; k++)
		fw_jappend(arr, fw_jdiag(&ctx->diags.items[k], err), err);
	if (failure && !n_errors) {
		d = json_object();
		fw_jset(d, "file", json_string(path), err);
		fw_jset(d, "line", json_null(), err);
		fw_jset(d, "column", json_null(), err);
		fw_jset(d, "severity", json_string("error"), err);
		fw_jset(d, "message", json_string(strerror(-failure)), err);
		fw_jappend(arr, d, err);
		n_errors++;
	}
	fw_jset(obj, "errors", fw_jint(n_errors), err);
	fw_jset(obj, "warnings", fw_jint(ctx->diags.n_warnings), err);
	fw_jset(obj, "diagnostics", arr, err);
	return obj;
}

/* Text: the summary line of a valid policy (its diagnostics went to
 * stderr as they came). */
static int fw_check_text(FILE *out, const json_t *doc)
{
	json_int_t t, r, w;

	if (!json_is_true(json_object_get(doc, "ok")))
		return 0;
	t = json_integer_value(json_object_get(doc, "tenants"));
	r = json_integer_value(json_object_get(doc, "rules"));
	w = json_integer_value(json_object_get(doc, "warnings"));
	fprintf(out,
		"%s: ok (%" JSON_INTEGER_FORMAT " %s, %" JSON_INTEGER_FORMAT
		" %s, %" JSON_INTEGER_FORMAT " %s)\n",
		json_string_value(json_object_get(doc, "path")), t,
		fw_plural((size_t)t, "tenant", "tenants"), r,
		fw_plural((size_t)r, "rule", "rules"), w,
		fw_plural((size_t)w, "warning", "warnings"));
	return 0;
}

int fw_cmd_check(const struct fw_command *cmd, int argc, char **argv)
{
	const char *prog = argv[0], *path;
	json_t *doc = NULL, *list, *one;
	struct fw_policy_ctx ctx;
	size_t errors = 0, warnings = 0, len = 0;
	bool json = false, ok_all = true, have_stdin = false;
	unsigned int flags = FW_POLICY_COMPILE;
	char *buf = NULL;
	int status, c, i, ret, err = 0;

	while ((c = getopt_long(argc, argv, "h", fw_check_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_check_usage(stdout);
			return FW_EXIT_OK;
		case 'j':
			json = true;
			break;
		default:
			return fw_usage_hint(prog);
		}
	}
	if (optind >= argc)
		return fw_usage_error(prog, "missing POLICY");
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-"))
			continue;
		if (have_stdin)
			return fw_usage_error(
				prog,
				"'-' (standard input) may be given only once");
		have_stdin = true;
	}
	status = fw_command_ready(cmd);
	if (status)
		return status;
	if (json)
		flags |= FW_POLICY_QUIET;
	list = json_array();

	for (i = optind; i < argc; i++) {
		path = argv[i];
		memset(&ctx, 0, sizeof(ctx));
		if (!strcmp(path, "-")) {
			path = FW_STDIN_NAME;
			ret = fw_read_stdin(&buf, &len);
			if (ret)
				fprintf(stderr,
					"%s: cannot read standard input: %s\n",
					prog, strerror(-ret));
			else
				/* never NULL: an empty input is a policy
				 * with nothing in it */
				ret = fw_policy_read(prog, path, buf ? buf : "",
						     len, flags, &ctx);
		} else {
			ret = fw_policy_read(prog, path, NULL, 0, flags, &ctx);
		}
		one = fw_check_policy_doc(path, &ctx, !ret, ret, &err);
		errors += (size_t)json_integer_value(
			json_object_get(one, "errors"));
		warnings += ctx.diags.n_warnings;
		ok_all &= !ret;
		if (!json && !err) {
			ret = fw_output(stdout, FW_FORMAT_TEXT, one,
					fw_check_text);
			if (ret && !err)
				err = ret;
		}
		fw_jappend(list, one, &err);
		fw_policy_close(&ctx);
		free(buf);
		buf = NULL;
	}

	if (json) {
		doc = json_object();
		fw_jset(doc, "ok", json_boolean(ok_all), &err);
		fw_jset(doc, "errors", fw_jint(errors), &err);
		fw_jset(doc, "warnings", fw_jint(warnings), &err);
		fw_jset(doc, "policies", list, &err);
		list = NULL;
		if (!err)
			err = fw_output(stdout, FW_FORMAT_JSON, doc, NULL);
	}
	if (err) {
		fprintf(stderr, "%s: cannot write output: %s\n", prog,
			strerror(-err));
		status = FW_EXIT_REFUSED;
	} else {
		status = ok_all ? FW_EXIT_OK : FW_EXIT_REFUSED;
	}
	json_decref(list);
	json_decref(doc);
	return status;
}

/* ----------------------------------------------------------- show: text */

static int fw_fmt_untagged(FILE *out, const json_t *row, const json_t *value)
{
	(void)row;
	if (!json_array_size(value)) {
		fputs("untagged", out);
		return 0;
	}
	return fw_out_value(out, value);
}

static int fw_fmt_log_rate(FILE *out, const json_t *row, const json_t *value)
{
	(void)row;
	if (!json_integer_value(value)) {
		fputs("unlimited", out);
		return 0;
	}
	fprintf(out, "%" JSON_INTEGER_FORMAT " events/s per rule",
		json_integer_value(value));
	return 0;
}

static int fw_fmt_entries(FILE *out, const json_t *row, const json_t *value)
{
	(void)row;
	fprintf(out, "%" JSON_INTEGER_FORMAT " entries",
		json_integer_value(value));
	return 0;
}

/* One "NAME  SECONDSs" line per timeout, names aligned. */
static int fw_fmt_timeouts(FILE *out, const json_t *row, const json_t *value)
{
	const char *key;
	json_t *secs;
	int width = 0;

	(void)row;
	json_object_foreach((json_t *)value, key, secs)
		if ((int)strlen(key) > width)
			width = (int)strlen(key);
	json_object_foreach((json_t *)value, key, secs)
		fprintf(out, "%-*s  %" JSON_INTEGER_FORMAT "s\n", width, key,
			json_integer_value(secs));
	return 0;
}

/* "PREFIX (SEGMENT)", one per line; addresses in no segment show as
 * external, as in logs. */
static int fw_fmt_lpm(FILE *out, const json_t *row, const json_t *value)
{
	const json_t *entry, *seg;
	size_t i;

	(void)row;
	if (!json_array_size(value)) {
		fputc('-', out);
		return 0;
	}
	json_array_foreach(value, i, entry) {
		seg = json_object_get(entry, "segment");
		fprintf(out, "%s%s (%s)", i ? "\n" : "",
			json_string_value(json_object_get(entry, "prefix")),
			json_is_string(seg) ? json_string_value(seg) :
					      "external");
	}
	return 0;
}

/* Class ids with runs compressed: "0-3,7". */
static int fw_fmt_id_set(FILE *out, const json_t *row, const json_t *value)
{
	json_int_t first, last, id;
	size_t i, n = json_array_size(value);

	(void)row;
	if (!n) {
		fputc('-', out);
		return 0;
	}
	first = last = json_integer_value(json_array_get(value, 0));
	for (i = 1; i <= n; i++) {
		id = i < n ? json_integer_value(json_array_get(value, i)) : -1;
		if (i < n && id == last + 1) {
			last = id;
			continue;
		}
		if (first == last)
			fprintf(out, "%" JSON_INTEGER_FORMAT, first);
		else
			fprintf(out,
				"%" JSON_INTEGER_FORMAT
				"-%" JSON_INTEGER_FORMAT,
				first, last);
		if (i < n)
			fputc(',', out);
		first = last = id;
	}
	return 0;
}

/* Ports for TCP/UDP, types for ICMP; "any" when the rule does not narrow
 * the protocol down. */
static int fw_fmt_service(FILE *out, const json_t *row, const json_t *value)
{
	const json_t *icmp = json_object_get(row, "icmp");

	if (json_array_size(value))
		return fw_out_value(out, value);
	if (json_array_size(icmp))
		return fw_out_value(out, icmp);
	fputs("any", out);
	return 0;
}

static const struct fw_column fw_policy_fields[] = {
	{ "path", "path", FW_ALIGN_LEFT, NULL },
	{ "files", "files", FW_ALIGN_LEFT, fw_out_lines },
};

static const struct fw_column fw_settings_fields[] = {
	{ "unmatched", "unmatched", FW_ALIGN_LEFT, NULL },
	{ "non_ip", "non_ip", FW_ALIGN_LEFT, NULL },
	{ "log_rate", "log_rate", FW_ALIGN_LEFT, fw_fmt_log_rate },
	{ "conntrack", "conntrack.max_entries", FW_ALIGN_LEFT, fw_fmt_entries },
	{ "timeouts", "conntrack.timeouts", FW_ALIGN_LEFT, fw_fmt_timeouts },
};

static const struct fw_column fw_tenant_fields[] = {
	{ "interfaces", "interfaces", FW_ALIGN_LEFT, NULL },
	{ "vlans", "vlans", FW_ALIGN_LEFT, fw_fmt_untagged },
	{ "default", "default", FW_ALIGN_LEFT, NULL },
	{ "log_default", "log_default", FW_ALIGN_LEFT, NULL },
	{ "mode", "mode", FW_ALIGN_LEFT, NULL },
	{ "flow_logs", "flow_logs", FW_ALIGN_LEFT, NULL },
};

static const struct fw_column fw_class_columns[] = {
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "FAMILY", "family", FW_ALIGN_LEFT, NULL },
	{ "DEFAULT", "default", FW_ALIGN_LEFT, NULL },
	{ "EXTERNAL", "external", FW_ALIGN_LEFT, NULL },
	{ "SEGMENTS", "segments", FW_ALIGN_LEFT, NULL },
	{ "LITERALS", "literals", FW_ALIGN_LEFT, NULL },
	{ "LPM PREFIXES", "lpm", FW_ALIGN_LEFT, fw_fmt_lpm },
};

static const struct fw_column fw_rule_columns[] = {
	{ "#", "position", FW_ALIGN_RIGHT, NULL },
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "SCOPE", "scope", FW_ALIGN_LEFT, NULL },
	{ "NAME", "name", FW_ALIGN_LEFT, NULL },
	{ "FROM", "from", FW_ALIGN_LEFT, NULL },
	{ "TO", "to", FW_ALIGN_LEFT, NULL },
	{ "PROTO", "proto", FW_ALIGN_LEFT, NULL },
	{ "PORTS/TYPES", "ports", FW_ALIGN_LEFT, fw_fmt_service },
	{ "ACTION", "action", FW_ALIGN_LEFT, NULL },
	{ "LOG", "log", FW_ALIGN_LEFT, NULL },
	{ "FROM CLASSES", "from_classes", FW_ALIGN_LEFT, fw_fmt_id_set },
	{ "TO CLASSES", "to_classes", FW_ALIGN_LEFT, fw_fmt_id_set },
};

static const struct fw_column fw_map_fields[] = {
	{ "tenant keys", "tenant_keys", FW_ALIGN_LEFT, NULL },
	{ "interfaces", "interfaces", FW_ALIGN_LEFT, NULL },
	{ "LPM entries", "lpm_entries", FW_ALIGN_LEFT, NULL },
	{ "address classes", "address_classes", FW_ALIGN_LEFT, NULL },
	{ "rules", "rules", FW_ALIGN_LEFT, NULL },
	{ "conntrack", "conntrack_max_entries", FW_ALIGN_LEFT, fw_fmt_entries },
	{ "map bytes", "bytes", FW_ALIGN_LEFT, NULL },
};

static const struct fw_column fw_map_columns[] = {
	{ "MAP", "name", FW_ALIGN_LEFT, NULL },
	{ "ENTRIES", "entries", FW_ALIGN_RIGHT, NULL },
	{ "KEY", "key_size", FW_ALIGN_RIGHT, NULL },
	{ "VALUE", "value_size", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "bytes", FW_ALIGN_RIGHT, NULL },
};

/* A "Segments:" section: one "NAME:  PREFIX,PREFIX" line per segment of
 * @segs (the document's name -> prefixes object), in definition order. */
static int fw_show_segments_text(FILE *out, unsigned int indent,
				 const json_t *segs)
{
	struct fw_column *fields = NULL;
	size_t i = 0, n = json_object_size(segs);
	const char *name;
	json_t *prefixes;
	int ret;

	ret = fw_out_section(out, indent, "Segments");
	if (ret)
		goto out;
	if (!n) {
		fprintf(out, "%*s(none)\n", (int)indent + 2, "");
		goto out;
	}
	fields = calloc(n, sizeof(*fields));
	if (!fields) {
		ret = -ENOMEM;
		goto out;
	}
	/* Segment names hold no '.', so each is its own fw_out_get() path. */
	json_object_foreach((json_t *)segs, name, prefixes) {
		fields[i].header = name;
		fields[i].key = name;
		fields[i].align = FW_ALIGN_LEFT;
		i++;
	}
	ret = fw_out_fields(out, indent + 2, fields, n, segs);
out:
	free(fields);
	return ret;
}

static int fw_show_tenant_text(FILE *out, const json_t *tenant)
{
	int ret;

	fprintf(out, "\nTenant %s (id %" JSON_INTEGER_FORMAT "):\n",
		json_string_value(json_object_get(tenant, "name")),
		json_integer_value(json_object_get(tenant, "id")));
	ret = fw_out_fields(out, 2, fw_tenant_fields,
			    FW_ARRAY_SIZE(fw_tenant_fields), tenant);
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_show_segments_text(out, 2,
				    json_object_get(tenant, "segments"));
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_out_section(out, 2, "Address classes");
	if (ret)
		goto out;
	ret = fw_out_table(out, 4, fw_class_columns,
			   FW_ARRAY_SIZE(fw_class_columns),
			   json_object_get(tenant, "classes"));
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_out_section(out, 2, "Rules, in evaluation order");
	if (ret)
		goto out;
	ret = fw_out_table(out, 4, fw_rule_columns,
			   FW_ARRAY_SIZE(fw_rule_columns),
			   json_object_get(tenant, "rules"));
out:
	return ret;
}

/* The text before the tenants: policy, settings, global segments. */
static int fw_show_text_head(FILE *out, const json_t *doc)
{
	int ret;

	ret = fw_out_section(out, 0, "Policy");
	if (ret)
		goto out;
	ret = fw_out_fields(out, 2, fw_policy_fields,
			    FW_ARRAY_SIZE(fw_policy_fields),
			    json_object_get(doc, "policy"));
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_out_section(out, 0, "Settings");
	if (ret)
		goto out;
	ret = fw_out_fields(out, 2, fw_settings_fields,
			    FW_ARRAY_SIZE(fw_settings_fields),
			    json_object_get(doc, "settings"));
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_show_segments_text(out, 0, json_object_get(doc, "segments"));
out:
	return ret;
}

/* The text after the tenants: the map sizes. */
static int fw_show_text_tail(FILE *out, const json_t *doc)
{
	int ret;

	fputc('\n', out);
	ret = fw_out_section(out, 0, "Map sizes");
	if (ret)
		goto out;
	ret = fw_out_fields(out, 2, fw_map_fields, FW_ARRAY_SIZE(fw_map_fields),
			    json_object_get(doc, "map_sizes"));
	if (ret)
		goto out;
	fputc('\n', out);
	ret = fw_out_table(
		out, 2, fw_map_columns, FW_ARRAY_SIZE(fw_map_columns),
		json_object_get(json_object_get(doc, "map_sizes"), "maps"));
out:
	return ret;
}

/*
 * show's output in @format: @doc (fw_show_doc) with the tenants written
 * one by one where they belong, as JSON (the same bytes as the whole
 * document through fw_output) or as text. Flushes @out so that a write
 * error is reported. Returns 0 or a negative errno.
 */
static int fw_show_write(FILE *out, bool json, const struct fw_policy_ctx *ctx,
			 const json_t *doc)
{
	static const char *const head[] = { "policy", "settings", "segments" };
	json_t *tenant;
	uint32_t i;
	size_t k;
	int ret = 0;

	if (json) {
		fputc('{', out);
		for (k = 0; k < FW_ARRAY_SIZE(head) && !ret; k++) {
			ret = fw_out_json_key(out, k == 0, head[k]);
			if (!ret)
				ret = fw_out_json_part(
					out, json_object_get(doc, head[k]));
		}
		if (!ret)
			ret = fw_out_json_key(out, 0, "tenants");
		fputc('[', out);
	} else {
		ret = fw_show_text_head(out, doc);
	}
	for (i = 0; i < ctx->an->n_tenants && !ret; i++) {
		tenant = fw_jtenant(&ctx->an->tenants[i], &ret);
		if (!tenant && !ret)
			ret = -ENOMEM;
		if (!ret && json) {
			if (i)
				fputc(',', out);
			ret = fw_out_json_part(out, tenant);
		} else if (!ret) {
			ret = fw_show_tenant_text(out, tenant);
		}
		json_decref(tenant);
	}
	if (ret)
		goto out;
	if (json) {
		fputc(']', out);
		ret = fw_out_json_key(out, 0, "map_sizes");
		if (!ret)
			ret = fw_out_json_part(
				out, json_object_get(doc, "map_sizes"));
		fputs("}\n", out);
	} else {
		ret = fw_show_text_tail(out, doc);
	}
	if (ret)
		goto out;
	if (fflush(out))
		ret = errno ? -errno : -EIO;
	else if (ferror(out))
		ret = -EIO;
out:
	return ret;
}

/* ------------------------------------------------------------------ show */

static void fw_show_usage(FILE *out)
{
	fputs("Usage: plumwall show [-h] [--json] POLICY\n"
	      "\n"
	      "Show POLICY as plumwall compiles it: settings and global\n"
	      "segments; per tenant its settings, segments, address classes\n"
	      "(with the LPM prefixes leading to each) and its rules in\n"
	      "evaluation order (global rules first) with the classes they\n"
	      "match; the sizes of the datapath maps. The JSON document holds\n"
	      "the whole policy: it can be rebuilt from it. Errors and\n"
	      "warnings go to stderr as with 'plumwall check'.\n"
	      "\n"
	      "Options:\n"
	      "  --json      one JSON object on one line instead of text\n"
	      "  -h, --help  show this help\n"
	      "\n"
	      "Exit status: 0 shown, 1 errors or POLICY unreadable, 2 usage error.\n",
	      out);
}

int fw_cmd_show(const struct fw_command *cmd, int argc, char **argv)
{
	struct fw_policy_ctx ctx;
	const char *path = NULL;
	bool json = false;
	json_t *doc = NULL;
	int status, ret;

	status = fw_policy_args(argc, argv, fw_show_opts, fw_show_usage, &json,
				&path);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (status)
		return status;

	/* The real compiler, so the sizes shown are what apply will load. */
	if (fw_policy_read(argv[0], path, NULL, 0, FW_POLICY_COMPILE, &ctx)) {
		status = FW_EXIT_REFUSED;
		goto out;
	}
	ret = fw_show_doc(&ctx, ctx.compiled, &doc);
	if (!ret)
		ret = fw_show_write(stdout, json, &ctx, doc);
	if (ret == -ENOMEM || ret == -EOVERFLOW) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
	} else if (ret) {
		fprintf(stderr, "%s: cannot write output: %s\n", argv[0],
			strerror(-ret));
		status = FW_EXIT_REFUSED;
	}
out:
	json_decref(doc);
	fw_policy_close(&ctx);
	return status;
}
