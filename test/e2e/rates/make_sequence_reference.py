"""Makes the inputs of examples/sequence.ncl and the NumPy reference its
end-to-end test compares with (test/e2e/rates/sequence_checks.py).

usage: make_sequence_reference.py [DATA_DIR REFERENCE_DIR]   (writes examples/data/sequence/*.npy
                                     and test/e2e/rates/reference/sequence_*.npy)

Inputs (seeded, all float32, so a float32 and a float64 run read the same
numbers): 6 symbols, each a pattern of 16 features N(0, 1); each
of the B = 4 batch members sees all 6 symbols in its own order, each held
for 10 steps (100 ms), u.npy of shape steps x B x 16 (60 x 4 x 16).
W_in (16 x 200): N(0, 1 / 4); W_12 (200 x 100): N(0, 1 / 10), 10 being the
units H1 keeps; W_out (100 x 4): N(0, 1 / 5). Rows are presynaptic units,
as the files are read (pre x post).

The reference implements the example's equations from docs/semantics.md,
not from NCL's code: in step n every projection reads its source's values
at the start of the step (n), each sum S_j = sum_i w_ij r_i is formed in
ascending presynaptic order, an input adds its projections' sums in the
order they are written, then every population updates (the encoder
x <- (1 - a_e) x + a_e u_n with a_e = dt / tau_e = 0.5, the layers
x <- (1 - a) x + a (I + b), r = relu(x), a = dt / tau = 0.25, the readout
y = I + 0.1), and last each layer's k-WTA keeps, per batch member, the k
largest r (larger first, equal values by lower index; k = 10 of 200,
5 % rounded, and 5 of 100) and zeroes the others. Everything is computed in
the dtype asked for, operation by operation in that order (float32: each
product and sum rounded to float32), so the float32 reference rounds as the
documented order does. The recurrent weights of H1 are the example's
initialiser, 0.2 on the diagonal and -0.02 elsewhere; the biases its
b = 0.1 (i phi - floor(i phi)) - 0.03, phi = 0.6180339887, in the dtype.

The winners must not depend on rounding: at every step, in every member and
layer, the k-th largest r must exceed the (k + 1)-th by at least MARGIN
(relative to the layer's largest r), far more than the float32 run can
differ from this reference (sequence_checks.py); the script stops if not.
It saves, in float64 and float32, H2's r (the k-WTA output of the last
layer) and the readout's y after every step, shapes (steps + 1, B, 100) and
(steps + 1, B, 4), row 0 the initial state.
"""
import pathlib
import sys

import numpy as np

F, B, N1, N2, NOUT = 16, 4, 200, 100, 4
SYMBOLS, HOLD = 6, 10
STEPS = SYMBOLS * HOLD
K1, K2 = int(np.floor(0.05 * N1 + 0.5)), 5
DT, TAU_ENC, TAU, B_OUT, PHI = 0.010, 0.020, 0.040, 0.1, 0.6180339887
W_SELF, W_OTHER = 0.2, -0.02
MARGIN = 1e-4
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parents[2] / "examples" / "data" / "sequence"
REFERENCE = HERE / "reference"


def inputs():
    rng = np.random.default_rng(2017)
    symbols = rng.standard_normal((SYMBOLS, F))
    order = np.array([rng.permutation(SYMBOLS) for _ in range(B)])
    u = symbols[order[:, np.arange(STEPS) // HOLD]].transpose(1, 0, 2)
    w_in = rng.standard_normal((F, N1)) / np.sqrt(4)
    w_12 = rng.standard_normal((N1, N2)) / np.sqrt(K1)
    w_out = rng.standard_normal((N2, NOUT)) / np.sqrt(5)
    return [v.astype(np.float32) for v in (u, w_in, w_12, w_out)]


def summed_input(projections, dtype):
    """What an input receives from its summing projections, [(r, w), ...]
    in the order written: one running sum from 0 over every term
    w[i, j] r[b, i], projection by projection, each in ascending i, each
    product and partial sum rounded to `dtype` (semantics.md: an input
    sums its effects in order from zero, s = (e1 + e2) + ..., and adds s to
    its population value, here 0)."""
    s = np.zeros((B, projections[0][1].shape[1]), dtype=dtype)
    for r, w in projections:
        for i in range(w.shape[0]):
            s = s + w[i][None, :] * r[:, i, None]
    return dtype(0) + s


def kwta(r, k, what, step):
    """Keeps the k largest of each row (larger first, then lower index),
    zeroes the rest; checks that the k-th and (k + 1)-th are MARGIN apart."""
    order = np.argsort(-r, axis=1, kind="stable")
    top = np.take_along_axis(r, order, axis=1)
    gap = (top[:, k - 1] - top[:, k]) / np.max(top, axis=1)
    if not np.all(gap > MARGIN):
        sys.exit(f"{what}, step {step}: the {k}th and {k + 1}th values are only "
                 f"{gap.min():.2g} apart (relative): the winners would depend on rounding")
    out = np.zeros_like(r)
    rows = np.arange(r.shape[0])[:, None]
    out[rows, order[:, :k]] = r[rows, order[:, :k]]
    return out, gap.min()


def run(u, w_in, w_12, w_out, dtype):
    u, w_in, w_12, w_out = (np.asarray(v, dtype=dtype) for v in (u, w_in, w_12, w_out))
    zero, one = dtype(0), dtype(1)
    a_enc, a = dtype(DT) / dtype(TAU_ENC), dtype(DT) / dtype(TAU)
    assert a_enc == dtype(0.5) and a == dtype(0.25)
    w_rec = np.full((N1, N1), W_OTHER, dtype=dtype)
    np.fill_diagonal(w_rec, dtype(W_SELF))

    def bias(n):
        spread = np.arange(n, dtype=dtype) * dtype(PHI)
        return dtype(0.1) * (spread - np.floor(spread)) - dtype(0.03)

    b1, b2 = bias(N1), bias(N2)
    x_enc = np.zeros((B, F), dtype=dtype)
    x1, r1 = np.zeros((B, N1), dtype=dtype), np.zeros((B, N1), dtype=dtype)
    x2, r2 = np.zeros((B, N2), dtype=dtype), np.zeros((B, N2), dtype=dtype)
    y = np.zeros((B, NOUT), dtype=dtype)
    rs, ys, gaps = [r2.copy()], [y.copy()], []
    for n in range(STEPS):
        # Every sum reads start-of-step values: the encoder's output r = x,
        # H1's and H2's k-WTA outputs of the step before.
        i1 = summed_input([(x_enc, w_in), (r1, w_rec)], dtype)
        i2 = summed_input([(r1, w_12)], dtype)
        i_out = summed_input([(r2, w_out)], dtype)
        x_enc = (one - a_enc) * x_enc + a_enc * u[n]
        x1 = (one - a) * x1 + a * (i1 + b1)
        x2 = (one - a) * x2 + a * (i2 + b2)
        y = i_out + dtype(B_OUT)
        r1, gap1 = kwta(np.maximum(x1, zero), K1, "H1", n)
        r2, gap2 = kwta(np.maximum(x2, zero), K2, "H2", n)
        gaps.append(min(gap1, gap2))
        rs.append(r2.copy())
        ys.append(y.copy())
    return np.array(rs), np.array(ys), min(gaps)


def main():
    data, reference = DATA, REFERENCE
    if len(sys.argv) > 2:
        data, reference = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    u, w_in, w_12, w_out = inputs()
    data.mkdir(parents=True, exist_ok=True)
    reference.mkdir(parents=True, exist_ok=True)
    for name, value in (("u", u), ("W_in", w_in), ("W_12", w_12), ("W_out", w_out)):
        np.save(data / f"{name}.npy", value)
    for dtype, name in ((np.float64, "f64"), (np.float32, "f32")):
        r2, y, gap = run(u, w_in, w_12, w_out, dtype)
        np.save(reference / f"sequence_{name}_r.npy", r2)
        np.save(reference / f"sequence_{name}_y.npy", y)
        print(f"sequence, {name}: H2 rates in [0, {r2.max():.3f}], readout in "
              f"[{y.min():.3f}, {y.max():.3f}], smallest k-WTA margin {gap:.2g} (relative)")


if __name__ == "__main__":
    main()
