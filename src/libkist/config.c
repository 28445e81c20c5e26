/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

int kist_config_load(const char *bundle, oci_config **out, kist_error_t *err)
{
  cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return kist_fail(err, errno, "bundle %s", bundle);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_file_at(dfd, "config.json", &data, &len, err) < 0)
    return -1;
  char *msg = NULL;
  /* "config.json" as the source: the bundle path is known to the caller, and
   * short messages fit the one-line rule. */
  if (oci_config_parse_data(data, len, "config.json", out, &msg) < 0)
    return kist_fail_take(err, EINVAL, msg);
  return 0;
}
