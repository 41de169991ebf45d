#!/usr/bin/python3
"""cli_reliability.py - ncl-run when the disk fills, on SIGINT, with many threads.

Usage: cli_reliability.py NCL_RUN FAKE_MODEL_SO WORKDIR

Runs ncl-run on the hand-written fake model (neuron i spikes every i+2
steps, dt = 0.1 ms) and checks the promises of docs/runtime.md "What the
runtime promises":
  - a write that fails for lack of space (here RLIMIT_FSIZE, which makes
    writes fail with EFBIG) exits 1 with the error, and leaves no file of
    the older run in the directory, only a run.json that says "failed";
  - SIGINT stops the run at a chunk boundary, writes what was simulated
    with a run.json that says "interrupted", and exits 130;
  - 1000 threads on one neuron stay small in memory (ru_maxrss);
  - --size accepts 2.5e3 as an integer;
  - an empty option value (--out '') is an error, not ignored.
Standard library only: the .npy files are read by npy_file.py.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npy_file import load  # noqa: E402

DT = 1e-4


def expected(size, steps):
    """Spike times and indices of fake_model: neuron i at steps k*(i+2),
    sorted by (time, index)."""
    spikes = sorted((s, n) for n in range(min(size, steps))
                    for s in range(n + 2, steps + 1, n + 2))
    return [s * DT for s, _ in spikes], [n for _, n in spikes]


def spike_file(out, name):
    """The values of results file `name` as a list."""
    return load(os.path.join(out, name))[2]


def run(ncl_run, *args, **kw):
    p = subprocess.run([ncl_run, *args], capture_output=True, text=True, **kw)
    print("$ ncl-run", " ".join(args))
    print("exit status", p.returncode)
    print(p.stdout, p.stderr, sep="")
    return p


def load_json(out):
    with open(os.path.join(out, "run.json")) as f:
        return json.load(f)


def max_rss_of(cmd):
    """Peak resident memory (bytes) of `cmd`, measured in a fresh child
    Python so that no other child of this script counts."""
    probe = ("import resource, subprocess, sys\n"
             "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
             "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    p = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True,
                       check=True)
    rc, kb = map(int, p.stdout.split())
    assert rc == 0, (cmd, rc)
    return kb * 1024


def full_disk(ncl_run, model, work):
    out = os.path.join(work, "full")
    p = run(ncl_run, model, "--time", "10ms", "--quiet", "--out", out)
    assert p.returncode == 0
    assert sorted(os.listdir(out)) == ["P_spike_i.npy", "P_spike_t.npy", "run.json"]

    # 100 neurons for 0.4 s: about 16800 spikes, over 64 kB per array.
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))

    p = run(ncl_run, model, "--time", "0.4s", "--size", "P=100", "--quiet", "--out", out,
            preexec_fn=limit_file_size)
    assert p.returncode == 1, p.returncode
    assert p.stderr == ("ncl-run: error: cannot write '%s/P_spike_t.npy': File too large\n"
                        % out), p.stderr
    # The older run's arrays are gone; run.json says this one failed.
    assert os.listdir(out) == ["run.json"], os.listdir(out)
    meta = load_json(out)
    assert meta["status"] == "failed" and "File too large" in meta["error"], meta
    assert meta["files"] == [] and meta["steps"] == 4000, meta

    p = run(ncl_run, model, "--time", "0.4s", "--size", "P=100", "--quiet", "--out", out)
    assert p.returncode == 0 and load_json(out)["status"] == "complete"
    assert spike_file(out, "P_spike_t.npy") == expected(100, 4000)[0]


def interrupt(ncl_run, model, work):
    out = os.path.join(work, "interrupted")
    # 10^5 neurons: each step takes a while, a chunk is 256 steps, and the
    # requested 10^9 steps would take days; only SIGINT ends this run.
    proc = subprocess.Popen([ncl_run, model, "--time", "1e5 s", "--size", "P=100000",
                             "--quiet", "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("ncl-run did not stop on SIGINT")
    print(stdout, stderr, sep="")
    assert proc.returncode == 130, proc.returncode
    meta = load_json(out)
    steps = meta["steps"]
    assert stderr == ("ncl-run: interrupted after %d of 1000000000 steps (at t = %.6g s)\n"
                      % (steps, steps * DT)), stderr
    assert meta["status"] == "interrupted" and meta["requested_steps"] == 10**9, meta
    assert steps % 256 == 0, steps
    want_t, want_i = expected(100000, steps)
    assert spike_file(out, "P_spike_t.npy") == want_t
    assert spike_file(out, "P_spike_i.npy") == want_i


def many_threads(ncl_run, model):
    # One neuron, 1000 threads: 999 threads own nothing and get no spike
    # buffer. Before, each had 16384 entries of 20 bytes (336 MB in all).
    rss = max_rss_of([ncl_run, model, "--size", "P=1", "--size", "Q=1", "--threads", "1000",
                      "--time", "10ms", "--quiet"])
    print("max RSS with 1000 threads: %.1f MB" % (rss / 1e6))
    if os.environ.get("NCL_TEST_SANITIZER"):
        print("(a sanitizer's shadow memory inflates RSS: not checked)")
        return
    assert rss < 100e6, rss


def empty_values(ncl_run, model):
    for flag in ("--out", "--time", "--set", "--size", "--seed", "--threads"):
        p = run(ncl_run, model, flag, "")
        assert p.returncode == 2, (flag, p.returncode)
        assert p.stderr.startswith("ncl-run: error: %s needs a value, got ''\n" % flag), p.stderr


def size_in_scientific_notation(ncl_run, model, work):
    out = os.path.join(work, "sized")
    p = run(ncl_run, model, "--size", "P=2.5e3", "--time", "1ms", "--quiet", "--out", out)
    assert p.returncode == 0
    assert load_json(out)["populations"]["P"]["size"] == 2500


def main():
    ncl_run, model, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    many_threads(ncl_run, model)
    full_disk(ncl_run, model, work)
    interrupt(ncl_run, model, work)
    size_in_scientific_notation(ncl_run, model, work)
    empty_values(ncl_run, model)
    print("PASS")


if __name__ == "__main__":
    main()
