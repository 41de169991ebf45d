#!/usr/bin/env python3
"""Packs what a GPU check needs into one folder that runs on a machine with a GPU
and without NCL's build (docs/gpu.md, "Checking on a GPU").

usage: make_bundle.py --build BUILD [--out DIR] [--gpu-arch sm_90]
                      [--examples a,b] [--models a,b]

The device machine lent to a session has the NVIDIA driver and CUDA but not
LLVM 22 or MLIR, so nclc cannot run there; ncl-run and libnclrt need only
the C and C++ libraries. This script compiles here, with BUILD's nclc and
--target=cuda for the device's architecture (cubins where ptxas is found,
PTX always):
  DIR/examples/NAME.so   every example (or --examples) and test model of
                         test/unit/runtime/gpu_models, with examples/data
  DIR/models/NAME.so     the benchmark models of bench/gpu/gpu_benchmarks.py
  DIR/bin/ncl-run, DIR/lib/libnclrt.so*
  DIR/src                support/ and runtime/ with a CMakeLists.txt: where
                         the binaries above do not start on the device (other
                         system libraries), DIR/ncl_run.sh builds them there
  DIR/gpu_examples.py, DIR/gpu_benchmarks.py, DIR/run.sh, DIR/sanitize.sh
and DIR/run.sh runs there: every example on the CPU and the GPU compared
(gpu_examples.py prebuilt, what `ctest -L gpu` checks), then the benchmarks;
DIR/sanitize.sh, in a second call where time is left, CUDA's
compute-sanitizer (memcheck, initcheck) over short runs of a few examples.
Copy DIR to the device (the device tool's `carry`) and run DIR/run.sh; it
writes its logs and bench.json to $OUT (else DIR/out).

A model that needs CUDA's libdevice (sin, cos) where the toolkit is missing
is left out, saying so.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Benchmark libraries: the name gpu_benchmarks.py expects, the source, and
# nclc's options beyond the target (the microcircuit in float32: 9 bytes per
# synapse, the 10^9 synapses per 10 GB with room).
MODELS = {
    "cuba": ("examples/cuba.ncl", []),
    "cobahh": ("examples/cobahh.ncl", []),
    "brunel": ("examples/brunel.ncl", []),
    "lif_uncoupled": ("bench/lif_uncoupled.ncl", []),
    "eirnn_batch": ("bench/gpu/eirnn_batch.ncl", []),
    "eirnn_batch_f32": ("bench/gpu/eirnn_batch.ncl", ["--precision=f32"]),
    "microcircuit": ("bench/gpu/microcircuit.ncl", ["--precision=f32"]),
}

# Sourced by run.sh and sanitize.sh: an ncl-run that starts on this machine.
# The bundle's was built on another (Debian 12: glibc and libstdc++ of their
# versions); where it does not start, libnclrt and ncl-run are built here
# from src/ (plain C++17, no LLVM), with CMake, which the GPU machines have.
NCL_RUN_SH = """# Made by bench/gpu/make_bundle.py, sourced by run.sh and sanitize.sh: sets
# NCL_RUN to an ncl-run that starts on this machine (the bundle's, else one
# built here from src/) and LD_LIBRARY_PATH to its libnclrt.
NCL_RUN="$here/bin/ncl-run"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! "$NCL_RUN" --version > /dev/null 2>&1; then
  why=$("$NCL_RUN" --version 2>&1 | head -n 1)
  build=${NCL_BUNDLE_BUILD:-${TMPDIR:-/tmp}/ncl-bundle-runtime}
  echo "the bundle's ncl-run does not start here ($why); building libnclrt and ncl-run" \
    "from $here/src into $build (log: $out/rebuild.log)"
  generator=
  command -v ninja > /dev/null 2>&1 && generator="-G Ninja"
  if cmake -S "$here/src" -B "$build" -DCMAKE_BUILD_TYPE=Release $generator \
       > "$out/rebuild.log" 2>&1 &&
     cmake --build "$build" -j "$(nproc 2> /dev/null || echo 4)" >> "$out/rebuild.log" 2>&1 &&
     "$build/bin/ncl-run" --version >> "$out/rebuild.log" 2>&1; then
    NCL_RUN="$build/bin/ncl-run"
    export LD_LIBRARY_PATH="$build/lib:$LD_LIBRARY_PATH"
    echo "built: $("$NCL_RUN" --version 2>&1 | head -n 1)"
  else
    echo "building them failed too: see $out/rebuild.log"
  fi
fi
"""

# What builds src/ alone: support/ (units) and runtime/, which need neither
# LLVM nor MLIR.
SRC_CMAKE = """# Made by bench/gpu/make_bundle.py: libnclrt and ncl-run alone, for a GPU
# machine where the bundle's binaries do not start (ncl_run.sh).
cmake_minimum_required(VERSION 3.20)
project(nclrt LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(NCL_VERSION "@VERSION@")
set(NCL_ABI_VERSION @ABI@)
include(GNUInstallDirs)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
include_directories(${PROJECT_SOURCE_DIR}/support/include ${PROJECT_SOURCE_DIR}/runtime/include)
add_subdirectory(support)
add_subdirectory(runtime)
"""

RUN_SH = """#!/bin/sh
# Made by bench/gpu/make_bundle.py. Runs on a machine with a GPU: every example
# on the CPU and the GPU compared, then the GPU benchmarks. Logs to $OUT.
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
. "$here/ncl_run.sh"
export PYTHONUNBUFFERED=1
status=0
(nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \\
  --format=csv) > "$out/device.txt" 2>&1
"$NCL_RUN" --version >> "$out/device.txt" 2>&1
if [ "${NCL_BUNDLE_SKIP_EXAMPLES:-}" = "" ]; then
  python3 "$here/gpu_examples.py" prebuilt - "$NCL_RUN" "$here/examples" \\
    /tmp/ncl-gpu-examples > "$out/examples.log" 2>&1 || status=1
  tail -n 40 "$out/examples.log"
fi
python3 "$here/gpu_benchmarks.py" --ncl-run "$NCL_RUN" --models "$here/models" \\
  --json "$out/bench.json" ${NCL_BUNDLE_BENCH_ARGS:-} 2>&1 | tee "$out/bench.log"
[ -s "$out/bench.json" ] || status=1
exit $status
"""

# The second call on a GPU, where time is left after run.sh: CUDA's
# compute-sanitizer over short GPU runs of examples whose kernels cover every
# kind (docs/gpu.md, "Checking on a GPU"). memcheck finds an access outside
# an allocation, initcheck a read of device memory never written; racecheck
# looks at shared memory, which no kernel uses yet, and is left out. Each run
# is capped, and the whole stops starting runs after NCL_SANITIZE_SECONDS.
SANITIZE_SH = """#!/bin/sh
# Made by bench/gpu/make_bundle.py. compute-sanitizer's memcheck and initcheck
# over 20 ms GPU runs of a few examples. Logs to $OUT/sanitize.log.
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
log="$out/sanitize.log"
: > "$log"
. "$here/ncl_run.sh"
san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ ! -x "$san" ]; then
  echo "no compute-sanitizer on this machine: nothing checked" | tee -a "$log"
  exit 0
fi
budget=${NCL_SANITIZE_SECONDS:-420}
start=$(date +%s)
status=0
for run in memcheck:cuba memcheck:delays memcheck:polychronization memcheck:stdp_song \
    memcheck:kwta_layer memcheck:kwta_spiking memcheck:eirnn memcheck:dense_sums \
    memcheck:synapse_monitors initcheck:cuba initcheck:delays initcheck:eirnn; do
  tool=${run%%:*}
  name=${run#*:}
  lib="$here/examples/$name.so"
  [ -f "$lib" ] || continue
  if [ $(( $(date +%s) - start )) -ge "$budget" ]; then
    echo "== $tool $name: not run (NCL_SANITIZE_SECONDS=$budget spent)" | tee -a "$log"
    continue
  fi
  echo "== $tool $name" >> "$log"
  timeout 90 "$san" --tool "$tool" --error-exitcode 3 --print-limit 20 \
    "$NCL_RUN" "$lib" --backend=cuda --time 20ms --quiet \
    --data-dir "$here/examples" --out "/tmp/ncl-sanitize/$name-$tool" >> "$log" 2>&1
  rc=$?
  echo "== $tool $name: exit $rc" | tee -a "$log"
  [ $rc -eq 0 ] || status=1
done
exit $status
"""


def nclc_compile(nclc, source, out, arch, flags=()):
    cmd = [nclc, source, "-o", out, "--target=cuda", "--gpu-arch=" + arch] + list(flags)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0 and "libdevice" in p.stderr:
        print("left out %s: it needs CUDA's libdevice, which is not installed here"
              % os.path.relpath(source, ROOT))
        return False
    if p.returncode != 0:
        sys.exit("nclc %s failed:\n%s" % (source, p.stderr))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the build folder (bin/nclc, bin/ncl-run)")
    ap.add_argument("--out", default=os.path.join(ROOT, ".gpu-bundle"))
    ap.add_argument("--gpu-arch", default="sm_90", help="the device's (an H100/H200: sm_90)")
    ap.add_argument("--examples", help="comma-separated example names (default: all)")
    ap.add_argument("--models", help="comma-separated benchmark models (default: all)")
    ap.add_argument("--microcircuit-scale", type=float, default=1.0,
                    help="a scaled copy of the microcircuit (microcircuit_scaled.py) instead "
                         "of the full one: for the bundle's test on the fake device")
    a = ap.parse_args()
    nclc = os.path.join(a.build, "bin", "nclc")
    ncl_run = os.path.join(a.build, "bin", "ncl-run")
    shutil.rmtree(a.out, ignore_errors=True)
    for sub in ("bin", "lib", "examples", "models"):
        os.makedirs(os.path.join(a.out, sub))
    shutil.copy2(ncl_run, os.path.join(a.out, "bin"))
    # libnclrt.so and the name it links to (its soname, which ncl-run needs),
    # as copies: the bundle travels as plain files.
    link = os.path.join(a.build, "lib", "libnclrt.so")
    names = ["libnclrt.so"]
    if os.path.islink(link):
        names.append(os.path.basename(os.readlink(link)))
    for name in names:
        shutil.copyfile(os.path.realpath(link), os.path.join(a.out, "lib", name))

    examples = os.path.join(ROOT, "examples")
    # The examples, and the models gpu_examples.py compares with them.
    more = os.path.join(ROOT, "test", "unit", "runtime", "gpu_models")
    wanted = set(a.examples.split(",")) if a.examples else None
    for folder in (examples, more):
        for f in sorted(os.listdir(folder)):
            if f.endswith(".ncl") and (not wanted or f[:-4] in wanted):
                nclc_compile(nclc, os.path.join(folder, f),
                             os.path.join(a.out, "examples", f[:-4] + ".so"), a.gpu_arch)
    shutil.copytree(os.path.join(examples, "data"), os.path.join(a.out, "examples", "data"))

    wanted = set(a.models.split(",")) if a.models else None
    for name, (source, flags) in MODELS.items():
        if wanted and name not in wanted:
            continue
        path = os.path.join(ROOT, source)
        if name == "microcircuit" and a.microcircuit_scale != 1.0:
            sys.path.insert(0, HERE)
            import microcircuit_scaled
            path = os.path.join(a.out, "models", "microcircuit_scaled.ncl")
            with open(path, "w") as f:
                f.write(microcircuit_scaled.scaled_text(a.microcircuit_scale))
        if not os.path.exists(path):
            print("left out %s: %s does not exist" % (name, source))
            continue
        out = os.path.join(a.out, "models", name + ".so")
        ready = os.path.join(a.out, "examples", os.path.basename(source)[:-4] + ".so")
        if os.path.exists(ready) and not flags:
            shutil.copyfile(ready, out)
        else:
            nclc_compile(nclc, path, out, a.gpu_arch, flags)

    for script in ("gpu_examples.py", "npy_file.py"):
        shutil.copy2(os.path.join(ROOT, "test", "unit", "runtime", script), a.out)
    shutil.copy2(os.path.join(HERE, "gpu_benchmarks.py"), a.out)
    # libnclrt's and ncl-run's sources, for ncl_run.sh to build where the
    # bundle's binaries do not start.
    src = os.path.join(a.out, "src")
    for part in ("support", "runtime"):
        shutil.copytree(os.path.join(ROOT, part), os.path.join(src, part))
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        version = re.search(r'set\(NCL_VERSION "([^"]+)"\)', f.read()).group(1)
    with open(os.path.join(ROOT, "runtime", "include", "ncl", "model_abi.h")) as f:
        abi = re.search(r"(?m)^#define NCL_ABI_VERSION (\d+)u", f.read()).group(1)
    with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
        f.write(SRC_CMAKE.replace("@VERSION@", version).replace("@ABI@", abi))
    with open(os.path.join(a.out, "ncl_run.sh"), "w") as f:
        f.write(NCL_RUN_SH)
    for script, text in (("run.sh", RUN_SH), ("sanitize.sh", SANITIZE_SH)):
        with open(os.path.join(a.out, script), "w") as f:
            f.write(text)
        os.chmod(os.path.join(a.out, script), 0o755)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.out) for f in fs)
    print("bundle %s: %.1f MB for %s" % (a.out, size / 1e6, a.gpu_arch))


if __name__ == "__main__":
    main()
