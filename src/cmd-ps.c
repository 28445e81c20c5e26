/* kist ps [--format table|json] ID [[--] PS-ARGS...]
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "container-ops.h"

static const char usage[] =
  "Usage: kist ps [OPTIONS] ID [[--] PS-ARGS...]\n"
  "\n"
  "List the processes of a container. The table is the output of ps (with\n"
  "PS-ARGS, default -ef) kept to the container's processes; PS-ARGS must keep\n"
  "a PID column (e.g. -- -o pid,comm).\n"
  "\n"
  "Options:\n"
  "  -f, --format FORMAT  table (default) or json (an array of host pids)\n"
  "  -h, --help           show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"format", required_argument, NULL, 'f'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  const char *format = "table";
  int c;
  while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 'h':
      cli_print_help(&kist_cmd_ps);
      return 0;
    case ':':
      return cli_usage_error("ps", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("ps", "unknown option '%s' (see kist ps --help)", argv[optind - 1]);
    }
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return cli_usage_error("ps", "--format: expected table or json, got '%s'", format);
  if (optind >= argc)
    return cli_usage_error("ps", "missing container id (usage: kist ps [OPTIONS] ID)");
  const char *id = argv[optind++];
  if (optind < argc && strcmp(argv[optind], "--") == 0)
    optind++;
  char **ps_args = argv + optind;
  kist_error_t err = NULL;
  if (strcmp(format, "json") == 0) {
    if (*ps_args)
      return cli_usage_error("ps", "ps arguments ('%s') cannot be used with --format json",
                             *ps_args);
    pid_t *pids = NULL;
    size_t n = 0;
    if (kist_container_pids(ctx, id, &pids, &n, &err) < 0)
      return cli_fail(&err);
    putchar('[');
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    puts("]");
    free(pids);
    return 0;
  }
  if (kist_container_ps_table(ctx, id, ps_args, stdout, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_ps = {"ps", run, "list the processes of a container", usage};
