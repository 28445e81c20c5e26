/* Every path the config names inside the rootfs is resolved here, with the
 * rootfs as "/": a symlink in an image ("dev -> /") can redirect a mount
 * inside the rootfs but never onto the host.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "paths.h"
#include "util.h"

#define MAX_SYMLINKS 40

const char *kist_fd_path(int fd, char buf[KIST_FD_PATH_MAX])
{
  kist_snprintf(buf, KIST_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

char *kist_path_clean(const char *path)
{
  size_t n = strlen(path);
  char *out = xmalloc(n + 2);
  size_t o = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *e = p;
    while (*e && *e != '/')
      e++;
    size_t len = (size_t)(e - p);
    if (len == 0 || (len == 1 && p[0] == '.')) {
      /* nothing */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--; /* the slash before the dropped component */
    } else {
      out[o++] = '/';
      memcpy(out + o, p, len);
      o += len;
    }
    p = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

static bool have_openat2 = true;

static bool same_inode(int a, int b)
{
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* The fallback for kernels without openat2: walk one component at a time
 * with O_NOFOLLOW, expanding symlinks ourselves against rootfd. */
static int walk_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
  char buf[PATH_MAX * 2];
  if (strlen(path) >= sizeof buf / 2) {
    errno = ENAMETOOLONG;
    return -1;
  }
  kist_snprintf(buf, sizeof buf, "%s", path);
  char *rest = buf;
  int links = 0;
  int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return -1;
  for (;;) {
    while (*rest == '/')
      rest++;
    if (*rest == '\0') {
      /* The path named the root itself (or a dir we stand in). */
      int fd = openat(cur, ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC, mode);
      int e = errno;
      close(cur);
      errno = e;
      return fd;
    }
    char *slash = strchr(rest, '/');
    char comp[NAME_MAX + 1];
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len > NAME_MAX) {
      close(cur);
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(comp, rest, len);
    comp[len] = '\0';
    rest += len;
    bool last = true;
    for (const char *q = rest; *q; q++)
      if (*q != '/')
        last = false;
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      if (!same_inode(cur, rootfd)) {
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        close(cur);
        if (up < 0)
          return -1;
        cur = up;
      }
      continue;
    }
    struct stat st;
    if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
        !(last && (flags & O_NOFOLLOW))) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(cur, comp, target, sizeof target - 1);
      if (n < 0 || ++links > MAX_SYMLINKS || (size_t)n + strlen(rest) + 2 > sizeof buf) {
        int e = n < 0 ? errno : ELOOP;
        close(cur);
        errno = e;
        return -1;
      }
      target[n] = '\0';
      /* New path = target + rest; an absolute target restarts at the root. */
      char tmp[sizeof buf];
      size_t rl = strlen(rest);
      memcpy(tmp, target, (size_t)n);
      memcpy(tmp + n, rest, rl + 1);
      memcpy(buf, tmp, (size_t)n + rl + 1);
      rest = buf;
      if (target[0] == '/') {
        close(cur);
        cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
          return -1;
      }
      continue;
    }
    int fd = last ? openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode)
                  : openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(cur);
    if (fd < 0) {
      errno = e;
      return -1;
    }
    if (last)
      return fd;
    cur = fd;
  }
}

static int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
  if (have_openat2) {
    struct open_how how = {
      .flags = (unsigned)(flags | O_CLOEXEC),
      .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    for (;;) {
      int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
      if (fd >= 0)
        return fd;
      /* EAGAIN: a concurrent rename/mount raced the lookup; retry. */
      if (errno == EAGAIN || errno == EINTR)
        continue;
      if (errno != ENOSYS)
        return -1;
      have_openat2 = false;
      break;
    }
  }
  return walk_in_root(rootfd, path, flags, mode);
}

int kist_open_in_root(int rootfd, const char *path, int flags, mode_t mode, kist_error_t *err)
{
  int fd = open_in_root(rootfd, path, flags, mode);
  if (fd < 0)
    return kist_fail(err, errno, "open %s in the rootfs", path);
  return fd;
}

/* Creates the missing tail of path one component at a time; every prefix is
 * re-resolved from rootfd, so a symlinked component is followed inside the
 * rootfs and a newly made directory is never trusted by name alone. */
static int mkdir_walk(int rootfd, const char *path, mode_t mode, kist_error_t *err)
{
  cleanup_free char *p = xstrdup(path);
  size_t n = strlen(p);
  cleanup_close int parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return kist_fail(err, errno, "dup rootfs fd");
  size_t i = 0;
  while (i < n) {
    while (i < n && p[i] == '/')
      i++;
    if (i >= n)
      break;
    size_t j = i;
    while (j < n && p[j] != '/')
      j++;
    char saved = p[j];
    p[j] = '\0';
    int fd = open_in_root(rootfd, p, O_PATH | O_DIRECTORY, 0);
    if (fd < 0 && errno == ENOENT) {
      if (mkdirat(parent, p + i, mode) < 0 && errno != EEXIST)
        return kist_fail(err, errno, "mkdir %s in the rootfs", p);
      fd = open_in_root(rootfd, p, O_PATH | O_DIRECTORY, 0);
    }
    if (fd < 0)
      return kist_fail(err, errno, "open %s in the rootfs", p);
    close(parent);
    parent = fd;
    p[j] = saved;
    i = j;
  }
  return steal_fd(&parent);
}

int kist_mkdir_in_root(int rootfd, const char *path, mode_t mode, kist_error_t *err)
{
  /* The common case first: the mountpoint already exists. */
  int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return kist_fail(err, errno, "open %s in the rootfs", path);
  return mkdir_walk(rootfd, path, mode, err);
}

int kist_mkfile_in_root(int rootfd, const char *path, mode_t mode, kist_error_t *err)
{
  int fd = open_in_root(rootfd, path, O_PATH, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return kist_fail(err, errno, "open %s in the rootfs", path);
  cleanup_free char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  const char *base = path;
  cleanup_close int pfd = -1;
  if (slash != NULL) {
    base = path + (slash - dir) + 1;
    *slash = '\0';
    pfd = kist_mkdir_in_root(rootfd, dir[0] ? dir : "/", 0755, err);
    if (pfd < 0)
      return -1;
  } else {
    pfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  }
  if (*base == '\0')
    return kist_fail(err, EISDIR, "open %s in the rootfs", path);
  int cfd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (cfd < 0 && errno != EEXIST)
    return kist_fail(err, errno, "create %s in the rootfs", path);
  if (cfd >= 0)
    close(cfd);
  fd = open_in_root(rootfd, path, O_PATH, 0);
  if (fd < 0)
    return kist_fail(err, errno, "open %s in the rootfs", path);
  return fd;
}
