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
  const char *id;
  int r = cli_parse_id_only(&kist_cmd_state, argc, argv, &id);
  if (r <= 0)
    return r < 0 ? KIST_EXIT_FAILURE : 0;
  kist_error_t err = NULL;
  char *json = NULL;
  if (kist_container_state(ctx, id, &json, &err) < 0)
    return cli_fail(&err);
  puts(json);
  free(json);
  return 0;
}

const struct kist_command kist_cmd_state = {"state", run, "print the state of a container", usage};
