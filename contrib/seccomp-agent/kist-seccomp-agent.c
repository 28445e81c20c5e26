/* kist-seccomp-agent: a small seccomp notify agent for linux.seccomp.listenerPath.
 *
 *   kist-seccomp-agent [--once] [--log FILE] SOCKET
 *
 * Listens on the AF_UNIX stream socket SOCKET. For every connection a runtime
 * sends the container process state (JSON) with the seccomp listener fd
 * attached (SCM_RIGHTS), then closes it. The agent then answers the
 * container's notified syscalls:
 *   mkdir, mkdirat  succeed without doing anything (a demonstration that the
 *                   agent, not the kernel, decides);
 *   anything else   continues in the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 * Every state and decision is logged as one line. --once exits when the
 * first container's filter is gone (all its processes exited).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LISTENERS 64
#define MAX_STATE     65536

static FILE *logf;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(logf, fmt, ap);
  va_end(ap);
  fputc('\n', logf);
  fflush(logf);
}

/* Reads one process state and its fd; the runtime closes the connection
 * after sending, so read until EOF. Returns the listener fd or -1. */
static int receive_state(int conn)
{
  static char state[MAX_STATE];
  size_t len = 0;
  int fd = -1;
  for (;;) {
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = state + len, .iov_len = sizeof state - 1 - len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd < 0) {
      msg.msg_control = ctl.buf;
      msg.msg_controllen = sizeof ctl.buf;
    }
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      logline("error: recvmsg: %s", strerror(errno));
      break;
    }
    if (fd < 0) {
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
          memcpy(&fd, CMSG_DATA(c), sizeof fd);
    }
    if (n == 0 || len + (size_t)n >= sizeof state - 1) {
      len += (size_t)n;
      break;
    }
    len += (size_t)n;
  }
  state[len] = '\0';
  if (fd < 0) {
    logline("error: no seccomp fd with state %s", state);
    return -1;
  }
  logline("state %s", state);
  return fd;
}

/* Answers one notification. */
static void answer(int fd)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  if (seccomp_notify_alloc(&req, &resp) < 0) {
    logline("error: seccomp_notify_alloc");
    return;
  }
  int rc = seccomp_notify_receive(fd, req);
  if (rc < 0) {
    /* ENOENT: the caller died or was interrupted before we got to it. */
    logline("error: receive notification: %s", strerror(-rc));
    goto out;
  }
  char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
  resp->id = req->id;
  if (name && (strcmp(name, "mkdir") == 0 || strcmp(name, "mkdirat") == 0)) {
    resp->val = 0;
    resp->error = 0;
    resp->flags = 0;
    logline("pid %u: %s faked", req->pid, name);
  } else {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    logline("pid %u: %s continued", req->pid, name ? name : "?");
  }
  free(name);
  rc = seccomp_notify_respond(fd, resp);
  if (rc < 0)
    logline("error: respond: %s", strerror(-rc));
out:
  seccomp_notify_free(req, resp);
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"once", no_argument, NULL, 'o'}, {"log", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
  bool once = false;
  const char *log_path = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "ol:", opts, NULL)) != -1) {
    if (c == 'o')
      once = true;
    else if (c == 'l')
      log_path = optarg;
    else
      return 2;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, "usage: %s [--once] [--log FILE] SOCKET\n", argv[0]);
    return 2;
  }
  const char *path = argv[optind];
  logf = stdout;
  if (log_path && (logf = fopen(log_path, "ae")) == NULL) {
    perror(log_path);
    return 1;
  }

  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "%s: path too long\n", path);
    return 1;
  }
  strcpy(addr.sun_path, path);
  int lsk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (lsk < 0 || bind(lsk, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lsk, 16) < 0) {
    perror(path);
    return 1;
  }
  logline("listening on %s", path);

  struct pollfd pfd[MAX_LISTENERS + 1] = {{.fd = lsk, .events = POLLIN}};
  size_t n = 1;
  bool served = false;
  while (!stop && !(once && served && n == 1)) {
    if (poll(pfd, n, -1) < 0) {
      if (errno == EINTR)
        continue;
      perror("poll");
      break;
    }
    if (pfd[0].revents & POLLIN) {
      int conn = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) {
        int fd = receive_state(conn);
        close(conn);
        if (fd >= 0 && n <= MAX_LISTENERS)
          pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        else if (fd >= 0)
          close(fd);
      }
    }
    for (size_t i = 1; i < n; i++) {
      if (pfd[i].revents & POLLIN) {
        answer(pfd[i].fd);
      } else if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        /* Every process under the filter is gone. */
        logline("listener %d closed", pfd[i].fd);
        close(pfd[i].fd);
        pfd[i--] = pfd[--n];
        served = true;
      }
    }
  }
  unlink(path);
  return 0;
}
