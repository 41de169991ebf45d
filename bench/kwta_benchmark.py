#!/usr/bin/python3
"""The k-WTA section of `make bench`: NCL's k-WTA against std::nth_element, a full
std::sort and (where `import torch` works) torch.topk, N = 1e3 to 1e7, k = 2 % of N.

Each N is timed with B = 1, 16 and 256 batch members (--kwta-batches; cells with N x B
above --kwta-max-work, 1e7, are skipped): B independent selections, one per member's row.
NCL's cost is measured inside a running model: bench/kwta_benchmark.cpp runs a population
of N units that take a fresh normal draw every step, with and without `kwta x keep 2 %`,
through the C API on one thread, and takes the difference of the two simulate times per
step: the selection and the masking pass (both models also hold a k-WTA of one unit, so
both are stepped one step at a time, as a k-WTA requires). The same program times std::nth_element and std::sort on
neuron indices under the same order (larger value first, then lower index) followed by the
same masking pass, best of several repeats. torch.topk (values and indices of the k
largest, then a scatter into zeros) is timed in this process if PyTorch imports; else the
column says why it is missing. Ratios are NCL's time over each peer's (below 1: NCL is
faster). Timings on a loaded machine vary; compare the ratios of one run.

Fusion: the same program times models with a plain and a boosted k-WTA (keep 2 %, boost 2
period 100) built with ncl-fuse (nclc's default) and with --no-fuse, and the model without
a k-WTA, alternating builds over three rounds (best of each); the k-WTA's cost is a
model's time per step less the model without one.

Spiking k-WTA: a noisy LIF population with and without `kwta v keep 2 %` (only the k most
depolarised crossers spike), seconds per step: the keys kernel runs the step program a
second time, then the selection and the gated update.

Usage: /usr/bin/python3 bench/kwta_benchmark.py --build build [--kwta-sizes 1e3,1e4,...]
(run_benchmarks.py calls run(args) as its k-WTA section; --skip-kwta leaves it out).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCE = os.path.join(HERE, "kwta_benchmark.cpp")

MODEL = """neuron Unit {
  input I = 0
  state { x = 0 }
  update { x = I }
}
network KwtaBench {
  population L = Unit[1000] {
    %s
  }
  # A k-WTA of one unit in both models, so that both are stepped one step at a
  # time (as a k-WTA requires) and differ only by L's selection and mask.
  population S = Unit[1] { kwta x keep 1 }
  stimulus L.I += randn()
  simulate 1 s, dt = 1 ms
}
"""


def add_arguments(ap):
    g = ap.add_argument_group("k-WTA section")
    g.add_argument("--kwta-sizes", default=None,
                   help="population sizes, comma-separated (default 1e3,1e4,1e5,1e6,1e7; "
                        "1e3,1e4,1e5 with --quick)")
    g.add_argument("--kwta-batches", default="1,16,256",
                   help="batch members, comma-separated (default 1,16,256); cells with N x B "
                        "above --kwta-max-work are skipped")
    g.add_argument("--kwta-max-work", type=float, default=1e7,
                   help="largest N x B timed (default 1e7)")
    g.add_argument("--kwta-json", help="results file (default BUILD/bench/kwta.json)")
    g.add_argument("--skip-kwta", action="store_true", help="leave the k-WTA section out")


def log(msg=""):
    print(msg, flush=True)


def build_tools(build, workdir):
    nclc = os.path.join(build, "bin", "nclc")
    libs = {}
    for name, item in (("with", "kwta x keep 2 %"), ("without", "")):
        source = os.path.join(workdir, "kwta_%s.ncl" % name)
        with open(source, "w") as f:
            f.write(MODEL % item)
        libs[name] = os.path.join(workdir, "kwta_%s.so" % name)
        subprocess.run([nclc, source, "-o", libs[name]], check=True)
    exe = os.path.join(workdir, "kwta_benchmark")
    cxx = os.environ.get("CXX", "g++")
    cmd = [cxx, "-O3", "-march=native", "-std=c++17", SOURCE, "-o", exe,
           "-I" + os.path.join(ROOT, "runtime", "include"), "-L" + os.path.join(build, "lib"),
           "-Wl,-rpath," + os.path.join(build, "lib"), "-lnclrt"]
    log("  building: " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    return exe, libs


def torch_topk(n, k, repeats, batch=1):
    """Seconds of torch.topk over each of `batch` rows plus the scatter into zeros (best of
    repeats), or the reason it cannot be timed."""
    try:
        import torch  # noqa: F401 (benchmarks only; never a test dependency)
    except Exception as e:  # ImportError, or a broken installation
        return None, "torch not importable (%s)" % type(e).__name__
    torch.set_num_threads(1)
    best = float("inf")
    for _ in range(repeats):
        x = torch.randn(batch, n, dtype=torch.float64)
        start = time.perf_counter()
        values, indices = torch.topk(x, k, dim=1, sorted=False)
        out = torch.zeros_like(x)
        out.scatter_(1, indices, values)
        best = min(best, time.perf_counter() - start)
    return best, ""


def run(args):
    sizes_arg = args.kwta_sizes or ("1e3,1e4,1e5" if getattr(args, "quick", False)
                                    else "1e3,1e4,1e5,1e6,1e7")
    sizes = [int(float(s)) for s in sizes_arg.split(",") if s.strip()]
    build = os.path.abspath(args.build)
    workdir = os.path.join(build, "bench")
    os.makedirs(workdir, exist_ok=True)
    log("\n== k-WTA: NCL's selection against std::nth_element, std::sort, torch.topk "
        "(k = 2 % of N, one thread)")
    exe, libs = build_tools(build, workdir)
    rows = []
    torch_note = ""
    batches = [int(b) for b in args.kwta_batches.split(",") if b.strip()]
    for n in sizes:
        for batch in batches:
            if n * batch > args.kwta_max_work:
                continue
            steps = max(3, min(2000, int(2e7 // (n * batch))))
            out = subprocess.run([exe, str(n), str(steps), libs["with"], libs["without"],
                                  str(batch)], check=True, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            row["torch_topk_s"], note = torch_topk(n, row["k"], max(3, min(steps, 50)), batch)
            torch_note = torch_note or note
            rows.append(row)
    log("%10s %6s %8s %12s %12s %12s %12s %10s %10s %10s" %
        ("N", "batch", "k", "NCL s/step", "nth_element", "sort", "torch.topk", "NCL/nth",
         "NCL/sort", "NCL/torch"))
    for r in rows:
        ratio = lambda peer: "%.2f" % (r["ncl_kwta_s"] / peer) if peer else "-"
        log("%10d %6d %8d %12.3g %12.3g %12.3g %12s %10s %10s %10s" %
            (r["n"], r["batch"], r["k"], r["ncl_kwta_s"], r["nth_element_s"], r["sort_s"],
             "%.3g" % r["torch_topk_s"] if r["torch_topk_s"] else "-",
             ratio(r["nth_element_s"]), ratio(r["sort_s"]), ratio(r["torch_topk_s"])))
    if torch_note:
        log("torch.topk skipped: " + torch_note)
    fusion = fusion_rows(build, workdir, exe, [n for n in sizes if n <= 10**6])
    spiking = spiking_rows(build, workdir, exe, [n for n in sizes if n <= 10**6])
    path = args.kwta_json or os.path.join(workdir, "kwta.json")
    with open(path, "w") as f:
        json.dump({"rows": rows, "torch": torch_note or "timed", "fusion": fusion,
                   "spiking": spiking}, f, indent=1)
    log("results: " + path)
    return rows


SPIKING = """neuron Lif {
  parameters {
    tau = 20 ms
    vt = 1
  }
  input I = 0
  state { v = 0 }
  dynamics { v' = (-v + 1.2 + I) / tau }
  spike when v > vt
  reset { v = 0 }
}
network SpikingKwta {
  population L = Lif[1000] {
    %s
  }
  # A one-unit rate k-WTA in both models: both are stepped one step at a time.
  population S = Unit[1] { kwta x keep 1 }
  stimulus L.I += 0.5 * randn()
  record spikes(L)
  simulate 1 s, dt = 1 ms
}
neuron Unit {
  input J = 0
  state { x = 0 }
  update { x = J }
}
"""


def spiking_rows(build, workdir, exe, sizes):
    """Seconds per step of a noisy LIF population with and without a spiking k-WTA
    (keep 2 %): what the keys kernel (a second pass of the step program), the
    selection and the gate cost."""
    nclc = os.path.join(build, "bin", "nclc")
    libs = []
    for name, item in (("with", "kwta v keep 2 %"), ("without", "")):
        source = os.path.join(workdir, "spiking_kwta_%s.ncl" % name)
        with open(source, "w") as f:
            f.write(SPIKING % item)
        libs.append(os.path.join(workdir, "spiking_kwta_%s.so" % name))
        subprocess.run([nclc, source, "-o", libs[-1]], check=True)
    log("\n== spiking k-WTA (keep 2 %): a noisy LIF population with and without it, "
        "seconds per step, one thread")
    log("%10s %12s %12s %12s %9s" % ("N", "with", "without", "k-WTA cost", "with/without"))
    rows = []
    for n in sizes:
        steps = max(3, min(2000, int(1e7 // n)))
        best = [float("inf")] * 2
        for _ in range(3):
            out = subprocess.run([exe, "steps", str(n), str(steps)] + libs, check=True,
                                 capture_output=True, text=True).stdout
            best = [min(a, b) for a, b in zip(best, json.loads(out))]
        rows.append({"n": n, "with_s": best[0], "without_s": best[1]})
        log("%10d %12.3g %12.3g %12.3g %9.2f" % (n, best[0], best[1], best[0] - best[1],
                                                 best[0] / best[1]))
    return rows


def fusion_rows(build, workdir, exe, sizes):
    """Seconds per step of plain and boosted k-WTA models, fused and unfused."""
    nclc = os.path.join(build, "bin", "nclc")
    kinds = (("plain", "kwta x keep 2 %"), ("boosted", "kwta x keep 2 % boost 2 period 100"))
    libs = [os.path.join(workdir, "kwta_without.so")]
    for name, item in kinds:
        source = os.path.join(workdir, "kwta_%s.ncl" % name)
        with open(source, "w") as f:
            f.write(MODEL % item)
        for flags in ([], ["--no-fuse"]):
            libs.append(os.path.join(workdir, "kwta_%s%s.so" % (name, "".join(flags))))
            subprocess.run([nclc, source, "-o", libs[-1]] + flags, check=True)
    log("\n== k-WTA fused (ncl-fuse) against unfused (nclc --no-fuse): seconds per step "
        "and the k-WTA's share (step less the model without one), one thread")
    log("%10s %9s %12s %12s %12s %12s %9s" % ("N", "k-WTA", "fused s", "unfused s",
                                              "fused kwta", "unfused kwta", "speed-up"))
    rows = []
    for n in sizes:
        steps = max(3, min(2000, int(1e7 // n)))
        best = [float("inf")] * len(libs)
        for _ in range(3):
            out = subprocess.run([exe, "steps", str(n), str(steps)] + libs, check=True,
                                 capture_output=True, text=True).stdout
            best = [min(a, b) for a, b in zip(best, json.loads(out))]
        without = best[0]
        for j, (name, _) in enumerate(kinds):
            fused, unfused = best[1 + 2 * j], best[2 + 2 * j]
            row = {"n": n, "kwta": name, "fused_s": fused, "unfused_s": unfused,
                   "without_s": without}
            rows.append(row)
            log("%10d %9s %12.3g %12.3g %12.3g %12.3g %9.2f" %
                (n, name, fused, unfused, fused - without, unfused - without,
                 (unfused - without) / max(fused - without, 1e-12)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true")
    add_arguments(ap)
    run(ap.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
