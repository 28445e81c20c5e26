/* floor: the least a container start can cost on this machine, to put the
 * runtimes' times in proportion. It does only what no runtime can skip:
 * one cgroup per hierarchy, clone into new pid/mount/net/ipc/uts namespaces,
 * join the cgroups (the child by itself, the cheapest way), a cgroup
 * namespace, a private mount tree, the rootfs bound onto itself, /proc,
 * pivot_root, exec; then wait and remove the cgroups. No config, no state, no seccomp, no
 * capabilities.
 *
 *   floor ROOTFS NAME PROGRAM [ARG...]     (built by bench/run.sh; root only)
 *
 * NAME gets "-<pid>" appended, so parallel floors do not share a cgroup.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROOT   "/sys/fs/cgroup"
#define MAX_HIER 32

static int hier_fd[MAX_HIER]; /* the new cgroup dir in each hierarchy */
static int hier_parent[MAX_HIER];
static int hier_v2[MAX_HIER];
static int n_hier;
static char cgname[256];

static _Noreturn void die(const char *what)
{
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(125);
}

/* A v1 cpuset child starts empty and refuses tasks: copy the parent's. */
static void cpuset_fill(int parent, int dir)
{
  static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
  for (size_t i = 0; i < 2; i++) {
    char buf[4096];
    int in = openat(parent, files[i], O_RDONLY | O_CLOEXEC);
    if (in < 0)
      continue; /* not a cpuset hierarchy */
    ssize_t n = read(in, buf, sizeof buf);
    close(in);
    int out = openat(dir, files[i], O_WRONLY | O_CLOEXEC);
    if (n <= 0 || out < 0 || write(out, buf, (size_t)n) != n)
      die(files[i]);
    close(out);
  }
}

static void add_hierarchy(int parent, int v2)
{
  if (n_hier == MAX_HIER)
    return;
  if (mkdirat(parent, cgname, 0755) < 0)
    die(cgname);
  int dir = openat(parent, cgname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    die(cgname);
  cpuset_fill(parent, dir);
  hier_parent[n_hier] = parent;
  hier_v2[n_hier] = v2;
  hier_fd[n_hier++] = dir;
}

/* One new cgroup per mounted hierarchy: v1 controllers and named ones, or
 * the single v2 tree when /sys/fs/cgroup is cgroup2. */
static void cgroups_create(void)
{
  struct statfs sf;
  if (statfs(CGROOT, &sf) < 0)
    die(CGROOT);
  if (sf.f_type == CGROUP2_SUPER_MAGIC) {
    int fd = open(CGROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      die(CGROOT);
    add_hierarchy(fd, 1);
    return;
  }
  DIR *d = opendir(CGROOT);
  if (d == NULL)
    die(CGROOT);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      continue; /* cpu,cpuacct-style symlinks to a file, etc. */
    /* Only v1 hierarchies: a leftover v2 mount (hybrid) is not joined, the
     * way the runtimes behave when it is unmounted. Symlinked aliases
     * (cpu -> cpu,cpuacct) would create the same dir twice: skip them. */
    struct stat st;
    if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode)) {
      close(fd);
      continue;
    }
    add_hierarchy(fd, 0);
  }
  closedir(d);
}

/* The child enters its cgroups itself: writing "0" to a v1 `tasks` file
 * moves only the calling thread and spares the kernel's threadgroup lock
 * (an RCU grace period, 5-15 ms) that a parent writing the child's pid to
 * cgroup.procs pays. v2 has no such file: cgroup.procs, "0" for ourselves. */
static void cgroups_enter_self(void)
{
  for (int i = 0; i < n_hier; i++) {
    int fd = openat(hier_fd[i], hier_v2[i] ? "cgroup.procs" : "tasks", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1)
      die("enter the cgroup");
    close(fd);
  }
}

static void cgroups_remove(void)
{
  for (int i = 0; i < n_hier; i++) {
    close(hier_fd[i]);
    if (unlinkat(hier_parent[i], cgname, AT_REMOVEDIR) < 0)
      fprintf(stderr, "floor: rmdir %s: %s\n", cgname, strerror(errno));
    close(hier_parent[i]);
  }
}

static _Noreturn void child(const char *rootfs, char **argv)
{
  cgroups_enter_self();
  if (unshare(CLONE_NEWCGROUP) < 0)
    die("unshare cgroup namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die("make / private");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    die("bind the rootfs");
  if (chdir(rootfs) < 0)
    die("chdir rootfs");
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    die("mount proc");
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0)
    die("detach the old root");
  if (chdir("/") < 0)
    die("chdir /");
  execv(argv[0], argv);
  die(argv[0]);
}

int main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: floor ROOTFS NAME PROGRAM [ARG...]\n");
    return 2;
  }
  snprintf(cgname, sizeof cgname, "%s-%d", argv[2], (int)getpid());
  cgroups_create();
  int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid < 0)
    die("clone");
  if (pid == 0)
    child(argv[1], argv + 3);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      die("waitpid");
  cgroups_remove();
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
