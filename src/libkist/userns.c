/* Writing a user namespace's id maps. The kernel lets an unprivileged
 * process write only one line, mapping its own euid (egid, after
 * setgroups "deny"); anything wider goes through the setuid helpers
 * newuidmap/newgidmap, which allow the caller's own id plus the ranges
 * /etc/subuid and /etc/subgid grant it (user_namespaces(7), subuid(5)).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "rootless.h"
#include "userns.h"
#include "util.h"

extern char **environ;

struct map_kind {
  const char *field;  /* linux.uidMappings */
  const char *file;   /* uid_map */
  const char *helper; /* newuidmap */
  const char *subids; /* /etc/subuid */
  const char *id;     /* uid */
  const char *opt;    /* usermod option */
};

static const struct map_kind UID_KIND = {"linux.uidMappings", "uid_map", "newuidmap",
                                         "/etc/subuid",       "uid",     "--add-subuids"};
static const struct map_kind GID_KIND = {"linux.gidMappings", "gid_map", "newgidmap",
                                         "/etc/subgid",       "gid",     "--add-subgids"};

bool kist_userns_map_is_direct(oci_id_mapping **m, size_t n, unsigned own_id)
{
  return n == 1 && m[0]->size == 1 && m[0]->host_id == own_id;
}

/* The helper's path: PATH first, then where Debian and others install it. */
static char *find_helper(const char *name)
{
  const char *path = getenv("PATH");
  cleanup_free char *dirs =
    xasprintf("%s:/usr/bin:/bin:/usr/sbin:/sbin", path && *path ? path : "/usr/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if (*d != '/')
      continue; /* never a relative PATH entry for a setuid helper */
    char *p = xasprintf("%s/%s", d, name);
    if (access(p, X_OK) == 0)
      return p;
    free(p);
  }
  return NULL;
}

struct subid_range {
  unsigned long start, count;
};

/* The caller's ranges in /etc/subuid or /etc/subgid ("name:start:count",
 * the name may also be the numeric id). *n = 0 with 0 returned when the file
 * has none; -1 with errno when it cannot be read. */
static int read_subids(const char *file, struct subid_range **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  cleanup_fclose FILE *f = fopen(file, "re");
  if (f == NULL)
    return -1;
  struct passwd *pw = getpwuid(getuid());
  char uidbuf[16];
  kist_snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned)getuid());
  char line[512];
  size_t cap = 0;
  while (fgets(line, sizeof line, f)) {
    char *save = NULL;
    char *name = strtok_r(line, ":", &save);
    char *start = strtok_r(NULL, ":", &save);
    char *count = strtok_r(NULL, ":\n", &save);
    if (name == NULL || start == NULL || count == NULL)
      continue;
    if (strcmp(name, uidbuf) != 0 && (pw == NULL || strcmp(name, pw->pw_name) != 0))
      continue;
    char *e1, *e2;
    errno = 0;
    unsigned long s = strtoul(start, &e1, 10), c = strtoul(count, &e2, 10);
    if (errno || *e1 || *e2 || c == 0)
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 4;
      *out = xrealloc(*out, cap * sizeof **out);
    }
    (*out)[(*n)++] = (struct subid_range){s, c};
  }
  return 0;
}

/* Is [start, start+count) inside the union of the ranges? */
static bool covered(const struct subid_range *r, size_t n, unsigned long start, unsigned long count)
{
  unsigned long pos = start, end = start + count;
  bool moved = true;
  while (pos < end && moved) {
    moved = false;
    for (size_t i = 0; i < n; i++)
      if (r[i].start <= pos && pos < r[i].start + r[i].count) {
        pos = r[i].start + r[i].count;
        moved = true;
      }
  }
  return pos >= end;
}

static const char *user_name(void)
{
  struct passwd *pw = getpwuid(getuid());
  return pw ? pw->pw_name : "(this user)";
}

static int check_one(const struct map_kind *k, oci_id_mapping **m, size_t n, unsigned own,
                     kist_error_t *err)
{
  if (n == 0 || kist_userns_map_is_direct(m, n, own))
    return 0;
  cleanup_free char *helper = find_helper(k->helper);
  if (helper == NULL)
    return kist_fail(err, 0,
                     "%s: mapping more than your own %s (%u) without root needs %s, which is not "
                     "installed: install the uidmap package, or map only containerID 0 to hostID "
                     "%u with size 1 (kist spec --rootless)",
                     k->field, k->id, own, k->helper, own);
  cleanup_free struct subid_range *r = NULL;
  size_t nr = 0;
  bool readable = read_subids(k->subids, &r, &nr) == 0;
  for (size_t i = 0; i < n; i++) {
    unsigned long host = m[i]->host_id, size = m[i]->size;
    if (size == 1 && host == own)
      continue; /* the helpers allow one's own id */
    if (readable && covered(r, nr, host, size))
      continue;
    if (!readable && errno != ENOENT)
      return kist_fail(err, errno, "%s[%zu]: read %s", k->field, i, k->subids);
    if (nr == 0)
      return kist_fail(err, 0,
                       "%s[%zu]: host %ss %lu-%lu are not yours: %s has no range for %s; ask an "
                       "administrator to add one (usermod %s 100000-165535 %s), or map only "
                       "your own %s %u (kist spec --rootless)",
                       k->field, i, k->id, host, host + size - 1, k->subids, user_name(), k->opt,
                       user_name(), k->id, own);
    return kist_fail(err, 0,
                     "%s[%zu]: host %ss %lu-%lu are outside %s's ranges in %s (first: %lu-%lu); "
                     "map host ids inside them",
                     k->field, i, k->id, host, host + size - 1, user_name(), k->subids, r[0].start,
                     r[0].start + r[0].count - 1);
  }
  return 0;
}

int kist_userns_check_maps(const oci_config *cfg, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  /* Root (of any user namespace) writes maps itself; the ids must be
   * mapped in its own namespace, which the kernel checks. */
  if (l == NULL || geteuid() == 0)
    return 0;
  if (check_one(&UID_KIND, l->uid_mappings, l->uid_mappings_len, (unsigned)geteuid(), err) < 0)
    return -1;
  return check_one(&GID_KIND, l->gid_mappings, l->gid_mappings_len, (unsigned)getegid(), err);
}

char *kist_userns_format_map(oci_id_mapping **m, size_t n)
{
  size_t cap = n * 36 + 1, len = 0;
  char *s = xmalloc(cap);
  s[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t)kist_snprintf(s + len, cap - len, "%u %u %u\n", (unsigned)m[i]->container_id,
                                 (unsigned)m[i]->host_id, (unsigned)m[i]->size);
  return s;
}

int kist_userns_write_proc(pid_t pid, const char *file, const char *data, const char *what,
                           kist_error_t *err)
{
  char path[64];
  kist_snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "%s: open %s", what, path);
  size_t len = strlen(data);
  ssize_t w = write(fd, data, len);
  if (w == (ssize_t)len)
    return 0;
  int e = w < 0 ? errno : EIO;
  if (e == EPERM && geteuid() != 0)
    return kist_fail(err, 0,
                     "%s: write %s: %s (without root the kernel accepts only your own id; "
                     "wider maps need newuidmap/newgidmap and /etc/subuid, /etc/subgid ranges)",
                     what, path, strerror(e));
  return kist_fail(err, e, "%s: write %s", what, path);
}

/* Runs HELPER PID (containerID hostID size)...; its stderr goes into the error. */
static int run_helper(const struct map_kind *k, const char *field, pid_t pid, oci_id_mapping **m,
                      size_t n, kist_error_t *err)
{
  cleanup_free char *helper = find_helper(k->helper);
  if (helper == NULL)
    return kist_fail(err, 0, "%s: %s is not installed (uidmap package)", field, k->helper);
  size_t argc = 2 + 3 * n;
  char **argv = xcalloc(argc + 1, sizeof *argv);
  argv[0] = xstrdup(helper);
  argv[1] = xasprintf("%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    argv[2 + 3 * i] = xasprintf("%u", (unsigned)m[i]->container_id);
    argv[3 + 3 * i] = xasprintf("%u", (unsigned)m[i]->host_id);
    argv[4 + 3 * i] = xasprintf("%u", (unsigned)m[i]->size);
  }
  int ret = -1;
  int pipefd[2] = {-1, -1};
  char *args = NULL; /* before any goto: freed at out */
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    kist_fail(err, errno, "%s: pipe", field);
    goto out;
  }
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  pid_t child;
  int e = posix_spawn(&child, helper, &fa, NULL, argv, environ);
  close(pipefd[1]);
  pipefd[1] = -1;
  if (e != 0) {
    kist_fail(err, e, "%s: run %s", field, helper);
    goto out;
  }
  char out[512];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(pipefd[0], out + len, sizeof out - 1 - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
    if (len == sizeof out - 1)
      break; /* enough for a message; the rest is dropped with the pipe */
  }
  out[len] = '\0';
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    ret = 0;
    goto out;
  }
  /* One line: the helper's first line, trailing newline gone. */
  out[strcspn(out, "\n")] = '\0';
  args = kist_userns_format_map(m, n);
  for (char *p = args; *p; p++)
    if (*p == '\n')
      *p = p[1] ? ',' : '\0';
  kist_fail(err, 0, "%s: %s refused the map (%s): %s", field, k->helper, args,
            out[0] ? out : (WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "failed"));
out:
  if (pipefd[0] >= 0)
    close(pipefd[0]);
  if (pipefd[1] >= 0)
    close(pipefd[1]);
  posix_spawn_file_actions_destroy(&fa);
  strv_free(argv);
  free(args);
  return ret;
}

int kist_userns_write_id_maps(pid_t pid, oci_id_mapping **uid, size_t nuid, oci_id_mapping **gid,
                              size_t ngid, const char *uid_field, const char *gid_field,
                              bool helpers, kist_error_t *err)
{
  bool priv = geteuid() == 0; /* CAP_SETUID/CAP_SETGID over its own namespace */
  bool uid_direct = priv || !helpers || kist_userns_map_is_direct(uid, nuid, (unsigned)geteuid());
  bool gid_direct = priv || !helpers || kist_userns_map_is_direct(gid, ngid, (unsigned)getegid());
  if (uid_direct) {
    cleanup_free char *uids = kist_userns_format_map(uid, nuid);
    if (kist_userns_write_proc(pid, "uid_map", uids, uid_field, err) < 0)
      return -1;
  } else if (run_helper(&UID_KIND, uid_field, pid, uid, nuid, err) < 0) {
    return -1;
  }
  if (!gid_direct)
    return run_helper(&GID_KIND, gid_field, pid, gid, ngid, err);
  /* Without CAP_SETGID over the parent namespace the kernel takes a
   * gid_map only once setgroups is denied; newgidmap decides that itself. */
  if (!priv && kist_userns_write_proc(pid, "setgroups", "deny", gid_field, err) < 0)
    return -1;
  cleanup_free char *gids = kist_userns_format_map(gid, ngid);
  return kist_userns_write_proc(pid, "gid_map", gids, gid_field, err);
}

int kist_userns_write_maps(pid_t pid, const oci_config *cfg, kist_error_t *err)
{
  const oci_config_linux *l = cfg->linux;
  return kist_userns_write_id_maps(pid, l->uid_mappings, l->uid_mappings_len, l->gid_mappings,
                                   l->gid_mappings_len, UID_KIND.field, GID_KIND.field, true, err);
}
