#!/usr/bin/env python3
"""`ncl-run --init POP.VAR=FILE` (ncl_load_state): each batch member's
initial state from a .npy file, against the model's mathematics.

The model halves x every step (`update { x = a * x }`, a = 0.5), so after n
steps member b's neuron i holds x0[b, i] * 2^-n exactly (in the model's
precision: x0 rounded once, then exact halvings), and the state monitor,
which samples at the start of every step, records x0 itself in its first
row. Checks: a 2-D file (one row per member, batch = 3), a 1-D file shared
by the members, a float32 and an integer file, and the errors (a shape that
fits neither, a missing file, a NaN, an unknown variable, bad usage), each
one message and a non-zero exit, with the state untouched.

Usage: initial_state_checks.py NCLC NCL-RUN WORKDIR f64|f32
"""
import os
import subprocess
import sys

import numpy as np

nclc, ncl_run, workdir, precision = sys.argv[1:5]
real = np.float32 if precision == "f32" else np.float64
work = os.path.join(workdir, "initial_state_%s" % precision)
os.makedirs(work, exist_ok=True)
failures = []
N, B, STEPS = 7, 3, 6

with open(os.path.join(work, "halving.ncl"), "w") as f:
    f.write("""neuron Unit {
  parameters { a = 0.5 }
  state { x = 1 }
  update { x = a * x }
}
network Halving {
  population L = Unit[%d]
  record x(L) every 1
  simulate %d ms, dt = 1 ms, batch = %d
}
""" % (N, STEPS, B))
lib = os.path.join(work, "halving.so")
subprocess.run([nclc, os.path.join(work, "halving.ncl"), "--precision=" + precision, "-o", lib],
               check=True)
rng = np.random.default_rng(11)


def run(*args):
    out = os.path.join(work, "out")
    return subprocess.run([ncl_run, lib, "--quiet", "--out", out] + list(args),
                          capture_output=True, text=True), out


def expect_trajectory(what, x0, args):
    """x0: (B, N) float64, the members' initial states as the file gives them."""
    proc, out = run(*args)
    if proc.returncode != 0:
        failures.append("%s: ncl-run failed: %s" % (what, proc.stderr.strip()))
        return
    got = np.load(os.path.join(out, "L_x.npy")).astype(np.float64)
    start = x0.astype(real)
    want = np.array([(start * real(0.5) ** n).astype(np.float64) for n in range(STEPS)])
    if got.shape != want.shape or not np.array_equal(got, want):
        failures.append("%s: recorded x differs from x0 * 2^-n" % what)
    else:
        print("%s: x after each of %d steps is x0 * 2^-n exactly, every member (%s)" %
              (what, STEPS, precision))


def save(name, array):
    path = os.path.join(work, name)
    np.save(path, array)
    return path


x0 = rng.normal(size=(B, N))
expect_trajectory("(B, N) file, one row per member", x0, ["--init", "L.x=" + save("x0.npy", x0)])
shared = rng.normal(size=N)
expect_trajectory("(N,) file shared by the members", np.tile(shared, (B, 1)),
                  ["--init", "L.x=" + save("shared.npy", shared)])
single = rng.normal(size=(B, N)).astype(np.float32)
expect_trajectory("float32 file", single.astype(np.float64),
                  ["--init", "L.x=" + save("single.npy", single)])
ints = rng.integers(-50, 50, size=(B, N)).astype(np.int64)
expect_trajectory("int64 file", ints.astype(np.float64),
                  ["--init", "L.x=" + save("ints.npy", ints)])
# Without --init, the model's own initial value 1.
expect_trajectory("no --init: the model's x = 1", np.ones((B, N)), [])

nan = x0.copy()
nan[1, 2] = np.nan
errors = [
    (["--init", "L.x=" + save("wrong.npy", np.zeros((B + 1, N)))], 1,
     "holds an array of shape (%d, %d); the state of population 'L' needs shape (%d,) or "
     "(%d, %d), one row per batch member" % (B + 1, N, N, B, N)),
    (["--init", "L.x=" + save("long.npy", np.zeros(N + 1))], 1,
     "holds an array of shape (%d,)" % (N + 1)),
    (["--init", "L.x=" + os.path.join(work, "missing.npy")], 1, "cannot be read"),
    (["--init", "L.x=" + save("nan.npy", nan)], 1, "is NaN; state values must be finite"),
    (["--init", "L.y=" + save("y.npy", x0)], 1, "population 'L' has no state variable 'y'"),
    (["--init", "Q.x=" + save("q.npy", x0)], 1, "no population 'Q'"),
    (["--init", "x0.npy"], 2, "--init expects POP.VAR=FILE.npy"),
]
for args, status, message in errors:
    proc, _ = run(*args)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("ncl-run: error:")]
    if proc.returncode != status or len(lines) != 1 or message not in lines[0]:
        failures.append("ncl-run %s: exit %d, stderr %r (expected exit %d and %r)" %
                        (" ".join(args), proc.returncode, proc.stderr, status, message))
    else:
        print("ncl-run %s: exit %d, %s" % (args[1].split("=")[-1].split("/")[-1],
                                            proc.returncode, lines[0]))

if failures:
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1)
