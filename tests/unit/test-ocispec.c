/* Unit tests for libocispec (the generated OCI model).  Prints TAP.
 *
 * Fixture directories come from -D defines set by tests/unit/Makefile.am.inc
 * ($(abs_top_srcdir), so they work under distcheck) and can be overridden
 * with the environment variables of the same names:
 *   OCISPEC_FIXTURES_DIR    tests/fixtures (config-good/, config-bad/)
 *   OCISPEC_SPEC_TESTS_DIR  libocispec/schema/test (runtime-spec's own fixtures)
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* vasprintf; config.h defines it in the real build */
#endif
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"

#ifndef OCISPEC_FIXTURES_DIR
#define OCISPEC_FIXTURES_DIR "tests/fixtures"
#endif
#ifndef OCISPEC_SPEC_TESTS_DIR
#define OCISPEC_SPEC_TESTS_DIR "libocispec/schema/test"
#endif

static int n_tests, n_failed;

static bool __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
  va_list ap;
  n_tests++;
  if (!cond)
    n_failed++;
  printf("%s %d - ", cond ? "ok" : "not ok", n_tests);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  return cond;
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
  va_list ap;
  fputs("# ", stdout);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static const char *dir_from_env(const char *var, const char *def)
{
  const char *v = getenv(var);
  return v && *v ? v : def;
}

static char *__attribute__((format(printf, 1, 2))) xasprintf(const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  return s;
}

static char *path_join(const char *a, const char *b)
{
  return xasprintf("%s/%s", a, b);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the *.json files in dir; NULL-terminated. */
static char **list_json(const char *dir, size_t *n)
{
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t len = 0;
  struct dirent *de;
  *n = 0;
  if (d == NULL)
    return NULL;
  while ((de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) {
      names = oci_xrealloc(names, (len + 2) * sizeof(char *));
      names[len++] = oci_xstrdup(de->d_name);
    }
  }
  closedir(d);
  if (names == NULL)
    return NULL;
  names[len] = NULL;
  qsort(names, len, sizeof(char *), cmp_str);
  *n = len;
  return names;
}

static void free_strv(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "re");
  char *buf = NULL;
  size_t cap = 0, n = 0, r;
  if (f == NULL)
    return NULL;
  do {
    if (cap - n < 4096)
      buf = oci_xrealloc(buf, cap = cap ? cap * 2 : 8192);
    r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
  } while (r > 0);
  fclose(f);
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

/* ---- generic per-type checks ------------------------------------------------ */

/* A table of function pointers per document type, so the same checks run
 * over config, state and features. */
typedef struct doc_ops {
  const char *name;
  int (*parse_file)(const char *, void **, char **);
  int (*parse_data)(const char *, size_t, const char *, void **, char **);
  int (*generate)(const void *, char **, char **);
  bool (*equal)(const void *, const void *);
  void (*free)(void *);
} doc_ops;

#define DOC_OPS(T)                                                                                 \
  static int T##_pf(const char *p, void **o, char **e)                                             \
  {                                                                                                \
    return oci_##T##_parse_file(p, (oci_##T **)o, e);                                              \
  }                                                                                                \
  static int T##_pd(const char *d, size_t l, const char *s, void **o, char **e)                    \
  {                                                                                                \
    return oci_##T##_parse_data(d, l, s, (oci_##T **)o, e);                                        \
  }                                                                                                \
  static int T##_gen(const void *v, char **j, char **e)                                            \
  {                                                                                                \
    return oci_##T##_generate_json(v, j, e);                                                       \
  }                                                                                                \
  static bool T##_eq(const void *a, const void *b)                                                 \
  {                                                                                                \
    return oci_##T##_equal(a, b);                                                                  \
  }                                                                                                \
  static void T##_free(void *v)                                                                    \
  {                                                                                                \
    free_oci_##T(v);                                                                               \
  }                                                                                                \
  static const doc_ops T##_ops = {#T, T##_pf, T##_pd, T##_gen, T##_eq, T##_free};

DOC_OPS(config)
DOC_OPS(state)
DOC_OPS(features)

/* parse -> generate -> parse must give an equal model, and generating the
 * reparsed model must give the same text. */
static void check_roundtrip(const doc_ops *ops, const char *label, void *v)
{
  char *json = NULL, *json2 = NULL, *err = NULL;
  void *v2 = NULL;
  int r = ops->generate(v, &json, &err);
  if (!ok(r == 0 && json != NULL, "%s: generate", label)) {
    diag("%s", err ? err : "(no message)");
    free(err);
    return;
  }
  r = ops->parse_data(json, strlen(json), "generated.json", &v2, &err);
  if (ok(r == 0, "%s: reparse generated JSON", label)) {
    ok(ops->equal(v, v2), "%s: round trip gives an equal model", label);
    ok(!ops->equal(v, NULL) && ops->equal(NULL, NULL), "%s: equal() handles NULL", label);
    r = ops->generate(v2, &json2, &err);
    ok(r == 0 && json2 && strcmp(json, json2) == 0, "%s: generation is stable", label);
  } else
    diag("%s", err ? err : "(no message)");
  free(err);
  free(json);
  free(json2);
  ops->free(v2);
}

static void check_good_dir(const doc_ops *ops, const char *dir)
{
  size_t n;
  char **names = list_json(dir, &n);
  ok(n > 0, "%s: found good fixtures in %s", ops->name, dir);
  for (size_t i = 0; i < n; i++) {
    char *p = path_join(dir, names[i]), *err = NULL;
    void *v = NULL;
    int r = ops->parse_file(p, &v, &err);
    if (ok(r == 0 && v != NULL && err == NULL, "%s: %s parses", ops->name, p))
      check_roundtrip(ops, p, v);
    else
      diag("%s", err ? err : "(no message)");
    ops->free(v);
    free(err);
    free(p);
  }
  free_strv(names);
}

/* The message must be one line and start with "<source>:<line>:<col>: ". */
static bool well_formed_error(const char *err, const char *source)
{
  size_t l = strlen(source);
  unsigned line, col;
  int end = 0;
  if (err == NULL || strchr(err, '\n') != NULL || strncmp(err, source, l) != 0 || err[l] != ':')
    return false;
  if (sscanf(err + l, ":%u:%u: %n", &line, &col, &end) != 2 || end == 0)
    return false;
  return line >= 1 && col >= 1;
}

static void check_bad_file(const doc_ops *ops, const char *path, const char *expect)
{
  char *err = NULL;
  void *v = (void *)1;
  int r = ops->parse_file(path, &v, &err);
  ok(r == -1 && v == NULL, "%s: %s is rejected", ops->name, path);
  ok(well_formed_error(err, path), "%s: error is one line '<file>:<line>:<col>: ...': %s",
     ops->name, err ? err : "(null)");
  if (expect &&
      !ok(err && strstr(err, expect), "%s: error names the problem (%s)", ops->name, expect))
    diag("got: %s", err ? err : "(null)");
  free(err);
}

static void check_bad_fixtures(const char *dir)
{
  size_t n;
  char **names = list_json(dir, &n);
  ok(n >= 35, "config: %zu bad fixtures in %s", n, dir);
  for (size_t i = 0; i < n; i++) {
    char *p = path_join(dir, names[i]);
    char *ep = xasprintf("%.*s.expect", (int)(strlen(p) - 5), p);
    char *expect = read_file(ep, NULL);
    if (!ok(expect != NULL && *expect, "config: %s has a .expect file", p)) {
      free(p);
      free(ep);
      free(expect);
      continue;
    }
    expect[strcspn(expect, "\n")] = '\0';
    check_bad_file(&config_ops, p, expect);
    free(expect);
    free(ep);
    free(p);
  }
  free_strv(names);
}

/* runtime-spec's own bad documents: the field each one is about. */
static void check_spec_bad(const char *spec)
{
  static const struct {
    const doc_ops *ops;
    const char *file, *expect;
  } cases[] = {
    {&config_ops, "config/bad/freebsd-vnet-disable.json",
     "freebsd.jail.vnet: \"disable\" is not one of"},
    {&config_ops, "config/bad/invalid-json.json", "invalid JSON"},
    {&config_ops, "config/bad/linux-hugepage.json",
     "linux.resources.hugepageLimits[0].pageSize: \"64kB\" does not match pattern"},
    {&config_ops, "config/bad/linux-netdevice.json",
     "linux.netDevices.eth0.name: expected string, got integer"},
    {&config_ops, "config/bad/linux-rdma.json",
     "linux.resources.rdma.mlx5_1.hcaHandles: expected integer, got string"},
    {&state_ops, "state/bad/invalid-json.json", "invalid JSON"},
    {&features_ops, "features/bad/missing-ociVersionMax.json",
     "ociVersionMax: required property missing"},
  };
  static const char *const kinds[] = {"config", "state", "features"};
  size_t total = 0;
  for (size_t k = 0; k < 3; k++) {
    char *d = xasprintf("%s/%s/bad", spec, kinds[k]);
    size_t n;
    char **names = list_json(d, &n);
    for (size_t i = 0; i < n; i++) {
      bool known = false;
      char *rel = xasprintf("%s/bad/%s", kinds[k], names[i]);
      for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        known |= strcmp(cases[c].file, rel) == 0;
      if (!known) {
        /* A new upstream bad fixture: at least it must be rejected. */
        char *p = path_join(spec, rel);
        const doc_ops *ops = k == 0 ? &config_ops : k == 1 ? &state_ops : &features_ops;
        check_bad_file(ops, p, NULL);
        free(p);
      }
      free(rel);
    }
    total += n;
    free_strv(names);
    free(d);
  }
  ok(total >= 7, "spec: %zu bad fixtures found", total);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char *p = path_join(spec, cases[c].file);
    check_bad_file(cases[c].ops, p, cases[c].expect);
    free(p);
  }
}

/* ---- targeted checks --------------------------------------------------------- */

static oci_config *parse_config_str(const char *json, char **err)
{
  oci_config *c = NULL;
  *err = NULL;
  if (oci_config_parse_data(json, strlen(json), "t.json", &c, err) < 0)
    return NULL;
  return c;
}

/* Exact messages, including positions. */
static void check_messages(void)
{
  static const struct {
    const char *json, *msg;
  } cases[] = {
    {"{\n  \"ociVersion\": 1\n}", "t.json:2:17: ociVersion: expected string, got integer"},
    {"{\n  \"ociVersion\": \"2.0.0\"\n}",
     "t.json:2:17: ociVersion: \"2.0.0\" is not a supported version (need SemVer with major 1)"},
    {"{\"ociVersion\": \"1.0.0\",\n \"mounts\": [{\"destination\": \"/a\"},\n  {\"destination\": "
     "\"/b\"},\n    {\"type\": "
     "\"bind\"}]}",
     "t.json:4:5: mounts[2].destination: required property missing"},
    {"{\"ociVersion\": \"1.0.0\",\n \"linux\": {\n  \"namespaces\": [\n   {\"type\": \"foo\"}]}}",
     "t.json:4:13: linux.namespaces[0].type: \"foo\" is not one of mount, pid, network, uts, ipc, "
     "user, cgroup, time"},
    {"{\"ociVersion\": \"1.0.0\", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 4294967296}}}",
     "t.json:1:65: process.user.uid: 4294967296 out of range for uint32"},
    {"{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
     "t.json:1:69: linux.resources.memory.limit: expected integer, got string"},
    {"[]", "t.json:1:1: (root): expected object, got array"},
    {"{}", "t.json:1:1: ociVersion: required property missing"},
    {"{\"ociVersion\": \"1.0.0\", \"process\": {\"cwd\": \"/\", \"rlimits\": [{\"type\": "
     "\"RLIMIT_CPU\", \"soft\": 1, "
     "\"hard\": true}]}}",
     "t.json:1:103: process.rlimits[0].hard: expected integer, got boolean"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *err;
    oci_config *c = parse_config_str(cases[i].json, &err);
    if (!ok(c == NULL && err && strcmp(err, cases[i].msg) == 0, "message: %s", cases[i].msg))
      diag("got: %s", err ? err : "(null)");
    free_oci_config(c);
    free(err);
  }

  /* invalid JSON: position and a one-line yajl reason */
  char *err;
  oci_config *c = parse_config_str("{\"ociVersion\": \"1.0.0\",\n}", &err);
  ok(c == NULL && err && strncmp(err, "t.json:2:", 9) == 0 && strstr(err, ": invalid JSON: ") &&
       strchr(err, '\n') == NULL,
     "invalid JSON message: %s", err ? err : "(null)");
  free(err);
  c = parse_config_str("", &err);
  ok(c == NULL && err && strstr(err, "t.json:") == err && strstr(err, "invalid JSON"),
     "empty input: %s", err ? err : "(null)");
  free(err);

  /* parse_file: a missing file names the path */
  oci_config *fc = NULL;
  err = NULL;
  int r = oci_config_parse_file("/nonexistent/dir/config.json", &fc, &err);
  ok(r == -1 && fc == NULL && err && strstr(err, "/nonexistent/dir/config.json") &&
       strchr(err, '\n') == NULL,
     "missing file: %s", err ? err : "(null)");
  free(err);
}

static const char *map_get(const oci_map_string_string *m, const char *k)
{
  return oci_map_string_string_get(m, k);
}

static void check_values(const char *fixtures)
{
  char *err = NULL, *p;
  oci_config *c = NULL;

  p = path_join(fixtures, "config-good/memory-int64-extremes.json");
  if (ok(oci_config_parse_file(p, &c, &err) == 0, "values: %s", p)) {
    oci_config_linux_resources_memory *m = c->linux->resources->memory;
    ok(m->limit_present && m->limit == INT64_MAX, "memory.limit == INT64_MAX");
    ok(m->reservation_present && m->reservation == -1, "memory.reservation == -1");
    ok(m->kernel_present && m->kernel == INT64_MIN, "memory.kernel == INT64_MIN");
    ok(m->swappiness_present && m->swappiness == UINT64_MAX, "memory.swappiness == UINT64_MAX");
    ok(m->kernel_tcp_present && m->kernel_tcp == 0, "memory.kernelTCP == 0 and present");
    ok(m->disable_oom_killer_present && !m->disable_oom_killer,
       "disableOOMKiller false but present");
    ok(m->use_hierarchy && m->check_before_update, "useHierarchy, checkBeforeUpdate");
  }
  free(err);
  free(p);
  free_oci_config(c);
  c = NULL;
  err = NULL;

  p = path_join(fixtures, "config-good/uint64-max.json");
  if (ok(oci_config_parse_file(p, &c, &err) == 0, "values: %s", p)) {
    oci_config_process *pr = c->process;
    ok(pr->rlimits_len == 2 && pr->rlimits[0]->hard == UINT64_MAX &&
         pr->rlimits[0]->soft == UINT64_MAX && strcmp(pr->rlimits[0]->type, "RLIMIT_NOFILE") == 0 &&
         pr->rlimits[1]->hard == 0 && pr->rlimits[1]->hard_present,
       "rlimits keep uint64 max and 0");
    ok(pr->console_size->height == UINT64_MAX && pr->console_size->width_present &&
         pr->console_size->width == 0,
       "consoleSize");
    ok(pr->scheduler->nice == INT32_MIN && pr->scheduler->priority == INT32_MAX &&
         pr->scheduler->flags_len == 1,
       "scheduler int32 extremes");
    oci_syscall *sc = c->linux->seccomp->syscalls[0];
    ok(sc->errno_ret == UINT32_MAX && sc->args_len == 1 && sc->args[0]->index == UINT32_MAX &&
         sc->args[0]->value == UINT64_MAX && sc->args[0]->value_two == UINT64_MAX,
       "seccomp arg uint64/uint32 max");
    ok(c->linux->resources->cpu->quota == -1 &&
         c->linux->resources->cpu->realtime_runtime == INT64_MIN &&
         c->linux->resources->cpu->shares == UINT64_MAX,
       "cpu quota/realtimeRuntime/shares");
  }
  free(err);
  free(p);
  free_oci_config(c);
  c = NULL;
  err = NULL;

  p = path_join(fixtures, "config-good/full-linux.json");
  if (ok(oci_config_parse_file(p, &c, &err) == 0, "values: %s", p)) {
    oci_config_linux *l = c->linux;
    ok(c->root->readonly_present && c->root->readonly && strcmp(c->root->path, "rootfs") == 0,
       "root");
    ok(strcmp(c->hostname, "kist") == 0 && strcmp(c->domainname, "example.org") == 0,
       "hostname/domainname");
    ok(c->mounts_len == 2 && c->mounts[1]->options_len == 2 &&
         strcmp(c->mounts[1]->options[1], "ro") == 0 && c->mounts[1]->uid_mappings_len == 1 &&
         c->mounts[1]->uid_mappings[0]->host_id == 1000,
       "mounts");
    ok(c->process->terminal && c->process->user->umask == 18 &&
         c->process->user->additional_gids_len == 2 && c->process->user->additional_gids[1] == 6 &&
         c->process->oom_score_adj == 100 && c->process->no_new_privileges &&
         c->process->capabilities->inheritable != NULL &&
         c->process->capabilities->inheritable_len == 0 &&
         strcmp(c->process->io_priority->class, "IOPRIO_CLASS_BE") == 0 &&
         strcmp(c->process->exec_cpu_affinity->initial, "0-3, 7") == 0,
       "process");
    ok(c->hooks->create_runtime_len == 1 && c->hooks->create_runtime[0]->timeout == 5 &&
         c->hooks->poststop[0]->args_len == 2 &&
         strcmp(c->hooks->poststop[0]->args[1], "poststop") == 0,
       "hooks");
    ok(l->namespaces_len == 9 && strcmp(l->namespaces[7]->type, "time") == 0 &&
         strcmp(l->namespaces[8]->path, "/var/run/netns/x") == 0,
       "namespaces");
    ok(l->devices_len == 4 && l->devices[0]->file_mode == 438 && l->devices[0]->major == 10 &&
         !l->devices[3]->major_present,
       "devices");
    ok(l->sysctl->len == 2 && strcmp(l->sysctl->keys[0], "net.ipv4.ip_forward") == 0 &&
         strcmp(map_get(l->sysctl, "kernel.shmmax"), "4294967296") == 0,
       "sysctl map keeps order");
    ok(l->net_devices->len == 2 && strcmp(l->net_devices->keys[0], "eth0") == 0 &&
         strcmp(l->net_devices->values[0]->name, "ceth0") == 0 &&
         l->net_devices->values[1]->name == NULL,
       "netDevices map");
    oci_config_linux_resources *res = l->resources;
    ok(res->rdma->len == 2 && res->rdma->values[0]->hca_handles == 3 &&
         !res->rdma->values[1]->hca_handles_present,
       "rdma map");
    ok(res->block_io->weight == 10 && res->block_io->weight_device[0]->leaf_weight == 300 &&
         res->block_io->throttle_write_iops_device[0]->rate == 30 &&
         res->block_io->throttle_read_bps_device[0]->major == 8,
       "blockIO");
    ok(res->pids->limit == -1 && res->memory->limit == 536870912 &&
         res->network->class_id == 1048577 && res->network->priorities[0]->priority == 500 &&
         res->hugepage_limits[0]->limit == 209715200 &&
         strcmp(map_get(res->unified, "memory.high"), "max") == 0 && !res->devices[0]->allow &&
         res->devices[1]->allow_present && res->devices[1]->allow,
       "resources");
    ok(strcmp(l->seccomp->default_action, "SCMP_ACT_ERRNO") == 0 &&
         l->seccomp->default_errno_ret == 1 && l->seccomp->flags_len == 2 &&
         l->seccomp->architectures_len == 3 && l->seccomp->syscalls_len == 3 &&
         strcmp(l->seccomp->syscalls[1]->args[0]->op, "SCMP_CMP_EQ") == 0 &&
         strcmp(l->seccomp->listener_path, "/run/agent.sock") == 0,
       "seccomp");
    ok(strcmp(l->rootfs_propagation, "slave") == 0 &&
         strcmp(l->cgroups_path, "/myRuntime/myContainer") == 0 && l->masked_paths_len == 1 &&
         l->readonly_paths_len == 1,
       "linux strings and path lists");
    ok(strcmp(l->personality->domain, "LINUX32") == 0 && l->personality->flags != NULL &&
         l->time_offsets->boottime->secs == -100 &&
         l->time_offsets->monotonic->nanosecs == UINT32_MAX &&
         strcmp(l->memory_policy->mode, "MPOL_INTERLEAVE") == 0 && l->intel_rdt->enable_monitoring,
       "personality, timeOffsets, memoryPolicy, intelRdt");
  }
  free(err);
  free(p);
  free_oci_config(c);
}

static bool contains(const char *hay, const char *needle)
{
  return hay && strstr(hay, needle) != NULL;
}

static void check_unknown(const char *fixtures)
{
  char *err = NULL, *json = NULL, *p = path_join(fixtures, "config-good/unknown-properties.json");
  oci_config *c = NULL;
  if (ok(oci_config_parse_file(p, &c, &err) == 0, "unknown: %s parses", p)) {
    ok(c->_unknown && c->_unknown->type == OCI_JSON_OBJECT && c->_unknown->len == 3 &&
         strcmp(c->_unknown->keys[0], "x-top") == 0 && strcmp(c->_unknown->keys[2], "zzz") == 0,
       "unknown top-level properties kept in order");
    ok(c->process->user->_unknown && c->mounts[0]->_unknown && c->hooks->prestart[0]->_unknown &&
         c->linux->resources->memory->_unknown && c->linux->namespaces[0]->_unknown &&
         c->process->rlimits[0]->_unknown && c->root->_unknown,
       "unknown properties kept at every level");
    ok(strcmp(c->process->cwd, "/") == 0 && c->process->_unknown != NULL &&
         c->process->_unknown->len == 1,
       "known and unknown properties coexist");
    ok(oci_config_generate_json(c, &json, &err) == 0 && contains(json, "\"x-top\"") &&
         contains(json, "18446744073709551616123") && contains(json, "-30000000000.0") &&
         contains(json, "\"x-mount\"") && contains(json, "\"windowsFuture\""),
       "unknown properties re-emitted verbatim (numbers as written)");
  }
  free(json);
  free(err);
  free(p);
  free_oci_config(c);
}

/* A model built by hand (as `kist spec` does) generates and parses back. */
static void check_build_by_hand(void)
{
  oci_config *c = oci_xcalloc(1, sizeof(*c));
  char *json = NULL, *err = NULL;
  oci_config *back = NULL;
  c->oci_version = oci_xstrdup("1.3.0");
  c->root = oci_xcalloc(1, sizeof(*c->root));
  c->root->path = oci_xstrdup("rootfs");
  c->process = oci_xcalloc(1, sizeof(*c->process));
  c->process->cwd = oci_xstrdup("/");
  c->process->args = oci_xcalloc(2, sizeof(char *));
  c->process->args[0] = oci_xstrdup("sh");
  c->process->args[1] = oci_xstrdup("-c");
  c->process->args_len = 2;
  c->process->user = oci_xcalloc(1, sizeof(*c->process->user));
  c->process->user->uid_present = c->process->user->gid_present = true;
  c->process->user->uid = UINT32_MAX;
  c->linux = oci_xcalloc(1, sizeof(*c->linux));
  c->linux->namespaces = oci_xcalloc(1, sizeof(oci_namespace_reference *));
  c->linux->namespaces[0] = oci_xcalloc(1, sizeof(oci_namespace_reference));
  c->linux->namespaces[0]->type = oci_xstrdup("pid");
  c->linux->namespaces_len = 1;
  c->linux->resources = oci_xcalloc(1, sizeof(*c->linux->resources));
  c->linux->resources->memory = oci_xcalloc(1, sizeof(*c->linux->resources->memory));
  c->linux->resources->memory->limit = INT64_MIN;
  c->linux->resources->memory->limit_present = true;
  c->annotations = oci_xcalloc(1, sizeof(*c->annotations));
  c->annotations->keys = oci_xcalloc(1, sizeof(char *));
  c->annotations->values = oci_xcalloc(1, sizeof(char *));
  c->annotations->keys[0] = oci_xstrdup("k");
  c->annotations->values[0] = oci_xstrdup("v");
  c->annotations->len = 1;
  int r = oci_config_generate_json(c, &json, &err);
  ok(r == 0 && contains(json, "4294967295") && contains(json, "-9223372036854775808") &&
       !contains(json, "\"gid\": 1"),
     "hand-built model generates");
  ok(r == 0 && oci_config_parse_data(json, strlen(json), "gen", &back, &err) == 0 &&
       oci_config_equal(c, back),
     "hand-built model round-trips");
  if (err)
    diag("%s", err);
  oci_config *x = oci_xcalloc(1, sizeof(*x));
  ok(!oci_config_equal(c, x), "different models are not equal");
  free_oci_config(x);
  /* change one deep value: no longer equal */
  if (back) {
    back->linux->resources->memory->limit++;
    ok(!oci_config_equal(c, back), "a changed deep integer makes models differ");
    back->linux->resources->memory->limit--;
    back->process->user->uid_present = false;
    ok(!oci_config_equal(c, back), "a cleared _present flag makes models differ");
  }
  free_oci_config(back);
  free_oci_config(c);
  free(json);
  free(err);
  free_oci_config(NULL);
  free_oci_state(NULL);
  free_oci_features(NULL);
  ok(true, "free_oci_*(NULL) is safe");
}

static void check_state_features(void)
{
  const char *st =
    "{\"ociVersion\": \"1.0.2\", \"id\": \"c1\", \"status\": \"created\", \"pid\": 42, "
    "\"bundle\": \"/b\", \"annotations\": {\"a\": \"b\"}}";
  oci_state *s = NULL;
  char *err = NULL, *json = NULL;
  int r;
  ok(oci_state_parse_data(st, strlen(st), "state.json", &s, &err) == 0 && s->pid == 42 &&
       s->pid_present && strcmp(s->status, "created") == 0 && strcmp(s->id, "c1") == 0,
     "state parses");
  ok(s && oci_state_generate_json(s, &json, &err) == 0 && contains(json, "\"status\": \"created\""),
     "state generates");
  free_oci_state(s);
  free(json);
  free(err);
  s = NULL;
  err = NULL;
  const char *bad =
    "{\"ociVersion\": \"1.0.2\", \"id\": \"c1\", \"status\": \"paused\", \"bundle\": \"/b\"}";
  r = oci_state_parse_data(bad, strlen(bad), "state.json", &s, &err);
  ok(r < 0 &&
       contains(
         err,
         "state.json:1:47: status: \"paused\" is not one of creating, created, running, stopped"),
     "state status enum: %s", err ? err : "(null)");
  free(err);
  err = NULL;
  const char *badpid = "{\"ociVersion\": \"1.0.2\", \"id\": \"c1\", \"status\": \"running\", "
                       "\"bundle\": \"/b\", \"pid\": -1}";
  r = oci_state_parse_data(badpid, strlen(badpid), "state.json", &s, &err);
  ok(r < 0 && contains(err, "pid: -1"), "state pid minimum: %s", err ? err : "(null)");
  free(err);
  err = NULL;
  const char *nobundle = "{\"ociVersion\": \"1.0.2\", \"id\": \"c1\", \"status\": \"running\"}";
  r = oci_state_parse_data(nobundle, strlen(nobundle), "state.json", &s, &err);
  ok(r < 0 && contains(err, "bundle: required property missing"), "state bundle required: %s",
     err ? err : "(null)");
  free(err);
  err = NULL;

  oci_features *f = NULL;
  const char *ft =
    "{\"ociVersionMin\": \"1.0.0\", \"ociVersionMax\": \"1.3.0\", \"hooks\": [\"prestart\"], "
    "\"linux\": {\"namespaces\": [\"pid\"], \"capabilities\": [\"CAP_KILL\"], "
    "\"cgroup\": {\"v2\": true}, \"seccomp\": {\"enabled\": true, \"actions\": "
    "[\"SCMP_ACT_LOG\"]}}}";
  ok(oci_features_parse_data(ft, strlen(ft), "features.json", &f, &err) == 0 && f->hooks_len == 1 &&
       f->linux->namespaces_len == 1 && f->linux->cgroup->v2 && f->linux->seccomp->actions_len == 1,
     "features parses");
  free_oci_features(f);
  f = NULL;
  free(err);
  err = NULL;
  const char *fbad = "{\"ociVersionMin\": \"1.0.0\", \"ociVersionMax\": \"1.3.0\", "
                     "\"linux\": {\"capabilities\": [\"KILL\"]}}";
  r = oci_features_parse_data(fbad, strlen(fbad), "features.json", &f, &err);
  ok(r < 0 && contains(err, "linux.capabilities[0]: \"KILL\" does not match pattern"),
     "features capability pattern: %s", err ? err : "(null)");
  free(err);
}

int main(void)
{
  const char *fixtures = dir_from_env("OCISPEC_FIXTURES_DIR", OCISPEC_FIXTURES_DIR);
  const char *spec = dir_from_env("OCISPEC_SPEC_TESTS_DIR", OCISPEC_SPEC_TESTS_DIR);
  static const struct {
    const doc_ops *ops;
    const char *sub;
  } good[] = {
    {&config_ops, "config/good"}, {&state_ops, "state/good"}, {&features_ops, "features/good"}};

  for (size_t i = 0; i < 3; i++) {
    char *d = path_join(spec, good[i].sub);
    check_good_dir(good[i].ops, d);
    free(d);
  }
  check_spec_bad(spec);

  char *gd = path_join(fixtures, "config-good"), *bd = path_join(fixtures, "config-bad");
  check_good_dir(&config_ops, gd);
  check_bad_fixtures(bd);
  free(gd);
  free(bd);

  check_messages();
  check_values(fixtures);
  check_unknown(fixtures);
  check_build_by_hand();
  check_state_features();

  printf("1..%d\n", n_tests);
  if (n_failed)
    diag("%d of %d tests failed", n_failed, n_tests);
  return n_failed ? 1 : 0;
}
