/* `kist exec`. Three processes:
 *
 *   kist (P)     opens everything on the host side while it still can: the
 *                init's namespaces and root (pinned by its pidfd), the
 *                cgroup, the compiled seccomp filter, the console socket;
 *                then waits for the process and relays its terminal.
 *   helper (C)   a clone of P, placed in the cgroup, not dumpable, with
 *                nothing but what it needs open; joins the namespaces (user
 *                first, mount last), takes the init's root and forks G with
 *                CLONE_PARENT, so G is P's child and inside the pid namespace.
 *   process (G)  sets up the terminal, rlimits, scheduler, ioPriority,
 *                personality, label, user, capabilities and
 *                seccomp, and execs. Never visible to the container as
 *                anything it could ptrace or read: it is not dumpable until
 *                execve and holds no host fd.
 *
 * Everything reports over one SOCK_SEQPACKET socketpair (sync.h); execve
 * closes G's end (O_CLOEXEC), which tells P the process runs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
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
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "caps.h"
#include "cgroup-internal.h"
#include "cgroup-self.h"
#include "container.h"
#include "exec.h"
#include "fmt.h"
#include "log.h"
#include "namespaces.h"
#include "pidfile.h"
#include "process.h"
#include "seccomp.h"
#include "signals.h"
#include "sync.h"
#include "terminal.h"
#include "testhook.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- the effective process ---- */

struct kist_exec_process {
  oci_config_process p; /* shallow: fields borrowed or owned below */
  oci_config *file;     /* the parsed --process wrapper */
  oci_config_process_user user;
  oci_config_process_capabilities caps;
  oci_config_process_console_size size;
  char **env;
  uint32_t *gids;
  char **cap_names; /* "CAP_X" from --cap, owned strings */
  size_t cap_names_len;
  char **sets[5]; /* new capability arrays (strings borrowed) */
};

/* The wrapper's text before the file's: no newline, so line numbers in
 * errors stay those of the file. */
static const char wrap_head[] = "{\"ociVersion\":\"1.0.0\",\"process\":";

/* "SRC:1:COL: ..." counts columns of the wrapper on line 1: make them the file's. */
static char *unwrap_error(char *msg, const char *source)
{
  size_t sl = strlen(source);
  if (msg == NULL || strncmp(msg, source, sl) != 0 || strncmp(msg + sl, ":1:", 3) != 0)
    return msg;
  char *end;
  unsigned long col = strtoul(msg + sl + 3, &end, 10);
  size_t head = sizeof wrap_head - 1;
  if (*end != ':' || col <= head)
    return msg;
  char *out = xasprintf("%s:1:%lu%s", source, col - head, end);
  free(msg);
  return out;
}

int kist_exec_process_parse(const char *data, size_t len, const char *source, oci_config **wrapper,
                            kist_error_t *err)
{
  *wrapper = NULL;
  /* The file must be one JSON object on its own: without this check text
   * after it could add fields to the wrapper. */
  cleanup_free char *copy = xstrndup(data, len);
  char ebuf[256] = "";
  yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
  if (v == NULL) {
    char *nl = strchr(ebuf, '\n');
    if (nl)
      *nl = '\0';
    return kist_fail(err, EINVAL, "%s: invalid JSON: %s", source, ebuf[0] ? ebuf : "parse error");
  }
  bool obj = YAJL_IS_OBJECT(v);
  yajl_tree_free(v);
  if (!obj)
    return kist_fail(err, EINVAL, "%s: process: expected a JSON object", source);
  cleanup_free char *text = xasprintf("%s%.*s}", wrap_head, (int)len, data);
  char *msg = NULL;
  if (oci_config_parse_data(text, strlen(text), source, wrapper, &msg) < 0)
    return kist_fail_take(err, EINVAL, unwrap_error(msg, source));
  if ((*wrapper)->process == NULL) {
    free_oci_config(*wrapper);
    *wrapper = NULL;
    return kist_fail(err, EINVAL, "%s: process: expected a JSON object", source);
  }
  return 0;
}

/* A process object is small: more is not one (and would exhaust memory). */
#define PROCESS_FILE_MAX (1 << 20)

/* --process FILE: a regular file, or a pipe (--process /dev/stdin). Opened
 * without blocking (a fifo nobody writes to is empty, not a hang) and read
 * up to PROCESS_FILE_MAX; a device such as /dev/zero is refused. */
static int read_process_file(const char *path, char **data, size_t *len, kist_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return kist_fail(err, errno, "--process %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return kist_fail(err, errno, "--process %s", path);
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    return kist_fail(err, EINVAL, "--process %s: not a regular file or a pipe", path);
  if (S_ISFIFO(st.st_mode))
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK); /* a writer may be on its way */
  char *buf = xmalloc(PROCESS_FILE_MAX + 1);
  size_t n = 0;
  for (;;) {
    ssize_t r = read_retry(fd, buf + n, PROCESS_FILE_MAX + 1 - n);
    if (r < 0) {
      free(buf);
      return kist_fail(err, errno, "--process %s: read", path);
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > PROCESS_FILE_MAX) {
      free(buf);
      return kist_fail(err, EFBIG, "--process %s: larger than %d bytes", path, PROCESS_FILE_MAX);
    }
  }
  if (n == 0) {
    free(buf);
    return kist_fail(err, EINVAL, "--process %s: invalid JSON: empty, expected a process object",
                     path);
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

/* Field by field: what the file says replaces the container's value. */
static void overlay_file(oci_config_process *p, const oci_config_process *f)
{
  if (f->args_len > 0) {
    p->args = f->args;
    p->args_len = f->args_len;
  }
  if (f->cwd)
    p->cwd = f->cwd;
  if (f->env) {
    p->env = f->env;
    p->env_len = f->env_len;
  }
  if (f->terminal_present) {
    p->terminal = f->terminal;
    p->terminal_present = true;
  }
  if (f->console_size)
    p->console_size = f->console_size;
  if (f->user)
    p->user = f->user;
  if (f->capabilities)
    p->capabilities = f->capabilities;
  if (f->apparmor_profile)
    p->apparmor_profile = f->apparmor_profile;
  if (f->selinux_label)
    p->selinux_label = f->selinux_label;
  if (f->oom_score_adj_present) {
    p->oom_score_adj = f->oom_score_adj;
    p->oom_score_adj_present = true;
  }
  if (f->no_new_privileges_present) {
    p->no_new_privileges = f->no_new_privileges;
    p->no_new_privileges_present = true;
  }
  if (f->rlimits) {
    p->rlimits = f->rlimits;
    p->rlimits_len = f->rlimits_len;
  }
  if (f->io_priority)
    p->io_priority = f->io_priority;
  if (f->scheduler)
    p->scheduler = f->scheduler;
  if (f->exec_cpu_affinity)
    p->exec_cpu_affinity = f->exec_cpu_affinity;
}

static size_t env_key_len(const char *kv)
{
  const char *eq = strchr(kv, '=');
  return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* -e KEY=VALUE replaces KEY (getenv finds the first one, so appending a
 * duplicate would not work) or is appended. */
static void overlay_env(struct kist_exec_process *ep, char *const *add, size_t n)
{
  oci_config_process *p = &ep->p;
  ep->env = xcalloc(p->env_len + n + 1, sizeof(char *));
  size_t len = 0;
  for (size_t i = 0; i < p->env_len; i++)
    ep->env[len++] = p->env[i];
  for (size_t i = 0; i < n; i++) {
    size_t k = env_key_len(add[i]), j;
    for (j = 0; j < len; j++)
      if (env_key_len(ep->env[j]) == k && strncmp(ep->env[j], add[i], k) == 0)
        break;
    ep->env[j] = add[i];
    if (j == len)
      len++;
  }
  p->env = ep->env;
  p->env_len = len;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

static char **set_add(struct kist_exec_process *ep, int slot, char **v, size_t *n, char *const *add,
                      size_t nadd)
{
  char **out = xcalloc(*n + nadd + 1, sizeof(char *));
  size_t len = 0;
  for (size_t i = 0; i < *n; i++)
    out[len++] = v[i];
  for (size_t i = 0; i < nadd; i++)
    if (!strv_has(out, len, add[i]))
      out[len++] = add[i];
  ep->sets[slot] = out;
  *n = len;
  return out;
}

static void overlay_caps(struct kist_exec_process *ep, char *const *names, size_t n)
{
  oci_config_process *p = &ep->p;
  ep->cap_names = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    const char *s = names[i];
    char *c = strncasecmp(s, "CAP_", 4) == 0 ? xstrdup(s) : xasprintf("CAP_%s", s);
    for (char *q = c; *q; q++)
      if (*q >= 'a' && *q <= 'z')
        *q = (char)(*q - 'a' + 'A');
    ep->cap_names[ep->cap_names_len++] = c;
  }
  if (p->capabilities)
    ep->caps = *p->capabilities;
  else
    memset(&ep->caps, 0, sizeof ep->caps);
  oci_config_process_capabilities *c = &ep->caps;
  c->bounding = set_add(ep, 0, c->bounding, &c->bounding_len, ep->cap_names, n);
  c->effective = set_add(ep, 1, c->effective, &c->effective_len, ep->cap_names, n);
  c->permitted = set_add(ep, 2, c->permitted, &c->permitted_len, ep->cap_names, n);
  /* Never inheritable (a process must not hand capabilities to what it
   * executes unasked); ambient needs the cap in inheritable, so it is
   * raised only for caps the config already made inheritable. */
  cleanup_free char **amb = xcalloc(n + 1, sizeof(char *));
  size_t namb = 0;
  for (size_t i = 0; i < n; i++)
    if (strv_has(c->inheritable, c->inheritable_len, ep->cap_names[i]))
      amb[namb++] = ep->cap_names[i];
  c->ambient = set_add(ep, 3, c->ambient, &c->ambient_len, amb, namb);
  c->_unknown = NULL;
  p->capabilities = c;
}

int kist_exec_process_build(const oci_config_process *base, const struct kist_exec_opts *o,
                            struct kist_exec_process **out, kist_error_t *err)
{
  struct kist_exec_process *ep = xzalloc(sizeof *ep);
  *out = NULL;
  oci_config_process *p = &ep->p;
  if (base)
    *p = *base;
  p->_unknown = NULL;
  p->command_line = NULL;
  /* A terminal only when asked for: -t, or "terminal" in --process. */
  p->terminal = false;
  p->terminal_present = false;
  if (o->process_file) {
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_process_file(o->process_file, &data, &len, err) < 0 ||
        kist_exec_process_parse(data, len, o->process_file, &ep->file, err) < 0) {
      kist_exec_process_free(ep);
      return -1;
    }
    overlay_file(p, ep->file->process);
  }
  if (o->args_len > 0) {
    p->args = (char **)o->args;
    p->args_len = o->args_len;
  }
  if (o->cwd)
    p->cwd = (char *)o->cwd;
  if (p->cwd == NULL)
    p->cwd = (char *)"/";
  if (o->tty >= 0) {
    p->terminal = o->tty;
    p->terminal_present = true;
  }
  if (o->env_len > 0 || p->env == NULL)
    overlay_env(ep, o->env, o->env_len);
  if (o->uid_set || o->gid_set || o->additional_gids_len > 0) {
    if (p->user)
      ep->user = *p->user;
    ep->user._unknown = NULL;
    ep->user.uid_present = ep->user.gid_present = true;
    if (o->uid_set)
      ep->user.uid = o->uid;
    if (o->gid_set)
      ep->user.gid = o->gid;
    size_t n = ep->user.additional_gids_len;
    ep->gids = xcalloc(n + o->additional_gids_len + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
      ep->gids[i] = ep->user.additional_gids[i];
    for (size_t i = 0; i < o->additional_gids_len; i++)
      ep->gids[n + i] = o->additional_gids[i];
    ep->user.additional_gids = ep->gids;
    ep->user.additional_gids_len = n + o->additional_gids_len;
    p->user = &ep->user;
  }
  if (o->caps_len > 0)
    overlay_caps(ep, o->caps, o->caps_len);
  if (o->no_new_privs) {
    p->no_new_privileges = true;
    p->no_new_privileges_present = true;
  }
  if (o->process_label)
    p->selinux_label = (char *)o->process_label;
  if (o->apparmor)
    p->apparmor_profile = (char *)o->apparmor;

  if (p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0') {
    kist_exec_process_free(ep);
    return kist_fail(err, EINVAL, "exec: no command (give -- CMD [ARGS...] or --process FILE)");
  }
  if (p->cwd[0] != '/') {
    kist_fail(err, EINVAL, "process.cwd: %s is not an absolute path", p->cwd);
    kist_exec_process_free(ep);
    return -1;
  }
  *out = ep;
  return 0;
}

const oci_config_process *kist_exec_process_get(const struct kist_exec_process *ep)
{
  return &ep->p;
}

void kist_exec_process_free(struct kist_exec_process *ep)
{
  if (ep == NULL)
    return;
  if (ep->file)
    free_oci_config(ep->file);
  free(ep->env);
  free(ep->gids);
  for (size_t i = 0; i < ep->cap_names_len; i++)
    free(ep->cap_names[i]);
  free(ep->cap_names);
  for (size_t i = 0; i < ARRAY_SIZE(ep->sets); i++)
    free(ep->sets[i]);
  free(ep);
}

/* ---- namespaces ---- */

/* The order of joining: user first (it decides what the other joins may
 * do), mount last (it changes the root the others' paths resolve in). */
static const struct {
  const char *name;
  int flag;
} ns_order[] = {
  {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
  {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
  {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
};
#define NS_N ((int)ARRAY_SIZE(ns_order))

/* ---- what P prepares, what C and G use ---- */

struct exec_child {
  const oci_config_process *p;
  int sync_fd;     /* C/G end of the socketpair */
  int ns_fd[NS_N]; /* -1: the same namespace as ours, nothing to join */
  int root_fd;     /* the init's root directory */
  int console_fd;  /* console socket or relay socket, -1 without terminal */
  int preserve_fds;
  struct kist_seccomp *seccomp;
  const oci_personality *personality; /* the container's linux.personality */
  char **argv, **envp;
  struct kist_cg_self *cg_self; /* enter the v1 cgroups first thing, or NULL */
  const int *clone_cg_fd;       /* P's, as it was when C was cloned (-1: not placed by clone) */
};

/* Where the reports of C and G go; set before anything can fail. */
static int report_fd = -1;

static _Noreturn void child_die(kist_error_t *err, int code)
{
  kist_sync_send_error(report_fd, err, code);
  _exit(code ? code : 1);
}

#define CTRY(expr)                                                                                 \
  do {                                                                                             \
    if ((expr) < 0)                                                                                \
      child_die(&err, 1);                                                                          \
  } while (0)

/* LISTEN_PID names the process that owns LISTEN_FDS: that is G, by the pid
 * it has in its own pid namespace. */
static void fix_listen_pid(char **envp)
{
  bool listen = false;
  size_t n = 0;
  for (; envp[n]; n++)
    if (str_has_prefix(envp[n], "LISTEN_FDS="))
      listen = true;
  if (!listen)
    return;
  char *v = xasprintf("LISTEN_PID=%d", (int)getpid());
  for (size_t i = 0; i < n; i++)
    if (str_has_prefix(envp[i], "LISTEN_PID=")) {
      envp[i] = v;
      return;
    }
  /* P left a slot at the end for this. */
  envp[n] = v;
  envp[n + 1] = NULL;
}

/* G: the process itself, from the container's root to execve. */
static _Noreturn void process_main(const struct exec_child *a)
{
  kist_error_t err = NULL;
  const oci_config_process *p = a->p;
  umask(022); /* unless process.user.umask says otherwise */
  CTRY(kist_process_apply_attrs(p, a->personality, &err));
  if (a->console_fd >= 0) {
    CTRY(kist_terminal_setup(p, a->console_fd, &err));
    close(a->console_fd);
  }
  cleanup_free char *exe = NULL;
  {
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int code = 0;
    if (kist_process_find_executable(root, p, &exe, &code, &err) < 0)
      child_die(&err, code ? code : 1);
  }
  fix_listen_pid(a->envp);

  /* Nothing of the host may reach the process: every fd but stdio, the
   * preserved ones and our report socket (O_CLOEXEC) goes. */
  size_t nkeep = 0;
  cleanup_free int *keep = xcalloc((size_t)a->preserve_fds + 1, sizeof(int));
  keep[nkeep++] = a->sync_fd;
  for (int i = 0; i < a->preserve_fds; i++)
    keep[nkeep++] = 3 + i;
  if (close_fds_from(3, keep, nkeep) < 0) {
    kist_fail(&err, errno, "close file descriptors");
    child_die(&err, 1);
  }
  for (int i = 0; i < a->preserve_fds; i++) {
    int fl = fcntl(3 + i, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC))
      fcntl(3 + i, F_SETFD, fl & ~FD_CLOEXEC);
  }

  CTRY(kist_process_finish(p, a->seccomp, a->sync_fd, &err));
  execve(exe, a->argv, a->envp);
  int e = errno;
  kist_fail(&err, e, "exec %s", p->args[0]);
  child_die(&err, e == ENOENT ? 127 : 126);
}

static int write_oom_score_adj(const oci_config_process *p, kist_error_t *err)
{
  if (!p->oom_score_adj_present)
    return 0;
  char buf[24];
  kist_snprintf(buf, sizeof buf, "%lld", (long long)p->oom_score_adj);
  cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all(fd, buf, strlen(buf)) < 0)
    return kist_fail(err, errno, "process.oomScoreAdj: write %s", buf);
  return 0;
}

/* C: in the cgroup already; joins the container and forks G into it. */
static _Noreturn void helper_main(const struct exec_child *a)
{
  kist_error_t err = NULL;
  report_fd = a->sync_fd;
  /* Until execve nothing of ours may be read through /proc or ptraced. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (a->cg_self) {
    CTRY(kist_cgroup_self_enter(a->cg_self, &err));
    CTRY(kist_sync_send(a->sync_fd, KIST_SYNC_PLACED, 0, NULL, -1, &err));
  }
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  size_t nkeep = 0;
  cleanup_free int *keep = xcalloc((size_t)a->preserve_fds + NS_N + 4, sizeof(int));
  keep[nkeep++] = a->sync_fd;
  keep[nkeep++] = a->root_fd;
  if (a->console_fd >= 0)
    keep[nkeep++] = a->console_fd;
  for (int i = 0; i < NS_N; i++)
    if (a->ns_fd[i] >= 0)
      keep[nkeep++] = a->ns_fd[i];
  for (int i = 0; i < a->preserve_fds; i++)
    keep[nkeep++] = 3 + i;
  if (close_fds_from(3, keep, nkeep) < 0) {
    kist_fail(&err, errno, "close inherited file descriptors");
    child_die(&err, 1);
  }
  /* Entered by ourselves, nothing to wait for; P still writes our pid
   * when clone could not place us in the hybrid v2 dir. */
  if (a->cg_self == NULL || (a->cg_self->v2_fd >= 0 && *a->clone_cg_fd < 0))
    CTRY(kist_sync_expect(a->sync_fd, KIST_SYNC_GO, NULL, NULL, &err));
  CTRY(write_oom_score_adj(a->p, &err));

  for (int i = 0; i < NS_N; i++) {
    if (a->ns_fd[i] < 0)
      continue;
    if (setns(a->ns_fd[i], ns_order[i].flag) < 0) {
      kist_fail(&err, errno, "join the container's %s namespace", ns_order[i].name);
      child_die(&err, 1);
    }
    close(a->ns_fd[i]);
    if (ns_order[i].flag == CLONE_NEWUSER)
      CTRY(kist_ns_become_root(&err));
  }
  /* The init's root, whatever made it (pivot_root, MS_MOVE + chroot, or
   * chroot alone): setns(mnt) alone gives the namespace's root. */
  if (fchdir(a->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
    kist_fail(&err, errno, "enter the container's root");
    child_die(&err, 1);
  }
  close(a->root_fd);

  /* A joined pid namespace holds only children: G. CLONE_PARENT makes it
   * kist's child, so kist waits for it directly and we leave. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT, NULL, NULL, NULL, 0);
  if (pid < 0) {
    kist_fail(&err, errno, "fork into the container");
    child_die(&err, 1);
  }
  if (pid == 0)
    process_main(a);
  if (kist_sync_send(a->sync_fd, KIST_SYNC_PID, pid, NULL, -1, &err) < 0) {
    kill(pid, SIGKILL);
    _exit(1);
  }
  _exit(0);
}

/* ---- the parent (P) ---- */

struct exec_run {
  const struct kist_context *ctx;
  const struct kist_exec_opts *o;
  struct kist_container *c;
  const oci_config *cfg;
  struct kist_exec_process *ep;
  struct kist_seccomp *seccomp;
  int pidfd_init;
  int ns_fd[NS_N];
  int root_fd;
  int console_fd; /* what C/G get */
  int relay_fd;   /* our end of the relay socketpair */
  int cg_fd[KIST_CG_MAX_HIER];
  char *cg_path[KIST_CG_MAX_HIER];
  size_t cg_n;
  const struct kist_cgroup *cg; /* without --cgroup: the container's, entered whole */
  struct kist_cg_self cg_self;  /* ... or by the helper itself, when n > 0 */
  int clone_cg_fd;              /* v2 CLONE_INTO_CGROUP target or -1 (not owned) */
  struct kist_pid_file pidfile;
  int sync[2];
  pid_t helper, pid;
  int pidfd;
  char **argv, **envp;
  char *listen_env; /* "LISTEN_FDS=N" when kist itself was socket-activated */
  int preserve;
};

static void run_init(struct exec_run *r)
{
  memset(r, 0, sizeof *r);
  r->pidfd_init = r->root_fd = r->console_fd = r->relay_fd = -1;
  r->pidfd = r->clone_cg_fd = -1;
  r->pidfile = (struct kist_pid_file)KIST_PID_FILE_INIT;
  r->sync[0] = r->sync[1] = -1;
  r->cg_self.v2_fd = -1;
  for (int i = 0; i < NS_N; i++)
    r->ns_fd[i] = -1;
}

static void closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void run_free(struct exec_run *r)
{
  closep(&r->pidfd_init);
  closep(&r->root_fd);
  closep(&r->console_fd);
  closep(&r->relay_fd);
  kist_pid_file_close(&r->pidfile);
  closep(&r->pidfd);
  closep(&r->sync[0]);
  closep(&r->sync[1]);
  for (int i = 0; i < NS_N; i++)
    closep(&r->ns_fd[i]);
  for (size_t i = 0; i < r->cg_n; i++) {
    closep(&r->cg_fd[i]);
    free(r->cg_path[i]);
  }
  kist_cgroup_self_release(&r->cg_self);
  free(r->argv);
  free(r->envp);
  free(r->listen_env);
  kist_seccomp_free(r->seccomp);
  kist_exec_process_free(r->ep);
  kist_container_close(r->c);
}

/* fds 3 .. 3+N-1 must all be open: kist's own fds would otherwise take
 * the free numbers and be handed to the container. */
static int check_preserved(int n, kist_error_t *err)
{
  for (int i = 0; i < n; i++)
    if (fcntl(3 + i, F_GETFD) < 0)
      return kist_fail(err, EBADF, "--preserve-fds %d: fd %d is not open", n, 3 + i);
  return 0;
}

/* Socket activation of kist itself (LISTEN_FDS for our pid): the fds go
 * on to the process, which gets LISTEN_FDS (and LISTEN_PID = its pid). */
static int listen_fds_for_us(void)
{
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  int64_t n, owner;
  if (fds == NULL || parse_int64(fds, &n) < 0 || n <= 0 || n > 4096)
    return 0;
  if (pid && (parse_int64(pid, &owner) < 0 || owner != getpid()))
    return 0;
  return (int)n;
}

static void build_argv_envp(struct exec_run *r, int listen_fds)
{
  const oci_config_process *p = kist_exec_process_get(r->ep);
  r->argv = xcalloc(p->args_len + 1, sizeof(char *));
  for (size_t i = 0; i < p->args_len; i++)
    r->argv[i] = p->args[i];
  /* Two spare slots: LISTEN_FDS and LISTEN_PID (added in G). */
  r->envp = xcalloc(p->env_len + 3, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < p->env_len; i++)
    if (!(listen_fds > 0 &&
          (str_has_prefix(p->env[i], "LISTEN_FDS=") || str_has_prefix(p->env[i], "LISTEN_PID="))))
      r->envp[n++] = p->env[i];
  if (listen_fds > 0)
    r->envp[n++] = r->listen_env = xasprintf("LISTEN_FDS=%d", listen_fds);
}

/* The init's namespaces and root, opened by pid and then proven to be its
 * own: the pidfd still names a live (or unreaped) process after the opens,
 * so the pid was not reused meanwhile. */
static int open_container(struct exec_run *r, kist_error_t *err)
{
  r->pidfd_init = kist_container_pidfd(r->c, err);
  if (r->pidfd_init < 0)
    return -1;
  pid_t pid = r->c->st.pid;
  char path[64];
  for (int i = 0; i < NS_N; i++) {
    kist_snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_order[i].name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && ns_order[i].flag == CLONE_NEWTIME)
        continue; /* a kernel without time namespaces */
      return kist_fail(err, errno, "open %s", path);
    }
    struct stat theirs, ours;
    char self[64];
    kist_snprintf(self, sizeof self, "/proc/self/ns/%s", ns_order[i].name);
    if (fstat(fd, &theirs) == 0 && stat(self, &ours) == 0 && theirs.st_ino == ours.st_ino &&
        theirs.st_dev == ours.st_dev) {
      close(fd); /* shared with the host: nothing to join (and user would refuse) */
      continue;
    }
    r->ns_fd[i] = fd;
  }
  kist_snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
  r->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->root_fd < 0)
    return kist_fail(err, errno, "open %s", path);
  if (syscall(SYS_pidfd_send_signal, r->pidfd_init, 0, NULL, 0) < 0)
    return kist_fail(err, ESRCH, "container %s is not running", r->c->st.id);
  return 0;
}

/* --cgroup [CTRL[,CTRL]:]PATH: which dirs of cg it names (bitmask of cg->d). */
static int cgroup_arg_dirs(const struct kist_cgroup *cg, const char *arg, const char **sub,
                           uint64_t *dirs, kist_error_t *err)
{
  const char *colon = strchr(arg, ':');
  *sub = colon ? colon + 1 : arg;
  *dirs = 0;
  if (**sub == '\0' || **sub == '/')
    return kist_fail(err, EINVAL, "--cgroup %s: expected a path relative to the container's cgroup",
                     arg);
  if (colon == NULL) {
    for (size_t i = 0; i < cg->n; i++)
      *dirs |= 1ull << i;
    return 0;
  }
  cleanup_free char *list = xstrndup(arg, (size_t)(colon - arg));
  char *save = NULL;
  for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int ctrl = -1;
    for (int c = 0; c < KIST_CG_NCTRL; c++)
      if (strcmp(kist_cg_ctrl_v1_name((enum kist_cg_ctrl)c), t) == 0)
        ctrl = c;
    bool found = false;
    for (size_t i = 0; ctrl >= 0 && i < cg->n; i++)
      if (!cg->d[i].v2 && (cg->d[i].ctrls & KIST_CG_BIT(ctrl))) {
        *dirs |= 1ull << i;
        found = true;
      }
    if (!found)
      return kist_fail(err, EINVAL,
                       "--cgroup %s: no cgroup v1 hierarchy of the container has controller %s",
                       arg, t);
  }
  return 0;
}

/* The dirs the helper is moved into: the container's cgroup in every
 * hierarchy, or the sub-cgroup --cgroup names there. */
static int prepare_cgroup(struct exec_run *r, kist_error_t *err)
{
  struct kist_cgroup *cg = NULL;
  if (kist_container_cgroup(r->c, &cg, err) < 0)
    return -1;
  if (cg == NULL) {
    if (r->o->cgroups_len > 0)
      return kist_fail(err, ENOENT, "--cgroup: container %s has no cgroup", r->c->st.id);
    return 0;
  }
  if (r->o->cgroups_len == 0) {
    /* The container's own cgroup: the module's enter (or clone on v2). */
    r->cg = cg;
    r->clone_cg_fd = kist_cgroup_v2_fd(cg);
    /* Not into a paused container: the frozen freezer would stop the
     * helper before it reports. */
    if (r->c->st.status != KIST_STATUS_PAUSED) {
      if (kist_cgroup_self_prepare(cg, &r->cg_self, err) < 0)
        return -1;
      if (r->cg_self.n > 0)
        r->clone_cg_fd = r->cg_self.v2_fd;
    }
    return 0;
  }
  const char *sub_of[KIST_CG_MAX_HIER] = {NULL};
  for (size_t k = 0; k < r->o->cgroups_len; k++) {
    const char *sub;
    uint64_t dirs;
    if (cgroup_arg_dirs(cg, r->o->cgroups[k], &sub, &dirs, err) < 0)
      return -1;
    for (size_t i = 0; i < cg->n; i++)
      if (dirs & (1ull << i))
        sub_of[i] = sub;
  }
  for (size_t i = 0; i < cg->n; i++) {
    const struct kist_cg_dir *d = &cg->d[i];
    cleanup_close int fd = kist_cg_dir_open(d, err);
    if (fd < 0)
      return -1;
    cleanup_free char *path = kist_cg_dir_path(d);
    if (sub_of[i]) {
      struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
      };
      int sfd = (int)syscall(SYS_openat2, fd, sub_of[i], &how, sizeof how);
      if (sfd < 0)
        return kist_fail(err, errno, "--cgroup: %s/%s", path, sub_of[i]);
      close(fd);
      fd = sfd;
      char *full = xasprintf("%s/%s", path, sub_of[i]);
      free(path);
      path = full;
    }
    r->cg_fd[r->cg_n] = steal_fd(&fd);
    r->cg_path[r->cg_n] = steal_pointer(&path);
    /* A pure v2 host: clone places the helper in the sub-cgroup. */
    if (kist_cgroup_mode() == KIST_CGROUP_V2 && d->v2 && cg->n == 1)
      r->clone_cg_fd = r->cg_fd[r->cg_n];
    r->cg_n++;
  }
  return 0;
}

static int enter_cgroup(struct exec_run *r, kist_error_t *err)
{
  char buf[24];
  kist_snprintf(buf, sizeof buf, "%d", (int)r->helper);
  if (r->cg)
    return kist_cgroup_enter(r->cg, r->helper, err);
  for (size_t i = 0; i < r->cg_n; i++)
    if (kist_cg_write(r->cg_fd[i], r->cg_path[i], "cgroup.procs", buf, err) < 0)
      return -1;
  return 0;
}

static int spawn_helper(struct exec_run *r)
{
  int cgfd = r->clone_cg_fd;
  struct clone_args ca = {
    .flags = cgfd >= 0 ? CLONE_INTO_CGROUP : 0,
    .exit_signal = SIGCHLD,
    .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
  };
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
    r->clone_cg_fd = -1; /* placed by a write instead */
    pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
  }
  return (int)pid;
}

/* After GO: the helper's PID report, G's seccomp listener, an error, or
 * EOF once every end of C and G is closed (G executed). */
static int await_process(struct exec_run *r, int *exit_code, kist_error_t *err)
{
  char buf[KIST_SYNC_BUFSIZE];
  int pending_listener = -1;
  int ret = 0;
  for (;;) {
    struct kist_sync_msg m;
    int fd = -1;
    if (kist_sync_recv(r->sync[0], &m, buf, sizeof buf, &fd, 1, err) < 0) {
      ret = -1;
      break;
    }
    if (m.type == 0)
      break;
    if (m.type == KIST_SYNC_ERROR) {
      if (fd >= 0)
        close(fd);
      if (m.value)
        *exit_code = m.value;
      if (err && *err == NULL)
        *err = kist_error_new(m.errnum, m.text ? m.text : "exec: the process failed to start");
      ret = -1;
      break;
    }
    if (m.type == KIST_SYNC_PID) {
      if (fd >= 0)
        close(fd);
      r->pid = m.value;
    } else if (m.type == KIST_SYNC_SECCOMP_FD && fd >= 0) {
      if (pending_listener >= 0)
        close(pending_listener);
      pending_listener = fd;
    } else {
      if (fd >= 0)
        close(fd);
      ret = kist_fail(err, EPROTO, "exec: unexpected message %u from the helper", m.type);
      break;
    }
    /* The agent gets the listener with the process's pid: wait for both. */
    if (pending_listener >= 0 && r->pid > 0) {
      const oci_config_linux_seccomp *sc = r->cfg->linux ? r->cfg->linux->seccomp : NULL;
      cleanup_close int nfd = steal_fd(&pending_listener);
      if (sc == NULL || sc->listener_path == NULL) {
        ret = kist_fail(err, 0, "linux.seccomp.listenerPath: missing for a NOTIFY listener");
        break;
      }
      cleanup_free char *state = kist_state_json(&r->c->st, KIST_STATUS_RUNNING, true);
      cleanup_free char *json =
        kist_seccomp_process_state_json(r->pid, sc->listener_metadata, state);
      if (kist_seccomp_send_listener(sc->listener_path, nfd, json, err) < 0) {
        ret = -1;
        break;
      }
    }
  }
  if (pending_listener >= 0)
    close(pending_listener);
  if (ret == 0 && r->pid <= 0)
    ret = kist_fail(err, EPROTO, "exec: the helper exited without starting the process");
  return ret;
}

/* Foreground: waits for G, forwarding signals and relaying the terminal. */
static int wait_process(struct exec_run *r, int sigfd, struct kist_relay *t, int *exit_status,
                        kist_error_t *err)
{
  for (;;) {
    struct pollfd pf[4] = {
      {.fd = sigfd, .events = POLLIN},
      {.fd = r->pidfd, .events = POLLIN},
    };
    kist_relay_pollfds(t, pf + 2);
    if (poll(pf, 4, -1) < 0) {
      if (errno == EINTR)
        continue;
      return kist_fail(err, errno, "poll");
    }
    kist_relay_io(t, pf + 2);
    if (pf[0].revents) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        int sig = (int)si.ssi_signo;
        /* A relayed resize signals the process group by itself. */
        bool resized = sig == SIGWINCH && kist_relay_winch(t);
        if (!resized && sig != SIGCHLD && sig != SIGPIPE)
          syscall(SYS_pidfd_send_signal, r->pidfd, sig, NULL, 0);
      }
    }
    if (pf[1].revents) {
      kist_relay_drain(t);
      int status;
      pid_t w;
      while ((w = waitpid(r->pid, &status, 0)) < 0 && errno == EINTR)
        ;
      if (w < 0)
        return kist_fail(err, errno, "wait for process %d", (int)r->pid);
      *exit_status = kist_wait_exit_code(status);
      return 0;
    }
  }
}

static int check_status(struct exec_run *r, kist_error_t *err)
{
  const char *id = r->c->st.id;
  switch (r->c->st.status) {
  case KIST_STATUS_RUNNING:
    return 0;
  case KIST_STATUS_CREATED:
    /* The init is still kist's, waiting for start: nothing of the
     * container runs yet to exec beside. */
    return kist_fail(
      err, 0, "cannot exec in container %s: it is created, not running (start it first)", id);
  case KIST_STATUS_PAUSED:
    if (r->o->ignore_paused)
      return 0;
    return kist_fail(err, 0,
                     "cannot exec in paused container %s (use --ignore-paused: the process "
                     "starts frozen)",
                     id);
  case KIST_STATUS_STOPPED:
    return kist_fail(err, 0, "cannot exec in container %s: it is stopped", id);
  default:
    return kist_fail(err, 0, "cannot exec in container %s: it is %s", id,
                     kist_status_name(r->c->st.status));
  }
}

/* Checks and opens everything on the host side. */
static int exec_prepare(struct exec_run *r, const char *id, kist_error_t *err)
{
  const struct kist_exec_opts *o = r->o;
  if (o->preserve_fds < 0)
    return kist_fail(err, EINVAL, "--preserve-fds: must not be negative");
  int listen_fds = listen_fds_for_us();
  r->preserve = o->preserve_fds > listen_fds ? o->preserve_fds : listen_fds;
  if (check_preserved(r->preserve, err) < 0)
    return -1;
  if (kist_container_open(r->ctx, id, LOCK_SH, &r->c, err) < 0)
    return -1;
  if (check_status(r, err) < 0)
    return -1;
  if (kist_container_config(r->c, &r->cfg, err) < 0)
    return -1;
  if (kist_exec_process_build(r->cfg->process, o, &r->ep, err) < 0)
    return -1;
  const oci_config_process *p = kist_exec_process_get(r->ep);
  /* The checks create makes on the process, on the merged one (the rest
   * of the config was checked at create). */
  oci_config tmp = *r->cfg;
  tmp.process = (oci_config_process *)p;
  tmp.hooks = NULL;
  tmp.hostname = tmp.domainname = NULL;
  if (kist_process_validate(&tmp, err) < 0)
    return -1;
  bool tty = p->terminal_present && p->terminal;
  if (o->console_socket && !tty)
    return kist_fail(err, EINVAL, "--console-socket needs a terminal (-t)");
  if (tty && o->console_socket == NULL && o->detach)
    return kist_fail(err, EINVAL, "-t with -d needs --console-socket to receive the terminal");
  build_argv_envp(r, listen_fds);
  kist_seccomp_set_cache_dir(r->ctx->root);
  if (kist_seccomp_prepare(r->cfg, &r->seccomp, err) < 0)
    return -1;
  if (prepare_cgroup(r, err) < 0 || kist_pid_file_open(r->o->pid_file, &r->pidfile, err) < 0)
    return -1;
  if (open_container(r, err) < 0)
    return -1;
  if (tty && o->console_socket) {
    r->console_fd = kist_console_socket_connect(o->console_socket, err);
    if (r->console_fd < 0)
      return -1;
  } else if (tty) {
    if (kist_terminal_size_of(0, &r->ep->size))
      r->ep->p.console_size = &r->ep->size;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
      return kist_fail(err, errno, "socketpair");
    r->relay_fd = sp[0];
    r->console_fd = sp[1];
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->sync) < 0)
    return kist_fail(err, errno, "socketpair");
  return 0;
}

/* Starts C, places it, lets it go, and waits until G executed. */
static int exec_start(struct exec_run *r, int *exit_code, kist_error_t *err)
{
  struct exec_child a = {
    .p = kist_exec_process_get(r->ep),
    .sync_fd = r->sync[1],
    .root_fd = r->root_fd,
    .console_fd = r->console_fd,
    .preserve_fds = r->preserve,
    .seccomp = r->seccomp,
    .personality = r->cfg->linux ? r->cfg->linux->personality : NULL,
    .argv = r->argv,
    .envp = r->envp,
    .cg_self = r->cg_self.n > 0 ? &r->cg_self : NULL,
    .clone_cg_fd = &r->clone_cg_fd,
  };
  memcpy(a.ns_fd, r->ns_fd, sizeof a.ns_fd);
  bool placed = r->clone_cg_fd >= 0;
  r->helper = spawn_helper(r);
  if (r->helper < 0)
    return kist_fail(err, errno, "clone the exec helper");
  if (r->helper == 0)
    helper_main(&a);
  kist_test_point("exec:clone");
  placed = placed && r->clone_cg_fd >= 0;
  closep(&r->sync[1]);
  closep(&r->console_fd);
  int ret = 0;
  bool self_enter = r->cg_self.n > 0;
  /* Self-entering, the helper goes on without GO (one wake-up less),
   * unless clone could not place it in the hybrid v2 dir: then we write
   * its pid (the v1 writes repeat its own) and let it go. */
  bool need_go = !self_enter || (r->cg_self.v2_fd >= 0 && !placed);
  if (need_go && !placed && enter_cgroup(r, err) < 0)
    ret = -1;
  if (ret == 0 && self_enter && kist_sync_expect(r->sync[0], KIST_SYNC_PLACED, NULL, NULL, err) < 0)
    ret = -1;
  if (ret == 0 && need_go && kist_sync_send(r->sync[0], KIST_SYNC_GO, 0, NULL, -1, err) < 0)
    ret = -1;
  if (ret == 0)
    kist_test_point("exec:go");
  /* Placed: a delete now kills the helper with the cgroup. Waiting below
   * may take as long as a paused container stays frozen: `resume` must
   * get its exclusive lock meanwhile. */
  flock(r->c->dirfd, LOCK_UN);
  if (ret == 0)
    ret = await_process(r, exit_code, err);
  if (ret < 0) {
    kill(r->helper, SIGKILL);
    if (r->pid > 0)
      kill(r->pid, SIGKILL);
  }
  int st;
  while (waitpid(r->helper, &st, 0) < 0 && errno == EINTR)
    ;
  if (ret < 0 && r->pid > 0) {
    while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
      ;
    r->pid = 0;
  }
  return ret;
}

int kist_container_exec(const struct kist_context *ctx, const char *id,
                        const struct kist_exec_opts *o, int *exit_status, kist_error_t *err)
{
  struct exec_run r;
  run_init(&r);
  r.ctx = ctx;
  r.o = o;
  *exit_status = 255;
  int ret = -1, sigfd = -1;
  sigset_t fwd, old;
  bool blocked = false;
  struct kist_relay t = KIST_RELAY_INIT;

  if (exec_prepare(&r, id, err) < 0)
    goto out;
  if (!o->detach) {
    /* Blocked before clone: nothing sent meanwhile is lost (C unblocks). */
    kist_signal_forward_set(&fwd);
    sigprocmask(SIG_BLOCK, &fwd, &old);
    blocked = true;
    sigfd = signalfd(-1, &fwd, SFD_CLOEXEC);
    if (sigfd < 0) {
      kist_fail(err, errno, "signalfd");
      goto out;
    }
  }
  int code = 0;
  if (exec_start(&r, &code, err) < 0) {
    if (code == 126 || code == 127)
      *exit_status = code;
    goto out;
  }
  kist_test_point("exec:started");
  r.pidfd = (int)syscall(SYS_pidfd_open, r.pid, 0);
  if (r.pidfd < 0) {
    kist_fail(err, errno, "pidfd_open %d", (int)r.pid);
    goto kill_out;
  }
  if (r.relay_fd >= 0 && kist_terminal_recv_master(r.relay_fd, &t.master, err) < 0)
    goto kill_out;
  closep(&r.relay_fd);
  if (kist_pid_file_write(&r.pidfile, r.pid, err) < 0)
    goto kill_out;
  kist_container_close(r.c);
  r.c = NULL;
  if (o->detach) {
    *exit_status = 0;
    ret = 0;
    goto out;
  }
  kist_relay_begin(&t);
  ret = wait_process(&r, sigfd, &t, exit_status, err);
  if (ret < 0)
    goto kill_out;
  goto out;

kill_out:
  if (r.pid > 0) {
    kill(r.pid, SIGKILL);
    waitpid(r.pid, NULL, 0);
  }
  ret = -1;
out:
  kist_relay_end(&t);
  if (sigfd >= 0)
    close(sigfd);
  if (blocked)
    sigprocmask(SIG_SETMASK, &old, NULL);
  run_free(&r);
  return ret;
}
