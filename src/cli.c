/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

int cli_fail(kist_error_t *err)
{
  kist_log_error_release(err);
  return KIST_EXIT_FAILURE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  if (cmd)
    kist_log(KIST_LOG_ERROR, "%s: %s", cmd, msg);
  else
    kist_log(KIST_LOG_ERROR, "%s", msg);
  return KIST_EXIT_FAILURE;
}

void cli_print_help(const struct kist_command *cmd)
{
  fputs(cmd->usage, stdout);
}

void cli_getopt_reset(void)
{
  optind = 0; /* 0 makes glibc re-initialise, including the "+" handling */
  opterr = 0;
}

int cli_parse_bool(const char *s, bool *out)
{
  if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
    *out = true;
    return 0;
  }
  if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
    *out = false;
    return 0;
  }
  return -1;
}

int cli_take_id(const char *cmd, int argc, char **argv, const char **id)
{
  if (optind >= argc)
    return cli_usage_error(cmd, "missing container id (usage: kist %s [OPTIONS] ID)", cmd);
  if (optind + 1 < argc)
    return cli_usage_error(cmd, "unexpected argument '%s' after the container id",
                           argv[optind + 1]);
  *id = argv[optind];
  return 0;
}

int cli_parse_id_only(const struct kist_command *cmd, int argc, char **argv, const char **id)
{
  static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(cmd);
      return 0;
    }
    cli_usage_error(cmd->name, "unknown option '%s' (see kist %s --help)", argv[optind - 1],
                    cmd->name);
    return -1;
  }
  return cli_take_id(cmd->name, argc, argv, id) != 0 ? -1 : 1;
}
