/* embed: run an OCI bundle through libkist, the way a program that embeds
 * the runtime would.  Uses nothing but <libkist.h>.
 *
 *   embed [--root DIR] [--no-check] run BUNDLE ID        create + start + wait + delete
 *   embed [--root DIR] [--no-check] lifecycle BUNDLE ID  the same, one call per step
 *   embed [--root DIR] [--no-check] live BUNDLE ID       start a long-running process, then
 *                                                        pids, pause, resume, update, stats,
 *                                                        kill, wait, delete
 *   embed [--root DIR] cleanup                           delete --force every container
 *
 * The bundle is linted first (kist_config_check) unless --no-check.
 * Exits with the container process's exit code (126/127 when it could not
 * be executed), or 1 (with one line on stderr) when libkist reports an
 * error.
 *
 * Build: cc embed.c $(pkg-config --cflags --libs libkist)
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkist.h>

/* Prints and releases err; returns the exit status for main. */
static int fail(const char *step, kist_error_t *err)
{
  fprintf(stderr, "embed: %s: %s (errno %d)\n", step, kist_error_message(*err),
          kist_error_errno(*err));
  kist_error_release(err);
  return 1;
}

static void print_problem(const char *problem, void *data)
{
  int *count = data;
  fprintf(stderr, "embed: check: %s\n", problem);
  (*count)++;
}

/* One call does everything: like `kist run`. */
static int run_one_call(kist_context_t *ctx, const char *bundle, const char *id)
{
  kist_error_t err = NULL;
  struct kist_create_options opts = {.bundle = bundle};
  int status = 1;
  if (kist_run(ctx, id, &opts, &status, &err) < 0) {
    fail("run", &err);
    return status; /* 126/127 when the command could not be executed */
  }
  printf("embed: %s exited with %d\n", id, status);
  return status;
}

/* create, inspect, start, wait, state, delete: the steps an engine takes. */
static int run_steps(kist_context_t *ctx, const char *bundle, const char *id)
{
  kist_error_t err = NULL;
  struct kist_create_options opts = {.bundle = bundle};
  if (kist_create(ctx, id, &opts, &err) < 0)
    return fail("create", &err);

  kist_container_info_t info;
  if (kist_inspect(ctx, id, &info, &err) < 0) {
    int r = fail("inspect", &err);
    kist_delete(ctx, id, true, &err);
    kist_error_release(&err);
    return r;
  }
  printf("embed: %s is %s, pid %d, bundle %s\n", info.id, info.status, (int)info.pid, info.bundle);
  kist_container_info_clear(&info);

  int status = 1;
  if (kist_start(ctx, id, &err) < 0 || kist_wait(ctx, id, &status, &err) < 0) {
    int r = fail("start/wait", &err);
    kist_delete(ctx, id, true, &err);
    kist_error_release(&err);
    return r;
  }

  char *json = NULL;
  if (kist_state(ctx, id, &json, &err) < 0) {
    fail("state", &err);
  } else {
    /* The status is "stopped" now: print the line that says so. */
    const char *s = strstr(json, "\"status\"");
    printf("embed: state %.*s\n", s ? (int)strcspn(s, ",\n") : 0, s ? s : "");
    free(json);
  }
  if (kist_delete(ctx, id, false, &err) < 0)
    return fail("delete", &err);
  printf("embed: %s exited with %d\n", id, status);
  return status;
}

/* What an engine does with a running container. */
static int run_live(kist_context_t *ctx, const char *bundle, const char *id)
{
  kist_error_t err = NULL;
  struct kist_create_options opts = {.bundle = bundle};
  int status = 1, rc = 1;
  pid_t *pids = NULL;
  size_t n = 0;
  char *json = NULL;
  kist_container_info_t info = {0};
  if (kist_create(ctx, id, &opts, &err) < 0)
    return fail("create", &err);
  if (kist_start(ctx, id, &err) < 0) {
    fail("start", &err);
    goto out;
  }
  if (kist_pids(ctx, id, &pids, &n, &err) < 0) {
    fail("pids", &err);
    goto out;
  }
  printf("embed: %s has %zu process(es), first %d\n", id, n, n ? (int)pids[0] : 0);
  if (kist_pause(ctx, id, &err) < 0 || kist_inspect(ctx, id, &info, &err) < 0) {
    fail("pause", &err);
    goto out;
  }
  printf("embed: after pause %s is %s\n", id, info.status);
  kist_container_info_clear(&info);
  if (kist_resume(ctx, id, &err) < 0 || kist_inspect(ctx, id, &info, &err) < 0) {
    fail("resume", &err);
    goto out;
  }
  printf("embed: after resume %s is %s\n", id, info.status);
  kist_container_info_clear(&info);
  if (kist_update(ctx, id, "{\"pids\": {\"limit\": 64}}", &err) < 0) {
    fail("update", &err);
    goto out;
  }
  if (kist_stats(ctx, id, &json, &err) < 0) {
    fail("stats", &err);
    goto out;
  }
  printf("embed: stats %.60s...\n", json);
  if (kist_kill(ctx, id, 9, false, &err) < 0 || kist_wait(ctx, id, &status, &err) < 0) {
    fail("kill/wait", &err);
    goto out;
  }
  printf("embed: %s exited with %d\n", id, status);
  rc = 0;
out:
  free(pids);
  free(json);
  if (kist_delete(ctx, id, true, &err) < 0)
    rc = fail("delete", &err);
  return rc ? rc : status;
}

static int cleanup(kist_context_t *ctx)
{
  kist_error_t err = NULL;
  kist_container_info_t *list = NULL;
  size_t n = 0;
  if (kist_list(ctx, &list, &n, &err) < 0)
    return fail("list", &err);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    printf("embed: deleting %s (%s)\n", list[i].id, list[i].status);
    if (kist_delete(ctx, list[i].id, true, &err) < 0)
      rc = fail("delete", &err);
  }
  kist_list_free(list, n);
  return rc;
}

int main(int argc, char **argv)
{
  int i = 1;
  const char *root = NULL;
  bool check = true;
  if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
    root = argv[i + 1];
    i += 2;
  }
  if (i < argc && strcmp(argv[i], "--no-check") == 0) {
    check = false;
    i++;
  }
  if (i >= argc) {
    fprintf(stderr,
            "usage: embed [--root DIR] [--no-check] run|lifecycle|live BUNDLE ID | cleanup\n");
    return 2;
  }
  const char *mode = argv[i++];

  kist_error_t err = NULL;
  kist_context_t *ctx = kist_context_new();
  if (root && kist_context_set_root(ctx, root, &err) < 0) {
    kist_context_free(ctx);
    return fail("root", &err);
  }

  int rc;
  if (strcmp(mode, "cleanup") == 0) {
    rc = cleanup(ctx);
  } else if (i + 2 == argc) {
    const char *bundle = argv[i], *id = argv[i + 1];
    int problems = 0;
    /* Lint first: a broken bundle is reported problem by problem. */
    if (check && kist_config_check(ctx, bundle, print_problem, &problems, &err) < 0)
      rc = fail("check", &err);
    else if (problems > 0)
      rc = 1;
    else if (strcmp(mode, "run") == 0)
      rc = run_one_call(ctx, bundle, id);
    else if (strcmp(mode, "lifecycle") == 0)
      rc = run_steps(ctx, bundle, id);
    else if (strcmp(mode, "live") == 0)
      rc = run_live(ctx, bundle, id);
    else
      rc = 2;
  } else {
    fprintf(stderr,
            "usage: embed [--root DIR] [--no-check] run|lifecycle|live BUNDLE ID | cleanup\n");
    rc = 2;
  }
  kist_context_free(ctx);
  return rc;
}
