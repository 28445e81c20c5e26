/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "check.h"
#include "commands.h"
#include "log.h"

static void report(const char *problem, void *data)
{
  kist_log(KIST_LOG_ERROR, "%s", problem);
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  const char *bundle = ".";
  int c;
  while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      bundle = optarg;
      break;
    case 'h':
      cli_print_help(&kist_cmd_check);
      return 0;
    default:
      return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
  kist_error_t err = NULL;
  int problems = kist_check_bundle(ctx, bundle, report, NULL, &err);
  if (problems < 0)
    return cli_fail(&err);
  return problems > 0 ? KIST_EXIT_FAILURE : 0;
}

const struct kist_command kist_cmd_check = {
  "check", run, "lint a bundle without running it",
  "Usage: kist check [--bundle DIR]\n"
  "\n"
  "Checks a bundle without creating anything: config.json against the runtime-spec\n"
  "schema (errors name the JSON path, line and column), the rootfs, process.args[0]\n"
  "(found and executable inside the rootfs, resolved without leaving it), process.cwd,\n"
  "capability and rlimit names, namespace paths of the wrong type, mounts that would be\n"
  "refused (e.g. over /proc), seccomp, cgroup limits and hook paths.\n"
  "Prints one line per problem; exits 0 when the bundle is clean, 1 otherwise.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR   bundle directory (default: the current directory)\n"};
