"""End-to-end checks of a synapse's on_post block against an independent
reference of docs/semantics.md ("on_post").

usage: on_post_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK

CHECK is one of
  pairs    nearest-neighbour pair STDP written with the times of the last
           spikes (tpre, tpost) between 12 presynaptic and 9 postsynaptic
           spike generators, all to all, each firing a random train over
           300 ms: every one of the 108 weights against a reference that
           replays each synapse's events in the documented order (a step's
           arrivals before its postsynaptic spikes, t = n * dt), in float64
           and float32, on 1, 2 and 3 threads, and the window itself: a
           single pairing at lag d changes w by Ap e^(-d/tau) for d >= 0
           (pre before post, or in the same step) and Am e^(d/tau) for d < 0;
  neurons  on_post with postsynaptic neurons (pacemakers of different
           periods): per synapse, the count of on_post calls equals the
           postsynaptic neuron's spikes that end before the run does; the
           postsynaptic v it reads is the reset value (the start of the step
           after the spike); its presynaptic reads (x_pre, i) and j match
           the synapse's neurons as ncl_get_synapses reports them; all of it
           bit for bit on 1, 2 and 3 threads and when the thread count
           changes between runs;
  delays   the same pair STDP with an axonal delay (delay = 1.5 ms: on_pre
           runs 15 steps after the presynaptic spike) and a dendritic one
           (post_delay = 2 ms: on_post runs 20 steps after the postsynaptic
           spike), onto spike generators and onto pacemaker neurons: every
           weight against the replay of docs/semantics.md ("on_post": in
           each step the arrivals, then the delayed postsynaptic spikes; t
           is the time the block runs), bit-identical on 1, 2 and 3 threads
           and when the thread count changes between runs, and different
           from the same run without delays.
"""
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from network_checks import compile_model, fail  # noqa: E402
from nclrt import Runtime  # noqa: E402

DT = 1e-4
AP, AM, TAUP, TAUM = 0.01, -0.012, 0.020, 0.025
W0, NEVER = 0.5, -1.0  # the initial weight and spike times

STDP_MODEL = """
synapse PairSTDP {
  parameters { Ap = 0.01; Am = -0.012; taup = 20 ms; taum = 25 ms }
  state { w = 0.5; tpre : ms = -1 s; tpost : ms = -1 s }
  on_pre {
    tpre = t
    w += Am * exp(-(t - tpost) / taum)
  }
  on_post {
    tpost = t
    w += Ap * exp(-(t - tpre) / taup)
  }
}
network Pairs {
  population Pre = spike_generator[12]("pre_t.npy", "pre_i.npy")
  population Post = spike_generator[9]("post_t.npy", "post_i.npy")
  projection S = PairSTDP(Pre -> Post) { connect all_to_all() }
  simulate 300 ms, dt = 0.1 ms
}
"""

NEURONS_MODEL = """
neuron Pacemaker {
  parameters { tau = 10 ms; Vt = 10 mV; Vr = 2 mV }
  input I : mV = 0 mV
  state { v : mV = 0 mV; x : mV = i * 1 mV }
  dynamics { v' = (I - v) / tau }
  update { x = x }
  spike when v > Vt
  reset { v = Vr }
}
synapse Watch {
  state { n = 0; vseen : mV = -1 mV; xseen : mV = -1 mV; ii = -1; jj = -1; npre = 0 }
  on_pre { npre += 1 }
  on_post {
    n += 1
    vseen = v
    xseen = x_pre
    ii = i
    jj = j
  }
}
network Watched {
  population In = Pacemaker[7]
  population Out = Pacemaker[11]
  projection S = Watch(In -> Out) { connect fixed_probability(0.5) }
  stimulus In.I += 11 mV + i * 0.7 mV
  stimulus Out.I += 10.5 mV + i * 1.3 mV
  record spikes(Out)
  simulate 200 ms, dt = 0.1 ms, seed = 4
}
"""


def poisson_train(rng, rate, steps):
    """Distinct spike steps of a Bernoulli train (one spike per step at most)."""
    return np.flatnonzero(rng.random(steps) < rate * DT)


def write_generator(work, stem, trains):
    steps = np.concatenate(trains)
    index = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
    order = np.lexsort((index, steps))
    np.save(work / f"{stem}_t.npy", steps[order] * DT)
    np.save(work / f"{stem}_i.npy", index[order])


def reference_weight(pre_steps, post_steps, real, pre_delay=0, post_delay=0, steps=None):
    """One synapse's w after replaying its events: in each step the
    arrival (on_pre, `pre_delay` steps after the presynaptic spike) first,
    then the postsynaptic spike (on_post, `post_delay` steps after it);
    t = n dt of the step n in which the block runs, in float64, then rounded
    to `real` like every value of the model. Only events in steps < `steps`
    run."""
    r = real
    w, tpre, tpost = r(W0), r(NEVER), r(NEVER)
    events = sorted([(int(n) + pre_delay, 0) for n in pre_steps] +
                    [(int(n) + post_delay, 1) for n in post_steps])
    for n, kind in events:
        if steps is not None and n >= steps:
            continue
        t = r(n * DT)
        if kind == 0:
            tpre = t
            w = r(w + r(r(AM) * r(np.exp(r(-r(t - tpost) / r(TAUM))))))
        else:
            tpost = t
            w = r(w + r(r(AP) * r(np.exp(r(-r(t - tpre) / r(TAUP))))))
    return w


def check_pairs(nclc, rt, work):
    rng = np.random.default_rng(12)
    steps = 3000
    pre = [poisson_train(rng, 30.0, steps) for _ in range(12)]
    post = [poisson_train(rng, 20.0, steps) for _ in range(9)]
    # Make sure the window's every regime occurs: a pre and a post spike in
    # the same step, and lone pairs far apart from anything else.
    post[0] = np.union1d(post[0], pre[0][:3])
    write_generator(work, "pre", pre)
    write_generator(work, "post", post)
    source = work / "pairs.ncl"
    source.write_text(STDP_MODEL)
    for precision, real, tol in (("f64", np.float64, 1e-13), ("f32", np.float32, 2e-6)):
        lib = work / f"pairs_{precision}.so"
        compile_model(nclc, source, lib, f"--precision={precision}")
        weights = {}
        for threads in (1, 2, 3):
            m = rt.open(str(lib), seed=1, threads=threads)
            rt.run_steps(m, steps + 1)  # the last spikes' on_post runs in step `steps`
            w = rt.synapse_state(m, "S", "w")
            i, j = rt.synapses(m, "S")
            rt.close(m)
            weights[threads] = w
            if w.tobytes() != weights[1].tobytes():
                fail(f"{precision}, {threads} threads: the weights differ from one thread's")
            if len(w) != 12 * 9 or not (np.array_equal(i, np.repeat(np.arange(12), 9))
                                        and np.array_equal(j, np.tile(np.arange(9), 12))):
                fail(f"{precision}: all_to_all gave other synapses than 12 x 9 in row order")
            expect = np.array([reference_weight(pre[a], post[b], real) for a, b in zip(i, j)])
            err = np.max(np.abs(w - expect))
            if not err < tol:
                k = int(np.argmax(np.abs(w - expect)))
                fail(f"{precision}, {threads} threads: synapse {i[k]} -> {j[k]}: w = {w[k]!r}, "
                     f"the replayed events give {expect[k]!r} (max error {err:.3g})")
        print(f"pairs, {precision}: 108 synapses, "
              f"{sum(map(len, pre))} + {sum(map(len, post))} spikes, max |error| {err:.2e}, "
              f"identical on 1, 2 and 3 threads")
    # The window: one pairing per synapse at lag d = post - pre (one_to_one).
    lags = np.arange(-40, 41, 4)  # steps
    pre_steps = [np.array([500])] * len(lags)
    post_steps = [np.array([500 + d]) for d in lags]
    write_generator(work, "pre", pre_steps)
    write_generator(work, "post", post_steps)
    window = STDP_MODEL.replace("[12]", f"[{len(lags)}]").replace("[9]", f"[{len(lags)}]")
    window = window.replace("all_to_all()", "one_to_one()")
    source = work / "window.ncl"
    source.write_text(window)
    lib = work / "window.so"
    compile_model(nclc, source, lib)
    m = rt.open(str(lib), seed=1, threads=2)
    rt.run_steps(m, 700)
    w = rt.synapse_state(m, "S", "w")
    rt.close(m)
    d = lags * DT
    dw = np.where(d >= 0, AP * np.exp(-d / TAUP), AM * np.exp(d / TAUM))
    err = np.max(np.abs((w - W0) - dw))
    # The other side's first term, e^(-(t + 1 s)/tau) < e^-40, is below
    # float64's resolution of w = 0.5 + dw.
    if not err < 1e-15:
        fail(f"window: max error {err:.3g} against Ap e^(-d/taup), Am e^(d/taum): "
             f"{list(zip(lags.tolist(), (w - W0).tolist()))}")
    print(f"pairs, window: {len(lags)} lags from -4 to 4 ms, w - w0 matches the exponential "
          f"window within {err:.1e} (d = 0 potentiates: arrivals come first)")


def check_neurons(nclc, rt, work):
    source = work / "neurons.ncl"
    source.write_text(NEURONS_MODEL)
    lib = work / "neurons.so"
    compile_model(nclc, source, lib)
    steps = 2000
    names = ("n", "vseen", "xseen", "ii", "jj", "npre")
    results = {}
    for threads in (1, 2, 3, "1-3"):
        switching = threads == "1-3"
        m = rt.open(str(lib), seed=4, threads=1 if switching else threads)
        if switching:
            for k, chunk in enumerate((300, 700, 1000)):
                rt.check(rt.rt.ncl_set_threads(m, 1 + k) == 0)
                rt.run_steps(m, chunk)
        else:
            rt.run_steps(m, steps)
        state = {name: rt.synapse_state(m, "S", name) for name in names}
        i, j = rt.synapses(m, "S")
        spikes = rt.spikes(m, "Out")
        rt.close(m)
        results[threads] = state
        for name in names:
            if state[name].tobytes() != results[1][name].tobytes():
                fail(f"{threads} threads: '{name}' differs from one thread's")
    state = results[1]
    if len(i) == 0:
        fail("the projection has no synapses")
    # A spike found in step n (stamped n + 1) runs on_post in step n + 1,
    # which is inside the run when n + 1 < steps.
    times, index = spikes
    stamps = np.rint(times / DT).astype(np.int64)
    counted = np.bincount(index[stamps < steps], minlength=11)
    if not np.array_equal(state["n"], counted[j]):
        fail(f"on_post ran {state['n'].tolist()} times, the postsynaptic neurons spiked "
             f"{counted[j].tolist()} times (before the last step)")
    if counted.min() < 2:
        fail(f"every postsynaptic neuron should spike several times, got {counted.tolist()}")
    fired = state["n"] > 0
    if not (np.all(state["vseen"][fired] == 2e-3) and np.all(state["ii"][fired] == i[fired])
            and np.all(state["jj"][fired] == j[fired])
            and np.all(state["xseen"][fired] == i[fired] * 1e-3)):
        fail("on_post read other values than v = Vr, x_pre = i mV, i and j of its synapse")
    print(f"neurons: {len(i)} synapses, on_post {int(state['n'].sum())} times, once per "
          f"postsynaptic spike; v_post = Vr, x_pre, i and j exact; identical on 1, 2, 3 threads "
          f"and switching 1 -> 2 -> 3")


DELAYED_MODEL = STDP_MODEL.replace(
    "{ connect all_to_all() }",
    "{\n    connect all_to_all()\n    delay = 1.5 ms\n    post_delay = 2 ms\n  }")

DELAYED_NEURONS_MODEL = DELAYED_MODEL.replace(
    'population Post = spike_generator[9]("post_t.npy", "post_i.npy")',
    "population Post = Pacemaker[9]\n  stimulus Post.I += 10.5 mV + i * 1.3 mV\n"
    "  record spikes(Post)").replace("synapse PairSTDP", """neuron Pacemaker {
  parameters { tau = 10 ms; Vt = 10 mV; Vr = 2 mV }
  input I : mV = 0 mV
  state { v : mV = 0 mV }
  dynamics { v' = (I - v) / tau }
  spike when v > Vt
  reset { v = Vr }
}
synapse PairSTDP""")


def check_delays(nclc, rt, work):
    rng = np.random.default_rng(21)
    steps, da, dd = 3000, 15, 20
    pre = [poisson_train(rng, 30.0, steps) for _ in range(12)]
    post = [poisson_train(rng, 20.0, steps) for _ in range(9)]
    # An arrival and a delayed postsynaptic spike in one step (pre at n,
    # post at n + da - dd), for the order within a step.
    post[0] = np.union1d(post[0], pre[0][pre[0] > dd][:3] + da - dd)
    write_generator(work, "pre", pre)
    write_generator(work, "post", post)
    for name, model in (("generators", DELAYED_MODEL), ("neurons", DELAYED_NEURONS_MODEL),
                        ("no delays", STDP_MODEL)):
        source = work / "delayed.ncl"
        source.write_text(model)
        lib = work / "delayed.so"
        compile_model(nclc, source, lib)
        results = {}
        for threads in (1, 2, 3, "1-3"):
            switching = threads == "1-3"
            m = rt.open(str(lib), seed=1, threads=1 if switching else threads)
            if switching:
                for k, chunk in enumerate((700, 1300, 1000)):
                    rt.check(rt.rt.ncl_set_threads(m, 1 + k) == 0)
                    rt.run_steps(m, chunk)
            else:
                rt.run_steps(m, steps)
            results[threads] = rt.synapse_state(m, "S", "w")
            i, j = rt.synapses(m, "S")
            post_steps = post
            if name == "neurons":
                times, index = rt.spikes(m, "Post")
                stamps = np.rint(times / DT).astype(np.int64)
                post_steps = [stamps[index == k] for k in range(9)]
            rt.close(m)
            if results[threads].tobytes() != results[1].tobytes():
                fail(f"delays, {name}, {threads} threads: the weights differ from one thread's")
        w = results[1]
        if name == "no delays":
            if w.tobytes() == delayed_w.tobytes():
                fail("the delays changed no weight")
            continue
        delayed_w = w
        expect = np.array([reference_weight(pre[a], post_steps[b], np.float64, da, dd, steps)
                           for a, b in zip(i, j)])
        err = np.max(np.abs(w - expect))
        if not err < 1e-13:
            k = int(np.argmax(np.abs(w - expect)))
            fail(f"delays, {name}: synapse {i[k]} -> {j[k]}: w = {w[k]!r}, the replay with "
                 f"on_pre {da} and on_post {dd} steps late gives {expect[k]!r}")
        if name == "neurons" and min(len(t) for t in post_steps) < 3:
            fail("the pacemakers should spike several times")
        print(f"delays, {name}: 108 weights match the replay (axonal {da}, dendritic {dd} "
              f"steps) within {err:.1e}, identical on 1, 2, 3 threads and switching")


def main():
    nclc, ncl_run, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / "on_post" / check  # tests run in parallel
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    if check == "pairs":
        check_pairs(nclc, rt, work)
    elif check == "neurons":
        check_neurons(nclc, rt, work)
    elif check == "delays":
        check_delays(nclc, rt, work)
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
