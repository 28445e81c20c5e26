/* cgroup v1: one hierarchy per controller (or comounted set). What differs
 * from v2 beyond file names: cpuset dirs start empty, the freezer is its
 * own controller, and there is no cgroup.kill.
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

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The cpuset value of dir fd, filled in from its ancestors when empty: a
 * concurrent create may have made a shared parent ("/a" of "/a/b") and not yet
 * copied its cpus/mems. The hierarchy root is never empty. */
static char *cpuset_value(int fd, const char *path, const char *file, int depth, kist_error_t *err)
{
  char *val = NULL;
  if (kist_cg_read(fd, path, file, &val, err) < 0)
    return NULL;
  if (val[0] != '\0' || depth > 64)
    return val;
  free(val);
  cleanup_close int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (up < 0) {
    kist_fail(err, errno, "open %s/..", path);
    return NULL;
  }
  cleanup_free char *upath = xasprintf("%s/..", path);
  val = cpuset_value(up, upath, file, depth + 1, err);
  if (val && kist_cg_write(fd, path, file, val, err) < 0) {
    free(val);
    return NULL;
  }
  return val;
}

static int copy_from_parent(int parentfd, int fd, const char *path, const char *file, bool fresh,
                            kist_error_t *err)
{
  if (!fresh) {
    cleanup_free char *cur = NULL;
    if (kist_cg_read(fd, path, file, &cur, err) < 0)
      return -1;
    if (cur[0] != '\0')
      return 0; /* a joined cpuset that is already usable */
  }
  cleanup_free char *ppath = xasprintf("%s/..", path);
  cleanup_free char *val = cpuset_value(parentfd, ppath, file, 0, err);
  if (val == NULL)
    return -1;
  return kist_cg_write(fd, path, file, val, err);
}

/* Whether the top cpuset of the hierarchy holding path balances load
 * (cpuset.sched_load_balance 1, the default): the kernel then makes one
 * scheduler domain of all CPUs whatever the flag of any other cpuset says. */
static bool top_balances(const char *path)
{
  static int cached = -1;
  if (cached >= 0)
    return cached;
  size_t n = strlen(KIST_CG_ROOT);
  if (strncmp(path, KIST_CG_ROOT "/", n + 1) != 0)
    return false;
  const char *hier = path + n + 1, *end = strchrnul(hier, '/');
  cleanup_free char *top = xasprintf("%s/%.*s", KIST_CG_ROOT, (int)(end - hier), hier);
  cleanup_close int tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *v = NULL;
  kist_error_t ign = NULL;
  if (tfd < 0 || kist_cg_read(tfd, top, "cpuset.sched_load_balance", &v, &ign) < 0) {
    kist_error_release(&ign);
    return false;
  }
  cached = strcmp(v, "1") == 0;
  return cached;
}

int kist_cg_v1_init_cpuset(int parentfd, int fd, const char *path, bool fresh, bool need_cpus,
                           bool need_mems, kist_error_t *err)
{
  /* On v1 every cpus write to a balancing cpuset rebuilds the scheduler
   * domains (a third of a millisecond here, twice per container, and again
   * in a kworker when the cpuset goes), though with a balancing top cpuset
   * a child's flag changes nothing: a dir we just made, still empty (no
   * rebuild yet), stops asking for it before it gets its CPUs. */
  if (fresh && top_balances(path)) {
    kist_error_t ign = NULL;
    if (kist_cg_write(fd, path, "cpuset.sched_load_balance", "0", &ign) < 0)
      kist_error_release(&ign);
  }
  if (need_cpus && copy_from_parent(parentfd, fd, path, "cpuset.cpus", fresh, err) < 0)
    return -1;
  if (need_mems && copy_from_parent(parentfd, fd, path, "cpuset.mems", fresh, err) < 0)
    return -1;
  return 0;
}

bool kist_cg_v1_is_frozen(const struct kist_cg_dir *f)
{
  /* One open and one read (list asks this of every running container). */
  cleanup_close int fd = -1;
  if (f->fd >= 0) {
    fd = openat(f->fd, "freezer.state", O_RDONLY | O_CLOEXEC);
  } else {
    cleanup_free char *dp = kist_cg_dir_path(f);
    cleanup_free char *path = xasprintf("%s/freezer.state", dp);
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  char st[16];
  ssize_t n = fd < 0 ? -1 : read_retry(fd, st, sizeof st - 1);
  if (n <= 0)
    return false;
  st[n] = '\0';
  return strncmp(st, "FROZEN", 6) == 0 && (st[6] == '\n' || st[6] == '\0');
}

int kist_cg_v1_set_frozen(const struct kist_cg_dir *f, bool frozen, kist_error_t *err)
{
  cleanup_close int fd = kist_cg_dir_open(f, err);
  if (fd < 0)
    return -1;
  cleanup_free char *dp = kist_cg_dir_path(f);
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (kist_cg_write(fd, dp, "freezer.state", want, err) < 0)
    return -1;
  /* FREEZING until every task has stopped: a task in uninterruptible sleep
   * can hold it there, so give up after a while and leave it running. */
  long deadline = now_ms() + 2000;
  for (int i = 0;; i++) {
    cleanup_free char *st = NULL;
    if (kist_cg_read(fd, dp, "freezer.state", &st, err) < 0)
      return -1;
    if (strcmp(st, want) == 0)
      return 0;
    if (now_ms() > deadline) {
      if (frozen) {
        kist_error_t ign = NULL;
        if (kist_cg_write(fd, dp, "freezer.state", "THAWED", &ign) < 0)
          kist_error_release(&ign);
      }
      return kist_fail(err, EBUSY, "%s/freezer.state: still %s after 2s", dp, st);
    }
    kist_cg_sleep_ms(i < 10 ? 1 : 10);
  }
}

int kist_cg_v1_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err)
{
  bool can_freeze = kist_cg_find(cg, KIST_CG_FREEZER) != NULL || kist_cg_find_v2(cg) != NULL;
  bool was_frozen = can_freeze && kist_cgroup_is_frozen(cg);
  pid_t self = getpid();
  long deadline = now_ms() + 10000;
  for (;;) {
    bool froze = false;
    if (can_freeze && !was_frozen) {
      /* Frozen, the set cannot change under us (a fork bomb cannot outrun
       * the loop); if freezing fails, signal anyway. */
      kist_error_t ign = NULL;
      if (kist_cgroup_freeze(cg, &ign) == 0)
        froze = true;
      else {
        kist_debug("cgroup: kill without freezing: %s", kist_error_message(ign));
        kist_error_release(&ign);
      }
    }
    pid_t *pids = NULL;
    size_t n = 0;
    int ret = kist_cgroup_pids(cg, &pids, &n, err);
    for (size_t i = 0; ret == 0 && i < n; i++) {
      if (pids[i] <= 1 || pids[i] == self)
        continue;
      if (kill(pids[i], sig) < 0 && errno != ESRCH)
        ret = kist_fail(err, errno, "kill %d (cgroup %s)", (int)pids[i], cg->path);
    }
    free(pids);
    /* Killed tasks only die once thawed; other signals leave a paused
     * container paused. */
    if (froze || (was_frozen && sig == SIGKILL)) {
      kist_error_t ign = NULL;
      if (kist_cgroup_thaw(cg, &ign) < 0) {
        if (ret == 0)
          ret = kist_fail_take(err, kist_error_errno(ign), xstrdup(kist_error_message(ign)));
        kist_error_release(&ign);
      }
    }
    if (ret < 0) {
      if (kist_error_errno(*err) == ENOENT) {
        kist_error_release(err); /* the cgroup is gone: nothing left to signal */
        return 0;
      }
      return -1;
    }
    if (sig != SIGKILL || n == 0)
      return 0;
    for (int i = 0; i < 20; i++) {
      if (kist_cgroup_is_empty(cg))
        return 0;
      kist_cg_sleep_ms(i < 10 ? 2 : 10);
    }
    if (now_ms() > deadline)
      return kist_fail(err, EBUSY, "cgroup %s: processes still running after SIGKILL", cg->path);
    was_frozen = false;
  }
}
