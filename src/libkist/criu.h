/* CRIU through libcriu, loaded with dlopen when checkpoint/restore need it,
 * so kist neither links against nor requires CRIU. The prototypes are
 * declared here (libcriu's ABI: an opaque options struct and plain C
 * calls), so building kist needs no CRIU headers either.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CRIU_H
#define KIST_CRIU_H

#include <stdbool.h>

#include "error.h"

typedef struct criu_opts criu_opts;

/* enum criu_cg_mode of criu.h */
enum kist_criu_cg_mode {
  KIST_CRIU_CG_IGNORE = 0,
  KIST_CRIU_CG_NONE = 1,
  KIST_CRIU_CG_PROPS = 2,
  KIST_CRIU_CG_SOFT = 3,
  KIST_CRIU_CG_FULL = 4,
  KIST_CRIU_CG_STRICT = 5,
  KIST_CRIU_CG_DEFAULT = 6,
};

struct kist_criu {
  int (*init_opts)(criu_opts **o);
  void (*free_opts)(criu_opts *o);
  int (*set_service_binary)(criu_opts *o, const char *path);
  void (*set_pid)(criu_opts *o, int pid);
  void (*set_images_dir_fd)(criu_opts *o, int fd);
  void (*set_work_dir_fd)(criu_opts *o, int fd);
  int (*set_parent_images)(criu_opts *o, const char *path);
  void (*set_leave_running)(criu_opts *o, bool v);
  void (*set_ext_unix_sk)(criu_opts *o, bool v);
  void (*set_tcp_established)(criu_opts *o, bool v);
  void (*set_shell_job)(criu_opts *o, bool v);
  void (*set_file_locks)(criu_opts *o, bool v);
  void (*set_track_mem)(criu_opts *o, bool v);
  void (*set_auto_dedup)(criu_opts *o, bool v);
  void (*set_orphan_pts_master)(criu_opts *o, bool v);
  void (*set_log_level)(criu_opts *o, int level);
  int (*set_log_file)(criu_opts *o, const char *name);
  int (*set_root)(criu_opts *o, const char *root);
  void (*set_manage_cgroups)(criu_opts *o, bool v);
  void (*set_manage_cgroups_mode)(criu_opts *o, int mode);
  int (*set_freeze_cgroup)(criu_opts *o, const char *path);
  int (*add_ext_mount)(criu_opts *o, const char *key, const char *val);
  int (*add_cg_root)(criu_opts *o, const char *ctrl, const char *path);
  int (*add_inherit_fd)(criu_opts *o, int fd, const char *key);
  int (*add_external)(criu_opts *o, const char *key);
  void (*set_notify_cb)(criu_opts *o, int (*cb)(char *action, void *na));
  int (*get_orphan_pts_master_fd)(void);
  int (*check)(criu_opts *o);
  int (*get_version)(criu_opts *o);
  int (*dump)(criu_opts *o);
  int (*pre_dump)(criu_opts *o);
  int (*restore_child)(criu_opts *o);
  /* Optional: absent from older libcriu (NULL then). */
  void (*set_lazy_pages)(criu_opts *o, bool v);
  int (*set_lsm_profile)(criu_opts *o, const char *name);
  int (*set_lsm_mount_context)(criu_opts *o, const char *name);
};

/* Loads libcriu.so.2 once ($KIST_LIBCRIU overrides the name). Fails with a
 * message saying CRIU is missing and how to get it. */
int kist_criu_load(const struct kist_criu **out, kist_error_t *err);

/* A libcriu call's result as one line: the call, its code, and the first
 * "Error" line of CRIU's log (dir/log), which says what went wrong. */
int kist_criu_fail(kist_error_t *err, int ret, const char *what, int workfd, const char *log);

#endif
