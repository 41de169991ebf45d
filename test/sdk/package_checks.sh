#!/bin/sh
# The Debian package of the SDK (cmake/Packaging.cmake): build it with
# cpack from NCL's build, then check with dpkg-deb, without installing it,
# that it holds the tools, the libraries, the headers, the CMake package
# and the standard library; that every NEEDED library of every binary in it
# is either in the package or provided by a package its Depends line
# declares (mapped through dpkg -S on this machine); that the libraries
# models are linked against (libc.so, libm.so: nclc links in-process with
# lld) are declared too; and that the unpacked nclc compiles a model that
# imports the packaged standard library.
#
# usage: package_checks.sh BUILD_DIR WORK_DIR
set -eu
build=$1 work=$2
rm -rf "$work"
mkdir -p "$work"

start=$(date +%s)
(cd "$build" && cpack -G DEB -B "$work" > "$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
deb=$(ls "$work"/ncl_*.deb 2>/dev/null | head -n 1)
test -n "$deb" || { cat "$work/cpack.log"; echo "FAIL: cpack wrote no ncl_*.deb"; exit 1; }
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(($(date +%s) - start)) s"

dpkg-deb -I "$deb" > "$work/info"
depends=$(sed -n 's/^ Depends: //p' "$work/info")
echo "Depends: $depends"
declared=$(echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g')
for dev in $(echo "$declared" | grep -- '-dev$' || true); do
  [ "$dev" = libc6-dev ] || { echo "FAIL: depends on the development package $dev"; exit 1; }
done

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's,^[.]/,/,' > "$work/contents"
for f in /usr/bin/nclc /usr/bin/ncl-run /usr/include/ncl/runtime.h /usr/include/ncl/runtime.hpp \
         /usr/include/ncl/model_abi.h /usr/include/ncl/compiler.h \
         /usr/share/ncl/stdlib/lif.ncl /usr/share/ncl/stdlib/hh.ncl; do
  grep -qx "$f" "$work/contents" || { echo "FAIL: the package lacks $f"; exit 1; }
done
for pattern in '/usr/lib/.*libnclrt\.so\.[0-9]*$' '/usr/lib/.*libnclcompiler\.so\.[0-9.]*$' \
               '/usr/lib/.*cmake/NCL/NCLConfig\.cmake$' '/usr/lib/.*cmake/NCL/NCLTargets\.cmake$' \
               '/usr/lib/.*pkgconfig/nclrt\.pc$' '/usr/lib/.*pkgconfig/nclcompiler\.pc$'; do
  grep -q "$pattern" "$work/contents" || { echo "FAIL: the package has no $pattern"; exit 1; }
done
echo "the package holds nclc, ncl-run, libnclrt, libnclcompiler, the headers, the CMake package, pkg-config files and the standard library"

# Which package provides a library this machine resolved to `path`: dpkg
# knows a file by the name it was shipped under (/lib/... on a merged /usr,
# the real file rather than a symlink to it).
package_of() {
  for candidate in "$(realpath "$1")" "$1"; do
    for p in "$candidate" "${candidate#/usr}"; do
      owner=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) || true
      if [ -n "$owner" ]; then
        echo "$owner"
        return
      fi
    done
  done
}

dpkg-deb -x "$deb" "$work/root"
checked=0
for elf in $(find "$work/root/usr/bin" "$work/root/usr/lib" -type f); do
  readelf -h "$elf" > /dev/null 2>&1 || continue
  for lib in $(objdump -p "$elf" | awk '$1 == "NEEDED" {print $2}'); do
    checked=$((checked + 1))
    if [ -n "$(find "$work/root" -name "$lib")" ]; then
      continue # shipped in the package itself
    fi
    path=$(ldd "$elf" | awk -v lib="$lib" '
      $1 == lib && $2 == "=>" {print $3; exit}
      {n = split($1, parts, "/"); if (parts[n] == lib) {print $1; exit}}')
    test -n "$path" && test "$path" != "not" ||
      { echo "FAIL: $lib (NEEDED by ${elf#$work/root}) is not found on this machine"; exit 1; }
    owner=$(package_of "$path")
    test -n "$owner" || { echo "FAIL: no package owns $path ($lib)"; exit 1; }
    echo "$declared" | grep -qx "$owner" ||
      { echo "FAIL: ${elf#$work/root} needs $lib from $owner, which the package does not declare"; exit 1; }
    echo "  ${elf#$work/root}: $lib <- $owner"
  done
done
[ "$checked" -gt 0 ] || { echo "FAIL: no NEEDED entries were checked"; exit 1; }
if objdump -p "$work/root/usr/bin/nclc" | grep -q "NEEDED.*lib\(LLVM\|MLIR\)"; then
  echo "note: nclc links LLVM/MLIR dynamically (NCL_STATIC_NCLC=OFF)"
else
  echo "note: nclc links LLVM, MLIR and lld statically"
fi
for lib in /usr/lib/x86_64-linux-gnu/libc.so /usr/lib/x86_64-linux-gnu/libm.so; do
  owner=$(package_of "$lib")
  echo "$declared" | grep -qx "$owner" ||
    { echo "FAIL: models are linked against $lib from $owner, which is not declared"; exit 1; }
done
echo "every NEEDED library ($checked entries) comes from the package or a declared dependency; models link against libc6-dev's libc.so and libm.so, declared"

# The unpacked tree works where it lies: nclc finds the packaged standard library.
cat > "$work/model.ncl" <<'EOF2'
import "lif.ncl"
network Packaged {
  population P = LIF[1] { I = 2 nA }
  simulate 10 ms, dt = 0.1 ms
}
EOF2
"$work/root/usr/bin/nclc" "$work/model.ncl" -o "$work/model.so" --depfile="$work/model.d"
grep -q "$work/root/usr/share/ncl/stdlib/lif.ncl" "$work/model.d" ||
  { cat "$work/model.d"; echo "FAIL: the unpacked nclc did not import the packaged lif.ncl"; exit 1; }
echo "the unpacked nclc compiled a model importing the packaged standard library"
