/* The channel between kist and the container's init: one SOCK_SEQPACKET
 * socketpair, one datagram per message, so a message is never split or
 * merged. Errors travel as errno + the one-line message built in the init, so
 * the parent prints exactly what failed there.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_SYNC_H
#define KIST_SYNC_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "error.h"

enum kist_sync_type {
  KIST_SYNC_GO = 1,      /* P->C: placed in the cgroup, id maps written; value = init pid */
  KIST_SYNC_USERNS,      /* C->P: unshared a user ns, please write the id maps */
  KIST_SYNC_USERNS_DONE, /* P->C: maps written */
  KIST_SYNC_PID,         /* C->P: value = pid of the real init (after the extra fork) */
  KIST_SYNC_HOOKS,       /* C->P: namespaces made: run prestart + createRuntime */
  KIST_SYNC_HOOKS_DONE,  /* P->C */
  KIST_SYNC_READY,       /* C->P: created, waiting for start */
  KIST_SYNC_DONE,        /* P->C: state written; value 1 = start right away (run) */
  KIST_SYNC_START,       /* start->C over the start socket */
  KIST_SYNC_SECCOMP_FD,  /* C->P: the seccomp notify listener (fd attached) for listenerPath */
  KIST_SYNC_ERROR,       /* either way: value = exit code hint, errnum, text = message */
  KIST_SYNC_PLACED,      /* exec helper->P: entered its v1 cgroups itself (cgroup-self.c) */
};

struct kist_sync_msg {
  uint32_t type;
  int32_t value;
  int32_t errnum;
  uint32_t len; /* bytes of text after the header, NUL included */
  char *text;   /* points into the receive buffer; NULL when len == 0 */
};

/* One sendmsg(2) of iov[0..n) with fd (>= 0) attached as SCM_RIGHTS,
 * retried on EINTR, never raising SIGPIPE. Returns the bytes sent, or -1
 * with errno set (the caller names what it was sending). */
ssize_t kist_sendmsg_fd(int sock, const struct iovec *iov, size_t n, int fd);

/* Sends one message; fd >= 0 is passed with SCM_RIGHTS. */
int kist_sync_send(int sock, enum kist_sync_type type, int32_t value, const char *text, int fd,
                   kist_error_t *err);

/* Sends err (and releases it) as a KIST_SYNC_ERROR with exit_code as value.
 * Used by the init right before it exits; failures to send are ignored. */
void kist_sync_send_error(int sock, kist_error_t *err, int exit_code);

/* Receives one message into buf (text points into it). *fd_out (optional)
 * gets a passed fd or -1. EOF is an error "<what>: the container's init exited"
 * unless allow_eof, in which case m->type is 0. */
int kist_sync_recv(int sock, struct kist_sync_msg *m, char *buf, size_t bufsize, int *fd_out,
                   int allow_eof, kist_error_t *err);

/* Receives and requires `type`; a KIST_SYNC_ERROR is turned into *err with
 * the peer's message and errno, and *exit_code (optional) gets its value. */
int kist_sync_expect(int sock, enum kist_sync_type type, int32_t *value, int *exit_code,
                     kist_error_t *err);

#define KIST_SYNC_BUFSIZE 8192

/* Or'ed into a KIST_SYNC_ERROR's value (the exit code hint, 0..255) when a
 * hook failed: the spec then wants the container destroyed and poststop run. */
#define KIST_SYNC_HOOK_FAILED 0x100

#endif
