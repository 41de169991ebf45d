#!/usr/bin/python3
"""NCL benchmark: an uncoupled population of LIF neurons, NCL against its peers.

Runs, in one invocation and on the same machine, for each precision (f32, f64) and each
thread count:
  (a) NCL:    nclc bench/lif_uncoupled.ncl -o X.so --precision=P   (timed: compile time)
              ncl-run X.so --size P=N --time T --threads K --out DIR --quiet
              -> DIR/run.json: timings.simulate_s, populations.P.spikes
  (b) Brian2: C++ standalone (Debian's python3-brian), same model, method='exact';
              code generation + build timed, simulation-loop time from
              results/last_run_info.txt (bench/brian2_lif.py, one process per run)
  (c) the hand-written vectorised loop bench/lif_handloop.cpp (the practical ceiling),
              compiled here with g++ -O3 -march=native -fopenmp into the build dir.
and prints neuron updates per second (N * steps / simulate time), the ratios NCL/hand
loop and NCL/Brian2, and nclc's compile time against Brian2's code generation + build.
A small run first checks that the three agree on the number of spikes.

Usage: /usr/bin/python3 bench/run_benchmarks.py --build build [--n N] [--time-ms T]
       [--threads 1[,2]] [--precision f32,f64] [--skip-brian2] [--skip-ncl] ...
Then the network section (bench/network_benchmarks.py): CUBA (and COBA, COBAHH, Brunel,
large Brunel where their NCL examples exist) against Brian2 C++ standalone, at 1 and 2
threads, f64 and f32. --skip-lif or --skip-networks runs only the other section.
Then the k-WTA section (bench/kwta_benchmark.py): NCL's k-WTA against std::nth_element,
std::sort and torch.topk (when it imports), N = 1e3 to 1e7, batch 1 to 256; --skip-kwta leaves it out.
Then the rate-network section (bench/rate_benchmarks.py): the CTRNN step loop, N = 256 to
4096, batch 1 to 256, against NumPy and PyTorch and the core's read rate; --skip-rates
leaves it out (--quick: N = 256 and 1024, batch 1 and 16).
--quick (or NCL_BENCH_QUICK=1): a short smoke run of both (small LIF, 1 s networks,
1 repeat, no Brian2); `make bench BENCH_ARGS=--quick`.
See docs/performance.md.
"""
import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import kwta_benchmark
import network_benchmarks
import rate_benchmarks

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = os.path.join(HERE, "lif_uncoupled.ncl")
HANDLOOP_SRC = os.path.join(HERE, "lif_handloop.cpp")
BRIAN2_SCRIPT = os.path.join(HERE, "brian2_lif.py")
# Brian2 comes from Debian's python3-brian: always Debian's interpreter, never the
# first python3 on PATH (which may be another one without these packages).
DEBIAN_PYTHON = "/usr/bin/python3"

# The model (examples/lif.ncl): first spike at tau_m*ln(4), then every t_ref + tau_m*ln(5).
TAU_M, T_REF = 20.0, 2.0  # ms
FIRST_SPIKE_MS = TAU_M * math.log(4.0)
PERIOD_MS = T_REF + TAU_M * math.log(5.0)

TARGET_NCL_OVER_HAND = 0.80
TARGET_COMPILE_S = 0.3


def log(msg=""):
    print(msg, flush=True)


def expected_spikes_per_neuron(time_ms):
    """Spikes of one neuron in [0, T) in continuous time (a step may shift one by 0.1 ms)."""
    if time_ms <= FIRST_SPIKE_MS:
        return 0
    return 1 + int((time_ms - FIRST_SPIKE_MS) // PERIOD_MS)


def run_cmd(cmd, timeout=None, env=None):
    """Runs cmd, returns (wall seconds, stdout). Raises with stderr on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("command failed (exit %d): %s\n%s%s" % (
            p.returncode, " ".join(cmd), p.stdout[-2000:], p.stderr[-4000:]))
    return wall, p.stdout


def last_json_line(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON result in output:\n" + text[-2000:])


# ---------------------------------------------------------------------------- hand loop

def build_handloop(workdir):
    exe = os.path.join(workdir, "lif_handloop")
    if (os.path.exists(exe) and
            os.path.getmtime(exe) >= os.path.getmtime(HANDLOOP_SRC)):
        return exe
    cxx = os.environ.get("CXX", "g++")
    cmd = [cxx, "-O3", "-march=native", "-fopenmp", "-std=c++17", HANDLOOP_SRC, "-o", exe]
    log("  building hand loop: " + " ".join(cmd))
    run_cmd(cmd)
    return exe


def run_handloop(exe, n, time_ms, dt_ms, precision, threads, mode="stream"):
    _, out = run_cmd([exe, "--n", str(n), "--time-ms", repr(time_ms), "--dt-ms", repr(dt_ms),
                      "--precision", precision, "--threads", str(threads), "--mode", mode])
    r = last_json_line(out)
    return dict(simulate_s=r["simulate_s"], spikes=r["spikes"], steps=r["steps"])


# ---------------------------------------------------------------------------- Brian2

def brian2_available():
    if not os.path.exists(DEBIAN_PYTHON):
        return False, DEBIAN_PYTHON + " not found"
    p = subprocess.run([DEBIAN_PYTHON, "-c", "import brian2; print(brian2.__version__)"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return False, ("brian2 not importable by %s (install with "
                       "NCL_INSTALL_BENCH=1 scripts/install-deps.sh)" % DEBIAN_PYTHON)
    return True, p.stdout.strip().splitlines()[-1]


def run_brian2(tmp, n, time_ms, dt_ms, precision, threads, count_spikes=False):
    d = tempfile.mkdtemp(prefix="brian2_%s_t%d_" % (precision, threads), dir=tmp)
    cmd = [DEBIAN_PYTHON, BRIAN2_SCRIPT, "--n", str(n), "--time-ms", repr(time_ms),
           "--dt-ms", repr(dt_ms), "--precision", precision, "--threads", str(threads),
           "--dir", d]
    if count_spikes:
        cmd.append("--count-spikes")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # keep Debian's python on its own packages
    _, out = run_cmd(cmd, env=env)
    r = last_json_line(out)
    shutil.rmtree(d, ignore_errors=True)
    return r


# ---------------------------------------------------------------------------- NCL

def ncl_tools(build):
    nclc = os.path.join(build, "bin", "nclc")
    ncl_run = os.path.join(build, "bin", "ncl-run")
    missing = [p for p in (nclc, ncl_run) if not os.access(p, os.X_OK)]
    return nclc, ncl_run, missing


def compile_ncl(nclc, workdir, precision, repeats):
    """Compiles the model `repeats` times into fresh paths; returns (.so, [wall s])."""
    walls = []
    so = None
    for k in range(repeats):
        so = os.path.join(workdir, "lif_uncoupled_%s_%d.so" % (precision, k))
        if os.path.exists(so):
            os.remove(so)
        wall, _ = run_cmd([nclc, MODEL, "-o", so, "--precision=" + precision])
        walls.append(wall)
    return so, walls


def ncl_population_spikes(info, name="P"):
    pops = info.get("populations", {})
    if isinstance(pops, dict):
        p = pops.get(name, {})
    else:  # a list of {"name": ...}
        p = next((q for q in pops if q.get("name") == name), {})
    s = p.get("spikes", p.get("spike_count"))
    return None if s is None else int(s)


def run_ncl(ncl_run, so, workdir, n, time_ms, threads):
    out_dir = tempfile.mkdtemp(prefix="ncl_out_", dir=workdir)
    cmd = [ncl_run, so, "--size", "P=%d" % n, "--time", "%gms" % time_ms,
           "--threads", str(threads), "--out", out_dir, "--quiet"]
    wall, _ = run_cmd(cmd)
    with open(os.path.join(out_dir, "run.json")) as f:
        info = json.load(f)
    shutil.rmtree(out_dir, ignore_errors=True)
    sim = info["timings"]["simulate_s"]
    return dict(simulate_s=float(sim), spikes=ncl_population_spikes(info), run_s=wall)


# ---------------------------------------------------------------------------- reporting

def machine_info():
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in lscpu.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("Model name", "L2 cache", "L3 cache"):
                info[key.strip()] = val.strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory_GiB"] = round(kb / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def best(runs):
    """The run with the shortest simulation time, with all times attached."""
    b = dict(min(runs, key=lambda r: r["simulate_s"]))
    b["all_simulate_s"] = [r["simulate_s"] for r in runs]
    return b


def fmt_rate(x):
    return "%.3g" % x if x else "-"


def fmt_ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def main():
    args = parse_args()
    if not args.skip_lif:
        lif_section(args)
    if not args.skip_networks:
        network_benchmarks.run(args)
    if not args.skip_kwta:
        kwta_benchmark.run(args)
    if not args.skip_rates:
        rate_benchmarks.run(rate_benchmarks.arguments_for(args))
    return 0


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="CMake build directory (nclc and ncl-run in BUILD/bin)")
    ap.add_argument("--n", type=int, help="neurons (default 1e7; 1e5 with --quick)")
    ap.add_argument("--time-ms", type=float,
                    help="simulated time in ms (default 200; 1000 with --quick)")
    ap.add_argument("--dt-ms", type=float, default=0.1,
                    help="time step of the peers in ms; NCL's comes from the model (0.1)")
    ap.add_argument("--threads", default="1",
                    help="thread counts, comma-separated (default 1; e.g. 2 or 1,2)")
    ap.add_argument("--precision", default="f32,f64", help="f32, f64 or f32,f64")
    ap.add_argument("--repeat", type=int,
                    help="runs of NCL and of the hand loop per configuration, alternating;"
                         " the fastest is reported (default 3, 1 with --quick; Brian2 runs"
                         " once)")
    ap.add_argument("--compile-repeats", type=int,
                    help="nclc runs per precision; the median is reported (default 3, 1"
                         " with --quick)")
    ap.add_argument("--sanity-n", type=int, default=1000,
                    help="neurons in the spike-count check (0 skips it)")
    ap.add_argument("--sanity-time-ms", type=float, default=1000.0)
    ap.add_argument("--skip-ncl", action="store_true")
    ap.add_argument("--skip-brian2", action="store_true")
    ap.add_argument("--no-blocked", action="store_true",
                    help="skip the informational cache-blocked hand loop")
    ap.add_argument("--json", help="write all results here (default BUILD/bench/lif_uncoupled.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("NCL_BENCH_QUICK", "") not in ("", "0"),
                    help="short smoke run: N = 1e5, 1 s, 1 repeat, no Brian2, no blocked"
                         " loop; networks 1 s, 1 repeat (also NCL_BENCH_QUICK=1)")
    ap.add_argument("--skip-lif", action="store_true", help="only the network section")
    ap.add_argument("--skip-networks", action="store_true", help="only the LIF section")
    network_benchmarks.add_arguments(ap)
    kwta_benchmark.add_arguments(ap)
    ap.add_argument("--skip-rates", action="store_true",
                    help="leave out the rate-network section (bench/rate_benchmarks.py)")
    args = ap.parse_args()
    if args.quick:
        args.skip_brian2 = True
        args.no_blocked = True
    if args.n is None:
        args.n = 100_000 if args.quick else 10_000_000
    if args.time_ms is None:
        args.time_ms = 1000.0 if args.quick else 200.0
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.compile_repeats is None:
        args.compile_repeats = 1 if args.quick else 3

    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    for p in precisions:
        if p not in ("f32", "f64"):
            ap.error("unknown precision %r" % p)
    net_threads = [t.strip() for t in args.net_threads.split(",") if t.strip()]
    if (args.n <= 0 or args.time_ms <= 0 or not threads_list or min(threads_list) < 1
            or args.repeat < 1 or not net_threads
            or not all(t.isdigit() and int(t) >= 1 for t in net_threads)):
        ap.error("N, T and thread counts must be positive")
    return args


def lif_section(args):
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]

    build = os.path.abspath(args.build)
    workdir = os.path.join(build, "bench")
    os.makedirs(workdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="run_", dir=workdir)
    steps = int(round(args.time_ms / args.dt_ms))
    updates = float(args.n) * steps

    minfo = machine_info()
    log("NCL benchmark: uncoupled LIF, exact update, no recording")
    log("  N = %d neurons, T = %g ms, dt = %g ms (%d steps, %.3g neuron updates per run)"
        % (args.n, args.time_ms, args.dt_ms, steps, updates))
    log("  machine: %s, %s CPUs, %s GiB, L3 %s" % (
        minfo.get("Model name", "?"), minfo.get("cpus"), minfo.get("memory_GiB", "?"),
        minfo.get("L3 cache", "?")))

    # --- tools
    hand_exe = build_handloop(workdir)
    nclc, ncl_run, missing = ncl_tools(build)
    have_ncl = not args.skip_ncl and not missing
    if not args.skip_ncl and missing:
        log("  NCL: pending (not built: %s)" % ", ".join(missing))
    have_b2 = False
    if not args.skip_brian2:
        have_b2, b2_msg = brian2_available()
        log("  Brian2: " + (b2_msg if have_b2 else "unavailable: " + b2_msg))

    results = {"machine": minfo, "n": args.n, "time_ms": args.time_ms, "dt_ms": args.dt_ms,
               "steps": steps, "sanity": {}, "runs": [], "compile": {}}

    # --- sanity: spike counts on a small run
    if args.sanity_n > 0:
        sn, st = args.sanity_n, args.sanity_time_ms
        exp_per = expected_spikes_per_neuron(st)
        log("\nSanity check: N = %d, T = %g ms; expected about %d spikes per neuron "
            "(first at %.1f ms, then every %.1f ms)" % (sn, st, exp_per, FIRST_SPIKE_MS,
                                                       PERIOD_MS))
        counts = {}
        for prec in precisions:
            counts["hand loop " + prec] = run_handloop(hand_exe, sn, st, args.dt_ms, prec,
                                                       1)["spikes"]
            if have_b2:
                counts["Brian2 " + prec] = run_brian2(tmp, sn, st, args.dt_ms, prec, 1,
                                                      count_spikes=True)["spikes"]
            if have_ncl:
                try:
                    so, _ = compile_ncl(nclc, tmp, prec, 1)
                    counts["NCL " + prec] = run_ncl(ncl_run, so, tmp, sn, st, 1)["spikes"]
                except (RuntimeError, OSError, KeyError, ValueError) as e:
                    log("  NCL failed, continuing with the peers only:\n" + str(e))
                    have_ncl = False
        ok = True
        for name, c in counts.items():
            per = None if c is None else c / sn
            good = per is not None and abs(per - exp_per) <= 1
            ok &= good
            log("  %-14s %8s spikes (%s per neuron)%s" % (
                name, c, "?" if per is None else "%.2f" % per, "" if good else "  <-- MISMATCH"))
        distinct = {c for c in counts.values()}
        if len(distinct) > 1:
            log("  note: the counts differ between implementations (see above)")
        results["sanity"] = {"n": sn, "time_ms": st, "expected_per_neuron": exp_per,
                             "counts": counts, "ok": ok}

    # --- the benchmark
    exp_total = expected_spikes_per_neuron(args.time_ms) * args.n
    rows = []
    for prec in precisions:
        so = None
        if have_ncl:
            try:
                so, walls = compile_ncl(nclc, tmp, prec, max(1, args.compile_repeats))
            except (RuntimeError, OSError) as e:
                log("  NCL failed, continuing with the peers only:\n" + str(e))
                have_ncl = False
        if have_ncl:
            results["compile"]["ncl_" + prec] = {"walls_s": walls,
                                                 "median_s": statistics.median(walls)}
        for th in threads_list:
            log("\nRunning %s, %d thread%s ..." % (prec, th, "" if th == 1 else "s"))
            row = {"precision": prec, "threads": th}
            # The hand loop and NCL alternate, `repeat` times each; the best (shortest)
            # simulation time of each is reported: on a shared machine the noise is
            # one-sided (other load only ever slows a run down).
            hand_runs, ncl_runs = [], []
            for k in range(args.repeat):
                h = run_handloop(hand_exe, args.n, args.time_ms, args.dt_ms, prec, th)
                hand_runs.append(h)
                log("  hand loop      %.3f s  %.3g updates/s  (%d spikes)" % (
                    h["simulate_s"], updates / h["simulate_s"], h["spikes"]))
                if have_ncl:
                    r = run_ncl(ncl_run, so, tmp, args.n, args.time_ms, th)
                    ncl_runs.append(r)
                    log("  NCL            %.3f s  %.3g updates/s  (%s spikes, expected ~%d)"
                        % (r["simulate_s"], updates / r["simulate_s"], r["spikes"],
                           exp_total))
            row["hand"] = best(hand_runs)
            if ncl_runs:
                row["ncl"] = best(ncl_runs)
            if not args.no_blocked:
                hb = run_handloop(hand_exe, args.n, args.time_ms, args.dt_ms, prec, th,
                                  mode="blocked")
                row["hand_blocked"] = hb
                log("  hand, blocked  %.3f s  %.3g updates/s  (informational)" % (
                    hb["simulate_s"], updates / hb["simulate_s"]))
            if have_b2:
                b = run_brian2(tmp, args.n, args.time_ms, args.dt_ms, prec, th)
                row["brian2"] = b
                results["compile"]["brian2_%s_t%d" % (prec, th)] = {"build_s": b["build_s"]}
                log("  Brian2         %.3f s  %.3g updates/s  (build %.1f s, binary %.1f s)"
                    % (b["simulate_s"], updates / b["simulate_s"], b["build_s"], b["run_s"]))
            rows.append(row)
            results["runs"].append(row)

    # --- summary
    def rate(row, key):
        r = row.get(key)
        return updates / r["simulate_s"] if r and r["simulate_s"] > 0 else None

    log("\nNeuron updates per second (N x steps / simulation-loop time), N = %d, %d steps;"
        "\nNCL and hand loop: best of %d alternating runs; Brian2: one run"
        % (args.n, steps, args.repeat))
    hdr = "%-5s %3s | %10s %10s %10s | %9s %10s | %12s" % (
        "prec", "thr", "NCL", "Brian2", "hand loop", "NCL/hand", "NCL/Brian2",
        "hand blocked")
    log(hdr)
    log("-" * len(hdr))
    verdicts = []
    for row in rows:
        ncl, b2, hand = rate(row, "ncl"), rate(row, "brian2"), rate(row, "hand")
        log("%-5s %3d | %10s %10s %10s | %9s %10s | %12s" % (
            row["precision"], row["threads"],
            fmt_rate(ncl) if have_ncl else "pending", fmt_rate(b2), fmt_rate(hand),
            fmt_ratio(ncl, hand) if have_ncl else "pending", fmt_ratio(ncl, b2),
            fmt_rate(rate(row, "hand_blocked"))))
        if ncl and hand:
            verdicts.append(("NCL >= %.0f%% of hand loop (%s, %d thr)" % (
                100 * TARGET_NCL_OVER_HAND, row["precision"], row["threads"]),
                ncl / hand >= TARGET_NCL_OVER_HAND))

    log("\nCompile time: nclc wall time vs Brian2 code generation + C++ build")
    for prec in precisions:
        c = results["compile"].get("ncl_" + prec)
        ncl_txt = ("%.3f s (median of %d; runs %s)" % (
            c["median_s"], len(c["walls_s"]), ", ".join("%.3f" % w for w in c["walls_s"]))
                   if c else "pending")
        b2 = [results["compile"][k]["build_s"] for k in results["compile"]
              if k.startswith("brian2_" + prec)]
        log("  %s: nclc %s | Brian2 %s" % (
            prec, ncl_txt, ", ".join("%.1f s" % b for b in b2) if b2 else "-"))
        if c:
            verdicts.append(("nclc compile < %.1f s (%s)" % (TARGET_COMPILE_S, prec),
                             c["median_s"] < TARGET_COMPILE_S))

    if verdicts:
        log("\nTargets:")
        for name, good in verdicts:
            log("  %-40s %s" % (name, "met" if good else "NOT met"))
    elif not have_ncl:
        log("\nTargets (NCL >= 80% of hand loop, compile < 0.3 s): pending, NCL not built or it failed")

    results["verdicts"] = [{"target": n, "met": g} for n, g in verdicts]
    out_json = args.json or os.path.join(workdir, "lif_uncoupled.json")
    with open(out_json, "w") as f:
        json.dump(results, f, indent=2)
    log("\nresults written to " + out_json)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
