/* kist update [--resources FILE|-] [LIMIT FLAGS] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "container-ops.h"
#include "log.h"
#include "util.h"

static const char usage[] =
  "Usage: kist update [OPTIONS] ID\n"
  "\n"
  "Change the resource limits of a running container. The new values are\n"
  "merged into its config: what is not given (or given as 0) stays as it is.\n"
  "If any limit cannot be set, none is changed.\n"
  "\n"
  "Options:\n"
  "  -r, --resources FILE       a LinuxResources JSON object (runtime-spec\n"
  "                             config-linux.md), - for stdin; the flags below\n"
  "                             cannot be combined with it\n"
  "      --memory SIZE          memory limit (bytes, or 100k, 64m, 1g...; -1: none)\n"
  "      --memory-reservation SIZE  soft limit\n"
  "      --memory-swap SIZE     memory+swap limit (-1: unlimited swap)\n"
  "      --kernel-memory SIZE, --kernel-memory-tcp SIZE\n"
  "                             accepted and ignored (the kernel dropped them)\n"
  "      --cpu-shares N         relative CPU weight (also --cpu-share)\n"
  "      --cpu-quota US         CPU time per period (-1: none)\n"
  "      --cpu-period US        CFS period\n"
  "      --cpu-burst US         CFS burst\n"
  "      --cpu-rt-runtime US, --cpu-rt-period US  real-time scheduling (v1)\n"
  "      --cpu-idle 0|1         SCHED_IDLE for the cgroup\n"
  "      --cpuset-cpus LIST     CPUs to run on (0-3,8)\n"
  "      --cpuset-mems LIST     memory nodes\n"
  "      --blkio-weight N       block I/O weight (10..1000)\n"
  "      --pids-limit N         maximum number of tasks (-1 or 0: none)\n"
  "  -h, --help                 show this help\n";

enum {
  O_RESOURCES = 'r',
  O_HELP = 'h',
  O_MEMORY = 256,
  O_MEM_RESV,
  O_MEM_SWAP,
  O_KMEM,
  O_KMEM_TCP,
  O_CPU_SHARES,
  O_CPU_QUOTA,
  O_CPU_PERIOD,
  O_CPU_BURST,
  O_CPU_RT_RUNTIME,
  O_CPU_RT_PERIOD,
  O_CPU_IDLE,
  O_CPUSET_CPUS,
  O_CPUSET_MEMS,
  O_BLKIO_WEIGHT,
  O_PIDS_LIMIT,
  O_L3_CACHE,
  O_MEM_BW,
};

/* The flags as one LinuxResources object, section by section. */
struct sections {
  char *memory, *cpu, *block_io, *pids;
};

static void add(char **sec, const char *key, const char *value)
{
  char *t = xasprintf("%s%s\"%s\":%s", *sec ? *sec : "", *sec ? "," : "", key, value);
  free(*sec);
  *sec = t;
}

/* Only digits, commas and dashes reach the JSON string unescaped; the
 * kernel takes nothing else in a cpu or node list either. */
static int add_list(char **sec, const char *key, const char *flag, const char *v)
{
  if (v[0] == '\0' || strspn(v, "0123456789,-") != strlen(v))
    return cli_usage_error("update", "%s: '%s' is not a list like 0-3,8", flag, v);
  cleanup_free char *q = xasprintf("\"%s\"", v);
  add(sec, key, q);
  return 0;
}

static int add_int(char **sec, const char *key, const char *flag, const char *v, bool is_signed)
{
  int64_t i;
  uint64_t u;
  if (is_signed ? parse_int64(v, &i) < 0 : parse_uint64(v, &u) < 0)
    return cli_usage_error("update", "%s: '%s' is not %s integer", flag, v,
                           is_signed ? "an" : "a non-negative");
  cleanup_free char *n = is_signed ? xasprintf("%" PRId64, i) : xasprintf("%" PRIu64, u);
  add(sec, key, n);
  return 0;
}

static int add_size(char **sec, const char *key, const char *flag, const char *v)
{
  int64_t n;
  if (kist_parse_size(v, &n) < 0)
    return cli_usage_error("update", "%s: '%s' is not a size like 1024, 100k, 64m or 1g", flag, v);
  cleanup_free char *s = xasprintf("%" PRId64, n);
  add(sec, key, s);
  return 0;
}

static int flag_json(struct sections *s, int opt, const char *flag, const char *v)
{
  switch (opt) {
  case O_MEMORY:
    return add_size(&s->memory, "limit", flag, v);
  case O_MEM_RESV:
    return add_size(&s->memory, "reservation", flag, v);
  case O_MEM_SWAP:
    return add_size(&s->memory, "swap", flag, v);
  case O_KMEM:
  case O_KMEM_TCP:
    kist_warn("update: %s is ignored: the kernel no longer limits kernel memory separately", flag);
    return 0;
  case O_CPU_SHARES:
    return add_int(&s->cpu, "shares", flag, v, false);
  case O_CPU_QUOTA:
    return add_int(&s->cpu, "quota", flag, v, true);
  case O_CPU_PERIOD:
    return add_int(&s->cpu, "period", flag, v, false);
  case O_CPU_BURST:
    return add_int(&s->cpu, "burst", flag, v, false);
  case O_CPU_RT_RUNTIME:
    return add_int(&s->cpu, "realtimeRuntime", flag, v, true);
  case O_CPU_RT_PERIOD:
    return add_int(&s->cpu, "realtimePeriod", flag, v, false);
  case O_CPU_IDLE:
    return add_int(&s->cpu, "idle", flag, v, true);
  case O_CPUSET_CPUS:
    return add_list(&s->cpu, "cpus", flag, v);
  case O_CPUSET_MEMS:
    return add_list(&s->cpu, "mems", flag, v);
  case O_BLKIO_WEIGHT:
    return add_int(&s->block_io, "weight", flag, v, false);
  case O_PIDS_LIMIT:
    return add_int(&s->pids, "limit", flag, v, true);
  default:
    return cli_usage_error("update", "%s: Intel RDT (linux.intelRdt) is not supported by kist",
                           flag);
  }
}

static char *sections_json(const struct sections *s)
{
  char *j = xstrdup("{");
  const char *names[] = {"memory", "cpu", "blockIO", "pids"};
  char *vals[] = {s->memory, s->cpu, s->block_io, s->pids};
  for (size_t i = 0; i < 4; i++) {
    if (vals[i] == NULL)
      continue;
    char *t = xasprintf("%s%s\"%s\":{%s}", j, j[1] ? "," : "", names[i], vals[i]);
    free(j);
    j = t;
  }
  char *t = xasprintf("%s}", j);
  free(j);
  return t;
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    {"resources", required_argument, NULL, O_RESOURCES},
    {"memory", required_argument, NULL, O_MEMORY},
    {"memory-reservation", required_argument, NULL, O_MEM_RESV},
    {"memory-swap", required_argument, NULL, O_MEM_SWAP},
    {"kernel-memory", required_argument, NULL, O_KMEM},
    {"kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP},
    {"cpu-shares", required_argument, NULL, O_CPU_SHARES},
    {"cpu-share", required_argument, NULL, O_CPU_SHARES},
    {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
    {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
    {"cpu-burst", required_argument, NULL, O_CPU_BURST},
    {"cpu-rt-runtime", required_argument, NULL, O_CPU_RT_RUNTIME},
    {"cpu-rt-period", required_argument, NULL, O_CPU_RT_PERIOD},
    {"cpu-idle", required_argument, NULL, O_CPU_IDLE},
    {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
    {"blkio-weight", required_argument, NULL, O_BLKIO_WEIGHT},
    {"pids-limit", required_argument, NULL, O_PIDS_LIMIT},
    {"l3-cache-schema", required_argument, NULL, O_L3_CACHE},
    {"mem-bw-schema", required_argument, NULL, O_MEM_BW},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0}};
  const char *resources = NULL, *first_flag = NULL;
  struct sections s = {0};
  int c, idx, ret = KIST_EXIT_FAILURE;
  /* Before the first goto: its cleanup runs at every return. */
  cleanup_free char *json = NULL;
  while ((c = getopt_long(argc, argv, "+r:h", opts, &idx)) != -1) {
    if (c == O_RESOURCES) {
      resources = optarg;
    } else if (c == O_HELP) {
      cli_print_help(&kist_cmd_update);
      ret = 0;
      goto out;
    } else if (c == ':') {
      cli_usage_error("update", "option %s needs a value", argv[optind - 1]);
      goto out;
    } else if (c == '?') {
      cli_usage_error("update", "unknown option '%s' (see kist update --help)", argv[optind - 1]);
      goto out;
    } else {
      cleanup_free char *flag = xasprintf("--%s", opts[idx].name);
      if (flag_json(&s, c, flag, optarg) != 0)
        goto out;
      if (first_flag == NULL)
        first_flag = opts[idx].name;
    }
  }
  const char *id;
  if (cli_take_id("update", argc, argv, &id) != 0)
    goto out;
  if (resources && first_flag) {
    cli_usage_error("update", "--resources cannot be combined with --%s", first_flag);
    goto out;
  }
  kist_error_t err = NULL;
  size_t len = 0;
  const char *source = "flags";
  if (resources == NULL) {
    json = sections_json(&s);
    len = strlen(json);
    if (len == 2) {
      cli_usage_error("update", "nothing to update: give --resources or a limit flag");
      goto out;
    }
  } else if (strcmp(resources, "-") == 0) {
    source = "stdin";
    if (read_input_fd(STDIN_FILENO, "--resources - (stdin)", 0, &json, &len, &err) < 0) {
      ret = cli_fail(&err);
      goto out;
    }
  } else {
    source = resources;
    cleanup_free char *what = xasprintf("--resources %s", resources);
    if (read_input_file_at(AT_FDCWD, resources, what, &json, &len, &err) < 0) {
      ret = cli_fail(&err);
      goto out;
    }
  }
  ret = kist_container_update(ctx, id, json, len, source, &err) < 0 ? cli_fail(&err) : 0;
out:
  free(s.memory);
  free(s.cpu);
  free(s.block_io);
  free(s.pids);
  return ret;
}

const struct kist_command kist_cmd_update = {"update", run,
                                             "change the resource limits of a container", usage};
