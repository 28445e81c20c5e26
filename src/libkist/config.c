/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

int kist_config_bundle_check(const char *bundle, kist_error_t *err)
{
  if (bundle[0] == '\0')
    return kist_fail(err, 0, "--bundle: empty path");
  return 0;
}

int kist_config_load_raw(const char *bundle, oci_config **out, char **raw, size_t *rawlen,
                         kist_error_t *err)
{
  if (kist_config_bundle_check(bundle, err) < 0)
    return -1;
  cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return kist_fail(err, errno, "bundle %s", bundle);
  cleanup_free char *data = NULL;
  cleanup_free char *what =
    xasprintf("%s%sconfig.json", bundle, bundle[strlen(bundle) - 1] == '/' ? "" : "/");
  size_t len = 0;
  if (read_input_file_at(dfd, "config.json", what, &data, &len, err) < 0)
    return -1;
  char *msg = NULL;
  /* "config.json" as the source: the bundle path is known to the caller, and
   * short messages fit the one-line rule. */
  if (oci_config_parse_data(data, len, "config.json", out, &msg) < 0)
    return kist_fail_take(err, EINVAL, msg);
  if (raw) {
    *raw = data;
    data = NULL;
    *rawlen = len;
  }
  return 0;
}

int kist_config_load(const char *bundle, oci_config **out, kist_error_t *err)
{
  return kist_config_load_raw(bundle, out, NULL, NULL, err);
}
