/* The init: namespaces -> mounts -> devices -> masks -> hooks -> pivot_root
 * -> process setup -> "ready" -> wait for start -> execve. Each step that
 * fails sends its one-line error to the parent and exits; the parent tears
 * everything down.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup-self.h"
#include "devices.h"
#include "hooks.h"
#include "init.h"
#include "masks.h"
#include "mounts.h"
#include "netdev.h"
#include "process.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

/* One init per process: the exit path needs to know where errors go. */
static int report_fd = -1;

static _Noreturn void die(kist_error_t *err, int exit_code)
{
  kist_sync_send_error(report_fd, err, exit_code);
  _exit(exit_code ? exit_code : 1);
}

/* stdio that is the host's /dev/null is swapped for the container's own
 * (when it has one): no fd of the init then refers to a host mount. CRIU
 * cannot dump such an fd, and the container has no business holding one. */
static int reopen_dev_null(kist_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat null_sb;
  for (int i = 0; i <= 2; i++) {
    struct stat sb;
    if (fstat(i, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3))
      continue;
    if (fd < 0) {
      fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 || fstat(fd, &null_sb) < 0 || !S_ISCHR(null_sb.st_mode) ||
          null_sb.st_rdev != makedev(1, 3))
        return 0; /* no usable /dev/null of its own: keep what it has */
    }
    if (sb.st_dev == null_sb.st_dev && sb.st_ino == null_sb.st_ino)
      continue;
    if (dup3(fd, i, 0) < 0)
      return kist_fail(err, errno, "reopen fd %d on the container's /dev/null", i);
  }
  return 0;
}

#define TRY(expr)                                                                                  \
  do {                                                                                             \
    if ((expr) < 0)                                                                                \
      die(&err, 1);                                                                                \
  } while (0)

/* A failing hook: the parent must also run poststop (runtime.md, lifecycle). */
#define TRY_HOOK(expr)                                                                             \
  do {                                                                                             \
    if ((expr) < 0) {                                                                              \
      kist_sync_send_error(report_fd, &err, 1 | KIST_SYNC_HOOK_FAILED);                            \
      _exit(1);                                                                                    \
    }                                                                                              \
  } while (0)

static int close_inherited(const struct kist_init_args *a, kist_error_t *err)
{
  size_t n = 0, cap = (size_t)a->preserve_fds + 4 + KIST_NS_COUNT + a->cfg->mounts_len;
  cleanup_free int *keep = xcalloc(cap, sizeof(int));
  keep[n++] = a->sync_fd;
  if (a->listen_fd >= 0)
    keep[n++] = a->listen_fd;
  if (a->console_fd >= 0)
    keep[n++] = a->console_fd;
  for (int k = 0; k < KIST_NS_COUNT; k++)
    if (a->ns->join_fd[k] >= 0)
      keep[n++] = a->ns->join_fd[k];
  for (size_t i = 0; a->idmap_fds && i < a->cfg->mounts_len; i++)
    if (a->idmap_fds[i] >= 0)
      keep[n++] = a->idmap_fds[i];
  for (int i = 0; i < a->preserve_fds; i++)
    keep[n++] = 3 + i;
  if (close_fds_from(3, keep, n) < 0)
    return kist_fail(err, errno, "close inherited file descriptors");
  return 0;
}

/* The state hooks inside the container read: built from what the init has. */
static char *hook_state(const struct kist_init_args *a, pid_t pid, enum kist_status status)
{
  struct kist_state st = {
    .id = (char *)a->id,
    .bundle = (char *)a->bundle,
    .pid = pid,
  };
  if (a->cfg->annotations) {
    st.ann_keys = a->cfg->annotations->keys;
    st.ann_values = a->cfg->annotations->values;
    st.ann_len = a->cfg->annotations->len;
  }
  return kist_state_json(&st, status, true);
}

static char *read_proc_cgroup(void)
{
  char *s = NULL;
  kist_error_t err = NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/cgroup", &s, NULL, &err) < 0)
    kist_error_release(&err);
  return s;
}

/* Joins and creates namespaces when clone could not do it all at once;
 * forks the real init when a pid or time namespace only applies to
 * children. Returns in the process that goes on as the init. */
static void setup_namespaces_slow(const struct kist_init_args *a, char **proc_cgroup)
{
  kist_error_t err = NULL;
  const struct kist_ns_plan *ns = a->ns;
  TRY(kist_ns_join_all(ns, &err));
  for (int k = 0; k < KIST_NS_COUNT; k++)
    if (ns->join_fd[k] >= 0)
      close(ns->join_fd[k]);
  if (ns->new_flags & CLONE_NEWUSER) {
    if (unshare(CLONE_NEWUSER) < 0) {
      kist_fail(&err, errno, "create the user namespace");
      die(&err, 1);
    }
    TRY(kist_sync_send(a->sync_fd, KIST_SYNC_USERNS, 0, NULL, -1, &err));
    TRY(kist_sync_expect(a->sync_fd, KIST_SYNC_USERNS_DONE, NULL, NULL, &err));
  }
  if (kist_mounts_need_cgroup_paths(a->cfg))
    *proc_cgroup = read_proc_cgroup();
  int rest = ns->new_flags & ~CLONE_NEWUSER;
  if (rest && unshare(rest) < 0) {
    kist_fail(&err, errno, "create namespaces (flags 0x%x)", (unsigned)rest);
    die(&err, 1);
  }
  /* Offsets before the setresuid below: changing uids makes us
   * non-dumpable, and /proc/self then belongs to a root the user
   * namespace does not map (EACCES). Our caps in the new namespaces are
   * already full. */
  if (rest & CLONE_NEWTIME)
    TRY(kist_ns_write_time_offsets(a->cfg, &err));
  if ((ns->new_flags & CLONE_NEWUSER) || ns->join_fd[KIST_NS_USER] >= 0)
    TRY(kist_ns_become_root(&err));
  if (!kist_ns_plan_needs_fork(ns))
    return;
  /* CLONE_PARENT: the real init is kist's child, not ours, so `run` can
   * wait for it and we can simply go away. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT, NULL, NULL, NULL, 0);
  if (pid < 0) {
    kist_fail(&err, errno, "fork into the new pid namespace");
    die(&err, 1);
  }
  if (pid > 0) {
    if (kist_sync_send(a->sync_fd, KIST_SYNC_PID, pid, NULL, -1, &err) < 0)
      kill(pid, SIGKILL);
    _exit(0);
  }
}

static void join_session_keyring(void)
{
  kist_error_t err = NULL;
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS) {
    kist_fail(&err, errno, "create a session keyring (use --no-new-keyring to skip)");
    die(&err, 1);
  }
}

static bool has_hooks(const oci_config *cfg, int which)
{
  const oci_config_hooks *h = cfg->hooks;
  if (h == NULL)
    return false;
  switch (which) {
  case 0:
    return h->prestart_len > 0 || h->create_runtime_len > 0;
  case 1:
    return h->create_container_len > 0;
  default:
    return h->start_container_len > 0;
  }
}

/* prestart + createRuntime (the parent runs them, in the runtime's
 * namespaces), then createContainer here, before pivot_root. The parent is
 * told whenever any of them exists, so it knows to run poststop if one fails. */
static void create_hooks(const struct kist_init_args *a, pid_t pid)
{
  kist_error_t err = NULL;
  const oci_config *cfg = a->cfg;
  if (!has_hooks(cfg, 0) && !has_hooks(cfg, 1))
    return;
  TRY(kist_sync_send(a->sync_fd, KIST_SYNC_HOOKS, 0, NULL, -1, &err));
  TRY(kist_sync_expect(a->sync_fd, KIST_SYNC_HOOKS_DONE, NULL, NULL, &err));
  if (has_hooks(cfg, 1)) {
    cleanup_free char *json = hook_state(a, pid, KIST_STATUS_CREATING);
    TRY_HOOK(kist_hooks_run(cfg->hooks->create_container, cfg->hooks->create_container_len,
                            "createContainer", json, &err));
  }
}

static char **null_terminated(char **v, size_t n)
{
  char **out = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    out[i] = v[i];
  return out;
}

/* Blocks until `start` connects and asks; a start that cannot be served
 * (no process) gets an error and the init keeps waiting. */
static int wait_for_start(const struct kist_init_args *a)
{
  for (;;) {
    int conn = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      kist_error_t err = NULL;
      kist_fail(&err, errno, "wait for start");
      _exit(1);
    }
    char buf[256];
    struct kist_sync_msg m;
    kist_error_t err = NULL;
    if (kist_sync_recv(conn, &m, buf, sizeof buf, NULL, 1, &err) < 0 || m.type != KIST_SYNC_START) {
      kist_error_release(&err);
      close(conn);
      continue;
    }
    if (a->cfg->process == NULL) {
      /* start MUST fail; such a container can never run, so it stops here
       * rather than lingering in "created" until someone deletes it. */
      kist_fail(&err, 0, "process: the config has no process to start");
      kist_sync_send_error(conn, &err, 1);
      _exit(1);
    }
    return conn;
  }
}

_Noreturn void kist_init_main(const struct kist_init_args *a)
{
  kist_error_t err = NULL;
  report_fd = a->sync_fd;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (a->cg_self)
    TRY(kist_cgroup_self_enter(a->cg_self, &err));
  TRY(close_inherited(a, &err));

  const oci_config *cfg = a->cfg;
  const struct kist_ns_plan *ns = a->ns;
  char *proc_cgroup = NULL;
  int32_t pid = 0;
  TRY(kist_sync_expect(a->sync_fd, KIST_SYNC_GO, &pid, NULL, &err));
  if (a->slow_path) {
    setup_namespaces_slow(a, &proc_cgroup);
    /* A new process now: learn our pid in kist's namespace. */
    if (kist_ns_plan_needs_fork(ns))
      TRY(kist_sync_expect(a->sync_fd, KIST_SYNC_GO, &pid, NULL, &err));
  } else {
    if (ns->new_flags & CLONE_NEWUSER)
      TRY(kist_ns_become_root(&err));
    if (kist_mounts_need_cgroup_paths(cfg) && !(a->clone_flags & CLONE_NEWCGROUP))
      proc_cgroup = read_proc_cgroup();
    /* The cgroup namespace must be rooted at the container's cgroup: when
     * clone could not place us there, it is made only now. */
    int late = ns->new_flags & ~a->clone_flags;
    if (late && unshare(late) < 0) {
      kist_fail(&err, errno, "create the cgroup namespace");
      die(&err, 1);
    }
  }
  /* From here the parent has written our id maps: nothing else may open
   * /proc/<init> or ptrace it until execve resets this. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (!a->no_new_keyring)
    join_session_keyring();

  if (ns->new_flags & CLONE_NEWNET)
    TRY(kist_netns_loopback_up(&err));
  if (ns->private_mnt) {
    struct kist_mount_env env = {
      .bundle = a->bundle,
      .new_userns = ns->new_flags & CLONE_NEWUSER,
      .new_netns = ns->new_flags & CLONE_NEWNET,
      .new_cgroupns = ns->new_flags & CLONE_NEWCGROUP,
      .proc_cgroup = proc_cgroup,
      .idmap_fds = a->idmap_fds,
    };
    cleanup_close int rootfd = kist_rootfs_prepare(cfg, a->rootfs, &err);
    if (rootfd < 0)
      die(&err, 1);
    TRY(kist_mounts_apply(cfg, rootfd, &env, &err));
    for (size_t i = 0; a->idmap_fds && i < cfg->mounts_len; i++)
      if (a->idmap_fds[i] >= 0)
        close(a->idmap_fds[i]); /* attached now */
    TRY(kist_devices_setup(cfg, rootfd, env.new_userns, &err));
    TRY(kist_masks_apply(cfg, rootfd, &err));
    create_hooks(a, pid);
    TRY(kist_rootfs_pivot(rootfd, a->no_pivot, &err));
    TRY(kist_rootfs_finish(cfg, &err));
  } else {
    create_hooks(a, pid);
    TRY(kist_rootfs_chroot(a->rootfs, &err));
  }
  free(proc_cgroup);

  const oci_config_process *p = cfg->process;
  cleanup_free char *exe = NULL;
  if (p) {
    TRY(reopen_dev_null(&err));
    TRY(kist_process_setup(cfg, &err));
    if (p->terminal_present && p->terminal) {
      TRY(kist_terminal_setup(p, a->console_fd, &err));
      close(a->console_fd);
    } else if (setsid() < 0) {
      /* A session of its own, as with a terminal: the container is not a
       * job of the caller's shell, and CRIU can dump it (a session leader
       * outside its pid namespace cannot be). */
      TRY(kist_fail(&err, errno, "setsid"));
    }
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int code = 0;
    if (kist_process_find_executable(root, p, &exe, &code, &err) < 0)
      die(&err, code ? code : 1);
  }

  TRY(kist_sync_send(a->sync_fd, KIST_SYNC_READY, 0, NULL, -1, &err));
  int32_t start_now = 0;
  TRY(kist_sync_expect(a->sync_fd, KIST_SYNC_DONE, &start_now, NULL, &err));
  int conn = a->sync_fd;
  if (!start_now) {
    close(a->sync_fd);
    report_fd = -1;
    conn = wait_for_start(a);
    report_fd = conn;
  }
  if (a->listen_fd >= 0)
    close(a->listen_fd);

  if (has_hooks(cfg, 2)) {
    cleanup_free char *json = hook_state(a, pid, KIST_STATUS_CREATED);
    TRY_HOOK(kist_hooks_run(cfg->hooks->start_container, cfg->hooks->start_container_len,
                            "startContainer", json, &err));
  }
  int keep = conn;
  size_t nkeep = 1;
  cleanup_free int *keeps = xcalloc((size_t)a->preserve_fds + 1, sizeof(int));
  keeps[0] = keep;
  for (int i = 0; i < a->preserve_fds; i++)
    keeps[nkeep++] = 3 + i;
  if (close_fds_from(3, keeps, nkeep) < 0) {
    kist_fail(&err, errno, "close file descriptors");
    die(&err, 1);
  }
  /* A NOTIFY listener goes to whoever started us (start or run). */
  TRY(kist_process_finish(p, a->seccomp, conn, &err));
  char **argv = null_terminated(p->args, p->args_len);
  char **envp = null_terminated(p->env, p->env_len);
  execve(exe, argv, envp);
  int e = errno;
  kist_fail(&err, e, "exec %s", p->args[0]);
  die(&err, e == ENOENT ? 127 : 126);
}
