/* kist pause ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "commands.h"
#include "container-ops.h"

static const char usage[] = "Usage: kist pause ID\n"
                            "\n"
                            "Freeze every process of a container (cgroup freezer); `kist state`\n"
                            "then says \"paused\" until `kist resume`.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(&kist_cmd_pause);
      return 0;
    }
    return cli_usage_error("pause", "unknown option '%s' (see kist pause --help)",
                           argv[optind - 1]);
  }
  const char *id;
  if (cli_take_id("pause", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (kist_container_pause(ctx, id, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_pause = {"pause", run, "suspend every process of a container",
                                            usage};
