/* process.terminal: the pty is made inside the container (its own devpts),
 * and the master goes to --console-socket with SCM_RIGHTS, as runc does.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_TERMINAL_H
#define KIST_TERMINAL_H

#include <stdbool.h>
#include <poll.h>
#include <sys/types.h>
#include <termios.h>

#include "error.h"
#include "ocispec.h"

/* Parent, before clone: connects to the console socket (AF_UNIX stream). */
int kist_console_socket_connect(const char *path, kist_error_t *err);

/* Init, after pivot_root: opens /dev/ptmx, applies consoleSize, sends the
 * master over console_fd (payload: the slave's name), then makes the slave
 * the controlling terminal of a new session and stdin/stdout/stderr. */
/* Sends a pty master over a --console-socket connection (restore). */
int kist_terminal_send_master(int sock, int master, kist_error_t *err);

int kist_terminal_setup(const oci_config_process *p, int console_fd, kist_error_t *err);

/* Receives the master sent by kist_terminal_setup over a socket. */
int kist_terminal_recv_master(int sock, int *master, kist_error_t *err);

/* For `run` in the foreground without --console-socket, where kist relays
 * between its own stdio and the master. Puts fd's terminal in raw mode
 * (saved in *saved); returns 1 when fd is not a terminal (nothing done). */
int kist_terminal_make_raw(int fd, struct termios *saved);
void kist_terminal_restore(int fd, const struct termios *saved);
/* One read from `from`, written fully to `to`: bytes moved, 0 at EOF, -1. */
ssize_t kist_terminal_copy(int from, int to);
/* Copies the size of the terminal on fd to master. */
void kist_terminal_resize(int fd, int master);
/* The size of the terminal on fd as a process.consoleSize, for a relayed
 * terminal that must have the caller's size before the process starts (a
 * resize after execve races with its first reads). False when fd is not a
 * terminal or has no size. */
bool kist_terminal_size_of(int fd, oci_config_process_console_size *size);

/* A terminal kist relays itself (foreground run or exec with -t and no
 * --console-socket): between kist's stdin/stdout and the pty master. */
struct kist_relay {
  int master; /* -1: none, or every slave end closed */
  bool stdin_open;
  bool raw; /* stdin was put in raw mode: restore `saved` */
  struct termios saved;
};
#define KIST_RELAY_INIT                                                                            \
  {                                                                                                \
    .master = -1, .stdin_open = true                                                               \
  }
/* Once the process runs: stdin raw, the master sized like it. */
void kist_relay_begin(struct kist_relay *t);
/* pf[0] polls stdin, pf[1] the master (fd -1 when there is nothing to do). */
void kist_relay_pollfds(const struct kist_relay *t, struct pollfd pf[2]);
/* After poll: copies what pf says is ready. */
void kist_relay_io(struct kist_relay *t, const struct pollfd pf[2]);
/* SIGWINCH: the caller's new size goes to the master, whose kernel side
 * signals the container's foreground process group. False without a
 * terminal (forward the signal instead). */
bool kist_relay_winch(const struct kist_relay *t);
/* The process ended: what it wrote last may still be in the pty. */
void kist_relay_drain(struct kist_relay *t);
/* The caller's termios back (idempotent); kist_relay_end also closes. */
void kist_relay_restore(struct kist_relay *t);
void kist_relay_end(struct kist_relay *t);

#endif
