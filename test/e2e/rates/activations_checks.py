#!/usr/bin/env python3
"""The activations of rate units, compiled, against NumPy.

A population of units each holds an input u (set through libnclrt to a sweep
of values: uniform on [-30, 30], log-uniform magnitudes down to 1e-300 of
both signs, and edges) and computes, in one step, relu(u), tanh(u),
sigmoid(u), softplus(u) and a user expression of them. They are compared
with NumPy's float64 values (np.tanh, 1 / (1 + np.exp(-u)),
np.logaddexp(0, u)), rounded to the model's precision, in units in the last
place: within 2.5 ulp for tanh (NCL's own, docs/semantics.md "Precision"),
4 ulp for sigmoid and softplus (built on NCL's exp and the C library's
log1p), exactly for relu; tanh(+-20) is +-1 and tanh(-0) is -0. The same run
on 3 threads gives the same bits.
Usage: activations_checks.py NCLC LIBNCLRT WORKDIR
"""
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from nclrt import Runtime  # noqa: E402

nclc, libnclrt, workdir = sys.argv[1:4]
workdir = os.path.join(workdir, "activations")
os.makedirs(workdir, exist_ok=True)
N = 20000
MODEL = """
neuron Unit {
  state { u = 0; a = 0; t = 0; s = 0; p = 0; g = 0 }
  update {
    a = relu(u)
    t = tanh(u)
    s = sigmoid(u)
    p = softplus(u)
    g = relu(tanh(u)) * sigmoid(u)    # a user expression of them
  }
}
network Activations {
  population P = Unit[%d]
  simulate 1 ms, dt = 1 ms
}
""" % N
BOUND_ULP = {"t": 2.5, "s": 4.0, "p": 4.0, "g": 8.0, "a": 0.0}

rt = Runtime(libnclrt)
rt.rt.ncl_set_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
rng = np.random.default_rng(14)
edges = [0.0, -0.0, 20.0, -20.0, 1e-300, -1e-300, 30.0, -30.0, 0.5, -0.5]
magnitudes = 10.0 ** rng.uniform(-300, 1.4, 6000)
u64 = np.concatenate([edges, rng.uniform(-30, 30, N - 6000 - len(edges)),
                      magnitudes * rng.choice([-1.0, 1.0], 6000)])

failures = []
for precision, dtype in (("f64", np.float64), ("f32", np.float32)):
    u = u64.astype(dtype).astype(np.float64)
    if precision == "f32":
        u = np.where(np.abs(u) < 1e-30, np.copysign(0.0, u), u)  # no f32 subnormal inputs
    source = os.path.join(workdir, "activations.ncl")
    with open(source, "w") as f:
        f.write(MODEL)
    lib = os.path.join(workdir, "activations_%s.so" % precision)
    subprocess.run([nclc, source, "--precision=" + precision, "-o", lib], check=True)
    results = []
    for threads in (1, 3):
        m = rt.open(lib, 1, threads)
        buf = (ctypes.c_double * N)(*u)
        rt.check(rt.rt.ncl_set_state(m, b"P", b"u", buf, N) == 0)
        rt.run_steps(m, 1)
        results.append({v: rt.state(m, "P", v, N) for v in BOUND_ULP})
        rt.close(m)
    got = results[0]
    for v in BOUND_ULP:
        if got[v].tobytes() != results[1][v].tobytes():
            failures.append("%s %s: differs between 1 and 3 threads" % (precision, v))
    with np.errstate(over="ignore"):
        ref = {"a": np.maximum(u, 0.0), "t": np.tanh(u), "s": 1 / (1 + np.exp(-u)),
               "p": np.logaddexp(0.0, u)}
    ref["g"] = np.maximum(ref["t"], 0.0) * ref["s"]
    for v, bound in BOUND_ULP.items():
        r = ref[v].astype(dtype)
        ulp = np.spacing(np.abs(r).astype(dtype)).astype(np.float64)
        ulp = np.where(r == 0, np.spacing(dtype(0)), ulp)
        err = np.abs(got[v] - ref[v]) / ulp
        worst = int(np.argmax(err))
        print("%s %s: max error %.3f ulp (u = %r)" % (precision, v, err[worst], u[worst]))
        if not err[worst] <= bound:
            failures.append("%s %s: %.3f ulp at u = %r (got %r, NumPy %r), above %g" % (
                precision, v, err[worst], u[worst], got[v][worst], ref[v][worst], bound))
    t = got["t"]
    if not (t[2] == 1.0 and t[3] == -1.0 and t[1] == 0 and np.signbit(t[1])):
        failures.append("%s: tanh(20), tanh(-20), tanh(-0) = %r, %r, %r" % (
            precision, t[2], t[3], t[1]))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: relu, tanh, sigmoid, softplus and a user expression agree with NumPy in f64 and f32,"
      " the same bits on 1 and 3 threads")
