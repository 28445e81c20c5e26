/* The container's side of create, from clone to execve. The init is a
 * clone of `kist create` (no re-exec): it shares nothing with the parent
 * but inherits a copy of the parsed config, and talks to it only through the
 * sync socket (sync.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_INIT_H
#define KIST_INIT_H

#include <stdbool.h>

#include "context.h"
#include "namespaces.h"
#include "ocispec.h"
#include "seccomp.h"

struct kist_init_args {
  const struct kist_context *ctx;
  const char *id;
  const oci_config *cfg;
  const char *bundle; /* absolute */
  const char *rootfs; /* absolute */
  int sync_fd;        /* the init's end of the socketpair */
  int listen_fd;      /* the start socket, -1 when `run` starts right away */
  int console_fd;     /* connected console socket, -1 without a terminal */
  int preserve_fds;   /* fds 3 .. 3+N-1 pass into the container */
  bool no_pivot;
  bool no_new_keyring;
  const struct kist_ns_plan *ns;
  int clone_flags;  /* the CLONE_NEW* flags clone already applied */
  bool into_cgroup; /* clone placed the init in its cgroup */
  bool slow_path;   /* namespaces are joined/made after clone (joins, time ns) */
  struct kist_seccomp *seccomp;
  const int *idmap_fds; /* cfg->mounts_len detached idmapped trees or -1 (idmap.c), or NULL */
  struct kist_cg_self *cg_self; /* enter the v1 cgroups first thing (cgroup-self.c), or NULL */
};

/* Runs in the cloned child; never returns. Errors go to the parent as one
 * KIST_SYNC_ERROR (exit code hint 127/126 when args[0] is the problem) and
 * the process exits. */
_Noreturn void kist_init_main(const struct kist_init_args *a);

#endif
