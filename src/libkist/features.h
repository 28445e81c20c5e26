/* `kist features`: what this build implements, as runtime-spec features JSON.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_FEATURES_H
#define KIST_FEATURES_H

#include "error.h"

int kist_features_json(char **json, kist_error_t *err);

#endif
