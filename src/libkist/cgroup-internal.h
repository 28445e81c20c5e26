/* Between cgroup.c (mode, layout, paths, state) and the drivers:
 * cgroup-v1.c (per-controller hierarchies, freezer), cgroup-v2.c (the unified
 * tree: subtree_control, cgroup.kill, cgroup.freeze) and resources.c.
 * Hybrid hosts use both drivers: each controller where it is mounted.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CGROUP_INTERNAL_H
#define KIST_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "ocispec.h"

#define KIST_CG_ROOT     "/sys/fs/cgroup"
#define KIST_CG_MAX_HIER 24

/* Controllers kist knows. A v1 hierarchy carries a set of them; the v2 tree
 * carries what its root's cgroup.controllers lists. */
enum kist_cg_ctrl {
  KIST_CG_CPU,
  KIST_CG_CPUACCT,
  KIST_CG_CPUSET,
  KIST_CG_MEMORY,
  KIST_CG_DEVICES,
  KIST_CG_FREEZER,
  KIST_CG_BLKIO, /* "io" on v2 */
  KIST_CG_PIDS,
  KIST_CG_HUGETLB,
  KIST_CG_NET_CLS,
  KIST_CG_NET_PRIO,
  KIST_CG_RDMA,
  KIST_CG_PERF_EVENT,
  KIST_CG_MISC,
  KIST_CG_NCTRL,
  /* Not a controller: the v2 core files (cgroup.*), present in every v2 dir. */
  KIST_CG_CORE = KIST_CG_NCTRL,
};

#define KIST_CG_BIT(c) (1u << (c))

/* Controller name as v1 mounts it, and as v2 lists it (NULL: none there). */
const char *kist_cg_ctrl_v1_name(enum kist_cg_ctrl c);
const char *kist_cg_ctrl_v2_name(enum kist_cg_ctrl c);

/* One mounted hierarchy under /sys/fs/cgroup. */
struct kist_cg_hier {
  char name[64]; /* dir under KIST_CG_ROOT: "memory", "cpu,cpuacct", "systemd",
                    "unified"; "" when /sys/fs/cgroup itself is the v2 tree */
  bool v2;
  uint32_t ctrls; /* KIST_CG_BIT set; v2: what the root's cgroup.controllers lists */
};

/* What this host mounts, detected once per invocation. */
struct kist_cg_layout {
  enum kist_cgroup_mode mode;
  size_t n;
  struct kist_cg_hier h[KIST_CG_MAX_HIER];
  /* Index in h of the hierarchy used for each controller (v1 first, then
   * the v2 tree), -1 when none; where[KIST_CG_CORE] is the v2 tree. */
  int where[KIST_CG_NCTRL + 1];
};

const struct kist_cg_layout *kist_cg_layout(void);

/* The container's directory in one hierarchy. */
struct kist_cg_dir {
  char hier[64]; /* as kist_cg_hier.name */
  bool v2;
  uint32_t ctrls;
  char *rel;   /* cgroup path inside the hierarchy, "/kist-ID" */
  int created; /* trailing components of rel that kist owns (the leaf plus
                  prefixes it made); 0: joined, never removed or signalled */
  int fd;      /* O_DIRECTORY fd of the leaf, -1 when not open */
};

struct kist_cg_plan;
struct kist_sd_unit;

struct kist_cgroup {
  enum kist_cgroup_mode mode;
  char *path; /* rel of the main dir, what /proc/PID/cgroup shows */
  bool owned; /* kist created the leaf in every hierarchy */
  size_t n;
  struct kist_cg_dir d[KIST_CG_MAX_HIER];
  /* --systemd-cgroup with systemd running: the transient unit (saved as
   * "systemd UNIT"); create also keeps what enter needs to start it. */
  char *unit;
  bool sd_user;              /* unit is the user's manager's (saved as "systemd-bus user") */
  struct kist_sd_unit *sd;   /* create → enter only */
  struct kist_cg_plan *plan; /* create → enter only: written again once systemd made the unit */
};

/* "/sys/fs/cgroup/<hier><rel>", malloc'd. */
char *kist_cg_dir_path(const struct kist_cg_dir *d);
/* A new O_DIRECTORY fd of the leaf (a dup of d->fd when open); caller closes. */
int kist_cg_dir_open(const struct kist_cg_dir *d, kist_error_t *err);
/* d's directory fd without a dup: the one create left open (d->fd), else
 * one opened into *owned, which the caller closes. */
int kist_cg_dir_fd(const struct kist_cg_dir *d, int *owned, kist_error_t *err);
/* The dir holding controller c, or NULL. */
const struct kist_cg_dir *kist_cg_find(const struct kist_cgroup *cg, enum kist_cg_ctrl c);
/* The dir of the v2 tree (pure v2 or the hybrid "unified"), or NULL. */
const struct kist_cg_dir *kist_cg_find_v2(const struct kist_cgroup *cg);

/* Writes value to dirfd/file; on failure "write <dirpath>/<file>: <value>: <errno>". */
int kist_cg_write(int dirfd, const char *dirpath, const char *file, const char *value,
                  kist_error_t *err);
/* Reads a small cgroup file, trailing newline stripped. */
int kist_cg_read(int dirfd, const char *dirpath, const char *file, char **out, kist_error_t *err);
/* The "oom_kill N" count of memory cgroup d, read through dirfd (its open
 * directory): memory.events on v2, memory.oom_control on v1 since Linux
 * 4.13. False when the file cannot be read or has no such count. */
bool kist_cg_oom_kill_count(const struct kist_cg_dir *d, int dirfd, uint64_t *count);
/* Every pid in the dir and, when recursive, its descendants (a container with
 * a cgroup namespace may make sub-cgroups). */
int kist_cg_read_pids(const char *dirpath, bool recursive, pid_t **pids, size_t *n,
                      kist_error_t *err);
/* Sleeps ms milliseconds. */
void kist_cg_sleep_ms(int ms);

/* ---- cgroup-v1.c ---- */

/* A new (or joined, empty) v1 cpuset dir needs cpus and mems before any task
 * can enter: copy the parent's for the ones the config does not set. */
int kist_cg_v1_init_cpuset(int parentfd, int fd, const char *path, bool fresh, bool need_cpus,
                           bool need_mems, kist_error_t *err);
int kist_cg_v1_set_frozen(const struct kist_cg_dir *freezer, bool frozen, kist_error_t *err);
bool kist_cg_v1_is_frozen(const struct kist_cg_dir *freezer);
/* Signals every process: freeze (v1 freezer, else cgroup.freeze), signal each
 * pid, thaw; SIGKILL loops until the cgroup is empty. A paused container
 * stays paused for other signals. */
int kist_cg_v1_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err);

/* ---- cgroup-v2.c ---- */

/* Enables controllers (KIST_CG_BIT sets) in the cgroup.subtree_control of
 * every ancestor of d's leaf, from the hierarchy root down: need must work,
 * want is best effort. Writes only what is not enabled yet. */
int kist_cg_v2_enable(const struct kist_cg_dir *d, uint32_t want, uint32_t need, kist_error_t *err);
int kist_cg_v2_set_frozen(const struct kist_cg_dir *d, bool frozen, kist_error_t *err);
bool kist_cg_v2_is_frozen(const struct kist_cg_dir *d);
/* True when no process is in d or below (cgroup.events "populated 0"). */
bool kist_cg_v2_is_empty(const struct kist_cg_dir *d);
/* SIGKILL through cgroup.kill (atomic, fork-bomb proof); other signals, or a
 * kernel without cgroup.kill (< 5.14), through kist_cg_v1_kill's loop. */
int kist_cg_v2_kill(const struct kist_cgroup *cg, int sig, kist_error_t *err);

/* ---- cgroup-systemd.c ---- */

/* One property of a transient unit, as sd-bus appends it. */
struct kist_sd_prop {
  char *name;
  char type;            /* 't' uint64, 'b' bool, 's' string, 'y' byte array (a bitmask) */
  uint64_t u;           /* 't', 'b' */
  char *s;              /* 's' */
  unsigned char *bytes; /* 'y' */
  size_t nbytes;
};

struct kist_sd_unit {
  char *unit;  /* "prefix-name.scope" */
  char *slice; /* "system.slice" ("user.slice" for the user's manager) */
  bool user;   /* the user's systemd instance, not the system's */
  struct kist_sd_prop *props;
  size_t nprops;
};

/* systemd is PID 1 (/run/systemd/system exists). */
bool kist_cg_systemd_booted(void);
/* systemd is PID 1 and its bus answers (user: the caller's own systemd
 * instance, reached as kist_cg_systemd_manager_cgroup says). */
bool kist_cg_systemd_available(bool user);
/* The cgroup of the caller's systemd user instance (its ControlGroup,
 * "/user.slice/user-UID.slice/user@UID.service"), over its private socket
 * $XDG_RUNTIME_DIR/systemd/private or the session bus; the error says how
 * to start it. */
int kist_cg_systemd_manager_cgroup(char **out, kist_error_t *err);
/* The unit for a --systemd-cgroup placement: cgroupsPath slice:prefix:name,
 * or "kist-ID.scope" in system.slice. NULL (0 returned) for a placement
 * systemd cannot own (a ".slice" leaf). */
int kist_cg_systemd_unit(const char *cgroups_path, const char *id, bool user,
                         struct kist_sd_unit **out, kist_error_t *err);
/* linux.resources and the org.systemd.property.* annotations → properties
 * (appended to u). Errors name the field or annotation. */
int kist_cg_systemd_props(const oci_config *cfg, bool v2, struct kist_sd_unit *u,
                          kist_error_t *err);
/* StartTransientUnit with Delegate=yes and PIDs=[pid]; waits for the job
 * (JobRemoved) and checks that the unit is active. */
int kist_cg_systemd_start(const struct kist_sd_unit *u, pid_t pid, kist_error_t *err);
/* SetUnitProperties (runtime) for kist update. */
int kist_cg_systemd_set(const char *unit, bool user, const struct kist_sd_prop *p, size_t n,
                        kist_error_t *err);
/* StopUnit, waiting for the job; a unit systemd already forgot is fine. */
int kist_cg_systemd_stop(const char *unit, bool user, kist_error_t *err);
void kist_cg_systemd_unit_free(struct kist_sd_unit *u);

/* ---- cgroup-bpf.c ---- */

struct kist_dev_rule;
/* Assembles the device rules (resources.h) into a BPF_PROG_TYPE_CGROUP_DEVICE
 * program and attaches it (BPF_F_ALLOW_MULTI) to the v2 cgroup dir cgfd. */
int kist_cg_bpf_devices(int cgfd, const char *path, const struct kist_dev_rule *rules, size_t n,
                        kist_error_t *err);

#endif
