/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "testhook.h"
#include "util.h"

static void oom(void)
{
  static const char msg[] = "kist: out of memory\n";
  if (write(2, msg, sizeof msg - 1) < 0) {
    /* nothing more we can do */
  }
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xzalloc(size_t n)
{
  void *p = calloc(1, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
  void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
  if (p == NULL)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

char *xstrdup(const char *s)
{
  char *p = strdup(s ? s : "");
  if (p == NULL)
    oom();
  return p;
}

char *xstrndup(const char *s, size_t n)
{
  char *p = strndup(s, n);
  if (p == NULL)
    oom();
  return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
  return kist_vasprintf(fmt, ap);
}

char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *p = xvasprintf(fmt, ap);
  va_end(ap);
  return p;
}

void cleanup_freep(void *p)
{
  free(*(void **)p);
}

void cleanup_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

void cleanup_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

void strv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

void cleanup_strvp(char ***v)
{
  strv_free(*v);
}

size_t strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

ssize_t read_retry(int fd, void *buf, size_t len)
{
  ssize_t r;
  do
    r = read(fd, buf, len);
  while (r < 0 && errno == EINTR);
  return r;
}

int write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int read_all_fd(int fd, const char *what, char **out, size_t *len, kist_error_t *err)
{
  return read_input_fd(fd, what, 0, out, len, err);
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, kist_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "open %s", path);
  return read_all_fd(fd, path, out, len, err);
}

const char *file_kind(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG:
    return "a regular file";
  case S_IFDIR:
    return "a directory";
  case S_IFIFO:
    return "a fifo";
  case S_IFCHR:
    return "a character device";
  case S_IFBLK:
    return "a block device";
  case S_IFSOCK:
    return "a socket";
  case S_IFLNK:
    return "a symlink";
  default:
    return "a special file";
  }
}

int read_input_fd(int fd, const char *what, size_t hint, char **out, size_t *len, kist_error_t *err)
{
  /* The size can change while we read: never read more than the cap. */
  size_t cap = (hint < 4096 ? 4096 : hint) + 1, n = 0;
  if (cap > KIST_INPUT_MAX + 1)
    cap = KIST_INPUT_MAX + 1;
  char *buf = xmalloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap > KIST_INPUT_MAX) {
        free(buf);
        return kist_fail(err, 0, "%s is too large (more than %zu MiB)", what, KIST_INPUT_MAX >> 20);
      }
      cap = cap * 2 > KIST_INPUT_MAX + 1 ? KIST_INPUT_MAX + 1 : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t r = read_retry(fd, buf + n, cap - n);
    if (r < 0) {
      int e = errno;
      free(buf);
      return kist_fail(err, e, "read %s", what);
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int read_input_file_at(int dirfd, const char *path, const char *what, char **out, size_t *len,
                       kist_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "open %s", what);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return kist_fail(err, errno, "stat %s", what);
  if (!S_ISREG(st.st_mode))
    return kist_fail(err, 0, "%s is %s, not a regular file", what, file_kind(st.st_mode));
  if ((uint64_t)st.st_size > KIST_INPUT_MAX)
    return kist_fail(err, 0, "%s is too large (%lld bytes, at most %zu MiB)", what,
                     (long long)st.st_size, KIST_INPUT_MAX >> 20);
  return read_input_fd(fd, what, (size_t)st.st_size, out, len, err);
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len, kist_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return kist_fail(err, errno, "open %s", path);
  if (write_all(fd, data, len) < 0)
    return kist_fail(err, errno, "write %s", path);
  return 0;
}

int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                         kist_error_t *err)
{
  cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
  cleanup_close int fd =
    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return kist_fail(err, errno, "create %s", tmp);
  if (write_all(fd, data, len) < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return kist_fail(err, e, "write %s", tmp);
  }
  if (kist_test_hook_active()) {
    /* Written, not yet renamed: a crash here leaves only the temp file. */
    cleanup_free char *point = xasprintf("write:%s", path);
    kist_test_point(point);
  }
  if (kist_renameat2(dirfd, tmp, dirfd, path, 0) < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return kist_fail(err, e, "rename %s to %s", tmp, path);
  }
  return 0;
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode, kist_error_t *err)
{
  if (path[0] == '\0')
    return kist_fail(err, ENOENT, "mkdir: empty path");
  cleanup_free char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
      return kist_fail(err, errno, "mkdir %s", p);
    *s = '/';
  }
  if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
    return kist_fail(err, errno, "mkdir %s", p);
  return 0;
}

static int rm_rf_fd(int dfd, kist_error_t *err)
{
  DIR *d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return kist_fail(err, errno, "fdopendir");
  }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
      continue;
    if (errno != EISDIR && errno != EPERM) {
      ret = kist_fail(err, errno, "unlink %s", de->d_name);
      continue;
    }
    int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      ret = kist_fail(err, errno, "open %s", de->d_name);
      continue;
    }
    if (rm_rf_fd(sub, err) < 0)
      ret = -1;
    if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      ret = kist_fail(err, errno, "rmdir %s", de->d_name);
  }
  closedir(d);
  return ret;
}

int rm_rf_at(int dirfd, const char *path, kist_error_t *err)
{
  if (unlinkat(dirfd, path, 0) == 0 || errno == ENOENT)
    return 0;
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : kist_fail(err, errno, "open %s", path);
  if (rm_rf_fd(fd, err) < 0)
    return -1;
  if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return kist_fail(err, errno, "rmdir %s", path);
  return 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int parse_int64(const char *s, int64_t *out)
{
  char *end;
  /* strtoll skips leading white space: the text must be the number. */
  if (!(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9'))) {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    errno = errno ? errno : EINVAL;
    return -1;
  }
  *out = v;
  return 0;
}

/* The start path's /proc numbers: glibc's strtoull (locale-aware, white
 * space, signs) sits in a 64 KiB stretch of libc nothing else on that path
 * maps, a cost in peak RSS (fault-around) for digits the kernel wrote. */
uint64_t kist_decimal(const char *s, const char **end)
{
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  if (end)
    *end = s;
  return v;
}

/* Direct, for the same reason as kist_decimal: glibc's renameat and
 * renameat2 wrappers lie among its printf code, which kist does not use. */
int kist_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   unsigned flags)
{
  return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int parse_uint64(const char *s, uint64_t *out)
{
  char *end;
  errno = 0;
  /* strtoull skips white space and takes "-1": the text must be the number. */
  if (!(*s == '+' || (*s >= '0' && *s <= '9'))) {
    errno = EINVAL;
    return -1;
  }
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    errno = errno ? errno : EINVAL;
    return -1;
  }
  *out = v;
  return 0;
}

static bool fd_kept(int fd, const int *keep, size_t nkeep)
{
  for (size_t i = 0; i < nkeep; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

int close_fds_from(int from, const int *keep, size_t nkeep)
{
  /* Fast path: close_range over the gaps between kept fds. */
  int lo = from;
  for (;;) {
    int next = INT_MAX;
    for (size_t i = 0; i < nkeep; i++)
      if (keep[i] >= lo && keep[i] < next)
        next = keep[i];
    if (next > lo && syscall(SYS_close_range, (unsigned)lo, (unsigned)(next - 1), 0) < 0)
      break;
    if (next == INT_MAX)
      return 0;
    lo = next + 1;
  }
  /* close_range unavailable: walk /proc/self/fd. */
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] == '.' || fd < from || fd == dirfd(d) || fd_kept(fd, keep, nkeep))
      continue;
    close(fd);
  }
  closedir(d);
  return 0;
}

char *rfc3339_now(void)
{
  /* UTC from the day count (the proleptic Gregorian calendar), not
   * gmtime_r: glibc's loads the time zone first (tzset reads
   * /etc/localtime through stdio), which costs every create syscalls and
   * the pages of that code. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;                                      /* [0, 146096] */
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
  long long mp = (5 * doy + 2) / 153;                                    /* March = 0 */
  long long day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  long long year = yoe + era * 400 + (month <= 2);
  return xasprintf("%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", year, month, day,
                   secs / 3600, secs / 60 % 60, secs % 60, ts.tv_nsec);
}
