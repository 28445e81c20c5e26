/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "cgroup.h"
#include "fmt.h"
#include "rootless.h"
#include "state.h"
#include "util.h"

static const char *const status_names[] = {
  [KIST_STATUS_CREATING] = "creating", [KIST_STATUS_CREATED] = "created",
  [KIST_STATUS_RUNNING] = "running",   [KIST_STATUS_PAUSED] = "paused",
  [KIST_STATUS_STOPPED] = "stopped",
};

const char *kist_status_name(enum kist_status s)
{
  return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

int kist_id_validate(const char *id, kist_error_t *err)
{
  size_t n = strlen(id);
  if (n == 0)
    return kist_fail(err, 0, "container id is empty");
  if (n > 1024)
    return kist_fail(err, 0, "container id is longer than 1024 bytes");
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return kist_fail(err, 0, "invalid container id '%s'", id);
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return kist_fail(err, 0,
                       "invalid container id '%s': only letters, digits, '_', '-' and '.' are "
                       "allowed",
                       id);
  }
  return 0;
}

int kist_state_root_open(const char *root, bool create, kist_error_t *err)
{
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 || !create || errno != ENOENT) {
    if (fd < 0) {
      kist_fail(err, errno, "state root %s", root);
      kist_rootless_root_hint(root, err);
      return -1;
    }
    return fd;
  }
  if (mkdir_p_at(AT_FDCWD, root, 0700, err) < 0) {
    kist_rootless_root_hint(root, err);
    return -1;
  }
  fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "state root %s", root);
  return fd;
}

static int lock_dir(int dfd, int op, const char *id, kist_error_t *err)
{
  while (flock(dfd, op) < 0) {
    if (errno != EINTR)
      return kist_fail(err, errno, "lock the state of container %s", id);
  }
  return 0;
}

int kist_state_dir_create(int rootfd, const char *id, kist_error_t *err)
{
  /* Made and locked under a private name, then renamed into place: nobody
   * can see (and take for a leftover) a container dir that is not locked. */
  char tmp[32];
  kist_snprintf(tmp, sizeof tmp, ".new-%d", (int)getpid());
  if (mkdirat(rootfd, tmp, 0700) < 0)
    return kist_fail(err, errno, "create the state directory of %s", id);
  int dfd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 || lock_dir(dfd, LOCK_EX, id, err) < 0) {
    int e = errno;
    if (dfd >= 0)
      close(dfd);
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    return kist_fail(err, e, "open the state directory of %s", id);
  }
  if (kist_renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) < 0) {
    int e = errno;
    close(dfd);
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    if (e == EEXIST)
      return kist_fail(err, 0, "container %s already exists", id);
    return kist_fail(err, e, "create the state directory of %s", id);
  }
  return dfd;
}

int kist_state_dir_open(int rootfd, const char *id, int lock_op, kist_error_t *err)
{
  int dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    if (errno == ENOENT) /* errno kept for delete --force, no strerror suffix */
      return kist_fail_take(err, ENOENT, xasprintf("container %s does not exist", id));
    return kist_fail(err, errno, "open the state directory of %s", id);
  }
  if (lock_op != 0 && lock_dir(dfd, lock_op, id, err) < 0) {
    close(dfd);
    return -1;
  }
  return dfd;
}

/* ---- JSON out ---- */

struct buf {
  char *p;
  size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
  buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *s = xvasprintf(fmt, ap);
  va_end(ap);
  buf_puts(b, s);
}

static void buf_json_str(struct buf *b, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  buf_add(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    char esc[7] = {'\\', 0};
    if (*p == '"' || *p == '\\') {
      esc[1] = (char)*p;
      buf_add(b, esc, 2);
    } else if (*p == '\n') {
      buf_add(b, "\\n", 2);
    } else if (*p == '\t') {
      buf_add(b, "\\t", 2);
    } else if (*p < 0x20) {
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[*p >> 4];
      esc[5] = hex[*p & 15];
      buf_add(b, esc, 6);
    } else {
      buf_add(b, (const char *)p, 1);
    }
  }
  buf_add(b, "\"", 1);
}

static void buf_key(struct buf *b, const char *sep, const char *key)
{
  buf_puts(b, sep);
  buf_json_str(b, key);
  buf_puts(b, strcmp(sep, ",") == 0 || strcmp(sep, "{") == 0 ? ":" : ": ");
}

static char *owner_name(uid_t uid)
{
  struct passwd pw, *res = NULL;
  char tmp[1024];
  if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res != NULL)
    return xstrdup(res->pw_name);
  return xasprintf("%u", (unsigned)uid);
}

static void add_annotations(struct buf *b, const struct kist_state *st, const char *sep,
                            const char *indent)
{
  if (st->ann_len == 0)
    return;
  buf_key(b, sep, "annotations");
  buf_puts(b, "{");
  for (size_t i = 0; i < st->ann_len; i++) {
    if (i > 0)
      buf_puts(b, ",");
    buf_puts(b, indent);
    buf_json_str(b, st->ann_keys[i]);
    buf_puts(b, *indent ? ": " : ":");
    buf_json_str(b, st->ann_values[i]);
  }
  if (*indent)
    buf_puts(b, "\n  ");
  buf_puts(b, "}");
}

char *kist_state_json(const struct kist_state *st, enum kist_status status, bool hooks)
{
  struct buf b = {0};
  /* Hooks get compact state-schema JSON; people get runc's indented shape. */
  const char *sep = hooks ? "," : ",\n  ";
  buf_key(&b, hooks ? "{" : "{\n  ", "ociVersion");
  buf_json_str(&b, KIST_SPEC_VERSION);
  buf_key(&b, sep, "id");
  buf_json_str(&b, st->id);
  /* A stopped container has no process: pid 0, as runc prints it. */
  buf_key(&b, sep, "pid");
  buf_printf(&b, "%d", status == KIST_STATUS_STOPPED ? 0 : (int)st->pid);
  buf_key(&b, sep, "status");
  buf_json_str(&b, kist_status_name(status));
  buf_key(&b, sep, "bundle");
  buf_json_str(&b, st->bundle);
  if (!hooks) {
    buf_key(&b, sep, "rootfs");
    buf_json_str(&b, st->rootfs);
    buf_key(&b, sep, "created");
    buf_json_str(&b, st->created);
    cleanup_free char *owner = owner_name(st->owner);
    buf_key(&b, sep, "owner");
    buf_json_str(&b, owner);
  }
  add_annotations(&b, st, sep, hooks ? "" : "\n    ");
  buf_puts(&b, hooks ? "}" : "\n}");
  return b.p;
}

/* The on-disk form: compact, with the fields status derivation needs. */
static char *state_file_json(const struct kist_state *st)
{
  struct buf b = {0};
  buf_key(&b, "{", "ociVersion");
  buf_json_str(&b, KIST_SPEC_VERSION);
  buf_key(&b, ",", "id");
  buf_json_str(&b, st->id);
  buf_key(&b, ",", "status");
  buf_json_str(&b, kist_status_name(st->status));
  buf_key(&b, ",", "pid");
  buf_printf(&b, "%d", (int)st->pid);
  buf_key(&b, ",", "starttime");
  buf_printf(&b, "%llu", st->starttime);
  buf_key(&b, ",", "bundle");
  buf_json_str(&b, st->bundle);
  buf_key(&b, ",", "rootfs");
  buf_json_str(&b, st->rootfs);
  buf_key(&b, ",", "created");
  buf_json_str(&b, st->created);
  buf_key(&b, ",", "owner");
  buf_printf(&b, "%u", (unsigned)st->owner);
  if (st->flags) {
    buf_key(&b, ",", "flags");
    buf_printf(&b, "%u", st->flags);
  }
  add_annotations(&b, st, ",", "");
  buf_puts(&b, "}\n");
  return b.p;
}

int kist_state_save(int dirfd, const struct kist_state *st, kist_error_t *err)
{
  cleanup_free char *json = state_file_json(st);
  return write_file_atomic_at(dirfd, KIST_STATE_FILE, json, strlen(json), 0600, err);
}

/* ---- JSON in ---- */

static const char *get_str(yajl_val root, const char *key)
{
  const char *path[] = {key, NULL};
  return YAJL_GET_STRING(yajl_tree_get(root, path, yajl_t_string));
}

/* A number member in [0, max]; anything else (missing, negative, too big
 * for the field) reads as 0, so what is loaded is what a save writes back. */
static long long get_int(yajl_val root, const char *key, long long max)
{
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_number);
  if (!YAJL_IS_INTEGER(v))
    return 0;
  long long n = YAJL_GET_INTEGER(v);
  return n >= 0 && n <= max ? n : 0;
}

int kist_state_load(int dirfd, const char *id, struct kist_state *st, kist_error_t *err)
{
  memset(st, 0, sizeof *st);
  st->id = xstrdup(id);
  cleanup_free char *data = NULL;
  cleanup_close int fd = openat(dirfd, KIST_STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      st->status = KIST_STATUS_CREATING;
      return 0;
    }
    return kist_fail(err, errno, "open the state of container %s", id);
  }
  if (read_all_fd(fd, KIST_STATE_FILE, &data, NULL, err) < 0)
    return -1;
  return kist_state_parse(data, id, st, err);
}

int kist_state_parse(const char *data, const char *id, struct kist_state *st, kist_error_t *err)
{
  if (st->id == NULL)
    st->id = xstrdup(id);
  char ebuf[256];
  yajl_val root = yajl_tree_parse(data, ebuf, sizeof ebuf);
  if (root == NULL || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    /* errno kept (no strerror suffix) for delete --force */
    return kist_fail_take(err, EBADMSG, xasprintf("state of container %s is corrupt", id));
  }
  const char *status = get_str(root, "status");
  st->status = KIST_STATUS_CREATING;
  for (size_t i = 0; status && i < ARRAY_SIZE(status_names); i++)
    if (strcmp(status, status_names[i]) == 0)
      st->status = (enum kist_status)i;
  st->pid = (pid_t)get_int(root, "pid", INT_MAX);
  st->starttime = (unsigned long long)get_int(root, "starttime", LLONG_MAX);
  st->owner = (uid_t)get_int(root, "owner", UINT32_MAX);
  st->flags = (unsigned)get_int(root, "flags", UINT_MAX);
  st->bundle = xstrdup(get_str(root, "bundle"));
  st->rootfs = xstrdup(get_str(root, "rootfs"));
  st->created = xstrdup(get_str(root, "created"));
  const char *apath[] = {"annotations", NULL};
  yajl_val ann = yajl_tree_get(root, apath, yajl_t_object);
  if (YAJL_IS_OBJECT(ann) && ann->u.object.len > 0) {
    size_t n = ann->u.object.len;
    st->ann_keys = xcalloc(n + 1, sizeof(char *));
    st->ann_values = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
      st->ann_keys[i] = xstrdup(ann->u.object.keys[i]);
      st->ann_values[i] = xstrdup(YAJL_GET_STRING(ann->u.object.values[i]));
    }
    st->ann_len = n;
  }
  yajl_tree_free(root);
  return 0;
}

/* ---- liveness ---- */

int kist_proc_stat(pid_t pid, char *state, unsigned long long *starttime)
{
  char path[32], buf[1024];
  kist_snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read_retry(fd, buf, sizeof buf - 1);
  int e = errno;
  close(fd);
  if (n <= 0) {
    errno = n < 0 ? e : ESRCH;
    return -1;
  }
  buf[n] = '\0';
  /* comm may hold spaces and parens: fields restart after the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ') {
    errno = EINVAL;
    return -1;
  }
  p += 2;
  if (state)
    *state = *p;
  /* p is field 3 (state); starttime is field 22. */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL) {
      errno = EINVAL;
      return -1;
    }
    p++;
  }
  if (starttime)
    *starttime = kist_decimal(p, NULL);
  return 0;
}

bool kist_state_init_alive(const struct kist_state *st)
{
  char s;
  unsigned long long t;
  if (st->pid <= 0 || kist_proc_stat(st->pid, &s, &t) < 0)
    return false;
  return s != 'Z' && s != 'X' && t == st->starttime;
}

void kist_state_refresh(const struct kist_context *ctx, int dirfd, struct kist_state *st)
{
  if (st->status == KIST_STATUS_CREATING) {
    /* No state.json: a create in progress holds the lock; a leftover of a
     * killed create does not. */
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        st->status = KIST_STATUS_STOPPED;
      close(fd);
    }
    return;
  }
  if (!kist_state_init_alive(st)) {
    st->status = KIST_STATUS_STOPPED;
    return;
  }
  kist_error_t err = NULL;
  struct kist_cgroup *cg = NULL;
  if (kist_cgroup_load(ctx, dirfd, &cg, &err) < 0) {
    kist_error_release(&err);
    return;
  }
  if (cg && kist_cgroup_is_frozen(cg))
    st->status = KIST_STATUS_PAUSED;
  kist_cgroup_free(cg);
}

int kist_state_pidfd(const struct kist_state *st, kist_error_t *err)
{
  if (st->pid <= 0) {
    errno = ESRCH;
    return kist_fail(err, 0, "container %s has no process", st->id);
  }
  int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
  if (fd < 0 && errno != ESRCH)
    return kist_fail(err, errno, "pidfd_open %d", (int)st->pid);
  /* Checked after opening: from here the fd pins this very process. */
  if (fd < 0 || !kist_state_init_alive(st)) {
    if (fd >= 0)
      close(fd);
    errno = ESRCH;
    return kist_fail(err, 0, "container %s is not running", st->id);
  }
  return fd;
}

int kist_state_remove(int rootfd, const char *id, kist_error_t *err)
{
  return rm_rf_at(rootfd, id, err);
}

void kist_state_clear(struct kist_state *st)
{
  free(st->id);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  for (size_t i = 0; i < st->ann_len; i++) {
    free(st->ann_keys[i]);
    free(st->ann_values[i]);
  }
  free(st->ann_keys);
  free(st->ann_values);
  memset(st, 0, sizeof *st);
}

void kist_state_fill(struct kist_state *st, const char *id, const char *bundle, const char *rootfs,
                     const oci_config *cfg, enum kist_status status)
{
  st->id = xstrdup(id);
  st->bundle = xstrdup(bundle);
  st->rootfs = xstrdup(rootfs);
  st->created = rfc3339_now();
  st->owner = geteuid();
  st->status = status;
  st->flags = 0;
  if (cfg->hooks && cfg->hooks->poststart_len > 0)
    st->flags |= KIST_STATE_POSTSTART;
  if (cfg->hooks && cfg->hooks->poststop_len > 0)
    st->flags |= KIST_STATE_POSTSTOP;
  const oci_map_string_string *a = cfg->annotations;
  if (a && a->len > 0) {
    st->ann_keys = xcalloc(a->len + 1, sizeof(char *));
    st->ann_values = xcalloc(a->len + 1, sizeof(char *));
    for (size_t i = 0; i < a->len; i++) {
      st->ann_keys[i] = xstrdup(a->keys[i]);
      st->ann_values[i] = xstrdup(a->values[i]);
    }
    st->ann_len = a->len;
  }
}
