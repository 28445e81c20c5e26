/* Loading config.json from a bundle.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CONFIG_H
#define KIST_CONFIG_H

#include "error.h"
#include "ocispec.h"

/* Reads and parses <bundle>/config.json. Errors read
 * "config.json:LINE:COL: json.path: problem" (one line). */
int kist_config_load(const char *bundle, oci_config **out, kist_error_t *err);

#endif
