/* `kist exec`: a new process in an existing container. It joins every
 * namespace of the container's init, its cgroup (or a sub-cgroup), and gets
 * the container's seccomp filter, rlimits, LSM label, no_new_privs and
 * capabilities, exactly as a runtime-spec `process` object says: the
 * container's saved config.json `process`, overridden field by field by
 * --process FILE and then by the flags.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_EXEC_H
#define KIST_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "error.h"
#include "ocispec.h"

struct kist_exec_opts {
  /* ---- the process ---- */
  const char *process_file; /* --process FILE: a runtime-spec process object */
  char *const *args;        /* `-- CMD ARGS...`; overrides process.args */
  size_t args_len;
  const char *cwd;  /* --cwd (absolute) */
  char *const *env; /* -e KEY=VALUE: replaces KEY or is appended */
  size_t env_len;
  int tty; /* -t: 1; --tty=false: 0; -1: not given (the process file decides, else no) */
  bool uid_set, gid_set;
  uint32_t uid, gid;               /* -u UID[:GID] */
  const uint32_t *additional_gids; /* -g, appended */
  size_t additional_gids_len;
  char *const *caps; /* --cap: added to bounding/effective/permitted (and ambient
                        when inheritable already has it), never to inheritable */
  size_t caps_len;
  bool no_new_privs;         /* --no-new-privs */
  const char *process_label; /* --process-label (SELinux) */
  const char *apparmor;      /* --apparmor */
  /* ---- how ---- */
  bool detach;                /* -d: return once the process runs */
  const char *pid_file;       /* the process's pid, in kist's pid namespace */
  const char *console_socket; /* receives the pty master (SCM_RIGHTS) */
  int preserve_fds;           /* fds 3 .. 3+N-1 pass into the process */
  char *const *cgroups;       /* --cgroup [CTRL[,CTRL]:]PATH, relative to the container's cgroup */
  size_t cgroups_len;
  bool ignore_paused; /* exec into a paused container (the process starts frozen) */
};

/* Runs the process. In the foreground: forwards signals, relays the terminal
 * when -t without --console-socket, and sets *exit_status to the process's
 * exit code (128+N when killed by signal N). With detach it returns once
 * the process was executed (*exit_status 0). On error *exit_status is 255,
 * or 127 (command not found) / 126 (not executable). */
int kist_container_exec(const struct kist_context *ctx, const char *id,
                        const struct kist_exec_opts *o, int *exit_status, kist_error_t *err);

/* The effective process: base (the container's config.json process, may be
 * NULL), overridden by --process and the flags of o. Fields point into base,
 * into the parsed file or into storage of the result: free the result with
 * kist_exec_process_free, before base. Exposed for unit tests. */
struct kist_exec_process;
int kist_exec_process_build(const oci_config_process *base, const struct kist_exec_opts *o,
                            struct kist_exec_process **out, kist_error_t *err);
const oci_config_process *kist_exec_process_get(const struct kist_exec_process *ep);
void kist_exec_process_free(struct kist_exec_process *ep);

/* Parses a runtime-spec `process` object (the JSON text of --process).
 * Errors name the file and the field: "proc.json:3:10: process.cwd: ...". */
int kist_exec_process_parse(const char *data, size_t len, const char *source, oci_config **wrapper,
                            kist_error_t *err);

#endif
