/* A new process entering its v1 cgroups by itself (see cgroup-self.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CGROUP_SELF_H
#define KIST_CGROUP_SELF_H

#include <stdbool.h>
#include <stddef.h>

#include "cgroup-internal.h"
#include "error.h"

struct kist_cg_self {
  size_t n;                     /* 0: does not apply, the parent enters the child */
  int fd[KIST_CG_MAX_HIER];     /* `tasks` of each v1 dir, open for writing */
  char *path[KIST_CG_MAX_HIER]; /* the dirs, for messages */
  int v2_fd;                    /* the hybrid v2 dir, for CLONE_INTO_CGROUP, or -1 */
};

/* Parent, before the clone: when cg can be entered that way (no systemd
 * unit; at most one v2 dir, left to CLONE_INTO_CGROUP), opens what the
 * child needs and sets s->n > 0. Otherwise s->n = 0 and nothing is open. */
int kist_cgroup_self_prepare(const struct kist_cgroup *cg, struct kist_cg_self *s,
                             kist_error_t *err);

/* Child, single-threaded, before anything else: moves itself into every v1
 * dir and closes the fds. */
int kist_cgroup_self_enter(struct kist_cg_self *s, kist_error_t *err);

/* Parent: closes and frees (any time, also when n is 0). */
void kist_cgroup_self_release(struct kist_cg_self *s);

#endif
