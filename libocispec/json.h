/* libocispec support code: a JSON tree with source positions, parse-error
   reporting with JSON paths, value readers used by the generated parsers, and
   yajl_gen emit helpers.

   Copyright (C) the kist authors.  SPDX-License-Identifier: LGPL-2.1-or-later */

#ifndef OCISPEC_JSON_H
#define OCISPEC_JSON_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

/* Allocation failure is not recoverable for us: these abort.  */
void *oci_xmalloc(size_t n);
void *oci_xcalloc(size_t n, size_t size);
void *oci_xrealloc(void *p, size_t n);
char *oci_xstrdup(const char *s);
char *oci_xstrndup(const char *s, size_t n);

/* A parsed JSON value.  Every node knows where it started in the source
   (1-based line and byte column).  Numbers are kept as their raw text so no
   precision is lost.  */
typedef enum {
  OCI_JSON_NULL,
  OCI_JSON_BOOL,
  OCI_JSON_NUMBER,
  OCI_JSON_STRING,
  OCI_JSON_ARRAY,
  OCI_JSON_OBJECT,
} oci_json_type;

typedef struct oci_json oci_json;
struct oci_json {
  oci_json_type type;
  unsigned int line, col;
  bool boolean;      /* BOOL */
  char *str;         /* STRING: the value (NUL-terminated); NUMBER: raw text */
  size_t str_len;    /* length of str (strings may contain NUL) */
  char **keys;       /* OBJECT: member names, in document order */
  oci_json **values; /* ARRAY: elements; OBJECT: member values */
  size_t len, cap;
};

/* Parse LEN bytes of DATA into a tree.  On error returns -1 and sets *ERRP to
   "<source>:<line>:<col>: invalid JSON: <reason>".  */
int oci_json_parse(const char *data, size_t len, const char *source, oci_json **out, char **errp);
void oci_json_free(oci_json *j);
oci_json *oci_json_copy(const oci_json *j);
bool oci_json_equal(const oci_json *a, const oci_json *b);
const char *oci_json_type_name(oci_json_type t);
/* Emit J with G.  Returns the yajl_gen status.  */
yajl_gen_status oci_json_gen(yajl_gen g, const oci_json *j);

/* Unknown properties of a modelled object are kept in an OBJECT node (NULL
   when there are none), in document order, and re-emitted after the known
   ones.  */
void oci_unknown_add(oci_json **u, const char *key, const oci_json *val);
void oci_unknown_gen(yajl_gen g, const oci_json *u);

/* The map type used for every string->string object (annotations, sysctl,
   unified, ...).  Order and duplicates are kept as in the document.  */
typedef struct oci_map_string_string {
  char **keys;
  char **values;
  size_t len;
} oci_map_string_string;

void free_oci_map_string_string(oci_map_string_string *m);
bool oci_map_string_string_equal(const oci_map_string_string *a, const oci_map_string_string *b);
/* The value of the last entry named KEY, or NULL.  */
const char *oci_map_string_string_get(const oci_map_string_string *m, const char *key);

/* Parse context: the source name for messages, the JSON path of the value
   being converted, and the first error.  */
typedef struct oci_pctx {
  const char *source;
  char *err;
  char *path;
  size_t path_len, path_cap;
} oci_pctx;

void oci_pctx_init(oci_pctx *c, const char *source);
void oci_pctx_fini(oci_pctx *c);
/* Push a path component; return the previous length for oci_path_restore.  */
size_t oci_path_key(oci_pctx *c, const char *key);
size_t oci_path_index(oci_pctx *c, size_t i);
void oci_path_restore(oci_pctx *c, size_t saved);

/* Record "<source>:<line>:<col>: <path>: <message>" (first error wins) and
   return -1.  */
int oci_fail(oci_pctx *c, const oci_json *at, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
int oci_fail_missing(oci_pctx *c, const oci_json *obj, const char *prop);
/* Check that N is an object without duplicate member names (and, for maps,
   without empty ones).  */
int oci_expect_object(oci_pctx *c, const oci_json *n, bool is_map);

/* Readers: type- and range-check N, store the value, or fail.  */
int oci_expect(oci_pctx *c, const oci_json *n, oci_json_type t);
int oci_read_string(oci_pctx *c, const oci_json *n, char **out);
int oci_read_bool(oci_pctx *c, const oci_json *n, bool *out);
/* WHAT names the range in messages, e.g. "uint32".  */
int oci_read_int(oci_pctx *c, const oci_json *n, int64_t min, int64_t max, const char *what,
                 int64_t *out);
int oci_read_uint(oci_pctx *c, const oci_json *n, uint64_t min, uint64_t max, const char *what,
                  uint64_t *out);
int oci_read_map_string_string(oci_pctx *c, const oci_json *n, oci_map_string_string **out);

int oci_check_enum(oci_pctx *c, const oci_json *n, const char *const *vals, size_t nvals);
int oci_check_min_items(oci_pctx *c, const oci_json *n, size_t min);
/* ociVersion: SemVer 2.0.0 with major 1 (0.x is accepted too: the spec's
   own test fixtures use it).  */
int oci_check_version(oci_pctx *c, const oci_json *n);
bool oci_version_ok(const char *s);

/* A POSIX ERE, compiled on first use and cached.  */
typedef struct oci_regex {
  const char *ere;     /* POSIX ERE used for matching */
  const char *display; /* the schema's pattern, for messages */
  int state;           /* 0 = not compiled, 1 = ok, -1 = failed */
  regex_t re;
} oci_regex;

bool oci_regex_match(oci_regex *r, const char *s);
int oci_check_pattern(oci_pctx *c, const oci_json *n, oci_regex *r);

/* Emit helpers.  A NULL string is emitted as null.  */
void oci_gen_key(yajl_gen g, const char *key);
void oci_gen_string(yajl_gen g, const char *s);
void oci_gen_bool(yajl_gen g, bool b);
void oci_gen_int(yajl_gen g, int64_t v);
void oci_gen_uint(yajl_gen g, uint64_t v);
void oci_gen_map_string_string(yajl_gen g, const oci_map_string_string *m);

/* Helpers for the generated top-level functions.  */
typedef int (*oci_conv_fn)(oci_pctx *c, const oci_json *n, void **out);
typedef void (*oci_free_fn)(void *v);
typedef void (*oci_gen_fn)(yajl_gen g, const void *v);
int oci_parse_top(const char *data, size_t len, const char *source, oci_conv_fn conv,
                  oci_free_fn freefn, void **out, char **errp);
int oci_parse_file_top(const char *path, oci_conv_fn conv, oci_free_fn freefn, void **out,
                       char **errp);
int oci_generate_top(const void *v, oci_gen_fn gen, char **json_out, char **errp);
bool oci_str_equal(const char *a, const char *b);

#endif
