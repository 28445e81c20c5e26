/* Options that checkpoint and restore share (both pass them to CRIU).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KIST_CLI_CRIU_H
#define KIST_CLI_CRIU_H

#include "checkpoint.h"

enum {
  CRIU_OPT_IMAGE = 300,
  CRIU_OPT_WORK,
  CRIU_OPT_TCP,
  CRIU_OPT_UNIX,
  CRIU_OPT_SHELL,
  CRIU_OPT_LOCKS,
  CRIU_OPT_CGMODE,
  CRIU_OPT_LAZY,
  CRIU_OPT_FIRST_OWN, /* each command's own options start here */
};

/* Stores option c (a CRIU_OPT_* value) in o; false when c is not one. */
bool cli_criu_option(int c, const char *arg, struct kist_criu_common *o);

#endif
