/* kist list [-q] [--format table|json]
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "util.h"

static const char usage[] = "Usage: kist list [OPTIONS]\n"
                            "\n"
                            "List the containers under --root.\n"
                            "\n"
                            "Options:\n"
                            "  -f, --format FORMAT   table (default) or json\n"
                            "  -q, --quiet           print only the ids\n"
                            "  -h, --help            show this help\n";

/* Containers mostly share one owner: look each uid up once (getpwuid
 * reads /etc/passwd every call), so list stays flat with many containers. */
static char *owner(uid_t uid)
{
  static uid_t last_uid;
  static char *last_name;
  if (last_name == NULL || uid != last_uid) {
    struct passwd *pw = getpwuid(uid);
    free(last_name);
    last_name = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
    last_uid = uid;
  }
  return xstrdup(last_name);
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       CLI_HELP_OPTION,
                                       {NULL, 0, NULL, 0}};
  bool quiet = false, json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+:f:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "json") == 0)
        json = true;
      else if (strcmp(optarg, "table") != 0)
        return cli_usage_error("list", "--format: expected table or json, got '%s'", optarg);
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_list);
      return 0;
    case ':':
      return cli_usage_error("list", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("list", "unknown option '%s' (see kist list --help)",
                             argv[optind - 1]);
    }
  }
  if (optind < argc)
    return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
  kist_error_t err = NULL;
  struct kist_state *st = NULL;
  size_t n = 0;
  if (kist_container_list(ctx, &st, &n, &err) < 0)
    return cli_fail(&err);
  if (quiet) {
    for (size_t i = 0; i < n; i++)
      puts(st[i].id);
  } else if (json) {
    fputs("[", stdout);
    for (size_t i = 0; i < n; i++) {
      cleanup_free char *j = kist_state_json(&st[i], st[i].status, false);
      printf("%s%s", i ? "," : "", j);
    }
    puts("]");
  } else {
    printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
           "OWNER");
    for (size_t i = 0; i < n; i++) {
      cleanup_free char *o = owner(st[i].owner);
      int pid = st[i].status == KIST_STATUS_STOPPED ? 0 : (int)st[i].pid;
      printf("%-12s %-8d %-10s %-40s %-30s %s\n", st[i].id, pid, kist_status_name(st[i].status),
             st[i].bundle ? st[i].bundle : "", st[i].created ? st[i].created : "", o);
    }
  }
  kist_container_list_free(st, n);
  return 0;
}

const struct kist_command kist_cmd_list = {"list", run, "list containers", usage};
