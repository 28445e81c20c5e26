#!/usr/bin/env python3
# Generate ocispec.h / ocispec.c (C model, parser, validator, emitter) from the
# OCI runtime-spec JSON schemas.  Standard library only.
#
# Usage: gen.py --schema-dir DIR --out-dir DIR
#
# See README.md for the naming rules; in short: named definitions that are
# objects become shared structs oci_<snake(Name)>, inline objects become
# <parent>_<snake(prop)>, inline array items <parent>_<snake(prop)>_item.

import argparse
import json
import os
import re

# Integer definitions of defs.json: C type, minimum, maximum.
INT_DEFS = {
    'int8': ('int8_t', -2**7, 2**7 - 1),
    'int16': ('int16_t', -2**15, 2**15 - 1),
    'int32': ('int32_t', -2**31, 2**31 - 1),
    'int64': ('int64_t', -2**63, 2**63 - 1),
    'uint8': ('uint8_t', 0, 2**8 - 1),
    'uint16': ('uint16_t', 0, 2**16 - 1),
    'uint32': ('uint32_t', 0, 2**32 - 1),
    'uint64': ('uint64_t', 0, 2**64 - 1),
    'percent': ('uint8_t', 0, 100),
}

# Named definitions from these files get a platform prefix, so that e.g. the
# FreeBSD Device does not clash with the Linux one (oci_freebsd_device).
DEF_PREFIX = {'defs.json': '', 'defs-linux.json': '', 'defs-freebsd.json': 'freebsd_',
              'defs-windows.json': 'windows_', 'defs-vm.json': 'vm_', 'defs-zos.json': 'zos_'}

# Patterns our translator cannot handle can be mapped by hand here:
# schema pattern -> POSIX ERE.
HAND_PATTERNS = {}

C_KEYWORDS = set('''auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool _Complex _Imaginary bool true false'''.split())



def snake(name):
    """camelCase -> snake_case; a run of capitals is one word (IDMapping ->
    id_mapping, nrMFNs -> nr_mfns)."""
    words = re.findall(r'[A-Z]+s(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+', name)
    if ''.join(words) != re.sub(r'[^A-Za-z0-9]', '', name):
        raise SystemExit('gen.py: cannot snake_case %r' % name)
    return '_'.join(w.lower() for w in words)


def field_name(prop):
    f = snake(prop)
    return f + '_' if f in C_KEYWORDS else f


def c_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append('\\' + ch)
        elif ch == '\n':
            out.append('\\n')
        elif ord(ch) < 0x20 or ord(ch) > 0x7e:
            out.append('\\%03o' % ord(ch))
        else:
            out.append(ch)
    return '"' + ''.join(out) + '"'


def to_ere(pat):
    """Translate an ECMA-262 pattern (as used by JSON schema) to POSIX ERE."""
    if pat in HAND_PATTERNS:
        return HAND_PATTERNS[pat]
    out, i, in_bracket = [], 0, False
    classes = {'d': '0-9', 'w': 'A-Za-z0-9_', 's': ' \t\n\r\f\v'}
    controls = {'n': '\n', 't': '\t', 'r': '\r', 'f': '\f', 'v': '\v'}
    while i < len(pat):
        ch = pat[i]
        if ch == '\\':
            i += 1
            nx = pat[i]
            if nx in controls:
                out.append(controls[nx])
            elif nx in classes:
                out.append(classes[nx] if in_bracket else '[' + classes[nx] + ']')
            elif not nx.isalnum() and not in_bracket:
                out.append('\\' + nx)
            elif not nx.isalnum() and nx not in ']^-':
                out.append(nx)  # brackets have no escapes in POSIX
            else:
                raise SystemExit('gen.py: cannot translate pattern %r; add it to HAND_PATTERNS' % pat)
        elif ch == '[' and not in_bracket:
            in_bracket = True
            out.append(ch)
            if pat[i + 1:i + 2] == '^':
                out.append('^')
                i += 1
        elif ch == ']' and in_bracket:
            in_bracket = False
            out.append(ch)
        elif ch in '(' and pat[i + 1:i + 2] == '?':
            raise SystemExit('gen.py: cannot translate pattern %r; add it to HAND_PATTERNS' % pat)
        else:
            out.append(ch)
        i += 1
    return ''.join(out)


# ---- the type model ---------------------------------------------------------

class Str:
    def __init__(self, enum=None, pattern=None, version=False):
        self.enum, self.pattern, self.version = enum, pattern, version


class Bool:
    pass


class Int:
    def __init__(self, ctype, lo, hi, what):
        self.ctype, self.lo, self.hi, self.what = ctype, lo, hi, what
        self.signed = not ctype.startswith('u')


class Arr:
    def __init__(self, item, min_items):
        self.item, self.min_items = item, min_items


class Struct:
    def __init__(self, name):
        self.name, self.props = name, []  # props: (json name, field, type, required)


class Map:
    def __init__(self, value, name):
        self.value, self.name = value, name  # name: C type of the map


class Raw:
    def __init__(self, jtype):
        self.jtype = jtype  # required JSON type of the subtree, or None


class Schema:
    def __init__(self, schema_dir):
        self.docs = {}
        for fn in sorted(os.listdir(schema_dir)):
            if fn.endswith('.json'):
                with open(os.path.join(schema_dir, fn)) as f:
                    self.docs[fn] = json.load(f)
        self.structs = {}  # C name -> Struct, in creation order
        self.maps = {}     # C name -> Map (maps of structs only)
        self.named = {}    # (file, def) -> Struct

    def resolve(self, ref, cur):
        fn, _, ptr = ref.partition('#')
        fn = fn or cur
        # defs.json has "#definitions/uint32" (no slash); accept it.
        parts = [p for p in ptr.split('/') if p]
        node = self.docs[fn]
        for p in parts:
            node = node[p]
        return node, fn, parts

    def flatten(self, s, fn):
        """Merge allOf parts (and resolve their $refs) into one object schema."""
        if '$ref' in s:
            node, nfn, _ = self.resolve(s['$ref'], fn)
            return self.flatten(node, nfn)
        if 'allOf' not in s:
            return dict(s, _file=s.get('_file', fn))
        merged = {'type': 'object', 'properties': {}, 'required': []}
        for part in s['allOf']:
            p = self.flatten(part, fn)
            pf = p['_file']
            for k, v in p.get('properties', {}).items():
                merged['properties'][k] = dict(v, _file=v.get('_file', pf))
            merged['required'] += p.get('required', [])
        merged['properties'].update(s.get('properties', {}))
        merged['required'] += s.get('required', [])
        merged['_file'] = fn
        return merged

    def conv(self, s, fn, hint, defname=None):
        fn = s.get('_file', fn)
        if '$ref' in s:  # draft-04: $ref replaces its siblings
            node, nfn, parts = self.resolve(s['$ref'], fn)
            if len(parts) == 2 and parts[0] == 'definitions':
                dn = parts[1]
                if nfn == 'defs.json' and dn in INT_DEFS:
                    return Int(INT_DEFS[dn][0], INT_DEFS[dn][1], INT_DEFS[dn][2], dn)
                if nfn == 'defs.json' and dn == 'ociVersion':
                    return Str(version=True)
                flat = self.flatten(node, nfn)
                if flat.get('properties'):
                    key = (nfn, dn)
                    if key not in self.named:
                        name = 'oci_' + DEF_PREFIX[nfn] + snake(dn)
                        self.named[key] = self.make_struct(name, flat, nfn)
                    return self.named[key]
                return self.conv(node, nfn, hint, dn)
            return self.conv(node, nfn, hint, defname)
        if 'allOf' in s:
            return self.conv(self.flatten(s, fn), fn, hint, defname)
        for k in ('anyOf', 'oneOf'):
            if k in s:
                # A single alternative is just that schema; real alternatives
                # are kept as raw JSON.
                if len(s[k]) == 1:
                    return self.conv(s[k][0], fn, hint, defname)
                return Raw(None)
        t = s.get('type')
        if t == 'string':
            pat = s.get('pattern')
            return Str(enum=s.get('enum'), pattern=pat)
        if t == 'boolean':
            return Bool()
        if t == 'integer':
            lo, hi = s.get('minimum'), s.get('maximum')
            if lo is not None and lo >= 0 and hi is not None and hi <= 2**32 - 1:
                ctype = 'uint32_t'
            else:
                ctype = 'int64_t'
                lo = -2**63 if lo is None else lo
                hi = 2**63 - 1 if hi is None else hi
            if defname:
                what = '%s (%d..%d)' % (defname, lo, hi)
            elif (lo, hi) == (-2**63, 2**63 - 1):
                what = 'int64'
            elif hi == 2**63 - 1:
                what = 'int64 >= %d' % lo
            else:
                what = '%d..%d' % (lo, hi)
            return Int(ctype, lo, hi, what)
        if t == 'array':
            items = s.get('items', {})
            if isinstance(items, list):
                # Tuple form (vm.hwConfig.iomems): we check every item against
                # the first schema, which is what the spec means.
                items = items[0]
            return Arr(self.conv(items, fn, hint + '_item'), s.get('minItems', 0))
        if t == 'object':
            if s.get('properties'):
                return self.make_struct(hint, s, fn)
            vs = s.get('additionalProperties')
            pp = s.get('patternProperties')
            if pp and len(pp) == 1:
                vs = list(pp.values())[0]
            if isinstance(vs, dict):
                v = self.conv(vs, fn, hint + '_value')
                if isinstance(v, Str) and not v.enum and not v.pattern and not v.version:
                    return Map(v, 'oci_map_string_string')
                if isinstance(v, Struct):
                    name = 'oci_map_' + v.name[len('oci_'):]
                    self.maps.setdefault(name, Map(v, name))
                    return self.maps[name]
                raise SystemExit('gen.py: unsupported map value at %s' % hint)
            return Raw('OCI_JSON_OBJECT')
        if t is None:
            return Raw(None)
        raise SystemExit('gen.py: unsupported type %r at %s' % (t, hint))

    def make_struct(self, name, s, fn):
        if name in self.structs:
            raise SystemExit('gen.py: struct name clash: %s' % name)
        st = self.structs[name] = Struct(name)
        req = s.get('required', [])
        fields = set()
        for prop, ps in s['properties'].items():
            f = field_name(prop)
            t = self.conv(ps, fn, name + '_' + snake(prop))
            for x in (f, f + '_len', f + '_present'):
                if x in fields:
                    raise SystemExit('gen.py: field clash %s in %s' % (x, name))
            fields.update([f, f + '_len', f + '_present'])
            st.props.append((prop, f, t, prop in req))
        for r in req:
            if r not in s['properties']:
                raise SystemExit('gen.py: %s requires unknown %s' % (name, r))
        return st


# ---- C generation -----------------------------------------------------------

def c_type(t):
    """C type of a value of type T (a field or an array element)."""
    if isinstance(t, Str):
        return 'char *'
    if isinstance(t, Bool):
        return 'bool '
    if isinstance(t, Int):
        return t.ctype + ' '
    if isinstance(t, Struct):
        return t.name + ' *'
    if isinstance(t, Map):
        return t.name + ' *'
    if isinstance(t, Raw):
        return 'oci_json *'
    raise SystemExit('gen.py: no C type for nested arrays')


def int_lit(v, ctype):
    if v == 2**64 - 1:
        return 'UINT64_MAX'
    if v == 2**63 - 1:
        return 'INT64_MAX'
    if v == -2**63:
        return 'INT64_MIN'
    return ('%dLL' if v < 0 else '%dULL' if ctype.startswith('u') else '%dLL') % v


class Gen:
    def __init__(self, schema):
        self.s = schema
        self.enums = {}    # tuple -> C name
        self.regexes = {}  # pattern -> C name

    def enum_ref(self, vals):
        key = tuple(vals)
        if key not in self.enums:
            self.enums[key] = 'enum_%d' % len(self.enums)
        return self.enums[key]

    def regex_ref(self, pat):
        if pat not in self.regexes:
            self.regexes[pat] = 're_%d' % len(self.regexes)
        return self.regexes[pat]

    # Each emitter returns a list of C lines (without indentation beyond the
    # relative one given by ind).

    def parse_value(self, t, node, lval, len_lval, depth):
        L = []
        if isinstance(t, Str):
            L.append('if (oci_read_string (c, %s, &%s) < 0)' % (node, lval))
            L.append('  return -1;')
            if t.enum:
                L.append('if (oci_check_enum (c, %s, %s, %d) < 0)' % (node, self.enum_ref(t.enum), len(t.enum)))
                L.append('  return -1;')
            if t.pattern:
                L.append('if (oci_check_pattern (c, %s, &%s) < 0)' % (node, self.regex_ref(t.pattern)))
                L.append('  return -1;')
            if t.version:
                L.append('if (oci_check_version (c, %s) < 0)' % node)
                L.append('  return -1;')
        elif isinstance(t, Bool):
            L.append('if (oci_read_bool (c, %s, &%s) < 0)' % (node, lval))
            L.append('  return -1;')
        elif isinstance(t, Int):
            fn, tt = ('oci_read_int', 'int64_t') if t.signed else ('oci_read_uint', 'uint64_t')
            L.append('{')
            L.append('  %s t_;' % tt)
            L.append('  if (%s (c, %s, %s, %s, %s, &t_) < 0)' % (fn, node, int_lit(t.lo, t.ctype),
                                                               int_lit(t.hi, t.ctype), c_str(t.what)))
            L.append('    return -1;')
            L.append('  %s = (%s) t_;' % (lval, t.ctype))
            L.append('}')
        elif isinstance(t, Struct):
            L.append('if (parse_%s (c, %s, &%s) < 0)' % (t.name, node, lval))
            L.append('  return -1;')
        elif isinstance(t, Map):
            if t.name == 'oci_map_string_string':
                L.append('if (oci_read_map_string_string (c, %s, &%s) < 0)' % (node, lval))
            else:
                L.append('if (parse_%s (c, %s, &%s) < 0)' % (t.name, node, lval))
            L.append('  return -1;')
        elif isinstance(t, Raw):
            if t.jtype:
                L.append('if (oci_expect (c, %s, %s) < 0)' % (node, t.jtype))
                L.append('  return -1;')
            L.append('%s = oci_json_copy (%s);' % (lval, node))
        elif isinstance(t, Arr):
            i = 'i%d' % depth
            L.append('if (oci_expect (c, %s, OCI_JSON_ARRAY) < 0)' % node)
            L.append('  return -1;')
            if t.min_items:
                L.append('if (oci_check_min_items (c, %s, %d) < 0)' % (node, t.min_items))
                L.append('  return -1;')
            # len is set first: elements are zeroed, so free works midway.
            L.append('%s = oci_xcalloc (%s->len, sizeof *%s);' % (lval, node, lval))
            L.append('%s = %s->len;' % (len_lval, node))
            L.append('for (size_t %s = 0; %s < %s->len; %s++)' % (i, i, node, i))
            L.append('  {')
            L.append('    size_t s%d = oci_path_index (c, %s);' % (depth, i))
            L += ['    ' + x for x in self.parse_value(t.item, '%s->values[%s]' % (node, i),
                                                        '%s[%s]' % (lval, i), None, depth + 1)]
            L.append('    oci_path_restore (c, s%d);' % depth)
            L.append('  }')
        return L

    def gen_value(self, t, expr, len_expr, depth):
        if isinstance(t, Str):
            return ['oci_gen_string (g, %s);' % expr]
        if isinstance(t, Bool):
            return ['oci_gen_bool (g, %s);' % expr]
        if isinstance(t, Int):
            return ['oci_gen_%s (g, %s);' % ('int' if t.signed else 'uint', expr)]
        if isinstance(t, Map) and t.name == 'oci_map_string_string':
            return ['oci_gen_map_string_string (g, %s);' % expr]
        if isinstance(t, (Struct, Map)):
            return ['gen_%s (g, %s);' % (t.name, expr)]
        if isinstance(t, Raw):
            return ['oci_json_gen (g, %s);' % expr]
        i = 'i%d' % depth
        L = ['yajl_gen_array_open (g);',
             'for (size_t %s = 0; %s < %s; %s++)' % (i, i, len_expr, i), '  {']
        L += ['    ' + x for x in self.gen_value(t.item, '%s[%s]' % (expr, i), None, depth + 1)]
        L += ['  }', 'yajl_gen_array_close (g);']
        return L

    def free_value(self, t, expr, len_expr, depth):
        if isinstance(t, Str):
            return ['free (%s);' % expr]
        if isinstance(t, (Bool, Int)):
            return []
        if isinstance(t, (Struct, Map)):
            return ['free_%s (%s);' % (t.name, expr)]
        if isinstance(t, Raw):
            return ['oci_json_free (%s);' % expr]
        i = 'i%d' % depth
        inner = self.free_value(t.item, '%s[%s]' % (expr, i), None, depth + 1)
        L = []
        if inner:
            L += ['if (%s != NULL)' % expr,
                  '  for (size_t %s = 0; %s < %s; %s++)' % (i, i, len_expr, i),
                  '    {']
            L += ['      ' + x for x in inner]
            L += ['    }']
        L.append('free (%s);' % expr)
        return L

    def eq_expr(self, t, a, b):
        if isinstance(t, Str):
            return 'oci_str_equal (%s, %s)' % (a, b)
        if isinstance(t, (Bool, Int)):
            return '%s == %s' % (a, b)
        if isinstance(t, (Struct, Map)):
            return '%s_equal (%s, %s)' % (t.name, a, b)
        if isinstance(t, Raw):
            return 'oci_json_equal (%s, %s)' % (a, b)
        raise SystemExit('gen.py: nested arrays unsupported')

    # ---- per struct ----

    def struct_decl(self, st):
        L = ['struct %s' % st.name, '{']
        for prop, f, t, req in st.props:
            note = '/* "%s"%s */' % (prop, ', required' if req else '')
            if isinstance(t, Arr):
                L.append('  %s*%s; %s' % (c_type(t.item), f, note))
                L.append('  size_t %s_len;' % f)
            elif isinstance(t, (Bool, Int)):
                L.append('  %s%s; %s' % (c_type(t), f, note))
                L.append('  bool %s_present;' % f)
            else:
                L.append('  %s%s; %s' % (c_type(t), f, note))
        L.append('  oci_json *_unknown; /* unknown properties (an object node), or NULL */')
        L.append('};')
        return L

    def struct_parse(self, st):
        # Keys are unique (oci_expect_object), so "seen" only tracks required ones.
        req = [prop for prop, f, t, r in st.props if r]
        L = ['static int', 'parse_%s (oci_pctx *c, const oci_json *n, %s **out)' % (st.name, st.name), '{',
             '  %s *v;' % st.name]
        if req:
            L.append('  bool seen[%d] = { false };' % len(req))
        L += ['', '  if (oci_expect_object (c, n, false) < 0)', '    return -1;',
              '  v = *out = oci_xcalloc (1, sizeof *v);',
              '  for (size_t i = 0; i < n->len; i++)', '    {',
              '      const char *k = n->keys[i];', '      const oci_json *m = n->values[i];',
              '      size_t saved = oci_path_key (c, k);', '']
        for idx, (prop, f, t, r) in enumerate(st.props):
            L.append('      %sif (strcmp (k, %s) == 0)' % ('else ' if idx else '', c_str(prop)))
            L.append('        {')
            if r:
                L.append('          seen[%d] = true;' % req.index(prop))
            body = self.parse_value(t, 'm', 'v->' + f, 'v->%s_len' % f, 0)
            if isinstance(t, (Bool, Int)):
                body.append('v->%s_present = true;' % f)
            L += ['          ' + x for x in body]
            L.append('        }')
        L += ['      else', '        oci_unknown_add (&v->_unknown, k, m);',
              '      oci_path_restore (c, saved);', '    }']
        for idx, prop in enumerate(req):
            L += ['  if (!seen[%d])' % idx, '    return oci_fail_missing (c, n, %s);' % c_str(prop)]
        L += ['  return 0;', '}', '']
        return L

    def struct_gen(self, st):
        L = ['static void', 'gen_%s (yajl_gen g, const %s *v)' % (st.name, st.name), '{',
             '  if (v == NULL)', '    {', '      yajl_gen_null (g);', '      return;', '    }',
             '  yajl_gen_map_open (g);']
        for prop, f, t, req in st.props:
            cond = 'v->%s_present' % f if isinstance(t, (Bool, Int)) else 'v->%s != NULL' % f
            L += ['  if (%s)' % cond, '    {', '      oci_gen_key (g, %s);' % c_str(prop)]
            L += ['      ' + x for x in self.gen_value(t, 'v->' + f, 'v->%s_len' % f, 0)]
            L.append('    }')
        L += ['  oci_unknown_gen (g, v->_unknown);', '  yajl_gen_map_close (g);', '}', '']
        return L

    def struct_free(self, st):
        L = ['void', 'free_%s (%s *v)' % (st.name, st.name), '{', '  if (v == NULL)', '    return;']
        for prop, f, t, req in st.props:
            L += ['  ' + x for x in self.free_value(t, 'v->' + f, 'v->%s_len' % f, 0)]
        L += ['  oci_json_free (v->_unknown);', '  free (v);', '}', '']
        return L

    def struct_equal(self, st):
        L = ['bool', '%s_equal (const %s *a, const %s *b)' % (st.name, st.name, st.name), '{',
             '  if (a == NULL || b == NULL)', '    return a == b;']
        for prop, f, t, req in st.props:
            A, B = 'a->' + f, 'b->' + f
            if isinstance(t, (Bool, Int)):
                L += ['  if (a->%s_present != b->%s_present || (a->%s_present && %s != %s))'
                      % (f, f, f, A, B), '    return false;']
            elif isinstance(t, Arr):
                L += ['  if ((%s == NULL) != (%s == NULL) || (%s != NULL && a->%s_len != b->%s_len))'
                      % (A, B, A, f, f), '    return false;',
                      '  if (%s != NULL)' % A,
                      '    for (size_t i = 0; i < a->%s_len; i++)' % f,
                      '      if (!(%s))' % self.eq_expr(t.item, A + '[i]', B + '[i]'),
                      '        return false;']
            else:
                L += ['  if (!%s)' % self.eq_expr(t, A, B), '    return false;']
        L += ['  return oci_json_equal (a->_unknown, b->_unknown);', '}', '']
        return L

    # ---- maps of structs ----

    def map_decl(self, m):
        return ['struct %s' % m.name, '{', '  char **keys;', '  %s **values;' % m.value.name,
                '  size_t len;', '};']

    def map_funcs(self, m):
        nm, vn = m.name, m.value.name
        return [
            'static int', 'parse_%s (oci_pctx *c, const oci_json *n, %s **out)' % (nm, nm), '{',
            '  %s *m;' % nm, '',
            '  if (oci_expect_object (c, n, true) < 0)', '    return -1;',
            '  m = *out = oci_xcalloc (1, sizeof *m);',
            '  m->keys = oci_xcalloc (n->len, sizeof *m->keys);',
            '  m->values = oci_xcalloc (n->len, sizeof *m->values);',
            '  m->len = n->len;',
            '  for (size_t i = 0; i < n->len; i++)', '    {',
            '      size_t saved = oci_path_key (c, n->keys[i]);',
            '      m->keys[i] = oci_xstrdup (n->keys[i]);',
            '      if (parse_%s (c, n->values[i], &m->values[i]) < 0)' % vn,
            '        return -1;', '      oci_path_restore (c, saved);', '    }',
            '  return 0;', '}', '',
            'static void', 'gen_%s (yajl_gen g, const %s *m)' % (nm, nm), '{',
            '  yajl_gen_map_open (g);', '  for (size_t i = 0; i < m->len; i++)', '    {',
            '      oci_gen_key (g, m->keys[i] ? m->keys[i] : "");',
            '      gen_%s (g, m->values[i]);' % vn, '    }', '  yajl_gen_map_close (g);', '}', '',
            'void', 'free_%s (%s *m)' % (nm, nm), '{', '  if (m == NULL)', '    return;',
            '  for (size_t i = 0; i < m->len; i++)', '    {', '      free (m->keys[i]);',
            '      free_%s (m->values[i]);' % vn, '    }',
            '  free (m->keys);', '  free (m->values);', '  free (m);', '}', '',
            'bool', '%s_equal (const %s *a, const %s *b)' % (nm, nm, nm), '{',
            '  if (a == NULL || b == NULL)', '    return a == b;',
            '  if (a->len != b->len)', '    return false;',
            '  for (size_t i = 0; i < a->len; i++)',
            '    if (!oci_str_equal (a->keys[i], b->keys[i]) || !%s_equal (a->values[i], b->values[i]))' % vn,
            '      return false;', '  return true;', '}', '']

    def top_funcs(self, short, name):
        return [
            'static int', 'conv_top_%s (oci_pctx *c, const oci_json *n, void **out)' % short, '{',
            '  %s *v = NULL;' % name, '  int r = parse_%s (c, n, &v);' % name, '  *out = v;',
            '  return r;', '}', '',
            'static void', 'free_top_%s (void *v)' % short, '{', '  free_%s (v);' % name, '}', '',
            'static void', 'gen_top_%s (yajl_gen g, const void *v)' % short, '{',
            '  gen_%s (g, v);' % name, '}', '',
            'int', '%s_parse_data (const char *data, size_t len, const char *source_name, %s **out,' % (name, name),
            '                  char **errp)', '{', '  void *v;',
            '  int r = oci_parse_top (data, len, source_name, conv_top_%s, free_top_%s, &v, errp);' % (short, short),
            '  *out = v;', '  return r;', '}', '',
            'int', '%s_parse_file (const char *path, %s **out, char **errp)' % (name, name), '{', '  void *v;',
            '  int r = oci_parse_file_top (path, conv_top_%s, free_top_%s, &v, errp);' % (short, short),
            '  *out = v;', '  return r;', '}', '',
            'int', '%s_generate_json (const %s *v, char **json_out, char **errp)' % (name, name), '{',
            '  return oci_generate_top (v, gen_top_%s, json_out, errp);' % short, '}', '']

    def top_protos(self, name):
        return ['int %s_parse_file (const char *path, %s **out, char **errp);' % (name, name),
                'int %s_parse_data (const char *data, size_t len, const char *source_name, %s **out,' % (name, name),
                '                  char **errp);',
                'int %s_generate_json (const %s *v, char **json_out, char **errp);' % (name, name), '']


TOPS = [('config', 'config-schema.json'), ('state', 'state-schema.json'),
        ('features', 'features-schema.json')]

HEADER_INTRO = '''/* Generated by libocispec/gen.py from the OCI runtime-spec schemas.  Do not edit.

   Conventions (see libocispec/README.md):
   - strings are char * (NULL when absent);
   - booleans and integers have a companion <field>_present;
   - arrays are T *<field> plus size_t <field>_len; the pointer is non-NULL
     iff the array was present (even when empty);
   - string maps are oci_map_string_string *, maps of objects oci_map_<x> *;
   - unknown properties are kept in _unknown (an object oci_json node).  */

#ifndef OCISPEC_H
#define OCISPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* GNU C predefines "linux" and "unix" as 1, which would break ->linux.  */
#undef linux
#undef unix
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--schema-dir', required=True)
    ap.add_argument('--out-dir', required=True)
    args = ap.parse_args()

    sc = Schema(args.schema_dir)
    for short, fn in TOPS:
        sc.make_struct('oci_' + short, sc.docs[fn], fn)
    g = Gen(sc)
    structs = list(sc.structs.values())
    maps = list(sc.maps.values())

    # Generate bodies first: they register the enum and regex tables.
    body = []
    for st in structs:
        body += g.struct_parse(st) + g.struct_gen(st) + g.struct_free(st) + g.struct_equal(st)
    for m in maps:
        body += g.map_funcs(m)
    for short, _ in TOPS:
        body += g.top_funcs(short, 'oci_' + short)

    h = [HEADER_INTRO]
    for st in structs:
        h.append('typedef struct %s %s;' % (st.name, st.name))
    for m in maps:
        h.append('typedef struct %s %s;' % (m.name, m.name))
    h.append('')
    for st in structs:
        h += g.struct_decl(st) + ['']
    for m in maps:
        h += g.map_decl(m) + ['']
    for st in structs:
        h.append('void free_%s (%s *v);' % (st.name, st.name))
        h.append('bool %s_equal (const %s *a, const %s *b);' % (st.name, st.name, st.name))
    for m in maps:
        h.append('void free_%s (%s *m);' % (m.name, m.name))
        h.append('bool %s_equal (const %s *a, const %s *b);' % (m.name, m.name, m.name))
    h.append('')
    for short, _ in TOPS:
        h += g.top_protos('oci_' + short)
    h.append('#endif')

    c = ['/* Generated by libocispec/gen.py from the OCI runtime-spec schemas.  Do not edit.  */', '',
         '#include <stdlib.h>', '#include <string.h>', '', '#include "ocispec.h"', '']
    for vals, nm in g.enums.items():
        c.append('static const char *const %s[] = { %s };' % (nm, ', '.join(c_str(v) for v in vals)))
    for pat, nm in g.regexes.items():
        c.append('static oci_regex %s = { .ere = %s, .display = %s };' % (nm, c_str(to_ere(pat)), c_str(pat)))
    c.append('')
    for st in structs:
        c.append('static int parse_%s (oci_pctx *c, const oci_json *n, %s **out);' % (st.name, st.name))
        c.append('static void gen_%s (yajl_gen g, const %s *v);' % (st.name, st.name))
    for m in maps:
        c.append('static int parse_%s (oci_pctx *c, const oci_json *n, %s **out);' % (m.name, m.name))
        c.append('static void gen_%s (yajl_gen g, const %s *m);' % (m.name, m.name))
    c.append('')
    c += body

    os.makedirs(args.out_dir, exist_ok=True)
    # Write to temporary names and rename, so an interrupted run never leaves
    # a half-written file that make would consider up to date.
    for fn, lines in (('ocispec.h', h), ('ocispec.c', c)):
        path = os.path.join(args.out_dir, fn)
        with open(path + '.tmp', 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
