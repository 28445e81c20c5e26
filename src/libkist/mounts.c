/* The container's mount table. Everything here runs in the init, inside its
 * own mount namespace whose "/" was made rslave first, so nothing reaches the
 * host. Destinations are resolved with paths.c (the rootfs is "/"), and mounts
 * target "/proc/self/fd/N" of the resolved fd, or use move_mount(2) on it,
 * so a symlink swapped in after the check cannot redirect them.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "fmt.h"
#include "idmap.h"
#include "log.h"
#include "mounts.h"
#include "paths.h"
#include "util.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

enum opt_kind {
  O_SET,    /* set an MS_* flag */
  O_CLR,    /* clear an MS_* flag */
  O_PROP,   /* propagation */
  O_BIND,   /* bind, rbind (value MS_REC) */
  O_RSET,   /* recursive mount attribute set (rro, rnosuid, ...) */
  O_RCLR,   /* recursive mount attribute clear (rrw, rsuid, ...) */
  O_RATIME, /* recursive atime mode */
  O_IGNORE,
  O_TMPCOPYUP,
  O_IDMAP,
};

static const struct {
  const char *name;
  enum opt_kind kind;
  unsigned long value;
} mount_options[] = {
  {"defaults", O_IGNORE, 0},
  {"ro", O_SET, MS_RDONLY},
  {"rw", O_CLR, MS_RDONLY},
  {"nosuid", O_SET, MS_NOSUID},
  {"suid", O_CLR, MS_NOSUID},
  {"nodev", O_SET, MS_NODEV},
  {"dev", O_CLR, MS_NODEV},
  {"noexec", O_SET, MS_NOEXEC},
  {"exec", O_CLR, MS_NOEXEC},
  {"sync", O_SET, MS_SYNCHRONOUS},
  {"async", O_CLR, MS_SYNCHRONOUS},
  {"dirsync", O_SET, MS_DIRSYNC},
  {"remount", O_SET, MS_REMOUNT},
  {"mand", O_SET, MS_MANDLOCK},
  {"nomand", O_CLR, MS_MANDLOCK},
  {"noatime", O_SET, MS_NOATIME},
  {"atime", O_CLR, MS_NOATIME},
  {"nodiratime", O_SET, MS_NODIRATIME},
  {"diratime", O_CLR, MS_NODIRATIME},
  {"relatime", O_SET, MS_RELATIME},
  {"norelatime", O_CLR, MS_RELATIME},
  {"strictatime", O_SET, MS_STRICTATIME},
  {"nostrictatime", O_CLR, MS_STRICTATIME},
  {"lazytime", O_SET, MS_LAZYTIME},
  {"nolazytime", O_CLR, MS_LAZYTIME},
  {"silent", O_SET, MS_SILENT},
  {"loud", O_CLR, MS_SILENT},
  {"iversion", O_SET, MS_I_VERSION},
  {"noiversion", O_CLR, MS_I_VERSION},
  {"nosymfollow", O_SET, MS_NOSYMFOLLOW},
  {"symfollow", O_CLR, MS_NOSYMFOLLOW},
  {"bind", O_BIND, 0},
  {"rbind", O_BIND, MS_REC},
  {"private", O_PROP, MS_PRIVATE},
  {"rprivate", O_PROP, MS_PRIVATE | MS_REC},
  {"shared", O_PROP, MS_SHARED},
  {"rshared", O_PROP, MS_SHARED | MS_REC},
  {"slave", O_PROP, MS_SLAVE},
  {"rslave", O_PROP, MS_SLAVE | MS_REC},
  {"unbindable", O_PROP, MS_UNBINDABLE},
  {"runbindable", O_PROP, MS_UNBINDABLE | MS_REC},
  {"rro", O_RSET, MOUNT_ATTR_RDONLY},
  {"rrw", O_RCLR, MOUNT_ATTR_RDONLY},
  {"rnosuid", O_RSET, MOUNT_ATTR_NOSUID},
  {"rsuid", O_RCLR, MOUNT_ATTR_NOSUID},
  {"rnodev", O_RSET, MOUNT_ATTR_NODEV},
  {"rdev", O_RCLR, MOUNT_ATTR_NODEV},
  {"rnoexec", O_RSET, MOUNT_ATTR_NOEXEC},
  {"rexec", O_RCLR, MOUNT_ATTR_NOEXEC},
  {"rnodiratime", O_RSET, MOUNT_ATTR_NODIRATIME},
  {"rdiratime", O_RCLR, MOUNT_ATTR_NODIRATIME},
  {"rnosymfollow", O_RSET, MOUNT_ATTR_NOSYMFOLLOW},
  {"rsymfollow", O_RCLR, MOUNT_ATTR_NOSYMFOLLOW},
  {"rrelatime", O_RATIME, MOUNT_ATTR_RELATIME},
  {"rnorelatime", O_RATIME, MOUNT_ATTR_STRICTATIME},
  {"rnoatime", O_RATIME, MOUNT_ATTR_NOATIME},
  {"ratime", O_RATIME, MOUNT_ATTR_RELATIME},
  {"rstrictatime", O_RATIME, MOUNT_ATTR_STRICTATIME},
  {"rnostrictatime", O_RATIME, MOUNT_ATTR_RELATIME},
  {"tmpcopyup", O_TMPCOPYUP, 0},
  {"idmap", O_IDMAP, 0},
  {"ridmap", O_IDMAP, MS_REC},
};

const char *const kist_mount_option_names[] = {
  "defaults",    "ro",          "rw",         "nosuid",       "suid",           "nodev",
  "dev",         "noexec",      "exec",       "sync",         "async",          "dirsync",
  "remount",     "mand",        "nomand",     "noatime",      "atime",          "nodiratime",
  "diratime",    "relatime",    "norelatime", "strictatime",  "nostrictatime",  "lazytime",
  "nolazytime",  "silent",      "loud",       "iversion",     "noiversion",     "nosymfollow",
  "symfollow",   "bind",        "rbind",      "private",      "rprivate",       "shared",
  "rshared",     "slave",       "rslave",     "unbindable",   "runbindable",    "rro",
  "rrw",         "rnosuid",     "rsuid",      "rnodev",       "rdev",           "rnoexec",
  "rexec",       "rnodiratime", "rdiratime",  "rnosymfollow", "rsymfollow",     "rrelatime",
  "rnorelatime", "rnoatime",    "ratime",     "rstrictatime", "rnostrictatime", "tmpcopyup",
  "idmap",       "ridmap",      NULL,
};

struct mopts {
  unsigned long flags, clear, prop;
  bool bind, tmpcopyup, idmap;
  unsigned long bind_rec;
  uint64_t rset, rclr;
  char *data; /* filesystem options, comma separated; NULL when none */
};

/* Bind mounts in these spots of /proc are what lxcfs and friends do. */
static const char *const proc_bind_ok[] = {
  "/proc/cpuinfo", "/proc/diskstats",
  "/proc/meminfo", "/proc/stat",
  "/proc/swaps",   "/proc/uptime",
  "/proc/loadavg", "/proc/slabinfo",
  "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

static int find_option(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++)
    if (strcmp(mount_options[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* MS_BIND, with MS_REC for "rbind", when the options ask for a bind; 0. */
static unsigned long bind_option(const oci_mount *m)
{
  unsigned long fl = 0;
  for (size_t i = 0; i < m->options_len; i++) {
    int k = find_option(m->options[i]);
    if (k >= 0 && mount_options[k].kind == O_BIND)
      fl |= MS_BIND | mount_options[k].value;
  }
  return fl;
}

bool kist_mount_is_bind(const oci_mount *m)
{
  return (m->type && strcmp(m->type, "bind") == 0) || bind_option(m) != 0;
}

bool kist_mount_is_rbind(const oci_mount *m)
{
  return bind_option(m) & MS_REC;
}

static void parse_options(const oci_mount *m, struct mopts *o)
{
  memset(o, 0, sizeof *o);
  size_t dlen = 0;
  for (size_t i = 0; i < m->options_len; i++) {
    const char *s = m->options[i];
    int k = find_option(s);
    if (k < 0) {
      if (str_has_prefix(s, "x-"))
        continue; /* userspace-only options (mount(8) convention) */
      size_t n = strlen(s);
      o->data = xrealloc(o->data, dlen + n + 2);
      if (dlen)
        o->data[dlen++] = ',';
      memcpy(o->data + dlen, s, n + 1);
      dlen += n;
      continue;
    }
    unsigned long v = mount_options[k].value;
    switch (mount_options[k].kind) {
    case O_SET:
      o->flags |= v;
      o->clear &= ~v;
      break;
    case O_CLR:
      o->flags &= ~v;
      o->clear |= v;
      break;
    case O_PROP:
      o->prop = v;
      break;
    case O_BIND:
      o->bind = true;
      o->bind_rec |= v;
      break;
    case O_RSET:
      o->rset |= v;
      o->rclr &= ~(uint64_t)v;
      break;
    case O_RCLR:
      o->rclr |= v;
      o->rset &= ~(uint64_t)v;
      break;
    case O_RATIME:
      o->rclr |= MOUNT_ATTR__ATIME;
      o->rset = (o->rset & ~(uint64_t)MOUNT_ATTR__ATIME) | v;
      break;
    case O_TMPCOPYUP:
      o->tmpcopyup = true;
      break;
    case O_IDMAP:
      o->idmap = true;
      break;
    case O_IGNORE:
      break;
    }
  }
  if (m->type && strcmp(m->type, "bind") == 0)
    o->bind = true;
}

bool kist_mounts_need_cgroup_paths(const oci_config *cfg)
{
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const char *t = cfg->mounts[i]->type;
    if (t && (strcmp(t, "cgroup") == 0 || strcmp(t, "cgroup2") == 0))
      return true;
  }
  return false;
}

int kist_mounts_validate(const oci_config *cfg, kist_error_t *err)
{
  if (cfg->root == NULL || cfg->root->path == NULL || cfg->root->path[0] == '\0')
    return kist_fail(err, 0, "root.path: missing");
  const char *rp = cfg->linux ? cfg->linux->rootfs_propagation : NULL;
  if (rp && rp[0]) {
    int k = find_option(rp);
    if (k < 0 || mount_options[k].kind != O_PROP)
      return kist_fail(err, 0, "linux.rootfsPropagation: unknown propagation '%s'", rp);
  }
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const oci_mount *m = cfg->mounts[i];
    const char *d = m->destination;
    if (d == NULL || d[0] == '\0')
      return kist_fail(err, 0, "mounts[%zu].destination: missing", i);
    if (d[0] != '/')
      return kist_fail(err, 0, "mounts[%zu].destination: '%s' is not an absolute path", i, d);
    bool bind = kist_mount_is_bind(m);
    if (!bind && (m->type == NULL || m->type[0] == '\0'))
      return kist_fail(err, 0, "mounts[%zu].type: missing for %s", i, d);
    if (bind && (m->source == NULL || m->source[0] == '\0'))
      return kist_fail(err, 0, "mounts[%zu].source: a bind mount needs a source", i);
    for (size_t j = 0; j < m->options_len; j++) {
      int k = find_option(m->options[j]);
      if (k < 0 && bind && !str_has_prefix(m->options[j], "x-"))
        kist_warn("mounts[%zu].options[%zu]: '%s' is not a bind mount option, ignored", i, j,
                  m->options[j]);
    }
    /* Only proc goes on /proc, and only known files under it are bind
     * targets. The check is on the cleaned path ("/dev/../proc/sys" is
     * /proc/sys), which is also what mount_one resolves. */
    cleanup_free char *c = kist_path_clean(d);
    if (strcmp(c, "/proc") == 0) {
      if (m->type == NULL || strcmp(m->type, "proc") != 0 || bind)
        return kist_fail(err, 0,
                         "mounts[%zu]: only a proc filesystem may be mounted on /proc (not %s%s)",
                         i, bind ? "a bind mount of " : "", bind ? m->source : m->type);
    } else if (str_has_prefix(c, "/proc/")) {
      bool ok = false;
      for (size_t k = 0; k < ARRAY_SIZE(proc_bind_ok) && bind; k++)
        if (strcmp(proc_bind_ok[k], c) == 0)
          ok = true;
      if (!ok)
        return kist_fail(err, 0, "mounts[%zu].destination: mounting over %s%s%s%s is not allowed",
                         i, d, strcmp(c, d) ? " (" : "", strcmp(c, d) ? c : "",
                         strcmp(c, d) ? ")" : "");
    }
  }
  return kist_idmap_validate(cfg, err);
}

/* ---- helpers over the new mount API (with a classic fallback) ---- */

static bool have_new_api = true;

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from, const char *fp, int to, const char *tp, unsigned flags)
{
  return (int)syscall(SYS_move_mount, from, fp, to, tp, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *a)
{
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, a, sizeof *a);
}

/* MS_* flags of a bind mount as mount_setattr attributes. */
static void flags_to_attr(unsigned long set, unsigned long clr, struct mount_attr *a)
{
  static const struct {
    unsigned long ms;
    uint64_t attr;
  } map[] = {
    {MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
    {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
  };
  for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
    if (set & map[i].ms)
      a->attr_set |= map[i].attr;
    if (clr & map[i].ms)
      a->attr_clr |= map[i].attr;
  }
  unsigned long atime = set & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME);
  if (atime) {
    a->attr_clr |= MOUNT_ATTR__ATIME;
    a->attr_set |= (atime & MS_NOATIME)       ? MOUNT_ATTR_NOATIME
                   : (atime & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                              : MOUNT_ATTR_RELATIME;
  }
}

/* Attaches a detached tree (open_tree, or one the parent made in idmap.c)
 * onto destfd, with the mount's flags (and propagation, when not 0) set
 * before it shows. tree stays open. */
static int attach_tree(int tree, int destfd, unsigned long set, unsigned long clr,
                       unsigned long propagation, const char *what, kist_error_t *err)
{
  struct mount_attr a = {.propagation = propagation};
  flags_to_attr(set, clr, &a);
  if ((a.attr_set || a.attr_clr || a.propagation) &&
      sys_mount_setattr(tree, "", AT_EMPTY_PATH, &a) < 0)
    return kist_fail(err, errno, "%s: set mount attributes", what);
  if (sys_move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return kist_fail(err, errno, "%s: move_mount", what);
  return 0;
}

/* An idmapped tree from idmap.c: the init closes those itself once all
 * mounts are done, so the caller gets its own fd of the mount. */
static int attach_idmapped(int tree, int destfd, unsigned long set, unsigned long clr,
                           const char *what, kist_error_t *err)
{
  if (attach_tree(tree, destfd, set, clr, 0, what, err) < 0)
    return -1;
  int fd = fcntl(tree, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return kist_fail(err, errno, "%s: dup", what);
  return fd;
}

/* Bind-mounts src (a host path, or "" with srcfd) onto the file destfd
 * names, with flags applied before it becomes visible. Returns an fd of the
 * new mount, or -1. */
static int bind_mount(int srcfd, const char *src, int destfd, unsigned long rec, unsigned long set,
                      unsigned long clr, const char *what, kist_error_t *err)
{
  char fdp[KIST_FD_PATH_MAX];
  if (have_new_api) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0) |
                     (srcfd >= 0 ? AT_EMPTY_PATH : 0);
    int tree = sys_open_tree(srcfd >= 0 ? srcfd : AT_FDCWD, srcfd >= 0 ? "" : src, flags);
    if (tree < 0 && errno == ENOSYS) {
      have_new_api = false;
    } else if (tree < 0) {
      return kist_fail(err, errno, "%s: open_tree %s", what, src);
    } else {
      if (attach_tree(tree, destfd, set, clr, 0, what, err) < 0) {
        close(tree);
        return -1;
      }
      return tree;
    }
  }
  /* Classic: bind, then remount the new mount (reopened through the path
   * so the remount hits the new mount, not the one beneath). */
  char srcp[KIST_FD_PATH_MAX];
  const char *s = srcfd >= 0 ? kist_fd_path(srcfd, srcp) : src;
  if (mount(s, kist_fd_path(destfd, fdp), NULL, MS_BIND | rec, NULL) < 0)
    return kist_fail(err, errno, "%s: bind mount %s", what, src);
  int fd = open(fdp, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "%s: reopen", what);
  if (set & ~(MS_REC | MS_BIND)) {
    struct statvfs sv;
    unsigned long keep = 0;
    if (fstatvfs(fd, &sv) == 0)
      keep = sv.f_flag & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    char p2[KIST_FD_PATH_MAX];
    if (mount(NULL, kist_fd_path(fd, p2), NULL, MS_REMOUNT | MS_BIND | ((keep | set) & ~clr),
              NULL) < 0) {
      int e = errno;
      close(fd);
      return kist_fail(err, e, "%s: remount", what);
    }
  }
  return fd;
}

static int set_propagation(int mntfd, unsigned long prop, const char *what, kist_error_t *err)
{
  char p[KIST_FD_PATH_MAX];
  if (mount(NULL, kist_fd_path(mntfd, p), NULL, prop, NULL) < 0)
    return kist_fail(err, errno, "%s: set propagation", what);
  return 0;
}

static int set_rattrs(int mntfd, const struct mopts *o, const char *what, kist_error_t *err)
{
  struct mount_attr a = {.attr_set = o->rset, .attr_clr = o->rclr};
  if (sys_mount_setattr(mntfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a) < 0)
    return kist_fail(err, errno, "%s: set recursive mount attributes", what);
  return 0;
}

/* ---- tmpcopyup: seed a fresh tmpfs with what the image had there ---- */

static int copy_tree(int from, int to, kist_error_t *err);

static int copy_entry(int from, int to, const char *name, kist_error_t *err)
{
  struct stat st;
  if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return kist_fail(err, errno, "tmpcopyup: stat %s", name);
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(to, name, st.st_mode & 07777) < 0 && errno != EEXIST)
      return kist_fail(err, errno, "tmpcopyup: mkdir %s", name);
    cleanup_close int f = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int t = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0 || t < 0)
      return kist_fail(err, errno, "tmpcopyup: open %s", name);
    if (copy_tree(f, t, err) < 0)
      return -1;
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(from, name, target, sizeof target - 1);
    if (n < 0)
      return kist_fail(err, errno, "tmpcopyup: readlink %s", name);
    target[n] = '\0';
    if (symlinkat(target, to, name) < 0)
      return kist_fail(err, errno, "tmpcopyup: symlink %s", name);
  } else if (S_ISREG(st.st_mode)) {
    cleanup_close int f = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int t =
      openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
    if (f < 0 || t < 0)
      return kist_fail(err, errno, "tmpcopyup: copy %s", name);
    char buf[65536];
    ssize_t n;
    while ((n = read_retry(f, buf, sizeof buf)) > 0)
      if (write_all(t, buf, (size_t)n) < 0)
        return kist_fail(err, errno, "tmpcopyup: write %s", name);
    if (n < 0)
      return kist_fail(err, errno, "tmpcopyup: read %s", name);
  } else {
    if (mknodat(to, name, st.st_mode, st.st_rdev) < 0)
      return kist_fail(err, errno, "tmpcopyup: mknod %s", name);
  }
  if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
      errno != EINVAL)
    return kist_fail(err, errno, "tmpcopyup: chown %s", name);
  return 0;
}

static int copy_tree(int from, int to, kist_error_t *err)
{
  int dfd = fcntl(from, F_DUPFD_CLOEXEC, 3);
  if (dfd < 0)
    return kist_fail(err, errno, "tmpcopyup: dup");
  DIR *d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return kist_fail(err, errno, "tmpcopyup: opendir");
  }
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    ret = copy_entry(from, to, de->d_name, err);
  }
  closedir(d);
  return ret;
}

/* ---- cgroup mounts ---- */

/* Host directory of one /proc/self/cgroup line's hierarchy. */
static char *hierarchy_dir(const char *ctrls, enum kist_cgroup_mode mode)
{
  if (ctrls[0] == '\0')
    return xstrdup(mode == KIST_CGROUP_V2 ? "" : "unified");
  if (str_has_prefix(ctrls, "name="))
    return xstrdup(ctrls + 5);
  return xstrdup(ctrls);
}

/* The hierarchies of the init's /proc/self/cgroup: the directory under
 * /sys/fs/cgroup ("memory", "cpu,cpuacct", "systemd", "unified") and the
 * container's cgroup in it. */
#define CG_LINES_MAX 32
struct cg_line {
  char *dir;
  const char *path;
};

static size_t cg_lines(char *text, struct cg_line *out)
{
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line && n < CG_LINES_MAX;
       line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    out[n++] = (struct cg_line){hierarchy_dir(c1 + 1, KIST_CGROUP_HYBRID), c2 + 1};
  }
  return n;
}

static void cg_lines_free(struct cg_line *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(l[i].dir);
}

/* The host path of the container's cgroup in hierarchy l, opened; -1 when
 * the host does not mount that hierarchy under /sys/fs/cgroup. */
static int open_hierarchy(const struct cg_line *l, char **src)
{
  *src = xasprintf("/sys/fs/cgroup/%s%s", l->dir, l->path);
  return open(*src, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The host's /sys/fs/cgroup tmpfs already holds a directory for every
 * hierarchy and the "cpu" -> "cpu,cpuacct" links: one read-only private
 * clone of it replaces a fresh tmpfs with a mkdir and a symlink per
 * hierarchy, whose inodes and dentries were a fifth of what the init
 * charged to the container's memory cgroup (and 17 syscalls). Only for a
 * read-only mount: a writable one would let the container write the host's
 * tmpfs. In a user namespace the host's hierarchies are locked mounts below
 * it, and the kernel refuses a non-recursive clone (EINVAL): the fresh tmpfs
 * is used then, as when the host's layout lacks a directory the container
 * needs. Returns 1 with the hierarchies mounted, 0 to fall back, -1. */
static int cgroup_v1_host_view(struct cg_line *l, size_t n, int destfd, const struct mopts *o,
                               const char *what, kist_error_t *err)
{
  if (!have_new_api || !(o->flags & MS_RDONLY))
    return 0;
  cleanup_close int tree =
    sys_open_tree(AT_FDCWD, "/sys/fs/cgroup", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct statfs sfs;
  if (tree < 0 || fstatfs(tree, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
    return 0;
  int dirs[CG_LINES_MAX];
  size_t opened = 0;
  int ret = 1;
  for (; opened < n; opened++) {
    dirs[opened] = openat(tree, l[opened].dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirs[opened] < 0) {
      /* Missing here is fine only for a hierarchy the host lacks too. */
      cleanup_free char *src = NULL;
      cleanup_close int sfd = open_hierarchy(&l[opened], &src);
      if (sfd >= 0) {
        ret = 0;
        break;
      }
    }
  }
  if (ret == 1 && attach_tree(tree, destfd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0,
                              MS_PRIVATE, what, err) < 0)
    ret = -1;
  for (size_t i = 0; i < opened && ret == 1; i++) {
    if (dirs[i] < 0)
      continue;
    cleanup_free char *src = NULL;
    cleanup_close int sfd = open_hierarchy(&l[i], &src);
    if (sfd < 0)
      continue; /* a hierarchy the host does not mount under /sys/fs/cgroup */
    int mfd = bind_mount(sfd, src, dirs[i], 0, o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         o->clear, what, err);
    if (mfd < 0)
      ret = -1;
    else
      close(mfd);
  }
  for (size_t i = 0; i < opened; i++)
    if (dirs[i] >= 0)
      close(dirs[i]);
  return ret;
}

/* A fresh tmpfs with a directory per hierarchy, each the container's own
 * cgroup bound there. */
static int cgroup_v1_tmpfs_view(const struct cg_line *l, size_t n, const oci_mount *m, int destfd,
                                const struct mopts *o, int rootfd, const char *what,
                                kist_error_t *err)
{
  char p[KIST_FD_PATH_MAX];
  unsigned long fl = (o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC) & ~MS_RDONLY;
  if (mount("tmpfs", kist_fd_path(destfd, p), "tmpfs", fl, "mode=755") < 0)
    return kist_fail(err, errno, "%s: mount tmpfs", what);
  cleanup_close int top = kist_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
  if (top < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const char *dir = l[i].dir;
    cleanup_free char *src = NULL;
    cleanup_close int sfd = open_hierarchy(&l[i], &src);
    if (sfd < 0)
      continue; /* a hierarchy the host does not mount under /sys/fs/cgroup */
    if (mkdirat(top, dir, 0755) < 0 && errno != EEXIST)
      return kist_fail(err, errno, "%s: mkdir %s", what, dir);
    cleanup_close int dfd = openat(top, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
      return kist_fail(err, errno, "%s: open %s", what, dir);
    int mfd = bind_mount(sfd, src, dfd, 0, o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, o->clear,
                         what, err);
    if (mfd < 0)
      return -1;
    close(mfd);
    /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
    if (strchr(dir, ',')) {
      cleanup_free char *names = xstrdup(dir);
      char *s2 = NULL;
      for (char *c = strtok_r(names, ",", &s2); c; c = strtok_r(NULL, ",", &s2))
        if (symlinkat(dir, top, c) < 0 && errno != EEXIST)
          return kist_fail(err, errno, "%s: symlink %s", what, c);
    }
  }
  if (o->flags & MS_RDONLY) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (sys_mount_setattr(top, "", AT_EMPTY_PATH, &a) < 0)
      return kist_fail(err, errno, "%s: make read-only", what);
  }
  return 0;
}

static int mount_cgroup_v1(const oci_mount *m, int destfd, const struct mopts *o,
                           const struct kist_mount_env *env, int rootfd, const char *what,
                           kist_error_t *err)
{
  if (env->proc_cgroup == NULL)
    return kist_fail(err, 0, "%s: the cgroup paths of the init are unknown", what);
  cleanup_free char *text = xstrdup(env->proc_cgroup);
  struct cg_line l[CG_LINES_MAX];
  size_t n = cg_lines(text, l);
  int r = cgroup_v1_host_view(l, n, destfd, o, what, err);
  if (r == 0)
    r = cgroup_v1_tmpfs_view(l, n, m, destfd, o, rootfd, what, err);
  cg_lines_free(l, n);
  return r < 0 ? -1 : 0;
}

static int mount_cgroup(const oci_mount *m, int destfd, const struct mopts *o,
                        const struct kist_mount_env *env, int rootfd, const char *what,
                        kist_error_t *err)
{
  enum kist_cgroup_mode mode = kist_cgroup_mode();
  if (mode != KIST_CGROUP_V2)
    return mount_cgroup_v1(m, destfd, o, env, rootfd, what, err);
  char p[KIST_FD_PATH_MAX];
  if (env->new_cgroupns) {
    if (mount("cgroup2", kist_fd_path(destfd, p), "cgroup2", o->flags, o->data) < 0)
      return kist_fail(err, errno, "%s: mount cgroup2", what);
    return 0;
  }
  /* Without a cgroup namespace a fresh cgroup2 mount would show the host's
   * whole tree: bind only the container's own cgroup. */
  const char *path = "/";
  cleanup_free char *copy = env->proc_cgroup ? xstrdup(env->proc_cgroup) : NULL;
  char *line = copy ? strstr(copy, "0::") : NULL;
  if (line) {
    path = line + 3;
    char *nl = strchr(path, '\n');
    if (nl)
      *nl = '\0';
  }
  cleanup_free char *src = xasprintf("/sys/fs/cgroup%s", path);
  int mfd = bind_mount(-1, src, destfd, 0, o->flags, o->clear, what, err);
  if (mfd < 0)
    return -1;
  close(mfd);
  return 0;
}

/* ---- one mount ---- */

static int source_is_dir(const char *src)
{
  struct stat st;
  if (stat(src, &st) < 0)
    return -1;
  return S_ISDIR(st.st_mode);
}

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif

/* /proc and /sys are where kist and the container trust the kernel's
 * files: their mountpoints must be real directories of the rootfs, not
 * symlinks that would put procfs or sysfs somewhere else. They are single
 * components, so a no-follow look-up in rootfd is the whole resolution. */
static int open_kernel_mountpoint(int rootfd, const char *dest, const char *what, kist_error_t *err)
{
  const char *name = dest + 1;
  const int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  /* The common case first: the directory is there (one syscall). */
  int fd = openat(rootfd, name, flags);
  if (fd < 0 && errno == ENOENT) {
    if (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST)
      return kist_fail(err, errno, "%s: mkdir %s in the rootfs", what, dest);
    fd = openat(rootfd, name, flags);
  }
  if (fd >= 0)
    return fd;
  int e = errno;
  struct stat st;
  if (e == ENOTDIR && fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISLNK(st.st_mode)
             ? kist_fail(err, 0, "%s: %s in the rootfs is a symlink, it must be a directory", what,
                         dest)
             : kist_fail(err, 0, "%s: %s in the rootfs is not a directory", what, dest);
  return kist_fail(err, e, "%s: open %s in the rootfs", what, dest);
}

/* A rootfs symlink ("/etc/hostname -> /proc/sys/kernel/hostname") can send
 * a config mount onto procfs or sysfs, hiding a kernel file kist or the
 * container relies on. The resolved target may be there only when the
 * config itself names a place there (the checked /proc allow-list, /sys). */
static int check_target_fs(int destfd, const char *dest, const char *what, kist_error_t *err)
{
  struct statfs sfs;
  if (fstatfs(destfd, &sfs) < 0)
    return kist_fail(err, errno, "%s: statfs %s", what, dest);
  if (sfs.f_type == PROC_SUPER_MAGIC && !str_has_prefix(dest, "/proc/"))
    return kist_fail(err, 0, "%s: %s leads onto procfs through a symlink in the rootfs, refused",
                     what, dest);
  if (sfs.f_type == SYSFS_MAGIC && strcmp(dest, "/sys") != 0 && !str_has_prefix(dest, "/sys/"))
    return kist_fail(err, 0, "%s: %s leads onto sysfs through a symlink in the rootfs, refused",
                     what, dest);
  return 0;
}

static int mount_one(const oci_mount *orig, size_t idx, int rootfd,
                     const struct kist_mount_env *env, kist_error_t *err)
{
  char what[64];
  kist_snprintf(what, sizeof what, "mounts[%zu] (%.32s)", idx, orig->destination);
  /* Everything below resolves the cleaned destination: the one
   * kist_mounts_validate checked. */
  cleanup_free char *dest = kist_path_clean(orig->destination);
  oci_mount copy = *orig;
  copy.destination = dest;
  const oci_mount *m = &copy;
  bool kernel_dir = strcmp(dest, "/proc") == 0 || strcmp(dest, "/sys") == 0;
  struct mopts o;
  parse_options(m, &o);
  cleanup_free char *data = o.data;
  cleanup_free char *src = NULL;
  if (o.bind) {
    src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", env->bundle, m->source);
    int isdir = source_is_dir(src);
    if (isdir < 0)
      return kist_fail(err, errno, "%s: source %s", what, src);
    cleanup_close int destfd = kernel_dir ? open_kernel_mountpoint(rootfd, dest, what, err)
                               : isdir    ? kist_mkdir_in_root(rootfd, dest, 0755, err)
                                          : kist_mkfile_in_root(rootfd, dest, 0644, err);
    if (destfd < 0 || check_target_fs(destfd, dest, what, err) < 0)
      return -1;
    int tree = env->idmap_fds ? env->idmap_fds[idx] : -1;
    cleanup_close int mfd =
      tree >= 0 ? attach_idmapped(tree, destfd, o.flags, o.clear, what, err)
                : bind_mount(-1, src, destfd, o.bind_rec, o.flags, o.clear, what, err);
    if (mfd < 0)
      return -1;
    if (o.prop && set_propagation(mfd, o.prop, what, err) < 0)
      return -1;
    if ((o.rset || o.rclr) && set_rattrs(mfd, &o, what, err) < 0)
      return -1;
    return 0;
  }

  cleanup_close int destfd = kernel_dir ? open_kernel_mountpoint(rootfd, dest, what, err)
                                        : kist_mkdir_in_root(rootfd, dest, 0755, err);
  if (destfd < 0 || check_target_fs(destfd, dest, what, err) < 0)
    return -1;
  const char *type = m->type;
  if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
    return mount_cgroup(m, destfd, &o, env, rootfd, what, err);

  cleanup_close int olddir = -1;
  if (o.tmpcopyup)
    olddir = kist_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
  if (o.tmpcopyup && olddir < 0)
    return -1;
  char p[KIST_FD_PATH_MAX];
  const char *source = m->source && m->source[0] ? m->source : type;
  if (mount(source, kist_fd_path(destfd, p), type, o.flags & ~MS_REMOUNT, data) < 0) {
    int e = errno;
    /* In a user namespace without its own network namespace sysfs cannot
     * be mounted; the host's, bound read-only, is what runc gives too. */
    if (e == EPERM && strcmp(type, "sysfs") == 0) {
      int mfd = bind_mount(-1, "/sys", destfd, MS_REC, o.flags | MS_RDONLY, o.clear, what, err);
      if (mfd < 0)
        return -1;
      close(mfd);
      return 0;
    }
    if (e == EPERM && strcmp(type, "mqueue") == 0) {
      int mfd = bind_mount(-1, "/dev/mqueue", destfd, 0, o.flags, o.clear, what, err);
      if (mfd < 0)
        return -1;
      close(mfd);
      return 0;
    }
    return kist_fail(err, e, "%s: mount %s", what, type);
  }
  if (!o.prop && !o.rset && !o.rclr && !o.tmpcopyup)
    return 0;
  cleanup_close int mfd = kist_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
  if (mfd < 0)
    return -1;
  if (o.tmpcopyup && copy_tree(olddir, mfd, err) < 0)
    return -1;
  if (o.prop && set_propagation(mfd, o.prop, what, err) < 0)
    return -1;
  if ((o.rset || o.rclr) && set_rattrs(mfd, &o, what, err) < 0)
    return -1;
  return 0;
}

int kist_mounts_apply(const oci_config *cfg, int rootfd, const struct kist_mount_env *env,
                      kist_error_t *err)
{
  for (size_t i = 0; i < cfg->mounts_len; i++)
    if (mount_one(cfg->mounts[i], i, rootfd, env, err) < 0)
      return -1;
  return 0;
}

/* ---- rootfs ---- */

static unsigned long propagation_of(const char *name)
{
  int k = name ? find_option(name) : -1;
  return k >= 0 && mount_options[k].kind == O_PROP ? mount_options[k].value : 0;
}

int kist_rootfs_prepare(const oci_config *cfg, const char *rootfs, kist_error_t *err)
{
  unsigned long want = propagation_of(cfg->linux ? cfg->linux->rootfs_propagation : NULL);
  /* rslave keeps host mount events flowing in but never out; private and
   * unbindable roots cut both ways, as asked. */
  unsigned long first = (want & (MS_PRIVATE | MS_UNBINDABLE)) ? MS_PRIVATE : MS_SLAVE;
  if (mount(NULL, "/", NULL, MS_REC | first, NULL) < 0)
    return kist_fail(err, errno, "make / %s", first == MS_PRIVATE ? "rprivate" : "rslave");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return kist_fail(err, errno, "root.path: bind mount %s", rootfs);
  int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "root.path: open %s", rootfs);
  return fd;
}

int kist_rootfs_pivot(int rootfd, bool no_pivot, kist_error_t *err)
{
  if (fchdir(rootfd) < 0)
    return kist_fail(err, errno, "chdir to the rootfs");
  if (no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
      return kist_fail(err, errno, "move the rootfs to /");
    if (chroot(".") < 0)
      return kist_fail(err, errno, "chroot to the rootfs");
  } else {
    /* pivot_root(".", "."): the old root ends up stacked on the new one
     * and is detached right away; it is rslave, so the host never sees it. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return kist_fail(err, errno, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
      return kist_fail(err, errno, "detach the old root");
  }
  if (chdir("/") < 0)
    return kist_fail(err, errno, "chdir /");
  return 0;
}

int kist_rootfs_finish(const oci_config *cfg, kist_error_t *err)
{
  if (cfg->root->readonly_present && cfg->root->readonly) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (sys_mount_setattr(AT_FDCWD, "/", 0, &a) < 0) {
      struct statvfs sv;
      unsigned long keep = 0;
      if (statvfs("/", &sv) == 0)
        keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
      if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0)
        return kist_fail(err, errno, "root.readonly: remount / read-only");
    }
  }
  unsigned long want = propagation_of(cfg->linux ? cfg->linux->rootfs_propagation : NULL);
  if (want && mount(NULL, "/", NULL, want, NULL) < 0)
    return kist_fail(err, errno, "linux.rootfsPropagation: %s", cfg->linux->rootfs_propagation);
  return 0;
}

int kist_rootfs_chroot(const char *rootfs, kist_error_t *err)
{
  if (chdir(rootfs) < 0)
    return kist_fail(err, errno, "root.path: chdir %s", rootfs);
  if (chroot(".") < 0)
    return kist_fail(err, errno, "chroot %s", rootfs);
  if (chdir("/") < 0)
    return kist_fail(err, errno, "chdir /");
  return 0;
}
