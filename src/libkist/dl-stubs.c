/* The functions kist uses from libseccomp, libselinux and libsystemd,
 * defined here so that kist does not link those libraries: each resolves
 * its real counterpart on first call (dl.c). When the library is missing,
 * the reason is logged once and the call fails the library's own way
 * (negative errno, NULL, -1 with errno), with ELIBACC.
 * Built only with --enable-lazy-libs (the default).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <seccomp.h>
#include <selinux/selinux.h>
#include <stdarg.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "dl.h"

#define RESOLVE(lib, name, fail)                                                                   \
  static __typeof__(&name) fn_;                                                                    \
  __typeof__(&name) f = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                                   \
  if (f == NULL) {                                                                                 \
    f = (__typeof__(&name))kist_dl_sym(&lib, #name);                                               \
    if (f == NULL)                                                                                 \
      fail;                                                                                        \
    __atomic_store_n(&fn_, f, __ATOMIC_RELEASE);                                                   \
  }

#define STUB(lib, ret, name, params, args, fail)                                                   \
  ret name params                                                                                  \
  {                                                                                                \
    RESOLVE(lib, name, fail);                                                                      \
    return f args;                                                                                 \
  }
#define VSTUB(lib, name, params, args)                                                             \
  void name params                                                                                 \
  {                                                                                                \
    RESOLVE(lib, name, return );                                                                   \
    f args;                                                                                        \
  }

/* ---- libseccomp: int calls return -errno ---- */
#define SC kist_dl_seccomp
STUB(SC, scmp_filter_ctx, seccomp_init, (uint32_t def_action), (def_action), return NULL)
VSTUB(SC, seccomp_release, (scmp_filter_ctx ctx), (ctx))
STUB(SC, int, seccomp_arch_add, (scmp_filter_ctx ctx, uint32_t arch_token), (ctx, arch_token),
     return -ELIBACC)
STUB(SC, uint32_t, seccomp_arch_resolve_name, (const char *arch_name), (arch_name), return 0)
STUB(SC, int, seccomp_attr_set, (scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value),
     (ctx, attr, value), return -ELIBACC)
STUB(SC, int, seccomp_export_bpf, (const scmp_filter_ctx ctx, int fd), (ctx, fd), return -ELIBACC)
STUB(SC, int, seccomp_rule_add_array,
     (scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int arg_cnt,
      const struct scmp_arg_cmp *arg_array),
     (ctx, action, syscall, arg_cnt, arg_array), return -ELIBACC)
STUB(SC, int, seccomp_syscall_resolve_name, (const char *name), (name), return __NR_SCMP_ERROR)

/* Callers read the fields without checking: a missing library reads 0.0.0. */
static const struct scmp_version no_version;
STUB(SC, const struct scmp_version *, seccomp_version, (void), (), return &no_version)

/* ---- libselinux: -1 and errno ---- */
STUB(kist_dl_selinux, int, is_selinux_enabled, (void), (), return -1)
STUB(kist_dl_selinux, int, setexeccon, (const char *con), (con), return -1)

/* ---- libsystemd: int calls return -errno, unref calls NULL ---- */
#define SD kist_dl_systemd
STUB(SD, int, sd_booted, (void), (), return -ELIBACC)
STUB(SD, int, sd_bus_new, (sd_bus * *ret), (ret), return -ELIBACC)
STUB(SD, int, sd_bus_open_system, (sd_bus * *ret), (ret), return -ELIBACC)
STUB(SD, int, sd_bus_open_user, (sd_bus * *ret), (ret), return -ELIBACC)
STUB(SD, int, sd_bus_set_address, (sd_bus * bus, const char *address), (bus, address),
     return -ELIBACC)
STUB(SD, int, sd_bus_start, (sd_bus * bus), (bus), return -ELIBACC)
STUB(SD, sd_bus *, sd_bus_unref, (sd_bus * bus), (bus), return NULL)
STUB(SD, sd_bus *, sd_bus_flush_close_unref, (sd_bus * bus), (bus), return NULL)
STUB(SD, int, sd_bus_process, (sd_bus * bus, sd_bus_message **r), (bus, r), return -ELIBACC)
STUB(SD, int, sd_bus_wait, (sd_bus * bus, uint64_t timeout_usec), (bus, timeout_usec),
     return -ELIBACC)
STUB(SD, int, sd_bus_call,
     (sd_bus * bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
      sd_bus_message **reply),
     (bus, m, usec, ret_error, reply), return -ELIBACC)
STUB(SD, int, sd_bus_call_methodv,
     (sd_bus * bus, const char *destination, const char *path, const char *interface,
      const char *member, sd_bus_error *ret_error, sd_bus_message **reply, const char *types,
      va_list ap),
     (bus, destination, path, interface, member, ret_error, reply, types, ap), return -ELIBACC)
STUB(SD, int, sd_bus_get_property_string,
     (sd_bus * bus, const char *destination, const char *path, const char *interface,
      const char *member, sd_bus_error *ret_error, char **ret),
     (bus, destination, path, interface, member, ret_error, ret), return -ELIBACC)
STUB(SD, int, sd_bus_match_signal,
     (sd_bus * bus, sd_bus_slot **ret, const char *sender, const char *path, const char *interface,
      const char *member, sd_bus_message_handler_t callback, void *userdata),
     (bus, ret, sender, path, interface, member, callback, userdata), return -ELIBACC)
STUB(SD, sd_bus_slot *, sd_bus_slot_unref, (sd_bus_slot * slot), (slot), return NULL)
STUB(SD, int, sd_bus_message_new_method_call,
     (sd_bus * bus, sd_bus_message **m, const char *destination, const char *path,
      const char *interface, const char *member),
     (bus, m, destination, path, interface, member), return -ELIBACC)
STUB(SD, sd_bus_message *, sd_bus_message_unref, (sd_bus_message * m), (m), return NULL)
STUB(SD, int, sd_bus_message_appendv, (sd_bus_message * m, const char *types, va_list ap),
     (m, types, ap), return -ELIBACC)
STUB(SD, int, sd_bus_message_append_array,
     (sd_bus_message * m, char type, const void *ptr, size_t size), (m, type, ptr, size),
     return -ELIBACC)
STUB(SD, int, sd_bus_message_open_container, (sd_bus_message * m, char type, const char *contents),
     (m, type, contents), return -ELIBACC)
STUB(SD, int, sd_bus_message_close_container, (sd_bus_message * m), (m), return -ELIBACC)
STUB(SD, int, sd_bus_message_readv, (sd_bus_message * m, const char *types, va_list ap),
     (m, types, ap), return -ELIBACC)
VSTUB(SD, sd_bus_error_free, (sd_bus_error * e), (e))
STUB(SD, int, sd_bus_error_is_set, (const sd_bus_error *e), (e), return 0)
STUB(SD, int, sd_bus_error_has_name, (const sd_bus_error *e, const char *name), (e, name), return 0)

/* The variadic calls go through their va_list forms. */
int sd_bus_call_method(sd_bus *bus, const char *destination, const char *path,
                       const char *interface, const char *member, sd_bus_error *ret_error,
                       sd_bus_message **reply, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int r =
    sd_bus_call_methodv(bus, destination, path, interface, member, ret_error, reply, types, ap);
  va_end(ap);
  return r;
}

int sd_bus_message_append(sd_bus_message *m, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int r = sd_bus_message_appendv(m, types, ap);
  va_end(ap);
  return r;
}

int sd_bus_message_read(sd_bus_message *m, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  int r = sd_bus_message_readv(m, types, ap);
  va_end(ap);
  return r;
}
