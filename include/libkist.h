/* libkist: the library behind the kist OCI container runtime.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Error convention: every function that can fail returns an int (< 0 on
 * failure) and takes `kist_error_t *err` as its last argument.  On failure
 * *err holds one message, built where the failure happened; the caller prints
 * it or passes it up, and frees it with kist_error_release(). */
#ifndef LIBKIST_H
#define LIBKIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KIST_EXPORT __attribute__((visibility("default")))

typedef struct kist_error *kist_error_t;

/* The message of an error (never NULL for a set error). */
KIST_EXPORT const char *kist_error_message(kist_error_t err);
/* The errno behind the error, or 0 when it was not a system call failure. */
KIST_EXPORT int kist_error_errno(kist_error_t err);
/* Frees *err and sets it to NULL; NULL-safe. */
KIST_EXPORT void kist_error_release(kist_error_t *err);

/* Version strings: "0.1.0", the git commit, and the runtime-spec version. */
KIST_EXPORT const char *kist_version(void);
KIST_EXPORT const char *kist_commit(void);
KIST_EXPORT const char *kist_spec_version(void);

#ifdef __cplusplus
}
#endif
#endif
