#!/usr/bin/python3
"""Self-test of spike_statistics.py against mathematics (numpy only, no NCL needed).

- Poisson trains of known rate: the rate estimate within 5 standard errors, the mean CV
  of the ISIs near 1 (its small-sample bias accounted for by a tolerance), no silent
  neuron at a high rate, and the silent fraction of a low rate near exp(-r*T).
- Regular trains: rate exact, CV exactly 0.
- A known silent fraction; the window boundaries; --group slices; run.json sizes; the
  comparison rule (a shifted run fails, the reference's own seeds pass) and the CLI's
  exit status.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import spike_statistics as ss  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def poisson(rng, n, rate, t_end):
    ts, iis = [], []
    for k in range(n):
        m = rng.poisson(rate * t_end)
        ts.append(np.sort(rng.uniform(0, t_end, m)))
        iis.append(np.full(m, k, dtype=np.int64))
    t, i = np.concatenate(ts), np.concatenate(iis)
    o = np.lexsort((i, t))
    return t[o], i[o]


def write_dir(d, pops):
    os.makedirs(d, exist_ok=True)
    meta = {"status": "complete", "populations": {}}
    for name, (t, i, n) in pops.items():
        np.save(os.path.join(d, name + "_spike_t.npy"), np.asarray(t, dtype=np.float64))
        np.save(os.path.join(d, name + "_spike_i.npy"), np.asarray(i, dtype=np.int64))
        meta["populations"][name] = {"size": n}
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(meta, f)


def main():
    rng = np.random.default_rng(12345)
    T0, T1 = ss.T0_S, ss.T1_S
    W = T1 - T0

    # Poisson, 20 Hz, 2000 neurons: 80 spikes per neuron in the window.
    n, r = 2000, 20.0
    t, i = poisson(rng, n, r, 6.0)
    s = ss.population_stats(t, i, n)
    se = math.sqrt(r / (n * W))
    check(abs(s["rate_hz"] - r) < 5 * se, "Poisson rate %.3f Hz ~ %g (se %.3f)" % (
        s["rate_hz"], r, se))
    # CV of k ~ 79 exponential ISIs: E[CV] ~ 1 - O(1/k); spread of the mean over
    # neurons ~ 0.08/sqrt(n).
    check(abs(s["cv_isi"] - 1.0) < 0.03, "Poisson CV %.4f ~ 1" % s["cv_isi"])
    check(s["silent_fraction"] == 0.0, "Poisson 20 Hz: no silent neuron")

    # Poisson at a low rate: silent fraction exp(-r W), CV over neurons with >= 3 spikes.
    n, r = 20000, 0.4
    t, i = poisson(rng, n, r, 6.0)
    s = ss.population_stats(t, i, n)
    p0 = math.exp(-r * W)
    check(abs(s["silent_fraction"] - p0) < 5 * math.sqrt(p0 * (1 - p0) / n),
          "Poisson 0.4 Hz silent fraction %.4f ~ exp(-rT) = %.4f" % (s["silent_fraction"], p0))
    p3 = 1 - sum(math.exp(-r * W) * (r * W) ** k / math.factorial(k) for k in range(3))
    check(abs(s["n_cv_neurons"] / n - p3) < 5 * math.sqrt(p3 * (1 - p3) / n),
          "neurons with >= 3 spikes %.4f ~ %.4f" % (s["n_cv_neurons"] / n, p3))

    # Regular trains, period 1/r with random phases; CV exactly 0, rate exact when the
    # window holds a whole number of periods.
    n, r = 1000, 25.0
    phase = rng.uniform(0, 1 / r, n)
    k = np.arange(int(7 * r))
    t = (phase[:, None] + k[None, :] / r).ravel()
    i = np.repeat(np.arange(n), len(k))
    s = ss.population_stats(t, i, n)
    check(abs(s["rate_hz"] - r) < 1e-9, "regular rate %.6f == %g" % (s["rate_hz"], r))
    check(abs(s["cv_isi"]) < 1e-9, "regular CV %.2e == 0" % s["cv_isi"])

    # Known silent fraction: 30 % of neurons without spikes; two of the others have
    # spikes only outside the window (before t0, at t1 exactly) and so are silent too.
    n = 100
    active = np.arange(30, 100)
    t = np.concatenate([np.full(len(active), 2.0), np.full(len(active), 3.0),
                        [0.5, 5.0]])
    i = np.concatenate([active, active, [0, 1]])
    s = ss.population_stats(t, i, n)
    check(s["silent_fraction"] == 0.30, "silent fraction %.3f == 0.30 (window [t0, t1))"
          % s["silent_fraction"])
    check(math.isnan(s["cv_isi"]) and s["n_cv_neurons"] == 0,
          "CV undefined with < 3 spikes per neuron")
    check(abs(s["rate_hz"] - 140 / (n * W)) < 1e-12, "rate counts window spikes only")

    # A neuron with ISIs 0.1, 0.3: CV = std/mean = 0.1/0.2 = 0.5.
    s = ss.population_stats([1.1, 1.2, 1.5], [0, 0, 0], 1)
    check(abs(s["cv_isi"] - 0.5) < 1e-12, "CV of ISIs (0.1, 0.3) = %.6f == 0.5" % s["cv_isi"])

    with tempfile.TemporaryDirectory() as tmp:
        # --group slices of one population P against separate files E, I.
        tE, iE = poisson(rng, 320, 5.0, 6.0)
        tI, iI = poisson(rng, 80, 12.0, 6.0)
        t = np.concatenate([tE, tI])
        i = np.concatenate([iE, iI + 320])
        o = np.lexsort((i, t))
        write_dir(os.path.join(tmp, "one"), {"P": (t[o], i[o], 400)})
        write_dir(os.path.join(tmp, "two"), {"E": (tE, iE, 320), "I": (tI, iI, 80)})
        g = [ss.parse_group("E=P:0:320"), ss.parse_group("I=P:320:400")]
        a = ss.directory_stats(os.path.join(tmp, "one"), g)
        b = ss.directory_stats(os.path.join(tmp, "two"))
        check(a == b, "--group slices give the statistics of separate populations")

        # Comparison: a reference from 8 Poisson "seeds" at 5 Hz / 12 Hz.
        ref_runs = []
        for seed in range(8):
            r_ = np.random.default_rng(100 + seed)
            tE, iE = poisson(r_, 320, 5.0, 6.0)
            tI, iI = poisson(r_, 80, 12.0, 6.0)
            d = os.path.join(tmp, "ref%d" % seed)
            write_dir(d, {"E": (tE, iE, 320), "I": (tI, iI, 80)})
            ref_runs.append(ss.directory_stats(d))
        pops = {}
        for pop in ("E", "I"):
            pops[pop] = {"size": ref_runs[0][pop]["n_neurons"]}
            for st in ss.STATISTICS:
                vals = [x[pop][st] for x in ref_runs]
                mu, sd, _ = ss.summarize(vals)
                pops[pop][st] = {"mean": mu, "std": sd, "per_seed": vals}
        ref = {"brian2_version": "synthetic", "window_s": [T0, T1],
               "models": {"m": {"seeds": list(range(8)), "populations": pops}}}
        ref_path = os.path.join(tmp, "ref.json")
        with open(ref_path, "w") as f:
            json.dump(ref, f)
        good, bad = [], []
        for seed in range(3):
            r_ = np.random.default_rng(200 + seed)
            tE, iE = poisson(r_, 320, 5.0, 6.0)
            tI, iI = poisson(r_, 80, 12.0, 6.0)
            d = os.path.join(tmp, "ncl%d" % seed)
            t = np.concatenate([tE, tI])
            i = np.concatenate([iE, iI + 320])
            o = np.lexsort((i, t))
            write_dir(d, {"P": (t[o], i[o], 400)})
            good.append(d)
            tE, iE = poisson(r_, 320, 5.6, 6.0)  # +12 % E rate
            d = os.path.join(tmp, "bad%d" % seed)
            write_dir(d, {"E": (tE, iE, 320), "I": (tI, iI, 80)})
            bad.append(d)
        grp = ["--group", "E=P:0:320", "--group", "I=P:320:400"]
        cli = [sys.executable, os.path.join(HERE, "spike_statistics.py"), "compare",
               "--reference", ref_path, "--model", "m"]
        p = subprocess.run(cli + good + grp, stdout=subprocess.PIPE, text=True)
        print(p.stdout)
        check(p.returncode == 0, "same process, other seeds, given as --group: pass")
        p = subprocess.run(cli + bad, stdout=subprocess.PIPE, text=True)
        print(p.stdout)
        check(p.returncode == 1 and "FAIL" in p.stdout, "E rate 12 % higher: fail")
        p = subprocess.run(cli + [os.path.join(tmp, "one")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(p.returncode == 2, "a run without the reference's populations: error (2)")

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
