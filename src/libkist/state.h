/* The state store: one directory per container under --root (mode 0700),
 * holding state.json (written atomically), the saved config.json, the
 * cgroup file (cgroup.c) and the start socket. A flock on the directory
 * serialises mutations of one container; different ids never contend.
 *
 * Status is never trusted from disk alone: the init's pid is checked against
 * the start time recorded at create (/proc/PID/stat field 22), so a reused
 * pid does not make a stopped container look running.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_STATE_H
#define KIST_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"
#include "ocispec.h"

enum kist_status {
  KIST_STATUS_CREATING,
  KIST_STATUS_CREATED,
  KIST_STATUS_RUNNING,
  KIST_STATUS_PAUSED,
  KIST_STATUS_STOPPED,
};

struct kist_state {
  char *id;
  char *bundle;                 /* absolute */
  char *rootfs;                 /* absolute */
  char *created;                /* RFC 3339, UTC */
  pid_t pid;                    /* the init, in kist's pid namespace; 0 before it exists */
  unsigned long long starttime; /* of the init, clock ticks since boot */
  uid_t owner;
  /* On disk: CREATING (no state.json yet), CREATED, RUNNING (start done).
   * After kist_state_refresh: the live status. */
  enum kist_status status;
  char **ann_keys, **ann_values; /* annotations, ann_len entries */
  size_t ann_len;
  unsigned flags; /* KIST_STATE_* */
};

/* What later commands need to know without parsing the saved config. */
#define KIST_STATE_POSTSTART 1u /* config has poststart hooks */
#define KIST_STATE_POSTSTOP  2u /* config has poststop hooks */

/* The state file in a container's state dir. */
#define KIST_STATE_FILE "state.json"

/* A new container's state: id, bundle, rootfs, created (now), owner
 * (euid), status, flags and annotations from cfg; pid is left to the caller. */
void kist_state_fill(struct kist_state *st, const char *id, const char *bundle, const char *rootfs,
                     const oci_config *cfg, enum kist_status status);

/* Names in the spec's spelling: "created", "running", ... */
const char *kist_status_name(enum kist_status s);

/* [A-Za-z0-9_.-]+, not "." or "..", at most 1024 bytes. */
int kist_id_validate(const char *id, kist_error_t *err);

/* Opens (with create: mkdir -p, mode 0700) the state root. Without create a
 * missing root is -1 with errno ENOENT and *err set. */
int kist_state_root_open(const char *root, bool create, kist_error_t *err);

/* Makes <root>/<id> (0700) and returns its fd, locked LOCK_EX. Fails with
 * "container ID already exists" when it does, changing nothing. */
int kist_state_dir_create(int rootfd, const char *id, kist_error_t *err);

/* Opens <root>/<id>, taking flock(lock_op) when lock_op != 0 (LOCK_SH or
 * LOCK_EX, blocking). "container ID does not exist" when missing. */
int kist_state_dir_open(int rootfd, const char *id, int lock_op, kist_error_t *err);

/* Reads state.json. A directory without one is a container being created
 * (or a leftover of a killed create): st->status = CREATING, only id set. */
int kist_state_load(int dirfd, const char *id, struct kist_state *st, kist_error_t *err);
/* The fields of state.json text DATA (st zeroed, or its id already set). */
int kist_state_parse(const char *data, const char *id, struct kist_state *st, kist_error_t *err);

/* Writes state.json atomically. */
int kist_state_save(int dirfd, const struct kist_state *st, kist_error_t *err);

/* Reads the init's state letter and start time from /proc/PID/stat. -1 with
 * errno when the process does not exist. */
int kist_proc_stat(pid_t pid, char *state, unsigned long long *starttime);

/* True when st->pid is still the init kist started (not a zombie, same
 * start time). */
bool kist_state_init_alive(const struct kist_state *st);

/* Sets st->status to the live status: STOPPED when the init is gone, PAUSED
 * when its cgroup is frozen (the cgroup is loaded from dirfd only then). */
void kist_state_refresh(const struct kist_context *ctx, int dirfd, struct kist_state *st);

/* A pidfd of the init, verified against the recorded start time after
 * opening (so it cannot name a reused pid). -1 with errno ESRCH when the
 * init is gone; *err names the container. */
int kist_state_pidfd(const struct kist_state *st, kist_error_t *err);

/* The state as JSON. hooks: exactly state-schema.json (what hooks read on
 * stdin); else the `kist state` output with runc's extras (rootfs, created,
 * owner), indented. status is written as given. */
char *kist_state_json(const struct kist_state *st, enum kist_status status, bool hooks);

/* Removes <root>/<id> and everything in it. */
int kist_state_remove(int rootfd, const char *id, kist_error_t *err);

void kist_state_clear(struct kist_state *st);

#endif
