/* libocispec support code, see json.h.

   Copyright (C) the kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* vasprintf */
#endif

#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* Deeper documents are rejected: converting, copying and freeing recurse.  */
#define OCI_JSON_MAX_DEPTH 512

/* ---- allocation --------------------------------------------------------- */

static void oom(void)
{
  fputs("libocispec: out of memory\n", stderr);
  abort();
}

void *oci_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

void *oci_xcalloc(size_t n, size_t size)
{
  /* Never returns NULL, even for n == 0: callers use "pointer != NULL" to
     mean "array present".  */
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom();
  return p;
}

void *oci_xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (p == NULL)
    oom();
  return p;
}

char *oci_xstrndup(const char *s, size_t n)
{
  char *r = oci_xmalloc(n + 1);
  memcpy(r, s, n);
  r[n] = '\0';
  return r;
}

char *oci_xstrdup(const char *s)
{
  return oci_xstrndup(s, strlen(s));
}

bool oci_str_equal(const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

/* ---- the tree ----------------------------------------------------------- */

const char *oci_json_type_name(oci_json_type t)
{
  switch (t) {
  case OCI_JSON_NULL:
    return "null";
  case OCI_JSON_BOOL:
    return "boolean";
  case OCI_JSON_NUMBER:
    return "number";
  case OCI_JSON_STRING:
    return "string";
  case OCI_JSON_ARRAY:
    return "array";
  case OCI_JSON_OBJECT:
    return "object";
  }
  return "?";
}

void oci_json_free(oci_json *j)
{
  size_t i;

  if (j == NULL)
    return;
  for (i = 0; i < j->len; i++) {
    if (j->keys)
      free(j->keys[i]);
    oci_json_free(j->values[i]);
  }
  free(j->keys);
  free(j->values);
  free(j->str);
  free(j);
}

static oci_json *json_new(oci_json_type t)
{
  oci_json *j = oci_xcalloc(1, sizeof *j);
  j->type = t;
  return j;
}

/* Append VAL (and KEY for objects, copied) to the container J.  */
static void json_append(oci_json *j, const char *key, size_t key_len, oci_json *val)
{
  if (j->len == j->cap) {
    j->cap = j->cap ? j->cap * 2 : 4;
    j->values = oci_xrealloc(j->values, j->cap * sizeof *j->values);
    if (j->type == OCI_JSON_OBJECT)
      j->keys = oci_xrealloc(j->keys, j->cap * sizeof *j->keys);
  }
  if (j->type == OCI_JSON_OBJECT)
    j->keys[j->len] = oci_xstrndup(key, key_len);
  j->values[j->len++] = val;
}

oci_json *oci_json_copy(const oci_json *j)
{
  oci_json *r;
  size_t i;

  if (j == NULL)
    return NULL;
  r = json_new(j->type);
  r->line = j->line;
  r->col = j->col;
  r->boolean = j->boolean;
  if (j->str) {
    r->str = oci_xstrndup(j->str, j->str_len);
    r->str_len = j->str_len;
  }
  for (i = 0; i < j->len; i++)
    json_append(r, j->keys ? j->keys[i] : NULL, j->keys ? strlen(j->keys[i]) : 0,
                oci_json_copy(j->values[i]));
  return r;
}

bool oci_json_equal(const oci_json *a, const oci_json *b)
{
  size_t i;

  if (a == NULL || b == NULL)
    return a == b;
  if (a->type != b->type || a->len != b->len)
    return false;
  switch (a->type) {
  case OCI_JSON_NULL:
    return true;
  case OCI_JSON_BOOL:
    return a->boolean == b->boolean;
  case OCI_JSON_NUMBER:
  case OCI_JSON_STRING:
    return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
  case OCI_JSON_ARRAY:
  case OCI_JSON_OBJECT:
    for (i = 0; i < a->len; i++) {
      if (a->type == OCI_JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0)
        return false;
      if (!oci_json_equal(a->values[i], b->values[i]))
        return false;
    }
    return true;
  }
  return false;
}

/* The first failure while emitting (the emitters return nothing, so that
   the generated code stays simple); checked by oci_generate_top.  */
static __thread yajl_gen_status gen_status;

static yajl_gen_status gen_check(yajl_gen_status st)
{
  if (st != yajl_gen_status_ok && gen_status == yajl_gen_status_ok)
    gen_status = st;
  return st;
}

yajl_gen_status oci_json_gen(yajl_gen g, const oci_json *j)
{
  yajl_gen_status st = yajl_gen_status_ok;
  size_t i;

  if (j == NULL)
    return yajl_gen_null(g);
  switch (j->type) {
  case OCI_JSON_NULL:
    return yajl_gen_null(g);
  case OCI_JSON_BOOL:
    return yajl_gen_bool(g, j->boolean);
  case OCI_JSON_NUMBER:
    return gen_check(yajl_gen_number(g, j->str, j->str_len));
  case OCI_JSON_STRING:
    return gen_check(yajl_gen_string(g, (const unsigned char *)j->str, j->str_len));
  case OCI_JSON_ARRAY:
    yajl_gen_array_open(g);
    for (i = 0; i < j->len && st == yajl_gen_status_ok; i++)
      st = oci_json_gen(g, j->values[i]);
    yajl_gen_array_close(g);
    return st;
  case OCI_JSON_OBJECT:
    yajl_gen_map_open(g);
    oci_unknown_gen(g, j);
    return yajl_gen_map_close(g);
  }
  return yajl_gen_status_ok;
}

void oci_unknown_add(oci_json **u, const char *key, const oci_json *val)
{
  if (*u == NULL)
    *u = json_new(OCI_JSON_OBJECT);
  json_append(*u, key, strlen(key), oci_json_copy(val));
}

void oci_unknown_gen(yajl_gen g, const oci_json *u)
{
  size_t i;

  if (u == NULL)
    return;
  for (i = 0; i < u->len; i++) {
    oci_gen_key(g, u->keys[i]);
    oci_json_gen(g, u->values[i]);
  }
}

/* ---- building the tree with yajl's callback parser ---------------------- */

struct builder {
  yajl_handle h;
  const char *data;
  size_t len;
  oci_json *root;
  oci_json **stack; /* open containers */
  size_t depth, stack_cap;
  char *key; /* pending member name */
  size_t key_len;
  size_t prev_end; /* offset just past the previous token */
  bool completing; /* inside yajl_complete_parse: offsets are not ours */
  bool too_deep;
  bool bad_key; /* a member name with a NUL character: we cannot keep it */
  /* Incremental offset -> line/column.  */
  size_t cur_pos;
  unsigned int cur_line, cur_col;
};

/* Offset of the first byte of the current token: skip what yajl consumed
   silently (white space and separators) after the previous token.  */
static size_t token_start(struct builder *b)
{
  size_t p = b->prev_end;
  while (p < b->len && strchr(" \t\r\n,:", b->data[p]) != NULL && b->data[p] != '\0')
    p++;
  return p;
}

static void pos_to_linecol(struct builder *b, size_t pos, unsigned int *line, unsigned int *col)
{
  if (pos < b->cur_pos) {
    b->cur_pos = 0;
    b->cur_line = 1;
    b->cur_col = 1;
  }
  for (; b->cur_pos < pos && b->cur_pos < b->len; b->cur_pos++) {
    if (b->data[b->cur_pos] == '\n') {
      b->cur_line++;
      b->cur_col = 1;
    } else
      b->cur_col++;
  }
  *line = b->cur_line;
  *col = b->cur_col;
}

/* Attach a new node to the tree; containers are also pushed.  */
static int add_node(struct builder *b, oci_json *n, bool container)
{
  size_t start = token_start(b);

  pos_to_linecol(b, start, &n->line, &n->col);
  b->prev_end = b->completing ? b->len : yajl_get_bytes_consumed(b->h);
  if (b->prev_end < start)
    b->prev_end = start;

  if (b->depth == 0) {
    if (b->root != NULL) {
      oci_json_free(n);
      return 0;
    }
    b->root = n;
  } else {
    oci_json *parent = b->stack[b->depth - 1];
    json_append(parent, b->key, b->key_len, n);
    free(b->key);
    b->key = NULL;
  }
  if (container) {
    if (b->depth >= OCI_JSON_MAX_DEPTH) {
      b->too_deep = true;
      return 0;
    }
    if (b->depth == b->stack_cap) {
      b->stack_cap = b->stack_cap ? b->stack_cap * 2 : 16;
      b->stack = oci_xrealloc(b->stack, b->stack_cap * sizeof *b->stack);
    }
    b->stack[b->depth++] = n;
  }
  return 1;
}

static int cb_null(void *ctx)
{
  return add_node(ctx, json_new(OCI_JSON_NULL), false);
}

static int cb_boolean(void *ctx, int v)
{
  oci_json *n = json_new(OCI_JSON_BOOL);
  n->boolean = v != 0;
  return add_node(ctx, n, false);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
  oci_json *n = json_new(OCI_JSON_NUMBER);
  n->str = oci_xstrndup(s, len);
  n->str_len = len;
  return add_node(ctx, n, false);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
  oci_json *n = json_new(OCI_JSON_STRING);
  n->str = oci_xstrndup((const char *)s, len);
  n->str_len = len;
  return add_node(ctx, n, false);
}

static int cb_start_map(void *ctx)
{
  return add_node(ctx, json_new(OCI_JSON_OBJECT), true);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  if (memchr(s, '\0', len) != NULL) {
    b->bad_key = true;
    return 0;
  }
  free(b->key);
  b->key = oci_xstrndup((const char *)s, len);
  b->key_len = len;
  b->prev_end = b->completing ? b->len : yajl_get_bytes_consumed(b->h);
  return 1;
}

static int cb_end(void *ctx)
{
  struct builder *b = ctx;
  if (b->depth > 0)
    b->depth--;
  b->prev_end = b->completing ? b->len : yajl_get_bytes_consumed(b->h);
  return 1;
}

static int cb_start_array(void *ctx)
{
  return add_node(ctx, json_new(OCI_JSON_ARRAY), true);
}

static const yajl_callbacks callbacks = {
  .yajl_null = cb_null,
  .yajl_boolean = cb_boolean,
  .yajl_number = cb_number,
  .yajl_string = cb_string,
  .yajl_start_map = cb_start_map,
  .yajl_map_key = cb_map_key,
  .yajl_end_map = cb_end,
  .yajl_start_array = cb_start_array,
  .yajl_end_array = cb_end,
};

/* Copy MSG onto one line, without trailing white space.  */
static char *one_line(const char *msg)
{
  char *r = oci_xstrdup(msg), *p;
  size_t n;

  for (p = r; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  n = strlen(r);
  while (n > 0 && r[n - 1] == ' ')
    r[--n] = '\0';
  return r;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  char *r;

  va_start(ap, fmt);
  if (vasprintf(&r, fmt, ap) < 0)
    oom();
  va_end(ap);
  return r;
}

int oci_json_parse(const char *data, size_t len, const char *source, oci_json **out, char **errp)
{
  struct builder b;
  yajl_status st;
  int ret = 0;

  memset(&b, 0, sizeof b);
  b.data = data;
  b.len = len;
  b.cur_line = b.cur_col = 1;
  b.h = yajl_alloc(&callbacks, NULL, &b);
  if (b.h == NULL)
    oom();

  st = yajl_parse(b.h, (const unsigned char *)data, len);
  if (st == yajl_status_ok) {
    b.completing = true;
    st = yajl_complete_parse(b.h);
  }
  if (st != yajl_status_ok) {
    unsigned int line, col;
    char *msg;
    size_t pos;

    /* Point at the token that failed: it starts after the last good one.  */
    pos = token_start(&b);
    pos_to_linecol(&b, pos, &line, &col);
    if (b.too_deep)
      msg = oci_xstrdup("nesting too deep");
    else if (b.bad_key)
      msg = oci_xstrdup("property name contains a NUL character");
    else {
      unsigned char *e = yajl_get_error(b.h, 0, (const unsigned char *)data, len);
      msg = one_line(e ? (const char *)e : "parse error");
      if (e)
        yajl_free_error(b.h, e);
    }
    if (errp)
      *errp = xasprintf("%s:%u:%u: invalid JSON: %s", source, line, col, msg);
    free(msg);
    oci_json_free(b.root);
    b.root = NULL;
    ret = -1;
  } else if (b.root == NULL) {
    if (errp)
      *errp = xasprintf("%s:1:1: invalid JSON: empty document", source);
    ret = -1;
  }
  yajl_free(b.h);
  free(b.stack);
  free(b.key);
  *out = b.root;
  return ret;
}

/* ---- parse context, paths and errors ------------------------------------ */

void oci_pctx_init(oci_pctx *c, const char *source)
{
  memset(c, 0, sizeof *c);
  c->source = source;
  c->path_cap = 64;
  c->path = oci_xmalloc(c->path_cap);
  c->path[0] = '\0';
}

void oci_pctx_fini(oci_pctx *c)
{
  free(c->path);
  free(c->err);
  c->path = c->err = NULL;
}

static void path_append(oci_pctx *c, const char *s, size_t n)
{
  if (c->path_len + n + 1 > c->path_cap) {
    while (c->path_len + n + 1 > c->path_cap)
      c->path_cap *= 2;
    c->path = oci_xrealloc(c->path, c->path_cap);
  }
  memcpy(c->path + c->path_len, s, n);
  c->path_len += n;
  c->path[c->path_len] = '\0';
}

size_t oci_path_key(oci_pctx *c, const char *key)
{
  size_t saved = c->path_len;
  if (c->path_len > 0)
    path_append(c, ".", 1);
  path_append(c, key, strlen(key));
  return saved;
}

size_t oci_path_index(oci_pctx *c, size_t i)
{
  /* every array element passes here: digits by hand, not snprintf */
  size_t saved = c->path_len;
  char buf[3 * sizeof i + 3], *p = buf + sizeof buf;
  *--p = ']';
  do
    *--p = (char)('0' + i % 10);
  while ((i /= 10) != 0);
  *--p = '[';
  path_append(c, p, (size_t)(buf + sizeof buf - p));
  return saved;
}

void oci_path_restore(oci_pctx *c, size_t saved)
{
  c->path_len = saved;
  c->path[saved] = '\0';
}

/* Make any text printable on one line, quoted, cut at 64 bytes.  */
static char *quote(const char *s, size_t len)
{
  size_t i, n = len > 64 ? 64 : len;
  char *r = oci_xmalloc(n * 4 + 8), *p = r;

  *p++ = '"';
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      *p++ = '\\';
      *p++ = (char)ch;
    } else if (ch < 0x20 || ch == 0x7f)
      p += sprintf(p, "\\x%02x", ch);
    else
      *p++ = (char)ch;
  }
  *p++ = '"';
  if (n < len)
    p += sprintf(p, "...");
  *p = '\0';
  return r;
}

int oci_fail(oci_pctx *c, const oci_json *at, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  if (c->err != NULL)
    return -1;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    oom();
  va_end(ap);
  c->err = xasprintf("%s:%u:%u: %s: %s", c->source, at ? at->line : 1, at ? at->col : 1,
                     c->path_len ? c->path : "(root)", msg);
  free(msg);
  return -1;
}

int oci_fail_missing(oci_pctx *c, const oci_json *obj, const char *prop)
{
  oci_path_key(c, prop);
  return oci_fail(c, obj, "required property missing");
}

struct key_ref {
  const char *key;
  size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
  const struct key_ref *x = a, *y = b;
  int r = strcmp(x->key, y->key);
  if (r != 0)
    return r;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Index of the first member whose name was already used, or N->len.  */
static size_t first_duplicate(const oci_json *n)
{
  struct key_ref *refs;
  size_t i, j, first = n->len;

  if (n->len <= 16) {
    for (i = 1; i < n->len; i++)
      for (j = 0; j < i; j++)
        if (strcmp(n->keys[i], n->keys[j]) == 0)
          return i;
    return n->len;
  }
  /* Large objects: sort, so that hostile input stays O(n log n).  */
  refs = oci_xcalloc(n->len, sizeof *refs);
  for (i = 0; i < n->len; i++) {
    refs[i].key = n->keys[i];
    refs[i].idx = i;
  }
  qsort(refs, n->len, sizeof *refs, key_ref_cmp);
  for (i = 1; i < n->len; i++)
    if (strcmp(refs[i].key, refs[i - 1].key) == 0 && refs[i].idx < first)
      first = refs[i].idx;
  free(refs);
  return first;
}

int oci_expect_object(oci_pctx *c, const oci_json *n, bool is_map)
{
  size_t i;

  if (oci_expect(c, n, OCI_JSON_OBJECT) < 0)
    return -1;
  /* Two readers of one document must never see different values.  */
  i = first_duplicate(n);
  if (i < n->len) {
    oci_path_key(c, n->keys[i]);
    return oci_fail(c, n->values[i], "duplicate property");
  }
  /* The spec forbids empty keys in annotations; no map has a use for one.  */
  if (is_map)
    for (i = 0; i < n->len; i++)
      if (n->keys[i][0] == '\0')
        return oci_fail(c, n->values[i], "empty property name");
  return 0;
}

/* The JSON type of N for messages; integral numbers are "integer".  */
static const char *got_name(const oci_json *n)
{
  if (n->type == OCI_JSON_NUMBER && strpbrk(n->str, ".eE") == NULL)
    return "integer";
  return oci_json_type_name(n->type);
}

int oci_expect(oci_pctx *c, const oci_json *n, oci_json_type t)
{
  if (n->type == t)
    return 0;
  return oci_fail(c, n, "expected %s, got %s", oci_json_type_name(t), got_name(n));
}

int oci_read_string(oci_pctx *c, const oci_json *n, char **out)
{
  if (oci_expect(c, n, OCI_JSON_STRING) < 0)
    return -1;
  /* Our model has C strings: refuse rather than silently truncate.  */
  if (strlen(n->str) != n->str_len)
    return oci_fail(c, n, "string contains a NUL character");
  free(*out);
  *out = oci_xstrdup(n->str);
  return 0;
}

int oci_read_bool(oci_pctx *c, const oci_json *n, bool *out)
{
  if (oci_expect(c, n, OCI_JSON_BOOL) < 0)
    return -1;
  *out = n->boolean;
  return 0;
}

/* Split an integer's raw text into sign and magnitude.  Returns 0, or -1 if
   it has a fraction/exponent, or -2 if the magnitude exceeds 2^64-1.  */
static int split_integer(const char *s, bool *neg, uint64_t *mag)
{
  uint64_t v = 0;

  *neg = *s == '-';
  if (*neg)
    s++;
  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    unsigned d;
    if (*s < '0' || *s > '9')
      return -1;
    d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) {
      /* Still tell "1e5"-style non-integers from big integers.  */
      for (; *s; s++)
        if (*s < '0' || *s > '9')
          return -1;
      return -2;
    }
    v = v * 10 + d;
  }
  *mag = v;
  return 0;
}

static int expect_integer(oci_pctx *c, const oci_json *n, bool *neg, uint64_t *mag,
                          const char *what)
{
  int r;

  if (n->type != OCI_JSON_NUMBER)
    return oci_fail(c, n, "expected integer, got %s", got_name(n));
  r = split_integer(n->str, neg, mag);
  if (r == -1)
    return oci_fail(c, n, "expected integer, got number %s", n->str);
  if (r == -2)
    return oci_fail(c, n, "%s out of range for %s", n->str, what);
  return 0;
}

int oci_read_int(oci_pctx *c, const oci_json *n, int64_t min, int64_t max, const char *what,
                 int64_t *out)
{
  bool neg;
  uint64_t mag;
  int64_t v;

  if (expect_integer(c, n, &neg, &mag, what) < 0)
    return -1;
  if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
    return oci_fail(c, n, "%s out of range for %s", n->str, what);
  if (neg)
    v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  else
    v = (int64_t)mag;
  if (v < min || v > max)
    return oci_fail(c, n, "%s out of range for %s", n->str, what);
  *out = v;
  return 0;
}

int oci_read_uint(oci_pctx *c, const oci_json *n, uint64_t min, uint64_t max, const char *what,
                  uint64_t *out)
{
  bool neg;
  uint64_t mag;

  if (expect_integer(c, n, &neg, &mag, what) < 0)
    return -1;
  if (neg && mag == 0)
    neg = false; /* -0 */
  if (neg || mag < min || mag > max)
    return oci_fail(c, n, "%s out of range for %s", n->str, what);
  *out = mag;
  return 0;
}

int oci_read_map_string_string(oci_pctx *c, const oci_json *n, oci_map_string_string **out)
{
  oci_map_string_string *m;
  size_t i;

  if (oci_expect_object(c, n, true) < 0)
    return -1;
  free_oci_map_string_string(*out);
  m = *out = oci_xcalloc(1, sizeof *m);
  m->keys = oci_xcalloc(n->len, sizeof *m->keys);
  m->values = oci_xcalloc(n->len, sizeof *m->values);
  for (i = 0; i < n->len; i++) {
    size_t saved = oci_path_key(c, n->keys[i]);
    m->keys[i] = oci_xstrdup(n->keys[i]);
    m->len = i + 1;
    if (oci_read_string(c, n->values[i], &m->values[i]) < 0)
      return -1;
    oci_path_restore(c, saved);
  }
  return 0;
}

void free_oci_map_string_string(oci_map_string_string *m)
{
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->len; i++) {
    free(m->keys[i]);
    free(m->values[i]);
  }
  free(m->keys);
  free(m->values);
  free(m);
}

bool oci_map_string_string_equal(const oci_map_string_string *a, const oci_map_string_string *b)
{
  size_t i;

  if (a == NULL || b == NULL)
    return a == b;
  if (a->len != b->len)
    return false;
  for (i = 0; i < a->len; i++)
    if (!oci_str_equal(a->keys[i], b->keys[i]) || !oci_str_equal(a->values[i], b->values[i]))
      return false;
  return true;
}

const char *oci_map_string_string_get(const oci_map_string_string *m, const char *key)
{
  size_t i;

  if (m == NULL)
    return NULL;
  for (i = m->len; i > 0; i--)
    if (oci_str_equal(m->keys[i - 1], key))
      return m->values[i - 1];
  return NULL;
}

/* ---- checks ------------------------------------------------------------- */

int oci_check_enum(oci_pctx *c, const oci_json *n, const char *const *vals, size_t nvals)
{
  size_t i, total = 0;
  char *list, *q;

  for (i = 0; i < nvals; i++) {
    if (strcmp(n->str, vals[i]) == 0)
      return 0;
    total += strlen(vals[i]) + 2;
  }
  list = oci_xmalloc(total + 1);
  list[0] = '\0';
  for (i = 0; i < nvals; i++) {
    if (i > 0)
      strcat(list, ", ");
    strcat(list, vals[i]);
  }
  q = quote(n->str, n->str_len);
  oci_fail(c, n, "%s is not one of %s", q, list);
  free(q);
  free(list);
  return -1;
}

int oci_check_min_items(oci_pctx *c, const oci_json *n, size_t min)
{
  if (n->len >= min)
    return 0;
  return oci_fail(c, n, "expected at least %zu item%s, got %zu", min, min == 1 ? "" : "s", n->len);
}

/* SemVer 2.0.0: MAJOR.MINOR.PATCH, no leading zeros, optional
   -prerelease (dot-separated identifiers, numeric ones without leading
   zeros) and +build (dot-separated non-empty identifiers).  */
static bool semver_number(const char **sp, uint64_t *v)
{
  const char *s = *sp;
  uint64_t r = 0;

  if (*s < '0' || *s > '9')
    return false;
  if (*s == '0' && s[1] >= '0' && s[1] <= '9')
    return false;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (r > UINT64_MAX / 10 - 1)
      return false;
    r = r * 10 + (uint64_t)(*s - '0');
  }
  *sp = s;
  *v = r;
  return true;
}

static bool semver_idents(const char **sp, bool prerelease)
{
  const char *s = *sp;

  for (;;) {
    const char *start = s;
    bool numeric = true;
    for (; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
           *s == '-';
         s++)
      if (*s < '0' || *s > '9')
        numeric = false;
    if (s == start)
      return false;
    if (prerelease && numeric && *start == '0' && s - start > 1)
      return false;
    if (*s != '.')
      break;
    s++;
  }
  *sp = s;
  return true;
}

bool oci_version_ok(const char *s)
{
  uint64_t major, minor, patch;

  if (!semver_number(&s, &major) || *s++ != '.' || !semver_number(&s, &minor) || *s++ != '.' ||
      !semver_number(&s, &patch))
    return false;
  if (*s == '-') {
    s++;
    if (!semver_idents(&s, true))
      return false;
  }
  if (*s == '+') {
    s++;
    if (!semver_idents(&s, false))
      return false;
  }
  return *s == '\0' && major <= 1;
}

int oci_check_version(oci_pctx *c, const oci_json *n)
{
  char *q;

  if (strlen(n->str) == n->str_len && oci_version_ok(n->str))
    return 0;
  q = quote(n->str, n->str_len);
  oci_fail(c, n, "%s is not a supported version (need SemVer with major 1)", q);
  free(q);
  return -1;
}

/* The schemas' patterns are anchored runs of literals and bracket
   expressions, each maybe followed by *, + or ?.  Those are matched here
   directly: no regcomp on every start, and none of libc's regex engine
   (with its wide-character helpers) mapped into the process.  Any other
   pattern goes to regcomp.  Bytes are compared as such, as regcomp does in
   the C locale kist runs in.  */

/* The end of the atom at P (a literal or a bracket expression), or NULL
   when P is not one this matcher knows.  */
static const char *simple_atom_end(const char *p)
{
  if (*p == '[') {
    const char *q = p + 1;
    if (*q == '^')
      q++;
    if (*q == ']')
      q++; /* a leading ] is a member */
    for (; *q && *q != ']'; q++)
      if (*q == '[' || *q == '\\')
        return NULL; /* classes, collating elements: not here */
    return *q == ']' ? q + 1 : NULL;
  }
  if (*p == '\0' || strchr(".[]()|{}\\*+?^$", *p))
    return NULL;
  return p + 1;
}

static bool simple_ere(const char *re)
{
  size_t n = strlen(re);
  if (n < 2 || re[0] != '^' || re[n - 1] != '$')
    return false;
  for (const char *p = re + 1; p < re + n - 1;) {
    p = simple_atom_end(p);
    if (p == NULL || p > re + n - 1)
      return false;
    if (*p == '*' || *p == '+' || *p == '?')
      p++;
  }
  return true;
}

static bool simple_atom_match(const char *a, unsigned char ch)
{
  if (*a != '[')
    return (unsigned char)*a == ch;
  const char *q = a + 1;
  bool neg = *q == '^', in = false;
  if (neg)
    q++;
  for (bool first = true; first || *q != ']'; first = false) {
    unsigned char lo = (unsigned char)*q, hi = lo;
    if (q[1] == '-' && q[2] != ']' && q[2] != '\0') {
      hi = (unsigned char)q[2];
      q += 3;
    } else {
      q++;
    }
    if (ch >= lo && ch <= hi)
      in = true;
  }
  return in != neg;
}

static bool simple_match(const char *p, const char *s)
{
  if (*p == '$' && p[1] == '\0')
    return *s == '\0';
  const char *next = simple_atom_end(p);
  char q = *next;
  if (q != '*' && q != '+' && q != '?')
    return *s && simple_atom_match(p, (unsigned char)*s) && simple_match(next, s + 1);
  size_t min = q == '+', max = q == '?' ? 1 : (size_t)-1, n = 0;
  while (n < max && s[n] && simple_atom_match(p, (unsigned char)s[n]))
    n++;
  for (; n >= min; n--) { /* greedy, then back off */
    if (simple_match(next + 1, s + n))
      return true;
    if (n == 0)
      break;
  }
  return false;
}

static pthread_mutex_t regex_lock = PTHREAD_MUTEX_INITIALIZER;

bool oci_regex_match(oci_regex *r, const char *s)
{
  int state;

  /* Checked every time (a few bytes), so the simple ones need no lock.  */
  if (simple_ere(r->ere))
    return simple_match(r->ere + 1, s);
  pthread_mutex_lock(&regex_lock);
  if (r->state == 0)
    r->state = regcomp(&r->re, r->ere, REG_EXTENDED | REG_NOSUB) == 0 ? 1 : -1;
  state = r->state;
  pthread_mutex_unlock(&regex_lock);
  /* A pattern we cannot compile is a bug in gen.py; do not reject input.  */
  if (state < 0)
    return true;
  return regexec(&r->re, s, 0, NULL, 0) == 0;
}

int oci_check_pattern(oci_pctx *c, const oci_json *n, oci_regex *r)
{
  char *q;

  /* An embedded NUL can never match our anchored patterns.  */
  if (strlen(n->str) == n->str_len && oci_regex_match(r, n->str))
    return 0;
  q = quote(n->str, n->str_len);
  oci_fail(c, n, "%s does not match pattern %s", q, r->display);
  free(q);
  return -1;
}

/* ---- emitting ----------------------------------------------------------- */

void oci_gen_key(yajl_gen g, const char *key)
{
  gen_check(yajl_gen_string(g, (const unsigned char *)key, strlen(key)));
}

void oci_gen_string(yajl_gen g, const char *s)
{
  if (s == NULL)
    gen_check(yajl_gen_null(g));
  else
    gen_check(yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
}

void oci_gen_bool(yajl_gen g, bool b)
{
  yajl_gen_bool(g, b);
}

void oci_gen_int(yajl_gen g, int64_t v)
{
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRId64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

void oci_gen_uint(yajl_gen g, uint64_t v)
{
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

void oci_gen_map_string_string(yajl_gen g, const oci_map_string_string *m)
{
  size_t i;

  yajl_gen_map_open(g);
  for (i = 0; i < m->len; i++) {
    oci_gen_key(g, m->keys[i] ? m->keys[i] : "");
    oci_gen_string(g, m->values[i]);
  }
  yajl_gen_map_close(g);
}

/* ---- top-level helpers -------------------------------------------------- */

int oci_parse_top(const char *data, size_t len, const char *source, oci_conv_fn conv,
                  oci_free_fn freefn, void **out, char **errp)
{
  oci_json *tree = NULL;
  oci_pctx c;
  void *v = NULL;
  int r;

  *out = NULL;
  if (errp)
    *errp = NULL;
  if (source == NULL)
    source = "<input>";
  if (oci_json_parse(data, len, source, &tree, errp) < 0)
    return -1;
  oci_pctx_init(&c, source);
  r = conv(&c, tree, &v);
  if (r < 0) {
    freefn(v);
    if (errp) {
      *errp = c.err;
      c.err = NULL;
    }
  } else
    *out = v;
  oci_pctx_fini(&c);
  oci_json_free(tree);
  return r < 0 ? -1 : 0;
}

int oci_parse_file_top(const char *path, oci_conv_fn conv, oci_free_fn freefn, void **out,
                       char **errp)
{
  FILE *f;
  char *data = NULL;
  size_t len = 0, cap = 0, n;
  int r;

  *out = NULL;
  if (errp)
    *errp = NULL;
  f = fopen(path, "re");
  if (f == NULL) {
    if (errp)
      *errp = xasprintf("%s: %s", path, strerror(errno));
    return -1;
  }
  do {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 16384;
      data = oci_xrealloc(data, cap);
    }
    n = fread(data + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  if (ferror(f)) {
    int e = errno;
    fclose(f);
    free(data);
    if (errp)
      *errp = xasprintf("%s: %s", path, strerror(e ? e : EIO));
    return -1;
  }
  fclose(f);
  r = oci_parse_top(data, len, path, conv, freefn, out, errp);
  free(data);
  return r;
}

int oci_generate_top(const void *v, oci_gen_fn gen, char **json_out, char **errp)
{
  yajl_gen g;
  const unsigned char *buf;
  size_t len;

  *json_out = NULL;
  if (errp)
    *errp = NULL;
  if (v == NULL) {
    if (errp)
      *errp = oci_xstrdup("cannot generate JSON from a NULL document");
    return -1;
  }
  g = yajl_gen_alloc(NULL);
  if (g == NULL)
    oom();
  yajl_gen_config(g, yajl_gen_beautify, 1);
  yajl_gen_config(g, yajl_gen_indent_string, "    ");
  /* A hand-built model may hold strings that are not UTF-8.  */
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  gen_status = yajl_gen_status_ok;
  gen(g, v);
  if (gen_status == yajl_gen_status_ok)
    gen_status = yajl_gen_get_buf(g, &buf, &len);
  if (gen_status != yajl_gen_status_ok) {
    yajl_gen_free(g);
    if (errp)
      *errp = oci_xstrdup(gen_status == yajl_gen_invalid_string
                            ? "cannot generate JSON: a string is not valid UTF-8"
                            : "cannot generate JSON: generator error");
    return -1;
  }
  *json_out = oci_xstrndup((const char *)buf, len);
  yajl_gen_free(g);
  return 0;
}
