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

# scripts/reference/hh_type_models.py, on the path the reference scripts set.
from hh_type_models import hh_type_model, steady_gates, x_over_expm1  # noqa: F401 (re-exported)

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
