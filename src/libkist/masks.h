/* linux.maskedPaths and linux.readonlyPaths.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_MASKS_H
#define KIST_MASKS_H

#include "error.h"
#include "ocispec.h"

/* Paths must be absolute. */
int kist_masks_validate(const oci_config *cfg, kist_error_t *err);

/* In the init, after mounts and devices, before pivot_root (rootfd is the
 * rootfs). A masked directory gets an empty read-only tmpfs, a masked file
 * the host's /dev/null; a read-only path is bound onto itself read-only,
 * nosuid, nodev, noexec (recursively). Missing paths are skipped. */
int kist_masks_apply(const oci_config *cfg, int rootfd, kist_error_t *err);

#endif
