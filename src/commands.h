/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KIST_COMMANDS_H
#define KIST_COMMANDS_H

#include "cli.h"

#define KIST_DECLARE_COMMAND(n) extern const struct kist_command kist_cmd_##n
KIST_DECLARE_COMMAND(spec);
KIST_DECLARE_COMMAND(features);
KIST_DECLARE_COMMAND(check);
KIST_DECLARE_COMMAND(create);
KIST_DECLARE_COMMAND(start);
KIST_DECLARE_COMMAND(run);
KIST_DECLARE_COMMAND(state);
KIST_DECLARE_COMMAND(kill);
KIST_DECLARE_COMMAND(delete);
KIST_DECLARE_COMMAND(list);

#endif
