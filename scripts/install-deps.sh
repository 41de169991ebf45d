#!/usr/bin/env bash
# Installs the Debian packages NCL needs to build, test and benchmark, only those missing.
# Idempotent; runs as root or through sudo. Every package comes from Debian's archive.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The lists live in scripts/packages/: default.txt for `make run` and
# `make test`, bench.txt added for `make bench`.
read_list() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$here/packages/$1"; }
mapfile -t packages < <(read_list default.txt)
if [ "${NCL_INSTALL_BENCH:-0}" = 1 ]; then
  mapfile -t -O "${#packages[@]}" packages < <(read_list bench.txt)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
