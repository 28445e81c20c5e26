/* The error object: one allocation per error, built where errno is fresh.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

kist_error_t kist_error_new(int errnum, const char *msg)
{
  struct kist_error *e = xmalloc(sizeof *e);
  e->errnum = errnum;
  e->msg = xstrdup(msg);
  return e;
}

int kist_fail_take(kist_error_t *err, int errnum, char *msg)
{
  if (err == NULL || *err != NULL) {
    free(msg);
    return -1;
  }
  struct kist_error *e = xmalloc(sizeof *e);
  e->errnum = errnum;
  e->msg = msg;
  *err = e;
  return -1;
}

int kist_fail(kist_error_t *err, int errnum, const char *fmt, ...)
{
  if (err == NULL || *err != NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *base = xvasprintf(fmt, ap);
  va_end(ap);
  if (errnum == 0)
    return kist_fail_take(err, 0, base);
  char *msg = xasprintf("%s: %s", base, strerror(errnum));
  free(base);
  return kist_fail_take(err, errnum, msg);
}

const char *kist_error_message(kist_error_t err)
{
  return err ? err->msg : NULL;
}

int kist_error_errno(kist_error_t err)
{
  return err ? err->errnum : 0;
}

void kist_error_release(kist_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

const char *kist_version(void)
{
  return PACKAGE_VERSION;
}

const char *kist_commit(void)
{
  return KIST_COMMIT;
}

const char *kist_spec_version(void)
{
  return KIST_SPEC_VERSION;
}
