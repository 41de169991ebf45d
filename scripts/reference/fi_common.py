"""Shared pieces of the f-I reference scripts (hh_fi_reference.py,
traub_fi_reference.py): a high-accuracy integration with scipy's solve_ivp,
spike detection by event location, the steady-rate definition, and the JSON
header that says how a file was made.

Nothing here depends on NCL: the models are written out again in numpy from
the equations in dsl/stdlib/*.ncl, in mV, ms and the model's own current
unit.
"""
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp

# The steady rate: spikes in [T0, T1]; with k >= 3 of them, (k - 1) divided
# by the time from the first to the last (the mean inter-spike interval,
# insensitive to where the window cuts a cycle); with fewer, 0 Hz (silent,
# or a transient that has died out). The test (test/e2e/integration) uses the
# same definition on NCL's spike times.
T0_MS, T1_MS = 500.0, 2000.0


def steady_rate(spikes_ms, t0=T0_MS, t1=T1_MS):
    s = np.asarray(spikes_ms, dtype=float)
    s = s[(s >= t0) & (s <= t1)]
    if len(s) < 3:
        return 0.0
    return 1000.0 * (len(s) - 1) / (s[-1] - s[0])


def x_over_expm1(x):
    """x / expm1(x), with its limit 1 at x = 0 (a removable singularity)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = x / np.expm1(x)
    return np.where(x == 0.0, 1.0, r)


def spikes_from_events(t_up, t_down, t_ref_ms=None):
    """Spike times from the upward crossings of the spike threshold (t_up)
    and, for a re-arm rule ('refractory while v > V_rearm'), the downward
    crossings of V_rearm (t_down): after a spike, no new one until v has
    fallen below V_rearm. With t_ref_ms instead ('refractory t_ref'), no new
    spike within t_ref of the last. The neuron starts armed."""
    events = [(t, 0) for t in t_up] + [(t, 1) for t in (t_down if t_down is not None else [])]
    events.sort()
    spikes, armed = [], True
    for t, kind in events:
        if kind == 1:
            armed = True
        elif t_ref_ms is not None:
            if not spikes or t - spikes[-1] >= t_ref_ms:
                spikes.append(t)
        elif armed:
            spikes.append(t)
            armed = False
    return np.array(spikes)


def hh_type_model(rates, I, C, gNa, ENa, gK, EK, gL, EL):
    """The right-hand side and its Jacobian of a Hodgkin-Huxley-type model,
    C dv/dt = I - gNa m^3 h (v - ENa) - gK n^4 (v - EK) - gL (v - EL),
    dx/dt = alpha_x (1 - x) - beta_x x for x = m, h, n, with
    rates(v) = (alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)."""
    def rhs(t, y):
        v, m, h, n = y
        am, bm, ah, bh, an, bn = rates(v)
        return np.array([
            (I - gNa * m**3 * h * (v - ENa) - gK * n**4 * (v - EK) - gL * (v - EL)) / C,
            am * (1 - m) - bm * m,
            ah * (1 - h) - bh * h,
            an * (1 - n) - bn * n,
        ])

    def jac(t, y):
        # The v-derivatives of the rates by a central difference (they enter
        # only the Jacobian, i.e. the Newton iteration, not the solution).
        v, m, h, n = y
        eps = 1e-6
        dam, dbm, dah, dbh, dan, dbn = (np.array(rates(v + eps)) - np.array(rates(v - eps))) / (2 * eps)
        am, bm, ah, bh, an, bn = rates(v)
        J = np.zeros((4, 4))
        J[0] = [(-gNa * m**3 * h - gK * n**4 - gL) / C,
                -3 * gNa * m**2 * h * (v - ENa) / C,
                -gNa * m**3 * (v - ENa) / C,
                -4 * gK * n**3 * (v - EK) / C]
        J[1] = [dam * (1 - m) - dbm * m, -(am + bm), 0, 0]
        J[2] = [dah * (1 - h) - dbh * h, 0, -(ah + bh), 0]
        J[3] = [dan * (1 - n) - dbn * n, 0, 0, -(an + bn)]
        return J

    return rhs, jac


def steady_gates(rates, v0):
    """v0 and the gates at their steady state for it."""
    am, bm, ah, bh, an, bn = rates(v0)
    return np.array([v0, am / (am + bm), ah / (ah + bh), an / (an + bn)])


def integrate(rhs, y0, t_end_ms, v_spike, v_rearm, method, rtol, atol, max_step=np.inf,
              jac=None, t_ref_ms=None):
    """Integrate and return (spike times in ms, number of RHS evaluations)."""
    up = lambda t, y: y[0] - v_spike
    up.direction = 1.0
    evs = [up]
    if v_rearm is not None:
        down = lambda t, y: y[0] - v_rearm
        down.direction = -1.0
        evs.append(down)
    kw = dict(method=method, rtol=rtol, atol=atol, events=evs, max_step=max_step)
    if jac is not None and method in ("Radau", "BDF", "LSODA"):
        kw["jac"] = jac
    sol = solve_ivp(rhs, (0.0, t_end_ms), y0, **kw)
    if not sol.success:
        raise RuntimeError(sol.message)
    t_down = sol.t_events[1] if v_rearm is not None else None
    return spikes_from_events(sol.t_events[0], t_down, t_ref_ms), sol.nfev


def header(script, argv, extra):
    return {
        "generated_by": os.path.relpath(os.path.abspath(script),
                                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")),
        "command": " ".join(shlex.quote(a) for a in ["/usr/bin/python3"] + argv),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "platform": platform.platform(),
        },
        "rate_definition": ("steady rate = (k - 1) / (t_k - t_1) over the k spikes in "
                            "[%g ms, %g ms] when k >= 3, else 0 Hz" % (T0_MS, T1_MS)),
        **extra,
    }


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=False)
        f.write("\n")
