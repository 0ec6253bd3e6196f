/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checks of located YAML nodes shared by every reader (policy, configuration).
 *
 * Each check records a FILE:LINE:COLUMN error in @diags pointing at the
 * offending node and returns a failure, so a reader can go on with a safe
 * stand-in and report every problem in one run. @what names the value in
 * messages, quoted as the user wrote it ("'ports'") or described ("a rule").
 */
#ifndef PLUMWALL_YCHECK_H
#define PLUMWALL_YCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/diag.h>
#include <plumwall/yaml.h>

/* "a string 'abc'" / "an integer 5" / "a list": what the user wrote. */
const char *pw_ydescribe(const struct pw_ynode *node, char *buf, size_t size);

/* Most keys a pw_ycheck_keys() list may hold. */
#define PW_YCHECK_MAX_KEYS 32

/*
 * Report every key of @map not in @allowed (NULL-terminated, at most
 * PW_YCHECK_MAX_KEYS) as an error, naming @what ("rule", "tenant", ...)
 * and a likely intended key among those @map does not have yet.
 */
void pw_ycheck_keys(struct pw_diags *diags, const struct pw_ynode *map,
		    const char *what, const char *const *allowed);

/* The value of required key @key, or NULL after an error at @map. */
const struct pw_ynode *pw_yrequire(struct pw_diags *diags,
				   const struct pw_ynode *map, const char *key,
				   const char *what);

/* 0, or -EINVAL after "WHAT must be a mapping/a list, not ...". */
int pw_yexpect_kind(struct pw_diags *diags, const struct pw_ynode *node,
		    enum pw_ynode_kind kind, const char *what);

/* A non-empty list; @empty_hint (optional) is added to the "must not be
 * empty" message. */
int pw_yexpect_list(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, const char *empty_hint);

/* A string scalar without NUL characters, or NULL after an error. */
const char *pw_yexpect_string(struct pw_diags *diags,
			      const struct pw_ynode *node, const char *what);

int pw_yexpect_bool(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, bool *value);

/* An integer from @min to @max. */
int pw_yexpect_int(struct pw_diags *diags, const struct pw_ynode *node,
		   const char *what, int64_t min, int64_t max, int64_t *value);

/* One of @names (NULL-terminated), the first @n_allowed of them allowed;
 * *@value is its index. */
int pw_yexpect_enum(struct pw_diags *diags, const struct pw_ynode *node,
		    const char *what, const char *const *names, int n_allowed,
		    int *value);

#endif /* PLUMWALL_YCHECK_H */
