/* kist events [--interval DURATION] [--stats] ID
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "container-ops.h"

static const char usage[] =
  "Usage: kist events [OPTIONS] ID\n"
  "\n"
  "Print the container's resource usage as JSON lines ({\"type\":\"stats\",...})\n"
  "every interval, and {\"type\":\"oom\",...} when the kernel reports an OOM in\n"
  "its cgroup, until the container stops.\n"
  "\n"
  "Options:\n"
  "      --interval DURATION  time between stats (default 5s; 500ms, 1m30s, or\n"
  "                           a number of seconds)\n"
  "      --stats              print the stats once and exit\n"
  "  -h, --help               show this help\n";

/* A Go-style duration ("5s", "250ms", "1m30s") or a number of seconds, in ms. */
static int parse_interval(const char *s, long *ms)
{
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\u00b5s", 1e-3}, {"ms", 1},
               {"s", 1000},  {"m", 60000}, {"h", 3600000}};
  char *end;
  double total = strtod(s, &end);
  if (end == s || !isdigit((unsigned char)s[0]))
    return -1;
  if (*end != '\0') {
    total = 0;
    for (const char *p = s; *p;) {
      if (!isdigit((unsigned char)*p) && *p != '.')
        return -1;
      double v = strtod(p, &end);
      p = end;
      size_t i = 0;
      while (i < sizeof units / sizeof units[0] &&
             strncmp(p, units[i].unit, strlen(units[i].unit)) != 0)
        i++;
      if (i == sizeof units / sizeof units[0])
        return -1;
      p += strlen(units[i].unit);
      total += v * units[i].ms;
    }
  } else {
    total *= 1000; /* a bare number: seconds */
  }
  if (!(total >= 1 && total <= 86400000.0 * 365))
    return -1;
  *ms = (long)total;
  return 0;
}

static int run(struct kist_context *ctx, int argc, char **argv)
{
  static const struct option opts[] = {{"interval", required_argument, NULL, 'i'},
                                       {"stats", no_argument, NULL, 's'},
                                       CLI_HELP_OPTION,
                                       {NULL, 0, NULL, 0}};
  long interval = 5000;
  bool once = false;
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'i':
      if (parse_interval(optarg, &interval) < 0)
        return cli_usage_error(
          "events", "--interval: '%s' is not a positive duration like 5s or 500ms", optarg);
      break;
    case 's':
      once = true;
      break;
    case 'h':
      cli_print_help(&kist_cmd_events);
      return 0;
    case ':':
      return cli_usage_error("events", "option %s needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("events", "unknown option '%s' (see kist events --help)",
                             argv[optind - 1]);
    }
  }
  const char *id;
  if (cli_take_id("events", argc, argv, &id) != 0)
    return KIST_EXIT_FAILURE;
  kist_error_t err = NULL;
  if (once) {
    char *json = NULL;
    if (kist_container_stats(ctx, id, &json, &err) < 0)
      return cli_fail(&err);
    puts(json);
    free(json);
    return 0;
  }
  if (kist_container_events(ctx, id, (int)interval, stdout, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct kist_command kist_cmd_events = {"events", run,
                                             "print resource usage and OOM events as JSON", usage};
