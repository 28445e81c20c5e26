/* linux.namespaces, user-ns id maps, time offsets.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_NAMESPACES_H
#define KIST_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* Types known, no duplicates, every `path` opens and is a namespace of the
 * declared type (NS_GET_NSTYPE), maps present iff user ns, ... Errors name
 * the field: "linux.namespaces[2].path: /proc/1/ns/net is a net namespace, not ipc". */
int kist_ns_validate(const oci_config *cfg, kist_error_t *err);

/* The linux.namespaces entry of TYPE ("network", "user", ...), or NULL. */
const oci_namespace_reference *kist_ns_find(const oci_config *cfg, const char *type);

enum kist_ns_kind {
  KIST_NS_USER, /* first: joining it changes what the other joins may do */
  KIST_NS_IPC,
  KIST_NS_UTS,
  KIST_NS_NET,
  KIST_NS_PID,
  KIST_NS_CGROUP,
  KIST_NS_TIME,
  KIST_NS_MNT, /* last: it changes the root the other paths resolve in */
  KIST_NS_COUNT,
};

/* What create does with namespaces, decided (and checked) in the parent. */
struct kist_ns_plan {
  int new_flags;              /* CLONE_NEW* to create */
  int join_fd[KIST_NS_COUNT]; /* -1, or an open namespace fd to setns() */
  bool joins;                 /* any join_fd >= 0 */
  /* The container gets a mount namespace of its own (new, or joined by path
   * and not the runtime's): only then may rootfs setup mount anything. */
  bool private_mnt;
};

/* kist_ns_validate + opens the namespaces to join. */
int kist_ns_plan(const oci_config *cfg, struct kist_ns_plan *plan, kist_error_t *err);
void kist_ns_plan_release(struct kist_ns_plan *plan);

/* True when the init must be a second process: setns/unshare of a pid or
 * time namespace only applies to children. Only on the slow path (clone
 * makes a new pid namespace itself otherwise). */
bool kist_ns_plan_needs_fork(const struct kist_ns_plan *plan);

/* The CLONE_NEW* flag of a kind, and the spec's name ("network"). */
int kist_ns_flag(enum kist_ns_kind k);
const char *kist_ns_name(enum kist_ns_kind k);

/* In the init: setns() every planned join, user first, mount last. */
int kist_ns_join_all(const struct kist_ns_plan *plan, kist_error_t *err);

/* Parent: writes linux.uidMappings/gidMappings for PID's user namespace
 * (userns.c: directly, or through newuidmap/newgidmap when not root). */
int kist_ns_write_id_maps(pid_t pid, const oci_config *cfg, kist_error_t *err);

/* The same for any mapping pair; errors name FIELD.uidMappings/gidMappings. */
int kist_ns_write_maps(pid_t pid, oci_id_mapping **uid, size_t nuid, oci_id_mapping **gid,
                       size_t ngid, const char *field, kist_error_t *err);

/* Init, after unshare(CLONE_NEWTIME) and before the fork that enters it:
 * writes linux.timeOffsets to /proc/self/timens_offsets. */
int kist_ns_write_time_offsets(const oci_config *cfg, kist_error_t *err);

/* After creating or joining a user namespace: become its root (uid and gid
 * 0, no supplementary groups where setgroups is allowed), what the setup
 * that follows needs. */
int kist_ns_become_root(kist_error_t *err);

#endif
