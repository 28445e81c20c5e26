/* kist run [OPTIONS] ID: create + start, and by default wait for the process.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "commands.h"
#include "container.h"
#include "util.h"

static const char usage[] =
  "Usage: kist run [OPTIONS] ID\n"
  "\n"
  "Create and start a container. In the foreground kist waits for the process,\n"
  "forwards signals to it, exits with its exit code (128+N when killed by signal\n"
  "N; 127 when the command is not found, 126 when it cannot be executed) and then\n"
  "deletes the container.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR         the bundle (default: the current directory)\n"
  "  -d, --detach             return once the process started\n"
  "      --keep               do not delete the container when it exits\n"
  "      --pid-file FILE      write the container's pid to FILE\n"
  "      --console-socket S   AF_UNIX socket that receives the pty master\n"
  "      --no-pivot           use MS_MOVE + chroot instead of pivot_root\n"
  "      --no-new-keyring     keep the caller's session keyring\n"
  "      --preserve-fds N     pass fds 3 .. 3+N-1 into the container\n"
  "  -h, --help               show this help\n";

enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_KEEP };

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"detach", no_argument, NULL, 'd'},
    {"keep", no_argument, NULL, OPT_KEEP},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  struct kist_run_opts o = {0};
  int64_t v;
  int c;
  while ((c = getopt_long(argc, argv, "+:b:dh", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      o.create.bundle = optarg;
      break;
    case 'd':
      o.detach = true;
      break;
    case OPT_KEEP:
      o.keep = true;
      break;
    case OPT_PID_FILE:
      o.create.pid_file = optarg;
      break;
    case OPT_CONSOLE:
      o.create.console_socket = optarg;
      break;
    case OPT_NO_PIVOT:
      o.create.no_pivot = true;
      break;
    case OPT_NO_KEYRING:
      o.create.no_new_keyring = true;
      break;
    case OPT_PRESERVE:
      if (parse_int64(optarg, &v) < 0 || v < 0 || v > 65536)
        return cli_usage_error("run", "--preserve-fds: expected a count, got '%s'", optarg);
      o.create.preserve_fds = (int)v;
      break;
    case 'h':
      cli_print_help(&kist_cmd_run);
      return 0;
    case ':':
      return cli_usage_error("run", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("run", "unknown option '%s' (see kist run --help)", argv[optind - 1]);
    }
  }
  const char *id;
  if (cli_take_id("run", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  int status = 1;
  if (kist_container_run(ctx, id, &o, &status, &err) < 0) {
    cli_fail(&err);
    return status ? status : KIST_EXIT_FAILURE;
  }
  return status;
}

const struct kist_command kist_cmd_run = {"run", run, "create and start a container", usage};
