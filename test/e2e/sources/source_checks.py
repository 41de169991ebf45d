#!/usr/bin/python3
"""End-to-end checks of spike generators and timed arrays (docs/semantics.md,
"Sources"), against mathematics and the files' own content:

  psp     a generator spike onto a leaky membrane through an exponential
          current: the closed-form PSP from the exact step its rounded time
          and the delay give, for times on and off the grid;
  record  the generator's recorded spikes are the files' spikes, rounded to
          steps, sorted, cut at the end of the run, on 1 and 3 threads;
  series  a piecewise-constant timed array (1-D, and 2-D per neuron) into a
          leaky membrane follows the closed-form piecewise exponential, at
          two dt, holding the last sample past the end; --data-dir moves the
          files;
  errors  every bad file is refused by ncl-run with one message naming its
          path and a non-zero exit, never a crash.

usage: source_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK
"""
import math
import pathlib
import shutil
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

DT = 1e-4
TAU_M, TAU_E = 20e-3, 5e-3
WEIGHT = 2e-3


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def compile_model(nclc, source, out):
    subprocess.run([nclc, str(source), "-o", str(out)], check=True)


PSP_MODEL = """
neuron Membrane {{
  parameters {{ taum = 20 ms; taue = 5 ms }}
  state {{ v : mV = 0 mV; ge : mV = 0 mV }}
  dynamics {{
    v' = (ge - v) / taum
    ge' = -ge / taue
  }}
}}
synapse Kick {{
  parameters {{ w = 2 mV }}
  on_pre {{ ge += w }}
}}
network Psp {{
  population G = spike_generator[2]("times.npy", "indices.npy")
  population Target = Membrane[2]
  projection K = Kick(G -> Target) {{
    connect one_to_one()
    delay = {delay}
  }}
  simulate 50 ms, dt = 0.1 ms, seed = 1
}}
"""


def psp_closed_form(t):
    return WEIGHT * TAU_E / (TAU_E - TAU_M) * (math.exp(-t / TAU_E) - math.exp(-t / TAU_M))


def check_psp(nclc, rt, work):
    # (spike time, its step index round(t / dt)); (delay, its steps)
    for time, stamp in [(10e-3, 100), (10.04e-3, 100), (10.06e-3, 101), (0.0, 0)]:
        for text, steps in [("0 ms", 0), ("1.5 ms", 15)]:
            case = work / f"psp_{stamp}_{steps}_{int(time * 1e7)}"
            case.mkdir(parents=True, exist_ok=True)
            # Neuron 1 of the generator never spikes: its target stays at 0.
            np.save(case / "times.npy", np.array([time]))
            np.save(case / "indices.npy", np.array([0], dtype=np.int64))
            (case / "psp.ncl").write_text(PSP_MODEL.format(delay=text))
            compile_model(nclc, case / "psp.ncl", case / "psp.so")
            m = rt.open(str(case / "psp.so"), seed=1)
            # Stamped t = stamp * dt, it acts at the start of step stamp + d:
            # v after step n is v(t_{n+1}).
            arrival = stamp + steps
            trace, other = [], []
            for _ in range(arrival + 400):
                rt.run_steps(m, 1)
                v = rt.state(m, "Target", "v", 2)
                trace.append(v[0])
                other.append(v[1])
            rt.close(m)
            trace = np.array(trace)
            if np.any(np.array(other) != 0):
                fail("a neuron without spikes moved")
            if np.any(trace[:arrival] != 0):
                fail(f"t = {time} s, delay {text}: v moved before step {arrival}")
            after = trace[arrival:]
            expect = np.array([psp_closed_form((k + 1) * DT) for k in range(len(after))])
            err = np.max(np.abs(after - expect)) / np.max(np.abs(expect))
            if not err < 1e-12:
                fail(f"t = {time} s, delay {text}: relative error {err:.3g} against the "
                     "closed form")
            print(f"psp, spike at {time * 1e3:g} ms (step {stamp}), delay {text}: first "
                  f"effect at step {arrival}, max relative error {err:.2e}")


RECORD_MODEL = """
neuron Membrane {
  parameters { taum = 20 ms }
  state { v : mV = 0 mV }
  dynamics { v' = -v / taum }
}
synapse Kick {
  on_pre { v += 1 mV }
}
network Record {
  population G = spike_generator[50]("t.npy", "i.npy")
  population P = Membrane[50]
  projection K = Kick(G -> P) { connect fixed_probability(0.2) }
  record spikes(G)
  simulate 100 ms, dt = 0.1 ms
}
"""


def check_record(nclc, ncl_run, work):
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    # Unsorted, off the grid, some past the end of the run (100 ms).
    times = np.concatenate([rng.uniform(0, 0.12, 400), [0.0, 0.1, 0.10004]])
    index = np.concatenate([rng.integers(0, 50, 400), [3, 4, 5]])
    steps = np.rint(times / DT).astype(np.int64)
    # Drop pairs that round into one step (a neuron spikes once per step).
    _, keep = np.unique(steps * 50 + index, return_index=True)
    times, index, steps = times[keep], index[keep], steps[keep]
    order = rng.permutation(len(times))
    np.save(work / "t.npy", times[order])
    np.save(work / "i.npy", index[order].astype(np.int32))
    (work / "record.ncl").write_text(RECORD_MODEL)
    compile_model(nclc, work / "record.ncl", work / "record.so")
    within = steps <= 1000
    expect = sorted(zip(steps[within], index[within]))
    for threads in (1, 3):
        out = work / f"out{threads}"
        subprocess.run([ncl_run, str(work / "record.so"), "--quiet", "--threads",
                        str(threads), "--out", str(out)], check=True)
        t = np.load(out / "G_spike_t.npy")
        i = np.load(out / "G_spike_i.npy")
        got = list(zip(np.rint(t / DT).astype(np.int64), i))
        if got != expect:
            fail(f"{threads} threads: recorded {len(got)} spikes, the files give "
                 f"{len(expect)} within the run; first difference at "
                 f"{next(k for k in range(min(len(got), len(expect))) if got[k] != expect[k])}")
        if not np.array_equal(t, np.array([s for s, _ in expect]) * DT):
            fail("recorded times are not step * dt")
    print(f"record: {len(expect)} generator spikes recorded as the files give them "
          f"(rounded, sorted, {int((~within).sum())} past the end left out), 1 and 3 threads")


SERIES_MODEL = """
neuron Leaky {
  parameters { tau = 10 ms; R = 10 Mohm }
  input I : nA = 0 nA
  state { v : mV = 0 mV }
  dynamics { v' = (-v + R * I) / tau }
}
network Series {
  population Shared = Leaky[3] { I = timed_array("data/drive.npy", dt = 1 ms, scale = 1 nA) }
  population Each = Leaky[4] { I = timed_array("data/each.npy", dt = 0.5 ms, scale = 0.1 nA) }
  simulate 20 ms, dt = 0.1 ms
}
"""
TAU, R = 10e-3, 10e6


def piecewise_exponential(samples, interval, t):
    """v(t) for tau v' = -v + R I(t), v(0) = 0, I = samples[k] on
    [k interval, (k + 1) interval), the last sample held."""
    v, start = 0.0, 0.0
    for k, current in enumerate(samples):
        end = (k + 1) * interval if k + 1 < len(samples) else math.inf
        stop = min(t, end)
        target = R * current
        v = target + (v - target) * math.exp(-(stop - start) / TAU)
        if t <= end:
            return v
        start = end
    return v


def check_series(nclc, ncl_run, rt, work):
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    data.mkdir(exist_ok=True)
    drive = np.array([0.0, 1.5, -0.5, 2.0, 0.25])  # nA, 1 ms apart, held after 5 ms
    each = np.array([[1, 2, 3, 4], [0, -1, 5, 2], [3, 3, 0, 1]], dtype=np.int32)  # x 0.1 nA
    np.save(data / "drive.npy", drive)
    np.save(data / "each.npy", each)
    (work / "series.ncl").write_text(SERIES_MODEL)
    compile_model(nclc, work / "series.ncl", work / "series.so")
    for dt in (1e-4, 5e-5):
        m = rt.open(str(work / "series.so"), seed=0, dt=dt)
        steps = int(round(12e-3 / dt))
        worst = 0.0
        for n in range(1, steps + 1):
            rt.run_steps(m, 1)
            t = n * dt
            shared = rt.state(m, "Shared", "v", 3)
            expect = piecewise_exponential(drive * 1e-9, 1e-3, t)
            per = rt.state(m, "Each", "v", 4)
            expect_each = [piecewise_exponential(each[:, j] * 1e-10, 0.5e-3, t) for j in range(4)]
            for got, want in [(shared, [expect] * 3), (per, expect_each)]:
                err = np.max(np.abs(got - np.array(want)))
                worst = max(worst, err)
        rt.close(m)
        # Exact integration of a constant input: rounding only (volts ~ 0.02).
        if not worst < 1e-14:
            fail(f"dt = {dt}: the membrane is {worst:.3g} V from the piecewise exponential")
        print(f"series, dt = {dt * 1e3:g} ms: 1-D and 2-D timed arrays follow the closed "
              f"form within {worst:.2e} V, the last sample held past its end")
    # float32: the samples are stored in the model's precision; each step
    # rounds v (about 0.02 V) to 2^-24 relative, some 1e-9 V, over 120 steps.
    subprocess.run([nclc, str(work / "series.ncl"), "--precision=f32", "-o",
                    str(work / "series32.so")], check=True)
    m = rt.open(str(work / "series32.so"), seed=0)
    rt.run_steps(m, 120)
    got = rt.state(m, "Each", "v", 4)
    rt.close(m)
    want = [piecewise_exponential(each[:, j] * 1e-10, 0.5e-3, 120 * DT) for j in range(4)]
    if not np.max(np.abs(got - np.array(want))) < 1e-7:
        fail(f"float32: {got} V, closed form {want} V")
    print("series, float32: within 1e-7 V of the closed form after 120 steps")
    # --data-dir: the same files elsewhere, the compile-time directory gone.
    moved = work / "moved"
    shutil.rmtree(moved, ignore_errors=True)
    shutil.copytree(data, moved / "data")
    shutil.rmtree(data)
    bad = subprocess.run([ncl_run, str(work / "series.so"), "--quiet"], capture_output=True,
                         text=True)
    if bad.returncode == 0 or str(data / "drive.npy") not in bad.stderr:
        fail(f"a missing series file was not reported with its path: {bad.stderr!r}")
    subprocess.run([ncl_run, str(work / "series.so"), "--quiet", "--data-dir", str(moved)],
                   check=True)
    print("series: relative names resolve against the .ncl file's directory, or --data-dir")


ERRORS_MODEL = """
neuron Leaky {
  parameters { tau = 10 ms }
  input I : nA = 0 nA
  state { v : mV = 0 mV }
  dynamics { v' = (-v + 10 Mohm * I) / tau }
}
synapse Kick {
  on_pre { v += 1 mV }
}
network Errors {
  population G = spike_generator[10]("t.npy", "i.npy")
  population P = Leaky[10] { I = timed_array("s.npy", dt = 1 ms, scale = 1 nA) }
  projection K = Kick(G -> P) { connect one_to_one() }
  simulate 10 ms, dt = 0.1 ms
}
"""


def check_errors(nclc, ncl_run, work):
    work.mkdir(parents=True, exist_ok=True)
    (work / "errors.ncl").write_text(ERRORS_MODEL)
    compile_model(nclc, work / "errors.ncl", work / "errors.so")
    good = {"t.npy": np.array([1e-3, 2e-3]), "i.npy": np.array([0, 9]),
            "s.npy": np.array([0.0, 1.0])}
    # (what is wrong, the file replaced (None: removed; bytes: raw), extra
    #  ncl-run options, the file the message names, words it must contain)
    cases = [
        ("missing times", "t.npy", None, [], "t.npy", "cannot be read"),
        ("not a .npy", "i.npy", b"0 9\n", [], "i.npy", "is not a .npy file"),
        ("integer times", "t.npy", np.array([1, 2]), [], "t.npy", "holds integers"),
        ("float indices", "i.npy", np.array([0.0, 9.0]), [], "i.npy", "are integers"),
        ("bool dtype", "i.npy", np.array([True, False]), [], "i.npy", "dtype '|b1'"),
        ("2-D times", "t.npy", np.zeros((2, 1)), [], "t.npy", "only 1-D arrays"),
        ("length mismatch", "i.npy", np.array([0, 1, 2]), [], "t.npy", "has 2 spike times"),
        ("index too large", "i.npy", np.array([0, 10]), [], "i.npy", "has 10 neurons"),
        ("negative index", "i.npy", np.array([-1, 0]), [], "i.npy", "of neuron -1"),
        ("negative time", "t.npy", np.array([1e-3, -1e-3]), [], "t.npy", "at least 0"),
        ("NaN time", "t.npy", np.array([np.nan, 1e-3]), [], "t.npy", "has time nan"),
        ("infinite time", "t.npy", np.array([np.inf, 1e-3]), [], "t.npy", "has time inf"),
        ("two spikes in a step", "i.npy", np.array([3, 3]), ["--dt", "1.5ms"], "t.npy",
         "two spikes in step 1"),
        ("series columns", "s.npy", np.zeros((4, 7)), [], "s.npy", "7 columns"),
        ("series per neuron after --size", "s.npy", np.zeros((4, 10)), ["--size", "P=12"],
         "s.npy", "has 12 neurons"),
        ("series NaN", "s.npy", np.array([0.0, np.nan]), [], "s.npy", "is nan"),
        ("series empty", "s.npy", np.zeros(0), [], "s.npy", "no samples"),
        # A 3-D series gives each batch member its own (docs/semantics.md,
        # "Batches"): its batch dimension must be the run's.
        ("series 3-D", "s.npy", np.zeros((2, 2, 10)), [], "s.npy",
         "2 batch members, but the run has 1"),
        ("series 4-D", "s.npy", np.zeros((2, 1, 10, 1)), [], "s.npy", "only 1-D, 2-D and 3-D"),
        ("series 3-D columns", "s.npy", np.zeros((2, 2, 7)), ["--batch", "2"], "s.npy",
         "7 columns"),
        ("series interval", "s.npy", good["s.npy"], ["--dt", "0.3ms"], "s.npy",
         "not a whole number of steps"),
        ("series complex", "s.npy", np.array([1j]), [], "s.npy", "dtype '<c16'"),
        ("series Fortran order", "s.npy", np.asfortranarray(np.zeros((3, 10))), [], "s.npy",
         "C order"),
    ]
    for what, name, content, options, named, words in cases:
        for file, value in good.items():
            np.save(work / file, value)
        target = work / name
        if content is None:
            target.unlink()
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            np.save(target, content)
        r = subprocess.run([ncl_run, str(work / "errors.so"), "--quiet", *options],
                           capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 1 or len(lines) != 1 or not lines[0].startswith("ncl-run: error: "):
            fail(f"{what}: expected exit 1 and one error line, got {r.returncode} and "
                 f"{r.stderr!r}")
        if named and f"'{work / named}'" not in lines[0]:
            fail(f"{what}: the message does not name {work / named}: {lines[0]}")
        if words not in lines[0]:
            fail(f"{what}: the message does not say '{words}': {lines[0]}")
        print(f"error, {what}: {lines[0][len('ncl-run: error: '):]}")
    # Unsorted times are accepted (sorted by the runtime).
    for file, value in good.items():
        np.save(work / file, value)
    np.save(work / "t.npy", np.array([2e-3, 1e-3]))
    subprocess.run([ncl_run, str(work / "errors.so"), "--quiet"], check=True)


def main():
    nclc, ncl_run, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / "sources" / check
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rt = Runtime(libnclrt)
    if check == "psp":
        check_psp(nclc, rt, work)
    elif check == "record":
        check_record(nclc, ncl_run, work)
    elif check == "series":
        check_series(nclc, ncl_run, rt, work)
    elif check == "errors":
        check_errors(nclc, ncl_run, work)
    else:
        fail(f"unknown check {check}")


if __name__ == "__main__":
    main()
