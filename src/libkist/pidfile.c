/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "pidfile.h"
#include "util.h"

int kist_pid_file_open(const char *path, struct kist_pid_file *pf, kist_error_t *err)
{
  pf->dirfd = -1;
  pf->base = NULL;
  if (path == NULL)
    return 0;
  cleanup_free char *d = xstrdup(path);
  char *slash = strrchr(d, '/');
  const char *dir = ".", *base = path;
  if (slash) {
    *slash = '\0';
    dir = d[0] ? d : "/";
    base = slash + 1;
  }
  if (base[0] == '\0')
    return kist_fail(err, EISDIR, "--pid-file %s: names a directory", path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "--pid-file %s: directory %s", path, dir);
  /* Found now, not after the process runs (it would be killed then). */
  struct stat st;
  if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return kist_fail(err, EISDIR, "--pid-file %s: names a directory", path);
  }
  pf->dirfd = fd;
  pf->base = xstrdup(base);
  return 0;
}

int kist_pid_file_write(const struct kist_pid_file *pf, pid_t pid, kist_error_t *err)
{
  if (pf->dirfd < 0)
    return 0;
  char buf[16];
  int n = kist_snprintf(buf, sizeof buf, "%d", (int)pid);
  return write_file_atomic_at(pf->dirfd, pf->base, buf, (size_t)n, 0644, err);
}

void kist_pid_file_close(struct kist_pid_file *pf)
{
  if (pf->dirfd >= 0)
    close(pf->dirfd);
  pf->dirfd = -1;
  free(pf->base);
  pf->base = NULL;
}
