/* OCI hooks: prestart, createRuntime, createContainer, startContainer,
 * poststart, poststop.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_HOOKS_H
#define KIST_HOOKS_H

#include <stddef.h>

#include "error.h"
#include "ocispec.h"

/* Checks every hook before anything runs: path absolute, timeout > 0.
 * Errors name the field: "hooks.poststart[1].timeout: 0 must be greater
 * than zero". Called by kist_process_validate. */
int kist_hooks_validate(const oci_config_hooks *hooks, kist_error_t *err);

/* Runs hooks in order, each with state_json on stdin, its own args/env, and
 * its timeout (killed and failed when exceeded). Stops at the first failure:
 * the error names the stage, the index and the path, e.g.
 * "createRuntime hook #1 (/usr/bin/foo) exited with status 3". The hook's
 * stderr/stdout go to kist's stderr/stdout. */
int kist_hooks_run(oci_hook *const *hooks, size_t n, const char *stage, const char *state_json,
                   kist_error_t *err);

/* For poststart and poststop, where the spec says a failing hook is a
 * warning and the remaining hooks and the lifecycle go on: runs every hook
 * and logs each failure with kist_warn. */
void kist_hooks_run_warn(oci_hook *const *hooks, size_t n, const char *stage,
                         const char *state_json);

#endif
