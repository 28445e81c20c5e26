# Result counting shared by tests/run-all.sh and tests/rootless/run.sh
# (sourced): the totals, TAP counting with tests/known-failures.txt, and the
# verdict on a bats process that failed without a failing test.
# shellcheck shell=bash

passed=0 failed=0 skipped=0
totals() {
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit
}

# tap_count FILE: adds FILE's TAP results ("ok", "not ok", "# skip") to the
# totals and prints how many result lines it saw.
# tests/known-failures.txt lists tests that expose bugs not fixed yet, as
# "FILE|TEST NAME|why" (FILE = the .bats name without .bats). They still run
# every time; a failure of one is counted as skipped and printed with its
# reason, and one that passes is announced so that its line gets removed.
known_failure() { # FILE NAME -> prints the reason, or fails
  [ -f tests/known-failures.txt ] || return 1
  grep -F -- "$1|$2|" tests/known-failures.txt | head -n 1 | cut -d'|' -f3-
}
tap_count() { # FILE [BATS-NAME]
  local line n=0 name why
  while IFS= read -r line; do
    case "$line" in
    "ok "*" # skip"* | "ok "*" # SKIP"* | "not ok "*" # TODO"*) skipped=$((skipped + 1)) ;;
    "ok "*)
      passed=$((passed + 1))
      name=$(sed -E 's/^ok [0-9]+ //' <<<"$line")
      if [ -n "${2:-}" ] && why=$(known_failure "$2" "$name") && [ -n "$why" ]; then
        echo "# known failure now passes, remove it from tests/known-failures.txt: $2: $name"
      fi
      ;;
    "not ok "*)
      name=$(sed -E 's/^not ok [0-9]+ //' <<<"$line")
      if [ -n "${2:-}" ] && why=$(known_failure "$2" "$name") && [ -n "$why" ]; then
        echo "# skip (known failure: $why): $2: $name"
        skipped=$((skipped + 1))
      else
        failed=$((failed + 1))
      fi
      ;;
    *) continue ;;
    esac
    n=$((n + 1))
  done <"$1"
  tap_seen=$n
}

# bats_verdict OUT RC LIMIT LABEL: one failure more when bats (run under
# timeout LIMIT) timed out, or exited non-zero without a "not ok" in OUT (a
# syntax error, setup_file...).
bats_verdict() {
  if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
    echo "not ok - $4: timed out after ${3}s"
    failed=$((failed + 1))
  elif [ "$2" -ne 0 ] && ! grep -q '^not ok' "$1"; then
    echo "not ok - $4: bats exited with $2"
    failed=$((failed + 1))
  fi
}
