/* libkist: the library behind the kist OCI container runtime.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libkist runs OCI bundles (a config.json and a root filesystem, runtime-spec
 * 1.3.0) the way the kist command does: every function below is what one kist
 * command does, without the argument parsing.  Link with
 * `pkg-config --cflags --libs libkist`.
 *
 * Error convention: every function that can fail returns an int (< 0 on
 * failure) and takes `kist_error_t *err` as its last argument.  On failure
 * *err holds one message, built where the failure happened (it names the
 * path, the JSON field or the container); the caller prints it or passes it
 * up, and frees it with kist_error_release().  *err must be NULL on entry;
 * when it is not, the first error wins and later ones are dropped.
 *
 *   kist_error_t err = NULL;
 *   if (kist_start(ctx, "web", &err) < 0) {
 *     fprintf(stderr, "%s\n", kist_error_message(err));
 *     kist_error_release(&err);
 *   }
 *
 * Process-wide effects a caller must know about:
 *  - kist_create() and kist_run() clone the calling process to make the
 *    container's init.  The clone does not run pthread_atfork handlers:
 *    call them from a single-threaded process (or from a forked child).
 *  - The container's init stays a child of the calling process (the kist
 *    command exits instead): reap it with kist_wait(), or it remains a
 *    zombie after it exits.  kist_state()/kist_inspect() report it as
 *    "stopped" either way.
 *  - kist_run() in the foreground blocks and forwards every catchable signal
 *    of the calling thread while it waits, makes the caller a child
 *    subreaper (for good), and reaps every child of the caller that exits
 *    meanwhile (waitpid(-1)), not only the container's.
 *  - Logging (kist_context_set_debug(), kist_log_to_file()) is process-wide:
 *    errors and warnings that are not returned (e.g. from cleanup after a
 *    failure) go to stderr and to the log file.
 */
#ifndef LIBKIST_H
#define LIBKIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KIST_EXPORT __attribute__((visibility("default")))

/* ---- errors ---- */

typedef struct kist_error *kist_error_t;

/* The message of an error (never NULL for a set error). */
KIST_EXPORT const char *kist_error_message(kist_error_t err);
/* The errno behind the error, or 0 when it was not a system call failure.
 * An unknown container id is ENOENT. */
KIST_EXPORT int kist_error_errno(kist_error_t err);
/* Frees *err and sets it to NULL; NULL-safe. */
KIST_EXPORT void kist_error_release(kist_error_t *err);

/* ---- versions ---- */

/* Version strings: "0.1.0", the git commit, and the runtime-spec version. */
KIST_EXPORT const char *kist_version(void);
KIST_EXPORT const char *kist_commit(void);
KIST_EXPORT const char *kist_spec_version(void);

/* ---- the context: what kist's global flags set ---- */

typedef struct kist_api_context kist_context_t;

/* A context with kist's defaults: state root /run/kist (for a non-root
 * caller with $XDG_RUNTIME_DIR set: $XDG_RUNTIME_DIR/kist), cgroupfs
 * driver, rootless detection "auto", no debug.  Never NULL. */
KIST_EXPORT kist_context_t *kist_context_new(void);
/* NULL-safe.  Containers made through the context keep running. */
KIST_EXPORT void kist_context_free(kist_context_t *ctx);

/* The state root (--root): one directory per container.  root is copied;
 * NULL restores the default.  An empty string is an error. */
KIST_EXPORT int kist_context_set_root(kist_context_t *ctx, const char *root, kist_error_t *err);
KIST_EXPORT const char *kist_context_get_root(const kist_context_t *ctx);
/* --systemd-cgroup: cgroups through systemd; linux.cgroupsPath is then
 * "slice:prefix:name". */
KIST_EXPORT void kist_context_set_systemd_cgroup(kist_context_t *ctx, bool on);
/* --rootless: 1 true, 0 false, -1 auto (the default).  Other values are an
 * error. */
KIST_EXPORT int kist_context_set_rootless(kist_context_t *ctx, int rootless, kist_error_t *err);
/* --debug: debug messages on stderr (and in the log file).  Process-wide. */
KIST_EXPORT void kist_context_set_debug(kist_context_t *ctx, bool on);

/* --log/--log-format: also append log lines to path, as "text" or "json"
 * ({"level":…,"msg":…,"time":…} per line; format NULL keeps the current
 * one).  Process-wide; meant to be called once. */
KIST_EXPORT int kist_log_to_file(const char *path, const char *format, kist_error_t *err);

/* ---- bundles and configs (`kist check`, `kist spec`, `kist features`) ---- */

/* Called once per problem found, with a one-line message. */
typedef void (*kist_problem_fn)(const char *problem, void *data);

/* Lints a bundle without creating anything, like `kist check`: config.json
 * against the schema, the rootfs, process.args[0] and process.cwd inside it,
 * capabilities, rlimits, namespaces, mounts, cgroup resources, seccomp and
 * hook paths.  Each problem goes to report (may be NULL).  Returns the
 * number of problems (0: clean), or -1 with *err set when the bundle or its
 * config.json cannot be read or parsed. */
KIST_EXPORT int kist_config_check(kist_context_t *ctx, const char *bundle, kist_problem_fn report,
                                  void *data, kist_error_t *err);

/* The same checks as an error: 0 when the bundle is clean, else -1 with
 * *err = the first problem (errno EINVAL) or the read/parse error. */
KIST_EXPORT int kist_config_validate(kist_context_t *ctx, const char *bundle, kist_error_t *err);

/* The default config.json `kist spec` writes, as a string to free(); rootless
 * maps the calling user to root in a user namespace. */
KIST_EXPORT int kist_config_default(bool rootless, char **json, kist_error_t *err);

/* Writes the default config.json into bundle (`kist spec`); refuses to
 * overwrite an existing one. */
KIST_EXPORT int kist_spec(const char *bundle, bool rootless, kist_error_t *err);

/* The runtime-spec features JSON of this build (`kist features`); free(). */
KIST_EXPORT int kist_features(char **json, kist_error_t *err);

/* ---- the lifecycle (`kist create`, `start`, `run`, `kill`, `delete`) ---- */

/* Options of create and run; zero-initialise, then set what you need.
 * NULL options mean all defaults. */
struct kist_create_options {
  const char *bundle;         /* NULL: the current directory */
  const char *pid_file;       /* NULL: none; written when the init exists */
  const char *console_socket; /* AF_UNIX socket that receives the pty master;
                                 required with process.terminal, except for
                                 kist_run() in the foreground */
  int preserve_fds;           /* fds 3 .. 3+N-1 are passed into the container */
  unsigned int flags;         /* KIST_CREATE_*, and KIST_RUN_* for kist_run() */
};
#define KIST_CREATE_NO_PIVOT       (1u << 0) /* MS_MOVE + chroot instead of pivot_root */
#define KIST_CREATE_NO_NEW_KEYRING (1u << 1) /* keep the caller's session keyring */
#define KIST_RUN_DETACH            (1u << 8) /* kist_run(): return once started */
#define KIST_RUN_KEEP              (1u << 9) /* kist_run(): do not delete on exit */

/* Creates container id from the bundle: everything is set up and the init
 * waits for kist_start().  On failure nothing is left (no state, cgroup or
 * process).  An existing id is an error (EEXIST is not guaranteed: check
 * the message). */
KIST_EXPORT int kist_create(kist_context_t *ctx, const char *id,
                            const struct kist_create_options *opts, kist_error_t *err);

/* Starts a "created" container: its process executes process.args; then
 * the poststart hooks run (a failing one kills the container and is the
 * error). */
KIST_EXPORT int kist_start(kist_context_t *ctx, const char *id, kist_error_t *err);

/* create + start.  In the foreground (no KIST_RUN_DETACH) it waits for the
 * process, forwarding signals and relaying a terminal when there is no
 * console socket, sets *exit_status to the process's exit code (128+N when
 * killed by signal N) and then deletes the container unless KIST_RUN_KEEP.
 * Detached, *exit_status is 0 once the process started.  On failure
 * *exit_status is 127 when process.args[0] was not found, 126 when it could
 * not be executed, else 1. */
KIST_EXPORT int kist_run(kist_context_t *ctx, const char *id,
                         const struct kist_create_options *opts, int *exit_status,
                         kist_error_t *err);

/* Waits for the init of a container this process created (kist_create() or
 * a detached kist_run()) and reaps it: *exit_status as for kist_run().  The
 * container stays (delete it with kist_delete()).  An init that is not a
 * child of the caller is an error (ECHILD). */
KIST_EXPORT int kist_wait(kist_context_t *ctx, const char *id, int *exit_status, kist_error_t *err);

/* Sends sig to the init, or with all to every process in the container's
 * cgroup.  Not for a stopped container. */
KIST_EXPORT int kist_kill(kist_context_t *ctx, const char *id, int sig, bool all,
                          kist_error_t *err);

/* Deletes a stopped container: its cgroup and state, then the poststop
 * hooks.  force kills a container that is not stopped first, and makes an
 * unknown id a success. */
KIST_EXPORT int kist_delete(kist_context_t *ctx, const char *id, bool force, kist_error_t *err);

/* ---- state (`kist state`, `kist list`) ---- */

/* The `kist state` JSON of a container (runtime-spec state plus rootfs,
 * created and owner), with its live status; free() it. */
KIST_EXPORT int kist_state(kist_context_t *ctx, const char *id, char **json, kist_error_t *err);

typedef struct kist_container_info {
  char *id;
  const char *status; /* "creating", "created", "running", "paused" or "stopped" (static) */
  pid_t pid;          /* the init, in the caller's pid namespace; 0 when stopped */
  char *bundle;       /* absolute */
  char *rootfs;       /* absolute */
  char *created;      /* RFC 3339, UTC; NULL while creating */
  uid_t owner;        /* who created it */
} kist_container_info_t;

/* One container's state, with its live status.  Free with
 * kist_container_info_clear(). */
KIST_EXPORT int kist_inspect(kist_context_t *ctx, const char *id, kist_container_info_t *info,
                             kist_error_t *err);
/* Frees the strings of info and zeroes it; NULL-safe. */
KIST_EXPORT void kist_container_info_clear(kist_container_info_t *info);

/* Every container under the state root, sorted by id.  A missing root is an
 * empty list.  Free with kist_list_free(). */
KIST_EXPORT int kist_list(kist_context_t *ctx, kist_container_info_t **infos, size_t *n,
                          kist_error_t *err);
KIST_EXPORT void kist_list_free(kist_container_info_t *infos, size_t n);

/* ---- live containers (`kist pause`, `resume`, `update`, `ps`, `events`) ---- */

/* Freezes every process of a created or running container (cgroup
 * freezer); its status is then "paused". */
KIST_EXPORT int kist_pause(kist_context_t *ctx, const char *id, kist_error_t *err);
/* Thaws a paused container. */
KIST_EXPORT int kist_resume(kist_context_t *ctx, const char *id, kist_error_t *err);

/* Changes the container's resources: resources_json is a LinuxResources
 * object (runtime-spec config-linux.md), e.g. {"memory":{"limit":268435456}}.
 * It is merged into the container's config (absent, null, 0 or "" members
 * keep the old value; objects merge, arrays replace; devices are not
 * updated) and written to its cgroup, all or nothing.  Errors name the
 * field ("resources.memory.limit: ..."). */
KIST_EXPORT int kist_update(kist_context_t *ctx, const char *id, const char *resources_json,
                            kist_error_t *err);

/* Every process of the container (its cgroup, sub-cgroups included), as
 * pids in the caller's pid namespace; free() the array.  A stopped container
 * has none. */
KIST_EXPORT int kist_pids(kist_context_t *ctx, const char *id, pid_t **pids, size_t *n,
                          kist_error_t *err);

/* One statistics event as `kist events --stats` prints it:
 * {"type":"stats","id":ID,"data":{"cpu":…,"memory":…,"pids":…,"blkio":…,"hugetlb":…}};
 * free() it. */
KIST_EXPORT int kist_stats(kist_context_t *ctx, const char *id, char **json, kist_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
