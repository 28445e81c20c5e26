/* kist checkpoint [OPTIONS] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "cli-criu.h"
#include "commands.h"

static const char usage[] =
  "Usage: kist checkpoint [OPTIONS] ID\n"
  "\n"
  "Save a running container (processes, memory, open files, sockets) with CRIU.\n"
  "Unless --leave-running or --pre-dump, the container is stopped and deleted\n"
  "afterwards; `kist restore` brings it back from the image directory.\n"
  "\n"
  "Options:\n"
  "      --image-path DIR        where the images go (default: ./checkpoint)\n"
  "      --work-path DIR         CRIU's logs and work files (default: the image path)\n"
  "      --parent-path DIR       an earlier --pre-dump (relative to the image path)\n"
  "      --leave-running         keep the container running after the dump\n"
  "      --pre-dump              dump memory only, keep running (for incremental dumps)\n"
  "      --tcp-established       dump established TCP connections\n"
  "      --ext-unix-sk           allow unix sockets connected outside the container\n"
  "      --shell-job             allow a terminal or session outside the container\n"
  "      --file-locks            dump file locks\n"
  "      --manage-cgroups-mode M soft (default), full, strict or ignore\n"
  "      --empty-ns network      do not dump the network namespace (restore puts the\n"
  "                              container into the one its config names, or a new one)\n"
  "      --auto-dedup            free memory images already in the parent\n"
  "      --lazy-pages            leave memory to be fetched on demand (where CRIU can)\n"
  "  -h, --help                  show this help\n";

enum { OPT_PARENT = CRIU_OPT_FIRST_OWN, OPT_LEAVE, OPT_PRE, OPT_EMPTY, OPT_DEDUP };

bool cli_criu_option(int c, const char *arg, struct kist_criu_common *o)
{
  switch (c) {
  case CRIU_OPT_IMAGE:
    o->image_path = arg;
    return true;
  case CRIU_OPT_WORK:
    o->work_path = arg;
    return true;
  case CRIU_OPT_TCP:
    o->tcp_established = true;
    return true;
  case CRIU_OPT_UNIX:
    o->ext_unix_sk = true;
    return true;
  case CRIU_OPT_SHELL:
    o->shell_job = true;
    return true;
  case CRIU_OPT_LOCKS:
    o->file_locks = true;
    return true;
  case CRIU_OPT_CGMODE:
    o->cgroups_mode = arg;
    return true;
  case CRIU_OPT_LAZY:
    o->lazy_pages = true;
    return true;
  }
  return false;
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"image-path", required_argument, NULL, CRIU_OPT_IMAGE},
    {"work-path", required_argument, NULL, CRIU_OPT_WORK},
    {"parent-path", required_argument, NULL, OPT_PARENT},
    {"leave-running", no_argument, NULL, OPT_LEAVE},
    {"pre-dump", no_argument, NULL, OPT_PRE},
    {"tcp-established", no_argument, NULL, CRIU_OPT_TCP},
    {"ext-unix-sk", no_argument, NULL, CRIU_OPT_UNIX},
    {"shell-job", no_argument, NULL, CRIU_OPT_SHELL},
    {"file-locks", no_argument, NULL, CRIU_OPT_LOCKS},
    {"manage-cgroups-mode", required_argument, NULL, CRIU_OPT_CGMODE},
    {"empty-ns", required_argument, NULL, OPT_EMPTY},
    {"auto-dedup", no_argument, NULL, OPT_DEDUP},
    {"lazy-pages", no_argument, NULL, CRIU_OPT_LAZY},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  struct kist_checkpoint_opts o = {0};
  int c;
  while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    if (cli_criu_option(c, optarg, &o.c))
      continue;
    switch (c) {
    case OPT_PARENT:
      o.parent_path = optarg;
      break;
    case OPT_LEAVE:
      o.leave_running = true;
      break;
    case OPT_PRE:
      o.pre_dump = true;
      break;
    case OPT_EMPTY:
      if (strcmp(optarg, "network") != 0)
        return cli_usage_error("checkpoint", "--empty-ns: only 'network' is supported, got '%s'",
                               optarg);
      o.empty_net = true;
      break;
    case OPT_DEDUP:
      o.auto_dedup = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_checkpoint);
      return 0;
    case ':':
      return cli_usage_error("checkpoint", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("checkpoint", "unknown option '%s' (see kist checkpoint --help)",
                             argv[optind - 1]);
    }
  }
  const char *id;
  if (cli_take_id("checkpoint", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (kist_container_checkpoint(ctx, id, &o, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_checkpoint = {"checkpoint", run,
                                                 "save a running container with CRIU", usage};
