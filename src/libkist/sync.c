/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

struct wire_hdr {
  uint32_t type;
  int32_t value;
  int32_t errnum;
  uint32_t len;
};

ssize_t kist_sendmsg_fd(int sock, const struct iovec *iov, size_t n, int fd)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n};
  if (fd >= 0) {
    memset(&c, 0, sizeof c);
    mh.msg_control = c.buf;
    mh.msg_controllen = sizeof c.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  ssize_t r;
  do
    r = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r;
}

int kist_sync_send(int sock, enum kist_sync_type type, int32_t value, const char *text, int fd,
                   kist_error_t *err)
{
  struct wire_hdr h = {.type = type, .value = value};
  size_t tlen = text ? strlen(text) + 1 : 0;
  if (tlen > KIST_SYNC_BUFSIZE - sizeof h - 1)
    tlen = KIST_SYNC_BUFSIZE - sizeof h - 1; /* a truncated message beats none */
  h.len = (uint32_t)tlen;
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)text, tlen}};
  ssize_t r = kist_sendmsg_fd(sock, iov, tlen ? 2 : 1, fd);
  if (r < 0)
    return kist_fail(err, errno, "sync: send message %u", (unsigned)type);
  return 0;
}

void kist_sync_send_error(int sock, kist_error_t *err, int exit_code)
{
  const char *msg = err && *err ? kist_error_message(*err) : "unknown error";
  struct wire_hdr h = {.type = KIST_SYNC_ERROR,
                       .value = exit_code,
                       .errnum = err && *err ? kist_error_errno(*err) : 0};
  size_t tlen = strlen(msg) + 1;
  if (tlen > KIST_SYNC_BUFSIZE - sizeof h - 1)
    tlen = KIST_SYNC_BUFSIZE - sizeof h - 1;
  h.len = (uint32_t)tlen;
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)msg, tlen}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  (void)sendmsg(sock, &mh, MSG_NOSIGNAL);
  kist_error_release(err);
}

int kist_sync_recv(int sock, struct kist_sync_msg *m, char *buf, size_t bufsize, int *fd_out,
                   int allow_eof, kist_error_t *err)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct iovec iov = {buf, bufsize - 1};
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  if (fd_out)
    *fd_out = -1;
  memset(m, 0, sizeof *m);
  ssize_t r;
  do
    r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return kist_fail(err, errno, "sync: receive");
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
      continue;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    if (fd_out && *fd_out < 0)
      *fd_out = fd;
    else
      close(fd);
  }
  if (r == 0) {
    if (allow_eof)
      return 0;
    return kist_fail(err, 0, "the container's init exited during setup");
  }
  struct wire_hdr h;
  if ((size_t)r < sizeof h)
    return kist_fail(err, EPROTO, "sync: short message (%zd bytes)", r);
  memcpy(&h, buf, sizeof h);
  m->type = h.type;
  m->value = h.value;
  m->errnum = h.errnum;
  m->len = h.len;
  if (h.len > 0) {
    if (h.len > (size_t)r - sizeof h)
      return kist_fail(err, EPROTO, "sync: truncated message");
    m->text = buf + sizeof h;
    m->text[h.len - 1] = '\0';
  }
  return 0;
}

int kist_sync_expect(int sock, enum kist_sync_type type, int32_t *value, int *exit_code,
                     kist_error_t *err)
{
  char buf[KIST_SYNC_BUFSIZE];
  struct kist_sync_msg m;
  if (kist_sync_recv(sock, &m, buf, sizeof buf, NULL, 0, err) < 0)
    return -1;
  if (m.type == KIST_SYNC_ERROR) {
    if (exit_code)
      *exit_code = m.value;
    if (err && *err == NULL)
      *err = kist_error_new(m.errnum, m.text ? m.text : "the container's init failed");
    return -1;
  }
  if (m.type != (uint32_t)type)
    return kist_fail(err, EPROTO, "sync: expected message %u, got %u", (unsigned)type,
                     (unsigned)m.type);
  if (value)
    *value = m.value;
  return 0;
}
