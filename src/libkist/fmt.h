/* kist: printf-style formatting for the start path without libc's stdio.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_FMT_H
#define KIST_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* The conversions kist's own strings use: flags "-0#+ ", width and
 * precision (digits or *), lengths hh h l ll z j t, conversions d i u x X o
 * c s p %. A format with anything else (floating point, %n, positional
 * arguments) goes to libc, so the output is always what snprintf prints. */

/* Like snprintf: writes at most cap bytes with the NUL, returns the length
 * the whole text has. */
int kist_snprintf(char *dst, size_t cap, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
int kist_vsnprintf(char *dst, size_t cap, const char *fmt, va_list ap)
  __attribute__((format(printf, 3, 0)));

/* A malloc'd formatted string; allocation failure aborts. */
char *kist_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0), malloc));

/* A growing string: kist_appendf adds formatted text to its end. Start from
 * {0}; s is NULL until the first append, then NUL-terminated. */
struct kist_strbuf {
  char *s;
  size_t len, cap;
};
void kist_appendf(struct kist_strbuf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

#endif
