/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every list here must name only what kist really implements: containerd and
 * Podman decide what to ask of us from it. Lists owned by a module come from
 * that module's table so they cannot drift. */
#include <string.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <yajl/yajl_gen.h>

#include "features.h"
#include "mounts.h"
#include "seccomp.h"
#include "util.h"

static void gen_str(yajl_gen g, const char *s)
{
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_strv(yajl_gen g, const char *key, const char *const *v, size_t n)
{
  gen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_str(g, v[i]);
  yajl_gen_array_close(g);
}

/* A NULL-terminated name table, filtered by what this host supports. */
static void gen_names(yajl_gen g, const char *key, const char *const *v,
                      bool (*supported)(const char *))
{
  gen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; v[i]; i++)
    if (supported == NULL || supported(v[i]))
      gen_str(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_enabled(yajl_gen g, const char *key, bool on)
{
  gen_str(g, key);
  yajl_gen_map_open(g);
  gen_str(g, "enabled");
  yajl_gen_bool(g, on);
  yajl_gen_map_close(g);
}

static const char *const hook_names[] = {"prestart",       "createRuntime", "createContainer",
                                         "startContainer", "poststart",     "poststop"};

static const char *const namespace_names[] = {"cgroup", "ipc",  "mount", "network",
                                              "pid",    "time", "user",  "uts"};

static void gen_capabilities(yajl_gen g)
{
  gen_str(g, "capabilities");
  yajl_gen_array_open(g);
  /* Every capability libcap and this kernel know, by its CAP_ name. */
  for (cap_value_t c = 0; c <= CAP_LAST_CAP || cap_valid(c); c++) {
    char *name = cap_to_name(c);
    if (name == NULL)
      break;
    if (name[0] >= '0' && name[0] <= '9') { /* unnamed: newer than libcap */
      cap_free(name);
      break;
    }
    cleanup_free char *upper = xasprintf("%s", name);
    for (char *p = upper; *p; p++)
      *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    gen_str(g, upper);
    cap_free(name);
  }
  yajl_gen_array_close(g);
}

int kist_features_json(char **json, kist_error_t *err)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_config(g, yajl_gen_beautify, 1);
  yajl_gen_config(g, yajl_gen_indent_string, "    ");
  yajl_gen_map_open(g);
  gen_str(g, "ociVersionMin");
  gen_str(g, "1.0.0");
  gen_str(g, "ociVersionMax");
  gen_str(g, KIST_SPEC_VERSION);
  gen_strv(g, "hooks", hook_names, ARRAY_SIZE(hook_names));
  size_t n_mount_options = 0;
  while (kist_mount_option_names[n_mount_options])
    n_mount_options++;
  /* The list mounts.c parses, so the two cannot drift apart. */
  gen_strv(g, "mountOptions", kist_mount_option_names, n_mount_options);

  gen_str(g, "annotations");
  yajl_gen_map_open(g);
  gen_str(g, "io.github.kist.version");
  gen_str(g, PACKAGE_VERSION);
  gen_str(g, "io.github.kist.commit");
  gen_str(g, KIST_COMMIT);
  const struct scmp_version *sv = seccomp_version();
  cleanup_free char *scv = xasprintf("%u.%u.%u", sv->major, sv->minor, sv->micro);
  gen_str(g, "io.github.seccomp.libseccomp.version");
  gen_str(g, scv);
  yajl_gen_map_close(g);
  gen_strv(g, "potentiallyUnsafeConfigAnnotations", NULL, 0);

  gen_str(g, "linux");
  yajl_gen_map_open(g);
  gen_strv(g, "namespaces", namespace_names, ARRAY_SIZE(namespace_names));
  gen_capabilities(g);

  gen_str(g, "cgroup");
  yajl_gen_map_open(g);
  gen_str(g, "v1");
  yajl_gen_bool(g, 1);
  gen_str(g, "v2");
  yajl_gen_bool(g, 1);
  gen_str(g, "systemd");
  yajl_gen_bool(g, 0);
  gen_str(g, "systemdUser");
  yajl_gen_bool(g, 0);
  gen_str(g, "rdma");
  yajl_gen_bool(g, 0);
  yajl_gen_map_close(g);

  gen_str(g, "seccomp");
  yajl_gen_map_open(g);
  gen_str(g, "enabled");
  yajl_gen_bool(g, 1);
  gen_names(g, "actions", kist_seccomp_actions, NULL);
  gen_names(g, "operators", kist_seccomp_operators, NULL);
  gen_names(g, "archs", kist_seccomp_archs, kist_seccomp_arch_supported);
  gen_names(g, "knownFlags", kist_seccomp_flags, NULL);
  gen_names(g, "supportedFlags", kist_seccomp_flags, kist_seccomp_flag_supported);
  yajl_gen_map_close(g);

  gen_enabled(g, "apparmor", true);
  gen_enabled(g, "selinux", true);
  gen_enabled(g, "intelRdt", false);
  gen_str(g, "mountExtensions");
  yajl_gen_map_open(g);
  gen_enabled(g, "idmap", true);
  yajl_gen_map_close(g);
  gen_enabled(g, "netDevices", true);
  yajl_gen_map_close(g);

  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
    yajl_gen_free(g);
    return kist_fail(err, 0, "features: JSON generation failed");
  }
  *json = xstrndup((const char *)buf, len);
  yajl_gen_free(g);
  return 0;
}
