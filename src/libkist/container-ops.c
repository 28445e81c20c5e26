/* pause, resume, update, ps, stats and events: what runc offers on a live
 * container beyond the lifecycle. Each opens the container through
 * container.h and works on its cgroup (cgroup.h); the stats are read here
 * straight from the cgroup files (cgroup-internal.h), in runc's shape
 * because containerd decodes that.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroup-internal.h"
#include "container-ops.h"
#include "container.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "rootless.h"
#include "util.h"

#define CONFIG_COPY "config.json" /* the saved config in the state dir (container.c) */

static const char *status_word(enum kist_status s)
{
  return s == KIST_STATUS_CREATING ? "still being created" : kist_status_name(s);
}

/* The container's cgroup, or an error naming the container. */
static int need_cgroup(struct kist_container *c, struct kist_cgroup **cg, kist_error_t *err)
{
  if (kist_container_cgroup(c, cg, err) < 0)
    return -1;
  if (*cg == NULL)
    return kist_fail(err, 0, "container %s has no cgroup", c->st.id);
  return 0;
}

/* need_cgroup, for OP, and one that exists (rootless kist may have none). */
static int need_real_cgroup(struct kist_container *c, const char *op, struct kist_cgroup **cg,
                            kist_error_t *err)
{
  if (need_cgroup(c, cg, err) < 0)
    return -1;
  if (kist_cgroup_none(*cg))
    return kist_rootless_no_cgroup(c->st.id, op, err);
  return 0;
}

/* ---- pause / resume ---- */

int kist_container_pause(const struct kist_context *ctx, const char *id, kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, LOCK_EX, &c, err) < 0)
    return -1;
  int ret = -1;
  struct kist_cgroup *cg = NULL;
  enum kist_status s = c->st.status;
  if (s != KIST_STATUS_RUNNING && s != KIST_STATUS_CREATED) {
    kist_fail(err, 0, "cannot pause container %s: it is %s", id, status_word(s));
    goto out;
  }
  if (need_real_cgroup(c, "pause", &cg, err) < 0)
    goto out;
  if (!kist_cgroup_owned(cg)) {
    /* Freezing it would freeze processes that are not the container's. */
    kist_fail(err, EPERM, "cannot pause container %s: cgroup %s was not created by kist (joined)",
              id, kist_cgroup_path(cg));
    goto out;
  }
  ret = kist_cgroup_freeze(cg, err);
out:
  kist_container_close(c);
  return ret;
}

int kist_container_resume(const struct kist_context *ctx, const char *id, kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, LOCK_EX, &c, err) < 0)
    return -1;
  int ret = -1;
  struct kist_cgroup *cg = NULL;
  if (c->st.status != KIST_STATUS_PAUSED) {
    kist_fail(err, 0, "cannot resume container %s: it is %s, not paused", id,
              status_word(c->st.status));
    goto out;
  }
  if (need_real_cgroup(c, "resume", &cg, err) < 0)
    goto out;
  ret = kist_cgroup_thaw(cg, err);
out:
  kist_container_close(c);
  return ret;
}

/* ---- update ---- */

int kist_parse_size(const char *s, int64_t *out)
{
  if (strcmp(s, "-1") == 0) {
    *out = -1;
    return 0;
  }
  if (!isdigit((unsigned char)s[0]))
    return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s)
    return -1;
  if (*end == ' ')
    end++;
  double mul = 1;
  const char *units = "kmgtp";
  const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
  if (u) {
    mul = ldexp(1.0, 10 * (int)(u - units + 1));
    end++;
    if (tolower((unsigned char)*end) == 'i')
      end++;
  }
  if (tolower((unsigned char)*end) == 'b')
    end++;
  if (*end != '\0')
    return -1;
  double r = v * mul;
  if (r >= 9223372036854775807.0)
    return -1;
  *out = (int64_t)r;
  return 0;
}

/* "<source>:L:C: linux.resources.x: msg" of the wrapped document →
 * "<source>:L-1:C: resources.x: msg" (the wrapper adds one line before). */
static char *unwrap_error(const char *msg, const char *source)
{
  size_t sl = strlen(source);
  unsigned line, col;
  int n = 0;
  if (strncmp(msg, source, sl) != 0 || sscanf(msg + sl, ":%u:%u: %n", &line, &col, &n) != 2 ||
      n == 0)
    return xstrdup(msg);
  const char *rest = msg + sl + n;
  if (str_has_prefix(rest, "linux."))
    rest += 6;
  return xasprintf("%s:%u:%u: %s", source, line > 1 ? line - 1 : 1, col, rest);
}

/* Checks the update against the LinuxResources schema (libocispec has no
 * parser for it alone: it is parsed as the resources of a config). */
static int check_resources(const char *json, size_t len, const char *source, kist_error_t *err)
{
  static const char pre[] = "{\"ociVersion\":\"1.0.0\",\"linux\":{\"resources\":\n";
  static const char post[] = "\n}}";
  size_t n = sizeof pre - 1 + len + sizeof post - 1;
  cleanup_free char *doc = xmalloc(n + 1);
  memcpy(doc, pre, sizeof pre - 1);
  memcpy(doc + sizeof pre - 1, json, len);
  memcpy(doc + sizeof pre - 1 + len, post, sizeof post);
  oci_config *cfg = NULL;
  cleanup_free char *msg = NULL;
  if (oci_config_parse_data(doc, n, source, &cfg, &msg) < 0)
    return kist_fail_take(err, EINVAL, unwrap_error(msg, source));
  free_oci_config(cfg);
  return 0;
}

static oci_json *json_node(oci_json_type t)
{
  oci_json *j = oci_xcalloc(1, sizeof *j);
  j->type = t;
  return j;
}

static oci_json *member(oci_json *obj, const char *key, size_t *idx)
{
  for (size_t i = obj->len; i-- > 0;)
    if (strcmp(obj->keys[i], key) == 0) {
      if (idx)
        *idx = i;
      return obj->values[i];
    }
  return NULL;
}

/* The object at key in obj, made (or replacing a non-object) when needed. */
static oci_json *object_at(oci_json *obj, const char *key)
{
  size_t i;
  oci_json *v = member(obj, key, &i);
  if (v && v->type == OCI_JSON_OBJECT)
    return v;
  if (v) {
    oci_json_free(v);
    obj->values[i] = json_node(OCI_JSON_OBJECT);
    return obj->values[i];
  }
  oci_json *empty = json_node(OCI_JSON_OBJECT);
  oci_unknown_add(&obj, key, empty);
  oci_json_free(empty);
  return member(obj, key, NULL);
}

/* runc's update semantics: 0 and "" mean "unchanged" (containerd sends
 * every field), except where 0 is a real setting. */
static bool keeps_old(const char *key, const oci_json *v)
{
  if (v->type == OCI_JSON_NULL)
    return true;
  if (v->type == OCI_JSON_STRING)
    return v->str_len == 0;
  if (v->type == OCI_JSON_NUMBER)
    return strtod(v->str, NULL) == 0 && strcmp(key, "idle") != 0 && strcmp(key, "swappiness") != 0;
  return false;
}

static void merge(oci_json *dst, const oci_json *src, int depth)
{
  for (size_t k = 0; k < src->len; k++) {
    const char *key = src->keys[k];
    const oci_json *v = src->values[k];
    if (depth == 0 && strcmp(key, "devices") == 0) {
      kist_debug("update: resources.devices ignored (device rules are not updated)");
      continue;
    }
    if (keeps_old(key, v))
      continue;
    size_t i;
    oci_json *old = member(dst, key, &i);
    if (v->type == OCI_JSON_OBJECT && depth < 8) {
      merge(object_at(dst, key), v, depth + 1);
    } else if (old) {
      oci_json_free(old);
      dst->values[i] = oci_json_copy(v);
    } else {
      oci_unknown_add(&dst, key, v);
    }
  }
}

static char *json_text(const oci_json *tree, size_t *len)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_config(g, yajl_gen_beautify, 1);
  oci_json_gen(g, tree);
  const unsigned char *buf;
  size_t n;
  yajl_gen_get_buf(g, &buf, &n);
  char *s = xstrndup((const char *)buf, n);
  yajl_gen_free(g);
  *len = n;
  return s;
}

/* Error paths of the plan read "linux.resources.x": the update's own
 * spelling is "resources.x". */
static void unprefix(kist_error_t err)
{
  if (err && err->msg && str_has_prefix(err->msg, "linux.resources"))
    memmove(err->msg, err->msg + 6, strlen(err->msg + 6) + 1);
}

static int update_locked(struct kist_container *c, const oci_json *upd, kist_error_t *err)
{
  enum kist_status s = c->st.status;
  if (s == KIST_STATUS_STOPPED || s == KIST_STATUS_CREATING)
    return kist_fail(err, 0, "cannot update container %s: it is %s", c->st.id, status_word(s));
  cleanup_free char *raw = NULL;
  size_t rawlen = 0;
  if (read_file_at(c->dirfd, CONFIG_COPY, &raw, &rawlen, err) < 0)
    return -1;
  oci_json *tree = NULL;
  cleanup_free char *msg = NULL;
  if (oci_json_parse(raw, rawlen, "saved config.json", &tree, &msg) < 0)
    return kist_fail_take(err, EINVAL, steal_pointer(&msg));
  size_t len = 0;
  cleanup_free char *text = NULL;
  if (tree->type == OCI_JSON_OBJECT) {
    merge(object_at(object_at(tree, "linux"), "resources"), upd, 0);
    text = json_text(tree, &len);
  }
  oci_json_free(tree);
  if (text == NULL)
    return kist_fail(err, EINVAL, "saved config.json of %s is not an object", c->st.id);
  oci_config *cfg = NULL;
  if (oci_config_parse_data(text, len, "config.json", &cfg, &msg) < 0)
    return kist_fail_take(err, EINVAL, steal_pointer(&msg));
  struct kist_cgroup *cg = NULL;
  struct kist_cgroup_undo *undo = NULL;
  int ret = need_real_cgroup(c, "update", &cg, err);
  if (ret == 0 && (ret = kist_cgroup_update(cg, cfg->linux, &undo, err)) < 0)
    unprefix(*err);
  if (ret == 0 && write_file_atomic_at(c->dirfd, CONFIG_COPY, text, len, 0600, err) < 0) {
    kist_cgroup_undo_finish(undo, true);
    undo = NULL;
    ret = -1;
  }
  kist_cgroup_undo_finish(undo, false);
  free_oci_config(cfg);
  return ret;
}

int kist_container_update(const struct kist_context *ctx, const char *id, const char *json,
                          size_t len, const char *source, kist_error_t *err)
{
  /* Alone first (one JSON value, positions as the user wrote them), then
   * against the schema. */
  oci_json *upd = NULL;
  cleanup_free char *msg = NULL;
  if (oci_json_parse(json, len, source, &upd, &msg) < 0)
    return kist_fail_take(err, EINVAL, steal_pointer(&msg));
  if (upd->type != OCI_JSON_OBJECT) {
    oci_json_free(upd);
    return kist_fail(err, EINVAL, "%s: resources: expected an object (LinuxResources)", source);
  }
  if (check_resources(json, len, source, err) < 0) {
    oci_json_free(upd);
    return -1;
  }
  struct kist_container *c = NULL;
  int ret = kist_container_open(ctx, id, LOCK_EX, &c, err);
  if (ret == 0) {
    ret = update_locked(c, upd, err);
    kist_container_close(c);
  }
  oci_json_free(upd);
  return ret;
}

/* ---- ps ---- */

int kist_container_pids(const struct kist_context *ctx, const char *id, pid_t **pids, size_t *n,
                        kist_error_t *err)
{
  *pids = NULL;
  *n = 0;
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, 0, &c, err) < 0)
    return -1;
  struct kist_cgroup *cg = NULL;
  int ret = kist_container_cgroup(c, &cg, err);
  if (ret == 0 && kist_cgroup_none(cg) && cg && c->st.status != KIST_STATUS_STOPPED &&
      c->st.pid > 0) {
    ret = kist_proc_tree(c->st.pid, pids, n, err); /* rootless: no cgroup */
  } else if (ret == 0 && cg) {
    ret = kist_cgroup_pids(cg, pids, n, err);
    if (ret < 0 && kist_error_errno(*err) == ENOENT && c->st.status == KIST_STATUS_STOPPED) {
      kist_error_release(err); /* stopped, cgroup gone: no processes */
      ret = 0;
    }
  } else if (ret == 0 && c->st.status != KIST_STATUS_STOPPED && c->st.pid > 0) {
    *pids = xmalloc(sizeof **pids);
    (*pids)[0] = c->st.pid;
    *n = 1;
  }
  kist_container_close(c);
  return ret;
}

/* Runs ps with args, its stdout in *out. */
static int run_ps(char **args, char **out, kist_error_t *err)
{
  size_t na = 0;
  while (args && args[na])
    na++;
  char **argv = xcalloc(na + 2, sizeof *argv);
  argv[0] = (char *)"ps";
  if (na == 0)
    argv[1] = (char *)"-ef";
  for (size_t i = 0; i < na; i++)
    argv[i + 1] = args[i];
  int p[2], e[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    free(argv);
    return kist_fail(err, errno, "pipe");
  }
  if (pipe2(e, O_CLOEXEC) < 0) {
    close(p[0]);
    close(p[1]);
    free(argv);
    return kist_fail(err, errno, "pipe");
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    execvp("ps", argv);
    int en = errno;
    (void)!write(e[1], &en, sizeof en);
    _exit(127);
  }
  free(argv);
  close(p[1]);
  close(e[1]);
  if (pid < 0) {
    close(p[0]);
    close(e[0]);
    return kist_fail(err, errno, "fork ps");
  }
  size_t len;
  int ret = read_all_fd(p[0], "the output of ps", out, &len, err);
  close(p[0]);
  int en = 0;
  bool exec_failed = read_retry(e[0], &en, sizeof en) == (ssize_t)sizeof en;
  close(e[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (exec_failed) {
    if (ret == 0)
      free(steal_pointer(out));
    return kist_fail(err, en, "ps: cannot run it%s", en == ENOENT ? " (not found in $PATH)" : "");
  }
  if (ret == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    free(steal_pointer(out));
    return kist_fail(err, 0, "ps exited with status %d",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return ret;
}

/* The n-th (0-based) whitespace-separated field of line, or NULL. */
static const char *field_at(const char *line, int n, size_t *len)
{
  const char *p = line;
  for (int i = 0;; i++) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0' || *p == '\n')
      return NULL;
    size_t l = strcspn(p, " \t\n");
    if (i == n) {
      *len = l;
      return p;
    }
    p += l;
  }
}

int kist_container_ps_table(const struct kist_context *ctx, const char *id, char **ps_args,
                            FILE *out, kist_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  if (kist_container_pids(ctx, id, &pids, &n, err) < 0)
    return -1;
  cleanup_free char *text = NULL;
  if (run_ps(ps_args, &text, err) < 0) {
    free(pids);
    return -1;
  }
  char *save = NULL;
  char *header = strtok_r(text, "\n", &save);
  int col = -1;
  size_t l;
  const char *f;
  for (int i = 0; header && (f = field_at(header, i, &l)) != NULL; i++)
    if (l == 3 && strncmp(f, "PID", 3) == 0) {
      col = i;
      break;
    }
  if (col < 0) {
    free(pids);
    return kist_fail(err, 0, "ps: its output has no PID column (add pid to -o)");
  }
  fprintf(out, "%s\n", header);
  for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if ((f = field_at(line, col, &l)) == NULL)
      continue;
    long v = strtol(f, NULL, 10);
    for (size_t i = 0; i < n; i++)
      if (pids[i] == v) {
        fprintf(out, "%s\n", line);
        break;
      }
  }
  free(pids);
  return fflush(out) == 0 ? 0 : kist_fail(err, errno, "write the ps output");
}

/* ---- stats ---- */

/* A cgroup dir opened for reading stats files; silent when a file is
 * missing (controllers and kernels differ in what they offer). */
struct sdir {
  const struct kist_cg_dir *d;
  int fd;
};

static bool sdir_open(struct sdir *s, const struct kist_cg_dir *d)
{
  kist_error_t e = NULL;
  s->d = d;
  s->fd = d ? kist_cg_dir_open(d, &e) : -1;
  kist_error_release(&e);
  return s->fd >= 0;
}

static void sdir_close(struct sdir *s)
{
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}

static char *rd(const struct sdir *s, const char *file)
{
  if (s->fd < 0)
    return NULL;
  cleanup_close int fd = openat(s->fd, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char *out = NULL;
  kist_error_t e = NULL;
  if (read_all_fd(fd, file, &out, NULL, &e) < 0) {
    kist_error_release(&e);
    return NULL;
  }
  return out;
}

/* A number file: "max" is UINT64_MAX, missing is 0. */
static uint64_t rd_u64(const struct sdir *s, const char *file, bool *present)
{
  cleanup_free char *v = rd(s, file);
  if (present)
    *present = v != NULL;
  if (v == NULL)
    return 0;
  if (str_has_prefix(v, "max"))
    return UINT64_MAX;
  return strtoull(v, NULL, 10);
}

/* "key value" lines: the value of key, 0 when absent. */
static uint64_t kv(const char *text, const char *key)
{
  size_t kl = strlen(key);
  for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '='))
      return strtoull(l + kl + 1, NULL, 10);
  return 0;
}

static void put_list(FILE *f, const char *name, const char *text, uint64_t mul)
{
  fprintf(f, ",\"%s\":[", name);
  bool first = true;
  for (const char *p = text; p && *p;) {
    char *end;
    uint64_t v = strtoull(p, &end, 10);
    if (end == p)
      break;
    fprintf(f, "%s%" PRIu64, first ? "" : ",", v * mul);
    first = false;
    p = end;
  }
  fputc(']', f);
}

static void stats_cpu(FILE *f, const struct kist_cgroup *cg)
{
  struct sdir acct = {.fd = -1}, cpu = {.fd = -1};
  const struct kist_cg_dir *a = kist_cg_find(cg, KIST_CG_CPUACCT);
  const struct kist_cg_dir *c = kist_cg_find(cg, KIST_CG_CPU);
  fputs("\"cpu\":{\"usage\":{", f);
  if (a && !a->v2 && sdir_open(&acct, a)) {
    uint64_t ns_per_tick = 1000000000u / (uint64_t)sysconf(_SC_CLK_TCK);
    cleanup_free char *st = rd(&acct, "cpuacct.stat");
    cleanup_free char *pc = rd(&acct, "cpuacct.usage_percpu");
    cleanup_free char *pk = rd(&acct, "cpuacct.usage_percpu_sys");
    cleanup_free char *pu = rd(&acct, "cpuacct.usage_percpu_user");
    fprintf(f, "\"total\":%" PRIu64, rd_u64(&acct, "cpuacct.usage", NULL));
    if (pc)
      put_list(f, "percpu", pc, 1);
    if (pk)
      put_list(f, "percpu_kernel", pk, 1);
    if (pu)
      put_list(f, "percpu_user", pu, 1);
    fprintf(f, ",\"kernel\":%" PRIu64 ",\"user\":%" PRIu64, kv(st, "system") * ns_per_tick,
            kv(st, "user") * ns_per_tick);
  } else {
    /* v2: cpu.stat is a core file, there without the cpu controller. */
    struct sdir v2 = {.fd = -1};
    sdir_open(&v2, kist_cg_find_v2(cg));
    cleanup_free char *st = rd(&v2, "cpu.stat");
    sdir_close(&v2);
    fprintf(f, "\"total\":%" PRIu64 ",\"kernel\":%" PRIu64 ",\"user\":%" PRIu64,
            kv(st, "usage_usec") * 1000, kv(st, "system_usec") * 1000, kv(st, "user_usec") * 1000);
  }
  sdir_close(&acct);
  fputs("},\"throttling\":{", f);
  if (sdir_open(&cpu, c)) {
    cleanup_free char *st = rd(&cpu, "cpu.stat");
    uint64_t t = c->v2 ? kv(st, "throttled_usec") * 1000 : kv(st, "throttled_time");
    fprintf(f,
            "\"periods\":%" PRIu64 ",\"throttledPeriods\":%" PRIu64 ",\"throttledTime\":%" PRIu64,
            kv(st, "nr_periods"), kv(st, "nr_throttled"), t);
  }
  sdir_close(&cpu);
  fputs("}}", f);
}

static void put_entry(FILE *f, const char *name, uint64_t usage, uint64_t max, uint64_t limit,
                      uint64_t failcnt)
{
  fprintf(f,
          ",\"%s\":{\"usage\":%" PRIu64 ",\"max\":%" PRIu64 ",\"limit\":%" PRIu64
          ",\"failcnt\":%" PRIu64 "}",
          name, usage, max, limit, failcnt);
}

static void put_raw(FILE *f, const char *stat)
{
  fputs(",\"raw\":{", f);
  bool first = true;
  for (const char *l = stat; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    size_t kl = strcspn(l, " \n");
    if (kl == 0 || l[kl] != ' ')
      continue;
    bool ok = true; /* keys are identifiers: nothing to escape, but check */
    for (size_t i = 0; i < kl; i++)
      ok &= isalnum((unsigned char)l[i]) || l[i] == '_' || l[i] == '.';
    if (!ok)
      continue;
    fprintf(f, "%s\"%.*s\":%llu", first ? "" : ",", (int)kl, l, strtoull(l + kl + 1, NULL, 10));
    first = false;
  }
  fputc('}', f);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void stats_memory(FILE *f, const struct kist_cgroup *cg)
{
  struct sdir m = {.fd = -1};
  const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_MEMORY);
  fputs("\"memory\":{", f);
  if (!sdir_open(&m, d)) {
    fputs("\"usage\":{\"limit\":0,\"failcnt\":0}}", f);
    return;
  }
  cleanup_free char *stat = rd(&m, "memory.stat");
  if (!d->v2) {
    fprintf(f, "\"cache\":%" PRIu64, kv(stat, "cache"));
    put_entry(f, "usage", rd_u64(&m, "memory.usage_in_bytes", NULL),
              rd_u64(&m, "memory.max_usage_in_bytes", NULL),
              rd_u64(&m, "memory.limit_in_bytes", NULL), rd_u64(&m, "memory.failcnt", NULL));
    bool has;
    uint64_t u = rd_u64(&m, "memory.memsw.usage_in_bytes", &has);
    if (has)
      put_entry(f, "swap", u, rd_u64(&m, "memory.memsw.max_usage_in_bytes", NULL),
                rd_u64(&m, "memory.memsw.limit_in_bytes", NULL),
                rd_u64(&m, "memory.memsw.failcnt", NULL));
    u = rd_u64(&m, "memory.kmem.usage_in_bytes", &has);
    if (has)
      put_entry(f, "kernel", u, rd_u64(&m, "memory.kmem.max_usage_in_bytes", NULL),
                rd_u64(&m, "memory.kmem.limit_in_bytes", NULL),
                rd_u64(&m, "memory.kmem.failcnt", NULL));
    u = rd_u64(&m, "memory.kmem.tcp.usage_in_bytes", &has);
    if (has)
      put_entry(f, "kernelTCP", u, rd_u64(&m, "memory.kmem.tcp.max_usage_in_bytes", NULL),
                rd_u64(&m, "memory.kmem.tcp.limit_in_bytes", NULL),
                rd_u64(&m, "memory.kmem.tcp.failcnt", NULL));
  } else {
    cleanup_free char *ev = rd(&m, "memory.events");
    uint64_t cur = rd_u64(&m, "memory.current", NULL), max = rd_u64(&m, "memory.max", NULL);
    fprintf(f, "\"cache\":%" PRIu64, kv(stat, "file"));
    put_entry(f, "usage", cur, rd_u64(&m, "memory.peak", NULL), max, kv(ev, "max"));
    bool has;
    uint64_t sw = rd_u64(&m, "memory.swap.current", &has);
    /* runc's v1-compatible view: "swap" is memory+swap. */
    if (has)
      put_entry(f, "swap", sat_add(sw, cur), 0, sat_add(rd_u64(&m, "memory.swap.max", NULL), max),
                0);
  }
  put_raw(f, stat);
  fputc('}', f);
  sdir_close(&m);
}

static void stats_pids(FILE *f, const struct kist_cgroup *cg)
{
  struct sdir p = {.fd = -1};
  sdir_open(&p, kist_cg_find(cg, KIST_CG_PIDS));
  uint64_t lim = rd_u64(&p, "pids.max", NULL);
  fprintf(f, "\"pids\":{\"current\":%" PRIu64 ",\"limit\":%" PRIu64 "}",
          rd_u64(&p, "pids.current", NULL), lim == UINT64_MAX ? 0 : lim);
  sdir_close(&p);
}

/* v1 "MAJ:MIN Op N" lines. */
static void put_blkio_v1(FILE *f, const char *name, const char *text)
{
  fprintf(f, "\"%s\":[", name);
  bool first = true;
  for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned maj, min;
    char op[16];
    unsigned long long v;
    if (sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &v) != 4)
      continue;
    fprintf(f, "%s{\"major\":%u,\"minor\":%u,\"op\":\"%s\",\"value\":%llu}", first ? "" : ",", maj,
            min, op, v);
    first = false;
  }
  fputc(']', f);
}

/* v2 io.stat "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...". */
static void put_blkio_v2(FILE *f, const char *name, const char *text, const char *rkey,
                         const char *wkey)
{
  fprintf(f, "\"%s\":[", name);
  bool first = true;
  for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned maj, min;
    if (sscanf(l, "%u:%u", &maj, &min) != 2)
      continue;
    cleanup_free char *line = xstrndup(l, strcspn(l, "\n"));
    const char *keys[2] = {rkey, wkey}, *ops[2] = {"Read", "Write"};
    for (int i = 0; i < 2; i++) {
      cleanup_free char *pat = xasprintf(" %s=", keys[i]);
      const char *p = strstr(line, pat);
      fprintf(f, "%s{\"major\":%u,\"minor\":%u,\"op\":\"%s\",\"value\":%llu}", first ? "" : ",",
              maj, min, ops[i], p ? strtoull(p + strlen(pat), NULL, 10) : 0ull);
      first = false;
    }
  }
  fputc(']', f);
}

static void stats_blkio(FILE *f, const struct kist_cgroup *cg)
{
  struct sdir b = {.fd = -1};
  const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_BLKIO);
  fputs("\"blkio\":{", f);
  if (sdir_open(&b, d)) {
    if (!d->v2) {
      cleanup_free char *bytes = rd(&b, "blkio.throttle.io_service_bytes_recursive");
      cleanup_free char *ios = rd(&b, "blkio.throttle.io_serviced_recursive");
      put_blkio_v1(f, "ioServiceBytesRecursive", bytes);
      fputc(',', f);
      put_blkio_v1(f, "ioServicedRecursive", ios);
    } else {
      cleanup_free char *st = rd(&b, "io.stat");
      put_blkio_v2(f, "ioServiceBytesRecursive", st, "rbytes", "wbytes");
      fputc(',', f);
      put_blkio_v2(f, "ioServicedRecursive", st, "rios", "wios");
    }
  }
  fputc('}', f);
  sdir_close(&b);
}

static void stats_hugetlb(FILE *f, const struct kist_cgroup *cg)
{
  struct sdir h = {.fd = -1};
  const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_HUGETLB);
  fputs("\"hugetlb\":{", f);
  DIR *dir = sdir_open(&h, d) ? opendir("/sys/kernel/mm/hugepages") : NULL;
  struct dirent *de;
  bool first = true;
  while (dir && (de = readdir(dir)) != NULL) {
    unsigned long long kb;
    if (sscanf(de->d_name, "hugepages-%llukB", &kb) != 1)
      continue;
    char name[32];
    if (kb % (1u << 20) == 0)
      kist_snprintf(name, sizeof name, "%lluGB", kb >> 20);
    else if (kb % (1u << 10) == 0)
      kist_snprintf(name, sizeof name, "%lluMB", kb >> 10);
    else
      kist_snprintf(name, sizeof name, "%lluKB", kb);
    char f1[64], f2[64], f3[64];
    uint64_t usage, max = 0, failcnt;
    if (d->v2) {
      kist_snprintf(f1, sizeof f1, "hugetlb.%s.current", name);
      kist_snprintf(f3, sizeof f3, "hugetlb.%s.events", name);
      cleanup_free char *ev = rd(&h, f3);
      usage = rd_u64(&h, f1, NULL);
      failcnt = kv(ev, "max");
    } else {
      kist_snprintf(f1, sizeof f1, "hugetlb.%s.usage_in_bytes", name);
      kist_snprintf(f2, sizeof f2, "hugetlb.%s.max_usage_in_bytes", name);
      kist_snprintf(f3, sizeof f3, "hugetlb.%s.failcnt", name);
      usage = rd_u64(&h, f1, NULL);
      max = rd_u64(&h, f2, NULL);
      failcnt = rd_u64(&h, f3, NULL);
    }
    fprintf(f, "%s\"%s\":{\"usage\":%" PRIu64 ",\"max\":%" PRIu64 ",\"failcnt\":%" PRIu64 "}",
            first ? "" : ",", name, usage, max, failcnt);
    first = false;
  }
  if (dir)
    closedir(dir);
  fputc('}', f);
  sdir_close(&h);
}

/* The stats event of a cgroup; -1 with *err when the cgroup is gone. */
static int stats_json(const char *id, const struct kist_cgroup *cg, char **json, kist_error_t *err)
{
  const struct kist_cg_dir *any = cg->n ? &cg->d[0] : NULL;
  struct sdir probe = {.fd = -1};
  if (any == NULL || !sdir_open(&probe, any))
    return kist_fail(err, ENOENT, "container %s: its cgroup %s is gone", id, cg->path);
  sdir_close(&probe);
  size_t len;
  FILE *f = open_memstream(json, &len);
  if (f == NULL)
    return kist_fail(err, errno, "open_memstream");
  fprintf(f, "{\"type\":\"stats\",\"id\":\"%s\",\"data\":{", id);
  stats_cpu(f, cg);
  fputc(',', f);
  stats_memory(f, cg);
  fputc(',', f);
  stats_pids(f, cg);
  fputc(',', f);
  stats_blkio(f, cg);
  fputc(',', f);
  stats_hugetlb(f, cg);
  fputs("}}", f);
  fclose(f);
  return 0;
}

int kist_container_stats(const struct kist_context *ctx, const char *id, char **json,
                         kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, 0, &c, err) < 0)
    return -1;
  struct kist_cgroup *cg = NULL;
  int ret = -1;
  if (c->st.status == KIST_STATUS_STOPPED || c->st.status == KIST_STATUS_CREATING)
    kist_fail(err, 0, "container %s is not running (it is %s)", id, status_word(c->st.status));
  else if (need_real_cgroup(c, "read the stats of", &cg, err) == 0)
    ret = stats_json(id, cg, json, err);
  kist_container_close(c);
  return ret;
}

/* ---- events ---- */

/* How the kernel tells about OOM: v1 an eventfd registered on
 * memory.oom_control through cgroup.event_control; v2 an inotify watch on
 * memory.events, whose oom_kill count goes up. */
struct oom_watch {
  int fd;
  bool v2;
  uint64_t count;
  struct sdir dir;
};

static void oom_watch_open(struct oom_watch *w, const struct kist_cgroup *cg)
{
  *w = (struct oom_watch){.fd = -1, .dir = {.fd = -1}};
  const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_MEMORY);
  if (d == NULL || !sdir_open(&w->dir, d))
    return;
  w->v2 = d->v2;
  kist_cg_oom_kill_count(d, w->dir.fd, &w->count);
  cleanup_free char *dp = kist_cg_dir_path(d);
  if (w->v2) {
    cleanup_free char *file = xasprintf("%s/memory.events", dp);
    w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w->fd >= 0 && inotify_add_watch(w->fd, file, IN_MODIFY) < 0) {
      close(w->fd);
      w->fd = -1;
    }
    return;
  }
  cleanup_close int ctl = openat(w->dir.fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
  w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  char buf[32];
  kist_snprintf(buf, sizeof buf, "%d %d", w->fd, ctl);
  kist_error_t e = NULL;
  if (ctl < 0 || w->fd < 0 || kist_cg_write(w->dir.fd, dp, "cgroup.event_control", buf, &e) < 0) {
    kist_debug("events: no OOM notification: %s", e ? kist_error_message(e) : strerror(errno));
    kist_error_release(&e);
    if (w->fd >= 0)
      close(w->fd);
    w->fd = -1;
  }
}

/* True when an OOM happened since the last call. */
static bool oom_check(struct oom_watch *w, bool woke)
{
  if (woke) {
    char buf[4096];
    while (read(w->fd, buf, sizeof buf) > 0)
      ; /* drain the eventfd counter / inotify events */
  }
  if (w->dir.fd < 0)
    return false;
  uint64_t n;
  bool known = kist_cg_oom_kill_count(w->dir.d, w->dir.fd, &n);
  bool more = known && n > w->count;
  if (known)
    w->count = n;
  /* v1 before 4.13 has no oom_kill count: the eventfd alone says it (the
   * eventfd also fires when the cgroup is removed: then the file is gone). */
  cleanup_free char *still = woke && !w->v2 && !known ? rd(&w->dir, "memory.oom_control") : NULL;
  return more || still != NULL;
}

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int emit(FILE *out, const char *line, kist_error_t *err)
{
  if (fprintf(out, "%s\n", line) < 0 || fflush(out) != 0)
    return kist_fail(err, errno, "write events");
  return 0;
}

int kist_container_events(const struct kist_context *ctx, const char *id, int interval_ms,
                          FILE *out, kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, 0, &c, err) < 0)
    return -1;
  struct kist_cgroup *cg = NULL;
  int ret = -1, pidfd = -1;
  struct oom_watch w = {.fd = -1, .dir = {.fd = -1}};
  /* Before the first goto: its cleanup runs at every return. */
  cleanup_free char *oom_line = NULL;
  if (c->st.status == KIST_STATUS_STOPPED || c->st.status == KIST_STATUS_CREATING) {
    kist_fail(err, 0, "container %s is not running (it is %s)", id, status_word(c->st.status));
    goto out;
  }
  if (need_cgroup(c, &cg, err) < 0 || (pidfd = kist_container_pidfd(c, err)) < 0)
    goto out;
  oom_watch_open(&w, cg);
  oom_line = xasprintf("{\"type\":\"oom\",\"id\":\"%s\"}", id);
  for (;;) {
    cleanup_free char *json = NULL;
    kist_error_t e = NULL;
    if (stats_json(id, cg, &json, &e) < 0) {
      kist_error_release(&e); /* the cgroup went away: the container is gone */
      ret = 0;
      goto out;
    }
    if (emit(out, json, err) < 0)
      goto out;
    long deadline = now_ms() + interval_ms;
    for (long left; (left = deadline - now_ms()) > 0;) {
      struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = w.fd, .events = POLLIN}};
      int r = poll(p, w.fd >= 0 ? 2 : 1, (int)(left < 1000 ? left : 1000));
      if (r < 0 && errno != EINTR) {
        kist_fail(err, errno, "poll");
        goto out;
      }
      /* The oom_kill count is polled too: an eventfd can miss nothing,
       * but inotify on cgroupfs is best effort on old kernels. */
      if (oom_check(&w, r > 0 && (p[1].revents & POLLIN)) && emit(out, oom_line, err) < 0)
        goto out;
      if (r > 0 && (p[0].revents & POLLIN)) {
        ret = 0; /* the init exited: the container stopped */
        goto out;
      }
    }
  }
out:
  if (pidfd >= 0)
    close(pidfd);
  if (w.fd >= 0)
    close(w.fd);
  sdir_close(&w.dir);
  kist_container_close(c);
  return ret;
}
