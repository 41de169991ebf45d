#!/usr/bin/python3
"""Brian2 reference statistics of the network benchmarks (CUBA, COBA, COBAHH, Brunel).

Runs bench/brian2_networks.py (Brian2 C++ standalone, Debian's /usr/bin/python3 with
python3-brian) for each model and seed (one build per model, the seed given to the
binary; Brunel's connectivity, drawn with numpy from the seed, is rewritten per seed),
records the spikes of E and I, and computes the statistics of
test/e2e/networks/spike_statistics.py (imported: one definition for the reference and
the test) over [1 s, 5 s). Writes test/e2e/networks/brian2_reference.json: per model and
population, mean and sample standard deviation (ddof = 1) over seeds of each statistic,
the per-seed values, the Brian2 version, the command and the date.

Usage: /usr/bin/python3 bench/reference/brian2_network_stats.py
           [--models cuba,coba,cobahh,brunel] [--seeds 1-8] [--duration-s 5]
           [--out test/e2e/networks/brian2_reference.json] [--work DIR] [--update]
The committed JSON comes from the runs listed in its "commands" (CUBA and COBAHH
with 8 seeds, then Brunel with 4: Brunel 10k takes 15-25 s per biological second in
Brian2 on these loaded 2-core machines; then COBA with 8), merged as --update merges
(each model records the date of its run). To remake it:
  brian2_network_stats.py --models cuba,cobahh --seeds 1-8
  brian2_network_stats.py --models brunel --seeds 1-4 --update
  brian2_network_stats.py --models coba --seeds 1-8 --update
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(ROOT, "bench", "brian2_networks.py")
sys.path.insert(0, os.path.join(ROOT, "test", "e2e", "networks"))
import spike_statistics as ss  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"


def parse_seeds(s):
    if "-" in s:
        a, b = s.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(",")]


def run_model(model, seeds, duration_s, work, extra):
    d = os.path.join(work, model)
    cmd = [DEBIAN_PYTHON, RUNNER, "--model", model, "--seeds", ",".join(map(str, seeds)),
           "--duration-s", repr(duration_s), "--dir", os.path.join(d, "project"),
           "--spikes-out", os.path.join(d, "spikes")] + extra
    print("+", " ".join(shlex.quote(c) for c in cmd), flush=True)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s\n%s" % (model, p.stdout[-3000:], p.stderr[-3000:]))
    runs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    print("  %s: %d runs in %.0f s" % (model, len(runs), time.perf_counter() - t0), flush=True)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="cuba,coba,cobahh,brunel")
    ap.add_argument("--seeds", default="1-8")
    ap.add_argument("--duration-s", type=float, default=5.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "e2e", "networks",
                                                   "brian2_reference.json"))
    ap.add_argument("--work", help="working directory (kept); default a temporary one")
    ap.add_argument("--update", action="store_true",
                    help="keep the other models of an existing --out file (its commands "
                         "are kept in 'commands'); e.g. Brunel with fewer seeds")
    ap.add_argument("--stats-only", action="store_true",
                    help="do not run Brian2: use the spike directories WORK/MODEL/spikes/"
                         "seed<S> of an earlier run (those of --seeds that exist)")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    work = args.work or tempfile.mkdtemp(prefix="brian2_network_stats_")
    os.makedirs(work, exist_ok=True)

    version = subprocess.run([DEBIAN_PYTHON, "-c", "import brian2; print(brian2.__version__)"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, check=True).stdout.strip()
    models = {}
    for model in args.models.split(","):
        if args.stats_only:
            runs = []
            for sd in seeds:
                d = os.path.join(work, model, "spikes", "seed%d" % sd)
                if os.path.exists(os.path.join(d, "run.json")) and os.path.exists(
                        os.path.join(d, "I_spike_i.npy")):
                    runs.append({"seed": sd, "spikes_dir": d, "synapses": None,
                                 "simulate_s": None})
            if not runs:
                raise SystemExit("no spike directories for %s in %s" % (model, work))
        else:
            runs = run_model(model, seeds, args.duration_s, work, [])
        per_seed = []
        for r in runs:
            st = ss.directory_stats(r["spikes_dir"] if len(seeds) > 1 or args.stats_only
                                    else os.path.join(work, model, "spikes"))
            per_seed.append(st)
            print("  seed %d: %s" % (r["seed"], "  ".join(
                "%s %.3f Hz CV %.3f silent %.4f" % (p, s["rate_hz"], s["cv_isi"],
                                                   s["silent_fraction"])
                for p, s in sorted(st.items()))), flush=True)
        pops = {}
        for pop in sorted(per_seed[0]):
            entry = {"size": per_seed[0][pop]["n_neurons"]}
            for stat in ss.STATISTICS:
                vals = [s[pop][stat] for s in per_seed]
                mu, sd, _ = ss.summarize(vals)
                entry[stat] = {"mean": mu, "std": sd, "per_seed": vals}
            entry["n_cv_neurons_per_seed"] = [s[pop]["n_cv_neurons"] for s in per_seed]
            pops[pop] = entry
        models[model] = {
            "duration_s": args.duration_s, "dt_s": 1e-4, "seeds": [r["seed"] for r in runs],
            "synapses_per_seed": [r["synapses"] for r in runs],
            "brian2_simulate_s_per_seed": [r["simulate_s"] for r in runs],
            "populations": pops,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
        }
        if "refractory_input" in runs[0]:
            models[model]["refractory_input"] = runs[0]["refractory_input"]

    out = {
        "description": "Brian2 C++ standalone reference statistics of NCL's network "
                       "benchmarks (bench/brian2_networks.py has the models); statistics "
                       "as defined in test/e2e/networks/spike_statistics.py",
        "brian2_version": version,
        "command": " ".join(shlex.quote(a) for a in [DEBIAN_PYTHON] + sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": platform.machine(),
        "precision": "f64",
        "window_s": [ss.T0_S, ss.T1_S],
        "definitions": {
            "rate_hz": "spikes in [t0, t1) / (n * (t1 - t0)), all n neurons",
            "cv_isi": "mean over neurons with >= 3 spikes in [t0, t1) of std(ISI, ddof=0) "
                      "/ mean(ISI), ISIs between spikes inside the window",
            "silent_fraction": "fraction of the n neurons without a spike in [t0, t1)",
            "mean/std": "over seeds; std is the sample standard deviation (ddof = 1)",
        },
        "models": models,
    }
    out["commands"] = [out["command"]]
    if args.update and os.path.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
        if old.get("brian2_version") != version:
            raise SystemExit("%s has Brian2 %s, this is %s: not merged" % (
                args.out, old.get("brian2_version"), version))
        old_models = {k: v for k, v in old["models"].items() if k not in models}
        for name, entry in old_models.items():  # files from before per-model dates
            entry.setdefault("date", old.get("date_" + name, old.get("date")))
        models.update(old_models)
        out["models"] = dict(sorted(models.items()))
        out["commands"] = old.get("commands", [old.get("command")]) + out["commands"]
        # Keep what the old file says about its own runs (e.g. "date_brunel").
        for key, value in old.items():
            out.setdefault(key, value)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", args.out)
    for model, m in models.items():
        for pop, e in m["populations"].items():
            print("%-7s %s: rate %.3f +- %.3f Hz, CV %.4f +- %.4f, silent %.4f +- %.4f" % (
                model, pop, e["rate_hz"]["mean"], e["rate_hz"]["std"], e["cv_isi"]["mean"],
                e["cv_isi"]["std"], e["silent_fraction"]["mean"], e["silent_fraction"]["std"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
