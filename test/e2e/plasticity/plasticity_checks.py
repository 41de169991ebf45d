"""End-to-end checks of the standard library's plasticity rules (dsl/stdlib:
stdp.ncl, triplet_stdp.ncl, semi_stdp.ncl, reward_stdp.ncl,
tsodyks_markram.ncl, rate_hebb.ncl, three_factor.ncl) against closed forms.

usage: plasticity_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK

Spikes come from spike generators, so their times are exact multiples of dt.
A presynaptic generator spike at step p runs on_pre at the start of step p
(t = p dt); a postsynaptic spike is made by a `Relay` neuron that a generator
kicks: a kick at step q - 1 makes it spike in that step, stamped q dt, and
on_post runs at the start of step q (t = q dt). In one step on_pre runs
before on_post (docs/semantics.md, "on_post"). The references below compute
every trace as its closed form, a sum of exponentials of the exact time
differences (or one exponential for the nearest-neighbour traces), never by
stepping, so they hold whether NCL integrates the traces every step or only
at events.

CHECK is one of
  window    the weight change of one pre/post pair against the lag d =
            t_post - t_pre (-100 ms to +100 ms, every 1 ms), for STDP,
            STDPNearest, STDPMultiplicative(+Nearest), TripletSTDP,
            SemiSTDP and STDP with sign = -1 (Dale's law, inhibitory), and
            the eligibility trace of RewardSTDP: Ap e^(-d/taupre) (d >= 0),
            -Am e^(d/taupost) (d < 0), with each rule's weight factor;
  pairings  60 pairings at 1 Hz and 20 Hz, d = +10 ms and -10 ms, for the
            four pair rules: the additive ones against the closed-form
            geometric sums (all-to-all and nearest-neighbour agree at 1 Hz
            and differ at 20 Hz), the multiplicative ones against the
            replay of the recursion with closed-form traces; and the clip:
            weights that reach 0, wmax, and (sign = -1) -wmax stop there;
  triplet   the pairing protocol's frequency dependence (60 pairings at
            0.1 to 50 Hz, d = +-10 ms) of TripletSTDP (visual-cortex set)
            against the closed-form traces, and the signs the paper's
            Fig. 4 shows: pre-post potentiates more at higher frequency,
            post-pre depresses at 0.1 Hz and potentiates at 50 Hz;
  tsodyks   the releases w u_n x_n of regular trains (depressing and
            facilitating sets, 5, 20 and 50 Hz) against the recursion of
            Markram, Wang & Tsodyks (1998);
  reward    RewardSTDP: one pairing, then one reward 1 s later that sets
            the postsynaptic dopamine d, which decays: the eligibility c
            against its closed form (1e-12), and the weight change against
            c D tau_c tau_d / (tau_c + tau_d) (1 - e^(-T/tau)) within the
            O(dt) error of holding d over a step, halving with dt; and
            dopamine from a timed array (2 Hz for 0.3 s) against the
            integral of c d;
  rate      Hebb and Oja with clamped rates against w0 + eta x y t and
            x / y + (w0 - x / y) e^(-eta y^2 t); ErrorModulatedHebb with a
            constant error against w0 + eta e x t, and as the readout of a
            linear neuron whose error falls to zero; Oja on a linear neuron
            with two correlated inputs from a file: w ends on the unit
            principal eigenvector of their covariance;
  The three example checks first compare the weights after a few seconds
  on 1, 2 and 3 threads (the same bits).
  song-example MODEL
            examples/stdp_song.ncl run for 60 s: the weights, uniform at
            first, become bimodal: the lowest and the highest tenth of
            [0, gmax] each hold more than twice the mean of the middle six
            tenths (uniform: all equal);
  distal-reward-example MODEL
            examples/distal_reward.ncl run for 300 s: the rewarded synapse
            (Input[0] -> Out, synapse 0) ends above 0.9 wmax and above three
            quarters of the others, whose mean falls below 0.4 wmax;
  polychronization-example MODEL
            examples/polychronization.ncl run for 60 s: weights within
            [0, 10 mV], spread (sd > 0.5 mV) from 6 mV, mean below 6 mV,
            excitatory rate within 1-10 Hz.
"""
import math
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "networks"))
from nclrt import Runtime  # noqa: E402


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def compile_model(nclc, source, out, *extra):
    subprocess.run([nclc, str(source), "-o", str(out), *extra], check=True)


# A postsynaptic neuron that spikes exactly when a generator kicks it, with
# the variables the library's synapses read or deliver to: ge (deliveries),
# d (dopamine, in 1/time), decaying with tau_d.
RELAY = """
neuron Relay {
  parameters { tau_e = 5 ms; tau_d = 200 ms }
  state { kick = 0; ge = 0; d : Hz = 0 Hz }
  dynamics {
    ge' = -ge / tau_e
    d' = -d / tau_d
  }
  spike when kick > 0.5
  reset { kick = 0 }
}
synapse Kick {
  on_pre { kick += 1 }
}
"""

PAIR_NETWORK = """
import "{library}"
""" + RELAY.replace("{", "{{").replace("}", "}}") + """
network Pairs {{
  population Pre = spike_generator[{n}]("pre_t.npy", "pre_i.npy")
  population Kicks = spike_generator[{n}]("kick_t.npy", "kick_i.npy")
  population Post = Relay[{n}]
  projection K = Kick(Kicks -> Post) {{ connect one_to_one() }}
  projection S = {model}(Pre -> Post) {{
    connect one_to_one()
    {values}
  }}
  simulate 1 s, dt = {dt_ms} ms
}}
"""


def write_trains(work, stem, trains, dt):
    """Spike generator files for trains of steps (one list per neuron)."""
    steps = np.concatenate([np.asarray(t, dtype=np.int64) for t in trains])
    index = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
    order = np.lexsort((index, steps))
    np.save(work / f"{stem}_t.npy", steps[order] * dt)
    np.save(work / f"{stem}_i.npy", index[order])


def run_pairs(nclc, rt, work, name, library, model, values, pre, post, dt, extra_steps=2,
              variables=("w",)):
    """Runs `model` on one_to_one synapses, synapse k fed by the presynaptic
    spike steps pre[k] and postsynaptic spike steps post[k] (each > 0); returns
    the synapses' final `variables` and the number of steps run."""
    n = len(pre)
    write_trains(work, "pre", pre, dt)
    write_trains(work, "kick", [np.asarray(q) - 1 for q in post], dt)
    source = work / f"{name}.ncl"
    source.write_text(PAIR_NETWORK.format(library=library, model=model, n=n, dt_ms=dt * 1e3,
                                          values="\n    ".join(values)))
    lib = work / f"{name}.so"
    compile_model(nclc, source, lib)
    last = max(max(np.max(p, initial=0), np.max(q, initial=0)) for p, q in zip(pre, post))
    steps = int(last) + extra_steps
    m = rt.open(str(lib), seed=1)
    rt.run_steps(m, steps)
    out = {v: rt.synapse_state(m, "S", v) for v in variables}
    rt.close(m)
    return out, steps


# ---------------------------------------------------------------------------
# Closed-form traces and the replay of the pair rules

def trace(t, spikes, tau, nearest):
    """A trace at time t from the spike times `spikes` (all <= t): the sum of
    e^(-(t - s)/tau) (all-to-all) or the last one alone (nearest)."""
    spikes = np.asarray(spikes, dtype=np.float64)
    if len(spikes) == 0:
        return 0.0
    if nearest:
        return math.exp(-(t - spikes.max()) / tau)
    return float(np.sum(np.exp(-(t - spikes) / tau)))


def events(pre, post):
    """(step, kind) in execution order: a step's on_pre (0) before its on_post (1)."""
    return sorted([(int(p), 0) for p in pre] + [(int(q), 1) for q in post])


def replay_pair(pre, post, dt, p):
    """Final w of one pair-STDP synapse (stdp.ncl) with closed-form traces."""
    w = p["w0"]
    seen_pre, seen_post = [], []
    lo, hi = min(0.0, p["sign"] * p["wmax"]), max(0.0, p["sign"] * p["wmax"])
    for step, kind in events(pre, post):
        t = step * dt
        if kind == 0:
            apost = trace(t, seen_post, p["taupost"], p["nearest"])
            seen_pre.append(t)
            w = min(max(w - p["sign"] * p["depress"](w) * apost, lo), hi)
        else:
            seen_post.append(t)
            apre = trace(t, seen_pre, p["taupre"], p["nearest"])
            w = min(max(w + p["sign"] * p["potentiate"](w) * apre, lo), hi)
    return w


def pair_rule(model, **over):
    """Parameters of a stdp.ncl model as the replay needs them."""
    p = dict(taupre=0.020, taupost=0.020, wmax=1.0, sign=1.0, w0=0.5,
             nearest=model.endswith("Nearest"))
    p.update(over)
    if model.startswith("STDPMultiplicative"):
        lam, alpha, mu, wmax = (p.get("lambda", 0.005), p.get("alpha", 1.05), p.get("mu", 0.4),
                                p["wmax"])
        p["potentiate"] = lambda w: lam * wmax * (1 - w / wmax) ** mu
        p["depress"] = lambda w: lam * alpha * wmax * (w / wmax) ** mu
    else:
        ap, am, wmax = p.get("Ap", 0.005), p.get("Am", 0.00525), p["wmax"]
        p["potentiate"] = lambda w: ap * wmax
        p["depress"] = lambda w: am * wmax
    return p


def replay_triplet(pre, post, dt, p):
    """Final w of a TripletSTDP synapse with closed-form (all-to-all) traces."""
    w = p["w0"]
    seen_pre, seen_post = [], []
    for step, kind in events(pre, post):
        t = step * dt
        if kind == 0:
            o1 = trace(t, seen_post, p["tau_minus"], False)
            r2 = trace(t, seen_pre, p["tau_x"], False)  # before this spike's increment
            w = min(max(w - o1 * (p["A2m"] + p["A3m"] * r2), 0.0), p["wmax"])
            seen_pre.append(t)
        else:
            r1 = trace(t, seen_pre, p["tau_plus"], False)
            o2 = trace(t, seen_post, p["tau_y"], False)  # before this spike's increment
            w = min(max(w + r1 * (p["A2p"] + p["A3p"] * o2), 0.0), p["wmax"])
            seen_post.append(t)
    return w


TRIPLET = dict(tau_plus=0.0168, tau_minus=0.0337, tau_x=0.101, tau_y=0.125, A2p=5e-10,
               A3p=6.2e-3, A2m=7e-3, A3m=2.3e-4, wmax=100.0, w0=1.0)


def check_close(what, got, want, rel, abs_floor=0.0):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    err = np.abs(got - want)
    bound = rel * np.abs(want) + abs_floor
    if not np.all(err <= bound):
        k = int(np.argmax(err - bound))
        fail(f"{what}: entry {k}: got {got.flat[k]!r}, closed form {want.flat[k]!r} "
             f"(error {err.flat[k]:.3g}, allowed {bound.flat[k]:.3g})")
    return float(np.max(err / np.maximum(np.abs(want), 1e-300)))


# ---------------------------------------------------------------------------

def check_window(nclc, rt, work):
    dt = 1e-4
    lags = np.arange(-1000, 1001, 10)  # steps: -100 ms to +100 ms every 1 ms
    base = 2000
    pre = [[base] for _ in lags]
    post = [[base + d] for d in lags]
    d = lags * dt
    pos = d >= 0
    rules = [
        ("STDP", "stdp.ncl", [], dict(), lambda: np.where(
            pos, 0.005 * np.exp(-d / 0.02), -0.00525 * np.exp(d / 0.02))),
        ("STDPNearest", "stdp.ncl", ["taupost = 30 ms"], dict(), lambda: np.where(
            pos, 0.005 * np.exp(-d / 0.02), -0.00525 * np.exp(d / 0.03))),
        ("STDP", "stdp.ncl", ["sign = -1", "Ap = 0.01"], dict(sign=-1), lambda: -np.where(
            pos, 0.01 * np.exp(-d / 0.02), -0.00525 * np.exp(d / 0.02))),
        ("STDPMultiplicative", "stdp.ncl", ["w = 0.3"], dict(), lambda: np.where(
            pos, 0.005 * 0.7 ** 0.4 * np.exp(-d / 0.02),
            -0.005 * 1.05 * 0.3 ** 0.4 * np.exp(d / 0.02))),
        ("STDPMultiplicativeNearest", "stdp.ncl", ["mu = 1", "wmax = 2"], dict(),
         lambda: np.where(pos, 0.005 * 2 * 0.5 * np.exp(-d / 0.02),
                          -0.005 * 1.05 * 2 * 0.5 * np.exp(d / 0.02))),
        ("TripletSTDP", "triplet_stdp.ncl", ["A2p = 0.004"], dict(), lambda: np.where(
            pos, 0.004 * np.exp(-d / 0.0168), -7e-3 * np.exp(d / 0.0337))),
        ("SemiSTDP", "semi_stdp.ncl", [], dict(), lambda: np.where(
            pos, 0.01 * np.exp(-d / 0.02), 0.0)),
    ]
    w0 = {"STDPMultiplicative": 0.3, "STDPMultiplicativeNearest": 1.0, "TripletSTDP": 1.0}
    for k, (model, library, values, _, expect) in enumerate(rules):
        got, _ = run_pairs(nclc, rt, work, f"window_{k}", library, model, values, pre, post, dt)
        start = w0.get(model, -0.5 if "sign = -1" in values else 0.5)
        dw = got["w"] - start
        # Exactness to rounding: the traces are exponentials of exact times.
        err = check_close(f"window, {model} {values}", dw, expect(), 1e-11, 1e-16)
        print(f"window {model} {' '.join(values)}: {len(lags)} lags, dw within {err:.1e} "
              f"relative of the exponential window")
    # RewardSTDP: the weight stays (no dopamine), the eligibility is the window,
    # decayed with tau_c from the second spike to the end of the run.
    got, steps = run_pairs(nclc, rt, work, "window_reward", "reward_stdp.ncl", "RewardSTDP", [],
                           pre, post, dt, variables=("w", "c"))
    second = np.maximum(base, base + lags)
    c = np.where(pos, 1.0 * np.exp(-d / 0.02), -1.5 * np.exp(d / 0.02)) * \
        np.exp(-(steps - second) * dt / 1.0)
    if not np.all(got["w"] == 1.0):
        fail(f"RewardSTDP: w changed without dopamine: {got['w']}")
    err = check_close("window, RewardSTDP eligibility", got["c"], c, 1e-11)
    print(f"window RewardSTDP: eligibility c within {err:.1e} relative of the window times "
          f"e^(-(T - t2)/tau_c); w unchanged without dopamine")


def pairing_trains(freq, lag_ms, count, dt):
    period = int(round(1 / freq / dt))
    first = int(round(0.2 / dt))
    lag = int(round(lag_ms * 1e-3 / dt))
    pre = [first + k * period for k in range(count)]
    return pre, [p + lag for p in pre]


def additive_closed_form(freq, lag, count, nearest, ap=0.005, am=0.00525, tau=0.02):
    """Total dw of `count` pairings at lag `lag` (s) and period 1/freq, additive."""
    period = 1.0 / freq
    total = 0.0
    for k in range(count):
        if lag >= 0:  # post k follows pre k by lag; pre k follows post k-1 by T - lag
            ms = [0] if nearest else range(k + 1)
            total += ap * sum(math.exp(-(lag + m * period) / tau) for m in ms)
            if k >= 1:
                ms = [1] if nearest else range(1, k + 1)
                total -= am * sum(math.exp(-(m * period - lag) / tau) for m in ms)
        else:  # pre k follows post k by |lag|; post k follows pre k-1 by T - |lag|
            ms = [0] if nearest else range(k + 1)
            total -= am * sum(math.exp(-(-lag + m * period) / tau) for m in ms)
            if k >= 1:
                ms = [1] if nearest else range(1, k + 1)
                total += ap * sum(math.exp(-(m * period + lag) / tau) for m in ms)
    return total


def check_pairings(nclc, rt, work):
    dt = 1e-4
    protocols = [(f, lag) for f in (1.0, 20.0) for lag in (10, -10)]
    trains = [pairing_trains(f, lag, 60, dt) for f, lag in protocols]
    pre, post = [t[0] for t in trains], [t[1] for t in trains]
    totals = {}
    for model in ("STDP", "STDPNearest", "STDPMultiplicative", "STDPMultiplicativeNearest"):
        got, _ = run_pairs(nclc, rt, work, f"pairings_{model}", "stdp.ncl", model, [], pre,
                           post, dt)
        p = pair_rule(model)
        replay = np.array([replay_pair(a, b, dt, p) for a, b in zip(pre, post)])
        err = check_close(f"pairings, {model} (replay)", got["w"] - 0.5, replay - 0.5, 1e-10)
        totals[model] = got["w"] - 0.5
        line = f"pairings {model}: dw within {err:.1e} relative of the closed-form recursion"
        if not model.startswith("STDPMultiplicative"):
            closed = np.array([additive_closed_form(f, lag * 1e-3, 60, model == "STDPNearest")
                               for f, lag in protocols])
            err = check_close(f"pairings, {model} (geometric sums)", got["w"] - 0.5, closed,
                              1e-10)
            line += f" and {err:.1e} of the geometric sums"
        print(line + ": " + ", ".join(f"{f:g} Hz {lag:+d} ms: {dw:+.5f}" for (f, lag), dw in
                                      zip(protocols, got["w"] - 0.5)))
    for a, b in (("STDP", "STDPNearest"), ("STDPMultiplicative", "STDPMultiplicativeNearest")):
        same = np.abs(totals[a][:2] - totals[b][:2])
        apart = np.abs(totals[a][2:] - totals[b][2:])
        if not (np.all(same < 1e-13) and np.all(apart > 1e-3)):
            fail(f"{a} and {b} should agree at 1 Hz (differ by {same}) and differ at 20 Hz "
                 f"(differ by {apart})")
    print("pairings: all-to-all and nearest agree at 1 Hz and differ by > 1e-3 at 20 Hz")
    # The clip: 60 strong pairings drive w to a bound and no further.
    pre, post = pairing_trains(20.0, 10, 60, dt)
    # (model, values, potentiating protocol?, the bound w must end on)
    cases = [("STDP", ["Ap = 0.1"], True, 1.0), ("STDP", ["Am = 0.1"], False, 0.0),
             ("STDP", ["sign = -1", "Ap = 0.1"], True, -1.0),
             ("STDP", ["sign = -1", "Am = 0.1"], False, 0.0),
             ("STDPNearest", ["Ap = 0.1", "wmax = 0.7"], True, 0.7),
             ("STDPMultiplicativeNearest", ["lambda = 0.2", "alpha = 20"], False, 0.0)]
    for k, (model, values, potentiating, bound) in enumerate(cases):
        a, b = (pre, post) if potentiating else (post, pre)
        got, _ = run_pairs(nclc, rt, work, f"clip_{k}", "stdp.ncl", model, values, [a], [b], dt)
        if got["w"][0] != bound:
            fail(f"clip: {model} {values}: w = {got['w'][0]!r}, expected exactly the bound {bound}")
    print("pairings: weights driven to 0, wmax and (sign = -1) -wmax stop exactly there")


def check_triplet(nclc, rt, work):
    dt = 1e-4
    freqs = (0.1, 1.0, 10.0, 20.0, 40.0, 50.0)
    protocols = [(f, lag) for f in freqs for lag in (10, -10)]
    trains = [pairing_trains(f, lag, 60, dt) for f, lag in protocols]
    pre, post = [t[0] for t in trains], [t[1] for t in trains]
    # Weights far from the bounds: the paper's weight changes relative to w = 1.
    got, _ = run_pairs(nclc, rt, work, "triplet", "triplet_stdp.ncl", "TripletSTDP",
                       ["wmax = 100"], pre, post, dt)
    dw = got["w"] - 1
    replay = np.array([replay_triplet(a, b, dt, TRIPLET) for a, b in zip(pre, post)]) - 1
    err = check_close("triplet, pairing protocol", dw, replay, 1e-10)
    table = {(f, lag): x for (f, lag), x in zip(protocols, dw)}
    print("triplet: 60 pairings, dw (within %.1e relative of the closed-form traces):"
          % err)
    for f in freqs:
        print(f"  {f:5g} Hz: +10 ms {table[(f, 10)]:+.5f}   -10 ms {table[(f, -10)]:+.5f}")
    plus = [table[(f, 10)] for f in freqs]
    if not (abs(plus[0]) < 0.01 and all(b > a for a, b in zip(plus[1:], plus[2:]))
            and plus[-1] > 0.1):
        fail(f"triplet: pre-post pairings should barely change w at 0.1 Hz and potentiate "
             f"more at higher frequencies: {plus}")
    if not (table[(0.1, -10)] < -0.1 and table[(50.0, -10)] > 0.05):
        fail(f"triplet: post-pre pairings should depress at 0.1 Hz and potentiate at 50 Hz: "
             f"{table[(0.1, -10)]}, {table[(50.0, -10)]}")
    print("triplet: +10 ms grows with frequency from ~0; -10 ms depresses at 0.1 Hz and "
          "potentiates at 50 Hz (Pfister & Gerstner 2006, Fig. 4)")


TSODYKS_NETWORK = """
import "tsodyks_markram.ncl"
neuron Sink {
  state { ge = 0 }
  update { ge = ge }
}
network Trains {
  population Pre = spike_generator[6]("pre_t.npy", "pre_i.npy")
  population Post = Sink[6]
  projection Dep = TsodyksMarkram(Pre[0:3] -> Post[0:3]) { connect one_to_one(); w = 2 }
  projection Fac = TsodyksMarkram(Pre[3:6] -> Post[3:6]) {
    connect one_to_one()
    U = 0.05
    tau_rec = 125 ms
    tau_facil = 1.2 s
  }
  record ge(Post)
  simulate 1 s, dt = 0.1 ms
}
"""


def tsodyks_recursion(U, tau_rec, tau_facil, period, count):
    u, x, out = U, 1.0, []
    for _ in range(count):
        out.append(u * x)
        u, x = (U + u * (1 - U) * math.exp(-period / tau_facil),
                1 + (x - u * x - 1) * math.exp(-period / tau_rec))
    return np.array(out)


def check_tsodyks(nclc, ncl_run, work):
    dt = 1e-4
    freqs = (5.0, 20.0, 50.0)
    count = 10
    first = 100
    trains = [[first + k * int(round(1 / f / dt)) for k in range(count)] for f in freqs] * 2
    write_trains(work, "pre", trains, dt)
    source = work / "tsodyks.ncl"
    source.write_text(TSODYKS_NETWORK)
    lib = work / "tsodyks.so"
    compile_model(nclc, source, lib)
    steps = max(t[-1] for t in trains) + 2
    out = work / "tsodyks_out"
    subprocess.run([ncl_run, str(lib), "--time", f"{steps * dt * 1e3:.1f}ms", "--out",
                    str(out)], check=True, stdout=subprocess.DEVNULL)
    ge = np.load(out / "Post_ge.npy")  # samples at the start of each step
    sets = [("depressing", 0.5, 1.1, 0.05, 2.0), ("facilitating", 0.05, 0.125, 1.2, 1.0)]
    for s, (name, U, tau_rec, tau_facil, w) in enumerate(sets):
        for k, f in enumerate(freqs):
            n = 3 * s + k
            spikes = np.array(trains[n])
            # A spike of step p arrives at the start of step p: sample p + 1
            # is the first that holds it.
            released = ge[spikes + 1, n] - ge[spikes, n]
            expect = w * tsodyks_recursion(U, tau_rec, tau_facil, 1 / f, count)
            err = check_close(f"tsodyks, {name} at {f:g} Hz", released, expect, 1e-11)
            print(f"tsodyks {name} {f:g} Hz: releases {released[0]:.4f} -> {released[-1]:.4f} "
                  f"within {err:.1e} relative of the recursion")
    dep = [tsodyks_recursion(0.5, 1.1, 0.05, 1 / f, count) for f in freqs]
    fac = [tsodyks_recursion(0.05, 0.125, 1.2, 1 / f, count) for f in freqs]
    if not (all(d[-1] < d[0] for d in dep) and all(a[-1] > a[0] for a in fac[1:])):
        fail("the depressing set should depress and the facilitating set facilitate")


REWARD_NETWORK = """
import "reward_stdp.ncl"
""" + RELAY + """
synapse Dopamine {
  parameters { dose : Hz = 0.5 / ms }
  on_pre { d += dose }
}
network Reward {
  population Pre = spike_generator[1]("pre_t.npy", "pre_i.npy")
  population Kicks = spike_generator[1]("kick_t.npy", "kick_i.npy")
  population Rewards = spike_generator[1]("reward_t.npy", "reward_i.npy")
  population Post = Relay[1]
  projection K = Kick(Kicks -> Post) { connect one_to_one() }
  projection DA = Dopamine(Rewards -> Post) { connect one_to_one(); dose = 0.01 / ms }
  projection S = RewardSTDP(Pre -> Post) { connect one_to_one() }
  simulate 1 s, dt = 0.1 ms
}
"""


TIMED_REWARD_NETWORK = """
import "reward_stdp.ncl"
neuron Relay {
  parameters { tau_e = 5 ms }
  input dopamine : Hz = 0 Hz
  state { kick = 0; ge = 0; d : Hz = 0 Hz }
  dynamics { ge' = -ge / tau_e }
  update { d = dopamine }
  spike when kick > 0.5
  reset { kick = 0 }
}
synapse Kick {
  on_pre { kick += 1 }
}
network TimedReward {
  population Pre = spike_generator[1]("pre_t.npy", "pre_i.npy")
  population Kicks = spike_generator[1]("kick_t.npy", "kick_i.npy")
  population Post = Relay[1] { dopamine = timed_array("dopamine.npy", dt = 100 ms, scale = 1 Hz) }
  projection K = Kick(Kicks -> Post) { connect one_to_one() }
  projection S = RewardSTDP(Pre -> Post) { connect one_to_one() }
  simulate 2 s, dt = 0.1 ms
}
"""


def check_timed_reward(nclc, rt, work):
    """Dopamine from a file: d = 2 Hz on [1.2 s, 1.5 s) after a pairing at
    0.1 s / 0.11 s; w grows by c_post (e^-(1.09) - e^-(1.39)) 2 Hz tau_c."""
    dt = 1e-4
    write_trains(work, "pre", [[1000]], dt)
    write_trains(work, "kick", [[1099]], dt)
    series = np.zeros(30)
    series[12:15] = 2.0
    np.save(work / "dopamine.npy", series)
    source = work / "timed_reward.ncl"
    source.write_text(TIMED_REWARD_NETWORK)
    lib = work / "timed_reward.so"
    compile_model(nclc, source, lib)
    m = rt.open(str(lib), seed=1)
    rt.run_steps(m, 20000)
    w = rt.synapse_state(m, "S", "w")[0]
    rt.close(m)
    c_post = math.exp(-0.01 / 0.02)
    dw = c_post * 2.0 * (math.exp(-(1.2 - 0.11)) - math.exp(-(1.5 - 0.11)))
    # d copies the input in the update, so the synapse sees it one step late.
    err = abs((w - 1) - dw) / dw
    if not err < 5e-4:
        fail(f"reward from a timed array: dw = {w - 1!r}, closed form {dw!r} (error {err:.2e})")
    print(f"reward from a timed array: dw = {w - 1:.6f}, closed form {dw:.6f}, relative error "
          f"{err:.1e} (one step of lag)")


def check_reward(nclc, rt, work):
    tau_c, tau_d, dose, ap, tau = 1.0, 0.2, 10.0, 1.0, 0.02
    t_pre, lag, delay, tail = 0.1, 0.01, 1.0, 3.0
    errors = []
    for dt in (1e-4, 5e-5):
        p, q = int(round(t_pre / dt)), int(round((t_pre + lag) / dt))
        r = q + int(round(delay / dt))
        end = r + int(round(tail / dt))
        write_trains(work, "pre", [[p]], dt)
        write_trains(work, "kick", [[q - 1]], dt)
        write_trains(work, "reward", [[r]], dt)
        source = work / "reward.ncl"
        source.write_text(REWARD_NETWORK)
        lib = work / "reward.so"
        compile_model(nclc, source, lib)
        m = rt.open(str(lib), seed=1, dt=dt)
        rt.run_steps(m, end)
        w, c = rt.synapse_state(m, "S", "w")[0], rt.synapse_state(m, "S", "c")[0]
        rt.close(m)
        c_post = ap * math.exp(-lag / tau)
        c_end = c_post * math.exp(-(end - q) * dt / tau_c)
        check_close(f"reward, dt = {dt}: eligibility at the end", c, c_end, 1e-11)
        # The reward's d = dose e^(-(t - t_r)/tau_d) meets c = c_r e^(-(t - t_r)/tau_c).
        c_r = c_post * math.exp(-delay / tau_c)
        tau_eff = tau_c * tau_d / (tau_c + tau_d)
        dw = c_r * dose * tau_eff * (1 - math.exp(-tail / tau_eff))
        errors.append(abs((w - 1.0) - dw) / dw)
        print(f"reward dt = {dt * 1e3:g} ms: c within 1e-11 of its closed form; dw = {w - 1:.6f}, "
              f"closed form {dw:.6f}, relative error {errors[-1]:.2e}")
    if not (errors[0] < 2e-3 and 1.6 < errors[0] / errors[1] < 2.4):
        fail(f"reward: the weight change should be within 2e-3 of the closed form and its "
             f"error O(dt) (halving with dt): {errors}")
    print("reward: the weight change converges to c D tau_c tau_d / (tau_c + tau_d) at first "
          "order in dt (d is held over each step)")
    check_timed_reward(nclc, rt, work)


RATE_NETWORK = """
import "rate_hebb.ncl"
import "three_factor.ncl"
neuron Clamped {
  parameters { x0 = 0.5; dx = 0; e0 = 0; de = 0 }
  input I = 0
  state { r = x0 + dx * i; err = e0 + de * i }
  update {
    r = r
    err = err
  }
}
neuron Linear {
  parameters { tau = 10 ms; target = 0.8 }
  input I = 0
  state { r = 0; err = target }
  dynamics { r' = (I - r) / tau }
  update { err = target - r }
}
network Rates {
  population In = Clamped[3] { x0 = 0.2; dx = 0.3 }
  population Out = Clamped[3] { x0 = 0.4; dx = 0.5; e0 = 0.3; de = -0.2 }
  population Readout = Linear[1]
  projection H = Hebb(In -> Out) { connect all_to_all(); w = 0.1; eta = 2 / s }
  projection O = Oja(In -> Out) { connect all_to_all(); w = 0.1 * i - 0.2 * j; eta = 3 / s }
  projection E = ErrorModulatedHebb(In -> Out) { connect all_to_all(); w = 0.2; eta = 0.5 / s }
  projection R = ErrorModulatedHebb(In -> Readout) { connect all_to_all(); eta = 20 / s }
  simulate 1 s, dt = 0.1 ms
}
"""


OJA_PCA_NETWORK = """
import "rate_hebb.ncl"
neuron Source {
  input x = 0
  state { r = 0 }
  update { r = x }
}
neuron LinearReadout {
  input I = 0
  state { r = 0 }
  update { r = I }
}
network OjaPCA {
  population In = Source[2] { x = timed_array("inputs.npy", dt = 10 ms) }
  population Out = LinearReadout[1]
  projection S = Oja(In -> Out) { connect all_to_all(); w = 0.5 - 0.6 * i; eta = 2 / s }
  simulate 1 s, dt = 0.1 ms
}
"""


def check_oja_pca(nclc, rt, work):
    """Oja's rule on a linear neuron (r_post = w . r_pre, one step late)
    fed two correlated zero-mean inputs from a file: w goes to the unit
    principal eigenvector of the inputs' covariance."""
    rng = np.random.default_rng(3)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    samples = np.ascontiguousarray((np.linalg.cholesky(cov) @ rng.standard_normal((2, 2000))).T)
    np.save(work / "inputs.npy", samples)
    source = work / "oja_pca.ncl"
    source.write_text(OJA_PCA_NETWORK)
    lib = work / "oja_pca.so"
    compile_model(nclc, source, lib)
    m = rt.open(str(lib), seed=1)
    rt.run(m, 20.0)
    w = rt.synapse_state(m, "S", "w")
    rt.close(m)
    values, vectors = np.linalg.eigh(samples.T @ samples / len(samples))
    principal = vectors[:, np.argmax(values)]
    cosine = abs(w.dot(principal)) / np.linalg.norm(w)
    if not (cosine > 0.99 and abs(np.linalg.norm(w) - 1) < 0.02):
        fail(f"Oja: w = {w} should be the unit principal eigenvector {principal} (cosine "
             f"{cosine:.4f}, norm {np.linalg.norm(w):.4f})")
    print(f"rate Oja PCA: w = {w.round(4).tolist()}, |cos| to the principal eigenvector "
          f"{cosine:.4f}, norm {np.linalg.norm(w):.4f}")


def check_rate(nclc, rt, work):
    source = work / "rates.ncl"
    source.write_text(RATE_NETWORK)
    lib = work / "rates.so"
    compile_model(nclc, source, lib)
    dt, steps = 1e-4, 20000
    m = rt.open(str(lib), seed=1)
    rt.run_steps(m, steps)
    t = steps * dt
    i, j = rt.synapses(m, "H")
    x, y, e = 0.2 + 0.3 * i, 0.4 + 0.5 * j, 0.3 - 0.2 * j
    hebb = rt.synapse_state(m, "H", "w")
    err = check_close("Hebb", hebb, 0.1 + 2 * x * y * t, 1e-11)
    print(f"rate Hebb: w within {err:.1e} relative of w0 + eta x y t")
    oja = rt.synapse_state(m, "O", "w")
    w0 = 0.1 * i - 0.2 * j
    err = check_close("Oja", oja, x / y + (w0 - x / y) * np.exp(-3 * y * y * t), 1e-11)
    print(f"rate Oja: w within {err:.1e} relative of x/y + (w0 - x/y) e^(-eta y^2 t)")
    three = rt.synapse_state(m, "E", "w")
    err = check_close("ErrorModulatedHebb", three, 0.2 + 0.5 * e * x * t, 1e-11)
    print(f"rate ErrorModulatedHebb: w within {err:.1e} relative of w0 + eta e x t")
    readout = rt.state(m, "Readout", "r", 1)[0]
    learned = rt.synapse_state(m, "R", "w")
    rt.close(m)
    if not abs(readout - 0.8) < 1e-3:
        fail(f"the readout should learn its target 0.8 within 1e-3, r = {readout}")
    # The LMS rule changes w along x only: w = (0.8 / |x|^2) x from w = 0.
    xin = 0.2 + 0.3 * np.arange(3)
    check_close("readout weights", learned, 0.8 / xin.dot(xin) * xin, 2e-3)
    print(f"rate readout: r = {readout:.6f} -> target 0.8, weights along the input "
          f"(the least-norm solution)")
    check_oja_pca(nclc, rt, work)


def check_weights_on_threads(rt, lib, projections, seconds):
    """The learned weights are the same bits on 1, 2 and 3 threads."""
    runs = []
    for threads in (1, 2, 3):
        m = rt.open(str(lib), seed=1, threads=threads)
        rt.run(m, seconds)
        runs.append([rt.synapse_state(m, p, "w").tobytes() for p in projections])
        rt.close(m)
    if not runs[1] == runs[0] == runs[2]:
        fail(f"{lib.name}: the weights after {seconds} s differ between 1, 2 and 3 threads")
    print(f"{lib.name}: weights after {seconds} s identical on 1, 2 and 3 threads")


def check_song_example(nclc, rt, work, model):
    lib = work / "stdp_song.so"
    compile_model(nclc, model, lib)
    check_weights_on_threads(rt, lib, ["S"], 2.0)
    m = rt.open(str(lib), seed=1, threads=1)
    w0 = rt.synapse_state(m, "S", "w") / 0.01
    rt.run(m, 60.0)
    w = rt.synapse_state(m, "S", "w") / 0.01
    rate = rt.spike_count(m, "Out") / 60.0
    rt.close(m)
    start, _ = np.histogram(w0, bins=10, range=(0, 1))
    final, _ = np.histogram(w, bins=10, range=(0, 1))
    print(f"song: initial tenths of [0, gmax]: {start.tolist()}")
    print(f"song: after 60 s:                 {final.tolist()} (output {rate:.1f} Hz)")
    if not (final.sum() == 1000 and np.all(w >= 0) and np.all(w <= 1)):
        fail("song: the weights left [0, gmax]")
    middle = final[2:8].mean()
    if not (final[0] > 2 * middle and final[9] > 2 * middle):
        fail(f"song: the distribution is not bimodal: ends {final[0]}, {final[9]}, the "
             f"middle tenths {final[2:8].tolist()} (mean {middle:.1f})")
    if not start.max() < 1.3 * start.mean():
        fail(f"song: the initial weights should be uniform: {start.tolist()}")
    print("song: the weights became bimodal (each end tenth > 2 x the mean of the middle six)")


def check_distal_reward_example(nclc, rt, work, model):
    lib = work / "distal_reward.so"
    compile_model(nclc, model, lib)
    check_weights_on_threads(rt, lib, ["S"], 5.0)
    # One thread: the network exchanges spikes every step (delays of 0).
    m = rt.open(str(lib), seed=1, threads=1)
    pre, _ = rt.synapses(m, "S")
    start = rt.synapse_state(m, "S", "w")
    rt.run(m, 300.0)
    wmax = 0.12
    w = np.minimum(rt.synapse_state(m, "S", "w"), wmax) / wmax  # as used: clipped
    rewards = rt.spike_count(m, "Judge")
    rt.close(m)
    if not (pre[0] == 0 and np.all(start == 0.06)):
        fail("distal reward: synapse 0 should be Input[0] -> Out, all weights 0.06 at first")
    others = w[1:]
    above = np.mean(others >= w[0])
    print(f"distal reward: {rewards} rewards in 300 s; rewarded w = {w[0]:.3f} wmax, others: "
          f"mean {others.mean():.3f}, {100 * above:.1f} % at or above it")
    if not (rewards >= 20 and w[0] > 0.9 and above < 0.25 and others.mean() < 0.4):
        fail("distal reward: the rewarded synapse should end above 0.9 wmax and above three "
             "quarters of the others, whose mean should fall below 0.4 wmax")


def check_polychronization_example(nclc, rt, work, model):
    lib = work / "polychronization.so"
    compile_model(nclc, model, lib)
    check_weights_on_threads(rt, lib, ["EE", "EI"], 3.0)
    m = rt.open(str(lib), seed=1, threads=1)
    rt.run(m, 60.0)
    w = np.concatenate([rt.synapse_state(m, "EE", "w"), rt.synapse_state(m, "EI", "w")])
    rate = rt.spike_count(m, "Exc") / 800 / 60.0
    rt.close(m)
    print(f"polychronization: {len(w)} plastic synapses after 60 s: w mean {w.mean():.3f} mV, "
          f"sd {w.std():.3f} mV, range [{w.min():.2f}, {w.max():.2f}] mV; excitatory rate "
          f"{rate:.2f} Hz")
    if not (len(w) == 800 * 100 and w.min() >= 0 and w.max() <= 10):
        fail("polychronization: 80000 weights within [0, 10 mV] expected")
    if not (w.std() > 0.5 and w.mean() < 6 and 1 < rate < 10):
        fail("polychronization: the weights should spread from 6 mV (sd > 0.5 mV) with their "
             "mean below 6 mV, at an excitatory rate of 1-10 Hz")


def main():
    nclc, ncl_run, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / "plasticity" / check
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    if check == "window":
        check_window(nclc, rt, work)
    elif check == "pairings":
        check_pairings(nclc, rt, work)
    elif check == "triplet":
        check_triplet(nclc, rt, work)
    elif check == "tsodyks":
        check_tsodyks(nclc, ncl_run, work)
    elif check == "reward":
        check_reward(nclc, rt, work)
    elif check == "rate":
        check_rate(nclc, rt, work)
    elif check == "song-example":
        check_song_example(nclc, rt, work, sys.argv[6])
    elif check == "polychronization-example":
        check_polychronization_example(nclc, rt, work, sys.argv[6])
    elif check == "distal-reward-example":
        check_distal_reward_example(nclc, rt, work, sys.argv[6])
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
