/* The device filter on cgroup v2: v2 has no devices controller, so the
 * rules become a BPF_PROG_TYPE_CGROUP_DEVICE program, assembled here
 * instruction by instruction (no libbpf, no compiler at run time) and
 * attached to the container's cgroup.
 *
 * The kernel runs the program for every device access of a process in the
 * cgroup with ctx = {access_type = type | access << 16, major, minor} and
 * allows the access when it returns 1. One request can carry several access
 * bits (open O_RDWR asks for read and write), and each bit must be allowed
 * on its own: the program has one section per bit (mknod, read, write); a
 * section walks the rules that mention its bit from the last to the first,
 * and the first match decides (so the last matching rule of the list wins,
 * as runtime-spec orders them). No matching rule denies.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "resources.h"
#include "log.h"
#include "util.h"

/* Registers: r1 ctx; r3 device type; r4 access bits; r5 major; r6 minor;
 * r7 scratch. r0 is the verdict. */
struct prog {
  struct bpf_insn *in;
  size_t n, cap;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 64;
    p->in = xrealloc(p->in, p->cap * sizeof *p->in);
  }
  p->in[p->n] =
    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return p->n++;
}

/* Points the jump at index j to the next instruction emitted. */
static void patch_here(struct prog *p, size_t j)
{
  p->in[j].off = (int16_t)(p->n - j - 1);
}

static void emit_verdict(struct prog *p, int v)
{
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, v);
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static bool fits(int64_t v)
{
  return v >= -1 && v <= INT32_MAX;
}

/* One section: the verdict for one access bit. */
static void emit_section(struct prog *p, unsigned bit, const struct kist_dev_rule *r, size_t n)
{
  size_t ends[1024 + 2];
  size_t nend = 0;
  emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 7, 4, 0, 0);
  emit(p, BPF_ALU64 | BPF_AND | BPF_K, 7, 0, 0, (int32_t)bit);
  ends[nend++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 0, 0); /* bit not asked for */
  bool final = false;
  for (size_t k = n; k-- > 0 && !final;) {
    const struct kist_dev_rule *x = &r[k];
    if (!(x->access & bit) || !fits(x->major) || !fits(x->minor))
      continue; /* a major/minor no device has: never matches */
    size_t next[3];
    size_t nn = 0;
    if (x->type == 'b' || x->type == 'c')
      next[nn++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 3, 0, 0,
                        x->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    if (x->major >= 0)
      next[nn++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)x->major);
    if (x->minor >= 0)
      next[nn++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, (int32_t)x->minor);
    if (x->allow) {
      ends[nend++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0, 0);
    } else {
      emit_verdict(p, 0);
    }
    for (size_t i = 0; i < nn; i++)
      patch_here(p, next[i]);
    final = nn == 0; /* matches everything: earlier rules cannot be reached */
  }
  if (!final)
    emit_verdict(p, 0);
  for (size_t i = 0; i < nend; i++)
    patch_here(p, ends[i]);
}

static int sys_bpf(int cmd, union bpf_attr *a)
{
  return (int)syscall(SYS_bpf, cmd, a, sizeof *a);
}

int kist_cg_bpf_devices(int cgfd, const char *path, const struct kist_dev_rule *rules, size_t n,
                        kist_error_t *err)
{
  if (n > 1024)
    return kist_fail(err, 0, "linux.resources.devices: %zu rules, at most 1024 are supported", n);
  struct prog p = {0};
  emit(&p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0); /* access_type */
  emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
  emit(&p, BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff);
  emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0);
  emit(&p, BPF_ALU64 | BPF_RSH | BPF_K, 4, 0, 0, 16);
  emit(&p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, 4, 0); /* major */
  emit(&p, BPF_LDX | BPF_MEM | BPF_W, 6, 1, 8, 0); /* minor */
  emit_section(&p, BPF_DEVCG_ACC_MKNOD, rules, n);
  emit_section(&p, BPF_DEVCG_ACC_READ, rules, n);
  emit_section(&p, BPF_DEVCG_ACC_WRITE, rules, n);
  emit_verdict(&p, 1);

  char log[512] = "";
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uintptr_t)p.in;
  a.insn_cnt = (uint32_t)p.n;
  a.license = (uintptr_t) "GPL";
  cleanup_close int prog = sys_bpf(BPF_PROG_LOAD, &a);
  if (prog < 0 && errno != EPERM && errno != ENOSYS) {
    /* Load again with the verifier's log, for the message. */
    a.log_buf = (uintptr_t)log;
    a.log_size = sizeof log;
    a.log_level = 1;
    prog = sys_bpf(BPF_PROG_LOAD, &a);
  }
  int e = errno;
  size_t ninsn = p.n;
  free(p.in);
  if (prog < 0) {
    char *nl = strchr(log, '\n');
    if (nl)
      *nl = '\0';
    return kist_fail(
      err, e, "linux.resources.devices: load the cgroup v2 device filter (%zu instructions)%s%s",
      ninsn, log[0] ? ": " : "", log);
  }
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
    return kist_fail(err, errno, "linux.resources.devices: attach the device filter to %s", path);
  kist_debug("cgroup: device filter (%zu rules, %zu instructions) attached to %s", n, ninsn, path);
  return 0;
}
