/* process.terminal: the pty is made inside the container (its own devpts),
 * and the master goes to --console-socket with SCM_RIGHTS, as runc does.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_TERMINAL_H
#define KIST_TERMINAL_H

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

#endif
