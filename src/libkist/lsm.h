/* SELinux and AppArmor labels.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_LSM_H
#define KIST_LSM_H

#include "error.h"
#include "ocispec.h"

/* Error when a label/profile is asked for and that LSM is not enabled. */
int kist_lsm_validate(const oci_config *cfg, kist_error_t *err);
/* Sets the label the next execve gets (SELinux exec context / AppArmor exec profile). */
int kist_lsm_set_exec_label(const oci_config_process *p, kist_error_t *err);

#endif
