/* libcriu, loaded on demand (see criu.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu.h"
#include "util.h"

static struct kist_criu lib;
static bool loaded;

#define SYM(field, name, required)                                                                 \
  {                                                                                                \
    offsetof(struct kist_criu, field), name, required                                              \
  }
static const struct {
  size_t off;
  const char *name;
  bool required;
} syms[] = {
  SYM(init_opts, "criu_local_init_opts", true),
  SYM(free_opts, "criu_local_free_opts", true),
  SYM(set_service_binary, "criu_local_set_service_binary", true),
  SYM(set_pid, "criu_local_set_pid", true),
  SYM(set_images_dir_fd, "criu_local_set_images_dir_fd", true),
  SYM(set_work_dir_fd, "criu_local_set_work_dir_fd", true),
  SYM(set_parent_images, "criu_local_set_parent_images", true),
  SYM(set_leave_running, "criu_local_set_leave_running", true),
  SYM(set_ext_unix_sk, "criu_local_set_ext_unix_sk", true),
  SYM(set_tcp_established, "criu_local_set_tcp_established", true),
  SYM(set_shell_job, "criu_local_set_shell_job", true),
  SYM(set_file_locks, "criu_local_set_file_locks", true),
  SYM(set_track_mem, "criu_local_set_track_mem", true),
  SYM(set_auto_dedup, "criu_local_set_auto_dedup", true),
  SYM(set_orphan_pts_master, "criu_local_set_orphan_pts_master", true),
  SYM(set_log_level, "criu_local_set_log_level", true),
  SYM(set_log_file, "criu_local_set_log_file", true),
  SYM(set_root, "criu_local_set_root", true),
  SYM(set_manage_cgroups, "criu_local_set_manage_cgroups", true),
  SYM(set_manage_cgroups_mode, "criu_local_set_manage_cgroups_mode", true),
  SYM(set_freeze_cgroup, "criu_local_set_freeze_cgroup", true),
  SYM(add_ext_mount, "criu_local_add_ext_mount", true),
  SYM(add_cg_root, "criu_local_add_cg_root", true),
  SYM(add_inherit_fd, "criu_local_add_inherit_fd", true),
  SYM(add_external, "criu_local_add_external", true),
  SYM(set_notify_cb, "criu_local_set_notify_cb", true),
  SYM(get_orphan_pts_master_fd, "criu_get_orphan_pts_master_fd", true),
  SYM(check, "criu_local_check", true),
  SYM(get_version, "criu_local_get_version", true),
  SYM(dump, "criu_local_dump", true),
  SYM(pre_dump, "criu_local_pre_dump", true),
  SYM(restore_child, "criu_local_restore_child", true),
  SYM(set_lazy_pages, "criu_local_set_lazy_pages", false),
  SYM(set_lsm_profile, "criu_local_set_lsm_profile", false),
  SYM(set_lsm_mount_context, "criu_local_set_lsm_mount_context", false),
};

int kist_criu_load(const struct kist_criu **out, kist_error_t *err)
{
  if (!loaded) {
    const char *name = getenv("KIST_LIBCRIU");
    if (name == NULL || name[0] == '\0')
      name = "libcriu.so.2";
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
      return kist_fail(err, 0,
                       "checkpoint/restore need CRIU: cannot load %s (install the criu package, "
                       "or set KIST_LIBCRIU): %s",
                       name, dlerror());
    for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
      void *p = dlsym(h, syms[i].name);
      if (p == NULL && syms[i].required) {
        dlclose(h);
        return kist_fail(err, 0, "%s lacks %s: CRIU too old for kist (3.17 or newer needed)", name,
                         syms[i].name);
      }
      memcpy((char *)&lib + syms[i].off, &p, sizeof p);
    }
    loaded = true;
  }
  *out = &lib;
  return 0;
}

/* The first line of CRIU's log that says "Error", trimmed to one line. */
static char *log_error_line(int workfd, const char *log)
{
  if (workfd < 0 || log == NULL)
    return NULL;
  cleanup_close int fd = openat(workfd, log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  cleanup_fclose FILE *f = fdopen(fd, "r");
  if (f == NULL)
    return NULL;
  fd = -1;
  char *line = NULL, *found = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    if (strstr(line, "Error") == NULL)
      continue;
    line[strcspn(line, "\n")] = '\0';
    /* "(00.012345) Error (criu/mount.c:123): what": keep "what". */
    char *what = strstr(line, "): ");
    found = xstrdup(what ? what + 3 : line);
    break;
  }
  free(line);
  return found;
}

int kist_criu_fail(kist_error_t *err, int ret, const char *what, int workfd, const char *log)
{
  cleanup_free char *why = log_error_line(workfd, log);
  if (ret == -ECONNREFUSED || ret == -ENOENT)
    return kist_fail(err, -ret, "criu %s: cannot run criu (is it installed and in PATH?)", what);
  if (why && strstr(why, "Can't lookup mount") && strstr(why, " for fd="))
    return kist_fail(err, 0,
                     "criu %s failed (see %s in the work directory): %s (a file outside the "
                     "container: its processes' stdio must be /dev/null, a pipe or a terminal)",
                     what, log, why);
  if (why)
    return kist_fail(err, 0, "criu %s failed (see %s in the work directory): %s", what, log, why);
  return kist_fail(err, ret < 0 ? -ret : 0, "criu %s failed (see %s in the work directory)", what,
                   log);
}
