/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Diagnostics: errors and warnings that point at a place in an input file.
 *
 * Every reader (policy, configuration) collects all of its problems into one
 * pw_diags list instead of stopping at the first, so a user fixes a file in
 * one round. A diagnostic is printed as "FILE:LINE:COLUMN: error: MESSAGE"
 * (policy.md section 8); LINE and COLUMN are 1-based.
 */
#ifndef PLUMWALL_DIAG_H
#define PLUMWALL_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A place in an input file. @file is owned by whoever made the location
 * (the YAML reader keeps one copy per file for the lifetime of its tree). */
struct pw_loc {
	const char *file;
	uint32_t line;
	uint32_t col;
};

enum pw_severity {
	PW_SEV_ERROR,
	PW_SEV_WARNING,
};

struct pw_diag {
	enum pw_severity severity;
	struct pw_loc loc;
	char *file; /* owned copy of loc.file, survives the tree */
	char *message;
};

struct pw_diags {
	struct pw_diag *items;
	size_t count;
	size_t cap;
	size_t n_errors;
	size_t n_warnings;
};

void pw_diags_init(struct pw_diags *diags);
void pw_diags_free(struct pw_diags *diags);

/* Record a diagnostic. Allocation failure is recorded as a bare error so a
 * failing reader still fails, never silently succeeds. */
void pw_diag_add(struct pw_diags *diags, enum pw_severity severity,
		 const struct pw_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pw_error(diags, loc, ...) \
	pw_diag_add((diags), PW_SEV_ERROR, (loc), __VA_ARGS__)
#define pw_warning(diags, loc, ...) \
	pw_diag_add((diags), PW_SEV_WARNING, (loc), __VA_ARGS__)

/* Stable sort: by file order of first appearance, then line, column. */
void pw_diags_sort(struct pw_diags *diags);

/* Print every diagnostic as FILE:LINE:COLUMN: SEVERITY: MESSAGE, or as
 * FILE: SEVERITY: MESSAGE when it concerns a whole file (line 0). */
void pw_diags_print(const struct pw_diags *diags, FILE *out);

/*
 * The candidate closest to @word by edit distance, when close enough to be a
 * likely typo (at most 2 edits, and fewer than half of @word's length), for
 * "did you mean" hints; NULL otherwise. @candidates is NULL-terminated.
 */
const char *pw_closest(const char *word, const char *const *candidates);

/* Format "FILE:LINE:COLUMN" of @loc into @buf. */
const char *pw_loc_str(const struct pw_loc *loc, char *buf, size_t size);

#endif /* PLUMWALL_DIAG_H */
