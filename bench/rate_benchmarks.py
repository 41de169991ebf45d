#!/usr/bin/python3
"""NCL benchmark, rate-network section: the discrete-time CTRNN of
examples/ctrnn.ncl (x <- (1 - a) x + a (W tanh(x) + u(t) + b), dense
recurrent W) for 1000 steps, NCL against the same loop in NumPy and, where
`import torch` works (Debian's python3-torch, installed only for
benchmarks), in PyTorch (torch.nn.Linear in a Python time loop, as the
seed projects write it), all on the same threads, in float32 and float64.

usage: rate_benchmarks.py [--build BUILD] [--sizes 256,1024,4096] [--batches 1,16,256]
                          [--threads 1] [--repeat 3] [--max-work 5e9] [--reduce-above 7e7]
                          [--reduced-steps 100] [--baseline BUILD2]

--baseline BUILD2 also times NCL built in BUILD2 (e.g. main's build, its
bin/nclc and bin/ncl-run) in the same run: the column "base" and the ratio
base/NCL, to compare a change on a loaded machine.

Batches: B independent members of the network (NCL `--batch B`, one
initial state per member), NumPy and PyTorch on a (B, N) array, the
members' rows multiplied by W^T in one product per step. Cells with
N * N * B above --reduce-above (N = 1024 at batch 256, N = 4096 from batch
16) run --reduced-steps steps instead of 1000 and are scaled to 1000 (each
step does the same work); cells above --max-work are skipped.

Prints per line the seconds per 1000 steps of each and the ratios
(> 1: NCL is faster), and the hardware limit: the weights NCL reads per
second (one value per synapse and step, "W GB/s") beside the rate at which
this core reads an array of the weights' size ("read GB/s", measured by
bench/read_bandwidth.cpp in the same run), so a cell bound by streaming the
weights shows it: at batch 1 every weight is read once per step, and W GB/s
cannot exceed read GB/s. Benchmarks, not tests: nothing here fails on a timing.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STEPS = 1000
DT, TAU = 1e-3, 0.020


def ncl_seconds(build, n, batch, precision, threads, repeat, tmp, steps=STEPS):
    source = open(os.path.join(ROOT, "examples", "ctrnn.ncl")).read()
    source = re.sub(r"RateUnit\[\d+\]", "RateUnit[%d]" % n, source)
    model = os.path.join(tmp, "ctrnn_%d.ncl" % n)
    with open(model, "w") as f:
        f.write(source)
    lib = os.path.join(tmp, "ctrnn_%d_%s.so" % (n, precision))
    subprocess.run([os.path.join(build, "bin", "nclc"), model, "-o", lib,
                    "--precision=" + precision], check=True)
    best = None
    for _ in range(repeat):
        out = os.path.join(tmp, "out")
        subprocess.run([os.path.join(build, "bin", "ncl-run"), lib, "--time", "%gs" % (steps * DT),
                        "--threads", str(threads), "--batch", str(batch), "--quiet", "--out", out],
                       check=True)
        s = json.load(open(os.path.join(out, "run.json")))["timings"]["simulate_s"]
        s *= STEPS / steps
        best = s if best is None else min(best, s)
    return best


def numpy_seconds(n, batch, precision, repeat, steps=STEPS):
    dtype = np.float32 if precision == "f32" else np.float64
    rng = np.random.default_rng(1)
    w = (1.5 * rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    b = (0.1 * rng.standard_normal(n)).astype(dtype)
    a = dtype(DT / TAU)
    best = None
    for _ in range(repeat):
        if batch == 1:
            x = rng.standard_normal(n).astype(dtype)
            t0 = time.perf_counter()
            for k in range(steps):
                u = dtype(0.5 * np.sin(2 * np.pi * 5.0 * k * DT))
                x = (1 - a) * x + a * (w @ np.tanh(x) + u + b)
        else:
            # Rows are members: tanh(X) W^T is the batched product.
            x = rng.standard_normal((batch, n)).astype(dtype)
            wt = np.ascontiguousarray(w.T)
            t0 = time.perf_counter()
            for k in range(steps):
                u = dtype(0.5 * np.sin(2 * np.pi * 5.0 * k * DT))
                x = (1 - a) * x + a * (np.tanh(x) @ wt + u + b)
        s = (time.perf_counter() - t0) * STEPS / steps
        best = s if best is None else min(best, s)
    return best


def torch_seconds(n, batch, precision, threads, repeat, steps=STEPS):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    dtype = torch.float32 if precision == "f32" else torch.float64
    rec = torch.nn.Linear(n, n, bias=True).to(dtype)
    a = DT / TAU
    best = None
    with torch.no_grad():
        for _ in range(repeat):
            x = torch.randn(n, dtype=dtype) if batch == 1 else torch.randn(batch, n, dtype=dtype)
            t0 = time.perf_counter()
            for k in range(steps):
                u = 0.5 * np.sin(2 * np.pi * 5.0 * k * DT)
                x = (1 - a) * x + a * (rec(torch.tanh(x)) + u)
            s = (time.perf_counter() - t0) * STEPS / steps
            best = s if best is None else min(best, s)
    return best


def build_read_probe(tmp):
    """Compiles bench/read_bandwidth.cpp with the LLVM 22 clang++ that builds NCL (the same
    code generator and target as NCL's kernels; g++ where it is missing) and returns
    the executable."""
    exe = os.path.join(tmp, "read_bandwidth")
    clang = "/usr/lib/llvm-22/bin/clang++"
    cxx = os.environ.get("CXX", clang if os.path.exists(clang) else "g++")
    subprocess.run([cxx, "-O3", "-march=native", "-std=c++17",
                    os.path.join(HERE, "read_bandwidth.cpp"), "-o", exe], check=True)
    return exe


def read_bandwidth(probe, nbytes):
    """Bytes per second one core reads an array of `nbytes` (bench/read_bandwidth.cpp,
    best pass): the hardware's limit for streaming the weights from wherever an array
    of their size sits (L2, L3 or memory)."""
    out = subprocess.run([probe, str(nbytes)], check=True, capture_output=True, text=True)
    return float(out.stdout) * 1e9


def ratio(a, b):
    return "%.1f" % (a / b) if a and b else "-"


def run(args):
    sizes = [int(s) for s in args.sizes.split(",")]
    batches = [int(s) for s in args.batches.split(",")]
    threads = int(args.threads)
    # NumPy's BLAS follows these; set before the loops.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    try:
        import torch
        blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        print("PyTorch %s, BLAS: %s" % (torch.__version__, blas.group(1) if blas else "unknown"))
    except Exception:  # not installed (benchmarks only), or a broken installation
        pass
    print("rate networks: CTRNN, %d thread(s); seconds per %d steps (cells with N*N*batch above "
          "%g run %d steps, scaled)" % (threads, STEPS, args.reduce_above, args.reduced_steps))
    print("%6s %5s %5s %10s %10s %10s %12s %12s %9s %9s %6s %8s%s" %
          ("N", "batch", "prec", "NCL", "NumPy", "PyTorch", "NumPy/NCL", "PyTorch/NCL",
           "W GB/s", "read GB/s", "W/read", "GFLOP/s", " %10s %9s" % ("base", "base/NCL") if args.baseline else ""))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        probe = build_read_probe(tmp)
        for n in sizes:
            for batch in batches:
                if n * n * batch > args.max_work:
                    continue
                steps = STEPS if n * n * batch <= args.reduce_above else args.reduced_steps
                for precision in ("f32", "f64"):
                    ncl = ncl_seconds(args.build, n, batch, precision, threads, args.repeat, tmp,
                                      steps)
                    npy = numpy_seconds(n, batch, precision, args.repeat, steps)
                    tch = torch_seconds(n, batch, precision, threads, args.repeat, steps)
                    base = (ncl_seconds(args.baseline, n, batch, precision, threads, args.repeat,
                                        tmp, steps) if args.baseline else None)
                    # The weights NCL reads per step (one value per synapse), and
                    # how fast this core reads an array of that size.
                    w_bytes = n * n * (4 if precision == "f32" else 8)
                    w_rate = w_bytes * STEPS / ncl
                    limit = read_bandwidth(probe, w_bytes)
                    # Two operations (a multiply and an add) per synapse, member and step.
                    gflops = 2.0 * n * n * batch * STEPS / ncl / 1e9
                    print("%6d %5d %5s %10.4f %10.4f %10s %12s %12s %9.1f %9.1f %6s %8.1f%s"
                          % (n, batch, precision, ncl, npy, "%.4f" % tch if tch else "-",
                             ratio(npy, ncl), ratio(tch, ncl), w_rate / 1e9, limit / 1e9,
                             "%.0f%%" % (100 * w_rate / limit) if batch == 1 else "-", gflops,
                             " %10.4f %9s" % (base, ratio(base, ncl)) if base else ""),
                          flush=True)
                    results.append(dict(n=n, batch=batch, precision=precision, ncl_s=ncl,
                                        numpy_s=npy, torch_s=tch, baseline_s=base,
                                        weights_gbps=w_rate / 1e9, read_gbps=limit / 1e9,
                                        gflops=gflops))
    if all(r["torch_s"] is None for r in results):
        print("(PyTorch not importable: install python3-torch, e.g. scripts/install-deps.sh "
              "--bench, for its column)")
    return results


def parser():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="256,1024,4096")
    ap.add_argument("--batches", default="1,16,256")
    ap.add_argument("--max-work", type=float, default=5e9,
                    help="skip cells with N*N*batch above this")
    ap.add_argument("--reduce-above", type=float, default=7e7,
                    help="cells with N*N*batch above this run --reduced-steps steps")
    ap.add_argument("--reduced-steps", type=int, default=100)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", default=None,
                    help="a second build whose NCL is timed in the same run (e.g. main's)")
    return ap


def arguments_for(bench_args):
    """This section's arguments when bench/run_benchmarks.py runs it: its defaults,
    the build, the first thread count, and a smaller grid with --quick."""
    args = parser().parse_args([])
    args.build = bench_args.build
    args.threads = bench_args.threads.split(",")[0]
    if bench_args.quick:
        args.sizes, args.batches, args.repeat = "256,1024", "1,16", 1
    return args


def main():
    run(parser().parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
