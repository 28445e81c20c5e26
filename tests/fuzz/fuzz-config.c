/* libFuzzer target for libocispec: every input is parsed as config, state
 * and features.  A document that parses must generate, reparse to an equal
 * model, and generate the same text again; a rejected one must come with a
 * one-line error.  Built and run by tests/fuzz/run.sh.
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz-config: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

#define CHECK_TYPE(T)                                                                              \
  static void check_##T(const char *data, size_t size)                                             \
  {                                                                                                \
    oci_##T *v = NULL, *v2 = NULL;                                                                 \
    char *err = NULL, *json = NULL, *json2 = NULL;                                                 \
    if (oci_##T##_parse_data(data, size, "fuzz.json", &v, &err) < 0) {                             \
      if (v != NULL)                                                                               \
        fail(#T ": failed parse returned a model", NULL);                                          \
      if (err == NULL || *err == '\0' || strchr(err, '\n') != NULL ||                              \
          strncmp(err, "fuzz.json:", 10) != 0)                                                     \
        fail(#T ": bad error message", err);                                                       \
      free(err);                                                                                   \
      return;                                                                                      \
    }                                                                                              \
    if (v == NULL || err != NULL)                                                                  \
      fail(#T ": success without a model, or with a message", err);                                \
    if (oci_##T##_generate_json(v, &json, &err) < 0)                                               \
      fail(#T ": generate failed", err);                                                           \
    if (oci_##T##_parse_data(json, strlen(json), "gen.json", &v2, &err) < 0)                       \
      fail(#T ": generated JSON does not parse", err);                                             \
    if (!oci_##T##_equal(v, v2) || !oci_##T##_equal(v2, v))                                        \
      fail(#T ": round trip changed the model", json);                                             \
    if (oci_##T##_generate_json(v2, &json2, &err) < 0 || strcmp(json, json2) != 0)                 \
      fail(#T ": generation is not stable", json);                                                 \
    free(json);                                                                                    \
    free(json2);                                                                                   \
    free_oci_##T(v);                                                                               \
    free_oci_##T(v2);                                                                              \
  }

CHECK_TYPE(config)
CHECK_TYPE(state)
CHECK_TYPE(features)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_config((const char *)data, size);
  check_state((const char *)data, size);
  check_features((const char *)data, size);
  return 0;
}
