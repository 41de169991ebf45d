#!/usr/bin/env python3
"""Runge-Kutta orders on right-hand sides that depend on the time, with dt
chosen at load time.

A linear system driven by a sinusoid has a closed form:

  tau x' = -x + A sin(w t),  x(0) = 0
  x(t) = A / (1 + (w tau)^2) * (sin(w t) - w tau cos(w t) + w tau e^(-t/tau))

It is written three ways, each compiled ONCE and run through libnclrt at
several dt set at load time (ncl_set_dt, the path of `ncl-run --dt`):
  - `t` inside the equation (direct),
  - through an input driven by `stimulus P.I += A * sin(w t)` (the input is
    computed outside the ODE and must be re-evaluated at each stage),
  - with 2 sub-steps (each sub-step sees its own time).
Observed order log2(e(dt)/e(dt/2)) must be 1 for euler, 2 for rk2 and 4 for
rk4; with sub-steps, rk4 at dt with 2 sub-steps must match rk4 at dt/2 to
within a few percent of its error (the same steps at the same times).
When `t` was frozen at t_n in every stage (the defect this test pins), rk2
and rk4 showed order 1.

The same library refuses a dt larger than the network's (an explicit
scheme), with a message naming the population.

Usage: time_dependent.py NCLC LIBNCLRT WORKDIR
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

TAU, A, W, T = 0.05, 1.0, 2 * math.pi / 0.2, 0.5  # s, -, rad/s, s


def exact(t):
    wt = W * TAU
    return A / (1 + wt * wt) * (math.sin(W * t) - wt * math.cos(W * t) + wt * math.exp(-t / TAU))


FORMS = {  # (neuron body, network lines); A = 1, period 200 ms
    "direct": ("  dynamics { x' = (-x + sin(2 * pi * t / (200 ms))) / tau }", ""),
    "stimulus": ("  input I = 0\n  dynamics { x' = (-x + I) / tau }",
                 "  stimulus P.I += sin(2 * pi * t / (200 ms))\n"),
}


def compile_model(form, method, substeps=1):
    body, stimulus = FORMS[form]
    sub = " substeps %d" % substeps if substeps > 1 else ""
    text = ("neuron M {\n  parameters { tau = 50 ms }\n"
            "  state { x = 0 }\n%s\n  method %s%s\n}\n"
            "network Net {\n  population P = M[1]\n%s  simulate 500 ms, dt = 10 ms\n}\n"
            % (body, method, sub, stimulus))
    tag = "time_%s_%s_%d" % (form, method, substeps)
    src, lib = os.path.join(workdir, tag + ".ncl"), os.path.join(workdir, tag + ".so")
    with open(src, "w") as f:
        f.write(text)
    subprocess.run([nclc, src, "-o", lib], check=True)
    return lib


def error_at(lib, dt):
    m = rt.open(lib, 1, dt=dt)
    steps = round(T / dt)
    rt.run_steps(m, steps)
    x = rt.state(m, "P", "x", 1)[0]
    rt.close(m)
    return abs(x - exact(steps * dt))


failures = []
DTS = (10e-3, 5e-3, 2.5e-3)
for form in FORMS:
    for method, expected in (("euler", 1), ("rk2", 2), ("rk4", 4)):
        lib = compile_model(form, method)
        errors = [error_at(lib, dt) for dt in DTS]
        orders = [math.log2(errors[k] / errors[k + 1]) for k in range(len(errors) - 1)]
        print("%-8s %-5s errors %s  observed order %s (expected %d)"
              % (form, method, " ".join("%.3e" % e for e in errors),
                 " ".join("%.2f" % o for o in orders), expected))
        if any(abs(o - expected) > 0.25 for o in orders):
            failures.append("%s with %s: order %s, expected %d" % (form, method, orders, expected))

    # Sub-steps see their own time: rk4 with 2 sub-steps of dt/2 is rk4 at dt/2.
    sub = compile_model(form, "rk4", substeps=2)
    whole = compile_model(form, "rk4")
    for dt in (10e-3, 5e-3):
        e_sub, e_half = error_at(sub, dt), error_at(whole, dt / 2)
        print("%-8s rk4, 2 sub-steps at dt = %g ms: error %.3e; rk4 at dt/2: %.3e"
              % (form, dt * 1e3, e_sub, e_half))
        if not abs(e_sub - e_half) <= 0.05 * e_half + 1e-15:
            failures.append("%s: rk4 with 2 sub-steps at dt = %g s has error %.3e, rk4 at dt/2 %.3e"
                            % (form, dt, e_sub, e_half))

# A larger dt than the network's is refused for an explicit scheme.
lib = compile_model("direct", "rk4")
m = rt.rt.ncl_open(lib.encode())
status = rt.rt.ncl_set_dt(m, 20e-3)
message = rt.rt.ncl_last_error().decode()
rt.close(m)
print("ncl_set_dt(20 ms) on rk4 compiled for 10 ms: status %d, %s" % (status, message))
if status == 0 or "population 'P'" not in message or "explicit scheme" not in message:
    failures.append("a dt above the network's was not refused clearly: %d %r" % (status, message))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
