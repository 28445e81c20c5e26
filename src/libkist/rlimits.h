/* process.rlimits.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_RLIMITS_H
#define KIST_RLIMITS_H

#include "error.h"
#include "ocispec.h"

int kist_rlimits_validate(const oci_config_process *p, kist_error_t *err);
/* A raise above the hard limit without CAP_SYS_RESOURCE fails with a message
 * naming the limit, the asked value and the current hard limit. */
int kist_rlimits_apply(const oci_config_process *p, kist_error_t *err);

#endif
