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
  const char *id;
  int r = cli_parse_id_only(&kist_cmd_resume, argc, argv, &id);
  if (r <= 0)
    return r < 0 ? KIST_EXIT_FAILURE : 0;
  kist_error_t err = NULL;
  if (kist_container_resume(ctx, id, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_resume = {"resume", run, "resume a paused container", usage};
