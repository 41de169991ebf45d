"""End-to-end checks of examples/eirnn.ncl and examples/multiarea.ncl
against the NumPy references committed in test/e2e/rates/reference/ (made
by make_eirnn_reference.py and make_multiarea_reference.py from the same
.npy files the examples read).

usage: example_checks.py eirnn|multiarea NCLC NCL_RUN LIBNCLRT EXAMPLE WORKDIR

Each example is compiled in float64 and float32 and stepped through the C
API on 1 and 3 threads (bit for bit the same); every unit's x after every
step is compared with the reference of its precision: float64 within
1e-12, float32 within 1e-5 (the sums run in another order than NumPy's
matrix products, and the networks are stable: the two references differ by
below 1e-6). Then the headers' claims: for eirnn, the recurrent weights
read back through the runtime are >= 0 from the 80 excitatory units and
<= 0 from the 20 inhibitory ones, and r stays below 3 while some units are
active at every step after the input arrives; for multiarea, the synapses
are exactly the mask's pairs (none from area 1 to area 3), each area first
moves one step after the one before it, and the readout follows the
reference. A batch of 3 members follows the same loop, member 0 from the
example's x_0 = 0 and members 1 and 2 from their own random x_0 (set
through ncl_set_state), each member compared with the NumPy loop from its
own x_0, in both precisions. Then ncl-run runs the example from another
directory (the data files are found beside the .ncl file). Last, the reference script is
run again into the work directory: the committed files are what it makes.
"""
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from nclrt import Runtime  # noqa: E402
import make_eirnn_reference  # noqa: E402
import make_multiarea_reference  # noqa: E402
from rate_reference import relu, run_rate_rnn  # noqa: E402

REFERENCE = HERE / "reference"
TOLERANCE = {"f64": 1e-12, "f32": 1e-5}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def trajectories(rt, lib, threads, steps, reads):
    """State after every step: {name: array (steps + 1, n)} for each
    (name, population, variable, n) in `reads`."""
    m = rt.open(str(lib), seed=1, threads=threads)
    out = {name: [rt.state(m, pop, var, n)] for name, pop, var, n in reads}
    for _ in range(steps):
        rt.run_steps(m, 1)
        for name, pop, var, n in reads:
            out[name].append(rt.state(m, pop, var, n))
    i, j = rt.synapses(m, "Rec")
    w = rt.synapse_state(m, "Rec", "w")
    rt.close(m)
    return {name: np.array(v) for name, v in out.items()}, (i, j, w)


def compare(what, precision, got, expect):
    err = np.max(np.abs(got - expect))
    if not err <= TOLERANCE[precision]:
        step = int(np.argmax(np.max(np.abs(got - expect), axis=1)))
        fail(f"{what} ({precision}) differs from the NumPy reference by {err:.3g} "
             f"(tolerance {TOLERANCE[precision]:g}), most at step {step}")
    return err


def run_example(name, nclc, rt, example, work, reads, steps):
    results = {}
    for precision in ("f64", "f32"):
        lib = work / f"{name}_{precision}.so"
        subprocess.run([nclc, str(example), "-o", str(lib), f"--precision={precision}"],
                       check=True)
        one, synapses = trajectories(rt, lib, 1, steps, reads)
        three, _ = trajectories(rt, lib, 3, steps, reads)
        for key in one:
            if one[key].tobytes() != three[key].tobytes():
                fail(f"{name} ({precision}): 3 threads give another {key} than one")
        results[precision] = (one, synapses)
    return results


def check_batch(name, rt, work, n, steps, reference, rate):
    """Members 0..2 of a batch of 3 from x_0 = 0 and two random x_0: each
    against reference(x0, dtype) of shape (steps + 1, 3, n). The output r =
    rate(x) is state the init and the updates compute, so it is set too
    (docs/semantics.md, "Batches")."""
    x0 = np.random.default_rng(3).normal(0, 0.5, size=(3, n))
    x0[0] = 0
    for precision, dtype in (("f64", np.float64), ("f32", np.float32)):
        m = rt.open(str(work / f"{name}_{precision}.so"), seed=1, batch=3)
        rt.set_state(m, "P", "x", x0.ravel())
        rt.set_state(m, "P", "r", rate(x0.astype(dtype)).astype(np.float64).ravel())
        xs = [rt.state(m, "P", "x", 3 * n)]
        for _ in range(steps):
            rt.run_steps(m, 1)
            xs.append(rt.state(m, "P", "x", 3 * n))
        rt.close(m)
        got = np.array(xs).reshape(steps + 1, 3, n)
        expect = reference(x0, dtype)
        err = max(compare(f"{name}, batch member {b}: x", precision, got[:, b], expect[:, b])
                  for b in range(3))
        if np.array_equal(got[:, 1], got[:, 2]):
            fail(f"{name}: batch members 1 and 2 do not differ; the check proves little")
        print(f"{name}, {precision}: 3 batch members from their own x_0 within {err:.1e} of "
              "the NumPy loop")


def check_ncl_run(name, ncl_run, work):
    lib = work / f"{name}_f64.so"
    elsewhere = work / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    run = subprocess.run([ncl_run, str(lib), "--quiet", "--out", str(work / "out")],
                         cwd=elsewhere, capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"ncl-run {name} from another directory failed:\n{run.stderr}")
    x = np.load(work / "out" / "P_x.npy")
    expect = np.load(REFERENCE / f"{name}_f64{'_x' if name == 'multiarea' else ''}.npy")[:, 0]
    compare(f"{name}: P_x.npy of ncl-run", "f64", x, expect[:x.shape[0]])
    print(f"{name}: ncl-run from another directory reads the data files and records "
          f"{x.shape[0]} samples equal to the reference")


def eirnn(nclc, ncl_run, rt, example, work):
    n, ne, steps = 100, 80, 100
    results = run_example("eirnn", nclc, rt, example, work, [("x", "P", "x", n)], steps)
    for precision, (traj, _) in results.items():
        expect = np.load(REFERENCE / f"eirnn_{precision}.npy")[:, 0]
        err = compare("eirnn: x", precision, traj["x"], expect)
        print(f"eirnn, {precision}: {steps} steps of {n} units within {err:.1e} of the NumPy "
              "loop, identical on 1 and 3 threads")
    traj, (i, j, w) = results["f64"]
    file_w = np.load(example.parent / "data" / "eirnn" / "W_rec.npy").astype(np.float64)
    if len(w) != n * (n - 1) or np.any(i == j):
        fail(f"eirnn: {len(w)} recurrent synapses, expected {n * (n - 1)} without autapses")
    if np.any(w[i < ne] < 0) or np.any(w[i >= ne] > 0):
        fail("eirnn: a recurrent weight breaks Dale's law")
    if np.max(np.abs(w - file_w[i, j])) != 0:
        fail("eirnn: the recurrent weights are not W_rec.npy's entries [i, j]")
    r = np.maximum(traj["x"], 0)
    active = np.count_nonzero(r[3:] > 0, axis=1)
    if not (r.max() < 3 and active.min() > 0):
        fail(f"eirnn: r in [0, {r.max():.2f}], {active.min()} units active at the quietest step")
    print(f"eirnn: E weights >= 0 ({np.count_nonzero(i < ne)} synapses), I weights <= 0, "
          f"r < {r.max():.2f}, at least {active.min()} units active per step")
    w_rec, w_in, u = make_eirnn_reference.inputs()
    bias = 0.05 * np.cos(np.arange(n))
    a = make_eirnn_reference.DT / make_eirnn_reference.TAU
    check_batch("eirnn", rt, work, n, steps,
                lambda x0, dtype: run_rate_rnn(w_rec, w_in, np.repeat(u[:, None, :], 3, axis=1),
                                               bias, a, relu, steps, dtype, x0), relu)
    check_ncl_run("eirnn", ncl_run, work)
    check_reproducible("eirnn", example, work)


def multiarea(nclc, ncl_run, rt, example, work):
    area, steps = 30, 100
    reads = [("x", "P", "x", 3 * area), ("y", "Out", "y", 2)]
    results = run_example("multiarea", nclc, rt, example, work, reads, steps)
    for precision, (traj, _) in results.items():
        ex = compare("multiarea: x", precision, traj["x"],
                     np.load(REFERENCE / f"multiarea_{precision}_x.npy")[:, 0])
        ey = compare("multiarea: readout y", precision, traj["y"],
                     np.load(REFERENCE / f"multiarea_{precision}_y.npy")[:, 0])
        print(f"multiarea, {precision}: {steps} steps of 90 units within {ex:.1e}, the readout "
              f"within {ey:.1e} of the NumPy loop, identical on 1 and 3 threads")
    traj, (i, j, _) = results["f64"]
    mask = np.load(example.parent / "data" / "multiarea" / "mask.npy")
    built = np.zeros_like(mask)
    built[i, j] = 1
    if not np.array_equal(built, mask) or len(i) != int(mask.sum()):
        fail("multiarea: the recurrent synapses are not the mask's pairs")
    if np.any((i < area) & (j >= 2 * area)):
        fail("multiarea: a synapse runs from area 1 to area 3")
    first = [int(np.argmax(np.any(traj["x"][:, k * area:(k + 1) * area] != 0, axis=1)))
             for k in range(3)]
    if not (first[1] == first[0] + 1 and first[2] == first[1] + 1):
        fail(f"multiarea: areas first move at steps {first}, not one after another")
    print(f"multiarea: {len(i)} synapses, exactly the mask's (none from area 1 to 3); areas "
          f"first move at steps {first}: activity reaches area 3 only through area 2")
    w_rec, mask, w_in, _, u = make_multiarea_reference.inputs()
    w_in_full = np.zeros((w_in.shape[0], 3 * area), dtype=np.float32)
    w_in_full[:, :area] = w_in
    a = make_multiarea_reference.DT / make_multiarea_reference.TAU
    check_batch("multiarea", rt, work, 3 * area, steps,
                lambda x0, dtype: run_rate_rnn(w_rec * mask, w_in_full,
                                               np.repeat(u[:, None, :], 3, axis=1),
                                               np.zeros(3 * area), a, np.tanh, steps, dtype, x0),
                np.tanh)
    check_ncl_run("multiarea", ncl_run, work)
    check_reproducible("multiarea", example, work)


def check_reproducible(name, example, work):
    """The committed inputs and reference are what the script makes now:
    the inputs bit for bit (a seeded generator), the trajectories within
    the tolerances (another BLAS may sum in another order)."""
    data, reference = work / "made_data", work / "made_reference"
    subprocess.run([sys.executable, str(HERE / f"make_{name}_reference.py"), str(data),
                    str(reference)], check=True, capture_output=True)
    for made in sorted(data.glob("*.npy")):
        committed = example.parent / "data" / name / made.name
        if np.load(made).tobytes() != np.load(committed).tobytes():
            fail(f"{committed} is not what make_{name}_reference.py makes: run it again")
    for made in sorted(reference.glob("*.npy")):
        committed = REFERENCE / made.name
        precision = "f32" if "f32" in made.name else "f64"
        if np.max(np.abs(np.load(made) - np.load(committed))) > TOLERANCE[precision] / 10:
            fail(f"{committed} is not what make_{name}_reference.py makes: run it again")
    print(f"{name}: the committed inputs and reference are what the script makes")


def main():
    check, nclc, ncl_run, libnclrt, example, workdir = sys.argv[1:7]
    work = pathlib.Path(workdir) / f"rates_{check}"
    work.mkdir(parents=True, exist_ok=True)
    {"eirnn": eirnn, "multiarea": multiarea}[check](nclc, ncl_run, Runtime(libnclrt),
                                                    pathlib.Path(example), work)


if __name__ == "__main__":
    main()
