/* Entering v1 cgroups without waiting for the kernel's RCU grace period.
 *
 * Writing another process's pid to cgroup.procs (what runtimes do, and what
 * kist_cgroup_enter does) takes the global cgroup_threadgroup_rwsem for
 * writing; on a quiet system that waits a full RCU grace period, 5-15 ms
 * here, most of a container start. A process that writes "0" to a v1
 * `tasks` file moves only its own thread, and the kernel skips that lock
 * (nothing can exec or exit under it). The init and the exec helper are
 * single-threaded clones, so moving their only thread moves the process.
 * v2 has no per-thread move across domains: the v2 dir (pure v2, or the
 * hybrid "unified") is left to CLONE_INTO_CGROUP, which takes the lock
 * only for reading. On older kernels the write costs what the pid write
 * costs: nothing is lost.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-self.h"
#include "util.h"

int kist_cgroup_self_prepare(const struct kist_cgroup *cg, struct kist_cg_self *s,
                             kist_error_t *err)
{
  memset(s, 0, sizeof *s);
  s->v2_fd = -1;
  if (cg == NULL || cg->sd || cg->n == 0)
    return 0;
  size_t v2 = 0, v1 = 0;
  for (size_t i = 0; i < cg->n; i++) {
    if (cg->d[i].v2)
      v2++;
    else
      v1++;
  }
  if (v1 == 0 || v2 > 1)
    return 0;
  for (size_t i = 0; i < cg->n; i++) {
    const struct kist_cg_dir *d = &cg->d[i];
    if (d->v2) {
      s->v2_fd = kist_cg_dir_open(d, err);
      if (s->v2_fd < 0)
        goto fail;
      continue;
    }
    cleanup_close int owned = -1;
    int dfd = kist_cg_dir_fd(d, &owned, err);
    if (dfd < 0)
      goto fail;
    char *path = kist_cg_dir_path(d);
    int fd = openat(dfd, "tasks", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      kist_fail(err, errno, "open %s/tasks", path);
      free(path);
      goto fail;
    }
    s->fd[s->n] = fd;
    s->path[s->n++] = path;
  }
  return 0;
fail:
  kist_cgroup_self_release(s);
  return -1;
}

int kist_cgroup_self_enter(struct kist_cg_self *s, kist_error_t *err)
{
  int ret = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (ret == 0 && write(s->fd[i], "0", 1) < 0)
      ret = kist_fail(err, errno, "enter %s (write 0 to tasks)", s->path[i]);
    close(s->fd[i]);
    s->fd[i] = -1;
  }
  return ret;
}

void kist_cgroup_self_release(struct kist_cg_self *s)
{
  for (size_t i = 0; i < s->n; i++) {
    if (s->fd[i] >= 0)
      close(s->fd[i]);
    free(s->path[i]);
  }
  s->n = 0;
  if (s->v2_fd >= 0)
    close(s->v2_fd);
  s->v2_fd = -1;
}
