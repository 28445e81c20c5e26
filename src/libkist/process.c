/* The container process: checks in the parent, then in the init the
 * attributes set while still root (hostname, sysctl, rlimits, oom, sched,
 * ioprio, personality, affinity, umask), the lookup of args[0], and the last
 * steps before execve (groups, ids, caps, no_new_privs, cwd).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

#include "caps.h"
#include "fmt.h"
#include "hooks.h"
#include "log.h"
#include "lsm.h"
#include "namespaces.h"
#include "paths.h"
#include "process.h"
#include "rlimits.h"
#include "seccomp.h"
#include "sync.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* The spec's largest cpu number we accept in a list: bounds the allocation. */
#define MAX_CPU 65535

/* ---- pure helpers (unit-tested) ---- */

const char *kist_sysctl_namespace(const char *key)
{
  /* IPC: System V IPC limits and the POSIX message queue knobs. */
  if (str_has_prefix(key, "kernel.shm") || str_has_prefix(key, "kernel.msg") ||
      str_has_prefix(key, "kernel.sem") || str_has_prefix(key, "fs.mqueue."))
    return "ipc";
  if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
    return "uts";
  if (str_has_prefix(key, "net."))
    return "network";
  return NULL;
}

int kist_cpu_list_parse(const char *list, cpu_set_t **set, size_t *setsize, const char *field,
                        kist_error_t *err)
{
  *set = NULL;
  *setsize = 0;
  /* Two passes: find the highest cpu to size the set, then fill it. */
  long max = -1;
  for (int pass = 0; pass < 2; pass++) {
    const char *s = list;
    while (*s) {
      while (*s == ' ')
        s++;
      if (*s == '\0')
        break;
      char *end;
      if (!isdigit((unsigned char)*s))
        goto bad;
      errno = 0;
      long lo = strtol(s, &end, 10), hi = lo;
      s = end;
      while (*s == ' ')
        s++;
      if (*s == '-') {
        s++;
        while (*s == ' ')
          s++;
        if (!isdigit((unsigned char)*s))
          goto bad;
        hi = strtol(s, &end, 10);
        s = end;
        while (*s == ' ')
          s++;
      }
      if (errno || lo > hi || hi > MAX_CPU)
        goto bad;
      if (*s == ',') {
        s++;
        while (*s == ' ')
          s++;
        if (*s == '\0')
          goto bad;
      } else if (*s != '\0') {
        goto bad;
      }
      if (pass == 0) {
        if (hi > max)
          max = hi;
      } else {
        for (long c = lo; c <= hi; c++)
          CPU_SET_S((size_t)c, *setsize, *set);
      }
    }
    if (pass == 0) {
      if (max < 0)
        return 0; /* empty: nothing to change */
      *set = CPU_ALLOC((size_t)max + 1);
      if (*set == NULL)
        abort();
      *setsize = CPU_ALLOC_SIZE((size_t)max + 1);
      CPU_ZERO_S(*setsize, *set);
    }
  }
  return 0;
bad:
  if (*set)
    CPU_FREE(*set);
  *set = NULL;
  *setsize = 0;
  return kist_fail(err, 0, "%s: '%s' is not a cpu list like \"0-3,7\"", field, list);
}

/* ---- validation (parent) ---- */

/* A namespace joined by path that is our own one gives no isolation. */
static bool ns_is_hosts(const oci_namespace_reference *ns)
{
  if (ns->path == NULL || ns->path[0] == '\0')
    return false;
  const char *file = strcmp(ns->type, "network") == 0 ? "net" : ns->type;
  cleanup_free char *self = xasprintf("/proc/self/ns/%s", file);
  struct stat a, b;
  return stat(ns->path, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* Sysctl keys come as "net.ipv4.ip_forward" or "net/ipv4/ip_forward"; the
 * slash form allows dots inside a component (an interface "eth0.1"). */
static int sysctl_check(const oci_config *cfg, const char *key, kist_error_t *err)
{
  if (key[0] == '\0' || key[0] == '/' || key[0] == '.' || strstr(key, "..") || strstr(key, "//") ||
      key[strlen(key) - 1] == '/' || key[strlen(key) - 1] == '.')
    return kist_fail(err, 0, "linux.sysctl.%s: not a sysctl name", key);
  cleanup_free char *dotted = xstrdup(key);
  if (strchr(key, '/'))
    for (char *c = dotted; *c; c++)
      if (*c == '/')
        *c = '.';
  const char *type = kist_sysctl_namespace(dotted);
  if (type == NULL)
    return kist_fail(err, 0,
                     "linux.sysctl.%s: not isolated by a namespace, so it would change the host; "
                     "kist only sets namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, "
                     "fs.mqueue.*, kernel.hostname, kernel.domainname, net.*)",
                     key);
  const oci_namespace_reference *ns = kist_ns_find(cfg, type);
  if (ns == NULL)
    return kist_fail(err, 0, "linux.sysctl.%s: needs %s %s namespace (linux.namespaces has none)",
                     key, type[0] == 'i' ? "an" : "a", type);
  if (ns_is_hosts(ns))
    return kist_fail(err, 0, "linux.sysctl.%s: the %s namespace joined (%s) is the host's own", key,
                     type, ns->path);
  return 0;
}

static bool id_mapped(oci_id_mapping *const *maps, size_t n, uint32_t id)
{
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i]->container_id && id - maps[i]->container_id < maps[i]->size)
      return true;
  return false;
}

static int validate_user(const oci_config *cfg, const oci_config_process_user *u, kist_error_t *err)
{
  if (u == NULL)
    return 0;
  if (u->umask_present && u->umask > 0777)
    return kist_fail(err, 0, "process.user.umask: %#o is not a umask (0 to 0777)", u->umask);
  const oci_namespace_reference *userns = kist_ns_find(cfg, "user");
  const oci_config_linux *l = cfg->linux;
  /* Only maps we write ourselves can be checked. */
  if (userns == NULL || (userns->path && userns->path[0]) || l == NULL)
    return 0;
  uint32_t uid = u->uid_present ? u->uid : 0, gid = u->gid_present ? u->gid : 0;
  if (l->uid_mappings_len > 0 && !id_mapped(l->uid_mappings, l->uid_mappings_len, uid))
    return kist_fail(err, 0, "process.user.uid: %" PRIu32 " is not mapped by linux.uidMappings",
                     uid);
  if (l->gid_mappings_len > 0 && !id_mapped(l->gid_mappings, l->gid_mappings_len, gid))
    return kist_fail(err, 0, "process.user.gid: %" PRIu32 " is not mapped by linux.gidMappings",
                     gid);
  for (size_t i = 0; l->gid_mappings_len > 0 && i < u->additional_gids_len; i++)
    if (!id_mapped(l->gid_mappings, l->gid_mappings_len, u->additional_gids[i]))
      return kist_fail(
        err, 0, "process.user.additionalGids[%zu]: %" PRIu32 " is not mapped by linux.gidMappings",
        i, u->additional_gids[i]);
  return 0;
}

/* Policies and flags by the spec's names; SCHED_ISO is in the schema but
 * not in Linux. */
static const struct {
  const char *name;
  int value;
} sched_policies[] = {
  {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
  {"SCHED_BATCH", 3}, {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

static const struct {
  const char *name;
  uint64_t value;
} sched_flags[] = {
  {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
  {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
  {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
  {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int sched_policy(const char *name)
{
  for (size_t i = 0; name && i < ARRAY_SIZE(sched_policies); i++)
    if (strcmp(sched_policies[i].name, name) == 0)
      return sched_policies[i].value;
  return -1;
}

static int sched_flag(const char *name, uint64_t *v)
{
  for (size_t i = 0; i < ARRAY_SIZE(sched_flags); i++)
    if (strcmp(sched_flags[i].name, name) == 0) {
      *v = sched_flags[i].value;
      return 0;
    }
  return -1;
}

static int validate_scheduler(const oci_config_process_scheduler *s, kist_error_t *err)
{
  if (s == NULL)
    return 0;
  int policy = sched_policy(s->policy);
  if (policy < 0 && s->policy && strcmp(s->policy, "SCHED_ISO") == 0)
    return kist_fail(err, 0, "process.scheduler.policy: SCHED_ISO is not supported by Linux");
  if (policy < 0)
    return kist_fail(err, 0, "process.scheduler.policy: unknown policy %s",
                     s->policy ? s->policy : "(missing)");
  for (size_t i = 0; i < s->flags_len; i++) {
    uint64_t f;
    if (sched_flag(s->flags[i], &f) < 0)
      return kist_fail(err, 0, "process.scheduler.flags[%zu]: unknown flag %s", i, s->flags[i]);
  }
  if (s->nice_present && (s->nice < -20 || s->nice > 19))
    return kist_fail(err, 0, "process.scheduler.nice: %" PRId32 " is outside -20..19", s->nice);
  bool rt = policy == 1 || policy == 2;
  int32_t prio = s->priority_present ? s->priority : 0;
  if (rt && (prio < 1 || prio > 99))
    return kist_fail(
      err, 0, "process.scheduler.priority: %s needs a priority from 1 to 99 (got %" PRId32 ")",
      s->policy, prio);
  if (!rt && prio != 0)
    return kist_fail(err, 0,
                     "process.scheduler.priority: %s takes priority 0 (1-99 is for SCHED_FIFO and "
                     "SCHED_RR)",
                     s->policy);
  if (policy == 6) {
    if (!s->runtime_present || !s->deadline_present || s->runtime == 0 || s->deadline == 0)
      return kist_fail(err, 0, "process.scheduler: SCHED_DEADLINE needs runtime and deadline (ns)");
    uint64_t period = s->period_present && s->period ? s->period : s->deadline;
    if (s->runtime > s->deadline || s->deadline > period)
      return kist_fail(err, 0,
                       "process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  } else if ((s->runtime_present && s->runtime) || (s->deadline_present && s->deadline) ||
             (s->period_present && s->period)) {
    return kist_fail(err, 0,
                     "process.scheduler: runtime, deadline and period are for SCHED_DEADLINE only");
  }
  return 0;
}

static int ioprio_class(const char *name)
{
  if (name == NULL)
    return -1;
  if (strcmp(name, "IOPRIO_CLASS_RT") == 0)
    return 1;
  if (strcmp(name, "IOPRIO_CLASS_BE") == 0)
    return 2;
  if (strcmp(name, "IOPRIO_CLASS_IDLE") == 0)
    return 3;
  return -1;
}

static int validate_ioprio(const oci_config_process_io_priority *io, kist_error_t *err)
{
  if (io == NULL)
    return 0;
  if (ioprio_class(io->class) < 0)
    return kist_fail(err, 0, "process.ioPriority.class: unknown class %s",
                     io->class ? io->class : "(missing)");
  if (io->priority_present && (io->priority < 0 || io->priority > 7))
    return kist_fail(err, 0, "process.ioPriority.priority: %" PRId32 " is outside 0..7",
                     io->priority);
  return 0;
}

static int personality_domain(const char *d)
{
  if (d == NULL || strcmp(d, "LINUX") == 0)
    return PER_LINUX;
  if (strcmp(d, "LINUX32") == 0)
    return PER_LINUX32;
  return -1;
}

static int validate_personality(const oci_personality *pe, kist_error_t *err)
{
  if (pe == NULL)
    return 0;
  if (personality_domain(pe->domain) < 0)
    return kist_fail(err, 0, "linux.personality.domain: unknown domain %s (LINUX or LINUX32)",
                     pe->domain);
  if (pe->flags_len > 0)
    return kist_fail(err, 0, "linux.personality.flags[0]: unknown flag %s (the spec defines none)",
                     pe->flags[0]);
  return 0;
}

static int validate_affinity(const oci_config_process_exec_cpu_affinity *a, kist_error_t *err)
{
  cpu_set_t *set;
  size_t size;
  if (a && a->initial) {
    if (kist_cpu_list_parse(a->initial, &set, &size, "process.execCPUAffinity.initial", err) < 0)
      return -1;
    if (set)
      CPU_FREE(set);
  }
  if (a && a->final) {
    if (kist_cpu_list_parse(a->final, &set, &size, "process.execCPUAffinity.final", err) < 0)
      return -1;
    if (set)
      CPU_FREE(set);
  }
  return 0;
}

static int validate_process(const oci_config *cfg, const oci_config_process *p, kist_error_t *err)
{
  if (p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0')
    return kist_fail(err, 0, "process.args: needs at least the program to run");
  if (p->cwd == NULL || p->cwd[0] != '/')
    return kist_fail(err, 0, "process.cwd: '%s' is not an absolute path", p->cwd ? p->cwd : "");
  for (size_t i = 0; i < p->env_len; i++)
    if (strchr(p->env[i], '=') == NULL || p->env[i][0] == '=')
      return kist_fail(err, 0, "process.env[%zu]: '%s' is not NAME=VALUE", i, p->env[i]);
  if (p->oom_score_adj_present && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
    return kist_fail(err, 0, "process.oomScoreAdj: %" PRId64 " is outside -1000..1000",
                     p->oom_score_adj);
  if (validate_user(cfg, p->user, err) < 0 || kist_caps_validate(p->capabilities, err) < 0 ||
      kist_rlimits_validate(p, err) < 0 || validate_scheduler(p->scheduler, err) < 0 ||
      validate_ioprio(p->io_priority, err) < 0 || validate_affinity(p->exec_cpu_affinity, err) < 0)
    return -1;
  return 0;
}

int kist_process_validate(const oci_config *cfg, kist_error_t *err)
{
  if (kist_hooks_validate(cfg->hooks, err) < 0)
    return -1;
  const char *names[] = {"hostname", "domainname"};
  const char *values[] = {cfg->hostname, cfg->domainname};
  for (size_t i = 0; i < 2; i++) {
    if (values[i] == NULL || values[i][0] == '\0')
      continue;
    if (kist_ns_find(cfg, "uts") == NULL)
      return kist_fail(err, 0, "%s: needs a uts namespace (linux.namespaces has none)", names[i]);
    if (strlen(values[i]) > 64)
      return kist_fail(err, 0, "%s: '%s' is longer than 64 characters", names[i], values[i]);
  }
  const oci_map_string_string *sys = cfg->linux ? cfg->linux->sysctl : NULL;
  for (size_t i = 0; sys && i < sys->len; i++)
    if (sysctl_check(cfg, sys->keys[i], err) < 0)
      return -1;
  if (cfg->linux && validate_personality(cfg->linux->personality, err) < 0)
    return -1;
  if (cfg->process && validate_process(cfg, cfg->process, err) < 0)
    return -1;
  return kist_lsm_validate(cfg, err);
}

/* ---- setup in the init, still root ---- */

/* The container's /proc, writable even where linux.readonlyPaths made
 * /proc/sys a read-only bind mount: a detached, non-recursive clone of the
 * /proc mount does not carry the submounts on top of it. */
static int open_proc(const char *field, kist_error_t *err)
{
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "%s: open the container's /proc", field);
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
    close(fd);
    return kist_fail(err, 0, "%s: /proc is not mounted in the container (add a proc mount)", field);
  }
  return fd;
}

static int write_at(int dirfd, const char *path, const char *value, const char *field,
                    kist_error_t *err)
{
  int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return kist_fail(err, errno, "%s: open /proc/%s", field, path);
  int r = write_all(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (r < 0)
    return kist_fail(err, e, "%s: write '%s' to /proc/%s", field, value, path);
  return 0;
}

static int setup_sysctl(const oci_config *cfg, int *procfd, kist_error_t *err)
{
  const oci_map_string_string *sys = cfg->linux ? cfg->linux->sysctl : NULL;
  for (size_t i = 0; sys && i < sys->len; i++) {
    const char *key = sys->keys[i];
    cleanup_free char *field = xasprintf("linux.sysctl.%s", key);
    if (*procfd < 0 && (*procfd = open_proc(field, err)) < 0)
      return -1;
    cleanup_free char *path = xasprintf("sys/%s", key);
    if (strchr(key, '/') == NULL)
      for (char *c = path; *c; c++)
        if (*c == '.')
          *c = '/';
    if (write_at(*procfd, path, sys->values[i], field, err) < 0)
      return -1;
  }
  return 0;
}

static int setup_oom(const oci_config_process *p, int *procfd, kist_error_t *err)
{
  if (!p->oom_score_adj_present)
    return 0;
  if (*procfd < 0 && (*procfd = open_proc("process.oomScoreAdj", err)) < 0)
    return -1;
  char buf[16];
  kist_snprintf(buf, sizeof buf, "%" PRId64, p->oom_score_adj);
  /* The init is not dumpable, so its /proc files belong to the host's root:
   * in a new user namespace our root may not open them. Dumpable for the
   * open only; no process of the container exists yet to take advantage. */
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (dumpable == 0)
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  int fd = openat(*procfd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  int open_errno = errno;
  if (dumpable == 0)
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (fd < 0)
    return kist_fail(err, open_errno, "process.oomScoreAdj: open /proc/self/oom_score_adj");
  int r = write_all(fd, buf, strlen(buf));
  int e = errno;
  close(fd);
  if (r < 0 && e == EACCES)
    return kist_fail(err, e,
                     "process.oomScoreAdj: cannot lower it to %s (below the inherited minimum "
                     "without CAP_SYS_RESOURCE)",
                     buf);
  if (r < 0)
    return kist_fail(err, e, "process.oomScoreAdj: write %s", buf);
  return 0;
}

/* struct sched_attr of sched_setattr(2), version 1 (with utilization clamps). */
struct kist_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static int setup_scheduler(const oci_config_process_scheduler *s, kist_error_t *err)
{
  if (s == NULL)
    return 0;
  struct kist_sched_attr a = {
    .size = sizeof a,
    .sched_policy = (uint32_t)sched_policy(s->policy),
    .sched_nice = s->nice_present ? s->nice : 0,
    .sched_priority = s->priority_present ? (uint32_t)s->priority : 0,
    .sched_runtime = s->runtime_present ? s->runtime : 0,
    .sched_deadline = s->deadline_present ? s->deadline : 0,
    .sched_period = s->period_present ? s->period : 0,
    /* The spec has no clamp values: UTIL_CLAMP_* flags reset to the
     * kernel's defaults (no clamping). */
    .sched_util_min = 0,
    .sched_util_max = 1024,
  };
  for (size_t i = 0; i < s->flags_len; i++) {
    uint64_t f = 0;
    sched_flag(s->flags[i], &f);
    a.sched_flags |= f;
  }
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
    return kist_fail(err, errno, "process.scheduler: sched_setattr %s", s->policy);
  return 0;
}

static int setup_ioprio(const oci_config_process_io_priority *io, kist_error_t *err)
{
  if (io == NULL)
    return 0;
  int cls = ioprio_class(io->class);
  int data = io->priority_present ? io->priority : 0;
  /* IOPRIO_PRIO_VALUE(class, data); who = IOPRIO_WHO_PROCESS (1), 0 = self. */
  if (syscall(SYS_ioprio_set, 1, 0, (cls << 13) | data) < 0)
    return kist_fail(err, errno, "process.ioPriority: ioprio_set %s %d", io->class, data);
  return 0;
}

static int set_affinity(const char *list, const char *field, kist_error_t *err)
{
  if (list == NULL)
    return 0;
  cpu_set_t *set;
  size_t size;
  if (kist_cpu_list_parse(list, &set, &size, field, err) < 0)
    return -1;
  if (set == NULL)
    return 0;
  int r = sched_setaffinity(0, size, set);
  int e = errno;
  CPU_FREE(set);
  if (r < 0)
    return kist_fail(err, e, "%s: sched_setaffinity %s", field, list);
  return 0;
}

static int setup_personality(const oci_personality *pe, kist_error_t *err)
{
  if (pe == NULL)
    return 0;
  if (personality((unsigned long)personality_domain(pe->domain)) < 0)
    return kist_fail(err, errno, "linux.personality: set %s", pe->domain ? pe->domain : "LINUX");
  return 0;
}

int kist_process_apply_attrs(const oci_config_process *p, const oci_personality *pe,
                             kist_error_t *err)
{
  if (setup_personality(pe, err) < 0)
    return -1;
  if (p == NULL)
    return 0;
  if (kist_rlimits_apply(p, err) < 0 || setup_scheduler(p->scheduler, err) < 0 ||
      setup_ioprio(p->io_priority, err) < 0)
    return -1;
  if (p->exec_cpu_affinity &&
      set_affinity(p->exec_cpu_affinity->initial, "process.execCPUAffinity.initial", err) < 0)
    return -1;
  if (p->user && p->user->umask_present)
    umask((mode_t)p->user->umask);
  return 0;
}

int kist_process_setup(const oci_config *cfg, kist_error_t *err)
{
  cleanup_close int procfd = -1;
  if (cfg->hostname && cfg->hostname[0] && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
    return kist_fail(err, errno, "hostname: sethostname %s", cfg->hostname);
  if (cfg->domainname && cfg->domainname[0] &&
      setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
    return kist_fail(err, errno, "domainname: setdomainname %s", cfg->domainname);
  if (setup_sysctl(cfg, &procfd, err) < 0)
    return -1;
  if (cfg->process && setup_oom(cfg->process, &procfd, err) < 0)
    return -1;
  return kist_process_apply_attrs(cfg->process, cfg->linux ? cfg->linux->personality : NULL, err);
}

/* ---- args[0] ---- */

struct lookup {
  const oci_config_process_user *user;
  char *denied;   /* first candidate found but not executable */
  int denied_err; /* EACCES or EISDIR */
};

static bool in_groups(const oci_config_process_user *u, gid_t g)
{
  if (g == (u && u->gid_present ? u->gid : 0))
    return true;
  for (size_t i = 0; u && i < u->additional_gids_len; i++)
    if (u->additional_gids[i] == g)
      return true;
  return false;
}

/* Would execve succeed for the process's user? The init is still root when
 * this runs, so the check is made by hand from the mode bits. */
static int exec_denied(int fd, const struct stat *st, const oci_config_process_user *u)
{
  if (S_ISDIR(st->st_mode))
    return EISDIR;
  if (!S_ISREG(st->st_mode))
    return EACCES;
  struct statvfs vfs;
  if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
    return EACCES;
  uid_t uid = u && u->uid_present ? u->uid : 0;
  mode_t m = st->st_mode;
  if (uid == 0)
    return (m & 0111) ? 0 : EACCES;
  if (st->st_uid == uid)
    return (m & S_IXUSR) ? 0 : EACCES;
  if (in_groups(u, st->st_gid))
    return (m & S_IXGRP) ? 0 : EACCES;
  return (m & S_IXOTH) ? 0 : EACCES;
}

/* 1: found and executable; 0: not there (or not executable, noted in l);
 * -1: a real error. */
static int try_candidate(int rootfd, const char *cand, struct lookup *l, kist_error_t *err)
{
  kist_error_t e2 = NULL;
  int fd = kist_open_in_root(rootfd, cand, O_PATH, 0, &e2);
  if (fd < 0) {
    int e = kist_error_errno(e2);
    if (e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG || e == EACCES) {
      kist_error_release(&e2);
      if (e == EACCES && l->denied == NULL) {
        l->denied = xstrdup(cand);
        l->denied_err = EACCES;
      }
      return 0;
    }
    if (err && *err == NULL)
      *err = e2;
    else
      kist_error_release(&e2);
    return -1;
  }
  struct stat st;
  int r = fstat(fd, &st);
  int e = r < 0 ? errno : exec_denied(fd, &st, l->user);
  close(fd);
  if (e == 0)
    return 1;
  if (l->denied == NULL) {
    l->denied = xstrdup(cand);
    l->denied_err = e;
  }
  return 0;
}

static char *join_cwd(const char *cwd, const char *dir, const char *name)
{
  const char *base = cwd && cwd[0] ? cwd : "/";
  if (dir == NULL)
    return name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", base, name);
  if (dir[0] == '\0')
    return xasprintf("%s/%s", base, name);
  if (dir[0] == '/')
    return xasprintf("%s/%s", dir, name);
  return xasprintf("%s/%s/%s", base, dir, name);
}

static const char *env_path(const oci_config_process *p)
{
  for (size_t i = 0; i < p->env_len; i++)
    if (str_has_prefix(p->env[i], "PATH="))
      return p->env[i] + 5;
  return DEFAULT_PATH;
}

int kist_process_find_executable(int rootfd, const oci_config_process *p, char **path,
                                 int *exit_code, kist_error_t *err)
{
  *path = NULL;
  *exit_code = 0;
  if (p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0')
    return kist_fail(err, 0, "process.args: needs at least the program to run");
  const char *name = p->args[0];
  struct lookup l = {.user = p->user};
  if (strchr(name, '/')) {
    cleanup_free char *cand = join_cwd(p->cwd, NULL, name);
    int r = try_candidate(rootfd, cand, &l, err);
    if (r < 0)
      return -1;
    if (r == 1) {
      *path = steal_pointer(&cand);
      return 0;
    }
    if (l.denied == NULL) {
      *exit_code = 127;
      return kist_fail(err, ENOENT, "process.args[0]: %s", name);
    }
  } else {
    cleanup_free char *dirs = xstrdup(env_path(p));
    char *save = dirs;
    for (;;) {
      char *colon = strchr(save, ':');
      if (colon)
        *colon = '\0';
      cleanup_free char *cand = join_cwd(p->cwd, save, name);
      int r = try_candidate(rootfd, cand, &l, err);
      if (r < 0) {
        free(l.denied);
        return -1;
      }
      if (r == 1) {
        free(l.denied);
        *path = steal_pointer(&cand);
        return 0;
      }
      if (colon == NULL)
        break;
      save = colon + 1;
    }
    if (l.denied == NULL) {
      *exit_code = 127;
      return kist_fail_take(
        err, ENOENT, xasprintf("process.args[0]: executable file `%s` not found in $PATH", name));
    }
  }
  *exit_code = 126;
  kist_fail(err, l.denied_err, "process.args[0]: %s", l.denied);
  free(l.denied);
  return -1;
}

/* ---- become the process's user ---- */

int kist_process_become(const oci_config_process *p, kist_error_t *err)
{
  /* cwd first, while still root: the spec's cwd need not be searchable by
   * the user, only exist. EACCES (a directory root may not enter, as with
   * NFS root_squash) is retried below as the process's user. */
  bool cwd_later = false;
  struct stat st;
  if (stat(p->cwd, &st) < 0) {
    if (errno != EACCES)
      return kist_fail(err, errno, "process.cwd: %s", p->cwd);
    cwd_later = true;
  } else if (!S_ISDIR(st.st_mode)) {
    return kist_fail(err, ENOTDIR, "process.cwd: %s", p->cwd);
  } else if (chdir(p->cwd) < 0) {
    if (errno != EACCES)
      return kist_fail(err, errno, "process.cwd: %s", p->cwd);
    cwd_later = true;
  }

  const oci_config_process_user *u = p->user;
  uid_t uid = u && u->uid_present ? u->uid : 0;
  gid_t gid = u && u->gid_present ? u->gid : 0;
  size_t ng = u ? u->additional_gids_len : 0;
  cleanup_free gid_t *gids = xcalloc(ng + 1, sizeof(gid_t));
  for (size_t i = 0; i < ng; i++)
    gids[i] = u->additional_gids[i];
  if (setgroups(ng, gids) < 0) {
    /* A user namespace whose setgroups is "deny" (rootless) keeps the groups
     * we came with; that is only a problem when groups were asked for. */
    if (!(errno == EPERM && ng == 0))
      return kist_fail(err, errno, "process.user.additionalGids: setgroups");
    kist_debug("setgroups is denied here; keeping the inherited groups");
  }
  if (setresgid(gid, gid, gid) < 0)
    return kist_fail(err, errno, "process.user.gid: setresgid %u", (unsigned)gid);
  /* Keep permitted across the uid change; caps.c trims it to the config. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return kist_fail(err, errno, "prctl PR_SET_KEEPCAPS");
  if (setresuid(uid, uid, uid) < 0)
    return kist_fail(err, errno, "process.user.uid: setresuid %u", (unsigned)uid);
  if (cwd_later && chdir(p->cwd) < 0)
    return kist_fail(err, errno, "process.cwd: %s", p->cwd);
  if (kist_caps_apply(p->capabilities, err) < 0)
    return -1;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return kist_fail(err, errno, "prctl PR_SET_KEEPCAPS");
  if (p->no_new_privileges_present && p->no_new_privileges &&
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return kist_fail(err, errno, "process.noNewPrivileges: prctl");
  if (p->exec_cpu_affinity &&
      set_affinity(p->exec_cpu_affinity->final, "process.execCPUAffinity.final", err) < 0)
    return -1;
  return 0;
}

bool kist_process_keeps_cap_sys_admin(const oci_config_process *p)
{
  const oci_config_process_capabilities *c = p->capabilities;
  for (size_t i = 0; c && i < c->effective_len; i++)
    if (strcmp(c->effective[i], "CAP_SYS_ADMIN") == 0)
      return true;
  return false;
}

/* A NOTIFY listener goes to whoever waits on report_fd, which hands it to
 * linux.seccomp.listenerPath: the agent must have it before the process
 * makes a notified call. */
static int load_seccomp(struct kist_seccomp *sc, int report_fd, kist_error_t *err)
{
  int notify_fd = -1;
  if (kist_seccomp_load(sc, &notify_fd, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  int r = kist_sync_send(report_fd, KIST_SYNC_SECCOMP_FD, 0, NULL, notify_fd, err);
  close(notify_fd);
  return r;
}

int kist_process_finish(const oci_config_process *p, struct kist_seccomp *sc, int report_fd,
                        kist_error_t *err)
{
  if (kist_lsm_set_exec_label(p, err) < 0)
    return -1;
  /* seccomp goes last, so the profile need not allow our own setup; but
   * without no_new_privs the kernel wants CAP_SYS_ADMIN at load time, and
   * when the process will not have it the filter must go in before the
   * capabilities are dropped. */
  bool nnp = p->no_new_privileges_present && p->no_new_privileges;
  bool early = sc && !nnp && !kist_process_keeps_cap_sys_admin(p);
  if (early && load_seccomp(sc, report_fd, err) < 0)
    return -1;
  if (kist_process_become(p, err) < 0)
    return -1;
  if (sc && !early && load_seccomp(sc, report_fd, err) < 0)
    return -1;
  return 0;
}
