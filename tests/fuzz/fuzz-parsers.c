/* libFuzzer target for kist's small parsers of untrusted strings. The first
 * byte of an input picks the parser, the rest is its string (parts split at
 * 0x1f where a parser takes several). Beyond "no crash, no leak, no UB", each
 * parser has a property that must hold for what it accepts, and every error
 * must be one non-empty line. Built and run by tests/fuzz/run.sh.
 *
 *   0 container id      kist_id_validate: accepted ids are [A-Za-z0-9_.-]{1,1024}, not . or ..
 *   1 signal            kist_signal_parse: 1..SIGRTMAX; names round-trip through kist_signal_name
 *   2 cpu list          kist_cpu_list_parse: sets only cpus named in the list
 *   3 sysctl key        kist_sysctl_namespace: total, namespaced keys only
 *   4 cgroupsPath       kist_cgroup_validate: no "." or ".." component, no newline
 *   5 cgroupsPath       the same with --systemd-cgroup (slice:prefix:name)
 *   6 mount             kist_mounts_validate: dest 0x1f type 0x1f source {0x1f option}:
 *                       nothing but proc on /proc, nothing but allowlisted binds below
 *                       it, however the destination is spelled
 *   7 capability        kist_caps_validate: accepted names are CAP_[A-Z0-9_]+
 *   8 integers          parse_int64 / parse_uint64: accepted text is [+-]?[0-9]+
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cgroup.h"
#include "context.h"
#include "mounts.h"
#include "paths.h"
#include "process.h"
#include "signals.h"
#include "state.h"
#include "util.h"

/* Reports on one line, control characters escaped, then aborts. */
static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz-parsers: %s: ", what);
  for (const unsigned char *p = (const unsigned char *)(detail ? detail : ""); *p; p++)
    fprintf(stderr, *p < 0x20 || *p == 0x7f ? "\\x%02x" : "%c", *p);
  fputc('\n', stderr);
  abort();
}

/* An error must exist, be one line, and be released. */
static void check_error(kist_error_t *err, const char *input)
{
  const char *m = *err ? kist_error_message(*err) : NULL;
  if (m == NULL || *m == '\0')
    fail("failure without a message", input);
  if (strchr(m, '\n') != NULL)
    fail("error message of more than one line", m);
  kist_error_release(err);
}

static void check_ok(kist_error_t *err, const char *input)
{
  if (*err != NULL)
    fail("success with an error set", input);
}

/* ---- 0: container id ---- */

static void id(const char *s)
{
  kist_error_t err = NULL;
  if (kist_id_validate(s, &err) < 0) {
    check_error(&err, s);
    return;
  }
  check_ok(&err, s);
  size_t n = strlen(s);
  if (n == 0 || n > 1024 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    fail("accepted id", s);
  for (const char *p = s; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.'))
      fail("accepted id with a bad character", s);
}

/* ---- 1: signal ---- */

static void signal_(const char *s)
{
  kist_error_t err = NULL;
  int sig = -1;
  if (kist_signal_parse(s, &sig, &err) < 0) {
    check_error(&err, s);
    return;
  }
  check_ok(&err, s);
  if (sig < 1 || sig > SIGRTMAX)
    fail("signal out of range", s);
  const char *name = kist_signal_name(sig);
  if (name != NULL) {
    int back = -1;
    if (kist_signal_parse(name, &back, &err) < 0 || back != sig)
      fail("kist_signal_name does not parse back", name);
  }
}

/* ---- 2: cpu list ---- */

static void cpus(const char *s)
{
  kist_error_t err = NULL;
  cpu_set_t *set = NULL;
  size_t size = 0;
  if (kist_cpu_list_parse(s, &set, &size, "fuzz.cpus", &err) < 0) {
    check_error(&err, s);
    if (set != NULL)
      fail("failure with a set", s);
    return;
  }
  check_ok(&err, s);
  if ((set == NULL) != (size == 0))
    fail("set and size disagree", s);
  if (set == NULL)
    return;
  /* Every cpu set must appear in the list as a number or inside a range. */
  for (size_t c = 0; c < size * 8; c++) {
    if (!CPU_ISSET_S(c, size, set))
      continue;
    bool named = false;
    const char *p = s;
    while (*p && !named) {
      while (*p && !isdigit((unsigned char)*p))
        p++;
      if (!*p)
        break;
      char *end;
      unsigned long lo = strtoul(p, &end, 10), hi = lo;
      p = end;
      while (*p == ' ')
        p++;
      if (*p == '-') {
        p++;
        while (*p == ' ')
          p++;
        hi = strtoul(p, &end, 10);
        p = end;
      }
      named = c >= lo && c <= hi;
    }
    if (!named)
      fail("a cpu not in the list was set", s);
  }
  CPU_FREE(set);
}

/* ---- 3: sysctl key ---- */

static void sysctl(const char *s)
{
  const char *ns = kist_sysctl_namespace(s);
  if (ns && strcmp(ns, "ipc") != 0 && strcmp(ns, "uts") != 0 && strcmp(ns, "network") != 0)
    fail("unknown namespace kind", ns);
  if (ns && strcmp(ns, "network") == 0 && strncmp(s, "net.", 4) != 0)
    fail("a non-net key maps to the network namespace", s);
}

/* ---- 4, 5: cgroupsPath ---- */

static bool has_dot_component(const char *s)
{
  const char *p = s;
  while (*p) {
    while (*p == '/')
      p++;
    const char *e = strchrnul(p, '/');
    size_t n = (size_t)(e - p);
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return true;
    p = e;
  }
  return false;
}

static void cgroups_path(const char *s, bool systemd)
{
  struct kist_context ctx = {
    .root = "/nonexistent/kist-fuzz", .systemd_cgroup = systemd, .rootless = 0};
  oci_config_linux lin = {0};
  oci_config cfg = {0};
  lin.cgroups_path = (char *)s;
  cfg.linux = &lin;
  kist_error_t err = NULL;
  if (kist_cgroup_validate(&ctx, "fuzz", &cfg, &err) < 0) {
    check_error(&err, s);
    return;
  }
  check_ok(&err, s);
  if (strchr(s, '\n'))
    fail("cgroupsPath with a newline accepted", s);
  if (!systemd && has_dot_component(s))
    fail("cgroupsPath with . or .. accepted", s);
  if (systemd && (strchr(s, '/') || strstr(s, "..")))
    fail("systemd cgroupsPath with / or .. accepted", s);
}

/* ---- 6: mounts ---- */

/* The path as the kernel resolves it (without symlinks): "//" and "." go,
 * ".." climbs but not above "/".  Written as a stack of components, unlike
 * kist_path_clean's in-place scan, so that it is an independent oracle. */
static char *clean_path(const char *s)
{
  cleanup_free char *copy = xstrdup(s);
  size_t cap = strlen(s) / 2 + 2, n = 0;
  cleanup_free const char **stack = xmalloc(cap * sizeof *stack);
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      if (n > 0)
        n--;
      continue;
    }
    stack[n++] = c;
  }
  size_t len = 2;
  for (size_t i = 0; i < n; i++)
    len += strlen(stack[i]) + 1;
  char *out = xmalloc(len);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    strcat(out, "/");
    strcat(out, stack[i]);
  }
  if (n == 0)
    strcpy(out, "/");
  return out;
}

static const char *const proc_bind_ok[] = {
  "/proc/cpuinfo", "/proc/diskstats",
  "/proc/meminfo", "/proc/stat",
  "/proc/swaps",   "/proc/uptime",
  "/proc/loadavg", "/proc/slabinfo",
  "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

static void mount_(char *s, const char *input)
{
  char *parts[16];
  size_t np = 0;
  for (char *p = s; np < 16;) {
    parts[np++] = p;
    char *sep = strchr(p, '\x1f');
    if (sep == NULL)
      break;
    *sep = '\0';
    p = sep + 1;
  }
  oci_mount m = {0};
  m.destination = parts[0];
  m.type = np > 1 && parts[1][0] ? parts[1] : NULL;
  m.source = np > 2 && parts[2][0] ? parts[2] : NULL;
  m.options = np > 3 ? parts + 3 : NULL;
  m.options_len = np > 3 ? np - 3 : 0;
  oci_mount *mp = &m;
  oci_config_root root = {.path = "rootfs"};
  oci_config cfg = {.root = &root, .mounts = &mp, .mounts_len = 1};
  kist_error_t err = NULL;
  if (kist_mounts_validate(&cfg, &err) < 0) {
    check_error(&err, input);
    return;
  }
  check_ok(&err, input);
  bool bind = m.type && strcmp(m.type, "bind") == 0;
  for (size_t i = 0; i < m.options_len; i++)
    bind |= strcmp(m.options[i], "bind") == 0 || strcmp(m.options[i], "rbind") == 0;
  cleanup_free char *d = clean_path(m.destination);
  cleanup_free char *k = kist_path_clean(m.destination);
  if (strcmp(d, k) != 0)
    fail("kist_path_clean disagrees with the component-stack oracle", m.destination);
  if (strcmp(d, "/proc") == 0 && (bind || m.type == NULL || strcmp(m.type, "proc") != 0))
    fail("something other than a proc mount accepted on /proc", m.destination);
  if (strncmp(d, "/proc/", 6) == 0) {
    bool ok = false;
    for (size_t i = 0; i < ARRAY_SIZE(proc_bind_ok); i++)
      ok |= bind && strcmp(d, proc_bind_ok[i]) == 0;
    if (!ok)
      fail("a mount over procfs accepted", m.destination);
  }
}

/* ---- 7: capabilities ---- */

static void capability(const char *s)
{
  char *list[1] = {(char *)s};
  oci_config_process_capabilities caps = {.bounding = list, .bounding_len = 1};
  kist_error_t err = NULL;
  if (kist_caps_validate(&caps, &err) < 0) {
    check_error(&err, s);
    return;
  }
  check_ok(&err, s);
  if (strncmp(s, "CAP_", 4) != 0 || s[4] == '\0')
    fail("capability name accepted", s);
  for (const char *p = s; *p; p++)
    if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
      fail("capability name with a bad character accepted", s);
}

/* ---- 8: integers ---- */

static bool decimal(const char *s, bool sign_ok)
{
  if (*s == '+' || (sign_ok && *s == '-'))
    s++;
  if (!isdigit((unsigned char)*s))
    return false;
  while (isdigit((unsigned char)*s))
    s++;
  return *s == '\0';
}

static void integers(const char *s)
{
  int64_t i;
  uint64_t u;
  if (parse_int64(s, &i) == 0) {
    if (!decimal(s, true))
      fail("parse_int64 accepted", s);
    char back[32];
    snprintf(back, sizeof back, "%" PRId64, i);
    int64_t again;
    if (parse_int64(back, &again) < 0 || again != i)
      fail("parse_int64 does not round-trip", s);
  }
  if (parse_uint64(s, &u) == 0 && !decimal(s, false))
    fail("parse_uint64 accepted", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 4096)
    return 0;
  /* The string: what follows the selector, up to the first NUL (C strings
   * are what the command line and libocispec hand over). */
  char *s = xstrndup((const char *)data + 1, size - 1);
  char *input = xstrdup(s);
  switch (data[0] % 9) {
  case 0:
    id(s);
    break;
  case 1:
    signal_(s);
    break;
  case 2:
    cpus(s);
    break;
  case 3:
    sysctl(s);
    break;
  case 4:
    cgroups_path(s, false);
    break;
  case 5:
    cgroups_path(s, true);
    break;
  case 6:
    mount_(s, input);
    break;
  case 7:
    capability(s);
    break;
  case 8:
    integers(s);
    break;
  }
  free(s);
  free(input);
  return 0;
}
