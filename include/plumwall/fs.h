/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small file system helpers shared by plumwall's programs.
 */
#ifndef PLUMWALL_FS_H
#define PLUMWALL_FS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * mkdir -p: create @path and every missing directory above it with @mode
 * (existing ones are left as they are). Returns 0 or a negative errno
 * (-ENAMETOOLONG beyond PATH_MAX).
 */
int pw_mkdirs(const char *path, mode_t mode);

/* pw_mkdirs() for the directory that holds the file @path. */
int pw_mkdirs_for(const char *path, mode_t mode);

/*
 * Open the log file @path for appending (created with @mode), for a
 * privileged writer that must not be steered elsewhere by whoever can
 * write near the file:
 * - the directory holding it must be owned by root or by this process's
 *   user and writable by nobody else (not by others, not by a group other
 *   than root's): -EPERM otherwise;
 * - the directory's last component and the file itself must not be
 *   symbolic links (O_NOFOLLOW): -ELOOP;
 * - the file must be a regular file (a FIFO would block the writer, a
 *   device is not a log): -EINVAL.
 * Returns a file descriptor or a negative errno; @why (may be NULL) gets
 * a short reason for -EPERM and -EINVAL.
 */
int pw_open_log(const char *path, mode_t mode, char *why, size_t whylen);

#endif /* PLUMWALL_FS_H */
