/* Safe resolution of paths inside the container rootfs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_PATHS_H
#define KIST_PATHS_H

#include <sys/types.h>

#include "error.h"

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) of path under rootfd, with a
 * checked component walk as the fallback; symlinks never lead out of rootfd.
 * Returns the fd or -1 with *err set (naming the path). */
int kist_open_in_root(int rootfd, const char *path, int flags, mode_t mode, kist_error_t *err);

/* mkdir -p inside rootfd, each component resolved safely; returns an O_PATH
 * fd of the final dir (or -1). */
int kist_mkdir_in_root(int rootfd, const char *path, mode_t mode, kist_error_t *err);

/* Like kist_mkdir_in_root for the parent, then creates path as an empty
 * regular file when missing (a mountpoint for a file bind mount); returns an
 * O_PATH fd of it. An existing directory or file is returned as it is. */
int kist_mkfile_in_root(int rootfd, const char *path, mode_t mode, kist_error_t *err);

/* The lexical form of an absolute path: "//", "." and ".." collapsed (".."
 * never climbs above "/"), no trailing slash. Checks on a config path (is
 * it under /proc?) are made on this form, and the same form is then resolved,
 * so what was checked is what gets opened. Returns a new string. */
char *kist_path_clean(const char *path);

/* "/proc/self/fd/N": the path that makes mount(2) act on exactly that fd. */
#define KIST_FD_PATH_MAX 32
const char *kist_fd_path(int fd, char buf[KIST_FD_PATH_MAX]);

#endif
