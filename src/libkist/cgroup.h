/* cgroups: mode detection and the driver interface (v1, hybrid, v2, systemd).
 * The lifecycle code only talks to this header.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CGROUP_H
#define KIST_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"
#include "ocispec.h"

enum kist_cgroup_mode { KIST_CGROUP_V1, KIST_CGROUP_HYBRID, KIST_CGROUP_V2 };

struct kist_cgroup; /* opaque: which dirs, which were created by kist */

/* Detected once per invocation (statfs of /sys/fs/cgroup and .../unified). */
enum kist_cgroup_mode kist_cgroup_mode(void);

/* Checks linux.cgroupsPath and linux.resources before anything is created
 * (impossible values, unsupported controllers); errors name the JSON field. */
int kist_cgroup_validate(const struct kist_context *ctx, const char *id, const oci_config *cfg,
                         kist_error_t *err);

/* Creates (or joins, when it exists and kist did not create it) the container's
 * cgroup in every hierarchy and applies linux.resources. No process is put in
 * it yet. On failure nothing created is left behind. With state_dirfd >= 0
 * every directory made is recorded there (kist_cgroup_save) as soon as it
 * exists, so that a kist killed halfway leaves delete something to remove. */
int kist_cgroup_create(const struct kist_context *ctx, const char *id, const oci_config *cfg,
                       int state_dirfd, struct kist_cgroup **out, kist_error_t *err);

/* A dirfd of the v2 cgroup for clone3 CLONE_INTO_CGROUP, or -1 when the
 * container does not live (only) in a v2 tree. Owned by cg. */
int kist_cgroup_v2_fd(const struct kist_cgroup *cg);

/* Moves pid into the cgroup in every hierarchy. */
int kist_cgroup_enter(const struct kist_cgroup *cg, pid_t pid, kist_error_t *err);

/* Persists / reloads what delete, kill --all, ps, pause need, in the
 * container's state directory (a file named "cgroup"). load: *out is NULL
 * (and 0 returned) when the state has no cgroup file. Loading touches
 * nothing under /sys/fs/cgroup. */
int kist_cgroup_save(const struct kist_cgroup *cg, int state_dirfd, kist_error_t *err);
/* The cgroup record TEXT (a state dir's "cgroup" file; parsed in place). */
int kist_cgroup_parse(char *text, struct kist_cgroup **out, kist_error_t *err);
int kist_cgroup_load(const struct kist_context *ctx, int state_dirfd, struct kist_cgroup **out,
                     kist_error_t *err);

/* The container's cgroup path as seen in /proc/PID/cgroup ("/kist-ID"). */
const char *kist_cgroup_path(const struct kist_cgroup *cg);

/* Lists every pid in the cgroup and the sub-cgroups the container made
 * (all hierarchies agree; the pids one, or the v2 tree, is read). */
int kist_cgroup_pids(const struct kist_cgroup *cg, pid_t **pids, size_t *n, kist_error_t *err);

/* True when kist created the container's cgroup in every hierarchy; false
 * for a joined one (cgroupsPath naming an existing cgroup), which
 * kist_cgroup_kill refuses: callers then signal the init pid only. */
bool kist_cgroup_owned(const struct kist_cgroup *cg);
/* No cgroup at all (rootless kist without a writable hierarchy). */
bool kist_cgroup_none(const struct kist_cgroup *cg);

/* Signals every process in the cgroup. Refuses (error, EPERM) unless kist
 * created this cgroup: never a joined or the root cgroup (safety rule).
 * SIGKILL returns once the cgroup is empty. */
int kist_cgroup_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err);

/* True when the cgroup has no processes left. */
bool kist_cgroup_is_empty(const struct kist_cgroup *cg);

int kist_cgroup_freeze(const struct kist_cgroup *cg, kist_error_t *err);
int kist_cgroup_thaw(const struct kist_cgroup *cg, kist_error_t *err);
/* True when the freezer reports frozen. */
bool kist_cgroup_is_frozen(const struct kist_cgroup *cg);

/* kist update: writes linux.resources (the merged config: every value it
 * sets, not only the changed ones) to the live cgroup, as create does, but
 * leaves the device rules alone (as runc does). Every file is read before
 * anything is written; on failure the old values are put back and the error
 * names the field ("linux.resources.memory.limit: ..."). With
 * memory.checkBeforeUpdate a v2 memory.max below memory.current is refused.
 * With a systemd unit its properties are updated as well. On success *undo
 * (when undo is not NULL) can still put the old values back, e.g. when the
 * new config cannot be saved: kist_cgroup_undo_finish(u, true). */
struct kist_cgroup_undo;
int kist_cgroup_update(struct kist_cgroup *cg, const oci_config_linux *lin,
                       struct kist_cgroup_undo **undo, kist_error_t *err);
void kist_cgroup_undo_finish(struct kist_cgroup_undo *u, bool restore);

/* How many processes the OOM killer killed in the container's memory
 * cgroup (0 when unknown: no memory controller, or v1 before Linux 4.13). */
uint64_t kist_cgroup_oom_kills(const struct kist_cgroup *cg);

/* Removes the directories kist created (waits briefly for them to empty);
 * a joined cgroup is left alone. */
int kist_cgroup_destroy(const struct kist_cgroup *cg, kist_error_t *err);

void kist_cgroup_free(struct kist_cgroup *cg);

#endif
