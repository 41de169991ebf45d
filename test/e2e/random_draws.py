#!/usr/bin/env python3
"""rand()/randn() in compiled models against the independent Python Philox.

Compiles random_draws.ncl, loads it through libnclrt with ctypes, and checks
every neuron's draws, of both populations of one model (whose kernel nclc
compiles once, the streams passed as arguments), bit for bit against
philox_reference.py: initial values
(step 2^64 - 1), the outputs written and the event that happened in the last
step, for float64 and
float32, on 1 and 3 threads (which must agree exactly).
Usage: random_draws.py NCLC LIBNCLRT MODEL WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402
from philox_reference import ncl_normal, ncl_uniform  # noqa: E402

nclc, libnclrt, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)

N, SEED, STEPS = 1000, 12345, 7
INIT_STEP = 2**64 - 1
failures = []


def simulate(lib, threads, pop):
    m = rt.open(lib, SEED, threads)
    initial = {v: rt.state(m, pop, v, N) for v in ("u", "z", "du", "dz", "twice")}
    rt.run_steps(m, STEPS)
    final = {v: rt.state(m, pop, v, N) for v in ("du", "dz", "twice", "kicked")}
    rt.close(m)
    return initial, final


def compare(name, got, want):
    want = np.asarray(want, dtype=np.float64)
    bad = np.nonzero(got != want)[0]
    if len(bad):
        k = bad[0]
        failures.append("%s: %d of %d differ, first neuron %d: %r != %r"
                        % (name, len(bad), len(got), k, got[k], want[k]))


entities = np.arange(N, dtype=np.uint64)
for precision, bits in (("f64", 64), ("f32", 32)):
    lib = os.path.join(workdir, "random_draws_%s.so" % precision)
    subprocess.run([nclc, model, "-o", lib, "--precision=" + precision], check=True,
                   stderr=subprocess.DEVNULL)
    # Population k's site s is stream (k << 10) | s (ncl/random_streams.h).
    for pop, base in (("Q", 1 << 10), ("P", 0)):
        runs = {t: simulate(lib, t, pop) for t in (1, 3)}
        initial, final = runs[1]
        name = precision + " " + pop
        compare(name + " u = rand() at init", initial["u"],
                ncl_uniform(SEED, INIT_STEP, entities, base | 0, bits))
        compare(name + " z = randn() at init", initial["z"],
                ncl_normal(SEED, INIT_STEP, entities, base | 1, bits))
        compare(name + " output du = rand() at init", initial["du"],
                ncl_uniform(SEED, INIT_STEP, entities, base | 3, bits))
        # The outputs hold the values of the last step, n = STEPS - 1.
        compare(name + " du = rand() in the last step", final["du"],
                ncl_uniform(SEED, STEPS - 1, entities, base | 3, bits))
        compare(name + " dz = randn() in the last step", final["dz"],
                ncl_normal(SEED, STEPS - 1, entities, base | 4, bits))
        compare(name + " kicked = rand() in an event in the last step", final["kicked"],
                ncl_uniform(SEED, STEPS - 1, entities, base | 5, bits))
    if np.any(final["twice"] != 0):
        failures.append(precision + ": a named expression drew twice in one step")
    for v in initial:
        if not np.array_equal(runs[1][0][v], runs[3][0][v]):
            failures.append("%s: %s at init differs between 1 and 3 threads" % (precision, v))
    for v in final:
        if not np.array_equal(runs[1][1][v], runs[3][1][v]):
            failures.append("%s: %s differs between 1 and 3 threads" % (precision, v))
    u = initial["u"]
    print("%s: u mean %.4f (1/2), var %.4f (1/12 = 0.0833); z mean %.4f, var %.4f"
          % (precision, u.mean(), u.var(), initial["z"].mean(), initial["z"].var()))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: every draw matches the reference bit for bit, on 1 and 3 threads")
