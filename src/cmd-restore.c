/* kist restore [OPTIONS] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "cli-criu.h"
#include "commands.h"

static const char usage[] =
  "Usage: kist restore [OPTIONS] ID\n"
  "\n"
  "Restore a container saved by `kist checkpoint` as container ID, built from the\n"
  "bundle's config: its cgroup, mount sources and network namespace are the ones\n"
  "that config names, not those of the dumped container. In the foreground kist\n"
  "waits for the process, forwards signals, exits with its exit code and deletes\n"
  "the container.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR            the bundle (default: the current directory)\n"
  "      --image-path DIR        the checkpoint (default: ./checkpoint)\n"
  "      --work-path DIR         CRIU's logs and work files (default: the image path)\n"
  "  -d, --detach                return once the container runs\n"
  "      --pid-file FILE         write the container's pid to FILE\n"
  "      --console-socket S      AF_UNIX socket that receives the new pty master\n"
  "      --tcp-established       restore established TCP connections\n"
  "      --ext-unix-sk           allow unix sockets connected outside the container\n"
  "      --shell-job             allow a terminal or session outside the container\n"
  "      --file-locks            restore file locks\n"
  "      --manage-cgroups-mode M soft (default), full, strict or ignore\n"
  "      --lazy-pages            fetch memory on demand (where CRIU can)\n"
  "      --lsm-profile TYPE:NAME the LSM profile of the restored processes (e.g.\n"
  "                              selinux:LABEL; default: the one they were dumped with)\n"
  "      --lsm-mount-context CTX the SELinux context of the restored mounts\n"
  "      --no-pivot              accepted as runc does: CRIU, not kist, sets up the\n"
  "                              restored root (by pivot_root), whatever the flag\n"
  "  -h, --help                  show this help\n";

enum { OPT_PID = CRIU_OPT_FIRST_OWN, OPT_CONSOLE, OPT_LSM_PROFILE, OPT_LSM_MOUNT, OPT_NO_PIVOT };

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"detach", no_argument, NULL, 'd'},
    {"image-path", required_argument, NULL, CRIU_OPT_IMAGE},
    {"work-path", required_argument, NULL, CRIU_OPT_WORK},
    {"pid-file", required_argument, NULL, OPT_PID},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"tcp-established", no_argument, NULL, CRIU_OPT_TCP},
    {"ext-unix-sk", no_argument, NULL, CRIU_OPT_UNIX},
    {"shell-job", no_argument, NULL, CRIU_OPT_SHELL},
    {"file-locks", no_argument, NULL, CRIU_OPT_LOCKS},
    {"manage-cgroups-mode", required_argument, NULL, CRIU_OPT_CGMODE},
    {"lazy-pages", no_argument, NULL, CRIU_OPT_LAZY},
    {"lsm-profile", required_argument, NULL, OPT_LSM_PROFILE},
    {"lsm-mount-context", required_argument, NULL, OPT_LSM_MOUNT},
    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  struct kist_restore_opts o = {0};
  int c;
  while ((c = getopt_long(argc, argv, "+:b:dh", opts, NULL)) != -1) {
    if (cli_criu_option(c, optarg, &o.c))
      continue;
    switch (c) {
    case 'b':
      o.bundle = optarg;
      break;
    case 'd':
      o.detach = true;
      break;
    case OPT_PID:
      o.pid_file = optarg;
      break;
    case OPT_CONSOLE:
      o.console_socket = optarg;
      break;
    case OPT_LSM_PROFILE:
      if (strchr(optarg, ':') == NULL)
        return cli_usage_error("restore", "--lsm-profile: expected TYPE:NAME, got '%s'", optarg);
      o.lsm_profile = optarg;
      break;
    case OPT_LSM_MOUNT:
      o.lsm_mount_context = optarg;
      break;
    case OPT_NO_PIVOT:
      /* conmon passes it when Podman's no_pivot_root is set; CRIU restores
       * the mount namespace, root included, without kist's pivot code. */
      break;
    case 'h':
      cli_print_help(&kist_cmd_restore);
      return 0;
    case ':':
      return cli_usage_error("restore", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("restore", "unknown option '%s' (see kist restore --help)",
                             argv[optind - 1]);
    }
  }
  const char *id;
  if (cli_take_id("restore", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  int status = 0;
  if (kist_container_restore(ctx, id, &o, &status, &err) < 0)
    return cli_fail(&err);
  return status;
}

const struct kist_command kist_cmd_restore = {"restore", run,
                                              "restore a container saved by checkpoint", usage};
