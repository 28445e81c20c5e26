/* OCI hooks: fork + execve of each hook with the state JSON on its stdin,
 * its own args and env, and its timeout enforced through a pidfd.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "util.h"

static int check_list(oci_hook *const *hooks, size_t n, const char *stage, kist_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    const oci_hook *h = hooks[i];
    if (h->path == NULL || h->path[0] != '/')
      return kist_fail(err, 0, "hooks.%s[%zu].path: '%s' is not an absolute path", stage, i,
                       h->path ? h->path : "");
    if (h->timeout_present && h->timeout <= 0)
      return kist_fail(err, 0, "hooks.%s[%zu].timeout: %lld must be greater than zero", stage, i,
                       (long long)h->timeout);
  }
  return 0;
}

int kist_hooks_validate(const oci_config_hooks *h, kist_error_t *err)
{
  if (h == NULL)
    return 0;
  if (check_list(h->prestart, h->prestart_len, "prestart", err) < 0 ||
      check_list(h->create_runtime, h->create_runtime_len, "createRuntime", err) < 0 ||
      check_list(h->create_container, h->create_container_len, "createContainer", err) < 0 ||
      check_list(h->start_container, h->start_container_len, "startContainer", err) < 0 ||
      check_list(h->poststart, h->poststart_len, "poststart", err) < 0 ||
      check_list(h->poststop, h->poststop_len, "poststop", err) < 0)
    return -1;
  return 0;
}

static char **strv_of(char *const *v, size_t n, const char *first)
{
  char **out = xcalloc(n + 2, sizeof(char *));
  size_t k = 0;
  if (n == 0 && first)
    out[k++] = xstrdup(first);
  for (size_t i = 0; i < n; i++)
    out[k++] = xstrdup(v[i]);
  return out;
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the forked child: only async-signal-safe calls until execve. */
static _Noreturn void hook_child(const char *path, char **argv, char **envp, int in_fd, int err_fd)
{
  /* kist may block signals or ignore SIGPIPE; a hook starts with defaults
   * (ignored dispositions and the mask survive execve). */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Its own process group, so a timeout kills what it started too. */
  setpgid(0, 0);
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
      sa.sa_handler = SIG_DFL;
      sigaction(sig, &sa, NULL);
    }
  }
  if (in_fd == 0)
    fcntl(0, F_SETFD, 0);
  else if (dup2(in_fd, 0) < 0)
    goto fail;
  /* err_fd is close-on-exec: it reports an execve failure, then vanishes. */
  close_fds_from(3, &err_fd, 1);
  execve(path, argv, envp);
fail:;
  int e = errno;
  if (write(err_fd, &e, sizeof e) < 0) {
    /* nothing left to report through */
  }
  _exit(127);
}

/* Feeds state_json to the hook and waits for it, within timeout_ms (-1: no
 * limit). Returns 0 with *status, or 1 when the deadline passed (the hook is
 * killed and reaped), or -1 with *err. */
static int feed_and_wait(pid_t pid, int in_fd, const char *json, int64_t timeout_ms, int *status,
                         kist_error_t *err)
{
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  size_t len = json ? strlen(json) : 0, off = 0;
  int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
  int ret = 0;
  if (len == 0) {
    close(in_fd);
    in_fd = -1;
  }
  for (;;) {
    /* Without a pidfd (old kernel), poll in short steps and check waitpid. */
    if (pidfd < 0) {
      pid_t r = waitpid(pid, status, WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR) {
        ret = kist_fail(err, errno, "wait for hook");
        break;
      }
    }
    struct pollfd fds[2];
    nfds_t nfds = 0;
    if (pidfd >= 0)
      fds[nfds++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
    if (in_fd >= 0)
      fds[nfds++] = (struct pollfd){.fd = in_fd, .events = POLLOUT};
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0) {
        ret = 1;
        break;
      }
      wait = left > 1000000 ? 1000000 : (int)left;
    }
    if (pidfd < 0 && (wait < 0 || wait > 10))
      wait = 10;
    int n = poll(fds, nfds, wait);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ret = kist_fail(err, errno, "poll hook");
      break;
    }
    bool exited = false;
    for (nfds_t i = 0; i < nfds; i++) {
      if (fds[i].revents == 0)
        continue;
      if (fds[i].fd == pidfd) {
        exited = true;
        continue;
      }
      /* The hook's stdin: write what fits; a hook that does not read, or
       * exits early, must not block us (EAGAIN, EPIPE with SIGPIPE ignored). */
      ssize_t w = write(in_fd, json + off, len - off);
      if (w > 0)
        off += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
        close(in_fd);
        in_fd = -1;
      }
    }
    if (exited) {
      while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR) {
          ret = kist_fail(err, errno, "wait for hook");
          break;
        }
      break;
    }
  }
  if (ret == 1 || ret < 0) {
    /* The group first (the hook is not reaped yet, so its pid, which is
     * the group id, cannot have been reused), then the hook itself. */
    kill(-pid, SIGKILL);
    if (pidfd >= 0)
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    else
      kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
      ;
  }
  if (in_fd >= 0)
    close(in_fd);
  if (pidfd >= 0)
    close(pidfd);
  return ret;
}

static int run_one(const oci_hook *h, const char *stage, size_t idx, const char *json,
                   kist_error_t *err)
{
  cleanup_strv char **argv = strv_of(h->args, h->args_len, h->path);
  cleanup_strv char **envp = strv_of(h->env, h->env_len, NULL);
  int in[2], ep[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return kist_fail(err, errno, "%s hook #%zu (%s): pipe", stage, idx, h->path);
  if (pipe2(ep, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return kist_fail(err, e, "%s hook #%zu (%s): pipe", stage, idx, h->path);
  }
  kist_debug("%s hook #%zu: %s", stage, idx, h->path);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    close(ep[0]);
    close(ep[1]);
    return kist_fail(err, e, "%s hook #%zu (%s): fork", stage, idx, h->path);
  }
  if (pid == 0)
    hook_child(h->path, argv, envp, in[0], ep[1]);
  /* Also from this side: the group must exist before a timeout kills it. */
  setpgid(pid, pid);
  close(in[0]);
  close(ep[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);

  int64_t timeout_ms = h->timeout_present && h->timeout > 0 ? h->timeout * 1000 : -1;
  int status = 0;
  int r = feed_and_wait(pid, in[1], json, timeout_ms, &status, err);
  int exec_errno = 0;
  ssize_t n = read_retry(ep[0], &exec_errno, sizeof exec_errno);
  close(ep[0]);
  if (r < 0)
    return -1;
  if (r == 1)
    return kist_fail_take(err, ETIMEDOUT,
                          xasprintf("%s hook #%zu (%s) timed out after %llds", stage, idx, h->path,
                                    (long long)h->timeout));
  if (n == (ssize_t)sizeof exec_errno && exec_errno != 0)
    return kist_fail(err, exec_errno, "%s hook #%zu (%s): exec", stage, idx, h->path);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return kist_fail(err, 0, "%s hook #%zu (%s) exited with status %d", stage, idx, h->path,
                     WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return kist_fail(err, 0, "%s hook #%zu (%s) killed by signal %d", stage, idx, h->path,
                     WTERMSIG(status));
  return 0;
}

static int run_all(oci_hook *const *hooks, size_t n, const char *stage, const char *state_json,
                   bool keep_going, kist_error_t *err)
{
  if (n == 0)
    return 0;
  /* Writing to a hook that exited without reading stdin must give EPIPE,
   * not kill kist. */
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old);
  int ret = 0;
  for (size_t i = 0; i < n && (ret == 0 || keep_going); i++) {
    if (!keep_going) {
      ret = run_one(hooks[i], stage, i, state_json, err);
      continue;
    }
    kist_error_t e = NULL;
    if (run_one(hooks[i], stage, i, state_json, &e) < 0) {
      kist_warn("%s", kist_error_message(e));
      kist_error_release(&e);
    }
  }
  sigaction(SIGPIPE, &old, NULL);
  return ret;
}

int kist_hooks_run(oci_hook *const *hooks, size_t n, const char *stage, const char *state_json,
                   kist_error_t *err)
{
  return run_all(hooks, n, stage, state_json, false, err);
}

void kist_hooks_run_warn(oci_hook *const *hooks, size_t n, const char *stage,
                         const char *state_json)
{
  run_all(hooks, n, stage, state_json, true, NULL);
}
