#!/bin/sh
# Writes a help2man include file with one section per command, from `thumbfetch CMD --help`.
#   man-commands.sh THUMBFETCH OUTPUT
set -eu
exe=$1
out=$2
{
  echo "[COMMANDS]"
  for cmd in fetch thumbs run bench demo serve corpus status merge; do
    echo ".SS $cmd"
    echo ".nf"
    "$exe" "$cmd" --help | sed -e "s|$exe|thumbfetch|g" -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"
    echo ".fi"
  done
  echo "[EXIT STATUS]"
  echo "0 all ok; 1 some items failed, or nothing to do; 2 usage or set-up problem (nothing done);"
  echo "130 interrupted (run again to resume)."
} >"$out"
