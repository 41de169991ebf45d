"""End-to-end check of examples/ctrnn.ncl, the discrete-time CTRNN that
PyTorch users write, against an independent NumPy loop of its equation.

usage: ctrnn_checks.py NCLC LIBNCLRT EXAMPLE WORKDIR

The reference takes what the run drew (the recurrent weights through
ncl_get_synapses / ncl_get_synapse_state, the biases and the initial state
through ncl_get_state) and iterates
    x_{n+1} = (1 - a) x_n + a (W tanh(x_n) + 0.5 sin(2 pi 5 Hz t_n) + b),
a = dt / tau, t_n = n dt, in float64 with W as a dense matrix
(W[j, i] = the weight from i to j). The network is chaotic (g = 1.5), so
rounding differences grow about e-fold every 40 ms: the trajectories are
compared over the first 100 ms, float64 within 1e-13 and float32 within
2e-5, on 1, 2 and 3 threads (bit for bit between thread counts), and for
3 batch members, each from its own random x_0. Over
the whole second the example's header promise is checked: activity stays
irregular (every unit's r keeps moving) and the population variance of r
stays between 0.05 and 0.8.
"""
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

N = 256
DT = 1e-3
TAU = 0.020
STEPS_COMPARED = 100
STEPS = 1000


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def reference(x0, b, w_dense, steps):
    a = DT / TAU
    x = x0.copy()
    out = [x.copy()]
    for n in range(steps):
        u = 0.5 * np.sin(2 * np.pi * 5.0 * (n * DT))
        x = (1 - a) * x + a * (w_dense @ np.tanh(x) + u + b)
        out.append(x.copy())
    return np.array(out)


def run(rt, lib, threads, steps, batch=1):
    """x after each step, shape (steps + 1, batch * N) (member b's neuron i
    at b * N + i), the biases b (each member's copy), W dense and r at the
    end."""
    m = rt.open(str(lib), seed=1, threads=threads, batch=batch)
    x0 = rt.state(m, "P", "x", batch * N)
    b = rt.state(m, "P", "b", batch * N)
    i, j = rt.synapses(m, "W")
    w = rt.synapse_state(m, "W", "w")
    xs = [x0]
    for _ in range(steps):
        rt.run_steps(m, 1)
        xs.append(rt.state(m, "P", "x", batch * N))
    r_end = rt.state(m, "P", "r", batch * N)
    rt.close(m)
    w_dense = np.zeros((N, N))
    w_dense[j, i] = w
    return np.array(xs), b, w_dense, r_end


def main():
    nclc, libnclrt, example, workdir = sys.argv[1:5]
    work = pathlib.Path(workdir) / "ctrnn"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    for precision, tol in (("f64", 1e-13), ("f32", 2e-5)):
        lib = work / f"ctrnn_{precision}.so"
        subprocess.run([nclc, example, "-o", str(lib), f"--precision={precision}"], check=True)
        first = None
        for threads in (1, 2, 3):
            xs, b, w_dense, _ = run(rt, lib, threads, STEPS_COMPARED)
            if first is None:
                first = xs
            elif xs.tobytes() != first.tobytes():
                fail(f"{precision}: {threads} threads give other trajectories than one")
        if np.count_nonzero(w_dense) != N * N or abs(np.std(w_dense) * np.sqrt(N) - 1.5) > 0.05:
            fail(f"{precision}: W is not the dense N(0, 1.5^2/N) matrix the example draws "
                 f"(std * sqrt(N) = {np.std(w_dense) * np.sqrt(N):.3f})")
        expect = reference(xs[0], b, w_dense, STEPS_COMPARED)
        err = np.max(np.abs(xs - expect))
        if not err < tol:
            n = int(np.argmax(np.max(np.abs(xs - expect), axis=1)))
            fail(f"{precision}: x differs from the NumPy loop by {err:.3g} (tolerance {tol:g}), "
                 f"first at step {n}")
        print(f"ctrnn, {precision}: {STEPS_COMPARED} steps of 256 units within {err:.1e} of "
              "the NumPy loop, identical on 1, 2 and 3 threads")
        # Three batch members: each draws its own initial state and shares
        # W and the per-neuron biases; each follows the loop from its x_0.
        xs, b, w_dense, _ = run(rt, lib, 2, STEPS_COMPARED, batch=3)
        members = xs.reshape(STEPS_COMPARED + 1, 3, N)
        if np.array_equal(members[0, 0], members[0, 1]):
            fail(f"{precision}: batch members 0 and 1 start from the same state")
        if not np.array_equal(b[:N], b[N:2 * N]):
            fail(f"{precision}: the per-neuron biases differ between batch members")
        err = max(np.max(np.abs(members[:, k] - reference(members[0, k], b[:N], w_dense,
                                                           STEPS_COMPARED)))
                  for k in range(3))
        if not err < tol:
            fail(f"{precision}: a batch member differs from the NumPy loop by {err:.3g}")
        print(f"ctrnn, {precision}: 3 batch members, each from its own x_0, within {err:.1e} "
              "of the NumPy loop (2 threads)")
    # The header's promise over the whole second (float64).
    xs, _, _, r_end = run(rt, work / "ctrnn_f64.so", 1, STEPS)
    r = np.tanh(xs)
    late = r[STEPS // 2:]
    var = np.var(late, axis=1)
    moving = np.std(late, axis=0)
    if not (np.all(var > 0.05) and np.all(var < 0.8)):
        fail(f"population variance of r over the last 0.5 s in [{var.min():.3f}, "
             f"{var.max():.3f}], not within [0.05, 0.8]")
    if not np.all(moving > 0.01):
        fail(f"{int(np.sum(moving <= 0.01))} units are still over the last 0.5 s: not the "
             "irregular activity the header promises")
    if np.max(np.abs(r_end - r[-1])) > 1e-12:
        fail("the output r read through the runtime is not tanh(x)")
    print(f"ctrnn: over 1 s the population variance of r stays in [{var.min():.2f}, "
          f"{var.max():.2f}] and every unit keeps moving (std over time >= {moving.min():.2f})")


if __name__ == "__main__":
    main()
