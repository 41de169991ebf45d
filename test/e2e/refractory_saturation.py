#!/usr/bin/env python3
"""Refractory periods longer than the run hold the neuron for the rest of it.

The end of a refractory period is a step index, nextStep + round(t_ref/dt),
kept in 32 bits. A period of 1e30 s or inf (or one that ends more than 2^31
steps after the spike) must saturate rather than wrap. examples/lif.ncl
fires first at tau_m ln 4 = 27.7 ms (recorded at the next grid time, 27.8
ms), then every t_ref + tau_m ln 5 = 34.2 ms: 29 spikes in 1 s with t_ref =
2 ms, and exactly one when t_ref outlasts the run, whether the period comes
from --set (3 s, 1e30 s; the runtime refuses non-finite values) or from the
source (1e30 s, and 1e308 s * 10, which is infinite).

Then a clock neuron, v' = 1/s with no reset, whose spike condition v >
280000 holds from t = 280 000 s on: with dt = 1 ms and t_ref = 2e6 s (2e9
steps), the period ends past step 2^31 - 1 and must saturate; it fires
once, at the first grid time after 280 000 s.

Last, the runtime refuses a negative refractory period at load time, from
ncl-run --set and from ncl_set_param, naming the allowed range.
Usage: refractory_saturation.py NCLC NCL_RUN NCLRT EXAMPLE WORKDIR
"""
import ctypes
import math
import os
import subprocess
import sys

import numpy as np

nclc, ncl_run, nclrt, example, workdir = sys.argv[1:6]
workdir = os.path.join(workdir, "refractory")
os.makedirs(workdir, exist_ok=True)
failures = []


def compile_model(source, name, precision="f64"):
    path = os.path.join(workdir, name + ".ncl")
    with open(path, "w") as f:
        f.write(source)
    lib = os.path.join(workdir, "%s_%s.so" % (name, precision))
    subprocess.run([nclc, path, "-o", lib, "--precision=" + precision], check=True)
    return lib


def spikes(lib, tag, *options):
    out = os.path.join(workdir, tag)
    subprocess.run([ncl_run, lib, "--out", out, "--quiet", *options], check=True)
    return np.load(os.path.join(out, "P_spike_t.npy"))


def expect_spikes(t, count, first, tol, what):
    if len(t) != count or abs(t[0] - first) > tol:
        failures.append("%s: %d spikes, first at %s s; expected %d, first at %g s"
                        % (what, len(t), t[:3], count, first))


with open(example) as f:
    lif = f.read()
assert "t_ref = 2 ms" in lif
tau, dt = 20e-3, 1e-4
first = math.ceil(tau * math.log(4) / dt) * dt  # 27.8 ms
period = 2e-3 + tau * math.log(5)
regular = 1 + math.floor((1.0 - first) / period)  # 29 in 1 s

for precision in ("f64", "f32"):
    lib = compile_model(lif, "lif", precision)
    expect_spikes(spikes(lib, "lif-" + precision), regular, first, 1e-9,
                  "t_ref = 2 ms (%s)" % precision)
    for value in ("1e30 s", "3 s"):
        expect_spikes(spikes(lib, "set-%s-%s" % (value.split()[0], precision),
                             "--set", "P.t_ref=" + value),
                      1, first, 1e-9, "--set P.t_ref=%s (%s)" % (value, precision))
    for name, value in (("1e30", "1e30 s"), ("inf", "1e308 s * 10")):
        source = lif.replace("t_ref = 2 ms", "t_ref = " + value)
        lib_source = compile_model(source, "lif_" + name, precision)
        expect_spikes(spikes(lib_source, "source-%s-%s" % (name, precision)), 1, first, 1e-9,
                      "t_ref = %s in the source (%s)" % (value, precision))

clock = """
neuron Clock {
  parameters { t_ref = 2000000 s }
  state { v = 0 }
  dynamics { v' = 1 / (1 s) }
  spike when v > 280000
  refractory t_ref
}
network Late {
  population P = Clock[1]
  record spikes(P)
  simulate 280010 s, dt = 1 ms
}
"""
late = spikes(compile_model(clock, "clock"), "clock")
# v(n dt) = n dt / (1 s), up to the rounding of 2.8e8 additions of 1e-3 to
# a number near 2.8e5 (each within 2.9e-11, so within 0.01 in all).
expect_spikes(late, 1, 280000.001, 0.01, "t_ref = 2e9 steps after a spike at step 2.8e8")

# Load time: a negative period is refused, by ncl-run and by the C API.
lib = os.path.join(workdir, "lif_f64.so")
run = subprocess.run([ncl_run, lib, "--quiet", "--set", "P.t_ref=-1 ms"],
                     capture_output=True, text=True)
if run.returncode == 0 or "P.t_ref = -1 ms is out of range: it must be >= 0 ms" not in run.stderr:
    failures.append("ncl-run --set P.t_ref=-1 ms: exit %d, stderr %r" % (run.returncode, run.stderr))
rt = ctypes.CDLL(nclrt)
rt.ncl_open.restype = ctypes.c_void_p
rt.ncl_open.argtypes = [ctypes.c_char_p]
rt.ncl_set_param.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_double]
rt.ncl_get_param.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.POINTER(ctypes.c_double)]
rt.ncl_last_error.restype = ctypes.c_char_p
rt.ncl_close.argtypes = [ctypes.c_void_p]
m = rt.ncl_open(lib.encode())
assert m, rt.ncl_last_error()
for bad in (-1e-3, -1e30, math.nan):
    if rt.ncl_set_param(m, b"P", b"t_ref", bad) == 0:
        failures.append("ncl_set_param(P.t_ref = %g) was accepted" % bad)
value = ctypes.c_double()
assert rt.ncl_get_param(m, b"P", b"t_ref", ctypes.byref(value)) == 0
if value.value != 2e-3:
    failures.append("a refused value changed P.t_ref to %g" % value.value)
for good in (0.0, 1e30):
    if rt.ncl_set_param(m, b"P", b"t_ref", good) != 0:
        failures.append("ncl_set_param(P.t_ref = %g) refused: %s" % (good, rt.ncl_last_error()))
rt.ncl_close(m)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("refractory periods: saturate past the run, refused when negative")
