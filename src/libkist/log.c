/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "util.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug;

static const char *level_names[] = {"error", "warning", "info", "debug"};

int kist_log_init(const char *path, const char *format, bool debug, kist_error_t *err)
{
  log_debug = debug;
  if (format != NULL) {
    if (strcmp(format, "json") == 0)
      log_json = true;
    else if (strcmp(format, "text") == 0)
      log_json = false;
    else
      return kist_fail(err, 0, "--log-format: unknown format '%s' (use text or json)", format);
  }
  if (path == NULL || path[0] == '\0')
    return 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return kist_fail(err, errno, "open log file %s", path);
  log_fd = fd;
  return 0;
}

bool kist_log_debug_enabled(void)
{
  return log_debug;
}

/* JSON string escaping for the message; control bytes as \u00XX. */
static char *json_escape(const char *s)
{
  size_t cap = strlen(s) * 6 + 1, n = 0;
  char *out = xmalloc(cap);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      out[n++] = '\\';
      out[n++] = (char)*p;
    } else if (*p == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if (*p < 0x20) {
      n += (size_t)kist_snprintf(out + n, cap - n, "\\u%04x", *p);
    } else {
      out[n++] = (char)*p;
    }
  }
  out[n] = '\0';
  return out;
}

/* One event, one line: a newline smuggled in through a config value or an id
 * is shown as "\n" so it cannot forge or split log lines. */
static char *one_line(const char *s)
{
  size_t extra = 0;
  for (const char *p = s; *p; p++)
    extra += (*p == '\n' || *p == '\r');
  char *out = xmalloc(strlen(s) + extra + 1), *o = out;
  for (const char *p = s; *p; p++) {
    if (*p == '\n' || *p == '\r') {
      *o++ = '\\';
      *o++ = *p == '\n' ? 'n' : 'r';
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

static void log_write(enum kist_log_level level, const char *raw)
{
  cleanup_free char *msg = one_line(raw);
  /* People see errors and warnings on stderr; debug only with --debug. */
  if (level <= KIST_LOG_WARNING || log_debug) {
    cleanup_free char *line = level == KIST_LOG_ERROR
                                ? xasprintf("kist: %s\n", msg)
                                : xasprintf("kist: %s: %s\n", level_names[level], msg);
    (void)write_all(2, line, strlen(line));
  }
  if (log_fd < 0)
    return;
  cleanup_free char *now = rfc3339_now();
  cleanup_free char *line = NULL;
  if (log_json) {
    cleanup_free char *esc = json_escape(msg);
    line = xasprintf("{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level_names[level], esc,
                     now);
  } else {
    line = xasprintf("%s %s: %s\n", now, level_names[level], msg);
  }
  (void)write_all(log_fd, line, strlen(line));
}

void kist_log(enum kist_log_level level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  log_write(level, msg);
}

void kist_log_error_release(kist_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  log_write(KIST_LOG_ERROR, (*err)->msg);
  kist_error_release(err);
}
