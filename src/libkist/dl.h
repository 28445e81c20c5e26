/* Lazy loading of the libraries few invocations need (libseccomp,
 * libselinux, libsystemd): linking them made every `kist state` pay for
 * mapping and relocating a dozen shared objects. dl-stubs.c defines their
 * functions, loading the library on the first call.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_DL_H
#define KIST_DL_H

#include <stdbool.h>

#include "error.h"

struct kist_dl_lib {
  const char *soname;  /* what dlopen(3) is given */
  const char *package; /* the Debian package that provides it, for the error */
  const char *purpose; /* what kist needs it for */
  void *handle;
  bool failed; /* dlopen failed once: do not retry, do not log again */
};

extern struct kist_dl_lib kist_dl_seccomp, kist_dl_selinux, kist_dl_systemd;

/* Loads lib (once) and fails with a clear message when it is missing. */
int kist_dl_need(struct kist_dl_lib *lib, kist_error_t *err);

/* The address of name in lib, loading lib first; NULL (with the reason
 * logged once) when the library or the symbol is missing. */
void *kist_dl_sym(struct kist_dl_lib *lib, const char *name);

#endif
