/* The error object: one allocation per error, built where errno is fresh.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

/* Every message is one line, whatever an id or a config value holds: a
 * newline is kept as "\n" (API users and logs alike). Takes msg. */
static char *one_line(char *msg)
{
  size_t extra = 0;
  for (const char *p = msg; *p; p++)
    extra += *p == '\n' || *p == '\r';
  if (extra == 0)
    return msg;
  char *out = xmalloc(strlen(msg) + extra + 1), *o = out;
  for (const char *p = msg; *p; p++) {
    if (*p == '\n' || *p == '\r') {
      *o++ = '\\';
      *o++ = *p == '\n' ? 'n' : 'r';
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  free(msg);
  return out;
}

kist_error_t kist_error_new(int errnum, const char *msg)
{
  struct kist_error *e = xmalloc(sizeof *e);
  e->errnum = errnum;
  e->msg = one_line(xstrdup(msg));
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
  e->msg = one_line(msg);
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
