#!/usr/bin/env python3
"""Per-neuron parameters, the neuron index and random initial values, end to end.

Every neuron i of heterogeneous.ncl has tau_m = 10 ms + 20 ms * i/N and
v(0) = El + 5 mV * u_i, with u_i the model's first uniform draw for neuron i
(from the independent Python Philox). With constant input the LIF solution is
analytic, so each neuron's spike times are predicted exactly as in
lif_analytic.py: every spike lies in (t_pred, t_pred + dt].
Usage: heterogeneous.py NCLC NCL_RUN MODEL WORKDIR
"""
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from philox_reference import ncl_uniform  # noqa: E402

nclc, ncl_run, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, "heterogeneous.so")
out = os.path.join(workdir, "heterogeneous_out")
subprocess.run([nclc, model, "-o", lib], check=True)
subprocess.run([ncl_run, lib, "--out", out, "--quiet", "--threads", "2"], check=True)
t = np.load(os.path.join(out, "P_spike_t.npy"))
idx = np.load(os.path.join(out, "P_spike_i.npy"))

N, seed, dt, T = 50, 3, 1e-4, 0.3
El, Vt, Vr, R, t_ref, I = -70e-3, -55e-3, -75e-3, 10e6, 2e-3, 2e-9
v_inf = El + R * I
failures = []
for i in range(N):
    tau = 10e-3 + 20e-3 * i / N
    v0 = El + 5e-3 * float(ncl_uniform(seed, 2**64 - 1, i, 0))
    times = t[idx == i]
    pred = tau * math.log((v0 - v_inf) / (Vt - v_inf))
    expected = 0
    while pred + dt < T - dt:  # spikes safely inside the run
        if expected >= len(times):
            failures.append("neuron %d: missing spike %d near %.5f s" % (i, expected, pred))
            break
        got = times[expected]
        if not (pred - 1e-9 < got <= pred + dt + 1e-9):
            failures.append("neuron %d spike %d at %.5f s, analytic %.5f s" % (i, expected, got, pred))
            break
        pred = got + t_ref + tau * math.log((Vr - v_inf) / (Vt - v_inf))
        expected += 1
    if len(times) > expected + 1:
        failures.append("neuron %d: %d spikes, analytic %d or %d" % (i, len(times), expected, expected + 1))
    if expected < 5:
        failures.append("neuron %d: only %d spikes checked" % (i, expected))

if failures:
    print("\n".join("FAIL: " + f for f in failures[:20]))
    sys.exit(1)
print("OK: %d spikes of %d neurons with per-neuron tau_m and random v(0) match the analytic "
      "solution within one dt" % (len(t), N))
