"""End-to-end checks of per-synapse (heterogeneous) delays against mathematics.

usage: delay_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK

CHECK is one of
  exact      two presynaptic neurons spike once (step 99) onto 8 targets
             whose delays are known functions of i and j; on 1, 2 and 3
             threads, every target's membrane is untouched before its first
             arrival step and then follows the closed-form sum of the two
             PSPs (each exact to the step; the weight reads i, so on_pre's
             presynaptic index is checked too); and the same, bit for bit,
             when the thread count changes between every two steps (the
             synapses in flight move to the threads that own their targets);
  long       delays of 1 s + j steps at dt = 0.1 ms (10 000 steps and more):
             each target's first effect comes exactly then, the delays kept
             in two bytes each;
  histogram  delay = 1 ms + rand() * 19 ms onto 20 000 targets: the arrival
             steps, i.e. the drawn delays rounded to steps, against the
             distribution of round(10 + 190 u), u uniform, by a chi-square
             test, and their range and mean, the delays kept in one byte
             each (all within 255 steps);
  example    examples/delays.ncl's header: the pacemaker fires every 240
             steps (tau ln 11 rounded up to the step), each follower once per
             cycle, always its own delay plus one step after it, within
             1.1-20.1 ms;
  errors     a drawn negative delay and one beyond the longest per-synapse
             delay stop ncl-run at initialisation with a message naming the
             projection.
"""
import ctypes
import math
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from network_checks import compile_model, fail, psp_closed_form  # noqa: E402
from nclrt import Runtime  # noqa: E402

DT = 1e-4
WEIGHT = 2e-3  # as network_checks.PSP_MODEL: 2 mV into ge
SPIKE_STEP = 99  # the clock's spike: found in step 99, acts from step 100 + d

MODEL = """
neuron Clock {{
  state {{ c = 0 }}
  update {{ c = c + 1 }}
  spike when c > 99.5 and c < 100.5
}}
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
  on_pre {{ ge += w * (1 + i) }}
}}
network Delays {{
  population Source = Clock[{pre}]
  population Target = Membrane[{post}]
  projection K = Kick(Source -> Target) {{
    connect all_to_all()
    delay = {delay}
  }}
  simulate 50 ms, dt = 0.1 ms, seed = 1
}}
"""

# Counts, from its arrival on, the steps a target has been hit: a step
# that starts with hit = 1 adds 1, so after S steps count = S - arrival.
STAMP_MODEL = """
neuron Clock {
  state { c = 0 }
  update { c = c + 1 }
  spike when c > 99.5 and c < 100.5
}
neuron Stamp {
  state { hit = 0; count = 0 }
  update { count = count + hit }
}
synapse Touch {
  on_pre { hit += 1 }
}
network Histogram {
  population Source = Clock[1]
  population Target = Stamp[20000]
  projection K = Touch(Source -> Target) {
    connect all_to_all()
    delay = 1 ms + rand() * 19 ms
  }
  simulate 30 ms, dt = 0.1 ms, seed = 3
}
"""


def build(nclc, work, name, text):
    source = work / f"{name}.ncl"
    source.write_text(text)
    lib = work / f"{name}.so"
    compile_model(nclc, source, lib)
    return lib


def steps_of(delay_seconds):
    """A delay in steps as docs/semantics.md rounds it: nearbyint(d / dt)."""
    return int(np.rint(delay_seconds / DT))


def expected_v(after_steps, arrivals):
    """v after `after_steps` steps from 0: each (arrival step, weight) adds a
    PSP from the start of its arrival step on (v after step n is v(t_{n+1}))."""
    v = 0.0
    for step, weight in arrivals:
        if after_steps > step:
            v += weight / WEIGHT * psp_closed_form((after_steps - step) * DT)
    return v


def check_exact(nclc, rt, work):
    # delay(i, j) = j^2 * 0.1 ms + i * 0.3 ms + 0.02 ms: j^2 + 3 i steps
    # (0.2 steps above, never a tie). Target 0 gets i = 0 with delay 0.
    pre, post = 2, 8
    lib = build(nclc, work, "delays_exact",
                MODEL.format(pre=pre, post=post,
                             delay="(j * j) * 0.1 ms + i * 0.3 ms + 0.02 ms"))
    arrivals = {j: [(SPIKE_STEP + 1 + steps_of(j * j * 1e-4 + i * 3e-4 + 2e-5),
                     WEIGHT * (1 + i)) for i in range(pre)] for j in range(post)}
    for j in range(post):
        assert [a for a, _ in arrivals[j]] == [SPIKE_STEP + 1 + j * j, SPIKE_STEP + 4 + j * j]
    total = SPIKE_STEP + 1 + (post - 1) ** 2 + 3 + 300
    traces = {}
    for threads in (1, 2, 3, "1-3"):
        switching = threads == "1-3"
        m = rt.open(str(lib), seed=1, threads=1 if switching else threads)
        trace = np.empty((total, post))
        for n in range(total):
            if switching:
                rt.check(rt.rt.ncl_set_threads(m, 1 + n % 3) == 0)
            rt.run_steps(m, 1)
            trace[n] = rt.state(m, "Target", "v", post)
        rt.close(m)
        traces[threads] = trace
        if trace.tobytes() != traces[1].tobytes():
            fail(f"{threads} threads: the membranes differ from one thread's")
        worst = 0.0
        for j in range(post):
            first = arrivals[j][0][0]
            if np.any(trace[:first, j] != 0):
                fail(f"{threads} threads: target {j} moved before step {first}, at step "
                     f"{int(np.flatnonzero(trace[:first, j])[0])}")
            expect = np.array([expected_v(n + 1, arrivals[j]) for n in range(first, total)])
            err = np.max(np.abs(trace[first:, j] - expect)) / np.max(np.abs(expect))
            worst = max(worst, err)
            if not err < 1e-12:
                fail(f"{threads} threads: target {j}: relative error {err:.3g} against the "
                     f"closed form (arrivals at steps {arrivals[j]})")
        print(f"exact, {threads} threads: 8 targets, delays j^2 + 3i steps, untouched before "
              f"arrival, max relative error {worst:.2e}")


def delay_bytes(rt, m, post):
    """Bytes per delay the runtime keeps for projection 0 of `post` targets
    from one source, from ncl_projection_bytes: a postsynaptic index (4
    bytes) and the delay per synapse (the synapses have no variables), and
    two row starts (8 bytes each)."""
    rt.rt.ncl_projection_bytes.restype = ctypes.c_int64
    rt.rt.ncl_projection_bytes.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    total = rt.rt.ncl_projection_bytes(m, 0)
    return (total - 2 * 8) / post - 4


def check_long(nclc, rt, work):
    # 1 s + j * 0.1 ms + 0.02 ms: 10 000 + j steps; the longest 10 003.
    post = 4
    lib = build(nclc, work, "delays_long",
                MODEL.format(pre=1, post=post, delay="1 s + j * 0.1 ms + 0.02 ms"))
    first = [SPIKE_STEP + 1 + steps_of(1.0 + j * 1e-4 + 2e-5) for j in range(post)]
    assert first == [SPIKE_STEP + 1 + 10000 + j for j in range(post)]
    for threads in (1, 2):
        m = rt.open(str(lib), seed=1, threads=threads)
        # 10 003 steps do not fit a byte: two per delay.
        if delay_bytes(rt, m, post) != 2:
            fail(f"{delay_bytes(rt, m, post)} bytes per delay, expected 2 for delays of "
                 f"10 000 steps and more")
        rt.run_steps(m, first[0])
        if np.any(rt.state(m, "Target", "v", post) != 0):
            fail(f"{threads} threads: a target moved before step {first[0]}")
        trace = []
        for _ in range(first[-1] - first[0] + 50):
            rt.run_steps(m, 1)
            trace.append(rt.state(m, "Target", "v", post))
        rt.close(m)
        trace = np.array(trace)
        for j in range(post):
            moved = np.flatnonzero(trace[:, j])
            got = first[0] + int(moved[0]) if len(moved) else None
            if got != first[j]:
                fail(f"{threads} threads: target {j} first moved in step {got}, expected "
                     f"{first[j]} (delay 1 s + {j} steps)")
            n = first[j] - first[0]  # index of the target's arrival step
            expect = psp_closed_form(DT)
            if not abs(trace[n, j] - expect) < 1e-12 * expect:
                fail(f"{threads} threads: target {j}: v = {trace[n, j]} in its arrival step, "
                     f"closed form {expect}")
        print(f"long, {threads} thread(s): delays of 1 s + j steps arrive in steps {first}")


def check_histogram(nclc, rt, work):
    lib = build(nclc, work, "delays_histogram", STAMP_MODEL)
    n, steps = 20000, 300
    m = rt.open(str(lib), seed=3, threads=2)
    # Every delay within 200 steps: the runtime keeps one byte per delay
    # (docs/runtime.md, "Per-synapse delays"), and the arrivals below are
    # read from those bytes.
    if delay_bytes(rt, m, n) != 1:
        fail(f"{delay_bytes(rt, m, n)} bytes per delay, expected 1 for delays within 255 steps")
    rt.run_steps(m, steps)
    count = rt.state(m, "Target", "count", n)
    # Initialised again, the connect stage writes two bytes per delay into
    # a new buffer, which the runtime narrows again: the same arrivals.
    rt.check(rt.rt.ncl_init(m, 3) == 0)
    if delay_bytes(rt, m, n) != 1:
        fail("a second ncl_init left the delays in two bytes")
    rt.run_steps(m, steps)
    if not np.array_equal(rt.state(m, "Target", "count", n), count):
        fail("a second ncl_init with the same seed gives other arrival steps")
    rt.close(m)
    delays = steps - count - (SPIKE_STEP + 1)
    if np.any(delays != np.round(delays)):
        fail("arrival steps are not whole steps")
    delays = delays.astype(np.int64)
    # round(10 + 190 u), u uniform in [0, 1): 10 and 200 take half a step each.
    lo, hi = 10, 200
    if delays.min() < lo or delays.max() > hi:
        fail(f"delays in [{delays.min()}, {delays.max()}] steps, expected within [{lo}, {hi}]")
    values = np.arange(lo, hi + 1)
    p = np.full(len(values), 1.0 / (hi - lo))
    p[0] = p[-1] = 0.5 / (hi - lo)
    observed = np.array([np.count_nonzero(delays == v) for v in values])
    expected = n * p
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    dof = len(values) - 1
    # chi-square with 190 degrees of freedom: mean 190, sd sqrt(380) = 19.5;
    # 5 sd above the mean fails with probability below 1e-5.
    limit = dof + 5 * math.sqrt(2 * dof)
    if not chi2 < limit:
        fail(f"chi-square {chi2:.1f} over {dof} degrees of freedom exceeds {limit:.1f}")
    mean, se = delays.mean(), (hi - lo) / math.sqrt(12 * n)
    if not abs(mean - (lo + hi) / 2) < 5 * se:
        fail(f"mean delay {mean:.3f} steps, expected {(lo + hi) / 2} +- {5 * se:.3f}")
    print(f"histogram: {n} delays in [{delays.min()}, {delays.max()}] steps, mean {mean:.3f} "
          f"(expected 105), chi-square {chi2:.1f} over {dof} degrees of freedom "
          f"(limit {limit:.1f})")


def check_example(nclc, ncl_run, work, model):
    lib = work / "delays_example.so"
    compile_model(nclc, model, lib)
    out = work / "delays_example"
    subprocess.run([ncl_run, str(lib), "--quiet", "--threads", "2", "--out", str(out)],
                   check=True)
    pace = np.rint(np.load(out / "Pace_spike_t.npy") / DT).astype(np.int64)
    period = math.ceil(10e-3 * math.log(11) / DT)  # the first step at or past the crossing
    if not np.array_equal(pace, period * np.arange(1, len(pace) + 1)) or len(pace) != 41:
        fail(f"pacemaker spikes at steps {pace[:5]}..., expected every {period} steps, 41 times")
    steps = np.rint(np.load(out / "F_spike_t.npy") / DT).astype(np.int64)
    index = np.load(out / "F_spike_i.npy")
    cycle = np.searchsorted(pace, steps, side="left") - 1
    lag = steps - pace[cycle]
    for j in range(500):
        mine = lag[index == j]
        if len(mine) == 0 or np.any(mine != mine[0]) or len(set(cycle[index == j])) != len(mine):
            fail(f"follower {j}: lags {mine} steps, expected one constant lag per cycle")
        if not (11 <= mine[0] <= 201):
            fail(f"follower {j}: lag {mine[0]} steps outside 11..201 (1.1-20.1 ms)")
        # Every cycle whose arrival falls within the run.
        expected = np.count_nonzero(pace + mine[0] <= 10000)
        if len(mine) != expected:
            fail(f"follower {j}: {len(mine)} spikes, expected {expected}")
    print(f"example: pacemaker every {period} steps; 500 followers, each at a constant lag "
          f"of {lag.min()}..{lag.max()} steps")


def check_errors(nclc, ncl_run, work):
    cases = [
        ("negative", "(1 - 2 * rand()) * 1 ms", "drew a delay that is negative"),
        ("too_long", "10 s + j * 1 ms", "longer than 6.5534 s"),
    ]
    for name, delay, message in cases:
        lib = build(nclc, work, f"delays_{name}", MODEL.format(pre=1, post=4, delay=delay))
        result = subprocess.run([ncl_run, str(lib), "--quiet", "--time", "1ms"],
                                capture_output=True, text=True)
        if result.returncode == 0:
            fail(f"{name}: ncl-run accepted the delay {delay}")
        if "projection 'K'" not in result.stderr or message not in result.stderr:
            fail(f"{name}: unexpected message: {result.stderr.strip()}")
        if result.stderr.count("\n") != 1:
            fail(f"{name}: expected one line, got: {result.stderr}")
        print(f"errors, {name}: {result.stderr.strip()}")


def main():
    nclc, ncl_run, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / "delays"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    if check == "exact":
        check_exact(nclc, rt, work)
    elif check == "long":
        check_long(nclc, rt, work)
    elif check == "histogram":
        check_histogram(nclc, rt, work)
    elif check == "example":
        check_example(nclc, ncl_run, work, sys.argv[6])
    elif check == "errors":
        check_errors(nclc, ncl_run, work)
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
