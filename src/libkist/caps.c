/* process.capabilities: the five sets, applied with libcap and prctl.
 *
 * Kernel rules this file follows (capabilities(7)):
 * - effective must be a subset of permitted (capset refuses otherwise);
 * - an ambient capability can only be raised when it is both permitted and
 *   inheritable, so a config asking for one that is not is refused up front
 *   rather than silently not raised;
 * - the bounding set only shrinks: every capability not listed in
 *   `bounding` is dropped with PR_CAPBSET_DROP (CAP_SETPCAP needed, so the
 *   drop happens while our effective set still has it);
 * - a capability the kernel does not know (newer libcap than kernel) cannot be
 *   granted; it is skipped with a warning. A name libcap does not know is an
 *   error.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "log.h"
#include "util.h"

/* Enough bits for every capability a 64-bit capset can carry. */
#define KIST_CAP_WORDS 2
#define KIST_CAP_MAX   (KIST_CAP_WORDS * 32)

struct capset {
  uint32_t w[KIST_CAP_WORDS];
};

static bool capset_has(const struct capset *s, int cap)
{
  return (s->w[cap / 32] >> (cap % 32)) & 1u;
}

static void capset_add(struct capset *s, int cap)
{
  s->w[cap / 32] |= 1u << (cap % 32);
}

/* The highest capability this kernel knows, found with PR_CAPBSET_READ
 * (EINVAL past the end) so it works without /proc. */
static int kernel_last_cap(void)
{
  static int last = -1;
  if (last >= 0)
    return last;
  int lo = 0, hi = KIST_CAP_MAX - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (prctl(PR_CAPBSET_READ, (unsigned long)mid, 0, 0, 0) >= 0)
      lo = mid;
    else
      hi = mid - 1;
  }
  last = lo;
  return last;
}

/* "CAP_SYS_ADMIN" -> its number, only for the exact upper-case spelling of a
 * name libcap knows (cap_from_name alone also takes "12", "chown" or lists). */
static int cap_parse(const char *name, int *out)
{
  if (!str_has_prefix(name, "CAP_") || name[4] == '\0')
    return -1;
  for (const char *c = name; *c; c++)
    if (!(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
      return -1;
  cap_value_t v;
  if (cap_from_name(name, &v) < 0 || v < 0 || v >= KIST_CAP_MAX)
    return -1;
  char *back = cap_to_name(v);
  bool same = back && strcasecmp(back, name) == 0;
  cap_free(back);
  if (!same)
    return -1;
  *out = v;
  return 0;
}

static int parse_list(char *const *names, size_t n, const char *field, struct capset *out,
                      bool warn, kist_error_t *err)
{
  memset(out, 0, sizeof *out);
  int last = kernel_last_cap();
  for (size_t i = 0; i < n; i++) {
    int cap;
    if (cap_parse(names[i], &cap) < 0)
      return kist_fail(err, 0, "process.capabilities.%s[%zu]: unknown capability %s", field, i,
                       names[i]);
    if (cap > last) {
      if (warn)
        kist_warn("process.capabilities.%s[%zu]: %s is not supported by this kernel; ignored",
                  field, i, names[i]);
      continue;
    }
    capset_add(out, cap);
  }
  return 0;
}

struct caps_plan {
  struct capset bnd, eff, prm, inh, amb;
};

static int plan(const oci_config_process_capabilities *c, struct caps_plan *p, bool warn,
                kist_error_t *err)
{
  memset(p, 0, sizeof *p);
  if (c == NULL)
    return 0;
  if (parse_list(c->bounding, c->bounding_len, "bounding", &p->bnd, warn, err) < 0 ||
      parse_list(c->effective, c->effective_len, "effective", &p->eff, warn, err) < 0 ||
      parse_list(c->permitted, c->permitted_len, "permitted", &p->prm, warn, err) < 0 ||
      parse_list(c->inheritable, c->inheritable_len, "inheritable", &p->inh, warn, err) < 0 ||
      parse_list(c->ambient, c->ambient_len, "ambient", &p->amb, warn, err) < 0)
    return -1;
  int last = kernel_last_cap();
  for (size_t i = 0; i < c->effective_len; i++) {
    int cap;
    if (cap_parse(c->effective[i], &cap) == 0 && cap <= last && !capset_has(&p->prm, cap))
      return kist_fail(err, 0,
                       "process.capabilities.effective[%zu]: %s is not in the permitted set "
                       "(the kernel requires effective to be a subset of permitted)",
                       i, c->effective[i]);
  }
  for (size_t i = 0; i < c->ambient_len; i++) {
    int cap;
    if (cap_parse(c->ambient[i], &cap) == 0 && cap <= last &&
        !(capset_has(&p->prm, cap) && capset_has(&p->inh, cap)))
      return kist_fail(err, 0,
                       "process.capabilities.ambient[%zu]: %s must also be listed in permitted "
                       "and inheritable (the kernel raises ambient capabilities only then)",
                       i, c->ambient[i]);
  }
  return 0;
}

int kist_caps_validate(const oci_config_process_capabilities *caps, kist_error_t *err)
{
  struct caps_plan p;
  return plan(caps, &p, false, err);
}

/* Sets our three sets at once. */
static int set_proc(const struct capset *eff, const struct capset *prm, const struct capset *inh,
                    const char *what, kist_error_t *err)
{
  cap_t c = cap_init();
  if (c == NULL)
    return kist_fail(err, errno, "cap_init");
  int last = kernel_last_cap();
  for (int cap = 0; cap <= last; cap++) {
    cap_value_t v = cap;
    if (capset_has(eff, cap))
      cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
    if (capset_has(prm, cap))
      cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
    if (capset_has(inh, cap))
      cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
  }
  int r = cap_set_proc(c);
  int e = errno;
  cap_free(c);
  if (r < 0)
    return kist_fail(err, e, "process.capabilities: set %s", what);
  return 0;
}

static int get_proc(struct capset *eff, struct capset *prm, struct capset *inh, kist_error_t *err)
{
  cap_t c = cap_get_proc();
  if (c == NULL)
    return kist_fail(err, errno, "process.capabilities: read the current capabilities");
  memset(eff, 0, sizeof *eff);
  memset(prm, 0, sizeof *prm);
  memset(inh, 0, sizeof *inh);
  int last = kernel_last_cap();
  for (int cap = 0; cap <= last; cap++) {
    cap_flag_value_t v;
    if (cap_get_flag(c, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
      capset_add(eff, cap);
    if (cap_get_flag(c, cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
      capset_add(prm, cap);
    if (cap_get_flag(c, cap, CAP_INHERITABLE, &v) == 0 && v == CAP_SET)
      capset_add(inh, cap);
  }
  cap_free(c);
  return 0;
}

/* A capability outside our own permitted and bounding sets (a runtime that
 * itself runs with a reduced set, e.g. nested in another container) cannot
 * be granted: the kernel refuses to grow permitted, and inheritable may not
 * leave the bounding set. Like a capability the kernel does not know, it is
 * skipped with a warning instead of failing every container that asks for
 * "all" capabilities. */
static void drop_unavailable(struct caps_plan *p, const struct capset *have_prm)
{
  int last = kernel_last_cap();
  for (int cap = 0; cap <= last; cap++) {
    bool asked = capset_has(&p->eff, cap) || capset_has(&p->prm, cap) || capset_has(&p->inh, cap) ||
                 capset_has(&p->amb, cap);
    if (!asked)
      continue; /* nothing to take out of the plan: no bounding set read */
    bool have =
      capset_has(have_prm, cap) && prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) > 0;
    if (have)
      continue;
    uint32_t mask = ~(1u << (cap % 32));
    p->eff.w[cap / 32] &= mask;
    p->prm.w[cap / 32] &= mask;
    p->inh.w[cap / 32] &= mask;
    p->amb.w[cap / 32] &= mask;
    char *name = cap_to_name(cap);
    kist_warn("process.capabilities: %s is not available to the runtime; not granted",
              name ? name : "?");
    cap_free(name);
  }
}

int kist_caps_apply(const oci_config_process_capabilities *caps, kist_error_t *err)
{
  struct caps_plan p;
  if (plan(caps, &p, true, err) < 0)
    return -1;
  struct capset eff, prm, inh;
  if (get_proc(&eff, &prm, &inh, err) < 0)
    return -1;
  drop_unavailable(&p, &prm);
  /* After setresuid to a non-root uid (KEEPCAPS) only permitted survives:
   * make it effective again, for CAP_SETPCAP below. */
  if (set_proc(&prm, &prm, &inh, "the effective set for setup", err) < 0)
    return -1;
  /* Inheritable before the bounding drop: the kernel lets inheritable grow
   * only within the current bounding set. */
  if (set_proc(&prm, &prm, &p.inh, "the inheritable set", err) < 0)
    return -1;
  int last = kernel_last_cap();
  for (int cap = 0; cap <= last; cap++) {
    if (capset_has(&p.bnd, cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0 && errno != EINVAL) {
      char *name = cap_to_name(cap);
      int e = errno;
      kist_fail(err, e, "process.capabilities.bounding: drop %s", name ? name : "?");
      cap_free(name);
      return -1;
    }
  }
  if (set_proc(&p.eff, &p.prm, &p.inh, "effective/permitted/inheritable", err) < 0)
    return -1;
  /* Ambient last: each one needs to be permitted and inheritable already. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return kist_fail(err, errno, "process.capabilities.ambient: clear");
  for (int cap = 0; cap <= last; cap++) {
    if (!capset_has(&p.amb, cap))
      continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) < 0) {
      char *name = cap_to_name(cap);
      int e = errno;
      kist_fail(err, e, "process.capabilities.ambient: raise %s", name ? name : "?");
      cap_free(name);
      return -1;
    }
  }
  return 0;
}
