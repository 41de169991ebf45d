#!/usr/bin/env python3
"""Custom events end to end (events.ncl).

After each spike the trace c (exactly integrated: c' = -c/tau_c) is
c_k = c_{k-1} exp(-(t_k - t_{k-1})/tau_c) + 1, and the "burst" event fires
in that same step when c_k > 2.5, setting c to 0. From the recorded spike
times, that recurrence predicts every event time; the recorded events must be
exactly those, for every neuron, on 1 and 3 threads.
Usage: events.py NCLC NCL_RUN MODEL WORKDIR
"""
import json
import math
import os
import subprocess
import sys

import numpy as np

nclc, ncl_run, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, "events.so")
subprocess.run([nclc, model, "-o", lib], check=True)
tau_c = 0.2
failures = []
results = {}
for threads in (1, 3):
    out = os.path.join(workdir, "events_out_%d" % threads)
    subprocess.run([ncl_run, lib, "--out", out, "--quiet", "--threads", str(threads)], check=True)
    load = lambda name: np.load(os.path.join(out, name))
    st, si = load("P_spike_t.npy"), load("P_spike_i.npy")
    et, ei = load("P_burst_t.npy"), load("P_burst_i.npy")
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    results[threads] = (st, si, et, ei)
    if meta["populations"]["P"]["events"]["burst"] != len(et):
        failures.append("run.json counts %s bursts, files hold %d"
                        % (meta["populations"]["P"]["events"]["burst"], len(et)))
    order = np.lexsort((ei, et))
    if not np.array_equal(order, np.arange(len(et))):
        failures.append("events are not sorted by time, then index")
    for n in range(4):
        spikes = st[si == n]
        predicted, c, last = [], 0.0, None
        for tk in spikes:
            c = (c * math.exp(-(tk - last) / tau_c) if last is not None else 0.0) + 1.0
            last = tk
            if c > 2.5:
                predicted.append(tk)
                c = 0.0
        got = et[ei == n]
        if len(predicted) < 5 or not np.allclose(got, predicted, rtol=0, atol=1e-12):
            failures.append("neuron %d: bursts at %s, predicted %s" % (n, got, predicted))
    print("%d threads: %d spikes, %d burst events, as predicted" % (threads, len(st), len(et)))
for a, b in zip(results[1], results[3]):
    if not np.array_equal(a, b):
        failures.append("1 and 3 threads differ")
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
