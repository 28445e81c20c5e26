/* Log sinks: stderr for people, and --log FILE in text or JSON for
 * containerd/Podman, which parse {"level":…,"msg":…,"time":…} lines.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_LOG_H
#define KIST_LOG_H

#include <stdbool.h>

#include "error.h"

enum kist_log_level { KIST_LOG_ERROR, KIST_LOG_WARNING, KIST_LOG_INFO, KIST_LOG_DEBUG };

/* path NULL: no log file. format "text" or "json". */
int kist_log_init(const char *path, const char *format, bool debug, kist_error_t *err);
bool kist_log_debug_enabled(void);

void kist_log(enum kist_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
#define kist_debug(...)                                                                            \
  do {                                                                                             \
    if (kist_log_debug_enabled())                                                                  \
      kist_log(KIST_LOG_DEBUG, __VA_ARGS__);                                                       \
  } while (0)
#define kist_warn(...) kist_log(KIST_LOG_WARNING, __VA_ARGS__)

/* Prints an error (stderr + log file) and releases it. */
void kist_log_error_release(kist_error_t *err);

#endif
