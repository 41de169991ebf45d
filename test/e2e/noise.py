#!/usr/bin/env python3
"""White noise against the statistics the schemes must reproduce.

noise.ncl, run through libnclrt (ctypes) for 100 ms with dt = 1 ms, 20000
independent neurons per population:
  OU, exact update: v(t) ~ N(mu, sigma^2 (1 - e^(-2t/tau))) exactly;
  OU, Euler-Maruyama: the discrete recursion v <- v + (mu - v) h/tau +
      sigma sqrt(2h/tau) N has variance sigma^2 (2h/tau) (1 - r^(2n))/(1 - r^2),
      r = 1 - h/tau, after n steps (biased by h/2tau relative to the exact one);
  GBM, stochastic Heun (Stratonovich): E[x(t)] = x0 exp((m + s^2/2) t).
Means and variances must match within 4 standard errors; a seed gives the
same numbers on 1 and 3 threads.
Usage: noise.py NCLC LIBNCLRT MODEL WORKDIR
"""
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, libnclrt, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, "noise.so")
subprocess.run([nclc, model, "-o", lib], check=True)
rt = Runtime(libnclrt)
N = 20000


def simulate(threads):
    m = rt.open(lib, 11, threads)
    rt.run(m, 0.1)
    out = {pop: rt.state(m, pop, var, N) for pop, var in (("A", "v"), ("B", "v"), ("G", "x"))}
    rt.close(m)
    return out


failures = []


def within(name, got, want, se):
    z = (got - want) / se
    print("%-34s %.6g, expected %.6g (%+.2f standard errors)" % (name, got, want, z))
    if abs(z) > 4:
        failures.append("%s: %g, expected %g (%.1f standard errors)" % (name, got, want, z))


one, three = simulate(1), simulate(3)
for pop in one:
    if not np.array_equal(one[pop], three[pop]):
        failures.append("population %s differs between 1 and 3 threads" % pop)

tau, sigma, mu, h, t = 10e-3, 2e-3, -60e-3, 1e-3, 0.1
n = round(t / h)
var_exact = sigma**2 * (1 - math.exp(-2 * t / tau))
r = 1 - h / tau
var_em = sigma**2 * (2 * h / tau) * (1 - r ** (2 * n)) / (1 - r**2)
for pop, var, label in (("A", var_exact, "OU exact"), ("B", var_em, "OU Euler-Maruyama")):
    v = one[pop]
    within(label + " mean", v.mean(), mu, math.sqrt(var / N))
    within(label + " variance", v.var(ddof=1), var, var * math.sqrt(2 / (N - 1)))
x = one["G"]
within("GBM (Stratonovich) mean", x.mean(), math.exp((0.5 + 0.5) * t), x.std(ddof=1) / math.sqrt(N))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
