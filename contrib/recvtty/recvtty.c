/* kist-recvtty: receives the pty master a runtime sends to --console-socket.
 *
 *   kist-recvtty [--mode copy|null] [--once] [--size ROWSxCOLS]
 *                [--pid-file FILE] SOCKET
 *
 * Listens on the AF_UNIX stream socket SOCKET (made here, removed at exit).
 * Each connection carries one message whose payload is the terminal's name
 * and whose SCM_RIGHTS fd is the master.
 *   copy  (default) relays between the master and our stdin/stdout, one
 *         terminal, then exits when it hangs up (all slave ends closed);
 *   null  drains every terminal it gets (so the processes never block on
 *         output) until killed, or until the first hangs up with --once.
 * --size sets the window size on each master received. The name of each
 * terminal is logged to stderr as "recvtty: got /dev/pts/N".
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_TERMS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

static void die(const char *what)
{
  fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* One read from `from` written fully to `to` (-1: none, drain only).
 * Returns bytes moved, 0 at EOF (EIO from a master whose slaves closed). */
static ssize_t copy_once(int from, int to)
{
  char buf[16384];
  ssize_t n;
  do
    n = read(from, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return -2;
  if (n <= 0)
    return n < 0 && errno != EIO ? -1 : 0;
  if (to >= 0 && write_all(to, buf, (size_t)n) < 0)
    return -1;
  return n;
}

/* Receives the master from a connection; -1 when the peer sent none. */
static int recv_master(int conn)
{
  char name[256] = "";
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct iovec iov = {name, sizeof name - 1};
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  ssize_t r;
  do
    r = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -1;
  int fd = -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  if (fd >= 0) {
    fprintf(stderr, "recvtty: got %s\n", name[0] ? name : "(unnamed)");
    fflush(stderr);
  }
  return fd;
}

static void usage(const char *argv0)
{
  fprintf(stderr,
          "usage: %s [--mode copy|null] [--once] [--size ROWSxCOLS] [--pid-file FILE] SOCKET\n",
          argv0);
  exit(2);
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"mode", required_argument, NULL, 'm'}, {"once", no_argument, NULL, 'o'},
    {"size", required_argument, NULL, 's'}, {"pid-file", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
  };
  bool null_mode = false, once = false;
  const char *pid_file = NULL;
  struct winsize ws = {0};
  bool set_size = false;
  int c;
  while ((c = getopt_long(argc, argv, "m:os:p:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      if (strcmp(optarg, "null") == 0)
        null_mode = true;
      else if (strcmp(optarg, "copy") != 0)
        usage(argv[0]);
      break;
    case 'o':
      once = true;
      break;
    case 's': {
      unsigned rows, cols;
      if (sscanf(optarg, "%ux%u", &rows, &cols) != 2 || rows > 65535 || cols > 65535)
        usage(argv[0]);
      ws.ws_row = (unsigned short)rows;
      ws.ws_col = (unsigned short)cols;
      set_size = true;
      break;
    }
    case 'p':
      pid_file = optarg;
      break;
    default:
      usage(argv[0]);
    }
  }
  if (optind + 1 != argc)
    usage(argv[0]);
  const char *path = argv[optind];
  if (!null_mode)
    once = true; /* one stdin/stdout: one terminal */

  /* Blocked except inside ppoll: a signal cannot slip in between the
   * check of `stop` and the wait. */
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t block, waitmask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &waitmask);
  sigdelset(&waitmask, SIGTERM);
  sigdelset(&waitmask, SIGINT);

  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    die(path);
  }
  strcpy(sun.sun_path, path);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0)
    die("socket");
  unlink(path);
  if (bind(lfd, (struct sockaddr *)&sun, sizeof sun) < 0)
    die(path);
  if (listen(lfd, 16) < 0)
    die("listen");
  if (pid_file) {
    FILE *f = fopen(pid_file, "w");
    if (f == NULL)
      die(pid_file);
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
  }

  int terms[MAX_TERMS];
  size_t nterms = 0;
  bool got_one = false, stdin_open = true;
  int rc = 0;
  while (!stop) {
    /* Copy mode stops listening once it has its terminal. */
    struct pollfd p[MAX_TERMS + 2];
    size_t np = 0;
    p[np++] = (struct pollfd){.fd = (null_mode || !got_one) ? lfd : -1, .events = POLLIN};
    p[np++] =
      (struct pollfd){.fd = (!null_mode && nterms > 0 && stdin_open) ? 0 : -1, .events = POLLIN};
    for (size_t i = 0; i < nterms; i++)
      p[np++] = (struct pollfd){.fd = terms[i], .events = POLLIN};
    if (ppoll(p, np, NULL, &waitmask) < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    if (p[0].revents & POLLIN) {
      int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) {
        int m = recv_master(conn);
        close(conn);
        if (m >= 0 && nterms < MAX_TERMS) {
          if (set_size && ioctl(m, TIOCSWINSZ, &ws) < 0)
            fprintf(stderr, "recvtty: set the window size: %s\n", strerror(errno));
          terms[nterms++] = m;
          got_one = true;
        } else if (m >= 0) {
          close(m);
        }
      }
    }
    if (p[1].revents) {
      ssize_t r = copy_once(0, terms[0]);
      if (r <= 0)
        stdin_open = false; /* the terminal stays: output still flows */
    }
    bool hung_up = false;
    for (size_t i = 0; i < nterms; i++) {
      if (!p[2 + i].revents)
        continue;
      ssize_t r = copy_once(terms[i], null_mode ? -1 : 1);
      if (r <= 0 && r != -2) {
        close(terms[i]);
        terms[i] = -1;
        hung_up = true;
      }
    }
    size_t k = 0;
    for (size_t i = 0; i < nterms; i++)
      if (terms[i] >= 0)
        terms[k++] = terms[i];
    nterms = k;
    if (hung_up && once)
      break;
  }
  for (size_t i = 0; i < nterms; i++)
    close(terms[i]);
  close(lfd);
  unlink(path);
  return rc;
}
