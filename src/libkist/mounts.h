/* root, mounts, rootfsPropagation, pivot_root.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_MOUNTS_H
#define KIST_MOUNTS_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

/* Checks mounts before anything is made: destinations absolute, known
 * options and propagation flags, no mount that would be refused over /proc
 * (only proc itself may go on /proc; nothing on /proc/... except the masks). */
int kist_mounts_validate(const oci_config *cfg, kist_error_t *err);

/* Every mount option kist understands (for `kist features` mountOptions),
 * NULL-terminated: flags, propagation, recursive attributes (rro, ...),
 * tmpcopyup, idmap/ridmap (bind mounts only). */
extern const char *const kist_mount_option_names[];

/* What the init knows that mounts need beyond the config. */
struct kist_mount_env {
  const char *bundle;   /* relative bind sources are relative to it */
  bool new_userns;      /* mknod/sysfs/cgroup-v1 are refused: bind instead */
  bool new_netns;       /* sysfs may be mounted fresh */
  bool new_cgroupns;    /* cgroup2 may be mounted fresh */
  char *proc_cgroup;    /* /proc/self/cgroup read before the cgroup ns was made, or NULL */
  const int *idmap_fds; /* per mount: a detached idmapped tree (idmap.c) or -1; or NULL */
};

/* True when the config mounts something of type cgroup/cgroup2 (the init
 * then reads /proc/self/cgroup before unsharing the cgroup namespace). */
bool kist_mounts_need_cgroup_paths(const oci_config *cfg);

/* In the init, right after the mount namespace exists: / becomes rslave
 * (rprivate when rootfsPropagation asks for private/unbindable) so nothing
 * done here reaches the host, then the rootfs is bind-mounted onto itself
 * (pivot_root needs a mount point). Returns an fd of the new rootfs mount. */
int kist_rootfs_prepare(const oci_config *cfg, const char *rootfs, kist_error_t *err);

/* Applies config `mounts` in order under rootfd. */
int kist_mounts_apply(const oci_config *cfg, int rootfd, const struct kist_mount_env *env,
                      kist_error_t *err);

/* pivot_root into rootfd (old root detached), or with no_pivot MS_MOVE +
 * chroot. Afterwards cwd and root are the container's "/". */
int kist_rootfs_pivot(int rootfd, bool no_pivot, kist_error_t *err);

/* After pivot: root.readonly and linux.rootfsPropagation. */
int kist_rootfs_finish(const oci_config *cfg, kist_error_t *err);

/* Without a new mount namespace: only chroot into the rootfs. */
int kist_rootfs_chroot(const char *rootfs, kist_error_t *err);

/* A bind mount: type "bind", or a "bind"/"rbind" option (any type). */
bool kist_mount_is_bind(const oci_mount *m);
/* An "rbind" option: the bind takes the submounts too. */
bool kist_mount_is_rbind(const oci_mount *m);

#endif
