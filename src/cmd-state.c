/* kist state ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "container.h"

static const char usage[] = "Usage: kist state ID\n"
                            "\n"
                            "Print the state of a container as JSON (runtime-spec state, plus\n"
                            "rootfs, created and owner).\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(&kist_cmd_state);
      return 0;
    }
    return cli_usage_error("state", "unknown option '%s' (see kist state --help)",
                           argv[optind - 1]);
  }
  const char *id;
  if (cli_take_id("state", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  char *json = NULL;
  if (kist_container_state(ctx, id, &json, &err) < 0)
    return cli_fail(&err);
  puts(json);
  free(json);
  return 0;
}

const struct kist_command kist_cmd_state = {"state", run, "print the state of a container", usage};
