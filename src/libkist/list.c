/* kist list: every container under the state root, with what list prints.
 * It costs the same per container whatever else kist records: the state
 * file and, for a live init, its /proc stat and freezer state, each opened
 * once (no directory fd in between) and read in one go.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "fmt.h"
#include "rootless.h"
#include "state.h"
#include "util.h"

#define SMALL_READ 4096

static bool have_openat2 = true;

/* ID/NAME under the state root, following no symlink on the way. */
static int open_in_state(int rootfd, const char *id, const char *name)
{
  char path[512];
  if ((size_t)kist_snprintf(path, sizeof path, "%s/%s", id, name) >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (have_openat2) {
    struct open_how how = {
      .flags = O_RDONLY | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
      return fd;
    have_openat2 = false; /* an old kernel, or a filter that refuses it */
  }
  cleanup_close int dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  return openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* A file kist wrote whole, nearly always far below SMALL_READ: one read;
 * a short read of a regular file is its end. Larger ones are read again,
 * to the end. Takes FD. */
static char *read_small(int fd, const char *what)
{
  cleanup_close int cfd = fd;
  char *buf = xmalloc(SMALL_READ + 1);
  ssize_t n = read_retry(fd, buf, SMALL_READ);
  if (n >= 0 && n < SMALL_READ) {
    buf[n] = '\0';
    return buf;
  }
  free(buf);
  kist_error_t err = NULL;
  char *all = NULL;
  if (n < 0 || lseek(fd, 0, SEEK_SET) < 0 || read_all_fd(fd, what, &all, NULL, &err) < 0) {
    kist_error_release(&err);
    return NULL;
  }
  return all;
}

/* As kist_state_refresh, from the state root: only a live init needs its
 * cgroup record, for the freezer. */
static void refresh(const struct kist_context *ctx, int rootfd, struct kist_state *st)
{
  if (st->status == KIST_STATUS_CREATING) {
    int dfd = open_in_state(rootfd, st->id, ".");
    if (dfd >= 0) {
      kist_state_refresh(ctx, dfd, st);
      close(dfd);
    }
    return;
  }
  if (!kist_state_init_alive(st)) {
    st->status = KIST_STATUS_STOPPED;
    return;
  }
  int fd = open_in_state(rootfd, st->id, "cgroup");
  if (fd < 0)
    return;
  cleanup_free char *text = read_small(fd, "cgroup state");
  struct kist_cgroup *cg = NULL;
  kist_error_t err = NULL;
  if (text == NULL || kist_cgroup_parse(text, &cg, &err) < 0) {
    kist_error_release(&err);
    return;
  }
  if (kist_cgroup_is_frozen(cg))
    st->status = KIST_STATUS_PAUSED;
  kist_cgroup_free(cg);
}

/* One container; false when it is to be left out (gone, unreadable). */
static bool load_one(const struct kist_context *ctx, int rootfd, const char *id,
                     struct kist_state *st)
{
  memset(st, 0, sizeof *st);
  kist_error_t err = NULL;
  int fd = open_in_state(rootfd, id, KIST_STATE_FILE);
  if (fd < 0 && errno == ENOENT) {
    /* No state.json (yet): a create in progress, or its leftover. */
    int dfd = kist_state_dir_open(rootfd, id, 0, &err);
    if (dfd < 0) {
      kist_error_release(&err);
      return false;
    }
    bool ok = kist_state_load(dfd, id, st, &err) == 0;
    if (ok)
      kist_state_refresh(ctx, dfd, st);
    close(dfd);
    kist_error_release(&err);
    return ok;
  }
  if (fd < 0)
    return false;
  cleanup_free char *data = read_small(fd, KIST_STATE_FILE);
  if (data == NULL || kist_state_parse(data, id, st, &err) < 0) {
    kist_error_release(&err);
    kist_state_clear(st);
    return false;
  }
  refresh(ctx, rootfd, st);
  return true;
}

static int cmp_state(const void *a, const void *b)
{
  return strcmp(((const struct kist_state *)a)->id, ((const struct kist_state *)b)->id);
}

int kist_container_list(const struct kist_context *ctx, struct kist_state **states, size_t *n,
                        kist_error_t *err)
{
  *states = NULL;
  *n = 0;
  int rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0 && errno == ENOENT)
    return 0;
  if (rootfd < 0) {
    kist_fail(err, errno, "state root %s", ctx->root);
    kist_rootless_root_hint(ctx->root, err);
    return -1;
  }
  DIR *d = fdopendir(rootfd);
  if (d == NULL) {
    close(rootfd);
    return kist_fail(err, errno, "read %s", ctx->root);
  }
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
      continue;
    kist_error_t e2 = NULL;
    if (de->d_name[0] == '.' || kist_id_validate(de->d_name, &e2) < 0) {
      kist_error_release(&e2);
      continue;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      *states = xrealloc(*states, cap * sizeof **states);
    }
    if (load_one(ctx, dirfd(d), de->d_name, &(*states)[*n]))
      (*n)++;
  }
  closedir(d);
  if (*n > 1)
    qsort(*states, *n, sizeof **states, cmp_state);
  return 0;
}

void kist_container_list_free(struct kist_state *states, size_t n)
{
  for (size_t i = 0; i < n; i++)
    kist_state_clear(&states[i]);
  free(states);
}
