"""End-to-end check of a synapse's continuous dynamics (`dynamics { x' = ... }`,
integrated every step for every synapse) against their closed form.

usage: synapse_dynamics_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR

Each synapse carries a trace x (x' = -x / tau_x, on_pre: x += 1) and a
second variable y driven by it (y' = (x - y) / tau_y), from 8 spike
generators with random trains onto 3 neurons, all to all. After S steps,
with arrivals at steps a_k (a spike stamped k arrives at the start of step
k), the closed forms are

    x(t_S) = sum over a_k < S of e^(-(S - a_k) dt / tau_x)
    y(t_S) = sum over a_k < S of tau_x / (tau_x - tau_y)
             * (e^(-(S - a_k) dt / tau_x) - e^(-(S - a_k) dt / tau_y))

sampled after several numbers of steps. The system is linear with constant
coefficients, so ncl-integrate integrates it exactly: every value within
1e-12 of the closed form, and the same bits on 1, 2 and 3 threads.
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
TAU_X, TAU_Y = 0.020, 0.005

MODEL = """
neuron Idle {
  parameters { tau = 10 ms }
  state { v : mV = 0 mV }
  dynamics { v' = -v / tau }
}
synapse Trace {
  parameters { tau_x = 20 ms; tau_y = 5 ms }
  state { x = 0; y = 0 }
  dynamics {
    x' = -x / tau_x
    y' = (x - y) / tau_y
  }
  on_pre { x += 1 }
}
network Traces {
  population In = spike_generator[8]("pre_t.npy", "pre_i.npy")
  population Out = Idle[3]
  projection S = Trace(In -> Out) { connect all_to_all() }
  simulate 200 ms, dt = 0.1 ms
}
"""


def closed_form(arrivals, steps):
    lags = (steps - arrivals[arrivals < steps]) * DT
    ex, ey = np.exp(-lags / TAU_X), np.exp(-lags / TAU_Y)
    return ex.sum(), (TAU_X / (TAU_X - TAU_Y) * (ex - ey)).sum()


def main():
    nclc, _, libnclrt, work = sys.argv[1:5]
    work = pathlib.Path(work) / "synapse_dynamics"
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    trains = [poisson_train(rng, 40.0, 2000) for _ in range(8)]
    write_generator(work, "pre", trains)
    source = work / "traces.ncl"
    source.write_text(MODEL)
    lib = work / "traces.so"
    compile_model(nclc, source, lib)
    rt = Runtime(libnclrt)
    samples = (1, 137, 500, 1999)
    seen = {}
    worst = 0.0
    for threads in (1, 2, 3):
        m = rt.open(str(lib), seed=1, threads=threads)
        done = 0
        values = []
        for steps in samples:
            rt.run_steps(m, steps - done)
            done = steps
            i, _ = rt.synapses(m, "S")
            x, y = rt.synapse_state(m, "S", "x"), rt.synapse_state(m, "S", "y")
            values.append((x, y))
            for k, pre in enumerate(i):
                ex, ey = closed_form(trains[pre], steps)
                err = max(abs(x[k] - ex), abs(y[k] - ey)) / max(1.0, ex)
                worst = max(worst, err)
                if not err < 1e-12:
                    fail(f"{threads} threads, after {steps} steps, synapse {k} (from {pre}): "
                         f"x = {x[k]!r}, y = {y[k]!r}; closed form {ex!r}, {ey!r}")
        rt.close(m)
        seen[threads] = b"".join(x.tobytes() + y.tobytes() for x, y in values)
        if seen[threads] != seen[1]:
            fail(f"{threads} threads: the synapses' state differs from one thread's")
    print(f"synapse dynamics: 24 synapses, {sum(map(len, trains))} spikes, x and y within "
          f"{worst:.1e} of the closed form after {samples} steps, identical on 1, 2, 3 threads")
    print("PASS")


if __name__ == "__main__":
    main()
