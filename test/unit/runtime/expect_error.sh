#!/bin/sh
# expect_error.sh [--rc N] REGEX -- COMMAND [ARGS...]
#
# Passes when COMMAND fails cleanly: a non-zero exit status below 128 (so a
# crash, abort or signal is a test failure, not an "expected error"), equal
# to N when --rc is given, and stderr matching the extended regex REGEX.
want_rc=""
if [ "$1" = "--rc" ]; then
  want_rc=$2
  shift 2
fi
regex=$1
shift
if [ "$1" != "--" ]; then
  echo "usage: expect_error.sh [--rc N] REGEX -- COMMAND [ARGS...]" >&2
  exit 2
fi
shift

err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" >/dev/null 2>"$err"
rc=$?
echo "exit status: $rc"
echo "stderr:"
cat "$err"
if [ "$rc" -eq 0 ]; then
  echo "FAIL: the command succeeded, expected an error"
  exit 1
fi
if [ "$rc" -ge 128 ]; then
  echo "FAIL: the command crashed (status $rc)"
  exit 1
fi
if [ -n "$want_rc" ] && [ "$rc" -ne "$want_rc" ]; then
  echo "FAIL: expected exit status $want_rc"
  exit 1
fi
if ! grep -Eq -- "$regex" "$err"; then
  echo "FAIL: stderr does not match: $regex"
  exit 1
fi
echo "PASS"
