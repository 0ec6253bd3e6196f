/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output layer of the plumwall CLI.
 *
 * A command describes its result once, as a jansson document, and hands it
 * to fw_output(). With --json the document itself is the output; otherwise
 * a text renderer turns the same document into text, usually with the
 * generic field list and table helpers below. Text and JSON therefore never
 * disagree about what a command reports, and every fact shown as text is
 * also available to scripts.
 *
 * JSON output is one compact object per line (JSON Lines): documents such
 * as `show` and streams such as `trace` (one object per packet) share one
 * shape, line-oriented tools work on both, and `jq .` pretty-prints. Keys
 * keep their insertion order.
 *
 * Data goes to the FILE given (stdout); messages go to stderr.
 */
#ifndef PLUMWALL_FW_OUTPUT_H
#define PLUMWALL_FW_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum fw_format {
	FW_FORMAT_TEXT,
	FW_FORMAT_JSON,
};

/* Renders @doc as text on @out. Returns 0 or a negative errno. */
typedef int (*fw_text_renderer)(FILE *out, const json_t *doc);

/*
 * Write @doc to @out: as one JSON line for FW_FORMAT_JSON, else through
 * @render. Flushes @out so that write errors (a full disk, a closed pipe)
 * are reported here. Returns 0 or a negative errno.
 */
int fw_output(FILE *out, enum fw_format format, const json_t *doc,
	      fw_text_renderer render);

/* @doc as one compact, newline-terminated JSON line. */
int fw_out_json(FILE *out, const json_t *doc);

/*
 * A document too large to build whole (`show` of a policy with millions
 * of prefixes: jansson spends a few hundred bytes per value) is written
 * in parts, one JSON line all the same: the caller writes the brackets,
 * fw_out_json_key() a member's key (after a ',' unless @first), and
 * fw_out_json_part() a value, each part built, written and freed in turn.
 * The bytes are those fw_out_json() writes for the whole document.
 * Returns 0 or a negative errno.
 */
int fw_out_json_key(FILE *out, int first, const char *key);
int fw_out_json_part(FILE *out, const json_t *value);

/*
 * Generic text of a JSON value, as used in field lists and table cells:
 * strings as they are, integers in decimal, reals with %g, true/false as
 * "yes"/"no", null, a missing value (NULL) and an empty array as "-",
 * arrays as their elements' text joined by ",", objects as compact JSON.
 */
int fw_out_value(FILE *out, const json_t *value);

enum fw_align {
	FW_ALIGN_LEFT,
	FW_ALIGN_RIGHT,
};

/*
 * The member of @obj at @path: a key, or keys joined by '.' to reach into
 * nested objects ("conntrack.max_entries"). NULL when absent.
 */
const json_t *fw_out_get(const json_t *obj, const char *path);

/*
 * One column of a table, or one line of a field list. @key names the
 * member of the row (or object) that is shown, as a fw_out_get() path.
 * @format, when set, writes the text instead of fw_out_value(): it gets
 * the whole row, so it can combine members, and @value (the member named
 * by @key, may be NULL).
 * Text containing '\n' spans several lines within its column.
 */
struct fw_column {
	const char *header;
	const char *key;
	enum fw_align align;
	int (*format)(FILE *out, const json_t *row, const json_t *value);
};

/*
 * @rows (an array of objects) as a table: a header line, then one line (or
 * more, for multi-line cells) per row, every line indented by @indent
 * spaces, columns separated by two spaces and aligned, no trailing blanks.
 * An empty array prints "(none)" instead of a header.
 */
int fw_out_table(FILE *out, unsigned int indent, const struct fw_column *cols,
		 size_t n_cols, const json_t *rows);

/*
 * Members of @obj as "LABEL:  VALUE" lines, labels (the columns' headers)
 * padded to one width so that values line up. Continuation lines of a
 * multi-line value are indented to the value column.
 */
int fw_out_fields(FILE *out, unsigned int indent,
		  const struct fw_column *fields, size_t n_fields,
		  const json_t *obj);

/* A fw_column format: the elements of an array one per line. */
int fw_out_lines(FILE *out, const json_t *row, const json_t *value);

/* A section title line, "TITLE:" after @indent spaces. */
int fw_out_section(FILE *out, unsigned int indent, const char *title);

#endif /* PLUMWALL_FW_OUTPUT_H */
