#!/usr/bin/python3
"""check_output.py - ncl-run's output files, as a reader of .npy and json sees them.

Usage: check_output.py NCL_RUN FAKE_MODEL_SO WORKDIR ABI_VERSION

Runs ncl-run on the hand-written fake model (neuron i spikes every i+2
steps, dt = 0.1 ms) and checks the contract of docs/runtime.md from the
user's side: P_spike_t.npy / P_spike_i.npy are one-dimensional float64 and
int64 .npy files with the right values, sorted by time then index, and
run.json has every key. Then a run that hits NaN must still leave its
partial output behind, with a run.json that says it failed, where, and why.
The files are read by npy_file.py (the standard library); that NumPy's
np.load reads them is what every e2e check does.
"""
import json
import os
import shutil
import subprocess
import sys

from npy_file import load  # beside this file


def expected(size, steps, dt=1e-4):
    """Spike times (float64 step * dt) and indices of the fake model."""
    steps_idx = [(s, i) for s in range(1, steps + 1) for i in range(size)
                 if s % (i + 2) == 0]
    return [float(s) * dt for s, _ in steps_idx], [i for _, i in steps_idx]


def spikes(out):
    """(times, indices) of P, checked to be 1-D float64 and int64."""
    dt, st, t = load(os.path.join(out, "P_spike_t.npy"))
    di, si, i = load(os.path.join(out, "P_spike_i.npy"))
    assert dt == "<f8" and len(st) == 1, (dt, st)
    assert di == "<i8" and len(si) == 1, (di, si)
    return t, i


def run(ncl_run, *args):
    p = subprocess.run([ncl_run, *args], capture_output=True, text=True)
    print("$ ncl-run", " ".join(args))
    print(p.stdout, p.stderr, sep="")
    return p


def main():
    ncl_run, model, work = sys.argv[1:4]
    abi_version = int(sys.argv[4])
    shutil.rmtree(work, ignore_errors=True)

    # A normal run: 20 ms with 3 threads and a resized P.
    out = os.path.join(work, "ok")
    p = run(ncl_run, model, "--time", "20ms", "--threads", "3", "--size",
            "P=50", "--set", "P.I=1nA", "--seed", "123", "--out", out)
    assert p.returncode == 0, p.returncode
    assert "Fake" in p.stdout and "neuron updates/s" in p.stdout
    t, i = spikes(out)
    want_t, want_i = expected(50, 200)
    assert t == want_t and i == want_i
    assert list(zip(t, i)) == sorted(zip(t, i)), "not sorted"
    assert not os.path.exists(os.path.join(out, "Q_spike_t.npy"))

    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    keys = {"status", "error", "model", "source", "abi_version", "precision",
            "dt", "requested_steps", "steps", "duration", "seed", "threads",
            "backend", "device", "populations", "monitors", "files", "timings"}
    assert set(meta) == keys, sorted(meta)
    assert meta["status"] == "complete" and meta["error"] is None, meta
    assert meta["requested_steps"] == 200
    assert meta["files"] == ["P_spike_t.npy", "P_spike_i.npy"], meta["files"]
    assert meta["model"] == "Fake" and meta["abi_version"] == abi_version, meta["abi_version"]
    assert meta["precision"] == 64 and meta["dt"] == 1e-4
    assert meta["steps"] == 200 and meta["seed"] == 123
    assert meta["threads"] == 3
    assert meta["backend"] == "cpu" and meta["device"] is None
    assert abs(meta["duration"] - 0.02) < 1e-12
    P = meta["populations"]["P"]
    assert set(P) == {"neuron", "size", "spikes", "rate_hz"}
    assert P["neuron"] == "Fake" and P["size"] == 50
    assert P["spikes"] == len(t)
    assert abs(P["rate_hz"] - len(t) / (50 * 0.02)) < 1e-9
    Q = meta["populations"]["Q"]
    assert Q["spikes"] == sum(200 // (k + 2) for k in range(5))
    assert set(meta["timings"]) == {"load_s", "init_s", "simulate_s"}

    # A run that becomes NaN: exit 1, one error line, partial output kept.
    out = os.path.join(work, "nan")
    p = run(ncl_run, model, "--set", "P.nan_step=50", "--quiet", "--out", out)
    assert p.returncode == 1, p.returncode
    assert p.stderr.startswith("ncl-run: error: population 'P': variable 'v' "
                               "of neuron 3 became NaN"), p.stderr
    t, i = spikes(out)
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    assert len(t) > 0 and meta["populations"]["P"]["spikes"] == len(t)
    # run.json must not pass for a complete run: the NaN appears in step 50,
    # the default duration is 0.1 s = 1000 steps.
    assert meta["status"] == "failed", meta["status"]
    assert "became NaN in step 50 " in meta["error"], meta["error"]
    assert meta["requested_steps"] == 1000 and meta["steps"] == 51, meta
    # Everything up to step 51 is kept, except neuron 3 after its NaN.
    want_t, want_i = expected(10, 51)
    keep = [not (n == 3 and s > 50e-4) for s, n in zip(want_t, want_i)]
    assert t == [s for s, k in zip(want_t, keep) if k]
    assert i == [n for n, k in zip(want_i, keep) if k]

    # --dt: the same 20 ms in steps of 0.05 ms (400 steps), times step * dt.
    out = os.path.join(work, "dt")
    p = run(ncl_run, model, "--time", "20ms", "--dt", "0.05ms", "--out", out)
    assert p.returncode == 0, p.returncode
    assert "dt = 0.05 ms" in p.stdout, p.stdout
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f)
    assert meta["dt"] == 5e-5 and meta["steps"] == 400, (meta["dt"], meta["steps"])
    want_t, want_i = expected(10, 400, 5e-5)
    assert spikes(out) == (want_t, want_i)
    print("PASS")


if __name__ == "__main__":
    main()
