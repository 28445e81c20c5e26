/* linux.seccomp: validation and compilation with libseccomp (parent, before
 * clone), a cache of compiled filters, loading with seccomp(2) (child, last
 * step before execve), and handing the notify fd to the seccomp agent.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h> /* includes <linux/seccomp.h> */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "log.h"
#include "dl.h"
#include "seccomp.h"
#include "sync.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct kist_seccomp {
  struct sock_filter *insns; /* the compiled program */
  size_t n_insns;
  unsigned int flags; /* for seccomp(2) */
  bool notify;
  char *listener_path;
  char *listener_metadata;
};

/* ---- the names runtime-spec uses, and what they mean ---- */

const char *const kist_seccomp_actions[] = {
  "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",      NULL,
};
/* The data bits (errno, trace message) are or'ed in later. */
static const uint32_t action_values[] = {
  SCMP_ACT_KILL,  SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD,
  SCMP_ACT_TRAP,  SCMP_ACT_ERRNO(0),     SCMP_ACT_TRACE(0),
  SCMP_ACT_ALLOW, SCMP_ACT_LOG,          SCMP_ACT_NOTIFY,
};
_Static_assert(ARRAY_SIZE(kist_seccomp_actions) == ARRAY_SIZE(action_values) + 1, "actions");

const char *const kist_seccomp_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};
static const enum scmp_compare operator_values[] = {
  SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ,
};
_Static_assert(ARRAY_SIZE(kist_seccomp_operators) == ARRAY_SIZE(operator_values) + 1, "ops");

/* Every SeccompArch of runtime-spec; libseccomp's name is the lowercased
 * suffix ("SCMP_ARCH_X86_64" -> "x86_64"), and older libseccomp releases
 * lack some (2.5 has no loongarch64, m68k, sh). */
const char *const kist_seccomp_archs[] = {
  "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",    "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",       "SCMP_ARCH_SH",      "SCMP_ARCH_SHEB",
  "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",    "SCMP_ARCH_RISCV64", NULL,
};

const char *const kist_seccomp_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};
static const unsigned int flag_values[] = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};
_Static_assert(ARRAY_SIZE(kist_seccomp_flags) == ARRAY_SIZE(flag_values) + 1, "flags");

static int name_index(const char *const *names, const char *name)
{
  for (int i = 0; name != NULL && names[i] != NULL; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

/* libseccomp's token for a runtime-spec arch, 0 if this libseccomp lacks it. */
static uint32_t arch_token(const char *name)
{
  char lower[32];
  size_t plen = strlen("SCMP_ARCH_"), i;
  if (name_index(kist_seccomp_archs, name) < 0 || strlen(name) - plen >= sizeof lower)
    return 0;
  for (i = 0; name[plen + i]; i++) {
    char c = name[plen + i];
    lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  lower[i] = '\0';
  return seccomp_arch_resolve_name(lower);
}

bool kist_seccomp_arch_supported(const char *name)
{
  return arch_token(name) != 0;
}

/* A flag is known to the kernel when seccomp(2) gets past the flag checks
 * and fails on the NULL program (EFAULT); unknown flags give EINVAL. Anything
 * else (a sandbox denying seccomp) leaves the verdict to the real load. */
static bool kernel_has_flag(unsigned int flag)
{
  unsigned int f = flag;
  if (flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    f |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* meaningless, so refused, alone */
  if (flag & SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
    f |= SECCOMP_FILTER_FLAG_TSYNC;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, NULL) == 0)
    return true; /* cannot happen with a NULL program */
  return errno != EINVAL;
}

bool kist_seccomp_flag_supported(const char *name)
{
  int i = name_index(kist_seccomp_flags, name);
  return i >= 0 && kernel_has_flag(flag_values[i]);
}

/* ---- validation and compilation ---- */

static void release_ctx(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
}
#define cleanup_scmp __attribute__((cleanup(release_ctx)))

/* Parses an action and its errnoRet. where: "linux.seccomp" with fields
 * defaultAction/defaultErrnoRet, or "linux.seccomp.syscalls[3]" with
 * action/errnoRet, so messages name the JSON field. */
static int parse_action(const char *where, const char *act_field, const char *ret_field,
                        const char *name, bool has_ret, uint32_t ret, uint32_t *out,
                        kist_error_t *err)
{
  if (name == NULL)
    return kist_fail(err, 0, "%s.%s: missing", where, act_field);
  int i = name_index(kist_seccomp_actions, name);
  if (i < 0)
    return kist_fail(err, 0, "%s.%s: unknown action %s", where, act_field, name);
  uint32_t act = action_values[i];
  if (act == SCMP_ACT_ERRNO(0) || act == SCMP_ACT_TRACE(0)) {
    /* runtime-spec: the data defaults to EPERM for both. libseccomp caps
     * errno values at 4095 (MAX_ERRNO); trace messages are 16 bits. */
    uint32_t max = act == SCMP_ACT_ERRNO(0) ? 4095 : 0xffff;
    if (!has_ret)
      ret = EPERM;
    if (ret > max)
      return kist_fail(err, 0, "%s.%s: %u out of range (0-%u)", where, ret_field, ret, max);
    act |= ret;
  } else if (has_ret) {
    return kist_fail(err, 0, "%s.%s: not allowed with %s", where, ret_field, name);
  }
  /* The kernel decides whether it knows the action (SECCOMP_GET_ACTION_AVAIL
   * takes the action without its data). */
  uint32_t base = act & SECCOMP_RET_ACTION_FULL;
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &base) < 0 && errno == EOPNOTSUPP)
    return kist_fail(err, 0, "%s.%s: %s is not supported by this kernel", where, act_field, name);
  *out = act;
  return 0;
}

static bool uses_notify(const oci_config_linux_seccomp *sc)
{
  for (size_t i = 0; i < sc->syscalls_len; i++)
    if (sc->syscalls[i]->action && strcmp(sc->syscalls[i]->action, "SCMP_ACT_NOTIFY") == 0)
      return true;
  return false;
}

/* After the load, the init hands the listener fd to the parent with
 * sendmsg(2); the parent gives it to the agent. If that sendmsg were itself
 * notified, nobody could answer it yet: a deadlock. */
static const char *const notify_forbidden[] = {"sendmsg", NULL};

static int add_rules(scmp_filter_ctx ctx, uint32_t def, size_t idx, const oci_syscall *sys,
                     kist_error_t *err)
{
  cleanup_free char *where = xasprintf("linux.seccomp.syscalls[%zu]", idx);
  uint32_t act;
  if (parse_action(where, "action", "errnoRet", sys->action, sys->errno_ret_present, sys->errno_ret,
                   &act, err) < 0)
    return -1;
  if (sys->names_len == 0)
    return kist_fail(err, 0, "%s.names: empty", where);

  cleanup_free struct scmp_arg_cmp *cmps = xcalloc(sys->args_len + 1, sizeof *cmps);
  unsigned int seen = 0;
  bool same_index = false;
  for (size_t j = 0; j < sys->args_len; j++) {
    const oci_syscall_arg *a = sys->args[j];
    if (a->index > 5)
      return kist_fail(err, 0, "%s.args[%zu].index: %u out of range (0-5)", where, j, a->index);
    int op = name_index(kist_seccomp_operators, a->op);
    if (op < 0)
      return kist_fail(err, 0, "%s.args[%zu].op: unknown operator %s", where, j,
                       a->op ? a->op : "(missing)");
    /* For MASKED_EQ value is the mask and valueTwo the expected result:
     * libseccomp's datum_a and datum_b. */
    cmps[j] = (struct scmp_arg_cmp){.arg = a->index,
                                    .op = operator_values[op],
                                    .datum_a = a->value,
                                    .datum_b = a->value_two_present ? a->value_two : 0};
    same_index |= (seen & (1u << a->index)) != 0;
    seen |= 1u << a->index;
  }

  if (act == SCMP_ACT_NOTIFY)
    for (size_t n = 0; n < sys->names_len; n++)
      if (name_index(notify_forbidden, sys->names[n]) >= 0)
        return kist_fail(err, 0,
                         "%s: SCMP_ACT_NOTIFY on %s would deadlock: kist uses it to pass the "
                         "listener fd",
                         where, sys->names[n]);

  if (act == def) {
    /* libseccomp refuses a rule that repeats the default (EACCES). */
    kist_debug("%s: action equals defaultAction, skipped", where);
    return 0;
  }

  for (size_t n = 0; n < sys->names_len; n++) {
    const char *name = sys->names[n];
    /* Names of other arches resolve to libseccomp's pseudo numbers (< 0);
     * only names it does not know at all give __NR_SCMP_ERROR. */
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      kist_debug("%s: unknown syscall %s skipped", where, name);
      continue;
    }
    int rc;
    if (!same_index) {
      rc = seccomp_rule_add_array(ctx, act, nr, (unsigned int)sys->args_len, cmps);
    } else {
      /* libseccomp holds one comparison per argument in a rule and refuses
       * a second (EINVAL), so two conditions on one argument cannot be
       * AND-ed. As other runtimes do, each becomes a rule of its own: the
       * action applies when ANY matches (OR), and the same profile behaves
       * the same under kist, runc and crun. */
      rc = 0;
      for (size_t j = 0; j < sys->args_len && rc == 0; j++)
        rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[j]);
    }
    if (rc < 0)
      return kist_fail(err, -rc, "%s: add rule for %s", where, name);
  }
  return 0;
}

/* The program libseccomp generates for ctx (2.5 exports only to an fd). */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *n, kist_error_t *err)
{
  cleanup_close int fd = memfd_create("kist-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return kist_fail(err, errno, "memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return kist_fail(err, -rc, "linux.seccomp: export BPF");
  if (lseek(fd, 0, SEEK_SET) < 0)
    return kist_fail(err, errno, "linux.seccomp: seek BPF");
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_all_fd(fd, "seccomp BPF", &data, &len, err) < 0)
    return -1;
  if (len == 0 || len % sizeof(struct sock_filter) != 0)
    return kist_fail(err, 0, "linux.seccomp: libseccomp produced %zu bytes of BPF", len);
  *n = len / sizeof(struct sock_filter);
  *insns = (struct sock_filter *)steal_pointer(&data);
  return 0;
}

/* Compiles linux.seccomp with libseccomp into raw BPF. */
static int compile(const oci_config_linux_seccomp *sc, struct sock_filter **insns, size_t *n,
                   kist_error_t *err)
{
  uint32_t def;
  if (parse_action("linux.seccomp", "defaultAction", "defaultErrnoRet", sc->default_action,
                   sc->default_errno_ret_present, sc->default_errno_ret, &def, err) < 0)
    return -1;
  /* Every syscall, kist's own sendmsg of the listener fd included, would
   * wait for an agent that cannot have the fd yet. */
  if (def == SCMP_ACT_NOTIFY)
    return kist_fail(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");

  cleanup_scmp scmp_filter_ctx ctx = seccomp_init(def);
  if (ctx == NULL)
    return kist_fail(err, 0, "linux.seccomp.defaultAction: libseccomp refused %s",
                     sc->default_action);
  /* A binary tree of syscall numbers instead of a linear list: it costs
   * compile time, paid once thanks to the cache, and saves it at every
   * container start: the kernel, when attaching a filter, runs it for each
   * syscall number to cache the always-allowed ones; on the Podman profile
   * that attach takes ~0.3 ms instead of ~0.8 ms. */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  bool tree = rc == 0;
  if (rc < 0)
    kist_debug("seccomp: no binary tree optimization: %s", strerror(-rc));

  for (size_t i = 0; i < sc->architectures_len; i++) {
    const char *name = sc->architectures[i];
    uint32_t tok = arch_token(name);
    if (tok == 0) {
      const struct scmp_version *v = seccomp_version();
      if (name_index(kist_seccomp_archs, name) < 0)
        return kist_fail(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture %s", i,
                         name ? name : "(null)");
      return kist_fail(
        err, 0, "linux.seccomp.architectures[%zu]: %s is not supported by libseccomp %u.%u.%u", i,
        name, v->major, v->minor, v->micro);
    }
    rc = seccomp_arch_add(ctx, tok);
    if (rc == -EDOM) {
      /* The other endianness cannot share a filter; this kernel can never
       * run such a task, so the entry has nothing to filter here. */
      kist_debug("linux.seccomp.architectures[%zu]: %s cannot join a filter for this host, skipped",
                 i, name);
      continue;
    }
    if (rc < 0 && rc != -EEXIST) /* the native arch is always there */
      return kist_fail(err, -rc, "linux.seccomp.architectures[%zu]: add %s", i, name);
  }

  for (size_t i = 0; i < sc->syscalls_len; i++)
    if (add_rules(ctx, def, i, sc->syscalls[i], err) < 0)
      return -1;

  if (export_bpf(ctx, insns, n, err) < 0)
    return -1;
  if (*n > BPF_MAXINSNS && tree) {
    /* The tree is larger; a linear filter may still fit. */
    kist_debug("seccomp: %zu instructions as a tree, trying a linear filter", *n);
    free(*insns);
    *insns = NULL;
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 1);
    if (rc < 0)
      return kist_fail(err, -rc, "linux.seccomp: back to a linear filter");
    if (export_bpf(ctx, insns, n, err) < 0)
      return -1;
  }
  if (*n > BPF_MAXINSNS) {
    free(*insns);
    *insns = NULL;
    return kist_fail(err, 0, "linux.seccomp: filter has %zu instructions, the kernel allows %d", *n,
                     BPF_MAXINSNS);
  }
  return 0;
}

/* seccomp(2) flags: TSYNC always (a no-op in the single-threaded init, but
 * what runtime-spec implies), plus the requested ones. */
static int parse_flags(const oci_config_linux_seccomp *sc, bool notify, unsigned int *out,
                       kist_error_t *err)
{
  unsigned int f = SECCOMP_FILTER_FLAG_TSYNC;
  for (size_t i = 0; i < sc->flags_len; i++) {
    int k = name_index(kist_seccomp_flags, sc->flags[i]);
    if (k < 0)
      return kist_fail(err, 0, "linux.seccomp.flags[%zu]: unknown flag %s", i,
                       sc->flags[i] ? sc->flags[i] : "(null)");
    if (!kernel_has_flag(flag_values[k]))
      return kist_fail(err, 0, "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i,
                       sc->flags[i]);
    if (flag_values[k] == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify) {
      /* Only means something for a listener; the kernel refuses it alone. */
      kist_debug("linux.seccomp.flags[%zu]: %s ignored without SCMP_ACT_NOTIFY", i, sc->flags[i]);
      continue;
    }
    f |= flag_values[k];
  }
  if (notify) {
    f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* TSYNC with a listener needs TSYNC_ESRCH (5.7+); without it keep the
     * listener and drop TSYNC, which has no thread to sync anyway. */
    if (kernel_has_flag(SECCOMP_FILTER_FLAG_TSYNC_ESRCH))
      f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    else
      f &= ~(unsigned int)SECCOMP_FILTER_FLAG_TSYNC;
  }
  *out = f;
  return 0;
}

/* ---- the cache of compiled filters ----
 *
 * The key is a canonical serialization of every input that shapes the BPF:
 * the seccomp fields, the kist and libseccomp versions, and the kernel (the
 * API level libseccomp detects changes the code it emits). The file name is
 * a hash of the key, and the file holds the key itself, so a hit is an exact
 * match, never a hash collision. A file that is short, corrupt or not ours
 * is ignored and rewritten. */

#define CACHE_SUBDIR      ".seccomp-cache"
#define CACHE_MAGIC       "KISTBPF1"
#define CACHE_MAX_ENTRIES 64
#define CACHE_FORMAT      2 /* bump when compile() changes what it emits */

struct cache_header {
  char magic[8];
  uint32_t key_len;
  uint32_t bpf_len;
  uint64_t sum; /* of the BPF */
};

static char *cache_root;

void kist_seccomp_set_cache_dir(const char *root)
{
  free(cache_root);
  cache_root = root ? xstrdup(root) : NULL;
}

struct buf {
  uint8_t *p;
  size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 256;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

static void key_u64(struct buf *b, uint64_t v)
{
  buf_add(b, &v, sizeof v);
}

/* Length-prefixed, so ("ab","c") and ("a","bc") differ; NULL differs from "". */
static void key_str(struct buf *b, const char *s)
{
  key_u64(b, s ? strlen(s) : UINT64_MAX);
  if (s)
    buf_add(b, s, strlen(s));
}

static void key_build(const oci_config_linux_seccomp *sc, struct buf *b)
{
  const struct scmp_version *v = seccomp_version();
  struct utsname u;
  if (uname(&u) < 0)
    memset(&u, 0, sizeof u);
  key_u64(b, CACHE_FORMAT);
  key_str(b, PACKAGE_VERSION);
  key_str(b, KIST_COMMIT);
  key_u64(b, ((uint64_t)v->major << 32) | (v->minor << 16) | v->micro);
  key_str(b, u.machine);
  key_str(b, u.release);

  key_str(b, sc->default_action);
  key_u64(b, sc->default_errno_ret_present ? sc->default_errno_ret : UINT64_MAX);
  key_u64(b, sc->architectures_len);
  for (size_t i = 0; i < sc->architectures_len; i++)
    key_str(b, sc->architectures[i]);
  key_u64(b, sc->syscalls_len);
  for (size_t i = 0; i < sc->syscalls_len; i++) {
    const oci_syscall *s = sc->syscalls[i];
    key_str(b, s->action);
    key_u64(b, s->errno_ret_present ? s->errno_ret : UINT64_MAX);
    key_u64(b, s->names_len);
    for (size_t n = 0; n < s->names_len; n++)
      key_str(b, s->names[n]);
    key_u64(b, s->args_len);
    for (size_t j = 0; j < s->args_len; j++) {
      const oci_syscall_arg *a = s->args[j];
      key_u64(b, a->index);
      key_u64(b, a->value);
      key_u64(b, a->value_two_present ? a->value_two : 0);
      key_str(b, a->op);
    }
  }
}

/* A word-at-a-time multiplicative hash with a final mix: it names files and
 * catches corruption; identity comes from comparing the whole key. (The
 * byte-wise FNV-1a it replaced was most of the cost of a cache hit.) */
static uint64_t mix64(uint64_t h)
{
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

static uint64_t hash64(uint64_t h, const void *data, size_t len)
{
  const uint8_t *p = data;
  uint64_t w;
  for (; len >= 8; p += 8, len -= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
  }
  w = len; /* the tail, tagged with its length */
  for (size_t i = 0; i < len; i++)
    w |= (uint64_t)p[i] << (8 * (i + 1));
  return mix64((h ^ w) * 0x9e3779b97f4a7c15ULL);
}

/* The key is compared whole, so the checksum need only cover the BPF. */
static uint64_t cache_sum(const void *bpf, size_t bpf_len)
{
  return hash64(0x84222325cbf29ce4ULL, bpf, bpf_len);
}

static char *cache_file_name(const struct buf *key)
{
  return xasprintf("%016llx.bpf",
                   (unsigned long long)hash64(0xcbf29ce484222325ULL, key->p, key->len));
}

/* Reads an entry: true and the program if it is exactly ours for key. */
static bool cache_read(int fd, const struct buf *key, struct sock_filter **insns, size_t *n)
{
  struct stat st;
  /* Only a regular file we wrote: a filter from anyone else would be
   * loaded into every container. */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 022) != 0 || st.st_size <= (off_t)(sizeof(struct cache_header) + key->len) ||
      st.st_size > (off_t)(sizeof(struct cache_header) + key->len + BPF_MAXINSNS * 8))
    return false;
  size_t size = (size_t)st.st_size, bpf_len = size - sizeof(struct cache_header) - key->len;
  cleanup_free uint8_t *data = xmalloc(size);
  if (read_retry(fd, data, size) != (ssize_t)size)
    return false;
  struct cache_header h;
  memcpy(&h, data, sizeof h);
  const uint8_t *k = data + sizeof h, *bpf = k + key->len;
  if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.key_len != key->len ||
      h.bpf_len != bpf_len || bpf_len % sizeof(struct sock_filter) != 0 ||
      memcmp(k, key->p, key->len) != 0 || h.sum != cache_sum(bpf, bpf_len))
    return false;
  *n = bpf_len / sizeof(struct sock_filter);
  *insns = xmalloc(bpf_len);
  memcpy(*insns, bpf, bpf_len);
  return true;
}

/* True and the program on an exact hit; any problem is a miss. */
static bool cache_lookup(const struct buf *key, struct sock_filter **insns, size_t *n)
{
  if (cache_root == NULL)
    return false;
  cleanup_free char *name = cache_file_name(key);
  cleanup_free char *path = xasprintf("%s/" CACHE_SUBDIR "/%s", cache_root, name);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  if (cache_read(fd, key, insns, n))
    return true;
  kist_debug("seccomp cache: %s is not a valid entry, recompiling", path);
  return false;
}

/* Keeps the cache bounded: drops stale temp files and, past the limit, the
 * oldest entries. Runs only after a compile, which costs far more. */
static void cache_trim(int dfd)
{
  cleanup_close int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  DIR *d = fdopendir(fd);
  if (d == NULL)
    return;
  fd = -1;
  struct entry {
    char name[64];
    struct timespec mtime;
  } *v = NULL;
  size_t nv = 0;
  struct dirent *de;
  time_t now = time(NULL);
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof v->name ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (strstr(de->d_name, ".tmp.") != NULL) {
      if (now - st.st_mtime > 60) /* a writer that died */
        unlinkat(dirfd(d), de->d_name, 0);
      continue;
    }
    v = xrealloc(v, (nv + 1) * sizeof *v);
    strcpy(v[nv].name, de->d_name);
    v[nv++].mtime = st.st_mtim;
  }
  if (nv > CACHE_MAX_ENTRIES) {
    /* Oldest first, then drop down to half the limit. */
    for (size_t i = 1; i < nv; i++)
      for (size_t j = i; j > 0 && (v[j].mtime.tv_sec < v[j - 1].mtime.tv_sec ||
                                   (v[j].mtime.tv_sec == v[j - 1].mtime.tv_sec &&
                                    v[j].mtime.tv_nsec < v[j - 1].mtime.tv_nsec));
           j--) {
        struct entry t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
    for (size_t i = 0; i < nv - CACHE_MAX_ENTRIES / 2; i++)
      unlinkat(dirfd(d), v[i].name, 0);
  }
  free(v);
  closedir(d);
}

/* Best effort: a cache that cannot be written only costs the next compile. */
static void cache_store(const struct buf *key, const struct sock_filter *insns, size_t n)
{
  if (cache_root == NULL)
    return;
  kist_error_t e = NULL;
  cleanup_close int root = open(cache_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    kist_debug("seccomp cache: %s: %s, not caching", cache_root, strerror(errno));
    return;
  }
  if (mkdirat(root, CACHE_SUBDIR, 0700) < 0 && errno != EEXIST) {
    kist_debug("seccomp cache: mkdir %s/" CACHE_SUBDIR ": %s", cache_root, strerror(errno));
    return;
  }
  cleanup_close int dfd =
    openat(root, CACHE_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    kist_debug("seccomp cache: %s/" CACHE_SUBDIR " is not ours, not caching", cache_root);
    return;
  }

  size_t bpf_len = n * sizeof *insns;
  struct cache_header h = {.key_len = (uint32_t)key->len, .bpf_len = (uint32_t)bpf_len};
  memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
  h.sum = cache_sum(insns, bpf_len);
  struct buf out = {0};
  buf_add(&out, &h, sizeof h);
  buf_add(&out, key->p, key->len);
  buf_add(&out, insns, bpf_len);
  cleanup_free char *name = cache_file_name(key);
  if (write_file_atomic_at(dfd, name, out.p, out.len, 0600, &e) < 0) {
    kist_debug("seccomp cache: %s", kist_error_message(e));
    kist_error_release(&e);
  }
  free(out.p);
  cache_trim(dfd);
}

/* ---- the public API ---- */

void kist_seccomp_free(struct kist_seccomp *s)
{
  if (s == NULL)
    return;
  free(s->insns);
  free(s->listener_path);
  free(s->listener_metadata);
  free(s);
}

static void kist_seccomp_freep(struct kist_seccomp **s)
{
  kist_seccomp_free(*s);
}

int kist_seccomp_prepare(const oci_config *cfg, struct kist_seccomp **out, kist_error_t *err)
{
  *out = NULL;
  const oci_config_linux_seccomp *sc = cfg && cfg->linux ? cfg->linux->seccomp : NULL;
  if (sc == NULL)
    return 0;

  __attribute__((cleanup(kist_seccomp_freep))) struct kist_seccomp *s = xzalloc(sizeof *s);
  s->notify = uses_notify(sc);
  if (s->notify && sc->listener_path == NULL)
    return kist_fail(err, 0, "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
  if (sc->listener_metadata != NULL && sc->listener_path == NULL)
    return kist_fail(err, 0, "linux.seccomp.listenerMetadata: set without listenerPath");
  if (sc->listener_path != NULL &&
      strlen(sc->listener_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
    return kist_fail(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", sc->listener_path);
  if (parse_flags(sc, s->notify, &s->flags, err) < 0)
    return -1;
  s->listener_path = sc->listener_path ? xstrdup(sc->listener_path) : NULL;
  s->listener_metadata = sc->listener_metadata ? xstrdup(sc->listener_metadata) : NULL;

  if (kist_dl_need(&kist_dl_seccomp, err) < 0)
    return -1;
  struct buf key = {0};
  key_build(sc, &key);
  if (cache_lookup(&key, &s->insns, &s->n_insns)) {
    kist_debug("seccomp: cache hit, %zu instructions", s->n_insns);
  } else if (compile(sc, &s->insns, &s->n_insns, err) < 0) {
    free(key.p);
    return -1;
  } else {
    kist_debug("seccomp: compiled %zu instructions", s->n_insns);
    cache_store(&key, s->insns, s->n_insns);
  }
  free(key.p);
  *out = steal_pointer(&s);
  return 0;
}

int kist_seccomp_load(struct kist_seccomp *s, int *notify_fd, kist_error_t *err)
{
  *notify_fd = -1;
  if (s == NULL)
    return 0;
  struct sock_fprog prog = {.len = (unsigned short)s->n_insns, .filter = s->insns};
  int rc = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog);
  if (rc < 0) {
    if (errno == EACCES)
      return kist_fail(err, errno, "load seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)");
    return kist_fail(err, errno, "load seccomp filter (flags %#x)", s->flags);
  }
  /* With TSYNC and no listener, success is 0; a listener comes back as the
   * return value (close-on-exec). */
  if (s->notify)
    *notify_fd = rc;
  return 0;
}

const void *kist_seccomp_program(const struct kist_seccomp *s, size_t *size)
{
  *size = s ? s->n_insns * sizeof *s->insns : 0;
  return s ? s->insns : NULL;
}

bool kist_seccomp_uses_notify(const struct kist_seccomp *s)
{
  return s != NULL && s->notify;
}

const char *kist_seccomp_listener_path(const struct kist_seccomp *s)
{
  return s ? s->listener_path : NULL;
}

const char *kist_seccomp_listener_metadata(const struct kist_seccomp *s)
{
  return s ? s->listener_metadata : NULL;
}

/* ---- the seccomp agent ---- */

static void gen_str(yajl_gen g, const char *s)
{
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

char *kist_seccomp_process_state_json(pid_t pid, const char *metadata, const char *state_json)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  gen_str(g, "ociVersion");
  gen_str(g, KIST_SPEC_VERSION);
  gen_str(g, "fds");
  yajl_gen_array_open(g);
  gen_str(g, "seccompFd");
  yajl_gen_array_close(g);
  gen_str(g, "pid");
  yajl_gen_integer(g, pid);
  if (metadata) {
    gen_str(g, "metadata");
    gen_str(g, metadata);
  }
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  /* The state is JSON already: splice it in as the last member. */
  char *out = xasprintf("%.*s,\"state\":%s}", (int)len - 1, (const char *)buf,
                        state_json ? state_json : "{}");
  yajl_gen_free(g);
  return out;
}

int kist_seccomp_send_listener(const char *listener_path, int notify_fd,
                               const char *process_state_json, kist_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(listener_path) >= sizeof addr.sun_path)
    return kist_fail(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", listener_path);
  strcpy(addr.sun_path, listener_path);
  cleanup_close int sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sk < 0)
    return kist_fail(err, errno, "socket for seccomp listener %s", listener_path);
  if (connect(sk, (struct sockaddr *)&addr, sizeof addr) < 0)
    return kist_fail(err, errno, "connect to seccomp listener %s", listener_path);

  const char *p = process_state_json;
  size_t left = strlen(p);
  /* The fd rides on the first chunk; a stream may take the rest later. */
  int fd = notify_fd;
  while (left > 0) {
    struct iovec iov = {.iov_base = (void *)p, .iov_len = left};
    ssize_t w = kist_sendmsg_fd(sk, &iov, 1, fd);
    if (w < 0)
      return kist_fail(err, errno, "send to seccomp listener %s", listener_path);
    p += w;
    left -= (size_t)w;
    fd = -1;
  }
  return 0;
}
