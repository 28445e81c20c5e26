/* kist exec [OPTIONS] ID [--] CMD [ARGS...]: a new process in a container.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exec.h"
#include "util.h"

static const char usage[] =
  "Usage: kist exec [OPTIONS] ID [--] CMD [ARGS...]\n"
  "       kist exec [OPTIONS] --process FILE ID\n"
  "\n"
  "Run a new process in a running container: it joins the container's\n"
  "namespaces and cgroup and gets its seccomp filter, rlimits, LSM label,\n"
  "noNewPrivileges and capabilities from config.json's process, field by field\n"
  "overridden by --process and then by the options. kist exits with the\n"
  "process's exit code (128+N when killed by signal N; 127 when CMD is not\n"
  "found, 126 when it cannot be executed; 255 when kist failed).\n"
  "\n"
  "Options:\n"
  "  -p, --process FILE       a runtime-spec process object (JSON)\n"
  "      --cwd DIR            working directory (absolute, inside the container)\n"
  "  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
  "  -t, --tty                allocate a pseudo-terminal\n"
  "  -u, --user UID[:GID]     numeric user and group\n"
  "  -g, --additional-gids G  add a supplementary group (repeatable, or G1,G2)\n"
  "  -c, --cap CAP            add a capability (bounding, effective, permitted;\n"
  "                           ambient when already inheritable; repeatable)\n"
  "      --no-new-privs       set no_new_privs\n"
  "      --process-label L    SELinux label of the process\n"
  "      --apparmor PROFILE   AppArmor profile of the process\n"
  "  -d, --detach             return once the process runs\n"
  "      --pid-file FILE      write the process's pid to FILE\n"
  "      --console-socket S   AF_UNIX socket that receives the pty master (with -t)\n"
  "      --preserve-fds N     pass fds 3 .. 3+N-1 into the process\n"
  "      --cgroup [C[,C]:]P   run in the sub-cgroup P of the container's cgroup\n"
  "                           (only in the v1 hierarchies of controllers C; repeatable)\n"
  "      --ignore-paused      exec into a paused container (the process starts frozen)\n"
  "  -h, --help               show this help\n";

enum {
  OPT_CWD = 256,
  OPT_NNP,
  OPT_LABEL,
  OPT_APPARMOR,
  OPT_PID_FILE,
  OPT_CONSOLE,
  OPT_PRESERVE,
  OPT_CGROUP,
  OPT_IGNORE_PAUSED,
};

/* Growing arrays of argument pointers (argv outlives the command). */
struct list {
  char **v;
  size_t n;
};

static void list_add(struct list *l, char *s)
{
  l->v = xrealloc(l->v, (l->n + 2) * sizeof(char *));
  l->v[l->n++] = s;
  l->v[l->n] = NULL;
}

static int parse_id(const char *s, const char *what, uint32_t *out)
{
  uint64_t v;
  if (parse_uint64(s, &v) < 0 || v > UINT32_MAX - 1)
    return cli_usage_error("exec", "%s: expected a number, got '%s'", what, s);
  *out = (uint32_t)v;
  return 0;
}

static int parse_user(const char *s, struct kist_exec_opts *o)
{
  cleanup_free char *copy = xstrdup(s);
  char *colon = strchr(copy, ':');
  if (colon)
    *colon = '\0';
  if (parse_id(copy, "--user: uid", &o->uid) != 0)
    return KIST_EXIT_FAILURE;
  o->uid_set = true;
  if (colon) {
    if (parse_id(colon + 1, "--user: gid", &o->gid) != 0)
      return KIST_EXIT_FAILURE;
    o->gid_set = true;
  }
  return 0;
}

static int parse_gids(const char *s, uint32_t **gids, size_t *n)
{
  cleanup_free char *copy = xstrdup(s);
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    uint32_t g = 0;
    if (parse_id(t, "--additional-gids", &g) != 0)
      return KIST_EXIT_FAILURE;
    *gids = xrealloc(*gids, (*n + 1) * sizeof(uint32_t));
    (*gids)[(*n)++] = g;
  }
  return 0;
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"process", required_argument, NULL, 'p'},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, 'e'},
    {"tty", optional_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"additional-gids", required_argument, NULL, 'g'},
    {"cap", required_argument, NULL, 'c'},
    {"no-new-privs", no_argument, NULL, OPT_NNP},
    {"process-label", required_argument, NULL, OPT_LABEL},
    {"apparmor", required_argument, NULL, OPT_APPARMOR},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
  };
  struct kist_exec_opts o = {.tty = -1};
  struct list env = {0}, caps = {0}, cgroups = {0};
  cleanup_free uint32_t *gids = NULL;
  size_t ngids = 0;
  int64_t v;
  bool b;
  int c, rc = KIST_EXIT_FAILURE;
  /* "+": stop at the id, so the command's own options are left alone. */
  while ((c = getopt_long(argc, argv, "+:p:e:tu:g:c:dh", opts, NULL)) != -1) {
    switch (c) {
    case 'p':
      o.process_file = optarg;
      break;
    case OPT_CWD:
      o.cwd = optarg;
      break;
    case 'e':
      if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
        cli_usage_error("exec", "--env: expected KEY=VALUE, got '%s'", optarg);
        goto out;
      }
      list_add(&env, optarg);
      break;
    case 't':
      if (optarg && cli_parse_bool(optarg, &b) < 0) {
        cli_usage_error("exec", "--tty: expected true or false, got '%s'", optarg);
        goto out;
      }
      o.tty = optarg ? b : 1;
      break;
    case 'u':
      if (parse_user(optarg, &o) != 0)
        goto out;
      break;
    case 'g':
      if (parse_gids(optarg, &gids, &ngids) != 0)
        goto out;
      break;
    case 'c':
      list_add(&caps, optarg);
      break;
    case OPT_NNP:
      o.no_new_privs = true;
      break;
    case OPT_LABEL:
      o.process_label = optarg;
      break;
    case OPT_APPARMOR:
      o.apparmor = optarg;
      break;
    case 'd':
      o.detach = true;
      break;
    case OPT_PID_FILE:
      o.pid_file = optarg;
      break;
    case OPT_CONSOLE:
      o.console_socket = optarg;
      break;
    case OPT_PRESERVE:
      if (parse_int64(optarg, &v) < 0 || v < 0 || v > 65536) {
        cli_usage_error("exec", "--preserve-fds: expected a count, got '%s'", optarg);
        goto out;
      }
      o.preserve_fds = (int)v;
      break;
    case OPT_CGROUP:
      list_add(&cgroups, optarg);
      break;
    case OPT_IGNORE_PAUSED:
      o.ignore_paused = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_exec);
      rc = 0;
      goto out;
    case ':':
      cli_usage_error("exec", "option %s needs a value", argv[optind - 1]);
      goto out;
    default:
      cli_usage_error("exec", "unknown option '%s' (see kist exec --help)", argv[optind - 1]);
      goto out;
    }
  }
  if (optind >= argc) {
    cli_usage_error("exec", "missing container id (usage: kist exec [OPTIONS] ID [--] CMD...)");
    goto out;
  }
  const char *id = argv[optind++];
  if (optind < argc && strcmp(argv[optind], "--") == 0)
    optind++;
  o.args = argv + optind;
  o.args_len = (size_t)(argc - optind);
  if (o.args_len == 0 && o.process_file == NULL) {
    cli_usage_error("exec", "missing command (usage: kist exec [OPTIONS] ID [--] CMD...)");
    goto out;
  }
  o.env = env.v;
  o.env_len = env.n;
  o.caps = caps.v;
  o.caps_len = caps.n;
  o.cgroups = cgroups.v;
  o.cgroups_len = cgroups.n;
  o.additional_gids = gids;
  o.additional_gids_len = ngids;

  kist_error_t err = NULL;
  int status = 255;
  if (kist_container_exec(ctx, id, &o, &status, &err) < 0) {
    cli_fail(&err);
    /* Like runc: 255 when kist failed, 126/127 when the command did. */
    rc = status;
    goto out;
  }
  rc = status;
out:
  free(env.v);
  free(caps.v);
  free(cgroups.v);
  return rc;
}

const struct kist_command kist_cmd_exec = {"exec", run, "run a process in a running container",
                                           usage};
