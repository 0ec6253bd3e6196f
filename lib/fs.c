// SPDX-License-Identifier: GPL-2.0
/*
 * File system helpers (include/plumwall/fs.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <plumwall/fs.h>

/* Create the directory before each '/' of @buf (not the last component);
 * @buf is cut and restored on the way. */
static int pw_mkdirs_parents(char *buf, mode_t mode)
{
	char *p;

	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int pw_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	int ret;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	ret = pw_mkdirs_parents(buf, mode);
	if (ret)
		return ret;
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int pw_mkdirs_for(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return pw_mkdirs_parents(buf, mode);
}
