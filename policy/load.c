// SPDX-License-Identifier: GPL-2.0
/*
 * Policy front end: YAML files -> validated struct policy (policy.md).
 *
 * The loader never stops at the first problem: every check records a
 * diagnostic and the walk goes on with a safe stand-in value, so one run
 * reports everything. Only when no error was recorded is the policy handed
 * out. Passes:
 *   1. read every file into a located YAML tree; check the top level and
 *      gather settings, global segments, global rules and tenants across
 *      files (merge rules of section 1);
 *   2. settings; global segments; tenants with their segments;
 *   3. rules (global, then each tenant's), resolving selectors in scope;
 *   4. cross-tenant checks: names, ids (and id assignment), owners of
 *      (interface, VLAN) pairs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <plumwall/arena.h>
#include <plumwall/strmap.h>
#include <plumwall/yaml.h>
#include <plumwall/ycheck.h>

#include "policy.h"

struct policy_private {
	struct pw_arena *arena;
	struct pw_ydoc **docs;
	size_t n_docs;
	/* Segment name -> segment: global ones, and each tenant's own. */
	struct pw_strmap global_segments;
	struct pw_strmap *tenant_segments; /* [n_tenants] */
};

struct policy_loader {
	struct policy *pol;
	struct pw_arena *arena;
	struct pw_diags *diags;
	/* Gathered in pass 1, in file order. */
	const struct pw_ynode *settings;
	const struct pw_ynode *rules;
	const struct pw_ynode *settings_key; /* for "given twice" */
	const struct pw_ynode *rules_key;
	const struct pw_ynode **segment_maps;
	size_t n_segment_maps;
	const struct pw_ynode **tenant_nodes;
	size_t n_tenant_nodes;
	const struct pw_ynode *first_root; /* for "no tenants" */
	const struct pw_loc *first_start;
	/* Files not merged: not well-formed YAML, or of a version this
	 * plumwall does not read. The others are still checked (every error
	 * of every file in one run); what the unread files may define is
	 * said where it matters (undefined segments, no tenant). */
	uint32_t n_unread;
	const char *unread; /* the first of them */
	int err; /* first hard failure (-ENOMEM) */
};

#define POLICY_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const policy_action_names[] = { "allow", "deny", "reject",
						   NULL };
static const char *const policy_mode_names[] = { "enforce", "audit", NULL };
static const char *const policy_timeout_names[] = {
	"tcp_syn", "tcp_established", "tcp_closing", "udp",
	"icmp",	   "other",	      NULL
};
static const uint32_t policy_timeout_defaults[] = { 30, 7200, 30, 60, 30, 60 };

_Static_assert(POLICY_ARRAY_SIZE(policy_timeout_names) ==
		       POLICY_TIMEOUT_COUNT + 1,
	       "a name for every timeout");
_Static_assert(POLICY_ARRAY_SIZE(policy_timeout_defaults) ==
		       POLICY_TIMEOUT_COUNT,
	       "a default for every timeout");

struct policy_icmp_name {
	const char *name;
	uint8_t type;
};

/* policy.md section 5, exactly these names. */
static const struct policy_icmp_name policy_icmp4_names[] = {
	{ "echo-reply", 0 },
	{ "destination-unreachable", 3 },
	{ "redirect", 5 },
	{ "echo-request", 8 },
	{ "router-advertisement", 9 },
	{ "router-solicitation", 10 },
	{ "time-exceeded", 11 },
	{ "parameter-problem", 12 },
	{ "timestamp", 13 },
	{ "timestamp-reply", 14 },
	{ NULL, 0 },
};

static const struct policy_icmp_name policy_icmp6_names[] = {
	{ "destination-unreachable", 1 },
	{ "packet-too-big", 2 },
	{ "time-exceeded", 3 },
	{ "parameter-problem", 4 },
	{ "echo-request", 128 },
	{ "echo-reply", 129 },
	{ "router-solicitation", 133 },
	{ "router-advertisement", 134 },
	{ "neighbor-solicitation", 135 },
	{ "neighbor-advertisement", 136 },
	{ NULL, 0 },
};

static const char *const policy_icmp4_name_list[] = {
	"echo-reply",
	"destination-unreachable",
	"redirect",
	"echo-request",
	"router-advertisement",
	"router-solicitation",
	"time-exceeded",
	"parameter-problem",
	"timestamp",
	"timestamp-reply",
	NULL,
};

static const char *const policy_icmp6_name_list[] = {
	"destination-unreachable",
	"packet-too-big",
	"time-exceeded",
	"parameter-problem",
	"echo-request",
	"echo-reply",
	"router-solicitation",
	"router-advertisement",
	"neighbor-solicitation",
	"neighbor-advertisement",
	NULL,
};

/* ---- names and enums ---------------------------------------------------- */

const char *policy_action_name(enum policy_action action)
{
	return action <= POLICY_ACTION_REJECT ? policy_action_names[action] :
						"?";
}

const char *policy_mode_name(enum policy_mode mode)
{
	return mode <= POLICY_MODE_AUDIT ? policy_mode_names[mode] : "?";
}

const char *policy_timeout_name(enum policy_timeout timeout)
{
	return timeout < POLICY_TIMEOUT_COUNT ? policy_timeout_names[timeout] :
						"?";
}

const char *policy_proto_name(int proto)
{
	switch (proto) {
	case POLICY_PROTO_ANY:
		return "any";
	case POLICY_PROTO_ICMP:
		return "icmp";
	case POLICY_PROTO_TCP:
		return "tcp";
	case POLICY_PROTO_UDP:
		return "udp";
	case POLICY_PROTO_ICMPV6:
		return "icmpv6";
	default:
		return NULL;
	}
}

int policy_proto_from_name(const char *name, int *proto)
{
	static const int protos[] = { POLICY_PROTO_ANY, POLICY_PROTO_ICMP,
				      POLICY_PROTO_TCP, POLICY_PROTO_UDP,
				      POLICY_PROTO_ICMPV6 };
	size_t i;

	for (i = 0; i < POLICY_ARRAY_SIZE(protos); i++) {
		if (!strcmp(name, policy_proto_name(protos[i]))) {
			*proto = protos[i];
			return 0;
		}
	}
	return -ENOENT;
}

static const struct policy_icmp_name *policy_icmp_table(int proto)
{
	if (proto == POLICY_PROTO_ICMP)
		return policy_icmp4_names;
	if (proto == POLICY_PROTO_ICMPV6)
		return policy_icmp6_names;
	return NULL;
}

int policy_icmp_type_from_name(int proto, const char *name, uint8_t *type)
{
	const struct policy_icmp_name *t = policy_icmp_table(proto);

	for (; t && t->name; t++) {
		if (!strcmp(t->name, name)) {
			*type = t->type;
			return 0;
		}
	}
	return -ENOENT;
}

const char *policy_icmp_type_name(int proto, uint8_t type)
{
	const struct policy_icmp_name *t = policy_icmp_table(proto);

	for (; t && t->name; t++)
		if (t->type == type)
			return t->name;
	return NULL;
}

const char *const *policy_icmp_type_names(int proto)
{
	if (proto == POLICY_PROTO_ICMP)
		return policy_icmp4_name_list;
	if (proto == POLICY_PROTO_ICMPV6)
		return policy_icmp6_name_list;
	return NULL;
}

/* ---- generic node checks ------------------------------------------------ */

#define perr(ld, node, ...) pw_error((ld)->diags, &(node)->loc, __VA_ARGS__)

static void *policy_alloc_array(struct policy_loader *ld, size_t count,
				size_t size)
{
	void *p = pw_arena_array(ld->arena, count ? count : 1, size);

	if (!p && !ld->err)
		ld->err = -ENOMEM;
	return p;
}

static bool policy_name_ok(const char *s, bool rule)
{
	size_t len = strlen(s), i;

	if (rule) {
		if (len < 1 || len > POLICY_RULE_NAME_MAX)
			return false;
		return strspn(s,
			      "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
	}
	if (len < 1 || len > POLICY_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", s[i]))
			return false;
	return true;
}

static const char policy_name_rule_text[] =
	"1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter";

/*
 * Nodes reached through an alias or a merge key are shared with the place
 * of their anchor, which comes earlier in the file than any use. So a node
 * that starts before the mapping holding it was written elsewhere, and a
 * problem of the combination (an owner clash, a duplicate name) belongs at
 * the using mapping, which is what the reader of the second place wrote.
 */
static bool policy_loc_before(const struct pw_loc *a, const struct pw_loc *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* @child's location, or @outer's when @child is shared from elsewhere. */
static const struct pw_loc *policy_loc_in(const struct pw_ynode *outer,
					  const struct pw_ynode *child)
{
	if (!child || policy_loc_before(&child->loc, &outer->loc))
		return &outer->loc;
	return &child->loc;
}

/* Same for an item of @list in the tenant at @tenant_loc. */
static struct pw_loc policy_item_loc(const struct pw_loc *tenant_loc,
				     const struct pw_ynode *list,
				     const struct pw_ynode *item)
{
	if (!policy_loc_before(&item->loc, tenant_loc))
		return item->loc;
	if (!policy_loc_before(&list->loc, tenant_loc))
		return list->loc;
	return *tenant_loc;
}

/* ---- prefixes and segments --------------------------------------------- */

/* Parse an address/prefix scalar; reports bad ones. */
static int policy_parse_prefix(struct policy_loader *ld,
			       const struct pw_ynode *node, const char *text,
			       struct pw_prefix *prefix)
{
	char net[PW_PREFIX_STRLEN];

	switch (pw_prefix_parse(text, prefix)) {
	case PW_PREFIX_OK:
		return 0;
	case PW_PREFIX_BAD_ADDRESS:
		perr(ld, node,
		     "invalid address '%s': expected an IPv4 or IPv6 address or prefix",
		     text);
		break;
	case PW_PREFIX_BAD_LENGTH:
		perr(ld, node,
		     "invalid prefix length in '%s': must be 0 to %u for %s",
		     text, pw_family_bits(prefix->family),
		     prefix->family == PW_AF_INET ? "IPv4" : "IPv6");
		break;
	case PW_PREFIX_HOST_BITS:
		perr(ld, node,
		     "prefix '%s' has host bits set: did you mean %s?", text,
		     pw_prefix_str(prefix, false, net, sizeof(net)));
		break;
	}
	return -EINVAL;
}

static const char *const policy_reserved_names[] = { "any", "external", NULL };

static void policy_segment_redefined(struct policy_loader *ld,
				     const struct pw_ynode *key,
				     const struct policy_segment *old)
{
	char where[300];

	pw_loc_str(&old->loc, where, sizeof(where));
	if (old->tenant < 0)
		perr(ld, key,
		     "segment '%s' is already defined as a global segment at %s",
		     old->name, where);
	else
		perr(ld, key, "segment '%s' is already defined at %s",
		     old->name, where);
}

/*
 * Fill @segs from the mapping @map. @n is advanced for each segment stored.
 * @tenant is -1 for global ones. Names must be unique among the global
 * segments and those of the same tenant.
 */
static void policy_load_segments(struct policy_loader *ld,
				 const struct pw_ynode *map, int tenant,
				 struct policy_segment *segs, uint32_t *n,
				 uint32_t *order)
{
	struct policy *pol = ld->pol;
	size_t i, j;

	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "'segments'"))
		return;
	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *key = map->map.pairs[i].key;
		const struct pw_ynode *list = map->map.pairs[i].value;
		const struct policy_segment *old = NULL;
		struct policy_segment *seg;
		const char *name = key->scalar.str;
		char what[64];

		if (key->scalar.type != PW_YSCALAR_STR || key->scalar.has_nul ||
		    !policy_name_ok(name, false)) {
			perr(ld, key, "invalid segment name '%s': names are %s",
			     name, policy_name_rule_text);
			continue;
		}
		for (j = 0; policy_reserved_names[j]; j++)
			if (!strcmp(name, policy_reserved_names[j]))
				break;
		if (policy_reserved_names[j]) {
			perr(ld, key,
			     "segment name '%s' is reserved: it is a selector keyword",
			     name);
			continue;
		}
		old = policy_find_segment(pol, tenant, name);
		if (old) {
			policy_segment_redefined(ld, key, old);
			continue;
		}

		snprintf(what, sizeof(what), "segment '%s'", name);
		if (pw_yexpect_list(ld->diags, list, what, NULL))
			continue;
		seg = &segs[*n];
		strcpy(seg->name, name);
		if (pw_strmap_add(tenant < 0 ?
					  &pol->priv->global_segments :
					  &pol->priv->tenant_segments[tenant],
				  seg->name, strlen(seg->name), seg, NULL)) {
			ld->err = -ENOMEM;
			return;
		}
		(*n)++;
		seg->loc = key->loc;
		seg->tenant = tenant;
		seg->order = (*order)++;
		seg->prefixes = policy_alloc_array(ld, list->seq.count,
						   sizeof(*seg->prefixes));
		seg->prefix_locs = policy_alloc_array(
			ld, list->seq.count, sizeof(*seg->prefix_locs));
		if (!seg->prefixes || !seg->prefix_locs)
			return;
		for (j = 0; j < list->seq.count; j++) {
			const struct pw_ynode *item = list->seq.items[j];
			const char *text;

			text = pw_yexpect_string(ld->diags, item,
						 "a segment address");
			if (!text)
				continue;
			if (policy_parse_prefix(ld, item, text,
						&seg->prefixes[seg->n_prefixes]))
				continue;
			seg->prefix_locs[seg->n_prefixes++] = item->loc;
		}
	}
}

const struct policy_segment *policy_find_segment(const struct policy *pol,
						 int tenant, const char *name)
{
	const struct policy_private *priv = pol->priv;
	const struct policy_segment *seg;
	size_t len = strlen(name);

	seg = pw_strmap_get(&priv->global_segments, name, len);
	if (seg || tenant < 0 || (uint32_t)tenant >= pol->n_tenants ||
	    !priv->tenant_segments)
		return seg;
	return pw_strmap_get(&priv->tenant_segments[tenant], name, len);
}

/* ---- settings ------------------------------------------------------------ */

static void policy_load_settings(struct policy_loader *ld,
				 const struct pw_ynode *map)
{
	static const char *const keys[] = { "unmatched", "non_ip", "log_rate",
					    "conntrack", NULL };
	static const char *const ct_keys[] = { "max_entries", "timeouts",
					       NULL };
	struct policy_settings *s = &ld->pol->settings;
	const struct pw_ynode *node, *ct, *timeouts;
	int64_t v;
	int e, i;

	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "'settings'"))
		return;
	pw_ycheck_keys(ld->diags, map, "settings", keys);
	node = pw_ymap_get(map, "unmatched");
	if (node && !pw_yexpect_enum(ld->diags, node, "'unmatched'",
				     policy_action_names, 2, &e))
		s->unmatched = (enum policy_action)e;
	node = pw_ymap_get(map, "non_ip");
	if (node && !pw_yexpect_enum(ld->diags, node, "'non_ip'",
				     policy_action_names, 2, &e))
		s->non_ip = (enum policy_action)e;
	node = pw_ymap_get(map, "log_rate");
	if (node && !pw_yexpect_int(ld->diags, node, "'log_rate'", 0,
				    POLICY_LOG_RATE_MAX, &v))
		s->log_rate = (uint32_t)v;

	ct = pw_ymap_get(map, "conntrack");
	if (!ct || pw_yexpect_kind(ld->diags, ct, PW_YNODE_MAP, "'conntrack'"))
		return;
	pw_ycheck_keys(ld->diags, ct, "conntrack settings", ct_keys);
	node = pw_ymap_get(ct, "max_entries");
	if (node && !pw_yexpect_int(ld->diags, node, "'max_entries'",
				    POLICY_CT_MAX_ENTRIES_MIN,
				    POLICY_CT_MAX_ENTRIES_MAX, &v))
		s->ct_max_entries = (uint32_t)v;
	timeouts = pw_ymap_get(ct, "timeouts");
	if (!timeouts ||
	    pw_yexpect_kind(ld->diags, timeouts, PW_YNODE_MAP, "'timeouts'"))
		return;
	pw_ycheck_keys(ld->diags, timeouts, "conntrack timeouts",
		       policy_timeout_names);
	for (i = 0; i < POLICY_TIMEOUT_COUNT; i++) {
		char what[48];

		node = pw_ymap_get(timeouts, policy_timeout_names[i]);
		snprintf(what, sizeof(what), "timeout '%s'",
			 policy_timeout_names[i]);
		if (node &&
		    !pw_yexpect_int(ld->diags, node, what, POLICY_TIMEOUT_MIN,
				    POLICY_TIMEOUT_MAX, &v))
			s->timeouts[i] = (uint32_t)v;
	}
}

/* ---- rules ----------------------------------------------------------------- */

struct policy_scope {
	int tenant; /* -1: global rules */
	const char *what; /* "global rules" / "tenant 'acme'" */
};

/*
 * "tenant 'acme'" for messages about another tenant; a tenant whose name
 * was refused (and so is empty here) is named by its place.
 */
static const char *policy_tenant_ref(const struct policy_tenant *t, char *buf,
				     size_t size)
{
	char where[300];

	if (t->name[0])
		snprintf(buf, size, "tenant '%s'", t->name);
	else
		snprintf(buf, size, "the tenant at %s (its name is invalid)",
			 pw_loc_str(&t->loc, where, sizeof(where)));
	return buf;
}

/* Every segment name visible from @tenant, for "did you mean". */
static const char **policy_segment_names(struct policy_loader *ld, int tenant)
{
	const struct policy *pol = ld->pol;
	uint32_t n = pol->n_segments, i, k = 0;
	const char **names;

	if (tenant >= 0)
		n += pol->tenants[tenant].n_segments;
	names = policy_alloc_array(ld, n + 1, sizeof(*names));
	if (!names)
		return NULL;
	for (i = 0; i < pol->n_segments; i++)
		names[k++] = pol->segments[i].name;
	for (i = 0; tenant >= 0 && i < pol->tenants[tenant].n_segments; i++)
		names[k++] = pol->tenants[tenant].segments[i].name;
	names[k] = NULL;
	return names;
}

static int policy_load_selector(struct policy_loader *ld,
				const struct pw_ynode *node,
				const struct policy_scope *scope,
				struct policy_selector *sel)
{
	const struct policy *pol = ld->pol;
	const char *text = pw_yexpect_string(ld->diags, node, "a selector");
	const struct policy_segment *seg;
	const char *const *names;
	char owner[400], unread[400] = "";
	const char *hint;
	uint32_t t, i;

	if (!text)
		return -EINVAL;
	sel->loc = node->loc;
	if (!strcmp(text, "any")) {
		sel->kind = POLICY_SEL_ANY;
		return 0;
	}
	if (!strcmp(text, "external")) {
		sel->kind = POLICY_SEL_EXTERNAL;
		return 0;
	}
	/* Segment names start with a letter and hold no '.', ':' or '/',
	 * so anything else is meant as an address. */
	if (!policy_name_ok(text, false) &&
	    (strpbrk(text, ".:/") || (text[0] >= '0' && text[0] <= '9'))) {
		sel->kind = POLICY_SEL_PREFIX;
		return policy_parse_prefix(ld, node, text, &sel->prefix);
	}
	seg = policy_find_segment(pol, scope->tenant, text);
	if (seg) {
		sel->kind = POLICY_SEL_SEGMENT;
		sel->segment = seg;
		((struct policy_segment *)seg)->n_refs++;
		return 0;
	}
	if (!policy_name_ok(text, false)) {
		perr(ld, node,
		     "invalid selector '%s': expected a segment name, an address or prefix, 'any' or 'external'",
		     text);
		return -EINVAL;
	}
	for (t = 0; t < pol->n_tenants; t++) {
		if ((int)t == scope->tenant)
			continue;
		for (i = 0; i < pol->tenants[t].n_segments; i++) {
			if (strcmp(pol->tenants[t].segments[i].name, text))
				continue;
			policy_tenant_ref(&pol->tenants[t], owner,
					  sizeof(owner));
			if (scope->tenant < 0)
				perr(ld, node,
				     "global rules may only use global segments: '%s' is a segment of %s",
				     text, owner);
			else
				perr(ld, node,
				     "undefined segment '%s' in %s: it is a segment of %s, and a tenant sees only its own and the global segments",
				     text, scope->what, owner);
			return -EINVAL;
		}
	}
	names = policy_segment_names(ld, scope->tenant);
	hint = names ? pw_closest(text, names) : NULL;
	/* A file that could not be read may hold the definition. */
	if (ld->n_unread == 1)
		snprintf(unread, sizeof(unread),
			 "; %s was not read (it has errors) and may define it",
			 ld->unread);
	else if (ld->n_unread)
		snprintf(
			unread, sizeof(unread),
			"; %u policy files were not read (they have errors) and may define it",
			ld->n_unread);
	if (hint)
		perr(ld, node,
		     "undefined segment '%s' in %s (did you mean '%s'?)%s",
		     text, scope->what, hint, unread);
	else
		perr(ld, node, "undefined segment '%s' in %s%s", text,
		     scope->what, unread);
	return -EINVAL;
}

static void policy_load_selectors(struct policy_loader *ld,
				  const struct pw_ynode *node, const char *key,
				  const struct policy_scope *scope,
				  struct policy_selector **out, uint32_t *n)
{
	char what[16];
	size_t count = 1, i;

	snprintf(what, sizeof(what), "'%s'", key);
	if (node->kind == PW_YNODE_SEQ) {
		if (pw_yexpect_list(ld->diags, node, what, NULL))
			return;
		count = node->seq.count;
	} else if (node->kind == PW_YNODE_MAP ||
		   node->scalar.type != PW_YSCALAR_STR) {
		char buf[96];

		/* null, numbers, booleans: `to:` left empty, `to: 10` */
		perr(ld, node,
		     "%s must be a selector or a list of selectors, not %s",
		     what, pw_ydescribe(node, buf, sizeof(buf)));
		return;
	}
	*out = policy_alloc_array(ld, count, sizeof(**out));
	if (!*out)
		return;
	for (i = 0; i < count; i++) {
		const struct pw_ynode *item =
			node->kind == PW_YNODE_SEQ ? node->seq.items[i] : node;

		if (!policy_load_selector(ld, item, scope, &(*out)[*n]))
			(*n)++;
	}
}

static int policy_load_proto(struct policy_loader *ld,
			     const struct pw_ynode *node, int *proto)
{
	char buf[96];
	int64_t v;

	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type == PW_YSCALAR_INT) {
		if (pw_ynode_int(node, &v) || v < 0 || v > 255) {
			perr(ld, node,
			     "protocol number %s is out of range 0 to 255",
			     node->scalar.str);
			return -ERANGE;
		}
		*proto = (int)v;
		return 0;
	}
	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type == PW_YSCALAR_STR &&
	    !policy_proto_from_name(node->scalar.str, proto))
		return 0;
	perr(ld, node,
	     "'proto' must be tcp, udp, icmp, icmpv6, any or a protocol number 0 to 255, not %s",
	     pw_ydescribe(node, buf, sizeof(buf)));
	return -EINVAL;
}

/* "LOW-HIGH" or "N", digits only. Returns 0, or -EINVAL / -ERANGE. */
static int policy_parse_port_text(const char *s, uint32_t *lo, uint32_t *hi)
{
	const char *p = s;
	uint32_t *dst = lo;
	int digits = 0;

	*lo = 0;
	for (; *p; p++) {
		if (*p == '-' && dst == lo && digits) {
			dst = hi;
			*hi = 0;
			digits = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (++digits > 5)
			return -ERANGE;
		*dst = *dst * 10 + (uint32_t)(*p - '0');
	}
	if (!digits)
		return -EINVAL;
	if (dst == lo)
		*hi = *lo;
	if (*lo > 65535 || *hi > 65535)
		return -ERANGE;
	return 0;
}

static void policy_load_ports(struct policy_loader *ld,
			      const struct pw_ynode *node,
			      struct policy_rule *rule)
{
	size_t i;

	if (pw_yexpect_list(ld->diags, node, "'ports'",
			    "omit it to match every port"))
		return;
	rule->ports =
		policy_alloc_array(ld, node->seq.count, sizeof(*rule->ports));
	if (!rule->ports)
		return;
	for (i = 0; i < node->seq.count; i++) {
		const struct pw_ynode *item = node->seq.items[i];
		struct policy_port_range *range = &rule->ports[rule->n_ports];
		uint32_t lo = 0, hi = 0;
		char buf[96];
		int64_t v;
		int ret;

		if (item->kind == PW_YNODE_SCALAR &&
		    item->scalar.type == PW_YSCALAR_INT) {
			if (pw_ynode_int(item, &v) || v < 0 || v > 65535) {
				perr(ld, item,
				     "port %s is out of range 0 to 65535",
				     item->scalar.str);
				continue;
			}
			lo = hi = (uint32_t)v;
		} else if (item->kind == PW_YNODE_SCALAR &&
			   item->scalar.type == PW_YSCALAR_STR &&
			   !item->scalar.has_nul) {
			ret = policy_parse_port_text(item->scalar.str, &lo,
						     &hi);
			if (ret == -ERANGE && !strchr(item->scalar.str, '-')) {
				perr(ld, item,
				     "port %s is out of range 0 to 65535",
				     item->scalar.str);
				continue;
			}
			if (ret == -ERANGE) {
				perr(ld, item,
				     "invalid port range '%s': ports are 0 to 65535",
				     item->scalar.str);
				continue;
			}
			if (ret) {
				perr(ld, item,
				     "invalid port '%s': expected a port number or a range \"LOW-HIGH\"",
				     item->scalar.str);
				continue;
			}
			if (lo > hi) {
				perr(ld, item,
				     "invalid port range '%s': %u is greater than %u",
				     item->scalar.str, lo, hi);
				continue;
			}
		} else {
			perr(ld, item,
			     "a port must be a number or a range \"LOW-HIGH\", not %s",
			     pw_ydescribe(item, buf, sizeof(buf)));
			continue;
		}
		range->lo = (uint16_t)lo;
		range->hi = (uint16_t)hi;
		range->loc = item->loc;
		rule->n_ports++;
	}
}

/* @item names no ICMP type of @proto: say what it might be instead. */
static void policy_icmp_name_error(struct policy_loader *ld,
				   const struct pw_ynode *item, int proto)
{
	int other = proto == POLICY_PROTO_ICMP ? POLICY_PROTO_ICMPV6 :
						 POLICY_PROTO_ICMP;
	const char *text = item->scalar.str;
	const char *pname = policy_proto_name(proto);
	const char *hint;
	uint8_t type;

	/* neighbor-solicitation under proto icmp, redirect under icmpv6 */
	if (!policy_icmp_type_from_name(other, text, &type)) {
		perr(ld, item, "unknown %s type name '%s' (it is an %s type)",
		     pname, text, policy_proto_name(other));
		return;
	}
	if (text[0] && strspn(text, "0123456789") == strlen(text)) {
		perr(ld, item,
		     "unknown %s type name '%s' (write a type number without quotes)",
		     pname, text);
		return;
	}
	hint = pw_closest(text, policy_icmp_type_names(proto));
	if (hint)
		perr(ld, item, "unknown %s type name '%s' (did you mean '%s'?)",
		     pname, text, hint);
	else
		perr(ld, item, "unknown %s type name '%s'", pname, text);
}

static void policy_load_icmp(struct policy_loader *ld,
			     const struct pw_ynode *node,
			     struct policy_rule *rule)
{
	size_t i;

	if (pw_yexpect_list(ld->diags, node, "'icmp'",
			    "omit it to match every type"))
		return;
	rule->icmp =
		policy_alloc_array(ld, node->seq.count, sizeof(*rule->icmp));
	if (!rule->icmp)
		return;
	for (i = 0; i < node->seq.count; i++) {
		const struct pw_ynode *item = node->seq.items[i];
		struct policy_icmp_type *t = &rule->icmp[rule->n_icmp];
		char buf[96];
		int64_t v;

		if (item->kind == PW_YNODE_SCALAR &&
		    item->scalar.type == PW_YSCALAR_INT) {
			if (pw_ynode_int(item, &v) || v < 0 || v > 255) {
				perr(ld, item,
				     "ICMP type %s is out of range 0 to 255",
				     item->scalar.str);
				continue;
			}
			t->type = (uint8_t)v;
		} else if (item->kind == PW_YNODE_SCALAR &&
			   item->scalar.type == PW_YSCALAR_STR &&
			   !item->scalar.has_nul) {
			if (policy_icmp_type_from_name(
				    rule->proto, item->scalar.str, &t->type)) {
				policy_icmp_name_error(ld, item, rule->proto);
				continue;
			}
		} else {
			perr(ld, item,
			     "an ICMP type must be a name or a number, not %s",
			     pw_ydescribe(item, buf, sizeof(buf)));
			continue;
		}
		t->loc = item->loc;
		rule->n_icmp++;
	}
}

/* The rule's proto as written, or "any (the default)" when it has none. */
static const char *policy_proto_said(const struct pw_ynode *map)
{
	const struct pw_ynode *node = pw_ymap_get(map, "proto");

	return node ? node->scalar.str : "any (the default)";
}

static void policy_load_rule(struct policy_loader *ld,
			     const struct pw_ynode *map,
			     const struct policy_scope *scope,
			     struct policy_rule *rule)
{
	static const char *const keys[] = { "name",   "from",  "to",
					    "proto",  "ports", "icmp",
					    "action", "log",   NULL };
	const struct pw_ynode *node;
	const char *s;
	int e;

	rule->loc = map->loc;
	rule->tenant = scope->tenant;
	rule->proto = POLICY_PROTO_ANY;
	rule->proto_loc = map->loc;
	rule->action = POLICY_ACTION_DENY;
	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "a rule"))
		return;
	pw_ycheck_keys(ld->diags, map, "rule", keys);

	node = pw_yrequire(ld->diags, map, "name", "rule");
	if (node && (s = pw_yexpect_string(ld->diags, node, "'name'"))) {
		if (policy_name_ok(s, true))
			strcpy(rule->name, s);
		else
			perr(ld, node,
			     "invalid rule name '%s': names are 1 to 63 characters of a-z, A-Z, 0-9, '_', '.' and '-'",
			     s);
	}
	node = pw_yrequire(ld->diags, map, "from", "rule");
	if (node)
		policy_load_selectors(ld, node, "from", scope, &rule->from,
				      &rule->n_from);
	node = pw_yrequire(ld->diags, map, "to", "rule");
	if (node)
		policy_load_selectors(ld, node, "to", scope, &rule->to,
				      &rule->n_to);
	node = pw_ymap_get(map, "proto");
	if (node) {
		rule->proto_loc = node->loc;
		if (policy_load_proto(ld, node, &rule->proto))
			rule->proto = -2; /* unknown: skip proto checks */
	}
	node = pw_ymap_get(map, "ports");
	if (node) {
		if (rule->proto == POLICY_PROTO_TCP ||
		    rule->proto == POLICY_PROTO_UDP)
			policy_load_ports(ld, node, rule);
		else if (rule->proto != -2)
			perr(ld, node,
			     "'ports' needs proto tcp or udp, but the rule's proto is %s",
			     policy_proto_said(map));
	}
	node = pw_ymap_get(map, "icmp");
	if (node) {
		if (rule->proto == POLICY_PROTO_ICMP ||
		    rule->proto == POLICY_PROTO_ICMPV6)
			policy_load_icmp(ld, node, rule);
		else if (rule->proto != -2)
			perr(ld, node,
			     "'icmp' needs proto icmp or icmpv6, but the rule's proto is %s",
			     policy_proto_said(map));
	}
	if (rule->proto == -2)
		rule->proto = POLICY_PROTO_ANY;
	node = pw_yrequire(ld->diags, map, "action", "rule");
	if (node && !pw_yexpect_enum(ld->diags, node, "'action'",
				     policy_action_names, 3, &e))
		rule->action = (enum policy_action)e;
	node = pw_ymap_get(map, "log");
	if (node)
		pw_yexpect_bool(ld->diags, node, "'log'", &rule->log);
}

/* Rules of one list; names unique within the list. */
static void policy_load_rules(struct policy_loader *ld,
			      const struct pw_ynode *list,
			      const struct policy_scope *scope,
			      struct policy_rule **out, uint32_t *n)
{
	struct pw_strmap names; /* rule name -> first rule of that name */
	const struct policy_rule *first;
	char where[300];
	size_t i;
	int ret;

	if (pw_yexpect_kind(ld->diags, list, PW_YNODE_SEQ, "'rules'"))
		return;
	*out = policy_alloc_array(ld, list->seq.count, sizeof(**out));
	if (!*out)
		return;
	pw_strmap_init(&names);
	for (i = 0; i < list->seq.count; i++) {
		const struct pw_ynode *map = list->seq.items[i];
		struct policy_rule *rule = &(*out)[*n];

		policy_load_rule(ld, map, scope, rule);
		rule->index = *n;
		(*n)++;
		if (!rule->name[0])
			continue;
		ret = pw_strmap_add(&names, rule->name, strlen(rule->name),
				    rule, (void **)&first);
		if (ret == -ENOMEM) {
			ld->err = ret;
			break;
		}
		if (ret == -EEXIST)
			pw_error(
				ld->diags,
				policy_loc_in(map, pw_ymap_get(map, "name")),
				"duplicate rule name '%s' in %s (first defined at %s)",
				rule->name, scope->what,
				pw_loc_str(&first->loc, where, sizeof(where)));
	}
	pw_strmap_free(&names);
}

/* ---- tenants ------------------------------------------------------------ */

static bool policy_ifname_ok(const char *s)
{
	size_t len = strlen(s), i;

	/* Linux dev_valid_name(): not ".", "..", no '/', ':' or space. */
	if (len < 1 || len > POLICY_IFNAME_MAX || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ' ||
		    s[i] == 0x7f)
			return false;
	return true;
}

static void policy_load_interfaces(struct policy_loader *ld,
				   const struct pw_ynode *list,
				   struct policy_tenant *t)
{
	size_t i;
	uint32_t j;

	if (pw_yexpect_list(ld->diags, list, "'interfaces'", NULL))
		return;
	t->interfaces =
		policy_alloc_array(ld, list->seq.count, sizeof(*t->interfaces));
	if (!t->interfaces)
		return;
	for (i = 0; i < list->seq.count; i++) {
		const struct pw_ynode *item = list->seq.items[i];
		const char *s =
			pw_yexpect_string(ld->diags, item, "an interface name");

		if (!s)
			continue;
		if (!policy_ifname_ok(s)) {
			perr(ld, item,
			     "invalid interface name '%s': 1 to 15 characters without '/', ':' or spaces",
			     s);
			continue;
		}
		for (j = 0; j < t->n_interfaces; j++)
			if (!strcmp(t->interfaces[j].name, s))
				break;
		if (j < t->n_interfaces) {
			perr(ld, item, "interface '%s' is listed twice", s);
			continue;
		}
		strcpy(t->interfaces[t->n_interfaces].name, s);
		t->interfaces[t->n_interfaces++].loc =
			policy_item_loc(&t->loc, list, item);
	}
}

static void policy_load_vlans(struct policy_loader *ld,
			      const struct pw_ynode *list,
			      struct policy_tenant *t)
{
	size_t i;
	uint32_t j;
	int64_t v;

	if (pw_yexpect_list(ld->diags, list, "'vlans'",
			    "omit it for untagged traffic"))
		return;
	t->vlans = policy_alloc_array(ld, list->seq.count, sizeof(*t->vlans));
	if (!t->vlans)
		return;
	for (i = 0; i < list->seq.count; i++) {
		const struct pw_ynode *item = list->seq.items[i];

		if (pw_yexpect_int(ld->diags, item, "a VLAN id",
				   POLICY_VLAN_MIN, POLICY_VLAN_MAX, &v))
			continue;
		for (j = 0; j < t->n_vlans; j++)
			if (t->vlans[j].id == v)
				break;
		if (j < t->n_vlans) {
			perr(ld, item, "VLAN %lld is listed twice",
			     (long long)v);
			continue;
		}
		t->vlans[t->n_vlans].id = (uint16_t)v;
		t->vlans[t->n_vlans++].loc =
			policy_item_loc(&t->loc, list, item);
	}
}

/* The tenant's own fields and segments; rules come in a later pass. */
static void policy_load_tenant(struct policy_loader *ld,
			       const struct pw_ynode *map,
			       struct policy_tenant *t, int index,
			       uint32_t *seg_order)
{
	static const char *const keys[] = { "name",  "id",	  "interfaces",
					    "vlans", "default",	  "log_default",
					    "mode",  "flow_logs", "segments",
					    "rules", NULL };
	const struct pw_ynode *node;
	const char *s;
	int64_t v;
	int e;

	t->loc = map->loc;
	t->default_action = POLICY_ACTION_DENY;
	t->mode = POLICY_MODE_ENFORCE;
	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "a tenant"))
		return;
	pw_ycheck_keys(ld->diags, map, "tenant", keys);

	node = pw_yrequire(ld->diags, map, "name", "tenant");
	if (node && (s = pw_yexpect_string(ld->diags, node, "'name'"))) {
		if (policy_name_ok(s, false))
			strcpy(t->name, s);
		else
			perr(ld, node, "invalid tenant name '%s': names are %s",
			     s, policy_name_rule_text);
	}
	node = pw_ymap_get(map, "id");
	if (node &&
	    !pw_yexpect_int(ld->diags, node, "'id'", POLICY_TENANT_ID_MIN,
			    POLICY_TENANT_ID_MAX, &v)) {
		t->id = (uint16_t)v;
		t->id_explicit = true;
	}
	node = pw_yrequire(ld->diags, map, "interfaces", "tenant");
	if (node)
		policy_load_interfaces(ld, node, t);
	node = pw_ymap_get(map, "vlans");
	if (node)
		policy_load_vlans(ld, node, t);
	node = pw_ymap_get(map, "default");
	if (node && !pw_yexpect_enum(ld->diags, node, "'default'",
				     policy_action_names, 3, &e))
		t->default_action = (enum policy_action)e;
	/* log_default follows default unless given (section 3). */
	t->log_default = t->default_action != POLICY_ACTION_ALLOW;
	node = pw_ymap_get(map, "log_default");
	if (node)
		pw_yexpect_bool(ld->diags, node, "'log_default'",
				&t->log_default);
	node = pw_ymap_get(map, "mode");
	if (node && !pw_yexpect_enum(ld->diags, node, "'mode'",
				     policy_mode_names, 2, &e))
		t->mode = (enum policy_mode)e;
	node = pw_ymap_get(map, "flow_logs");
	if (node)
		pw_yexpect_bool(ld->diags, node, "'flow_logs'", &t->flow_logs);
	node = pw_ymap_get(map, "segments");
	if (node) {
		size_t n = node->kind == PW_YNODE_MAP ? node->map.count : 0;

		t->segments = policy_alloc_array(ld, n, sizeof(*t->segments));
		if (t->segments)
			policy_load_segments(ld, node, index, t->segments,
					     &t->n_segments, seg_order);
	}
}

/* "tenant 'acme'" for messages, also when the name was refused. */
static const char *policy_tenant_what(const struct pw_ynode *map,
				      const struct policy_tenant *t,
				      uint32_t index, char *buf, size_t size)
{
	const struct pw_ynode *name = pw_ymap_get(map, "name");

	if (t->name[0])
		snprintf(buf, size, "tenant '%s'", t->name);
	else if (name && name->kind == PW_YNODE_SCALAR &&
		 name->scalar.type == PW_YSCALAR_STR && name->scalar.len &&
		 !name->scalar.has_nul)
		snprintf(buf, size, "tenant '%.40s'", name->scalar.str);
	else
		snprintf(buf, size, "tenant #%u", index + 1);
	return buf;
}

/*
 * Names and ids unique; ids assigned to the tenants without one, in file
 * order, each the smallest id no tenant uses; every (interface, VLAN) pair
 * owned by one tenant (VLAN 0 standing for untagged).
 */
static void policy_check_tenants(struct policy_loader *ld,
				 const struct pw_ynode **nodes)
{
	struct policy *pol = ld->pol;
	char where[300], what[64];
	uint32_t i, j, a, b, next_id = POLICY_TENANT_ID_MIN;

	for (i = 0; i < pol->n_tenants; i++) {
		struct policy_tenant *t = &pol->tenants[i];

		for (j = 0; j < i && t->name[0]; j++) {
			if (strcmp(pol->tenants[j].name, t->name))
				continue;
			pw_error(
				ld->diags,
				policy_loc_in(nodes[i],
					      pw_ymap_get(nodes[i], "name")),
				"duplicate tenant name '%s' (first defined at %s)",
				t->name,
				pw_loc_str(&pol->tenants[j].loc, where,
					   sizeof(where)));
			break;
		}
		for (j = 0; j < i && t->id_explicit; j++) {
			if (!pol->tenants[j].id_explicit ||
			    pol->tenants[j].id != t->id)
				continue;
			pw_error(ld->diags,
				 policy_loc_in(nodes[i],
					       pw_ymap_get(nodes[i], "id")),
				 "tenant id %u is already used by %s (%s)",
				 t->id,
				 policy_tenant_what(nodes[j], &pol->tenants[j],
						    j, what, sizeof(what)),
				 pw_loc_str(&pol->tenants[j].loc, where,
					    sizeof(where)));
			break;
		}
	}
	for (i = 0; i < pol->n_tenants; i++) {
		struct policy_tenant *t = &pol->tenants[i];
		bool used;

		if (t->id_explicit)
			continue;
		do {
			used = false;
			for (j = 0; j < pol->n_tenants && !used; j++)
				if ((pol->tenants[j].id_explicit || j < i) &&
				    pol->tenants[j].id == next_id)
					used = true;
			if (used)
				next_id++;
		} while (used && next_id <= POLICY_TENANT_ID_MAX);
		if (next_id > POLICY_TENANT_ID_MAX) {
			perr(ld, nodes[i], "no tenant id left for tenant '%s'",
			     t->name);
			continue;
		}
		t->id = (uint16_t)next_id++;
	}

	for (i = 0; i < pol->n_tenants; i++) {
		const struct policy_tenant *t = &pol->tenants[i];

		for (a = 0; a < t->n_interfaces; a++) {
			const struct policy_interface *ifc = &t->interfaces[a];
			uint32_t n = t->n_vlans ? t->n_vlans : 1;

			for (b = 0; b < n; b++) {
				uint16_t vlan = t->n_vlans ? t->vlans[b].id : 0;
				const struct pw_loc *loc =
					t->n_vlans ? &t->vlans[b].loc :
						     &ifc->loc;
				const struct policy_tenant *owner = NULL;
				uint32_t k, c, d;

				for (k = 0; k < i && !owner; k++) {
					const struct policy_tenant *o =
						&pol->tenants[k];

					for (c = 0; c < o->n_interfaces; c++) {
						if (strcmp(o->interfaces[c].name,
							   ifc->name))
							continue;
						if (!o->n_vlans && !vlan)
							owner = o;
						for (d = 0; d < o->n_vlans; d++)
							if (o->vlans[d].id ==
							    vlan)
								owner = o;
					}
				}
				if (!owner)
					continue;
				pw_loc_str(&owner->loc, where, sizeof(where));
				k = (uint32_t)(owner - pol->tenants);
				policy_tenant_what(nodes[k], owner, k, what,
						   sizeof(what));
				if (vlan)
					pw_error(
						ld->diags, loc,
						"VLAN %u on interface '%s' is already owned by %s (%s)",
						vlan, ifc->name, what, where);
				else
					pw_error(
						ld->diags, loc,
						"untagged traffic on interface '%s' is already owned by %s (%s)",
						ifc->name, what, where);
			}
		}
	}
}

/* ---- files ---------------------------------------------------------------- */

/* The key node of @key in @map, NULL when absent. */
static const struct pw_ynode *policy_map_key(const struct pw_ynode *map,
					     const char *key)
{
	size_t i;

	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *k = map->map.pairs[i].key;

		if (!k->scalar.has_nul && !strcmp(k->scalar.str, key))
			return k;
	}
	return NULL;
}

/* @file is not merged (its errors are reported). */
static void policy_unread(struct policy_loader *ld, const char *file)
{
	if (!ld->n_unread++)
		ld->unread = file;
}

/* Pass 1 for one document: the top-level mapping. */
static void policy_gather(struct policy_loader *ld, const struct pw_ydoc *doc)
{
	static const char *const keys[] = { "version", "settings", "segments",
					    "rules",   "tenants",  NULL };
	const struct pw_ynode *root = pw_ydoc_root(doc);
	const struct pw_ynode *node, *key;
	char where[300], buf[96];
	int64_t v;
	size_t i;

	if (!ld->first_start)
		ld->first_start = pw_ydoc_start(doc);
	if (!root || (root->kind == PW_YNODE_SCALAR &&
		      root->scalar.type == PW_YSCALAR_NULL)) {
		pw_error(
			ld->diags, pw_ydoc_start(doc),
			"empty policy file: expected a mapping with 'version' and 'tenants'");
		return;
	}
	if (root->kind != PW_YNODE_MAP) {
		perr(ld, root,
		     "a policy file must be a mapping with 'version' and 'tenants', not %s",
		     pw_ydescribe(root, buf, sizeof(buf)));
		return;
	}
	if (!ld->first_root)
		ld->first_root = root;
	pw_ycheck_keys(ld->diags, root, "policy", keys);

	node = pw_yrequire(ld->diags, root, "version", "policy");
	if (node) {
		if (pw_ynode_int(node, &v) == -EINVAL)
			perr(ld, node,
			     "'version' must be the integer 1, not %s",
			     pw_ydescribe(node, buf, sizeof(buf)));
		else if (v != POLICY_VERSION) {
			/* Another language: its sections mean something
			 * else, so they are not merged. */
			perr(ld, node,
			     "unsupported policy version %s: this plumwall reads version 1",
			     node->scalar.str);
			policy_unread(ld, pw_ydoc_start(doc)->file);
			return;
		}
	}

	/* Reported at the keys: the second `settings:` is the problem. */
	key = policy_map_key(root, "settings");
	if (key && ld->settings) {
		perr(ld, key,
		     "'settings' may appear in only one file (already given at %s)",
		     pw_loc_str(&ld->settings_key->loc, where, sizeof(where)));
	} else if (key) {
		ld->settings = pw_ymap_get(root, "settings");
		ld->settings_key = key;
	}

	key = policy_map_key(root, "rules");
	if (key && ld->rules) {
		perr(ld, key,
		     "global 'rules' may appear in only one file (already given at %s)",
		     pw_loc_str(&ld->rules_key->loc, where, sizeof(where)));
	} else if (key) {
		ld->rules = pw_ymap_get(root, "rules");
		ld->rules_key = key;
	}

	node = pw_ymap_get(root, "segments");
	if (node)
		ld->segment_maps[ld->n_segment_maps++] = node;

	node = pw_ymap_get(root, "tenants");
	if (node && !pw_yexpect_list(ld->diags, node, "'tenants'",
				     "a policy needs at least one tenant")) {
		const struct pw_ynode **grown;

		grown = realloc(ld->tenant_nodes,
				(ld->n_tenant_nodes + node->seq.count) *
					sizeof(*grown));
		if (!grown) {
			ld->err = -ENOMEM;
			return;
		}
		ld->tenant_nodes = grown;
		for (i = 0; i < node->seq.count; i++)
			ld->tenant_nodes[ld->n_tenant_nodes++] =
				node->seq.items[i];
	}
}

static void policy_build(struct policy_loader *ld)
{
	struct policy *pol = ld->pol;
	struct policy_scope scope = { .tenant = -1, .what = "global rules" };
	uint32_t seg_order = 0, i, id = 0, j;
	size_t n_segs = 0;
	char what[64];

	pol->settings.unmatched = POLICY_ACTION_DENY;
	pol->settings.non_ip = POLICY_ACTION_ALLOW;
	pol->settings.log_rate = 100;
	pol->settings.ct_max_entries = 262144;
	memcpy(pol->settings.timeouts, policy_timeout_defaults,
	       sizeof(pol->settings.timeouts));
	if (ld->settings)
		policy_load_settings(ld, ld->settings);

	for (i = 0; i < ld->n_segment_maps; i++)
		if (ld->segment_maps[i]->kind == PW_YNODE_MAP)
			n_segs += ld->segment_maps[i]->map.count;
	pol->segments = policy_alloc_array(ld, n_segs, sizeof(*pol->segments));
	if (!pol->segments)
		return;
	/* Global segments of every file append to one list, so names are
	 * checked across files. */
	for (i = 0; i < ld->n_segment_maps; i++)
		policy_load_segments(ld, ld->segment_maps[i], -1, pol->segments,
				     &pol->n_segments, &seg_order);

	/* An unread file may hold the tenants: its own error says enough. */
	if (ld->n_tenant_nodes == 0 && ld->first_root && !ld->n_unread &&
	    !pw_ymap_get(ld->first_root, "tenants"))
		perr(ld, ld->first_root,
		     "missing required key 'tenants' in policy: a policy needs at least one tenant");
	pol->tenants = policy_alloc_array(ld, ld->n_tenant_nodes,
					  sizeof(*pol->tenants));
	if (!pol->tenants)
		return;
	pol->priv->tenant_segments = calloc(
		ld->n_tenant_nodes ?: 1, sizeof(*pol->priv->tenant_segments));
	if (!pol->priv->tenant_segments) {
		ld->err = -ENOMEM;
		return;
	}
	pol->n_tenants = (uint32_t)ld->n_tenant_nodes;
	for (i = 0; i < pol->n_tenants; i++)
		policy_load_tenant(ld, ld->tenant_nodes[i], &pol->tenants[i],
				   (int)i, &seg_order);

	if (ld->rules)
		policy_load_rules(ld, ld->rules, &scope, &pol->rules,
				  &pol->n_rules);
	for (i = 0; i < pol->n_tenants; i++) {
		const struct pw_ynode *rules;

		if (ld->tenant_nodes[i]->kind != PW_YNODE_MAP)
			continue;
		rules = pw_ymap_get(ld->tenant_nodes[i], "rules");
		if (!rules)
			continue;
		policy_tenant_what(ld->tenant_nodes[i], &pol->tenants[i], i,
				   what, sizeof(what));
		scope.tenant = (int)i;
		scope.what = what;
		policy_load_rules(ld, rules, &scope, &pol->tenants[i].rules,
				  &pol->tenants[i].n_rules);
	}

	for (i = 0; i < pol->n_rules; i++)
		pol->rules[i].id = id++;
	for (i = 0; i < pol->n_tenants; i++)
		for (j = 0; j < pol->tenants[i].n_rules; j++)
			pol->tenants[i].rules[j].id = id++;
	pol->n_rules_total = id;

	policy_check_tenants(ld, ld->tenant_nodes);
}

static int policy_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool policy_is_yaml_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false; /* editor swap files, hidden files */
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

/* The files of @path: itself, or its YAML files in byte order. */
static int policy_list_files(struct policy_loader *ld, const char *path)
{
	struct policy *pol = ld->pol;
	struct pw_loc loc = { .file = path };
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	DIR *dir;
	int ret = 0;

	if (stat(path, &st)) {
		ret = -errno;
		pw_error(ld->diags, &loc, "cannot read policy: %s",
			 strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		pol->files = pw_arena_array(ld->arena, 1, sizeof(*pol->files));
		if (!pol->files)
			return -ENOMEM;
		pol->files[0] = pw_arena_strdup(ld->arena, path);
		if (!pol->files[0])
			return -ENOMEM;
		pol->n_files = 1;
		return 0;
	}
	dir = opendir(path);
	if (!dir) {
		ret = -errno;
		pw_error(ld->diags, &loc, "cannot read policy directory: %s",
			 strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		char *full;

		if (!policy_is_yaml_name(de->d_name))
			continue;
		if (asprintf(&full, "%s%s%s", path,
			     path[strlen(path) - 1] == '/' ? "" : "/",
			     de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		/* A *.yaml entry that cannot be read is an error, not
		 * skipped: a dangling link or a FIFO named like a policy
		 * file would otherwise leave part of the policy out without
		 * a word. Only subdirectories are passed over. */
		if (!stat(full, &st) && S_ISDIR(st.st_mode)) {
			/* subdirectories are not read (as before) */
			free(full);
			continue;
		}
		if (stat(full, &st) || !S_ISREG(st.st_mode)) {
			struct pw_loc floc = { .file = pw_arena_strdup(
						       ld->arena, full) };
			int err = errno;

			if (!stat(full, &st))
				pw_error(
					ld->diags, &floc,
					"cannot read policy file: %s, not a regular file",
					pw_file_kind(st.st_mode));
			else
				pw_error(
					ld->diags, &floc,
					"cannot read policy file: %s%s",
					strerror(err),
					err == ENOENT ?
						" (a symbolic link to nothing)" :
						"");
			/* The other files are still read: all errors in
			 * one run. */
			free(full);
			continue;
		}
		if (pol->n_files == cap) {
			char **grown;

			cap = cap ? cap * 2 : 8;
			grown = pw_arena_array(ld->arena, cap, sizeof(*grown));
			if (!grown) {
				free(full);
				ret = -ENOMEM;
				break;
			}
			if (pol->n_files)
				memcpy(grown, pol->files,
				       pol->n_files * sizeof(*grown));
			pol->files = grown;
		}
		pol->files[pol->n_files] = pw_arena_strdup(ld->arena, full);
		free(full);
		if (!pol->files[pol->n_files]) {
			ret = -ENOMEM;
			break;
		}
		pol->n_files++;
	}
	closedir(dir);
	if (ret)
		return ret;
	if (!pol->n_files) {
		pw_error(ld->diags, &loc,
			 "policy directory has no *.yaml or *.yml files");
		return -ENOENT;
	}
	qsort(pol->files, pol->n_files, sizeof(*pol->files), policy_name_cmp);
	return 0;
}

/*
 * Load from @path, or when @buf is set, from that buffer named @path.
 */
static int policy_load_common(const char *path, const char *buf, size_t len,
			      struct pw_diags *diags, struct policy **out)
{
	struct policy_loader ld = { .diags = diags };
	size_t errors_before = diags->n_errors;
	struct policy *pol;
	uint32_t i;
	int ret;

	*out = NULL;
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return -ENOMEM;
	pol->priv = calloc(1, sizeof(*pol->priv));
	if (!pol->priv) {
		free(pol);
		return -ENOMEM;
	}
	ld.pol = pol;
	ld.arena = pol->priv->arena = pw_arena_new();
	if (!ld.arena) {
		ret = -ENOMEM;
		goto out;
	}
	pol->path = pw_arena_strdup(ld.arena, path);
	if (!pol->path) {
		ret = -ENOMEM;
		goto out;
	}

	if (buf) {
		pol->files = pw_arena_array(ld.arena, 1, sizeof(*pol->files));
		if (!pol->files) {
			ret = -ENOMEM;
			goto out;
		}
		pol->files[0] = pol->path;
		pol->n_files = 1;
	} else {
		ret = policy_list_files(&ld, path);
		if (ret)
			goto out;
	}

	/* n_files >= 1 here: policy_list_files() fails on none (the analyzer
	 * supposes a failed stat() may leave errno 0).
	 * NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	pol->priv->docs = calloc(pol->n_files, sizeof(*pol->priv->docs));
	ld.segment_maps = calloc(pol->n_files, sizeof(*ld.segment_maps));
	if (!pol->priv->docs || !ld.segment_maps) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < pol->n_files; i++) {
		struct pw_ydoc *doc;

		if (buf)
			ret = pw_ydoc_load_buffer(path, buf, len, diags, &doc);
		else
			ret = pw_ydoc_load_file(pol->files[i], diags, &doc);
		if (ret == -ENOMEM)
			goto out;
		if (ret) {
			/* reported; the other files are checked all the
			 * same */
			policy_unread(&ld, pol->files[i]);
			continue;
		}
		pol->priv->docs[pol->priv->n_docs++] = doc;
		policy_gather(&ld, doc);
	}
	/* Semantic checks of the files that were read, also when another
	 * file could not be: every problem of every file in one run. What
	 * an unread file may define is said at the undefined segments. */
	if (!ld.err)
		policy_build(&ld);
	ret = ld.err;
	if (!ret && diags->n_errors > errors_before)
		ret = -EINVAL;
out:
	free(ld.segment_maps);
	free(ld.tenant_nodes);
	if (ret) {
		policy_free(pol);
		return ret;
	}
	*out = pol;
	return 0;
}

int policy_load(const char *path, struct pw_diags *diags, struct policy **out)
{
	return policy_load_common(path, NULL, 0, diags, out);
}

int policy_load_buffer(const char *name, const char *buf, size_t len,
		       struct pw_diags *diags, struct policy **out)
{
	return policy_load_common(name, buf, len, diags, out);
}

void policy_free(struct policy *pol)
{
	size_t i;

	if (!pol)
		return;
	if (pol->priv) {
		for (i = 0; i < pol->priv->n_docs; i++)
			pw_ydoc_free(pol->priv->docs[i]);
		free(pol->priv->docs);
		pw_strmap_free(&pol->priv->global_segments);
		for (i = 0; pol->priv->tenant_segments && i < pol->n_tenants;
		     i++)
			pw_strmap_free(&pol->priv->tenant_segments[i]);
		free(pol->priv->tenant_segments);
		pw_arena_free(pol->priv->arena);
		free(pol->priv);
	}
	free(pol);
}

const struct policy_rule *policy_rule_by_id(const struct policy *pol,
					    uint32_t id)
{
	uint32_t i;

	if (id < pol->n_rules)
		return &pol->rules[id];
	id -= pol->n_rules;
	for (i = 0; i < pol->n_tenants; i++) {
		if (id < pol->tenants[i].n_rules)
			return &pol->tenants[i].rules[id];
		id -= pol->tenants[i].n_rules;
	}
	return NULL;
}
