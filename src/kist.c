/* kist: main(), the global flags, and the command table.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "rootless.h"
#include "util.h"

static const struct kist_command *const commands[] = {
  &kist_cmd_create, &kist_cmd_start,      &kist_cmd_run,     &kist_cmd_state,    &kist_cmd_kill,
  &kist_cmd_delete, &kist_cmd_list,       &kist_cmd_spec,    &kist_cmd_features, &kist_cmd_check,
  &kist_cmd_update, &kist_cmd_pause,      &kist_cmd_resume,  &kist_cmd_ps,       &kist_cmd_events,
  &kist_cmd_exec,   &kist_cmd_checkpoint, &kist_cmd_restore,
};

static const char global_usage[] =
  "Usage: kist [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
  "\n"
  "kist runs containers from OCI bundles (runtime-spec " KIST_SPEC_VERSION ").\n"
  "\n"
  "Global options:\n"
  "  --root DIR              state directory (default /run/kist, or $XDG_RUNTIME_DIR/kist\n"
  "                          when not root)\n"
  "  --log FILE              also write log lines to FILE\n"
  "  --log-format FORMAT     text (default) or json\n"
  "  --debug                 log debug messages\n"
  "  --systemd-cgroup        manage cgroups through systemd (cgroupsPath is slice:prefix:name)\n"
  "  --rootless BOOL         true, false or auto (default auto)\n"
  "  -h, --help              show this help, or `kist help COMMAND`\n"
  "  -v, --version           show version, commit, spec version and features\n"
  "\n"
  "Commands:\n";

const struct kist_command *cli_find_command(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    if (strcmp(commands[i]->name, name) == 0)
      return commands[i];
  return NULL;
}

static void print_global_help(FILE *out)
{
  fputs(global_usage, out);
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fputs("  help       show help for a command\n", out);
}

static void print_version(void)
{
  printf("kist version %s\ncommit: %s\nspec: %s\n", kist_version(), kist_commit(),
         kist_spec_version());
  /* Compiled-in features: all of these libraries are required by configure,
   * so they are always present; listed for parity with crun/runc. */
  printf("+SECCOMP +CAP +SELINUX +SYSTEMD +YAJL\n");
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"root", required_argument, NULL, 'r'},
    {"log", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'},
    {"debug", no_argument, NULL, 'd'},
    {"systemd-cgroup", no_argument, NULL, 's'},
    {"rootless", required_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
  };
  struct kist_context ctx = {.rootless = -1};
  const char *log_path = NULL, *log_format = NULL;
  kist_error_t err = NULL;
  int c;

  opterr = 0;
  /* "+": stop at the command name; long_only: runc accepts -root as well as --root. */
  while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
    switch (c) {
    case 'r':
      if (optarg[0] == '\0')
        return cli_usage_error(NULL, "--root: the state root is an empty path");
      ctx.root = optarg;
      break;
    case 'l':
      log_path = optarg;
      break;
    case 'f':
      log_format = optarg;
      break;
    case 'd':
      ctx.debug = true;
      break;
    case 's':
      ctx.systemd_cgroup = true;
      break;
    case 'R':
      if (strcmp(optarg, "auto") == 0) {
        ctx.rootless = -1;
      } else {
        bool b;
        if (cli_parse_bool(optarg, &b) < 0)
          return cli_usage_error(NULL, "--rootless: expected true, false or auto, got '%s'",
                                 optarg);
        ctx.rootless = b;
      }
      break;
    case 'h':
      print_global_help(stdout);
      return 0;
    case 'v':
      print_version();
      return 0;
    case ':':
      return cli_usage_error(NULL, "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error(NULL, "unknown global option '%s' (see kist --help)",
                             argv[optind - 1]);
    }
  }

  if (kist_log_init(log_path, log_format, ctx.debug, &err) < 0)
    return cli_fail(&err);

  if (optind >= argc) {
    print_global_help(stderr);
    return KIST_EXIT_FAILURE;
  }

  const char *name = argv[optind];
  if (strcmp(name, "help") == 0) {
    if (optind + 1 >= argc) {
      print_global_help(stdout);
      return 0;
    }
    const struct kist_command *cmd = cli_find_command(argv[optind + 1]);
    if (cmd == NULL)
      return cli_usage_error(NULL, "unknown command '%s' (see kist --help)", argv[optind + 1]);
    cli_print_help(cmd);
    return 0;
  }

  const struct kist_command *cmd = cli_find_command(name);
  if (cmd == NULL)
    return cli_usage_error(NULL, "unknown command '%s' (see kist --help)", name);

  if (ctx.root == NULL) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    static char *xdg_root;
    if (!kist_privileged() && xdg != NULL && xdg[0] != '\0')
      ctx.root = xdg_root = xasprintf("%s/kist", xdg);
    else
      ctx.root = "/run/kist";
  }

  /* Commands see argv starting at their own name, as getopt expects. */
  int cmd_argc = argc - optind;
  char **cmd_argv = argv + optind;
  cli_getopt_reset();
  return cmd->run(&ctx, cmd_argc, cmd_argv);
}
