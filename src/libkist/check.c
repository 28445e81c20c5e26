/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same validators that `create` runs before it makes anything, plus the
 * checks create only finds out late (rootfs, args[0], cwd, hook paths). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "check.h"
#include "config.h"
#include "mounts.h"
#include "namespaces.h"
#include "netdev.h"
#include "paths.h"
#include "process.h"
#include "seccomp.h"
#include "util.h"

struct checker {
  void (*report)(const char *problem, void *data);
  void *data;
  int problems;
};

/* Consumes err (if set) as one reported problem. */
static void note(struct checker *c, kist_error_t *err)
{
  if (*err == NULL)
    return;
  c->report(kist_error_message(*err), c->data);
  c->problems++;
  kist_error_release(err);
}

static void check_hooks(struct checker *c, oci_hook *const *hooks, size_t n, const char *stage)
{
  for (size_t i = 0; i < n; i++) {
    kist_error_t err = NULL;
    const char *path = hooks[i]->path;
    struct stat st;
    if (path[0] != '/')
      kist_fail(&err, 0, "hooks.%s[%zu].path: %s is not an absolute path", stage, i, path);
    else if (stat(path, &st) < 0)
      kist_fail(&err, errno, "hooks.%s[%zu].path: %s", stage, i, path);
    else if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
      kist_fail(&err, 0, "hooks.%s[%zu].path: %s is not an executable file", stage, i, path);
    note(c, &err);
  }
}

int kist_check_bundle(const struct kist_context *ctx, const char *bundle,
                      void (*report)(const char *problem, void *data), void *data,
                      kist_error_t *err)
{
  struct checker c = {report, data, 0};
  oci_config *cfg = NULL;
  kist_error_t e = NULL;

  if (kist_config_load(bundle, &cfg, err) < 0)
    return -1;

  kist_process_validate(cfg, &e);
  note(&c, &e);
  struct kist_ns_plan plan;
  if (kist_ns_plan(cfg, &plan, &e) == 0) {
    kist_netdev_validate(cfg, &plan, &e);
    kist_ns_plan_release(&plan);
  }
  note(&c, &e);
  kist_mounts_validate(cfg, &e);
  note(&c, &e);
  kist_cgroup_validate(ctx, "kist-check", cfg, &e);
  note(&c, &e);
  struct kist_seccomp *sc = NULL;
  kist_seccomp_prepare(cfg, &sc, &e);
  kist_seccomp_free(sc);
  note(&c, &e);

  if (cfg->hooks) {
    const oci_config_hooks *h = cfg->hooks;
    check_hooks(&c, h->prestart, h->prestart_len, "prestart");
    check_hooks(&c, h->create_runtime, h->create_runtime_len, "createRuntime");
    check_hooks(&c, h->create_container, h->create_container_len, "createContainer");
    check_hooks(&c, h->start_container, h->start_container_len, "startContainer");
    check_hooks(&c, h->poststart, h->poststart_len, "poststart");
    check_hooks(&c, h->poststop, h->poststop_len, "poststop");
  }

  /* The rootfs, and what the process needs inside it. */
  cleanup_close int bundle_fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int rootfd = -1;
  if (bundle_fd < 0) {
    kist_fail(&e, errno, "bundle %s", bundle);
  } else if (cfg->root == NULL || cfg->root->path == NULL) {
    kist_fail(&e, 0, "root.path: required to run a container on Linux");
  } else {
    rootfd = openat(bundle_fd, cfg->root->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
      kist_fail(&e, errno, "root.path: %s", cfg->root->path);
  }
  note(&c, &e);

  if (rootfd >= 0 && cfg->process != NULL) {
    const oci_config_process *p = cfg->process;
    cleanup_close int cwd = -1;
    if (p->cwd && p->cwd[0] == '/') {
      cwd = kist_open_in_root(rootfd, p->cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &e);
      if (cwd < 0) {
        kist_error_t inner = steal_pointer(&e);
        kist_fail(&e, 0, "process.cwd: %s", kist_error_message(inner));
        kist_error_release(&inner);
      }
      note(&c, &e);
    }
    if (p->args_len == 0) {
      kist_fail(&e, 0, "process.args: at least one argument is needed to start a process");
    } else {
      cleanup_free char *path = NULL;
      int code = 0;
      kist_process_find_executable(rootfd, p, &path, &code, &e);
    }
    note(&c, &e);
  }

  free_oci_config(cfg);
  return c.problems;
}
