/* Capabilities: all five sets with libcap.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CAPS_H
#define KIST_CAPS_H

#include "error.h"
#include "ocispec.h"

/* Unknown names are errors naming the field: "process.capabilities.bounding[3]:
 * unknown capability CAP_FOO". */
int kist_caps_validate(const oci_config_process_capabilities *caps, kist_error_t *err);
/* Drops the bounding set, sets effective/permitted/inheritable, raises
 * ambient. Called after setresuid with KEEPCAPS. NULL caps = drop all. */
int kist_caps_apply(const oci_config_process_capabilities *caps, kist_error_t *err);

#endif
