/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "features.h"

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(&kist_cmd_features);
      return 0;
    }
    return cli_usage_error("features", "unknown option '%s'", argv[optind - 1]);
  }
  if (optind < argc)
    return cli_usage_error("features", "unexpected argument '%s'", argv[optind]);
  kist_error_t err = NULL;
  char *json = NULL;
  if (kist_features_json(&json, &err) < 0)
    return cli_fail(&err);
  puts(json);
  free(json);
  return 0;
}

const struct kist_command kist_cmd_features = {
  "features", run, "print the features this kist implements (JSON)",
  "Usage: kist features\n"
  "\n"
  "Prints, as runtime-spec features JSON, what this build of kist implements: spec\n"
  "versions, hooks, mount options, namespaces, capabilities, cgroup drivers, seccomp\n"
  "actions/operators/architectures/flags, LSMs and mount extensions.\n"};
