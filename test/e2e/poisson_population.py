#!/usr/bin/env python3
"""Poisson populations (dsl/stdlib/poisson.ncl) against their theory.

A neuron of rate r spikes in each step independently with probability
p = r dt (docs/semantics.md, "Poisson sources"); a spike drawn in step n is
stamped t_{n+1}, its rate evaluated at t_n. Runs poisson_population.ncl
(2 s, dt = 0.1 ms, 2000 neurons each) and checks, with every tolerance 5
standard errors of the statistic under that model (a false alarm has
probability below 1e-5 per check):
  Const (40 Hz)   total spike count (binomial); the Fano factor of the
                  per-neuron counts, 1 - p (its standard error sqrt(2/(n-1)));
                  the inter-spike intervals: geometric in steps, mean 1/p
                  steps, and their histogram by Pearson's chi-square (bins
                  of 50 steps, limit df + 6 sqrt(2 df));
  Graded          rate 10 Hz + 90 Hz i/N: the count of each tenth of the
                  neurons against the sum of its neurons' p;
  Wave            rate 50 Hz (1 + sin(2 pi t / 100 ms)): spikes folded into
                  ten phase bins of the period against the sum of p over
                  the steps of each bin;
and that 1 and 3 threads give the same spikes.
Usage: poisson_population.py NCLC NCL_RUN MODEL WORKDIR
"""
import math
import os
import pathlib
import subprocess
import sys

import numpy as np

nclc, ncl_run, model, workdir = sys.argv[1:5]
work = pathlib.Path(workdir)
work.mkdir(parents=True, exist_ok=True)
DT, STEPS, N = 1e-4, 20000, 2000
failures = []

lib = work / "poisson_population.so"
subprocess.run([nclc, model, "-o", str(lib)], check=True)


def run(threads):
    out = work / ("poisson_population_t%d" % threads)
    subprocess.run([ncl_run, str(lib), "--threads", str(threads), "--quiet", "--out", str(out)],
                   check=True)
    return {f.name: f.read_bytes() for f in sorted(out.glob("*.npy"))}, out


files1, out = run(1)
files3, _ = run(3)
if files1 != files3:
    failures.append("1 and 3 threads give different spikes")


def spikes(pop):
    t = np.load(out / (pop + "_spike_t.npy"))
    i = np.load(out / (pop + "_spike_i.npy"))
    # The step that drew the spike: t = (n + 1) dt.
    n = np.rint(t / DT).astype(np.int64) - 1
    return n, i


def check(name, got, want, sd):
    ok = abs(got - want) <= 5 * sd
    print("%-34s %12.5g  expected %12.5g +- %.3g  %s" % (name, got, want, 5 * sd,
                                                         "ok" if ok else "FAIL"))
    if not ok:
        failures.append("%s: %g, expected %g +- %g" % (name, got, want, 5 * sd))


# Const: 40 Hz.
p = 40 * DT
n, i = spikes("Const")
total = len(n)
check("Const: spikes", total, N * STEPS * p, math.sqrt(N * STEPS * p * (1 - p)))
counts = np.bincount(i, minlength=N)
fano = counts.var(ddof=1) / counts.mean()
check("Const: Fano factor of counts", fano, 1 - p, math.sqrt(2.0 / (N - 1)))
order = np.lexsort((n, i))
ns, is_ = n[order], i[order]
same = is_[1:] == is_[:-1]
isi = np.diff(ns)[same]  # in steps, >= 1
m = len(isi)
# Geometric(p) on 1, 2, ...: mean 1/p, variance (1-p)/p^2.
check("Const: mean ISI (steps)", isi.mean(), 1 / p, math.sqrt((1 - p) / p ** 2 / m))
check("Const: CV of ISI", isi.std() / isi.mean(), math.sqrt(1 - p), math.sqrt(2.0 / m))
edges = np.arange(1, 1200, 50)  # [1, 51), [51, 101), ... and the tail
observed = np.array([np.count_nonzero((isi >= a) & (isi < a + 50)) for a in edges[:-1]] +
                    [np.count_nonzero(isi >= edges[-1])], dtype=float)
cdf = lambda k: 1 - (1 - p) ** (k - 1)  # P(ISI < k)  # noqa: E731
probs = [cdf(a + 50) - cdf(a) for a in edges[:-1]] + [1 - cdf(edges[-1])]
expected = m * np.array(probs)
chi2 = float(np.sum((observed - expected) ** 2 / expected))
df = len(observed) - 1
print("Const: ISI histogram chi-square %.1f on %d bins (limit %.1f)"
      % (chi2, df + 1, df + 6 * math.sqrt(2 * df)))
if not chi2 < df + 6 * math.sqrt(2 * df):
    failures.append("Const: ISI histogram chi-square %.1f on %d degrees of freedom" % (chi2, df))

# Graded: 10 Hz + 90 Hz i / N.
n, i = spikes("Graded")
per_neuron_p = (10 + 90 * np.arange(N) / N) * DT
for g in range(10):
    sel = slice(g * N // 10, (g + 1) * N // 10)
    want = STEPS * per_neuron_p[sel].sum()
    sd = math.sqrt(STEPS * np.sum(per_neuron_p[sel] * (1 - per_neuron_p[sel])))
    got = np.count_nonzero((i >= sel.start) & (i < sel.stop))
    check("Graded: neurons %d-%d" % (sel.start, sel.stop - 1), got, want, sd)

# Wave: 50 Hz (1 + sin(2 pi t / 100 ms)), t = n dt.
n, i = spikes("Wave")
steps = np.arange(STEPS)
p_step = 50 * (1 + np.sin(2 * np.pi * steps * DT / 0.1)) * DT
phase_bin = (steps % 1000) // 100  # ten bins of 10 ms in each 100 ms period
for b in range(10):
    in_bin = phase_bin == b
    want = N * p_step[in_bin].sum()
    sd = math.sqrt(N * np.sum(p_step[in_bin] * (1 - p_step[in_bin])))
    got = np.count_nonzero(phase_bin[n] == b)
    check("Wave: phase %d-%d ms" % (10 * b, 10 * b + 10), got, want, sd)

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("PASS")
