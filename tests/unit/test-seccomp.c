/* Unit tests for seccomp.c (TAP): validation messages, what loaded filters
 * do to real syscalls (in forked children), the compiled-filter cache, the
 * notify hand-off to an agent, and compile vs cache-hit timing.
 * Run as root or not: children set no_new_privs before loading.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "../seccomp/probe-table.h"
#include "log.h"
#include "seccomp.h"
#include "util.h"

#ifndef PODMAN_FIXTURE
#define PODMAN_FIXTURE "../shared/fixtures/podman-like-config.json"
#endif

static int n_tests, n_failed;
static char tmpdir[] = "/tmp/kist-test-seccomp.XXXXXX";
static char log_path[PATH_MAX];

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool cond, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  if (!cond)
    n_failed++;
}

static void skip(const char *why)
{
  printf("ok %d # skip %s\n", ++n_tests, why);
}

static double now_us(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* A config from the JSON of linux.seccomp. */
static oci_config *config(const char *seccomp_json)
{
  cleanup_free char *doc =
    xasprintf("{\"ociVersion\":\"1.3.0\",\"linux\":{\"seccomp\":%s}}", seccomp_json);
  oci_config *cfg = NULL;
  char *msg = NULL;
  if (oci_config_parse_data(doc, strlen(doc), "test", &cfg, &msg) < 0) {
    printf("# parse failed: %s\n", msg);
    free(msg);
    return NULL;
  }
  return cfg;
}

/* prepare() on seccomp_json: NULL and the message on failure. */
static struct kist_seccomp *prepare(const char *seccomp_json, char **msg)
{
  oci_config *cfg = config(seccomp_json);
  struct kist_seccomp *s = NULL;
  kist_error_t err = NULL;
  *msg = NULL;
  if (cfg == NULL)
    return NULL;
  if (kist_seccomp_prepare(cfg, &s, &err) < 0) {
    *msg = xstrdup(kist_error_message(err));
    kist_error_release(&err);
  }
  free_oci_config(cfg);
  return s;
}

static void expect_error(const char *json, const char *want)
{
  char *msg;
  struct kist_seccomp *s = prepare(json, &msg);
  ok(s == NULL && msg && strstr(msg, want), "error \"%s\" (got \"%s\")", want, msg ? msg : "none");
  kist_seccomp_free(s);
  free(msg);
}

/* Forks; the child loads s and returns what probe() returns as exit code.
 * Returns the wait status. */
static int in_child(struct kist_seccomp *s, int (*probe)(void))
{
  pid_t pid = fork();
  if (pid == 0) {
    int nfd;
    kist_error_t err = NULL;
    struct rlimit no_core = {0, 0}; /* SIGSYS would dump core */
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (kist_seccomp_load(s, &nfd, &err) < 0) {
      printf("# load: %s\n", kist_error_message(err));
      _exit(99);
    }
    _exit(probe());
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

static char probe_dir[PATH_MAX];

/* mkdir's errno (0 on success, the directory then removed). */
static int probe_mkdir(void)
{
  if (syscall(SYS_mkdir, probe_dir, 0700) == 0) {
    rmdir(probe_dir);
    return 0;
  }
  return errno;
}

static int probe_personality8(void)
{
  return personality(8) < 0 ? errno : 0;
}

static int probe_personality0(void)
{
  return personality(0) < 0 ? errno : 0;
}

static bool exited_with(int st, int code)
{
  return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

static void test_errors(void)
{
  expect_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
    "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
    "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0-5)");
  expect_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":"
    "\"SCMP_ACT_ERRNO\"},{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}",
    "linux.seccomp.syscalls[1].errnoRet: not allowed with SCMP_ACT_ALLOW");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":3}",
               "linux.seccomp.defaultErrnoRet: not allowed with SCMP_ACT_ALLOW");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
               "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":4096}]}",
               "linux.seccomp.syscalls[0].errnoRet: 4096 out of range (0-4095)");
  expect_error("{\"defaultAction\":\"SCMP_ACT_TRACE\",\"defaultErrnoRet\":65536}",
               "linux.seccomp.defaultErrnoRet: 65536 out of range (0-65535)");
  expect_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}",
               "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
               "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
               "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
  expect_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\",\"syscalls\":[{\"names\":"
    "[\"read\",\"sendmsg\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
    "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY on sendmsg would deadlock");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"m\"}",
               "linux.seccomp.listenerMetadata: set without listenerPath");
  if (!kist_seccomp_arch_supported("SCMP_ARCH_SH"))
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                 "\"SCMP_ARCH_SH\"]}",
                 "linux.seccomp.architectures[1]: SCMP_ARCH_SH is not supported by libseccomp");
  else
    skip("this libseccomp supports SCMP_ARCH_SH");

  /* Accepted: unknown syscall names, rules equal to the default, a foreign
   * endianness arch, every flag. */
  char *msg;
  struct kist_seccomp *s = prepare(
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_"
    "X86\","
    "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_S390X\"],\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
    "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
    "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":[{\"names\":[\"no_such_call\","
    "\"_llseek\",\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"mkdir\"],\"action\":"
    "\"SCMP_ACT_ERRNO\"}]}",
    &msg);
  ok(s != NULL, "unknown names, default-equal rules, s390x on x86, all flags: accepted (%s)",
     msg ? msg : "ok");
  kist_seccomp_free(s);
  free(msg);

  oci_config empty = {0};
  s = (struct kist_seccomp *)1;
  kist_error_t err = NULL;
  int nfd = 7;
  ok(kist_seccomp_prepare(&empty, &s, &err) == 0 && s == NULL &&
       kist_seccomp_load(NULL, &nfd, &err) == 0 && nfd == -1,
     "no linux.seccomp: nothing to load");
}

static void test_actions(void)
{
  static const struct {
    const char *rule;
    int (*probe)(void);
    int want_exit, want_signal;
    const char *what;
  } cases[] = {
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":28", probe_mkdir, ENOSPC, 0, "ERRNO errnoRet 28"},
    {"\"action\":\"SCMP_ACT_ERRNO\"", probe_mkdir, EPERM, 0, "ERRNO defaults to EPERM"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":0", probe_mkdir, 0, 0, "ERRNO 0 fakes success"},
    {"\"action\":\"SCMP_ACT_KILL_PROCESS\"", probe_mkdir, 0, SIGSYS, "KILL_PROCESS"},
    {"\"action\":\"SCMP_ACT_KILL\"", probe_mkdir, 0, SIGSYS, "KILL"},
    {"\"action\":\"SCMP_ACT_KILL_THREAD\"", probe_mkdir, 0, SIGSYS, "KILL_THREAD"},
    {"\"action\":\"SCMP_ACT_TRAP\"", probe_mkdir, 0, SIGSYS, "TRAP"},
    {"\"action\":\"SCMP_ACT_LOG\"", probe_mkdir, 0, 0, "LOG allows"},
    {"\"action\":\"SCMP_ACT_TRACE\"", probe_mkdir, ENOSYS, 0, "TRACE without a tracer: ENOSYS"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":8,\"op\":"
     "\"SCMP_CMP_EQ\"}]",
     probe_personality8, EPERM, 0, "args EQ 8: personality(8) denied"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":8,\"op\":"
     "\"SCMP_CMP_EQ\"}]",
     probe_personality0, 0, 0, "args EQ 8: personality(0) allowed"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":8,\"op\":"
     "\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]",
     probe_personality0, EPERM, 0, "same-index args are OR-ed: personality(0) denied"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":8,\"op\":"
     "\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]",
     probe_personality8, EPERM, 0, "same-index args are OR-ed: personality(8) denied"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":12,"
     "\"valueTwo\":"
     "8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]",
     probe_personality8, EPERM, 0, "MASKED_EQ (8 & 12) == 8 denied"},
    {"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":12,"
     "\"valueTwo\":"
     "8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]",
     probe_personality0, 0, 0, "MASKED_EQ (0 & 12) != 8 allowed"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    bool pers = cases[i].probe != probe_mkdir;
    cleanup_free char *json =
      xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[%s],%s}]}",
                pers ? "\"personality\"" : "\"mkdir\"", cases[i].rule);
    char *msg;
    struct kist_seccomp *s = prepare(json, &msg);
    if (s == NULL) {
      ok(false, "%s: %s", cases[i].what, msg);
      free(msg);
      continue;
    }
    int st = in_child(s, cases[i].probe);
    if (cases[i].want_signal)
      ok(WIFSIGNALED(st) && WTERMSIG(st) == cases[i].want_signal, "%s: killed by signal %d (%#x)",
         cases[i].what, cases[i].want_signal, st);
    else
      ok(exited_with(st, cases[i].want_exit), "%s: errno %d (status %#x)", cases[i].what,
         cases[i].want_exit, st);
    kist_seccomp_free(s);
  }

  /* Every operator, against personality(0) and personality(8). */
  static const struct {
    const char *op;
    unsigned v;
    bool deny0, deny8;
  } ops[] = {{"SCMP_CMP_NE", 8, true, false}, {"SCMP_CMP_LT", 8, true, false},
             {"SCMP_CMP_LE", 8, true, true},  {"SCMP_CMP_EQ", 0, true, false},
             {"SCMP_CMP_GE", 8, false, true}, {"SCMP_CMP_GT", 0, false, true}};
  for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
    cleanup_free char *json = xasprintf(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"personality\"],"
      "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":0,\"value\":%u,\"op\":"
      "\"%s\"}]}]}",
      ops[i].v, ops[i].op);
    char *msg;
    struct kist_seccomp *s = prepare(json, &msg);
    int st0 = in_child(s, probe_personality0), st8 = in_child(s, probe_personality8);
    ok(s && exited_with(st0, ops[i].deny0 ? EPERM : 0) &&
         exited_with(st8, ops[i].deny8 ? EPERM : 0),
       "%s %u: personality(0) %s, personality(8) %s", ops[i].op, ops[i].v,
       ops[i].deny0 ? "denied" : "allowed", ops[i].deny8 ? "denied" : "allowed");
    kist_seccomp_free(s);
    free(msg);
  }
}

static bool log_has(const char *what)
{
  cleanup_free char *data = NULL;
  size_t len;
  kist_error_t err = NULL;
  if (read_file_at(AT_FDCWD, log_path, &data, &len, &err) < 0) {
    kist_error_release(&err);
    return false;
  }
  return strstr(data, what) != NULL;
}

static void log_reset(void)
{
  truncate(log_path, 0);
}

static char *cache_file(void)
{
  cleanup_free char *dir = xasprintf("%s/.seccomp-cache", tmpdir);
  DIR *d = opendir(dir);
  char *found = NULL;
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    if (strstr(de->d_name, ".bpf") && !strstr(de->d_name, ".tmp.")) {
      free(found);
      found = xasprintf("%s/%s", dir, de->d_name);
    }
  if (d)
    closedir(d);
  return found;
}

static void test_cache(void)
{
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
                     "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":28}]}";
  kist_seccomp_set_cache_dir(tmpdir);
  char *msg;

  log_reset();
  struct kist_seccomp *s = prepare(json, &msg);
  cleanup_free char *f = cache_file();
  struct stat st = {0};
  ok(s && log_has("seccomp: compiled") && f && stat(f, &st) == 0 && (st.st_mode & 0777) == 0600,
     "miss: compiled and stored 0600 (%s)", f ? f : "no file");
  off_t size = st.st_size;
  kist_seccomp_free(s);

  log_reset();
  s = prepare(json, &msg);
  ok(s && log_has("seccomp: cache hit"), "second prepare is a cache hit");
  ok(s && exited_with(in_child(s, probe_mkdir), ENOSPC), "the cached filter behaves the same");
  kist_seccomp_free(s);

  /* A short file, a flipped BPF byte, a foreign-writable file: all misses
   * that recompile and rewrite the entry. */
  static const char *const damage[] = {"truncated", "a flipped byte", "mode 0666"};
  for (size_t i = 0; f && i < ARRAY_SIZE(damage); i++) {
    if (i == 0) {
      truncate(f, 30);
    } else if (i == 1) {
      int fd = open(f, O_WRONLY);
      pwrite(fd, "\x55", 1, size - 5);
      close(fd);
    } else {
      chmod(f, 0666);
    }
    log_reset();
    s = prepare(json, &msg);
    stat(f, &st);
    ok(s && log_has("not a valid entry") && log_has("seccomp: compiled") && st.st_size == size &&
         (st.st_mode & 0777) == 0600,
       "cache entry %s: ignored and rewritten", damage[i]);
    ok(s && exited_with(in_child(s, probe_mkdir), ENOSPC), "... and the filter still works");
    kist_seccomp_free(s);
  }

  /* Any change of the input is another entry. */
  log_reset();
  s = prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
              "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":27}]}",
              &msg);
  ok(s && log_has("seccomp: compiled") && exited_with(in_child(s, probe_mkdir), EFBIG),
     "errnoRet 27 is not served errnoRet 28's entry");
  kist_seccomp_free(s);
  kist_seccomp_set_cache_dir(NULL);
}

static const char *jstr(yajl_val v)
{
  return v && YAJL_IS_STRING(v) ? v->u.string : "";
}

/* The notify path, all in this process tree: the child loads a filter that
 * notifies mkdir and hands the listener to our socket, like kist's parent
 * would; we play the agent and make mkdir succeed without doing it. */
static void test_notify(void)
{
  cleanup_free char *sock_path = xasprintf("%s/agent.sock", tmpdir);
  cleanup_free char *json =
    xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\",\"listenerMetadata\":"
              "\"meta \\\"quoted\\\"\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
              "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
              sock_path);
  char *msg;
  struct kist_seccomp *s = prepare(json, &msg);
  ok(s && kist_seccomp_uses_notify(s) && strcmp(kist_seccomp_listener_path(s), sock_path) == 0 &&
       strcmp(kist_seccomp_listener_metadata(s), "meta \"quoted\"") == 0,
     "NOTIFY: listener path and metadata kept (%s)", msg ? msg : "ok");
  if (s == NULL)
    return;

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, sock_path);
  int lsk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bind(lsk, (struct sockaddr *)&addr, sizeof addr);
  listen(lsk, 1);

  pid_t pid = fork();
  if (pid == 0) {
    int nfd;
    kist_error_t err = NULL;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (kist_seccomp_load(s, &nfd, &err) < 0 || nfd < 0)
      _exit(98);
    cleanup_free char *state = kist_seccomp_process_state_json(
      getpid(), kist_seccomp_listener_metadata(s),
      "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"running\",\"bundle\":\"/b\"}");
    if (kist_seccomp_send_listener(kist_seccomp_listener_path(s), nfd, state, &err) < 0)
      _exit(97);
    close(nfd);
    _exit(probe_mkdir() == 0 && access(probe_dir, F_OK) < 0 ? 0 : 1);
  }

  int conn = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
  char buf[4096] = {0};
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
  int nfd = -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  if (n > 0 && c && c->cmsg_type == SCM_RIGHTS)
    memcpy(&nfd, CMSG_DATA(c), sizeof nfd);
  char eof;
  ok(nfd >= 0 && read(conn, &eof, 1) == 0, "the agent gets the fd, then the connection closes");
  close(conn);

  char eb[128];
  yajl_val v = yajl_tree_parse(buf, eb, sizeof eb);
  const char *p_ver[] = {"ociVersion", NULL}, *p_fds[] = {"fds", NULL}, *p_pid[] = {"pid", NULL},
             *p_meta[] = {"metadata", NULL}, *p_id[] = {"state", "id", NULL};
  yajl_val fds = v ? yajl_tree_get(v, p_fds, yajl_t_array) : NULL;
  yajl_val jpid = v ? yajl_tree_get(v, p_pid, yajl_t_number) : NULL;
  yajl_val meta = v ? yajl_tree_get(v, p_meta, yajl_t_string) : NULL;
  yajl_val id = v ? yajl_tree_get(v, p_id, yajl_t_string) : NULL;
  ok(v && yajl_tree_get(v, p_ver, yajl_t_string) && fds && fds->u.array.len == 1 &&
       strcmp(jstr(fds->u.array.values[0]), "seccompFd") == 0 && jpid &&
       YAJL_GET_INTEGER(jpid) == pid && meta && strcmp(jstr(meta), "meta \"quoted\"") == 0 && id &&
       strcmp(jstr(id), "c1") == 0,
     "container process state: %s", buf);
  yajl_tree_free(v);

  /* Answer the child's mkdir: success, not performed. */
  bool answered = false;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  if (nfd >= 0 && seccomp_notify_alloc(&req, &resp) == 0) {
    if (seccomp_notify_receive(nfd, req) == 0) {
      resp->id = req->id;
      resp->val = 0;
      resp->error = 0;
      resp->flags = 0;
      answered = req->pid == (uint32_t)pid && seccomp_notify_respond(nfd, resp) == 0;
    }
    seccomp_notify_free(req, resp);
  }
  int st;
  waitpid(pid, &st, 0);
  ok(answered && exited_with(st, 0), "the agent's answer is what mkdir returns (status %#x)", st);
  if (nfd >= 0)
    close(nfd);
  close(lsk);
  kist_seccomp_free(s);
}

/* ---- the podman-like profile: compiled vs cached, the probe table ---- */

static oci_config *podman_config(void)
{
  cleanup_free char *data = NULL;
  size_t len;
  kist_error_t err = NULL;
  const char *path = getenv("KIST_PODMAN_CONFIG") ?: PODMAN_FIXTURE;
  oci_config *cfg = NULL;
  char *msg = NULL;
  if (read_file_at(AT_FDCWD, path, &data, &len, &err) < 0) {
    kist_error_release(&err);
    return NULL;
  }
  if (oci_config_parse_data(data, len, path, &cfg, &msg) < 0) {
    printf("# parse %s: %s\n", path, msg);
    free(msg);
    return NULL;
  }
  return cfg;
}

/* The probe table as printed by a child that loaded s first (NULL: no
 * filter); "" when the child failed. */
static char *table_in_child(struct kist_seccomp *s)
{
  int p[2];
  if (pipe(p) < 0)
    return xstrdup("");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    int nfd;
    kist_error_t err = NULL;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (s && kist_seccomp_load(s, &nfd, &err) < 0)
      _exit(99);
    FILE *out = fdopen(p[1], "w");
    if (out == NULL)
      _exit(98);
    probe_table_print(out);
    _exit(0);
  }
  close(p[1]);
  struct buf {
    char *p;
    size_t len;
  } b = {xzalloc(1), 0};
  char chunk[4096];
  ssize_t n;
  while ((n = read(p[0], chunk, sizeof chunk)) > 0) {
    b.p = xrealloc(b.p, b.len + (size_t)n + 1);
    memcpy(b.p + b.len, chunk, (size_t)n);
    b.len += (size_t)n;
    b.p[b.len] = '\0';
  }
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  if (!exited_with(st, 0))
    b.p[0] = '\0';
  return b.p;
}

/* The errno of NAME in a probe table, or -1. */
static long table_get(const char *table, const char *name)
{
  size_t nl = strlen(name);
  for (const char *l = table; l && *l;) {
    if (strncmp(l, name, nl) == 0 && l[nl] == ' ')
      return strtol(l + nl + 1, NULL, 10);
    l = strchr(l, '\n');
    if (l)
      l++;
  }
  return -1;
}

static bool same_program(const struct kist_seccomp *a, const struct kist_seccomp *b)
{
  size_t la, lb;
  const void *pa = kist_seccomp_program(a, &la), *pb = kist_seccomp_program(b, &lb);
  return pa && pb && la == lb && la > 0 && memcmp(pa, pb, la) == 0;
}

static void test_podman_profile(void)
{
  oci_config *cfg = podman_config();
  if (cfg == NULL) {
    skip("no podman-like fixture (set KIST_PODMAN_CONFIG)");
    return;
  }
  kist_error_t err = NULL;
  struct kist_seccomp *compiled = NULL, *cached = NULL;
  kist_seccomp_set_cache_dir(NULL);
  kist_seccomp_prepare(cfg, &compiled, &err);
  cleanup_free char *dir = xasprintf("%s/podman-root", tmpdir);
  mkdir(dir, 0700);
  kist_seccomp_set_cache_dir(dir);
  struct kist_seccomp *store = NULL;
  kist_seccomp_prepare(cfg, &store, &err); /* miss: compiles and stores */
  log_reset();
  kist_seccomp_prepare(cfg, &cached, &err);
  ok(compiled && cached && err == NULL && log_has("seccomp: cache hit"),
     "podman-like profile: compiled without a cache, then a cache hit");
  ok(same_program(compiled, cached) && same_program(compiled, store),
     "the cached program is the compiled one, byte for byte");

  cleanup_free char *plain = table_in_child(NULL);
  cleanup_free char *t1 = table_in_child(compiled);
  cleanup_free char *t2 = table_in_child(cached);
  ok(t1[0] && strcmp(t1, t2) == 0, "the probe table is the same with either filter");
  /* What the profile says (see tests/seccomp.bats for the whole list). */
  static const struct {
    const char *name;
    long want; /* -2: as without a filter */
  } expect[] = {
    {"getpid", 0},
    {"mkdir", -2},
    {"unshare", -2},
    {"mount", -2},
    {"keyctl", -2},
    {"sethostname", EPERM},
    {"bpf", EPERM},
    {"kcmp", EPERM},
    {"add_key", ENOSYS},
    {"request_key", ENOSYS},
    {"personality_0", 0},
    {"personality_8", 0},
    {"personality_20008", 0},
    {"personality_1", ENOSYS},
    {"socket_unix", 0},
    {"socket_netlink_audit", EINVAL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
    long want = expect[i].want == -2 ? table_get(plain, expect[i].name) : expect[i].want;
    long got = table_get(t2, expect[i].name);
    ok(want >= 0 && got == want, "podman-like profile: %s gets %ld (want %ld)", expect[i].name, got,
       want);
  }
  kist_seccomp_free(compiled);
  kist_seccomp_free(cached);
  kist_seccomp_free(store);
  kist_seccomp_set_cache_dir(NULL);
  free_oci_config(cfg);
}

static size_t count_files(const char *dir, const char *part)
{
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    if (strstr(de->d_name, part))
      n++;
  if (d)
    closedir(d);
  return n;
}

/* Eight processes prepare the same profile on an empty cache at once: one
 * entry results, sound, and served as a hit afterwards. */
static void test_cache_concurrent(void)
{
  oci_config *cfg = podman_config();
  if (cfg == NULL) {
    skip("no podman-like fixture (set KIST_PODMAN_CONFIG)");
    return;
  }
  cleanup_free char *root = xasprintf("%s/concurrent-root", tmpdir);
  cleanup_free char *cache = xasprintf("%s/.seccomp-cache", root);
  mkdir(root, 0700);
  kist_seccomp_set_cache_dir(root);
  int gate[2];
  if (pipe(gate) < 0) {
    ok(false, "pipe");
    return;
  }
  pid_t kids[8];
  for (size_t i = 0; i < ARRAY_SIZE(kids); i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      char c;
      close(gate[1]);
      if (read(gate[0], &c, 1) != 0) /* EOF: everyone goes at once */
        _exit(97);
      struct kist_seccomp *s = NULL;
      kist_error_t err = NULL;
      _exit(kist_seccomp_prepare(cfg, &s, &err) == 0 && s ? 0 : 1);
    }
  }
  close(gate[0]);
  close(gate[1]);
  bool all = true;
  for (size_t i = 0; i < ARRAY_SIZE(kids); i++) {
    int st;
    waitpid(kids[i], &st, 0);
    all = all && exited_with(st, 0);
  }
  ok(all, "8 concurrent prepares on an empty cache all succeed");
  ok(count_files(cache, ".bpf") == 1 && count_files(cache, ".tmp.") == 0,
     "one entry, no temp file left (%zu entries)", count_files(cache, ".bpf"));
  struct kist_seccomp *hit = NULL, *fresh = NULL;
  kist_error_t err = NULL;
  log_reset();
  kist_seccomp_prepare(cfg, &hit, &err);
  bool was_hit = log_has("seccomp: cache hit");
  kist_seccomp_set_cache_dir(NULL);
  kist_seccomp_prepare(cfg, &fresh, &err);
  ok(was_hit && same_program(hit, fresh), "the entry is a hit and holds the compiled program");
  kist_seccomp_free(hit);
  kist_seccomp_free(fresh);
  free_oci_config(cfg);
}

/* Another profile's entry under this profile's name (a hash collision, or
 * a file put there): the key inside differs, so it is a miss. */
static void test_cache_foreign_entry(void)
{
  const char *a = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
                  "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":28}]}";
  const char *b = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
                  "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":27}]}";
  cleanup_free char *root = xasprintf("%s/foreign-root", tmpdir);
  cleanup_free char *cache = xasprintf("%s/.seccomp-cache", root);
  mkdir(root, 0700);
  kist_seccomp_set_cache_dir(root);
  char *msg;
  struct kist_seccomp *s = prepare(a, &msg);
  kist_seccomp_free(s);
  /* The names before and after b's entry appears. */
  DIR *d = opendir(cache);
  struct dirent *de;
  char name_a[256] = "";
  while (d && (de = readdir(d)) != NULL)
    if (strstr(de->d_name, ".bpf"))
      snprintf(name_a, sizeof name_a, "%s", de->d_name);
  if (d)
    closedir(d);
  s = prepare(b, &msg);
  kist_seccomp_free(s);
  char name_b[256] = "";
  d = opendir(cache);
  while (d && (de = readdir(d)) != NULL)
    if (strstr(de->d_name, ".bpf") && strcmp(de->d_name, name_a) != 0)
      snprintf(name_b, sizeof name_b, "%s", de->d_name);
  if (d)
    closedir(d);
  cleanup_free char *pa = xasprintf("%s/%s", cache, name_a);
  cleanup_free char *pb = xasprintf("%s/%s", cache, name_b);
  cleanup_free char *data = NULL;
  size_t len = 0;
  kist_error_t err = NULL;
  bool copied = name_a[0] && name_b[0] && read_file_at(AT_FDCWD, pa, &data, &len, &err) == 0 &&
                write_file_atomic_at(AT_FDCWD, pb, data, len, 0600, &err) == 0;
  kist_error_release(&err);
  log_reset();
  s = prepare(b, &msg);
  ok(copied && s && log_has("not a valid entry") && log_has("seccomp: compiled") &&
       exited_with(in_child(s, probe_mkdir), EFBIG),
     "an entry of another profile under this name is not loaded (EFBIG, not ENOSPC)");
  kist_seccomp_free(s);
  kist_seccomp_set_cache_dir(NULL);
}

static void test_timing(void)
{
  cleanup_free char *data = NULL;
  size_t len;
  kist_error_t err = NULL;
  const char *path = getenv("KIST_PODMAN_CONFIG") ?: PODMAN_FIXTURE;
  oci_config *cfg = NULL;
  char *msg = NULL;
  if (read_file_at(AT_FDCWD, path, &data, &len, &err) < 0) {
    kist_error_release(&err);
    skip("no podman-like fixture (set KIST_PODMAN_CONFIG)");
    return;
  }
  if (oci_config_parse_data(data, len, path, &cfg, &msg) < 0) {
    ok(false, "parse %s: %s", path, msg);
    free(msg);
    return;
  }
  struct kist_seccomp *s = NULL;
  double best_compile = 1e12, best_hit = 1e12;
  kist_seccomp_set_cache_dir(NULL);
  for (int i = 0; i < 5; i++) {
    double t = now_us();
    if (kist_seccomp_prepare(cfg, &s, &err) < 0)
      break;
    t = now_us() - t;
    best_compile = t < best_compile ? t : best_compile;
    kist_seccomp_free(s);
  }
  kist_seccomp_set_cache_dir(tmpdir);
  kist_seccomp_prepare(cfg, &s, &err); /* store */
  kist_seccomp_free(s);
  for (int i = 0; i < 200; i++) {
    double t = now_us();
    if (kist_seccomp_prepare(cfg, &s, &err) < 0)
      break;
    t = now_us() - t;
    best_hit = t < best_hit ? t : best_hit;
    kist_seccomp_free(s);
  }
  ok(err == NULL, "podman-like profile: compile %.0f us, cache hit %.1f us: %.0fx faster",
     best_compile, best_hit, best_compile / best_hit);
  if (err)
    printf("# %s\n", kist_error_message(err));
  kist_error_release(&err);

  /* The profile in force: mkdir is on its allow list. */
  kist_seccomp_prepare(cfg, &s, &err);
  strcpy(probe_dir, tmpdir);
  strcat(probe_dir, "/podman-probe");
  int st = in_child(s, probe_mkdir);
  ok(s && exited_with(st, 0), "podman-like profile: mkdir allowed (status %#x)", st);
  kist_seccomp_free(s);
  kist_seccomp_set_cache_dir(NULL);
  free_oci_config(cfg);
}

int main(void)
{
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(log_path, sizeof log_path, "%s/log", tmpdir);
  snprintf(probe_dir, sizeof probe_dir, "%s/probe", tmpdir);
  kist_error_t err = NULL;
  if (kist_log_init(log_path, "text", true, &err) < 0) {
    printf("Bail out! %s\n", kist_error_message(err));
    return 1;
  }
  test_errors();
  test_actions();
  test_cache();
  test_notify();
  test_podman_profile();
  test_cache_concurrent();
  test_cache_foreign_entry();
  test_timing();
  printf("1..%d\n", n_tests);
  rm_rf_at(AT_FDCWD, tmpdir, &err);
  kist_error_release(&err);
  return n_failed ? 1 : 0;
}
