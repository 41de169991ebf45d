#!/usr/bin/env python3
"""Convergence order of every integration scheme, on problems with known solutions.

For each scheme the model is compiled with dt, dt/2, dt/4 as the network's
dt (time_dependent.py covers one library run at several dt set at load
time), run through libnclrt (ctypes) to T = 1 s, and the
error against the exact solution is measured. The observed order
log2(e(dt)/e(dt/2)) must match the scheme's order:

  logistic x' = x (1 - x) / tau, x(t) = 1 / (1 + (1/x0 - 1) e^(-t/tau)):
      euler 1, rk2 2, rk4 4, and rk4 with 2 sub-steps = rk4 at dt/2;
  x' = -(t/tau) x / tau (a linear ODE whose coefficient changes in time,
      written with a state y = t/tau, y' = 1/tau), x(t) = x0 exp(-t^2 / (2 tau^2)):
      exponential Euler is first order (the coefficient is frozen over a step);
  x' = (x_inf - x) / tau: exponential Euler is exact (error at rounding level);
  v driven by a decaying current (a coupled linear system): the matrix
      exponential propagator is exact at any dt.
Usage: convergence.py NCLC LIBNCLRT WORKDIR
"""
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, libnclrt, workdir = sys.argv[1:4]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)

MODELS = {
    "logistic": ("state {{ x = 0.1 }}\n  dynamics {{ x' = x * (1 - x) / tau }}",
                 lambda t: 1 / (1 + (1 / 0.1 - 1) * math.exp(-t / 0.25))),
    "gaussian": ("state {{ x = 1; y = 0 }}\n  dynamics {{\n    x' = -y * x / tau\n    y' = 1 / tau\n  }}",
                 lambda t: math.exp(-t * t / (2 * 0.25 ** 2))),
    "relax": ("state {{ x = 0 }}\n  dynamics {{ x' = (0.7 - x) / tau }}",
              lambda t: 0.7 * (1 - math.exp(-t / 0.25))),
}


def final_x(model, method, dt_ms, substeps=1):
    body, _ = MODELS[model]
    sub = " substeps %d" % substeps if substeps > 1 else ""
    text = ("neuron M {\n  parameters { tau = 250 ms }\n  %s\n  method %s%s\n}\n"
            "network Net {\n  population P = M[1]\n  simulate 1 s, dt = %r ms\n}\n"
            % (body.format(), method, sub, dt_ms))
    return simulate(text, "%s_%s_%g_%d" % (model, method, dt_ms, substeps), 1.0, "x")


def simulate(text, tag, seconds, var):
    """Compiles `text`, runs it for `seconds` and returns neuron 0's `var`."""
    src = os.path.join(workdir, tag + ".ncl")
    lib = os.path.join(workdir, tag + ".so")
    with open(src, "w") as f:
        f.write(text)
    subprocess.run([nclc, src, "-o", lib], check=True)
    m = rt.open(lib, 1)
    rt.run(m, seconds)
    value = rt.state(m, "P", var, 1)[0]
    rt.close(m)
    return value


failures = []


def order(model, method, expected, dts=(20.0, 10.0, 5.0), tol=0.25):
    exact = MODELS[model][1](1.0)
    errors = [abs(final_x(model, method, dt) - exact) for dt in dts]
    orders = [math.log2(errors[k] / errors[k + 1]) for k in range(len(errors) - 1)]
    print("%-9s %-9s errors %s  observed order %s (expected %d)"
          % (model, method, " ".join("%.3e" % e for e in errors),
             " ".join("%.2f" % o for o in orders), expected))
    if any(abs(o - expected) > tol for o in orders):
        failures.append("%s with %s: order %s, expected %d" % (model, method, orders, expected))


order("logistic", "euler", 1)
order("logistic", "rk2", 2)
order("logistic", "rk4", 4, dts=(50.0, 25.0, 12.5))
order("gaussian", "exp_euler", 1)
order("gaussian", "rk4", 4, dts=(25.0, 12.5, 6.25))

# Sub-steps: rk4 with 2 sub-steps of 10 ms is rk4 at 10 ms, step for step.
a, b = final_x("logistic", "rk4", 20.0, substeps=2), final_x("logistic", "rk4", 10.0)
print("rk4, 2 sub-steps of 10 ms: %.17g; rk4 at dt = 10 ms: %.17g" % (a, b))
if abs(a - b) > 1e-15:
    failures.append("rk4 with 2 sub-steps differs from rk4 at dt/2: %r vs %r" % (a, b))

# Exponential Euler is exact for a linear ODE with constant coefficients,
# even with a step as long as the time constant.
for dt in (250.0, 10.0):
    err = abs(final_x("relax", "exact", dt) - MODELS["relax"][1](1.0))
    print("relax     exact     dt = %g ms: error %.2e" % (dt, err))
    if err > 1e-14:
        failures.append("exact integration of a linear ODE has error %.2e at dt = %g ms" % (err, dt))

# A coupled linear system, v driven by an exponentially decaying current:
# exact by the matrix exponential, at any dt, against
# v(t) = El + R I0 tau_s/(tau_s - tau_m) (e^(-t/tau_s) - e^(-t/tau_m)).
def synaptic(dt_ms, method):
    text = ("neuron S {\n  parameters { tau_m = 20 ms; tau_s = 5 ms; El = -70 mV; R = 10 Mohm }\n"
            "  state { v : mV = El; Is : nA = 2 nA }\n"
            "  dynamics {\n    v' = (El - v + R * Is) / tau_m\n    Is' = -Is / tau_s\n  }\n"
            "  method %s\n}\nnetwork Net {\n  population P = S[1]\n  simulate 30 ms, dt = %r ms\n}\n"
            % (method, dt_ms))
    v = simulate(text, "synaptic_%s_%g" % (method, dt_ms), 0.03, "v")
    t, tm, ts = 0.03, 0.02, 0.005
    exact = -0.07 + 10e6 * 2e-9 * ts / (ts - tm) * (math.exp(-t / ts) - math.exp(-t / tm))
    return abs(v - exact) / abs(exact)


for dt in (0.1, 1.0, 5.0):
    err = synaptic(dt, "exact")
    print("synaptic  exact     dt = %g ms: relative error %.2e" % (dt, err))
    if err > 1e-13:
        failures.append("exact propagator of v with a synaptic current: error %.2e at dt = %g ms"
                        % (err, dt))
err = synaptic(1.0, "exp_euler")
print("synaptic  exp_euler dt = 1 ms: relative error %.2e (per-variable, first order)" % err)
if not err > 1e-6:
    failures.append("per-variable exponential Euler should not be exact for a coupled system")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
