#!/usr/bin/env python3
"""End-to-end check of examples/lif.ncl against the analytic LIF solution.

Between spikes, with constant I, tau_m dv/dt = -(v - El) + R*I has the exact
solution v(t) = v_inf + (v0 - v_inf) exp(-t/tau_m), v_inf = El + R*I, so the
time to climb from v0 to Vt is tau_m * ln((v0 - v_inf) / (Vt - v_inf)).
NCL integrates exactly and tests the threshold at the end of each step, so
every spike must be recorded at the first grid time after the analytic
crossing: t_pred < t_spike <= t_pred + dt, where t_pred counts from the
previous recorded spike plus the refractory period (or from t = 0).

Then a sweep of I, set at load time on the same library (no recompile),
against the analytic f-I curve f = 1 / (t_ref + tau_m ln((Vr - v_inf)/(Vt -
v_inf))): the measured inter-spike interval must lie within one dt of it.
Usage: lif_analytic.py NCLC NCL_RUN EXAMPLE WORKDIR [f32|f64]
"""
import json
import math
import os
import subprocess
import sys

# The .npy reader of the runtime's tests (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit",
                                "runtime"))
from npy_file import load  # noqa: E402

nclc, ncl_run, example, workdir = sys.argv[1:5]
precision = sys.argv[5] if len(sys.argv) > 5 else "f64"
os.makedirs(workdir, exist_ok=True)

# Parameters of examples/lif.ncl, in SI units.
tau, El, Vt, Vr, R, t_ref, dt = 20e-3, -70e-3, -55e-3, -75e-3, 10e6, 2e-3, 1e-4
# Rounding slack: float64 state is exact to ~1e-15; float32 to ~1e-7 of the
# voltage, which moves a crossing by far less than dt except when it falls
# within a hair of a grid point.
slack = 1e-9 if precision == "f64" else 1e-5

lib = os.path.join(workdir, "lif_%s.so" % precision)
subprocess.run([nclc, example, "-o", lib, "--precision=" + precision], check=True)
failures = []


def run(I_nA, duration="1s", tag="run"):
    out = os.path.join(workdir, "%s_%s" % (tag, precision))
    subprocess.run([ncl_run, lib, "--time", duration, "--set", "P.I=%gnA" % I_nA,
                    "--out", out, "--quiet"], check=True)
    t_type, _, t = load(os.path.join(out, "P_spike_t.npy"))
    i_type, _, i = load(os.path.join(out, "P_spike_i.npy"))
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    assert t_type == "<f8" and i_type == "<i8", (t_type, i_type)
    return t, i, meta


def climb(v0, v_inf):
    return tau * math.log((v0 - v_inf) / (Vt - v_inf))


# 1. Every spike time at I = 2 nA.
I = 2e-9
v_inf = El + R * I
t, idx, meta = run(2.0, tag="spikes")
assert meta["dt"] == dt and meta["steps"] == 10000, meta
if len(t) < 25:
    failures.append("expected about 29 spikes in 1 s at 2 nA, got %d" % len(t))
previous = None
for k, tk in enumerate(t):
    pred = climb(El, v_inf) if previous is None else previous + t_ref + climb(Vr, v_inf)
    if not (pred - slack < tk <= pred + dt + slack):
        failures.append("spike %d at %.6f s, analytic crossing %.6f s: not within (t, t + dt]"
                        % (k, tk, pred))
    previous = tk
# The next spike after the last one would fall after the end of the run.
if previous is not None and previous + t_ref + climb(Vr, v_inf) + dt < 1.0 - dt:
    failures.append("spikes stop at %.4f s before the end of the run" % previous)
print("%d spikes at 2 nA match the analytic solution within one dt" % len(t))

# 2. f-I curve, sweeping I at load time.
rheobase = (Vt - El) / R
for I_nA in [1.0, 1.45, 1.6, 2.0, 3.0, 5.0, 10.0]:
    t, _, _ = run(I_nA, duration="2s", tag="fI_%g" % I_nA)
    I = I_nA * 1e-9
    if I <= rheobase:
        if len(t):
            failures.append("I = %g nA is below rheobase but gave %d spikes" % (I_nA, len(t)))
        continue
    period = t_ref + climb(Vr, El + R * I)
    if len(t) < 3:
        failures.append("I = %g nA: only %d spikes" % (I_nA, len(t)))
        continue
    isi = [b - a for a, b in zip(t, t[1:])]
    ok = all(period - dt - slack < d < period + dt + slack for d in isi)
    print("I = %5.2f nA: rate %.3f Hz, analytic %.3f Hz, ISI %.4f..%.4f s vs %.4f s"
          % (I_nA, len(isi) / sum(isi), 1 / period, min(isi), max(isi), period))
    if not ok:
        failures.append("I = %g nA: ISIs %s not within dt of the analytic %g s"
                        % (I_nA, isi, period))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
