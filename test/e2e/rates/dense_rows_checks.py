"""End-to-end checks of all-to-all projections without autapses between
overlapping ranges of one population, whose kernels compute each synapse's
postsynaptic neuron from its place in the row, one further past the row's
own neuron (docs/performance.md, "Dense rows without autapses").

usage: dense_rows_checks.py NCLC LIBNCLRT WORKDIR

Rates (the sum kernel, four rows jammed): 600 relu units with Rec = P -> P
and Part = P[101:560] -> P[300:600], both all_to_all(autapses = false)
with weights from matrix files. Part's rows 101-299 lie outside its
postsynaptic range (whole rows), a group of four jammed rows straddles
that edge, its rows 300-559 miss a place 0-259 (past the 256-place block
of float64), and its 459 rows leave three over. 3 batch members from
random x_0 are compared, float64 within 1e-12 and float32 within 1e-5,
with a NumPy loop of x <- (1 - a) x + a (W^T r + b) whose W has a zero
diagonal, on 1, 2 and 3 threads (bit for bit the same); and bit for bit
with the same network whose projections leave out the diagonal by a mask
file instead, which NCL runs by loading and searching each row's
postsynaptic indices (the sparse kernels).

Spikes (deliver and synapse_step): 300 neurons that integrate a drive of
their own and kick each other through all_to_all(autapses = false)
synapses with an ODE per synapse that reads the postsynaptic v, again on
a full range and a partly overlapping one; their spikes, v and per-synapse
state must equal, bit for bit, those of the masked network, on 1 and 3
threads.
"""
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

N = 600
PART_PRE = (101, 560)
PART_POST = (300, 600)
DT, TAU = 0.020, 0.100
STEPS = 30
BATCH = 3
TOLERANCE = {"f64": 1e-12, "f32": 1e-5}

RATE_MODEL = """
import "readout.ncl"

neuron Unit {{
  parameters {{
    tau = 100 ms
    b = 0.05 * cos(i)      per neuron
  }}
  input I = 0
  state {{ x = 0 }}
  update {{ x = (1 - dt / tau) * x + dt / tau * (I + b) }}
  output r = relu(x)
}}

network NoSelf {{
  population P = Unit[{n}]
  group A = P[{a0}:{a1}]
  group B = P[{b0}:{b1}]
  projection Rec = Dense(P -> P) {{ connect all_to_all(w = "W_rec.npy"{rec}) }}
  projection Part = Dense(A -> B) {{ connect all_to_all(w = "W_part.npy"{part}) }}
  simulate 1 s, dt = 20 ms, seed = 1
}}
"""

SPIKE_N = 300
SPIKE_PART_PRE = (41, 230)
SPIKE_PART_POST = (100, 300)
SPIKE_STEPS = 400

SPIKE_MODEL = """
neuron Counter {{
  parameters {{
    drive = 0.004 + 0.0001 * i      per neuron
  }}
  state {{ v = 0 }}
  update {{ v = v + drive }}
  spike when v > 1
  reset {{ v = 0 }}
}}

synapse Kick {{
  parameters {{ k = 0.5 / second }}
  state {{
    w = 0
    s = 0
  }}
  dynamics {{ s' = k * v_post }}
  on_pre {{ v += w }}
}}

network NoSelfSpikes {{
  population P = Counter[{n}]
  group A = P[{a0}:{a1}]
  group B = P[{b0}:{b1}]
  projection Rec = Kick(P -> P) {{ connect all_to_all(w = "K_rec.npy"{rec}) }}
  projection Part = Kick(A -> B) {{ connect all_to_all(w = "K_part.npy"{part}) }}
  record spikes(P)
  simulate 1 s, dt = 1 ms, seed = 1
}}
"""


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def no_self_mask(pre, post):
    """1 everywhere but at the pairs i -> i of pre x post."""
    i = np.arange(*pre)[:, None]
    j = np.arange(*post)[None, :]
    return (i != j).astype(np.float64)


def write_models(work, template, n, part_pre, part_post, names):
    """The model without autapses and the same network with a mask file
    instead, in `work`; returns their paths."""
    models = {}
    for kind, rec, part in (
            ("dense", ", autapses = false", ", autapses = false"),
            ("masked", f', mask = "{names[0]}_mask.npy"', f', mask = "{names[1]}_mask.npy"')):
        path = work / f"{kind}.ncl"
        path.write_text(template.format(n=n, a0=part_pre[0], a1=part_pre[1], b0=part_post[0],
                                        b1=part_post[1], rec=rec, part=part))
        models[kind] = path
    np.save(work / f"{names[0]}_mask.npy", no_self_mask((0, n), (0, n)))
    np.save(work / f"{names[1]}_mask.npy", no_self_mask(part_pre, part_post))
    return models


def compile_model(nclc, model, lib, precision):
    subprocess.run([nclc, str(model), "-o", str(lib), f"--precision={precision}"], check=True)


def dense_weights(rt, m, proj, var, n):
    """W[i, j], the weight from i to j, 0 where there is no synapse; the
    synapses' (i, j)."""
    i, j = rt.synapses(m, proj)
    w = np.zeros((n, n))
    w[i, j] = rt.synapse_state(m, proj, var)
    return w, i, j


def check_synapses(what, i, j, pre, post):
    expect = (pre[1] - pre[0]) * (post[1] - post[0]) - len(
        set(range(*pre)) & set(range(*post)))
    if len(i) != expect or np.any(i == j):
        fail(f"{what}: {len(i)} synapses (expected {expect}), "
             f"{np.count_nonzero(i == j)} of them autapses")


def rate_run(rt, lib, threads, x0):
    """x after each step, shape (STEPS + 1, BATCH, N), from x0 (BATCH, N);
    the weight matrices of Rec and Part."""
    m = rt.open(str(lib), seed=1, threads=threads, batch=BATCH)
    rt.set_state(m, "P", "x", x0.ravel())
    rt.set_state(m, "P", "r", np.maximum(x0, 0).ravel())
    xs = [rt.state(m, "P", "x", BATCH * N)]
    for _ in range(STEPS):
        rt.run_steps(m, 1)
        xs.append(rt.state(m, "P", "x", BATCH * N))
    w_rec, i, j = dense_weights(rt, m, "Rec", "w", N)
    check_synapses("Rec", i, j, (0, N), (0, N))
    w_part, i, j = dense_weights(rt, m, "Part", "w", N)
    check_synapses("Part", i, j, PART_PRE, PART_POST)
    rt.close(m)
    return np.array(xs).reshape(STEPS + 1, BATCH, N), w_rec, w_part


def rate_reference(x0, w, dtype):
    """x <- (1 - a) x + a (r W + b), r = relu(x), in `dtype`, W[i, j] from i
    to j (its diagonal 0)."""
    a = dtype(DT / TAU)
    one = dtype(1)
    w = w.astype(dtype)
    b = (0.05 * np.cos(np.arange(N))).astype(dtype)
    x = x0.astype(dtype)
    out = [x.copy()]
    for _ in range(STEPS):
        x = (one - a) * x + a * (np.maximum(x, 0) @ w + b)
        out.append(x.copy())
    return np.array(out)


def rates(nclc, rt, work):
    rng = np.random.default_rng(7)
    # Weights from the files: Rec's 0.5 N(0, 1/N) keeps the network stable,
    # Part's are smaller; their diagonals, which no synapse uses, are large,
    # so that a synapse onto the wrong neuron shows.
    w_rec = 0.5 * rng.normal(0, 1, (N, N)) / np.sqrt(N)
    np.fill_diagonal(w_rec, 50.0)
    w_part = 0.2 * rng.normal(0, 1, (PART_PRE[1] - PART_PRE[0], PART_POST[1] - PART_POST[0]))
    w_part /= np.sqrt(N)
    for k in range(PART_POST[0], PART_PRE[1]):
        w_part[k - PART_PRE[0], k - PART_POST[0]] = 50.0
    np.save(work / "W_rec.npy", w_rec)
    np.save(work / "W_part.npy", w_part)
    models = write_models(work, RATE_MODEL, N, PART_PRE, PART_POST, ("W_rec", "W_part"))
    x0 = rng.normal(0.2, 0.5, (BATCH, N))
    for precision, dtype in (("f64", np.float64), ("f32", np.float32)):
        runs = {}
        for kind, model in models.items():
            lib = work / f"{kind}_{precision}.so"
            compile_model(nclc, model, lib, precision)
            runs[kind] = [rate_run(rt, lib, threads, x0) for threads in (1, 2, 3)]
        dense = runs["dense"]
        xs, w_rec_got, w_part_got = dense[0]
        for threads, (other, _, _) in zip((2, 3), dense[1:]):
            if other.tobytes() != xs.tobytes():
                fail(f"rates, {precision}: {threads} threads give another x than one")
        expect_w = w_rec.copy()
        expect_w[np.arange(N), np.arange(N)] = 0
        if np.max(np.abs(w_rec_got - expect_w.astype(dtype))) != 0:
            fail(f"rates, {precision}: Rec's weights are not W_rec.npy's without its diagonal")
        w = w_rec_got + w_part_got
        err = max(np.max(np.abs(xs[:, k] - rate_reference(x0[k], w, dtype))) for k in range(BATCH))
        if not err <= TOLERANCE[precision]:
            fail(f"rates, {precision}: x differs from the NumPy loop by {err:.3g} "
                 f"(tolerance {TOLERANCE[precision]:g})")
        if np.array_equal(xs[-1, 0], xs[-1, 1]) or np.max(np.abs(xs[-1] - xs[0])) < 0.01:
            fail(f"rates, {precision}: the members do not move apart; the check proves little")
        for threads, (masked, _, _) in zip((1, 2, 3), runs["masked"]):
            if masked.tobytes() != xs.tobytes():
                diff = np.max(np.abs(masked - xs))
                fail(f"rates, {precision}: the masked (sparse) network on {threads} threads "
                     f"differs by {diff:.3g}: the dense rows add other terms or in another order")
        print(f"rates, {precision}: {STEPS} steps of {BATCH} members x {N} units within "
              f"{err:.1e} of the NumPy loop, identical on 1, 2 and 3 threads and bit for bit "
              "the masked network's")


def spike_run(rt, lib, threads):
    m = rt.open(str(lib), seed=1, threads=threads)
    rt.run_steps(m, SPIKE_STEPS)
    t, i = rt.spikes(m, "P")
    out = {"spike_t": np.asarray(t), "spike_i": np.asarray(i),
           "v": rt.state(m, "P", "v", SPIKE_N)}
    for proj in ("Rec", "Part"):
        for var in ("w", "s"):
            out[f"{proj}_{var}"] = rt.synapse_state(m, proj, var)
        pre, post = rt.synapses(m, proj)
        out[f"{proj}_pre"], out[f"{proj}_post"] = np.asarray(pre), np.asarray(post)
    rt.close(m)
    return out


def spikes(nclc, rt, work):
    rng = np.random.default_rng(11)
    n = SPIKE_N
    k_rec = rng.uniform(-0.004, 0.005, (n, n))
    k_part = rng.uniform(-0.004, 0.005, (SPIKE_PART_PRE[1] - SPIKE_PART_PRE[0],
                                       SPIKE_PART_POST[1] - SPIKE_PART_POST[0]))
    np.save(work / "K_rec.npy", k_rec)
    np.save(work / "K_part.npy", k_part)
    models = write_models(work, SPIKE_MODEL, n, SPIKE_PART_PRE, SPIKE_PART_POST,
                          ("K_rec", "K_part"))
    for precision in ("f64", "f32"):
        runs = {}
        for kind, model in models.items():
            lib = work / f"spikes_{kind}_{precision}.so"
            compile_model(nclc, model, lib, precision)
            runs[kind] = [spike_run(rt, lib, threads) for threads in (1, 3)]
        first = runs["dense"][0]
        check_synapses("spikes: Rec", first["Rec_pre"], first["Rec_post"], (0, n), (0, n))
        check_synapses("spikes: Part", first["Part_pre"], first["Part_post"], SPIKE_PART_PRE,
                       SPIKE_PART_POST)
        if len(first["spike_t"]) < 2 * n:
            fail(f"spikes, {precision}: {len(first['spike_t'])} spikes, too few to prove much")
        for kind, threads, got in (("dense", 3, runs["dense"][1]), ("masked", 1, runs["masked"][0]),
                                   ("masked", 3, runs["masked"][1])):
            for key, value in first.items():
                if value.tobytes() != got[key].tobytes():
                    fail(f"spikes, {precision}: the {kind} network on {threads} threads has "
                         f"another {key} than the dense one on 1")
        print(f"spikes, {precision}: {len(first['spike_t'])} spikes in {SPIKE_STEPS} steps; "
              "spikes, v and every synapse's w and s bit for bit the masked network's, on 1 "
              "and 3 threads")


def main():
    nclc, libnclrt, workdir = sys.argv[1:4]
    work = pathlib.Path(workdir) / "dense_rows"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    rates(nclc, rt, work)
    spikes(nclc, rt, work)


if __name__ == "__main__":
    main()
