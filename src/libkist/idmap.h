/* Idmapped bind mounts: mounts[] with `idmap`/`ridmap` and their own
 * uidMappings/gidMappings.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_IDMAP_H
#define KIST_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ocispec.h"

/* mounts[i] wants an idmapping: an idmap/ridmap option, or mappings of its
 * own. *recursive is set for ridmap. */
bool kist_idmap_wanted(const oci_mount *m, bool *recursive);

/* Before anything exists: mappings come in pairs with sizes >= 1; a mount
 * without mappings borrows the container's (linux.uid/gidMappings), and
 * without those it is an error; only bind mounts can be idmapped. */
int kist_idmap_validate(const oci_config *cfg, kist_error_t *err);

/* In the parent, before the init is cloned: for every idmapped mount a
 * detached copy of its source (open_tree) carrying MOUNT_ATTR_IDMAP. The
 * kernel wants CAP_SYS_ADMIN over the source filesystem's user namespace
 * for that, which an init inside a user namespace never has. *fds gets
 * cfg->mounts_len entries, -1 where there is nothing (NULL when no mount is
 * idmapped); the init attaches them with move_mount. */
int kist_idmap_open(const oci_config *cfg, const char *bundle, int **fds, kist_error_t *err);

void kist_idmap_close(int *fds, size_t n);

#endif
