// SPDX-License-Identifier: GPL-2.0
/* Output layer of the plumwall CLI (see output.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* Column gap in tables and between a field's label and its value. */
#define FW_GAP 2

static int fw_stream_status(FILE *out)
{
	return ferror(out) ? -EIO : 0;
}

int fw_out_json(FILE *out, const json_t *doc)
{
	if (json_dumpf(doc, out, JSON_COMPACT | JSON_PRESERVE_ORDER))
		return -EIO;
	fputc('\n', out);
	return fw_stream_status(out);
}

int fw_out_json_key(FILE *out, int first, const char *key)
{
	json_t *name = json_string(key);
	int ret = 0;

	if (!name)
		return -ENOMEM;
	if (!first)
		fputc(',', out);
	/* Through jansson, so the key is escaped as in a whole document. */
	if (json_dumpf(name, out, JSON_COMPACT | JSON_ENCODE_ANY))
		ret = -EIO;
	fputc(':', out);
	json_decref(name);
	return ret ? ret : fw_stream_status(out);
}

int fw_out_json_part(FILE *out, const json_t *value)
{
	if (json_dumpf(value, out,
		       JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY))
		return -EIO;
	return fw_stream_status(out);
}

int fw_output(FILE *out, enum fw_format format, const json_t *doc,
	      fw_text_renderer render)
{
	int ret;

	if (format == FW_FORMAT_JSON)
		ret = fw_out_json(out, doc);
	else if (render)
		ret = render(out, doc);
	else
		ret = -EINVAL;
	if (ret)
		goto out;
	/* Buffered data may still fail to reach a full disk or a closed
	 * pipe; say so instead of exiting 0 with truncated output. */
	if (fflush(out))
		ret = errno ? -errno : -EIO;
	else
		ret = fw_stream_status(out);
out:
	return ret;
}

int fw_out_value(FILE *out, const json_t *value)
{
	size_t i, n;
	int ret = 0;

	switch (value ? json_typeof(value) : JSON_NULL) {
	case JSON_OBJECT:
		if (json_dumpf(value, out, JSON_COMPACT | JSON_PRESERVE_ORDER))
			ret = -EIO;
		break;
	case JSON_ARRAY:
		n = json_array_size(value);
		if (!n)
			fputc('-', out);
		for (i = 0; i < n && !ret; i++) {
			if (i)
				fputc(',', out);
			ret = fw_out_value(out, json_array_get(value, i));
		}
		break;
	case JSON_STRING:
		/* the stream's error is checked once, fw_stream_status() */
		(void)fwrite(json_string_value(value), 1,
			     json_string_length(value), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT,
			json_integer_value(value));
		break;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(value));
		break;
	case JSON_TRUE:
		fputs("yes", out);
		break;
	case JSON_FALSE:
		fputs("no", out);
		break;
	case JSON_NULL:
		fputc('-', out);
		break;
	}
	return ret ? ret : fw_stream_status(out);
}

/* Display width of @len bytes of UTF-8: continuation bytes take no room. */
static size_t fw_text_width(const char *s, size_t len)
{
	size_t i, width = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			width++;
	return width;
}

/* Widest line of @text. */
static size_t fw_text_max_width(const char *text)
{
	size_t width = 0, w;
	const char *nl;

	for (;;) {
		nl = strchr(text, '\n');
		w = fw_text_width(text,
				  nl ? (size_t)(nl - text) : strlen(text));
		if (w > width)
			width = w;
		if (!nl)
			break;
		text = nl + 1;
	}
	return width;
}

const json_t *fw_out_get(const json_t *obj, const char *path)
{
	const char *dot;
	char key[64];
	size_t len;

	while (obj && (dot = strchr(path, '.'))) {
		len = dot - path;
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		obj = json_object_get(obj, key);
		path = dot + 1;
	}
	return obj ? json_object_get(obj, path) : NULL;
}

/* The text of one cell or field value, in a new string in *@text. */
static int fw_cell_text(const struct fw_column *col, const json_t *row,
			char **text)
{
	const json_t *value = col->key ? fw_out_get(row, col->key) : NULL;
	size_t size = 0;
	FILE *mem;
	int ret;

	*text = NULL;
	mem = open_memstream(text, &size);
	if (!mem)
		return -ENOMEM;
	if (col->format)
		ret = col->format(mem, row, value);
	else
		ret = fw_out_value(mem, value);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

static void fw_pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

/*
 * Print one physical line of a table row. @pos[i] points at the rest of
 * column i's text (NULL when used up) and is advanced past the line
 * printed. Returns true while some column has lines left.
 */
static bool fw_table_line(FILE *out, unsigned int indent,
			  const struct fw_column *cols, size_t n_cols,
			  const size_t *widths, const char **pos)
{
	size_t i, last = 0, len, w;
	bool more = false, any = false;
	const char *nl;

	/* Only columns up to the last non-empty one are padded, so that no
	 * line ends in blanks. */
	for (i = 0; i < n_cols; i++) {
		if (pos[i] && *pos[i] && *pos[i] != '\n') {
			last = i;
			any = true;
		}
	}
	if (any)
		fw_pad(out, indent);
	for (i = 0; i < n_cols; i++) {
		const char *s = pos[i] ? pos[i] : "";

		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		if (any && i <= last) {
			w = fw_text_width(s, len);
			if (i)
				fw_pad(out, FW_GAP);
			if (cols[i].align == FW_ALIGN_RIGHT)
				fw_pad(out, widths[i] - w);
			/* checked once, fw_stream_status() */
			(void)fwrite(s, 1, len, out);
			if (i < last && cols[i].align == FW_ALIGN_LEFT)
				fw_pad(out, widths[i] - w);
		}
		/* A final newline does not start another line. */
		pos[i] = nl && nl[1] ? nl + 1 : NULL;
		if (pos[i])
			more = true;
	}
	fputc('\n', out);
	return more;
}

int fw_out_table(FILE *out, unsigned int indent, const struct fw_column *cols,
		 size_t n_cols, const json_t *rows)
{
	const char **pos = NULL;
	size_t *widths = NULL;
	char **cells = NULL;
	size_t n_rows, r, c, w;
	int ret = 0;

	if (!json_is_array(rows) || !n_cols)
		return -EINVAL;
	n_rows = json_array_size(rows);
	if (!n_rows) {
		fw_pad(out, indent);
		fputs("(none)\n", out);
		goto out;
	}

	cells = calloc(n_rows * n_cols, sizeof(*cells));
	widths = calloc(n_cols, sizeof(*widths));
	pos = calloc(n_cols, sizeof(*pos));
	if (!cells || !widths || !pos) {
		ret = -ENOMEM;
		goto out;
	}
	for (c = 0; c < n_cols; c++)
		widths[c] = fw_text_max_width(cols[c].header);
	for (r = 0; r < n_rows; r++) {
		for (c = 0; c < n_cols; c++) {
			ret = fw_cell_text(&cols[c], json_array_get(rows, r),
					   &cells[r * n_cols + c]);
			if (ret)
				goto out;
			w = fw_text_max_width(cells[r * n_cols + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	}

	for (c = 0; c < n_cols; c++)
		pos[c] = cols[c].header;
	while (fw_table_line(out, indent, cols, n_cols, widths, pos))
		;
	for (r = 0; r < n_rows; r++) {
		for (c = 0; c < n_cols; c++)
			pos[c] = cells[r * n_cols + c];
		while (fw_table_line(out, indent, cols, n_cols, widths, pos))
			;
	}
out:
	if (cells) {
		for (r = 0; r < n_rows * n_cols; r++)
			free(cells[r]);
	}
	free(cells);
	free(widths);
	free(pos);
	return ret ? ret : fw_stream_status(out);
}

int fw_out_fields(FILE *out, unsigned int indent,
		  const struct fw_column *fields, size_t n_fields,
		  const json_t *obj)
{
	size_t i, len, width, pad, label_width = 0;
	const char *s, *nl;
	char *text = NULL;
	int ret = 0;

	/* Labels are "HEADER:", so one more than the header. */
	for (i = 0; i < n_fields; i++) {
		width = fw_text_max_width(fields[i].header) + 1;
		if (width > label_width)
			label_width = width;
	}
	for (i = 0; i < n_fields; i++) {
		ret = fw_cell_text(&fields[i], obj, &text);
		if (ret)
			goto out;
		width = fw_text_max_width(fields[i].header) + 1;
		fw_pad(out, indent);
		fprintf(out, "%s:", fields[i].header);
		for (s = text; s; s = nl && nl[1] ? nl + 1 : NULL) {
			nl = strchr(s, '\n');
			len = nl ? (size_t)(nl - s) : strlen(s);
			/* The first line follows the label, the others
			 * start at the value column. */
			pad = label_width + FW_GAP;
			pad += s == text ? -width : indent;
			if (len) {
				fw_pad(out, pad);
				/* checked once, fw_stream_status() */
				(void)fwrite(s, 1, len, out);
			}
			fputc('\n', out);
		}
		free(text);
		text = NULL;
	}
out:
	free(text);
	return ret ? ret : fw_stream_status(out);
}

int fw_out_lines(FILE *out, const json_t *row, const json_t *value)
{
	size_t i, n = json_array_size(value);
	int ret = 0;

	(void)row;
	if (!n)
		return fw_out_value(out, value);
	for (i = 0; i < n && !ret; i++) {
		if (i)
			fputc('\n', out);
		ret = fw_out_value(out, json_array_get(value, i));
	}
	return ret;
}

int fw_out_section(FILE *out, unsigned int indent, const char *title)
{
	fw_pad(out, indent);
	fprintf(out, "%s:\n", title);
	return fw_stream_status(out);
}
