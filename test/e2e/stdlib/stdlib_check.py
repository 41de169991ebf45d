#!/usr/bin/env python3
"""End-to-end checks of NCL's standard library of neuron models (dsl/stdlib).

Each check compiles a small network that imports one model, runs it with
ncl-run (setting inputs at load time where it sweeps them), and compares the
spikes with what the model's mathematics or the literature predicts -- never
with NCL's own earlier output. The predictions are derived here, from the
equations in the model's header, independently of the compiler.

Usage: stdlib_check.py MODEL NCLC NCL_RUN NETWORK.ncl WORKDIR
MODEL is one of lif, hh, adex, izhikevich, qif, traub_miles.
"""
import math
import os
import subprocess
import sys

import numpy as np

model, nclc, ncl_run, network, workdir = sys.argv[1:6]
workdir = os.path.join(workdir, "stdlib_" + model)
os.makedirs(workdir, exist_ok=True)
lib = os.path.join(workdir, model + ".so")
subprocess.run([nclc, network, "-o", lib], check=True, stderr=subprocess.DEVNULL)
failures = []


def check(ok, message):
    print(("ok:   " if ok else "FAIL: ") + message)
    if not ok:
        failures.append(message)


def run(tag, *sets, duration=None):
    """Runs the library with --set NAME=VALUE for each of sets; returns the
    spike times per population (dict name -> times in s, of neuron 0)."""
    out = os.path.join(workdir, tag)
    cmd = [ncl_run, lib, "--out", out, "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    if duration:
        cmd += ["--time", duration]
    subprocess.run(cmd, check=True)
    spikes = {}
    for f in os.listdir(out):
        if f.endswith("_spike_t.npy"):
            name = f[: -len("_spike_t.npy")]
            t = np.load(os.path.join(out, f))
            i = np.load(os.path.join(out, name + "_spike_i.npy"))
            spikes[name] = (t, i)
    return spikes


def times(spikes, pop, neuron=0):
    t, i = spikes[pop]
    return t[i == neuron]


def jacobian(f, x, eps=1e-7):
    x = np.asarray(x, dtype=float)
    J = np.zeros((len(x), len(x)))
    for k in range(len(x)):
        d = np.zeros(len(x))
        d[k] = eps * max(1.0, abs(x[k]))
        J[:, k] = (f(x + d) - f(x - d)) / (2 * d[k])
    return J


# ---------------------------------------------------------------------------
def check_lif():
    """tau_m dv/dt = -(v - El) + R I: v(t) = v_inf + (v0 - v_inf) e^(-t/tau_m),
    v_inf = El + R I. NCL integrates this linear ODE exactly and stamps a
    spike at the first grid time after the crossing, so the first spike (from
    v = El) lies in (t*, t* + dt], t* = tau_m ln((El - v_inf)/(Vt - v_inf)),
    and every ISI is within dt of t_ref + tau_m ln((Vr - v_inf)/(Vt - v_inf)).
    The network overrides tau_m in one population."""
    El, Vt, Vr, R, t_ref, dt = -70e-3, -55e-3, -75e-3, 10e6, 2e-3, 1e-4
    sp = run("run")
    for pop, tau, I, n in [("Default", 20e-3, 2e-9, 1), ("Fast", 10e-3, 3e-9, 2)]:
        v_inf = El + R * I
        first = tau * math.log((El - v_inf) / (Vt - v_inf))
        period = t_ref + tau * math.log((Vr - v_inf) / (Vt - v_inf))
        for k in range(n):
            t = times(sp, pop, k)
            check(len(t) > 5 and first < t[0] <= first + dt + 1e-9,
                  "LIF %s[%d] (tau_m = %g ms): first spike at %.4f ms, analytic crossing %.4f ms"
                  % (pop, k, tau * 1e3, t[0] * 1e3 if len(t) else float("nan"), first * 1e3))
            isi = np.diff(t)
            check(len(isi) > 3 and np.all(np.abs(isi - period) <= dt + 1e-9),
                  "LIF %s[%d]: ISIs %.4f..%.4f ms, analytic period %.4f ms (within dt)"
                  % (pop, k, isi.min() * 1e3, isi.max() * 1e3, period * 1e3))


# ---------------------------------------------------------------------------
def check_hh():
    """Hodgkin-Huxley (6.3 C, rest at -65 mV). Known behaviour (Rinzel &
    Ermentrout 1989; Hassard 1978; Dayan & Abbott 2001, fig. 5.11): at rest
    for I = 0; repetitive firing for constant I above about 6.3 uA/cm2,
    starting near 50 Hz; about 68 Hz at 10 uA/cm2. Below the onset, a step
    from rest gives at most one transient spike. Without sodium current
    (gNa = 0, set per population in the network) there are no spikes."""
    sp = run("I0", "P.I=0uA/cm**2")
    check(len(times(sp, "P")) == 0, "HH at I = 0: %d spikes (expected none)" % len(times(sp, "P")))
    t = times(sp, "NoNa")
    check(len(t) == 0, "HH with gNa = 0 (population override) at 10 uA/cm2: %d spikes (expected none)" % len(t))

    sp = run("I5", "P.I=5uA/cm**2")
    t = times(sp, "P")
    check(len(t) <= 1 and np.all(t < 0.05),
          "HH at 5 uA/cm2 (below the onset of repetitive firing): spikes at %s s (at most one, at onset)" % t)

    for I, lo, hi in [(6.5, 45.0, 60.0), (10.0, 65.0, 75.0)]:
        t = times(run("I%g" % I, "P.I=%guA/cm**2" % I), "P")
        late = t[t > 0.1]
        rate = 1.0 / np.diff(late).mean() if len(late) > 2 else 0.0
        check(lo <= rate <= hi and t[-1] > 0.9,
              "HH at %g uA/cm2: sustained firing at %.1f Hz (expected %g-%g Hz)" % (I, rate, lo, hi))


# ---------------------------------------------------------------------------
def check_adex():
    """AdEx, Brette & Gerstner (2005) parameters. Fixed points satisfy
    w = a (v - EL) and I = F(v) = (gL + a)(v - EL) - gL DeltaT e^((v-VT)/DeltaT);
    F has its maximum I_SN = (gL + a)(VT - EL - DeltaT + DeltaT ln(1 + a/gL)).
    Above I_SN there is no fixed point, so (a planar flow without fixed points
    has no closed orbit) v must escape to v_peak again and again: repetitive
    firing. Below it, the lower fixed point is stable (trace < 0, det > 0 of
    the Jacobian, computed here), and the neuron settles at rest. With a 1 nA
    step the ISIs lengthen to a steady value (spike-frequency adaptation)."""
    C, gL, EL, VT, DT, tw, a = 281e-12, 30e-9, -70.6e-3, -50.4e-3, 2e-3, 144e-3, 4e-9
    I_sn = (gL + a) * (VT - EL - DT + DT * math.log(1 + a / gL))
    print("AdEx: saddle-node current I_SN = %.4f nA" % (I_sn * 1e9))

    t = times(run("I0", "P.I=0nA"), "P")
    check(len(t) == 0, "AdEx at I = 0: %d spikes (expected none)" % len(t))

    I = 0.5e-9
    # Lower root of F(v) = I by bisection on [EL - 10 mV, v*], v* = argmax F.
    F = lambda v: (gL + a) * (v - EL) - gL * DT * math.exp((v - VT) / DT)
    lo, hi = EL - 10e-3, VT + DT * math.log(1 + a / gL)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if F(mid) < I else (lo, mid)
    v_fp = lo
    rhs = lambda x: np.array([(-gL * (x[0] - EL) + gL * DT * math.exp((x[0] - VT) / DT) - x[1] + I) / C,
                              (a * (x[0] - EL) - x[1]) / tw])
    J = jacobian(rhs, [v_fp, a * (v_fp - EL)])
    stable = np.all(np.linalg.eigvals(J).real < 0)
    t = times(run("I0.5", "P.I=0.5nA"), "P")
    check(stable and np.all(t < 0.2),
          "AdEx at 0.5 nA < I_SN: stable rest at %.2f mV (%s); spikes at %s s (none after 200 ms)"
          % (v_fp * 1e3, "stable" if stable else "UNSTABLE", t))

    t = times(run("I0.7", "P.I=0.7nA"), "P")
    check(len(t) >= 4 and t[-1] > 0.7,
          "AdEx at 0.7 nA > I_SN: %d spikes, last at %.3f s (repetitive firing)" % (len(t), t[-1] if len(t) else 0))

    t = times(run("I1", "P.I=1nA"), "P")
    isi = np.diff(t)
    adapting = (len(isi) > 10 and np.all(np.diff(isi[:8]) > 0) and isi[-1] > 2 * isi[0]
                and abs(isi[-1] - isi[-2]) < 0.01 * isi[-1])
    check(adapting, "AdEx at 1 nA: ISIs %s ms ... %.2f ms (increasing, then steady)"
          % (np.round(isi[:8] * 1e3, 2), isi[-1] * 1e3 if len(isi) else 0))


# ---------------------------------------------------------------------------
def check_izhikevich():
    """Izhikevich (2003), I = 10 (mV/ms). With u = b v at rest, fixed points
    solve 0.04 v^2 + (5 - b ms) v + 140 + I = 0 (v in mV): for b = 0.2/ms
    there are none for I > (4.8^2/0.16 - 140) = 4 mV/ms, so the RS cell must
    fire there (planar flow, no fixed point); at I = 0 the rest at -70 mV is
    stable (Jacobian computed here). RS shows spike-frequency adaptation (the
    first ISI is much shorter than the steady one); FS fires at a much higher
    rate and its u (time constant 1/a = 10 ms) settles within a few spikes,
    after which the ISI is constant; CH (chattering) fires bursts: groups of
    short ISIs separated by long ones."""
    sp = run("I10")
    rs, fs, ch = times(sp, "RS"), times(sp, "FS"), times(sp, "CH")
    isi = np.diff(rs)
    steady = isi[-1]
    check(len(isi) > 5 and isi[0] < 0.7 * steady and np.all(np.abs(isi[2:] - steady) < 0.01 * steady),
          "Izhikevich RS: first ISI %.2f ms, steady ISI %.2f ms (adaptation, then regular)"
          % (isi[0] * 1e3, steady * 1e3))
    fisi = np.diff(fs)
    late = fisi[fs[1:] > 0.03]
    rate_rs, rate_fs = 1 / steady, 1 / fisi[-1]
    check(rate_fs > 4 * rate_rs and np.all(np.abs(late - fisi[-1]) < 0.02 * fisi[-1]),
          "Izhikevich FS: steady %.1f Hz vs RS %.1f Hz; ISIs after 30 ms within 2%% of %.2f ms (no lasting adaptation)"
          % (rate_fs, rate_rs, fisi[-1] * 1e3))
    cisi = np.diff(ch)
    long_ = cisi > 10e-3
    bursts = np.count_nonzero(long_)
    check(bursts >= 5 and cisi.max() > 10 * cisi.min() and (len(cisi) - bursts) / max(bursts, 1) >= 3,
          "Izhikevich CH: %d bursts, %.1f spikes per burst, ISIs %.2f..%.2f ms"
          % (bursts, len(ch) / max(bursts, 1), cisi.min() * 1e3, cisi.max() * 1e3))

    a, b = 0.02, 0.2
    f = lambda x: np.array([0.04 * x[0] ** 2 + 5 * x[0] + 140 - x[1], a * (b * x[0] - x[1])])
    stable = np.all(np.linalg.eigvals(jacobian(f, [-70.0, -14.0])).real < 0)
    t = times(run("I0", "RS.I=0mV/ms"), "RS")
    check(stable and len(t) == 0, "Izhikevich RS at I = 0: stable rest at -70 mV, %d spikes (expected none)" % len(t))
    t = times(run("I4.5", "RS.I=4.5mV/ms"), "RS")
    check(len(t) >= 5 and t[-1] > 0.8, "Izhikevich RS at I = 4.5 mV/ms > 4 (no fixed point): %d spikes" % len(t))


# ---------------------------------------------------------------------------
def check_qif():
    """tau dv/dt = a (v - Er)(v - Vc) + R I = a (v - m)^2 + K, m = (Er + Vc)/2,
    K = R I - a (Vc - Er)^2 / 4. For K > 0 the time from Vr to v_peak is
    T = tau / sqrt(a K) [atan((v_peak - m) sqrt(a/K)) - atan((Vr - m) sqrt(a/K))]
    (pi tau / sqrt(a K) in the limit of infinite peak and reset). For K <= 0
    the neuron rests. NCL integrates this nonlinear ODE with Runge-Kutta 4
    (ncl-integrate's choice for a nonlinear system), whose error over an ISI
    is O(dt^4) (dt f' <= 0.012 here, so far below 0.1 dt in time); the spike
    is stamped at the next grid time (reset on the grid), so every ISI must
    lie in [T, T + dt), with a slack of 0.1 dt."""
    tau, Er, Vc, a, R, vp, Vr, dt = 10e-3, -65e-3, -50e-3, 1 / 15e-3, 10e6, 30e-3, -70e-3, 1e-5
    m = (Er + Vc) / 2
    rheobase = a * (Vc - Er) ** 2 / 4 / R
    for I_nA in [0.3, 0.4, 0.5, 1.0, 2.0, 5.0]:
        I = I_nA * 1e-9
        t = times(run("I%g" % I_nA, "P.I=%gnA" % I_nA), "P")
        K = R * I - a * (Vc - Er) ** 2 / 4
        if K <= 0:
            check(len(t) == 0, "QIF at %g nA <= rheobase %.3f nA: %d spikes (expected none)"
                  % (I_nA, rheobase * 1e9, len(t)))
            continue
        s = math.sqrt(a / K)
        T = tau / math.sqrt(a * K) * (math.atan((vp - m) * s) - math.atan((Vr - m) * s))
        TE = T
        isi = np.diff(t)
        ok = len(isi) >= 2 and np.all((isi >= TE - 0.1 * dt) & (isi < TE + 1.1 * dt))
        check(ok, "QIF at %g nA: ISI %.5f ms, analytic %.5f ms, infinite-peak limit %.3f ms"
              % (I_nA, isi.mean() * 1e3 if len(isi) else float("nan"), T * 1e3,
                 math.pi * tau / math.sqrt(a * K) * 1e3))


# ---------------------------------------------------------------------------
def check_traub_miles():
    """Traub-Miles cell of Brian2's COBAHH. Its steady-state I-V curve
    I_ss(v) = gl (v - El) + g_na m_inf^3 h_inf (v - ENa) + g_kd n_inf^4 (v - EK),
    computed here, is negative (net inward) everywhere below -34 mV: with the
    COBAHH parameters an isolated cell has no resting state at I = 0 and fires
    on its own (the behaviour asked about in brian2 issue #744). So: at I = 0
    it fires regularly; with I = -0.1 nA it has a stable rest (I_ss(v) = I has
    a root there whose Jacobian has eigenvalues with negative real parts) and
    is silent; and the rate grows with the injected current."""
    VT, El, EK, ENa = -63.0, -60.0, -90.0, 50.0  # mV
    gl, gna, gk, C = 10e-9, 20e-6, 6e-6, 200e-12  # S, F

    def rates(v):
        x = (13 - v + VT) / 4
        y = (v - VT - 40) / 5
        z = (15 - v + VT) / 5
        return (1.28 * x / np.expm1(x), 1.4 * y / np.expm1(y),
                0.128 * np.exp((17 - v + VT) / 18), 4 / (1 + np.exp((40 - v + VT) / 5)),
                0.16 * z / np.expm1(z), 0.5 * np.exp((10 - v + VT) / 40))  # 1/ms

    def rhs(x, I):  # v in mV, t in ms, I in nA
        v, m, h, n = x
        am, bm, ah, bh, an, bn = rates(v)
        iion = (gl * (El - v) - gna * m ** 3 * h * (v - ENa) - gk * n ** 4 * (v - EK)) * 1e-3  # A
        return np.array([(iion + I * 1e-9) / C * 1e-3 * 1e3,  # mV/ms
                         am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n])

    def fixed_points(I):
        v = np.linspace(-100, -40, 60001) + 1e-6  # avoid the removable 0/0 points
        am, bm, ah, bh, an, bn = rates(v)
        mi, hi, ni = am / (am + bm), ah / (ah + bh), an / (an + bn)
        iss = gl * (v - El) + gna * mi ** 3 * hi * (v - ENa) + gk * ni ** 4 * (v - EK)  # S*mV
        cross = np.where(np.diff(np.sign(iss * 1e-3 - I * 1e-9)))[0]
        out = []
        for k in cross:
            x = [v[k], mi[k], hi[k], ni[k]]
            out.append((v[k], np.all(np.linalg.eigvals(jacobian(lambda y: rhs(y, I), x)).real < 0)))
        return out

    fp0 = fixed_points(0.0)
    check(not any(s for _, s in fp0), "Traub-Miles at I = 0: no stable rest below -40 mV (fixed points %s)" % fp0)
    t = times(run("I0", "P.I=0nA"), "P")
    isi = np.diff(t)
    check(len(t) > 5 and t[-1] > 0.9 and np.all(np.abs(isi[3:] - isi[-1]) < 0.02 * isi[-1]),
          "Traub-Miles at I = 0: fires regularly on its own, %d spikes, ISI %.2f ms"
          % (len(t), isi[-1] * 1e3 if len(isi) else 0))

    fpm = fixed_points(-0.1)
    check(any(s for _, s in fpm), "Traub-Miles at I = -0.1 nA: a stable rest at %s mV"
          % [round(v, 2) for v, s in fpm if s])
    t = times(run("Im0.1", "P.I=-0.1nA"), "P")
    check(len(t) == 0, "Traub-Miles at I = -0.1 nA: %d spikes (expected none)" % len(t))

    rates_hz = []
    for I in [0.0, 0.2, 0.5, 1.0, 2.0]:
        t = times(run("I%g" % I, "P.I=%gnA" % I), "P")
        late = t[t > 0.1]
        rates_hz.append(1 / np.diff(late).mean() if len(late) > 2 else 0.0)
        check(np.all(np.diff(t) >= 3e-3 - 1e-9), "Traub-Miles at %g nA: no ISI below the 3 ms refractory period" % I)
    check(np.all(np.diff(rates_hz) > 0), "Traub-Miles f-I curve increases: %s Hz" % np.round(rates_hz, 1))


globals()["check_" + model]()
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("OK")
