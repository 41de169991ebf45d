#!/usr/bin/env python3
"""Every example on the CUDA backend against the CPU backend (docs/gpu.md).

usage: gpu_examples.py fake NCLC NCL_RUN EXAMPLES_DIR WORKDIR SHIM FAKE_DRIVER [MORE_DIR]
       gpu_examples.py gpu  NCLC NCL_RUN EXAMPLES_DIR WORKDIR [MORE_DIR]
       gpu_examples.py prebuilt - NCL_RUN LIBRARIES_DIR WORKDIR

fake: no GPU needed. Each example is compiled for the CPU and run through
  the shim (fixtures/gpu_shim.c, which gives every stage a GPU kernel name)
  on the fake driver (fixtures/fake_cuda.c, a device emulated on the host
  that runs each stage's CPU function once per GPU thread): the CUDA
  backend's orchestration must give the CPU's files byte for byte (the
  records, the monitors and the per-synapse state --save-weights writes,
  which the device keeps until the host reads it). Then each example is
  compiled with --target=cuda --gpu-emulation, which adds the GPU's kernels
  compiled for the host, and the fake device runs those a thread at a time:
  the GPU's code (thread mapping, spike slots by atomic add, whole-range
  stages on thread 0) must give the CPU's files byte for byte too
  (docs/gpu.md, "The GPU's code on the host"); the examples whose deliver
  updates presynaptic traces must run it split in two, and stdp_song made
  to allow batch members (its ncl dialect without batch_refusal) must run
  it on one thread with 2 members, with the CPU's files.
gpu: a real GPU (ctest -L gpu). Each example is compiled with
  --target=cuda and run with --backend=cpu and --backend=cuda: spikes and
  events must be identical, state and monitor values within MAX_ULPS units
  in the last place. Exits 77 (skipped) with a message where there is no
  driver, no device, or no nclc --target=cuda.
prebuilt: as gpu, on libraries compiled elsewhere with --target=cuda
  (LIBRARIES_DIR/NAME.so, the examples' data files in LIBRARIES_DIR/data):
  the bundle of bench/gpu/make_bundle.py, for a GPU machine without nclc.
  The driver is NCL_CUDA_DRIVER's where it is set (the fake one in the
  bundle's smoke test), else libcuda.so.1.
MORE_DIR: more models compared as the examples are (gpu_models/: what the
  examples do not exercise, such as synapse monitors).
"""
import ctypes
import json
import os
import re
import shutil
import subprocess
import struct
import sys

from npy_file import read_npy  # beside this file (and in the GPU bundle)


# docs/gpu.md: kernels compute what the CPU kernels compute, operation for
# operation, so the state is expected bit for bit; the bound is what the
# comparison on a real GPU allows.
MAX_ULPS = 4
SKIP = 77
# Simulated time per example: long enough for every example to spike and
# deliver (and stdp_song's output to run on_post), short enough for the fake
# device (a kernel call per neuron).
TIME = "100ms"
mode = sys.argv[1]
# Seconds one run may take: on the fake device, which runs a kernel call per
# neuron, the slowest is Brunel's race-checked run (about 180 s on an idle
# 2-core machine: every access of its row searches goes through the check),
# so twice that for a loaded one; on a GPU (and the CPU beside it) 100 ms of
# any example takes seconds, and a run that hangs must leave the bundle's
# other checks time within a lent GPU's few minutes.
RUN_TIMEOUT = 600 if mode == "fake" else 60

nclc, ncl_run, examples, work = sys.argv[2:6]
more = sys.argv[8] if mode == "fake" and len(sys.argv) > 8 else (
    sys.argv[6] if mode == "gpu" and len(sys.argv) > 6 else None)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def nclc_has_cuda():
    help_text = subprocess.run([nclc, "--help"], capture_output=True, text=True).stdout
    return "--target" in help_text and "cuda" in help_text


def example_files():
    names = [f for f in os.listdir(examples) if f.endswith(".ncl")]
    if more:
        names += [f for f in os.listdir(more) if f.endswith(".ncl")]
    return sorted(names)


def source_of(name):
    if more and os.path.exists(os.path.join(more, name)):
        return os.path.join(more, name)
    return os.path.join(examples, name)


def compile_example(name, target=None, flags=()):
    out = os.path.join(work, name[:-4] + ("-" + target if target else "") + ".so")
    cmd = [nclc, source_of(name), "-o", out, "-j1"] + list(flags)
    if target:
        cmd.append("--target=" + target)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0 and target and "libdevice" in p.stderr:
        # A model calling sin or cos needs CUDA's libdevice, which only the
        # toolkit has (not installed by scripts/install-deps.sh): nclc refuses it
        # with one message (tested in lit), and this example is skipped.
        print("skipped %s for --target=%s: the CUDA toolkit's libdevice is missing"
              % (name, target))
        return None
    if p.returncode != 0:
        check(False, "%s: nclc %s failed: %s" % (name, " ".join(cmd[2:]), p.stderr.strip()))
        return None
    return out


def run_ncl(library, backend, out, env, extra=()):
    """ncl-run on `library` for TIME, its output in `out`: the finished
    process, or None where it gave no result within RUN_TIMEOUT (100 ms of
    an example takes seconds; a hung device must not stop the other
    examples, and a lent GPU's minutes are few)."""
    # Prebuilt libraries were compiled elsewhere: their data files are here.
    data = ["--data-dir", examples] if mode == "prebuilt" else []
    try:
        return subprocess.run([ncl_run, library, "--backend=" + backend, "--time", TIME, "--out",
                               out, "--quiet"] + data + list(extra),
                              capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None


def name_the_fault(library, backend, out, env, extra=()):
    """The message of a run of `library` with each command waited for alone
    (NCL_CUDA_WAIT_EACH=1), which names a kernel that faults."""
    p = run_ncl(library, backend, out + "-wait-each", dict(env, NCL_CUDA_WAIT_EACH="1"), extra)
    return "exit %d: %s" % (p.returncode, p.stderr.strip()) if p else \
        "no result within %d s" % RUN_TIMEOUT


def run(library, backend, out, env, extra=()):
    shutil.rmtree(out, ignore_errors=True)
    p = run_ncl(library, backend, out, env,
                ["--save-weights", os.path.join(out, "weights")] + list(extra))
    if p is None:
        check(False, "%s on %s: no result within %d s" % (library, backend, RUN_TIMEOUT))
        return None
    if p.returncode != 0:
        check(False, "%s on %s: exit %d: %s" % (library, backend, p.returncode, p.stderr.strip()))
        if "NCL_CUDA_WAIT_EACH=1 names it" in p.stderr and "NCL_CUDA_WAIT_EACH" not in env:
            # A kernel faulted, and the wait that saw it named itself: once
            # more, each command waited for alone, which names the kernel.
            print("     again with NCL_CUDA_WAIT_EACH=1, to name the kernel: %s"
                  % name_the_fault(library, backend, out, env, extra), flush=True)
        return None
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    if meta["backend"] != backend:
        check(False, "%s: ran on %s, not %s" % (library, meta["backend"], backend))
        return None
    return meta


def ulps(descr, a, b):
    """Largest distance in units in the last place between two equal-length
    buffers of little-endian floats ('<f4' or '<f8')."""
    code, top = ("<i", 1 << 31) if descr == "<f4" else ("<q", 1 << 63)
    # IEEE bits read as signed integers, mapped onto a line where
    # neighbouring floats differ by 1 (-0 and +0 both at 0).
    line = lambda i: -top - i if i < 0 else i
    return max((abs(line(x) - line(y))
                for (x,), (y,) in zip(struct.iter_unpack(code, a), struct.iter_unpack(code, b))
                if x != y), default=0)


def npy_files(out):
    """The .npy files of a run's directory and of its weights/, relative to it."""
    files = [f for f in os.listdir(out) if f.endswith(".npy")]
    weights = os.path.join(out, "weights")
    if os.path.isdir(weights):
        files += [os.path.join("weights", f) for f in os.listdir(weights) if f.endswith(".npy")]
    return sorted(files)


def compare(name, cpu_dir, gpu_dir, exact):
    cpu_files = npy_files(cpu_dir)
    gpu_files = npy_files(gpu_dir)
    if cpu_files != gpu_files:
        check(False, "%s: different files: %s / %s" % (name, cpu_files, gpu_files))
        return
    worst = 0
    for f in cpu_files:
        (da, sa, a), (db, sb, b) = (read_npy(os.path.join(cpu_dir, f)),
                                    read_npy(os.path.join(gpu_dir, f)))
        # Spike and event times and indices, and monitor times and indices,
        # end in _t and _i: exact everywhere; monitor samples within the bound.
        times_or_indices = f.endswith(("_t.npy", "_i.npy"))
        if exact or times_or_indices or da not in ("<f4", "<f8"):
            if (da, sa) != (db, sb) or a != b:
                check(False, "%s: %s differs" % (name, f))
                return
        else:
            if (da, sa) != (db, sb):
                check(False, "%s: %s is %s %s on the GPU, %s %s on the CPU"
                      % (name, f, db, sb, da, sa))
                return
            worst = max(worst, ulps(da, a, b))
    check(worst <= MAX_ULPS, "%s: %d files the same%s" % (
        name, len(cpu_files), "" if exact else " (state within %d ulps)" % worst))


# The examples with a deliver that updates presynaptic traces, which the GPU
# runs split in two (NCL_GPU_LAUNCH_PER_INDEX_COMMIT, docs/gpu.md).
SPLIT_DELIVERS = {"lsm.ncl", "neuralearn.ncl", "stdp_song.ncl"}

# The examples with deliveries of one shared entry (projections of one
# synapse model), which the runtime launches several at a time through the
# entry's `_seq` (docs/gpu.md, "Deliveries in one launch").
SEQ_DELIVERS = {"brunel.ncl", "coba.ncl", "cobahh.ncl", "cuba.ncl", "distal_reward.ncl",
                "eirnn.ncl", "lsm.ncl", "multiarea.ncl", "polychronization.ncl", "sequence.ncl",
                "seq_subranges.ncl", "dense_sums.ncl"}

# The models with dense sums over batch members in tiles of four, which the
# runtime launches through their member-tiled entries (model_abi.h,
# NCL_GPU_LAUNCH_MEMBER_TILES; docs/gpu.md, "Dense sums").
TILED_SUMS = {"sequence.ncl", "dense_sums.ncl"}

# The models with a synapse monitor, whose samples the runtime's kernel
# gathers on the device (NCL_GPU_GATHER_RECORDS_ENTRY).
GATHERED_RECORDS = {"synapse_monitors.ncl"}

# The networks with three populations or more of one neuron model, whose
# updates share one entry, which the runtime launches together through its
# `_seq` (with two, or in a model without projections, which launches each
# population once a chunk, the entry has none: docs/gpu.md).
SEQ_UPDATES = {"seq_subranges.ncl"}


# ncl_stage_kind, for the report of the kinds the fake device ran.
KINDS = {1: "init", 2: "step", 3: "connect", 4: "deliver", 5: "sum", 6: "on_post",
         8: "deliver_synapses", 9: "connect_condition", 10: "synapse_step", 11: "kwta",
         13: "advance_pre_traces", 14: "advance_post_traces", 15: "kwta_keys", 16: "kwta_gate"}


def fake_mode(shim, driver):
    log = os.path.join(work, "launched-kinds.txt")
    if os.path.exists(log):
        os.remove(log)
    env = dict(os.environ, NCL_CUDA_DRIVER=driver, NCL_FAKE_CUDA_LOG=log)
    for name in example_files():
        lib = compile_example(name)
        if not lib:
            continue
        shim_env = dict(env, NCL_GPU_SHIM_MODEL=lib)
        cpu = os.path.join(work, name[:-4] + "-cpu")
        gpu = os.path.join(work, name[:-4] + "-fake")
        if run(shim, "cpu", cpu, shim_env) and run(shim, "cuda", gpu, shim_env):
            compare(name + " (shim, fake device)", cpu, gpu, exact=True)
    require_every_kind(log, emulated=False)
    if os.path.exists(log):
        os.remove(log)
    split, serial, listed, reading, seq = set(), [], set(), set(), set()
    queued, delayed, seq_updates, tiled, gathered = set(), set(), set(), set(), set()
    for name in example_files():
        lib = compile_example(name, "cuda", ["--gpu-emulation"])
        if not lib:
            continue
        cpu = os.path.join(work, name[:-4] + "-cuda-cpu")
        gpu = os.path.join(work, name[:-4] + "-cuda-fake")
        # The example's own launches, then added to the log of all.
        example_log = os.path.join(work, name[:-4] + "-launched.txt")
        if os.path.exists(example_log):
            os.remove(example_log)
        example_env = dict(env, NCL_FAKE_CUDA_LOG=example_log)
        meta = None
        if run(lib, "cpu", cpu, example_env):
            meta = run(lib, "cuda", gpu, example_env)
            if meta:
                compare(name + " (the GPU's kernels on the fake device)", cpu, gpu, exact=True)
        lines = open(example_log).read().splitlines() if os.path.exists(example_log) else []
        stats = (meta or {}).get("device_stats")
        listing = "spike_lists emulated" in lines or "spike_list emulated" in lines
        if stats and listing:
            # Spikes collected once a chunk (of at least 256 steps), or when
            # the deferred buffer is full (Brunel's 12 500 neurons fill its
            # 2^20 entries in 80 steps), and a few waits to set up: never
            # one a step, as the host's exchange makes.
            check(stats["waits"] <= meta["steps"] / 10 + 8,
                  "%s: %d waits for %d steps with the spike lists on the device"
                  % (name, stats["waits"], meta["steps"]))
        with open(log, "a") as f:
            f.writelines(line + "\n" for line in lines)
        if any(" commit" in line for line in lines):
            split.add(name)
        if any(line.split()[0] == "5" and line.endswith(" tiles emulated") for line in lines):
            tiled.add(name)
        if "gather_records emulated" in lines:
            gathered.add(name)
        if any(line.endswith(" seq emulated") and line.split()[0] in ("4", "8")
               for line in lines):
            seq.add(name)
        if any(line.endswith(" seq emulated") and line.split()[0] == "2" for line in lines):
            seq_updates.add(name)
        # Spike lists stay on the device in the networks whose deliveries
        # (kinds 4, 6, 8) read histories, and so do the arrival queues of
        # per-synapse delays (8: deliver_synapses) with them.
        kinds = {line.split()[0] for line in lines}
        if listing:
            listed.add(name)
        if kinds & {"4", "6", "8"}:
            reading.add(name)
        if "8" in kinds:
            delayed.add(name)
        if "byte-delay arrivals emulated" in lines and stats and \
                stats.get("arrival_launches", 0) > 0:
            queued.add(name)
        # A deliver (kind 4) runs a thread per index (launch 1), or split in
        # two (5) where it updates presynaptic traces: never on one thread.
        serial += [name + ": " + line for line in lines
                   if line.split()[0] == "4" and " launch=2" in line]
    require_every_kind(log, emulated=True)
    check(not serial, "every deliver of the examples ran a thread per index%s"
          % (" (not: %s)" % "; ".join(serial) if serial else ""))
    # The examples whose deliver updates presynaptic traces (STDP's apre):
    # the kernel per index and its commit both ran.
    check(split == SPLIT_DELIVERS, "the split delivers ran in %s (expected: %s)"
          % (", ".join(sorted(split)) or "none", ", ".join(sorted(SPLIT_DELIVERS))))
    check(tiled == TILED_SUMS, "dense sums ran in member tiles in %s (expected: %s)"
          % (", ".join(sorted(tiled)) or "none", ", ".join(sorted(TILED_SUMS))))
    check(gathered == GATHERED_RECORDS,
          "synapse monitors' samples were gathered by a kernel in %s (expected: %s)"
          % (", ".join(sorted(gathered)) or "none", ", ".join(sorted(GATHERED_RECORDS))))
    check(seq == SEQ_DELIVERS, "deliveries ran several in one launch in %s (expected: %s)"
          % (", ".join(sorted(seq)) or "none", ", ".join(sorted(SEQ_DELIVERS))))
    check(seq_updates == SEQ_UPDATES, "updates ran several in one launch in %s (expected: %s)"
          % (", ".join(sorted(seq_updates)) or "none", ", ".join(sorted(SEQ_UPDATES))))
    check(listed == reading, "the spike lists stayed on the device in %s (expected: %s)"
          % (", ".join(sorted(listed)) or "none", ", ".join(sorted(reading)) or "none"))
    check(queued == delayed and delayed,
          "the arrival queues of per-synapse delays stayed on the device in %s (expected: %s)"
          % (", ".join(sorted(queued)) or "none", ", ".join(sorted(delayed)) or "none"))
    shuffled_threads(env)
    batched_traces(env)
    one_list_a_launch(env)
    records_by_copies(env)
    state_scanned_on_host(env)
    nonfinite_found_on_device(env)
    member_tile_sizes(env)
    faults_are_named(env)
    profile_names_groups(env)
    lean_updates(env)


def shuffled_threads(env):
    """Every example's GPU kernels on the fake device again, its threads run
    in a random order (NCL_FAKE_CUDA_ORDER=shuffle; the pass above runs them
    last first) and every access of memory they share checked
    (NCL_FAKE_CUDA_RACES=1: a place one thread stores to and another of the
    launch reads or stores another value to fails the launch): no kernel may
    depend on the order of its threads, which a GPU does not keep. The
    CPU's files byte for byte each time."""
    for name in example_files():
        lib = os.path.join(work, name[:-4] + "-cuda.so")
        cpu = os.path.join(work, name[:-4] + "-cuda-cpu")
        if not os.path.exists(lib) or not os.path.isdir(cpu):
            continue
        gpu = os.path.join(work, name[:-4] + "-cuda-shuffled")
        log = gpu + ".txt"
        if os.path.exists(log):
            os.remove(log)
        if run(lib, "cuda", gpu, dict(env, NCL_FAKE_CUDA_ORDER="shuffle", NCL_FAKE_CUDA_RACES="1",
                                      NCL_FAKE_CUDA_LOG=log)):
            compare(name + " (the GPU's kernels, threads in a random order)", cpu, gpu,
                    exact=True)
            # The check saw the kernels' accesses: it passes no run vacuously
            # (the fake driver also tests the check on made-up launches).
            lines = open(log).read().splitlines() if os.path.exists(log) else []
            check(any(line.endswith(" race-checked") for line in lines),
                  "%s: the race check saw its kernels' accesses" % name)


def faults_are_named(env):
    """A kernel that faults on a GPU is reported by a later wait for the
    device, which names itself: the message says so, and the run that
    gpu_examples.py makes again with NCL_CUDA_WAIT_EACH=1 names the kernel
    (here CUBA's deliveries, one launch for both projections, faulting on
    the fake device: NCL_FAKE_CUDA_FAULT)."""
    lib = os.path.join(work, "cuba-cuda.so")
    if not os.path.exists(lib):
        check(False, "faults_are_named: %s was not compiled" % lib)
        return
    out = os.path.join(work, "cuba-cuda-fault")
    fault_env = dict(env, NCL_FAKE_CUDA_FAULT="Ce.deliver")
    p = run_ncl(lib, "cuda", out, fault_env)
    check(p is not None and p.returncode == 1 and "CUDA_ERROR_ILLEGAL_ADDRESS" in p.stderr and
          "NCL_CUDA_WAIT_EACH=1 names it" in p.stderr,
          "a kernel's fault is reported, with how to name the kernel: %s"
          % (p.stderr.strip() if p else "no result"))
    named = name_the_fault(lib, "cuda", out, fault_env)
    check(named.startswith("exit 1: ") and
          "running the stage 'Ce.deliver' (Ce.deliver and the deliveries launched with it), "
          "waited for alone (NCL_CUDA_WAIT_EACH=1): CUDA_ERROR_ILLEGAL_ADDRESS" in named,
          "NCL_CUDA_WAIT_EACH=1 names the kernel that faults: %s" % named)


def profile_names_groups(env):
    """NCL_CUDA_PROFILE names a `_seq` launch by its own group (the updates
    or the deliveries launched with its first stage), not by the group open
    when it is issued: seq_subranges.ncl's three updates and its deliveries
    are each one launch a step."""
    lib = os.path.join(work, "seq_subranges-cuda.so")
    if not os.path.exists(lib):
        check(False, "profile_names_groups: %s was not compiled" % lib)
        return
    meta = run(lib, "cuda", os.path.join(work, "seq_subranges-cuda-profile"),
               dict(env, NCL_CUDA_PROFILE="1"))
    profile = {e["what"]: e["commands"] for e in (meta or {}).get("device_profile", [])}
    steps = (meta or {}).get("steps", 0)
    check(steps > 0 and profile.get("P.update and the updates launched with it") == steps and
          profile.get("A.deliver and the deliveries launched with it", 0) >= steps - 2,
          "the profile names each launch of several updates or deliveries by its group (%s)"
          % profile)


def lean_updates(env):
    """seq_subranges.ncl's three updates, one `_seq` launch a step, beside
    which the image has the same code in at most 80 registers (`_seq_lean`):
    the runtime times both where the lean form fits more blocks on a
    multiprocessor and the grid does not fit the multiprocessors at once,
    and takes the faster (docs/gpu.md, "Lean updates"). The fake driver
    reports 200 and 80 registers (NCL_FAKE_CUDA_REGISTERS: 1 and 3 blocks)
    and its clock makes one form slow: the runtime must take the other;
    with 124 (2 blocks) the 3 blocks fit the fake's 2 multiprocessors at
    once, and the lean form runs only in the first round. NCL_CUDA_LEAN=1 takes the lean form untimed; by default,
    with the fake driver's 40 registers for both, neither fits more, and
    the lean form never runs; nor does it on a driver without events. The
    CPU's files byte for byte each time."""
    name = "seq_subranges"
    lib = os.path.join(work, name + "-cuda.so")
    cpu = os.path.join(work, name + "-cuda-cpu")
    if not os.path.exists(lib) or not os.path.isdir(cpu):
        check(False, "lean_updates: %s was not compiled and run on the CPU" % lib)
        return
    entry = "ncl_step_shared1_gpu_seq"
    lean = entry + "_lean"
    # 1 block of 256 threads a multiprocessor, and 3 lean: the group's 3
    # blocks (P, Q, R) take two waves of the fake device's 2 multiprocessors
    # in the entry's form, one lean.
    registers = "%s=200,%s=80" % (entry, lean)
    runs = [("the full entry slow", {"NCL_FAKE_CUDA_REGISTERS": registers,
                                     "NCL_FAKE_CUDA_SLOW": entry}, "lean", "timed"),
            ("the lean entry slow", {"NCL_FAKE_CUDA_REGISTERS": registers,
                                     "NCL_FAKE_CUDA_SLOW": lean}, "full", "timed"),
            ("NCL_CUDA_LEAN=1", {"NCL_CUDA_LEAN": "1"}, "lean", "NCL_CUDA_LEAN"),
            ("NCL_CUDA_LEAN=0", {"NCL_CUDA_LEAN": "0", "NCL_FAKE_CUDA_REGISTERS": registers},
             "full", "NCL_CUDA_LEAN"),
            ("the same registers", {}, "full", "occupancy"),
            # 2 blocks a multiprocessor: 3 blocks fit the 2 at once.
            ("one wave", {"NCL_FAKE_CUDA_REGISTERS": "%s=124,%s=80" % (entry, lean)},
             "full", "one wave")]
    # A driver without events cannot time them: the entry runs.
    no_events = env["NCL_CUDA_DRIVER"].replace("fake_cuda.so", "fake_cuda_noevents.so")
    if no_events != env["NCL_CUDA_DRIVER"] and os.path.exists(no_events):
        runs.append(("a driver without events", {"NCL_CUDA_DRIVER": no_events,
                                                 "NCL_FAKE_CUDA_REGISTERS": registers},
                     "full", "no events"))
    else:
        check(False, "lean_updates: no driver without events beside %s" % env["NCL_CUDA_DRIVER"])
    for k, (label, settings, form, chosen_by) in enumerate(runs):
        what = "%s, %s" % (name, label)
        gpu = os.path.join(work, "%s-lean%d" % (name, k))
        log = gpu + ".txt"
        if os.path.exists(log):
            os.remove(log)
        run_env = dict(env, NCL_FAKE_CUDA_LOG=log, **settings)
        meta = run(lib, "cuda", gpu, run_env)
        if not meta:
            continue
        choices = meta.get("device_lean_updates") or []
        timed = chosen_by == "timed"
        check(len(choices) == 1 and choices[0]["entry"] == entry and
              choices[0]["form"] == form and choices[0]["chosen_by"] == chosen_by and
              (choices[0]["timed_us"] is not None) == timed,
              "%s: the updates ran in the %s form, chosen by %s (%s)"
              % (what, form, chosen_by, choices))
        ran = (lean + " ran") in (open(log).read().splitlines() if os.path.exists(log) else [])
        check(ran == (form == "lean" or timed or chosen_by == "one wave"),
              "%s: the lean entry %s" % (what, "ran" if ran else "did not run"))
        compare(what, cpu, gpu, exact=True)


def member_tile_sizes(env):
    """dense_sums.ncl with 19 batch members, its dense sums launched in
    member tiles of each size (NCL_CUDA_MEMBER_TILE=4, 8, 16: 4, 2 and 1
    whole tiles, then 3 members a thread per index) and in none (0): the
    CPU's files byte for byte each time, run.json naming the size, and the
    fake device's log the entries of that size only. Then with 16 members
    and the size chosen by timing (the default, NCL_CUDA_MEMBER_TILE unset),
    the fake driver's clock making every entry but one slow: the runtime
    must choose that one, tiles of 16 or a thread per index (docs/gpu.md,
    "Member tiles")."""
    name = "dense_sums.ncl"
    lib = os.path.join(work, name[:-4] + "-cuda.so")
    runs = [(str(size), 19, None, None, size) for size in (0, 4, 8, 16)]
    ptx = subprocess.run([nclc, source_of(name), "--target=cuda", "--emit=ptx"],
                         capture_output=True, text=True).stdout
    sums = re.findall(r"\.entry (ncl_\w+_sum_gpu)\(", ptx)
    check(len(sums) == 4, "%s: the PTX has the entries of 4 sums (%s)" % (name, sums))
    tiles = [s + suffix for s in sums for suffix in ("_tiles", "_tiles8", "_tiles16")]
    runs.append((None, 16, ",".join(tiles), "every tiled entry slow", 0))
    runs.append((None, 16, ",".join(sums + [t for t in tiles if not t.endswith("16")]),
                 "every entry but the tiles of 16 slow", 16))
    cpu_runs = {}
    for setting, batch, slow, slow_label, expected in runs:
        extra = ["--batch", str(batch)]
        if batch not in cpu_runs:
            cpu_runs[batch] = os.path.join(work, "%s-b%d-cpu" % (name[:-4], batch))
            if not os.path.exists(lib) or not run(lib, "cpu", cpu_runs[batch], env, extra):
                check(False, "%s with %d batch members did not run on the CPU" % (name, batch))
                return
        what = "%s, %d members, NCL_CUDA_MEMBER_TILE=%s%s" % (
            name, batch, setting or "(unset)", ", " + slow_label if slow else "")
        gpu = os.path.join(work, "%s-b%d-tiles%s" % (name[:-4], batch, setting or "-timed"))
        log = gpu + ".txt"
        if os.path.exists(log):
            os.remove(log)
        run_env = dict(env, NCL_FAKE_CUDA_LOG=log)
        run_env.pop("NCL_CUDA_MEMBER_TILE", None)
        if setting is not None:
            run_env["NCL_CUDA_MEMBER_TILE"] = setting
        if slow:
            run_env["NCL_FAKE_CUDA_SLOW"] = slow
        meta = run(lib, "cuda", gpu, run_env, extra)
        if not meta:
            continue
        tiling = meta.get("device_member_tiles") or []
        check(len(tiling) == 4 and all(t["members"] == expected for t in tiling),
              "%s: every sum ran in member tiles of %d (%s)" % (what, expected, tiling))
        lines = open(log).read().splitlines() if os.path.exists(log) else []
        sizes = {re.search(r" tiles(\d*) emulated$", line).group(1) or "4"
                 for line in lines if re.search(r" tiles\d* emulated$", line)}
        if setting is None:
            check(all(t["timed_us"] and all(v is not None for v in t["timed_us"].values())
                      for t in tiling) and sizes == {"4", "8", "16"},
                  "%s: each size timed (%s)" % (what, ", ".join(sorted(sizes))))
        else:
            check(sizes == ({setting} if expected else set()) and
                  all(t["timed_us"] is None for t in tiling),
                  "%s: tiles of %s members ran, none timed" % (what, ", ".join(sorted(sizes)) or "no"))
        compare(what, cpu_runs[batch], gpu, exact=True)


def run_without_entry(env, entry, name, tag):
    """Runs the example `name`'s library for the fake device with the fake
    driver hiding the runtime's `entry` (as an older nclc's images lack it);
    returns the lines its launches logged, or None (a failed check) where it
    did not run."""
    lib = os.path.join(work, name[:-4] + "-cuda.so")
    gpu = os.path.join(work, name[:-4] + "-" + tag)
    log = gpu + ".txt"
    if os.path.exists(log):
        os.remove(log)
    hidden = dict(env, NCL_FAKE_CUDA_MISSING=entry, NCL_FAKE_CUDA_LOG=log)
    if not os.path.exists(lib) or not run(lib, "cuda", gpu, hidden):
        check(False, "%s without %s did not run" % (name, entry))
        return None
    return open(log).read().splitlines() if os.path.exists(log) else []


def without_entry_same_files(env, entry, name, tag, kind, what):
    """`name` run without the runtime's `entry` (run_without_entry): no
    launch of its `kind` logged, and the CPU's files byte for byte."""
    lines = run_without_entry(env, entry, name, tag)
    if lines is None:
        return
    check(not any(line.startswith(kind) for line in lines),
          "%s without %s: no %s kernel ran" % (name, entry, kind))
    compare("%s (%s)" % (name, what), os.path.join(work, name[:-4] + "-cuda-cpu"),
            os.path.join(work, name[:-4] + "-" + tag), exact=True)


def state_scanned_on_host(env):
    """A library whose images lack NCL_GPU_FIND_NONFINITE_ENTRY: the state
    comes back after every chunk for the host's NaN scan, with the CPU's
    files byte for byte (an uncoupled population, whose chunks may be
    replayed, and a network)."""
    for name in ("lif.ncl", "cuba.ncl"):
        without_entry_same_files(env, "ncl_find_nonfinite_gpu", name, "scanned-on-host",
                                 "find_nonfinite", "the state scanned on the host")


def nonfinite_found_on_device(env):
    """test/e2e/monitors_blowup.ncl, whose v overflows to +Inf near 0.7 s:
    the device's test of the state (NCL_GPU_FIND_NONFINITE_ENTRY, the GPU's
    code, race-checked) finds it, the chunk is replayed from its start kept
    on the device, and the run stops at the CPU's step with the CPU's
    message."""
    source = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "e2e", "monitors_blowup.ncl")
    lib = os.path.join(work, "monitors_blowup-cuda.so")
    p = subprocess.run([nclc, source, "--target=cuda", "--gpu-emulation", "-o", lib],
                       capture_output=True, text=True)
    if p.returncode != 0:
        check(False, "monitors_blowup.ncl did not compile: %s" % p.stderr.strip())
        return
    log = os.path.join(work, "monitors_blowup-launched.txt")
    if os.path.exists(log):
        os.remove(log)
    results = {}
    for backend in ("cpu", "cuda"):
        out = os.path.join(work, "monitors_blowup-" + backend)
        try:
            p = subprocess.run([ncl_run, lib, "--backend=" + backend, "--out", out, "--quiet"],
                               capture_output=True, text=True, timeout=RUN_TIMEOUT,
                               env=dict(env, NCL_FAKE_CUDA_LOG=log, NCL_FAKE_CUDA_RACES="1"))
        except subprocess.TimeoutExpired:
            p = None
        meta = {}
        if os.path.exists(os.path.join(out, "run.json")):
            with open(os.path.join(out, "run.json")) as f:
                meta = json.load(f)
        results[backend] = (p.returncode if p else None, p.stderr if p else "", meta.get("steps"))
    lines = open(log).read().splitlines() if os.path.exists(log) else []
    check(results["cpu"][0] == 1 and "became +Inf in step" in results["cpu"][1] and
          results["cuda"] == results["cpu"] and "find_nonfinite emulated" in lines,
          "the device's test found v's +Inf, and the run stopped at the CPU's step with its "
          "message (%s)" % results)


def records_by_copies(env):
    """A library whose images lack NCL_GPU_GATHER_RECORDS_ENTRY: the runtime
    takes a synapse monitor's samples with cuMemcpy2DAsync, an element per
    row, with the CPU's files byte for byte."""
    without_entry_same_files(env, "ncl_gather_records_gpu", "synapse_monitors.ncl",
                             "records-by-copies", "gather_records",
                             "samples copied an element per row")


def one_list_a_launch(env):
    """A library whose images have NCL_GPU_SPIKE_LIST_ENTRY and not
    NCL_GPU_SPIKE_LISTS_ENTRY (the fake driver hides the one and gives the
    other, computed by its own code): the runtime makes each spike list with
    its own launch, with the CPU's files byte for byte."""
    for name in ("cuba.ncl", "delays.ncl"):
        lines = run_without_entry(env, "ncl_spike_lists_gpu", name, "one-list-a-launch")
        if lines is None:
            continue
        check("spike_list" in lines and not any(l.startswith("spike_lists") for l in lines),
              "%s without the spike-lists entry: a launch per list" % name)
        compare(name + " (a launch per spike list)",
                os.path.join(work, name[:-4] + "-cuda-cpu"),
                os.path.join(work, name[:-4] + "-one-list-a-launch"), exact=True)


def batched_traces(env):
    """A deliver whose presynaptic traces batch members share: stdp_song's
    ncl dialect without its batch_refusal (which .ncl always gives such a
    network), run with 2 members. A list then holds b * n + i beside i, so
    a neuron's traces are updated twice in one list (2 Poisson inputs of
    1000 at 15 Hz, about 20 times a second), which the split deliver would
    get wrong (the fake driver refuses such a list): ncl-gpu-map keeps it on
    one thread, which must give the CPU's files byte for byte."""
    name = "stdp_song"
    dialect = subprocess.run([nclc, os.path.join(examples, name + ".ncl"), "--emit=mlir"],
                             capture_output=True, text=True)
    source = os.path.join(work, name + "-batched.mlir")
    with open(source, "w") as f:
        f.write(re.sub(r'batch_refusal = "[^"]*", ', "", dialect.stdout))
    lib = os.path.join(work, name + "-batched.so")
    p = subprocess.run([nclc, source, "-o", lib, "-j1", "--target=cuda", "--gpu-emulation"],
                       capture_output=True, text=True)
    if dialect.returncode != 0 or p.returncode != 0 or "batch_refusal" in open(source).read():
        check(False, "%s without batch_refusal: nclc failed: %s%s"
              % (name, dialect.stderr.strip(), p.stderr.strip()))
        return
    log = os.path.join(work, name + "-batched-launched.txt")
    if os.path.exists(log):
        os.remove(log)
    runs = {}
    for backend in ["cpu", "cuda"]:
        out = os.path.join(work, "%s-batched-%s" % (name, backend))
        shutil.rmtree(out, ignore_errors=True)
        p = subprocess.run([ncl_run, lib, "--backend=" + backend, "--batch", "2", "--time", "1s",
                            "--out", out, "--save-weights", os.path.join(out, "weights"),
                            "--quiet"], capture_output=True, text=True,
                           env=dict(env, NCL_FAKE_CUDA_LOG=log), timeout=RUN_TIMEOUT)
        if p.returncode != 0:
            check(False, "%s, 2 batch members, on %s: exit %d: %s"
                  % (name, backend, p.returncode, p.stderr.strip()))
            return
        runs[backend] = out
    compare(name + " with 2 batch members sharing the traces (fake device)", runs["cpu"],
            runs["cuda"], exact=True)
    lines = open(log).read().splitlines() if os.path.exists(log) else []
    check(any(line.startswith("4 S.deliver launch=2 ") for line in lines),
          "%s with 2 batch members: its deliver ran on one thread (%s)" % (name, "; ".join(lines)))


def require_every_kind(log, emulated):
    """Every kind the device runs was launched, so that each launch shape was
    compared; with `emulated`, each ran the GPU's code."""
    kinds, cpu_code = set(), set()
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                first = line.split()[0]
                # "spike_lists": the runtime's own kernel, a network's spike
                # lists made on the device (docs/gpu.md).
                kind = KINDS.get(int(first), first) if first.isdigit() else first
                kinds.add(kind)
                if not line.rstrip().endswith(" emulated"):
                    cpu_code.add(kind)
    what = "the GPU's kernels" if emulated else "the CPU's functions"
    print("stage kinds the fake device ran (%s): %s" % (what, ", ".join(sorted(kinds))))
    wanted = {"step", "deliver", "deliver_synapses", "on_post", "sum", "synapse_step", "kwta",
              "kwta_keys", "kwta_gate", "advance_pre_traces", "advance_post_traces",
              "spike_lists", "find_nonfinite"}
    check(wanted <= kinds, "the examples launched every step-time kind through %s (missing: %s)"
          % (what, ", ".join(sorted(wanted - kinds))))
    if emulated:
        check(not cpu_code, "every launch ran the GPU's code (not: %s)"
              % ", ".join(sorted(cpu_code)))


def real_device():
    """The first device's name, or why there is none."""
    driver = os.environ.get("NCL_CUDA_DRIVER") if mode == "prebuilt" else None
    try:
        cuda = ctypes.CDLL(driver or "libcuda.so.1")
    except OSError as e:
        return None, "no NVIDIA driver (%s)" % e
    if cuda.cuInit(0) != 0:
        return None, "cuInit failed: no usable CUDA device"
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return None, "the driver reports no CUDA device"
    name = ctypes.create_string_buffer(256)
    cuda.cuDeviceGetName(name, 255, 0)
    return name.value.decode(), None


def gpu_mode():
    device, why = real_device()
    if not device:
        print("skipped: %s; this test needs a GPU" % why)
        sys.exit(SKIP)
    if mode == "gpu" and not nclc_has_cuda():
        print("skipped: nclc has no --target=cuda yet")
        sys.exit(SKIP)
    print("device: %s" % device)
    env = dict(os.environ)
    if mode == "gpu":
        env.pop("NCL_CUDA_DRIVER", None)
        names = example_files()
    else:
        names = sorted(f[:-3] + ".ncl" for f in os.listdir(examples) if f.endswith(".so"))
        if not names:
            check(False, "no libraries in " + examples)
    for name in names:
        lib = (compile_example(name, "cuda") if mode == "gpu"
               else os.path.join(examples, name[:-4] + ".so"))
        if not lib:
            continue
        cpu = os.path.join(work, name[:-4] + "-cpu")
        gpu = os.path.join(work, name[:-4] + "-gpu")
        meta_cpu = run(lib, "cpu", cpu, env)
        meta_gpu = run(lib, "cuda", gpu, env) if meta_cpu else None
        if meta_gpu:
            check(meta_gpu["device"] == device, "%s: ran on %s (%s%s)" % (
                name, meta_gpu["device"], meta_gpu.get("device_image"),
                "; " + meta_gpu["device_image_note"] if "device_image_note" in meta_gpu else ""))
            check(meta_cpu["populations"] == meta_gpu["populations"],
                  "%s: the same spike counts" % name)
            compare(name + " (GPU)", cpu, gpu, exact=False)


os.makedirs(work, exist_ok=True)
if mode == "fake":
    fake_mode(sys.argv[6], sys.argv[7])
elif mode in ("gpu", "prebuilt"):
    gpu_mode()
else:
    sys.exit("unknown mode " + mode)
if failures:
    sys.exit("%d check(s) failed" % len(failures))
