/* What every command needs from the global flags.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CONTEXT_H
#define KIST_CONTEXT_H

#include <stdbool.h>

struct kist_context {
  const char *root;    /* state root: --root, /run/kist, or $XDG_RUNTIME_DIR/kist */
  bool systemd_cgroup; /* --systemd-cgroup */
  bool debug;          /* --debug */
  int rootless;        /* --rootless: 1 true, 0 false, -1 auto */
};

#endif
