#!/usr/bin/env python3
"""Compiled normal draws against exact Box-Muller of their uniforms.

Compiles normal_accuracy.ncl in f64 and f32 and reads 10000 normals drawn at
init and 10000 drawn in the first step. For each, the uniforms u1, u2 come
from the independent Python Philox (exact: they are grid points), and the
exact z = sqrt(-2 ln u1) cos(2 pi u2) is computed with Python's decimal at 50
digits (pi from Machin's formula, cos by its series). The error of the
compiled z, in units in the last place of the model's precision, must stay
below the bound that follows from docs/random.md: log and cos each within
0.75 ulp (relative error <= 0.75 * 2^-(p-1) with p = 53 or 24), sqrt halving
the log's and adding half an ulp, the product half an ulp: a relative error
below 2.125 * 2^-(p-1), at most 4.25 ulp of z. The maxima are printed. The
run on 3 threads must give the same bits.
Usage: normal_accuracy.py NCLC LIBNCLRT MODEL WORKDIR
"""
import decimal
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402
from philox_reference import PI, ncl_words, uniform_from_words  # noqa: E402

nclc, libnclrt, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)
N, SEED = 10000, 2026
INIT_STEP = 2**64 - 1
BOUND_ULP = 4.25
decimal.getcontext().prec = 50
D = decimal.Decimal
PI_D = D(PI.numerator) / D(PI.denominator)


def exact_cos(x):
    """cos of a Decimal 0 < x < 2 pi by its series (the largest term, about
    85, costs 2 of the 50 digits)."""
    total, term, n = D(0), D(1), 0
    while abs(term) > D(10) ** -48:
        total += term
        n += 2
        term = -term * x * x / (n * (n - 1))
    return total


def ulp(value, digits):
    value = abs(value)
    exponent = math.floor(math.log2(float(value)))
    while D(2) ** (exponent + 1) <= value:
        exponent += 1
    while D(2) ** exponent > value:
        exponent -= 1
    return D(2) ** (exponent - digits + 1)


failures = []
for precision, bits, digits in (("f64", 64, 53), ("f32", 32, 24)):
    lib = os.path.join(workdir, "normal_accuracy_%s.so" % precision)
    subprocess.run([nclc, model, "-o", lib, "--precision=" + precision], check=True,
                   stderr=subprocess.DEVNULL)
    draws = {}
    for threads in (1, 3):
        m = rt.open(lib, SEED, threads)
        initial = rt.state(m, "P", "z", N)
        rt.run_steps(m, 1)
        draws[threads] = (initial, rt.state(m, "P", "z", N))
        rt.close(m)
    for k in range(2):
        if not np.array_equal(draws[1][k], draws[3][k]):
            failures.append("%s: 1 and 3 threads differ" % precision)
    worst, at = 0.0, None
    for (step, stream), values in (((INIT_STEP, 0), draws[1][0]), ((0, 1), draws[1][1])):
        for entity in range(N):
            w = ncl_words(SEED, step, entity, stream)
            if bits == 64:
                u1, u2 = uniform_from_words(w[:2], 64), uniform_from_words(w[2:], 64)
            else:
                u1, u2 = uniform_from_words([w[0]], 32), uniform_from_words([w[2]], 32)
            exact = (-2 * D(u1).ln()).sqrt() * exact_cos(2 * PI_D * D(u2))
            error = float(abs(D(float(values[entity])) - exact) / ulp(exact, digits))
            if error > worst:
                worst, at = error, (step, stream, entity, float(values[entity]))
    print("%s: %d normals, max error %.3f ulp (step, stream, entity, z = %s)"
          % (precision, 2 * N, worst, at))
    if worst > BOUND_ULP:
        failures.append("%s: error %.3f ulp above %.2f at %s" % (precision, worst, BOUND_ULP, at))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: compiled normals within %.2f ulp of exact Box-Muller" % BOUND_ULP)
