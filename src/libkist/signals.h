/* Signal names and numbers, as `kill` accepts them (TERM, SIGTERM, 15).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_SIGNALS_H
#define KIST_SIGNALS_H

#include <signal.h>

#include "error.h"

/* Parses "TERM", "SIGTERM", "sigterm", "15", "RTMIN+3"; error names the input. */
int kist_signal_parse(const char *s, int *sig, kist_error_t *err);
/* "SIGTERM" for 15; NULL for unknown. */
const char *kist_signal_name(int sig);

/* What a foreground run or exec forwards to its process: every signal but
 * faults and what stops or kills kist itself. */
void kist_signal_forward_set(sigset_t *set);
/* A wait status as an exit code: the process's own, 128+N when killed by
 * signal N. */
int kist_wait_exit_code(int status);

#endif
