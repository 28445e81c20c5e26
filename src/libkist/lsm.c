/* SELinux (process.selinuxLabel, linux.mountLabel) and AppArmor
 * (process.apparmorProfile). A label asked for on a host without that LSM is
 * an error: silently running unconfined would be worse.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "lsm.h"
#include "util.h"

static bool apparmor_enabled(void)
{
  char c = 0;
  int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read_retry(fd, &c, 1);
  close(fd);
  return n == 1 && c == 'Y';
}

int kist_lsm_validate(const oci_config *cfg, kist_error_t *err)
{
  const oci_config_process *p = cfg->process;
  const char *mount_label = cfg->linux ? cfg->linux->mount_label : NULL;
  bool selinux = (p && p->selinux_label && p->selinux_label[0]) || (mount_label && mount_label[0]);
  if (selinux && is_selinux_enabled() <= 0) {
    const char *field =
      p && p->selinux_label && p->selinux_label[0] ? "process.selinuxLabel" : "linux.mountLabel";
    return kist_fail(err, 0, "%s: SELinux is not enabled on this host", field);
  }
  if (p && p->apparmor_profile && p->apparmor_profile[0] && !apparmor_enabled())
    return kist_fail(err, 0, "process.apparmorProfile: AppArmor is not enabled on this host");
  return 0;
}

/* Newer kernels have a per-LSM attr directory; /proc/self/attr/exec is the
 * shared one older kernels use. */
static int apparmor_exec(const char *profile, kist_error_t *err)
{
  cleanup_free char *data = xasprintf("exec %s", profile);
  static const char *const files[] = {"/proc/self/attr/apparmor/exec", "/proc/self/attr/exec"};
  int e = 0;
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    int fd = open(files[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      e = errno;
      if (e == ENOENT)
        continue;
      return kist_fail(err, e, "process.apparmorProfile: open %s", files[i]);
    }
    int r = write_all(fd, data, strlen(data));
    e = errno;
    close(fd);
    if (r < 0)
      return kist_fail(err, e, "process.apparmorProfile: set profile %s", profile);
    return 0;
  }
  return kist_fail(err, e, "process.apparmorProfile: no /proc/self/attr/exec to set %s", profile);
}

int kist_lsm_set_exec_label(const oci_config_process *p, kist_error_t *err)
{
  if (p == NULL)
    return 0;
  if (p->selinux_label && p->selinux_label[0]) {
    /* Checked by kist_lsm_validate in the parent; here, after pivot_root,
     * selinuxfs may not be visible, so just ask the kernel. */
    if (setexeccon(p->selinux_label) < 0)
      return kist_fail(err, errno, "process.selinuxLabel: set exec label %s", p->selinux_label);
  }
  if (p->apparmor_profile && p->apparmor_profile[0])
    return apparmor_exec(p->apparmor_profile, err);
  return 0;
}
