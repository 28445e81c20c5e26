/* The default config.json written by `kist spec`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_SPEC_H
#define KIST_SPEC_H

#include <stdbool.h>

#include "error.h"

/* A ready-to-run config: busybox-friendly `sh`, the default namespaces,
 * masked and read-only paths, a minimal capability set. rootless maps the
 * caller's uid/gid to root in a user namespace and drops what needs privilege. */
char *kist_spec_default(bool rootless, uid_t uid, gid_t gid);

/* Writes <bundle>/config.json; refuses to overwrite an existing file. */
int kist_spec_write(const char *bundle, bool rootless, kist_error_t *err);

#endif
