/* linux.netDevices: host interfaces moved into the container's network
 * namespace.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_NETDEV_H
#define KIST_NETDEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "namespaces.h"
#include "ocispec.h"

bool kist_netdev_wanted(const oci_config *cfg);

/* Before anything exists: the container gets a network namespace of its
 * own (new, or joined and not kist's), every name is a valid interface
 * name, each host interface exists, no two land on the same name. */
int kist_netdev_validate(const oci_config *cfg, const struct kist_ns_plan *plan, kist_error_t *err);

/* Parent, once the init's network namespace exists: moves each interface
 * into /proc/PID/ns/net, renames it (`name`, "%d" templates allowed),
 * puts back its permanent global addresses and sets it up. A name taken in
 * the container is an error before anything moves. *netns_fd gets an fd of
 * that namespace (also on failure, once opened) for kist_netdev_return. */
int kist_netdev_move(const oci_config *cfg, pid_t pid, int *netns_fd, kist_error_t *err);

/* A create failing after the move: the interfaces that can still be found
 * in netns_fd go back to kist's namespace under their host names (best
 * effort; the fd keeps the namespace alive after the init died). A normal
 * delete never does this: the runtime-spec leaves them to the kernel. */
void kist_netdev_return(const oci_config *cfg, int netns_fd);

/* Init, in a new network namespace: lo up, as runc leaves it (a fresh
 * namespace starts with lo down, so even 127.0.0.1 is unreachable). */
int kist_netns_loopback_up(kist_error_t *err);

#endif
