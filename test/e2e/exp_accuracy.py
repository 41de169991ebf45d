#!/usr/bin/env python3
"""exp(), expm1() and tanh() of compiled models against exact values.

Compiles exp_accuracy.ncl in f64 and f32, sets each neuron's x through
libnclrt, runs one step and compares e = exp(x), m = expm1(x) and h = tanh(y)
with the exact values (Python's decimal at 60 digits; expm1 of |x| < 1e-5 by its
series), in units in the last place of the model's precision. Inputs: the
whole finite range (uniform), tiny and small magnitudes of both signs
(log-uniform), the points where the reduction's k changes (odd multiples of
ln2/2), and the edges (0, -0, the smallest subnormals, the overflow and
underflow thresholds). The claim checked is the bound in docs/semantics.md
("Precision"). Special inputs (+-inf, NaN, overflowing x) are checked
through codes of what the result is. The same run on 3 threads must give
the same bits (a neuron's result does not depend on the vector it shares).
Usage: exp_accuracy.py NCLC LIBNCLRT MODEL WORKDIR
"""
import ctypes
import decimal
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, libnclrt, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)
rt.rt.ncl_set_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
N, NSPECIAL = 40000, 16
# The maximum errors stated in docs/semantics.md, "Precision".
BOUND_ULP = {"f64": 1.0, "f32": 1.0}
TANH_BOUND_ULP = {"f64": 2.5, "f32": 2.5}
decimal.getcontext().prec = 60
D = decimal.Decimal


class Format:
    def __init__(self, name):
        self.name = name
        self.dtype = np.float64 if name == "f64" else np.float32
        self.digits = 53 if name == "f64" else 24
        self.emin = -1022 if name == "f64" else -126
        info = np.finfo(self.dtype)
        self.max = float(info.max)
        self.tiny = float(np.nextafter(self.dtype(0), self.dtype(1)))

    def ulp(self, value):
        """The spacing of the format's numbers at |value| (a Decimal)."""
        value = abs(value)
        if value < D(2) ** self.emin:
            return D(2) ** (self.emin - self.digits + 1)
        exponent = math.floor(math.log2(float(value)))
        # float(value) may round across a power of two: correct it.
        while D(2) ** (exponent + 1) <= value:
            exponent += 1
        while D(2) ** exponent > value:
            exponent -= 1
        return D(2) ** (exponent - self.digits + 1)


def exact_exp(x):
    return D(x).exp()


def exact_expm1(x):
    d = D(x)
    if abs(x) < 1e-5:
        return d + d * d / 2 + d * d * d / 6 + d * d * d * d / 24 + d ** 5 / 120
    return d.exp() - 1


def exact_tanh(y):
    d = D(y)
    if abs(y) < 1e-5:
        return d - d ** 3 / 3 + 2 * d ** 5 / 15
    e = (2 * d).exp()
    return (e - 1) / (e + 1)


def tanh_inputs(fmt, rng):
    """Where tanh is neither linear nor 1: |y| up to 25, log-uniform magnitudes
    down to the subnormals, and the clamp's neighbourhood."""
    smallest_exp = -1074 if fmt.name == "f64" else -149
    edges = [0.0, -0.0, fmt.tiny, -fmt.tiny, 19.5, 20.0, 21.0, -20.0, 9.0, 10.0, -10.0, 0.55]
    uniform = rng.uniform(-25.0, 25.0, 20000)
    magnitudes = 10.0 ** rng.uniform(smallest_exp * math.log10(2), 1.4, N - 20000 - len(edges))
    small = magnitudes * rng.choice([-1.0, 1.0], len(magnitudes))
    y = np.concatenate([edges, uniform, small])
    return y.astype(fmt.dtype).astype(np.float64)


def inputs(fmt, rng):
    lo_exp, hi_exp = (-760.0, 709.78) if fmt.name == "f64" else (-110.0, 88.72)
    lo_m1 = -60.0 if fmt.name == "f64" else -25.0
    smallest_exp = -1074 if fmt.name == "f64" else -149
    edges = [0.0, -0.0, fmt.tiny, -fmt.tiny, 1e-30, -1e-30, 0.5, -0.5, 1.0, -1.0,
             hi_exp, math.log(fmt.max) * (1 - 1e-12), -745.13 if fmt.name == "f64" else -103.97,
             -708.39 if fmt.name == "f64" else -87.33, lo_exp]
    uniform = rng.uniform(lo_exp, hi_exp, 16000)
    uniform_m1 = rng.uniform(lo_m1, hi_exp, 8000)
    magnitudes = 10.0 ** rng.uniform(smallest_exp * math.log10(2), 0.5, 8000)
    small = magnitudes * rng.choice([-1.0, 1.0], 8000)
    half_ln2 = math.log(2) / 2
    k = rng.integers(-1000 if fmt.name == "f64" else -140, 1000 if fmt.name == "f64" else 120,
                     N - 32000 - len(edges))
    boundaries = (2 * k + 1) * half_ln2 * (1 + rng.uniform(-1e-12, 1e-12, len(k)))
    x = np.clip(np.concatenate([edges, uniform, uniform_m1, small, boundaries]), lo_exp, hi_exp)
    return x.astype(fmt.dtype).astype(np.float64)  # representable in the model


def compile_model(fmt):
    lib = os.path.join(workdir, "exp_accuracy_%s.so" % fmt.name)
    subprocess.run([nclc, model, "--precision=" + fmt.name, "-o", lib], check=True)
    return lib


def set_state(m, pop, var, values):
    buf = (ctypes.c_double * len(values))(*values)
    rt.check(rt.rt.ncl_set_state(m, pop.encode(), var.encode(), buf, len(values)) == 0)


def run(lib, threads, x, y, special):
    m = rt.open(lib, 1, threads)
    set_state(m, "S", "x", x)
    set_state(m, "S", "y", y)
    for var, values in zip(("x", "up", "down"), special):
        set_state(m, "C", var, values)
    rt.run_steps(m, 1)
    out = [rt.state(m, "S", v, N) for v in ("e", "m", "h")]
    out += [rt.state(m, "C", v, NSPECIAL) for v in ("ce", "cm", "ch")]
    rt.close(m)
    return out


def code(q):
    """The code exp_accuracy.ncl stores for a result q."""
    def heaviside(v):
        return 1.0 if v > 0 else 0.0
    finite = heaviside(q - q + 1) if not math.isnan(q) else 0.0
    return (heaviside(q - 1e38) + 2 * heaviside(-q - 1e38) + 4 * (1 - finite)
            + 8 * heaviside(q) + 16 * heaviside(-q))


def tanh_code(q):
    """The code exp_accuracy.ncl stores for tanh's result q."""
    if math.isnan(q):
        return 4.0
    return 8.0 * (q > 0.5) + 16.0 * (-q > 0.5)


failures = []
rng = np.random.default_rng(20261127)
inf, nan = math.inf, math.nan
# (x, up, down) and the exact exp and expm1 of z = x + (up - down) * inf.
special_cases = [((0, 1, 0), inf, inf), ((0, 0, 1), 0.0, -1.0), ((0, 1, 1), nan, nan),
                 ((1000, 0, 0), inf, inf), ((-1000, 0, 0), 0.0, -1.0)]
for fmt in (Format("f64"), Format("f32")):
    overflow = [709.79, 710.0, 709.8, 711.0] if fmt.name == "f64" else [88.73, 89.0, 89.5, 90.0]
    cases = special_cases + [((x, 0, 0), inf, inf) for x in overflow]
    cases += [((0, 0, 0), 1.0, 0.0)] * (NSPECIAL - len(cases))
    special = [[c[0][j] for c in cases] for j in range(3)]
    lib = compile_model(fmt)
    x = inputs(fmt, rng)
    y = tanh_inputs(fmt, rng)
    e, m1, h, ce, cm, ch = run(lib, 1, x, y, special)
    worst, worst_y = 0.0, None
    for yi, hi in zip(y, h):
        ref = exact_tanh(yi)
        err = float(abs(D(hi) - ref) / fmt.ulp(ref)) if ref != 0 else float(hi != 0)
        if err > worst:
            worst, worst_y = err, yi
    print("%s tanh: max error %.3f ulp (y = %r) over %d inputs" % (fmt.name, worst, worst_y,
                                                                  len(y)))
    if worst > TANH_BOUND_ULP[fmt.name]:
        failures.append("%s tanh: %.3f ulp at y = %r, above %.1f" % (
            fmt.name, worst, worst_y, TANH_BOUND_ULP[fmt.name]))
    if not (math.copysign(1, h[1]) < 0 and h[1] == 0):
        failures.append("%s tanh(-0) = %r, expected -0" % (fmt.name, h[1]))
    if h[4] != 1.0 or h[5] != 1.0 or h[7] != -1.0:
        failures.append("%s tanh(19.5, 20, -20) = %r, %r, %r: expected 1, 1, -1" % (
            fmt.name, h[4], h[5], h[7]))
    for name, got, exact in (("exp", e, exact_exp), ("expm1", m1, exact_expm1)):
        worst, worst_x = 0.0, None
        for xi, yi in zip(x, got):
            if name == "expm1" and xi < (-60.0 if fmt.name == "f64" else -25.0):
                continue
            ref = exact(xi)
            if ref > D(fmt.max):
                continue
            err = float(abs(D(yi) - ref) / fmt.ulp(ref))
            if err > worst:
                worst, worst_x = err, xi
        print("%s %s: max error %.3f ulp (x = %r) over %d inputs" % (fmt.name, name, worst,
                                                                    worst_x, len(x)))
        if worst > BOUND_ULP[fmt.name]:
            failures.append("%s %s: %.3f ulp at x = %r, above %.1f" % (
                fmt.name, name, worst, worst_x, BOUND_ULP[fmt.name]))
    if not (math.copysign(1, m1[1]) < 0 and m1[1] == 0):
        failures.append("%s expm1(-0) = %r, expected -0" % (fmt.name, m1[1]))
    for i, (_, want_e, want_m) in enumerate(cases):
        if ce[i] != code(want_e) or cm[i] != code(want_m):
            failures.append("%s special case %r: codes %g %g, expected %g %g (exp %r, expm1 %r)" % (
                fmt.name, cases[i][0], ce[i], cm[i], code(want_e), code(want_m), want_e, want_m))
        z = cases[i][0][0] + (cases[i][0][1] - cases[i][0][2]) * inf if cases[i][0][1] != \
            cases[i][0][2] else (nan if cases[i][0][1] else cases[i][0][0])
        want_h = math.tanh(z) if not math.isnan(z) else nan
        if ch[i] != tanh_code(want_h):
            failures.append("%s special case %r: tanh code %g, expected %g (tanh %r)" % (
                fmt.name, cases[i][0], ch[i], tanh_code(want_h), want_h))
    again = run(lib, 3, x, y, special)
    for got, other, what in zip((e, m1, h, ce, cm, ch), again, ("e", "m", "h", "ce", "cm", "ch")):
        if got.tobytes() != other.tobytes():
            failures.append("%s: %s differs between 1 and 3 threads" % (fmt.name, what))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: exp and expm1 within %g ulp (f64) and %g ulp (f32) of the exact values, tanh within "
      "%g ulp, specials as IEEE 754, same bits on 1 and 3 threads" % (
          BOUND_ULP["f64"], BOUND_ULP["f32"], TANH_BOUND_ULP["f64"]))
