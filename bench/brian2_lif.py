"""Brian2 C++ standalone run of the uncoupled-LIF benchmark (one configuration).

Run with Debian's /usr/bin/python3 (python3-brian). Called by run_benchmarks.py in a
fresh process per configuration, because Brian2's standalone device builds one project
per process. Prints one JSON line on stdout:
  build_s     wall time of model construction + code generation + C++ build
              (NeuronGroup, run(), device.build(compile=True, run=False))
  simulate_s  the simulation-loop time Brian2 itself measured (results/last_run_info.txt)
  run_s       wall time of running the compiled binary (includes allocation, init, I/O)
  spikes      total spike count (only with --count-spikes, which adds a SpikeMonitor)
"""
import argparse
import json
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--time-ms", type=float, default=200.0)
    ap.add_argument("--dt-ms", type=float, default=0.1)
    ap.add_argument("--precision", choices=["f32", "f64"], default="f64")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dir", required=True, help="project directory (created)")
    ap.add_argument("--count-spikes", action="store_true",
                    help="add a SpikeMonitor and report the spike count")
    args = ap.parse_args()

    import numpy as np
    import brian2 as b2
    from brian2 import ms, mV, Mohm, nA

    b2.set_device("cpp_standalone", directory=args.dir, build_on_run=False)
    b2.prefs.logging.console_log_level = "WARNING"
    if args.precision == "f32":
        b2.prefs.core.default_float_dtype = np.float32
    # 0 = no OpenMP at all (Brian2's plain single-threaded build); >1 = OpenMP threads.
    b2.prefs.devices.cpp_standalone.openmp_threads = 0 if args.threads <= 1 else args.threads
    b2.defaultclock.dt = args.dt_ms * ms

    t0 = time.perf_counter()
    # Same model and parameters as examples/lif.ncl and bench/lif_uncoupled.ncl.
    ns = dict(tau_m=20 * ms, El=-70 * mV, Vt=-55 * mV, Vr=-75 * mV, R=10 * Mohm,
              I=2 * nA)
    G = b2.NeuronGroup(args.n, "dv/dt = (-(v - El) + R*I)/tau_m : volt (unless refractory)",
                       threshold="v > Vt", reset="v = Vr", refractory=2 * ms,
                       method="exact", namespace=ns)
    G.v = ns["El"]
    mon = b2.SpikeMonitor(G, record=False) if args.count_spikes else None
    b2.run(args.time_ms * ms)
    b2.device.build(directory=args.dir, compile=True, run=False)
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    b2.device.run(args.dir, with_output=False, run_args=[])
    run_s = time.perf_counter() - t1
    with open(os.path.join(args.dir, "results", "last_run_info.txt")) as f:
        simulate_s = float(f.read().split()[0])
    out = dict(n=args.n, steps=int(round(args.time_ms / args.dt_ms)),
               precision=args.precision, threads=args.threads, build_s=build_s,
               simulate_s=simulate_s, run_s=run_s)
    if mon is not None:
        out["spikes"] = int(mon.num_spikes)
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
