/* libFuzzer target for everything `kist create` checks before it makes
 * anything: each input that libocispec parses as a config goes through the
 * validators of mounts, devices, masks, process (hooks, sysctl, user,
 * capabilities, rlimits, scheduler, ...), namespaces, cgroups, LSM and
 * seccomp (compiled with libseccomp, never loaded). None may crash, leak or
 * hit UB, and every refusal must be one non-empty line. Built and run by
 * tests/fuzz/run.sh.
 *
 * Namespace paths are opened by kist_ns_plan: a config naming a fifo there
 * would block the fuzzer, so configs with namespace paths skip that step.
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cgroup.h"
#include "context.h"
#include "devices.h"
#include "masks.h"
#include "mounts.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp.h"
#include "util.h"

/* Reports on one line, control characters escaped, then aborts. */
static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz-validate: %s: ", what);
  for (const unsigned char *p = (const unsigned char *)(detail ? detail : ""); *p; p++)
    fprintf(stderr, *p < 0x20 || *p == 0x7f ? "\\x%02x" : "%c", *p);
  fputc('\n', stderr);
  abort();
}

/* -1 with one line, or 0 with no error; returns whether it passed. */
static bool checked(int r, kist_error_t *err, const char *step)
{
  if (r < 0) {
    const char *m = *err ? kist_error_message(*err) : NULL;
    if (m == NULL || *m == '\0')
      fail(step, "failure without a message");
    if (strchr(m, '\n') != NULL)
      fail(step, m);
    kist_error_release(err);
    return false;
  }
  if (*err != NULL)
    fail(step, "success with an error set");
  return true;
}

static bool has_ns_path(const oci_config *cfg)
{
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    if (l->namespaces[i]->path && l->namespaces[i]->path[0])
      return true;
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  oci_config *cfg = NULL;
  char *msg = NULL;
  if (oci_config_parse_data((const char *)data, size, "config.json", &cfg, &msg) < 0) {
    free(msg);
    return 0;
  }
  struct kist_context ctx = {.root = "/nonexistent/kist-fuzz", .rootless = 0};
  kist_error_t err = NULL;
  /* In creation_prepare's order; each step runs even when an earlier one
   * refused, to reach more code. */
  checked(kist_mounts_validate(cfg, &err), &err, "kist_mounts_validate");
  if (!has_ns_path(cfg)) {
    struct kist_ns_plan plan;
    memset(&plan, 0, sizeof plan);
    for (int k = 0; k < KIST_NS_COUNT; k++)
      plan.join_fd[k] = -1;
    checked(kist_ns_plan(cfg, &plan, &err), &err, "kist_ns_plan");
    kist_ns_plan_release(&plan);
  }
  checked(kist_devices_validate(cfg, &err), &err, "kist_devices_validate");
  checked(kist_masks_validate(cfg, &err), &err, "kist_masks_validate");
  checked(kist_process_validate(cfg, &err), &err, "kist_process_validate");
  if (cfg->process)
    checked(kist_caps_validate(cfg->process->capabilities, &err), &err, "kist_caps_validate");
  checked(kist_cgroup_validate(&ctx, "fuzz", cfg, &err), &err, "kist_cgroup_validate");
  struct kist_seccomp *sc = NULL;
  if (checked(kist_seccomp_prepare(cfg, &sc, &err), &err, "kist_seccomp_prepare") && sc)
    kist_seccomp_free(sc);
  free_oci_config(cfg);
  return 0;
}
