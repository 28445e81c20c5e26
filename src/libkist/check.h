/* `kist check`: lint a bundle without running anything.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef KIST_CHECK_H
#define KIST_CHECK_H

#include "context.h"
#include "error.h"

/* Reports each problem through report() (one line each) and returns the
 * number of problems, or -1 with *err set when the bundle cannot be read. */
int kist_check_bundle(const struct kist_context *ctx, const char *bundle,
                      void (*report)(const char *problem, void *data), void *data,
                      kist_error_t *err);

#endif
