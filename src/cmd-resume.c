/* kist resume ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "commands.h"
#include "container-ops.h"

static const char usage[] = "Usage: kist resume ID\n"
                            "\n"
                            "Thaw the processes of a paused container.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(&kist_cmd_resume);
      return 0;
    }
    return cli_usage_error("resume", "unknown option '%s' (see kist resume --help)",
                           argv[optind - 1]);
  }
  const char *id;
  if (cli_take_id("resume", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (kist_container_resume(ctx, id, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_resume = {"resume", run, "resume a paused container", usage};
