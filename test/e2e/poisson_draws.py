#!/usr/bin/env python3
"""poisson() draws in compiled models against the Poisson distribution.

Compiles poisson_draws.ncl (populations drawing poisson(lam) every step for
lam = 0.1, 2, 15, 40 and 0) and checks, for 10 steps x 20 000 neurons each:
  - every draw is a whole number >= 0 (and 0 for lam = 0);
  - the counts of 200 neurons in one step are the ones the algorithm of
    docs/random.md ("poisson()") gives on the independent Python Philox
    (philox_reference.py), bit for bit;
  - the histogram against the Poisson pmf (from math.lgamma): Pearson's
    chi-square over the bins expected to hold >= 5 draws (the tail merged)
    is below df + 6 sqrt(2 df) (a false alarm has probability < 1e-6); the
    sample mean lies within 5 standard errors of lam and the variance within
    5 standard errors of lam;
  - the draws are the same on 1 and 3 threads and in float32 and float64;
  - a negative mean (--set A.lam=-1) gives NaN, which stops the run with
    a message naming the variable.
Usage: poisson_draws.py NCLC NCL_RUN LIBNCLRT MODEL WORKDIR
"""
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402
from philox_reference import ncl_key, ncl_words, philox4x32, uniform_from_words  # noqa: E402

nclc, ncl_run, libnclrt, model, workdir = sys.argv[1:6]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)

SEED, STEPS = 3, 10
POPS = {"A": (0, 0.1, 20000), "B": (1, 2.0, 20000), "C": (2, 15.0, 20000),
        "D": (3, 40.0, 20000), "Z": (4, 0.0, 1000)}
failures = []


def reference_count(seed, step, entity, stream, lam):
    """docs/random.md, poisson(): inversion in parts of mean <= 16."""
    parts = max(1.0, math.ceil(lam / 16.0))
    mu = lam / parts
    first = math.exp(-mu)
    words = ncl_words(seed, step, entity, stream)
    total = 0.0
    for _ in range(int(parts)):
        u = uniform_from_words(words, 64)
        k, p, f = 0.0, first, first
        while u > f and k < 100.0:
            k += 1.0
            p *= mu / k
            f += p
        total += k
        words = philox4x32(words, ncl_key(seed))
    return total


def simulate(lib, threads):
    m = rt.open(lib, SEED, threads)
    draws = {p: [] for p in POPS}
    for _ in range(STEPS):
        rt.run_steps(m, 1)
        for p, (_, _, n) in POPS.items():
            draws[p].append(rt.state(m, p, "k", n).copy())
    rt.close(m)
    return {p: np.array(v) for p, v in draws.items()}


def pmf(lam, k):
    return math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) if lam > 0 else float(k == 0)


libs = {}
for precision in ("f64", "f32"):
    libs[precision] = os.path.join(workdir, "poisson_draws_%s.so" % precision)
    subprocess.run([nclc, model, "-o", libs[precision], "--precision=" + precision], check=True)
runs = {("f64", 1): simulate(libs["f64"], 1), ("f64", 3): simulate(libs["f64"], 3),
        ("f32", 1): simulate(libs["f32"], 1)}
draws = runs[("f64", 1)]
for key, other in runs.items():
    for p in POPS:
        if not np.array_equal(other[p], draws[p]):
            failures.append("%s on %d thread(s): %s's draws differ from f64 on 1 thread"
                            % (key[0], key[1], p))

for p, (index, lam, n) in POPS.items():
    x = draws[p].ravel()
    if np.any(x != np.floor(x)) or np.any(x < 0):
        failures.append("%s: a draw is not a whole number >= 0" % p)
        continue
    # Bit-exact against the reference for neurons 0..199 of step 4.
    step = 4
    stream = (index << 10) | 0
    want = [reference_count(SEED, step, e, stream, lam) for e in range(200)]
    got = draws[p][step, :200]
    if not np.array_equal(got, np.array(want)):
        bad = int(np.flatnonzero(got != np.array(want))[0])
        failures.append("%s: neuron %d in step %d drew %g, the reference %g"
                        % (p, bad, step, got[bad], want[bad]))
    if lam == 0:
        if np.any(x != 0):
            failures.append("Z: poisson(0) drew a non-zero count")
        continue
    size = len(x)
    mean, var = x.mean(), x.var(ddof=1)
    if abs(mean - lam) > 5 * math.sqrt(lam / size):
        failures.append("%s: mean %.5f, expected %g +- %.2g" % (p, mean, lam, math.sqrt(lam / size)))
    # Var of the sample variance of a Poisson: (mu4 - sigma^4 (n-3)/(n-1))/n,
    # mu4 = lam (1 + 3 lam).
    se_var = math.sqrt((lam * (1 + 3 * lam) - lam * lam * (size - 3) / (size - 1)) / size)
    if abs(var - lam) > 5 * se_var:
        failures.append("%s: variance %.5f, expected %g +- %.2g" % (p, var, lam, se_var))
    # Pearson's chi-square over bins with expected counts >= 5.
    kmax = int(x.max())
    observed = np.bincount(x.astype(np.int64), minlength=kmax + 2).astype(float)
    expected = np.array([size * pmf(lam, k) for k in range(len(observed))])
    bins_o, bins_e, acc_o, acc_e = [], [], 0.0, 0.0
    lo = 0
    while lo < len(expected) and expected[lo] < 5:  # merge the low tail
        acc_o += observed[lo]
        acc_e += expected[lo]
        lo += 1
    k = lo
    while k < len(expected) and expected[k] >= 5:
        o, e = observed[k] + acc_o, expected[k] + acc_e
        acc_o = acc_e = 0.0
        bins_o.append(o)
        bins_e.append(e)
        k += 1
    # The high tail: everything above, against the rest of the probability.
    tail_e = size - sum(bins_e)
    tail_o = size - sum(bins_o)
    if tail_e >= 5:
        bins_o.append(tail_o)
        bins_e.append(tail_e)
    else:
        bins_o[-1] += tail_o
        bins_e[-1] += tail_e
    bins_o, bins_e = np.array(bins_o), np.array(bins_e)
    chi2 = float(np.sum((bins_o - bins_e) ** 2 / bins_e))
    df = len(bins_o) - 1
    limit = df + 6 * math.sqrt(2 * df)
    print("%s: lam %g, %d draws: mean %.4f, variance %.4f, chi-square %.1f on %d bins "
          "(limit %.1f)" % (p, lam, size, mean, var, chi2, df + 1, limit))
    if not chi2 < limit:
        failures.append("%s: chi-square %.1f >= %.1f on %d degrees of freedom"
                        % (p, chi2, limit, df))

# A negative mean is NaN: the run stops and names the variable.
out = subprocess.run([ncl_run, libs["f64"], "--set", "A.lam=-1", "--time", "1ms", "--quiet",
                      "--out", os.path.join(workdir, "poisson_negative")],
                     capture_output=True, text=True)
if out.returncode == 0 or "'k'" not in out.stderr and " k " not in out.stderr:
    failures.append("poisson(-1): ncl-run exited %d with %r" % (out.returncode, out.stderr))
else:
    print("poisson(-1): %s" % out.stderr.strip().splitlines()[-1])

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("PASS")
