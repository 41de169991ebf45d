"""End-to-end checks of connectivity by a condition and from .npy files.

usage: connect_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK

CHECK is one of
  condition  `connect ... if cond`: the exact synapses of deterministic
             conditions (a band |i - j| < k, a shifted diagonal between
             subgroups, positions drawn at initialisation), read back through
             the spikes each target receives; with fixed_probability(p), the
             count within binomial bounds over several seeds, and exactly
             fixed_probability's synapses when the condition always holds;
  npy        `connect from_npy(...)`: numpy writes pre, post and weights, and
             every synapse's effect on its target equals its weight; the
             synapse count equals the lists' length;
  npy-errors every load-time error of the files (missing, not .npy, wrong
             dtype, wrong rank, lengths that differ, an index outside the
             range, a non-finite weight, a negative delay): ncl-run exits
             non-zero with one message that names the file;
  init-reads initial values of synapse state that read the neurons'
             positions (x_pre, x_post, drawn at initialisation): every
             synapse's distance and Gaussian weight, read back through
             ncl_get_synapse_state, against the positions ncl_get_state
             gives, on 1 and 3 threads.
  ranges     the searches that find a thread's part of a row (its
             postsynaptic range): rows of .npy lists with runs of
             multapses, a row onto every target, rows onto only the first
             or the last target, an empty row; every target's sum of the
             weights 8**i that reach it, on 1 to 8 threads (every split of
             the 37 targets) and, with FAKE_CUDA_DRIVER, on the CUDA backend
             over the fake driver (a GPU thread per target, the GPU's code
             run on the host), against the sums numpy takes of the lists.

usage for ranges: connect_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR ranges [FAKE_CUDA_DRIVER]

Targets are identified exactly: each source neuron i adds 2**i to a
dimensionless counter of every target it reaches, in one step, so the
counter of target j (a sum of distinct powers of two, exact in doubles) is
the set of its presynaptic neurons.
"""
import ctypes
import math
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

COMMON = """
neuron Clock {
  state { c = 0; x : um = rand() * 100 um }
  update { c = c + 1 }
  spike when c > 9.5 and c < 10.5
}
neuron Counter {
  state { s = 0; x : um = rand() * 100 um }
  update { s = s }
}
synapse Mark {
  on_pre { s += 2 ** i }
}
"""

CONDITION_MODEL = COMMON + """
network Band {
  population Src = Clock[20]
  population Dst = Counter[20]
  population Far = Counter[30]
  projection B = Mark(Src -> Dst) { connect all_to_all() if abs(i - j) < 3 and i != j }
  projection S = Mark(Src[5:15] -> Far[10:30]) { connect all_to_all() if j == 2 * i }
  projection X = Mark(Src -> Far) { connect all_to_all() if abs(x_pre - x_post) < 20 um }
  simulate 3 ms, dt = 0.1 ms, seed = 1
}
"""

N_PROB = 300
P_PROB = 0.3
PROBABILITY_MODEL = COMMON + """
network Prob {{
  population Src = Clock[{n}]
  population Dst = Counter[{n}]
  projection C = Mark(Src -> Dst) {{ connect fixed_probability({p}) if i != j }}
  simulate 3 ms, dt = 0.1 ms, seed = 1
}}
""".format(n=N_PROB, p=P_PROB)


INIT_READS_MODEL = COMMON + """
synapse Spatial {
  parameters { sigma = 30 um }
  state { d : um = 0 um; w = 0 }
  on_pre { s += w }
}
network Space {
  population Src = Clock[40]
  population Dst = Counter[50]
  projection G = Spatial(Src -> Dst) {
    connect fixed_probability(0.3)
    d = abs(x_pre - x_post)
    w = exp(-(x_pre - x_post) ** 2 / (2 * sigma ** 2))
  }
  simulate 3 ms, dt = 0.1 ms, seed = 7
}
"""


def check_init_reads(nclc, rt, work):
    source = work / "space.ncl"
    source.write_text(INIT_READS_MODEL)
    lib = work / "space.so"
    compile_model(nclc, source, lib)
    seen = {}
    for threads in (1, 3):
        m = rt.open(str(lib), seed=7, threads=threads)
        xs = rt.state(m, "Src", "x", 40)
        xd = rt.state(m, "Dst", "x", 50)
        i, j = rt.synapses(m, "G")
        d = rt.synapse_state(m, "G", "d")
        w = rt.synapse_state(m, "G", "w")
        rt.close(m)
        if len(i) < 300:
            fail(f"expected about 600 synapses, got {len(i)}")
        delta = xs[i] - xd[j]
        if not np.array_equal(d, np.abs(delta)):
            fail(f"{threads} threads: d differs from |x_pre - x_post| by up to "
                 f"{np.max(np.abs(d - np.abs(delta))):.3g}")
        expect = np.exp(-delta ** 2 / (2 * 30e-6 ** 2))
        err = np.max(np.abs(w - expect))
        if not err < 1e-15:
            fail(f"{threads} threads: w differs from exp(-(x_pre - x_post)^2 / 2 sigma^2) "
                 f"by {err:.3g}")
        seen[threads] = (d.tobytes(), w.tobytes())
    if seen[1] != seen[3]:
        fail("the initial values differ between 1 and 3 threads")
    print(f"init-reads: {len(i)} synapses, d = |x_pre - x_post| exact, w Gaussian of it within "
          f"{err:.1e}, identical on 1 and 3 threads")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def compile_model(nclc, source, out):
    subprocess.run([nclc, str(source), "-o", str(out)], check=True)


def synapse_counts(rt, m):
    rt.rt.ncl_num_projections.argtypes = [ctypes.c_void_p]
    rt.rt.ncl_projection_synapses.restype = ctypes.c_int64
    rt.rt.ncl_projection_synapses.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    return [rt.rt.ncl_projection_synapses(m, q) for q in range(rt.rt.ncl_num_projections(m))]


def sources_of(counter):
    """The presynaptic set of each target from its counter (sum of 2**i)."""
    sets = []
    for value in counter:
        v = int(value)
        if v != value:
            fail(f"counter {value} is not an integer")
        sets.append({i for i in range(64) if v >> i & 1})
    return sets


def check_condition(nclc, rt, work):
    source = work / "condition.ncl"
    source.write_text(CONDITION_MODEL)
    lib = work / "condition.so"
    compile_model(nclc, source, lib)
    for threads in (1, 3):
        m = rt.open(str(lib), seed=5, threads=threads)
        x_src = rt.state(m, "Src", "x", 20)
        x_far = rt.state(m, "Far", "x", 30)
        counts = synapse_counts(rt, m)
        rt.run_steps(m, 20)
        dst = sources_of(rt.state(m, "Dst", "s", 20))
        far = rt.state(m, "Far", "s", 30)
        rt.close(m)

        band = [{i for i in range(20) if abs(i - j) < 3 and i != j} for j in range(20)]
        if dst != band:
            fail(f"band |i - j| < 3, i != j: targets receive from {dst}, expected {band}")
        if counts[0] != sum(len(s) for s in band):
            fail(f"band: {counts[0]} synapses, expected {sum(len(s) for s in band)}")
        # S (Src[5:15] -> Far[10:30], j == 2 i) and X (positions) both reach Far.
        shifted = [{i for i in range(5, 15) if j == 2 * i and 10 <= j < 30} for j in range(30)]
        near = [{i for i in range(20) if abs(x_src[i] - x_far[j]) < 20e-6} for j in range(30)]
        expect = [sum(2.0 ** i for i in shifted[j]) + sum(2.0 ** i for i in near[j])
                  for j in range(30)]
        if list(far) != expect:
            fail(f"Far receives {list(far)}, expected {expect}")
        if counts[1] != sum(len(s) for s in shifted) or counts[1] != 10:
            fail(f"j == 2 i on the subgroups: {counts[1]} synapses, expected 10")
        if counts[2] != sum(len(s) for s in near):
            fail(f"positions: {counts[2]} synapses, expected {sum(len(s) for s in near)}")
        if not 0 < counts[2] < 600:
            fail(f"positions: {counts[2]} synapses of 600 pairs: the test says nothing")
        print(f"condition ({threads} threads): band {counts[0]} synapses, shifted diagonal "
              f"{counts[1]}, positions {counts[2]} (each exact)")

    source = work / "probability.ncl"
    source.write_text(PROBABILITY_MODEL)
    lib = work / "probability.so"
    compile_model(nclc, source, lib)
    pairs = N_PROB * N_PROB - N_PROB
    mean, sd = P_PROB * pairs, math.sqrt(pairs * P_PROB * (1 - P_PROB))
    seen = set()
    for seed in (1, 2, 3, 4):
        m = rt.open(str(lib), seed=seed)
        counts = synapse_counts(rt, m)
        rt.close(m)
        # 5 sigma: a false failure has probability below 6e-7 per seed.
        if abs(counts[0] - mean) > 5 * sd:
            fail(f"seed {seed}: fixed_probability({P_PROB}) if i != j made {counts[0]} "
                 f"synapses, expected {mean:.0f} +- {5 * sd:.0f} (5 sigma)")
        seen.add(counts[0])
        print(f"seed {seed}: {counts[0]} synapses, binomial mean {mean:.0f}, sd {sd:.1f}")
    if len(seen) < 2:
        fail("different seeds gave the same connectivity")
    check_always_true(nclc, rt, work)


ALWAYS_MODEL = """
network Same {{
  population Src = Clock[40]
  population Dst = Counter[40]
  projection C = Mark(Src -> Dst) {{ {rule} }}
  simulate 3 ms, dt = 0.1 ms, seed = 1
}}
"""


def check_always_true(nclc, rt, work):
    """fixed_probability(p) if <always true> draws the same synapses as
    fixed_probability(p) (docs/semantics.md): the same projection index and
    seed give identical targets."""
    received = {}
    for name, rule in [("plain", "connect fixed_probability(0.25)"),
                       ("cond", "connect fixed_probability(0.25) if i + j >= 0")]:
        source = work / f"always_{name}.ncl"
        source.write_text(COMMON + ALWAYS_MODEL.format(rule=rule))
        lib = work / f"always_{name}.so"
        compile_model(nclc, source, lib)
        m = rt.open(str(lib), seed=9)
        rt.run_steps(m, 20)
        received[name] = list(rt.state(m, "Dst", "s", 40))
        rt.close(m)
    if received["plain"] != received["cond"]:
        fail("fixed_probability(0.25) if true differs from fixed_probability(0.25)")
    if not any(received["plain"]):
        fail("no synapse at all: the comparison says nothing")
    print("fixed_probability(0.25) if (always true) == fixed_probability(0.25): identical targets")


NPY_MODEL = """
neuron Clock {{
  state {{ c = 0 }}
  update {{ c = c + 1 }}
  spike when c > 9.5 + 3 * i and c < 10.5 + 3 * i
}}
neuron Counter {{
  state {{ s : mV = 0 mV }}
  update {{ s = s }}
}}
synapse Weighted {{
  state {{ w : mV = 1 mV }}
  on_pre {{ s += w }}
}}
network Files {{
  population Src = Clock[8]
  population Dst = Counter[6]
  projection F = Weighted(Src[{pre_begin}:8] -> Dst) {{
    connect from_npy("pre.npy", "post.npy", w = "w.npy"{extra})
  }}
  simulate 5 ms, dt = 0.1 ms, seed = 1
}}
"""


def write_lists(directory, pre, post, w, pre_dtype=np.int64, w_dtype=np.float64):
    np.save(directory / "pre.npy", np.asarray(pre, dtype=pre_dtype))
    np.save(directory / "post.npy", np.asarray(post, dtype=np.int32))
    np.save(directory / "w.npy", np.asarray(w, dtype=w_dtype))


def check_npy(nclc, rt, work):
    directory = work / "npy"
    directory.mkdir(exist_ok=True)
    source = directory / "files.ncl"
    source.write_text(NPY_MODEL.format(pre_begin=0, extra=""))
    lib = directory / "files.so"
    compile_model(nclc, source, lib)
    rng = np.random.default_rng(3)
    n = 40
    pre = rng.integers(0, 8, n)
    post = rng.integers(0, 6, n)
    pre[:3], post[:3] = 2, 4  # a multapse: three synapses 2 -> 4
    w = rng.uniform(0.1, 2.0, n)  # mV
    write_lists(directory, pre, post, w)
    # Run from elsewhere: the paths resolve against the .ncl file's directory.
    expect = np.zeros((8, 6))
    for k in range(n):
        expect[pre[k], post[k]] += w[k] * 1e-3
    for threads in (1, 2):
        m = rt.open(str(lib), seed=1, threads=threads)
        count = synapse_counts(rt, m)[0]
        if count != n:
            fail(f"{count} synapses, the files list {n}")
        trace = []
        for _ in range(50):
            rt.run_steps(m, 1)
            trace.append(rt.state(m, "Dst", "s", 6))
        rt.close(m)
        steps = np.diff(np.vstack([np.zeros(6), np.array(trace)]), axis=0)
        active = [s for s in range(len(steps)) if np.any(steps[s] != 0)]
        # Source i spikes 3 i steps after source 0: its row arrives then.
        rows_with_synapses = [i for i in range(8) if np.any(expect[i] != 0)]
        base = active[0] - 3 * rows_with_synapses[0]
        got = np.zeros((8, 6))
        for s in active:
            i, r = divmod(s - base, 3)
            if r != 0 or not 0 <= i < 8:
                fail(f"an effect in step {s}, when no source spikes")
            got[i] = steps[s]
        err = np.max(np.abs(got - expect))
        if not err <= 1e-12 * np.max(np.abs(expect)):
            fail(f"per-synapse effects differ from the weights in w.npy by {err:.3g} V:\n"
                 f"{got}\nexpected\n{expect}")
        print(f"npy round trip ({threads} threads): {n} synapses, every (pre, post) effect "
              f"equals the sum of its weights (max error {err:.2e} V)")


RANGES_MODEL = """
neuron Clock {
  state { c = 0 }
  update { c = c + 1 }
  spike when c > 2.5 and c < 3.5
}
neuron Counter {
  state { s = 0 }
  update { s = s }
}
synapse Tag {
  state { w = 0 }
  on_pre { s += w }
}
network Ranges {
  population Src = Clock[12]
  population Dst = Counter[37]
  projection T = Tag(Src -> Dst) { connect from_npy("pre.npy", "post.npy", w = "w.npy") }
  simulate 1 ms, dt = 0.1 ms, seed = 1
}
"""


def ranges_lists():
    """Rows that probe the searches' edges, as (pre, post) lists: source i's
    synapses weigh 8**i, and no pair repeats more than 7 times, so a target's
    sum (exact in doubles) says how many synapses of each row reach it."""
    n_post = 37
    rows = {
        0: list(range(n_post)),                      # every target once
        1: [5] * 7 + [6] * 3 + [30],                 # runs of multapses
        2: [j for j in range(n_post) for _ in (0, 1)],  # every target twice
        # row 3 is empty
        4: [n_post - 1] * 5,                         # only the last target
        5: [0] * 4,                                  # only the first
        6: [0, 1, 2, 3, 4, 5, 6, 7] * 7,             # a long run onto a few
    }
    rng = np.random.default_rng(11)
    for i in range(7, 12):
        targets = rng.choice(n_post, rng.integers(5, 30), replace=False)
        rows[i] = [int(j) for j in targets for _ in range(rng.integers(1, 8))]
    pre, post = [], []
    for i, targets in rows.items():
        pre += [i] * len(targets)
        post += targets
    # Shuffled: the runtime sorts each row by target.
    order = rng.permutation(len(pre))
    return np.array(pre)[order], np.array(post)[order], n_post


def check_ranges(nclc, rt, work, fake_driver):
    directory = work / "ranges"
    directory.mkdir(exist_ok=True)
    source = directory / "ranges.ncl"
    source.write_text(RANGES_MODEL)
    pre, post, n_post = ranges_lists()
    w = 8.0 ** pre
    write_lists(directory, pre, post, w)
    expect = np.zeros(n_post)
    np.add.at(expect, post, w)
    lib = directory / "ranges.so"
    compile_model(nclc, source, lib)
    runs = [(threads, lib, "cpu") for threads in range(1, 9)]
    if fake_driver:
        gpu_lib = directory / "ranges_gpu.so"
        subprocess.run([nclc, str(source), "--target=cuda", "--gpu-emulation", "-o",
                        str(gpu_lib)], check=True)
        os.environ["NCL_CUDA_DRIVER"] = fake_driver
        rt.rt.ncl_set_backend.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        runs.append((1, gpu_lib, "cuda"))
    for threads, library, backend in runs:
        m = rt.open(str(library), seed=1, threads=threads)
        if backend != "cpu":
            rt.check(rt.rt.ncl_set_backend(m, backend.encode()) == 0)
        rt.run_steps(m, 10)
        got = rt.state(m, "Dst", "s", n_post)
        rt.close(m)
        if not np.array_equal(got, expect):
            bad = np.flatnonzero(got != expect)
            fail(f"{backend}, {threads} threads: targets {bad.tolist()} received "
                 f"{got[bad].tolist()}, the lists give {expect[bad].tolist()}")
    print(f"ranges: {len(pre)} synapses in 12 rows onto 37 targets, every target's sum exact "
          f"on 1 to 8 threads" + (" and on the fake device" if fake_driver else ""))


def expect_error(ncl_run, lib, cwd, what, *needles):
    run = subprocess.run([ncl_run, str(lib), "--quiet", "--time", "1ms", "--out",
                          str(cwd / "out")], capture_output=True, text=True, cwd=cwd.parent)
    if run.returncode == 0:
        fail(f"{what}: ncl-run succeeded")
    if run.returncode < 0 or run.returncode >= 128:
        fail(f"{what}: ncl-run crashed (status {run.returncode})")
    message = run.stderr.strip()
    lines = [line for line in message.splitlines() if line.strip()]
    if len(lines) != 1:
        fail(f"{what}: expected one message, got:\n{message}")
    for needle in needles:
        if needle not in message:
            fail(f"{what}: the message lacks {needle!r}:\n{message}")
    print(f"{what}: {message}")


def check_npy_errors(nclc, ncl_run, rt, work):
    directory = work / "npy_errors"
    directory.mkdir(exist_ok=True)
    source = directory / "files.ncl"
    source.write_text(NPY_MODEL.format(pre_begin=2, extra=', delay = "d.npy"'))
    lib = directory / "files.so"
    compile_model(nclc, source, lib)
    pre_path, post_path = str(directory / "pre.npy"), str(directory / "post.npy")
    w_path, d_path = str(directory / "w.npy"), str(directory / "d.npy")

    def good():
        write_lists(directory, [2, 3, 7], [0, 5, 1], [1.0, 2.0, 3.0])
        np.save(d_path, np.array([1.0, 2.5, 0.0]))

    good()
    (directory / "pre.npy").unlink()
    expect_error(ncl_run, lib, directory, "missing file", pre_path, "cannot be read")
    good()
    (directory / "post.npy").write_text("2,3,7\n")
    expect_error(ncl_run, lib, directory, "not .npy", post_path, "is not a .npy file")
    good()
    np.save(pre_path, np.array([2.0, 3.0, 7.0]))
    expect_error(ncl_run, lib, directory, "float indices", pre_path, "'<f8'", "integers")
    good()
    np.save(w_path, np.array([1, 2, 3], dtype=np.int64))
    expect_error(ncl_run, lib, directory, "integer weights", w_path, "'<i8'", "real numbers")
    good()
    np.save(pre_path, np.array([2, 3, 7], dtype=np.uint8))
    expect_error(ncl_run, lib, directory, "unsupported dtype", pre_path, "dtype '|u1'")
    good()
    np.save(post_path, np.array([[0, 5, 1]], dtype=np.int64))
    expect_error(ncl_run, lib, directory, "2-D", post_path, "2-D array")
    good()
    np.save(post_path, np.array([0, 5], dtype=np.int64))
    expect_error(ncl_run, lib, directory, "lengths differ", post_path, "holds 2", "lists 3")
    good()
    np.save(w_path, np.array([1.0, 2.0, 3.0, 4.0]))
    expect_error(ncl_run, lib, directory, "weights longer", w_path, "holds 4", "lists 3")
    good()
    np.save(pre_path, np.array([2, 1, 7]))  # Src[2:8]: 1 is outside the subgroup
    expect_error(ncl_run, lib, directory, "pre outside subgroup", pre_path, "entry 1",
                 "index 1", "[2, 8)")
    good()
    np.save(post_path, np.array([0, 6, 1]))
    expect_error(ncl_run, lib, directory, "post outside range", post_path, "index 6", "[0, 6)")
    good()
    np.save(post_path, np.array([0, -1, 1]))
    expect_error(ncl_run, lib, directory, "negative index", post_path, "index -1")
    good()
    np.save(w_path, np.array([1.0, np.nan, 3.0]))
    expect_error(ncl_run, lib, directory, "NaN weight", w_path, "entry 1", "finite")
    good()
    np.save(w_path, np.array([1.0, 2.0, np.inf], dtype=np.float32))
    expect_error(ncl_run, lib, directory, "infinite weight", w_path, "entry 2", "finite")
    good()
    np.save(d_path, np.array([1.0, -0.5, 0.0]))
    expect_error(ncl_run, lib, directory, "negative delay", d_path, "entry 1", "negative")
    good()
    np.save(d_path, np.array([1.0, 7000.0, 0.0]))  # ms: beyond 65534 steps of 0.1 ms
    expect_error(ncl_run, lib, directory, "delay too long", d_path, "synapse 1", "longer than")

    # Valid files: each synapse's effect arrives round(d / dt) steps later
    # than with delays of zero (targets 0, 5, 1 are distinct).
    def arrivals(delays_ms):
        good()
        np.save(d_path, np.asarray(delays_ms, dtype=np.float64))
        m = rt.open(str(lib), seed=1)
        trace = []
        for _ in range(80):
            rt.run_steps(m, 1)
            trace.append(rt.state(m, "Dst", "s", 6))
        rt.close(m)
        trace = np.array(trace)
        first = {}
        for target, weight in ((0, 1e-3), (5, 2e-3), (1, 3e-3)):
            moved = np.nonzero(trace[:, target] != 0)[0]
            if len(moved) == 0:
                fail(f"delays {delays_ms}: target {target} never received its synapse")
            if abs(trace[moved[0], target] - weight) > 1e-15:
                fail(f"delays {delays_ms}: target {target} received {trace[moved[0], target]}")
            first[target] = int(moved[0])
        return first

    # ms; at dt = 0.1 ms the rule round-half-even(d / dt), evaluated in
    # double precision as docs/semantics.md writes it, gives 10, 26 and 0
    # (and 25 for 2.55 ms, whose quotient is just below 25.5).
    delays = [1.0, 2.6, 0.04]
    expected = np.rint(np.array(delays) * 1e-3 / 1e-4).astype(int)
    if list(expected) != [10, 26, 0]:
        fail(f"the rounding rule gives {list(expected)} steps for {delays} ms")
    late, prompt = arrivals(delays), arrivals([0.0, 0.0, 0.0])
    for target, steps in zip((0, 5, 1), expected):
        if late[target] - prompt[target] != steps:
            fail(f"a file delay of {delays} ms: target {target} is {late[target] - prompt[target]}"
                 f" steps late, expected {steps}")
    print(f"delay file: each synapse's effect arrives round(d / dt) steps late ({delays} ms)")


def main():
    nclc, ncl_run, libnclrt, workdir, check = sys.argv[1:6]
    nclc, ncl_run = str(pathlib.Path(nclc).resolve()), str(pathlib.Path(ncl_run).resolve())
    work = pathlib.Path(workdir) / ("connect_" + check)
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    if check == "condition":
        check_condition(nclc, rt, work)
    elif check == "npy":
        check_npy(nclc, rt, work)
    elif check == "init-reads":
        check_init_reads(nclc, rt, work)
    elif check == "npy-errors":
        check_npy_errors(nclc, ncl_run, rt, work)
    elif check == "ranges":
        check_ranges(nclc, rt, work, sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        fail(f"unknown check {check}")
    print("OK")


if __name__ == "__main__":
    main()
