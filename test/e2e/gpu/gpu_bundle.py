#!/usr/bin/env python3
"""The GPU bundle (bench/gpu/make_bundle.py, docs/gpu.md "Checking on a GPU") on
the fake device: made from this build for two examples and three benchmark
models, then its run.sh run with the fake driver, as it runs on a GPU machine.
Requires that every example it holds matched the CPU, and that every benchmark
model ran on both backends with the same spikes: the bundle's scripts cannot
rot unnoticed between the sessions that have a GPU. Then, with the bundle's
ncl-run made to fail as a binary built for other system libraries does,
run.sh must build libnclrt and ncl-run from the bundle's sources and go on.

usage: gpu_bundle.py BUILD FAKE_DRIVER WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

build, driver, work = sys.argv[1:4]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
shutil.rmtree(work, ignore_errors=True)
bundle, out = os.path.join(work, "bundle"), os.path.join(work, "out")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


subprocess.run([sys.executable, os.path.join(root, "bench", "gpu", "make_bundle.py"),
                "--build", build, "--out", bundle, "--examples", "cuba,delays",
                "--models", "cuba,lif_uncoupled,brunel,eirnn_batch,microcircuit",
                "--microcircuit-scale", "0.02"], check=True)
# The fake driver reports the microcircuit's update `_seq` entry in 124
# registers and its lean form in 80, as ptxas makes them for sm_90: the
# runtime then times both (docs/gpu.md, "Lean updates").
lean_entry = "ncl_step_shared1_gpu_seq"
env = dict(os.environ, NCL_CUDA_DRIVER=driver, OUT=out,
           NCL_BUNDLE_BENCH_ARGS="--quick --cpu-threads 2",
           NCL_FAKE_CUDA_REGISTERS="%s=124,%s_lean=80" % (lean_entry, lean_entry))
# Run from elsewhere, as the device runs it: nothing may come from the build.
p = subprocess.run([os.path.join(bundle, "run.sh")], env=env, cwd=work)
check(p.returncode == 0, "run.sh exits 0 (exit %d)" % p.returncode)

with open(os.path.join(out, "examples.log")) as f:
    log = f.read()
for name in ("cuba", "delays"):
    check("ok   %s.ncl (GPU)" % name in log, "%s matched the CPU on the device" % name)
check("FAIL" not in log, "no example failed")

with open(os.path.join(out, "bench.json")) as f:
    bench = json.load(f)
check(bench["device"] == "NCL fake CUDA device", "the benchmarks found the device")
check((bench["copy_bytes_per_s"] or 0) > 0, "the device's copy rate was measured")
for key in ("cuba", "lif-1e7", "brunel", "microcircuit"):
    entry = bench["models"].get(key, {})
    cpu, cuda = entry.get("cpu"), entry.get("cuda")
    check(cpu is not None and cuda is not None, "%s ran on both backends" % key)
    if not (cpu and cuda):
        continue
    check(cuda["device"] == bench["device"] and cpu["device"] is None,
          "%s: the CUDA run used the device, the CPU run none" % key)
    spikes = sum(cpu["spikes"].values())
    check(spikes > 0 and cpu["spikes"] == cuda["spikes"],
          "%s: the same spikes on both (%d)" % (key, spikes))
    check(cuda["roofline_bytes_per_step"] > 0 and cuda["steps"] == cpu["steps"] > 0,
          "%s: steps and the least traffic per step reported" % key)
    if key in ("cuba", "brunel"):
        # Run again without CUDA graphs, for the difference they make.
        plain = entry.get("cuda/no-graphs") or {}
        check(plain.get("spikes") == cuda["spikes"] and
              (plain.get("device_stats") or {}).get("graph_launches") == 0,
              "%s: the run without CUDA graphs has the same spikes and no graph" % key)
        # And with every command timed (NCL_CUDA_PROFILE=1): the same
        # spikes, no graph, and each command of the run in the profile.
        timed = entry.get("cuda/profile") or {}
        profile = timed.get("device_profile") or []
        timed_stats = timed.get("device_stats") or {}
        check(timed.get("spikes") == cuda["spikes"] and timed_stats.get("graph_launches") == 0
              and any(e["what"] == "P.update" for e in profile)
              and sum(e["commands"] for e in profile) ==
              timed_stats.get("launches", 0) + timed_stats.get("copies_on_device", 0),
              "%s: the profiled run has the same spikes and times every launch (%s)"
              % (key, [e["what"] for e in profile]))
    kernels = cuda.get("device_kernels") or []
    check(cuda.get("device_multiprocessors") == 2 and
          any(k["entry"] == ("ncl_step_shared1_gpu" if key == "microcircuit"
                             else "ncl_P_update_gpu") and k["registers"] == 40 and
              k["blocks_per_multiprocessor"] == 6 for k in kernels),
          "%s: each kernel's registers and blocks per multiprocessor reported (%s)"
          % (key, kernels))
    stats = cuda.get("device_stats") or {}
    check(stats.get("launches", 0) > 0 and stats.get("waits", 0) > 0,
          "%s: the CUDA run's driver calls and waits reported (%s)" % (key, stats))
# The microcircuit's (a 2 % copy) updates: both forms timed in the first
# steps and one taken, then each form throughout (NCL_CUDA_LEAN), with the
# same spikes.
circuit = bench["models"].get("microcircuit", {})
leans = (circuit.get("cuda") or {}).get("lean_updates") or []
check(len(leans) == 1 and leans[0]["entry"] == lean_entry and
      leans[0]["form"] in ("full", "lean") and leans[0]["chosen_by"] == "timed" and
      leans[0]["blocks_per_multiprocessor"] == {"full": 2, "lean": 3} and
      None not in (leans[0]["timed_us"] or {None: None}).values(),
      "microcircuit: the updates' lean form timed and one form chosen (%s)" % leans)
for form in (0, 1):
    run = circuit.get("cuda/lean-%d" % form) or {}
    leans = run.get("lean_updates") or []
    check(len(leans) == 1 and leans[0]["form"] == ("lean" if form else "full") and
          leans[0]["chosen_by"] == "NCL_CUDA_LEAN" and
          run.get("spikes") == (circuit.get("cpu") or {}).get("spikes"),
          "microcircuit: a run in the %s form with the CPU's spikes (%s)"
          % ("lean" if form else "full", leans))
# The EI-RNN's dense sums (20 batch members in --quick): in the size the
# runtime timed fastest (each size timed), then in each size and in none
# (NCL_CUDA_MEMBER_TILE), each run saying so.
eirnn = bench["models"].get("eirnn-b256", {})
tiling = (eirnn.get("cuda") or {}).get("member_tiles") or []
check(len(tiling) == 2 and all(t["members"] in (0, 4, 8, 16) and t["timed_us"] and
                               None not in t["timed_us"].values() for t in tiling),
      "eirnn-b256: its 2 dense sums' member tiles timed and chosen (%s)" % tiling)
for size in (0, 4, 8, 16):
    run = eirnn.get("cuda/tiles-%d" % size) or {}
    tiling = run.get("member_tiles") or []
    check(len(tiling) == 2 and all(t["members"] == size and t["timed_us"] is None
                                   for t in tiling) and run.get("steps", 0) > 0,
          "eirnn-b256: a run with member tiles of %d (%s)" % (size, tiling))

# sanitize.sh, with a stand-in for CUDA's compute-sanitizer (which the fake
# device cannot serve): it records its tool and runs the program, so the
# script's runs, paths and exit codes are checked; the stand-in fails the
# initcheck of delays, which must fail the script and say so.
stubs = os.path.join(work, "stubs")
os.makedirs(stubs)
calls = os.path.join(work, "sanitizer-calls.txt")
with open(os.path.join(stubs, "compute-sanitizer"), "w") as f:
    f.write("""#!/bin/sh
tool=
while [ $# -gt 0 ]; do
  case "$1" in
    --tool) tool=$2; shift 2 ;;
    --error-exitcode|--print-limit) shift 2 ;;
    *) break ;;
  esac
done
echo "$tool $(basename "$2")" >> "%s"
case "$tool $(basename "$2")" in "initcheck delays.so") echo "planted error"; exit 3 ;; esac
exec "$@"
""" % calls)
os.chmod(os.path.join(stubs, "compute-sanitizer"), 0o755)
p = subprocess.run([os.path.join(bundle, "sanitize.sh")], cwd=work,
                   env=dict(env, PATH=stubs + os.pathsep + os.environ["PATH"]))
with open(os.path.join(out, "sanitize.log")) as f:
    log = f.read()
ran = open(calls).read().split("\n") if os.path.exists(calls) else []
check(ran[:-1] == ["memcheck cuba.so", "memcheck delays.so", "initcheck cuba.so",
                   "initcheck delays.so"],
      "sanitize.sh ran memcheck and initcheck on the bundle's examples (%s)" % ran)
check("== memcheck cuba: exit 0" in log and "== initcheck delays: exit 3" in log and
      "planted error" in log and p.returncode == 1,
      "sanitize.sh logs each run's exit and fails where one fails (exit %d)" % p.returncode)

# A GPU machine whose system libraries the bundle's binaries do not suit
# (another glibc): ncl_run.sh builds libnclrt and ncl-run there from the
# bundle's src/ with CMake, and run.sh goes on with them. Here the bundle's
# ncl-run is replaced by one that fails as such a binary does.
broken = os.path.join(bundle, "bin", "ncl-run")
with open(broken, "w") as f:
    f.write("#!/bin/sh\necho \"ncl-run: /lib/x86_64-linux-gnu/libc.so.6: version "
            "'GLIBC_2.99' not found\" >&2\nexit 1\n")
rebuilt_out = os.path.join(work, "out-rebuilt")
p = subprocess.run([os.path.join(bundle, "run.sh")], cwd=work, capture_output=True, text=True,
                   env=dict(env, OUT=rebuilt_out, NCL_BUNDLE_BUILD=os.path.join(work, "rebuilt"),
                            NCL_BUNDLE_BENCH_ARGS="--quick --cpu-threads 2 --only cuba"))
print(p.stdout[-3000:], p.stderr[-2000:])
check(p.returncode == 0 and "GLIBC_2.99" in p.stdout and "built: ncl-run (NCL)" in p.stdout,
      "run.sh built ncl-run where the bundle's did not start, and went on (exit %d)"
      % p.returncode)
with open(os.path.join(rebuilt_out, "examples.log")) as f:
    log = f.read()
check(all("ok   %s.ncl (GPU)" % name in log for name in ("cuba", "delays")) and "FAIL" not in log,
      "the examples matched the CPU with the rebuilt ncl-run")
with open(os.path.join(rebuilt_out, "bench.json")) as f:
    cuba = json.load(f)["models"].get("cuba", {})
check((cuba.get("cpu") or {}).get("spikes") == (cuba.get("cuda") or {}).get("spikes") and
      cuba.get("cuda") is not None, "the benchmark ran with the rebuilt ncl-run")
if failures:
    sys.exit("%d check(s) failed" % len(failures))
