/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small file system helpers shared by plumwall's programs.
 */
#ifndef PLUMWALL_FS_H
#define PLUMWALL_FS_H

#include <sys/types.h>

/*
 * mkdir -p: create @path and every missing directory above it with @mode
 * (existing ones are left as they are). Returns 0 or a negative errno
 * (-ENAMETOOLONG beyond PATH_MAX).
 */
int pw_mkdirs(const char *path, mode_t mode);

/* pw_mkdirs() for the directory that holds the file @path. */
int pw_mkdirs_for(const char *path, mode_t mode);

#endif /* PLUMWALL_FS_H */
