/* linux.resources → cgroup file writes, for the hierarchy each controller
 * lives in (v1 names, or v2 names with the v1→v2 conversions). The plan is
 * pure computation plus a few cheap existence checks, so
 * kist_cgroup_validate() and kist_cgroup_create() share it and report the
 * same errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_RESOURCES_H
#define KIST_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup-internal.h"
#include "error.h"
#include "ocispec.h"

/* Retry with the next write first when this one fails with EINVAL: v1
 * memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes. */
#define KIST_CGW_SWAP_ORDER 1u
/* Skip silently when the file does not exist (an implied setting). */
#define KIST_CGW_OPTIONAL 2u

struct kist_cg_write {
  enum kist_cg_ctrl ctrl; /* the hierarchy: lay->where[ctrl] */
  char *file;
  char *value;
  char *field;     /* the JSON path, for messages */
  char *alt_file;  /* tried when file does not exist (blkio.weight → blkio.bfq.weight) */
  char *alt_value; /* value for alt_file; NULL: value */
  unsigned flags;
};

struct kist_cg_plan {
  struct kist_cg_write *w;
  size_t n, cap;
  uint32_t v2_ctrls; /* controllers written in the v2 tree (enable in subtree_control) */
  bool cpus, mems;   /* cpuset.cpus / cpuset.mems are written by the plan */
  bool warn;         /* log warnings for ignored fields (at creation, not validation) */
  bool devices_bpf;  /* linux.resources.devices need the v2 eBPF filter (no devices controller) */
};

/* Builds the writes for linux.resources (lin may be NULL). Errors name the
 * field: "linux.resources.memory.swap: 100 is below memory.limit 200 ...". */
int kist_resources_plan(const struct kist_cg_layout *lay, const oci_config_linux *lin, bool warn,
                        struct kist_cg_plan *plan, kist_error_t *err);
void kist_resources_plan_free(struct kist_cg_plan *plan);

/* One device cgroup rule, normalised. Evaluated as a list: the last rule
 * that matches a device and an access decides; no match denies. */
#define KIST_DEV_M 1u /* the kernel's BPF_DEVCG_ACC_* bits */
#define KIST_DEV_R 2u
#define KIST_DEV_W 4u
struct kist_dev_rule {
  bool allow;
  char type;            /* 'a', 'b' or 'c' */
  int64_t major, minor; /* -1: any */
  unsigned access;      /* KIST_DEV_* */
};

/* linux.resources.devices, then the standard devices every runtime allows
 * (null, zero, tty, ptys, mknod of anything) and linux.devices; n = 0 when
 * the config has no device rules (nothing to enforce). Rules were checked
 * by kist_resources_plan. */
void kist_device_rules(const oci_config_linux *lin, struct kist_dev_rule **rules, size_t *n);

/* cpu.shares (2..262144) → cpu.weight (1..10000). */
uint64_t kist_cpu_shares_to_weight(uint64_t shares);
/* blkio weight (10..1000) → io.weight (1..10000). */
uint64_t kist_blkio_weight_to_io_weight(uint64_t weight);

#endif
