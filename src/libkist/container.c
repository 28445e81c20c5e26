/* The lifecycle, the parent's side. create = validate everything, make the
 * state dir and cgroup, clone the init (init.c) into its namespaces and
 * cgroup, answer its requests over the sync socket, write the state. Any
 * failure tears down all of it and reports one line.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-self.h"
#include "config.h"
#include "container.h"
#include "devices.h"
#include "fmt.h"
#include "hooks.h"
#include "idmap.h"
#include "init.h"
#include "log.h"
#include "lsm.h"
#include "masks.h"
#include "mounts.h"
#include "namespaces.h"
#include "netdev.h"
#include "pidfile.h"
#include "process.h"
#include "rootless.h"
#include "seccomp.h"
#include "signals.h"
#include "sync.h"
#include "terminal.h"
#include "testhook.h"
#include "util.h"

#define START_SOCKET "start.sock"
#define CONFIG_COPY  "config.json"

/* ---- small helpers ---- */

static int signal_pid(int pidfd, pid_t pid, int sig)
{
  if (pidfd >= 0) {
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
      return 0;
    if (errno != ENOSYS)
      return -1;
  }
  return kill(pid, sig);
}

/* A unix socket address for <dir>/<name>; long state roots go through
 * /proc/self/fd/N since sun_path holds only 108 bytes. */
static socklen_t socket_addr(const char *dir, int dirfd, const char *name, struct sockaddr_un *sa)
{
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  int n = kist_snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= sizeof sa->sun_path)
    kist_snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, name);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
}

static char *abs_path(const char *path, const char *what, kist_error_t *err)
{
  char *p = realpath(path, NULL);
  if (p == NULL)
    kist_fail(err, errno, "%s %s", what, path);
  return p;
}

/* After asking the init to exec: EOF (execve closed the socket) is
 * success; an error message is the failure; a seccomp listener on the way
 * goes to linux.seccomp.listenerPath. cfg_for is called only then. */
struct exec_wait {
  const oci_config *(*cfg_for)(void *opaque, kist_error_t *err);
  void *opaque;
  const struct kist_state *st;
};

static int await_exec(int sock, struct exec_wait *w, int *exit_code, bool *hook_failed,
                      kist_error_t *err)
{
  char buf[KIST_SYNC_BUFSIZE];
  for (;;) {
    struct kist_sync_msg m;
    int fd = -1;
    if (kist_sync_recv(sock, &m, buf, sizeof buf, &fd, 1, err) < 0)
      return -1;
    if (m.type == 0)
      return 0;
    if (m.type == KIST_SYNC_ERROR) {
      if (fd >= 0)
        close(fd);
      if (exit_code && (m.value & 0xff))
        *exit_code = m.value & 0xff;
      if (hook_failed)
        *hook_failed = m.value & KIST_SYNC_HOOK_FAILED;
      if (err && *err == NULL)
        *err = kist_error_new(m.errnum, m.text ? m.text : "the container's init failed");
      return -1;
    }
    if (m.type != KIST_SYNC_SECCOMP_FD || fd < 0) {
      if (fd >= 0)
        close(fd);
      return kist_fail(err, EPROTO, "sync: unexpected message %u from the init", m.type);
    }
    cleanup_close int nfd = fd;
    const oci_config *cfg = w->cfg_for(w->opaque, err);
    if (cfg == NULL)
      return -1;
    const oci_config_linux_seccomp *sc = cfg->linux ? cfg->linux->seccomp : NULL;
    if (sc == NULL || sc->listener_path == NULL)
      return kist_fail(err, 0, "linux.seccomp.listenerPath: missing for a NOTIFY listener");
    cleanup_free char *state = kist_state_json(w->st, KIST_STATUS_RUNNING, true);
    cleanup_free char *json =
      kist_seccomp_process_state_json(w->st->pid, sc->listener_metadata, state);
    if (kist_seccomp_send_listener(sc->listener_path, nfd, json, err) < 0)
      return -1;
  }
}

/* ---- create ---- */

struct creation {
  const struct kist_context *ctx;
  const char *id;
  const struct kist_create_opts *o;
  oci_config *cfg;
  char *bundle, *rootfs, *dir;
  char *config_raw;
  size_t config_len;
  struct kist_ns_plan ns;
  struct kist_seccomp *seccomp;
  int *idmap_fds; /* detached idmapped mounts for the init (idmap.c) */
  int console_fd;
  struct kist_pid_file pidfile;
  int rootfd, dirfd;
  struct kist_cgroup *cg;
  struct kist_cg_self cg_self; /* the init enters its v1 cgroups itself */
  int sync_fd;
  pid_t pid, helper;
  int pidfd;
  bool relay_tty;       /* run in the foreground relays the terminal itself */
  bool hook_failed;     /* a create/start hook failed: teardown runs poststop */
  bool pidfile_written; /* teardown removes it */
  int netns_fd;         /* the init's network namespace once netDevices moved in, else -1 */
  struct kist_state st;
};

static void creation_init(struct creation *c, const struct kist_context *ctx, const char *id,
                          const struct kist_create_opts *o)
{
  memset(c, 0, sizeof *c);
  c->ctx = ctx;
  c->id = id;
  c->o = o;
  c->console_fd = c->rootfd = c->dirfd = c->sync_fd = c->pidfd = -1;
  c->pidfile = (struct kist_pid_file)KIST_PID_FILE_INIT;
  c->cg_self.v2_fd = -1;
  c->netns_fd = -1;
  for (int k = 0; k < KIST_NS_COUNT; k++)
    c->ns.join_fd[k] = -1;
}

static void creation_free(struct creation *c)
{
  if (c->cfg) {
    kist_idmap_close(c->idmap_fds, c->cfg->mounts_len);
    free_oci_config(c->cfg);
  }
  free(c->bundle);
  free(c->rootfs);
  free(c->dir);
  free(c->config_raw);
  kist_pid_file_close(&c->pidfile);
  kist_ns_plan_release(&c->ns);
  if (c->seccomp)
    kist_seccomp_free(c->seccomp);
  kist_cgroup_self_release(&c->cg_self);
  if (c->cg)
    kist_cgroup_free(c->cg);
  int fds[] = {c->console_fd, c->rootfd, c->dirfd, c->sync_fd, c->pidfd, c->netns_fd};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  kist_state_clear(&c->st);
}

/* Undoes a failed create: the init, its cgroup, the state dir. */
static void creation_teardown(struct creation *c)
{
  if (c->netns_fd >= 0)
    kist_netdev_return(c->cfg, c->netns_fd);
  if (c->pid > 0) {
    signal_pid(c->pidfd, c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (c->helper > 0) {
    kill(c->helper, SIGKILL);
    while (waitpid(c->helper, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  /* run releases the lock once created: take it back before removing. */
  if (c->dirfd >= 0)
    flock(c->dirfd, LOCK_EX);
  kist_error_t e2 = NULL;
  if (c->cg) {
    /* createContainer hooks may have left processes behind. */
    if (kist_cgroup_owned(c->cg) && !kist_cgroup_is_empty(c->cg))
      (void)kist_cgroup_kill(c->cg, SIGKILL, &e2);
    kist_error_release(&e2);
    if (kist_cgroup_destroy(c->cg, &e2) < 0)
      kist_log_error_release(&e2);
  }
  /* A failed hook continues the lifecycle at "destroy", then poststop. */
  if (c->hook_failed && c->cfg->hooks && c->cfg->hooks->poststop_len > 0) {
    cleanup_free char *json = kist_state_json(&c->st, KIST_STATUS_STOPPED, true);
    kist_hooks_run_warn(c->cfg->hooks->poststop, c->cfg->hooks->poststop_len, "poststop", json);
  }
  if (c->dirfd >= 0 && kist_state_remove(c->rootfd, c->id, &e2) < 0)
    kist_log_error_release(&e2);
  if (c->pidfile_written && unlinkat(c->pidfile.dirfd, c->pidfile.base, 0) < 0 && errno != ENOENT)
    kist_debug("remove the pid file %s: %s", c->pidfile.base, strerror(errno));
}

/* Everything that can be checked before anything exists. */
/* Without a mount namespace of its own the container shares the runtime's
 * mount table: anything the config wants mounted, masked or remounted would
 * change the host, so such a config is refused (the container only gets a
 * chroot into root.path then). */
static int check_shared_mnt(const oci_config *cfg, kist_error_t *err)
{
  static const char why[] = "needs a mount namespace of the container's own "
                            "(linux.namespaces has no new or joined mount namespace)";
  const oci_config_linux *l = cfg->linux;
  if (cfg->mounts_len > 0)
    return kist_fail(err, 0, "mounts: %s", why);
  if (l && l->masked_paths_len > 0)
    return kist_fail(err, 0, "linux.maskedPaths: %s", why);
  if (l && l->readonly_paths_len > 0)
    return kist_fail(err, 0, "linux.readonlyPaths: %s", why);
  if (l && l->devices_len > 0)
    return kist_fail(err, 0, "linux.devices: %s", why);
  if (l && l->rootfs_propagation)
    return kist_fail(err, 0, "linux.rootfsPropagation: %s", why);
  if (cfg->root->readonly_present && cfg->root->readonly)
    return kist_fail(err, 0, "root.readonly: %s", why);
  return 0;
}

static int creation_prepare(struct creation *c, bool foreground, kist_error_t *err)
{
  const struct kist_create_opts *o = c->o;
  if (kist_id_validate(c->id, err) < 0)
    return -1;
  if (o->preserve_fds < 0)
    return kist_fail(err, 0, "--preserve-fds: must not be negative");
  c->rootfd = kist_state_root_open(c->ctx->root, true, err);
  if (c->rootfd < 0)
    return -1;
  struct stat sb;
  if (fstatat(c->rootfd, c->id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return kist_fail(err, 0, "container %s already exists", c->id);
  if (o->bundle && kist_config_bundle_check(o->bundle, err) < 0)
    return -1;
  c->bundle = abs_path(o->bundle ? o->bundle : ".", "bundle", err);
  if (c->bundle == NULL)
    return -1;
  if (kist_config_load_raw(c->bundle, &c->cfg, &c->config_raw, &c->config_len, err) < 0)
    return -1;

  const oci_config *cfg = c->cfg;
  if (kist_mounts_validate(cfg, err) < 0)
    return -1;
  cleanup_free char *rp = cfg->root->path[0] == '/'
                            ? xstrdup(cfg->root->path)
                            : xasprintf("%s/%s", c->bundle, cfg->root->path);
  c->rootfs = abs_path(rp, "root.path:", err);
  if (c->rootfs == NULL)
    return -1;
  if (stat(c->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
    return kist_fail(err, 0, "root.path: %s is not a directory", c->rootfs);
  if (kist_ns_plan(cfg, &c->ns, err) < 0)
    return -1;
  if (kist_netdev_validate(cfg, &c->ns, err) < 0)
    return -1;
  if (kist_rootless_check(cfg, &c->ns, err) < 0)
    return -1;
  if (!c->ns.private_mnt && check_shared_mnt(cfg, err) < 0)
    return -1;
  if (kist_devices_validate(cfg, err) < 0 || kist_masks_validate(cfg, err) < 0)
    return -1;
  if (kist_process_validate(cfg, err) < 0)
    return -1;
  if (kist_cgroup_validate(c->ctx, c->id, cfg, err) < 0)
    return -1;
  kist_seccomp_set_cache_dir(c->ctx->root);
  if (kist_seccomp_prepare(cfg, &c->seccomp, err) < 0)
    return -1;

  bool tty = cfg->process && cfg->process->terminal_present && cfg->process->terminal;
  if (tty && o->console_socket == NULL) {
    if (!foreground)
      return kist_fail(err, 0,
                       "process.terminal is true: --console-socket is required to receive it");
    c->relay_tty = true;
    /* The caller's size, set before the process starts (as exec does). */
    oci_config_process_console_size size;
    if (kist_terminal_size_of(0, &size)) {
      free_oci_config_process_console_size(c->cfg->process->console_size);
      c->cfg->process->console_size = xzalloc(sizeof size);
      *c->cfg->process->console_size = size;
    }
  }
  if (tty && o->console_socket) {
    c->console_fd = kist_console_socket_connect(o->console_socket, err);
    if (c->console_fd < 0)
      return -1;
  }
  if (kist_pid_file_open(o->pid_file, &c->pidfile, err) < 0)
    return -1;
  return 0;
}

static int clone_init(struct creation *c, int flags, int cgfd)
{
  struct clone_args ca = {
    .flags = (uint64_t)flags | CLONE_PIDFD | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
    .pidfd = (uint64_t)(uintptr_t)&c->pidfd,
    .exit_signal = SIGCHLD,
    .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
  };
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && errno == ENOSYS) {
    c->pidfd = -1;
    pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
  }
  return (int)pid;
}

static void fill_state(struct creation *c, enum kist_status status)
{
  kist_state_fill(&c->st, c->id, c->bundle, c->rootfs, c->cfg, status);
  c->st.pid = c->pid;
}

static int run_create_hooks(struct creation *c, kist_error_t *err)
{
  const oci_config_hooks *h = c->cfg->hooks;
  if (h == NULL)
    return 0;
  cleanup_free char *json = kist_state_json(&c->st, KIST_STATUS_CREATING, true);
  if (h->prestart_len > 0 &&
      kist_hooks_run(h->prestart, h->prestart_len, "prestart", json, err) < 0)
    return -1;
  if (h->create_runtime_len > 0 &&
      kist_hooks_run(h->create_runtime, h->create_runtime_len, "createRuntime", json, err) < 0)
    return -1;
  return 0;
}

/* linux.netDevices, once: the init's network namespace exists by the time
 * it asks for hooks or says it is ready. Its fd is kept so a failing create
 * can still hand the interfaces back after the init is gone. */
static int move_net_devices(struct creation *c, kist_error_t *err)
{
  if (c->netns_fd >= 0 || !kist_netdev_wanted(c->cfg))
    return 0;
  return kist_netdev_move(c->cfg, c->pid, &c->netns_fd, err);
}

/* The init closed the sync socket without a word: it died. Say how, and
 * which limit was too low when the memory cgroup saw an OOM kill (a limit
 * under what the init needs to start is written before it enters). */
static int init_died(struct creation *c, kist_error_t *err)
{
  int status = 0;
  pid_t r = 0;
  /* Dying, not dead yet: an OOM kill of a big init takes a while on a busy
   * host. Up to 10 s, woken by the pidfd when there is one. */
  if (c->pidfd >= 0) {
    struct pollfd p = {c->pidfd, POLLIN, 0};
    while (poll(&p, 1, 10000) < 0 && errno == EINTR)
      ;
  }
  for (int i = 0; i < 1000 && c->pid > 0; i++) {
    r = waitpid(c->pid, &status, WNOHANG);
    if (r != 0 && !(r < 0 && errno == EINTR))
      break;
    usleep(10000);
  }
  if (r <= 0 || r != c->pid)
    return kist_fail(err, 0, "the container's init exited during setup");
  c->pid = 0; /* reaped: teardown must not signal or wait for it again */
  if (WIFEXITED(status))
    return kist_fail(err, 0, "the container's init exited with status %d during setup",
                     WEXITSTATUS(status));
  const oci_config_linux *lin = c->cfg->linux;
  const oci_config_linux_resources_memory *mem =
    lin && lin->resources ? lin->resources->memory : NULL;
  if (WTERMSIG(status) == SIGKILL && kist_cgroup_oom_kills(c->cg) > 0) {
    if (mem && mem->limit_present && mem->limit > 0)
      return kist_fail(err, 0,
                       "the container's init was killed by the OOM killer during setup: "
                       "linux.resources.memory.limit %lld is too low",
                       (long long)mem->limit);
    return kist_fail(err, 0, "the container's init was killed by the OOM killer during setup");
  }
  return kist_fail(err, 0, "the container's init was killed by %s during setup",
                   kist_signal_name(WTERMSIG(status)));
}

/* Serves the init until it is ready. */
static int creation_talk(struct creation *c, int *exit_code, kist_error_t *err)
{
  char buf[KIST_SYNC_BUFSIZE];
  bool reset = false;
  for (;;) {
    struct kist_sync_msg m;
    kist_error_t e = NULL;
    if (kist_sync_recv(c->sync_fd, &m, buf, sizeof buf, NULL, 1, &e) < 0) {
      /* A peer that dies with our message unread (DONE is sent early)
       * resets the connection, and the reset is reported before what it
       * sent last: read once more for its error, else EOF. */
      if (kist_error_errno(e) == ECONNRESET) {
        kist_error_release(&e);
        if (!reset) {
          reset = true;
          continue;
        }
        return init_died(c, err);
      }
      if (err && *err == NULL)
        *err = e;
      else
        kist_error_release(&e);
      return -1;
    }
    switch (m.type) {
    case 0: /* end of file */
      return init_died(c, err);
    case KIST_SYNC_USERNS:
      if (kist_ns_write_id_maps(c->pid, c->cfg, err) < 0 ||
          kist_sync_send(c->sync_fd, KIST_SYNC_USERNS_DONE, 0, NULL, -1, err) < 0)
        return -1;
      break;
    case KIST_SYNC_PID:
      /* The first child forked the real init (as our child) and exits. */
      c->helper = c->pid;
      c->pid = m.value;
      while (waitpid(c->helper, NULL, 0) < 0 && errno == EINTR)
        ;
      c->helper = 0;
      if (c->pidfd >= 0)
        close(c->pidfd);
      c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
      if (kist_sync_send(c->sync_fd, KIST_SYNC_GO, c->pid, NULL, -1, err) < 0)
        return -1;
      break;
    case KIST_SYNC_HOOKS:
      c->st.pid = c->pid;
      if (move_net_devices(c, err) < 0)
        return -1;
      if (run_create_hooks(c, err) < 0) {
        c->hook_failed = true;
        return -1;
      }
      if (kist_sync_send(c->sync_fd, KIST_SYNC_HOOKS_DONE, 0, NULL, -1, err) < 0)
        return -1;
      break;
    case KIST_SYNC_READY:
      return move_net_devices(c, err);
    case KIST_SYNC_ERROR:
      c->hook_failed = m.value & KIST_SYNC_HOOK_FAILED;
      if (exit_code)
        *exit_code = m.value & 0xff;
      if (err && *err == NULL)
        *err = kist_error_new(m.errnum, m.text ? m.text : "the container's init failed");
      return -1;
    default:
      return kist_fail(err, EPROTO, "sync: unexpected message %u from the init", m.type);
    }
  }
}

/* The init's start time, state.json and the pid file: what must exist
 * before DONE lets the init go on once it is ready. */
static int save_created(struct creation *c, kist_error_t *err)
{
  c->st.pid = c->pid;
  if (kist_proc_stat(c->pid, NULL, &c->st.starttime) < 0)
    return kist_fail(err, errno, "read the start time of the init (pid %d)", (int)c->pid);
  if (kist_state_save(c->dirfd, &c->st, err) < 0)
    return -1;
  if (c->pidfile.dirfd >= 0) {
    if (kist_pid_file_write(&c->pidfile, c->pid, err) < 0)
      return -1;
    c->pidfile_written = true;
  }
  kist_test_point("create:saved");
  return 0;
}

static int creation_spawn(struct creation *c, bool start_now, int *exit_code, kist_error_t *err)
{
  const oci_config *cfg = c->cfg;
  c->dirfd = kist_state_dir_create(c->rootfd, c->id, err);
  if (c->dirfd < 0)
    return -1;
  c->dir = xasprintf("%s/%s", c->ctx->root, c->id);
  kist_test_point("create:statedir");
  cleanup_close int lfd = -1;
  cleanup_close int child_end = -1;
  int sp[2];

  /* The config as it is now: later edits of the bundle must not matter. */
  {
    cleanup_close int fd =
      openat(c->dirfd, CONFIG_COPY, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, c->config_raw, c->config_len) < 0) {
      kist_fail(err, errno, "save the config of %s", c->id);
      goto fail;
    }
  }
  if (kist_cgroup_create(c->ctx, c->id, cfg, c->dirfd, &c->cg, err) < 0)
    goto fail;
  if (kist_cgroup_save(c->cg, c->dirfd, err) < 0)
    goto fail;
  kist_test_point("create:cgroup");
  if (!start_now) {
    struct sockaddr_un sa;
    socklen_t len = socket_addr(c->dir, c->dirfd, START_SOCKET, &sa);
    lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, len) < 0 || listen(lfd, 4) < 0) {
      kist_fail(err, errno, "start socket of %s", c->id);
      goto fail;
    }
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    kist_fail(err, errno, "socketpair");
    goto fail;
  }
  c->sync_fd = sp[0];
  child_end = sp[1];
  if (kist_idmap_open(cfg, c->bundle, &c->idmap_fds, err) < 0)
    goto fail;

  /* Fast path: clone makes every namespace at once. Joins (and time
   * namespaces, whose offsets must be set before anyone enters) need the
   * init to do it step by step. A cgroup namespace is made at clone only
   * when clone also places the init in its cgroup. */
  int cgfd = kist_cgroup_v2_fd(c->cg);
  if (kist_cgroup_self_prepare(c->cg, &c->cg_self, err) < 0)
    goto fail;
  bool self_enter = c->cg_self.n > 0;
  if (self_enter)
    cgfd = c->cg_self.v2_fd; /* hybrid: clone places it in the v2 part */
  bool slow = c->ns.joins || (c->ns.new_flags & CLONE_NEWTIME);
  int flags = slow ? 0 : c->ns.new_flags;
  if (cgfd < 0 || self_enter)
    flags &= ~CLONE_NEWCGROUP;
  struct kist_init_args args = {
    .ctx = c->ctx,
    .id = c->id,
    .cfg = cfg,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .sync_fd = child_end,
    .listen_fd = lfd,
    .console_fd = c->console_fd,
    .preserve_fds = c->o->preserve_fds,
    .no_pivot = c->o->no_pivot,
    .no_new_keyring = c->o->no_new_keyring,
    .ns = &c->ns,
    .clone_flags = flags,
    .slow_path = slow,
    .seccomp = c->seccomp,
    .idmap_fds = c->idmap_fds,
    .cg_self = self_enter ? &c->cg_self : NULL,
  };
  /* No fflush first: the init only ever execs or _exits, so it never writes
   * its copy of the caller's stdio buffers. */
  int pid = clone_init(c, flags, cgfd);
  if (pid < 0 && cgfd >= 0 && errno != ENOSYS) {
    /* e.g. a cgroup that does not accept CLONE_INTO_CGROUP: enter later. */
    cgfd = -1;
    args.clone_flags = flags &= ~CLONE_NEWCGROUP;
    pid = clone_init(c, flags, -1);
  }
  if (pid < 0) {
    kist_fail(err, errno, "clone the container's init");
    goto fail;
  }
  if (pid == 0) {
    args.into_cgroup = cgfd >= 0;
    kist_init_main(&args);
  }
  c->pid = pid;
  kist_idmap_close(c->idmap_fds, cfg->mounts_len); /* the init has its copies */
  c->idmap_fds = NULL;
  kist_test_point("create:clone");
  close(steal_fd(&child_end));
  if (lfd >= 0)
    close(steal_fd(&lfd));

  if (!slow && (flags & CLONE_NEWUSER) && kist_ns_write_id_maps(pid, cfg, err) < 0)
    goto fail;
  /* Self-entering, we still write the pids when clone could not place
   * the init in the hybrid v2 dir (the v1 writes then repeat its own). */
  bool enter = self_enter ? c->cg_self.v2_fd >= 0 && cgfd < 0 : cgfd < 0;
  kist_cgroup_self_release(&c->cg_self);
  if (enter && kist_cgroup_enter(c->cg, pid, err) < 0)
    goto fail;
  fill_state(c, start_now ? KIST_STATUS_RUNNING : KIST_STATUS_CREATED);
  if (kist_sync_send(c->sync_fd, KIST_SYNC_GO, pid, NULL, -1, err) < 0)
    goto fail;
  /* With nothing to serve before READY (one process from clone on, no
   * prestart/createRuntime/createContainer hooks, no network devices to
   * move), the state is saved and DONE queued while the init sets up: it
   * goes on at READY without waiting for us. A failed setup still undoes
   * it all (teardown). */
  const oci_config_hooks *h = cfg->hooks;
  bool early = !slow && !kist_netdev_wanted(cfg) &&
               !(h && (h->prestart_len || h->create_runtime_len || h->create_container_len));
  kist_error_t done_err = NULL;
  if (early && save_created(c, err) < 0)
    goto fail;
  /* An init that failed at once has closed its end: what it sent says why
   * (creation_talk), not our EPIPE. */
  if (early)
    (void)kist_sync_send(c->sync_fd, KIST_SYNC_DONE, start_now, NULL, -1, &done_err);
  if (creation_talk(c, exit_code, err) < 0) {
    kist_error_release(&done_err);
    goto fail;
  }
  kist_test_point("create:ready");
  if (done_err) {
    if (err && *err == NULL)
      *err = done_err;
    else
      kist_error_release(&done_err);
    goto fail;
  }
  if (!early && (save_created(c, err) < 0 ||
                 kist_sync_send(c->sync_fd, KIST_SYNC_DONE, start_now, NULL, -1, err) < 0))
    goto fail;
  /* Created: from now on kill, delete -f, state must not wait for us (run
   * keeps going for the life of the process). */
  kist_test_point("create:done");
  flock(c->dirfd, LOCK_UN);
  return 0;

fail:
  creation_teardown(c);
  return -1;
}

int kist_container_create(const struct kist_context *ctx, const char *id,
                          const struct kist_create_opts *o, kist_error_t *err)
{
  struct creation c;
  creation_init(&c, ctx, id, o);
  int r = creation_prepare(&c, false, err);
  if (r == 0)
    r = creation_spawn(&c, false, NULL, err);
  creation_free(&c);
  return r;
}

/* ---- open / load ---- */

int kist_container_open(const struct kist_context *ctx, const char *id, int lock_op,
                        struct kist_container **out, kist_error_t *err)
{
  if (kist_id_validate(id, err) < 0)
    return -1;
  /* Our own error first: a missing state root is reported as a missing
   * container, without touching an error the caller already holds. */
  kist_error_t e2 = NULL;
  int rootfd = kist_state_root_open(ctx->root, false, &e2);
  if (rootfd < 0) {
    if (kist_error_errno(e2) == ENOENT) {
      kist_error_release(&e2);
      return kist_fail_take(err, ENOENT, xasprintf("container %s does not exist", id));
    }
    if (err && *err == NULL)
      *err = e2;
    else
      kist_error_release(&e2);
    return -1;
  }
  int dirfd = kist_state_dir_open(rootfd, id, lock_op, err);
  if (dirfd < 0) {
    close(rootfd);
    return -1;
  }
  struct kist_container *c = xzalloc(sizeof *c);
  c->ctx = ctx;
  c->rootfd = rootfd;
  c->dirfd = dirfd;
  c->dir = xasprintf("%s/%s", ctx->root, id);
  if (kist_state_load(dirfd, id, &c->st, err) < 0) {
    kist_container_close(c);
    return -1;
  }
  if (c->st.status == KIST_STATUS_CREATING && lock_op == LOCK_EX)
    c->st.status = KIST_STATUS_STOPPED; /* we hold the lock: no create is running */
  else
    kist_state_refresh(ctx, dirfd, &c->st);
  *out = c;
  return 0;
}

int kist_container_config(struct kist_container *c, const oci_config **cfg, kist_error_t *err)
{
  if (c->cfg == NULL && kist_config_load(c->dir, &c->cfg, err) < 0)
    return -1;
  *cfg = c->cfg;
  return 0;
}

int kist_container_cgroup(struct kist_container *c, struct kist_cgroup **cg, kist_error_t *err)
{
  if (c->cg == NULL && kist_cgroup_load(c->ctx, c->dirfd, &c->cg, err) < 0)
    return -1;
  *cg = c->cg;
  return 0;
}

int kist_container_pidfd(struct kist_container *c, kist_error_t *err)
{
  return kist_state_pidfd(&c->st, err);
}

void kist_container_close(struct kist_container *c)
{
  if (c == NULL)
    return;
  if (c->cfg)
    free_oci_config(c->cfg);
  if (c->cg)
    kist_cgroup_free(c->cg);
  if (c->dirfd >= 0)
    close(c->dirfd);
  if (c->rootfd >= 0)
    close(c->rootfd);
  free(c->dir);
  kist_state_clear(&c->st);
  free(c);
}

/* ---- start ---- */

static int destroy(struct kist_container *c, bool kill_first, kist_error_t *err);

/* Kills every process of the container: cgroup-wide when possible. */
static int kill_all(struct kist_container *c, int sig, kist_error_t *err)
{
  struct kist_cgroup *cg = NULL;
  kist_error_t e2 = NULL;
  /* Only a cgroup kist made is signalled as a whole; in a joined one the
   * init is signalled by pid. */
  if (kist_container_cgroup(c, &cg, &e2) == 0 && cg && kist_cgroup_owned(cg)) {
    if (kist_cgroup_kill(cg, sig, err) < 0)
      return -1;
    if (kist_cgroup_is_frozen(cg) && kist_cgroup_thaw(cg, &e2) < 0)
      kist_error_release(&e2);
    return 0;
  }
  bool tree = cg && kist_cgroup_none(cg);
  kist_error_release(&e2);
  cleanup_close int pidfd = kist_state_pidfd(&c->st, &e2);
  if (pidfd < 0) {
    kist_error_release(&e2);
    return 0;
  }
  if (tree) /* no cgroup (rootless): the init and its descendants */
    return kist_proc_tree_kill(pidfd, c->st.pid, sig, err);
  if (signal_pid(pidfd, c->st.pid, sig) < 0 && errno != ESRCH)
    return kist_fail(err, errno, "kill container %s", c->st.id);
  return 0;
}

static int run_hooks_from_config(struct kist_container *c, const char *stage, kist_error_t *err)
{
  const oci_config *cfg;
  if (kist_container_config(c, &cfg, err) < 0)
    return -1;
  if (cfg->hooks == NULL)
    return 0;
  bool post_start = strcmp(stage, "poststart") == 0;
  oci_hook **hooks = post_start ? cfg->hooks->poststart : cfg->hooks->poststop;
  size_t n = post_start ? cfg->hooks->poststart_len : cfg->hooks->poststop_len;
  cleanup_free char *json = kist_state_json(&c->st, c->st.status, true);
  return kist_hooks_run(hooks, n, stage, json, err);
}

static const char *status_for_error(enum kist_status s)
{
  return s == KIST_STATUS_CREATING ? "still being created" : kist_status_name(s);
}

static const oci_config *container_cfg(void *opaque, kist_error_t *err)
{
  const oci_config *cfg = NULL;
  if (kist_container_config(opaque, &cfg, err) < 0)
    return NULL;
  return cfg;
}

/* Asks the waiting init to exec; EOF (the socket closed by execve) is
 * success, an error message is the failure. */
static int request_start(struct kist_container *c, int *exit_code, bool *hook_failed,
                         kist_error_t *err)
{
  struct sockaddr_un sa;
  socklen_t len = socket_addr(c->dir, c->dirfd, START_SOCKET, &sa);
  cleanup_close int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, len) < 0)
    return kist_fail(err, errno, "start container %s: connect to its init", c->st.id);
  if (kist_sync_send(s, KIST_SYNC_START, 0, NULL, -1, err) < 0)
    return -1;
  struct exec_wait w = {.cfg_for = container_cfg, .opaque = c, .st = &c->st};
  return await_exec(s, &w, exit_code, hook_failed, err);
}

int kist_container_start(const struct kist_context *ctx, const char *id, kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, LOCK_EX, &c, err) < 0)
    return -1;
  int ret = -1;
  if (c->st.status != KIST_STATUS_CREATED) {
    kist_fail(err, 0, "cannot start container %s: it is %s", id, status_for_error(c->st.status));
    goto out;
  }
  bool hook_failed = false;
  kist_test_point("start:locked");
  if (request_start(c, NULL, &hook_failed, err) < 0) {
    /* startContainer failed: the spec continues at destroy + poststop. */
    if (hook_failed) {
      kist_error_t e2 = NULL;
      c->st.status = KIST_STATUS_STOPPED;
      if (destroy(c, true, &e2) < 0)
        kist_log_error_release(&e2);
    }
    goto out;
  }
  kist_test_point("start:exec");
  (void)unlinkat(c->dirfd, START_SOCKET, 0);
  c->st.status = KIST_STATUS_RUNNING;
  if (kist_state_save(c->dirfd, &c->st, err) < 0)
    goto out;
  kist_test_point("start:saved");
  if (c->st.flags & KIST_STATE_POSTSTART) {
    if (run_hooks_from_config(c, "poststart", err) < 0) {
      /* runtime.md step 9: error, stop the container, then destroy it and
       * run poststop (steps 12 and 13). */
      kist_error_t e2 = NULL;
      c->st.status = KIST_STATUS_STOPPED;
      if (destroy(c, true, &e2) < 0)
        kist_log_error_release(&e2);
      goto out;
    }
  }
  ret = 0;
out:
  kist_container_close(c);
  return ret;
}

/* ---- kill ---- */

int kist_container_kill(const struct kist_context *ctx, const char *id, int sig, bool all,
                        kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, 0, &c, err) < 0)
    return -1;
  int ret = -1;
  /* Before the first goto: its cleanup runs at every return. */
  cleanup_close int pidfd = -1;
  enum kist_status s = c->st.status;
  /* A stopped container may still have processes in its cgroup (no pid
   * namespace of its own): --all reaches them, as runc's does, and finds
   * nothing to do otherwise. Without --all, ESRCH: engines (containerd's
   * shim) read "No such process" as "already gone", not as a failure. */
  if (s == KIST_STATUS_CREATING || (s == KIST_STATUS_STOPPED && !all)) {
    kist_fail(err, s == KIST_STATUS_STOPPED ? ESRCH : 0, "cannot kill container %s: it is %s", id,
              status_for_error(s));
    goto out;
  }
  if (all) {
    struct kist_cgroup *cg = NULL;
    if (kist_container_cgroup(c, &cg, err) < 0)
      goto out;
    if (cg == NULL) {
      kist_fail(err, 0, "kill --all: container %s has no cgroup", id);
      goto out;
    }
    if (kist_cgroup_none(cg)) {
      /* Rootless without a cgroup: the init's process tree. */
      kist_error_t e3 = NULL;
      cleanup_close int pfd = kist_state_pidfd(&c->st, &e3);
      if (pfd < 0) {
        kist_error_release(&e3);
        kist_fail(err, ESRCH, "kill container %s", id);
        goto out;
      }
      ret = kist_proc_tree_kill(pfd, c->st.pid, sig, err);
      goto out;
    }
    ret = kist_cgroup_kill(cg, sig, err);
    goto out;
  }
  kist_error_t e2 = NULL;
  pidfd = kist_state_pidfd(&c->st, &e2);
  if (pidfd < 0 && kist_error_errno(e2) != ENOSYS) {
    if (err && *err == NULL)
      *err = e2;
    else
      kist_error_release(&e2);
    goto out;
  }
  kist_error_release(&e2);
  if (signal_pid(pidfd, c->st.pid, sig) < 0) {
    kist_fail(err, errno, "kill container %s (pid %d)", id, (int)c->st.pid);
    goto out;
  }
  if (sig == SIGKILL) {
    /* A frozen task dies only once thawed (the v1 freezer holds even
     * SIGKILL): as runc does, KILL resumes a paused container. */
    struct kist_cgroup *cg = NULL;
    if (kist_container_cgroup(c, &cg, &e2) == 0 && cg && kist_cgroup_owned(cg) &&
        kist_cgroup_is_frozen(cg) && kist_cgroup_thaw(cg, &e2) < 0)
      kist_log_error_release(&e2);
    kist_error_release(&e2);
  }
  ret = 0;
out:
  kist_container_close(c);
  return ret;
}

/* ---- delete ---- */

static void wait_gone(struct kist_container *c, int timeout_ms)
{
  kist_error_t e2 = NULL;
  cleanup_close int pidfd = kist_state_pidfd(&c->st, &e2);
  kist_error_release(&e2);
  if (pidfd >= 0) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
      ;
  }
}

/* Kills what is left, destroys the cgroup, runs poststop, removes the state. */
static int destroy(struct kist_container *c, bool kill_first, kist_error_t *err)
{
  struct kist_cgroup *cg = NULL;
  kist_error_t e2 = NULL;
  if (kist_container_cgroup(c, &cg, &e2) < 0) {
    kist_warn("container %s: %s", c->st.id, kist_error_message(e2));
    kist_error_release(&e2);
  }
  if (kill_first || (cg && kist_cgroup_owned(cg) && !kist_cgroup_is_empty(cg))) {
    if (kill_all(c, SIGKILL, err) < 0)
      return -1;
    kist_test_point("delete:killed");
    wait_gone(c, 10000);
  }
  if (cg && kist_cgroup_destroy(cg, err) < 0)
    return -1;
  kist_test_point("delete:cgroup");
  c->st.status = KIST_STATUS_STOPPED;
  if (c->st.flags & KIST_STATE_POSTSTOP) {
    /* Failures are warnings and the other hooks still run (runtime.md). */
    const oci_config *cfg;
    if (kist_container_config(c, &cfg, &e2) < 0) {
      kist_warn("poststop: %s", kist_error_message(e2));
      kist_error_release(&e2);
    } else if (cfg->hooks) {
      cleanup_free char *json = kist_state_json(&c->st, KIST_STATUS_STOPPED, true);
      kist_hooks_run_warn(cfg->hooks->poststop, cfg->hooks->poststop_len, "poststop", json);
    }
  }
  return kist_state_remove(c->rootfd, c->st.id, err);
}

/* delete --force of a container whose state.json cannot be read (a full
 * disk, a hand edit): the processes and cgroups its cgroup record names are
 * still killed and removed, then the state dir. Its pid and hooks are lost. */
static int delete_corrupt(const struct kist_context *ctx, const char *id, kist_error_t *err)
{
  struct kist_container *c = xzalloc(sizeof *c);
  c->ctx = ctx;
  c->dirfd = -1;
  c->rootfd = kist_state_root_open(ctx->root, false, err);
  if (c->rootfd >= 0)
    c->dirfd = kist_state_dir_open(c->rootfd, id, LOCK_EX, err);
  int ret = -1;
  if (c->dirfd >= 0) {
    c->dir = xasprintf("%s/%s", ctx->root, id);
    c->st.id = xstrdup(id);
    c->st.status = KIST_STATUS_STOPPED;
    ret = destroy(c, true, err);
  }
  kist_container_close(c);
  return ret;
}

int kist_container_delete(const struct kist_context *ctx, const char *id, bool force,
                          kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, LOCK_EX, &c, err) < 0) {
    if (force && kist_error_errno(*err) == ENOENT) {
      kist_error_release(err);
      return 0;
    }
    if (force && kist_error_errno(*err) == EBADMSG) {
      kist_warn("%s: deleting it anyway", kist_error_message(*err));
      kist_error_release(err);
      return delete_corrupt(ctx, id, err);
    }
    return -1;
  }
  int ret = -1;
  bool stopped = c->st.status == KIST_STATUS_STOPPED;
  if (!stopped && !force) {
    kist_fail(err, 0, "cannot delete container %s: it is %s (stop it first, or use --force)", id,
              status_for_error(c->st.status));
    goto out;
  }
  ret = destroy(c, !stopped, err);
out:
  kist_container_close(c);
  return ret;
}

/* ---- state, list ---- */

int kist_container_state(const struct kist_context *ctx, const char *id, char **json,
                         kist_error_t *err)
{
  struct kist_container *c = NULL;
  if (kist_container_open(ctx, id, 0, &c, err) < 0)
    return -1;
  *json = kist_state_json(&c->st, c->st.status, false);
  kist_container_close(c);
  return 0;
}

/* ---- run ---- */

struct foreground {
  int sigfd;
  struct kist_relay t;
};

int kist_wait_forwarding(pid_t pid, int pidfd, int sigfd, struct kist_relay *relay,
                         kist_error_t *err)
{
  for (;;) {
    struct pollfd p[4] = {
      {.fd = sigfd, .events = POLLIN},
      {.fd = pidfd, .events = POLLIN},
    };
    kist_relay_pollfds(relay, p + 2);
    if (poll(p, 4, -1) < 0) {
      if (errno == EINTR)
        continue;
      return kist_fail(err, errno, "poll");
    }
    kist_relay_io(relay, p + 2);
    if (p[0].revents) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
          /* As subreaper we inherit the container's orphans: reap them. */
          int status;
          pid_t r;
          while ((r = waitpid(-1, &status, WNOHANG)) > 0)
            if (r == pid)
              return kist_wait_exit_code(status);
        } else {
          /* With a relayed terminal the resize itself signals the
           * container's foreground process group. */
          if (!(sig == SIGWINCH && kist_relay_winch(relay)))
            signal_pid(pidfd, pid, sig);
        }
      }
    }
    if (p[1].revents) {
      /* What the process wrote last is still in the pty: flush it out. */
      kist_relay_drain(relay);
      int status;
      pid_t r;
      while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
      if (r != pid) /* reaped by someone else: its exit code is lost */
        return kist_fail(err, errno, "wait for process %d", (int)pid);
      return kist_wait_exit_code(status);
    }
  }
}

/* The container after its process ended: gone, unless someone deleted it
 * (or replaced it under the same id) meanwhile. What create made is still
 * in memory: its state dir is checked through the fd we kept, not looked up
 * and parsed again. A deleter removes the dir under its lock, so once we
 * hold the lock a dir still linked is ours, and stays ours. */
static int run_cleanup(struct creation *c, kist_error_t *err)
{
  int r;
  while ((r = flock(c->dirfd, LOCK_EX)) < 0 && errno == EINTR)
    ;
  struct stat sb;
  if (r < 0 || fstat(c->dirfd, &sb) < 0)
    return kist_fail(err, errno, "lock the state directory of %s", c->id);
  if (sb.st_nlink == 0)
    return 0; /* deleted meanwhile (and maybe made again: not ours) */
  struct kist_container k = {
    .ctx = c->ctx,
    .rootfd = c->rootfd,
    .dirfd = c->dirfd,
    .dir = c->dir,
    .st = c->st,
    .cfg = c->cfg,
    .cg = c->cg,
  };
  return destroy(&k, false, err);
}

static const oci_config *creation_cfg(void *opaque, kist_error_t *err)
{
  return ((struct creation *)opaque)->cfg;
}

int kist_container_run(const struct kist_context *ctx, const char *id,
                       const struct kist_run_opts *o, int *exit_status, kist_error_t *err)
{
  struct creation c;
  creation_init(&c, ctx, id, &o->create);
  *exit_status = 1;
  bool foreground = !o->detach;
  sigset_t fwd, old;
  bool blocked = false;
  struct foreground fg = {.sigfd = -1, .t = KIST_RELAY_INIT};
  int relay[2] = {-1, -1};
  int ret = -1;
  if (creation_prepare(&c, foreground, err) < 0)
    goto out;
  if (c.cfg->process == NULL) {
    kist_fail(err, 0, "process: missing; run needs a process to start");
    goto out;
  }
  if (foreground) {
    /* Blocked before clone so no signal slips between; the init unblocks. */
    kist_signal_forward_set(&fwd);
    sigprocmask(SIG_BLOCK, &fwd, &old);
    blocked = true;
    fg.sigfd = signalfd(-1, &fwd, SFD_CLOEXEC);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  }
  if (c.relay_tty) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay) < 0) {
      kist_fail(err, errno, "socketpair");
      goto out;
    }
    c.console_fd = relay[1];
  }
  int code = 0;
  if (creation_spawn(&c, true, &code, err) < 0) {
    if (code)
      *exit_status = code;
    goto out;
  }
  if (c.relay_tty && kist_terminal_recv_master(relay[0], &fg.t.master, err) < 0)
    goto fail_started;
  struct exec_wait w = {.cfg_for = creation_cfg, .opaque = &c, .st = &c.st};
  code = 0;
  if (await_exec(c.sync_fd, &w, &code, &c.hook_failed, err) < 0) {
    if (code)
      *exit_status = code;
    goto fail_started;
  }
  if (c.cfg->hooks && c.cfg->hooks->poststart_len > 0) {
    c.st.status = KIST_STATUS_RUNNING;
    cleanup_free char *json = kist_state_json(&c.st, KIST_STATUS_RUNNING, true);
    if (kist_hooks_run(c.cfg->hooks->poststart, c.cfg->hooks->poststart_len, "poststart", json,
                       err) < 0) {
      c.hook_failed = true;
      goto fail_started;
    }
  }
  if (!foreground) {
    *exit_status = 0;
    ret = 0;
    goto out;
  }
  kist_relay_begin(&fg.t);
  int status = kist_wait_forwarding(c.pid, c.pidfd, fg.sigfd, &fg.t, err);
  kist_relay_restore(&fg.t);
  if (status < 0)
    goto fail_started;
  c.pid = 0; /* reaped */
  *exit_status = status;
  ret = 0;
  kist_test_point("run:exited");
  if (!o->keep && run_cleanup(&c, err) < 0)
    ret = -1;
  goto out;

fail_started:
  creation_teardown(&c);
out:
  if (fg.sigfd >= 0)
    close(fg.sigfd);
  if (blocked)
    sigprocmask(SIG_SETMASK, &old, NULL);
  kist_relay_end(&fg.t);
  if (relay[0] >= 0)
    close(relay[0]);
  creation_free(&c);
  return ret;
}
