/* process.rlimits: every RLIMIT_* the kernel has, set with prlimit(2).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "rlimits.h"
#include "util.h"

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
  {"RLIMIT_AS", RLIMIT_AS},
  {"RLIMIT_CORE", RLIMIT_CORE},
  {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
  {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
  {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
  {"RLIMIT_NPROC", RLIMIT_NPROC},
  {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

static int rlimit_resource(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
    if (strcmp(rlimit_names[i].name, name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

/* JSON has no "unlimited": the spec's uint64 max (and anything above what
 * rlim_t holds) is RLIM_INFINITY. */
static rlim_t to_rlim(uint64_t v)
{
  return v >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)v;
}

static bool have_sys_resource(void)
{
  cap_t c = cap_get_proc();
  if (c == NULL)
    return false;
  cap_flag_value_t v = CAP_CLEAR;
  cap_get_flag(c, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
  cap_free(c);
  return v == CAP_SET;
}

/* Engines (Podman, Docker) fill process.rlimits from their own defaults, so
 * the way out is usually their --ulimit flag: name it with the value that
 * fits, e.g. "--ulimit nofile=20000:20000" for RLIMIT_NOFILE. */
static int raise_error(size_t i, const char *type, uint64_t want, rlim_t cur_hard,
                       kist_error_t *err)
{
  cleanup_free char *flag = xstrdup(strncmp(type, "RLIMIT_", 7) == 0 ? type + 7 : type);
  for (char *p = flag; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  /* EPERM kept as the errno, but the message already says why. */
  return kist_fail_take(err, EPERM,
                        xasprintf("process.rlimits[%zu]: %s: cannot raise hard limit to %" PRIu64
                                  " above the current %" PRIu64 " (no CAP_SYS_RESOURCE); lower it "
                                  "in config.json (Podman/Docker: --ulimit %s=%" PRIu64 ":%" PRIu64
                                  ") or raise the caller's hard limit",
                                  i, type, want, (uint64_t)cur_hard, flag, (uint64_t)cur_hard,
                                  (uint64_t)cur_hard));
}

int kist_rlimits_validate(const oci_config_process *p, kist_error_t *err)
{
  bool checked_cap = false, cap_ok = false;
  for (size_t i = 0; p && i < p->rlimits_len; i++) {
    const oci_config_process_rlimits_item *r = p->rlimits[i];
    if (r->type == NULL)
      return kist_fail(err, 0, "process.rlimits[%zu].type: missing", i);
    int res = rlimit_resource(r->type);
    if (res < 0)
      return kist_fail(err, 0, "process.rlimits[%zu].type: unknown rlimit %s", i, r->type);
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j]->type && strcmp(p->rlimits[j]->type, r->type) == 0)
        return kist_fail(err, 0, "process.rlimits[%zu].type: %s is already set by [%zu]", i,
                         r->type, j);
    if (to_rlim(r->soft) > to_rlim(r->hard))
      return kist_fail(
        err, 0, "process.rlimits[%zu]: %s: soft limit %" PRIu64 " is above the hard limit %" PRIu64,
        i, r->type, r->soft, r->hard);
    /* The container's init inherits our hard limits: a raise we cannot make
     * here fails there too, so say it before anything is created. */
    struct rlimit cur;
    if (getrlimit(res, &cur) == 0 && to_rlim(r->hard) > cur.rlim_max) {
      if (!checked_cap) {
        cap_ok = have_sys_resource();
        checked_cap = true;
      }
      if (!cap_ok)
        return raise_error(i, r->type, r->hard, cur.rlim_max, err);
    }
  }
  return 0;
}

int kist_rlimits_apply(const oci_config_process *p, kist_error_t *err)
{
  for (size_t i = 0; p && i < p->rlimits_len; i++) {
    const oci_config_process_rlimits_item *r = p->rlimits[i];
    int res = rlimit_resource(r->type);
    if (res < 0)
      return kist_fail(err, 0, "process.rlimits[%zu].type: unknown rlimit %s", i, r->type);
    struct rlimit want = {.rlim_cur = to_rlim(r->soft), .rlim_max = to_rlim(r->hard)};
    struct rlimit old;
    if (prlimit(0, (__rlimit_resource_t)res, &want, &old) == 0)
      continue;
    int e = errno;
    if (e == EPERM && getrlimit(res, &old) == 0 && want.rlim_max > old.rlim_max)
      return raise_error(i, r->type, r->hard, old.rlim_max, err);
    return kist_fail(err, e, "process.rlimits[%zu]: set %s to soft %" PRIu64 " hard %" PRIu64, i,
                     r->type, r->soft, r->hard);
  }
  return 0;
}
