/* kist's own formatter (src/libkist/fmt.c) against glibc's snprintf: every
 * conversion, flag, width and precision it takes, at the edges of each type,
 * and truncation. TAP output.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "fmt.h"
#include "util.h"

static int tests, failures;

static void ok(int cond, const char *what)
{
  tests++;
  if (!cond)
    failures++;
  printf("%sok %d - %s\n", cond ? "" : "not ", tests, what);
}

/* Both formatters, into a roomy buffer, a 5-byte one (truncation) and a
 * malloc'd string; all three must match libc's text and length. */
static void check(const char *fmt, ...)
{
  char want[512], got[512], want5[5], got5[5];
  va_list ap, aq;

  va_start(ap, fmt);
  va_copy(aq, ap);
  int wn = vsnprintf(want, sizeof want, fmt, aq);
  va_end(aq);
  va_copy(aq, ap);
  int gn = kist_vsnprintf(got, sizeof got, fmt, aq);
  va_end(aq);
  va_copy(aq, ap);
  vsnprintf(want5, sizeof want5, fmt, aq);
  va_end(aq);
  va_copy(aq, ap);
  int g5 = kist_vsnprintf(got5, sizeof got5, fmt, aq);
  va_end(aq);
  va_copy(aq, ap);
  char *heap = kist_vasprintf(fmt, aq);
  va_end(aq);
  char *want_heap = NULL;
  va_copy(aq, ap);
  if (vasprintf(&want_heap, fmt, aq) < 0)
    abort();
  va_end(aq);
  va_end(ap);

  char what[700];
  int same = wn == gn && strcmp(want, got) == 0 && g5 == wn && strcmp(want5, got5) == 0 &&
             strcmp(heap, want_heap) == 0;
  snprintf(what, sizeof what,
           "\"%.60s\" gives \"%.60s\" (%d), kist \"%.60s\" (%d), \"%s\", \"%.60s\"", fmt, want, wn,
           got, gn, got5, heap);
  ok(same, what);
  free(heap);
  free(want_heap);
}

int main(void)
{
  check("plain text");
  check("");
  check("%%");
  check("100%% %s", "sure");
  check("%s/%s", "/sys/fs/cgroup", "memory");
  check("[%s]", "");
  check("%.3s|%.*s|%.0s", "abcdef", 2, "xyz", "gone");
  check("%-8s|%8s|%*s|%-*s|", "ab", "cd", 5, "e", 4, "f");
  check("%*s", -6, "neg");
  check("%.*s", -1, "negative precision");
  check("%7s|%-40s|", "a longer text than seven", "x");
  check("% s|%4095s", "flag", "w");
  check("%s %.5s %.6s", (char *)NULL, (char *)NULL, (char *)NULL);
  check("%c%c%5c%-3c|", 'a', '\0' + 'z', 'q', 'r');
  check("%d %i %u", 0, -1, 0u);
  check("%d %d", INT_MAX, INT_MIN);
  check("%u %x %X %o", UINT_MAX, UINT_MAX, 0xabcdefu, 8u);
  check("%ld %lu %lld %llu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX);
  check("%zu %zd %jd %ju %td", SIZE_MAX, (ssize_t)-5, INTMAX_MIN, UINTMAX_MAX, (ptrdiff_t)-7);
  check("%hhd %hhu %hd %hu %hhx", 300, 300, 70000, 70000, 0x1ff);
  check("%5d|%-5d|%05d|%+d|% d|%+d|% d", 42, 42, -42, 42, 42, -42, -42);
  check("%02lld:%02lld:%04lld %09ld", 5LL, 61LL, 7LL, -123L);
  check("%.3d|%.0d|%5.3d|%-6.2d|%05.1d", 7, 0, -7, 3, 9);
  check("%#x %#X %#o %#o %#x %#.0o", 255u, 255u, 8u, 0u, 0u, 0u);
  check("%016llx %04x %02x %#06x", 0xdeadbeefULL, 0x1u, 0xabu, 0x1fu);
  check("%-8d|%-12s|%-30s|", -3, "col", "wide");
  check("%p %p %20p|%-20p|", (void *)0x1234, (void *)NULL, (void *)0xff, (void *)NULL);
  check("%*d|%-*d|%.*d", 6, 12, 6, 12, 4, 12);
  check("%s=%zu, %s=%u, %c", "a", (size_t)3, "b", 4u, '!');
  /* What kist hands to libc: the same text, by libc. */
  check("%5.2f %e", 3.14159, 2.5);
  check("%2$s %1$s", "world", "hello");
  check("%ls", L"wide");
  check("%lc|", (wint_t)'w');

  /* Long output grows the heap buffer. */
  char big[3000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  check("<%s><%s>", big, big + 1000);
  char *s = xasprintf("%s-%d", big, 9);
  ok(strlen(s) == sizeof big + 1 && s[sizeof big - 1] == '-' && s[sizeof big] == '9',
     "xasprintf builds a text longer than its first buffer");
  free(s);

  /* A zero-sized buffer is not written; the length is still counted. */
  char guard = '#';
  ok(kist_snprintf(&guard, 0, "%s", "abc") == 3 && guard == '#', "cap 0 writes nothing, counts 3");

  /* kist_appendf: pieces, one of them through libc. */
  struct kist_strbuf b = {0};
  kist_appendf(&b, "mode %s\n", "v1");
  for (int i = 0; i < 40; i++)
    kist_appendf(&b, "dir %d %s\n", i, "memory");
  kist_appendf(&b, "%.1f", 2.5);
  char want[2048];
  size_t n = (size_t)snprintf(want, sizeof want, "mode v1\n");
  for (int i = 0; i < 40; i++)
    n += (size_t)snprintf(want + n, sizeof want - n, "dir %d %s\n", i, "memory");
  n += (size_t)snprintf(want + n, sizeof want - n, "%.1f", 2.5);
  ok(b.len == n && strcmp(b.s, want) == 0, "kist_appendf builds the same text in pieces");
  free(b.s);

  /* kist_decimal: kernel digits, saturating, stops at the first non-digit. */
  const char *end;
  ok(kist_decimal("4294967295 x", &end) == 4294967295u && *end == ' ',
     "kist_decimal reads up to the space");
  ok(kist_decimal("99999999999999999999999", NULL) == UINT64_MAX, "kist_decimal saturates");
  ok(kist_decimal(" 1", &end) == 0 && *end == ' ', "kist_decimal takes no white space");

  printf("1..%d\n", tests);
  return failures ? 1 : 0;
}
