#!/usr/bin/env python3
"""High-accuracy f-I points of the Traub-Miles cell of
dsl/stdlib/traub_miles.ncl (Brian2's COBAHH parameters), independent of NCL,
for test/e2e/integration/traub_fi.py.

The equations and parameters are those of traub_miles.ncl, written out
again here in numpy (v in mV, t in ms, I in nA, Cm in nF, conductances in uS,
so that nA/nF = mV/ms):
  Cm dv/dt = gl (El - v) - g_na m^3 h (v - ENa) - g_kd n^4 (v - EK) + I
  dx/dt    = alpha_x (1 - x) - beta_x x,  x = m, h, n
  alpha_m = 1.28 xm/expm1(xm), xm = (13 - v + VT)/4
  beta_m  = 1.4 ym/expm1(ym),  ym = (v - VT - 40)/5
  alpha_h = 0.128 exp((17 - v + VT)/18)
  beta_h  = 4/(1 + exp((40 - v + VT)/5))
  alpha_n = 0.16 xn/expm1(xn), xn = (15 - v + VT)/5
  beta_n  = 0.5 exp((10 - v + VT)/40)
(the removable singularities at xm, ym, xn = 0 are taken at their limit 1).
Initial state: v = v0 = -60 mV, gates at steady state for it; constant I from
t = 0.

Spikes as in traub_miles.ncl: an upward crossing of -20 mV, not within
t_ref = 3 ms of the previous spike (the file records how many crossings that
rule suppressed: none, for these currents). Steady rate: see
fi_common.steady_rate (mean ISI over 0.5-2 s).

Reference: LSODA at rtol = atol = 1e-12 with the analytic Jacobian;
cross-check: DOP853 at rtol = atol = 1e-12.

Usage: /usr/bin/python3 bench/reference/traub_fi_reference.py [OUT.json]
(default test/e2e/integration/traub_fi_reference.json).
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
from hh_type_models import TRAUB_PARAMS as P, traub_rates as rates  # noqa: E402

CURRENTS = [-0.1, 0.0, 0.2, 0.5, 1.0]  # nA
T_END_MS = 2000.0
def make_rhs(I):
    # Traub-Miles in the same form: C = Cm, gK = g_kd, gL = gl, EL = El.
    return fi_common.hh_type_model(rates, I, *(P[k] for k in ("Cm", "g_na", "ENa", "g_kd", "EK", "gl", "El")))


def initial_state():
    return fi_common.steady_gates(rates, P["v0"])


def run(I, method, tol, t_ref=P["t_ref"]):
    rhs, jac = make_rhs(I)
    t = time.time()
    spikes, nfev = fi_common.integrate(rhs, initial_state(), T_END_MS, P["V_spike"], None,
                                       method, tol, tol, jac=jac, t_ref_ms=t_ref)
    return spikes, nfev, time.time() - t


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "e2e", "integration",
        "traub_fi_reference.json")
    results = []
    for I in CURRENTS:
        s_ref, nfev, secs = run(I, "LSODA", 1e-12)
        s_chk, nfev2, secs2 = run(I, "DOP853", 1e-12)
        crossings = run(I, "LSODA", 1e-12, t_ref=0.0)[0]
        r_ref, r_chk = fi_common.steady_rate(s_ref), fi_common.steady_rate(s_chk)
        w = s_ref[(s_ref >= fi_common.T0_MS) & (s_ref <= fi_common.T1_MS)]
        isi = np.diff(w)
        results.append({
            "I_nA": I,
            "rate_hz": r_ref,
            "rate_hz_dop853": r_chk,
            "rate_rel_diff_methods": (abs(r_ref - r_chk) / r_ref) if r_ref else abs(r_ref - r_chk),
            "spikes_total": int(len(s_ref)),
            "spikes_total_dop853": int(len(s_chk)),
            "crossings_suppressed_by_t_ref": int(len(crossings) - len(s_ref)),
            "spikes_in_window": int(len(w)),
            "first_spikes_ms": [round(x, 9) for x in s_ref[:3].tolist()],
            "isi_window_min_max_ms": [float(isi.min()), float(isi.max())] if len(isi) else None,
            "nfev_lsoda": int(nfev), "nfev_dop853": int(nfev2),
            "seconds_lsoda": round(secs, 2), "seconds_dop853": round(secs2, 2),
        })
        print("I = %5.2f nA: %9.5f Hz (DOP853 %9.5f Hz), %d spikes, %.1f + %.1f s"
              % (I, r_ref, r_chk, len(s_ref), secs, secs2), flush=True)
    data = fi_common.header(__file__, sys.argv, {
        "model": "TraubMiles, dsl/stdlib/traub_miles.ncl (default parameters)",
        "parameters": P,
        "units": {"I": "nA", "rate": "Hz", "t": "ms", "Cm": "nF", "conductances": "uS"},
        "protocol": ("state at v0 = -60 mV with the gates at steady state at t = 0, "
                     "constant I from t = 0 to %g ms" % T_END_MS),
        "spike_definition": "upward crossing of V_spike, not within t_ref of the previous spike",
        "integrator": "scipy.integrate.solve_ivp LSODA, rtol = atol = 1e-12, analytic Jacobian; "
                      "cross-check DOP853, rtol = atol = 1e-12",
        "results": results,
    })
    fi_common.write_json(out, data)
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
