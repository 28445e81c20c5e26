/* Loading config.json from a bundle.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CONFIG_H
#define KIST_CONFIG_H

#include "error.h"
#include "ocispec.h"

/* An empty bundle path is refused ("--bundle: empty path"): before
 * realpath(3) or open(2) would turn it into a vaguer ENOENT. The loaders
 * below check it; a caller that resolves the path first calls it itself. */
int kist_config_bundle_check(const char *bundle, kist_error_t *err);
/* Reads and parses <bundle>/config.json. Errors read
 * "config.json:LINE:COL: json.path: problem" (one line). */
int kist_config_load(const char *bundle, oci_config **out, kist_error_t *err);
/* The same, also returning the text that was parsed (*raw, malloc'd): what
 * is saved is then exactly what was checked. */
int kist_config_load_raw(const char *bundle, oci_config **out, char **raw, size_t *rawlen,
                         kist_error_t *err);

#endif
