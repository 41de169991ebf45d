#!/usr/bin/python3
"""Spike statistics of network runs, and their comparison with Brian2's reference.

numpy and the standard library only. The ONE definition of the statistics: the
reference script (bench/reference/brian2_network_stats.py) imports this module.

Input: a directory written by NCL (`ncl-run --out DIR`, docs/runtime.md "Output files"):
`<Pop>_spike_t.npy` (float64 seconds), `<Pop>_spike_i.npy` (int64 index in the
population), and `run.json` whose `populations.<Pop>.size` gives the sizes (or give them
with --size Pop=N). A population may also be a slice of one file set:
`--group E=P:0:3200 --group I=P:3200:4000` (E is P's neurons 0..3199, re-indexed from 0).

Statistics of one population of n neurons over the window [t0, t1) (default 1 s to 5 s,
spike times t with t0 <= t < t1):
  rate_hz          mean rate = (spikes in the window) / (n * (t1 - t0)), silent neurons
                   included.
  cv_isi           mean over the neurons with at least 3 spikes in the window (2 or more
                   inter-spike intervals, all from spikes inside the window) of
                   CV = std(ISI) / mean(ISI), std the population standard deviation
                   (ddof = 0); NaN if no neuron qualifies.
  silent_fraction  fraction of the n neurons with no spike in the window.

Comparison (compare): for each population and statistic, with mu/sigma the mean and the
sample standard deviation (ddof = 1) over seeds of NCL's runs (n_ncl seeds) and of the
reference (n_ref seeds),
  pass  iff  |mu_ncl - mu_ref| <= Z * sqrt(sigma_ref^2/n_ref + sigma_ncl^2/n_ncl) + floor
with Z = 4 (a z-test on the difference of two means, both estimated); sigma_ncl is
replaced by sigma_ref when n_ncl < 2 (it cannot be estimated), and
floor = FLOOR_REL * |mu_ref| + FLOOR_ABS[statistic] (1 % of the reference plus 0.05 Hz,
0.005 of CV, 0.005 of silent fraction) so that a reference with a tiny spread does not
demand more than its own rounding.

CLI:
  spike_statistics.py stats DIR [--group ..] [--size ..] [--t0 1 --t1 5]
  spike_statistics.py compare --reference test/e2e/networks/brian2_reference.json
      --model cuba DIR [DIR ...] [--group E=P:0:3200 --group I=P:3200:4000]
  exit status 0 when every statistic passes, 1 when one fails, 2 on bad input.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

T0_S, T1_S = 1.0, 5.0
STATISTICS = ("rate_hz", "cv_isi", "silent_fraction")
Z = 4.0
FLOOR_REL = 0.01
FLOOR_ABS = {"rate_hz": 0.05, "cv_isi": 0.005, "silent_fraction": 0.005}


def population_stats(t, i, n, t0=T0_S, t1=T1_S):
    """Statistics of one population (see the module docstring) as a dict."""
    t = np.asarray(t, dtype=np.float64)
    i = np.asarray(i, dtype=np.int64)
    if t.shape != i.shape:
        raise ValueError("spike times and indices differ in length")
    if n <= 0:
        raise ValueError("population size must be positive")
    if len(i) and (i.min() < 0 or i.max() >= n):
        raise ValueError("spike index outside [0, %d)" % n)
    w = (t >= t0) & (t < t1)
    t, i = t[w], i[w]
    counts = np.bincount(i, minlength=n)
    order = np.lexsort((t, i))  # by neuron, then by time
    ts, is_ = t[order], i[order]
    same = is_[1:] == is_[:-1]
    isi = np.diff(ts)[same]
    isi_neuron = is_[1:][same]
    n_isi = np.bincount(isi_neuron, minlength=n)
    s1 = np.bincount(isi_neuron, weights=isi, minlength=n)
    s2 = np.bincount(isi_neuron, weights=isi * isi, minlength=n)
    ok = counts >= 3
    cv = float("nan")
    if ok.any():
        m = s1[ok] / n_isi[ok]
        var = np.maximum(s2[ok] / n_isi[ok] - m * m, 0.0)
        cv = float(np.mean(np.sqrt(var) / m))
    return {
        "rate_hz": float(len(t)) / (n * (t1 - t0)),
        "cv_isi": cv,
        "silent_fraction": float(np.count_nonzero(counts == 0)) / n,
        "n_neurons": int(n),
        "n_cv_neurons": int(np.count_nonzero(ok)),
        "spikes_in_window": int(len(t)),
    }


def parse_group(spec):
    """'E=P:0:3200' -> ('E', 'P', 0, 3200)."""
    try:
        name, rest = spec.split("=", 1)
        src, a, b = rest.split(":")
        a, b = int(a), int(b)
    except ValueError:
        raise ValueError("bad --group %r (want NAME=POP:START:STOP)" % spec)
    if not (0 <= a < b):
        raise ValueError("bad range in --group %r" % spec)
    return name, src, a, b


def read_sizes(d):
    p = os.path.join(d, "run.json")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        meta = json.load(f)
    if meta.get("status", "complete") != "complete":
        raise ValueError("%s: run.json says status %r" % (d, meta.get("status")))
    return {k: int(v["size"]) for k, v in meta.get("populations", {}).items() if "size" in v}


def load_spikes(d, pop):
    t = np.load(os.path.join(d, pop + "_spike_t.npy"))
    i = np.load(os.path.join(d, pop + "_spike_i.npy"))
    return t, i


def file_populations(d):
    return sorted(f[:-len("_spike_t.npy")] for f in os.listdir(d) if f.endswith("_spike_t.npy"))


def directory_populations(d, groups=(), sizes=None):
    """{name: (t, i, n)} for the populations of directory d: the --group slices if any
    are given, else every <Pop>_spike_t.npy with its size from `sizes` or run.json."""
    known = dict(read_sizes(d))
    known.update(sizes or {})
    out = {}
    if groups:
        cache = {}
        for name, src, a, b in groups:
            if src not in cache:
                cache[src] = load_spikes(d, src)
            t, i = cache[src]
            if src in known and b > known[src]:
                raise ValueError("--group %s: %s has only %d neurons" % (name, src, known[src]))
            sel = (i >= a) & (i < b)
            out[name] = (t[sel], i[sel] - a, b - a)
        return out
    for pop in file_populations(d):
        if pop not in known:
            raise ValueError("%s: size of population %s unknown (no run.json entry; "
                             "give --size %s=N)" % (d, pop, pop))
        t, i = load_spikes(d, pop)
        out[pop] = (t, i, known[pop])
    return out


def directory_stats(d, groups=(), sizes=None, t0=T0_S, t1=T1_S):
    return {name: population_stats(t, i, n, t0, t1)
            for name, (t, i, n) in directory_populations(d, groups, sizes).items()}


def summarize(values):
    """mean, sample standard deviation (ddof = 1; 0 for one value) of finite values."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
    return float(np.mean(v)), sd, int(len(v))


def tolerance(stat, mu_ref, sd_ref, n_ref, sd_ncl, n_ncl):
    if n_ncl < 2:
        sd_ncl = sd_ref
    return (Z * math.sqrt(sd_ref ** 2 / n_ref + sd_ncl ** 2 / n_ncl)
            + FLOOR_REL * abs(mu_ref) + FLOOR_ABS[stat])


def compare(per_run, ref_model):
    """per_run: list (one per NCL run) of {pop: stats}. ref_model: the reference JSON's
    entry of one model. Returns (rows, ok): one row per population and statistic."""
    rows, ok = [], True
    for pop, ref in sorted(ref_model["populations"].items()):
        for stat in STATISTICS:
            vals = [r[pop][stat] for r in per_run if pop in r]
            mu, sd, n = summarize(vals)
            r = ref[stat]
            n_ref = len(r["per_seed"])
            if n == 0:
                rows.append(dict(pop=pop, stat=stat, ncl_mean=mu, ncl_std=sd, n_ncl=0,
                                 ref_mean=r["mean"], ref_std=r["std"], n_ref=n_ref,
                                 tol=float("nan"), ok=False))
                ok = False
                continue
            tol = tolerance(stat, r["mean"], r["std"], n_ref, sd, n)
            good = abs(mu - r["mean"]) <= tol
            ok &= good
            rows.append(dict(pop=pop, stat=stat, ncl_mean=mu, ncl_std=sd, n_ncl=n,
                             ref_mean=r["mean"], ref_std=r["std"], n_ref=n_ref, tol=tol,
                             ok=good))
    return rows, ok


def format_table(rows):
    lines = ["%-4s %-16s %12s %10s %4s %12s %10s %4s %10s %10s  %s" % (
        "pop", "statistic", "NCL mean", "NCL sd", "n", "ref mean", "ref sd", "n",
        "|diff|", "tolerance", "result")]
    for r in rows:
        lines.append("%-4s %-16s %12.5g %10.3g %4d %12.5g %10.3g %4d %10.3g %10.3g  %s" % (
            r["pop"], r["stat"], r["ncl_mean"], r["ncl_std"], r["n_ncl"], r["ref_mean"],
            r["ref_std"], r["n_ref"], abs(r["ncl_mean"] - r["ref_mean"]), r["tol"],
            "ok" if r["ok"] else "FAIL"))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("stats", "compare"):
        p = sub.add_parser(name)
        p.add_argument("dirs", nargs="+", help="spike output directories (one per run)")
        p.add_argument("--group", action="append", default=[],
                       help="NAME=POP:START:STOP, a population as a slice of POP")
        p.add_argument("--size", action="append", default=[], help="POP=N")
        p.add_argument("--t0", type=float, default=T0_S)
        p.add_argument("--t1", type=float, default=T1_S)
        if name == "compare":
            p.add_argument("--reference", required=True)
            p.add_argument("--model", required=True)
    args = ap.parse_args(argv)
    try:
        groups = [parse_group(g) for g in args.group]
        sizes = {}
        for s in args.size:
            k, v = s.split("=", 1)
            sizes[k] = int(v)
        per_run = [directory_stats(d, groups, sizes, args.t0, args.t1) for d in args.dirs]
    except (ValueError, OSError) as e:
        print("spike_statistics: error: %s" % e, file=sys.stderr)
        return 2
    if args.cmd == "stats":
        for d, s in zip(args.dirs, per_run):
            print(json.dumps({"dir": d, "window_s": [args.t0, args.t1], "populations": s}))
        return 0
    with open(args.reference) as f:
        ref = json.load(f)
    if args.model not in ref["models"]:
        print("spike_statistics: error: model %r not in %s (has %s)" % (
            args.model, args.reference, ", ".join(sorted(ref["models"]))), file=sys.stderr)
        return 2
    ref_model = ref["models"][args.model]
    if [args.t0, args.t1] != list(ref.get("window_s", [T0_S, T1_S])):
        print("spike_statistics: error: window [%g, %g) differs from the reference's %r" % (
            args.t0, args.t1, ref.get("window_s")), file=sys.stderr)
        return 2
    for d, s in zip(args.dirs, per_run):
        missing = sorted(set(ref_model["populations"]) - set(s))
        if missing:
            print("spike_statistics: error: %s lacks population(s) %s (use --group)" % (
                d, ", ".join(missing)), file=sys.stderr)
            return 2
    rows, ok = compare(per_run, ref_model)
    print("model %s: %d NCL run(s) against Brian2 %s (%d seeds), window [%g, %g) s, "
          "pass iff |diff| <= %g*sqrt(sd_ref^2/n_ref + sd_ncl^2/n_ncl) + floor" % (
              args.model, len(per_run), ref.get("brian2_version", "?"),
              len(ref_model.get("seeds", [])), args.t0, args.t1, Z))
    print(format_table(rows))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
