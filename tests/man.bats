#!/usr/bin/env bats
# The man pages (man/*.1.md): they build with go-md2man, render without
# warnings, and document every flag the code accepts.  The flags are taken
# from the code itself (the `struct option` tables of src/kist.c and
# src/cmd-*.c) and from `kist CMD --help`, so a new flag without
# documentation fails here.

load helpers

MAN_SRC=$REPO/man

# long_flags FILE: the long option names of every `struct option` entry.
long_flags() {
  # Entries may span lines (clang-format wraps macros): join them first.
  tr '\n\\' '  ' <"$1" | grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' |
    sed -E 's/^\{ *"([^"]*)".*/\1/' | sort -u
}

# short_flags FILE: the letters of the optstrings passed to getopt_long*.
short_flags() {
  grep -oE 'getopt_long(_only)? *\([^"]*"[^"]*"' "$1" |
    sed -E 's/.*"([^"]*)"$/\1/' | tr -d '+:' | grep -o . | sort -u
}

# page_has PAGE FLAG: the Markdown source mentions FLAG as a whole word.
page_has() {
  grep -qE -- "(^|[^a-zA-Z0-9-])$2([^a-zA-Z0-9-]|\$)" "$1"
}

# render PAGE.md: the roff page, made once per run into $BATS_FILE_TMPDIR.
render() {
  local md=$1 out
  out=$BATS_FILE_TMPDIR/$(basename "${md%.md}")
  if [ ! -s "$out" ]; then
    go-md2man -in "$md" -out "$out" || return 1
  fi
  echo "$out"
}

# text PAGE.md: the page as man prints it, in plain ASCII.
text() {
  local roff
  roff=$(render "$1") || return 1
  LC_ALL=C MANWIDTH=100 man -l "$roff" 2>/dev/null | col -b
}

commands() {
  "$KIST" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | grep -vx help
}

setup() {
  command -v go-md2man >/dev/null || skip "go-md2man missing (apt-get install go-md2man)"
}

@test "man: every command of kist --help has a page, and kist.1 names it" {
  run commands
  assert_success
  [ "${#lines[@]}" -ge 10 ]
  local cmd missing=
  for cmd in "${lines[@]}"; do
    [ -f "$MAN_SRC/kist-$cmd.1.md" ] || missing+=" kist-$cmd.1.md"
    grep -qF "**kist-$cmd**(1)" "$MAN_SRC/kist.1.md" || missing+=" kist.1:SEE-ALSO:$cmd"
    grep -qE "^\*\*$cmd\*\*|\*\*$cmd\*\*," "$MAN_SRC/kist.1.md" || missing+=" kist.1:COMMANDS:$cmd"
  done
  [ -z "$missing" ] || fail "missing:$missing"
}

@test "man: every page is built and installed by man/Makefile.am.inc" {
  local md page missing=
  for md in "$MAN_SRC"/*.1.md; do
    page=man/$(basename "${md%.md}")
    grep -qE "(^|[[:space:]])$page([[:space:]]|\\\\|\$)" "$MAN_SRC/Makefile.am.inc" || missing+=" $page"
  done
  [ -z "$missing" ] || fail "not in KIST_MAN_PAGES:$missing"
  grep -q '^nodist_man1_MANS *= *\$(KIST_MAN_PAGES)' "$MAN_SRC/Makefile.am.inc"
}

@test "man: every page builds with go-md2man into a titled roff page" {
  local md roff n=0
  for md in "$MAN_SRC"/*.1.md; do
    roff=$(render "$md") || fail "go-md2man failed on $md"
    grep -q '^\.TH ' "$roff" || fail "$roff has no .TH title"
    grep -q '^\.SH NAME' "$roff" || fail "$roff has no NAME section"
    n=$((n + 1))
  done
  [ "$n" -ge 11 ]
}

@test "man: man -l renders every page without warnings" {
  command -v man >/dev/null || skip "man missing"
  local md roff warn bad=
  for md in "$MAN_SRC"/*.1.md; do
    roff=$(render "$md")
    warn=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$roff" 2>&1 >/dev/null)
    [ -z "$warn" ] || bad+=$'\n'"$(basename "$roff"): $warn"
    # The page title names the page: KIST-RUN for kist-run.1.
    local title
    title=$(basename "${roff%.1}" | tr a-z A-Z)
    grep -q "^\.TH $title 1 " "$roff" || bad+=$'\n'"$(basename "$roff"): .TH is not '$title 1'"
  done
  [ -z "$bad" ] || fail "man warnings:$bad"
}

@test "man: kist.1 documents every global flag of src/kist.c" {
  run long_flags "$REPO/src/kist.c"
  assert_success
  [ "${#lines[@]}" -ge 8 ]
  local f rendered missing=
  rendered=$(text "$MAN_SRC/kist.1.md")
  for f in "${lines[@]}"; do
    page_has "$MAN_SRC/kist.1.md" "--$f" || missing+=" --$f"
    grep -qE -- "(^|[^a-z-])--$f([^a-z0-9-]|\$)" <<<"$rendered" || missing+=" --$f(rendered)"
  done
  [ -z "$missing" ] || fail "kist.1 lacks:$missing"
}

@test "man: each command page documents every flag of its src/cmd-*.c" {
  local src cmd md f rendered missing= n=0
  for src in "$REPO"/src/cmd-*.c; do
    cmd=$(basename "$src" .c)
    cmd=${cmd#cmd-}
    md=$MAN_SRC/kist-$cmd.1.md
    if [ ! -f "$md" ]; then
      missing+=" kist-$cmd.1.md"
      continue
    fi
    rendered=$(text "$md")
    for f in $(long_flags "$src") help; do
      page_has "$md" "--$f" || missing+=" $cmd:--$f"
      grep -qE -- "(^|[^a-z-])--$f([^a-z0-9-]|\$)" <<<"$rendered" || missing+=" $cmd:--$f(rendered)"
      n=$((n + 1))
    done
    for f in $(short_flags "$src"); do
      page_has "$md" "-$f" || missing+=" $cmd:-$f"
    done
  done
  [ "$n" -ge 25 ] || fail "only $n flags found in src/cmd-*.c: is the extraction broken?"
  [ -z "$missing" ] || fail "undocumented:$missing"
}

@test "man: each command page documents every flag of kist CMD --help" {
  local cmd md f missing=
  for cmd in $(commands); do
    md=$MAN_SRC/kist-$cmd.1.md
    [ -f "$md" ] || continue # reported by the first test
    for f in $("$KIST" "$cmd" --help | grep -oE -- '(^|[ ,[])--[a-z][a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u); do
      page_has "$md" "$f" || missing+=" $cmd:$f"
    done
  done
  for f in $("$KIST" --help | grep -oE -- '(^|[ ,[])--[a-z][a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u); do
    page_has "$MAN_SRC/kist.1.md" "$f" || missing+=" kist:$f"
  done
  [ -z "$missing" ] || fail "undocumented:$missing"
}

@test "man: the extraction finds known flags (so the checks above cannot pass empty)" {
  run long_flags "$REPO/src/cmd-create.c"
  assert_line bundle
  assert_line preserve-fds
  assert_line no-new-keyring
  run short_flags "$REPO/src/cmd-run.c"
  assert_line b
  assert_line d
  # A flag the page does not have is reported.
  printf '**--bundle** _dir_\n' >"$BATS_TEST_TMPDIR/p.md"
  page_has "$BATS_TEST_TMPDIR/p.md" --bundle
  ! page_has "$BATS_TEST_TMPDIR/p.md" --bundl
  ! page_has "$BATS_TEST_TMPDIR/p.md" --pid-file
}

@test "man: kist.1 has exit status, environment, files and the cgroup conversions" {
  local md=$MAN_SRC/kist.1.md
  local s
  for s in "# EXIT STATUS" "# ENVIRONMENT" "# FILES" "# EXAMPLES" "# CGROUP V1 AND V2" "# SEE ALSO"; do
    grep -qx "$s" "$md" || fail "kist.1 has no '$s' section"
  done
  for s in XDG_RUNTIME_DIR LISTEN_FDS state.json "128+" 127 126 255 \
    "1 + ((shares - 2) x 9999) / 262142" "1 + ((weight - 10) x 9999) / 990" \
    "memory.swap.max = swap - limit" cpu.max; do
    grep -qF -- "$s" "$md" || fail "kist.1 does not mention '$s'"
  done
  # Every page has the sections a reader looks for.
  local page
  for page in "$MAN_SRC"/kist-*.1.md; do
    for s in "# NAME" "# SYNOPSIS" "# DESCRIPTION" "# OPTIONS" "# EXIT STATUS" "# SEE ALSO"; do
      grep -qx "$s" "$page" || fail "$(basename "$page") has no '$s' section"
    done
  done
}

@test "man: the documented cgroup conversions match the code's examples" {
  # kist.1 says 1024 shares become cpu.weight 39: the formula agrees.
  grep -qF "1024 shares become weight 39" "$MAN_SRC/kist.1.md"
  [ $((1 + ((1024 - 2) * 9999) / 262142)) -eq 39 ]
  # ...and so does the code it documents.
  grep -qF '1 + ((shares - 2) * 9999) / 262142' "$REPO/src/libkist/resources.c"
  grep -qF '1 + ((weight - 10) * 9999) / 990' "$REPO/src/libkist/resources.c"
}
