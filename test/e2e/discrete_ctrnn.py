#!/usr/bin/env python3
"""A discrete-time CTRNN against a NumPy loop, in float64 and float32.

Each unit of discrete_ctrnn.ncl follows x <- (1 - a) x + a tanh(w x + I(t) + b),
a = dt/tau, with its own w = -0.9 + 1.8 i/N and b = -0.5 + i/N, and the input
I(t) = 0.8 sin(2 pi 20 Hz t) at the start of each step (t = n dt). The loop
below is the same recurrence in float64.

Error bound: the map is a contraction with factor at most 1 - a (1 - max|w|)
(|tanh'| <= 1, |w| <= 0.9), so per-step rounding of at most a few units in
the last place (4 eps of x, |x| < 1) accumulates to at most
4 eps / (a (1 - 0.9)): 2e-13 in float64, 1e-4 in float32 (eps 1.2e-7,
a = 0.05). The update scales with dt, so the runtime accepts a smaller dt
(checked: the same comparison at dt/2) and refuses a larger one.
Usage: discrete_ctrnn.py NCLC NCLRT MODEL WORKDIR f64|f32
"""
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, nclrt_path, model, workdir, precision = sys.argv[1:6]
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, "discrete_ctrnn_%s.so" % precision)
subprocess.run([nclc, model, "--precision=" + precision, "-o", lib], check=True)

N, tau, dt0 = 16, 2e-3, 1e-4
eps = np.finfo(np.float32 if precision == "f32" else np.float64).eps
i = np.arange(N, dtype=np.float64)
w, b = -0.9 + 1.8 * i / N, -0.5 + i / N


def reference(dt, steps, every):
    x = 0.5 - i / N
    a = dt / tau
    rows = [x.copy()]
    for n in range(steps):
        x = (1 - a) * x + a * np.tanh(w * x + 0.8 * np.sin(2 * np.pi * 20 * (n * dt)) + b)
        if (n + 1) % every == 0:
            rows.append(x.copy())
    return np.array(rows)


rt = Runtime(nclrt_path)
rt.rt.ncl_set_dt.argtypes = [ctypes.c_void_p, ctypes.c_double]
failures = []


def run(dt, steps, every):
    m = rt.rt.ncl_open(lib.encode())
    rt.check(m)
    rt.check(rt.rt.ncl_set_dt(m, dt) == 0)
    rt.check(rt.rt.ncl_init(m, 1) == 0)
    rows = [rt.state(m, "P", "x", N)]
    for _ in range(steps // every):
        rt.run_steps(m, every)
        rows.append(rt.state(m, "P", "x", N))
    rt.close(m)
    return np.array(rows)


for dt in (dt0, dt0 / 2):
    steps = int(round(0.2 / dt))
    a = dt / tau
    bound = 4 * eps / (a * (1 - 0.9))
    ref = reference(dt, steps, 100)
    got = run(dt, steps, 100)
    err = np.abs(got - ref).max()
    if not err <= bound:
        failures.append("dt = %g s: largest |x - x_numpy| = %.3g > bound %.2g" % (dt, err, bound))
    else:
        print("dt = %g s, %d steps: largest |x - x_numpy| = %.3g <= %.2g (%s)" %
              (dt, steps, err, bound, precision))
    if np.ptp(ref[-1]) < 0.2:
        failures.append("the units should end spread out; the test is too weak")

m = rt.rt.ncl_open(lib.encode())
rt.check(m)
if rt.rt.ncl_set_dt(m, 2 * dt0) == 0:
    failures.append("dt = 2e-4 s accepted, but the update was written for dt <= 1e-4 s")
rt.close(m)

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
