/* kist run by an unprivileged user: what it cannot do, said plainly, and
 * the fallbacks for a container without a cgroup of its own.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_ROOTLESS_H
#define KIST_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "namespaces.h"

/* euid 0 in the initial user namespace: kist may make cgroups, mknod,
 * mount anything... (root in another user namespace is rootless). */
bool kist_privileged(void);

/* After the state root could not be opened or made: when kist is not root,
 * *err gains what to do (XDG_RUNTIME_DIR, --root). */
void kist_rootless_root_hint(const char *root, kist_error_t *err);

/* Before anything exists, for an unprivileged caller: new namespaces need a
 * new (or joined) user namespace, and the id maps must be grantable. */
int kist_rootless_check(const oci_config *cfg, const struct kist_ns_plan *plan, kist_error_t *err);

/* The warning printed when rootless kist first runs a container without a
 * cgroup (none of the hierarchies is writable by the caller): once per
 * login session ($XDG_RUNTIME_DIR/kist.warned-no-cgroup remembers it; without
 * XDG_RUNTIME_DIR, ROOT/.warned-no-cgroup), a debug line after. */
void kist_rootless_warn_no_cgroup(const char *root, const char *id, const char *example_error);

/* The error for a hierarchy the config puts limits in but the caller cannot
 * write; takes over *err (the mkdir error) and names the way out. */
int kist_rootless_cgroup_denied(const char *hier, kist_error_t *err);

/* "container ID has no cgroup" for pause, resume, update, events --stats. */
int kist_rootless_no_cgroup(const char *id, const char *op, kist_error_t *err);

/* The processes of a container without a cgroup: PID and its descendants
 * (from /proc; a process that left the tree, e.g. by a double fork without
 * a pid namespace, is not found). */
int kist_proc_tree(pid_t pid, pid_t **pids, size_t *n, kist_error_t *err);

/* Signals PID's descendants, then PID through PIDFD (or by pid if -1). */
int kist_proc_tree_kill(int pidfd, pid_t pid, int sig, kist_error_t *err);

#endif
