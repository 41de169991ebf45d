#!/bin/sh
# The SDK as a user gets it: install NCL's build into a fresh prefix, then
# build examples/embed as a project of its own against that prefix
# (find_package(NCL), ncl_add_model compiling a model that imports the
# installed standard library at build time) and run its test; build the
# same C program through pkg-config; check the installed tools' versions,
# libnclrt's SONAME and that a changed import recompiles the model. Then
# examples/embed_compile (the compiler's C API: a model compiled from a
# string and run in the same process, and a diagnostic as a record), with
# CMake and with pkg-config, and ncl_add_model's TARGETS (cpu, cuda; others refused).
#
# usage: install_checks.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
build=$1 source=$2 work=$3
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
abi=$(sed -n 's/^#define NCL_ABI_VERSION \([0-9]*\)u.*/\1/p' "$source/runtime/include/ncl/model_abi.h")
libdir=$(dirname "$(find "$prefix" -name "libnclrt.so.$abi" | head -n 1)")
test -n "$libdir" || { echo "FAIL: no libnclrt.so.$abi installed"; exit 1; }
for f in bin/nclc bin/ncl-run include/ncl/runtime.h include/ncl/runtime.hpp \
         include/ncl/model_abi.h include/ncl/compiler.h share/ncl/stdlib/lif.ncl; do
  test -e "$prefix/$f" || { echo "FAIL: $f is not installed"; exit 1; }
done
test -e "$libdir/cmake/NCL/NCLConfig.cmake" || { echo "FAIL: no NCLConfig.cmake"; exit 1; }
test -e "$libdir/pkgconfig/nclrt.pc" || { echo "FAIL: no nclrt.pc"; exit 1; }
test -e "$libdir/pkgconfig/nclcompiler.pc" || { echo "FAIL: no nclcompiler.pc"; exit 1; }
test -e "$libdir/libnclcompiler.so" || { echo "FAIL: no libnclcompiler.so"; exit 1; }
soname=$(readelf -d "$libdir/libnclrt.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libnclrt.so.$abi" ] || { echo "FAIL: SONAME '$soname', expected libnclrt.so.$abi"; exit 1; }
echo "installed into $prefix; libnclrt's SONAME is $soname"

"$prefix/bin/nclc" --version | tee "$work/nclc-version"
grep -q "^nclc (NCL) [0-9]" "$work/nclc-version" && grep -q "LLVM [0-9]" "$work/nclc-version" &&
  grep -q "model library ABI $abi\$" "$work/nclc-version" || { echo "FAIL: nclc --version"; exit 1; }
"$prefix/bin/ncl-run" --version | tee "$work/run-version"
grep -q "runs model libraries of ABI $abi\$" "$work/run-version" || { echo "FAIL: ncl-run --version"; exit 1; }

# examples/embed out of tree: configure, build (ncl_add_model runs the
# installed nclc), test.
cmake -S "$source/examples/embed" -B "$work/embed" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  > "$work/configure.log"
cmake --build "$work/embed" > "$work/build.log"
ctest --test-dir "$work/embed" --output-on-failure
echo "examples/embed built against the install: ncl_add_model compiled model.ncl, the test passed"

# A no-op rebuild compiles nothing; touching an import the depfile lists does.
cmake --build "$work/embed" -- -n -d explain > "$work/noop.log" 2>&1
if grep -q "nclc" "$work/noop.log"; then echo "FAIL: a no-op build recompiles the model"; exit 1; fi
grep -q "share/ncl/stdlib/lif.ncl" "$work/embed/embedded_lif.so.d" ||
  { echo "FAIL: the depfile does not list the imported lif.ncl"; cat "$work/embed/embedded_lif.so.d"; exit 1; }
touch "$prefix/share/ncl/stdlib/lif.ncl"
cmake --build "$work/embed" > "$work/rebuild.log"
grep -q "Compiling the NCL model embedded_lif" "$work/rebuild.log" ||
  { echo "FAIL: changing an imported file did not recompile the model"; exit 1; }
echo "the model is recompiled when a file it imports changes, and only then"

# pkg-config: the same program with the compiler driver alone.
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
cc "$source/examples/embed/embed.c" -o "$work/embed-pc" $(pkg-config --cflags --libs nclrt) \
  -Wl,-rpath,"$libdir"
"$work/embed-pc" "$work/embed/embedded_lif.so" | tee "$work/pc.log"
grep -q "at t = 27.8000 ms" "$work/pc.log" || { echo "FAIL: the pkg-config build's run"; exit 1; }
echo "built with pkg-config --cflags --libs nclrt ($(pkg-config --modversion nclrt)) and run"

# The compiler as a library: examples/embed_compile out of tree, linking
# NCL::nclcompiler and NCL::nclrt; its test compiles a model from a string,
# runs it against e^(-t/tau) and prints a diagnostic record.
cmake -S "$source/examples/embed_compile" -B "$work/embed_compile" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure-compile.log"
cmake --build "$work/embed_compile" > "$work/build-compile.log"
ctest --test-dir "$work/embed_compile" --output-on-failure -V | tee "$work/embed-compile.log"
grep -q "diagnostic: severity=error file=broken.ncl line=4 column=" "$work/embed-compile.log" ||
  { echo "FAIL: embed_compile printed no diagnostic record"; exit 1; }
echo "examples/embed_compile built against the install: compiled from a string, ran, diagnosed"
# The installed libnclcompiler imports from the installed standard library
# (found from its own place, not from the source tree it was built from).
cat > "$work/import.c" <<'EOF2'
#include "ncl/compiler.h"
#include <stdio.h>
int main(int argc, char **argv) {
  const char *source = "import \"lif.ncl\"\nnetwork N {\n  population P = LIF[1]\n}\n";
  ncl_compile_result *r = ncl_compile_string(NULL, source, "import.ncl", argv[1]);
  for (size_t i = 0; i < ncl_compile_result_num_dependencies(r); ++i)
    printf("dependency %s\n", ncl_compile_result_dependency(r, i));
  printf("%s", ncl_compile_result_diagnostics_text(r));
  int ok = ncl_compile_result_ok(r);
  ncl_compile_result_destroy(r);
  return ok && argc == 2 ? 0 : 1;
}
EOF2
cc "$work/import.c" -o "$work/import" $(pkg-config --cflags --libs nclcompiler) -Wl,-rpath,"$libdir"
"$work/import" "$work/import.so" > "$work/import.log" ||
  { cat "$work/import.log"; echo "FAIL: libnclcompiler could not import lif.ncl"; exit 1; }
grep -q "^dependency $prefix/share/ncl/stdlib/lif.ncl\$" "$work/import.log" ||
  { cat "$work/import.log"; echo "FAIL: libnclcompiler did not import the prefix's lif.ncl"; exit 1; }
echo "the installed libnclcompiler imports the installed standard library"
cc "$source/examples/embed_compile/embed_compile.c" -o "$work/embed-compile-pc" \
  $(pkg-config --cflags --libs nclcompiler nclrt) -lm -Wl,-rpath,"$libdir"
mkdir -p "$work/pc-compile"
"$work/embed-compile-pc" "$work/pc-compile" > "$work/pc-compile.log" ||
  { cat "$work/pc-compile.log"; echo "FAIL: the pkg-config build of embed_compile"; exit 1; }
grep -q "^PASS$" "$work/pc-compile.log" || { echo "FAIL: embed_compile (pkg-config)"; exit 1; }
echo "built embed_compile with pkg-config --cflags --libs nclcompiler nclrt and run"

# ncl_add_model(... TARGETS): cpu and cuda build (cuda adds the GPU images, PTX
# for sm_80 and sm_90, beside the CPU code); an unknown target is refused at
# configure time with one clear message.
mkdir -p "$work/targets"
cat > "$work/targets/CMakeLists.txt" <<EOF2
cmake_minimum_required(VERSION 3.20)
project(targets NONE)
find_package(NCL 0.1 REQUIRED)
ncl_add_model(on_cpu SOURCES "$source/examples/embed/model.ncl" TARGETS cpu)
ncl_add_model(on_gpu SOURCES "$source/examples/embed/model.ncl" TARGETS cpu cuda)
EOF2
cmake -S "$work/targets" -B "$work/targets/build" -DCMAKE_PREFIX_PATH="$prefix" \
  > "$work/targets.log" 2>&1 || { cat "$work/targets.log"; echo "FAIL: TARGETS cpu cuda"; exit 1; }
cmake --build "$work/targets/build" >> "$work/targets.log" 2>&1 ||
  { cat "$work/targets.log"; echo "FAIL: building TARGETS cpu cuda"; exit 1; }
grep -aq "\.target sm_80" "$work/targets/build/on_gpu.so" ||
  { echo "FAIL: TARGETS cuda gave no sm_80 PTX"; exit 1; }
if grep -aq "\.target sm_80" "$work/targets/build/on_cpu.so"; then
  echo "FAIL: TARGETS cpu carries GPU code"; exit 1
fi
mkdir -p "$work/targets-bad"
cat > "$work/targets-bad/CMakeLists.txt" <<EOF2
cmake_minimum_required(VERSION 3.20)
project(targets NONE)
find_package(NCL 0.1 REQUIRED)
ncl_add_model(on_tpu SOURCES "$source/examples/embed/model.ncl" TARGETS tpu)
EOF2
if cmake -S "$work/targets-bad" -B "$work/targets-bad/build" -DCMAKE_PREFIX_PATH="$prefix" \
     > "$work/targets-bad.log" 2>&1; then
  echo "FAIL: ncl_add_model accepted TARGETS tpu"; exit 1
fi
grep -q "ncl_add_model(on_tpu): unknown target 'tpu' in TARGETS" "$work/targets-bad.log" ||
  { cat "$work/targets-bad.log"; echo "FAIL: no clear message for TARGETS tpu"; exit 1; }
echo "ncl_add_model: TARGETS cpu and cuda build (PTX in the cuda one), TARGETS tpu refused"
