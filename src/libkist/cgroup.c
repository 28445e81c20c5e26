/* cgroups: mode detection, the host layout, cgroupsPath placement, the saved
 * state, and dispatch to the v1 and v2 drivers.
 *
 * Placement (linux.cgroupsPath):
 *   absent        "/kist-<id>" directly under every hierarchy root: one
 *                 mkdir per hierarchy (each v1 one allocates a css per
 *                 controller), no shared parent to make and remove, and
 *                 the stem of the systemd default "kist-<id>.scope";
 *   "/a/b"        that path under every hierarchy root;
 *   "a/b"         under kist's own cgroup in each hierarchy (as runc does, so a
 *                 runtime inside a container nests correctly); on cgroup v2
 *                 under its parent unless kist's is the root, as runc
 *                 does too: kist's own cgroup holds kist, and v2 lets no
 *                 cgroup with processes enable controllers for children;
 *   --systemd-cgroup "slice:prefix:name"  the path systemd uses for the
 *                 transient unit prefix-name.scope in that slice
 *                 ("/system.slice/prefix-name.scope"). kist makes the dirs
 *                 and writes the limits as for any path; with systemd
 *                 running, enter then starts the unit (cgroup-systemd.c),
 *                 which adopts them; without systemd they stay plain
 *                 cgroupfs dirs (with a warning).
 *
 * Unprivileged (rootless) kist:
 *   absent        "<id>", relative as above: next to kist's own cgroup, so
 *                 "<delegated>/<id>" when kist runs in a leaf of a subtree
 *                 delegated to the user (systemd Delegate=yes, or root's
 *                 chown of a dir with its cgroup.procs, cgroup.threads and
 *                 cgroup.subtree_control). This is runc's choice for a
 *                 missing path, so a runc or crun user finds the container
 *                 where they look; the root-level "/kist-<id>" is
 *                 root's. A leaf of that name that already has processes
 *                 is not joined.
 *   any path      used as given; mkdir refused (EACCES/EPERM/EROFS) means
 *                 nothing is delegated there: a hierarchy the config sets
 *                 limits in is an error that says so, the others are left
 *                 out with one warning per session.
 *   the init      kist moves it from its own cgroup, which v2 allows only
 *                 when the user may write cgroup.procs of both cgroups'
 *                 common ancestor: kist must run inside the delegated
 *                 subtree (explain_move says so when it does not).
 *   --systemd-cgroup  the user's own systemd instance (over its private
 *                 socket or the session bus), default slice "user.slice",
 *                 every path under the manager's cgroup
 *                 (/user.slice/user-UID.slice/user@UID.service/...); no
 *                 reachable user instance while systemd runs is an error.
 * A leaf that already exists is joined: kist moves processes into it and
 * writes the configured limits, but never signals its processes and never
 * removes it. The saved state records, per hierarchy, how many trailing path
 * components kist made.
 *
 * Hybrid hosts: every controller is used where it is mounted (v1 first, the
 * v2 tree for the rest, e.g. hugetlb), and the container joins every v1
 * hierarchy (named ones too) and the v2 tree, so /proc/PID/cgroup agrees.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "fmt.h"
#include "log.h"
#include "resources.h"
#include "rootless.h"
#include "testhook.h"
#include "util.h"

/* ---- controller names ---- */

static const char *const v1_names[KIST_CG_NCTRL] = {
  [KIST_CG_CPU] = "cpu",
  [KIST_CG_CPUACCT] = "cpuacct",
  [KIST_CG_CPUSET] = "cpuset",
  [KIST_CG_MEMORY] = "memory",
  [KIST_CG_DEVICES] = "devices",
  [KIST_CG_FREEZER] = "freezer",
  [KIST_CG_BLKIO] = "blkio",
  [KIST_CG_PIDS] = "pids",
  [KIST_CG_HUGETLB] = "hugetlb",
  [KIST_CG_NET_CLS] = "net_cls",
  [KIST_CG_NET_PRIO] = "net_prio",
  [KIST_CG_RDMA] = "rdma",
  [KIST_CG_PERF_EVENT] = "perf_event",
  [KIST_CG_MISC] = "misc",
};

static const char *const v2_names[KIST_CG_NCTRL] = {
  [KIST_CG_CPU] = "cpu",       [KIST_CG_CPUSET] = "cpuset",
  [KIST_CG_MEMORY] = "memory", [KIST_CG_BLKIO] = "io",
  [KIST_CG_PIDS] = "pids",     [KIST_CG_HUGETLB] = "hugetlb",
  [KIST_CG_RDMA] = "rdma",     [KIST_CG_PERF_EVENT] = "perf_event",
  [KIST_CG_MISC] = "misc",
};

const char *kist_cg_ctrl_v1_name(enum kist_cg_ctrl c)
{
  return c < KIST_CG_NCTRL ? v1_names[c] : "cgroup";
}

const char *kist_cg_ctrl_v2_name(enum kist_cg_ctrl c)
{
  return c < KIST_CG_NCTRL ? v2_names[c] : "cgroup";
}

/* ---- mode and layout ---- */

enum kist_cgroup_mode kist_cgroup_mode(void)
{
  static int cached = -1;
  if (cached >= 0)
    return (enum kist_cgroup_mode)cached;
  struct statfs fs;
  enum kist_cgroup_mode m = KIST_CGROUP_V1;
  if (statfs(KIST_CG_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    m = KIST_CGROUP_V2;
  else if (statfs(KIST_CG_ROOT "/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    m = KIST_CGROUP_HYBRID;
  cached = (int)m;
  return m;
}

/* The controllers a v2 dir lists in cgroup.controllers. */
static uint32_t v2_controllers(const char *dir)
{
  cleanup_free char *path = xasprintf("%s/cgroup.controllers", dir);
  cleanup_free char *s = NULL;
  kist_error_t err = NULL;
  if (read_file_at(AT_FDCWD, path, &s, NULL, &err) < 0) {
    kist_error_release(&err);
    return 0;
  }
  uint32_t m = 0;
  char *save = NULL;
  for (char *t = strtok_r(s, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
    for (int c = 0; c < KIST_CG_NCTRL; c++)
      if (v2_names[c] && strcmp(v2_names[c], t) == 0)
        m |= KIST_CG_BIT(c);
  return m;
}

static uint32_t v1_controllers(const char *name)
{
  cleanup_free char *s = xstrdup(name);
  uint32_t m = 0;
  char *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
    for (int c = 0; c < KIST_CG_NCTRL; c++)
      if (strcmp(v1_names[c], t) == 0)
        m |= KIST_CG_BIT(c);
  return m;
}

static int hier_cmp(const void *a, const void *b)
{
  const struct kist_cg_hier *x = a, *y = b;
  if (x->v2 != y->v2)
    return x->v2 ? 1 : -1; /* v1 first: it wins a controller */
  return strcmp(x->name, y->name);
}

/* One readdir of /sys/fs/cgroup and a statfs per entry: no mountinfo. */
static void detect_layout(struct kist_cg_layout *L)
{
  L->mode = kist_cgroup_mode();
  for (int c = 0; c <= KIST_CG_NCTRL; c++)
    L->where[c] = -1;
  if (L->mode == KIST_CGROUP_V2) {
    L->h[0] = (struct kist_cg_hier){.name = "", .v2 = true, .ctrls = v2_controllers(KIST_CG_ROOT)};
    L->n = 1;
  } else {
    DIR *dir = opendir(KIST_CG_ROOT);
    struct dirent *de;
    bool have_v2 = false;
    while (dir && (de = readdir(dir)) != NULL && L->n < KIST_CG_MAX_HIER) {
      if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof L->h[0].name)
        continue;
      if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        continue; /* "cpu" -> "cpu,cpuacct" symlinks: the real dir is listed too */
      cleanup_free char *p = xasprintf("%s/%s", KIST_CG_ROOT, de->d_name);
      struct stat st;
      struct statfs fs;
      if (de->d_type == DT_UNKNOWN && (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
        continue;
      if (statfs(p, &fs) < 0)
        continue;
      struct kist_cg_hier *h = &L->h[L->n];
      kist_snprintf(h->name, sizeof h->name, "%s", de->d_name);
      if (fs.f_type == CGROUP_SUPER_MAGIC) {
        h->v2 = false;
        h->ctrls = v1_controllers(de->d_name);
      } else if (fs.f_type == CGROUP2_SUPER_MAGIC && !have_v2) {
        h->v2 = true;
        h->ctrls = v2_controllers(p);
        have_v2 = true;
      } else {
        continue;
      }
      L->n++;
    }
    if (dir)
      closedir(dir);
    qsort(L->h, L->n, sizeof L->h[0], hier_cmp);
  }
  for (size_t i = 0; i < L->n; i++) {
    for (int c = 0; c < KIST_CG_NCTRL; c++)
      if ((L->h[i].ctrls & KIST_CG_BIT(c)) && L->where[c] < 0)
        L->where[c] = (int)i;
    if (L->h[i].v2)
      L->where[KIST_CG_CORE] = (int)i;
  }
}

const struct kist_cg_layout *kist_cg_layout(void)
{
  static struct kist_cg_layout L;
  static bool done;
  if (!done) {
    detect_layout(&L);
    done = true;
  }
  return &L;
}

/* ---- small helpers shared with the drivers ---- */

char *kist_cg_dir_path(const struct kist_cg_dir *d)
{
  if (d->hier[0] == '\0')
    return xasprintf("%s%s", KIST_CG_ROOT, d->rel);
  return xasprintf("%s/%s%s", KIST_CG_ROOT, d->hier, d->rel);
}

int kist_cg_dir_open(const struct kist_cg_dir *d, kist_error_t *err)
{
  cleanup_free char *p = kist_cg_dir_path(d);
  int fd =
    d->fd >= 0 ? fcntl(d->fd, F_DUPFD_CLOEXEC, 3) : open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "open %s", p);
  return fd;
}

int kist_cg_dir_fd(const struct kist_cg_dir *d, int *owned, kist_error_t *err)
{
  *owned = -1;
  if (d->fd >= 0)
    return d->fd;
  return *owned = kist_cg_dir_open(d, err);
}

const struct kist_cg_dir *kist_cg_find(const struct kist_cgroup *cg, enum kist_cg_ctrl c)
{
  /* A v1 hierarchy first, as the layout chose. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < cg->n; i++)
      if ((cg->d[i].ctrls & KIST_CG_BIT(c)) && cg->d[i].v2 == (pass == 1))
        return &cg->d[i];
  return NULL;
}

const struct kist_cg_dir *kist_cg_find_v2(const struct kist_cgroup *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if (cg->d[i].v2)
      return &cg->d[i];
  return NULL;
}

int kist_cg_write(int dirfd, const char *dirpath, const char *file, const char *value,
                  kist_error_t *err)
{
  cleanup_close int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return kist_fail(err, errno, "open %s/%s", dirpath, file);
  if (write(fd, value, strlen(value)) < 0)
    return kist_fail(err, errno, "write %s/%s: %s", dirpath, file, value);
  return 0;
}

int kist_cg_read(int dirfd, const char *dirpath, const char *file, char **out, kist_error_t *err)
{
  cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return kist_fail(err, errno, "open %s/%s", dirpath, file);
  cleanup_free char *what = xasprintf("%s/%s", dirpath, file);
  size_t len;
  if (read_all_fd(fd, what, out, &len, err) < 0)
    return -1;
  while (len > 0 && (*out)[len - 1] == '\n')
    (*out)[--len] = '\0';
  return 0;
}

void kist_cg_sleep_ms(int ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static void pids_add(pid_t **pids, size_t *n, size_t *cap, pid_t p)
{
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *pids = xrealloc(*pids, *cap * sizeof **pids);
  }
  (*pids)[(*n)++] = p;
}

static int read_pids_rec(const char *dirpath, bool recursive, pid_t **pids, size_t *n, size_t *cap,
                         int depth, kist_error_t *err)
{
  cleanup_free char *s = NULL;
  cleanup_close int dfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT && depth > 0 ? 0 : kist_fail(err, errno, "open %s", dirpath);
  if (kist_cg_read(dfd, dirpath, "cgroup.procs", &s, err) < 0)
    return -1;
  for (char *p = s; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    if (v > 0)
      pids_add(pids, n, cap, (pid_t)v);
    p = end;
    while (*p == '\n')
      p++;
  }
  if (!recursive || depth > 32)
    return 0;
  DIR *d = fdopendir(dfd);
  if (d == NULL)
    return kist_fail(err, errno, "opendir %s", dirpath);
  dfd = -1;
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dirpath, de->d_name);
    if (read_pids_rec(sub, true, pids, n, cap, depth + 1, err) < 0) {
      ret = -1;
      break;
    }
  }
  closedir(d);
  return ret;
}

int kist_cg_read_pids(const char *dirpath, bool recursive, pid_t **pids, size_t *n,
                      kist_error_t *err)
{
  size_t cap = 0;
  *pids = NULL;
  *n = 0;
  if (read_pids_rec(dirpath, recursive, pids, n, &cap, 0, err) < 0) {
    free(*pids);
    *pids = NULL;
    *n = 0;
    return -1;
  }
  return 0;
}

/* ---- cgroupsPath ---- */

/* Collapses "//", refuses "." and ".." (the path must stay inside each
 * hierarchy) and newlines (the state file is line based). */
static int normalize_path(const char *in, const char *field, char **out, kist_error_t *err)
{
  if (strchr(in, '\n'))
    return kist_fail(err, 0, "%s: \"%s\": newline in a cgroup path", field, in);
  size_t len = strlen(in);
  char *o = xmalloc(len + 2), *q = o;
  bool abs = in[0] == '/';
  for (const char *p = in; *p;) {
    while (*p == '/')
      p++;
    const char *e = strchrnul(p, '/');
    size_t n = (size_t)(e - p);
    if (n == 0)
      break;
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
      free(o);
      return kist_fail(err, 0, "%s: \"%s\": \".\" and \"..\" are not allowed", field, in);
    }
    if (q != o || abs)
      *q++ = '/';
    memcpy(q, p, n);
    q += n;
    p = e;
  }
  if (q == o && abs)
    *q++ = '/';
  *q = '\0';
  if (o[0] == '\0') {
    free(o);
    return kist_fail(err, 0, "%s: \"%s\" is empty", field, in);
  }
  *out = o;
  return 0;
}

/* "a-b-c.slice" → "a.slice/a-b.slice/a-b-c.slice" (systemd nests slices by dashes). */
static int expand_slice(const char *slice, char **out, kist_error_t *err)
{
  size_t n = strlen(slice);
  if (n < 7 || strcmp(slice + n - 6, ".slice") != 0 || strchr(slice, '/'))
    return kist_fail(err, 0, "linux.cgroupsPath: \"%s\" is not a systemd slice name", slice);
  if (strcmp(slice, "-.slice") == 0) {
    *out = xstrdup("");
    return 0;
  }
  size_t base = n - 6;
  if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
    return kist_fail(err, 0, "linux.cgroupsPath: \"%s\" is not a valid slice name", slice);
  char *r = xstrdup("");
  for (size_t i = 0; i <= base; i++) {
    if (i == base || slice[i] == '-') {
      char *t = xasprintf("%s/%.*s.slice", r, (int)i, slice);
      free(r);
      r = t;
    }
  }
  *out = r;
  return 0;
}

/* systemd's unit name characters, without "..": anything else would be
 * refused by systemd later, or read as a path. */
static bool unit_name_ok(const char *s)
{
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("_.-@\\", *p)))
      return false;
  return strstr(s, "..") == NULL;
}

static int systemd_path(const char *spec, const char *dflt_slice, char **out, kist_error_t *err)
{
  const char *c1 = strchr(spec, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (c2 == NULL || strchr(c2 + 1, ':') || strchr(spec, '/') || c2[1] == '\0')
    return kist_fail(err, 0,
                     "linux.cgroupsPath: \"%s\": with --systemd-cgroup it must be "
                     "slice:prefix:name",
                     spec);
  cleanup_free char *slice = xstrndup(spec, (size_t)(c1 - spec));
  cleanup_free char *prefix = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
  const char *name = c2 + 1;
  if (!unit_name_ok(slice) || !unit_name_ok(prefix) || !unit_name_ok(name))
    return kist_fail(err, 0,
                     "linux.cgroupsPath: \"%s\": slice, prefix and name may hold only letters, "
                     "digits and _.-@\\ (and no \"..\")",
                     spec);
  cleanup_free char *sp = NULL;
  if (expand_slice(slice[0] ? slice : dflt_slice, &sp, err) < 0)
    return -1;
  size_t nl = strlen(name);
  if (nl > 6 && strcmp(name + nl - 6, ".slice") == 0)
    *out = xasprintf("%s/%s", sp, name);
  else if (prefix[0])
    *out = xasprintf("%s/%s-%s.scope", sp, prefix, name);
  else
    *out = xasprintf("%s/%s.scope", sp, name);
  return 0;
}

static bool rootless(const struct kist_context *ctx)
{
  return ctx && (ctx->rootless == 1 || (ctx->rootless < 0 && !kist_privileged()));
}

/* The path to create: absolute, or relative to kist's own cgroups. *deflt:
 * no cgroupsPath was given and the path is kist's default. */
static int placement(const struct kist_context *ctx, const char *id, const oci_config *cfg,
                     bool log, char **out, bool *deflt, kist_error_t *err)
{
  const char *cp = cfg && cfg->linux ? cfg->linux->cgroups_path : NULL;
  *deflt = false;
  if (cp == NULL || cp[0] == '\0') {
    if (id == NULL || id[0] == '\0' || strchr(id, '/') || strchr(id, '\n') ||
        strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
      return kist_fail(err, 0, "container id \"%s\" cannot name a cgroup", id ? id : "");
    if (ctx && ctx->systemd_cgroup) {
      *out = xasprintf("/%s/kist-%s.scope", rootless(ctx) ? "user.slice" : "system.slice", id);
      return 0;
    }
    *deflt = true;
    if (rootless(ctx)) {
      /* The hierarchy root is root's. Next to kist's own cgroup (see the
       * top of this file) is where a delegated subtree has room. */
      *out = xstrdup(id);
      return 0;
    }
    *out = xasprintf("/kist-%s", id);
    return 0;
  }
  if (ctx && ctx->systemd_cgroup) {
    cleanup_free char *p = NULL;
    if (systemd_path(cp, rootless(ctx) ? "user.slice" : "system.slice", &p, err) < 0)
      return -1;
    if (log)
      kist_debug("cgroup: --systemd-cgroup: \"%s\" is %s", cp, p);
    return normalize_path(p, "linux.cgroupsPath", out, err);
  }
  return normalize_path(cp, "linux.cgroupsPath", out, err);
}

/* kist's own cgroup in hierarchy h, from /proc/self/cgroup (read only for
 * relative paths). */
static int own_cgroup(const struct kist_cg_hier *h, char **out, kist_error_t *err)
{
  cleanup_free char *s = NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/cgroup", &s, NULL, err) < 0)
    return -1;
  char *save = NULL;
  for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    bool match = h->v2 ? ctrls[0] == '\0'
                       : (strcmp(ctrls, h->name) == 0 ||
                          (str_has_prefix(ctrls, "name=") && strcmp(ctrls + 5, h->name) == 0));
    if (match) {
      *out = xstrdup(c2 + 1);
      return 0;
    }
  }
  return kist_fail(err, 0, "/proc/self/cgroup: no line for the %s hierarchy",
                   h->name[0] ? h->name : "cgroup2");
}

/* Where a relative cgroupsPath goes in a hierarchy where kist's own cgroup
 * is own. On v2 a cgroup with processes (kist's own holds kist) cannot enable
 * controllers for its children, so the path is taken from its parent
 * instead (as runc does); the root has no such rule. */
static char *relative_path(const char *own, bool v2, const char *path)
{
  cleanup_free char *base = xstrdup(own);
  if (v2) {
    char *slash = strrchr(base, '/');
    if (slash)
      *slash = '\0';
  }
  size_t n = strlen(base);
  if (n > 0 && base[n - 1] == '/')
    base[n - 1] = '\0';
  return xasprintf("%s/%s", base, path);
}

/* A relative path went next to kist's own v2 cgroup and that was refused:
 * when kist's own cgroup is the user's (kist started in the delegated cgroup
 * itself, not in a leaf below it), say that instead of "nothing delegated".
 * Returns -1 with *err replaced in that case, 0 (err untouched) otherwise. */
static int own_is_delegated(const struct kist_cg_hier *h, kist_error_t *err)
{
  cleanup_free char *own = NULL;
  kist_error_t ign = NULL;
  if (own_cgroup(h, &own, &ign) < 0) {
    kist_error_release(&ign);
    return 0;
  }
  if (strcmp(own, "/") == 0)
    return 0;
  struct kist_cg_dir od = {.v2 = h->v2, .rel = own, .fd = -1};
  kist_snprintf(od.hier, sizeof od.hier, "%s", h->name);
  cleanup_free char *dp = kist_cg_dir_path(&od);
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", dp);
  if (access(procs, W_OK) < 0)
    return 0;
  cleanup_free char *cause = xstrdup(kist_error_message(*err));
  kist_error_release(err);
  return kist_fail(err, 0,
                   "linux.resources: the config sets limits and kist runs in %s, a cgroup "
                   "delegated to uid %u that holds kist itself; cgroup v2 lets no cgroup with "
                   "processes enable controllers below it, so the container goes next to it, "
                   "which is not yours (%s): start kist in a leaf cgroup below %s (as systemd "
                   "starts a user's services), then a relative or missing cgroupsPath lands "
                   "inside it",
                   own, (unsigned)geteuid(), cause, own);
}

/* ---- validate ---- */

int kist_cgroup_validate(const struct kist_context *ctx, const char *id, const oci_config *cfg,
                         kist_error_t *err)
{
  cleanup_free char *path = NULL;
  bool deflt;
  if (placement(ctx, id, cfg, false, &path, &deflt, err) < 0)
    return -1;
  const struct kist_cg_layout *lay = kist_cg_layout();
  struct kist_cg_plan plan;
  if (kist_resources_plan(lay, cfg ? cfg->linux : NULL, false, &plan, err) < 0)
    return -1;
  bool any = plan.n > 0;
  kist_resources_plan_free(&plan);
  if (ctx && ctx->systemd_cgroup) {
    /* Bad org.systemd.property.* annotations fail before anything exists. */
    struct kist_sd_unit *u = xzalloc(sizeof *u);
    int r = kist_cg_systemd_props(cfg, lay->mode == KIST_CGROUP_V2, u, err);
    kist_cg_systemd_unit_free(u);
    if (r < 0)
      return -1;
  }
  if (lay->n == 0 && any)
    return kist_fail(err, 0, "linux.resources: no cgroup hierarchy is mounted under %s",
                     KIST_CG_ROOT);
  return 0;
}

/* ---- create ---- */

/* Removes the dirs one make_dir walk created, deepest first. */
static void unmake(char **made, int n)
{
  while (n-- > 0) {
    if (rmdir(made[n]) < 0 && errno != ENOENT)
      kist_debug("cgroup: rmdir %s: %s", made[n], strerror(errno));
    free(made[n]);
  }
}

/* mkdir -p of d->rel, counting the components made; v1 cpuset dirs get
 * cpus/mems on the way down. A concurrent delete can remove a shared parent
 * (one it made for a cgroupsPath "/a/b") between two mkdir calls: walk
 * again. On failure whatever this walk made is removed. */
static int make_dir(struct kist_cg_dir *d, const struct kist_cg_plan *plan, kist_error_t *err)
{
  cleanup_free char *top =
    d->hier[0] ? xasprintf("%s/%s", KIST_CG_ROOT, d->hier) : xstrdup(KIST_CG_ROOT);
  bool cpuset = !d->v2 && (d->ctrls & KIST_CG_BIT(KIST_CG_CPUSET));
  for (int attempt = 0;; attempt++) {
    char *made[64];
    int nmade = 0, e = 0;
    const char *what = "open";
    int pfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
      return kist_fail(err, errno, "open %s", top);
    cleanup_free char *rel = xstrdup(d->rel);
    cleanup_free char *cur = xstrdup(top);
    char *save = NULL;
    for (char *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
      char *np = xasprintf("%s/%s", cur, c);
      free(cur);
      cur = np;
      bool fresh = mkdirat(pfd, c, 0755) == 0;
      if (!fresh && errno != EEXIST) {
        e = errno;
        what = "mkdir";
        break;
      }
      if (fresh) {
        if (nmade == (int)ARRAY_SIZE(made)) {
          e = ENAMETOOLONG;
          what = "mkdir";
          break;
        }
        made[nmade++] = xstrdup(cur);
      }
      int fd = openat(pfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        e = errno;
        break;
      }
      close(pfd);
      pfd = fd;
      bool leaf = save == NULL || *save == '\0';
      if (cpuset) {
        cleanup_close int parent = openat(pfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = parent < 0 ? kist_fail(err, errno, "open %s/..", cur)
                           : kist_cg_v1_init_cpuset(parent, pfd, cur, fresh, !(leaf && plan->cpus),
                                                    !(leaf && plan->mems), err);
        if (r < 0) {
          e = -1;
          break;
        }
      }
    }
    if (e == 0) {
      if (d->fd >= 0)
        close(d->fd);
      d->fd = pfd;
      d->created = nmade;
      for (int i = 0; i < nmade; i++)
        free(made[i]);
      return 0;
    }
    close(pfd);
    unmake(made, nmade);
    if (e == ENOENT && attempt < 5)
      continue;
    if (e < 0)
      return -1;
    return kist_fail(err, e, "%s %s", what, cur);
  }
}

/* keep (may be NULL): in, an fd already open on w->file in d, or -1; out,
 * the fd of a plain successful write, for a next write to the same file
 * (device rules are a dozen writes to devices.allow: one open). */
static int apply_write(const struct kist_cgroup *cg, const struct kist_cg_dir *d,
                       const struct kist_cg_write *w, const struct kist_cg_write *next,
                       bool *used_next, int *keep, kist_error_t *err)
{
  cleanup_free char *dp = kist_cg_dir_path(d);
  const char *file = w->file, *value = w->value;
  bool plain = keep && w->alt_file == NULL && !(w->flags & KIST_CGW_SWAP_ORDER);
  cleanup_close int fd = -1;
  if (plain && *keep >= 0)
    fd = steal_fd(keep);
  else
    fd = openat(d->fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT && w->alt_file) {
    file = w->alt_file;
    value = w->alt_value ? w->alt_value : w->value;
    fd = openat(d->fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0 && errno == ENOENT) {
    if (w->flags & KIST_CGW_OPTIONAL)
      return 0;
    if (w->alt_file)
      return kist_fail(err, 0, "%s: neither %s nor %s exists in %s (not supported by this kernel)",
                       w->field, w->file, w->alt_file, dp);
    return kist_fail(err, 0, "%s: %s/%s does not exist (not supported by this kernel)", w->field,
                     dp, w->file);
  }
  if (fd < 0)
    return kist_fail(err, errno, "%s: open %s/%s", w->field, dp, file);
  if (write(fd, value, strlen(value)) >= 0) {
    if (plain)
      *keep = steal_fd(&fd);
    return 0;
  }
  int e = errno;
  if (e == EINVAL && (w->flags & KIST_CGW_SWAP_ORDER) && next && !*used_next) {
    /* Lowering memory+swap below the current memory limit (a joined cgroup):
     * the other order works. */
    *used_next = true;
    if (apply_write(cg, d, next, NULL, used_next, NULL, err) < 0)
      return -1;
    if (write(fd, value, strlen(value)) >= 0)
      return 0;
    e = errno;
  }
  if (e == EBUSY && strcmp(file, "memory.limit_in_bytes") == 0) {
    cleanup_free char *usage = NULL;
    kist_error_t ign = NULL;
    if (kist_cg_read(d->fd, dp, "memory.usage_in_bytes", &usage, &ign) < 0)
      kist_error_release(&ign);
    return kist_fail(err, e,
                     "%s: %s is below the memory already in use (%s bytes): write %s/%s: %s",
                     w->field, value, usage ? usage : "?", dp, file, value);
  }
  cleanup_free char *hint = NULL;
  if ((e == EINVAL || e == ERANGE) &&
      (strcmp(file, "cpuset.cpus") == 0 || strcmp(file, "cpuset.mems") == 0)) {
    cleanup_free char *pp = xasprintf("../%s", file), *parent = NULL;
    kist_error_t ign = NULL;
    if (kist_cg_read(d->fd, dp, pp, &parent, &ign) < 0)
      kist_error_release(&ign);
    hint = xasprintf("the parent cgroup allows \"%s\"", parent ? parent : "?");
  } else if (e == EINVAL && strcmp(file, "cpu.rt_runtime_us") == 0) {
    hint = xstrdup("the parent cgroup's cpu.rt_runtime_us must cover it");
  }
  if (hint)
    return kist_fail_take(
      err, e,
      xasprintf("%s: write %s/%s: %s: %s (%s)", w->field, dp, file, value, strerror(e), hint));
  return kist_fail(err, e, "%s: write %s/%s: %s", w->field, dp, file, value);
}

static int apply_plan(const struct kist_cgroup *cg, const int *dir_of, const struct kist_cg_plan *p,
                      kist_error_t *err)
{
  const struct kist_cg_layout *lay = kist_cg_layout();
  cleanup_close int kept = -1; /* open on p->w[i - 1].file in its dir */
  for (size_t i = 0; i < p->n; i++) {
    const struct kist_cg_write *w = &p->w[i];
    int h = lay->where[w->ctrl];
    if (kept >= 0 && (i == 0 || p->w[i - 1].ctrl != w->ctrl || strcmp(p->w[i - 1].file, w->file)))
      close(steal_fd(&kept));
    if ((h < 0 || dir_of[h] < 0) && w->ctrl == KIST_CG_DEVICES && !kist_privileged()) {
      /* Rootless, devices hierarchy not writable: the user's own device
       * permissions (and no mknod in a user namespace) are the limit. */
      if (i == 0 || p->w[i - 1].ctrl != KIST_CG_DEVICES)
        kist_debug("cgroup: rootless, device rules (%s) not applied", w->field);
      continue;
    }
    if (h < 0 || dir_of[h] < 0)
      return kist_fail(err, 0, "%s: no cgroup directory for the %s controller", w->field,
                       kist_cg_ctrl_v1_name(w->ctrl));
    const struct kist_cg_write *next = i + 1 < p->n ? &p->w[i + 1] : NULL;
    bool used_next = false;
    if (apply_write(cg, &cg->d[dir_of[h]], w, next, &used_next, &kept, err) < 0)
      return -1;
    if (used_next)
      i++;
  }
  return 0;
}

static const struct kist_cg_dir *main_dir(const struct kist_cgroup *cg)
{
  if (cg->mode == KIST_CGROUP_V2)
    return kist_cg_find_v2(cg);
  const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_PIDS);
  if (d == NULL)
    d = kist_cg_find(cg, KIST_CG_FREEZER);
  if (d == NULL)
    d = kist_cg_find(cg, KIST_CG_MEMORY);
  return d ? d : (cg->n ? &cg->d[0] : NULL);
}

/* Device rules on a v2 tree become an eBPF filter. Pure v2 needs it (no
 * devices controller). On a hybrid host the v1 devices controller enforces
 * the rules and the same filter on the unified leaf kist made is a second,
 * best-effort check (it also keeps the two trees in agreement). Rootless
 * cannot load BPF programs: the rules are then left to the user's own
 * device permissions, as other runtimes do. */
static int device_filter(const struct kist_context *ctx, const struct kist_cgroup *cg,
                         const oci_config_linux *lin, bool needed, kist_error_t *err)
{
  const struct kist_cg_dir *v2 = kist_cg_find_v2(cg);
  if (v2 == NULL || v2->fd < 0 || (!needed && v2->created <= 0))
    return 0;
  struct kist_dev_rule *rules = NULL;
  size_t n = 0;
  kist_device_rules(lin, &rules, &n);
  if (n == 0)
    return 0;
  cleanup_free char *dp = kist_cg_dir_path(v2);
  kist_error_t e = NULL;
  int r = kist_cg_bpf_devices(v2->fd, dp, rules, n, &e);
  free(rules);
  if (r == 0)
    return 0;
  if (needed && !rootless(ctx)) {
    *err = e;
    return -1;
  }
  kist_debug("cgroup: no device filter: %s", kist_error_message(e));
  kist_error_release(&e);
  return 0;
}

/* --systemd-cgroup: with systemd running, the unit to start at enter (the
 * cgroup dirs already exist: systemd adopts them). Without systemd the
 * same path is made through cgroupfs, and the user is told. */
static int systemd_prepare(const char *id, const oci_config *cfg, bool user, struct kist_cgroup *cg,
                           struct kist_cg_plan *plan, kist_error_t *err)
{
  if (!kist_cg_systemd_available(user)) {
    kist_warn("--systemd-cgroup: systemd is not running here (not PID 1, or no system bus): "
              "cgroup %s is managed directly through cgroupfs",
              cg->path);
    return 0;
  }
  struct kist_sd_unit *u = NULL;
  if (kist_cg_systemd_unit(cfg && cfg->linux ? cfg->linux->cgroups_path : NULL, id, user, &u, err) <
      0)
    return -1;
  if (u == NULL)
    return 0;
  if (kist_cg_systemd_props(cfg, cg->mode == KIST_CGROUP_V2, u, err) < 0) {
    kist_cg_systemd_unit_free(u);
    return -1;
  }
  cg->unit = xstrdup(u->unit);
  cg->sd_user = user;
  cg->sd = u;
  cg->plan = xmalloc(sizeof *cg->plan);
  *cg->plan = *plan;
  *plan = (struct kist_cg_plan){0};
  return 0;
}

/* The default cgroup /kist-<id> is shared by every state root: one that
 * already holds processes belongs to a container of the same id elsewhere
 * (or to someone else). Joining it would make their lifecycles one, and the
 * first delete would kill both; an explicit cgroupsPath may still join. */
static bool default_cgroup_busy(const struct kist_cg_dir *d, kist_error_t *err)
{
  cleanup_free char *dp = kist_cg_dir_path(d);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (kist_cg_read_pids(dp, true, &pids, &n, err) < 0)
    return true;
  if (n == 0)
    return false;
  kist_fail(err, 0,
            "cgroup %s already holds processes (a container with this id under another --root?); "
            "refusing to share it",
            dp);
  return true;
}

/* How many trailing components of d->rel do not exist yet: what make_dir is
 * about to create, recorded before it runs. */
static int missing_components(const struct kist_cg_dir *d)
{
  cleanup_free char *p = kist_cg_dir_path(d);
  size_t top = strlen(p) - strlen(d->rel);
  int missing = 0;
  struct stat sb;
  while (strlen(p) > top && stat(p, &sb) < 0 && errno == ENOENT) {
    missing++;
    *strrchr(p, '/') = '\0';
  }
  return missing;
}

int kist_cgroup_create(const struct kist_context *ctx, const char *id, const oci_config *cfg,
                       int state_dirfd, struct kist_cgroup **out, kist_error_t *err)
{
  cleanup_free char *path = NULL;
  bool deflt;
  if (placement(ctx, id, cfg, true, &path, &deflt, err) < 0)
    return -1;
  /* --systemd-cgroup unprivileged: the user's own systemd instance, whose
   * units live under its cgroup (user@UID.service). */
  bool sd_user = ctx && ctx->systemd_cgroup && rootless(ctx);
  if (sd_user && kist_cg_systemd_booted()) {
    cleanup_free char *mgr = NULL;
    if (kist_cg_systemd_manager_cgroup(&mgr, err) < 0)
      return -1;
    char *full = xasprintf("%s%s", mgr, path);
    free(path);
    path = full;
  }
  const struct kist_cg_layout *lay = kist_cg_layout();
  struct kist_cg_plan plan;
  if (kist_resources_plan(lay, cfg ? cfg->linux : NULL, true, &plan, err) < 0)
    return -1;
  if (lay->n == 0) {
    bool any = plan.n > 0;
    kist_resources_plan_free(&plan);
    if (any)
      return kist_fail(err, 0, "linux.resources: no cgroup hierarchy is mounted under %s",
                       KIST_CG_ROOT);
    return kist_fail(err, 0, "no cgroup hierarchy is mounted under %s", KIST_CG_ROOT);
  }

  struct kist_cgroup *cg = xzalloc(sizeof *cg);
  cg->mode = lay->mode;
  cleanup_free char *skipped = NULL; /* rootless: why a hierarchy was left out */
  cg->path = xstrdup(path);          /* for the records saved on the way */
  int dir_of[KIST_CG_MAX_HIER];
  int ret = 0;
  size_t planned = 0;
  for (size_t i = 0; i < lay->n; i++) {
    const struct kist_cg_hier *h = &lay->h[i];
    dir_of[i] = -1;
    struct kist_cg_dir *d = &cg->d[i];
    *d = (struct kist_cg_dir){.v2 = h->v2, .ctrls = h->ctrls, .fd = -1};
    kist_snprintf(d->hier, sizeof d->hier, "%s", h->name);
    if (path[0] == '/') {
      d->rel = xstrdup(path);
    } else {
      cleanup_free char *own = NULL;
      if (own_cgroup(h, &own, err) < 0) {
        ret = -1;
        break;
      }
      d->rel = relative_path(own, h->v2, path);
    }
    planned++;
  }
  if (ret == 0 && state_dirfd >= 0) {
    /* Every dir is recorded before any is made (one write, not one per
     * hierarchy), so a kist killed during make_dir leaves delete what to
     * remove; make_dir's own counts replace the guesses. */
    bool any = false;
    cg->n = planned;
    for (size_t i = 0; i < planned; i++) {
      cg->d[i].created = missing_components(&cg->d[i]);
      any |= cg->d[i].created > 0;
    }
    if (any && kist_cgroup_save(cg, state_dirfd, err) < 0)
      ret = -1;
    cg->n = 0;
  }
  for (size_t i = 0; i < planned && ret == 0; i++) {
    const struct kist_cg_hier *h = &lay->h[i];
    struct kist_cg_dir *d = &cg->d[cg->n];
    if (d != &cg->d[i]) { /* a rootless skip left a hole: close it */
      *d = cg->d[i];
      cg->d[i] = (struct kist_cg_dir){.fd = -1};
    }
    cg->n++;
    if (make_dir(d, &plan, err) < 0) {
      d->created = 0; /* make_dir removed what it made */
      int e = kist_error_errno(*err);
      bool hier_used = false;
      for (size_t k = 0; k < plan.n; k++)
        hier_used |= lay->where[plan.w[k].ctrl] == (int)i && plan.w[k].ctrl != KIST_CG_DEVICES;
      if (rootless(ctx) && (e == EACCES || e == EPERM || e == EROFS)) {
        if (hier_used) {
          /* Limits asked for and no cgroup to put them in: refuse. */
          if (h->v2 && path[0] != '/' && own_is_delegated(h, err) < 0)
            ret = -1;
          else
            ret = kist_rootless_cgroup_denied(h->name[0] ? h->name : "cgroup v2", err);
          break;
        }
        /* Rootless without limits for this hierarchy: run without it. */
        kist_debug("cgroup: rootless, skipping %s: %s", h->name, kist_error_message(*err));
        if (skipped == NULL)
          skipped = xstrdup(kist_error_message(*err));
        kist_error_release(err);
        cg->n--;
        free(steal_pointer(&d->rel));
        continue;
      }
      ret = -1;
      break;
    }
    if (deflt && d->created == 0 && default_cgroup_busy(d, err)) {
      ret = -1;
      break;
    }
    dir_of[i] = (int)(cg->n - 1);
    kist_test_point("cgroup:mkdir");
  }
  for (size_t k = cg->n; k < planned; k++) /* planned, never taken over */
    free(steal_pointer(&cg->d[k].rel));

  if (ret == 0) {
    const struct kist_cg_dir *v2 = kist_cg_find_v2(cg);
    /* Pure v2: every available controller, so later updates and stats work;
     * hybrid: only what the config writes there. */
    uint32_t want = v2 && cg->mode == KIST_CGROUP_V2 ? v2->ctrls : 0;
    if (v2 && (want | plan.v2_ctrls) && kist_cg_v2_enable(v2, want, plan.v2_ctrls, err) < 0)
      ret = -1;
  }
  if (ret == 0)
    ret = apply_plan(cg, dir_of, &plan, err);
  if (ret == 0)
    ret = device_filter(ctx, cg, cfg ? cfg->linux : NULL, plan.devices_bpf, err);
  if (ret == 0 && ctx && ctx->systemd_cgroup)
    ret = systemd_prepare(id, cfg, sd_user, cg, &plan, err);
  kist_resources_plan_free(&plan);

  if (ret < 0) {
    kist_error_t ign = NULL;
    /* The unit is only started at enter: nothing to stop in systemd yet. */
    free(steal_pointer(&cg->unit));
    if (kist_cgroup_destroy(cg, &ign) < 0) {
      kist_debug("cgroup: cleanup after a failed create: %s", kist_error_message(ign));
      kist_error_release(&ign);
    }
    kist_cgroup_free(cg);
    return -1;
  }
  cg->owned = cg->n > 0;
  for (size_t i = 0; i < cg->n; i++)
    if (cg->d[i].created == 0)
      cg->owned = false;
  const struct kist_cg_dir *m = main_dir(cg);
  free(cg->path);
  cg->path = xstrdup(m ? m->rel : path);
  if (cg->n == 0 && skipped)
    kist_rootless_warn_no_cgroup(ctx ? ctx->root : NULL, id, skipped);
  else if (!cg->owned)
    kist_debug("cgroup: %s existed: joined (never signalled or removed by kist)", cg->path);
  *out = cg;
  return 0;
}

int kist_cgroup_v2_fd(const struct kist_cgroup *cg)
{
  /* A systemd unit is started with the init's pid: enter must run. */
  if (cg == NULL || cg->mode != KIST_CGROUP_V2 || cg->sd)
    return -1;
  const struct kist_cg_dir *d = kist_cg_find_v2(cg);
  return d ? d->fd : -1;
}

/* Which of cg's dirs holds each hierarchy of the layout (-1: none). */
static void map_dirs(const struct kist_cgroup *cg, int *dir_of)
{
  const struct kist_cg_layout *lay = kist_cg_layout();
  for (size_t i = 0; i < lay->n; i++) {
    dir_of[i] = -1;
    for (size_t j = 0; j < cg->n; j++)
      if (cg->d[j].v2 == lay->h[i].v2 && strcmp(cg->d[j].hier, lay->h[i].name) == 0)
        dir_of[i] = (int)j;
  }
}

/* A process that is not root may move a process into a v2 cgroup only when
 * it may write cgroup.procs of the destination and of the closest common
 * ancestor of the source and the destination. The source is kist's own
 * cgroup: when that is outside the delegated subtree, say so (nothing kist
 * could do instead: clone into the cgroup is held to the same rule). */
static int explain_move(const struct kist_cg_dir *d, kist_error_t *err)
{
  int e = kist_error_errno(*err);
  if ((e != EACCES && e != EPERM) || kist_privileged())
    return -1;
  const struct kist_cg_layout *lay = kist_cg_layout();
  int h = lay->where[KIST_CG_CORE];
  cleanup_free char *own = NULL;
  kist_error_t ign = NULL;
  if (h < 0 || own_cgroup(&lay->h[h], &own, &ign) < 0) {
    kist_error_release(&ign);
    return -1;
  }
  /* The longest common prefix that ends at a component boundary. */
  size_t n = 0;
  for (size_t i = 0; own[i] && own[i] == d->rel[i]; i++)
    if ((own[i + 1] == '/' || own[i + 1] == '\0') &&
        (d->rel[i + 1] == '/' || d->rel[i + 1] == '\0'))
      n = i + 1;
  cleanup_free char *common = n > 1 ? xstrndup(own, n) : xstrdup("/");
  cleanup_free char *top =
    d->hier[0] ? xasprintf("%s/%s", KIST_CG_ROOT, d->hier) : xstrdup(KIST_CG_ROOT);
  cleanup_free char *cause = xstrdup(kist_error_message(*err));
  kist_error_release(err);
  /* cause already names strerror(e). */
  return kist_fail_take(
    err, e,
    xasprintf("cannot move the container's init into cgroup %s (%s): cgroup v2 lets uid %u "
              "move a process only when it may also write cgroup.procs of the common "
              "ancestor of kist's own cgroup (%s) and the target, here %s%s%s; run kist "
              "from a cgroup inside the subtree delegated to you",
              d->rel, cause, (unsigned)geteuid(), own, top, strcmp(common, "/") ? common : "",
              strcmp(common, "/") ? "" : " (the root)"));
}

int kist_cgroup_enter(const struct kist_cgroup *cg, pid_t pid, kist_error_t *err)
{
  char buf[24];
  kist_snprintf(buf, sizeof buf, "%d", (int)pid);
  if (cg->sd && kist_cg_systemd_start(cg->sd, pid, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n; i++) {
    cleanup_close int owned = -1;
    int fd = kist_cg_dir_fd(&cg->d[i], &owned, err);
    if (fd < 0)
      return -1;
    cleanup_free char *dp = kist_cg_dir_path(&cg->d[i]);
    if (kist_cg_write(fd, dp, "cgroup.procs", buf, err) < 0)
      return cg->d[i].v2 ? explain_move(&cg->d[i], err) : -1;
  }
  if (cg->sd && cg->plan) {
    /* systemd wrote its own defaults when it took the cgroup over: the
     * config's values again, on top. */
    int dir_of[KIST_CG_MAX_HIER];
    map_dirs(cg, dir_of);
    if (apply_plan(cg, dir_of, cg->plan, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- update ---- */

/* One file an update writes, and what it held before. */
struct undo_file {
  size_t dir; /* index in cg->d */
  char *file; /* the one that exists (file or alt_file) */
  char *old;
  char *value; /* what the update writes */
};

struct kist_cgroup_undo {
  struct kist_cgroup *cg;
  struct undo_file *f;
  size_t n;
};

/* "MAJ:MIN " or "name " leading a keyed value (io.max, ifpriomap, rdma.max). */
static size_t key_len(const char *file, const char *value)
{
  bool keyed = str_has_prefix(file, "blkio.") || str_has_prefix(file, "io.") ||
               strcmp(file, "net_prio.ifpriomap") == 0 || strcmp(file, "rdma.max") == 0;
  const char *sp = strchr(value, ' ');
  if (!keyed || sp == NULL)
    return 0;
  if (strcmp(file, "net_prio.ifpriomap") == 0 || strcmp(file, "rdma.max") == 0)
    return (size_t)(sp - value) + 1;
  unsigned a, b;
  int n = 0;
  if (sscanf(value, "%u:%u %n", &a, &b, &n) == 2 && n > 0)
    return (size_t)(sp - value) + 1;
  return 0;
}

/* The value that puts back what old held, for the file written with value.
 * Most files read back as they are written; keyed files list every key, so
 * only the key written is restored (or reset when it was not there). */
static char *restore_value(const char *file, const char *old, const char *value)
{
  if (strcmp(file, "memory.oom_control") == 0) {
    const char *k = strstr(old, "oom_kill_disable ");
    return xstrdup(k && k[17] == '1' ? "1" : "0");
  }
  size_t kl = key_len(file, value);
  if (kl > 0) {
    for (const char *l = old; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
      if (strncmp(l, value, kl) == 0)
        return xstrndup(l, strcspn(l, "\n"));
    cleanup_free char *key = xstrndup(value, kl); /* with the trailing space */
    if (strcmp(file, "io.max") == 0)
      return xasprintf("%srbps=max wbps=max riops=max wiops=max", key);
    if (strcmp(file, "rdma.max") == 0)
      return xasprintf("%shca_handle=max hca_object=max", key);
    if (str_has_prefix(file, "io."))
      return xasprintf("%sdefault", key);
    return xasprintf("%s0", key); /* blkio.*_device, ifpriomap: 0 removes */
  }
  /* io.weight and BFQ weights read "default N" first. */
  if (str_has_prefix(old, "default "))
    return xstrndup(old, strcspn(old, "\n"));
  return xstrdup(old[0] ? old : "\n"); /* an empty cpuset: "\n" clears it */
}

static int undo_write(const struct kist_cgroup *cg, const struct undo_file *u, kist_error_t *err)
{
  const struct kist_cg_dir *d = &cg->d[u->dir];
  cleanup_free char *dp = kist_cg_dir_path(d);
  cleanup_free char *v = restore_value(u->file, u->old, u->value);
  return kist_cg_write(d->fd, dp, u->file, v, err);
}

void kist_cgroup_undo_finish(struct kist_cgroup_undo *u, bool restore)
{
  if (u == NULL)
    return;
  if (restore) {
    /* Newest first; v1 memory and memsw limits constrain each other, so
     * what failed gets a second round. */
    bool *failed = xcalloc(u->n ? u->n : 1, sizeof *failed);
    for (int round = 0; round < 2; round++)
      for (size_t i = u->n; i-- > 0;) {
        if (round == 1 && !failed[i])
          continue;
        kist_error_t e = NULL;
        failed[i] = undo_write(u->cg, &u->f[i], &e) < 0;
        if (failed[i] && round == 1)
          kist_warn("update: could not restore %s", kist_error_message(e));
        kist_error_release(&e);
      }
    free(failed);
  }
  for (size_t i = 0; i < u->n; i++) {
    free(u->f[i].file);
    free(u->f[i].old);
    free(u->f[i].value);
  }
  free(u->f);
  free(u);
}

/* v2 memory.checkBeforeUpdate: a limit below the usage would make the
 * kernel reclaim and then OOM-kill; refuse it instead. */
static int check_memory_usage(const struct kist_cgroup *cg, const oci_config_linux_resources *r,
                              const struct kist_cg_plan *p, kist_error_t *err)
{
  const struct kist_cg_layout *lay = kist_cg_layout();
  int h = lay->where[KIST_CG_MEMORY];
  if (r->memory == NULL || !r->memory->check_before_update || h < 0 || !lay->h[h].v2)
    return 0;
  for (size_t i = 0; i < p->n; i++) {
    if (strcmp(p->w[i].file, "memory.max") != 0 || strcmp(p->w[i].value, "max") == 0)
      continue;
    const struct kist_cg_dir *d = kist_cg_find(cg, KIST_CG_MEMORY);
    cleanup_free char *dp = d ? kist_cg_dir_path(d) : NULL, *cur = NULL;
    if (d == NULL || kist_cg_read(d->fd, dp, "memory.current", &cur, err) < 0)
      return d ? -1 : 0;
    if (strtoull(p->w[i].value, NULL, 10) < strtoull(cur, NULL, 10))
      return kist_fail(err, EBUSY,
                       "%s: %s is below the memory in use (%s bytes; memory.checkBeforeUpdate)",
                       p->w[i].field, p->w[i].value, cur);
  }
  return 0;
}

int kist_cgroup_update(struct kist_cgroup *cg, const oci_config_linux *lin,
                       struct kist_cgroup_undo **undo, kist_error_t *err)
{
  if (undo)
    *undo = NULL;
  if (lin == NULL || lin->resources == NULL)
    return 0;
  /* Devices are not updated (as runc): the rules stay as created. */
  oci_config_linux_resources res = *lin->resources;
  res.devices = NULL;
  res.devices_len = 0;
  oci_config_linux l = *lin;
  l.resources = &res;
  const struct kist_cg_layout *lay = kist_cg_layout();
  struct kist_cg_plan plan;
  if (kist_resources_plan(lay, &l, true, &plan, err) < 0)
    return -1;
  struct kist_cgroup_undo *u = xzalloc(sizeof *u);
  u->cg = cg;
  u->f = xcalloc(plan.n ? plan.n : 1, sizeof *u->f);
  int dir_of[KIST_CG_MAX_HIER];
  map_dirs(cg, dir_of);
  int ret = 0;
  for (size_t i = 0; i < cg->n && ret == 0; i++)
    if (cg->d[i].fd < 0 && (cg->d[i].fd = kist_cg_dir_open(&cg->d[i], err)) < 0)
      ret = -1;
  if (ret == 0)
    ret = check_memory_usage(cg, &res, &plan, err);
  const struct kist_cg_dir *v2 = kist_cg_find_v2(cg);
  if (ret == 0 && v2 && plan.v2_ctrls)
    ret = kist_cg_v2_enable(v2, 0, plan.v2_ctrls, err);
  /* Read every file first: a failure half way must be undone. */
  for (size_t i = 0; i < plan.n && ret == 0; i++) {
    const struct kist_cg_write *w = &plan.w[i];
    int h = lay->where[w->ctrl];
    if (h < 0 || dir_of[h] < 0) {
      ret = kist_fail(err, 0, "%s: the container has no cgroup for the %s controller", w->field,
                      kist_cg_ctrl_v1_name(w->ctrl));
      break;
    }
    const struct kist_cg_dir *d = &cg->d[dir_of[h]];
    const char *file = w->file;
    if (faccessat(d->fd, file, F_OK, 0) < 0 && w->alt_file)
      file = w->alt_file;
    if (faccessat(d->fd, file, F_OK, 0) < 0)
      continue; /* apply_write reports it (or skips an optional one) */
    cleanup_free char *dp = kist_cg_dir_path(d);
    char *old = NULL;
    if (kist_cg_read(d->fd, dp, file, &old, err) < 0) {
      ret = -1;
      break;
    }
    u->f[u->n++] = (struct undo_file){.dir = (size_t)dir_of[h],
                                      .file = xstrdup(file),
                                      .old = old,
                                      .value = xstrdup(file == w->file ? w->value
                                                       : w->alt_value  ? w->alt_value
                                                                       : w->value)};
  }
  if (ret == 0)
    ret = apply_plan(cg, dir_of, &plan, err);
  if (ret == 0 && cg->unit) {
    /* Tell systemd too, or its next reload writes the old values back. */
    struct kist_sd_unit *sd = xzalloc(sizeof *sd);
    oci_config c = {.linux = &l};
    ret = kist_cg_systemd_props(&c, cg->mode == KIST_CGROUP_V2, sd, err);
    if (ret == 0 && sd->nprops > 0)
      ret = kist_cg_systemd_set(cg->unit, cg->sd_user, sd->props, sd->nprops, err);
    kist_cg_systemd_unit_free(sd);
  }
  kist_resources_plan_free(&plan);
  if (ret < 0 || undo == NULL) {
    kist_cgroup_undo_finish(u, ret < 0);
    return ret;
  }
  *undo = u;
  return 0;
}

/* ---- state ---- */

static const char *mode_name(enum kist_cgroup_mode m)
{
  return m == KIST_CGROUP_V2 ? "v2" : m == KIST_CGROUP_HYBRID ? "hybrid" : "v1";
}

int kist_cgroup_save(const struct kist_cgroup *cg, int state_dirfd, kist_error_t *err)
{
  struct kist_strbuf b = {0};
  kist_appendf(&b, "kist-cgroup 1\nmode %s\nowned %d\npath %s\n", mode_name(cg->mode), cg->owned,
               cg->path);
  if (cg->unit)
    kist_appendf(&b, "systemd %s\n%s", cg->unit, cg->sd_user ? "systemd-bus user\n" : "");
  for (size_t i = 0; i < cg->n; i++)
    kist_appendf(&b, "dir %d %d %" PRIu32 " %s %s\n", cg->d[i].created, cg->d[i].v2, cg->d[i].ctrls,
                 cg->d[i].hier[0] ? cg->d[i].hier : "-", cg->d[i].rel);
  int r = write_file_atomic_at(state_dirfd, "cgroup", b.s, b.len, 0600, err);
  free(b.s);
  return r;
}

static int parse_state(char *s, struct kist_cgroup *cg)
{
  char *save = NULL;
  char *l = strtok_r(s, "\n", &save);
  if (l == NULL || strcmp(l, "kist-cgroup 1") != 0)
    return -1;
  while ((l = strtok_r(NULL, "\n", &save)) != NULL) {
    if (str_has_prefix(l, "mode ")) {
      cg->mode = strcmp(l + 5, "v2") == 0       ? KIST_CGROUP_V2
                 : strcmp(l + 5, "hybrid") == 0 ? KIST_CGROUP_HYBRID
                                                : KIST_CGROUP_V1;
    } else if (str_has_prefix(l, "owned ")) {
      cg->owned = strcmp(l + 6, "1") == 0;
    } else if (str_has_prefix(l, "path ")) {
      free(cg->path);
      cg->path = xstrdup(l + 5);
    } else if (strcmp(l, "systemd-bus user") == 0) {
      cg->sd_user = true;
    } else if (str_has_prefix(l, "systemd ")) {
      free(cg->unit);
      cg->unit = xstrdup(l + 8);
    } else if (str_has_prefix(l, "dir ")) {
      if (cg->n >= KIST_CG_MAX_HIER)
        return -1;
      struct kist_cg_dir *d = &cg->d[cg->n];
      /* "dir CREATED V2 CTRLS HIER REL", parsed by hand: list reads one
       * such file per container. */
      char *p = l + 4, *end;
      long v[3];
      for (int k = 0; k < 3; k++) {
        errno = 0;
        v[k] = strtol(p, &end, 10);
        if (end == p || *end != ' ' || errno != 0 || v[k] < (k == 0 ? INT_MIN : 0) ||
            v[k] > (k == 2 ? (long)UINT_MAX : INT_MAX))
          return -1;
        p = end + 1;
      }
      char *hier = p;
      p = strchr(p, ' ');
      if (p == NULL || p == hier || (size_t)(p - hier) >= sizeof d->hier || p[1] != '/')
        return -1;
      *p++ = '\0';
      *d = (struct kist_cg_dir){
        .created = (int)v[0], .v2 = (int)v[1], .ctrls = (unsigned)v[2], .fd = -1};
      kist_snprintf(d->hier, sizeof d->hier, "%s", strcmp(hier, "-") == 0 ? "" : hier);
      if (strstr(d->hier, "..") || strchr(d->hier, '/'))
        return -1;
      d->rel = xstrdup(p);
      cg->n++;
    }
  }
  return cg->path ? 0 : -1;
}

int kist_cgroup_parse(char *text, struct kist_cgroup **out, kist_error_t *err)
{
  struct kist_cgroup *cg = xzalloc(sizeof *cg);
  if (parse_state(text, cg) < 0) {
    kist_cgroup_free(cg);
    return kist_fail(err, 0, "cgroup state file is corrupt");
  }
  *out = cg;
  return 0;
}

int kist_cgroup_load(const struct kist_context *ctx, int state_dirfd, struct kist_cgroup **out,
                     kist_error_t *err)
{
  (void)ctx;
  *out = NULL;
  cleanup_free char *s = NULL;
  cleanup_close int fd = openat(state_dirfd, "cgroup", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : kist_fail(err, errno, "open cgroup state");
  if (read_all_fd(fd, "cgroup state", &s, NULL, err) < 0)
    return -1;
  return kist_cgroup_parse(s, out, err);
}

bool kist_cgroup_none(const struct kist_cgroup *cg)
{
  return cg == NULL || (cg->n == 0 && cg->unit == NULL);
}

bool kist_cgroup_owned(const struct kist_cgroup *cg)
{
  return cg && cg->owned;
}

const char *kist_cgroup_path(const struct kist_cgroup *cg)
{
  return cg->path;
}

/* ---- processes ---- */

int kist_cgroup_pids(const struct kist_cgroup *cg, pid_t **pids, size_t *n, kist_error_t *err)
{
  *pids = NULL;
  *n = 0;
  const struct kist_cg_dir *d = main_dir(cg);
  if (d == NULL)
    return 0;
  cleanup_free char *dp = kist_cg_dir_path(d);
  return kist_cg_read_pids(dp, true, pids, n, err);
}

bool kist_cgroup_is_empty(const struct kist_cgroup *cg)
{
  const struct kist_cg_dir *d = main_dir(cg);
  if (d == NULL)
    return true;
  if (d->v2)
    return kist_cg_v2_is_empty(d);
  pid_t *pids = NULL;
  size_t n = 0;
  kist_error_t err = NULL;
  cleanup_free char *dp = kist_cg_dir_path(d);
  if (kist_cg_read_pids(dp, true, &pids, &n, &err) < 0) {
    bool gone = kist_error_errno(err) == ENOENT;
    kist_error_release(&err);
    return gone;
  }
  free(pids);
  return n == 0;
}

int kist_cgroup_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err)
{
  /* Safety: only a cgroup kist made, in every hierarchy, and never a root. */
  if (!cg->owned || cg->n == 0)
    return kist_fail(err, EPERM,
                     "cgroup %s was not created by kist (joined): refusing to signal its processes",
                     cg->path);
  for (size_t i = 0; i < cg->n; i++)
    if (cg->d[i].created <= 0 || strcmp(cg->d[i].rel, "/") == 0 || cg->d[i].rel[0] != '/')
      return kist_fail(err, EPERM, "cgroup %s: refusing to signal a cgroup kist did not create",
                       cg->d[i].rel);
  if (cg->mode == KIST_CGROUP_V2)
    return kist_cg_v2_kill(cg, sig, err);
  return kist_cg_v1_kill(cg, sig, err);
}

/* ---- freezer ---- */

int kist_cgroup_freeze(const struct kist_cgroup *cg, kist_error_t *err)
{
  const struct kist_cg_dir *f = kist_cg_find(cg, KIST_CG_FREEZER);
  if (f && !f->v2)
    return kist_cg_v1_set_frozen(f, true, err);
  if ((f = kist_cg_find_v2(cg)) != NULL)
    return kist_cg_v2_set_frozen(f, true, err);
  return kist_fail(err, ENOTSUP, "cgroup %s: no freezer (no v1 freezer hierarchy, no cgroup v2)",
                   cg->path);
}

int kist_cgroup_thaw(const struct kist_cgroup *cg, kist_error_t *err)
{
  const struct kist_cg_dir *f = kist_cg_find(cg, KIST_CG_FREEZER);
  if (f && !f->v2)
    return kist_cg_v1_set_frozen(f, false, err);
  if ((f = kist_cg_find_v2(cg)) != NULL)
    return kist_cg_v2_set_frozen(f, false, err);
  return kist_fail(err, ENOTSUP, "cgroup %s: no freezer (no v1 freezer hierarchy, no cgroup v2)",
                   cg->path);
}

bool kist_cgroup_is_frozen(const struct kist_cgroup *cg)
{
  const struct kist_cg_dir *f = kist_cg_find(cg, KIST_CG_FREEZER);
  if (f && !f->v2)
    return kist_cg_v1_is_frozen(f);
  if ((f = kist_cg_find_v2(cg)) != NULL)
    return kist_cg_v2_is_frozen(f);
  return false;
}

bool kist_cg_oom_kill_count(const struct kist_cg_dir *d, int dirfd, uint64_t *count)
{
  *count = 0;
  cleanup_free char *path = kist_cg_dir_path(d);
  cleanup_free char *text = NULL;
  kist_error_t e = NULL;
  if (dirfd < 0 ||
      kist_cg_read(dirfd, path, d->v2 ? "memory.events" : "memory.oom_control", &text, &e) < 0) {
    kist_error_release(&e);
    return false;
  }
  const char *k = str_has_prefix(text, "oom_kill ") ? text : strstr(text, "\noom_kill ");
  if (k == NULL)
    return false;
  *count = strtoull(strchr(k + 1, ' ') + 1, NULL, 10);
  return true;
}

uint64_t kist_cgroup_oom_kills(const struct kist_cgroup *cg)
{
  const struct kist_cg_dir *d = cg ? kist_cg_find(cg, KIST_CG_MEMORY) : NULL;
  if (d == NULL)
    return 0;
  cleanup_close int owned = -1;
  int fd = kist_cg_dir_fd(d, &owned, NULL);
  uint64_t n;
  kist_cg_oom_kill_count(d, fd, &n);
  return n;
}

/* ---- destroy ---- */

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* rmdir of a container cgroup and the sub-cgroups its processes made,
 * deepest first; EBUSY (processes still exiting) is retried until deadline.
 * Only directories are removed: cgroupfs has no other entries to delete. */
static int rmdir_tree(const char *path, long deadline, int depth, kist_error_t *err)
{
  /* Mostly a leaf that is already empty: one rmdir, no listing. */
  if (rmdir(path) == 0 || errno == ENOENT)
    return 0;
  if (errno != EBUSY && errno != ENOTEMPTY)
    return kist_fail(err, errno, "rmdir %s", path);
  DIR *d = opendir(path);
  if (d == NULL)
    return errno == ENOENT ? 0 : kist_fail(err, errno, "open %s", path);
  struct dirent *de;
  int ret = 0;
  while (depth < 32 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", path, de->d_name);
    if (rmdir_tree(sub, deadline, depth + 1, err) < 0)
      ret = -1;
  }
  closedir(d);
  if (ret < 0)
    return -1;
  for (;;) {
    if (rmdir(path) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY || now_ms() > deadline)
      return kist_fail(err, errno, "rmdir %s", path);
    kist_cg_sleep_ms(10);
  }
}

int kist_cgroup_destroy(const struct kist_cgroup *cg, kist_error_t *err)
{
  long deadline = now_ms() + 3000;
  int ret = 0;
  if (cg->unit) {
    /* systemd removes the dirs it owns; the loop below takes what is left. */
    kist_error_t e = NULL;
    if (kist_cg_systemd_stop(cg->unit, cg->sd_user, &e) < 0) {
      kist_warn("%s", kist_error_message(e));
      kist_error_release(&e);
    }
  }
  for (size_t i = 0; i < cg->n; i++) {
    const struct kist_cg_dir *d = &cg->d[i];
    if (d->created <= 0 || strcmp(d->rel, "/") == 0)
      continue; /* joined: not ours */
    cleanup_free char *p = kist_cg_dir_path(d);
    if (rmdir_tree(p, deadline, 0, err) < 0) {
      ret = -1;
      continue;
    }
    /* Parents kist made: only when empty (another container may use them). */
    for (int k = 1; k < d->created; k++) {
      char *slash = strrchr(p, '/');
      if (slash == NULL)
        break;
      *slash = '\0';
      if (rmdir(p) < 0) {
        if (errno != EBUSY && errno != ENOTEMPTY && errno != ENOENT)
          kist_debug("cgroup: rmdir %s: %s", p, strerror(errno));
        break;
      }
    }
  }
  return ret;
}

void kist_cgroup_free(struct kist_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n; i++) {
    free(cg->d[i].rel);
    if (cg->d[i].fd >= 0)
      close(cg->d[i].fd);
  }
  free(cg->path);
  free(cg->unit);
  if (cg->sd)
    kist_cg_systemd_unit_free(cg->sd);
  if (cg->plan) {
    kist_resources_plan_free(cg->plan);
    free(cg->plan);
  }
  free(cg);
}
