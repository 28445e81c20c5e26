/* Small helpers used everywhere: allocation that aborts on failure, cleanup
 * attributes, and file I/O that reports through kist_error_t.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_UTIL_H
#define KIST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not recoverable for a runtime: abort. */
void *xmalloc(size_t n) __attribute__((malloc, alloc_size(1)));
void *xzalloc(size_t n) __attribute__((malloc, alloc_size(1)));
void *xrealloc(void *p, size_t n) __attribute__((alloc_size(2)));
void *xcalloc(size_t nmemb, size_t size) __attribute__((malloc));
char *xstrdup(const char *s) __attribute__((malloc));
char *xstrndup(const char *s, size_t n) __attribute__((malloc));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), malloc));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0), malloc));

/* Cleanup helpers: setup code reads as a straight line of steps. */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);
#define cleanup_free   __attribute__((cleanup(cleanup_freep)))
#define cleanup_close  __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv   __attribute__((cleanup(cleanup_strvp)))

/* Hands ownership out of a cleanup variable. */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__(*(pp)) _p = *(pp);                                                                  \
    *(pp) = NULL;                                                                                  \
    _p;                                                                                            \
  })
#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _fd = *(fdp);                                                                              \
    *(fdp) = -1;                                                                                   \
    _fd;                                                                                           \
  })

void strv_free(char **v);
size_t strv_len(char *const *v);

/* Reads a whole file (relative to dirfd, or AT_FDCWD). *out is NUL-terminated. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len, kist_error_t *err);
/* Reads until EOF from fd. */
int read_all_fd(int fd, const char *what, char **out, size_t *len,
                kist_error_t *err); /* = read_input_fd, no size hint */
/* Input files named by the user (config.json, --process, --resources): kist
 * must never block on a fifo, read a device without end or run out of memory.
 * Opened O_NONBLOCK, must be a regular file of at most KIST_INPUT_MAX bytes;
 * errors name `what` (the path as the user knows it). */
#define KIST_INPUT_MAX ((size_t)64 << 20)
int read_input_file_at(int dirfd, const char *path, const char *what, char **out, size_t *len,
                       kist_error_t *err);
/* The same cap for an fd (stdin): hint is the expected size. */
int read_input_fd(int fd, const char *what, size_t hint, char **out, size_t *len,
                  kist_error_t *err);
/* "a fifo", "a directory", ... for messages about the type of a file. */
const char *file_kind(mode_t mode);
/* Writes data to path atomically: a temp file in the same dir, fsync-free
 * (state lives on tmpfs), then rename(2). */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                         kist_error_t *err);
/* Writes a short string to an existing file such as a cgroup or /proc knob. */
int write_file_at(int dirfd, const char *path, const char *data, size_t len, kist_error_t *err);
/* write(2) retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* read(2) retrying on EINTR. */
ssize_t read_retry(int fd, void *buf, size_t len);

/* mkdir -p relative to dirfd. */
int mkdir_p_at(int dirfd, const char *path, mode_t mode, kist_error_t *err);

/* Removes a directory tree (no symlink following). */
int rm_rf_at(int dirfd, const char *path, kist_error_t *err);

bool str_has_prefix(const char *s, const char *prefix);
/* Parses a decimal integer, the whole string; -1/errno on failure. */
int parse_int64(const char *s, int64_t *out);
int parse_uint64(const char *s, uint64_t *out);
/* The decimal digits at s (kernel text: no sign, no white space), saturating
 * at UINT64_MAX; *end, when given, is the first byte after them. */
uint64_t kist_decimal(const char *s, const char **end);

/* renameat2(2), flags 0 for a plain renameat. */
int kist_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   unsigned flags);

/* Closes every fd >= from except those in keep[] (sorted not required). */
int close_fds_from(int from, const int *keep, size_t nkeep);

/* Current time as RFC 3339 with nanoseconds, UTC: "2026-11-23T09:42:00.123456789Z". */
char *rfc3339_now(void);

#endif
