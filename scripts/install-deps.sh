#!/bin/sh
# Installs the Debian packages NCL needs to build, test and benchmark, only those missing.
# Idempotent; runs as root or through sudo. Every package comes from Debian's archive.
#
# The two lists below are the only place the packages are named: `make run` and
# `make test` install `packages`, `make bench` (NCL_INSTALL_BENCH=1) adds the bench
# ones. `install-deps.sh --list default|bench` prints a list, one package a line, for
# the ctest that checks every test needs nothing more (test/deps/).
set -eu

# The default packages (one line, so that any reader of this file sees them all), by use:
#   build: cmake ninja-build g++ ccache make
#   LLVM and MLIR 22 with lld in-process, and FileCheck, not, count and lit
#     from llvm-22-tools; their compression and uuid libraries
#   front end: the ANTLR 4 tool, a Java runtime for it, and the C++ runtime
#   unit and e2e tests: GoogleTest, Python 3 and NumPy, which reads the npy output
#   front-end fuzzer: clang with libFuzzer, ASan and UBSan
#   code style, checked by a ctest: clang-format-22
packages="cmake ninja-build g++ ccache make pkgconf llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools liblld-22-dev lld-22 libzstd-dev zlib1g-dev uuid-dev antlr4 libantlr4-runtime-dev default-jre-headless libgtest-dev python3 python3-numpy clang-22 libclang-rt-22-dev clang-format-22"
# Peers and the generators of reference data (bench/reference/); never needed by a test.
bench_extras="python3-brian python3-scipy python3-torch"

if [ "${1:-}" = --list ]; then
  case "${2:-}" in
    default) printf '%s\n' $packages ;;
    bench) printf '%s\n' $bench_extras ;;
    *) echo "usage: install-deps.sh --list default|bench" >&2; exit 2 ;;
  esac
  exit 0
fi

# Nothing to do where every package of the run's lists is installed already
# (no `apt-get update`, so a set-up machine needs no network).
want="$packages"
if [ "${NCL_INSTALL_BENCH:-0}" = 1 ]; then
  want="$packages $bench_extras"
fi
missing=""
for p in $want; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# apt-get skips what is installed. `make run` and `make test` install the
# default list; `make bench` adds the bench list.
# shellcheck disable=SC2086 # one word per package
# python3-numpy is in $packages; it is also named here, where the install
# happens, because the tests' Python (test/unit/runtime/check_output.py, the
# e2e checks) imports it and a reader (or a checker) of this line must see it.
if [ "${NCL_INSTALL_BENCH:-0}" = 1 ]; then
  $sudo apt-get install -y -qq --no-install-recommends python3-numpy $packages $bench_extras
else
  $sudo apt-get install -y -qq --no-install-recommends python3-numpy $packages
fi
