/* kist: printf-style formatting for the start path without libc's stdio.
 *
 * Why: a `run` formats a hundred strings (cgroup paths, JSON paths, state).
 * glibc's vasprintf goes through vfprintf and a string FILE, code spread over
 * two or three 64 KiB stretches of libc that the kernel then maps in whole
 * (fault-around), about a tenth of kist's peak RSS, and it costs several
 * times the instructions of this direct formatter. The formatter takes the
 * conversions kist uses; any other format is handed to libc unchanged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fmt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"

struct sink {
  char *buf;
  size_t len; /* the length of the whole text, written or not */
  size_t cap;
  bool grow;
};

static void sink_reserve(struct sink *s, size_t n)
{
  if (s->len + n + 1 <= s->cap)
    return;
  size_t cap = s->cap * 2;
  if (cap < s->len + n + 1)
    cap = s->len + n + 1;
  s->buf = xrealloc(s->buf, cap);
  s->cap = cap;
}

static void sink_put(struct sink *s, const char *p, size_t n)
{
  if (s->grow) {
    sink_reserve(s, n);
    memcpy(s->buf + s->len, p, n);
  } else if (s->len + 1 < s->cap) {
    size_t room = s->cap - 1 - s->len;
    memcpy(s->buf + s->len, p, n < room ? n : room);
  }
  s->len += n;
}

static void sink_fill(struct sink *s, char c, size_t n)
{
  char block[32];
  memset(block, c, sizeof block);
  while (n > 0) {
    size_t k = n < sizeof block ? n : sizeof block;
    sink_put(s, block, k);
    n -= k;
  }
}

struct spec {
  bool left, zero, alt, plus, space;
  int width;     /* -1: none */
  int precision; /* -1: none */
  int length;    /* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z', 'j', 't' */
  char conv;
};

/* Parse one directive after its '%', taking its '*' arguments from ap.
 * Returns the end of the directive, or NULL when this file does not handle
 * it (the caller then hands the whole format to libc). */
static const char *parse_spec(const char *p, struct spec *sp, va_list *ap)
{
  *sp = (struct spec){.width = -1, .precision = -1};
  for (;; p++) {
    if (*p == '-')
      sp->left = true;
    else if (*p == '0')
      sp->zero = true;
    else if (*p == '#')
      sp->alt = true;
    else if (*p == '+')
      sp->plus = true;
    else if (*p == ' ')
      sp->space = true;
    else
      break;
  }
  if (*p == '*') {
    p++;
    int w = va_arg(*ap, int);
    if (w < 0) {
      sp->left = true;
      w = w == INT_MIN ? INT_MAX : -w;
    }
    sp->width = w;
  } else if (*p >= '1' && *p <= '9') {
    int w = 0;
    while (*p >= '0' && *p <= '9') {
      if (w > 100000)
        return NULL;
      w = w * 10 + (*p++ - '0');
    }
    if (*p == '$') /* positional arguments */
      return NULL;
    sp->width = w;
  }
  if (*p == '.') {
    p++;
    if (*p == '*') {
      p++;
      int pr = va_arg(*ap, int);
      sp->precision = pr < 0 ? -1 : pr;
    } else {
      int pr = 0;
      while (*p >= '0' && *p <= '9') {
        if (pr > 100000)
          return NULL;
        pr = pr * 10 + (*p++ - '0');
      }
      sp->precision = pr;
    }
  }
  switch (*p) {
  case 'h':
  case 'l':
    sp->length = *p++;
    if (*p == sp->length) { /* hh, ll */
      p++;
      sp->length = sp->length == 'h' ? 'H' : 'L';
    }
    break;
  case 'z':
  case 'j':
  case 't':
    sp->length = *p++;
    break;
  default:
    break;
  }
  switch (*p) {
  case 'd':
  case 'i':
  case 'u':
  case 'x':
  case 'X':
  case 'o':
  case 'p':
    break;
  case 'c':
  case 's':
  case '%':
    if (sp->length != 0) /* wide characters and strings */
      return NULL;
    break;
  default:
    return NULL;
  }
  if (*p == 'p' && sp->length != 0)
    return NULL;
  sp->conv = *p;
  return p + 1;
}

static void pad_text(struct sink *s, const struct spec *sp, const char *text, size_t n)
{
  size_t width = sp->width > 0 ? (size_t)sp->width : 0;
  if (!sp->left && width > n)
    sink_fill(s, ' ', width - n);
  sink_put(s, text, n);
  if (sp->left && width > n)
    sink_fill(s, ' ', width - n);
}

static void put_integer(struct sink *s, const struct spec *sp, uintmax_t v, bool negative)
{
  char digits[3 * sizeof(uintmax_t) + 2], *d = digits + sizeof digits;
  const char *alphabet = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned base = sp->conv == 'o'                                           ? 8
                  : (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p') ? 16
                                                                            : 10;
  bool is_zero = v == 0;

  while (v != 0) {
    *--d = alphabet[v % base];
    v /= base;
  }
  size_t ndigits = (size_t)(digits + sizeof digits - d);
  size_t min_digits = sp->precision >= 0 ? (size_t)sp->precision : 1;
  if (is_zero && sp->precision == 0)
    min_digits = 0;
  /* '#' with o: the text starts with a 0 */
  if (sp->alt && base == 8 && min_digits <= ndigits && !(ndigits > 0 && *d == '0'))
    min_digits = ndigits + 1;

  char prefix[3];
  size_t nprefix = 0;
  if (negative)
    prefix[nprefix++] = '-';
  else if (sp->plus && (sp->conv == 'd' || sp->conv == 'i'))
    prefix[nprefix++] = '+';
  else if (sp->space && (sp->conv == 'd' || sp->conv == 'i'))
    prefix[nprefix++] = ' ';
  if ((sp->alt && base == 16 && !is_zero) || sp->conv == 'p') {
    prefix[nprefix++] = '0';
    prefix[nprefix++] = sp->conv == 'X' ? 'X' : 'x';
  }

  size_t zeros = min_digits > ndigits ? min_digits - ndigits : 0;
  size_t body = nprefix + zeros + ndigits;
  size_t width = sp->width > 0 ? (size_t)sp->width : 0;
  size_t pad = width > body ? width - body : 0;
  if (sp->zero && !sp->left && sp->precision < 0) {
    zeros += pad;
    pad = 0;
  }
  if (!sp->left)
    sink_fill(s, ' ', pad);
  sink_put(s, prefix, nprefix);
  sink_fill(s, '0', zeros);
  sink_put(s, d, ndigits);
  if (sp->left)
    sink_fill(s, ' ', pad);
}

static intmax_t signed_arg(int length, va_list *ap)
{
  switch (length) {
  case 'H':
    return (signed char)va_arg(*ap, int);
  case 'h':
    return (short)va_arg(*ap, int);
  case 'l':
    return va_arg(*ap, long);
  case 'L':
    return va_arg(*ap, long long);
  case 'z':
    return va_arg(*ap, ssize_t);
  case 'j':
    return va_arg(*ap, intmax_t);
  case 't':
    return va_arg(*ap, ptrdiff_t);
  default:
    return va_arg(*ap, int);
  }
}

static uintmax_t unsigned_arg(int length, va_list *ap)
{
  switch (length) {
  case 'H':
    return (unsigned char)va_arg(*ap, unsigned);
  case 'h':
    return (unsigned short)va_arg(*ap, unsigned);
  case 'l':
    return va_arg(*ap, unsigned long);
  case 'L':
    return va_arg(*ap, unsigned long long);
  case 'z':
    return va_arg(*ap, size_t);
  case 'j':
    return va_arg(*ap, uintmax_t);
  case 't':
    return (uintmax_t)va_arg(*ap, ptrdiff_t);
  default:
    return va_arg(*ap, unsigned);
  }
}

/* False, having written part of it, at a directive this file does not take. */
static bool format_into(struct sink *s, const char *fmt, va_list *ap)
{
  const char *p = fmt;
  for (;;) {
    const char *pct = strchrnul(p, '%');
    sink_put(s, p, (size_t)(pct - p));
    if (*pct == '\0')
      return true;
    struct spec sp;
    p = parse_spec(pct + 1, &sp, ap);
    if (p == NULL)
      return false;
    switch (sp.conv) {
    case '%':
      sink_put(s, "%", 1);
      break;
    case 'c': {
      char c = (char)va_arg(*ap, int);
      pad_text(s, &sp, &c, 1);
      break;
    }
    case 's': {
      const char *str = va_arg(*ap, const char *);
      if (str == NULL) /* glibc's text for NULL, when the precision lets it */
        str = sp.precision < 0 || sp.precision >= 6 ? "(null)" : "";
      size_t n = sp.precision >= 0 ? strnlen(str, (size_t)sp.precision) : strlen(str);
      pad_text(s, &sp, str, n);
      break;
    }
    case 'p': {
      void *ptr = va_arg(*ap, void *);
      if (ptr == NULL) {
        pad_text(s, &sp, "(nil)", 5);
        break;
      }
      put_integer(s, &sp, (uintptr_t)ptr, false);
      break;
    }
    case 'd':
    case 'i': {
      intmax_t v = signed_arg(sp.length, ap);
      put_integer(s, &sp, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
      break;
    }
    default:
      put_integer(s, &sp, unsigned_arg(sp.length, ap), false);
      break;
    }
  }
}

int kist_vsnprintf(char *dst, size_t cap, const char *fmt, va_list ap)
{
  struct sink s = {.buf = dst, .cap = cap};
  va_list aq;
  va_copy(aq, ap);
  bool ours = format_into(&s, fmt, &aq);
  va_end(aq);
  if (!ours)
    return vsnprintf(dst, cap, fmt, ap);
  if (cap > 0)
    dst[s.len < cap ? s.len : cap - 1] = '\0';
  return s.len > INT_MAX ? -1 : (int)s.len;
}

int kist_snprintf(char *dst, size_t cap, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = kist_vsnprintf(dst, cap, fmt, ap);
  va_end(ap);
  return n;
}

static char *libc_vasprintf(const char *fmt, va_list ap)
{
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0)
    n = 0; /* an invalid format: an empty text */
  char *p = xmalloc((size_t)n + 1);
  p[0] = '\0';
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

/* Appends to b; a format fmt.c does not take goes to libc whole. */
static void vappendf(struct kist_strbuf *b, const char *fmt, va_list ap)
{
  struct sink s = {.buf = b->s, .len = b->len, .cap = b->cap, .grow = true};
  if (s.buf == NULL) {
    s.cap = strlen(fmt) + 64;
    s.buf = xmalloc(s.cap);
  }
  va_list aq;
  va_copy(aq, ap);
  bool ours = format_into(&s, fmt, &aq);
  va_end(aq);
  if (!ours) {
    char *more = libc_vasprintf(fmt, ap);
    s.len = b->len;
    sink_put(&s, more, strlen(more));
    free(more);
  }
  s.buf[s.len] = '\0';
  *b = (struct kist_strbuf){.s = s.buf, .len = s.len, .cap = s.cap};
}

char *kist_vasprintf(const char *fmt, va_list ap)
{
  struct kist_strbuf b = {0};
  vappendf(&b, fmt, ap);
  return b.s;
}

void kist_appendf(struct kist_strbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vappendf(b, fmt, ap);
  va_end(ap);
}
