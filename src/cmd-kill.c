/* kist kill [--all] ID [SIGNAL]
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>

#include "commands.h"
#include "container.h"
#include "signals.h"

static const char usage[] =
  "Usage: kist kill [OPTIONS] ID [SIGNAL]\n"
  "\n"
  "Send a signal (default TERM) to the container's process. SIGNAL is a name\n"
  "(TERM, SIGTERM) or a number (15).\n"
  "\n"
  "Options:\n"
  "  -a, --all    signal every process in the container's cgroup\n"
  "  -h, --help   show this help\n";

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"all", no_argument, NULL, 'a'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  bool all = false;
  int c;
  while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_kill);
      return 0;
    default:
      return cli_usage_error("kill", "unknown option '%s' (see kist kill --help)",
                             argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return cli_usage_error("kill", "missing container id (usage: kist kill [OPTIONS] ID [SIGNAL])");
  if (optind + 2 < argc)
    return cli_usage_error("kill", "unexpected argument '%s'", argv[optind + 2]);
  const char *id = argv[optind];
  int sig = SIGTERM;
  kist_error_t err = NULL;
  if (optind + 1 < argc && kist_signal_parse(argv[optind + 1], &sig, &err) < 0)
    return cli_fail(&err);
  if (kist_container_kill(ctx, id, sig, all, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_kill = {"kill", run, "send a signal to a container", usage};
