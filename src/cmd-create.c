/* kist create [OPTIONS] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "util.h"

static const char usage[] =
  "Usage: kist create [OPTIONS] ID\n"
  "\n"
  "Create a container from an OCI bundle. Its process is set up and waits for\n"
  "`kist start`.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR         the bundle (default: the current directory)\n"
  "      --pid-file FILE      write the container's pid to FILE\n"
  "      --console-socket S   AF_UNIX socket that receives the pty master\n"
  "                           (required with process.terminal)\n"
  "      --no-pivot           use MS_MOVE + chroot instead of pivot_root\n"
  "      --no-new-keyring     keep the caller's session keyring\n"
  "      --preserve-fds N     pass fds 3 .. 3+N-1 into the container\n"
  "  -h, --help               show this help\n";

enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE };

static int parse_create_option(int c, const char *arg, struct kist_create_opts *o, int *err)
{
  switch (c) {
  case 'b':
    o->bundle = arg;
    return 1;
  case OPT_PID_FILE:
    o->pid_file = arg;
    return 1;
  case OPT_CONSOLE:
    o->console_socket = arg;
    return 1;
  case OPT_NO_PIVOT:
    o->no_pivot = true;
    return 1;
  case OPT_NO_KEYRING:
    o->no_new_keyring = true;
    return 1;
  case OPT_PRESERVE: {
    int64_t v;
    if (parse_int64(arg, &v) < 0 || v < 0 || v > 65536) {
      *err = cli_usage_error("create", "--preserve-fds: expected a count, got '%s'", arg);
      return -1;
    }
    o->preserve_fds = (int)v;
    return 1;
  }
  }
  return 0;
}

#define CREATE_LONG_OPTIONS                                                                        \
  {"bundle", required_argument, NULL, 'b'}, {"pid-file", required_argument, NULL, OPT_PID_FILE},   \
    {"console-socket", required_argument, NULL, OPT_CONSOLE},                                      \
    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},                                                 \
    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},                                         \
  {                                                                                                \
    "preserve-fds", required_argument, NULL, OPT_PRESERVE                                          \
  }

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {CREATE_LONG_OPTIONS, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
  struct kist_create_opts o = {0};
  int c;
  while ((c = getopt_long(argc, argv, "+:b:h", opts, NULL)) != -1) {
    int e = 0;
    int r = parse_create_option(c, optarg, &o, &e);
    if (r < 0)
      return e;
    if (r > 0)
      continue;
    if (c == 'h') {
      cli_print_help(&kist_cmd_create);
      return 0;
    }
    if (c == ':')
      return cli_usage_error("create", "option %s needs a value", argv[optind - 1]);
    return cli_usage_error("create", "unknown option '%s' (see kist create --help)",
                           argv[optind - 1]);
  }
  const char *id;
  if (cli_take_id("create", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (kist_container_create(ctx, id, &o, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_create = {"create", run, "create a container", usage};
