/* A long-lived program embedding libkist, for tests/security/soak.bats:
 * CYCLES times create, start, state, inspect, list, kill, wait, delete of
 * container PREFIX-N from BUNDLE under ROOT, all in this one process. After
 * a warm-up cycle it records its open fds, its children and its memory; at
 * the end none of that may have grown: every fd libkist opened is closed,
 * every init it forked is reaped, and what it allocated is freed (VmRSS
 * within SLACK_KB). Prints one line of numbers; exits 1 with one line per
 * problem on stderr.
 *
 *   soak-caller ROOT BUNDLE PREFIX CYCLES [SLACK_KB]
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkist.h>

static int fd_count(char *list, size_t size)
{
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  int n = 0;
  size_t used = 0;
  list[0] = '\0';
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
      continue;
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
    ssize_t k = readlink(path, target, sizeof target - 1);
    target[k > 0 ? k : 0] = '\0';
    int w = snprintf(list + used, size - used, " %s:%s", de->d_name, target);
    if (w > 0 && used + (size_t)w < size)
      used += (size_t)w;
    n++;
  }
  closedir(d);
  return n;
}

/* Children of this process, any state (a zombie is an init not reaped). */
static int child_count(void)
{
  DIR *d = opendir("/proc");
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char path[300], buf[512];
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
      continue;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *p = strrchr(buf, ')');
    int ppid = 0;
    char st;
    if (p && sscanf(p + 2, "%c %d", &st, &ppid) == 2 && ppid == getpid())
      n++;
  }
  closedir(d);
  return n;
}

static long rss_kb(void)
{
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

static int cycle(kist_context_t *ctx, const char *bundle, const char *id)
{
  kist_error_t err = NULL;
  struct kist_create_options o = {.bundle = bundle};
  const char *step = "create";
  char *json = NULL;
  kist_container_info_t info = {0}, *infos = NULL;
  size_t n = 0;
  int status = 0;
  if (kist_create(ctx, id, &o, &err) < 0)
    goto fail;
  step = "start";
  if (kist_start(ctx, id, &err) < 0)
    goto fail;
  step = "state";
  if (kist_state(ctx, id, &json, &err) < 0)
    goto fail;
  free(json);
  step = "inspect";
  if (kist_inspect(ctx, id, &info, &err) < 0)
    goto fail;
  kist_container_info_clear(&info);
  step = "list";
  if (kist_list(ctx, &infos, &n, &err) < 0)
    goto fail;
  kist_list_free(infos, n);
  step = "kill";
  if (kist_kill(ctx, id, SIGKILL, false, &err) < 0)
    goto fail;
  step = "wait";
  if (kist_wait(ctx, id, &status, &err) < 0)
    goto fail;
  step = "delete";
  if (kist_delete(ctx, id, false, &err) < 0)
    goto fail;
  return 0;
fail:
  fprintf(stderr, "soak-caller: %s %s: %s\n", step, id, kist_error_message(err));
  kist_error_release(&err);
  kist_delete(ctx, id, true, &err);
  kist_error_release(&err);
  return -1;
}

int main(int argc, char **argv)
{
  if (argc < 5) {
    fprintf(stderr, "usage: soak-caller ROOT BUNDLE PREFIX CYCLES [SLACK_KB]\n");
    return 2;
  }
  int cycles = atoi(argv[4]);
  long slack = argc > 5 ? atol(argv[5]) : 2048;
  kist_error_t err = NULL;
  kist_context_t *ctx = kist_context_new();
  if (kist_context_set_root(ctx, argv[1], &err) < 0) {
    fprintf(stderr, "soak-caller: %s\n", kist_error_message(err));
    return 1;
  }
  char id[256];
  int failures = 0;
  /* Warm-up: one-time allocations (caches, the cgroup layout) happen here. */
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof id, "%s-warm%d", argv[3], i);
    failures += cycle(ctx, argv[2], id) < 0;
  }
  static char fds0[8192], fds1[8192];
  int nfd0 = fd_count(fds0, sizeof fds0);
  int kids0 = child_count();
  long rss0 = rss_kb();
  for (int i = 0; i < cycles; i++) {
    snprintf(id, sizeof id, "%s-%d", argv[3], i);
    failures += cycle(ctx, argv[2], id) < 0;
  }
  int nfd1 = fd_count(fds1, sizeof fds1);
  int kids1 = child_count();
  long rss1 = rss_kb();
  kist_context_free(ctx);
  printf("soak-caller: %d cycles, %d failed; fds %d -> %d; children %d -> %d; VmRSS %ld -> %ld "
         "kB\n",
         cycles, failures, nfd0, nfd1, kids0, kids1, rss0, rss1);
  int bad = 0;
  if (failures) {
    fprintf(stderr, "soak-caller: %d of %d cycles failed\n", failures, cycles);
    bad = 1;
  }
  if (nfd1 != nfd0) {
    fprintf(stderr, "soak-caller: fds leaked: before%s; after%s\n", fds0, fds1);
    bad = 1;
  }
  if (kids1 != kids0) {
    fprintf(stderr, "soak-caller: %d children (zombies?) left, %d before\n", kids1, kids0);
    bad = 1;
  }
  if (rss1 - rss0 > slack) {
    fprintf(stderr, "soak-caller: VmRSS grew by %ld kB (bound %ld kB)\n", rss1 - rss0, slack);
    bad = 1;
  }
  return bad;
}
