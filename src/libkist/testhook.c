/* The crash-consistency test hook (see testhook.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

bool kist_test_hook_active(void)
{
  const char *at = getenv("KIST_TEST_STOP_AT");
  return at != NULL && at[0] != '\0';
}

static bool listed(const char *list, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0)
      return true;
    if (end == NULL)
      break;
    p = end + 1;
  }
  return false;
}

void kist_test_point(const char *name)
{
  const char *at = getenv("KIST_TEST_STOP_AT");
  if (at == NULL || at[0] == '\0' || !listed(at, name))
    return;
  const char *action = getenv("KIST_TEST_STOP_ACTION");
  /* A line a test can wait for; stderr is unbuffered. */
  fprintf(stderr, "kist: test hook: stopping at %s (pid %d)\n", name, (int)getpid());
  if (action && strcmp(action, "stop") == 0) {
    raise(SIGSTOP);
    return; /* continued: go on as if nothing happened */
  }
  if (action && strcmp(action, "pause") == 0) {
    pause();
    return;
  }
  raise(SIGKILL);
  _exit(137); /* not reached */
}
