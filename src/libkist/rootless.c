/* What changes when an unprivileged user runs kist. A user namespace gives
 * the container root over what it owns (its mounts, its namespaces), never
 * over the host: the checks here refuse, before anything exists, what the
 * kernel would answer with a bare EPERM, and say what to change instead.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "rootless.h"
#include "userns.h"
#include "util.h"

/* The initial user namespace maps every id onto itself. */
static bool in_init_userns(void)
{
  static int cached = -1;
  if (cached < 0) {
    /* One read, no stdio stream: this is on every create's path. */
    char buf[128];
    cleanup_close int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read_retry(fd, buf, sizeof buf - 1);
    unsigned long v[3] = {1, 1, 0};
    if (n > 0) {
      buf[n] = '\0';
      const char *p = buf;
      for (int i = 0; i < 3; i++) {
        while (*p == ' ')
          p++;
        const char *end;
        v[i] = kist_decimal(p, &end);
        if (end == p)
          break;
        p = end;
      }
    }
    cached = fd < 0 || (v[0] == 0 && v[1] == 0 && v[2] == 4294967295UL);
  }
  return cached;
}

/* "uid 1000", or "root of a user namespace" (Podman rootless). */
static const char *who(void)
{
  static char buf[48];
  if (geteuid() == 0)
    return "root of a user namespace";
  kist_snprintf(buf, sizeof buf, "uid %u", (unsigned)geteuid());
  return buf;
}

bool kist_privileged(void)
{
  /* Root in a user namespace (Podman rootless calls kist there) may make
   * namespaces and write id maps, but not cgroups or device nodes. */
  return geteuid() == 0 && in_init_userns();
}

/* Appends " (HINT)" to the message of *err. */
static void add_hint(kist_error_t *err, const char *hint)
{
  if (err == NULL || *err == NULL)
    return;
  char *m = xasprintf("%s (%s)", (*err)->msg, hint);
  free((*err)->msg);
  (*err)->msg = m;
}

void kist_rootless_root_hint(const char *root, kist_error_t *err)
{
  if (kist_privileged() || err == NULL || *err == NULL)
    return;
  int e = (*err)->errnum;
  if (e != EACCES && e != EPERM && e != EROFS && e != ENOENT && e != ENOTDIR)
    return;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  cleanup_free char *hint = NULL;
  if (xdg == NULL || xdg[0] == '\0')
    hint = xasprintf("kist runs as %s and XDG_RUNTIME_DIR is not set, so the default %s is "
                     "root's: set XDG_RUNTIME_DIR (e.g. /run/user/%u) or pass --root DIR, a "
                     "directory you own",
                     who(), root, (unsigned)getuid());
  else
    hint = xasprintf("kist runs as %s: the state root must be writable by you; set "
                     "XDG_RUNTIME_DIR to a directory you own (the default is "
                     "$XDG_RUNTIME_DIR/kist) or pass --root DIR",
                     who());
  add_hint(err, hint);
}

/* Filesystems the kernel lets a user namespace mount (FS_USERNS_MOUNT). */
static bool userns_mountable(const char *type)
{
  static const char *const ok[] = {"proc",   "sysfs",   "tmpfs",       "ramfs",   "devpts",
                                   "mqueue", "cgroup2", "cgroup",      "overlay", "fuse",
                                   "none",   "bind",    "binfmt_misc", NULL};
  for (size_t i = 0; ok[i]; i++)
    if (strcmp(type, ok[i]) == 0)
      return true;
  return strncmp(type, "fuse.", 5) == 0;
}

static bool has_bind_option(const oci_mount *m)
{
  for (size_t i = 0; i < m->options_len; i++)
    if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
      return true;
  return false;
}

/* Without CAP_MKNOD on the host a device node is the host's, bound in: it
 * must exist there and be the device the config names. */
static int check_device(const oci_device *d, size_t i, kist_error_t *err)
{
  if (d->type && strcmp(d->type, "p") == 0)
    return 0; /* a fifo can be made in a user namespace */
  struct stat st;
  if (stat(d->path, &st) < 0)
    return kist_fail(err, 0,
                     "linux.devices[%d]: %s: without root kist cannot create device nodes "
                     "(mknod); it binds the host's %s, which does not exist here (%s): drop the "
                     "device or run kist as root",
                     (int)i, d->path, d->path, strerror(errno));
  bool chr = S_ISCHR(st.st_mode), blk = S_ISBLK(st.st_mode);
  bool want_blk = d->type && strcmp(d->type, "b") == 0;
  if ((!chr && !blk) || (want_blk != blk) ||
      (d->major_present && (int64_t)major(st.st_rdev) != d->major) ||
      (d->minor_present && (int64_t)minor(st.st_rdev) != d->minor))
    return kist_fail(err, 0,
                     "linux.devices[%d]: %s: without root kist cannot create device nodes "
                     "(mknod) and the host's %s is not the %s %lld:%lld the config asks for (it "
                     "is %s %u:%u): use the host's numbers or run kist as root",
                     (int)i, d->path, d->path, want_blk ? "block device" : "char device",
                     (long long)d->major, (long long)d->minor,
                     chr ? "char" : (blk ? "block" : "not a device"), major(st.st_rdev),
                     minor(st.st_rdev));
  return 0;
}

static int current_oom_score_adj(void)
{
  cleanup_fclose FILE *f = fopen("/proc/self/oom_score_adj", "re");
  int v = 0;
  if (f == NULL || fscanf(f, "%d", &v) != 1)
    return 0;
  return v;
}

int kist_rootless_check(const oci_config *cfg, const struct kist_ns_plan *plan, kist_error_t *err)
{
  if (kist_privileged())
    return 0;
  unsigned uid = (unsigned)geteuid();
  /* Root of a user namespace has CAP_SYS_ADMIN and CAP_SETUID there: it
   * needs neither a new user namespace nor newuidmap. */
  if (uid != 0 && !(plan->new_flags & CLONE_NEWUSER) && plan->join_fd[KIST_NS_USER] < 0)
    return kist_fail(err, 0,
                     "linux.namespaces: kist runs as uid %u (not root) and the config has no user "
                     "namespace: without one nothing can be isolated; add {\"type\": \"user\"} "
                     "with linux.uidMappings and gidMappings (kist spec --rootless writes such a "
                     "config)",
                     uid);
  if (kist_userns_check_maps(cfg, err) < 0)
    return -1;
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const oci_mount *m = cfg->mounts[i];
    if (m->type && strcmp(m->type, "proc") == 0 && !has_bind_option(m) &&
        !(plan->new_flags & CLONE_NEWPID) && plan->join_fd[KIST_NS_PID] < 0)
      return kist_fail(err, 0,
                       "mounts[%zu] (%s): proc can only be mounted by the owner of the pid "
                       "namespace, and without a pid namespace of its own the container has "
                       "root's: add {\"type\": \"pid\"} to linux.namespaces (kist runs as %s)",
                       i, m->destination, who());
    if (m->type == NULL || has_bind_option(m) || userns_mountable(m->type))
      continue;
    return kist_fail(err, 0,
                     "mounts[%zu]: a %s filesystem cannot be mounted without root (a user "
                     "namespace may mount proc, sysfs, tmpfs, devpts, mqueue, cgroup2, overlay, "
                     "fuse and binds): mount it on the host and bind-mount it (options "
                     "[\"rbind\"])",
                     i, m->type);
  }
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->devices_len; i++)
    if (check_device(l->devices[i], i, err) < 0)
      return -1;
  const oci_config_process *p = cfg->process;
  if (p && p->oom_score_adj_present) {
    int cur = current_oom_score_adj();
    if (p->oom_score_adj < cur)
      return kist_fail(err, 0,
                       "process.oomScoreAdj: %lld is below kist's own %d, and lowering it needs "
                       "CAP_SYS_RESOURCE on the host (kist runs as %s): use %d or more",
                       (long long)p->oom_score_adj, cur, who(), cur);
  }
  if (p && p->io_priority && p->io_priority->class &&
      strcmp(p->io_priority->class, "IOPRIO_CLASS_RT") == 0)
    return kist_fail(err, 0,
                     "process.ioPriority.class: IOPRIO_CLASS_RT needs CAP_SYS_ADMIN on the host "
                     "(kist runs as %s): use IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE",
                     who());
  return 0;
}

/* ---- cgroups ---- */

#define WARNED_MARK ".warned-no-cgroup"

void kist_rootless_warn_no_cgroup(const char *root, const char *id, const char *example_error)
{
  /* Once per login session (XDG_RUNTIME_DIR), else per state root. */
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  cleanup_free char *mark = xdg && xdg[0] == '/' ? xasprintf("%s/kist" WARNED_MARK, xdg)
                            : root               ? xasprintf("%s/" WARNED_MARK, root)
                                                 : NULL;
  int fd = mark ? open(mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
  if (fd < 0 && mark && errno == EEXIST) {
    kist_debug("cgroup: container %s runs without a cgroup (rootless, nothing delegated: %s)", id,
               example_error ? example_error : "not writable");
    return;
  }
  if (fd >= 0)
    close(fd);
  kist_warn("container %s runs without a cgroup of its own: kist runs as %s and no cgroup "
            "is delegated to it (%s); pause, resume, update and events --stats are "
            "unavailable, ps and kill --all follow the process tree (said once per session)",
            id, who(), example_error ? example_error : "not writable");
}

int kist_rootless_cgroup_denied(const char *hier, kist_error_t *err)
{
  cleanup_free char *cause = xstrdup(err && *err ? (*err)->msg : "not writable");
  if (err)
    kist_error_release(err);
  return kist_fail(err, 0,
                   "linux.resources: the config sets %s limits, but kist runs as %s and "
                   "cannot make a cgroup there (%s): remove the limits (kist spec --rootless has "
                   "none) or run kist in a cgroup delegated to you (cgroup v2, e.g. systemd-run "
                   "--user --scope -p Delegate=yes)",
                   hier, who(), cause);
}

int kist_rootless_no_cgroup(const char *id, const char *op, kist_error_t *err)
{
  return kist_fail(err, 0,
                   "cannot %s container %s: it has no cgroup (unprivileged kist found no cgroup "
                   "delegated to it when it created the container); create it from a cgroup "
                   "delegated to you (cgroup v2) for this",
                   op, id);
}

/* ---- process tree ---- */

struct pp {
  pid_t pid, ppid;
};

/* Every process's parent, from /proc/PID/stat (the field after "(comm)"). */
static int read_parents(struct pp **out, size_t *n, kist_error_t *err)
{
  *out = NULL;
  *n = 0;
  DIR *d = opendir("/proc");
  if (d == NULL)
    return kist_fail(err, errno, "open /proc");
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0)
      continue;
    char path[64], buf[512];
    kist_snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
      continue;
    buf[r] = '\0';
    char *rp = strrchr(buf, ')');
    int ppid;
    char state;
    if (rp == NULL || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 256;
      *out = xrealloc(*out, cap * sizeof **out);
    }
    (*out)[(*n)++] = (struct pp){(pid_t)pid, (pid_t)ppid};
  }
  closedir(d);
  return 0;
}

int kist_proc_tree(pid_t pid, pid_t **pids, size_t *n, kist_error_t *err)
{
  *pids = NULL;
  *n = 0;
  cleanup_free struct pp *all = NULL;
  size_t nall;
  if (read_parents(&all, &nall, err) < 0)
    return -1;
  bool found = false;
  for (size_t i = 0; i < nall && !found; i++)
    found = all[i].pid == pid;
  if (!found)
    return 0;
  pid_t *out = xmalloc((nall + 1) * sizeof *out);
  size_t len = 0;
  out[len++] = pid;
  /* Breadth first: out[] is the queue. */
  for (size_t q = 0; q < len; q++)
    for (size_t i = 0; i < nall; i++)
      if (all[i].ppid == out[q] && all[i].pid != out[q])
        out[len++] = all[i].pid;
  *pids = out;
  *n = len;
  return 0;
}

int kist_proc_tree_kill(int pidfd, pid_t pid, int sig, kist_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (kist_proc_tree(pid, &pids, &n, err) < 0)
    return -1;
  /* Children first, deepest last found first, the init last: a stopped
   * init cannot reap or respawn what was signalled. */
  for (size_t i = n; i-- > 1;)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      return kist_fail(err, errno, "kill pid %d", (int)pids[i]);
  int r = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) : kill(pid, sig);
  if (r < 0 && errno != ESRCH)
    return kist_fail(err, errno, "kill pid %d", (int)pid);
  return 0;
}
