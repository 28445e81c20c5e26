/* The public API as a user sees it: only <libkist.h>, linked with libkist.la.
 *  - libkist.so exports exactly the KIST_EXPORT functions of libkist.h, and
 *    libkist.sym lists exactly those (nm -D);
 *  - errors come back as kist_error_t with one-line messages naming the
 *    container, path or field, and the errno callers branch on;
 *  - nothing needs root: no container is started here (examples/embed-test.sh
 *    does that).
 * Prints "ok N - name" / "not ok N - name" lines; exits 1 on any failure.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkist.h>

static int tests, failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("%sok %d - ", ok ? "" : "not ", ++tests);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (!ok)
    failures++;
}

/* Checks that err is set, mentions every needle, is one line, has errnum
 * (when >= 0), then releases it. */
static void check_error(kist_error_t *err, int errnum, const char *what, ...)
{
  const char *msg = kist_error_message(*err);
  bool ok = *err != NULL && msg != NULL && strchr(msg, '\n') == NULL;
  va_list ap;
  va_start(ap, what);
  const char *needle;
  while (ok && (needle = va_arg(ap, const char *)) != NULL)
    ok = strstr(msg, needle) != NULL;
  va_end(ap);
  if (ok && errnum >= 0)
    ok = kist_error_errno(*err) == errnum;
  check(ok, "%s: error \"%s\" (errno %d)", what, msg ? msg : "(none)", kist_error_errno(*err));
  kist_error_release(err);
  check(*err == NULL, "%s: kist_error_release clears the error", what);
}

/* ---- the exported symbols ---- */

#define MAX_SYMS 256

struct names {
  char *v[MAX_SYMS];
  size_t n;
};

static void add_name(struct names *s, const char *name, size_t len)
{
  if (s->n < MAX_SYMS)
    s->v[s->n++] = strndup(name, len);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    fwrite(chunk, 1, n, m);
  fclose(f);
  fclose(m);
  return buf;
}

/* "KIST_EXPORT <type> name(": the identifier before the first '(' after
 * each KIST_EXPORT that is not the macro's own definition. */
static void header_names(const char *text, struct names *out)
{
  const char *p = text;
  while ((p = strstr(p, "KIST_EXPORT")) != NULL) {
    const char *line = p;
    while (line > text && line[-1] != '\n')
      line--;
    p += strlen("KIST_EXPORT");
    if (strncmp(line, "#define", 7) == 0)
      continue;
    const char *paren = strchr(p, '(');
    if (paren == NULL)
      break;
    const char *end = paren;
    while (end > p && isspace((unsigned char)end[-1]))
      end--;
    const char *start = end;
    while (start > p && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
      start--;
    add_name(out, start, (size_t)(end - start));
  }
}

/* The names between "global:" and "local:" of the version script. */
static void symfile_names(const char *text, struct names *out)
{
  const char *g = strstr(text, "global:");
  const char *l = g ? strstr(g, "local:") : NULL;
  if (g == NULL || l == NULL)
    return;
  for (const char *p = g + strlen("global:"); p < l;) {
    while (p < l && !(isalnum((unsigned char)*p) || *p == '_'))
      p++;
    const char *s = p;
    while (p < l && (isalnum((unsigned char)*p) || *p == '_'))
      p++;
    if (p > s)
      add_name(out, s, (size_t)(p - s));
  }
}

/* Defined dynamic symbols of the shared library; every one must carry the
 * KIST_0.1 version.  Returns -1 when nm or the library is unavailable. */
static int shlib_names(const char *path, struct names *out, size_t *unversioned)
{
  if (access(path, R_OK) < 0)
    return -1;
  char *cmd = NULL;
  if (asprintf(&cmd, "nm -D --defined-only '%s' 2>/dev/null", path) < 0)
    return -1;
  FILE *f = popen(cmd, "r");
  free(cmd);
  if (f == NULL)
    return -1;
  char line[512];
  *unversioned = 0;
  while (fgets(line, sizeof line, f)) {
    char addr[64], type[8], name[400];
    if (sscanf(line, "%63s %7s %399s", addr, type, name) != 3)
      continue;
    if (strcmp(type, "A") == 0) /* the version node itself */
      continue;
    char *at = strchr(name, '@');
    if (at == NULL || strcmp(at, "@@KIST_0.1") != 0)
      (*unversioned)++;
    add_name(out, name, at ? (size_t)(at - name) : strlen(name));
  }
  return pclose(f) == 0 ? 0 : -1;
}

static bool same_names(struct names *a, struct names *b, const char *an, const char *bn)
{
  qsort(a->v, a->n, sizeof(char *), cmp_str);
  qsort(b->v, b->n, sizeof(char *), cmp_str);
  bool same = true;
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->v[i], b->v[j]);
    if (c == 0) {
      i++, j++;
    } else if (c < 0) {
      printf("# %s has %s, %s does not\n", an, a->v[i++], bn);
      same = false;
    } else {
      printf("# %s has %s, %s does not\n", bn, b->v[j++], an);
      same = false;
    }
  }
  return same;
}

static void free_names(struct names *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  s->n = 0;
}

static void test_exports(void)
{
  struct names hdr = {0}, sym = {0}, so = {0};
  char *h = slurp(KIST_API_HEADER), *m = slurp(KIST_API_SYMFILE);
  check(h != NULL && m != NULL, "read %s and %s", KIST_API_HEADER, KIST_API_SYMFILE);
  if (h == NULL || m == NULL)
    return;
  header_names(h, &hdr);
  symfile_names(m, &sym);
  check(hdr.n >= 20, "libkist.h declares %zu KIST_EXPORT functions", hdr.n);
  check(same_names(&hdr, &sym, "libkist.h", "libkist.sym"),
        "libkist.sym lists exactly the KIST_EXPORT functions of libkist.h");
  size_t unversioned = 0;
  if (shlib_names(KIST_API_SHLIB, &so, &unversioned) < 0) {
    printf("ok %d # SKIP nm -D %s: no shared library or no nm\n", ++tests, KIST_API_SHLIB);
  } else {
    check(same_names(&hdr, &so, "libkist.h", "libkist.so"),
          "libkist.so exports exactly the KIST_EXPORT functions (%zu symbols)", so.n);
    check(unversioned == 0, "every exported symbol is versioned KIST_0.1 (%zu are not)",
          unversioned);
  }
  free_names(&hdr);
  free_names(&sym);
  free_names(&so);
  free(h);
  free(m);
}

/* ---- errors through the API ---- */

static char tmpdir[] = "/tmp/kist-test-api.XXXXXX";

static char *path_in_tmp(const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
    abort();
  return p;
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void count_problem(const char *problem, void *data)
{
  int *n = data;
  printf("# problem: %s\n", problem);
  (*n)++;
}

static void test_context(void)
{
  kist_error_t err = NULL;
  kist_context_t *ctx = kist_context_new();
  check(ctx != NULL && kist_context_get_root(ctx) != NULL && kist_context_get_root(ctx)[0] == '/',
        "a new context has an absolute default root (%s)", kist_context_get_root(ctx));
  check(kist_context_set_root(ctx, "", &err) < 0, "an empty root is refused");
  check_error(&err, EINVAL, "set_root \"\"", "root", NULL);
  check(kist_context_set_rootless(ctx, 2, &err) < 0, "rootless 2 is refused");
  check_error(&err, EINVAL, "set_rootless 2", "rootless", NULL);
  check(kist_context_set_rootless(ctx, -1, &err) == 0 && err == NULL, "rootless -1 (auto)");
  char *root = path_in_tmp("state");
  check(kist_context_set_root(ctx, root, &err) == 0 &&
          strcmp(kist_context_get_root(ctx), root) == 0,
        "set_root copies the path");
  free(root);
  check(kist_context_set_root(ctx, NULL, &err) == 0 && kist_context_get_root(ctx)[0] == '/',
        "set_root NULL restores the default");
  kist_context_set_systemd_cgroup(ctx, false);
  kist_context_set_debug(ctx, false);
  kist_context_free(ctx);
  kist_context_free(NULL);
  kist_error_release(NULL);
  kist_error_release(&err);
  check(kist_error_message(NULL) == NULL && kist_error_errno(NULL) == 0,
        "a NULL error has no message and errno 0");
  check(kist_version()[0] != '\0' && strcmp(kist_spec_version(), "1.3.0") == 0,
        "version %s, spec %s", kist_version(), kist_spec_version());
}

static void test_unknown_ids(void)
{
  kist_error_t err = NULL;
  kist_context_t *ctx = kist_context_new();
  char *root = path_in_tmp("state");
  kist_context_set_root(ctx, root, &err);
  char *json = NULL;

  /* The root does not exist yet: still "does not exist" for the id. */
  check(kist_state(ctx, "nosuch", &json, &err) < 0 && json == NULL, "state of an unknown id fails");
  check_error(&err, ENOENT, "state nosuch (no root)", "nosuch", "does not exist", NULL);

  mkdir(root, 0700);
  check(kist_state(ctx, "nosuch", &json, &err) < 0, "state of an unknown id fails (empty root)");
  check_error(&err, ENOENT, "state nosuch", "nosuch", "does not exist", NULL);
  check(kist_start(ctx, "nosuch", &err) < 0, "start of an unknown id fails");
  check_error(&err, ENOENT, "start nosuch", "nosuch", NULL);
  check(kist_kill(ctx, "nosuch", 15, false, &err) < 0, "kill of an unknown id fails");
  check_error(&err, ENOENT, "kill nosuch", "nosuch", NULL);
  check(kist_delete(ctx, "nosuch", false, &err) < 0, "delete of an unknown id fails");
  check_error(&err, ENOENT, "delete nosuch", "nosuch", NULL);
  check(kist_delete(ctx, "nosuch", true, &err) == 0 && err == NULL,
        "delete --force of an unknown id succeeds");
  int status = -5;
  check(kist_wait(ctx, "nosuch", &status, &err) < 0 && status == -5,
        "wait for an unknown id fails");
  check_error(&err, ENOENT, "wait nosuch", "nosuch", NULL);
  kist_container_info_t info;
  check(kist_inspect(ctx, "nosuch", &info, &err) < 0 && info.id == NULL,
        "inspect of an unknown id fails");
  check_error(&err, ENOENT, "inspect nosuch", "nosuch", NULL);
  kist_container_info_clear(&info);

  check(kist_pause(ctx, "nosuch", &err) < 0, "pause of an unknown id fails");
  check_error(&err, ENOENT, "pause nosuch", "nosuch", NULL);
  check(kist_resume(ctx, "nosuch", &err) < 0, "resume of an unknown id fails");
  check_error(&err, ENOENT, "resume nosuch", "nosuch", NULL);
  check(kist_update(ctx, "nosuch", "{\"pids\":{\"limit\":10}}", &err) < 0,
        "update of an unknown id fails");
  check_error(&err, ENOENT, "update nosuch", "nosuch", NULL);
  check(kist_update(ctx, "nosuch", "{\"pids\": ", &err) < 0, "update with broken JSON fails");
  check_error(&err, -1, "update (broken JSON)", NULL);
  check(kist_update(ctx, "nosuch", NULL, &err) < 0, "update without JSON fails");
  check_error(&err, EINVAL, "update NULL", "resources", NULL);
  pid_t *pids = NULL;
  size_t npids = 7;
  check(kist_pids(ctx, "nosuch", &pids, &npids, &err) < 0 && pids == NULL && npids == 0,
        "pids of an unknown id fails");
  check_error(&err, ENOENT, "pids nosuch", "nosuch", NULL);
  check(kist_stats(ctx, "nosuch", &json, &err) < 0, "stats of an unknown id fails");
  check_error(&err, ENOENT, "stats nosuch", "nosuch", NULL);

  /* Ids are checked before any path is built from them. */
  check(kist_state(ctx, "../etc", &json, &err) < 0, "an id with a slash is refused");
  check_error(&err, -1, "state ../etc", "invalid container id", "../etc", NULL);
  check(kist_state(ctx, "", &json, &err) < 0, "an empty id is refused");
  check_error(&err, -1, "state \"\"", "empty", NULL);

  /* A first error is kept: a second failure does not replace it. */
  kist_state(ctx, "first", &json, &err);
  kist_state(ctx, "second", &json, &err);
  check_error(&err, ENOENT, "two failures", "first", NULL);

  kist_container_info_t *list = (kist_container_info_t *)&list;
  size_t n = 99;
  check(kist_list(ctx, &list, &n, &err) == 0 && n == 0 && list == NULL,
        "list of an empty root is empty");
  kist_list_free(list, n);
  kist_context_set_root(ctx, "/nonexistent/kist-test-api", &err);
  check(kist_list(ctx, &list, &n, &err) == 0 && n == 0, "list of a missing root is empty");
  kist_list_free(list, n);
  free(root);
  kist_context_free(ctx);
}

static void test_bundles(void)
{
  kist_error_t err = NULL;
  kist_context_t *ctx = kist_context_new();
  char *root = path_in_tmp("state2");
  kist_context_set_root(ctx, root, &err);
  char *bundle = path_in_tmp("bundle");
  char *config = path_in_tmp("bundle/config.json");
  mkdir(bundle, 0755);

  /* No config.json at all. */
  int problems = 0;
  check(kist_config_check(ctx, bundle, count_problem, &problems, &err) < 0,
        "check of a bundle without config.json fails");
  check_error(&err, ENOENT, "check (no config)", "config.json", NULL);

  /* Not JSON. */
  write_text(config, "{ \"ociVersion\": \"1.3.0\", ");
  check(kist_config_check(ctx, bundle, NULL, NULL, &err) < 0, "check of broken JSON fails");
  check_error(&err, -1, "check (broken JSON)", "config.json", NULL);

  /* Valid JSON, but the rootfs is missing and a capability is unknown. */
  write_text(config, "{ \"ociVersion\": \"1.3.0\", \"root\": { \"path\": \"rootfs\" },\n"
                     "  \"process\": { \"cwd\": \"/\", \"args\": [ \"sh\" ],\n"
                     "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
                     "    \"capabilities\": { \"bounding\": [ \"CAP_NOT_A_CAP\" ] } },\n"
                     "  \"linux\": { \"namespaces\": [ { \"type\": \"mount\" } ] } }\n");
  problems = 0;
  int n = kist_config_check(ctx, bundle, count_problem, &problems, &err);
  check(n >= 2 && n == problems && err == NULL,
        "check reports each problem (%d returned, %d reported)", n, problems);
  check(kist_config_check(ctx, bundle, NULL, NULL, &err) == n,
        "check without a report callback counts the same");
  check(kist_config_validate(ctx, bundle, &err) < 0, "validate fails on the first problem");
  check_error(&err, EINVAL, "validate", NULL);

  /* create fails before anything exists, and leaves nothing behind. */
  struct kist_create_options o = {.bundle = bundle};
  check(kist_create(ctx, "c1", &o, &err) < 0, "create from a broken bundle fails");
  check_error(&err, -1, "create c1", NULL);
  char *missing = path_in_tmp("no-such-bundle");
  o.bundle = missing;
  int status = -1;
  check(kist_run(ctx, "c2", &o, &status, &err) < 0 && status == 1,
        "run from a missing bundle fails with status 1 (got %d)", status);
  check_error(&err, ENOENT, "run c2", "no-such-bundle", NULL);
  kist_container_info_t *list = NULL;
  size_t count = 99;
  check(kist_list(ctx, &list, &count, &err) == 0 && count == 0,
        "failed creates leave no container (%zu listed)", count);
  kist_list_free(list, count);

  /* The default config is a config the checker can read. */
  char *json = NULL;
  check(kist_config_default(false, &json, &err) == 0 && json && strstr(json, "\"ociVersion\""),
        "kist_config_default returns a config");
  free(json);
  json = NULL;
  check(kist_config_default(true, &json, &err) == 0 && json && strstr(json, "uidMappings"),
        "the rootless default maps the user");
  free(json);
  unlink(config);
  check(kist_spec(bundle, false, &err) == 0 && access(config, F_OK) == 0,
        "kist_spec writes config.json");
  check(kist_spec(bundle, false, &err) < 0, "kist_spec does not overwrite");
  check_error(&err, -1, "spec again", "config.json", NULL);
  problems = 0;
  n = kist_config_check(ctx, bundle, count_problem, &problems, &err);
  check(n >= 1 && err == NULL, "the default config without a rootfs has %d problem(s)", n);

  json = NULL;
  check(kist_features(&json, &err) == 0 && json && strstr(json, "ociVersionMin"),
        "kist_features returns features JSON");
  free(json);

  char *log = path_in_tmp("log.json");
  check(kist_log_to_file(log, "yaml", &err) < 0, "an unknown log format is refused");
  check_error(&err, -1, "log format", "yaml", NULL);

  free(log);
  free(missing);
  free(config);
  free(bundle);
  free(root);
  kist_context_free(ctx);
}

int main(void)
{
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  test_exports();
  test_context();
  test_unknown_ids();
  test_bundles();
  printf("1..%d\n", tests);
  char *cmd = NULL;
  if (asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0 && system(cmd) != 0)
    fprintf(stderr, "test-api: could not remove %s\n", tmpdir);
  free(cmd);
  return failures ? 1 : 0;
}
