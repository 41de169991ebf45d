#!/usr/bin/python3
"""NCL benchmark, network section: spiking networks, NCL against Brian2 C++ standalone.

Called from bench/run_benchmarks.py (the one entry point, `make bench`); it can also be run
on its own with the same options (`--build`, `--quick`, `--net-*`).

For each model whose NCL example exists (examples/cuba.ncl, coba.ncl, cobahh.ncl,
brunel.ncl; bench/brunel_large.ncl, kept out of examples/ because the test suite runs
every example and it needs ~4 GB; a missing one is skipped with a message), for each
precision (f64, f32) and thread count (1, 2), side by side in one run:
  NCL:    nclc examples/M.ncl -o M_P.so --precision=P      (wall time, median of 3: compile)
          ncl-run M_P.so --time Ts --threads K --seed S --quiet --out DIR
          -> DIR/run.json timings.simulate_s (the simulation loop only), spike counts;
          best of `repeat` runs.
  Brian2: bench/brian2_networks.py --model M --precision P --threads K (one build, which
          is timed: build_s = model construction + code generation + C++ compile; then
          `repeat` runs of the binary from that build with the same seed, --seeds S,S,S;
          simulate_s from Brian2's results/last_run_info.txt; best of them).
Printed per line: simulation-loop seconds per biological second for both, the ratio
Brian2/NCL (> 1: NCL is faster), NCL's microseconds per time step, mean firing rates of
both (a sanity check that the two simulate the same activity) and the build times.
Benchmarks, not tests: nothing here fails on a timing.

--quick (or NCL_BENCH_QUICK=1): 1 s biological, 1 repeat, 1 compile, no Brian2.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "examples")
BRIAN2_SCRIPT = os.path.join(HERE, "brian2_networks.py")
DEBIAN_PYTHON = "/usr/bin/python3"
DT_S = 1e-4  # all the network models use dt = 0.1 ms (Brian2's side fixes it)

# key, NCL example, brian2_networks.py --model, default biological seconds, description.
# Brunel runs shorter by default: Brian2 needs about 4 s per biological second for the 10k
# network, and the large one (1e9 synapses) needs tens of GiB.
MODELS = [
    ("cuba", "cuba.ncl", "cuba", 10.0, "CUBA, 4000 LIF, p = 0.02 (Brian2 examples/CUBA.py)"),
    ("coba", "coba.ncl", "coba", 10.0, "COBA, 4000 conductance LIF, p = 0.02"),
    ("cobahh", "cobahh.ncl", "cobahh", 10.0, "COBAHH, 4000 Traub-Miles HH (Brian2 COBAHH.py)"),
    ("brunel", "brunel.ncl", "brunel", 2.0, "Brunel 2000 A, 10k LIF, 1e7 synapses, D 1.5 ms"),
    ("brunel-large", "brunel_large.ncl", "brunel-large", 0.5,  # bench/brunel_large.ncl
     "Brunel 2000 A, 100k LIF, 1e9 synapses"),
    ("brunel-stdp", "brunel_stdp.ncl", "brunel-stdp", 1.0,  # bench/brunel_stdp.ncl
     "Brunel 2000 A, 10k LIF, pair STDP on 8e6 E synapses"),
]
MODEL_KEYS = [m[0] for m in MODELS]


def log(msg=""):
    print(msg, flush=True)


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cmd(cmd, timeout=None, env=None, ok_codes=(0,)):
    """Runs cmd; returns (wall s, stdout, exit code). The CPU seconds (user + system) of
    the command are left in run_cmd.cpu_s: on a loaded machine they say how much of the
    wall time the command actually ran."""
    t0, c0 = time.perf_counter(), children_cpu_s()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    wall = time.perf_counter() - t0
    run_cmd.cpu_s = children_cpu_s() - c0
    if p.returncode not in ok_codes:
        raise RuntimeError("command failed (exit %d): %s\n%s%s" % (
            p.returncode, " ".join(cmd), p.stdout[-2000:], p.stderr[-4000:]))
    return wall, p.stdout, p.returncode


def json_lines(text):
    out = []
    for line in text.strip().splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    if not out:
        raise RuntimeError("no JSON result in output:\n" + text[-2000:])
    return out


def brian2_available():
    if not os.path.exists(DEBIAN_PYTHON):
        return False, DEBIAN_PYTHON + " not found"
    p = subprocess.run([DEBIAN_PYTHON, "-c", "import brian2; print(brian2.__version__)"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return False, ("brian2 not importable by %s (install with "
                       "NCL_INSTALL_BENCH=1 scripts/install-deps.sh)" % DEBIAN_PYTHON)
    return True, p.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------------------- NCL

def ncl_compile(nclc, example, workdir, key, precision, repeats):
    """Compiles `repeats` times into fresh paths; returns (.so, [wall s])."""
    walls, cpus, so = [], [], None
    for k in range(repeats):
        so = os.path.join(workdir, "%s_%s_%d.so" % (key, precision, k))
        if os.path.exists(so):
            os.remove(so)
        wall, _, _ = run_cmd([nclc, example, "-o", so, "--precision=" + precision])
        walls.append(wall)
        cpus.append(run_cmd.cpu_s)
    return so, walls, cpus


def projection_table(text):
    """{name: {"synapses": n, "bytes_per_synapse": b}} from ncl-run's summary (the rows
    under its 'projection ... B/synapse' header); {} when it prints none."""
    rows, inside = {}, False
    for line in text.splitlines():
        cols = line.split()
        if cols[:1] == ["projection"] and cols[-1:] == ["B/synapse"]:
            inside = True
            continue
        if inside:
            if len(cols) >= 7 and cols[3] == "->":
                try:
                    rows[cols[0]] = {"synapses": int(cols[5]),
                                     "bytes_per_synapse": float(cols[6])}
                    continue
                except ValueError:
                    pass
            inside = False
    return rows


def ncl_run(ncl_run_exe, so, workdir, time_s, threads, seed):
    out_dir = tempfile.mkdtemp(prefix="ncl_out_", dir=workdir)
    # Not --quiet: the summary has each projection's synapses and bytes per synapse (no
    # progress line, since stdout is not a terminal).
    cmd = [ncl_run_exe, so, "--time", "%gs" % time_s, "--threads", str(threads),
           "--seed", str(seed), "--out", out_dir]
    wall, stdout, _ = run_cmd(cmd)
    cpu = run_cmd.cpu_s
    with open(os.path.join(out_dir, "run.json")) as f:
        info = json.load(f)
    shutil.rmtree(out_dir, ignore_errors=True)
    if info.get("status") != "complete":
        raise RuntimeError("ncl-run: status %r, error %r" % (info.get("status"),
                                                               info.get("error")))
    pops = info.get("populations", {})
    spikes = sum(int(p.get("spikes", 0)) for p in pops.values())
    size = sum(int(p.get("size", 0)) for p in pops.values())
    t = info["timings"]
    return dict(simulate_s=float(t["simulate_s"]), load_s=t.get("load_s"),
                init_s=t.get("init_s"), run_s=wall, process_cpu_s=cpu, steps=int(info.get("steps", 0)),
                spikes=spikes, neurons=size, projections=projection_table(stdout),
                rate_hz=spikes / size / time_s if size and time_s > 0 else None)


# ---------------------------------------------------------------------------- Brian2

def brian2_run(tmp, model, time_s, precision, threads, seed, repeats):
    """One build, `repeats` runs of its binary (same seed); None if Brian2 refused."""
    d = tempfile.mkdtemp(prefix="b2_%s_%s_t%d_" % (model, precision, threads), dir=tmp)
    cmd = [DEBIAN_PYTHON, BRIAN2_SCRIPT, "--model", model, "--duration-s", repr(time_s),
           "--precision", precision, "--threads", str(threads), "--dir", d,
           "--seeds", ",".join([str(seed)] * repeats)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # keep Debian's python on its own packages
    try:
        _, out, rc = run_cmd(cmd, env=env, ok_codes=(0, 3))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    rs = json_lines(out)
    if rc == 3 or rs[0].get("refused"):
        return dict(refused=True, **rs[0])
    runs = [r["simulate_s"] for r in rs]
    b = dict(min(rs, key=lambda r: r["simulate_s"]))
    b["build_s"] = rs[0]["build_s"]
    b["all_simulate_s"] = runs
    sp = b.get("spikes")
    if sp:
        b["rate_hz"] = (sp["E"] + sp["I"]) / b["n"] / time_s
    return b


# ---------------------------------------------------------------------------- driver

def add_arguments(ap):
    g = ap.add_argument_group("network section")
    g.add_argument("--net-models", default=",".join(MODEL_KEYS),
                   help="models, comma-separated (default all: %s; those without an NCL "
                        "example are skipped)" % ",".join(MODEL_KEYS))
    g.add_argument("--net-threads", default="1,2", help="thread counts (default 1,2)")
    g.add_argument("--net-time", type=float,
                   help="biological seconds per run for every model (default: 10 for "
                        "CUBA/COBA/COBAHH, 2 for Brunel, 0.5 for large Brunel; 1 with --quick)")
    g.add_argument("--net-repeat", type=int,
                   help="runs per configuration, NCL and Brian2 each, best reported "
                        "(default 3; 1 with --quick)")
    g.add_argument("--net-compile-repeats", type=int,
                   help="nclc runs per precision, median reported (default 3; 1 with --quick)")
    g.add_argument("--net-seed", type=int, default=1, help="seed for NCL and Brian2")
    g.add_argument("--net-json", help="results file (default BUILD/bench/networks.json)")


def fill_defaults(args):
    quick = getattr(args, "quick", False)
    if args.net_repeat is None:
        args.net_repeat = 1 if quick else 3
    if args.net_compile_repeats is None:
        args.net_compile_repeats = 1 if quick else 3


def fmt(x, spec="%.4f"):
    return spec % x if x is not None else "-"


def run(args):
    """Runs the network section; returns the results dict (also written as JSON)."""
    fill_defaults(args)
    quick = getattr(args, "quick", False)
    build = os.path.abspath(args.build)
    workdir = os.path.join(build, "bench")
    os.makedirs(workdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="net_", dir=workdir)
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    # f64 first: it is the reference precision of the peers' figures.
    precisions.sort(key=lambda p: p != "f64")
    threads_list = [int(t) for t in args.net_threads.split(",") if t.strip()]
    wanted = [m.strip() for m in args.net_models.split(",") if m.strip()]
    for m in wanted:
        if m not in MODEL_KEYS:
            raise SystemExit("unknown network model %r (known: %s)" % (m, ", ".join(MODEL_KEYS)))

    nclc = os.path.join(build, "bin", "nclc")
    ncl_run_exe = os.path.join(build, "bin", "ncl-run")
    missing = [p for p in (nclc, ncl_run_exe) if not os.access(p, os.X_OK)]
    have_ncl = not getattr(args, "skip_ncl", False) and not missing
    have_b2 = False
    b2_msg = "skipped (--quick)" if quick else "skipped"
    if not quick and not getattr(args, "skip_brian2", False):
        have_b2, b2_msg = brian2_available()
        if not have_b2:
            b2_msg = "unavailable: " + b2_msg

    log("\n" + "=" * 78)
    log("Networks: NCL vs Brian2 C++ standalone%s" % (" (quick smoke run)" if quick else ""))
    log("  NCL: %s; Brian2: %s" % (
        "build/bin" if have_ncl else "not run (%s)" % (", ".join(missing) or "--skip-ncl"),
        b2_msg))
    log("  precision %s, threads %s, seed %d; best of %d runs (NCL and Brian2 each, "
        "Brian2 from one build per configuration)" % (
            ",".join(precisions), ",".join(map(str, threads_list)), args.net_seed,
            args.net_repeat))

    results = {"quick": quick, "seed": args.net_seed, "repeat": args.net_repeat,
               "brian2": b2_msg, "models": {}, "skipped": {}}
    rows = []
    for key, example_name, b2_model, default_t, desc in MODELS:
        if key not in wanted:
            continue
        example = os.path.join(EXAMPLES, example_name)
        if not os.path.exists(example):
            example = os.path.join(HERE, example_name)
        if not os.path.exists(example):
            msg = "examples/%s does not exist yet" % example_name
            log("\n%s: skipped, %s" % (key, msg))
            results["skipped"][key] = msg
            continue
        time_s = args.net_time if args.net_time else (1.0 if quick else default_t)
        steps = int(round(time_s / DT_S))
        log("\n%s: %s; %g s biological (%d steps)" % (key, desc, time_s, steps))
        mres = {"example": os.path.relpath(example, ROOT), "time_s": time_s, "steps": steps,
                "compile": {}, "runs": []}
        results["models"][key] = mres
        for prec in precisions:
            so = None
            if have_ncl:
                try:
                    so, walls, cpus = ncl_compile(nclc, example, tmp, key, prec,
                                                  max(1, args.net_compile_repeats))
                    mres["compile"]["ncl_" + prec] = {"walls_s": walls, "cpu_s": cpus,
                                                      "median_s": statistics.median(walls)}
                    log("  nclc %s: wall %s s (CPU %s s)" % (
                        prec, ", ".join("%.3f" % w for w in walls),
                        ", ".join("%.3f" % c for c in cpus)))
                except (RuntimeError, OSError) as e:
                    log("  NCL failed to compile %s (%s):\n%s" % (key, prec, e))
            for th in threads_list:
                row = {"model": key, "precision": prec, "threads": th, "time_s": time_s}
                if so:
                    try:
                        runs = [ncl_run(ncl_run_exe, so, tmp, time_s, th, args.net_seed)
                                for _ in range(max(1, args.net_repeat))]
                        b = dict(min(runs, key=lambda r: r["simulate_s"]))
                        b["all_simulate_s"] = [r["simulate_s"] for r in runs]
                        row["ncl"] = b
                        log("  NCL    %s %d thr: simulate %s s (%s spikes, %.2f Hz; best run: "
                            "init %.3f s, process wall %.3f s, CPU %.3f s)" % (
                                prec, th, ", ".join("%.4f" % s for s in b["all_simulate_s"]),
                                b["spikes"], b["rate_hz"] or 0, b["init_s"] or 0, b["run_s"],
                                b["process_cpu_s"]))
                        for name, pr in sorted(b["projections"].items()):
                            log("         projection %s: %d synapses, %.2f B/synapse "
                                "(connectivity built in init)" % (
                                    name, pr["synapses"], pr["bytes_per_synapse"]))
                    except (RuntimeError, OSError, KeyError, ValueError) as e:
                        log("  NCL failed to run %s (%s, %d threads):\n%s" % (key, prec, th, e))
                if have_b2:
                    try:
                        b = brian2_run(tmp, b2_model, time_s, prec, th, args.net_seed,
                                       max(1, args.net_repeat))
                        row["brian2"] = b
                        if b.get("refused"):
                            log("  Brian2 %s %d thr: refused (needs %.1f GiB, %.1f available)"
                                % (prec, th, b["memory_needed_bytes"] / 2 ** 30,
                                   b["memory_available_bytes"] / 2 ** 30))
                        else:
                            mres["compile"]["brian2_%s_t%d" % (prec, th)] = {
                                "build_s": b["build_s"]}
                            log("  Brian2 %s %d thr: simulate %s s (build %.1f s, %s spikes, "
                                "%.2f Hz)" % (prec, th, ", ".join(
                                    "%.4f" % s for s in b["all_simulate_s"]), b["build_s"],
                                    b.get("spikes"), b.get("rate_hz") or 0))
                    except (RuntimeError, OSError, KeyError, ValueError,
                            subprocess.TimeoutExpired) as e:
                        log("  Brian2 failed (%s, %s, %d threads):\n%s" % (key, prec, th, e))
                mres["runs"].append(row)
                rows.append(row)

    # --- summary table
    def per_bio(row, who):
        r = row.get(who)
        if not r or r.get("refused") or not r.get("simulate_s"):
            return None
        return r["simulate_s"] / row["time_s"]

    log("\nNetworks: simulation-loop seconds per biological second (best of %d; lower is "
        "better),\nBrian2/NCL > 1 means NCL is faster; build: nclc wall (median) vs Brian2 "
        "codegen + C++ compile" % args.net_repeat)
    hdr = ("%-12s %-4s %3s | %9s %9s %9s | %11s | %7s %7s | %7s %7s" % (
        "model", "prec", "thr", "NCL", "Brian2", "B2/NCL", "NCL us/step", "NCL Hz", "B2 Hz",
        "nclc s", "B2 bld s"))
    log(hdr)
    log("-" * len(hdr))
    for row in rows:
        n, b = per_bio(row, "ncl"), per_bio(row, "brian2")
        steps = results["models"][row["model"]]["steps"]
        us = row["ncl"]["simulate_s"] / steps * 1e6 if n is not None and steps else None
        comp = results["models"][row["model"]]["compile"]
        c = comp.get("ncl_" + row["precision"])
        bb = comp.get("brian2_%s_t%d" % (row["precision"], row["threads"]))
        row["ncl_s_per_bio_s"], row["brian2_s_per_bio_s"] = n, b
        row["brian2_over_ncl"] = b / n if n and b else None
        log("%-12s %-4s %3d | %9s %9s %9s | %11s | %7s %7s | %7s %7s" % (
            row["model"], row["precision"], row["threads"], fmt(n), fmt(b),
            fmt(row["brian2_over_ncl"], "%.2f"), fmt(us, "%.2f"),
            fmt(row.get("ncl", {}).get("rate_hz"), "%.2f"),
            fmt((row.get("brian2") or {}).get("rate_hz"), "%.2f"),
            fmt(c and c["median_s"], "%.3f"), fmt(bb and bb["build_s"], "%.1f")))
    for key, msg in results["skipped"].items():
        log("%-12s skipped: %s" % (key, msg))
    results["rows"] = rows

    out_json = args.net_json or os.path.join(workdir, "networks.json")
    with open(out_json, "w") as f:
        json.dump(results, f, indent=2)
    log("\nnetwork results written to " + out_json)
    if not getattr(args, "keep", False):
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--precision", default="f32,f64")
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("NCL_BENCH_QUICK", "") not in ("", "0"))
    ap.add_argument("--skip-ncl", action="store_true")
    ap.add_argument("--skip-brian2", action="store_true")
    ap.add_argument("--keep", action="store_true")
    add_arguments(ap)
    run(ap.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
