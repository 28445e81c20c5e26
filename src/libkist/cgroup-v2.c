/* cgroup v2 (pure, or the "unified" tree of a hybrid host): controllers are
 * switched on per subtree, the freezer and kill are core files.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

static uint32_t parse_ctrls(const char *s)
{
  uint32_t m = 0;
  cleanup_free char *c = xstrdup(s);
  char *save = NULL;
  for (char *t = strtok_r(c, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
    for (int i = 0; i < KIST_CG_NCTRL; i++) {
      const char *n = kist_cg_ctrl_v2_name((enum kist_cg_ctrl)i);
      if (n && strcmp(n, t) == 0)
        m |= KIST_CG_BIT(i);
    }
  return m;
}

static char *ctrl_list(uint32_t m)
{
  char *s = xstrdup("");
  for (int i = 0; i < KIST_CG_NCTRL; i++)
    if (m & KIST_CG_BIT(i)) {
      char *t =
        xasprintf("%s%s+%s", s, s[0] ? " " : "", kist_cg_ctrl_v2_name((enum kist_cg_ctrl)i));
      free(s);
      s = t;
    }
  return s;
}

static int enable_in(const char *dir, uint32_t want, uint32_t need, kist_error_t *err)
{
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "open %s", dir);
  cleanup_free char *avail_s = NULL, *on_s = NULL;
  if (kist_cg_read(fd, dir, "cgroup.controllers", &avail_s, err) < 0 ||
      kist_cg_read(fd, dir, "cgroup.subtree_control", &on_s, err) < 0)
    return -1;
  uint32_t avail = parse_ctrls(avail_s), on = parse_ctrls(on_s);
  if (need & ~avail) {
    cleanup_free char *l = ctrl_list(need & ~avail);
    return kist_fail(err, 0, "%s/cgroup.controllers does not offer %s", dir, l);
  }
  uint32_t missing = (want | need) & avail & ~on;
  if (missing == 0)
    return 0;
  cleanup_free char *all = ctrl_list(missing);
  kist_error_t first = NULL;
  if (kist_cg_write(fd, dir, "cgroup.subtree_control", all, &first) == 0)
    return 0;
  kist_error_release(&first);
  /* One at a time: a wanted one may be refused (e.g. cpu with RT tasks). */
  for (int i = 0; i < KIST_CG_NCTRL; i++) {
    if (!(missing & KIST_CG_BIT(i)))
      continue;
    cleanup_free char *one = ctrl_list(KIST_CG_BIT(i));
    kist_error_t e = NULL;
    if (kist_cg_write(fd, dir, "cgroup.subtree_control", one, &e) == 0)
      continue;
    if (need & KIST_CG_BIT(i)) {
      int en = kist_error_errno(e);
      /* e's message already ends with strerror(en): keep en, add no second one. */
      kist_fail_take(err, en,
                     xasprintf("%s%s", kist_error_message(e),
                               en == EBUSY ? " (the cgroup has processes of its own)" : ""));
      kist_error_release(&e);
      return -1;
    }
    kist_debug("cgroup: %s", kist_error_message(e));
    kist_error_release(&e);
  }
  return 0;
}

int kist_cg_v2_enable(const struct kist_cg_dir *d, uint32_t want, uint32_t need, kist_error_t *err)
{
  cleanup_free char *dir =
    d->hier[0] ? xasprintf("%s/%s", KIST_CG_ROOT, d->hier) : xstrdup(KIST_CG_ROOT);
  cleanup_free char *rel = xstrdup(d->rel);
  char *save = NULL;
  /* Every ancestor of the leaf, the hierarchy root first; not the leaf. */
  for (char *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (enable_in(dir, want, need, err) < 0)
      return -1;
    char *t = xasprintf("%s/%s", dir, c);
    free(dir);
    dir = t;
  }
  return 0;
}

/* The value of key in cgroup.events ("populated", "frozen"), -1 on error. */
static int events_get(const struct kist_cg_dir *d, const char *key)
{
  kist_error_t err = NULL;
  cleanup_close int fd = kist_cg_dir_open(d, &err);
  if (fd < 0) {
    int e = kist_error_errno(err);
    kist_error_release(&err);
    return e == ENOENT ? -2 : -1;
  }
  cleanup_free char *dp = kist_cg_dir_path(d);
  cleanup_free char *s = NULL;
  if (kist_cg_read(fd, dp, "cgroup.events", &s, &err) < 0) {
    kist_error_release(&err);
    return -1;
  }
  size_t kl = strlen(key);
  for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
      return atoi(l + kl + 1);
  return -1;
}

bool kist_cg_v2_is_frozen(const struct kist_cg_dir *d)
{
  return events_get(d, "frozen") == 1;
}

bool kist_cg_v2_is_empty(const struct kist_cg_dir *d)
{
  int p = events_get(d, "populated");
  return p == 0 || p == -2;
}

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int kist_cg_v2_set_frozen(const struct kist_cg_dir *d, bool frozen, kist_error_t *err)
{
  cleanup_close int fd = kist_cg_dir_open(d, err);
  if (fd < 0)
    return -1;
  cleanup_free char *dp = kist_cg_dir_path(d);
  if (kist_cg_write(fd, dp, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  long deadline = now_ms() + 2000;
  for (int i = 0;; i++) {
    int f = events_get(d, "frozen");
    if (f == (frozen ? 1 : 0))
      return 0;
    if (now_ms() > deadline) {
      if (frozen) {
        kist_error_t ign = NULL;
        if (kist_cg_write(fd, dp, "cgroup.freeze", "0", &ign) < 0)
          kist_error_release(&ign);
      }
      return kist_fail(err, EBUSY, "%s/cgroup.events: not %s after 2s", dp,
                       frozen ? "frozen" : "thawed");
    }
    kist_cg_sleep_ms(i < 10 ? 1 : 10);
  }
}

int kist_cg_v2_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err)
{
  const struct kist_cg_dir *d = kist_cg_find_v2(cg);
  if (d == NULL)
    return kist_fail(err, ENOENT, "cgroup %s: no cgroup v2 directory", cg->path);
  if (sig == SIGKILL) {
    cleanup_close int fd = kist_cg_dir_open(d, err);
    if (fd < 0)
      return kist_error_errno(*err) == ENOENT ? (kist_error_release(err), 0) : -1;
    cleanup_close int kfd = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
    if (kfd >= 0) {
      if (write(kfd, "1", 1) < 0) {
        cleanup_free char *dp = kist_cg_dir_path(d);
        return kist_fail(err, errno, "write %s/cgroup.kill: 1", dp);
      }
      long deadline = now_ms() + 10000;
      for (int i = 0; !kist_cg_v2_is_empty(d); i++) {
        if (now_ms() > deadline)
          return kist_fail(err, EBUSY, "cgroup %s: processes still running after SIGKILL",
                           cg->path);
        kist_cg_sleep_ms(i < 10 ? 2 : 10);
      }
      return 0;
    }
    /* No cgroup.kill (kernel < 5.14): the signal loop below. */
  }
  return kist_cg_v1_kill(cg, sig, err);
}
