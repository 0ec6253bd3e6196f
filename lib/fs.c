// SPDX-License-Identifier: GPL-2.0
/*
 * File system helpers (include/plumwall/fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int pw_open_log(const char *path, mode_t mode, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	const char *base, *slash;
	struct stat st;
	int dfd = -1, fd = -1, ret;

	if (why && whylen)
		why[0] = '\0';
	slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
		base = slash + 1;
	} else {
		if ((size_t)(slash - path) >= sizeof(dir)) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		base = slash + 1;
	}
	if (!*base) {
		ret = -EISDIR;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ret = errno == ENOTDIR ? -ELOOP : -errno;
		goto out;
	}
	if (fstat(dfd, &st)) {
		ret = -errno;
		goto out;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid)) {
		if (why)
			snprintf(
				why, whylen,
				"%s is owned by uid %u, mode %04o: only root may write there",
				dir, (unsigned int)st.st_uid,
				(unsigned int)(st.st_mode & 07777));
		ret = -EPERM;
		goto out;
	}
	/* Say what an existing entry is before opening it (a FIFO without a
	 * reader fails a non-blocking open with a puzzling ENXIO). */
	if (!fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		if (S_ISLNK(st.st_mode)) {
			ret = -ELOOP;
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			if (why)
				snprintf(why, whylen,
					 "%s is not a regular file", path);
			ret = -EINVAL;
			goto out;
		}
	}
	/* Non-blocking for the open only: a FIFO made meanwhile would wait
	 * for a reader. */
	fd = openat(dfd, base,
		    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC,
		    mode);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		if (why)
			snprintf(why, whylen, "%s is not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if (fcntl(fd, F_SETFL, O_APPEND)) {
		ret = -errno;
		goto out;
	}
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}
