/* --pid-file for create, run and exec: the directory is opened when the
 * command starts (a relative path is the caller's, whatever happens to the
 * cwd later) and the pid is written atomically (rename) once known.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_PIDFILE_H
#define KIST_PIDFILE_H

#include <sys/types.h>

#include "error.h"

struct kist_pid_file {
  int dirfd; /* -1: no pid file asked for */
  char *base;
};

#define KIST_PID_FILE_INIT                                                                         \
  {                                                                                                \
    .dirfd = -1, .base = NULL                                                                      \
  }

/* path NULL: nothing to do (pf stays empty). Errors name --pid-file. */
int kist_pid_file_open(const char *path, struct kist_pid_file *pf, kist_error_t *err);
/* Writes pid in decimal; nothing without a pid file. */
int kist_pid_file_write(const struct kist_pid_file *pf, pid_t pid, kist_error_t *err);
void kist_pid_file_close(struct kist_pid_file *pf);

#endif
