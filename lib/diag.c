// SPDX-License-Identifier: GPL-2.0
/* Diagnostics with source locations (see include/plumwall/diag.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <plumwall/diag.h>

void pw_diags_init(struct pw_diags *diags)
{
	memset(diags, 0, sizeof(*diags));
}

void pw_diags_free(struct pw_diags *diags)
{
	size_t i;

	for (i = 0; i < diags->count; i++) {
		free(diags->items[i].file);
		free(diags->items[i].message);
	}
	free(diags->items);
	pw_diags_init(diags);
}

void pw_diag_add(struct pw_diags *diags, enum pw_severity severity,
		 const struct pw_loc *loc, const char *fmt, ...)
{
	static const char oom[] = "out of memory while recording a diagnostic";
	struct pw_diag *diag;
	va_list ap;
	int ret;

	if (severity == PW_SEV_ERROR)
		diags->n_errors++;
	else
		diags->n_warnings++;

	if (diags->count == diags->cap) {
		size_t cap = diags->cap ? diags->cap * 2 : 16;
		struct pw_diag *items;

		items = realloc(diags->items, cap * sizeof(*items));
		if (!items)
			return; /* n_errors still counts it */
		diags->items = items;
		diags->cap = cap;
	}
	diag = &diags->items[diags->count++];
	memset(diag, 0, sizeof(*diag));
	diag->severity = severity;
	if (loc) {
		diag->loc = *loc;
		diag->file = loc->file ? strdup(loc->file) : NULL;
	}
	diag->loc.file = diag->file;

	va_start(ap, fmt);
	ret = vasprintf(&diag->message, fmt, ap);
	va_end(ap);
	if (ret < 0)
		diag->message = strdup(oom);
}

static int pw_diag_cmp(const void *a, const void *b)
{
	const struct pw_diag *da = a, *db = b;
	int ret;

	/* Diagnostics without a place (I/O errors) come first. */
	if (!da->file || !db->file) {
		if (da->file != db->file)
			return da->file ? 1 : -1;
	} else {
		ret = strcmp(da->file, db->file);
		if (ret)
			return ret;
	}
	if (da->loc.line != db->loc.line)
		return da->loc.line < db->loc.line ? -1 : 1;
	if (da->loc.col != db->loc.col)
		return da->loc.col < db->loc.col ? -1 : 1;
	return 0;
}

/*
 * Insertion sort: stable (two problems at one node keep the order they were
 * found in) and lists are short. Files of a policy directory are read in
 * byte order of their names, so strcmp order is read order.
 */
void pw_diags_sort(struct pw_diags *diags)
{
	size_t i, j;

	for (i = 1; i < diags->count; i++) {
		struct pw_diag tmp = diags->items[i];

		for (j = i; j > 0 && pw_diag_cmp(&diags->items[j - 1], &tmp) > 0;
		     j--)
			diags->items[j] = diags->items[j - 1];
		diags->items[j] = tmp;
	}
}

const char *pw_loc_str(const struct pw_loc *loc, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%u:%u", loc->file ? loc->file : "?", loc->line,
		 loc->col);
	return buf;
}

void pw_diags_print(const struct pw_diags *diags, FILE *out)
{
	size_t i;

	for (i = 0; i < diags->count; i++) {
		const struct pw_diag *d = &diags->items[i];
		const char *sev = d->severity == PW_SEV_ERROR ? "error" :
								 "warning";

		if (d->file && d->loc.line == 0)
			fprintf(out, "%s: %s: %s\n", d->file, sev, d->message);
		else if (d->file)
			fprintf(out, "%s:%u:%u: %s: %s\n", d->file, d->loc.line,
				d->loc.col, sev, d->message);
		else
			fprintf(out, "%s: %s\n", sev, d->message);
	}
}

static unsigned int pw_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int row[64], prev, tmp;

	if (lb >= 64 || la >= 64)
		return ~0U;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned int)i;
		for (j = 1; j <= lb; j++) {
			unsigned int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *pw_closest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	unsigned int best_dist = 3, dist;
	size_t i;

	for (i = 0; candidates[i]; i++) {
		dist = pw_edit_distance(word, candidates[i]);
		if (dist < best_dist) {
			best_dist = dist;
			best = candidates[i];
		}
	}
	if (best && (size_t)best_dist * 2 >= strlen(word))
		return NULL;
	return best;
}
