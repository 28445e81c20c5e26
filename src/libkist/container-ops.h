/* Commands on a live container's cgroup: pause, resume, update, ps, and
 * events/stats. The cmd-*.c files parse arguments and call one of these.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CONTAINER_OPS_H
#define KIST_CONTAINER_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"

/* Freezes every process (v1 freezer, v2 cgroup.freeze); `state` then says
 * "paused". Only a created or running container. */
int kist_container_pause(const struct kist_context *ctx, const char *id, kist_error_t *err);
/* Thaws a paused container. */
int kist_container_resume(const struct kist_context *ctx, const char *id, kist_error_t *err);

/* kist update. json is a LinuxResources object (runtime-spec
 * config-linux.md, what containerd writes to `update --resources -`),
 * source names it in messages ("-" for stdin). It is merged into the
 * container's saved config: a member that is absent, null, 0 or "" keeps
 * the old value (cpu.idle and memory.swappiness take 0 as given, booleans
 * are always taken); objects merge member by member, arrays replace.
 * devices are not updated. The merged resources are written to the cgroup
 * (kist_cgroup_update: all or nothing) and then saved as the container's
 * config. Errors name the field as "resources.memory.limit: ...". */
int kist_container_update(const struct kist_context *ctx, const char *id, const char *json,
                          size_t len, const char *source, kist_error_t *err);

/* runc's size syntax for update's memory flags: "1024", "100k", "64m",
 * "1.5g", "2GiB", "512kb" (binary units, case-insensitive); "-1" is
 * unlimited. */
int kist_parse_size(const char *s, int64_t *out);

/* Every pid of the container (its cgroup, sub-cgroups included; the init
 * alone when it has no cgroup), in kist's pid namespace. */
int kist_container_pids(const struct kist_context *ctx, const char *id, pid_t **pids, size_t *n,
                        kist_error_t *err);

/* kist ps in table form: runs ps (ps_args, default "-ef") and writes its
 * header and the lines whose PID column is one of the container's. */
int kist_container_ps_table(const struct kist_context *ctx, const char *id, char **ps_args,
                            FILE *out, kist_error_t *err);

/* One stats event, runc-shaped:
 * {"type":"stats","id":ID,"data":{"cpu":…,"memory":…,"pids":…,"blkio":…,"hugetlb":…}}. */
int kist_container_stats(const struct kist_context *ctx, const char *id, char **json,
                         kist_error_t *err);

/* kist events: a stats event every interval_ms and an {"type":"oom"} event
 * whenever the kernel reports an OOM in the container's cgroup, one JSON
 * object per line on out, until the container stops. */
int kist_container_events(const struct kist_context *ctx, const char *id, int interval_ms,
                          FILE *out, kist_error_t *err);

#endif
