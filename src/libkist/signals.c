/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "signals.h"
#include "util.h"

static const struct {
  const char *name;
  int sig;
} signal_table[] = {
  {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
  {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
  {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
  {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
  {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
  {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
  {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
  {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
  {"SYS", SIGSYS},
};

static int parse_rt(const char *s, int *sig)
{
  /* RTMIN, RTMIN+n, RTMAX, RTMAX-n */
  int base, dir;
  if (strncasecmp(s, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    dir = 1;
  } else if (strncasecmp(s, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    dir = -1;
  } else {
    return -1;
  }
  s += 5;
  if (*s == '\0') {
    *sig = base;
    return 0;
  }
  if ((dir == 1 && *s != '+') || (dir == -1 && *s != '-'))
    return -1;
  int64_t n;
  if (parse_int64(s + 1, &n) < 0 || n < 0 || n > SIGRTMAX - SIGRTMIN)
    return -1;
  *sig = base + dir * (int)n;
  return 0;
}

int kist_signal_parse(const char *s, int *sig, kist_error_t *err)
{
  if (s == NULL || *s == '\0')
    return kist_fail(err, 0, "empty signal");
  if (isdigit((unsigned char)s[0])) {
    int64_t n;
    if (parse_int64(s, &n) < 0 || n < 1 || n > SIGRTMAX)
      return kist_fail(err, 0, "invalid signal number '%s' (1-%d)", s, SIGRTMAX);
    *sig = (int)n;
    return 0;
  }
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < ARRAY_SIZE(signal_table); i++) {
    if (strcasecmp(name, signal_table[i].name) == 0) {
      *sig = signal_table[i].sig;
      return 0;
    }
  }
  if (parse_rt(name, sig) == 0)
    return 0;
  return kist_fail(err, 0, "unknown signal '%s'", s);
}

const char *kist_signal_name(int sig)
{
  static const char *names[65];
  for (size_t i = 0; i < ARRAY_SIZE(signal_table); i++) {
    if (signal_table[i].sig == sig) {
      if (sig >= 0 && sig < 65 && names[sig] == NULL)
        names[sig] = xasprintf("SIG%s", signal_table[i].name);
      return sig >= 0 && sig < 65 ? names[sig] : NULL;
    }
  }
  return NULL;
}

void kist_signal_forward_set(sigset_t *set)
{
  sigfillset(set);
  static const int keep[] = {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
  for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
    sigdelset(set, keep[i]);
}

int kist_wait_exit_code(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 255; /* stopped or continued: not asked for (no WUNTRACED) */
}
