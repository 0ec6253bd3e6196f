// SPDX-License-Identifier: GPL-2.0
/*
 * Shared pieces of the unit tests, see fixtures.h.
 */
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fixtures.h"

const char fixture_spec_example[] = "version: 1\n"
				    "segments:\n"
				    "  dns: [10.0.0.53]\n"
				    "rules:\n"
				    "  - name: dns\n"
				    "    from: any\n"
				    "    to: dns\n"
				    "    proto: udp\n"
				    "    ports: [53]\n"
				    "    action: allow\n"
				    "tenants:\n"
				    "  - name: acme\n"
				    "    interfaces: [acme0]\n"
				    "    segments:\n"
				    "      web: [10.1.1.0/24]\n"
				    "      db:  [10.1.2.0/24]\n"
				    "    rules:\n"
				    "      - name: web-to-db\n"
				    "        from: web\n"
				    "        to: db\n"
				    "        proto: tcp\n"
				    "        ports: [5432]\n"
				    "        action: allow\n"
				    "      - name: web-out\n"
				    "        from: web\n"
				    "        to: external\n"
				    "        proto: tcp\n"
				    "        ports: [80, 443]\n"
				    "        action: allow\n"
				    "        log: true\n";

const char *fixture_env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value && *value ? value : fallback;
}

const char *fixture_root_dir(void)
{
	return fixture_env_or("PLUMWALL_ROOT", ".");
}

uint64_t fixture_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

char *fixture_diags_text(struct pw_diags *diags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	pw_diags_sort(diags);
	pw_diags_print(diags, f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The end of both loaders: @what names the input in a failure. */
static struct policy *load_done(const char *what, const char *yaml, int ret,
				struct pw_diags *diags, struct policy *pol)
{
	char *text = fixture_diags_text(diags);

	if ((ret || diags->count) && yaml)
		fprintf(stderr, "%s\n", yaml);
	ck_assert_msg(ret == 0 && diags->count == 0,
		      "%s: expected a clean load, got %d:\n%s", what, ret,
		      text);
	ck_assert_ptr_nonnull(pol);
	free(text);
	pw_diags_free(diags);
	return pol;
}

struct policy *fixture_load_ok(const char *yaml)
{
	struct pw_diags diags;
	struct policy *pol = NULL;
	int ret;

	pw_diags_init(&diags);
	ret = policy_load_buffer("test.yaml", yaml, strlen(yaml), &diags, &pol);
	return load_done("test.yaml", yaml, ret, &diags, pol);
}

struct policy *fixture_load_path_ok(const char *path)
{
	struct pw_diags diags;
	struct policy *pol = NULL;
	int ret;

	pw_diags_init(&diags);
	ret = policy_load(path, &diags, &pol);
	return load_done(path, NULL, ret, &diags, pol);
}

void fixture_for_each_example(void (*fn)(const char *path))
{
	char pattern[4096];
	glob_t gl;
	size_t i;

	snprintf(pattern, sizeof(pattern), "%s/etc/policies/*.yaml",
		 fixture_root_dir());
	ck_assert_int_eq(glob(pattern, 0, NULL, &gl), 0);
	ck_assert_uint_ge(gl.gl_pathc, 3);
	for (i = 0; i < gl.gl_pathc; i++)
		fn(gl.gl_pathv[i]);
	globfree(&gl);
}

char *fixture_example_path(const char *name)
{
	char *path;

	ck_assert_int_gt(asprintf(&path, "%s/etc/policies/%s",
				  fixture_root_dir(), name),
			 0);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int fixture_remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fixture_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
