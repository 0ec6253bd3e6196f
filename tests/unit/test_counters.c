// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the counters that outlive applies (fw/counters.[ch]):
 * identity by tenant and rule name, the fold of a slot's datapath
 * counters, the state's "counters" round trip, and the durations of
 * `stats --since`. No kernel needed: the datapath's counters are given
 * as arrays.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/types.h>

#include <plumwall/shared.h>
#include <stdlib.h>
#include <unistd.h>

#include "fw/counters.h"
#include "fw/names.h"
#include "fw/runtime.h"
#include "fixtures.h"

static json_t *parse(const char *text)
{
	json_error_t error;
	json_t *doc = json_loads(text, 0, &error);

	ck_assert_msg(doc != NULL, "bad test JSON: %s", error.text);
	return doc;
}

static uint64_t dur(const char *s)
{
	uint64_t v = 0;

	ck_assert_msg(fw_duration_parse(s, &v) == 0, "'%s' refused", s);
	return v;
}

static int dur_err(const char *s)
{
	uint64_t v = 12345;
	int ret = fw_duration_parse(s, &v);

	ck_assert_uint_eq(v, 12345); /* untouched on error */
	return ret;
}

START_TEST(test_duration)
{
	ck_assert_uint_eq(dur("30s"), 30);
	ck_assert_uint_eq(dur("30m"), 1800);
	ck_assert_uint_eq(dur("2h"), 7200);
	ck_assert_uint_eq(dur("7d"), 7 * 86400);
	ck_assert_uint_eq(dur("1w"), 7 * 86400);
	ck_assert_uint_eq(dur("1h30m"), 5400);
	ck_assert_uint_eq(dur("1d12h"), 36 * 3600);
	ck_assert_uint_eq(dur("0s"), 0);
	ck_assert_uint_eq(dur("36500d"), 36500ULL * 86400);

	ck_assert_int_eq(dur_err(""), -EINVAL);
	ck_assert_int_eq(dur_err(NULL), -EINVAL);
	ck_assert_int_eq(dur_err("5"), -EINVAL); /* minutes or seconds? */
	ck_assert_int_eq(dur_err("1h30"), -EINVAL);
	ck_assert_int_eq(dur_err("5x"), -EINVAL);
	ck_assert_int_eq(dur_err("m"), -EINVAL);
	ck_assert_int_eq(dur_err("-5m"), -EINVAL);
	ck_assert_int_eq(dur_err("+5m"), -EINVAL);
	ck_assert_int_eq(dur_err("5 m"), -EINVAL);
	ck_assert_int_eq(dur_err(" 5m"), -EINVAL);
	ck_assert_int_eq(dur_err("1.5h"), -EINVAL);
	ck_assert_int_eq(dur_err("5M"), -EINVAL);
	ck_assert_int_eq(dur_err("2hh"), -EINVAL);
	ck_assert_int_eq(dur_err("99999999999999999999s"), -ERANGE);
	ck_assert_int_eq(dur_err("100000w"), -ERANGE);
	ck_assert_int_eq(dur_err("36600d1d"), -ERANGE);
}
END_TEST

/*
 * Generation 1: global rule "g", then acme's web and spare, tenants acme
 * (id 1) and beta (id 2). Generation 2 inserts acme's ssh first, renames
 * spare to spare2, has a tenant rule "g" beside the global one, and
 * drops beta for gamma.
 */
static const char g1[] =
	"{\"generation\":1,"
	"\"tenants\":[{\"id\":1,\"name\":\"acme\"},{\"id\":2,\"name\":\"beta\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"g\",\"tenant\":null},"
	"{\"id\":1,\"name\":\"web\",\"tenant\":\"acme\"},"
	"{\"id\":2,\"name\":\"spare\",\"tenant\":\"acme\"}]}";
static const char g2[] =
	"{\"generation\":2,"
	"\"tenants\":[{\"id\":3,\"name\":\"gamma\"},{\"id\":1,\"name\":\"acme\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"g\",\"tenant\":null},"
	"{\"id\":1,\"name\":\"ssh\",\"tenant\":\"acme\"},"
	"{\"id\":2,\"name\":\"g\",\"tenant\":\"acme\"},"
	"{\"id\":3,\"name\":\"web\",\"tenant\":\"acme\"},"
	"{\"id\":4,\"name\":\"spare2\",\"tenant\":\"acme\"}]}";

/* 1,000 s after the datapath clock's zero is wall clock 1,000,000 s. */
static const struct fw_ctr_clock clk = {
	.dp_ns = 1000ULL * 1000000000ULL,
	.wall_ns = 1000000LL * 1000000000LL,
};

START_TEST(test_carry_by_name)
{
	json_t *t1 = parse(g1), *t2 = parse(g2);
	struct pw_rule_counter rules[3] = {
		{ 5, 500, 100ULL * 1000000000ULL, 900ULL * 1000000000ULL },
		{ 7, 700, 200ULL * 1000000000ULL, 990ULL * 1000000000ULL },
		{ 1, 60, 300ULL * 1000000000ULL, 300ULL * 1000000000ULL },
	};
	struct pw_tenant_counter tenants[3] = {};
	struct fw_ctr c1, c2;

	tenants[1].default_drops = (struct pw_counter){ 4, 400 };
	tenants[1].non_ip_drops = (struct pw_counter){ 2, 120 };
	tenants[2].default_drops = (struct pw_counter){ 9, 900 };

	/* generation 1's own counters, datapath times as wall clock */
	ck_assert_int_eq(fw_ctr_init(&c1, t1, 999000), 0);
	ck_assert_uint_eq(c1.n_rules, 3);
	ck_assert_uint_eq(c1.n_tenants, 2);
	ck_assert_int_eq(
		fw_ctr_add_slot(&c1, t1, t1, rules, 3, tenants, 3, &clk), 0);
	ck_assert_uint_eq(c1.rules[1].packets, 7);
	ck_assert_uint_eq(c1.rules[1].bytes, 700);
	ck_assert_int_eq(c1.rules[1].first_hit, 1000000 - 800);
	ck_assert_int_eq(c1.rules[1].last_hit, 1000000 - 10);
	ck_assert_int_eq(c1.rules[1].since, 999000);
	ck_assert_uint_eq(c1.tenants[0].default_drops.packets, 4);
	ck_assert_uint_eq(c1.tenants[0].non_ip_drops.bytes, 120);
	ck_assert_uint_eq(c1.tenants[1].default_drops.packets, 9);

	/* carried to generation 2 by name */
	ck_assert_int_eq(fw_ctr_carry(&c2, t2, &c1, t1, 1000100), 0);
	ck_assert_uint_eq(c2.n_rules, 5);
	ck_assert_uint_eq(c2.rules[0].packets, 5); /* global g */
	ck_assert_int_eq(c2.rules[0].since, 999000);
	ck_assert_uint_eq(c2.rules[1].packets, 0); /* ssh: new */
	ck_assert_int_eq(c2.rules[1].since, 1000100);
	ck_assert_uint_eq(c2.rules[2].packets,
			  0); /* acme's g: not the global */
	ck_assert_uint_eq(c2.rules[3].packets, 7); /* web, id 1 -> 3 */
	ck_assert_int_eq(c2.rules[3].first_hit, 1000000 - 800);
	ck_assert_int_eq(c2.rules[3].since, 999000);
	ck_assert_uint_eq(c2.rules[4].packets, 0); /* spare2: renamed */
	ck_assert_int_eq(c2.rules[4].first_hit, 0);
	ck_assert_int_eq(c2.rules[4].since, 1000100);
	ck_assert_uint_eq(c2.n_tenants, 2);
	ck_assert_uint_eq(c2.tenants[0].default_drops.packets, 0); /* gamma */
	ck_assert_int_eq(c2.tenants[0].since, 1000100);
	ck_assert_uint_eq(c2.tenants[1].default_drops.packets, 4); /* acme */
	ck_assert_int_eq(c2.tenants[1].since, 999000);

	/* generation 1's slot again (frozen), added by identity: first
	 * hits take the earliest, last hits the latest */
	rules[1] = (struct pw_rule_counter){ 1, 10, 50ULL * 1000000000ULL,
					     995ULL * 1000000000ULL };
	ck_assert_int_eq(
		fw_ctr_add_slot(&c2, t2, t1, rules, 3, tenants, 3, &clk), 0);
	ck_assert_uint_eq(c2.rules[3].packets, 8);
	ck_assert_uint_eq(c2.rules[3].bytes, 710);
	ck_assert_int_eq(c2.rules[3].first_hit, 1000000 - 950);
	ck_assert_int_eq(c2.rules[3].last_hit, 1000000 - 5);
	ck_assert_uint_eq(c2.rules[4].packets, 0);
	ck_assert_uint_eq(c2.tenants[1].default_drops.packets, 8);
	ck_assert_uint_eq(c2.tenants[0].default_drops.packets, 0);

	fw_ctr_free(&c1);
	fw_ctr_free(&c2);
	json_decref(t1);
	json_decref(t2);
}
END_TEST

/* A rule without hits leaves the times alone; ids beyond the counters
 * given are ignored. */
START_TEST(test_add_nothing)
{
	json_t *t1 = parse(g1);
	struct pw_rule_counter rules[1] = {};
	struct fw_ctr c;

	ck_assert_int_eq(fw_ctr_init(&c, t1, 5), 0);
	ck_assert_int_eq(fw_ctr_add_slot(&c, t1, t1, rules, 1, NULL, 0, &clk),
			 0);
	ck_assert_uint_eq(c.rules[0].packets, 0);
	ck_assert_int_eq(c.rules[0].first_hit, 0);
	ck_assert_int_eq(c.rules[0].last_hit, 0);
	fw_ctr_free(&c);
	json_decref(t1);
}
END_TEST

START_TEST(test_state_round_trip)
{
	json_t *t2 = parse(g2), *j, *state;
	struct fw_ctr c, back;
	size_t i;

	ck_assert_int_eq(fw_ctr_init(&c, t2, 77), 0);
	for (i = 0; i < c.n_rules; i++)
		c.rules[i] = (struct fw_ctr_rule){ i + 1, 100 * (i + 1),
						   1000 + (int64_t)i,
						   2000 + (int64_t)i, 10 };
	/* never hit: written as its start alone */
	c.rules[1] = (struct fw_ctr_rule){ 0, 0, 0, 0, 55 };
	c.tenants[1].default_drops.packets = 3;
	c.tenants[1].non_ip_drops.bytes = 42;
	j = fw_ctr_json(&c, 1);
	ck_assert_ptr_nonnull(j);
	ck_assert(
		json_is_array(json_array_get(json_object_get(j, "rules"), 0)));
	ck_assert_int_eq(json_integer_value(json_array_get(
				 json_object_get(j, "rules"), 1)),
			 55);
	ck_assert_int_eq(
		json_integer_value(json_object_get(j, "prev_generation")), 1);
	state = json_deep_copy(t2);
	json_object_set_new(state, "counters", j);
	ck_assert_int_eq(fw_ctr_read(&back, state), 0);
	ck_assert_uint_eq(back.n_rules, c.n_rules);
	ck_assert(!memcmp(back.rules, c.rules, c.n_rules * sizeof(*c.rules)));
	ck_assert_uint_eq(back.tenants[1].default_drops.packets, 3);
	ck_assert_uint_eq(back.tenants[1].non_ip_drops.bytes, 42);
	ck_assert_int_eq(back.tenants[0].since, 77);
	fw_ctr_free(&back);

	/* no prev_generation: none written */
	j = fw_ctr_json(&c, -1);
	ck_assert_ptr_null(json_object_get(j, "prev_generation"));
	json_decref(j);

	/* a state without counters: zeros since it was loaded */
	json_object_del(state, "counters");
	json_object_set_new(state, "loaded_at", json_integer(4242));
	ck_assert_int_eq(fw_ctr_read(&back, state), 0);
	ck_assert_uint_eq(back.rules[3].packets, 0);
	ck_assert_int_eq(back.rules[3].since, 4242);
	fw_ctr_free(&back);

	fw_ctr_free(&c);
	json_decref(state);
	json_decref(t2);
}
END_TEST

START_TEST(test_tenant_ids)
{
	json_t *t2 = parse(g2);

	ck_assert_uint_eq(fw_ctr_tenant_ids(t2), 4);
	json_decref(t2);
}
END_TEST

/* Rule ids of one table by those of another: by tenant and name (the
 * global "g" is not acme's "g"), -1 for a rule the other lacks; equal
 * tables map every id to itself. */
START_TEST(test_rule_map)
{
	json_t *t1 = parse(g1), *t2 = parse(g2), *t1b = parse(g1);
	size_t n;
	long *map;

	ck_assert_int_eq(fw_ctr_rule_map(t2, t1, &map, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(map[0], 0);
	ck_assert_int_eq(map[1], 3);
	ck_assert_int_eq(map[2], -1);
	free(map);
	ck_assert_int_eq(fw_ctr_rule_map(t1, t2, &map, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(map[0], 0);
	ck_assert_int_eq(map[1], -1);
	ck_assert_int_eq(map[2], -1);
	ck_assert_int_eq(map[3], 1);
	ck_assert_int_eq(map[4], -1);
	free(map);
	json_object_set_new(t1b, "generation", json_integer(9));
	ck_assert_int_eq(fw_ctr_rule_map(t1b, t1, &map, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(map[0], 0);
	ck_assert_int_eq(map[1], 1);
	ck_assert_int_eq(map[2], 2);
	free(map);
	json_decref(t1);
	json_decref(t1b);
	json_decref(t2);
}
END_TEST

/* @doc written by the state writer to a file and read back as the names
 * of its generations; its text in @text (caller frees). */
static int names_round_trip(const json_t *doc, struct fw_names_set *set,
			    char **text)
{
	char path[] = "/tmp/test_counters.XXXXXX";
	int fd = mkstemp(path), ret;
	FILE *f;
	long len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fw_rt_json_write(doc, fd), 0);
	close(fd);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	*text = calloc(1, (size_t)len + 1);
	ck_assert_uint_eq(fread(*text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ret = fw_names_set_load(set, path);
	unlink(path);
	return ret;
}

static int keep_all(uint32_t generation, void *ctx)
{
	(void)generation;
	(void)ctx;
	return 1;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/*
 * A replace that keeps every rule's name writes the table of rule names
 * once: the older generation's table refers to it ("rules_of") and reads
 * back whole. One whose names differ keeps its own table; a reference to
 * anything but the running generation is refused.
 */
START_TEST(test_names_shared_rules)
{
	json_t *old = parse(g1), *doc = parse(g1), *doc2 = parse(g2);
	struct fw_names_set set;
	const json_t *prev;
	char *text;

	json_object_set_new(old, "layout_version",
			    json_integer(PW_LAYOUT_VERSION));
	json_object_set_new(doc, "layout_version",
			    json_integer(PW_LAYOUT_VERSION));
	json_object_set_new(doc, "generation", json_integer(7));
	json_object_set_new(doc2, "layout_version",
			    json_integer(PW_LAYOUT_VERSION));

	/* the same names: shared, written once */
	ck_assert_int_eq(fw_names_history(doc, old, NULL, NULL), 0);
	prev = json_array_get(json_object_get(doc, "previous"), 0);
	ck_assert_ptr_eq(json_object_get(prev, "rules"),
			 json_object_get(doc, "rules"));
	/* the old state's own table is left alone */
	ck_assert_ptr_ne(json_object_get(old, "rules"),
			 json_object_get(doc, "rules"));
	ck_assert_int_eq(names_round_trip(doc, &set, &text), 0);
	ck_assert_uint_eq(count_of(text, "\"spare\""), 1);
	ck_assert_uint_eq(count_of(text, "\"rules_of\":7"), 1);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_uint_eq(set.gen[1]->generation, 1);
	ck_assert_uint_eq(set.gen[1]->n_rules, 3);
	ck_assert_str_eq(fw_names_rule(set.gen[1], 2)->name, "spare");
	ck_assert_str_eq(fw_names_rule(set.gen[1], 1)->tenant, "acme");
	fw_names_set_clear(&set);
	free(text);

	/* and again one generation later: both older tables refer to it */
	json_object_set_new(old, "generation", json_integer(8));
	ck_assert_int_eq(fw_names_history(old, doc, keep_all, NULL), 0);
	ck_assert_int_eq(names_round_trip(old, &set, &text), 0);
	ck_assert_uint_eq(count_of(text, "\"spare\""), 1);
	ck_assert_uint_eq(count_of(text, "\"rules_of\":8"), 2);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_uint_eq(set.gen[1]->generation, 7);
	ck_assert_uint_eq(set.gen[2]->generation, 1);
	ck_assert_str_eq(fw_names_rule(set.gen[2], 2)->name, "spare");
	fw_names_set_clear(&set);
	free(text);

	/* other names: each table its own */
	ck_assert_int_eq(fw_names_history(doc2, doc, NULL, NULL), 0);
	prev = json_array_get(json_object_get(doc2, "previous"), 0);
	ck_assert_ptr_ne(json_object_get(prev, "rules"),
			 json_object_get(doc2, "rules"));
	ck_assert_int_eq(names_round_trip(doc2, &set, &text), 0);
	ck_assert_ptr_null(strstr(text, "rules_of"));
	ck_assert_uint_eq(count_of(text, "\"spare\""), 1);
	ck_assert_uint_eq(count_of(text, "\"spare2\""), 1);
	ck_assert_str_eq(fw_names_rule(set.gen[1], 2)->name, "spare");
	ck_assert_str_eq(fw_names_rule(set.gen[0], 4)->name, "spare2");
	fw_names_set_clear(&set);
	free(text);

	/* a reference to another generation, or beside a table: refused */
	prev = json_array_get(json_object_get(doc2, "previous"), 0);
	json_object_del((json_t *)prev, "rules");
	json_object_set_new((json_t *)prev, "rules_of", json_integer(7));
	ck_assert_int_eq(fw_names_resolve(doc2), -EBADMSG);
	json_object_set_new((json_t *)prev, "rules_of", json_integer(2));
	ck_assert_int_eq(fw_names_resolve(doc2), 0);
	ck_assert_ptr_eq(json_object_get(prev, "rules"),
			 json_object_get(doc2, "rules"));
	ck_assert_ptr_null(json_object_get(prev, "rules_of"));
	json_object_set_new((json_t *)prev, "rules_of", json_integer(2));
	ck_assert_int_eq(fw_names_resolve(doc2), -EBADMSG);

	json_decref(old);
	json_decref(doc);
	json_decref(doc2);
}
END_TEST

static Suite *counters_suite(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_carry_by_name);
	tcase_add_test(tc, test_add_nothing);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_tenant_ids);
	tcase_add_test(tc, test_names_shared_rules);
	tcase_add_test(tc, test_rule_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(counters_suite());
}
