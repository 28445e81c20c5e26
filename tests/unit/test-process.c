/* Unit tests (TAP) for process.c, caps.c, rlimits.c, lsm.c and hooks.c:
 * validation messages from real configs, the pure helpers, args[0] lookup in
 * a scratch root, hooks (stdin, args, env, fds, timeout, status), and caps /
 * become applied in forked children. Needs root for the children's parts.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "hooks.h"
#include "lsm.h"
#include "process.h"
#include "rlimits.h"
#include "util.h"

static int n_tests, n_failed;
static char tmpdir[] = "/tmp/kist-test-process.XXXXXX";

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

/* A minimal valid config: `proc` is spliced into process (cwd "/" and
 * args ["sh"] added unless given), `extra` into the top-level object. */
static oci_config *config(const char *proc, const char *extra)
{
  cleanup_free char *body = xasprintf("%s%s%s%s", strstr(proc, "\"cwd\"") ? "" : "\"cwd\":\"/\",",
                                      strstr(proc, "\"args\"") ? "" : "\"args\":[\"sh\"],", proc,
                                      proc[0] ? "" : "\"terminal\":false");
  cleanup_free char *json = xasprintf(
    "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{%s},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
    "{\"type\":\"ipc\"},{\"type\":\"network\"}]}%s%s}",
    body, extra[0] ? "," : "", extra);
  oci_config *cfg = NULL;
  char *e = NULL;
  if (oci_config_parse_data(json, strlen(json), "test", &cfg, &e) < 0) {
    printf("# parse failed: %s\n# %s\n", e ? e : "?", json);
    free(e);
    return NULL;
  }
  return cfg;
}

/* Validates and compares the error message (NULL: must pass). */
static void expect_validate(const char *proc, const char *extra, const char *want)
{
  oci_config *cfg = config(proc, extra);
  if (cfg == NULL) {
    ok(false, "config parses: %s %s", proc, extra);
    return;
  }
  kist_error_t err = NULL;
  int r = kist_process_validate(cfg, &err);
  const char *msg = kist_error_message(err);
  if (want == NULL)
    ok(r == 0, "valid: %s %s%s%s", proc, extra, msg ? " -> " : "", msg ? msg : "");
  else
    ok(r < 0 && msg && strstr(msg, want), "error '%s' (got '%s')", want, msg ? msg : "none");
  kist_error_release(&err);
  free_oci_config(cfg);
}

static void test_helpers(void)
{
  ok(strcmp(kist_sysctl_namespace("kernel.shmmax"), "ipc") == 0, "kernel.shmmax is ipc");
  ok(strcmp(kist_sysctl_namespace("kernel.msgmnb"), "ipc") == 0, "kernel.msgmnb is ipc");
  ok(strcmp(kist_sysctl_namespace("kernel.sem"), "ipc") == 0, "kernel.sem is ipc");
  ok(strcmp(kist_sysctl_namespace("fs.mqueue.msg_max"), "ipc") == 0, "fs.mqueue.* is ipc");
  ok(strcmp(kist_sysctl_namespace("net.ipv4.ip_forward"), "network") == 0, "net.* is network");
  ok(strcmp(kist_sysctl_namespace("kernel.hostname"), "uts") == 0, "kernel.hostname is uts");
  ok(kist_sysctl_namespace("kernel.pid_max") == NULL, "kernel.pid_max is not namespaced");
  ok(kist_sysctl_namespace("vm.swappiness") == NULL, "vm.swappiness is not namespaced");
  ok(kist_sysctl_namespace("fs.mqueue") == NULL, "fs.mqueue alone is not a key");

  cpu_set_t *set;
  size_t size;
  kist_error_t err = NULL;
  int r = kist_cpu_list_parse("0-3,7", &set, &size, "f", &err);
  ok(r == 0 && set && CPU_COUNT_S(size, set) == 5 && CPU_ISSET_S(7, size, set) &&
       CPU_ISSET_S(0, size, set) && !CPU_ISSET_S(4, size, set),
     "cpu list 0-3,7");
  if (set)
    CPU_FREE(set);
  r = kist_cpu_list_parse(" 1 - 2 , 5 ", &set, &size, "f", &err);
  ok(r == 0 && set && CPU_COUNT_S(size, set) == 3, "cpu list with spaces");
  if (set)
    CPU_FREE(set);
  r = kist_cpu_list_parse("", &set, &size, "f", &err);
  ok(r == 0 && set == NULL, "empty cpu list is no change");
  const char *bad[] = {"3-1", "1,", ",1", "a", "1-", "1--2", "0-99999999", "1 2"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    r = kist_cpu_list_parse(bad[i], &set, &size, "process.execCPUAffinity.final", &err);
    ok(r < 0 && strstr(kist_error_message(err), "process.execCPUAffinity.final: '"),
       "cpu list '%s' refused: %s", bad[i], kist_error_message(err));
    kist_error_release(&err);
  }
}

/* The parser already refuses enum and pattern violations; these check that
 * a config built in code (libkist's API) is caught too. */
static void expect_mutated(const char *proc, void (*mutate)(oci_config *), const char *want)
{
  oci_config *cfg = config(proc, "");
  if (cfg == NULL) {
    ok(false, "config parses: %s", proc);
    return;
  }
  mutate(cfg);
  kist_error_t err = NULL;
  int r = kist_process_validate(cfg, &err);
  const char *msg = kist_error_message(err);
  ok(r < 0 && msg && strcmp(msg, want) == 0, "error '%s' (got '%s')", want, msg ? msg : "none");
  kist_error_release(&err);
  free_oci_config(cfg);
}

static void set_str(char **field, const char *v)
{
  free(*field);
  *field = xstrdup(v);
}

static void bad_policy(oci_config *c)
{
  set_str(&c->process->scheduler->policy, "SCHED_FOO");
}

static void bad_flag(oci_config *c)
{
  set_str(&c->process->scheduler->flags[0], "SCHED_FLAG_X");
}

static void bad_ioclass(oci_config *c)
{
  set_str(&c->process->io_priority->class, "IOPRIO_CLASS_XX");
}

static void bad_affinity(oci_config *c)
{
  set_str(&c->process->exec_cpu_affinity->final, "x");
}

static void bad_domain(oci_config *c)
{
  c->linux->personality = xzalloc(sizeof *c->linux->personality);
  set_str(&c->linux->personality->domain, "LINUX64");
}

static void bad_hook(oci_config *c)
{
  c->hooks = xzalloc(sizeof *c->hooks);
  c->hooks->poststart = xcalloc(2, sizeof(oci_hook *));
  c->hooks->poststart_len = 2;
  c->hooks->poststart[0] = xzalloc(sizeof(oci_hook));
  c->hooks->poststart[0]->path = xstrdup("/bin/true");
  c->hooks->poststart[1] = xzalloc(sizeof(oci_hook));
  c->hooks->poststart[1]->path = xstrdup("/bin/true");
  c->hooks->poststart[1]->timeout_present = true;
}

static void relative_hook(oci_config *c)
{
  bad_hook(c);
  c->hooks->poststart[1]->timeout_present = false;
  set_str(&c->hooks->poststart[1]->path, "true");
}

static void test_mutated(void)
{
  expect_mutated("\"scheduler\":{\"policy\":\"SCHED_OTHER\"}", bad_policy,
                 "process.scheduler.policy: unknown policy SCHED_FOO");
  expect_mutated("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_RECLAIM\"]}",
                 bad_flag, "process.scheduler.flags[0]: unknown flag SCHED_FLAG_X");
  expect_mutated("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\"}", bad_ioclass,
                 "process.ioPriority.class: unknown class IOPRIO_CLASS_XX");
  expect_mutated("\"execCPUAffinity\":{\"final\":\"1\"}", bad_affinity,
                 "process.execCPUAffinity.final: 'x' is not a cpu list like \"0-3,7\"");
  expect_mutated("", bad_domain,
                 "linux.personality.domain: unknown domain LINUX64 (LINUX or LINUX32)");
  expect_mutated("", bad_hook, "hooks.poststart[1].timeout: 0 must be greater than zero");
  expect_mutated("", relative_hook, "hooks.poststart[1].path: 'true' is not an absolute path");
}

static void test_validate(void)
{
  expect_validate("", "", NULL);
  expect_validate("\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_FOO\"]}", "",
                  "process.capabilities.bounding[2]: unknown capability CAP_FOO");
  expect_validate("\"capabilities\":{\"effective\":[\"cap_chown\"],\"permitted\":[\"cap_chown\"]}",
                  "", "process.capabilities.effective[0]: unknown capability cap_chown");
  expect_validate("\"capabilities\":{\"permitted\":[\"12\"]}", "",
                  "process.capabilities.permitted[0]: unknown capability 12");
  expect_validate("\"capabilities\":{\"effective\":[\"CAP_KILL\"]}", "",
                  "process.capabilities.effective[0]: CAP_KILL is not in the permitted set");
  expect_validate("\"capabilities\":{\"ambient\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}", "",
                  "process.capabilities.ambient[0]: CAP_KILL must also be listed in permitted "
                  "and inheritable");
  expect_validate("\"capabilities\":{\"ambient\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],"
                  "\"inheritable\":[\"CAP_KILL\"],\"bounding\":[\"CAP_KILL\"]}",
                  "", NULL);
  expect_validate("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":10},"
                  "{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]",
                  "", "process.rlimits[1].type: unknown rlimit RLIMIT_FOO");
  expect_validate("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":10,\"hard\":5}]", "",
                  "process.rlimits[0]: RLIMIT_CORE: soft limit 10 is above the hard limit 5");
  expect_validate("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":5},"
                  "{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":5}]",
                  "", "process.rlimits[1].type: RLIMIT_CORE is already set by [0]");
  const char *all[] = {"AS",      "CORE",     "CPU",        "DATA",   "FSIZE", "LOCKS",
                       "MEMLOCK", "MSGQUEUE", "NICE",       "NOFILE", "NPROC", "RSS",
                       "RTPRIO",  "RTTIME",   "SIGPENDING", "STACK"};
  for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
    cleanup_free char *p =
      xasprintf("\"rlimits\":[{\"type\":\"RLIMIT_%s\",\"soft\":0,\"hard\":0}]", all[i]);
    expect_validate(p, "", NULL);
  }
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_max < 1048576) {
    cleanup_free char *want = xasprintf(
      "process.rlimits[0]: RLIMIT_NOFILE: cannot raise hard limit to 1048576 above the current "
      "%llu (no CAP_SYS_RESOURCE); lower it in config.json (Podman/Docker: --ulimit "
      "nofile=%llu:%llu) or raise the caller's hard limit",
      (unsigned long long)nofile.rlim_max, (unsigned long long)nofile.rlim_max,
      (unsigned long long)nofile.rlim_max);
    expect_validate("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":1048576}]", "",
                    want);
  }
  expect_validate("\"cwd\":\"relative\"", "", "process.cwd: 'relative' is not an absolute path");
  expect_validate("\"oomScoreAdj\":1001", "", "process.oomScoreAdj: 1001 is outside -1000..1000");
  expect_validate("\"oomScoreAdj\":-1000", "", NULL);
  expect_validate("\"env\":[\"A=1\",\"B\"]", "", "process.env[1]: 'B' is not NAME=VALUE");
  expect_validate("\"user\":{\"umask\":4095}", "", "process.user.umask");
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_ISO\"}", "",
                  "process.scheduler.policy: SCHED_ISO is not supported by Linux");
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_FIFO\"}", "",
                  "process.scheduler.priority: SCHED_FIFO needs a priority from 1 to 99");
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"priority\":3}", "",
                  "process.scheduler.priority: SCHED_BATCH takes priority 0");
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7,"
                  "\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\"]}",
                  "", NULL);
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}", "",
                  "process.scheduler.nice: 20 is outside -20..19");
  expect_validate("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":10}", "",
                  "SCHED_DEADLINE needs runtime and deadline");
  expect_validate("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}", "",
                  "process.ioPriority.priority: 8 is outside 0..7");
  expect_validate("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\"}", "", NULL);
  expect_validate("\"selinuxLabel\":\"system_u:system_r:container_t:s0\"", "",
                  "process.selinuxLabel: SELinux is not enabled on this host");
  expect_validate("\"apparmorProfile\":\"kist-default\"", "",
                  "process.apparmorProfile: AppArmor is not enabled on this host");

  /* linux.* and top-level fields need their own namespace lists. */
  oci_config *cfg = config("", "\"hostname\":\"x\"");
  free_oci_config(cfg);
  const char *nouts =
    "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"r\"},\"hostname\":\"h\","
    "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]},\"linux\":{\"namespaces\":[{\"type\":\"pid\"}],"
    "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}";
  char *e = NULL;
  kist_error_t err = NULL;
  if (oci_config_parse_data(nouts, strlen(nouts), "t", &cfg, &e) == 0) {
    kist_process_validate(cfg, &err);
    ok(err && strstr(kist_error_message(err),
                     "hostname: needs a uts namespace (linux.namespaces has none)"),
       "hostname without uts: %s", kist_error_message(err));
    kist_error_release(&err);
    free(cfg->hostname);
    cfg->hostname = NULL;
    kist_process_validate(cfg, &err);
    ok(err && strstr(kist_error_message(err),
                     "linux.sysctl.net.ipv4.ip_forward: needs a network namespace"),
       "net sysctl without netns: %s", kist_error_message(err));
    kist_error_release(&err);
    free_oci_config(cfg);
  } else {
    ok(false, "parse: %s", e);
    free(e);
  }
  expect_validate("", "\"hostname\":\"box\",\"domainname\":\"example\"", NULL);
}

/* sysctl and personality live under linux: build those configs by hand. */
static void test_validate_linux(void)
{
  struct {
    const char *linux_extra, *want;
  } cases[] = {
    {"\"sysctl\":{\"kernel.shmmax\":\"1\",\"net.ipv4.ip_forward\":\"1\","
     "\"fs.mqueue.msg_max\":\"20\",\"kernel.domainname\":\"x\",\"net/ipv4/conf/all/forwarding\":"
     "\"1\"}",
     NULL},
    {"\"sysctl\":{\"vm.swappiness\":\"1\"}",
     "linux.sysctl.vm.swappiness: not isolated by a namespace"},
    {"\"sysctl\":{\"kernel.pid_max\":\"1\"}", "linux.sysctl.kernel.pid_max: not isolated"},
    {"\"sysctl\":{\"net/../vm/x\":\"1\"}", "linux.sysctl.net/../vm/x: not a sysctl name"},
    {"\"personality\":{\"domain\":\"LINUX32\"}", NULL},
    {"\"personality\":{\"domain\":\"LINUX\",\"flags\":[\"X\"]}",
     "linux.personality.flags[0]: unknown flag X"},
    {"\"mountLabel\":\"system_u:object_r:container_file_t:s0\"",
     "linux.mountLabel: SELinux is not enabled on this host"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    cleanup_free char *json = xasprintf(
      "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\","
      "\"args\":[\"sh\"]},\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":\"uts\"},"
      "{\"type\":\"network\"}],%s}}",
      cases[i].linux_extra);
    oci_config *cfg = NULL;
    char *e = NULL;
    if (oci_config_parse_data(json, strlen(json), "t", &cfg, &e) < 0) {
      ok(false, "parse %s: %s", cases[i].linux_extra, e);
      free(e);
      continue;
    }
    kist_error_t err = NULL;
    int r = kist_process_validate(cfg, &err);
    const char *msg = kist_error_message(err);
    if (cases[i].want == NULL)
      ok(r == 0, "valid: %s%s%s", cases[i].linux_extra, msg ? " -> " : "", msg ? msg : "");
    else
      ok(r < 0 && msg && strstr(msg, cases[i].want), "error '%s' (got '%s')", cases[i].want,
         msg ? msg : "none");
    kist_error_release(&err);
    free_oci_config(cfg);
  }
  /* A net namespace joined by path that is our own one isolates nothing. */
  const char *json =
    "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\","
    "\"args\":[\"sh\"]},\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":"
    "\"/proc/self/ns/net\"}],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}";
  oci_config *cfg = NULL;
  char *e = NULL;
  if (oci_config_parse_data(json, strlen(json), "t", &cfg, &e) == 0) {
    kist_error_t err = NULL;
    kist_process_validate(cfg, &err);
    ok(err && strstr(kist_error_message(err), "is the host's own"), "host netns refused: %s",
       kist_error_message(err));
    kist_error_release(&err);
    free_oci_config(cfg);
  } else {
    free(e);
  }
}

static void write_file(const char *path, const char *data, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write_all(fd, data, strlen(data)) < 0)
    abort();
  fchmod(fd, mode);
  close(fd);
}

static void expect_find(int rootfd, const char *proc, const char *want_path, int want_code,
                        const char *want_msg)
{
  oci_config *cfg = config(proc, "");
  if (cfg == NULL) {
    ok(false, "parse %s", proc);
    return;
  }
  char *path = NULL;
  int code = -1;
  kist_error_t err = NULL;
  int r = kist_process_find_executable(rootfd, cfg->process, &path, &code, &err);
  const char *msg = kist_error_message(err);
  if (want_path)
    ok(r == 0 && path && strcmp(path, want_path) == 0, "find %s -> %s (got %s%s%s)", proc,
       want_path, path ? path : "none", msg ? ": " : "", msg ? msg : "");
  else
    ok(r < 0 && code == want_code && msg && strstr(msg, want_msg),
       "find %s -> %d '%s' (got %d '%s')", proc, want_code, want_msg, code, msg ? msg : "");
  free(path);
  kist_error_release(&err);
  free_oci_config(cfg);
}

static void test_find_executable(void)
{
  cleanup_free char *root = xasprintf("%s/root", tmpdir);
  kist_error_t err = NULL;
  const char *dirs[] = {"bin", "usr/bin", "opt/app", "home/u", "etc"};
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
    cleanup_free char *d = xasprintf("%s/%s", root, dirs[i]);
    mkdir_p_at(AT_FDCWD, d, 0755, &err);
  }
  char *p = NULL;
  p = xasprintf("%s/bin/sh", root);
  write_file(p, "#!x\n", 0755);
  free(p);
  p = xasprintf("%s/usr/bin/tool", root);
  write_file(p, "x", 0644); /* not executable */
  free(p);
  p = xasprintf("%s/opt/app/tool", root);
  write_file(p, "x", 0755);
  free(p);
  p = xasprintf("%s/opt/app/owner-only", root);
  write_file(p, "x", 0700);
  free(p);
  p = xasprintf("%s/home/u/run", root);
  write_file(p, "x", 0755);
  free(p);
  p = xasprintf("%s/etc/passwd", root);
  write_file(p, "root:x:0:0::/:/bin/sh\n", 0644);
  free(p);
  /* A symlink that points out of the root must stay inside it. */
  p = xasprintf("%s/bin/escape", root);
  if (symlink("/bin/sh", p) < 0)
    abort();
  free(p);
  p = xasprintf("%s/opt/app/up", root);
  if (symlink("../../../../../../bin/sh", p) < 0)
    abort();
  free(p);
  int rootfd = open(root, O_PATH | O_DIRECTORY);

  expect_find(rootfd, "", "/bin/sh", 0, NULL);
  expect_find(rootfd, "\"args\":[\"/bin/sh\"]", "/bin/sh", 0, NULL);
  expect_find(rootfd, "\"args\":[\"nope\"]", NULL, 127,
              "process.args[0]: executable file `nope` not found in $PATH");
  expect_find(rootfd, "\"args\":[\"/bin/nope\"]", NULL, 127,
              "process.args[0]: /bin/nope: No such file or directory");
  expect_find(rootfd, "\"args\":[\"/etc/passwd\"]", NULL, 126,
              "process.args[0]: /etc/passwd: Permission denied");
  expect_find(rootfd, "\"args\":[\"/etc\"]", NULL, 126, "process.args[0]: /etc: Is a directory");
  /* Found but not executable in an earlier PATH entry: keep looking. */
  expect_find(rootfd, "\"args\":[\"tool\"],\"env\":[\"PATH=/usr/bin:/opt/app\"]", "/opt/app/tool",
              0, NULL);
  expect_find(rootfd, "\"args\":[\"tool\"],\"env\":[\"PATH=/usr/bin\"]", NULL, 126,
              "process.args[0]: /usr/bin/tool: Permission denied");
  expect_find(rootfd, "\"args\":[\"tool\"],\"env\":[\"PATH=/usr/bin:/opt/app\",\"PATH=/x\"]",
              "/opt/app/tool", 0, NULL);
  /* Relative names resolve from process.cwd. */
  expect_find(rootfd, "\"args\":[\"./run\"],\"cwd\":\"/home/u\"", "/home/u/./run", 0, NULL);
  expect_find(rootfd, "\"args\":[\"run\"],\"cwd\":\"/home/u\",\"env\":[\"PATH=bin:.\"]",
              "/home/u/./run", 0, NULL);
  /* The process user's permission, not ours. */
  expect_find(rootfd, "\"args\":[\"/opt/app/owner-only\"],\"user\":{\"uid\":1000,\"gid\":1000}",
              NULL, 126, "Permission denied");
  expect_find(rootfd, "\"args\":[\"/opt/app/owner-only\"]", "/opt/app/owner-only", 0, NULL);
  expect_find(rootfd, "\"args\":[\"escape\"],\"env\":[\"PATH=/bin\"]", "/bin/escape", 0, NULL);
  expect_find(rootfd, "\"args\":[\"/opt/app/up\"]", "/opt/app/up", 0, NULL);
  /* Default PATH when env has none. */
  expect_find(rootfd, "\"args\":[\"sh\"],\"env\":[\"A=b\"]", "/bin/sh", 0, NULL);
  close(rootfd);
}

static oci_hook *hook(const char *path, char **args, size_t nargs, char **env, size_t nenv,
                      int64_t timeout)
{
  oci_hook *h = xzalloc(sizeof *h);
  h->path = xstrdup(path);
  if (args) {
    h->args = xcalloc(nargs, sizeof(char *));
    for (size_t i = 0; i < nargs; i++)
      h->args[i] = xstrdup(args[i]);
    h->args_len = nargs;
  }
  if (env) {
    h->env = xcalloc(nenv, sizeof(char *));
    for (size_t i = 0; i < nenv; i++)
      h->env[i] = xstrdup(env[i]);
    h->env_len = nenv;
  }
  if (timeout) {
    h->timeout = timeout;
    h->timeout_present = true;
  }
  return h;
}

static void test_hooks(void)
{
  kist_error_t err = NULL;
  cleanup_free char *out = xasprintf("%s/hook-out", tmpdir);
  cleanup_free char *script = xasprintf(
    "echo \"argv0=$0 args=$* env=$(env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' "
    "| sort | tr '\\n' ' ')\" > %s; cat >> %s; ls /proc/self/fd | wc -l >> %s",
    out, out, out);
  char *args[] = {"myhook", "-c", script};
  char *env[] = {"A=1", "B=two"};
  /* An fd without CLOEXEC must not reach the hook. */
  int leak = open("/dev/null", O_RDONLY);
  oci_hook *h = hook("/bin/sh", args, 3, env, 2, 0);
  int r = kist_hooks_run(&h, 1, "prestart", "{\"id\":\"x\"}", &err);
  cleanup_free char *got = NULL;
  size_t len;
  kist_error_t e2 = NULL;
  read_file_at(AT_FDCWD, out, &got, &len, &e2);
  kist_error_release(&e2);
  for (char *c = got; c && *c; c++)
    if (*c == '\n')
      *c = '|';
  ok(r == 0 && got && strstr(got, "argv0=myhook args= env=A=1 B=two |"), "hook argv/env: %s",
     got ? got : "(none)");
  ok(got && strstr(got, "|{\"id\":\"x\"}4|") != NULL, "hook stdin = state, fds 0-2 + ls's: %s",
     got ? got : "");
  close(leak);
  free_oci_hook(h);

  /* No args: argv[0] is the path. Empty env. */
  free(script);
  script = NULL;
  h = hook("/bin/sh", NULL, 0, NULL, 0, 0);
  r = kist_hooks_run(&h, 1, "poststop", "", &err);
  ok(r == 0, "hook with no args runs (sh reads an empty stdin)");
  kist_error_release(&err);
  free_oci_hook(h);

  char *fail3[] = {"sh", "-c", "exit 3"};
  oci_hook *hs[2] = {hook("/bin/true", NULL, 0, NULL, 0, 0), hook("/bin/sh", fail3, 3, NULL, 0, 0)};
  r = kist_hooks_run(hs, 2, "poststart", "{}", &err);
  ok(r < 0 &&
       strcmp(kist_error_message(err), "poststart hook #1 (/bin/sh) exited with status 3") == 0,
     "exit status: %s", kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(hs[0]);
  free_oci_hook(hs[1]);

  char *killself[] = {"sh", "-c", "kill -9 $$"};
  h = hook("/bin/sh", killself, 3, NULL, 0, 0);
  r = kist_hooks_run(&h, 1, "createContainer", "{}", &err);
  ok(r < 0 &&
       strcmp(kist_error_message(err), "createContainer hook #0 (/bin/sh) killed by signal 9") == 0,
     "signal: %s", kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(h);

  char *sleep[] = {"sleep", "30"};
  h = hook("/bin/sleep", sleep, 2, NULL, 0, 1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = kist_hooks_run(&h, 1, "createRuntime", "{}", &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ok(r < 0 &&
       strcmp(kist_error_message(err), "createRuntime hook #0 (/bin/sleep) timed out after 1s") ==
         0 &&
       secs < 3,
     "timeout after %.2fs: %s", secs, kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(h);

  /* A hook that never reads a large stdin must not block us. */
  size_t big = 1 << 20;
  char *json = xmalloc(big + 1);
  memset(json, 'x', big);
  json[big] = '\0';
  h = hook("/bin/true", NULL, 0, NULL, 0, 5);
  r = kist_hooks_run(&h, 1, "startContainer", json, &err);
  ok(r == 0, "hook ignoring 1 MiB of stdin: %s", r == 0 ? "ok" : kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(h);
  char *sleeper[] = {"sh", "-c", "sleep 0.3"};
  h = hook("/bin/sh", sleeper, 3, NULL, 0, 5);
  r = kist_hooks_run(&h, 1, "startContainer", json, &err);
  ok(r == 0, "hook sleeping without reading 1 MiB: %s", r == 0 ? "ok" : kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(h);
  free(json);

  /* poststart/poststop: every hook runs, failures are only warnings. */
  cleanup_free char *marker = xasprintf("%s/after-failure", tmpdir);
  cleanup_free char *touch = xasprintf("touch %s", marker);
  char *touch_args[] = {"sh", "-c", touch};
  oci_hook *ws[2] = {hook("/bin/false", NULL, 0, NULL, 0, 0),
                     hook("/bin/sh", touch_args, 3, NULL, 0, 0)};
  kist_hooks_run_warn(ws, 2, "poststop", "{}");
  ok(access(marker, F_OK) == 0, "kist_hooks_run_warn runs the hooks after a failing one");
  free_oci_hook(ws[0]);
  free_oci_hook(ws[1]);

  h = hook("/no/such/hook", NULL, 0, NULL, 0, 0);
  r = kist_hooks_run(&h, 1, "prestart", "{}", &err);
  ok(r < 0 && strcmp(kist_error_message(err),
                     "prestart hook #0 (/no/such/hook): exec: No such file or directory") == 0,
     "missing hook: %s", kist_error_message(err));
  kist_error_release(&err);
  free_oci_hook(h);
}

/* Runs fn in a child; returns its exit status. */
static int in_child(int (*fn)(void *), void *arg)
{
  pid_t pid = fork();
  if (pid == 0)
    _exit(fn(arg));
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *status_field(const char *name)
{
  cleanup_free char *s = NULL;
  size_t len;
  kist_error_t err = NULL;
  if (read_file_at(AT_FDCWD, "/proc/self/status", &s, &len, &err) < 0) {
    kist_error_release(&err);
    return NULL;
  }
  cleanup_free char *key = xasprintf("\n%s:\t", name);
  char *p = strstr(s, key);
  if (p == NULL)
    return NULL;
  p += strlen(key);
  return xstrndup(p, strcspn(p, "\n"));
}

struct become_case {
  const char *proc;
  const char *fields[6][2];
};

static int become_child(void *arg)
{
  const struct become_case *c = arg;
  oci_config *cfg = config(c->proc, "");
  kist_error_t err = NULL;
  if (cfg == NULL || kist_process_become(cfg->process, &err) < 0) {
    printf("# become: %s\n", kist_error_message(err));
    return 10;
  }
  for (size_t i = 0; i < 6 && c->fields[i][0]; i++) {
    cleanup_free char *v = status_field(c->fields[i][0]);
    if (v == NULL || strcmp(v, c->fields[i][1]) != 0) {
      printf("# %s: '%s', wanted '%s'\n", c->fields[i][0], v ? v : "?", c->fields[i][1]);
      return 11;
    }
  }
  char cwd[256];
  if (getcwd(cwd, sizeof cwd) == NULL)
    return 12;
  return strcmp(cwd, cfg->process->cwd) == 0 ? 0 : 13;
}

static void test_become(void)
{
  if (geteuid() != 0) {
    printf("ok %d - # SKIP become needs root\n", ++n_tests);
    return;
  }
  struct become_case c1 = {
    "\"cwd\":\"/tmp\",\"user\":{\"uid\":1000,\"gid\":1001,\"additionalGids\":[5,7]},"
    "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"permitted\":[\"CAP_KILL\"],"
    "\"effective\":[\"CAP_KILL\"],\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]},"
    "\"noNewPrivileges\":true",
    {{"Uid", "1000\t1000\t1000\t1000"},
     {"Gid", "1001\t1001\t1001\t1001"},
     {"Groups", "5 7 "},
     {"CapEff", "0000000000000020"},
     {"CapBnd", "0000000000000021"},
     {"NoNewPrivs", "1"}}};
  ok(in_child(become_child, &c1) == 0, "become uid 1000 with CAP_KILL everywhere");
  struct become_case c2 = {
    "\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
    "\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\"],"
    "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}",
    {{"CapEff", "0000000000000001"},
     {"CapPrm", "0000000000000021"},
     {"CapInh", "0000000000000020"},
     {"CapAmb", "0000000000000020"},
     {"CapBnd", "0000000000000021"},
     {"NoNewPrivs", "0"}}};
  ok(in_child(become_child, &c2) == 0, "root: five sets as listed");
  struct become_case c3 = {"\"cwd\":\"/\"",
                           {{"CapEff", "0000000000000000"},
                            {"CapPrm", "0000000000000000"},
                            {"CapBnd", "0000000000000000"},
                            {"CapAmb", "0000000000000000"}}};
  ok(in_child(become_child, &c3) == 0, "no capabilities object: all dropped");
  struct become_case c4 = {"\"cwd\":\"/nope\"", {{NULL, NULL}}};
  ok(in_child(become_child, &c4) == 10, "missing cwd fails");
}

static int cwd_msg_child(void *arg)
{
  oci_config *cfg = config(arg, "");
  kist_error_t err = NULL;
  kist_process_become(cfg->process, &err);
  printf("# %s\n", kist_error_message(err));
  return err &&
             strcmp(kist_error_message(err), "process.cwd: /nope: No such file or directory") == 0
           ? 0
           : 1;
}

static int rlimit_child(void *arg)
{
  oci_config *cfg = config(arg, "");
  kist_error_t err = NULL;
  if (kist_rlimits_apply(cfg->process, &err) < 0) {
    printf("# %s\n", kist_error_message(err));
    return strstr(kist_error_message(err), "cannot raise hard limit") ? 2 : 1;
  }
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  struct rlimit c;
  getrlimit(RLIMIT_CORE, &c);
  return r.rlim_cur == 100 && r.rlim_max == 200 && c.rlim_cur == RLIM_INFINITY ? 0 : 3;
}

static void test_apply(void)
{
  ok(in_child(cwd_msg_child, "\"cwd\":\"/nope\"") == 0, "cwd message");
  ok(in_child(rlimit_child, "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200},"
                            "{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,"
                            "\"hard\":18446744073709551615}]") == 0 ||
       geteuid() != 0,
     "rlimits applied (uint64 max = unlimited)");
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_max < 1048576)
    ok(in_child(rlimit_child,
                "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1048576}]") == 2,
       "raising the hard limit without CAP_SYS_RESOURCE names the limit");
}

int main(void)
{
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  test_helpers();
  test_validate();
  test_validate_linux();
  test_mutated();
  test_find_executable();
  test_hooks();
  test_become();
  test_apply();
  kist_error_t err = NULL;
  rm_rf_at(AT_FDCWD, tmpdir, &err);
  kist_error_release(&err);
  printf("1..%d\n", n_tests);
  return n_failed ? 1 : 0;
}
