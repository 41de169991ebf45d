#!/usr/bin/env python3
"""f-I curves of Hodgkin-Huxley-type models against an independent
high-accuracy reference (bench/reference/*_fi_reference.py, whose output
is the committed JSON next to this file).

For each dt in DTS the network is compiled once (a copy of MODEL with the
`dt = 0.01 ms` of its `simulate` line replaced); each current of the reference is then set at load
time (ncl-run --set POP.I=...) and the steady rate measured exactly as the
reference does: (k - 1)/(t_k - t_1) over the k spikes in [0.5 s, 2 s] when
k >= 3, else 0 Hz.

Checks:
 * currents where the reference is silent (or only fires a transient): NCL
   is silent there too and fires the same number of spikes in total;
 * firing currents: |rate/ref - 1| <= K * dt at every dt. ncl-integrate
   advances these models by exponential Euler, which is exact only for
   constant coefficients; in HH-type models they change with v, so the
   scheme is first order: the global error, and with it the error of the
   period, is proportional to dt. K (per model, below) is about 1.5 times
   the largest error constant measured when this test was written (rates
   always low; at dt = 0.01 ms HH 0.49-0.68 %, K = 1/ms; Traub-Miles
   0.41-1.22 %, K = 2/ms; see docs/integration-references.md);
 * order: err(2 dt)/err(dt) must be near 2^p, where p is the order that
   `nclc --explain` states for the model's ODEs ("first order": 2, within
   [1.6, 2.5]), for each firing current and each pair of successive dts,
   unless err(dt) is too close to the floor set by the reference's own error
   and the quantisation of spike times to dt (then it is reported only).
   This is what makes the tolerance meaningful: a loose bound alone would
   also pass a scheme that lost its order.

Usage: fi_check.py hh|traub NCLC NCL_RUN MODEL POP REFERENCE.json WORKDIR
"""
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np

T0_MS, T1_MS = 500.0, 2000.0
DTS_MS = [0.02, 0.01, 0.005]
CONFIG = {
    # current key in the reference, unit for --set, K in 1/ms (|rel err| <= K dt)
    "hh": ("I_uA_per_cm2", "uA/cm2", 1.0),
    "traub": ("I_nA", "nA", 2.0),
}
ORDER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}


def steady_rate(spikes_ms):
    s = np.asarray(spikes_ms, dtype=float)
    s = s[(s >= T0_MS) & (s <= T1_MS)]
    if len(s) < 3:
        return 0.0
    return 1000.0 * (len(s) - 1) / (s[-1] - s[0])


def main():
    which, nclc, ncl_run, model, pop, ref_path, workdir = sys.argv[1:8]
    key, unit, K = CONFIG[which]
    os.makedirs(workdir, exist_ok=True)
    with open(ref_path) as f:
        ref = json.load(f)
    if ref["rate_definition"] != ("steady rate = (k - 1) / (t_k - t_1) over the k spikes in "
                                  "[%g ms, %g ms] when k >= 3, else 0 Hz" % (T0_MS, T1_MS)):
        sys.exit("FAIL: the reference measures the rate differently: " + ref["rate_definition"])
    started = time.time()
    source = open(model).read()
    simulate = re.compile(r"^(\s*simulate\b[^\n#]*\bdt = )0\.01 ms", re.M)
    if len(simulate.findall(source)) != 1:
        sys.exit("FAIL: %s must have one 'simulate ..., dt = 0.01 ms'" % model)

    # The order the compiler says it integrates with.
    explain = subprocess.run([nclc, "--explain", model, "-o", os.devnull],
                             capture_output=True, text=True)
    if explain.returncode != 0:
        sys.exit("FAIL: nclc --explain:\n" + explain.stderr)
    orders = [ORDER_WORDS.get(w) for w in re.findall(r"(\w+) order", explain.stderr + explain.stdout)]
    order = min(orders) if orders and None not in orders else None
    print("nclc --explain: %s" % ("order %d" % order if order else "no order stated"))

    measured = {}  # dt -> list of (I, rate, total spikes)
    for dt in DTS_MS:
        tag = "%s_fi_dt%g" % (which, dt)
        src = os.path.join(workdir, tag + ".ncl")
        with open(src, "w") as f:
            f.write(simulate.sub(lambda m: m.group(1) + "%r ms" % dt, source))
        lib = os.path.join(workdir, tag + ".so")
        subprocess.run([nclc, src, "-o", lib], check=True)
        measured[dt] = []
        for r in ref["results"]:
            I = r[key]
            out = os.path.join(workdir, "%s_I%g" % (tag, I))
            subprocess.run([ncl_run, lib, "--quiet", "--out", out,
                            "--set", "%s.I=%r%s" % (pop, float(I), unit)], check=True)
            t = np.load(os.path.join(out, pop + "_spike_t.npy"))
            i = np.load(os.path.join(out, pop + "_spike_i.npy"))
            t_ms = 1000.0 * t[i == 0]
            measured[dt].append((I, steady_rate(t_ms), len(t_ms)))

    failures = []
    print("%8s %12s %5s" % ("I", "ref (Hz)", "ref n") + "".join(
        " | dt=%-5g %10s %9s %5s" % (dt, "NCL (Hz)", "rel err", "n") for dt in DTS_MS))
    errors = {}
    for j, r in enumerate(ref["results"]):
        I, f_ref, n_ref = r[key], r["rate_hz"], r["spikes_total"]
        line = "%8g %12.6f %5d" % (I, f_ref, n_ref)
        for dt in DTS_MS:
            _, f, n = measured[dt][j]
            if f_ref > 0:
                err = f / f_ref - 1.0
                errors[(j, dt)] = err
                line += " | %8s %10.5f %+9.2e %5d" % ("", f, err, n)
                if abs(err) > K * dt:
                    failures.append("I = %g %s, dt = %g ms: rate %.5f Hz, reference %.5f Hz: "
                                    "relative error %.2e > %.2e" % (I, unit, dt, f, f_ref, err, K * dt))
            else:
                line += " | %8s %10.5f %9s %5d" % ("", f, "", n)
                if f != 0 or n != n_ref:
                    failures.append("I = %g %s, dt = %g ms: %d spikes (rate %.3f Hz); the reference "
                                    "fires %d, then is silent" % (I, unit, dt, n, f, n_ref))
        print(line)

    # Convergence order.
    if order is None:
        print("NOTE: nclc --explain states no order; the order check is skipped")
    else:
        want = 2.0 ** order
        lo, hi = 0.8 * want, 1.25 * want
        for j, r in enumerate(ref["results"]):
            if r["rate_hz"] <= 0:
                continue
            ratios = []
            for coarse, fine in zip(DTS_MS, DTS_MS[1:]):
                e_c, e_f = errors[(j, coarse)], errors[(j, fine)]
                # floor: the reference's own error plus spike times rounded up
                # to the grid (at most dt over the window's ~1.5 s of ISIs)
                floor = r["rate_rel_diff_methods"] + fine / (T1_MS - T0_MS - 1000.0 / r["rate_hz"])
                if abs(e_f) < 20 * floor:
                    ratios.append("(%g/%g: error %.1e near the floor %.1e, not checked)"
                                  % (coarse, fine, e_f, floor))
                    continue
                ratio = e_c / e_f
                ratios.append("%g/%g: %.3f" % (coarse, fine, ratio))
                if not lo <= ratio <= hi:
                    failures.append("I = %g %s: error ratio err(%g ms)/err(%g ms) = %.3f, expected %g "
                                    "(order %d) within [%.2f, %.2f]"
                                    % (r[key], unit, coarse, fine, ratio, want, order, lo, hi))
            print("I = %g %s: error ratios %s (order %d expects %g)"
                  % (r[key], unit, ", ".join(ratios), order, want))

    print("tolerance |rel err| <= %g/ms * dt; %.1f s" % (K, time.time() - started))
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
