/* The lifecycle, the parent's side: create, start, run, kill, delete,
 * state, list. The cmd-*.c files parse arguments and call exactly one of
 * these.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CONTAINER_H
#define KIST_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"
#include "context.h"
#include "error.h"
#include "ocispec.h"
#include "state.h"
#include "terminal.h"

struct kist_create_opts {
  const char *bundle;         /* NULL: the current directory */
  const char *pid_file;       /* NULL: none */
  const char *console_socket; /* required with process.terminal (except run in the foreground) */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds; /* fds 3 .. 3+N-1 pass into the container */
};

/* Everything done and checked before clone; on error nothing is left (no
 * state dir, cgroup or process). On success the init waits for `start`,
 * already in its cgroup, and the state is "created". */
int kist_container_create(const struct kist_context *ctx, const char *id,
                          const struct kist_create_opts *o, kist_error_t *err);

/* Only from "created"; runs poststart hooks after the process started
 * (a failing one kills the container and is the error). */
int kist_container_start(const struct kist_context *ctx, const char *id, kist_error_t *err);

struct kist_run_opts {
  struct kist_create_opts create;
  bool detach; /* return once started */
  bool keep;   /* do not delete after the process exits */
};

/* create + start. In the foreground kist stays the parent: it forwards
 * signals, relays the terminal when there is no console socket, and sets
 * *exit_status to the process's exit code (128+signal when killed), then
 * deletes the container unless keep. When the process cannot be executed
 * the error is returned with *exit_status 127 (not found) or 126. */
int kist_container_run(const struct kist_context *ctx, const char *id,
                       const struct kist_run_opts *o, int *exit_status, kist_error_t *err);

/* all: every process of the container's cgroup (kist_cgroup_kill). */
int kist_container_kill(const struct kist_context *ctx, const char *id, int sig, bool all,
                        kist_error_t *err);

/* force: a container that is not stopped is killed (SIGKILL, cgroup-wide)
 * first; an unknown id is then not an error. */
int kist_container_delete(const struct kist_context *ctx, const char *id, bool force,
                          kist_error_t *err);

/* Waits for pid (its pidfd open, sigfd reading the signals kist forwards)
 * to exit: forwards each signal, relays the terminal when relay has one,
 * reaps orphans (kist is the subreaper). Returns the exit code, or -1. */
int kist_wait_forwarding(pid_t pid, int pidfd, int sigfd, struct kist_relay *relay,
                         kist_error_t *err);

/* The `kist state` JSON (live status). */
int kist_container_state(const struct kist_context *ctx, const char *id, char **json,
                         kist_error_t *err);

/* Every container under ctx->root, live status, sorted by id. */
int kist_container_list(const struct kist_context *ctx, struct kist_state **states, size_t *n,
                        kist_error_t *err);
void kist_container_list_free(struct kist_state *states, size_t n);

/* ---- for exec, pause, update, ps ... ---- */

/* An existing container: state dir open (and flock'ed when lock_op is
 * LOCK_SH/LOCK_EX), state loaded, st.status live. */
struct kist_container {
  const struct kist_context *ctx;
  int rootfd;
  int dirfd;
  char *dir; /* <root>/<id> */
  struct kist_state st;
  oci_config *cfg;        /* see kist_container_config */
  struct kist_cgroup *cg; /* see kist_container_cgroup */
};

int kist_container_open(const struct kist_context *ctx, const char *id, int lock_op,
                        struct kist_container **out, kist_error_t *err);
/* The config as it was at create (saved in the state dir); parsed once. */
int kist_container_config(struct kist_container *c, const oci_config **cfg, kist_error_t *err);
/* The container's cgroup (kist_cgroup_load); loaded once. */
int kist_container_cgroup(struct kist_container *c, struct kist_cgroup **cg, kist_error_t *err);
/* A pidfd of the init (pid reuse safe); error when the container is stopped. */
int kist_container_pidfd(struct kist_container *c, kist_error_t *err);
void kist_container_close(struct kist_container *c);

#endif
