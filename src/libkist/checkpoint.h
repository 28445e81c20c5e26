/* checkpoint and restore with CRIU (libcriu, loaded on demand).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CHECKPOINT_H
#define KIST_CHECKPOINT_H

#include <stdbool.h>

#include "context.h"
#include "error.h"

struct kist_criu_common {
  const char *image_path;   /* default "checkpoint" (as runc) */
  const char *work_path;    /* default: the image path */
  const char *cgroups_mode; /* --manage-cgroups-mode: soft|full|strict|ignore; NULL soft */
  bool tcp_established, ext_unix_sk, shell_job, file_locks, lazy_pages;
};

struct kist_checkpoint_opts {
  struct kist_criu_common c;
  const char *parent_path; /* previous (pre-)dump, relative to the image dir or absolute */
  bool leave_running, pre_dump, auto_dedup;
  bool empty_net; /* --empty-ns network: the net namespace is not dumped */
};

/* Dumps a running container into the image directory. Unless leave_running
 * or pre_dump, the container's processes are gone afterwards and the
 * container is deleted (its id is free for a restore). */
int kist_container_checkpoint(const struct kist_context *ctx, const char *id,
                              const struct kist_checkpoint_opts *o, kist_error_t *err);

struct kist_restore_opts {
  struct kist_criu_common c;
  const char *bundle; /* NULL: the current directory */
  const char *pid_file;
  const char *console_socket;
  const char *lsm_profile;       /* --lsm-profile TYPE:NAME, for CRIU (else the dumped one) */
  const char *lsm_mount_context; /* --lsm-mount-context, for CRIU's mounts */
  bool detach;
};

/* Restores a checkpoint as a new container ID built from the bundle's
 * config: its cgroup, its mount sources, its network namespace. Detached:
 * returns once the container runs; else waits for its process, sets
 * *exit_status and deletes the container. */
int kist_container_restore(const struct kist_context *ctx, const char *id,
                           const struct kist_restore_opts *o, int *exit_status, kist_error_t *err);

#endif
