/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "commands.h"
#include "spec.h"

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"rootless", no_argument, NULL, 'r'},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  const char *bundle = ".";
  bool rootless = false;
  int c;
  while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      bundle = optarg;
      break;
    case 'r':
      rootless = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_spec);
      return 0;
    default:
      return cli_usage_error("spec", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return cli_usage_error("spec", "unexpected argument '%s'", argv[optind]);
  kist_error_t err = NULL;
  if (kist_spec_write(bundle, rootless, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_spec = {
  "spec", run, "write a default config.json into a bundle",
  "Usage: kist spec [--bundle DIR] [--rootless]\n"
  "\n"
  "Writes a default config.json (runtime-spec " KIST_SPEC_VERSION ") into the bundle directory.\n"
  "It never overwrites an existing config.json.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR   bundle directory (default: the current directory)\n"
  "      --rootless     a config for an unprivileged user: user namespace mapping the\n"
  "                     caller to root, no network namespace, host /sys bind-mounted\n"
  "  -h, --help         show this help\n"};
