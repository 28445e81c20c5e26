/* A small static helper for tests/security: runs inside containers (where the
 * busybox rootfs has no such tools) and on the host (fast flip loops for race
 * tests). Each subcommand prints one line and exits 0 when the operation it
 * tries succeeded, 1 when it failed, 2 on a usage error.
 *
 *   probe open PATH MODE         open PATH (MODE: r, w, a, rw, path); "ok" or the errno name
 *   probe write-exe PID SECONDS  O_PATH-open /proc/PID/exe, then keep trying to reopen it for
 *                                writing (CVE-2019-5736): "WROTE" or the last errno name
 *   probe hunt-exe NAME SECONDS  like write-exe for every process whose exe is named NAME
 *   probe ptrace PID             PTRACE_SEIZE PID: "ok" or the errno name
 *   probe fds                    this process's open fds, space separated
 *   probe cwd                    getcwd(), or "unreachable" when the cwd is outside the root
 *   probe relink PATH TARGET SECONDS   loop: unlink PATH, symlink TARGET at PATH
 *   probe swap DIR A B SECONDS   loop: renameat2(A, B, RENAME_EXCHANGE) in DIR
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *errname(int e)
{
  const char *n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_flags(const char *mode)
{
  if (strcmp(mode, "r") == 0)
    return O_RDONLY;
  if (strcmp(mode, "w") == 0)
    return O_WRONLY;
  if (strcmp(mode, "a") == 0)
    return O_WRONLY | O_APPEND;
  if (strcmp(mode, "rw") == 0)
    return O_RDWR;
  if (strcmp(mode, "path") == 0)
    return O_PATH;
  return -1;
}

static int cmd_open(const char *path, const char *mode)
{
  int fl = open_flags(mode);
  if (fl < 0)
    return 2;
  /* Never block on a fifo and never truncate: a probe must not do the harm
   * it looks for. */
  int fd = open(path, fl | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    puts(errname(errno));
    return 1;
  }
  puts("ok");
  close(fd);
  return 0;
}

/* Appends a marker through a reopened O_PATH fd: what the CVE-2019-5736
 * exploit does once the runtime binary is no longer running. */
static int try_write_fd(int pathfd, int *last)
{
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", pathfd);
  int w = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (w < 0) {
    *last = errno;
    return -1;
  }
  int r = (int)write(w, "\n#kist-probe-was-here\n", 22);
  *last = r < 0 ? errno : 0;
  close(w);
  return r < 0 ? -1 : 0;
}

static int cmd_write_exe(const char *pid, const char *secs)
{
  char p[64];
  snprintf(p, sizeof p, "/proc/%s/exe", pid);
  int fd = open(p, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    puts(errname(errno));
    return 1;
  }
  double end = now() + atof(secs);
  int last = 0;
  do {
    if (try_write_fd(fd, &last) == 0) {
      puts("WROTE");
      return 0;
    }
    usleep(2000);
  } while (now() < end);
  puts(errname(last));
  return 1;
}

static int cmd_hunt_exe(const char *name, const char *secs)
{
  int fds[256], nfd = 0, last = ENOENT, opened = 0;
  pid_t seen[256];
  double end = now() + atof(secs);
  do {
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
      pid_t pid = atoi(de->d_name);
      if (pid <= 0 || pid == getpid())
        continue;
      bool known = false;
      for (int i = 0; i < nfd; i++)
        known |= seen[i] == pid;
      if (known || nfd == 256)
        continue;
      char p[64], target[PATH_MAX];
      snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
      ssize_t n = readlink(p, target, sizeof target - 1);
      if (n < 0)
        continue;
      target[n] = '\0';
      const char *base = strrchr(target, '/');
      base = base ? base + 1 : target;
      if (strncmp(base, name, strlen(name)) != 0)
        continue;
      int fd = open(p, O_PATH | O_CLOEXEC);
      if (fd < 0) {
        last = errno;
        continue;
      }
      opened++;
      seen[nfd] = pid;
      fds[nfd++] = fd;
    }
    if (d)
      closedir(d);
    for (int i = 0; i < nfd; i++)
      if (try_write_fd(fds[i], &last) == 0) {
        puts("WROTE");
        return 0;
      }
    usleep(1000);
  } while (now() < end);
  printf("%s (%d opened)\n", errname(last), opened);
  return 1;
}

static int cmd_ptrace(const char *pid)
{
  pid_t p = atoi(pid);
  if (ptrace(PTRACE_SEIZE, p, NULL, NULL) < 0) {
    puts(errname(errno));
    return 1;
  }
  ptrace(PTRACE_DETACH, p, NULL, NULL);
  puts("ok");
  return 0;
}

static int cmd_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    puts(errname(errno));
    return 1;
  }
  int list[1024], n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && n < 1024) {
    if (de->d_name[0] == '.')
      continue;
    int fd = atoi(de->d_name);
    if (fd != dirfd(d))
      list[n++] = fd;
  }
  closedir(d);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && list[j - 1] > list[j]; j--) {
      int t = list[j];
      list[j] = list[j - 1];
      list[j - 1] = t;
    }
  for (int i = 0; i < n; i++)
    printf("%s%d", i ? " " : "", list[i]);
  putchar('\n');
  return 0;
}

static int cmd_cwd(void)
{
  char buf[PATH_MAX];
  /* glibc's getcwd fails with ENOENT for a cwd outside the root; the raw
   * syscall says "(unreachable)" then. */
  long r = syscall(SYS_getcwd, buf, sizeof buf);
  if (r < 0) {
    puts(errname(errno));
    return 1;
  }
  if (buf[0] != '/') {
    puts("unreachable");
    return 1;
  }
  puts(buf);
  return 0;
}

static int cmd_relink(const char *path, const char *target, const char *secs)
{
  double end = now() + atof(secs);
  unsigned long n = 0;
  while (now() < end) {
    for (int i = 0; i < 1000; i++) {
      unlink(path);
      if (symlink(target, path) == 0)
        n++;
    }
  }
  printf("%lu\n", n);
  return 0;
}

static int cmd_swap(const char *dir, const char *a, const char *b, const char *secs)
{
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    puts(errname(errno));
    return 1;
  }
  double end = now() + atof(secs);
  unsigned long n = 0;
  while (now() < end)
    for (int i = 0; i < 1000; i++)
      if (syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE) == 0)
        n++;
  /* An even number of swaps leaves A and B as they started. */
  if (n % 2)
    syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE);
  printf("%lu\n", n);
  return 0;
}

int main(int argc, char **argv)
{
  const char *c = argc > 1 ? argv[1] : "";
  if (strcmp(c, "open") == 0 && argc == 4)
    return cmd_open(argv[2], argv[3]);
  if (strcmp(c, "write-exe") == 0 && argc == 4)
    return cmd_write_exe(argv[2], argv[3]);
  if (strcmp(c, "hunt-exe") == 0 && argc == 4)
    return cmd_hunt_exe(argv[2], argv[3]);
  if (strcmp(c, "ptrace") == 0 && argc == 3)
    return cmd_ptrace(argv[2]);
  if (strcmp(c, "fds") == 0)
    return cmd_fds();
  if (strcmp(c, "cwd") == 0)
    return cmd_cwd();
  if (strcmp(c, "relink") == 0 && argc == 5)
    return cmd_relink(argv[2], argv[3], argv[4]);
  if (strcmp(c, "swap") == 0 && argc == 6)
    return cmd_swap(argv[2], argv[3], argv[4], argv[5]);
  fprintf(stderr, "usage: probe open|write-exe|hunt-exe|ptrace|fds|cwd|relink|swap ...\n");
  return 2;
}
