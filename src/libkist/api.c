/* The public API (include/libkist.h): thin wrappers that turn the opaque
 * context and the public option structs into what container.c, check.c,
 * spec.c and features.c take.  Only what is marked KIST_EXPORT in libkist.h
 * and listed in libkist.sym leaves libkist.so.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "container-ops.h"
#include "container.h"
#include "context.h"
#include "features.h"
#include "log.h"
#include "rootless.h"
#include "spec.h"
#include "state.h"
#include "util.h"

struct kist_api_context {
  struct kist_context base; /* base.root points to root_owned */
  char *root_owned;
};

static char *default_root(void)
{
  /* The same rule as kist's --root default. */
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (!kist_privileged() && xdg != NULL && xdg[0] != '\0')
    return xasprintf("%s/kist", xdg);
  return xstrdup("/run/kist");
}

kist_context_t *kist_context_new(void)
{
  kist_context_t *ctx = xzalloc(sizeof *ctx);
  ctx->root_owned = default_root();
  ctx->base.root = ctx->root_owned;
  ctx->base.rootless = -1;
  return ctx;
}

void kist_context_free(kist_context_t *ctx)
{
  if (ctx == NULL)
    return;
  free(ctx->root_owned);
  free(ctx);
}

/* Argument errors carry EINVAL for callers that branch on it, without
 * kist_fail's ": Invalid argument" suffix: the message already says why. */
int kist_context_set_root(kist_context_t *ctx, const char *root, kist_error_t *err)
{
  if (root != NULL && root[0] == '\0')
    return kist_fail_take(err, EINVAL, xstrdup("state root: empty path"));
  char *copy = root ? xstrdup(root) : default_root();
  free(ctx->root_owned);
  ctx->root_owned = copy;
  ctx->base.root = copy;
  return 0;
}

const char *kist_context_get_root(const kist_context_t *ctx)
{
  return ctx->base.root;
}

void kist_context_set_systemd_cgroup(kist_context_t *ctx, bool on)
{
  ctx->base.systemd_cgroup = on;
}

int kist_context_set_rootless(kist_context_t *ctx, int rootless, kist_error_t *err)
{
  if (rootless < -1 || rootless > 1)
    return kist_fail_take(err, EINVAL,
                          xasprintf("rootless: expected 1, 0 or -1 (auto), got %d", rootless));
  ctx->base.rootless = rootless;
  return 0;
}

void kist_context_set_debug(kist_context_t *ctx, bool on)
{
  ctx->base.debug = on;
  /* No path and no format: only the debug switch changes. */
  (void)kist_log_init(NULL, NULL, on, NULL);
}

int kist_log_to_file(const char *path, const char *format, kist_error_t *err)
{
  return kist_log_init(path, format, kist_log_debug_enabled(), err);
}

/* ---- bundles and configs ---- */

static void ignore_problem(const char *problem, void *data)
{
}

int kist_config_check(kist_context_t *ctx, const char *bundle, kist_problem_fn report, void *data,
                      kist_error_t *err)
{
  return kist_check_bundle(&ctx->base, bundle ? bundle : ".", report ? report : ignore_problem,
                           data, err);
}

static void keep_first(const char *problem, void *data)
{
  char **first = data;
  if (*first == NULL)
    *first = xstrdup(problem);
}

int kist_config_validate(kist_context_t *ctx, const char *bundle, kist_error_t *err)
{
  char *first = NULL;
  int n = kist_check_bundle(&ctx->base, bundle ? bundle : ".", keep_first, &first, err);
  if (n < 0) {
    free(first);
    return -1;
  }
  if (n == 0)
    return 0;
  if (first == NULL) /* a problem without a message: still a problem */
    first = xasprintf("bundle %s: %d problems", bundle ? bundle : ".", n);
  return kist_fail_take(err, EINVAL, first);
}

int kist_config_default(bool rootless, char **json, kist_error_t *err)
{
  *json = kist_spec_default(rootless, geteuid(), getegid());
  if (*json == NULL)
    return kist_fail(err, ENOMEM, "default config");
  return 0;
}

int kist_spec(const char *bundle, bool rootless, kist_error_t *err)
{
  return kist_spec_write(bundle ? bundle : ".", rootless, err);
}

int kist_features(char **json, kist_error_t *err)
{
  return kist_features_json(json, err);
}

/* ---- the lifecycle ---- */

static void create_opts(const struct kist_create_options *in, struct kist_create_opts *out)
{
  memset(out, 0, sizeof *out);
  if (in == NULL)
    return;
  out->bundle = in->bundle;
  out->pid_file = in->pid_file;
  out->console_socket = in->console_socket;
  out->preserve_fds = in->preserve_fds;
  out->no_pivot = in->flags & KIST_CREATE_NO_PIVOT;
  out->no_new_keyring = in->flags & KIST_CREATE_NO_NEW_KEYRING;
}

int kist_create(kist_context_t *ctx, const char *id, const struct kist_create_options *opts,
                kist_error_t *err)
{
  struct kist_create_opts o;
  create_opts(opts, &o);
  return kist_container_create(&ctx->base, id, &o, err);
}

int kist_start(kist_context_t *ctx, const char *id, kist_error_t *err)
{
  return kist_container_start(&ctx->base, id, err);
}

int kist_run(kist_context_t *ctx, const char *id, const struct kist_create_options *opts,
             int *exit_status, kist_error_t *err)
{
  struct kist_run_opts o = {0};
  create_opts(opts, &o.create);
  o.detach = opts && (opts->flags & KIST_RUN_DETACH);
  o.keep = opts && (opts->flags & KIST_RUN_KEEP);
  int status = 1;
  int r = kist_container_run(&ctx->base, id, &o, &status, err);
  if (r < 0 && status == 0)
    status = 1;
  if (exit_status)
    *exit_status = status;
  return r;
}

static int exit_code_of(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

/* Reaps pid when it is our child; -1 with errno ECHILD when it is not. */
static int reap(pid_t pid, int *exit_status)
{
  int status;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return -1;
  *exit_status = exit_code_of(status);
  return 0;
}

int kist_wait(kist_context_t *ctx, const char *id, int *exit_status, kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(&ctx->base, id, 0, &c, err) < 0)
    return -1;
  pid_t pid = c->st.pid;
  unsigned long long want = c->st.starttime;
  enum kist_status status = c->st.status;
  kist_container_close(c);
  if (pid <= 0 || status == KIST_STATUS_CREATING)
    return kist_fail(err, 0, "cannot wait for container %s: it has no init yet", id);

  /* A pid is only ours to wait for while it still names the init: the
   * start time recorded at create tells (a zombie keeps it too). */
  char letter = 0;
  unsigned long long start = 0;
  if (kist_proc_stat(pid, &letter, &start) < 0 || start != want)
    return kist_fail(err, ECHILD,
                     "cannot wait for container %s: its init (pid %d) is gone and was not "
                     "reaped by this process",
                     id, (int)pid);
  int code = 0;
  if (reap(pid, &code) < 0) {
    if (errno == ECHILD)
      return kist_fail(err, ECHILD,
                       "cannot wait for container %s: its init (pid %d) is not a child of this "
                       "process",
                       id, (int)pid);
    return kist_fail(err, errno, "wait for container %s (pid %d)", id, (int)pid);
  }
  if (exit_status)
    *exit_status = code;
  return 0;
}

int kist_kill(kist_context_t *ctx, const char *id, int sig, bool all, kist_error_t *err)
{
  return kist_container_kill(&ctx->base, id, sig, all, err);
}

int kist_delete(kist_context_t *ctx, const char *id, bool force, kist_error_t *err)
{
  return kist_container_delete(&ctx->base, id, force, err);
}

/* ---- state ---- */

int kist_state(kist_context_t *ctx, const char *id, char **json, kist_error_t *err)
{
  return kist_container_state(&ctx->base, id, json, err);
}

static void info_from_state(const struct kist_state *st, kist_container_info_t *info)
{
  memset(info, 0, sizeof *info);
  info->id = xstrdup(st->id);
  info->status = kist_status_name(st->status);
  info->pid = st->status == KIST_STATUS_STOPPED ? 0 : st->pid;
  info->bundle = st->bundle ? xstrdup(st->bundle) : NULL;
  info->rootfs = st->rootfs ? xstrdup(st->rootfs) : NULL;
  info->created = st->created ? xstrdup(st->created) : NULL;
  info->owner = st->owner;
}

int kist_inspect(kist_context_t *ctx, const char *id, kist_container_info_t *info,
                 kist_error_t *err)
{
  struct kist_container *c = NULL;
  memset(info, 0, sizeof *info);
  if (kist_container_open(&ctx->base, id, 0, &c, err) < 0)
    return -1;
  info_from_state(&c->st, info);
  kist_container_close(c);
  return 0;
}

void kist_container_info_clear(kist_container_info_t *info)
{
  if (info == NULL)
    return;
  free(info->id);
  free(info->bundle);
  free(info->rootfs);
  free(info->created);
  memset(info, 0, sizeof *info);
}

int kist_list(kist_context_t *ctx, kist_container_info_t **infos, size_t *n, kist_error_t *err)
{
  struct kist_state *st = NULL;
  size_t count = 0;
  *infos = NULL;
  *n = 0;
  if (kist_container_list(&ctx->base, &st, &count, err) < 0)
    return -1;
  if (count > 0) {
    *infos = xcalloc(count, sizeof **infos);
    for (size_t i = 0; i < count; i++)
      info_from_state(&st[i], &(*infos)[i]);
  }
  *n = count;
  kist_container_list_free(st, count);
  return 0;
}

void kist_list_free(kist_container_info_t *infos, size_t n)
{
  if (infos == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    kist_container_info_clear(&infos[i]);
  free(infos);
}

/* ---- live containers ---- */

int kist_pause(kist_context_t *ctx, const char *id, kist_error_t *err)
{
  return kist_container_pause(&ctx->base, id, err);
}

int kist_resume(kist_context_t *ctx, const char *id, kist_error_t *err)
{
  return kist_container_resume(&ctx->base, id, err);
}

int kist_update(kist_context_t *ctx, const char *id, const char *resources_json, kist_error_t *err)
{
  if (resources_json == NULL)
    return kist_fail_take(err, EINVAL, xstrdup("resources: no JSON given"));
  return kist_container_update(&ctx->base, id, resources_json, strlen(resources_json), "resources",
                               err);
}

int kist_pids(kist_context_t *ctx, const char *id, pid_t **pids, size_t *n, kist_error_t *err)
{
  return kist_container_pids(&ctx->base, id, pids, n, err);
}

int kist_stats(kist_context_t *ctx, const char *id, char **json, kist_error_t *err)
{
  return kist_container_stats(&ctx->base, id, json, err);
}
