"""End-to-end checks of event-driven synapse dynamics against an
independent replay of each synapse's events (docs/semantics.md,
"Event-driven synapse dynamics").

usage: event_driven_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR

A synapse with two decaying traces (apre, apost: x' = -x/tau) and a
resource that relaxes to U (u' = (U - u)/tau_u), all linear with constant
coefficients and read only by on_pre and on_post, so ncl-integrate makes
them event-driven: between two events of a synapse they move by their
closed forms, x e^(-elapsed/tau) and U + (u - U) e^(-elapsed/tau_u), and
on_pre/on_post see those values. 12 presynaptic and 9 postsynaptic spike
generators fire random trains for 300 ms; the presynaptic spikes arrive
after a 1.5 ms delay. apre and apost start at 0 and change only in on_pre
(on_post) by constants, so every synapse of a presynaptic (postsynaptic)
neuron shares them and nclc keeps them once per neuron, each with the time
of the neuron's last event (`pre._lastupdate`, `post._lastupdate`); u
stays per synapse with its `_lastupdate`. Every one of the 108 synapses'
w, and apre, apost and u advanced from the time of their last update to
the run's end by their closed forms, is compared with a float64 replay of
its events in the documented order (a step's arrivals before its
postsynaptic spikes, t = n dt), continued to the end: float64 within
1e-13, float32 within 5e-6, bit for bit on 1, 2 and 3 threads and when
a run changes its thread count halfway. The same
model with `method
clock_driven` (the traces advanced every step by the exact one-step
propagator) agrees within 1e-12 with the replay continued to the run's
end (an event-driven variable holds the value of the synapse's last event,
a clock-driven one that of the end): the two schemes are one semantics.
Also: a nonlinear synapse system (clock-driven, Runge-Kutta 4) runs at a
smaller dt within 1e-9 of its closed form, and a larger dt than the
network's is refused by ncl_set_dt, naming the projection.
"""
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from network_checks import compile_model, fail  # noqa: E402
from nclrt import Runtime  # noqa: E402
from on_post_checks import poisson_train, write_generator  # noqa: E402

DT = 1e-4
DELAY_STEPS = 15
TAUPRE, TAUPOST, TAU_U = 0.020, 0.025, 0.050
APRE, APOST, U, W0, WMAX = 0.01, -0.0105, 0.3, 0.5, 1.0
STEPS = 3000
RUN_STEPS = STEPS + DELAY_STEPS + 1  # every arrival and on_post in

MODEL = """
synapse TracedSTDP {
  parameters {
    taupre = 20 ms; taupost = 25 ms; tau_u = 50 ms
    Apre = 0.01; Apost = -0.0105; U = 0.3; wmax = 1
  }
  state { w = 0.5; apre = 0; apost = 0; u = U }
  dynamics {
    apre' = -apre / taupre
    apost' = -apost / taupost
    u' = (U - u) / tau_u
  }
  on_pre {
    w = clip(w + apost * u, 0, wmax)
    u += U * (1 - u)
    apre += Apre
  }
  on_post {
    apost += Apost
    w = clip(w + apre, 0, wmax)
  }
}
network Traced {
  population Pre = spike_generator[12]("pre_t.npy", "pre_i.npy")
  population Post = spike_generator[9]("post_t.npy", "post_i.npy")
  projection S = TracedSTDP(Pre -> Post) {
    connect all_to_all()
    delay = 1.5 ms
    METHOD
  }
  simulate 300 ms, dt = 0.1 ms
}
"""


def replay(pre_steps, post_steps, until=None):
    """One synapse's (w, apre, apost, u, last event time) after its events,
    in float64: arrivals (pre spike step + delay) before postsynaptic
    spikes in a step; between events every variable by its closed form.
    With `until`, the variables are then advanced to that time (what a
    clock-driven run holds at its end; an event-driven one holds the values
    of its last event)."""
    w, apre, apost, u, last = W0, 0.0, 0.0, U, 0.0
    events = sorted([(int(n) + DELAY_STEPS, 0) for n in pre_steps] +
                    [(int(n), 1) for n in post_steps])
    if until is not None:
        events.append((until, 2))
    for n, kind in events:
        t = n * DT
        elapsed = t - last
        apre *= np.exp(-elapsed / TAUPRE)
        apost *= np.exp(-elapsed / TAUPOST)
        u = U + (u - U) * np.exp(-elapsed / TAU_U)
        last = t
        if kind == 0:
            w = min(max(w + apost * u, 0.0), WMAX)
            u += U * (1 - u)
            apre += APRE
        elif kind == 1:
            apost += APOST
            w = min(max(w + apre, 0.0), WMAX)
    return np.array([w, apre, apost, u, last])


# The times of the last update of apre (its presynaptic neuron's last
# arrival), apost (its postsynaptic neuron's last spike) and u (the
# synapse's last on_pre).
EVENT_TIMES = ("pre._lastupdate", "post._lastupdate", "_lastupdate")


def advance_to_end(values):
    """w, apre, apost, u of an event-driven run (each as of its own last
    update, the times in the last three columns) advanced by their closed
    forms to the run's end, as the replay continued to it gives them."""
    end = RUN_STEPS * DT
    w, apre, apost, u, t_pre, t_post, t_syn = values.T.astype(np.float64)
    return np.stack([w, apre * np.exp(-(end - t_pre) / TAUPRE),
                     apost * np.exp(-(end - t_post) / TAUPOST),
                     U + (u - U) * np.exp(-(end - t_syn) / TAU_U)], axis=1)


def run_model(rt, lib, threads, names):
    """The synapses' `names` after the run; `threads` = (a, b) runs the
    first half on a threads and the rest on b."""
    first, rest = threads if isinstance(threads, tuple) else (threads, threads)
    m = rt.open(str(lib), seed=1, threads=first)
    rt.run_steps(m, RUN_STEPS // 2)
    if rest != first:
        rt.set_threads(m, rest)
    rt.run_steps(m, RUN_STEPS - RUN_STEPS // 2)
    values = np.array([rt.synapse_state(m, "S", name) for name in names]).T
    i, j = rt.synapses(m, "S")
    rt.close(m)
    return values, i, j


EXPLICIT_MODEL = """
neuron Idle {
  parameters { tau = 10 ms }
  state { v = 0 }
  dynamics { v' = -v / tau }
  spike when v > 1
}
synapse Square {
  parameters { tau = 10 ms }
  state { x = 1 }
  dynamics { x' = -x * x / tau }
  on_pre { x += 1 }
}
network Explicit {
  population P = Idle[3]
  projection S = Square(P -> P) { connect all_to_all() }
  simulate 10 ms, dt = 0.1 ms
}
"""


def check_explicit_max_dt(nclc, rt, work):
    """A nonlinear synapse system is clock-driven by Runge-Kutta 4, judged
    stable at the network's dt: ncl_set_dt accepts a smaller dt and refuses
    a larger one, naming the projection."""
    source = work / "explicit.ncl"
    source.write_text(EXPLICIT_MODEL)
    lib = work / "explicit.so"
    compile_model(nclc, source, lib)
    m = rt.open(str(lib), seed=1, dt=0.5e-4)
    rt.run_steps(m, 20)
    x = rt.synapse_state(m, "S", "x")
    rt.close(m)
    # x' = -x^2/tau from x = 1: x(t) = 1 / (1 + t/tau); RK4 is fourth order (h/tau = 0.005).
    expect = 1.0 / (1.0 + 20 * 0.5e-4 / 0.01)
    if not np.all(np.abs(x - expect) < 1e-9):
        fail(f"x' = -x^2/tau at dt = 0.05 ms: {x} against the closed form {expect}")
    try:
        rt.open(str(lib), seed=1, dt=2e-4)
    except RuntimeError as e:
        if "larger than projection 'S'" not in str(e):
            fail(f"dt = 0.2 ms refused with another message: {e}")
    else:
        fail("dt = 0.2 ms accepted, though the synapse dynamics are explicit at dt = 0.1 ms")
    print("explicit synapse dynamics: dt = 0.05 ms runs (x within 1e-9 of 1/(1 + t/tau)), "
          "dt = 0.2 ms refused, naming the projection")


def main():
    nclc, _, libnclrt, workdir = sys.argv[1:5]
    work = pathlib.Path(workdir) / "event_driven"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    check_explicit_max_dt(nclc, rt, work)
    rng = np.random.default_rng(7)
    pre = [poisson_train(rng, 30.0, STEPS) for _ in range(12)]
    post = [poisson_train(rng, 20.0, STEPS) for _ in range(9)]
    # An arrival in the same step as a postsynaptic spike (on_pre first).
    post[0] = np.union1d(post[0], pre[0][:3] + DELAY_STEPS)
    write_generator(work, "pre", pre)
    write_generator(work, "post", post)
    names = ("w", "apre", "apost", "u")
    cases = (("event", "f64", "", 1e-13), ("event", "f32", "", 5e-6),
             ("clock", "f64", "method clock_driven", 1e-12))
    for drive, precision, method, tol in cases:
        source = work / f"traced_{drive}.ncl"
        source.write_text(MODEL.replace("METHOD", method))
        lib = work / f"traced_{drive}_{precision}.so"
        compile_model(nclc, source, lib, f"--precision={precision}")
        wanted = names + (EVENT_TIMES if drive == "event" else ())
        first = None
        # (1, 3): a run that goes on with more threads, whose new threads
        # start their copies of the presynaptic traces from an old one.
        for threads in (1, 2, 3, (1, 3), (3, 2)):
            values, i, j = run_model(rt, lib, threads, wanted)
            if first is None:
                first = values
            elif values.tobytes() != first.tobytes():
                fail(f"{drive}-driven {precision}, {threads} threads: the synapses' state "
                     "differs from one thread's")
        if drive == "event":
            values = advance_to_end(values)
        expect = np.array([replay(pre[a], post[b], RUN_STEPS) for a, b in zip(i, j)])
        expect = expect[:, :len(names)]
        wanted = names
        err = np.abs(values - expect)
        if not np.all(err < tol):
            k, c = np.unravel_index(int(np.argmax(err)), err.shape)
            fail(f"{drive}-driven {precision}: synapse {i[k]} -> {j[k]}: {wanted[c]} = "
                 f"{values[k, c]!r}, the replay gives {expect[k, c]!r} "
                 f"(max error {err.max():.3g}, tolerance {tol:g})")
        spread = np.ptp(expect[:, 0])
        if not spread > 0.01:
            fail(f"the weights hardly moved (spread {spread:.3g}): the check would not see "
                 "a wrong update")
        print(f"{drive}-driven, {precision}: 108 synapses, max |error| {err.max():.2e} "
              f"(w from {expect[:, 0].min():.4f} to {expect[:, 0].max():.4f}), identical on "
              "1, 2 and 3 threads and with the thread count changed halfway")


if __name__ == "__main__":
    main()
