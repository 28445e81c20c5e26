/* Idmapped bind mounts. An idmapping is a user namespace: one is made per
 * mount (a throwaway child in a new user namespace, its maps written, its
 * /proc/PID/ns/user kept open), then the bind source is cloned detached with
 * open_tree(OPEN_TREE_CLONE) and gets mount_setattr(MOUNT_ATTR_IDMAP). All of
 * it runs in kist itself, in the host's namespaces: only there is
 * CAP_SYS_ADMIN held over the source's filesystem. The mapping is read like
 * a user namespace's: files owned by `containerID` on disk show as `hostID`
 * through the mount, and files made through it as `hostID` land on disk as
 * `containerID`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "idmap.h"
#include "mounts.h"
#include "namespaces.h"
#include "util.h"

bool kist_idmap_wanted(const oci_mount *m, bool *recursive)
{
  bool want = m->uid_mappings_len > 0 || m->gid_mappings_len > 0;
  *recursive = false;
  for (size_t i = 0; i < m->options_len; i++) {
    if (strcmp(m->options[i], "idmap") == 0)
      want = true;
    else if (strcmp(m->options[i], "ridmap") == 0)
      want = *recursive = true;
  }
  return want;
}

/* The mount's own mappings, else the container's. */
static void mappings_of(const oci_config *cfg, const oci_mount *m, oci_id_mapping ***u, size_t *nu,
                        oci_id_mapping ***g, size_t *ng)
{
  const oci_config_linux *l = cfg->linux;
  if (m->uid_mappings_len > 0 || m->gid_mappings_len > 0 || l == NULL) {
    *u = m->uid_mappings;
    *nu = m->uid_mappings_len;
    *g = m->gid_mappings;
    *ng = m->gid_mappings_len;
  } else {
    *u = l->uid_mappings;
    *nu = l->uid_mappings_len;
    *g = l->gid_mappings;
    *ng = l->gid_mappings_len;
  }
}

int kist_idmap_validate(const oci_config *cfg, kist_error_t *err)
{
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const oci_mount *m = cfg->mounts[i];
    bool rec;
    if (!kist_idmap_wanted(m, &rec))
      continue;
    if ((m->uid_mappings_len > 0) != (m->gid_mappings_len > 0))
      return kist_fail(err, 0, "mounts[%zu].%s: uidMappings and gidMappings go together", i,
                       m->uid_mappings_len > 0 ? "gidMappings" : "uidMappings");
    for (int pass = 0; pass < 2; pass++) {
      oci_id_mapping **v = pass ? m->gid_mappings : m->uid_mappings;
      size_t n = pass ? m->gid_mappings_len : m->uid_mappings_len;
      for (size_t j = 0; j < n; j++)
        if (v[j]->size == 0)
          return kist_fail(err, 0, "mounts[%zu].%s[%zu].size: must be at least 1", i,
                           pass ? "gidMappings" : "uidMappings", j);
    }
    oci_id_mapping **u, **g;
    size_t nu, ng;
    mappings_of(cfg, m, &u, &nu, &g, &ng);
    if (nu == 0 || ng == 0)
      return kist_fail(err, 0,
                       "mounts[%zu]: %s needs uidMappings and gidMappings (the mount's, or the "
                       "container's user namespace mappings)",
                       i, rec ? "ridmap" : "idmap");
    if (!kist_mount_is_bind(m))
      return kist_fail(err, 0, "mounts[%zu]: %s is supported on bind mounts only (type %s)", i,
                       rec ? "ridmap" : "idmap", m->type ? m->type : "");
  }
  return 0;
}

/* A user namespace with the given maps, as an fd. */
static int make_userns(oci_id_mapping **u, size_t nu, oci_id_mapping **g, size_t ng,
                       const char *field, kist_error_t *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return kist_fail(err, errno, "%s: pipe", field);
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return kist_fail(err, e, "%s: create a user namespace for the idmapping", field);
  }
  if (pid == 0) {
    /* Only holds the namespace until the parent has an fd of it. */
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(p[0]);
  int fd = -1;
  if (kist_ns_write_maps(pid, u, nu, g, ng, field, err) == 0) {
    char path[64];
    kist_snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      kist_fail(err, errno, "%s: open %s", field, path);
  }
  close(p[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return fd;
}

static int open_one(const oci_config *cfg, size_t idx, const char *bundle, kist_error_t *err)
{
  const oci_mount *m = cfg->mounts[idx];
  bool rec;
  kist_idmap_wanted(m, &rec);
  char field[32];
  kist_snprintf(field, sizeof field, "mounts[%zu]", idx);
  oci_id_mapping **u, **g;
  size_t nu, ng;
  mappings_of(cfg, m, &u, &nu, &g, &ng);
  cleanup_close int userns = make_userns(u, nu, g, ng, field, err);
  if (userns < 0)
    return -1;
  cleanup_free char *src =
    m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", bundle, m->source);
  unsigned flags =
    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (kist_mount_is_rbind(m) ? AT_RECURSIVE : 0);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, flags);
  if (tree < 0)
    return kist_fail(err, errno, "%s: open_tree %s", field, src);
  struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof a) <
      0) {
    int e = errno;
    close(tree);
    if (e == EINVAL)
      return kist_fail(err, e, "%s: %s: %s cannot be idmapped (does its filesystem support it?)",
                       field, rec ? "ridmap" : "idmap", src);
    if (e == ENOSYS)
      return kist_fail(err, e, "%s: idmapped mounts need Linux 5.12 or later", field);
    return kist_fail(err, e, "%s: set the idmapping of %s", field, src);
  }
  return tree;
}

int kist_idmap_open(const oci_config *cfg, const char *bundle, int **fds, kist_error_t *err)
{
  *fds = NULL;
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    bool rec;
    if (!kist_idmap_wanted(cfg->mounts[i], &rec))
      continue;
    if (*fds == NULL) {
      *fds = xmalloc(cfg->mounts_len * sizeof(int));
      for (size_t j = 0; j < cfg->mounts_len; j++)
        (*fds)[j] = -1;
    }
    (*fds)[i] = open_one(cfg, i, bundle, err);
    if ((*fds)[i] < 0) {
      kist_idmap_close(*fds, cfg->mounts_len);
      *fds = NULL;
      return -1;
    }
  }
  return 0;
}

void kist_idmap_close(int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);
}
