/* A static helper for tests/seccomp.bats, run inside containers (the
 * busybox rootfs has no such tool):
 *
 *   seccomp-probe table    "NAME ERRNO" for every call of probe-table.h
 *   seccomp-probe status   the Seccomp and Seccomp_filters lines of /proc/self/status
 *   seccomp-probe trap     mkdir("/trap-probe") with a SIGSYS handler: prints
 *                          "sigsys syscall=N code=C errno=E" when the signal came
 *                          (code 1 = SYS_SECCOMP, errno = the filter's data),
 *                          else "no-sigsys ret=R errno=E"
 *   seccomp-probe dump PID (on the host, as root) the seccomp filters PID runs
 *                          under, as the kernel holds them (PTRACE_SECCOMP_GET_FILTER):
 *                          "filter I: N insns" then one "code jt jf k" line each;
 *                          exits 3 when the kernel cannot tell (no
 *                          CONFIG_CHECKPOINT_RESTORE)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "probe-table.h"

static volatile sig_atomic_t got, got_code, got_nr, got_errno;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
  (void)sig;
  (void)ctx;
  got = 1;
  got_code = si->si_code;
  got_nr = si->si_syscall;
  got_errno = si->si_errno;
}

static int status(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  if (f == NULL)
    return 1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Seccomp", 7) == 0 || strncmp(line, "NoNewPrivs", 10) == 0)
      fputs(line, stdout);
  fclose(f);
  return 0;
}

static int trap(void)
{
  struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSYS, &sa, NULL);
  errno = 0;
  long r = syscall(SYS_mkdir, "/trap-probe", 0700);
  int e = errno;
  if (got)
    printf("sigsys syscall=%d code=%d errno=%d\n", (int)got_nr, (int)got_code, (int)got_errno);
  else
    printf("no-sigsys ret=%ld errno=%d\n", r, e);
  return 0;
}

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static int dump(pid_t pid)
{
  if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
    perror("PTRACE_SEIZE");
    return 1;
  }
  int st, rc = 0;
  if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0 || waitpid(pid, &st, __WALL) < 0) {
    perror("PTRACE_INTERRUPT");
    return 1;
  }
  for (long i = 0;; i++) {
    long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)i, NULL);
    if (n < 0) {
      if (errno == ENOENT) /* past the last filter */
        break;
      if (i == 0 && errno == EINVAL) { /* not in seccomp filter mode */
        printf("no filter\n");
        break;
      }
      if (i == 0 && (errno == EIO || errno == EMEDIUMTYPE)) {
        rc = 3; /* the kernel does not hand filters out */
        break;
      }
      perror("PTRACE_SECCOMP_GET_FILTER");
      rc = 1;
      break;
    }
    struct sock_filter *f = calloc((size_t)n, sizeof *f);
    if (f == NULL || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)i, f) != n) {
      perror("PTRACE_SECCOMP_GET_FILTER");
      rc = 1;
      break;
    }
    printf("filter %ld: %ld insns\n", i, n);
    for (long j = 0; j < n; j++)
      printf("%04x %u %u %08x\n", f[j].code, f[j].jt, f[j].jf, f[j].k);
    free(f);
  }
  ptrace(PTRACE_DETACH, pid, NULL, NULL);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "dump") == 0)
    return dump((pid_t)atoi(argv[2]));
  if (argc == 2 && strcmp(argv[1], "table") == 0) {
    probe_table_print(stdout);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "status") == 0)
    return status();
  if (argc == 2 && strcmp(argv[1], "trap") == 0)
    return trap();
  fprintf(stderr, "usage: seccomp-probe table|status|trap\n");
  return 2;
}
