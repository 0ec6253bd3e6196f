// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of lib/fs.c: pw_open_log(), the open of plumwall-logd's sink
 * files, which must not be steered to another file by whoever can write
 * near it (symbolic links, a directory others may write, a FIFO).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plumwall/fs.h>

#include "fixtures.h"

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/pw-fs.XXXXXX",
		 fixture_env_or("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(chmod(tmp, 0755), 0);
	umask(022);
}

static void teardown(void)
{
	fixture_remove_tree(tmp);
}

/* @name in the test's directory; four buffers in turn, so that a call
 * may take two of these. */
static char *path_in(const char *name)
{
	static char p[4][512];
	static unsigned int n;
	char *b = p[n++ % 4];

	snprintf(b, sizeof(p[0]), "%.255s/%.200s", tmp, name);
	return b;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_creates_and_appends)
{
	char why[256];
	struct stat st;
	int fd;

	fd = pw_open_log(path_in("events.json"), 0640, why, sizeof(why));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "a\n", 2), 2);
	close(fd);
	ck_assert_int_eq(stat(path_in("events.json"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	fd = pw_open_log(path_in("events.json"), 0640, why, sizeof(why));
	ck_assert_int_ge(fd, 0);
	/* O_APPEND stays after the O_NONBLOCK of the open is cleared */
	ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK),
			 O_APPEND);
	ck_assert_int_eq(write(fd, "b\n", 2), 2);
	close(fd);
	ck_assert_str_eq(read_file(path_in("events.json")), "a\nb\n");
}
END_TEST

START_TEST(test_symlink_file_refused)
{
	int fd;

	put_file(path_in("victim"), "root's\n");
	ck_assert_int_eq(symlink(path_in("victim"), path_in("events.json")), 0);
	fd = pw_open_log(path_in("events.json"), 0640, NULL, 0);
	ck_assert_int_eq(fd, -ELOOP);
	ck_assert_str_eq(read_file(path_in("victim")), "root's\n");
}
END_TEST

START_TEST(test_symlink_dir_refused)
{
	int fd;

	ck_assert_int_eq(mkdir(path_in("real"), 0755), 0);
	ck_assert_int_eq(symlink(path_in("real"), path_in("logs")), 0);
	fd = pw_open_log(path_in("logs/events.json"), 0640, NULL, 0);
	ck_assert_int_eq(fd, -ELOOP);
	ck_assert_int_ne(access(path_in("real/events.json"), F_OK), 0);
}
END_TEST

START_TEST(test_writable_dir_refused)
{
	char why[256];
	int fd;

	ck_assert_int_eq(mkdir(path_in("open"), 0755), 0);
	ck_assert_int_eq(chmod(path_in("open"), 01777), 0);
	fd = pw_open_log(path_in("open/events.json"), 0640, why, sizeof(why));
	ck_assert_int_eq(fd, -EPERM);
	ck_assert_msg(strstr(why, "only root may write there"), "%s", why);
	ck_assert_int_ne(access(path_in("open/events.json"), F_OK), 0);

	/* group-writable for a group other than root's */
	ck_assert_int_eq(chmod(path_in("open"), 0775), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path_in("open"), 0, 100), 0);
		fd = pw_open_log(path_in("open/events.json"), 0640, NULL, 0);
		ck_assert_int_eq(fd, -EPERM);
		ck_assert_int_eq(chown(path_in("open"), 0, 0), 0);
		fd = pw_open_log(path_in("open/events.json"), 0640, NULL, 0);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
}
END_TEST

START_TEST(test_foreign_owner_refused)
{
	int fd;

	if (geteuid() != 0)
		return; /* only root can give a directory away */
	ck_assert_int_eq(mkdir(path_in("theirs"), 0755), 0);
	ck_assert_int_eq(chown(path_in("theirs"), 65534, 65534), 0);
	fd = pw_open_log(path_in("theirs/events.json"), 0640, NULL, 0);
	ck_assert_int_eq(fd, -EPERM);
}
END_TEST

START_TEST(test_fifo_refused_without_blocking)
{
	char why[256];
	int fd;

	ck_assert_int_eq(mkfifo(path_in("events.json"), 0600), 0);
	/* no reader: a blocking open would hang here (Check's timeout) */
	fd = pw_open_log(path_in("events.json"), 0640, why, sizeof(why));
	ck_assert_int_eq(fd, -EINVAL);
	ck_assert_msg(strstr(why, "is not a regular file"), "%s", why);
	ck_assert_int_eq(mkdir(path_in("d"), 0755), 0);
	fd = pw_open_log(path_in("d"), 0640, NULL, 0);
	ck_assert_int_eq(fd, -EINVAL);
	fd = pw_open_log(path_in("d/"), 0640, NULL, 0);
	ck_assert_int_eq(fd, -EISDIR);
}
END_TEST

static Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("open_log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_creates_and_appends);
	tcase_add_test(tc, test_symlink_file_refused);
	tcase_add_test(tc, test_symlink_dir_refused);
	tcase_add_test(tc, test_writable_dir_refused);
	tcase_add_test(tc, test_foreign_owner_refused);
	tcase_add_test(tc, test_fifo_refused_without_blocking);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(fs_suite());
}
