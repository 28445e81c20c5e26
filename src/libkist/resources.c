/* linux.resources → cgroup file writes. Each controller is written where the
 * host mounts it: v1 file names in a v1 hierarchy, v2 names (with the
 * conversions runtimes agree on) in the v2 tree. Nothing here touches a
 * container cgroup; create applies the plan in order.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "resources.h"
#include "util.h"

#define RES "linux.resources"

/* Validation and creation both build the plan: warn once, at creation. */
#define WARN(p, ...)                                                                               \
  do {                                                                                             \
    if ((p)->warn)                                                                                 \
      kist_warn(__VA_ARGS__);                                                                      \
  } while (0)

static struct kist_cg_write *add(struct kist_cg_plan *p, const struct kist_cg_layout *lay,
                                 enum kist_cg_ctrl c, const char *file, char *value,
                                 const char *field)
{
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 16;
    p->w = xrealloc(p->w, p->cap * sizeof *p->w);
  }
  struct kist_cg_write *w = &p->w[p->n++];
  *w = (struct kist_cg_write){
    .ctrl = c, .file = xstrdup(file), .value = value, .field = xstrdup(field)};
  int idx = lay->where[c];
  if (c != KIST_CG_CORE && idx >= 0 && lay->h[idx].v2)
    p->v2_ctrls |= KIST_CG_BIT(c);
  return w;
}

void kist_resources_plan_free(struct kist_cg_plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->w[i].file);
    free(p->w[i].value);
    free(p->w[i].field);
    free(p->w[i].alt_file);
    free(p->w[i].alt_value);
  }
  free(p->w);
  *p = (struct kist_cg_plan){0};
}

uint64_t kist_cpu_shares_to_weight(uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t kist_blkio_weight_to_io_weight(uint64_t weight)
{
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}

/* Where controller c lives: 0 v1, 1 v2, -1 (error set) nowhere. */
static int locate(const struct kist_cg_layout *lay, enum kist_cg_ctrl c, const char *field,
                  kist_error_t *err)
{
  int idx = lay->where[c];
  if (idx >= 0)
    return lay->h[idx].v2 ? 1 : 0;
  if (lay->mode == KIST_CGROUP_V2 && kist_cg_ctrl_v2_name(c) == NULL)
    return kist_fail(err, 0, "%s: cgroup v2 has no %s controller", field, kist_cg_ctrl_v1_name(c));
  if (lay->mode == KIST_CGROUP_V2)
    return kist_fail(err, 0,
                     "%s: the %s controller is not available (not in %s/cgroup.controllers)", field,
                     kist_cg_ctrl_v2_name(c), KIST_CG_ROOT);
  return kist_fail(err, 0, "%s: the %s controller is not mounted on this host (no %s/%s)", field,
                   kist_cg_ctrl_v1_name(c), KIST_CG_ROOT, kist_cg_ctrl_v1_name(c));
}

static bool hier_has_file(const struct kist_cg_layout *lay, enum kist_cg_ctrl c, const char *file)
{
  cleanup_free char *p = xasprintf("%s/%s/%s", KIST_CG_ROOT, lay->h[lay->where[c]].name, file);
  return access(p, F_OK) == 0;
}

/* ---- memory ---- */

static int check_limit(int64_t v, const char *field, kist_error_t *err)
{
  if (v < -1)
    return kist_fail(err, 0, "%s: %" PRId64 " is not a valid limit (-1 means unlimited)", field, v);
  return 0;
}

static char *limit_str(int64_t v, bool v2)
{
  return v2 && v == -1 ? xstrdup("max") : xasprintf("%" PRId64, v);
}

static int plan_memory(const struct kist_cg_layout *lay, const oci_config_linux_resources_memory *m,
                       struct kist_cg_plan *p, kist_error_t *err)
{
  const enum kist_cg_ctrl M = KIST_CG_MEMORY;
  bool limit = m->limit_present && m->limit != 0;
  bool swap = m->swap_present && m->swap != 0;
  bool resv = m->reservation_present && m->reservation != 0;
  if (check_limit(m->limit, RES ".memory.limit", err) < 0 ||
      check_limit(m->swap, RES ".memory.swap", err) < 0 ||
      check_limit(m->reservation, RES ".memory.reservation", err) < 0)
    return -1;
  if (swap && m->swap != -1) {
    if (!limit || m->limit == -1)
      return kist_fail(err, 0,
                       RES ".memory.swap: %" PRId64 " needs a finite memory.limit (swap limits "
                           "memory+swap)",
                       m->swap);
    if (m->swap < m->limit)
      return kist_fail(err, 0,
                       RES ".memory.swap: %" PRId64 " is below memory.limit %" PRId64
                           " (swap limits memory+swap)",
                       m->swap, m->limit);
  }
  if (m->swappiness_present && m->swappiness > 100)
    return kist_fail(err, 0, RES ".memory.swappiness: %" PRIu64 " is outside 0..100",
                     m->swappiness);
  if (m->kernel_present)
    WARN(p, RES ".memory.kernel: deprecated by the kernel, ignored");
  if (m->kernel_tcp_present)
    WARN(p, RES ".memory.kernelTCP: deprecated by the kernel, ignored");
  bool oom = m->disable_oom_killer_present && m->disable_oom_killer;
  if (!limit && !swap && !resv && !m->swappiness_present && !oom)
    return 0;

  int v2 = locate(lay, M, RES ".memory", err);
  if (v2 < 0)
    return -1;
  if (!v2) {
    if (limit) {
      struct kist_cg_write *w =
        add(p, lay, M, "memory.limit_in_bytes", limit_str(m->limit, false), RES ".memory.limit");
      if (swap)
        w->flags |= KIST_CGW_SWAP_ORDER;
    }
    if (swap) {
      if (!hier_has_file(lay, M, "memory.memsw.limit_in_bytes"))
        return kist_fail(err, 0,
                         RES ".memory.swap: this kernel does not account swap (no "
                             "memory.memsw.limit_in_bytes; boot with swapaccount=1)");
      add(p, lay, M, "memory.memsw.limit_in_bytes", limit_str(m->swap, false), RES ".memory.swap");
    }
    if (resv)
      add(p, lay, M, "memory.soft_limit_in_bytes", limit_str(m->reservation, false),
          RES ".memory.reservation");
    if (m->swappiness_present)
      add(p, lay, M, "memory.swappiness", xasprintf("%" PRIu64, m->swappiness),
          RES ".memory.swappiness");
    if (oom)
      add(p, lay, M, "memory.oom_control", xstrdup("1"), RES ".memory.disableOOMKiller");
    if (m->use_hierarchy_present && !m->use_hierarchy)
      WARN(p, RES ".memory.useHierarchy: the kernel always uses the hierarchy, ignored");
    return 0;
  }
  if (limit)
    add(p, lay, M, "memory.max", limit_str(m->limit, true), RES ".memory.limit");
  if (swap) {
    /* OCI swap is memory+swap; v2 limits swap alone. */
    char *v = m->swap == -1 ? xstrdup("max") : xasprintf("%" PRId64, m->swap - m->limit);
    add(p, lay, M, "memory.swap.max", v, RES ".memory.swap");
  } else if (limit && m->limit == -1) {
    /* v1 semantics of "limit -1, no swap": both unlimited. */
    add(p, lay, M, "memory.swap.max", xstrdup("max"), RES ".memory.swap")->flags |=
      KIST_CGW_OPTIONAL;
  }
  if (resv)
    add(p, lay, M, "memory.low", limit_str(m->reservation, true), RES ".memory.reservation");
  if (m->swappiness_present)
    WARN(p, RES ".memory.swappiness: cgroup v2 has no per-cgroup swappiness, ignored");
  if (oom)
    WARN(p, RES ".memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer, ignored");
  return 0;
}

/* ---- cpu ---- */

static int plan_cpu(const struct kist_cg_layout *lay, const oci_config_linux_resources_cpu *c,
                    struct kist_cg_plan *p, kist_error_t *err)
{
  const enum kist_cg_ctrl C = KIST_CG_CPU;
  bool shares = c->shares_present && c->shares != 0;
  bool quota = c->quota_present && c->quota != 0;
  bool period = c->period_present && c->period != 0;
  bool rt_period = c->realtime_period_present && c->realtime_period != 0;
  bool rt_runtime = c->realtime_runtime_present && c->realtime_runtime != 0;
  if (quota && (c->quota < -1 || (c->quota > 0 && c->quota < 1000)))
    return kist_fail(err, 0,
                     RES ".cpu.quota: %" PRId64 " is below the kernel's minimum of 1000 (us); -1 "
                         "means unlimited",
                     c->quota);
  if (period && (c->period < 1000 || c->period > 1000000))
    return kist_fail(err, 0, RES ".cpu.period: %" PRIu64 " is outside 1000..1000000 (us)",
                     c->period);
  if (rt_runtime && c->realtime_runtime < -1)
    return kist_fail(err, 0, RES ".cpu.realtimeRuntime: %" PRId64 " is not valid",
                     c->realtime_runtime);
  if (rt_runtime && rt_period && c->realtime_runtime > 0 &&
      (uint64_t)c->realtime_runtime > c->realtime_period)
    return kist_fail(err, 0,
                     RES ".cpu.realtimeRuntime: %" PRId64 " exceeds realtimePeriod %" PRIu64,
                     c->realtime_runtime, c->realtime_period);
  if (c->idle_present && c->idle != 0 && c->idle != 1)
    return kist_fail(err, 0, RES ".cpu.idle: %" PRId64 " is not 0 or 1", c->idle);

  if (shares || quota || period || c->burst_present || rt_period || rt_runtime || c->idle_present) {
    int v2 = locate(lay, C, RES ".cpu", err);
    if (v2 < 0)
      return -1;
    if (!v2) {
      if (shares)
        add(p, lay, C, "cpu.shares", xasprintf("%" PRIu64, c->shares), RES ".cpu.shares");
      if (period)
        add(p, lay, C, "cpu.cfs_period_us", xasprintf("%" PRIu64, c->period), RES ".cpu.period");
      if (quota)
        add(p, lay, C, "cpu.cfs_quota_us", xasprintf("%" PRId64, c->quota), RES ".cpu.quota");
      if (c->burst_present)
        add(p, lay, C, "cpu.cfs_burst_us", xasprintf("%" PRIu64, c->burst), RES ".cpu.burst");
      /* The period first: the runtime is checked against it. */
      if (rt_period)
        add(p, lay, C, "cpu.rt_period_us", xasprintf("%" PRIu64, c->realtime_period),
            RES ".cpu.realtimePeriod");
      if (rt_runtime)
        add(p, lay, C, "cpu.rt_runtime_us", xasprintf("%" PRId64, c->realtime_runtime),
            RES ".cpu.realtimeRuntime");
      if (c->idle_present)
        add(p, lay, C, "cpu.idle", xasprintf("%" PRId64, c->idle), RES ".cpu.idle");
    } else {
      if (rt_period || rt_runtime)
        return kist_fail(err, 0,
                         RES ".cpu.%s: real-time group scheduling is not supported on "
                             "cgroup v2",
                         rt_runtime ? "realtimeRuntime" : "realtimePeriod");
      if (shares)
        add(p, lay, C, "cpu.weight", xasprintf("%" PRIu64, kist_cpu_shares_to_weight(c->shares)),
            RES ".cpu.shares");
      if (quota || period) {
        uint64_t per = period ? c->period : 100000;
        char *v = quota && c->quota > 0 ? xasprintf("%" PRId64 " %" PRIu64, c->quota, per)
                                        : xasprintf("max %" PRIu64, per);
        add(p, lay, C, "cpu.max", v, quota ? RES ".cpu.quota" : RES ".cpu.period");
      }
      if (c->burst_present)
        add(p, lay, C, "cpu.max.burst", xasprintf("%" PRIu64, c->burst), RES ".cpu.burst");
      if (c->idle_present)
        add(p, lay, C, "cpu.idle", xasprintf("%" PRId64, c->idle), RES ".cpu.idle");
    }
  }
  return 0;
}

static int plan_cpuset(const struct kist_cg_layout *lay, const oci_config_linux_resources_cpu *c,
                       struct kist_cg_plan *p, kist_error_t *err)
{
  bool cpus = c->cpus && c->cpus[0], mems = c->mems && c->mems[0];
  if (!cpus && !mems)
    return 0;
  if (locate(lay, KIST_CG_CPUSET, cpus ? RES ".cpu.cpus" : RES ".cpu.mems", err) < 0)
    return -1;
  if (cpus)
    add(p, lay, KIST_CG_CPUSET, "cpuset.cpus", xstrdup(c->cpus), RES ".cpu.cpus");
  if (mems)
    add(p, lay, KIST_CG_CPUSET, "cpuset.mems", xstrdup(c->mems), RES ".cpu.mems");
  p->cpus = cpus;
  p->mems = mems;
  return 0;
}

/* ---- blockIO ---- */

static int check_weight(bool present, uint16_t w, const char *field, kist_error_t *err)
{
  if (present && (w < 10 || w > 1000))
    return kist_fail(err, 0, "%s: %u is outside 10..1000", field, (unsigned)w);
  return 0;
}

static int check_dev(int64_t major, int64_t minor, const char *field, kist_error_t *err)
{
  if (major < 0 || minor < 0)
    return kist_fail(err, 0, "%s: major and minor are required and must not be negative", field);
  return 0;
}

static int plan_throttle(const struct kist_cg_layout *lay, bool v2,
                         oci_block_io_device_throttle **t, size_t n, const char *name,
                         const char *v1file, const char *v2key, struct kist_cg_plan *p,
                         kist_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *field = xasprintf(RES ".blockIO.%s[%zu]", name, i);
    if (check_dev(t[i]->major, t[i]->minor, field, err) < 0)
      return -1;
    if (!t[i]->rate_present)
      continue;
    if (v2)
      add(p, lay, KIST_CG_BLKIO, "io.max",
          xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i]->major, t[i]->minor, v2key,
                    t[i]->rate),
          field);
    else
      add(p, lay, KIST_CG_BLKIO, v1file,
          xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, t[i]->major, t[i]->minor, t[i]->rate),
          field);
  }
  return 0;
}

static int plan_blkio(const struct kist_cg_layout *lay,
                      const oci_config_linux_resources_block_io *b, struct kist_cg_plan *p,
                      kist_error_t *err)
{
  const enum kist_cg_ctrl B = KIST_CG_BLKIO;
  if (check_weight(b->weight_present, b->weight, RES ".blockIO.weight", err) < 0 ||
      check_weight(b->leaf_weight_present, b->leaf_weight, RES ".blockIO.leafWeight", err) < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++) {
    const oci_block_io_device_weight *d = b->weight_device[i];
    cleanup_free char *f = xasprintf(RES ".blockIO.weightDevice[%zu]", i);
    cleanup_free char *fw = xasprintf("%s.weight", f);
    cleanup_free char *fl = xasprintf("%s.leafWeight", f);
    if (check_dev(d->major, d->minor, f, err) < 0 ||
        check_weight(d->weight_present, d->weight, fw, err) < 0 ||
        check_weight(d->leaf_weight_present, d->leaf_weight, fl, err) < 0)
      return -1;
  }
  if (!b->weight_present && !b->leaf_weight_present && b->weight_device_len == 0 &&
      b->throttle_read_bps_device_len == 0 && b->throttle_write_bps_device_len == 0 &&
      b->throttle_read_iops_device_len == 0 && b->throttle_write_iops_device_len == 0)
    return 0;
  int v2 = locate(lay, B, RES ".blockIO", err);
  if (v2 < 0)
    return -1;

  if (b->weight_present) {
    struct kist_cg_write *w;
    if (!v2) {
      w = add(p, lay, B, "blkio.weight", xasprintf("%u", b->weight), RES ".blockIO.weight");
      w->alt_file = xstrdup("blkio.bfq.weight");
    } else {
      /* BFQ takes the v1 range as is; io.weight needs the conversion. */
      w = add(p, lay, B, "io.bfq.weight", xasprintf("%u", b->weight), RES ".blockIO.weight");
      w->alt_file = xstrdup("io.weight");
      w->alt_value = xasprintf("%" PRIu64, kist_blkio_weight_to_io_weight(b->weight));
    }
  }
  if (b->leaf_weight_present) {
    if (v2)
      return kist_fail(err, 0, RES ".blockIO.leafWeight: not supported on cgroup v2");
    add(p, lay, B, "blkio.leaf_weight", xasprintf("%u", b->leaf_weight), RES ".blockIO.leafWeight");
  }
  for (size_t i = 0; i < b->weight_device_len; i++) {
    const oci_block_io_device_weight *d = b->weight_device[i];
    cleanup_free char *f = xasprintf(RES ".blockIO.weightDevice[%zu]", i);
    if (d->weight_present) {
      struct kist_cg_write *w;
      char *v = xasprintf("%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->weight);
      if (!v2) {
        w = add(p, lay, B, "blkio.weight_device", v, f);
        w->alt_file = xstrdup("blkio.bfq.weight_device");
      } else {
        w = add(p, lay, B, "io.bfq.weight", v, f);
        w->alt_file = xstrdup("io.weight");
        w->alt_value = xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                                 kist_blkio_weight_to_io_weight(d->weight));
      }
    }
    if (d->leaf_weight_present) {
      if (v2)
        return kist_fail(err, 0, "%s.leafWeight: not supported on cgroup v2", f);
      add(p, lay, B, "blkio.leaf_weight_device",
          xasprintf("%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->leaf_weight), f);
    }
  }
  if (plan_throttle(lay, v2, b->throttle_read_bps_device, b->throttle_read_bps_device_len,
                    "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", p,
                    err) < 0 ||
      plan_throttle(lay, v2, b->throttle_write_bps_device, b->throttle_write_bps_device_len,
                    "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", p,
                    err) < 0 ||
      plan_throttle(lay, v2, b->throttle_read_iops_device, b->throttle_read_iops_device_len,
                    "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", p,
                    err) < 0 ||
      plan_throttle(lay, v2, b->throttle_write_iops_device, b->throttle_write_iops_device_len,
                    "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", p,
                    err) < 0)
    return -1;
  return 0;
}

/* ---- hugepageLimits ---- */

/* "2MB" → the kernel's spelling of that size ("2MB"; "2048KB" → "2MB") after
 * checking /sys/kernel/mm/hugepages has it. */
static int hugepage_name(const char *ps, const char *field, char **out, kist_error_t *err)
{
  char *end;
  errno = 0;
  unsigned long long n = ps ? strtoull(ps, &end, 10) : 0;
  if (ps == NULL || errno || n == 0 || ps[0] < '1' || ps[0] > '9' || strlen(end) != 2 ||
      end[1] != 'B' || strchr("KMG", end[0]) == NULL)
    return kist_fail(err, 0, "%s: \"%s\" is not a size like 2MB or 1GB", field, ps ? ps : "");
  unsigned long long kb = n << (end[0] == 'K' ? 0 : end[0] == 'M' ? 10 : 20);
  if ((kb >> (end[0] == 'K' ? 0 : end[0] == 'M' ? 10 : 20)) != n)
    return kist_fail(err, 0, "%s: \"%s\" is too large", field, ps);
  char sys[96];
  kist_snprintf(sys, sizeof sys, "/sys/kernel/mm/hugepages/hugepages-%llukB", kb);
  if (access(sys, F_OK) < 0)
    return kist_fail(err, 0, "%s: \"%s\": this host has no such huge page size (no %s)", field, ps,
                     sys);
  if (kb % (1u << 20) == 0)
    *out = xasprintf("%lluGB", kb >> 20);
  else if (kb % (1u << 10) == 0)
    *out = xasprintf("%lluMB", kb >> 10);
  else
    *out = xasprintf("%lluKB", kb);
  return 0;
}

static int plan_hugetlb(const struct kist_cg_layout *lay, const oci_config_linux_resources *r,
                        struct kist_cg_plan *p, kist_error_t *err)
{
  if (r->hugepage_limits_len == 0)
    return 0;
  int v2 = locate(lay, KIST_CG_HUGETLB, RES ".hugepageLimits", err);
  if (v2 < 0)
    return -1;
  for (size_t i = 0; i < r->hugepage_limits_len; i++) {
    const oci_config_linux_resources_hugepage_limits_item *h = r->hugepage_limits[i];
    cleanup_free char *f = xasprintf(RES ".hugepageLimits[%zu].pageSize", i);
    cleanup_free char *name = NULL;
    if (hugepage_name(h->page_size, f, &name, err) < 0)
      return -1;
    cleanup_free char *file = xasprintf("hugetlb.%s.%s", name, v2 ? "max" : "limit_in_bytes");
    cleanup_free char *lf = xasprintf(RES ".hugepageLimits[%zu].limit", i);
    add(p, lay, KIST_CG_HUGETLB, file, xasprintf("%" PRIu64, h->limit), lf);
  }
  return 0;
}

/* ---- network, rdma, pids ---- */

static int plan_network(const struct kist_cg_layout *lay,
                        const oci_config_linux_resources_network *n, struct kist_cg_plan *p,
                        kist_error_t *err)
{
  if (n->class_id_present) {
    if (locate(lay, KIST_CG_NET_CLS, RES ".network.classID", err) < 0)
      return -1;
    add(p, lay, KIST_CG_NET_CLS, "net_cls.classid", xasprintf("%u", n->class_id),
        RES ".network.classID");
  }
  if (n->priorities_len > 0 && locate(lay, KIST_CG_NET_PRIO, RES ".network.priorities", err) < 0)
    return -1;
  for (size_t i = 0; i < n->priorities_len; i++) {
    const oci_network_interface_priority *pr = n->priorities[i];
    cleanup_free char *f = xasprintf(RES ".network.priorities[%zu]", i);
    if (pr->name == NULL || pr->name[0] == '\0' || strpbrk(pr->name, " \n/"))
      return kist_fail(err, 0, "%s.name: \"%s\" is not an interface name", f,
                       pr->name ? pr->name : "");
    add(p, lay, KIST_CG_NET_PRIO, "net_prio.ifpriomap", xasprintf("%s %u", pr->name, pr->priority),
        f);
  }
  return 0;
}

static int plan_rdma(const struct kist_cg_layout *lay, const oci_map_rdma *m,
                     struct kist_cg_plan *p, kist_error_t *err)
{
  if (m->len == 0)
    return 0;
  if (locate(lay, KIST_CG_RDMA, RES ".rdma", err) < 0)
    return -1;
  for (size_t i = 0; i < m->len; i++) {
    const oci_rdma *r = m->values[i];
    cleanup_free char *f = xasprintf(RES ".rdma[\"%s\"]", m->keys[i]);
    if (m->keys[i][0] == '\0' || strpbrk(m->keys[i], " \n"))
      return kist_fail(err, 0, "%s: not an RDMA device name", f);
    if (!r->hca_handles_present && !r->hca_objects_present)
      continue;
    char h[32] = "", o[32] = "";
    if (r->hca_handles_present)
      kist_snprintf(h, sizeof h, " hca_handle=%u", r->hca_handles);
    if (r->hca_objects_present)
      kist_snprintf(o, sizeof o, " hca_object=%u", r->hca_objects);
    add(p, lay, KIST_CG_RDMA, "rdma.max", xasprintf("%s%s%s", m->keys[i], h, o), f);
  }
  return 0;
}

static int plan_pids(const struct kist_cg_layout *lay, const oci_config_linux_resources_pids *pi,
                     struct kist_cg_plan *p, kist_error_t *err)
{
  if (!pi->limit_present)
    return 0;
  if (locate(lay, KIST_CG_PIDS, RES ".pids.limit", err) < 0)
    return -1;
  /* 0 and -1 both mean "no limit" (runtime-spec, and what CRI-O sends). */
  char *v = pi->limit > 0 ? xasprintf("%" PRId64, pi->limit) : xstrdup("max");
  add(p, lay, KIST_CG_PIDS, "pids.max", v, RES ".pids.limit");
  return 0;
}

/* ---- devices ---- */

/* Allowed after the config's own rules, as other runtimes do, so the
 * default "deny all" still leaves a working /dev: mknod of anything, the
 * standard nodes, and every linux.devices entry. */
static const char *const default_allow[] = {
  "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",
  "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm",
};

static void num_or_star(char *buf, size_t n, bool present, int64_t v)
{
  if (present && v >= 0)
    kist_snprintf(buf, n, "%" PRId64, v);
  else
    kist_snprintf(buf, n, "*");
}

static bool rule_is_all(const oci_device_cgroup *d)
{
  bool anytype = d->type == NULL || strcmp(d->type, "a") == 0;
  bool anymaj = !d->major_present || d->major == -1;
  bool anymin = !d->minor_present || d->minor == -1;
  const char *a = d->access ? d->access : "rwm";
  return anytype && anymaj && anymin && strlen(a) == 3 && strchr(a, 'r') && strchr(a, 'w') &&
         strchr(a, 'm');
}

static int check_rule(const oci_device_cgroup *d, const char *field, kist_error_t *err)
{
  if (d->type && strcmp(d->type, "a") != 0 && strcmp(d->type, "b") != 0 &&
      strcmp(d->type, "c") != 0)
    return kist_fail(err, 0, "%s.type: \"%s\" is not a, b or c", field, d->type);
  if ((d->major_present && d->major < -1) || (d->minor_present && d->minor < -1))
    return kist_fail(err, 0, "%s: negative major/minor (-1 or absent means any)", field);
  const char *a = d->access ? d->access : "rwm";
  if (a[0] == '\0' || strspn(a, "rwm") != strlen(a))
    return kist_fail(err, 0, "%s.access: \"%s\" is not made of r, w and m", field, a);
  return 0;
}

static unsigned access_bits(const char *a)
{
  unsigned m = 0;
  for (; a && *a; a++)
    m |= *a == 'r' ? KIST_DEV_R : *a == 'w' ? KIST_DEV_W : *a == 'm' ? KIST_DEV_M : 0;
  return m;
}

static void rule_add(struct kist_dev_rule **r, size_t *n, bool allow, char type, int64_t major,
                     int64_t minor, unsigned access)
{
  *r = xrealloc(*r, (*n + 1) * sizeof **r);
  (*r)[(*n)++] = (struct kist_dev_rule){
    .allow = allow, .type = type, .major = major, .minor = minor, .access = access};
}

void kist_device_rules(const oci_config_linux *lin, struct kist_dev_rule **rules, size_t *n)
{
  *rules = NULL;
  *n = 0;
  const oci_config_linux_resources *r = lin ? lin->resources : NULL;
  if (r == NULL || r->devices_len == 0)
    return;
  for (size_t i = 0; i < r->devices_len; i++) {
    const oci_device_cgroup *d = r->devices[i];
    char t = d->type && (d->type[0] == 'b' || d->type[0] == 'c') ? d->type[0] : 'a';
    rule_add(rules, n, d->allow, t, d->major_present ? d->major : -1,
             d->minor_present ? d->minor : -1, access_bits(d->access ? d->access : "rwm"));
  }
  for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++) {
    const char *s = default_allow[i];
    char t = s[0], maj[16], min[16], acc[8];
    if (sscanf(s + 2, "%15[^:]:%15s %7s", maj, min, acc) != 3)
      continue;
    rule_add(rules, n, true, t, maj[0] == '*' ? -1 : atoll(maj), min[0] == '*' ? -1 : atoll(min),
             access_bits(acc));
  }
  for (size_t i = 0; i < lin->devices_len; i++) {
    const oci_device *d = lin->devices[i];
    if (d->type == NULL || !d->major_present || !d->minor_present || strcmp(d->type, "p") == 0)
      continue;
    rule_add(rules, n, true, strcmp(d->type, "b") == 0 ? 'b' : 'c', d->major, d->minor,
             KIST_DEV_R | KIST_DEV_W | KIST_DEV_M);
  }
}

static int plan_devices(const struct kist_cg_layout *lay, const oci_config_linux *lin,
                        struct kist_cg_plan *p, kist_error_t *err)
{
  const oci_config_linux_resources *r = lin->resources;
  if (r->devices_len == 0)
    return 0;
  for (size_t i = 0; i < r->devices_len; i++) {
    cleanup_free char *f = xasprintf(RES ".devices[%zu]", i);
    if (check_rule(r->devices[i], f, err) < 0)
      return -1;
  }
  if (lay->where[KIST_CG_DEVICES] < 0 && lay->where[KIST_CG_CORE] >= 0) {
    /* No devices controller (cgroup v2): an eBPF program enforces the
     * rules; cgroup.c attaches it (cgroup-bpf.c), nothing to write here. */
    p->devices_bpf = true;
    return 0;
  }
  if (locate(lay, KIST_CG_DEVICES, RES ".devices", err) < 0)
    return -1;
  const enum kist_cg_ctrl D = KIST_CG_DEVICES;
  const oci_device_cgroup *first = r->devices[0];
  if (first->allow || !rule_is_all(first))
    add(p, lay, D, "devices.deny", xstrdup("a"), RES ".devices");
  for (size_t i = 0; i < r->devices_len; i++) {
    const oci_device_cgroup *d = r->devices[i];
    cleanup_free char *f = xasprintf(RES ".devices[%zu]", i);
    const char *file = d->allow ? "devices.allow" : "devices.deny";
    if (rule_is_all(d)) {
      add(p, lay, D, file, xstrdup("a"), f);
      continue;
    }
    char maj[24], min[24];
    num_or_star(maj, sizeof maj, d->major_present, d->major);
    num_or_star(min, sizeof min, d->minor_present, d->minor);
    const char *a = d->access ? d->access : "rwm";
    /* The kernel reads type "a" as "everything": spell a narrower rule as
     * one rule per device type. */
    if (d->type == NULL || strcmp(d->type, "a") == 0) {
      add(p, lay, D, file, xasprintf("c %s:%s %s", maj, min, a), f);
      add(p, lay, D, file, xasprintf("b %s:%s %s", maj, min, a), f);
    } else {
      add(p, lay, D, file, xasprintf("%s %s:%s %s", d->type, maj, min, a), f);
    }
  }
  for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++)
    add(p, lay, D, "devices.allow", xstrdup(default_allow[i]), RES ".devices");
  for (size_t i = 0; i < lin->devices_len; i++) {
    const oci_device *d = lin->devices[i];
    if (d->type == NULL || !d->major_present || !d->minor_present || strcmp(d->type, "p") == 0)
      continue;
    char t = strcmp(d->type, "b") == 0 ? 'b' : 'c';
    cleanup_free char *f = xasprintf("linux.devices[%zu]", i);
    add(p, lay, D, "devices.allow",
        xasprintf("%c %" PRId64 ":%" PRId64 " rwm", t, d->major, d->minor), f);
  }
  return 0;
}

/* ---- unified ---- */

static int plan_unified(const struct kist_cg_layout *lay, const oci_map_string_string *u,
                        struct kist_cg_plan *p, kist_error_t *err)
{
  for (size_t i = 0; i < u->len; i++) {
    const char *k = u->keys[i];
    cleanup_free char *f = xasprintf(RES ".unified[\"%s\"]", k);
    const char *dot = strchr(k, '.');
    if (dot == NULL || dot == k || strchr(k, '/') || strcmp(k, "..") == 0)
      return kist_fail(err, 0, "%s: not a cgroup v2 file name (controller.file)", f);
    if (lay->where[KIST_CG_CORE] < 0)
      return kist_fail(err, 0,
                       "%s: cgroup v2 files need a cgroup v2 tree; this host has cgroup v1 "
                       "only",
                       f);
    cleanup_free char *prefix = xstrndup(k, (size_t)(dot - k));
    enum kist_cg_ctrl c = KIST_CG_CORE;
    if (strcmp(prefix, "cgroup") != 0) {
      int found = -1;
      for (int j = 0; j < KIST_CG_NCTRL; j++) {
        const char *n2 = kist_cg_ctrl_v2_name((enum kist_cg_ctrl)j);
        if (n2 && strcmp(n2, prefix) == 0)
          found = j;
      }
      if (found < 0)
        return kist_fail(err, 0, "%s: unknown cgroup v2 controller \"%s\"", f, prefix);
      c = (enum kist_cg_ctrl)found;
      int idx = lay->where[c];
      if (idx < 0)
        return kist_fail(err, 0, "%s: the %s controller is not available on this host", f, prefix);
      if (!lay->h[idx].v2)
        return kist_fail(err, 0,
                         "%s: the %s controller is mounted as cgroup v1 on this host (hybrid): "
                         "use the linux.resources fields",
                         f, prefix);
    }
    add(p, lay, c, k, xstrdup(u->values[i] ? u->values[i] : ""), f);
  }
  return 0;
}

int kist_resources_plan(const struct kist_cg_layout *lay, const oci_config_linux *lin, bool warn,
                        struct kist_cg_plan *plan, kist_error_t *err)
{
  *plan = (struct kist_cg_plan){.warn = warn};
  const oci_config_linux_resources *r = lin ? lin->resources : NULL;
  if (r == NULL)
    return 0;
  /* cpuset first: v1 needs it before anything joins; unified last: it
   * overrides the fields (as runc and crun do). */
  if ((r->cpu && plan_cpuset(lay, r->cpu, plan, err) < 0) ||
      (r->memory && plan_memory(lay, r->memory, plan, err) < 0) ||
      (r->cpu && plan_cpu(lay, r->cpu, plan, err) < 0) ||
      (r->block_io && plan_blkio(lay, r->block_io, plan, err) < 0) ||
      (r->pids && plan_pids(lay, r->pids, plan, err) < 0) || plan_hugetlb(lay, r, plan, err) < 0 ||
      (r->network && plan_network(lay, r->network, plan, err) < 0) ||
      (r->rdma && plan_rdma(lay, r->rdma, plan, err) < 0) ||
      plan_devices(lay, lin, plan, err) < 0 ||
      (r->unified && plan_unified(lay, r->unified, plan, err) < 0)) {
    kist_resources_plan_free(plan);
    return -1;
  }
  return 0;
}
