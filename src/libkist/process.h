/* The container process's attributes (config `process` and a few linux.*
 * knobs that belong to the process): user, groups, umask, oomScoreAdj,
 * scheduler, ioPriority, personality, execCPUAffinity, sysctl, hostname,
 * domainname, and finding args[0]. Capabilities live in caps.c, rlimits in
 * rlimits.c, LSM labels in lsm.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_PROCESS_H
#define KIST_PROCESS_H

#include <sched.h>
#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

/* Which namespace isolates a sysctl ("kernel.shmmax" -> "ipc", "net.*" ->
 * "network", "kernel.hostname" -> "uts"); NULL when it is not namespaced. */
const char *kist_sysctl_namespace(const char *key);

/* Parses a cpu list "0-3,7" (spaces allowed) into a CPU_ALLOC'd set; an
 * empty list gives *set = NULL. Errors name field. */
int kist_cpu_list_parse(const char *list, cpu_set_t **set, size_t *setsize, const char *field,
                        kist_error_t *err);

/* Checks everything that can be checked before clone: unknown capability,
 * rlimit, scheduler policy, ioPriority class, personality domain, sysctl
 * that is not namespaced, LSM label asked for while the LSM is off, hooks
 * (kist_hooks_validate), ... Runs in the parent. Errors name the JSON field. */
int kist_process_validate(const oci_config *cfg, kist_error_t *err);

/* In the container's init, after pivot_root, still root with all caps and
 * before waiting for `start`: hostname, domainname, sysctl (via the
 * container's /proc/sys), rlimits, oomScoreAdj, scheduler, ioPriority,
 * personality, execCPUAffinity (initial), umask. */
int kist_process_setup(const oci_config *cfg, kist_error_t *err);

/* The part of kist_process_setup every process of a container gets, the
 * init's and exec's alike, while still privileged: linux.personality (pe,
 * may be NULL), rlimits, scheduler, ioPriority, execCPUAffinity.initial,
 * umask (when set). */
int kist_process_apply_attrs(const oci_config_process *p, const oci_personality *pe,
                             kist_error_t *err);

/* Resolves process.args[0] like execvp (process.env's PATH, else the default
 * PATH) inside the root given by rootfd (openat2 RESOLVE_IN_ROOT: symlinks
 * never leave it). *path is the path inside that root. *exit_code is set to
 * 127 (not found) or 126 (not executable) when that is why it failed. Used by
 * init after pivot_root (rootfd = open("/")) and by `kist check`. */
int kist_process_find_executable(int rootfd, const oci_config_process *p, char **path,
                                 int *exit_code, kist_error_t *err);

/* Last steps before exec: additionalGids/setgroups, setresgid, setresuid
 * keeping the capabilities (PR_SET_KEEPCAPS), then caps (caps.c), ambient,
 * noNewPrivileges. chdir(cwd) is checked here too (must exist, a dir). */
int kist_process_become(const oci_config_process *p, kist_error_t *err);

/* Whether p keeps CAP_SYS_ADMIN in its effective set. */
bool kist_process_keeps_cap_sys_admin(const oci_config_process *p);

/* The last steps before execve, for the init and exec alike: the LSM exec
 * label, kist_process_become, and the seccomp filter sc (may be NULL) as late
 * as the kernel allows (before the capabilities go when neither
 * no_new_privs nor CAP_SYS_ADMIN will be there to load it after). A NOTIFY
 * listener is sent over report_fd (KIST_SYNC_SECCOMP_FD). */
struct kist_seccomp;
int kist_process_finish(const oci_config_process *p, struct kist_seccomp *sc, int report_fd,
                        kist_error_t *err);

#endif
