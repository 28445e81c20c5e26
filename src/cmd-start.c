/* kist start ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "commands.h"
#include "container.h"

static const char usage[] = "Usage: kist start ID\n"
                            "\n"
                            "Start the process of a created container.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  const char *id;
  int r = cli_parse_id_only(&kist_cmd_start, argc, argv, &id);
  if (r <= 0)
    return r < 0 ? KIST_EXIT_FAILURE : 0;
  kist_error_t err = NULL;
  if (kist_container_start(ctx, id, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_start = {"start", run, "start a created container", usage};
