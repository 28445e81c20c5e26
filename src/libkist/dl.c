/* Loading libseccomp, libselinux and libsystemd on first use. Most commands
 * (state, list, kill, delete, exec, start, and create without seccomp,
 * SELinux labels or --systemd-cgroup) never touch them.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "util.h"
#include "log.h"

struct kist_dl_lib kist_dl_seccomp = {"libseccomp.so.2", "libseccomp2", "linux.seccomp"};
struct kist_dl_lib kist_dl_selinux = {"libselinux.so.1", "libselinux1", "SELinux labels"};
struct kist_dl_lib kist_dl_systemd = {"libsystemd.so.0", "libsystemd0", "--systemd-cgroup"};

static char *dl_why(struct kist_dl_lib *lib)
{
  const char *e = dlerror();
  return xasprintf("%s is needed for %s: %s (install the Debian package %s)", lib->soname,
                   lib->purpose, e ? e : "cannot load it", lib->package);
}

static void *dl_open(struct kist_dl_lib *lib, char **why)
{
  void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
  if (h != NULL || lib->failed)
    return h;
  /* RTLD_NOW: a library too old for a symbol kist uses fails here, once,
   * rather than at some later call. */
  h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    *why = dl_why(lib);
    lib->failed = true;
    return NULL;
  }
  void *prev = NULL;
  if (!__atomic_compare_exchange_n(&lib->handle, &prev, h, false, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE)) {
    dlclose(h); /* another thread won; the refcount keeps it mapped */
    h = prev;
  }
  return h;
}

int kist_dl_need(struct kist_dl_lib *lib, kist_error_t *err)
{
  char *why = NULL;
  if (dl_open(lib, &why) != NULL)
    return 0;
  if (why == NULL) /* failed before */
    return kist_fail(err, ELIBACC, "%s is needed for %s (install the Debian package %s)",
                     lib->soname, lib->purpose, lib->package);
  return kist_fail_take(err, 0, why);
}

void *kist_dl_sym(struct kist_dl_lib *lib, const char *name)
{
  char *why = NULL;
  void *h = dl_open(lib, &why);
  if (h == NULL) {
    if (why != NULL) {
      kist_log(KIST_LOG_ERROR, "%s", why);
      free(why);
    }
    errno = ELIBACC;
    return NULL;
  }
  void *sym = dlsym(h, name);
  if (sym == NULL) {
    const char *e = dlerror();
    kist_log(KIST_LOG_ERROR, "%s: %s (kist needs a newer %s)", lib->soname, e ? e : name,
             lib->package);
    errno = ELIBACC;
  }
  return sym;
}
