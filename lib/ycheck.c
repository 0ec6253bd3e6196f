// SPDX-License-Identifier: GPL-2.0
/*
 * Checks of located YAML nodes shared by the policy and configuration
 * readers (include/plumwall/ycheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <plumwall/ycheck.h>

#define yerr(diags, node, ...) pw_error((diags), &(node)->loc, __VA_ARGS__)

const char *pw_ydescribe(const struct pw_ynode *node, char *buf, size_t size)
{
	const char *what = pw_ynode_describe(node);

	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type != PW_YSCALAR_NULL) {
		if (node->scalar.len > 40)
			snprintf(buf, size, "%s '%.40s...'", what,
				 node->scalar.str);
		else
			snprintf(buf, size, "%s '%s'", what, node->scalar.str);
		return buf;
	}
	return what;
}

/* True when @map has the key @name. */
static bool pw_ymap_has_key(const struct pw_ynode *map, const char *name)
{
	size_t i;

	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *key = map->map.pairs[i].key;

		if (!key->scalar.has_nul && !strcmp(key->scalar.str, name))
			return true;
	}
	return false;
}

void pw_ycheck_keys(struct pw_diags *diags, const struct pw_ynode *map,
		    const char *what, const char *const *allowed)
{
	const char *absent[PW_YCHECK_MAX_KEYS + 1];
	size_t i, j, n = 0;

	/* A hint names a key the mapping still lacks: `prots:` beside
	 * `proto:` means `ports`, since `proto` is there already. */
	for (j = 0; allowed[j] && n < PW_YCHECK_MAX_KEYS; j++)
		if (!pw_ymap_has_key(map, allowed[j]))
			absent[n++] = allowed[j];
	absent[n] = NULL;

	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *key = map->map.pairs[i].key;
		const char *hint;
		bool known = false;

		for (j = 0; allowed[j]; j++)
			if (!key->scalar.has_nul &&
			    !strcmp(key->scalar.str, allowed[j]))
				known = true;
		if (known)
			continue;
		hint = pw_closest(key->scalar.str, absent);
		if (hint)
			yerr(diags, key,
			     "unknown key '%s' in %s (did you mean '%s'?)",
			     key->scalar.str, what, hint);
		else
			yerr(diags, key, "unknown key '%s' in %s",
			     key->scalar.str, what);
	}
}

const struct pw_ynode *pw_yrequire(struct pw_diags *diags,
				   const struct pw_ynode *map, const char *key,
				   const char *what)
{
	const struct pw_ynode *node = pw_ymap_get(map, key);

	if (!node)
		yerr(diags, map, "missing required key '%s' in %s", key, what);
	return node;
}

int pw_yexpect_kind(struct pw_diags *diags, const struct pw_ynode *node,
		    enum pw_ynode_kind kind, const char *what)
{
	char buf[96];

	if (node->kind == kind)
		return 0;
	yerr(diags, node, "%s must be %s, not %s", what,
	     kind == PW_YNODE_MAP ? "a mapping" : "a list",
	     pw_ydescribe(node, buf, sizeof(buf)));
	return -EINVAL;
}

int pw_yexpect_list(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, const char *empty_hint)
{
	if (pw_yexpect_kind(diags, node, PW_YNODE_SEQ, what))
		return -EINVAL;
	if (node->seq.count == 0) {
		yerr(diags, node, "%s must not be empty%s%s", what,
		     empty_hint ? ": " : "", empty_hint ? empty_hint : "");
		return -EINVAL;
	}
	return 0;
}

const char *pw_yexpect_string(struct pw_diags *diags,
			      const struct pw_ynode *node, const char *what)
{
	char buf[96];

	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type == PW_YSCALAR_STR && !node->scalar.has_nul)
		return node->scalar.str;
	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type == PW_YSCALAR_STR)
		yerr(diags, node, "%s must not contain a NUL character", what);
	else
		yerr(diags, node, "%s must be a string, not %s", what,
		     pw_ydescribe(node, buf, sizeof(buf)));
	return NULL;
}

int pw_yexpect_bool(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, bool *value)
{
	char buf[96];

	if (!pw_ynode_bool(node, value))
		return 0;
	yerr(diags, node, "%s must be true or false, not %s", what,
	     pw_ydescribe(node, buf, sizeof(buf)));
	return -EINVAL;
}

int pw_yexpect_int(struct pw_diags *diags, const struct pw_ynode *node,
		   const char *what, int64_t min, int64_t max, int64_t *value)
{
	char buf[96];
	int ret = pw_ynode_int(node, value);

	if (ret == -EINVAL) {
		yerr(diags, node,
		     "%s must be an integer from %lld to %lld, not %s", what,
		     (long long)min, (long long)max,
		     pw_ydescribe(node, buf, sizeof(buf)));
		return ret;
	}
	if (ret || *value < min || *value > max) {
		yerr(diags, node, "%s must be from %lld to %lld, not %s", what,
		     (long long)min, (long long)max, node->scalar.str);
		return -ERANGE;
	}
	return 0;
}

int pw_yexpect_enum(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, const char *const *names, int n_allowed,
		    int *value)
{
	char list[512] = "", buf[96];
	const char *s = NULL;
	size_t len = 0;
	int i;

	if (node->kind == PW_YNODE_SCALAR &&
	    node->scalar.type == PW_YSCALAR_STR && !node->scalar.has_nul)
		s = node->scalar.str;
	for (i = 0; s && i < n_allowed; i++) {
		if (!strcmp(s, names[i])) {
			*value = i;
			return 0;
		}
	}
	for (i = 0; i < n_allowed && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				names[i],
				i < n_allowed - 2  ? ", " :
				i == n_allowed - 2 ? " or " :
						     "");
	/* A string is quoted as written; anything else is described, so
	 * `default: 1` does not read as "must be a string". */
	if (s)
		yerr(diags, node, "%s must be %s, not '%s'", what, list, s);
	else
		yerr(diags, node, "%s must be %s, not %s", what, list,
		     pw_ydescribe(node, buf, sizeof(buf)));
	return -EINVAL;
}
