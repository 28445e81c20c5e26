/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices.h"
#include "mounts.h"
#include "paths.h"
#include "util.h"

static const struct {
  const char *path;
  unsigned major, minor;
} default_devices[] = {
  {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
  {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static const struct {
  const char *target, *path;
} default_links[] = {
  {"/proc/self/fd", "fd"},
  {"/proc/self/fd/0", "stdin"},
  {"/proc/self/fd/1", "stdout"},
  {"/proc/self/fd/2", "stderr"},
};

static int type_bits(const char *t)
{
  if (t == NULL || t[0] == '\0' || t[1] != '\0')
    return -1;
  switch (t[0]) {
  case 'c':
  case 'u':
    return S_IFCHR;
  case 'b':
    return S_IFBLK;
  case 'p':
    return S_IFIFO;
  }
  return -1;
}

int kist_devices_validate(const oci_config *cfg, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->devices_len; i++) {
    const oci_device *d = l->devices[i];
    if (type_bits(d->type) < 0)
      return kist_fail(err, 0, "linux.devices[%zu].type: '%s' is not one of c, b, u, p", i,
                       d->type ? d->type : "");
    if (d->path == NULL || d->path[0] != '/')
      return kist_fail(err, 0, "linux.devices[%zu].path: must be an absolute path", i);
    if (type_bits(d->type) != S_IFIFO && (!d->major_present || !d->minor_present))
      return kist_fail(err, 0, "linux.devices[%zu]: major and minor are required for %s", i,
                       d->path);
  }
  return 0;
}

static bool dev_is_bind_mounted(const oci_config *cfg)
{
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const oci_mount *m = cfg->mounts[i];
    cleanup_free char *dest = kist_path_clean(m->destination);
    if (strcmp(dest, "/dev") == 0 && kist_mount_is_bind(m))
      return true;
  }
  return false;
}

static bool config_mounts(const oci_config *cfg, const char *dest)
{
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    cleanup_free char *d = kist_path_clean(cfg->mounts[i]->destination);
    if (strcmp(d, dest) == 0)
      return true;
  }
  return false;
}

static bool is_node(const struct stat *st, int type, dev_t rdev)
{
  return (st->st_mode & S_IFMT) == (mode_t)type && (type == S_IFIFO || st->st_rdev == rdev);
}

/* The directory the last node went into: the default nodes all go into
 * /dev, resolved once. */
struct node_dir {
  char *path;
  int fd;
};

static int node_dir_open(struct node_dir *nd, int rootfd, const char *dir, kist_error_t *err)
{
  if (nd->fd >= 0 && strcmp(nd->path, dir) == 0)
    return nd->fd;
  if (nd->fd >= 0)
    close(nd->fd);
  free(nd->path);
  nd->path = xstrdup(dir);
  nd->fd = kist_mkdir_in_root(rootfd, dir, 0755, err);
  return nd->fd;
}

static void node_dir_close(struct node_dir *nd)
{
  if (nd->fd >= 0)
    close(nd->fd);
  free(nd->path);
}

/* Makes one node; the parent directory is resolved inside the rootfs.
 * Called with umask 0 (make_nodes): mknod gives the mode exactly as asked,
 * so no chmod by name afterwards. */
static int make_node(struct node_dir *nd, int rootfd, const char *path, int type, unsigned major,
                     unsigned minor, mode_t mode, uid_t uid, gid_t gid, bool bind,
                     kist_error_t *err)
{
  cleanup_free char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  const char *base = path + (slash - dir) + 1;
  int pfd = node_dir_open(nd, rootfd, dir[0] ? dir : "/", err);
  if (pfd < 0)
    return -1;
  dev_t rdev = makedev(major, minor);
  /* A user namespace may make fifos, not device nodes. */
  if (type == S_IFIFO)
    bind = false;
  if (!bind) {
    int r = mknodat(pfd, base, (mode_t)type | (mode & 07777), rdev);
    if (r == 0) {
      /* Made just now, usually already right (owner, and the mode under
       * umask 0): a look is enough. Anything to change goes through an
       * fd below, never the name. */
      struct stat st;
      if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_node(&st, type, rdev) &&
          st.st_nlink == 1 && st.st_uid == uid && st.st_gid == gid &&
          (st.st_mode & 07777) == (mode & 07777))
        return 0;
    }
    if (r < 0) {
      if (errno == EPERM && type != S_IFIFO) {
        bind = true;
      } else if (errno == EEXIST) {
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
          return kist_fail(err, errno, "stat %s", path);
        /* A node from the image is kept only if it is exactly this one;
         * a hard link could share its inode with a file outside. */
        if (!is_node(&st, type, rdev) || st.st_nlink != 1) {
          if (unlinkat(pfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 ||
              mknodat(pfd, base, (mode_t)type | (mode & 07777), rdev) < 0)
            return kist_fail(err, errno, "mknod %s", path);
        }
      } else {
        return kist_fail(err, errno, "mknod %s", path);
      }
    }
  }
  if (bind) {
    /* Not allowed to make nodes (user namespace): bind the host's, but only
     * if it is that very device: the config's path must not bring in
     * whatever host file happens to live there. */
    cleanup_close int hfd = open(path, O_PATH | O_CLOEXEC);
    struct stat hst;
    if (hfd < 0 || fstat(hfd, &hst) < 0)
      return kist_fail(err, errno, "bind the host's %s (no device nodes in a user namespace)",
                       path);
    if (!is_node(&hst, type, rdev))
      return kist_fail(err, 0,
                       "the host's %s is %s, not the device %u:%u: it cannot be bound in its "
                       "place (no device nodes in a user namespace)",
                       path, file_kind(hst.st_mode), major, minor);
    /* O_EXCL: never open what the image put there (a fifo would block,
     * a symlink could point at the host). */
    int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
      struct stat st;
      if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return kist_fail(err, errno, "stat %s", path);
      if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
        /* A symlink, fifo, socket or directory from the image: replace it. */
        if (unlinkat(pfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
          return kist_fail(err, errno, "replace %s", path);
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
          return kist_fail(err, errno, "create %s", path);
      }
    } else if (fd < 0) {
      return kist_fail(err, errno, "create %s", path);
    }
    if (fd >= 0)
      close(fd);
    cleanup_close int tfd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (tfd < 0 || fstat(tfd, &st) < 0)
      return kist_fail(err, errno, "open %s", path);
    /* Swapped for a symlink since it was made: never mount through it. */
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
      return kist_fail(err, 0, "%s was replaced by %s while it was made", path,
                       file_kind(st.st_mode));
    char p[KIST_FD_PATH_MAX], hp[KIST_FD_PATH_MAX];
    if (mount(kist_fd_path(hfd, hp), kist_fd_path(tfd, p), NULL, MS_BIND, NULL) < 0)
      return kist_fail(err, errno, "bind mount the host's %s", path);
    return 0;
  }
  /* From here only the node we made is touched, through an fd: the name
   * may be a symlink to a host file by now (a volume the container shares). */
  cleanup_close int nfd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (nfd < 0 || fstat(nfd, &st) < 0)
    return kist_fail(err, errno, "open %s", path);
  if (!is_node(&st, type, rdev) || st.st_nlink != 1)
    return kist_fail(err, 0, "%s was replaced by %s while it was made", path,
                     file_kind(st.st_mode));
  if (st.st_uid != uid || st.st_gid != gid) {
    if (fchownat(nfd, "", uid, gid, AT_EMPTY_PATH) < 0)
      return kist_fail(err, errno, "chown %s", path);
    /* chown may have dropped set-id bits: look at the mode again. */
    if (fstat(nfd, &st) < 0)
      return kist_fail(err, errno, "stat %s", path);
  }
  /* An image's node keeps its own mode: chmod the inode itself (no fchmod
   * on O_PATH; the fd's magic link is that inode, not a path lookup). */
  char p[KIST_FD_PATH_MAX];
  if ((st.st_mode & 07777) != (mode & 07777) && chmod(kist_fd_path(nfd, p), mode & 07777) < 0)
    return kist_fail(err, errno, "chmod %s", path);
  return 0;
}

static bool overridden(const oci_config_linux *l, const char *path)
{
  for (size_t i = 0; l && i < l->devices_len; i++)
    if (strcmp(l->devices[i]->path, path) == 0)
      return true;
  return false;
}

static int make_nodes(const oci_config *cfg, int rootfd, bool new_userns, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  struct node_dir nd = {.fd = -1};
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < ARRAY_SIZE(default_devices); i++) {
    if (overridden(l, default_devices[i].path))
      continue;
    ret = make_node(&nd, rootfd, default_devices[i].path, S_IFCHR, default_devices[i].major,
                    default_devices[i].minor, 0666, 0, 0, new_userns, err);
  }
  for (size_t i = 0; ret == 0 && l && i < l->devices_len; i++) {
    const oci_device *d = l->devices[i];
    mode_t mode = d->file_mode_present ? (mode_t)d->file_mode : 0666;
    ret = make_node(&nd, rootfd, d->path, type_bits(d->type), (unsigned)d->major,
                    (unsigned)d->minor, mode, d->uid_present ? (uid_t)d->uid : 0,
                    d->gid_present ? (gid_t)d->gid : 0, new_userns, err);
  }
  node_dir_close(&nd);
  return ret < 0 ? -1 : 0;
}

int kist_devices_setup(const oci_config *cfg, int rootfd, bool new_userns, kist_error_t *err)
{
  if (dev_is_bind_mounted(cfg))
    return 0;
  /* umask 0 once for all nodes, not around every mknod. */
  mode_t old = umask(0);
  int r = make_nodes(cfg, rootfd, new_userns, err);
  umask(old);
  if (r < 0)
    return -1;
  cleanup_close int devfd = kist_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
  if (devfd < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(default_links); i++)
    if (symlinkat(default_links[i].target, devfd, default_links[i].path) < 0 && errno != EEXIST)
      return kist_fail(err, errno, "symlink /dev/%s", default_links[i].path);
  if (!config_mounts(cfg, "/dev/pts")) {
    cleanup_close int pts = kist_mkdir_in_root(rootfd, "/dev/pts", 0755, err);
    if (pts < 0)
      return -1;
    char p[KIST_FD_PATH_MAX];
    if (mount("devpts", kist_fd_path(pts, p), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") < 0)
      return kist_fail(err, errno, "mount devpts on /dev/pts");
  }
  /* /dev/ptmx must be the container's devpts instance, not a host node. */
  if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
    return kist_fail(err, errno, "remove /dev/ptmx");
  if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
    return kist_fail(err, errno, "symlink /dev/ptmx");
  return 0;
}
