// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the CLI output layer (fw/output.[ch]). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * fw/output.c belongs to the plumwall binary, not to libplumwall.a that
 * tests link, so it is compiled into this test directly. It has no
 * dependency beyond jansson, which keeps that possible.
 */
#include "fw/output.h"
#include "fixtures.h"

/* Output captured in memory, checked with exact strings. */
struct capture {
	char *buf;
	size_t size;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->size = 0;
	c->f = open_memstream(&c->buf, &c->size);
	ck_assert_ptr_nonnull(c->f);
}

/* Closes the stream; the text stays in c->buf until capture_free(). */
static const char *capture_text(struct capture *c)
{
	ck_assert_int_eq(fclose(c->f), 0);
	c->f = NULL;
	return c->buf;
}

static void capture_free(struct capture *c)
{
	free(c->buf);
}

static json_t *parse(const char *text)
{
	json_error_t error;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, &error);

	ck_assert_msg(doc != NULL, "bad test JSON: %s", error.text);
	return doc;
}

/* fw_out_value() of @json must be @expected. */
static void check_value(const char *json, const char *expected)
{
	struct capture c;
	json_t *v = parse(json);

	capture_open(&c);
	ck_assert_int_eq(fw_out_value(c.f, v), 0);
	ck_assert_str_eq(capture_text(&c), expected);
	capture_free(&c);
	json_decref(v);
}

START_TEST(test_json_compact_ordered)
{
	struct capture c;
	json_t *doc = json_object();

	/* Insertion order, not alphabetical. */
	json_object_set_new(doc, "zeta", json_integer(1));
	json_object_set_new(doc, "alpha", json_pack("[bns]", 1, "x y"));
	json_object_set_new(doc, "mid", json_object());
	capture_open(&c);
	ck_assert_int_eq(fw_out_json(c.f, doc), 0);
	ck_assert_str_eq(
		capture_text(&c),
		"{\"zeta\":1,\"alpha\":[true,null,\"x y\"],\"mid\":{}}\n");
	capture_free(&c);
	json_decref(doc);
}
END_TEST

START_TEST(test_value_text)
{
	check_value("\"web\"", "web");
	check_value("42", "42");
	check_value("-7", "-7");
	check_value("1.5", "1.5");
	check_value("true", "yes");
	check_value("false", "no");
	check_value("null", "-");
	check_value("[]", "-");
	check_value("[\"a\", 2, true]", "a,2,yes");
	check_value("{\"k\": [1, 2]}", "{\"k\":[1,2]}");
}
END_TEST

START_TEST(test_value_missing)
{
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_value(c.f, NULL), 0);
	ck_assert_str_eq(capture_text(&c), "-");
	capture_free(&c);
}
END_TEST

START_TEST(test_get_path)
{
	json_t *doc = parse("{\"a\": {\"b\": {\"c\": 3}}, \"d\": 4}");

	ck_assert_int_eq(json_integer_value(fw_out_get(doc, "a.b.c")), 3);
	ck_assert_int_eq(json_integer_value(fw_out_get(doc, "d")), 4);
	ck_assert_ptr_null(fw_out_get(doc, "a.x.c"));
	ck_assert_ptr_null(fw_out_get(doc, "d.e"));
	ck_assert_ptr_null(fw_out_get(doc, "nope"));
	json_decref(doc);
}
END_TEST

static const struct fw_column basic_cols[] = {
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "NAME", "name", FW_ALIGN_LEFT, NULL },
	{ "ON", "on", FW_ALIGN_LEFT, NULL },
};

START_TEST(test_table_aligned)
{
	json_t *rows =
		parse("[{\"id\": 1, \"name\": \"web-to-db\", \"on\": true},"
		      " {\"id\": 12, \"name\": \"x\", \"on\": false},"
		      " {\"id\": 3, \"name\": \"mid\"}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 2, basic_cols, 3, rows), 0);
	/* Right-aligned ID, two-space gaps, no trailing blanks, missing
	 * member shown as "-". */
	ck_assert_str_eq(capture_text(&c), "  ID  NAME       ON\n"
					   "   1  web-to-db  yes\n"
					   "  12  x          no\n"
					   "   3  mid        -\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_table_no_trailing_blanks)
{
	static const struct fw_column cols[] = {
		{ "A", "a", FW_ALIGN_LEFT, NULL },
		{ "LONGER", "b", FW_ALIGN_LEFT, NULL },
	};
	/* An empty last cell must not leave the padding of the first. */
	json_t *rows = parse("[{\"a\": \"wide-value\", \"b\": \"\"}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, cols, 2, rows), 0);
	ck_assert_str_eq(capture_text(&c), "A           LONGER\n"
					   "wide-value\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_table_empty)
{
	json_t *rows = json_array();
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 4, basic_cols, 3, rows), 0);
	ck_assert_str_eq(capture_text(&c), "    (none)\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_table_not_array)
{
	json_t *rows = json_object();
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, basic_cols, 3, rows), -EINVAL);
	capture_text(&c);
	capture_free(&c);
	json_decref(rows);
}
END_TEST

/* Each element on its own line, and a trailing newline that must not add
 * an empty line. */
static int fmt_lines(FILE *out, const json_t *row, const json_t *value)
{
	const json_t *item;
	size_t i;

	(void)row;
	json_array_foreach(value, i, item)
		fprintf(out, "%s\n", json_string_value(item));
	return 0;
}

START_TEST(test_table_multiline)
{
	static const struct fw_column cols[] = {
		{ "ID", "id", FW_ALIGN_LEFT, NULL },
		{ "PREFIXES", "p", FW_ALIGN_LEFT, fmt_lines },
		{ "SEG", "s", FW_ALIGN_LEFT, NULL },
	};
	json_t *rows =
		parse("[{\"id\": 0, \"p\": [\"10.1.1.0/24\", \"10.2.0.0/16\"],"
		      "   \"s\": \"web\"},"
		      " {\"id\": 1, \"p\": [\"fd00::/8\"], \"s\": \"db\"}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, cols, 3, rows), 0);
	ck_assert_str_eq(capture_text(&c), "ID  PREFIXES     SEG\n"
					   "0   10.1.1.0/24  web\n"
					   "    10.2.0.0/16\n"
					   "1   fd00::/8     db\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

/* Combines two members of the row. */
static int fmt_pair(FILE *out, const json_t *row, const json_t *value)
{
	fprintf(out, "%s/%" JSON_INTEGER_FORMAT, json_string_value(value),
		json_integer_value(json_object_get(row, "n")));
	return 0;
}

static int fmt_fail(FILE *out, const json_t *row, const json_t *value)
{
	(void)out;
	(void)row;
	(void)value;
	return -ENOSPC;
}

START_TEST(test_table_format_and_path)
{
	static const struct fw_column cols[] = {
		{ "PAIR", "s", FW_ALIGN_LEFT, fmt_pair },
		{ "DEEP", "x.y", FW_ALIGN_RIGHT, NULL },
	};
	json_t *rows =
		parse("[{\"s\": \"a\", \"n\": 10, \"x\": {\"y\": 5}},"
		      " {\"s\": \"bb\", \"n\": 2, \"x\": {\"y\": 500}}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, cols, 2, rows), 0);
	ck_assert_str_eq(capture_text(&c), "PAIR  DEEP\n"
					   "a/10     5\n"
					   "bb/2   500\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_table_format_error)
{
	static const struct fw_column cols[] = {
		{ "X", "x", FW_ALIGN_LEFT, fmt_fail },
	};
	json_t *rows = parse("[{\"x\": 1}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, cols, 1, rows), -ENOSPC);
	/* Nothing half-printed. */
	ck_assert_str_eq(capture_text(&c), "");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_table_utf8_width)
{
	static const struct fw_column cols[] = {
		{ "N", "n", FW_ALIGN_LEFT, NULL },
		{ "V", "v", FW_ALIGN_LEFT, NULL },
	};
	/* "é" is two bytes but one column. */
	json_t *rows = parse("[{\"n\": \"caf\\u00e9\", \"v\": 1},"
			     " {\"n\": \"abcde\", \"v\": 2}]");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_table(c.f, 0, cols, 2, rows), 0);
	ck_assert_str_eq(capture_text(&c), "N      V\n"
					   "caf\xc3\xa9   1\n"
					   "abcde  2\n");
	capture_free(&c);
	json_decref(rows);
}
END_TEST

START_TEST(test_fields)
{
	static const struct fw_column fields[] = {
		{ "mode", "mode", FW_ALIGN_LEFT, NULL },
		{ "interfaces", "ifs", FW_ALIGN_LEFT, NULL },
		{ "lines", "lines", FW_ALIGN_LEFT, fmt_lines },
		{ "empty", "none", FW_ALIGN_LEFT, fmt_lines },
		{ "max", "ct.max", FW_ALIGN_LEFT, NULL },
	};
	json_t *obj = parse("{\"mode\": \"audit\", \"ifs\": [\"a0\", \"b0\"],"
			    " \"lines\": [\"one\", \"two\"], \"none\": [],"
			    " \"ct\": {\"max\": 1024}}");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_fields(c.f, 2, fields, 5, obj), 0);
	ck_assert_str_eq(capture_text(&c), "  mode:        audit\n"
					   "  interfaces:  a0,b0\n"
					   "  lines:       one\n"
					   "               two\n"
					   "  empty:\n"
					   "  max:         1024\n");
	capture_free(&c);
	json_decref(obj);
}
END_TEST

START_TEST(test_fields_lines)
{
	static const struct fw_column fields[] = {
		{ "files", "files", FW_ALIGN_LEFT, fw_out_lines },
		{ "none", "none", FW_ALIGN_LEFT, fw_out_lines },
		{ "path", "path", FW_ALIGN_LEFT, NULL },
	};
	json_t *obj = parse("{\"files\": [\"d/a.yaml\", \"d/b.yaml\"],"
			    " \"none\": [], \"path\": \"d\"}");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_fields(c.f, 0, fields, 3, obj), 0);
	ck_assert_str_eq(capture_text(&c), "files:  d/a.yaml\n"
					   "        d/b.yaml\n"
					   "none:   -\n"
					   "path:   d\n");
	capture_free(&c);
	json_decref(obj);
}
END_TEST

START_TEST(test_section)
{
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_out_section(c.f, 2, "Address classes"), 0);
	ck_assert_str_eq(capture_text(&c), "  Address classes:\n");
	capture_free(&c);
}
END_TEST

static int render_name(FILE *out, const json_t *doc)
{
	fprintf(out, "name is %s\n",
		json_string_value(json_object_get(doc, "name")));
	return 0;
}

START_TEST(test_output_dispatch)
{
	json_t *doc = parse("{\"name\": \"acme\", \"id\": 7}");
	struct capture c;

	capture_open(&c);
	ck_assert_int_eq(fw_output(c.f, FW_FORMAT_JSON, doc, render_name), 0);
	ck_assert_str_eq(capture_text(&c), "{\"name\":\"acme\",\"id\":7}\n");
	capture_free(&c);

	capture_open(&c);
	ck_assert_int_eq(fw_output(c.f, FW_FORMAT_TEXT, doc, render_name), 0);
	ck_assert_str_eq(capture_text(&c), "name is acme\n");
	capture_free(&c);

	capture_open(&c);
	ck_assert_int_eq(fw_output(c.f, FW_FORMAT_TEXT, doc, NULL), -EINVAL);
	capture_text(&c);
	capture_free(&c);
	json_decref(doc);
}
END_TEST

START_TEST(test_output_write_error)
{
	json_t *doc = parse("{\"name\": \"acme\"}");
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		return; /* no /dev/full in this sandbox: nothing to test */
	ck_assert_int_lt(fw_output(full, FW_FORMAT_JSON, doc, NULL), 0);
	fclose(full);
	json_decref(doc);
}
END_TEST

static Suite *output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_compact_ordered);
	tcase_add_test(tc, test_value_text);
	tcase_add_test(tc, test_value_missing);
	tcase_add_test(tc, test_get_path);
	tcase_add_test(tc, test_table_aligned);
	tcase_add_test(tc, test_table_no_trailing_blanks);
	tcase_add_test(tc, test_table_empty);
	tcase_add_test(tc, test_table_not_array);
	tcase_add_test(tc, test_table_multiline);
	tcase_add_test(tc, test_table_format_and_path);
	tcase_add_test(tc, test_table_format_error);
	tcase_add_test(tc, test_table_utf8_width);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_fields_lines);
	tcase_add_test(tc, test_section);
	tcase_add_test(tc, test_output_dispatch);
	tcase_add_test(tc, test_output_write_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(output_suite());
}
