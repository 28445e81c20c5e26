/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_ERROR_H
#define KIST_ERROR_H

#include "libkist.h"

struct kist_error {
  int errnum; /* errno of the failing call, 0 if none */
  char *msg;
};

/* Sets *err to "<formatted message>: <strerror(errnum)>" (or just the message
 * when errnum is 0) and returns -1, so failures read `return kist_fail (...)`.
 * If *err is already set, the first message wins: it is closest to the cause. */
int kist_fail(kist_error_t *err, int errnum, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Takes ownership of an already-built message (e.g. from libocispec). */
int kist_fail_take(kist_error_t *err, int errnum, char *msg);

/* Builds a fresh error without returning: for messages read back from the
 * container's init over the sync channel. */
kist_error_t kist_error_new(int errnum, const char *msg);

#endif
