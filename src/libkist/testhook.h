/* A test hook, compiled in always and inert unless KIST_TEST_STOP_AT is set:
 * it stops kist dead at a named point of create/start/exec/delete so that
 * tests/security/crash.bats can check what a kill -9 there leaves behind.
 *
 *   KIST_TEST_STOP_AT=POINT[,POINT...]   e.g. create:cgroup,delete:killed
 *   KIST_TEST_STOP_ACTION=kill           raise(SIGKILL) at the point (default)
 *                         stop           raise(SIGSTOP): the test inspects,
 *                                        then kills
 *                         pause          wait for any signal
 *
 * Not a security boundary: whoever sets kist's environment can kill it anyway.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_TESTHOOK_H
#define KIST_TESTHOOK_H

#include <stdbool.h>

/* True when KIST_TEST_STOP_AT is set (callers building a name skip it). */
bool kist_test_hook_active(void);
/* Stops at NAME when it is listed in KIST_TEST_STOP_AT; else returns. */
void kist_test_point(const char *name);

#endif
