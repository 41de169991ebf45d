"""The Hodgkin-Huxley-type models of the f-I references and the tests that
probe them (test/e2e/integration/singular_rates.py), in numpy alone: the rate
functions, the parameters and the right-hand side with its Jacobian.

Kept apart from the reference generators in bench/reference/ (they
integrate with scipy, which only `make bench` installs), so that a test
reading these needs nothing beyond the default install (numpy). The
equations are those of dsl/stdlib/hh.ncl and dsl/stdlib/traub_miles.ncl,
written out again (mV, ms and the model's own current unit); see the
docstrings of bench/reference/hh_fi_reference.py and traub_fi_reference.py.
"""
import numpy as np


def x_over_expm1(x):
    """x / expm1(x), with its limit 1 at x = 0 (a removable singularity)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = x / np.expm1(x)
    return np.where(x == 0.0, 1.0, r)


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


# Hodgkin-Huxley, dsl/stdlib/hh.ncl (v in mV, t in ms, I in uA/cm**2).
HH_PARAMS = dict(C=1.0, gNa=120.0, gK=36.0, gL=0.3, ENa=50.0, EK=-77.0, EL=-54.387,
                 v0=-65.0, V_spike=-20.0, V_rearm=-40.0)


def hh_rates(v):
    am = x_over_expm1(-(v + 40.0) / 10.0)      # x/(1-exp(-x)) = (-x)/expm1(-x)
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    an = 0.1 * x_over_expm1(-(v + 55.0) / 10.0)
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


# Traub-Miles, dsl/stdlib/traub_miles.ncl (Brian2's COBAHH; I in nA, Cm in nF, g in uS).
TRAUB_PARAMS = dict(Cm=0.2, gl=0.01, g_na=20.0, g_kd=6.0, El=-60.0, EK=-90.0, ENa=50.0, VT=-63.0,
                    v0=-60.0, V_spike=-20.0, t_ref=3.0)


def traub_rates(v):
    VT = TRAUB_PARAMS["VT"]
    am = 1.28 * x_over_expm1((13.0 - v + VT) / 4.0)
    bm = 1.4 * x_over_expm1((v - VT - 40.0) / 5.0)
    ah = 0.128 * np.exp((17.0 - v + VT) / 18.0)
    bh = 4.0 / (1.0 + np.exp((40.0 - v + VT) / 5.0))
    an = 0.16 * x_over_expm1((15.0 - v + VT) / 5.0)
    bn = 0.5 * np.exp((10.0 - v + VT) / 40.0)
    return am, bm, ah, bh, an, bn
