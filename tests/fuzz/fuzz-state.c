/* libFuzzer target for the state store's reader (state.c): every input is a
 * state.json in a scratch state directory. kist_state_load must not crash on
 * it; what it loads must survive kist_state_save + kist_state_load unchanged;
 * and the JSON kist prints for it (`kist state`, and hooks' stdin) must be
 * valid JSON. Built and run by tests/fuzz/run.sh.
 *
 * Copyright (C) kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "state.h"
#include "util.h"

static int dirfd_ = -1;
static char dir_[64];

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz-state: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

static void cleanup(void)
{
  unlinkat(dirfd_, "state.json", 0);
  rmdir(dir_);
}

static void setup(void)
{
  snprintf(dir_, sizeof dir_, "/tmp/kist-fuzz-state.XXXXXX");
  if (mkdtemp(dir_) == NULL)
    fail("mkdtemp", NULL);
  dirfd_ = open(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd_ < 0)
    fail("open the scratch dir", dir_);
  atexit(cleanup);
}

static void write_state(const uint8_t *data, size_t size)
{
  int fd = openat(dirfd_, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || (size && write_all(fd, data, size) < 0))
    fail("write state.json", NULL);
  close(fd);
}

static bool same_str(const char *a, const char *b)
{
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static void check_json(const char *json, const char *what)
{
  char ebuf[256];
  yajl_val v = yajl_tree_parse(json, ebuf, sizeof ebuf);
  if (v == NULL || !YAJL_IS_OBJECT(v))
    fail(what, json);
  yajl_tree_free(v);
}

static void check_same(const struct kist_state *a, const struct kist_state *b)
{
  if (!same_str(a->id, b->id) || !same_str(a->bundle, b->bundle) ||
      !same_str(a->rootfs, b->rootfs) || !same_str(a->created, b->created))
    fail("a string changed in save + load", a->bundle);
  if (a->pid != b->pid || a->starttime != b->starttime || a->owner != b->owner ||
      a->flags != b->flags)
    fail("a number changed in save + load", NULL);
  if (a->status != b->status)
    fail("the status changed in save + load", kist_status_name(a->status));
  if (a->ann_len != b->ann_len)
    fail("annotations changed in save + load", NULL);
  for (size_t i = 0; i < a->ann_len; i++)
    if (!same_str(a->ann_keys[i], b->ann_keys[i]) || !same_str(a->ann_values[i], b->ann_values[i]))
      fail("an annotation changed in save + load", a->ann_keys[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (dirfd_ < 0)
    setup();
  write_state(data, size);
  struct kist_state st, again;
  kist_error_t err = NULL;
  if (kist_state_load(dirfd_, "fuzz", &st, &err) < 0) {
    const char *m = kist_error_message(err);
    if (m == NULL || *m == '\0' || strchr(m, '\n'))
      fail("bad error message", m);
    kist_error_release(&err);
    kist_state_clear(&st);
    return 0;
  }
  /* A state that loads is one kist would act on: what it prints must be
   * JSON, for people and for hooks alike. */
  for (int s = KIST_STATUS_CREATING; s <= KIST_STATUS_STOPPED; s++) {
    char *j = kist_state_json(&st, (enum kist_status)s, false);
    check_json(j, "kist state printed invalid JSON");
    free(j);
    j = kist_state_json(&st, (enum kist_status)s, true);
    check_json(j, "the hooks' state is invalid JSON");
    free(j);
  }
  /* "creating" is the status of a dir without state.json: it is never
   * written, so it does not round-trip. */
  if (st.status != KIST_STATUS_CREATING) {
    if (kist_state_save(dirfd_, &st, &err) < 0)
      fail("save", kist_error_message(err));
    if (kist_state_load(dirfd_, "fuzz", &again, &err) < 0)
      fail("a saved state does not load", kist_error_message(err));
    check_same(&st, &again);
    kist_state_clear(&again);
  }
  kist_state_clear(&st);
  return 0;
}
