#!/usr/bin/env python3
"""High-accuracy f-I curve of the Hodgkin-Huxley model of dsl/stdlib/hh.ncl,
independent of NCL, for test/e2e/integration/hh_fi.py.

The equations and parameters are those of hh.ncl (modern convention, rest at
-65 mV; v in mV, t in ms, I in uA/cm**2, conductances in mS/cm**2), written
out again here in numpy:
  C dv/dt = I - gNa m^3 h (v - ENa) - gK n^4 (v - EK) - gL (v - EL)
  dx/dt   = alpha_x (1 - x) - beta_x x,  x = m, h, n
  alpha_m = (v+40)/10 / (1 - exp(-(v+40)/10))     beta_m = 4 exp(-(v+65)/18)
  alpha_h = 0.07 exp(-(v+65)/20)                   beta_h = 1/(1 + exp(-(v+35)/10))
  alpha_n = 0.1 (v+55)/10 / (1 - exp(-(v+55)/10))  beta_n = 0.125 exp(-(v+65)/80)
(the removable singularities of alpha_m and alpha_n at v = -40 and -55 mV are
taken at their limit here). Initial state: v = -65 mV, gates at steady state
for it; the current I is switched on at t = 0 and held.

Spikes as in hh.ncl: an upward crossing of V_spike = -20 mV, located by
solve_ivp's event finding on the dense output; after a spike, no new one
until v has fallen below V_rearm = -40 mV (`refractory while v > V_rearm`).
Steady rate: see fi_common.steady_rate (mean ISI over 0.5-2 s).

Two independent integrations per current: LSODA (Adams/BDF, with the
analytic Jacobian) at rtol = atol = 1e-12, the reference value, and DOP853
(explicit Runge-Kutta, order 8) at rtol = atol = 1e-12; their relative
difference is written as the reference's own error estimate. (Radau at
1e-10 agrees with DOP853 to 1e-13 but takes ~50 s per current.)

Usage: /usr/bin/python3 bench/reference/hh_fi_reference.py [OUT.json]
(default test/e2e/integration/hh_fi_reference.json). Takes a few minutes.
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The models themselves (numpy only, shared with the tests).
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "reference"))
import fi_common  # noqa: E402
from hh_type_models import HH_PARAMS as P, hh_rates as rates  # noqa: E402

CURRENTS = [0, 2, 4, 5, 6, 6.5, 7, 8, 10, 15, 20, 30, 50]  # uA/cm**2
T_END_MS = 2000.0


def make_rhs(I):
    return fi_common.hh_type_model(rates, I, *(P[k] for k in ("C", "gNa", "ENa", "gK", "EK", "gL", "EL")))


def initial_state():
    return fi_common.steady_gates(rates, P["v0"])


def run(I, method, tol):
    rhs, jac = make_rhs(I)
    t = time.time()
    spikes, nfev = fi_common.integrate(rhs, initial_state(), T_END_MS, P["V_spike"], P["V_rearm"],
                                       method, tol, tol, jac=jac)
    return spikes, nfev, time.time() - t


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "e2e", "integration",
        "hh_fi_reference.json")
    results = []
    for I in CURRENTS:
        s_ref, nfev, secs = run(I, "LSODA", 1e-12)
        s_chk, nfev2, secs2 = run(I, "DOP853", 1e-12)
        r_ref, r_chk = fi_common.steady_rate(s_ref), fi_common.steady_rate(s_chk)
        w = s_ref[(s_ref >= fi_common.T0_MS) & (s_ref <= fi_common.T1_MS)]
        isi = np.diff(w)
        results.append({
            "I_uA_per_cm2": I,
            "rate_hz": r_ref,
            "rate_hz_dop853": r_chk,
            "rate_rel_diff_methods": (abs(r_ref - r_chk) / r_ref) if r_ref else abs(r_ref - r_chk),
            "spikes_total": int(len(s_ref)),
            "spikes_total_dop853": int(len(s_chk)),
            "spikes_in_window": int(len(w)),
            "first_spikes_ms": [round(x, 9) for x in s_ref[:3].tolist()],
            "last_spike_ms": float(s_ref[-1]) if len(s_ref) else None,
            "isi_window_min_max_ms": [float(isi.min()), float(isi.max())] if len(isi) else None,
            "nfev_lsoda": int(nfev), "nfev_dop853": int(nfev2),
            "seconds_lsoda": round(secs, 2), "seconds_dop853": round(secs2, 2),
        })
        print("I = %5.1f uA/cm2: %9.5f Hz (DOP853 %9.5f Hz), %d spikes, %.1f + %.1f s"
              % (I, r_ref, r_chk, len(s_ref), secs, secs2), flush=True)
    data = fi_common.header(__file__, sys.argv, {
        "model": "HH, dsl/stdlib/hh.ncl (default parameters)",
        "parameters": P,
        "units": {"I": "uA/cm**2", "rate": "Hz", "t": "ms"},
        "protocol": ("state at rest for v0 = -65 mV (gates at steady state) at t = 0, "
                     "constant I from t = 0 to %g ms" % T_END_MS),
        "spike_definition": "upward crossing of V_spike; re-armed when v falls below V_rearm",
        "integrator": "scipy.integrate.solve_ivp LSODA, rtol = atol = 1e-12, analytic Jacobian; "
                      "cross-check DOP853, rtol = atol = 1e-12",
        "results": results,
    })
    fi_common.write_json(out, data)
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
