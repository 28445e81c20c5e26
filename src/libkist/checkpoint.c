/* checkpoint / restore: kist describes the container to CRIU (external
 * mounts, namespaces, cgroups, stdio) and CRIU does the dumping.
 *
 * Besides CRIU's own images, the image directory holds kist.json: the
 * mount points CRIU was told are external (their sources come from the
 * restoring config), whether the network namespace was left out, and what
 * the init's stdio was (pipes are handed over to the restoring kist's own
 * fds, as runc does).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cgroup.h"
#include "checkpoint.h"
#include "config.h"
#include "container.h"
#include "criu.h"
#include "fmt.h"
#include "log.h"
#include "mounts.h"
#include "namespaces.h"
#include "paths.h"
#include "pidfile.h"
#include "signals.h"
#include "state.h"
#include "terminal.h"
#include "util.h"

#define KIST_IMAGE_INFO "kist.json"
#define CRIU_ROOT       "criu-root"
#define NET_KEY         "extRootNetNS"

/* ---- shared ---- */

static int parse_cg_mode(const char *s, int *mode, kist_error_t *err)
{
  static const struct {
    const char *name;
    int mode;
  } modes[] = {
    {"soft", KIST_CRIU_CG_SOFT},
    {"full", KIST_CRIU_CG_FULL},
    {"strict", KIST_CRIU_CG_STRICT},
    {"ignore", KIST_CRIU_CG_IGNORE},
  };
  if (s == NULL) {
    *mode = KIST_CRIU_CG_SOFT;
    return 0;
  }
  for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
    if (strcmp(s, modes[i].name) == 0) {
      *mode = modes[i].mode;
      return 0;
    }
  return kist_fail(err, 0, "--manage-cgroups-mode: expected soft, full, strict or ignore, got '%s'",
                   s);
}

/* The outermost directory of path that does not exist yet: the first one
 * mkdir -p makes (path itself, or a parent). NULL when path exists. */
static char *first_missing(const char *path)
{
  if (access(path, F_OK) == 0)
    return NULL;
  char *top = xstrdup(path);
  size_t n = strlen(top);
  while (n > 1 && top[n - 1] == '/')
    top[--n] = '\0';
  for (char *slash; (slash = strrchr(top, '/')) != NULL && slash != top;) {
    *slash = '\0';
    if (access(top, F_OK) == 0) {
      *slash = '/';
      break;
    }
  }
  return top;
}

/* Removes path, then each parent up to top, while they are empty: the
 * directories this call made and nothing wrote into. */
static void remove_made(const char *path, const char *top)
{
  cleanup_free char *p = xstrdup(path);
  size_t n = strlen(p), keep = strlen(top);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  while (rmdir(p) == 0 && strlen(p) > keep) {
    char *slash = strrchr(p, '/');
    if (slash == NULL)
      return;
    *slash = '\0';
  }
}

static int open_dir(const char *path, bool create, const char *what, kist_error_t *err)
{
  kist_error_t e = NULL;
  if (create && mkdir_p_at(AT_FDCWD, path, 0700, &e) < 0) {
    /* The message already ends in strerror: only the option goes before it. */
    int en = kist_error_errno(e);
    char *msg = xasprintf("%s: %s", what, kist_error_message(e));
    kist_error_release(&e);
    return kist_fail_take(err, en, msg);
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "%s %s", what, path);
  return fd;
}

/* Options both directions share; mode is c->cgroups_mode, parsed by the
 * caller before anything else. */
static int common_opts(const struct kist_criu *lib, criu_opts *co, const struct kist_criu_common *c,
                       int mode, int imgfd, int workfd, const char *log, kist_error_t *err)
{
  const char *bin = getenv("KIST_CRIU");
  if (bin && bin[0] && lib->set_service_binary(co, bin) < 0)
    return kist_fail(err, ENOMEM, "criu: service binary %s", bin);
  lib->set_images_dir_fd(co, imgfd);
  lib->set_work_dir_fd(co, workfd);
  lib->set_log_level(co, 4);
  if (lib->set_log_file(co, log) < 0)
    return kist_fail(err, ENOMEM, "criu: log file %s", log);
  lib->set_tcp_established(co, c->tcp_established);
  lib->set_ext_unix_sk(co, c->ext_unix_sk);
  lib->set_shell_job(co, c->shell_job);
  lib->set_file_locks(co, c->file_locks);
  lib->set_manage_cgroups(co, true);
  lib->set_manage_cgroups_mode(co, mode);
  if (c->lazy_pages) {
    if (lib->set_lazy_pages == NULL)
      return kist_fail(err, 0,
                       "--lazy-pages: this libcriu has no lazy-pages support "
                       "(criu_local_set_lazy_pages is missing)");
    lib->set_lazy_pages(co, true);
  }
  return 0;
}

/* ---- checkpoint ---- */

struct mount_line {
  char *point, *root, *fstype;
  unsigned dev_major, dev_minor;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
  char *o = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
        s[3] <= '7') {
      *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *o++ = *s;
    }
  }
  *o = '\0';
}

static int read_mounts(pid_t pid, struct mount_line **out, size_t *n, kist_error_t *err)
{
  char path[64];
  kist_snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL)
    return kist_fail(err, errno, "open %s", path);
  struct mount_line *v = NULL;
  size_t len = 0;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char root[PATH_MAX], point[PATH_MAX];
    unsigned ma, mi;
    if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &ma, &mi, root, point) != 4)
      continue;
    unescape(root);
    unescape(point);
    char fstype[64] = "";
    const char *sep = strstr(line, " - ");
    if (sep)
      sscanf(sep + 3, "%63s", fstype);
    v = xrealloc(v, (len + 1) * sizeof *v);
    v[len++] = (struct mount_line){xstrdup(point), xstrdup(root), xstrdup(fstype), ma, mi};
  }
  free(line);
  *out = v;
  *n = len;
  return 0;
}

/* Is p dir itself or a path under it? "/" holds everything. */
static bool path_within(const char *p, const char *dir)
{
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Is p strictly below dir? */
static bool path_below(const char *p, const char *dir)
{
  return strcmp(p, dir) != 0 && path_within(p, dir);
}

/* The mounts of the container that CRIU cannot find a source for inside
 * the container: binds of host files and directories (config binds, the
 * host's /dev/null on masked files, host device nodes in a user namespace).
 * A mount is internal when its root is "/" (a filesystem of its own, e.g.
 * proc, a tmpfs) or lies within the root of another mount of the same
 * filesystem that is not the container's root mount (e.g. a read-only
 * bind of /proc/sys over itself). Config binds are always external. */
static char **external_mounts(pid_t pid, const oci_config *cfg, kist_error_t *err)
{
  struct mount_line *m = NULL;
  size_t n = 0;
  if (read_mounts(pid, &m, &n, err) < 0)
    return NULL;
  char **keys = xcalloc(n + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(m[i].point, "/") == 0)
      continue;
    bool external = false;
    for (size_t j = 0; j < cfg->mounts_len && !external; j++) {
      cleanup_free char *d = kist_path_clean(cfg->mounts[j]->destination);
      external = kist_mount_is_bind(cfg->mounts[j]) && strcmp(d, m[i].point) == 0;
    }
    /* cgroup roots are the container's cgroup: CRIU handles those. */
    bool cgroupfs = strcmp(m[i].fstype, "cgroup") == 0 || strcmp(m[i].fstype, "cgroup2") == 0;
    if (!external && !cgroupfs && strcmp(m[i].root, "/") != 0) {
      external = true;
      for (size_t j = 0; j < n && external; j++)
        if (j != i && strcmp(m[j].point, "/") != 0 && m[j].dev_major == m[i].dev_major &&
            m[j].dev_minor == m[i].dev_minor && path_within(m[i].root, m[j].root) &&
            strcmp(m[j].root, m[i].root) != 0)
          external = false;
      /* A bind of part of the container's own rootfs. */
      for (size_t j = 0; j < n && external; j++)
        if (strcmp(m[j].point, "/") == 0 && m[j].dev_major == m[i].dev_major &&
            m[j].dev_minor == m[i].dev_minor && path_within(m[i].root, m[j].root))
          external = false;
    }
    /* Submounts of an external mount are described by their own lines. */
    if (external)
      keys[k++] = xstrdup(m[i].point);
  }
  for (size_t i = 0; i < n; i++) {
    free(m[i].point);
    free(m[i].root);
    free(m[i].fstype);
  }
  free(m);
  return keys;
}

static void gen_str(yajl_gen g, const char *s)
{
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static int write_image_info(int imgfd, const char *id, char **mounts, bool ext_net,
                            char stdio[3][PATH_MAX], bool terminal, kist_error_t *err)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_config(g, yajl_gen_beautify, 1);
  yajl_gen_map_open(g);
  gen_str(g, "id");
  gen_str(g, id);
  gen_str(g, "externalMounts");
  yajl_gen_array_open(g);
  for (size_t i = 0; mounts[i]; i++)
    gen_str(g, mounts[i]);
  yajl_gen_array_close(g);
  gen_str(g, "externalNetwork");
  yajl_gen_bool(g, ext_net);
  gen_str(g, "terminal");
  yajl_gen_bool(g, terminal);
  gen_str(g, "stdio");
  yajl_gen_array_open(g);
  for (int i = 0; i < 3; i++)
    gen_str(g, stdio[i]);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  int r = write_file_atomic_at(imgfd, KIST_IMAGE_INFO, buf, len, 0600, err);
  yajl_gen_free(g);
  return r;
}

int kist_container_checkpoint(const struct kist_context *ctx, const char *id,
                              const struct kist_checkpoint_opts *o, kist_error_t *err)
{
  const struct kist_criu *lib;
  int mode;
  if (parse_cg_mode(o->c.cgroups_mode, &mode, err) < 0 || kist_criu_load(&lib, err) < 0)
    return -1;
  if (o->pre_dump && o->leave_running)
    kist_debug("checkpoint: --pre-dump always leaves the container running");

  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, LOCK_EX, &c, err) < 0)
    return -1;
  int r = -1;
  criu_opts *co = NULL;
  cleanup_strv char **mounts = NULL;
  cleanup_close int imgfd = -1;
  cleanup_close int workfd = -1;
  /* The image and work dirs this call makes (with any parents) go again
   * when it fails, unless CRIU wrote its log there (kept for diagnosis:
   * rmdir refuses). */
  const char *img = NULL, *work = NULL;
  cleanup_free char *img_top = NULL, *work_top = NULL;
  const oci_config *cfg;
  if (c->st.status != KIST_STATUS_RUNNING) {
    kist_fail(err, 0, "container %s is %s: only a running container can be checkpointed%s", id,
              kist_status_name(c->st.status),
              c->st.status == KIST_STATUS_PAUSED ? " (resume it first)" : "");
    goto out;
  }
  if (kist_container_config(c, &cfg, err) < 0)
    goto out;
  img = o->c.image_path ? o->c.image_path : "checkpoint";
  const oci_namespace_reference *net = kist_ns_find(cfg, "network");
  bool ext_net = net && (net->path || o->empty_net);
  if (o->empty_net && net == NULL) {
    kist_fail(err, 0, "--empty-ns network: the container has no network namespace of its own");
    goto out;
  }
  img_top = first_missing(img);
  imgfd = open_dir(img, true, "--image-path", err);
  if (imgfd < 0)
    goto out;
  if (o->parent_path) {
    cleanup_free char *inv = xasprintf("%s/inventory.img", o->parent_path);
    int base = o->parent_path[0] == '/' ? AT_FDCWD : imgfd;
    if (faccessat(base, inv, F_OK, 0) < 0) {
      kist_fail(err, 0,
                "--parent-path %s: no earlier dump there (a directory with inventory.img, "
                "relative to the image directory or absolute)",
                o->parent_path);
      goto out;
    }
  }
  work = o->c.work_path ? o->c.work_path : img;
  work_top = first_missing(work);
  workfd = open_dir(work, true, "--work-path", err);
  if (workfd < 0)
    goto out;

  pid_t pid = c->st.pid;
  mounts = external_mounts(pid, cfg, err);
  if (mounts == NULL)
    goto out;
  char stdio[3][PATH_MAX];
  for (int i = 0; i < 3; i++) {
    char link[64];
    kist_snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, i);
    ssize_t len = readlink(link, stdio[i], sizeof stdio[i] - 1);
    stdio[i][len < 0 ? 0 : len] = '\0';
  }
  bool terminal = cfg->process && cfg->process->terminal_present && cfg->process->terminal;

  if (lib->init_opts(&co) < 0) {
    kist_fail(err, ENOMEM, "criu: init options");
    goto out;
  }
  const char *log = o->pre_dump ? "pre-dump.log" : "dump.log";
  if (common_opts(lib, co, &o->c, mode, imgfd, workfd, log, err) < 0)
    goto out;
  lib->set_pid(co, pid);
  /* The container's terminal: its slave is inside, its master with whoever
   * holds the console socket. To CRIU that is a shell job; restore gets a
   * new master (orphan-pts-master) for the console socket. */
  if (terminal)
    lib->set_shell_job(co, true);
  lib->set_leave_running(co, o->leave_running || o->pre_dump);
  lib->set_auto_dedup(co, o->auto_dedup);
  /* Memory tracking is what makes a later dump incremental. */
  lib->set_track_mem(co, o->pre_dump || o->parent_path);
  if (o->parent_path && lib->set_parent_images(co, o->parent_path) < 0) {
    kist_fail(err, ENOMEM, "criu: parent images");
    goto out;
  }
  for (size_t i = 0; mounts[i]; i++)
    if (lib->add_ext_mount(co, mounts[i], mounts[i]) < 0) {
      kist_fail(err, ENOMEM, "criu: external mount %s", mounts[i]);
      goto out;
    }
  if (ext_net) {
    char link[64];
    struct stat sb;
    kist_snprintf(link, sizeof link, "/proc/%d/ns/net", (int)pid);
    if (stat(link, &sb) < 0) {
      kist_fail(err, errno, "stat %s", link);
      goto out;
    }
    cleanup_free char *key = xasprintf("net[%lu]:%s", (unsigned long)sb.st_ino, NET_KEY);
    if (lib->add_external(co, key) < 0) {
      kist_fail(err, ENOMEM, "criu: external %s", key);
      goto out;
    }
  }
  /* The dump is useless without kist.json: write it first. */
  if (write_image_info(imgfd, id, mounts, ext_net, stdio, terminal, err) < 0)
    goto out;
  kist_debug("checkpoint %s: pid %d, %zu external mount(s), image %s", id, (int)pid,
             strv_len(mounts), img);
  int ret = o->pre_dump ? lib->pre_dump(co) : lib->dump(co);
  if (ret < 0) {
    kist_criu_fail(err, ret, o->pre_dump ? "pre-dump" : "dump", workfd, log);
    goto out;
  }
  r = 0;

out:
  if (co)
    lib->free_opts(co);
  if (r < 0 && work_top)
    remove_made(work, work_top);
  if (r < 0 && img_top)
    remove_made(img, img_top);
  kist_container_close(c);
  /* The processes are gone: the container is over (as runc does). */
  if (r == 0 && !o->leave_running && !o->pre_dump)
    r = kist_container_delete(ctx, id, true, err);
  return r;
}

/* ---- restore ---- */

struct image_info {
  char **mounts;
  bool ext_net, terminal;
  char *stdio[3];
};

static void image_info_free(struct image_info *ii)
{
  strv_free(ii->mounts);
  for (int i = 0; i < 3; i++)
    free(ii->stdio[i]);
}

/* kist.json of the image; a checkpoint made by another tool has none:
 * then nothing is external. */
static int read_image_info(int imgfd, const char *img, struct image_info *ii, kist_error_t *err)
{
  memset(ii, 0, sizeof *ii);
  ii->mounts = xcalloc(1, sizeof(char *));
  cleanup_free char *data = NULL;
  cleanup_close int fd = openat(imgfd, KIST_IMAGE_INFO, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return kist_fail(err, errno, "open %s/%s", img, KIST_IMAGE_INFO);
  }
  if (read_all_fd(fd, KIST_IMAGE_INFO, &data, NULL, err) < 0)
    return -1;
  char ebuf[128];
  yajl_val root = yajl_tree_parse(data, ebuf, sizeof ebuf);
  if (root == NULL || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    return kist_fail(err, 0, "%s/%s: not a JSON object", img, KIST_IMAGE_INFO);
  }
  const char *pm[] = {"externalMounts", NULL}, *pn[] = {"externalNetwork", NULL},
             *pt[] = {"terminal", NULL}, *ps[] = {"stdio", NULL};
  yajl_val v = yajl_tree_get(root, pm, yajl_t_array);
  for (size_t i = 0; v && i < v->u.array.len; i++) {
    const char *s = YAJL_GET_STRING(v->u.array.values[i]);
    if (s == NULL || s[0] != '/') {
      yajl_tree_free(root);
      return kist_fail(err, 0, "%s/%s: externalMounts[%zu]: expected an absolute path", img,
                       KIST_IMAGE_INFO, i);
    }
    size_t n = strv_len(ii->mounts);
    ii->mounts = xrealloc(ii->mounts, (n + 2) * sizeof(char *));
    ii->mounts[n] = xstrdup(s);
    ii->mounts[n + 1] = NULL;
  }
  ii->ext_net = YAJL_IS_TRUE(yajl_tree_get(root, pn, yajl_t_true));
  ii->terminal = YAJL_IS_TRUE(yajl_tree_get(root, pt, yajl_t_true));
  v = yajl_tree_get(root, ps, yajl_t_array);
  for (size_t i = 0; v && i < v->u.array.len && i < 3; i++) {
    const char *s = YAJL_GET_STRING(v->u.array.values[i]);
    ii->stdio[i] = xstrdup(s ? s : "");
  }
  yajl_tree_free(root);
  return 0;
}

/* Where an external mount of the image comes from now: the restoring
 * config's bind with that destination, the host's /dev/null for a masked
 * file, the host's node for a device. */
static char *external_source(const oci_config *cfg, const char *bundle, const char *key,
                             kist_error_t *err)
{
  for (size_t i = 0; i < cfg->mounts_len; i++) {
    const oci_mount *m = cfg->mounts[i];
    cleanup_free char *d = kist_path_clean(m->destination);
    if (strcmp(d, key) != 0 || !kist_mount_is_bind(m) || m->source == NULL)
      continue;
    return m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", bundle, m->source);
  }
  const oci_config_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->masked_paths_len; i++) {
    cleanup_free char *d = kist_path_clean(l->masked_paths[i]);
    if (strcmp(d, key) == 0)
      return xstrdup("/dev/null");
  }
  if (str_has_prefix(key, "/dev/"))
    return xstrdup(key);
  kist_fail(err, 0,
            "restore: the checkpoint has an external mount at %s and the config has no bind "
            "mount with that destination",
            key);
  return NULL;
}

/* A new, empty network namespace (--empty-ns network at dump, and the
 * config asks for a new one): a child unshares it and we keep a handle. */
static int empty_netns(kist_error_t *err)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return kist_fail(err, errno, "socketpair");
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return kist_fail(err, errno, "fork");
  }
  if (pid == 0) {
    char b = unshare(CLONE_NEWNET) == 0 ? 0 : 1;
    if (write(sv[1], &b, 1) != 1 || read(sv[1], &b, 1) < 0)
      _exit(1);
    _exit(0);
  }
  close(sv[1]);
  char b = 1;
  int fd = -1, e = 0;
  if (read(sv[0], &b, 1) == 1 && b == 0) {
    char path[64];
    kist_snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    e = errno;
  } else {
    e = EPERM;
  }
  close(sv[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (fd < 0)
    return kist_fail(err, e, "make an empty network namespace");
  return fd;
}

struct restore {
  const struct kist_context *ctx;
  const char *id;
  const struct kist_restore_opts *o;
  int cg_mode; /* o->c.cgroups_mode, parsed */
  oci_config *cfg;
  char *bundle, *rootfs, *config_raw, *criu_root;
  size_t config_len;
  struct image_info ii;
  int rootfd, dirfd, imgfd, workfd, netfd, console_fd;
  bool mounted;
  struct kist_cgroup *cg;
  struct kist_pid_file pidfile;
  pid_t pid;
  struct kist_state st;
};

/* CRIU notifies "orphan-pts-master" once it made a new pty master for the
 * container's terminal; libcriu keeps the fd for us to fetch afterwards.
 * Notifications are only sent when a callback is set. */
static int notify_cb(char *action, void *na)
{
  (void)na;
  kist_debug("criu notify: %s", action);
  return 0;
}

static int restore_prepare(struct restore *r, kist_error_t *err)
{
  const struct kist_restore_opts *o = r->o;
  if (kist_id_validate(r->id, err) < 0)
    return -1;
  r->rootfd = kist_state_root_open(r->ctx->root, true, err);
  if (r->rootfd < 0)
    return -1;
  struct stat sb;
  if (fstatat(r->rootfd, r->id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return kist_fail(err, 0, "container %s already exists", r->id);
  r->bundle = realpath(o->bundle ? o->bundle : ".", NULL);
  if (r->bundle == NULL)
    return kist_fail(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
  /* The text saved in the state dir is the one that was parsed. */
  if (kist_config_load_raw(r->bundle, &r->cfg, &r->config_raw, &r->config_len, err) < 0)
    return -1;
  const char *rp = r->cfg->root->path;
  cleanup_free char *full = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", r->bundle, rp);
  r->rootfs = realpath(full, NULL);
  if (r->rootfs == NULL || stat(r->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
    return kist_fail(err, 0, "root.path: %s is not a directory", full);
  if (kist_cgroup_validate(r->ctx, r->id, r->cfg, err) < 0 ||
      kist_pid_file_open(o->pid_file, &r->pidfile, err) < 0)
    return -1;

  const char *img = o->c.image_path ? o->c.image_path : "checkpoint";
  r->imgfd = open(img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (r->imgfd < 0)
    return kist_fail(err, errno, "--image-path %s", img);
  if (faccessat(r->imgfd, "inventory.img", F_OK, 0) < 0)
    return kist_fail(err, 0, "--image-path %s: no checkpoint there (inventory.img is missing)",
                     img);
  r->workfd = o->c.work_path ? open_dir(o->c.work_path, true, "--work-path", err)
                             : fcntl(r->imgfd, F_DUPFD_CLOEXEC, 0);
  if (r->workfd < 0)
    return -1;
  if (read_image_info(r->imgfd, img, &r->ii, err) < 0)
    return -1;

  bool terminal = r->cfg->process && r->cfg->process->terminal_present && r->cfg->process->terminal;
  if (terminal != r->ii.terminal)
    return kist_fail(err, 0, "process.terminal: the config says %s, the checkpoint was made %s",
                     terminal ? "true" : "false", terminal ? "without one" : "with a terminal");
  if (terminal) {
    if (o->console_socket == NULL)
      return kist_fail(err, 0,
                       "process.terminal is true: --console-socket is required to receive it");
    r->console_fd = kist_console_socket_connect(o->console_socket, err);
    if (r->console_fd < 0)
      return -1;
  }
  if (r->ii.ext_net) {
    const oci_namespace_reference *net = kist_ns_find(r->cfg, "network");
    if (net && net->path) {
      r->netfd = open(net->path, O_RDONLY | O_CLOEXEC);
      if (r->netfd < 0)
        return kist_fail(err, errno, "linux.namespaces: network path %s", net->path);
    } else if (net) {
      r->netfd = empty_netns(err);
    } else {
      r->netfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    }
    if (r->netfd < 0)
      return -1;
  }
  return 0;
}

/* The CRIU call itself runs in a child that first joins the container's
 * cgroup: CRIU maps the dumped root cgroup onto the cgroup of its caller
 * (cg_root), and kist itself never sits in the container's cgroup. The
 * restored init is CRIU's sibling, i.e. the child's child; kist is a
 * subreaper, so the init becomes kist's own child when the helper exits. */
static int restore_in_child(struct restore *r, const struct kist_criu *lib, criu_opts *co,
                            kist_error_t *err)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return kist_fail(err, errno, "socketpair");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    close(sv[0]);
    close(sv[1]);
    return kist_fail(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  pid_t helper = fork();
  if (helper < 0) {
    close(sv[0]);
    close(sv[1]);
    return kist_fail(err, errno, "fork");
  }
  if (helper == 0) {
    close(sv[0]);
    kist_error_t e = NULL;
    char msg[1024];
    int pid = -1;
    /* CRIU (forked by libcriu) takes inherited fds by number. */
    if (r->netfd >= 0)
      fcntl(r->netfd, F_SETFD, 0);
    if (kist_cgroup_enter(r->cg, getpid(), &e) == 0) {
      pid = lib->restore_child(co);
      if (pid <= 0)
        kist_criu_fail(&e, pid, "restore", r->workfd, "restore.log");
    }
    int n = kist_snprintf(msg, sizeof msg, "%d %s", pid, e ? e->msg : "");
    if (r->console_fd >= 0 && pid > 0) {
      int m = lib->get_orphan_pts_master_fd();
      if (m < 0 || kist_terminal_send_master(r->console_fd, m, &e) < 0)
        n = kist_snprintf(msg, sizeof msg, "-1 %s",
                          e ? e->msg : "restore: CRIU sent no master for the container's terminal");
    }
    _exit(write(sv[1], msg, (size_t)n) == n ? 0 : 1);
  }
  close(sv[1]);
  char msg[1024];
  ssize_t n = read(sv[0], msg, sizeof msg - 1);
  int e = errno;
  close(sv[0]);
  while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
    ;
  if (n <= 0)
    return kist_fail(err, n < 0 ? e : 0, "restore: the CRIU helper died");
  msg[n] = '\0';
  char *text = NULL;
  long pid = strtol(msg, &text, 10);
  if (pid <= 0)
    return kist_fail(err, 0, "%s", text && *text ? text + 1 : "restore failed");
  r->pid = (pid_t)pid;
  return 0;
}

static int criu_root_mount(struct restore *r, kist_error_t *err)
{
  if (mkdirat(r->dirfd, CRIU_ROOT, 0700) < 0)
    return kist_fail(err, errno, "mkdir %s/%s", r->ctx->root, CRIU_ROOT);
  r->criu_root = xasprintf("%s/%s/%s", r->ctx->root, r->id, CRIU_ROOT);
  /* private: nothing of this reaches other mount namespaces. */
  if (mount(r->rootfs, r->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return kist_fail(err, errno, "bind %s on %s", r->rootfs, r->criu_root);
  r->mounted = true;
  if (mount(NULL, r->criu_root, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
    return kist_fail(err, errno, "make %s private", r->criu_root);
  return 0;
}

static void criu_root_unmount(struct restore *r)
{
  if (r->mounted && umount2(r->criu_root, MNT_DETACH) < 0)
    kist_debug("umount %s: %s", r->criu_root, strerror(errno));
  r->mounted = false;
  if (r->dirfd >= 0)
    unlinkat(r->dirfd, CRIU_ROOT, AT_REMOVEDIR);
}

static int restore_opts(struct restore *r, const struct kist_criu *lib, criu_opts *co,
                        kist_error_t *err)
{
  if (common_opts(lib, co, &r->o->c, r->cg_mode, r->imgfd, r->workfd, "restore.log", err) < 0)
    return -1;
  if (lib->set_root(co, r->criu_root) < 0)
    return kist_fail(err, ENOMEM, "criu: root");
  for (size_t i = 0; r->ii.mounts[i]; i++) {
    cleanup_free char *src = external_source(r->cfg, r->bundle, r->ii.mounts[i], err);
    if (src == NULL)
      return -1;
    if (lib->add_ext_mount(co, r->ii.mounts[i], src) < 0)
      return kist_fail(err, ENOMEM, "criu: external mount %s", r->ii.mounts[i]);
  }
  if (r->netfd >= 0 && lib->add_inherit_fd(co, r->netfd, NET_KEY) < 0)
    return kist_fail(err, ENOMEM, "criu: inherit the network namespace");
  /* The init's stdio pipes become ours (the same fd numbers). */
  for (int i = 0; i < 3; i++) {
    const char *s = r->ii.stdio[i];
    if (s && str_has_prefix(s, "pipe:") && lib->add_inherit_fd(co, i, s) < 0)
      return kist_fail(err, ENOMEM, "criu: inherit fd %d", i);
  }
  /* Podman passes these when it restores into a pod with SELinux labels. */
  if (r->o->lsm_profile) {
    if (lib->set_lsm_profile == NULL)
      return kist_fail(err, 0, "--lsm-profile: this libcriu lacks criu_local_set_lsm_profile");
    if (lib->set_lsm_profile(co, r->o->lsm_profile) < 0)
      return kist_fail(err, ENOMEM, "criu: lsm profile %s", r->o->lsm_profile);
  }
  if (r->o->lsm_mount_context) {
    if (lib->set_lsm_mount_context == NULL)
      return kist_fail(err, 0,
                       "--lsm-mount-context: this libcriu lacks criu_local_set_lsm_mount_context");
    if (lib->set_lsm_mount_context(co, r->o->lsm_mount_context) < 0)
      return kist_fail(err, ENOMEM, "criu: lsm mount context %s", r->o->lsm_mount_context);
  }
  if (r->console_fd >= 0)
    lib->set_orphan_pts_master(co, true);
  lib->set_notify_cb(co, notify_cb);
  if (lib->add_cg_root(co, NULL, kist_cgroup_path(r->cg)) < 0)
    return kist_fail(err, ENOMEM, "criu: cgroup root");
  return 0;
}

/* A checkpoint restored into a new container (Podman's restore --import)
 * meets a rootfs made afresh, without the mountpoints `create` made in it
 * (the file /run/.containerenv for a bind, say), and CRIU will not mount
 * onto a missing path. Make them as create does: a file for a bind of a
 * file, else a directory. Mountpoints below another mount of the config
 * are not in the rootfs: CRIU restores a tmpfs's content, the kernel
 * provides /proc's and /sys's, and a bind's live on in its source. */
static int restore_mountpoints(const struct restore *r, kist_error_t *err)
{
  cleanup_close int rootfd = open(r->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return kist_fail(err, errno, "restore: open the rootfs %s", r->rootfs);
  for (size_t i = 0; i < r->cfg->mounts_len; i++) {
    const oci_mount *m = r->cfg->mounts[i];
    cleanup_free char *dest = kist_path_clean(m->destination);
    bool below = false;
    for (size_t j = 0; j < r->cfg->mounts_len && !below; j++) {
      cleanup_free char *d = kist_path_clean(r->cfg->mounts[j]->destination);
      below = j != i && path_below(dest, d);
    }
    if (below || strcmp(dest, "/") == 0)
      continue;
    bool dir = true;
    if (kist_mount_is_bind(m) && m->source) {
      cleanup_free char *src =
        m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", r->bundle, m->source);
      struct stat st;
      if (stat(src, &st) < 0)
        return kist_fail(err, errno, "restore: mounts[%zu]: source %s", i, src);
      dir = S_ISDIR(st.st_mode);
    }
    int fd = dir ? kist_mkdir_in_root(rootfd, dest, 0755, err)
                 : kist_mkfile_in_root(rootfd, dest, 0644, err);
    if (fd < 0)
      return -1;
    close(fd);
  }
  return 0;
}

static int restore_spawn(struct restore *r, const struct kist_criu *lib, kist_error_t *err)
{
  r->dirfd = kist_state_dir_create(r->rootfd, r->id, err);
  if (r->dirfd < 0)
    return -1;
  {
    cleanup_close int fd =
      openat(r->dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, r->config_raw, r->config_len) < 0)
      return kist_fail(err, errno, "save the config of %s", r->id);
  }
  if (kist_cgroup_create(r->ctx, r->id, r->cfg, r->dirfd, &r->cg, err) < 0 ||
      kist_cgroup_save(r->cg, r->dirfd, err) < 0)
    return -1;
  if (restore_mountpoints(r, err) < 0 || criu_root_mount(r, err) < 0)
    return -1;
  criu_opts *co = NULL;
  if (lib->init_opts(&co) < 0)
    return kist_fail(err, ENOMEM, "criu: init options");
  int ret = restore_opts(r, lib, co, err);
  if (ret == 0)
    ret = restore_in_child(r, lib, co, err);
  lib->free_opts(co);
  criu_root_unmount(r);
  if (ret < 0)
    return -1;
  kist_state_fill(&r->st, r->id, r->bundle, r->rootfs, r->cfg, KIST_STATUS_RUNNING);
  r->st.pid = r->pid;
  if (kist_proc_stat(r->pid, NULL, &r->st.starttime) < 0)
    return kist_fail(err, errno, "read the start time of the restored init (pid %d)", (int)r->pid);
  if (kist_state_save(r->dirfd, &r->st, err) < 0)
    return -1;
  if (kist_pid_file_write(&r->pidfile, r->pid, err) < 0)
    return -1;
  flock(r->dirfd, LOCK_UN);
  return 0;
}

static void restore_teardown(struct restore *r)
{
  kist_error_t e = NULL;
  criu_root_unmount(r);
  if (r->cg) {
    if (kist_cgroup_owned(r->cg) && !kist_cgroup_is_empty(r->cg))
      (void)kist_cgroup_kill(r->cg, SIGKILL, &e);
    kist_error_release(&e);
    if (kist_cgroup_destroy(r->cg, &e) < 0)
      kist_log_error_release(&e);
  }
  /* A joined cgroup is never killed whole: the init is signalled itself
   * (our child, so the pid cannot be reused before the wait below). */
  if (r->pid > 0) {
    kill(r->pid, SIGKILL);
    while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (r->dirfd >= 0 && kist_state_remove(r->rootfd, r->id, &e) < 0)
    kist_log_error_release(&e);
}

/* In the foreground: forward signals to the restored init until it exits. */
static int wait_restored(pid_t pid, int *exit_status, kist_error_t *err)
{
  sigset_t set; /* what a foreground run forwards */
  kist_signal_forward_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  cleanup_close int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (sfd < 0 || pfd < 0)
    return kist_fail(err, errno, "wait for the restored process %d", (int)pid);
  struct kist_relay no_terminal = KIST_RELAY_INIT;
  int code = kist_wait_forwarding(pid, pfd, sfd, &no_terminal, err);
  if (code < 0)
    return -1;
  *exit_status = code;
  return 0;
}

int kist_container_restore(const struct kist_context *ctx, const char *id,
                           const struct kist_restore_opts *o, int *exit_status, kist_error_t *err)
{
  const struct kist_criu *lib;
  int mode;
  if (parse_cg_mode(o->c.cgroups_mode, &mode, err) < 0 || kist_criu_load(&lib, err) < 0)
    return -1;
  struct restore r = {.ctx = ctx, .id = id, .o = o, .cg_mode = mode, .pidfile = KIST_PID_FILE_INIT};
  r.rootfd = r.dirfd = r.imgfd = r.workfd = r.netfd = r.console_fd = -1;
  int ret = restore_prepare(&r, err);
  if (ret == 0 && (ret = restore_spawn(&r, lib, err)) < 0)
    restore_teardown(&r);
  pid_t pid = r.pid;
  if (r.cfg)
    free_oci_config(r.cfg);
  free(r.bundle);
  free(r.rootfs);
  free(r.config_raw);
  free(r.criu_root);
  image_info_free(&r.ii);
  if (r.cg)
    kist_cgroup_free(r.cg);
  int fds[] = {r.rootfd, r.dirfd, r.imgfd, r.workfd, r.netfd, r.console_fd};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  kist_pid_file_close(&r.pidfile);
  kist_state_clear(&r.st);
  if (ret < 0 || o->detach)
    return ret;
  if (wait_restored(pid, exit_status, err) < 0) {
    /* Nobody would wait for it: end it rather than leave it running. */
    kist_error_t ign = NULL;
    if (kist_container_delete(ctx, id, true, &ign) < 0)
      kist_log_error_release(&ign);
    return -1;
  }
  return kist_container_delete(ctx, id, true, err);
}
