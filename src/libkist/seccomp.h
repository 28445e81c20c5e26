/* linux.seccomp via libseccomp.
 *
 * The filter is compiled to BPF in the parent, before clone, so every config
 * error comes before anything is made and the child only makes one seccomp(2)
 * call.  Compiled filters are cached under <root>/.seccomp-cache.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_SECCOMP_H
#define KIST_SECCOMP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

struct kist_seccomp; /* a compiled filter, ready to load */

/* Validates and compiles linux.seccomp (NULL cfg->linux->seccomp: *out = NULL).
 * Runs before clone so errors come before anything is made. */
int kist_seccomp_prepare(const oci_config *cfg, struct kist_seccomp **out, kist_error_t *err);
/* Loads the filter in the calling process with one seccomp(2) call (no
 * libseccomp work in the child). NULL s: nothing to do, *notify_fd = -1.
 * *notify_fd gets the listener fd (O_CLOEXEC) when an action is NOTIFY, else
 * -1; send it to kist with sendmsg(2) at once, before any other syscall the
 * filter might notify (prepare refuses NOTIFY on sendmsg for this reason).
 * The kernel wants no_new_privs or CAP_SYS_ADMIN in the effective set, so
 * call this as late as that allows: right before execve when
 * process.noNewPrivileges is true, else before the uid/capability change
 * (which the filter must then allow, as with runc). */
int kist_seccomp_load(struct kist_seccomp *s, int *notify_fd, kist_error_t *err);
void kist_seccomp_free(struct kist_seccomp *s);
/* The BPF program kist_seccomp_load would load (struct sock_filter array)
 * and its size in bytes: for tests comparing compiled and cached filters. */
const void *kist_seccomp_program(const struct kist_seccomp *s, size_t *size);

/* The state root (ctx->root): compiled filters are cached in
 * <root>/.seccomp-cache/<hash>.bpf.  NULL (the default) disables the cache.
 * The root itself is not created here; without it nothing is cached. */
void kist_seccomp_set_cache_dir(const char *root);

/* True when the filter has a NOTIFY action: kist_seccomp_load returns a
 * listener fd that must reach listenerPath via kist_seccomp_send_listener. */
bool kist_seccomp_uses_notify(const struct kist_seccomp *s);
/* linux.seccomp.listenerPath / listenerMetadata (NULL when absent). */
const char *kist_seccomp_listener_path(const struct kist_seccomp *s);
const char *kist_seccomp_listener_metadata(const struct kist_seccomp *s);

/* Builds the runtime-spec "container process state" sent to the agent:
 * {"ociVersion","fds":["seccompFd"],"pid","metadata","state":<state_json>}.
 * state_json is the container's state object (as `kist state` prints it),
 * embedded as is; metadata may be NULL. */
char *kist_seccomp_process_state_json(pid_t pid, const char *metadata, const char *state_json);
/* Connects to the AF_UNIX stream socket listener_path and sends
 * process_state_json with notify_fd attached (SCM_RIGHTS), then closes the
 * connection: one state per connection, as runtime-spec requires. */
int kist_seccomp_send_listener(const char *listener_path, int notify_fd,
                               const char *process_state_json, kist_error_t *err);

/* The names kist knows, for `kist features` (NULL-terminated), and whether
 * this libseccomp / this kernel supports each. */
extern const char *const kist_seccomp_actions[];
extern const char *const kist_seccomp_operators[];
extern const char *const kist_seccomp_archs[];
extern const char *const kist_seccomp_flags[];
bool kist_seccomp_arch_supported(const char *name);
bool kist_seccomp_flag_supported(const char *name);

#endif
