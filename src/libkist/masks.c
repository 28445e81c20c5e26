/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "masks.h"
#include "paths.h"
#include "util.h"

int kist_masks_validate(const oci_config *cfg, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->masked_paths_len; i++)
    if (l->masked_paths[i][0] != '/')
      return kist_fail(err, 0, "linux.maskedPaths[%zu]: '%s' is not an absolute path", i,
                       l->masked_paths[i]);
  for (size_t i = 0; l && i < l->readonly_paths_len; i++)
    if (l->readonly_paths[i][0] != '/')
      return kist_fail(err, 0, "linux.readonlyPaths[%zu]: '%s' is not an absolute path", i,
                       l->readonly_paths[i]);
  return 0;
}

/* Opens a path for masking; 0 with *fd = -1 when it does not exist. */
static int open_target(int rootfd, const char *path, int *fd, kist_error_t *err)
{
  /* No message built for a path that is simply absent (most of the
   * default list): that would cost strerror and its locale code. */
  *fd = kist_open_in_root(rootfd, path, O_PATH, 0, NULL);
  if (*fd >= 0 || errno == ENOENT || errno == ENOTDIR)
    return 0;
  return kist_fail(err, errno, "open %s in the rootfs", path);
}

static int mask_one(int rootfd, const char *path, size_t i, kist_error_t *err)
{
  cleanup_close int fd = -1;
  if (open_target(rootfd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return kist_fail(err, errno, "linux.maskedPaths[%zu]: stat %s", i, path);
  char p[KIST_FD_PATH_MAX];
  kist_fd_path(fd, p);
  int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
                              : mount("/dev/null", p, NULL, MS_BIND, NULL);
  if (r < 0)
    return kist_fail(err, errno, "linux.maskedPaths[%zu]: mask %s", i, path);
  return 0;
}

static int readonly_one(int rootfd, const char *path, size_t i, kist_error_t *err)
{
  cleanup_close int fd = -1;
  if (open_target(rootfd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  /* A detached recursive copy made read-only before it is attached: there
   * is never a moment where the path is bound but still writable. */
  cleanup_close int tree = (int)syscall(
    SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (tree < 0)
    return kist_fail(err, errno, "linux.readonlyPaths[%zu]: open_tree %s", i, path);
  struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                     MOUNT_ATTR_NOEXEC};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
    return kist_fail(err, errno, "linux.readonlyPaths[%zu]: make %s read-only", i, path);
  if (syscall(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
      0)
    return kist_fail(err, errno, "linux.readonlyPaths[%zu]: mount %s", i, path);
  return 0;
}

int kist_masks_apply(const oci_config *cfg, int rootfd, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  if (l == NULL)
    return 0;
  /* Read-only first: a masked path inside a read-only one stays masked. */
  for (size_t i = 0; i < l->readonly_paths_len; i++)
    if (readonly_one(rootfd, l->readonly_paths[i], i, err) < 0)
      return -1;
  for (size_t i = 0; i < l->masked_paths_len; i++)
    if (mask_one(rootfd, l->masked_paths[i], i, err) < 0)
      return -1;
  return 0;
}
