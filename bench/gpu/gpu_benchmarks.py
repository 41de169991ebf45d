#!/usr/bin/env python3
"""NCL benchmark, GPU section (issue 15): each model on the CUDA backend beside
the CPU backend of the same library, and the GPU's memory bandwidth measured in
the same run. Standard library only: it runs on the device machine from the
bundle that bench/gpu/make_bundle.py makes (no nclc there), and here on the
fake driver as a smoke test (ctest bench.gpu.on-fake-device).

usage: gpu_benchmarks.py --ncl-run NCL_RUN --models DIR [--only a,b]
                         [--cpu-threads N] [--quick] [--json FILE]

DIR holds the libraries compiled with nclc --target=cuda: cuba.so, cobahh.so,
brunel.so (examples/), lif_uncoupled.so (bench/), eirnn_batch.so,
eirnn_batch_f32.so and microcircuit.so (bench/gpu/); a missing one is
skipped, saying so.

Per model and backend: ncl-run MODEL.so --backend B --time T --out DIR ->
run.json timings.simulate_s (the simulation loop, not load or init), printed
as seconds per biological second (the real-time factor), microseconds per
step, and the ratio CPU/GPU (> 1: the GPU is faster); for the CUDA run, from
run.json's device_stats, the driver calls and waits per step and the share of
the loop the host spent waiting for the device, and from its device_kernels
each kernel's registers per thread and blocks of 256 threads per
multiprocessor.

The hardware limit: the device-to-device copy rate of the driver
(cuMemcpyDtoD of 1 GiB, bytes read plus bytes written per second), measured
first. A model's "roofline" time per step is the traffic a step must cause at
the least, divided by that rate: every per-neuron variable read and written
once per step and batch member (8 or 4 bytes each, the library's precision),
plus the synapses a step must read: every stored byte of a summed (dense)
projection, or, for spiking projections, the stored bytes of the rows of the
neurons that spiked (the projections' bytes times the mean firing rate times
dt: an estimate that gives every projection the network's mean rate). The
column "of roofline" is roofline time / measured time (1 = the bandwidth
limit). Published anchors (docs/performance.md): the microcircuit at a
real-time factor of 0.27 (GeNN 4.8, RTX 4090) and 0.39 (NEST GPU); the
issue's target on an H100: below 0.1.

Benchmarks, not tests: nothing here fails on a timing. It exits non-zero only
when a run fails.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# key, library, ncl-run arguments, biological time (full, --quick),
# synapse traffic ("spikes" or "dense"), description.
# The small networks, whose steps are a few short kernels, run on the GPU a
# second time without CUDA graphs: what replaying a collection's launches
# saves.
NO_GRAPHS = "cuda/no-graphs"
GRAPHS_COMPARED = {"cuba", "brunel"}
# And once more with every command timed on the device (NCL_CUDA_PROFILE=1,
# without graphs; docs/gpu.md, "Where a step's time goes"): the device time
# per step of each stage and of the runtime's kernels (the EI-RNN's: its
# dense sums, in member tiles).
PROFILE = "cuda/profile"
PROFILED = {"cuba", "brunel", "eirnn-b256", "microcircuit"}
# The dense sums' member tiles (docs/gpu.md, "Member tiles"): the runs above
# launch each in the size the runtime timed fastest in its first launches
# (NCL_CUDA_MEMBER_TILE unset); these run them in tiles of 4, 8 and 16 and
# a thread per index (0) throughout. The results are the same bit for bit;
# what the size costs or saves is only seen on a GPU.
TILES = "cuda/tiles-"
TILE_SIZES = (0, 4, 8, 16)
TILES_COMPARED = {"eirnn-b256", "eirnn-b256-f32"}
# The updates' lean form (docs/gpu.md, "Lean updates"): the microcircuit's
# eight updates, one `_seq` launch a step, in 124 registers on sm_90 (two
# blocks a multiprocessor, two waves on an H200) or in at most 80 (three
# blocks, one wave, spilling the rest). The "cuda" run takes the form the
# runtime timed faster in its first steps; these run each throughout
# (NCL_CUDA_LEAN=0, 1), with the same results.
LEAN = "cuda/lean-"
LEAN_COMPARED = {"microcircuit"}

# The microcircuit first: the headline number (against GeNN's and
# NEST GPU's), which a lent device's few minutes must not run out before.
MODELS = [
    ("microcircuit", "microcircuit.so", [], ("100ms", "2ms"), "spikes",
     "Potjans-Diesmann microcircuit, 77k LIF, 3e8 synapses (bench/gpu/microcircuit.ncl)"),
    ("lif-1e7", "lif_uncoupled.so", [], ("200ms", "30ms"), "spikes",
     "10^7 uncoupled LIF (bench/lif_uncoupled.ncl)"),
    ("cuba", "cuba.so", [], ("1s", "5ms"), "spikes",
     "CUBA, 4000 LIF, 3.2e5 synapses (examples/cuba.ncl)"),
    ("cobahh", "cobahh.so", [], ("1s", "5ms"), "spikes",
     "COBAHH, 4000 Traub-Miles HH (examples/cobahh.ncl)"),
    ("brunel", "brunel.so", [], ("1s", "30ms"), "spikes",
     "Brunel 2000 A, 10^4 LIF, 10^7 synapses (examples/brunel.ncl)"),
    ("eirnn-b256", "eirnn_batch.so", [], ("2s", "400ms"), "dense",
     "EI-RNN, 1024 units, batch 256 (bench/gpu/eirnn_batch.ncl)"),
    ("eirnn-b256-f32", "eirnn_batch_f32.so", [], ("2s", "400ms"), "dense",
     "the same in float32 (nclc --precision=f32), the PyTorch user's precision"),
]
QUICK_SIZES = {"lif-1e7": ["--size", "P=10000"], "eirnn-b256": ["--batch", "20"],
               "eirnn-b256-f32": ["--batch", "20"]}
ANCHORS = {"microcircuit": "GeNN 4.8 on an RTX 4090: 0.27 s/s; NEST GPU: 0.39 s/s; "
                           "issue 15's target on an H100: < 0.1 s/s"}


def device_bandwidth():
    """(device name, bytes per second of a device-to-device copy counting reads and
    writes) through the driver API, or (None, why not)."""
    name = os.environ.get("NCL_CUDA_DRIVER") or "libcuda.so.1"
    try:
        cu = ctypes.CDLL(name)
    except OSError as e:
        return None, "no NVIDIA driver (%s)" % e
    ptr = ctypes.c_uint64
    if cu.cuInit(0) != 0:
        return None, "cuInit failed"
    dev, ctx, count = ctypes.c_int(0), ctypes.c_void_p(), ctypes.c_int(0)
    if cu.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return None, "no CUDA device"
    cu.cuDeviceGet(ctypes.byref(dev), 0)
    raw = ctypes.create_string_buffer(256)
    cu.cuDeviceGetName(raw, 255, dev)
    device = raw.value.decode()
    if not hasattr(cu, "cuMemcpyDtoD_v2"):
        return device, None
    cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev)
    cu.cuCtxSetCurrent(ctx)
    # 1 GiB each way on a GPU; the fake driver's "device" is host memory.
    size = (1 << 30) if "fake" not in name else (1 << 24)
    a, b = ptr(0), ptr(0)
    if cu.cuMemAlloc_v2(ctypes.byref(a), ctypes.c_size_t(size)) != 0 or \
            cu.cuMemAlloc_v2(ctypes.byref(b), ctypes.c_size_t(size)) != 0:
        return device, None
    cu.cuMemsetD8_v2(a, ctypes.c_ubyte(1), ctypes.c_size_t(size))
    best = None
    for _ in range(3):
        cu.cuMemcpyDtoD_v2(b, a, ctypes.c_size_t(size))  # warm-up of this round
        cu.cuCtxSynchronize()
        reps = 10
        start = time.perf_counter()
        for _ in range(reps):
            cu.cuMemcpyDtoD_v2(b, a, ctypes.c_size_t(size))
        if cu.cuCtxSynchronize() != 0:
            return device, None
        rate = 2.0 * size * reps / (time.perf_counter() - start)
        best = rate if best is None else max(best, rate)
    cu.cuMemFree_v2(a)
    cu.cuMemFree_v2(b)
    cu.cuDevicePrimaryCtxRelease_v2(dev)
    return device, best


def nclrt_state_vars(nclrt, library):
    """{population: number of per-neuron variables} from the library's
    descriptor through libnclrt (no ncl_init)."""
    rt = ctypes.CDLL(nclrt)
    rt.ncl_open.restype = ctypes.c_void_p
    rt.ncl_open.argtypes = [ctypes.c_char_p]
    rt.ncl_population_name.restype = ctypes.c_char_p
    rt.ncl_population_name.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    rt.ncl_num_populations.argtypes = [ctypes.c_void_p]
    rt.ncl_num_vars.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    rt.ncl_close.argtypes = [ctypes.c_void_p]
    m = rt.ncl_open(library.encode())
    if not m:
        return {}
    out = {}
    for p in range(rt.ncl_num_populations(m)):
        pop = rt.ncl_population_name(m, p)
        out[pop.decode()] = rt.ncl_num_vars(m, pop)
    rt.ncl_close(m)
    return out


PROJECTION_LINE = re.compile(r"^(\S+)\s+\S+\s+(\S+)\s+->\s+(\S+)\s+(\d+)\s+([\d.]+)\s*$")


def run(ncl_run, library, backend, args, bio_time, threads, env, timeout):
    """(run.json, {projection: stored bytes}) of one run, or (None, error)."""
    out = tempfile.mkdtemp(prefix="ncl-gpu-bench-")
    try:
        if backend == NO_GRAPHS:  # every launch issued (docs/gpu.md, "CUDA graphs")
            env = dict(env, NCL_CUDA_GRAPHS="0")
        if backend == PROFILE:
            env = dict(env, NCL_CUDA_PROFILE="1")
        if backend.startswith(TILES):
            env = dict(env, NCL_CUDA_MEMBER_TILE=backend[len(TILES):])
        if backend.startswith(LEAN):
            env = dict(env, NCL_CUDA_LEAN=backend[len(LEAN):])
        cmd = [ncl_run, library, "--backend=" + backend.split("/")[0], "--time", bio_time,
               "--out", out] + args
        # On cuda the threads build the state at init (docs/gpu.md); one
        # host thread drives the device.
        cmd += ["--threads", str(threads)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            # A device lent for minutes: one slow model must not take them all.
            return None, "no result within %d s (--timeout)" % timeout
        if p.returncode != 0:
            return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[-400:])
        with open(os.path.join(out, "run.json")) as f:
            meta = json.load(f)
        projections = {}
        for line in p.stdout.splitlines():
            m = PROJECTION_LINE.match(line)
            if m:
                projections[m.group(1)] = int(m.group(4)) * float(m.group(5))
        return (meta, projections), None
    finally:
        shutil.rmtree(out, ignore_errors=True)


def roofline_bytes_per_step(meta, projections, state_vars, traffic):
    """The least traffic of a step (see the module's description)."""
    elem = 8 if meta["precision"] == 64 else 4
    batch = meta.get("batch", 1) or 1
    neurons = sum(p["size"] for p in meta["populations"].values())
    state = sum(meta["populations"][p]["size"] * state_vars.get(p, 1)
                for p in meta["populations"])
    total = 2.0 * state * elem * batch
    synapse_bytes = sum(projections.values())
    if traffic == "dense":
        total += synapse_bytes
    else:
        spikes = sum(p["spikes"] for p in meta["populations"].values())
        rate_per_step = spikes / max(1, neurons * meta["steps"])  # per neuron and step
        total += synapse_bytes * rate_per_step
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ncl-run", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--nclrt", help="libnclrt.so (default: lib/ beside the ncl-run's bin/)")
    ap.add_argument("--only", help="comma-separated model keys")
    ap.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="tiny runs: a smoke test")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--timeout", type=int, default=150,
                    help="seconds one run may take, load and init included (default 150)")
    a = ap.parse_args()
    nclrt = a.nclrt or os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(a.ncl_run))), "lib", "libnclrt.so")
    env = dict(os.environ)

    device, bandwidth = device_bandwidth()
    if device is None:
        print("no GPU: %s; the CUDA runs will fail" % bandwidth)
        bandwidth = None
    print("device: %s" % device)
    print("device-to-device copy: %s" % ("%.0f GB/s (read + write)" % (bandwidth / 1e9)
                                          if bandwidth else "not measured"))
    print("CPU threads: %d" % a.cpu_threads)
    results = {"device": device, "copy_bytes_per_s": bandwidth, "cpu_threads": a.cpu_threads,
               "models": {}}
    header = "%-14s %-14s %9s %10s %11s %12s  %s" % (
        "model", "backend", "steps", "s/bio-s", "us/step", "of roofline", "CPU/GPU")
    print(header)
    failed = 0
    only = set(a.only.split(",")) if a.only else None
    for key, lib, args, times, traffic, description in MODELS:
        if only and key not in only:
            continue
        library = os.path.join(a.models, lib)
        if not os.path.exists(library):
            print("%-14s skipped: %s is not in %s" % (key, lib, a.models))
            continue
        bio_time = times[1] if a.quick else times[0]
        args = args + (QUICK_SIZES.get(key, []) if a.quick else [])
        state_vars = nclrt_state_vars(nclrt, library) if os.path.exists(nclrt) else {}
        entry = {"description": description, "time": bio_time, "args": args}
        seconds = {}
        backends = ("cpu", "cuda") + ((NO_GRAPHS,) if key in GRAPHS_COMPARED else ()) + \
            ((PROFILE,) if key in PROFILED else ()) + \
            (tuple(TILES + str(t) for t in TILE_SIZES) if key in TILES_COMPARED else ()) + \
            ((LEAN + "0", LEAN + "1") if key in LEAN_COMPARED else ())
        for backend in backends:
            got, error = run(a.ncl_run, library, backend, args, bio_time, a.cpu_threads, env,
                             a.timeout)
            if not got:
                print("%-14s %-14s failed: %s" % (key, backend, error))
                failed += 1
                continue
            meta, projections = got
            sim = meta["timings"]["simulate_s"]
            steps = meta["steps"]
            per_bio = sim / meta["duration"]
            per_step = sim / max(1, steps)
            roof = roofline_bytes_per_step(meta, projections, state_vars, traffic)
            share = (roof / bandwidth) / per_step if bandwidth and backend != "cpu" else None
            seconds[backend] = sim
            ratio = ("%.2f" % (seconds["cpu"] / sim)) if backend != "cpu" and \
                "cpu" in seconds else ""
            print("%-14s %-14s %9d %10.4g %11.4g %12s  %s" % (
                key, backend, steps, per_bio, per_step * 1e6,
                "%.3f" % share if share is not None else "", ratio))
            entry[backend] = {"simulate_s": sim, "steps": steps, "s_per_bio_s": per_bio,
                              "us_per_step": per_step * 1e6, "roofline_bytes_per_step": roof,
                              "of_roofline": share, "device": meta.get("device"),
                              "spikes": {p: v["spikes"] for p, v in
                                         meta["populations"].items()},
                              "synapse_bytes": sum(projections.values()),
                              "member_tiles": meta.get("device_member_tiles"),
                              "lean_updates": meta.get("device_lean_updates")}
            tiling = meta.get("device_member_tiles") or []
            if backend.startswith(TILES) and \
                    any(str(t["members"]) != backend[len(TILES):] for t in tiling):
                print("%-14s %-14s failed: ran with member tiles of %s" % (
                    key, backend, [t["members"] for t in tiling]))
                failed += 1
            leans = meta.get("device_lean_updates") or []
            if backend.startswith(LEAN) and (not leans or any(
                    c["form"] != ("lean" if backend.endswith("1") else "full") for c in leans)):
                print("%-14s %-14s failed: ran in the form %s" % (
                    key, backend, [c["form"] for c in leans] or "of no lean entry"))
                failed += 1
            if backend == "cuda" and leans:
                # The form each update `_seq` took, why, each form's blocks
                # per multiprocessor and, where timed, mean time per launch.
                def form(c):
                    blocks = c.get("blocks_per_multiprocessor") or {}
                    times = c.get("timed_us") or {}
                    return "%s %s by %s (blocks full %s, lean %s%s)" % (
                        c["entry"], c["form"], c["chosen_by"], blocks.get("full"),
                        blocks.get("lean"), "".join(
                            "; %s %.3g us" % (k, v) for k, v in times.items() if v is not None))
                print("%-14s %-14s lean updates: %s" % ("", "", "; ".join(form(c) for c in leans)))
            if backend == "cuda" and tiling:
                # The size each dense sum took, and each size's mean device
                # time per launch in its first launches.
                def timed(t):
                    times = t.get("timed_us") or {}
                    return "%s %s%s" % (t["stage"], t["members"], " (%s)" % ", ".join(
                        "%s: %.3g us" % (k, v) for k, v in times.items() if v is not None)
                        if times else "")
                print("%-14s %-14s member tiles: %s" % ("", "", "; ".join(timed(t) for t in tiling)))
            stats = meta.get("device_stats")
            if backend != "cpu" and stats:
                # Where a GPU's step goes besides its kernels: the host's
                # driver calls and its waits (run.json's device_stats cover
                # the whole run, init's uploads included).
                per = max(1, steps)
                graphs = stats.get("graph_launches", 0)
                calls = stats["launches"] + stats["copies_to_device"] + \
                    stats["copies_to_host"] + stats["copies_on_device"] + graphs
                print("%-14s %-14s per step: %.1f launches and %.3f CUDA graphs, %.1f driver "
                      "calls, %.3f waits; waiting %.0f %% of the loop" % (
                          "", "", stats["launches"] / per, graphs / per, calls / per,
                          stats["waits"] / per,
                          100.0 * stats["wait_s"] / sim if sim > 0 else 0.0))
                entry[backend]["device_stats"] = stats
            profile = meta.get("device_profile")
            if profile:
                # The device's time per step for each kind of command, most
                # first, and how much of the loop the device was busy.
                per = max(1, steps)
                busy = sum(e["device_s"] for e in profile)
                print("%-14s %-14s device time per step: %s; busy %.3g of %.3g us (%.0f %%)" % (
                    "", "", ", ".join("%s %.3g us" % (e["what"], 1e6 * e["device_s"] / per)
                                      for e in profile[:6]),
                    1e6 * busy / per, per_step * 1e6, 100.0 * busy / sim if sim > 0 else 0.0))
                entry[backend]["device_profile"] = profile
            elif meta.get("device_profile_note"):
                print("%-14s %-14s %s" % ("", "", meta["device_profile_note"]))
            kernels = meta.get("device_kernels")
            if backend == "cuda" and kernels:
                # What each kernel holds (run.json's device_kernels): its
                # registers per thread and the blocks of 256 threads one
                # multiprocessor holds, which say how many waves a launch of
                # N threads takes (N / (256 * blocks * multiprocessors)).
                def held(k):
                    count = lambda n: "?" if n is None else str(n)
                    spill = " %s B local" % k["local_bytes"] if k.get("local_bytes") else ""
                    return "%s %s regs %s blocks%s" % (k["entry"], count(k["registers"]),
                                                       count(k["blocks_per_multiprocessor"]),
                                                       spill)
                print("%-14s %-14s kernels (%s multiprocessors): %s" % (
                    "", "", meta.get("device_multiprocessors") or "?",
                    ", ".join(held(k) for k in kernels)))
                entry[backend]["device_kernels"] = kernels
                entry[backend]["device_multiprocessors"] = meta.get("device_multiprocessors")
        if key in ANCHORS:
            print("%-14s anchors: %s" % ("", ANCHORS[key]))
        results["models"][key] = entry
        if a.json:  # after each model: what ran survives a run stopped later
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if failed:
        sys.exit("%d run(s) failed" % failed)


if __name__ == "__main__":
    main()
