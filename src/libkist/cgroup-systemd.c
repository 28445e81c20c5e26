/* --systemd-cgroup: the container's cgroup as a transient systemd scope,
 * over sd-bus. cgroup.c makes the dirs and writes the limits exactly as for
 * cgroupfs (the path is the one systemd uses for the unit), then enter
 * starts "<prefix>-<name>.scope" in the slice with Delegate=yes and the
 * init's pid: systemd adopts the dirs, and knows the limits as unit
 * properties, so a daemon-reload does not reset them. delete stops the unit.
 *
 * Without systemd as PID 1 (or without a bus to it) cgroup.c keeps the
 * cgroupfs dirs and warns; nothing here is called.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "resources.h"
#include "util.h"

#define SD_DEST      "org.freedesktop.systemd1"
#define SD_PATH      "/org/freedesktop/systemd1"
#define SD_MGR       "org.freedesktop.systemd1.Manager"
#define SD_UNIT      "org.freedesktop.systemd1.Unit"
#define ANN_PFX      "org.systemd.property."
#define INFINITY_U64 UINT64_MAX

/* ---- the bus ---- */

static int bus_at(const char *path, sd_bus **out)
{
  sd_bus *bus = NULL;
  int r;
  if ((r = sd_bus_new(&bus)) < 0)
    return r;
  cleanup_free char *addr = xasprintf("unix:path=%s", path);
  if ((r = sd_bus_set_address(bus, addr)) >= 0 && (r = sd_bus_start(bus)) >= 0) {
    *out = bus;
    return 0;
  }
  sd_bus_unref(bus);
  return r;
}

/* The system manager: its private socket as root (what systemctl uses:
 * works without a D-Bus daemon), else the system bus. The user's manager
 * (user): its private socket in $XDG_RUNTIME_DIR, else the session bus
 * ($DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus). */
static int bus_open(bool user, sd_bus **out)
{
  if (user) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    cleanup_free char *priv = xdg && xdg[0] == '/' ? xasprintf("%s/systemd/private", xdg) : NULL;
    if (priv && access(priv, W_OK) == 0 && bus_at(priv, out) == 0)
      return 0;
    return sd_bus_open_user(out);
  }
  if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0 &&
      bus_at("/run/systemd/private", out) == 0)
    return 0;
  return sd_bus_open_system(out);
}

static void bus_closep(sd_bus **b)
{
  if (*b)
    sd_bus_flush_close_unref(*b);
}
#define cleanup_bus __attribute__((cleanup(bus_closep)))

bool kist_cg_systemd_booted(void)
{
  return sd_booted() > 0;
}

bool kist_cg_systemd_available(bool user)
{
  static int cached[2] = {-1, -1};
  if (cached[user] < 0) {
    cached[user] = 0;
    if (sd_booted() > 0) {
      cleanup_bus sd_bus *bus = NULL;
      cached[user] = bus_open(user, &bus) == 0;
    }
  }
  return cached[user] == 1;
}

static int bus_fail(kist_error_t *err, int r, const sd_bus_error *e, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int bus_fail(kist_error_t *err, int r, const sd_bus_error *e, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *what = xvasprintf(fmt, ap);
  va_end(ap);
  if (e && sd_bus_error_is_set(e))
    return kist_fail(err, -r, "systemd: %s: %s", what, e->message ? e->message : e->name);
  return kist_fail(err, -r, "systemd: %s", what);
}

int kist_cg_systemd_manager_cgroup(char **out, kist_error_t *err)
{
  cleanup_bus sd_bus *bus = NULL;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  int r = bus_open(true, &bus);
  if (r < 0) {
    /* Without an absolute XDG_RUNTIME_DIR neither socket under it was tried. */
    cleanup_free char *tried =
      xdg && xdg[0] == '/'
        ? xasprintf("tried %s/systemd/private, $DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus",
                    xdg)
        : xasprintf("XDG_RUNTIME_DIR is %s; tried $DBUS_SESSION_BUS_ADDRESS",
                    xdg && xdg[0] ? "not an absolute path" : "not set");
    return kist_fail(err, -r,
                     "--systemd-cgroup: kist runs as uid %u and reaches no systemd user instance "
                     "(%s): start the user's manager (log in, or loginctl enable-linger), or "
                     "leave out --systemd-cgroup",
                     (unsigned)getuid(), tried);
  }
  sd_bus_error e = SD_BUS_ERROR_NULL;
  char *cg = NULL;
  r = sd_bus_get_property_string(bus, SD_DEST, SD_PATH, SD_MGR, "ControlGroup", &e, &cg);
  if (r < 0) {
    bus_fail(err, r, &e, "read the user manager's ControlGroup");
    sd_bus_error_free(&e);
    return -1;
  }
  sd_bus_error_free(&e);
  if (cg == NULL || cg[0] != '/') {
    free(cg);
    return kist_fail(err, 0, "systemd: the user manager has no cgroup (ControlGroup is empty)");
  }
  *out = cg;
  return 0;
}

/* ---- the unit and its properties ---- */

int kist_cg_systemd_unit(const char *cgroups_path, const char *id, bool user,
                         struct kist_sd_unit **out, kist_error_t *err)
{
  *out = NULL;
  struct kist_sd_unit *u = xzalloc(sizeof *u);
  const char *slice = user ? "user.slice" : "system.slice";
  u->user = user;
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    u->unit = xasprintf("kist-%s.scope", id);
    u->slice = xstrdup(slice);
    *out = u;
    return 0;
  }
  /* placement() in cgroup.c has checked the slice:prefix:name form. */
  const char *c1 = strchr(cgroups_path, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (c2 == NULL) {
    free(u);
    return kist_fail(err, 0, "linux.cgroupsPath: \"%s\" is not slice:prefix:name", cgroups_path);
  }
  const char *name = c2 + 1;
  size_t nl = strlen(name);
  if (nl > 6 && strcmp(name + nl - 6, ".slice") == 0) {
    kist_warn("--systemd-cgroup: \"%s\" names a slice, not a scope: its cgroup is managed "
              "through cgroupfs",
              cgroups_path);
    free(u);
    return 0;
  }
  u->slice =
    c1 == cgroups_path ? xstrdup(slice) : xstrndup(cgroups_path, (size_t)(c1 - cgroups_path));
  if (c2 > c1 + 1)
    u->unit = xasprintf("%.*s-%s.scope", (int)(c2 - c1 - 1), c1 + 1, name);
  else
    u->unit = xasprintf("%s.scope", name);
  *out = u;
  return 0;
}

static struct kist_sd_prop *prop_add(struct kist_sd_unit *u, const char *name, char type)
{
  for (size_t i = 0; i < u->nprops; i++)
    if (strcmp(u->props[i].name, name) == 0) { /* a later one (an annotation) wins */
      free(u->props[i].s);
      free(u->props[i].bytes);
      u->props[i] = (struct kist_sd_prop){.name = u->props[i].name, .type = type};
      return &u->props[i];
    }
  u->props = xrealloc(u->props, (u->nprops + 1) * sizeof *u->props);
  struct kist_sd_prop *p = &u->props[u->nprops++];
  *p = (struct kist_sd_prop){.name = xstrdup(name), .type = type};
  return p;
}

static void prop_u64(struct kist_sd_unit *u, const char *name, uint64_t v)
{
  prop_add(u, name, 't')->u = v;
}

static void prop_bool(struct kist_sd_unit *u, const char *name, bool v)
{
  prop_add(u, name, 'b')->u = v;
}

/* "0-3,8" → the bitmask systemd takes for AllowedCPUs (byte i, bit j = i*8+j). */
static int cpuset_mask(const char *list, const char *field, unsigned char **out, size_t *n,
                       kist_error_t *err)
{
  *out = NULL;
  *n = 0;
  for (const char *p = list; *p;) {
    char *end;
    unsigned long a = strtoul(p, &end, 10), b = a;
    if (end == p)
      goto bad;
    if (*end == '-') {
      const char *q = end + 1;
      b = strtoul(q, &end, 10);
      if (end == q || b < a)
        goto bad;
    }
    if (b >= 8192)
      goto bad;
    if (b / 8 + 1 > *n) {
      *out = xrealloc(*out, b / 8 + 1);
      memset(*out + *n, 0, b / 8 + 1 - *n);
      *n = b / 8 + 1;
    }
    for (unsigned long i = a; i <= b; i++)
      (*out)[i / 8] |= (unsigned char)(1u << (i % 8));
    p = end;
    if (*p == ',')
      p++;
    else if (*p)
      goto bad;
  }
  return 0;
bad:
  free(*out);
  *out = NULL;
  return kist_fail(err, 0, "%s: \"%s\" is not a CPU or node list like 0-3,8", field, list);
}

static int map_resources(const oci_config_linux_resources *r, bool v2, struct kist_sd_unit *u,
                         kist_error_t *err)
{
  const oci_config_linux_resources_memory *m = r->memory;
  if (m && m->limit_present && m->limit != 0) {
    uint64_t v = m->limit < 0 ? INFINITY_U64 : (uint64_t)m->limit;
    prop_u64(u, v2 ? "MemoryMax" : "MemoryLimit", v);
    if (v2 && m->swap_present && m->swap != 0)
      prop_u64(u, "MemorySwapMax",
               m->swap < 0 || m->limit < 0 ? INFINITY_U64 : (uint64_t)(m->swap - m->limit));
  }
  if (v2 && m && m->reservation_present && m->reservation > 0)
    prop_u64(u, "MemoryLow", (uint64_t)m->reservation);
  const oci_config_linux_resources_cpu *c = r->cpu;
  if (c && c->shares_present && c->shares != 0) {
    if (v2)
      prop_u64(u, "CPUWeight", kist_cpu_shares_to_weight(c->shares));
    else
      prop_u64(u, "CPUShares", c->shares);
  }
  if (c && c->quota_present && c->quota != 0) {
    uint64_t period = c->period_present && c->period ? c->period : 100000;
    uint64_t q = INFINITY_U64;
    if (c->quota > 0) {
      q = (uint64_t)c->quota * 1000000u / period;
      if (q % 10000) /* systemd keeps 1% steps: round up, never below */
        q = (q / 10000 + 1) * 10000;
    }
    prop_u64(u, "CPUQuotaPerSecUSec", q);
    if (c->period_present && c->period)
      prop_u64(u, "CPUQuotaPeriodUSec", c->period);
  }
  if (v2 && c && c->cpus && c->cpus[0]) {
    struct kist_sd_prop *p = prop_add(u, "AllowedCPUs", 'y');
    if (cpuset_mask(c->cpus, "linux.resources.cpu.cpus", &p->bytes, &p->nbytes, err) < 0)
      return -1;
  }
  if (v2 && c && c->mems && c->mems[0]) {
    struct kist_sd_prop *p = prop_add(u, "AllowedMemoryNodes", 'y');
    if (cpuset_mask(c->mems, "linux.resources.cpu.mems", &p->bytes, &p->nbytes, err) < 0)
      return -1;
  }
  if (r->pids && r->pids->limit_present)
    prop_u64(u, "TasksMax", r->pids->limit > 0 ? (uint64_t)r->pids->limit : INFINITY_U64);
  if (r->block_io && r->block_io->weight_present) {
    if (v2)
      prop_u64(u, "IOWeight", kist_blkio_weight_to_io_weight(r->block_io->weight));
    else
      prop_u64(u, "BlockIOWeight", r->block_io->weight);
  }
  return 0;
}

/* A systemd time span: "1s", "500ms", "1min 30s", "infinity"; a bare
 * number is in unit (1000000 for seconds, 1 for microseconds). */
static int parse_usec(const char *s, uint64_t unit, uint64_t *out)
{
  static const struct {
    const char *suffix;
    uint64_t usec;
  } units[] = {
    {"usec", 1},
    {"us", 1},
    {"µs", 1},
    {"msec", 1000},
    {"ms", 1000},
    {"seconds", 1000000},
    {"second", 1000000},
    {"sec", 1000000},
    {"s", 1000000},
    {"minutes", 60000000},
    {"minute", 60000000},
    {"min", 60000000},
    {"m", 60000000},
    {"hours", 3600000000ull},
    {"hour", 3600000000ull},
    {"hr", 3600000000ull},
    {"h", 3600000000ull},
    {"days", 86400000000ull},
    {"day", 86400000000ull},
    {"d", 86400000000ull},
  };
  if (strcmp(s, "infinity") == 0) {
    *out = INFINITY_U64;
    return 0;
  }
  uint64_t total = 0;
  bool any = false;
  for (const char *p = s; *p;) {
    while (*p == ' ')
      p++;
    if (*p == '\0')
      break;
    if (!isdigit((unsigned char)*p))
      return -1;
    char *end;
    double v = strtod(p, &end);
    p = end;
    while (*p == ' ')
      p++;
    uint64_t mul = unit;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
      size_t l = strlen(units[i].suffix);
      if (strncmp(p, units[i].suffix, l) == 0 && !isalpha((unsigned char)p[l])) {
        mul = units[i].usec;
        p += l;
        break;
      }
    }
    if (isalpha((unsigned char)*p))
      return -1;
    total += (uint64_t)(v * (double)mul);
    any = true;
  }
  if (!any)
    return -1;
  *out = total;
  return 0;
}

/* org.systemd.property.NAME=VALUE, typed as systemd's simple properties
 * are: booleans, integers (uint64), time spans for names ending in "Sec"
 * (sent as NAMEUSec, microseconds), strings otherwise ('quoted' or bare). */
static int map_annotation(const char *key, const char *val, struct kist_sd_unit *u,
                          kist_error_t *err)
{
  static const char *const reserved[] = {"PIDs", "Delegate", "Slice", "Description"};
  const char *name = key + strlen(ANN_PFX);
  if (name[0] == '\0' || !isupper((unsigned char)name[0]))
    return kist_fail(err, 0, "annotations[\"%s\"]: not a systemd property name", key);
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p))
      return kist_fail(err, 0, "annotations[\"%s\"]: not a systemd property name", key);
  for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
    if (strcmp(name, reserved[i]) == 0)
      return kist_fail(err, 0, "annotations[\"%s\"]: %s is set by kist", key, name);
  size_t nl = strlen(name), vl = strlen(val);
  if (vl >= 2 && (val[0] == '\'' || val[0] == '"') && val[vl - 1] == val[0]) {
    prop_add(u, name, 's')->s = xstrndup(val + 1, vl - 2);
    return 0;
  }
  if (nl > 3 && strcmp(name + nl - 3, "Sec") == 0) {
    bool usec = nl > 4 && name[nl - 4] == 'U';
    uint64_t v;
    if (parse_usec(val, usec ? 1 : 1000000, &v) < 0)
      return kist_fail(err, 0, "annotations[\"%s\"]: \"%s\" is not a time span like 10s", key, val);
    cleanup_free char *n2 = usec ? xstrdup(name) : xasprintf("%.*sUSec", (int)(nl - 3), name);
    prop_u64(u, n2, v);
    return 0;
  }
  if (strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "false") == 0 ||
      strcmp(val, "no") == 0) {
    prop_bool(u, name, val[0] == 't' || val[0] == 'y');
    return 0;
  }
  const char *num = str_has_prefix(val, "uint64 ") ? val + 7 : val;
  uint64_t v;
  if (num[0] >= '0' && num[0] <= '9' && parse_uint64(num, &v) == 0) {
    prop_u64(u, name, v);
    return 0;
  }
  if (num != val)
    return kist_fail(err, 0, "annotations[\"%s\"]: \"%s\" is not a uint64", key, val);
  prop_add(u, name, 's')->s = xstrdup(val);
  return 0;
}

int kist_cg_systemd_props(const oci_config *cfg, bool v2, struct kist_sd_unit *u, kist_error_t *err)
{
  if (cfg && cfg->linux && cfg->linux->resources &&
      map_resources(cfg->linux->resources, v2, u, err) < 0)
    return -1;
  const oci_map_string_string *a = cfg ? cfg->annotations : NULL;
  for (size_t i = 0; a && i < a->len; i++)
    if (str_has_prefix(a->keys[i], ANN_PFX) &&
        map_annotation(a->keys[i], a->values[i] ? a->values[i] : "", u, err) < 0)
      return -1;
  return 0;
}

void kist_cg_systemd_unit_free(struct kist_sd_unit *u)
{
  if (u == NULL)
    return;
  for (size_t i = 0; i < u->nprops; i++) {
    free(u->props[i].name);
    free(u->props[i].s);
    free(u->props[i].bytes);
  }
  free(u->props);
  free(u->unit);
  free(u->slice);
  free(u);
}

static int append_prop(sd_bus_message *m, const struct kist_sd_prop *p)
{
  int r;
  switch (p->type) {
  case 't':
    return sd_bus_message_append(m, "(sv)", p->name, "t", p->u);
  case 'b':
    return sd_bus_message_append(m, "(sv)", p->name, "b", (int)p->u);
  case 's':
    return sd_bus_message_append(m, "(sv)", p->name, "s", p->s);
  default:
    if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
        (r = sd_bus_message_append(m, "s", p->name)) < 0 ||
        (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
        (r = sd_bus_message_append_array(m, 'y', p->bytes, p->nbytes)) < 0 ||
        (r = sd_bus_message_close_container(m)) < 0)
      return r;
    return sd_bus_message_close_container(m);
  }
}

/* ---- jobs ---- */

struct job_wait {
  const char *path; /* the job to wait for; NULL until the call returned */
  char *seen[32];   /* job paths removed meanwhile, and their results */
  char *result[32];
  size_t n;
};

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e)
{
  (void)e;
  struct job_wait *w = data;
  uint32_t id;
  const char *path, *unit, *result;
  if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || w->n == ARRAY_SIZE(w->seen))
    return 0;
  w->seen[w->n] = xstrdup(path);
  w->result[w->n++] = xstrdup(result);
  return 0;
}

static void job_wait_clear(struct job_wait *w)
{
  for (size_t i = 0; i < w->n; i++) {
    free(w->seen[i]);
    free(w->result[i]);
  }
  w->n = 0;
}

static const char *job_result(const struct job_wait *w)
{
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->seen[i], w->path) == 0)
      return w->result[i];
  return NULL;
}

static uint64_t now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Runs the bus until the job's JobRemoved arrives; its result. */
static int wait_job(sd_bus *bus, struct job_wait *w, const char *what, const char **result,
                    kist_error_t *err)
{
  uint64_t deadline = now_usec() + 30u * 1000000u;
  for (;;) {
    if ((*result = job_result(w)) != NULL)
      return 0;
    int r = sd_bus_process(bus, NULL);
    if (r < 0)
      return bus_fail(err, r, NULL, "%s: waiting for the job", what);
    if (r > 0)
      continue;
    uint64_t now = now_usec();
    if (now >= deadline)
      return kist_fail(err, ETIMEDOUT, "systemd: %s: the job did not finish in 30s", what);
    r = sd_bus_wait(bus, deadline - now);
    if (r < 0)
      return bus_fail(err, r, NULL, "%s: waiting for the job", what);
  }
}

/* Subscribes to JobRemoved before the call, so no signal is missed. */
static int watch_jobs(sd_bus *bus, struct job_wait *w, sd_bus_slot **slot, kist_error_t *err)
{
  int r = sd_bus_match_signal(bus, slot, SD_DEST, SD_PATH, SD_MGR, "JobRemoved", on_job_removed, w);
  if (r < 0)
    return bus_fail(err, r, NULL, "%s", "watch JobRemoved");
  sd_bus_error e = SD_BUS_ERROR_NULL;
  /* Manager signals go only to subscribed clients. */
  r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "Subscribe", &e, NULL, "");
  if (r < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.AlreadySubscribed")) {
    int ret = bus_fail(err, r, &e, "%s", "Subscribe");
    sd_bus_error_free(&e);
    return ret;
  }
  sd_bus_error_free(&e);
  return 0;
}

static int start_call(sd_bus *bus, const struct kist_sd_unit *u, pid_t pid, char **job,
                      sd_bus_error *e)
{
  sd_bus_message *m = NULL, *reply = NULL;
  int r;
  cleanup_free char *desc = xasprintf("kist container %s", u->unit);
  if ((r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MGR,
                                          "StartTransientUnit")) < 0 ||
      (r = sd_bus_message_append(m, "ss", u->unit, "fail")) < 0 ||
      (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "Description", "s", desc)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "Slice", "s", u->slice)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "DefaultDependencies", "b", 0)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "MemoryAccounting", "b", 1)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "CPUAccounting", "b", 1)) < 0 ||
      (r = sd_bus_message_append(m, "(sv)", "TasksAccounting", "b", 1)) < 0)
    goto out;
  for (size_t i = 0; i < u->nprops; i++)
    if ((r = append_prop(m, &u->props[i])) < 0)
      goto out;
  if ((r = sd_bus_message_close_container(m)) < 0 ||
      (r = sd_bus_message_append(m, "a(sa(sv))", 0)) < 0)
    goto out;
  if ((r = sd_bus_call(bus, m, 0, e, &reply)) < 0)
    goto out;
  const char *path;
  if ((r = sd_bus_message_read(reply, "o", &path)) >= 0)
    *job = xstrdup(path);
out:
  sd_bus_message_unref(m);
  sd_bus_message_unref(reply);
  return r;
}

static int unit_state(sd_bus *bus, const char *unit, char **state)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "GetUnit", &e, &reply, "s", unit);
  const char *path = NULL;
  if (r >= 0)
    r = sd_bus_message_read(reply, "o", &path);
  if (r >= 0)
    r = sd_bus_get_property_string(bus, SD_DEST, path, SD_UNIT, "ActiveState", &e, state);
  sd_bus_message_unref(reply);
  sd_bus_error_free(&e);
  return r;
}

int kist_cg_systemd_start(const struct kist_sd_unit *u, pid_t pid, kist_error_t *err)
{
  cleanup_bus sd_bus *bus = NULL;
  int r = bus_open(u->user, &bus);
  if (r < 0)
    return bus_fail(err, r, NULL, "connect to start %s", u->unit);
  struct job_wait w = {0};
  sd_bus_slot *slot = NULL;
  cleanup_free char *job = NULL;
  /* Before the first goto: its cleanup runs at every return. */
  cleanup_free char *state = NULL;
  int ret = -1;
  if (watch_jobs(bus, &w, &slot, err) < 0)
    goto out;
  for (int attempt = 0;; attempt++) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    r = start_call(bus, u, pid, &job, &e);
    if (r >= 0) {
      sd_bus_error_free(&e);
      break;
    }
    if (attempt == 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
      /* A failed unit of an earlier container by that name: clear it once. */
      sd_bus_error_free(&e);
      (void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "ResetFailedUnit", NULL, NULL, "s",
                               u->unit);
      continue;
    }
    bus_fail(err, r, &e, "start unit %s", u->unit);
    sd_bus_error_free(&e);
    goto out;
  }
  w.path = job;
  const char *result;
  if (wait_job(bus, &w, u->unit, &result, err) < 0)
    goto out;
  if (strcmp(result, "done") != 0) {
    kist_fail(err, 0, "systemd: start unit %s: the job ended \"%s\"", u->unit, result);
    goto out;
  }
  if ((r = unit_state(bus, u->unit, &state)) < 0) {
    bus_fail(err, r, NULL, "unit %s: read ActiveState", u->unit);
    goto out;
  }
  if (strcmp(state, "active") != 0) {
    kist_fail(err, 0, "systemd: unit %s is %s after its start job", u->unit, state);
    goto out;
  }
  kist_debug("cgroup: systemd unit %s started in %s", u->unit, u->slice);
  ret = 0;
out:
  sd_bus_slot_unref(slot);
  job_wait_clear(&w);
  return ret;
}

int kist_cg_systemd_set(const char *unit, bool user, const struct kist_sd_prop *p, size_t n,
                        kist_error_t *err)
{
  cleanup_bus sd_bus *bus = NULL;
  int r = bus_open(user, &bus);
  if (r < 0)
    return bus_fail(err, r, NULL, "connect to update %s", unit);
  sd_bus_message *m = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if ((r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MGR,
                                          "SetUnitProperties")) >= 0 &&
      (r = sd_bus_message_append(m, "sb", unit, 1)) >= 0 &&
      (r = sd_bus_message_open_container(m, 'a', "(sv)")) >= 0) {
    for (size_t i = 0; i < n && r >= 0; i++)
      r = append_prop(m, &p[i]);
    if (r >= 0 && (r = sd_bus_message_close_container(m)) >= 0)
      r = sd_bus_call(bus, m, 0, &e, NULL);
  }
  int ret = r < 0 ? bus_fail(err, r, &e, "set the properties of %s", unit) : 0;
  sd_bus_error_free(&e);
  sd_bus_message_unref(m);
  return ret;
}

int kist_cg_systemd_stop(const char *unit, bool user, kist_error_t *err)
{
  if (sd_booted() <= 0)
    return 0; /* saved by a kist that saw systemd; nothing to stop now */
  cleanup_bus sd_bus *bus = NULL;
  int r = bus_open(user, &bus);
  if (r < 0)
    return bus_fail(err, r, NULL, "connect to stop %s", unit);
  struct job_wait w = {0};
  sd_bus_slot *slot = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  int ret = -1;
  if (watch_jobs(bus, &w, &slot, err) < 0)
    goto out;
  r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "StopUnit", &e, &reply, "ss", unit,
                         "replace");
  if (r < 0) {
    /* Its processes are gone and systemd dropped it already. */
    ret = sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")
            ? 0
            : bus_fail(err, r, &e, "stop unit %s", unit);
    goto out;
  }
  const char *path, *result;
  if ((r = sd_bus_message_read(reply, "o", &path)) < 0) {
    bus_fail(err, r, NULL, "stop unit %s", unit);
    goto out;
  }
  w.path = path;
  if (wait_job(bus, &w, unit, &result, err) < 0)
    goto out;
  if (strcmp(result, "done") != 0)
    kist_debug("cgroup: systemd: stop %s: the job ended \"%s\"", unit, result);
  (void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "ResetFailedUnit", NULL, NULL, "s", unit);
  ret = 0;
out:
  sd_bus_error_free(&e);
  sd_bus_message_unref(reply);
  sd_bus_slot_unref(slot);
  job_wait_clear(&w);
  return ret;
}
