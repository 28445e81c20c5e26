/* /dev in the container: the default devices, linux.devices, the standard
 * symlinks and a devpts instance.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_DEVICES_H
#define KIST_DEVICES_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

/* Checks linux.devices before clone: type c/b/u/p, absolute path, numbers. */
int kist_devices_validate(const oci_config *cfg, kist_error_t *err);

/* In the init, after the mounts, before pivot_root; rootfd is the rootfs.
 * Creates null zero full random urandom tty, linux.devices (mknod, or a bind
 * of the host's node when mknod is not permitted, as in a user namespace),
 * /dev/fd, /dev/std{in,out,err}, /dev/ptmx -> pts/ptmx, and mounts devpts
 * on /dev/pts unless the config does. Nothing is done when /dev is a bind
 * mount (the host's /dev is what was asked for). */
int kist_devices_setup(const oci_config *cfg, int rootfd, bool new_userns, kist_error_t *err);

#endif
