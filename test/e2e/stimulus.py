#!/usr/bin/env python3
"""Several sources summed into one input, end to end.

Neuron i of stimulus.ncl receives I_i = 1 nA (population) + 0.8 nA + 0.2 nA*i
(two stimuli). Its spike train must be the analytic LIF train for that
constant current: every spike in (t_pred, t_pred + dt], as in lif_analytic.py.
Usage: stimulus.py NCLC NCL_RUN MODEL WORKDIR
"""
import math
import os
import subprocess
import sys

import numpy as np

nclc, ncl_run, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, "stimulus.so")
out = os.path.join(workdir, "stimulus_out")
subprocess.run([nclc, model, "-o", lib], check=True)
subprocess.run([ncl_run, lib, "--out", out, "--quiet"], check=True)
t = np.load(os.path.join(out, "P_spike_t.npy"))
idx = np.load(os.path.join(out, "P_spike_i.npy"))

tau, El, Vt, Vr, R, t_ref, dt, T = 20e-3, -70e-3, -55e-3, -75e-3, 10e6, 2e-3, 1e-4, 0.4
failures = []
for i in range(3):
    v_inf = El + R * (1.8e-9 + 0.2e-9 * i)
    times = t[idx == i]
    pred = tau * math.log((El - v_inf) / (Vt - v_inf))
    k = 0
    while pred + dt < T - dt:
        if k >= len(times) or not (pred - 1e-9 < times[k] <= pred + dt + 1e-9):
            failures.append("neuron %d spike %d: %s, analytic %.5f s"
                            % (i, k, "%.5f s" % times[k] if k < len(times) else "missing", pred))
            break
        pred = times[k] + t_ref + tau * math.log((Vr - v_inf) / (Vt - v_inf))
        k += 1
    print("neuron %d (I = %.1f nA): %d spikes match the analytic train" % (i, 1.8 + 0.2 * i, k))
    if k < 5:
        failures.append("neuron %d: only %d spikes checked" % (i, k))
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
