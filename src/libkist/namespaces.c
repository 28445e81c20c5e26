/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fmt.h"
#include "namespaces.h"
#include "paths.h"
#include "userns.h"
#include "util.h"

static const struct {
  const char *name;
  int flag;
} kinds[KIST_NS_COUNT] = {
  [KIST_NS_USER] = {"user", CLONE_NEWUSER}, [KIST_NS_IPC] = {"ipc", CLONE_NEWIPC},
  [KIST_NS_UTS] = {"uts", CLONE_NEWUTS},    [KIST_NS_NET] = {"network", CLONE_NEWNET},
  [KIST_NS_PID] = {"pid", CLONE_NEWPID},    [KIST_NS_CGROUP] = {"cgroup", CLONE_NEWCGROUP},
  [KIST_NS_TIME] = {"time", CLONE_NEWTIME}, [KIST_NS_MNT] = {"mount", CLONE_NEWNS},
};

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* A namespace path is looked at with O_PATH first: a fifo or a device there
 * must neither block kist nor see an open. Only an nsfs file is then opened
 * for real (setns and NS_GET_NSTYPE need a non-O_PATH fd). */
static int open_ns_file(const char *path, size_t i, kist_error_t *err)
{
  cleanup_close int pfd = open(path, O_PATH | O_CLOEXEC);
  if (pfd < 0)
    return kist_fail(err, errno, "linux.namespaces[%zu].path: open %s", i, path);
  struct statfs sfs;
  if (fstatfs(pfd, &sfs) < 0)
    return kist_fail(err, errno, "linux.namespaces[%zu].path: statfs %s", i, path);
  if (sfs.f_type != NSFS_MAGIC)
    return kist_fail(err, 0, "linux.namespaces[%zu].path: %s is not a namespace file", i, path);
  char fdp[KIST_FD_PATH_MAX];
  int fd = open(kist_fd_path(pfd, fdp), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "linux.namespaces[%zu].path: open %s", i, path);
  return fd;
}

int kist_ns_flag(enum kist_ns_kind k)
{
  return kinds[k].flag;
}

const char *kist_ns_name(enum kist_ns_kind k)
{
  return kinds[k].name;
}

static const char *name_of_flag(int flag)
{
  for (size_t i = 0; i < KIST_NS_COUNT; i++)
    if (kinds[i].flag == flag)
      return kinds[i].name;
  return "unknown";
}

static int kind_of(const char *type)
{
  for (int i = 0; i < KIST_NS_COUNT; i++)
    if (strcmp(kinds[i].name, type) == 0)
      return i;
  return -1;
}

void kist_ns_plan_release(struct kist_ns_plan *plan)
{
  for (int i = 0; i < KIST_NS_COUNT; i++) {
    if (plan->join_fd[i] >= 0)
      close(plan->join_fd[i]);
    plan->join_fd[i] = -1;
  }
}

static int check_maps(const oci_config *cfg, const struct kist_ns_plan *plan, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  bool have_uid = l && l->uid_mappings_len > 0, have_gid = l && l->gid_mappings_len > 0;
  bool new_user = plan->new_flags & CLONE_NEWUSER;
  if ((have_uid || have_gid) && !new_user)
    return kist_fail(err, 0, "linux.%s: id mappings need a new user namespace",
                     have_uid ? "uidMappings" : "gidMappings");
  if (new_user && !have_uid)
    return kist_fail(err, 0, "linux.uidMappings: a new user namespace needs uid mappings");
  if (new_user && !have_gid)
    return kist_fail(err, 0, "linux.gidMappings: a new user namespace needs gid mappings");
  for (int pass = 0; pass < 2 && l; pass++) {
    oci_id_mapping **m = pass ? l->gid_mappings : l->uid_mappings;
    size_t n = pass ? l->gid_mappings_len : l->uid_mappings_len;
    for (size_t i = 0; i < n; i++)
      if (m[i]->size == 0)
        return kist_fail(err, 0, "linux.%s[%zu].size: must be at least 1",
                         pass ? "gidMappings" : "uidMappings", i);
  }
  if (l && l->time_offsets && !(plan->new_flags & CLONE_NEWTIME))
    return kist_fail(err, 0, "linux.timeOffsets: offsets need a new time namespace");
  return 0;
}

int kist_ns_plan(const oci_config *cfg, struct kist_ns_plan *plan, kist_error_t *err)
{
  memset(plan, 0, sizeof *plan);
  for (int i = 0; i < KIST_NS_COUNT; i++)
    plan->join_fd[i] = -1;
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->namespaces_len; i++) {
    const oci_namespace_reference *ns = l->namespaces[i];
    int k = ns->type ? kind_of(ns->type) : -1;
    if (k < 0) {
      kist_ns_plan_release(plan);
      return kist_fail(err, 0, "linux.namespaces[%zu].type: unknown namespace type '%s'", i,
                       ns->type ? ns->type : "");
    }
    if ((plan->new_flags & kinds[k].flag) || plan->join_fd[k] >= 0) {
      kist_ns_plan_release(plan);
      return kist_fail(err, 0, "linux.namespaces[%zu]: duplicate %s namespace", i, kinds[k].name);
    }
    if (ns->path == NULL || ns->path[0] == '\0') {
      plan->new_flags |= kinds[k].flag;
      continue;
    }
    int fd = open_ns_file(ns->path, i, err);
    if (fd < 0) {
      kist_ns_plan_release(plan);
      return -1;
    }
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type != kinds[k].flag) {
      int e = errno;
      close(fd);
      kist_ns_plan_release(plan);
      if (type < 0)
        return kist_fail(err, e, "linux.namespaces[%zu].path: %s is not a namespace", i, ns->path);
      return kist_fail(err, 0, "linux.namespaces[%zu].path: %s is a %s namespace, not %s", i,
                       ns->path, name_of_flag(type), kinds[k].name);
    }
    plan->join_fd[k] = fd;
    plan->joins = true;
  }
  if (check_maps(cfg, plan, err) < 0) {
    kist_ns_plan_release(plan);
    return -1;
  }
  plan->private_mnt = plan->new_flags & CLONE_NEWNS;
  if (plan->join_fd[KIST_NS_MNT] >= 0) {
    /* A path naming our own mount namespace (/proc/self/ns/mnt, or any
     * process sharing it) is the host's table, not a private one. */
    struct stat a, b;
    plan->private_mnt =
      !(fstat(plan->join_fd[KIST_NS_MNT], &a) == 0 && stat("/proc/self/ns/mnt", &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino);
  }
  return 0;
}

bool kist_ns_plan_needs_fork(const struct kist_ns_plan *plan)
{
  return (plan->new_flags & (CLONE_NEWPID | CLONE_NEWTIME)) || plan->join_fd[KIST_NS_PID] >= 0 ||
         plan->join_fd[KIST_NS_TIME] >= 0;
}

const oci_namespace_reference *kist_ns_find(const oci_config *cfg, const char *type)
{
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    if (l->namespaces[i]->type && strcmp(l->namespaces[i]->type, type) == 0)
      return l->namespaces[i];
  return NULL;
}

int kist_ns_validate(const oci_config *cfg, kist_error_t *err)
{
  struct kist_ns_plan plan;
  if (kist_ns_plan(cfg, &plan, err) < 0)
    return -1;
  kist_ns_plan_release(&plan);
  return 0;
}

int kist_ns_join_all(const struct kist_ns_plan *plan, kist_error_t *err)
{
  bool root = geteuid() == 0; /* before a joined user ns changes what it says */
  for (int k = 0; k < KIST_NS_COUNT; k++) {
    if (plan->join_fd[k] < 0)
      continue;
    if (setns(plan->join_fd[k], kinds[k].flag) == 0)
      continue;
    if (errno == EPERM && !root)
      return kist_fail(err, 0,
                       "join the %s namespace: %s (kist is not root: joining needs "
                       "CAP_SYS_ADMIN over the user namespace that owns it; join that user "
                       "namespace too, by path in linux.namespaces, or run kist as root)",
                       kinds[k].name, strerror(EPERM));
    return kist_fail(err, errno, "join the %s namespace", kinds[k].name);
  }
  return 0;
}

/* Idmapped mounts (idmap.c): kist is root there, writes the maps itself
 * (no newuidmap/newgidmap). */
int kist_ns_write_maps(pid_t pid, oci_id_mapping **uid, size_t nuid, oci_id_mapping **gid,
                       size_t ngid, const char *field, kist_error_t *err)
{
  char uid_field[96], gid_field[96];
  kist_snprintf(uid_field, sizeof uid_field, "%s.uidMappings", field);
  kist_snprintf(gid_field, sizeof gid_field, "%s.gidMappings", field);
  return kist_userns_write_id_maps(pid, uid, nuid, gid, ngid, uid_field, gid_field, false, err);
}

int kist_ns_write_id_maps(pid_t pid, const oci_config *cfg, kist_error_t *err)
{
  return kist_userns_write_maps(pid, cfg, err);
}

int kist_ns_write_time_offsets(const oci_config *cfg, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  if (l == NULL || l->time_offsets == NULL)
    return 0;
  char buf[256];
  size_t len = 0;
  const oci_config_linux_time_offsets *t = l->time_offsets;
  if (t->monotonic)
    len += (size_t)kist_snprintf(buf + len, sizeof buf - len, "monotonic %lld %u\n",
                                 (long long)t->monotonic->secs, (unsigned)t->monotonic->nanosecs);
  if (t->boottime)
    len += (size_t)kist_snprintf(buf + len, sizeof buf - len, "boottime %lld %u\n",
                                 (long long)t->boottime->secs, (unsigned)t->boottime->nanosecs);
  if (len == 0)
    return 0;
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "linux.timeOffsets: open /proc/self/timens_offsets");
  ssize_t w = write(fd, buf, len);
  int e = errno;
  close(fd);
  if (w != (ssize_t)len)
    return kist_fail(err, w < 0 ? e : EIO, "linux.timeOffsets: write /proc/self/timens_offsets");
  return 0;
}

int kist_ns_become_root(kist_error_t *err)
{
  /* In a new or joined user namespace we start as whatever our host uid
   * maps to. */
  if (setresgid(0, 0, 0) < 0)
    return kist_fail(err, errno, "setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0)
    return kist_fail(err, errno, "setresuid 0 in the user namespace");
  (void)setgroups(0, NULL); /* refused after setgroups "deny": fine */
  return 0;
}
