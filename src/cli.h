/* Shared argument-parsing helpers for the cmd-*.c files.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KIST_CLI_H
#define KIST_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "context.h"
#include "error.h"

struct kist_command {
  const char *name;
  int (*run)(struct kist_context *ctx, int argc, char **argv);
  const char *summary;
  const char *usage; /* full help text, printed by `kist help CMD` and CMD --help */
};

/* Exit statuses of the CLI. */
#define KIST_EXIT_FAILURE 1

/* Prints the error (stderr + log) and returns KIST_EXIT_FAILURE. */
int cli_fail(kist_error_t *err);
/* Prints "kist: <msg>" for argument errors and returns KIST_EXIT_FAILURE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the help of one command to stdout. */
void cli_print_help(const struct kist_command *cmd);
const struct kist_command *cli_find_command(const char *name);

/* getopt_long over argv with the command's options; "-h/--help" handled by
 * callers through CLI_HELP_OPTION. Resets getopt state first. */
#define CLI_HELP_OPTION                                                                            \
  {                                                                                                \
    "help", no_argument, NULL, 'h'                                                                 \
  }
void cli_getopt_reset(void);

/* Parses "true"/"false"/"1"/"0" as runc does for boolean flags given values. */
int cli_parse_bool(const char *s, bool *out);

/* Requires exactly one positional container id after options. */
int cli_take_id(const char *cmd, int argc, char **argv, const char **id);

/* For commands whose only argument is the container id (start, pause,
 * resume, state): parses -h/--help and the id. Returns 1 with *id set, 0
 * when the help was printed (exit 0), -1 after a usage error (exit
 * KIST_EXIT_FAILURE). */
int cli_parse_id_only(const struct kist_command *cmd, int argc, char **argv, const char **id);

#endif
