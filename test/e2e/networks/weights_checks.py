"""End-to-end checks of plastic weights as state: ncl_set_synapse_state,
ncl-run --save-weights / --load-weights (docs/runtime.md "Saved weights").

usage: weights_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK

CHECK is one of
  set        ncl_set_synapse_state writes what ncl_get_synapse_state then
             reads, bit for bit (float64, and float32 rounding each value to
             the nearest float), the next step uses it (a trace x' = -x/tau
             set to x0 reads x0 e^(-n dt/tau) n steps later), and every wrong
             call (count, name, NaN, before init) fails with one message and
             writes nothing;
  roundtrip  --save-weights writes P_<var>.npy in the model's precision (the
             hidden _lastupdate of the event-driven traces included) and
             P_pre.npy, P_post.npy (int32) equal to what the C API reads, and
             loading them into a fresh model, then saving again, gives the
             same bytes; in float64 and float32;
  continue   pair STDP (per-synapse traces, on_pre and on_post) between spike
             generators: run A simulates T1 + T2 in one process; run B
             simulates T1 and saves, then a new process loads and simulates
             T2 with the generators' spike times shifted by -T1. With
             clock-driven traces (method clock_driven), the synapses' only
             state is per-synapse and the generators are stateless, so B must
             end with A's weights and traces bit for bit, on 1, 2 and 3
             threads (and differ from a T2 run that does not load); with
             event-driven traces (their _lastupdate saved relative to the
             time of saving), within 1e-12;
  monitor    synapse monitors (record w(S) every 7, record apre(S[3:12])):
             every sample equals, bit for bit, what ncl_get_synapse_state
             reads after the same number of steps, with the times n * every *
             dt and the synapse indices of the range, on 1, 2 and 3 threads,
             in float64 and float32 (the files in the model's precision);
             a range beyond the synapses a run builds stops ncl-run with one
             message naming the monitor;
  errors     a missing directory or file, a wrong length, a wrong dtype, a
             non-finite value and another connectivity each stop ncl-run
             with one message naming the file and exit status 1, before
             anything runs or is written.
"""
import ctypes
import pathlib
import shutil
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from network_checks import compile_model, fail  # noqa: E402
from nclrt import Runtime  # noqa: E402
from on_post_checks import poisson_train  # noqa: E402

DT = 1e-4
TAU = 0.020

# Pair STDP, all to all, with the traces in the synapse; weights start
# spread out so that a load that did nothing would show.
STDP_MODEL = """
synapse TraceSTDP {
  parameters { Ap = 0.01; Am = -0.0105; taup = 20 ms; taum = 20 ms }
  state { w = 0.25 + 0.5 * rand(); apre = 0; apost = 0 }
  dynamics {
    apre' = -apre / taup
    apost' = -apost / taum
  }
  on_pre {
    apre += Ap
    w = clip(w + apost, 0, 1)
  }
  on_post {
    apost += Am
    w = clip(w + apre, 0, 1)
  }
}
network Plastic {
  population Pre = spike_generator[10]("pre_t.npy", "pre_i.npy")
  population Post = spike_generator[6]("post_t.npy", "post_i.npy")
  projection S = TraceSTDP(Pre -> Post) { connect fixed_probability(0.6) }
  simulate 100 ms, dt = 0.1 ms, seed = 3
}
"""

VARS = ("w", "apre", "apost")
# Event-driven, apre and apost are traces every synapse of a neuron shares:
# saved once per neuron, with the time of the neuron's last event.
TRACES = ("pre.apre", "post.apost", "pre._lastupdate", "post._lastupdate")


def save_trains(work, stem, trains, shift=0):
    """Writes a generator's files: the spikes of `trains` (steps per
    neuron) at step >= shift, moved `shift` steps earlier."""
    steps = np.concatenate(trains).astype(np.int64)
    index = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
    keep = steps >= shift
    steps, index = steps[keep] - shift, index[keep]
    order = np.lexsort((index, steps))
    np.save(work / f"{stem}_t.npy", steps[order] * DT)
    np.save(work / f"{stem}_i.npy", index[order].astype(np.int64))


def ncl_run(ncl_run_path, lib, *args, expect_ok=True):
    r = subprocess.run([ncl_run_path, str(lib), "--quiet", *map(str, args)],
                       capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        fail(f"ncl-run {' '.join(map(str, args))} failed: {r.stderr}")
    return r


def read_saved(directory, proj="S"):
    """Every file of projection `proj` that `directory` holds, by name."""
    names = VARS + TRACES + ("_lastupdate", "pre", "post")
    return {name: np.load(directory / f"{proj}_{name}.npy") for name in names
            if (directory / f"{proj}_{name}.npy").exists()}


def per_synapse(saved, name):
    """A variable's value at each saved synapse: its own, or its neuron's
    where it is a trace kept per neuron."""
    if name in saved:
        return saved[name]
    side = "pre" if f"pre.{name}" in saved else "post"
    return saved[f"{side}.{name}"][saved[side]]


def check_set(nclc, rt, work):
    source = work / "set.ncl"
    source.write_text("""
synapse Trace {
  parameters { tau = 20 ms }
  state { x = 0; w = 1 }
  dynamics { x' = -x / tau }
}
network Net {
  population A = spike_generator[4]("none_t.npy", "none_i.npy")
  population B = spike_generator[3]("none_t.npy", "none_i.npy")
  projection C = Trace(A -> B) { connect all_to_all() }
  simulate 10 ms, dt = 0.1 ms
}
""")
    np.save(work / "none_t.npy", np.zeros(0))
    np.save(work / "none_i.npy", np.zeros(0, dtype=np.int64))
    values = np.array([0.1, 1 / 3, -2.5, 1e-30, 7.0, 0.5, 3.25, -1 / 7, 2.0, 1e5, 0.0, 0.9])
    for precision, real in (("f64", np.float64), ("f32", np.float32)):
        lib = work / f"set_{precision}.so"
        compile_model(nclc, source, lib, f"--precision={precision}")
        m = rt.open(str(lib), seed=1)
        rt.set_synapse_state(m, "C", "w", values)
        got = rt.synapse_state(m, "C", "w")
        if got.tobytes() != values.astype(real).astype(np.float64).tobytes():
            fail(f"{precision}: set then get gave {got.tolist()}, not {values.tolist()}")
        rt.set_synapse_state(m, "C", "x", np.arange(12.0))
        rt.run_steps(m, 100)
        x = rt.synapse_state(m, "C", "x")
        expect = np.arange(12.0) * np.exp(-100 * DT / TAU)
        tol = 1e-13 if precision == "f64" else 2e-6
        if not np.allclose(x, expect, rtol=tol, atol=0):
            fail(f"{precision}: x set to k decays to {x.tolist()}, not k e^(-10 ms/20 ms)")
        # Wrong calls: one message each, nothing written.
        before = rt.synapse_state(m, "C", "w")
        bad = [
            ("C", "w", np.zeros(11), "has 12 synapses, got 11 values"),
            ("C", "v", np.zeros(12), "has no per-synapse variable 'v'; its per-synapse "
                                     "variables are: x, w"),
            ("D", "w", np.zeros(12), "no projection 'D'"),
            ("C", "w", np.r_[np.zeros(5), np.nan, np.zeros(6)], "value 5 for C.w is NaN"),
        ]
        for proj, var, vals, message in bad:
            try:
                rt.set_synapse_state(m, proj, var, vals)
            except RuntimeError as e:
                if message not in str(e) or "\n" in str(e):
                    fail(f"set {proj}.{var}: message {str(e)!r} lacks {message!r}")
            else:
                fail(f"set {proj}.{var} with {len(vals)} values was accepted")
            if rt.synapse_state(m, "C", "w").tobytes() != before.tobytes():
                fail(f"the refused set of {proj}.{var} changed the weights")
        rt.close(m)
    m = rt.rt.ncl_open(str(work / "set_f64.so").encode())
    buf = np.zeros(12)
    status = rt.rt.ncl_set_synapse_state(
        m, b"C", b"w", buf.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), 12)
    if status == 0 or b"call ncl_init" not in rt.rt.ncl_last_error():
        fail("ncl_set_synapse_state before ncl_init was not refused with a message")
    rt.close(m)
    print("set: set/get bit for bit in float64 and float32, the trace decays from the value "
          "set, 4 bad calls refused with one message each and nothing written")


def make_stdp(nclc, work, precision="f64", method=None):
    source = work / "stdp.ncl"
    model = STDP_MODEL
    if method:
        model = model.replace("connect fixed_probability(0.6) }",
                              f"connect fixed_probability(0.6)\n    method {method}\n  }}")
    source.write_text(model)
    lib = work / f"stdp_{precision}.so"
    compile_model(nclc, source, lib, f"--precision={precision}")
    return lib


def trains(seed, steps):
    rng = np.random.default_rng(seed)
    pre = [poisson_train(rng, 40.0, steps) for _ in range(10)]
    post = [poisson_train(rng, 30.0, steps) for _ in range(6)]
    return pre, post


def check_roundtrip(nclc, ncl_run_path, rt, work):
    pre, post = trains(5, 1000)
    save_trains(work, "pre", pre)
    save_trains(work, "post", post)
    for precision, dtype in (("f64", "<f8"), ("f32", "<f4")):
        lib = make_stdp(nclc, work, precision)
        first, second = work / f"rt_{precision}_1", work / f"rt_{precision}_2"
        for d in (first, second):
            shutil.rmtree(d, ignore_errors=True)
        ncl_run(ncl_run_path, lib, "--time", "100ms", "--save-weights", first)
        saved = read_saved(first)
        if set(saved) != {"w", "pre", "post"} | set(TRACES):
            fail(f"{precision}: saved {sorted(saved)}, not w, the connectivity and the traces "
                 "apre and apost once per neuron with their times")
        if len(saved["pre.apre"]) != 10 or len(saved["post.apost"]) != 6:
            fail(f"{precision}: S_pre.apre.npy and S_post.apost.npy hold "
                 f"{len(saved['pre.apre'])} and {len(saved['post.apost'])} values, not one per "
                 "presynaptic (10) and postsynaptic (6) neuron")
        for name in ("w",) + TRACES:
            if saved[name].dtype.str != dtype or saved[name].ndim != 1:
                fail(f"{precision}: S_{name}.npy is {saved[name].dtype.str} "
                     f"{saved[name].shape}, not 1-D {dtype}")
        for name in ("pre", "post"):
            if saved[name].dtype.str != "<i4":
                fail(f"S_{name}.npy is {saved[name].dtype.str}, not <i4")
        # The same as the C API reads after the same run.
        m = rt.open(str(lib), seed=3)
        rt.run_steps(m, 1000)
        i, j = rt.synapses(m, "S")
        if not (np.array_equal(saved["pre"], i) and np.array_equal(saved["post"], j)):
            fail(f"{precision}: S_pre/S_post.npy differ from ncl_get_synapses")
        for name in VARS:
            expect = per_synapse(saved, name).astype(np.float64)
            if rt.synapse_state(m, "S", name).tobytes() != expect.tobytes():
                fail(f"{precision}: S_{name}.npy differs from ncl_get_synapse_state")
        rt.close(m)
        if len(np.unique(saved["w"])) < len(saved["w"]) // 2:
            fail(f"{precision}: the weights are not spread out; the check would prove little")
        # Load into a fresh model with no run, save again: the same bytes.
        ncl_run(ncl_run_path, lib, "--time", "0ms", "--load-weights", first,
                "--save-weights", second)
        for name in saved:
            a = (first / f"S_{name}.npy").read_bytes()
            b = (second / f"S_{name}.npy").read_bytes()
            if a != b:
                fail(f"{precision}: S_{name}.npy changed in a load/save round trip")
        # And through the C API: load, then read.
        m = rt.open(str(lib), seed=3)
        rt.load_weights(m, first)
        for name in VARS:
            expect = per_synapse(saved, name).astype(np.float64)
            if rt.synapse_state(m, "S", name).tobytes() != expect.tobytes():
                fail(f"{precision}: ncl_load_weights then ncl_get_synapse_state differs for {name}")
        rt.close(m)
        print(f"roundtrip, {precision}: {len(saved['w'])} synapses, {dtype} files equal to the "
              f"C API's values, load + save gives the same bytes")


def check_continue(nclc, ncl_run_path, work):
    n1, n2 = 600, 700
    pre, post = trains(9, n1 + n2)
    # Spikes right at the split, on both sides, so that the boundary is tested.
    pre[0] = np.union1d(pre[0], [n1 - 1, n1])
    post[0] = np.union1d(post[0], [n1 - 1, n1])
    # Clock-driven traces: an event-driven synapse's _lastupdate holds the
    # absolute time of its last event, which a run whose clock restarts at
    # 0 cannot continue from (docs/runtime.md, "Saved weights").
    lib = make_stdp(nclc, work, method="clock_driven")
    full, part1, part2 = work / "ct_full", work / "ct_part1", work / "ct_part2"
    shifted, alone = work / "ct_shifted", work / "ct_alone"
    for threads in (1, 2, 3):
        for d in (full, part1, part2, shifted, alone):
            shutil.rmtree(d, ignore_errors=True)
        shifted.mkdir()
        save_trains(work, "pre", pre)
        save_trains(work, "post", post)
        ncl_run(ncl_run_path, lib, "--threads", threads, "--time", f"{(n1 + n2) * 0.1}ms",
                "--save-weights", full)
        ncl_run(ncl_run_path, lib, "--threads", threads, "--time", f"{n1 * 0.1}ms",
                "--save-weights", part1)
        save_trains(shifted, "pre", pre, shift=n1)
        save_trains(shifted, "post", post, shift=n1)
        ncl_run(ncl_run_path, lib, "--threads", threads, "--data-dir", shifted,
                "--time", f"{n2 * 0.1}ms", "--load-weights", part1, "--save-weights", part2)
        ncl_run(ncl_run_path, lib, "--threads", threads, "--data-dir", shifted,
                "--time", f"{n2 * 0.1}ms", "--save-weights", alone)
        a, b1, b2, c = (read_saved(d) for d in (full, part1, part2, alone))
        for name in VARS:
            if a[name].tobytes() != b2[name].tobytes():
                k = int(np.argmax(a[name] != b2[name]))
                fail(f"{threads} threads: {name} after T1 + T2 in one run differs from T1, "
                     f"save, load, T2: synapse {k}: {a[name][k]!r} vs {b2[name][k]!r}")
        if a["w"].tobytes() == b1["w"].tobytes() or a["w"].tobytes() == c["w"].tobytes():
            fail("the weights did not change in T2, or T2 alone gives them: the check proves "
                 "nothing")
        if not (np.any(b1["apre"] != 0) and np.any(b1["apost"] != 0)):
            fail("the traces were zero at the split: the check would not see them carried over")
    print(f"continue: {len(a['w'])} synapses, {n1} + {n2} steps in one run and in two "
          f"processes give the same w, apre, apost bit for bit on 1, 2 and 3 threads")
    # Event-driven traces: _lastupdate is saved relative to the time of
    # saving and loaded relative to the loading run's clock, so the
    # continuation decays each trace over the right time: the same values
    # up to rounding (elapsed times are differences of other numbers).
    lib = make_stdp(nclc, work, method="event_driven")
    for d in (full, part1, part2, alone):
        shutil.rmtree(d, ignore_errors=True)
    ncl_run(ncl_run_path, lib, "--time", f"{(n1 + n2) * 0.1}ms", "--save-weights", full)
    ncl_run(ncl_run_path, lib, "--time", f"{n1 * 0.1}ms", "--save-weights", part1)
    ncl_run(ncl_run_path, lib, "--data-dir", shifted, "--time", f"{n2 * 0.1}ms",
            "--load-weights", part1, "--save-weights", part2)
    ncl_run(ncl_run_path, lib, "--data-dir", shifted, "--time", f"{n2 * 0.1}ms",
            "--save-weights", alone)
    names = ("w",) + TRACES
    a, b2, c = ({name: np.load(d / f"S_{name}.npy") for name in names}
                for d in (full, part2, alone))
    for name in ("pre._lastupdate", "post._lastupdate"):
        if not np.all(a[name] <= 0) or not np.any(a[name] < -1e-3):
            fail(f"saved {name} should be times before the saving, <= 0: {a[name]}")
    err = max(float(np.max(np.abs(a[name] - b2[name]))) for name in names)
    if not err < 1e-12:
        fail(f"event-driven: T1 + T2 in one run and T1, save, load, T2 differ by {err:.3g}")
    if np.max(np.abs(a["w"] - c["w"])) < 1e-6:
        fail("event-driven: T2 alone gives the same weights: the check proves nothing")
    print(f"continue, event-driven: the same w, and apre and apost (kept per neuron) with their "
          f"times, within {err:.1e}")


def monitor_against_api(ncl_run_path, rt, work, lib, steps, every, dtype):
    """Runs `lib` with synapse monitors w every `every` steps and apre of
    synapses 3..11 every step, and compares the files with the C API."""
    # The reference: the C API's values after n steps, for every n sampled.
    m = rt.open(str(lib), seed=3)
    expect_w, expect_apre = [], []
    for n in range(steps):
        if n % every == 0:
            expect_w.append(rt.synapse_state(m, "S", "w"))
        expect_apre.append(rt.synapse_state(m, "S", "apre")[3:12])
        rt.run_steps(m, 1)
    rt.close(m)
    expect_w, expect_apre = np.array(expect_w), np.array(expect_apre)
    if len(np.unique(expect_w[-1])) < 10 or not np.any(expect_apre != 0):
        fail("the recorded variables hardly change; the check would prove little")
    for threads in (1, 2, 3):
        out = work / f"monitor_out_{dtype[1:]}_{threads}"
        shutil.rmtree(out, ignore_errors=True)
        ncl_run(ncl_run_path, lib, "--threads", threads, "--time", f"{steps * 0.1}ms",
                "--out", out)
        w, w_t, w_i = (np.load(out / f"S_w{x}.npy") for x in ("", "_t", "_i"))
        apre, apre_t, apre_i = (np.load(out / f"S_apre{x}.npy") for x in ("", "_t", "_i"))
        if w.dtype.str != dtype or apre.dtype.str != dtype:
            fail(f"S_w.npy, S_apre.npy are {w.dtype.str}, {apre.dtype.str}, not {dtype}")
        w, apre = w.astype(np.float64), apre.astype(np.float64)
        if w.shape != expect_w.shape or w.tobytes() != expect_w.tobytes():
            fail(f"{threads} threads: S_w.npy {w.shape} differs from ncl_get_synapse_state "
                 f"every {every} steps {expect_w.shape}")
        if apre.tobytes() != expect_apre.tobytes():
            fail(f"{threads} threads: S_apre.npy differs from ncl_get_synapse_state")
        n_w = np.arange(0, steps, every)
        if not (np.array_equal(w_t, n_w * DT) and np.array_equal(apre_t, np.arange(steps) * DT)):
            fail(f"{threads} threads: sample times are not n * every * dt")
        if not (np.array_equal(w_i, np.arange(w.shape[1])) and
                np.array_equal(apre_i, np.arange(3, 12))):
            fail(f"{threads} threads: S_w_i.npy / S_apre_i.npy are not the synapse indices")
    return w, w_i, apre


def check_monitor(nclc, ncl_run_path, rt, work):
    pre, post = trains(11, 400)
    save_trains(work, "pre", pre)
    save_trains(work, "post", post)
    source = work / "monitor.ncl"
    source.write_text(STDP_MODEL.replace("simulate", "record w(S) every 7\n"
                                         "  record apre(S[3:12])\n  simulate"))
    steps, every = 400, 7
    for precision, dtype in (("f64", "<f8"), ("f32", "<f4")):
        lib = work / f"monitor_{precision}.so"
        compile_model(nclc, source, lib, f"--precision={precision}")
        w, w_i, apre = monitor_against_api(ncl_run_path, rt, work, lib, steps, every, dtype)
    lib = work / "monitor.so"
    # A range beyond the synapses built (fixed_probability: known at init).
    source.write_text(STDP_MODEL.replace("simulate", "record w(S[50:70])\n  simulate"))
    compile_model(nclc, source, lib)
    r = ncl_run(ncl_run_path, lib, expect_ok=False)
    lines = r.stderr.strip().splitlines()
    expect = ("ncl-run: error: the monitor 'S_w' records synapses 50 to 69 of projection 'S', "
              f"which has {len(w_i)} synapses in this run")
    if r.returncode != 1 or lines != [expect]:
        fail(f"a monitor beyond the synapses: exit {r.returncode}, {r.stderr!r}, not {expect!r}")
    print(f"monitor: {w.shape[0]} samples of {w.shape[1]} weights and {apre.shape[0]} of 9 "
          f"traces equal ncl_get_synapse_state bit for bit on 1, 2 and 3 threads, float64 and "
          f"float32; a range beyond the synapses is refused")


def check_errors(nclc, ncl_run_path, work):
    pre, post = trains(5, 500)
    save_trains(work, "pre", pre)
    save_trains(work, "post", post)
    lib = make_stdp(nclc, work)
    good = work / "err_good"
    shutil.rmtree(good, ignore_errors=True)
    ncl_run(ncl_run_path, lib, "--time", "50ms", "--save-weights", good)
    n = len(np.load(good / "S_w.npy"))

    def variant(name, change):
        d = work / f"err_{name}"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(good, d)
        change(d)
        return d

    cases = [
        ("missing directory", work / "err_nowhere", "err_nowhere' is not a directory"),
        ("missing file", variant("missing", lambda d: (d / "S_post.apost.npy").unlink()),
         "S_post.apost.npy' cannot be read: No such file or directory"),
        ("trace of another size", variant("trace", lambda d: np.save(d / "S_pre.apre.npy",
                                                                     np.zeros(11))),
         "S_pre.apre.npy' holds 11 values, but the presynaptic population of 'S' has 10 "
         "neurons"),
        ("wrong length", variant("length", lambda d: np.save(d / "S_w.npy", np.zeros(n - 1))),
         f"S_w.npy' holds {n - 1} values, but projection 'S' has {n} synapses"),
        ("wrong dtype", variant("dtype", lambda d: np.save(d / "S_w.npy",
                                                           np.zeros(n, np.float32))),
         "S_w.npy' has dtype '<f4', but this is a float64 model, which saves and loads '<f8'"),
        ("not finite", variant("nan", lambda d: np.save(d / "S_w.npy",
                                                        np.r_[np.full(n - 1, 0.5), np.inf])),
         f"S_w.npy' holds inf at synapse {n - 1}; values must be finite"),
        ("float indices", variant("fidx", lambda d: np.save(d / "S_post.npy",
                                                            np.zeros(n))),
         "S_post.npy' has dtype '<f8', but neuron indices are integers"),
        ("other connectivity", variant("conn", lambda d: np.save(
            d / "S_post.npy", np.r_[(np.load(d / "S_post.npy")[:3] + 1) % 6,
                                    np.load(d / "S_post.npy")[3:]].astype(np.int32))),
         "S_post.npy' does not describe this model's synapses: synapse 0 is Pre["),
    ]
    for what, directory, message in cases:
        out = work / "err_out"
        shutil.rmtree(out, ignore_errors=True)
        r = ncl_run(ncl_run_path, lib, "--load-weights", directory, "--out", out,
                    expect_ok=False)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 1 or len(lines) != 1 or message not in lines[0] \
                or not lines[0].startswith("ncl-run: error: cannot load weights: "):
            fail(f"{what}: exit {r.returncode}, stderr {r.stderr!r}; expected one line "
                 f"with {message!r}")
        if out.exists():
            fail(f"{what}: ncl-run wrote output after failing to load the weights")
    print(f"errors: {len(cases)} bad weight directories refused with one message naming the "
          f"file, exit 1, nothing written")


def main():
    nclc, ncl_run_path, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / f"weights_{check}"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    if check == "set":
        check_set(nclc, rt, work)
    elif check == "roundtrip":
        check_roundtrip(nclc, ncl_run_path, rt, work)
    elif check == "continue":
        check_continue(nclc, ncl_run_path, work)
    elif check == "monitor":
        check_monitor(nclc, ncl_run_path, rt, work)
    elif check == "errors":
        check_errors(nclc, ncl_run_path, work)
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
