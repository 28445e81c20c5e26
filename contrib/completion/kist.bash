# bash completion for kist(1).                     -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install as /usr/share/bash-completion/completions/kist, or source it.
# zsh users can load it through bash compatibility:
#   autoload -U +X bashcompinit && bashcompinit && source kist.bash
#
# Commands and flags are read from the kist being completed (`kist --help`,
# `kist help CMD`), so the completion follows the binary; a built-in list
# is the fallback when it cannot be run.  Container ids come from
# `kist [--root DIR] list -q`.
#
# Word lists (flags, commands) are split on purpose:
# shellcheck disable=SC2086

# Used when `kist --help` gives nothing.
_kist_fallback_commands="create start run state kill delete list spec features check
exec ps pause resume update events checkpoint restore help"

# Commands whose first argument is an existing container.
_kist_id_commands=" start state kill delete exec ps pause resume update events checkpoint "

# _kist_help KIST [CMD]: the help text of kist or of one of its commands.
_kist_help() {
  local kist=$1
  if [ $# -gt 1 ]; then
    "$kist" help "$2" 2>/dev/null
  else
    "$kist" --help 2>/dev/null
  fi
}

# The command names: the first word of each line after "Commands:".
_kist_commands() {
  local names
  names=$(_kist_help "$1" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
  [ -n "$names" ] || names=$_kist_fallback_commands
  printf '%s\n' $names # one per line
}

# The flags in a help text.  An option line is "  -b, --bundle DIR   text":
# flags, then placeholders (DIR, SIZE, N, 0|1) that say the flags before them
# take a value, then the description.  Flags a description mentions
# ("(also --cpu-share)") count too.  With "value": only flags that take a
# value.
_kist_flags() {
  awk -v want="$2" '
    /^ +-/ {
      n = split($0, w, /[ ,]+/)
      np = 0
      for (i = 1; i <= n; i++) {
        if (w[i] == "") continue
        if (w[i] ~ /^--?[A-Za-z0-9]/) { sub(/=.*/, "", w[i]); flag[w[i]] = 1; pend[++np] = w[i]; continue }
        if (w[i] ~ /^[A-Z0-9][A-Z0-9_.:|-]*$/) { for (k = 1; k <= np; k++) val[pend[k]] = 1; np = 0; continue }
        break
      }
    }
    /^ / {
      s = $0
      while (match(s, /--[a-z][a-z0-9-]+/)) { flag[substr(s, RSTART, RLENGTH)] = 1; s = substr(s, RSTART + RLENGTH) }
    }
    END { for (f in flag) if (want != "value" || (f in val)) print f }' <<<"$1" | sort
}

# _kist_reply COMPGEN-ARGS...: COMPREPLY = compgen's lines (names with
# spaces stay whole).
_kist_reply() {
  mapfile -t COMPREPLY < <(compgen "$@")
}

# _kist_in WORD LIST...: WORD is one of LIST.
_kist_in() {
  local w=$1 x
  shift
  for x in "$@"; do
    [ "$x" = "$w" ] && return 0
  done
  return 1
}

# Completes the value of option $1 (the word before the cursor).
_kist_complete_value() {
  local opt=$1 cur=$2
  case $opt in
    -b | --bundle | --root | --image-path | --work-path | --parent-path | --cwd)
      compopt -o filenames 2>/dev/null
      _kist_reply -d -- "$cur"
      ;;
    --format | -f)
      _kist_reply -W "table json" -- "$cur"
      ;;
    --log-format)
      _kist_reply -W "text json" -- "$cur"
      ;;
    --rootless)
      _kist_reply -W "true false auto" -- "$cur"
      ;;
    --manage-cgroups-mode)
      _kist_reply -W "soft full strict ignore" -- "$cur"
      ;;
    --empty-ns)
      _kist_reply -W "network ipc uts mount pid user cgroup time" -- "$cur"
      ;;
    --preserve-fds | --interval | --status-fd | -u | --user | -g | --additional-gids | -e | --env)
      COMPREPLY=()
      ;;
    *)
      compopt -o filenames 2>/dev/null
      _kist_reply -f -- "$cur"
      ;;
  esac
}

_kist() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=
  [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
  local kist=${COMP_WORDS[0]}
  kist=${kist/#\~/$HOME}
  # Not runnable as typed (e.g. a relative path from elsewhere): the kist in
  # PATH, or none, and then the built-in command list.
  command -v "$kist" >/dev/null 2>&1 || kist=$(type -P kist) || kist=false
  COMPREPLY=()

  # Global options (and their values) come before the command.
  local ghelp gflags gvalue
  ghelp=$(_kist_help "$kist")
  gflags=$(_kist_flags "$ghelp")
  [ -n "$gflags" ] || gflags="--root --log --log-format --debug --systemd-cgroup --rootless --help --version"
  gvalue=$(_kist_flags "$ghelp" value)
  [ -n "$gvalue" ] || gvalue="--root --log --log-format --rootless"

  local i=1 cmd='' root=() w
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w=${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      # runc-style single-dash long options work too: -root is --root.
      local long=$w
      [[ $w == -[a-z][a-z]* ]] && long=-$w
      if [[ $long == --root=* ]]; then
        root=(--root "${long#--root=}")
      elif _kist_in "$long" $gvalue; then
        [ "$long" = --root ] && root=(--root "${COMP_WORDS[i + 1]}")
        i=$((i + 1))
      fi
    else
      cmd=$w
      break
    fi
    i=$((i + 1))
  done

  if [ -z "$cmd" ]; then
    local plong=$prev
    [[ $prev == -[a-z][a-z]* ]] && plong=-$prev
    if [ "$COMP_CWORD" -gt 1 ] && _kist_in "$plong" $gvalue; then
      _kist_complete_value "$plong" "$cur"
    elif [[ $cur == -* ]]; then
      _kist_reply -W "$gflags" -- "$cur"
    else
      _kist_reply -W "$(_kist_commands "$kist")" -- "$cur"
    fi
    return 0
  fi

  if [ "$cmd" = help ]; then
    [ "$COMP_CWORD" -eq $((i + 1)) ] &&
      _kist_reply -W "$(_kist_commands "$kist")" -- "$cur"
    return 0
  fi

  local chelp cflags cvalue
  chelp=$(_kist_help "$kist" "$cmd")
  cflags=$(_kist_flags "$chelp")
  cvalue=$(_kist_flags "$chelp" value)

  # Positional arguments after the command, skipping options and their values.
  local npos=0 j=$((i + 1))
  while [ "$j" -lt "$COMP_CWORD" ]; do
    w=${COMP_WORDS[j]}
    if [ "$w" = -- ]; then
      npos=$((npos + 2)) # exec: what follows is the command
      break
    elif [[ $w == -* ]]; then
      _kist_in "$w" $cvalue && j=$((j + 1))
    else
      npos=$((npos + 1))
    fi
    j=$((j + 1))
  done

  if [ "$COMP_CWORD" -gt $((i + 1)) ] && _kist_in "$prev" $cvalue; then
    _kist_complete_value "$prev" "$cur"
    return 0
  fi
  if [[ $cur == -* ]] && [ "$npos" -eq 0 ]; then
    _kist_reply -W "$cflags" -- "$cur"
    return 0
  fi
  if [ "$npos" -eq 0 ] && [[ $_kist_id_commands == *" $cmd "* ]]; then
    _kist_reply -W "$("$kist" "${root[@]}" list -q 2>/dev/null)" -- "$cur"
    return 0
  fi
  if [ "$npos" -eq 1 ] && [ "$cmd" = kill ]; then
    local sigs="HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM
STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
    if [[ $cur == SIG* ]]; then
      _kist_reply -P SIG -W "$sigs" -- "${cur#SIG}"
    else
      _kist_reply -W "$sigs" -- "$cur"
    fi
    return 0
  fi
  return 0
}

complete -F _kist kist
