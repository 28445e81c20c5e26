/* User-namespace id maps for root and unprivileged callers: a direct write
 * when the kernel allows it, newuidmap/newgidmap (uidmap package, ranges
 * from /etc/subuid and /etc/subgid) otherwise.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_USERNS_H
#define KIST_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* Before anything exists: for an unprivileged caller, every mapped host
 * range is the caller's own id or lies in its /etc/subuid (/etc/subgid)
 * ranges, and newuidmap/newgidmap are installed when they are needed.
 * Errors say which mapping and what to change. Root: nothing to check. */
int kist_userns_check_maps(const oci_config *cfg, kist_error_t *err);

/* Parent: writes linux.uidMappings/gidMappings for the user namespace of
 * PID, through /proc/PID/{uid,gid}_map or newuidmap/newgidmap. */
int kist_userns_write_maps(pid_t pid, const oci_config *cfg, kist_error_t *err);

/* The writer behind it and kist_ns_write_maps: uid_map, then (without
 * root, before a direct gid_map) setgroups "deny", then gid_map; errors
 * name uid_field/gid_field. With helpers, an unprivileged caller's maps
 * wider than its own id go through newuidmap/newgidmap; without, every
 * map is written directly. */
int kist_userns_write_id_maps(pid_t pid, oci_id_mapping **uid, size_t nuid, oci_id_mapping **gid,
                              size_t ngid, const char *uid_field, const char *gid_field,
                              bool helpers, kist_error_t *err);

/* Which helper a map needs (exposed for tests and `kist features`). */
bool kist_userns_map_is_direct(oci_id_mapping **m, size_t n, unsigned own_id);

/* "containerID hostID size" lines for /proc/PID/{uid,gid}_map. */
char *kist_userns_format_map(oci_id_mapping **m, size_t n);
/* Writes data to /proc/PID/FILE in one write(2); what names the config
 * field in errors (an EPERM without root says what would be allowed). */
int kist_userns_write_proc(pid_t pid, const char *file, const char *data, const char *what,
                           kist_error_t *err);

#endif
