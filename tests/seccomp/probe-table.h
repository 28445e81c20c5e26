/* The syscall probe table of the seccomp tests: each entry makes one raw
 * syscall with arguments the kernel rejects before doing anything (a bad
 * pointer, an invalid flag, a missing path), so an allowed call returns the
 * kernel's own errno (EFAULT, EINVAL, ENOENT, ...) and a filtered one the
 * profile's. Safe to run as root on the host with no filter at all: nothing
 * here changes the system. Shared by tests/seccomp/probe.c (run inside
 * containers) and tests/unit/test-seccomp.c (run in forked children).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_TEST_SECCOMP_PROBE_TABLE_H
#define KIST_TEST_SECCOMP_PROBE_TABLE_H

#include <errno.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROBE_BAD ((void *)1) /* a pointer the kernel cannot read */

static long probe_ret(long r)
{
  return r < 0 ? errno : 0;
}

/* A successful call that returns an fd: closed, reported as 0. */
static long probe_fd(long r)
{
  if (r < 0)
    return errno;
  close((int)r);
  return 0;
}

/* personality(v) when allowed changes this process: put LINUX back. */
static long probe_persona(unsigned long v)
{
  long r = syscall(SYS_personality, v);
  int e = errno;
  syscall(SYS_personality, 0UL);
  return r < 0 ? e : 0;
}

static long p_getpid(void)
{
  return probe_ret(syscall(SYS_getpid));
}
static long p_uname(void)
{
  return probe_ret(syscall(SYS_uname, PROBE_BAD));
}
static long p_mkdir(void)
{
  return probe_ret(syscall(SYS_mkdir, "", 0700));
}
static long p_mkdirat(void)
{
  return probe_ret(syscall(SYS_mkdirat, -1, "", 0700));
}
static long p_chroot(void)
{
  return probe_ret(syscall(SYS_chroot, ""));
}
static long p_unshare(void)
{
  return probe_ret(syscall(SYS_unshare, -1L));
}
static long p_mount(void)
{
  return probe_ret(syscall(SYS_mount, PROBE_BAD, PROBE_BAD, PROBE_BAD, 0UL, NULL));
}
static long p_umount2(void)
{
  return probe_ret(syscall(SYS_umount2, "", 0));
}
static long p_pivot_root(void)
{
  return probe_ret(syscall(SYS_pivot_root, "", ""));
}
static long p_keyctl(void)
{
  return probe_ret(syscall(SYS_keyctl, 9999L, 0L, 0L, 0L, 0L));
}
static long p_add_key(void)
{
  return probe_ret(syscall(SYS_add_key, PROBE_BAD, PROBE_BAD, NULL, 0L, 0L));
}
static long p_request_key(void)
{
  return probe_ret(syscall(SYS_request_key, PROBE_BAD, PROBE_BAD, NULL, 0L));
}
static long p_sethostname(void)
{
  return probe_ret(syscall(SYS_sethostname, "x", 100000L));
}
static long p_setdomainname(void)
{
  return probe_ret(syscall(SYS_setdomainname, "x", 100000L));
}
static long p_setns(void)
{
  return probe_ret(syscall(SYS_setns, -1, 0));
}
static long p_bpf(void)
{
  return probe_ret(syscall(SYS_bpf, -1, NULL, 0));
}
static long p_perf_event_open(void)
{
  return probe_ret(syscall(SYS_perf_event_open, PROBE_BAD, 0, -1, -1, 0UL));
}
static long p_acct(void)
{
  return probe_ret(syscall(SYS_acct, PROBE_BAD));
}
static long p_swapon(void)
{
  return probe_ret(syscall(SYS_swapon, PROBE_BAD, 0));
}
static long p_kexec_load(void)
{
  return probe_ret(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xffff0000UL));
}
static long p_init_module(void)
{
  return probe_ret(syscall(SYS_init_module, PROBE_BAD, 0UL, PROBE_BAD));
}
static long p_delete_module(void)
{
  return probe_ret(syscall(SYS_delete_module, PROBE_BAD, 0));
}
static long p_open_by_handle_at(void)
{
  return probe_ret(syscall(SYS_open_by_handle_at, -1, PROBE_BAD, 0));
}
static long p_userfaultfd(void)
{
  return probe_fd(syscall(SYS_userfaultfd, -1));
}
static long p_clock_settime(void)
{
  return probe_ret(syscall(SYS_clock_settime, -1, PROBE_BAD));
}
static long p_settimeofday(void)
{
  return probe_ret(syscall(SYS_settimeofday, PROBE_BAD, NULL));
}
static long p_reboot(void)
{
  return probe_ret(syscall(SYS_reboot, 0, 0, 0, NULL));
}
static long p_quotactl(void)
{
  return probe_ret(syscall(SYS_quotactl, 0, PROBE_BAD, 0, NULL));
}
static long p_fanotify_init(void)
{
  return probe_fd(syscall(SYS_fanotify_init, ~0U, 0U));
}
static long p_iopl(void)
{
  return probe_ret(syscall(SYS_iopl, 4));
}
static long p_ioperm(void)
{
  return probe_ret(syscall(SYS_ioperm, ~0UL, 1UL, 1));
}
static long p_kcmp(void)
{
  return probe_ret(syscall(SYS_kcmp, -1, -1, -1, 0UL, 0UL));
}
static long p_ptrace(void)
{
  return probe_ret(syscall(SYS_ptrace, 9999L, 0L, NULL, NULL));
}
static long p_io_uring_setup(void)
{
  return probe_fd(syscall(SYS_io_uring_setup, 0U, PROBE_BAD));
}
static long p_clone3(void)
{
  return probe_ret(syscall(SYS_clone3, NULL, 0UL));
}
static long p_nosys(void)
{
  return probe_ret(syscall(1000));
}
static long p_persona_query(void)
{
  return probe_ret(syscall(SYS_personality, 0xffffffffUL));
}
static long p_persona_0(void)
{
  return probe_persona(0);
}
static long p_persona_8(void)
{
  return probe_persona(8);
}
static long p_persona_20008(void)
{
  return probe_persona(0x20008);
}
static long p_persona_1(void)
{
  return probe_persona(1);
}
static long p_socket_unix(void)
{
  return probe_fd(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
}
static long p_socket_audit(void)
{
  return probe_fd(syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 9));
}
static long p_socket_netlink(void)
{
  return probe_fd(syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0));
}

static const struct probe_entry {
  const char *name;
  long (*call)(void);
} probe_table[] = {
  {"getpid", p_getpid},
  {"uname", p_uname},
  {"mkdir", p_mkdir},
  {"mkdirat", p_mkdirat},
  {"chroot", p_chroot},
  {"unshare", p_unshare},
  {"mount", p_mount},
  {"umount2", p_umount2},
  {"pivot_root", p_pivot_root},
  {"keyctl", p_keyctl},
  {"add_key", p_add_key},
  {"request_key", p_request_key},
  {"sethostname", p_sethostname},
  {"setdomainname", p_setdomainname},
  {"setns", p_setns},
  {"bpf", p_bpf},
  {"perf_event_open", p_perf_event_open},
  {"acct", p_acct},
  {"swapon", p_swapon},
  {"kexec_load", p_kexec_load},
  {"init_module", p_init_module},
  {"delete_module", p_delete_module},
  {"open_by_handle_at", p_open_by_handle_at},
  {"userfaultfd", p_userfaultfd},
  {"clock_settime", p_clock_settime},
  {"settimeofday", p_settimeofday},
  {"reboot", p_reboot},
  {"quotactl", p_quotactl},
  {"fanotify_init", p_fanotify_init},
  {"iopl", p_iopl},
  {"ioperm", p_ioperm},
  {"kcmp", p_kcmp},
  {"ptrace", p_ptrace},
  {"io_uring_setup", p_io_uring_setup},
  {"clone3", p_clone3},
  {"syscall_1000", p_nosys},
  {"personality_query", p_persona_query},
  {"personality_0", p_persona_0},
  {"personality_8", p_persona_8},
  {"personality_20008", p_persona_20008},
  {"personality_1", p_persona_1},
  {"socket_unix", p_socket_unix},
  {"socket_netlink_audit", p_socket_audit},
  {"socket_netlink_route", p_socket_netlink},
};

/* One "NAME ERRNO" line per entry (0: the call succeeded). */
static void probe_table_print(FILE *out)
{
  for (size_t i = 0; i < sizeof probe_table / sizeof probe_table[0]; i++)
    fprintf(out, "%s %ld\n", probe_table[i].name, probe_table[i].call());
  fflush(out);
}

#endif
