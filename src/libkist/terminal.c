/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fmt.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

int kist_console_socket_connect(const char *path, kist_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return kist_fail(err, ENAMETOOLONG, "--console-socket %s", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return kist_fail(err, errno, "--console-socket: socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return kist_fail(err, e, "--console-socket: connect %s", path);
  }
  return fd;
}

static int send_fd(int sock, int fd, const char *name, kist_error_t *err)
{
  struct iovec iov = {(void *)name, strlen(name)};
  ssize_t r = kist_sendmsg_fd(sock, &iov, 1, fd);
  if (r < 0)
    return kist_fail(err, errno, "--console-socket: send the terminal");
  return 0;
}

int kist_terminal_send_master(int sock, int master, kist_error_t *err)
{
  return send_fd(sock, master, "/dev/ptmx", err);
}

int kist_terminal_setup(const oci_config_process *p, int console_fd, kist_error_t *err)
{
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return kist_fail(err, errno, "process.terminal: open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return kist_fail(err, errno, "process.terminal: unlock the pty");
  /* TIOCGPTPEER opens the slave through the master: no path lookup that a
   * container file could redirect. */
  cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return kist_fail(err, errno, "process.terminal: open the pty slave");
  int n = 0;
  char name[32] = "/dev/pts/?";
  if (ioctl(master, TIOCGPTN, &n) == 0)
    kist_snprintf(name, sizeof name, "/dev/pts/%d", n);
  if (p->console_size) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_size->height,
                         .ws_col = (unsigned short)p->console_size->width};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      return kist_fail(err, errno, "process.consoleSize: set the terminal size");
  }
  if (send_fd(console_fd, master, name, err) < 0)
    return -1;
  if (setsid() < 0)
    return kist_fail(err, errno, "process.terminal: setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return kist_fail(err, errno, "process.terminal: set the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      return kist_fail(err, errno, "process.terminal: dup2 to fd %d", i);
  return 0;
}

int kist_terminal_recv_master(int sock, int *master, kist_error_t *err)
{
  char buf[256];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  ssize_t r;
  do
    r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return kist_fail(err, errno, "receive the terminal");
  *master = -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy(master, CMSG_DATA(cm), sizeof(int));
  if (*master < 0)
    return kist_fail(err, EPROTO, "receive the terminal: no file descriptor");
  return 0;
}

int kist_terminal_make_raw(int fd, struct termios *saved)
{
  if (tcgetattr(fd, saved) < 0)
    return 1;
  struct termios raw = *saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0)
    return 1;
  return 0;
}

void kist_terminal_restore(int fd, const struct termios *saved)
{
  tcsetattr(fd, TCSANOW, saved);
}

ssize_t kist_terminal_copy(int from, int to)
{
  char buf[16384];
  ssize_t n = read_retry(from, buf, sizeof buf);
  if (n <= 0)
    return n;
  if (write_all(to, buf, (size_t)n) < 0)
    return -1;
  return n;
}

void kist_terminal_resize(int fd, int master)
{
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

bool kist_terminal_size_of(int fd, oci_config_process_console_size *size)
{
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return false;
  *size = (oci_config_process_console_size){
    .height = ws.ws_row, .height_present = true, .width = ws.ws_col, .width_present = true};
  return true;
}

void kist_relay_begin(struct kist_relay *t)
{
  if (t->master < 0)
    return;
  t->raw = kist_terminal_make_raw(0, &t->saved) == 0;
  kist_terminal_resize(0, t->master);
}

void kist_relay_pollfds(const struct kist_relay *t, struct pollfd pf[2])
{
  pf[0] = (struct pollfd){.fd = t->master >= 0 && t->stdin_open ? 0 : -1, .events = POLLIN};
  pf[1] = (struct pollfd){.fd = t->master, .events = POLLIN};
}

void kist_relay_io(struct kist_relay *t, const struct pollfd pf[2])
{
  if (pf[1].revents && t->master >= 0 && kist_terminal_copy(t->master, 1) <= 0) {
    close(t->master); /* hung up: the process may still run without it */
    t->master = -1;
  }
  if (pf[0].revents && t->master >= 0 && kist_terminal_copy(0, t->master) <= 0)
    t->stdin_open = false;
}

bool kist_relay_winch(const struct kist_relay *t)
{
  if (t->master < 0)
    return false;
  kist_terminal_resize(0, t->master);
  return true;
}

void kist_relay_drain(struct kist_relay *t)
{
  if (t->master < 0)
    return;
  fcntl(t->master, F_SETFL, fcntl(t->master, F_GETFL) | O_NONBLOCK);
  while (kist_terminal_copy(t->master, 1) > 0)
    ;
}

void kist_relay_restore(struct kist_relay *t)
{
  if (t->raw)
    kist_terminal_restore(0, &t->saved);
  t->raw = false;
}

void kist_relay_end(struct kist_relay *t)
{
  kist_relay_restore(t);
  if (t->master >= 0)
    close(t->master);
  t->master = -1;
}
