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
#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Faults in, writable, the pages of [lo, hi) that are present: pages the
 * child still shares with kist copy-on-write. */
static void populate_present(uintptr_t lo, uintptr_t hi, size_t page)
{
  unsigned char vec[256];
  lo &= ~(page - 1);
  hi = (hi + page - 1) & ~(page - 1);
  for (; lo < hi; lo += sizeof vec * page) {
    size_t n = (hi - lo) / page < sizeof vec ? (hi - lo) / page : sizeof vec;
    if (mincore((void *)lo, n * page, vec) < 0)
      return;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && (vec[j] & 1))
        j++;
      if (j > i)
        madvise((void *)(lo + i * page), (j - i) * page, MADV_POPULATE_WRITE);
      i = j + 1;
    }
  }
}

/* The writable segments (.data, .bss; not the part made read-only after
 * relocation, where a write fault fails the whole call) and the thread's
 * TLS block of each loaded object. */
static int populate_object(struct dl_phdr_info *info, size_t size, void *data)
{
  (void)size;
  size_t page = *(size_t *)data;
  uintptr_t relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_GNU_RELRO)
      relro_end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
  }
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
      populate_present(lo > relro_end ? lo : (relro_end + page - 1) & ~(page - 1), hi, page);
    else if (ph->p_type == PT_TLS && info->dlpi_tls_data)
      populate_present((uintptr_t)info->dlpi_tls_data, (uintptr_t)info->dlpi_tls_data + ph->p_memsz,
                       page);
  }
  return 0;
}

/* What the child writes after the move is charged to the container's
 * memory cgroup: copies of the heap pages it still shares with kist, and
 * stack it had not used. That is kist's memory, not the container's, and
 * gone at execve; taken before the move it stays with the runtime's cgroup,
 * which the shared originals are charged to anyway (they are freed when
 * kist exits). Best effort: a failure only moves the charge back. */
static void prefault_private_memory(void)
{
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  /* The stack the setup goes on to use (it stays under 16 KiB deeper). */
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)(page - 1);
  madvise((void *)(sp - 4 * page), 4 * page, MADV_POPULATE_WRITE);
  /* The main heap: [break - arena, break); and the head of its free top
   * chunk, where the setup's next allocations are carved (up to 64 KiB). */
  struct mallinfo2 mi = mallinfo2();
  uintptr_t top = (uintptr_t)sbrk(0);
  if (mi.arena > 0 && mi.arena < top) {
    populate_present(top - mi.arena, top, page);
    if (mi.keepcost > 0 && mi.keepcost <= mi.arena) {
      uintptr_t fresh = (top - mi.keepcost) & ~(uintptr_t)(page - 1);
      size_t ahead = top - fresh < 16 * page ? top - fresh : 16 * page;
      madvise((void *)fresh, ahead, MADV_POPULATE_WRITE);
    }
  }
  dl_iterate_phdr(populate_object, (void *)&page);
}

int kist_cgroup_self_enter(struct kist_cg_self *s, kist_error_t *err)
{
  int ret = 0;
  if (s->n > 0)
    prefault_private_memory();
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
