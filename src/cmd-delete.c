/* kist delete [--force] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "commands.h"
#include "container.h"

static const char usage[] =
  "Usage: kist delete [OPTIONS] ID\n"
  "\n"
  "Delete a stopped container: its cgroup and state; then run poststop hooks.\n"
  "\n"
  "Options:\n"
  "  -f, --force  kill the container first if it is not stopped; an unknown\n"
  "               ID is not an error\n"
  "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"force", no_argument, NULL, 'f'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      force = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_delete);
      return 0;
    default:
      return cli_usage_error("delete", "unknown option '%s' (see kist delete --help)",
                             argv[optind - 1]);
    }
  }
  const char *id;
  if (cli_take_id("delete", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (kist_container_delete(ctx, id, force, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_delete = {"delete", run, "delete a container", usage};
