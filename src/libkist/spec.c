/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"
#include "util.h"

/* Shared by both variants; %s slots: namespaces, extra mounts, linux extras. */
static const char spec_template[] =
  "{\n"
  "  \"ociVersion\": \"1.3.0\",\n"
  "  \"process\": {\n"
  "    \"terminal\": true,\n"
  "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
  "    \"args\": [ \"sh\" ],\n"
  "    \"env\": [\n"
  "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
  "      \"TERM=xterm\"\n"
  "    ],\n"
  "    \"cwd\": \"/\",\n"
  "    \"capabilities\": {\n"
  "      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
  "      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
  "      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
  "    },\n"
  "    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
  "    \"noNewPrivileges\": true\n"
  "  },\n"
  "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
  "  \"hostname\": \"kist\",\n"
  "  \"mounts\": [\n"
  "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
  "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
  "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
  "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
  "\"mode=0620\"%s ] },\n"
  "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
  "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
  "%s"
  "  ],\n"
  "  \"linux\": {\n"
  "%s"
  "    \"namespaces\": [\n"
  "%s"
  "    ],\n"
  "    \"maskedPaths\": [\n"
  "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", "
  "\"/proc/latency_stats\",\n"
  "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/proc/scsi\",\n"
  "      \"/sys/firmware\", \"/sys/devices/virtual/powercap\"\n"
  "    ],\n"
  "    \"readonlyPaths\": [\n"
  "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
  "    ]\n"
  "  }\n"
  "}\n";

static const char root_sys_mounts[] =
  "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
  "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n";

/* Without privilege a fresh sysfs cannot be mounted (no own net ns): bind the host's. */
static const char rootless_sys_mounts[] =
  "    { \"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\",\n"
  "      \"options\": [ \"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] }\n";

static const char root_namespaces[] = "      { \"type\": \"pid\" },\n"
                                      "      { \"type\": \"network\" },\n"
                                      "      { \"type\": \"ipc\" },\n"
                                      "      { \"type\": \"uts\" },\n"
                                      "      { \"type\": \"mount\" },\n"
                                      "      { \"type\": \"cgroup\" }\n";

static const char rootless_namespaces[] = "      { \"type\": \"pid\" },\n"
                                          "      { \"type\": \"ipc\" },\n"
                                          "      { \"type\": \"uts\" },\n"
                                          "      { \"type\": \"mount\" },\n"
                                          "      { \"type\": \"cgroup\" },\n"
                                          "      { \"type\": \"user\" }\n";

static const char root_linux_extra[] =
  "    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n";

char *kist_spec_default(bool rootless, uid_t uid, gid_t gid)
{
  if (!rootless)
    return xasprintf(spec_template, ", \"gid=5\"", root_sys_mounts, root_linux_extra,
                     root_namespaces);
  cleanup_free char *maps =
    xasprintf("    \"uidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n"
              "    \"gidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n",
              (unsigned)uid, (unsigned)gid);
  /* devpts gid=5 needs gid 5 mapped: a single-id map has only 0. */
  return xasprintf(spec_template, "", rootless_sys_mounts, maps, rootless_namespaces);
}

int kist_spec_write(const char *bundle, bool rootless, kist_error_t *err)
{
  cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return kist_fail(err, errno, "bundle %s", bundle);
  cleanup_free char *json = kist_spec_default(rootless, getuid(), getgid());
  /* O_EXCL: never overwrite a config someone wrote. */
  cleanup_close int fd = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return kist_fail(err, 0, "%s/config.json already exists; remove it first", bundle);
  if (fd < 0)
    return kist_fail(err, errno, "create %s/config.json", bundle);
  if (write_all(fd, json, strlen(json)) < 0) {
    int e = errno;
    unlinkat(dfd, "config.json", 0);
    return kist_fail(err, e, "write %s/config.json", bundle);
  }
  return 0;
}
