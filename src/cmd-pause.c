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
  const char *id;
  int r = cli_parse_id_only(&kist_cmd_pause, argc, argv, &id);
  if (r <= 0)
    return r < 0 ? KIST_EXIT_FAILURE : 0;
  kist_error_t err = NULL;
  if (kist_container_pause(ctx, id, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_pause = {"pause", run, "suspend every process of a container",
                                            usage};
