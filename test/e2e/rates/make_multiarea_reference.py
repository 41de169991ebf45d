"""Makes the inputs of examples/multiarea.ncl and the NumPy reference its
end-to-end test compares with (test/e2e/rates/example_checks.py multiarea).

usage: make_multiarea_reference.py [DATA_DIR REFERENCE_DIR]   (writes examples/data/multiarea/*.npy
                                      and test/e2e/rates/reference/multiarea_*.npy)

Three areas of 30 units. W_rec (pre x post, 90 x 90): within an area
N(0, 0.8^2 / 30), from area k to area k + 1 N(0, 1 / 30); mask.npy (0/1,
float32) is 1 exactly on those blocks, so no synapse runs backwards or from
area 1 to area 3. W_in (2 x 30) feeds area 1 only: N(0, 1). W_out (30 x
2) reads area 3: N(0, 1 / 30). u (steps x 2): a 1 Hz sine and a pulse of 1
from 0.2 s to 0.5 s. All float32. The reference iterates the example's
equation (rate_reference.py, f = tanh, W_rec * mask, W_in zero outside area
1) in float64 and float32 for one batch member, and the readout
y_{n+1} = tanh(x3_n) W_out + 0.1 (y_0 = 0); it saves x, shape
(steps + 1, B, 90), and y, shape (steps + 1, B, 2).
"""
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from rate_reference import run_rate_rnn  # noqa: E402

AREA, AREAS, NIN, NOUT = 30, 3, 2, 2
N = AREA * AREAS
STEPS, DT, TAU, B_OUT = 100, 0.010, 0.050, 0.1
DATA = HERE.parents[2] / "examples" / "data" / "multiarea"
REFERENCE = HERE / "reference"


def inputs():
    rng = np.random.default_rng(41)
    area = np.arange(N) // AREA
    within = area[:, None] == area[None, :]
    forward = area[None, :] == area[:, None] + 1
    mask = (within | forward).astype(np.float32)
    w_rec = rng.standard_normal((N, N)) / np.sqrt(AREA) * np.where(within, 0.8, 1.0)
    w_in = rng.standard_normal((NIN, AREA))
    w_out = rng.standard_normal((AREA, NOUT)) / np.sqrt(AREA)
    t = np.arange(STEPS) * DT
    u = np.stack([np.sin(2 * np.pi * 1.0 * t), ((t >= 0.2) & (t < 0.5)).astype(float)], axis=1)
    return [v.astype(np.float32) for v in (w_rec, mask, w_in, w_out, u)]


def main():
    data, reference = DATA, REFERENCE
    if len(sys.argv) > 2:
        data, reference = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    w_rec, mask, w_in, w_out, u = inputs()
    data.mkdir(parents=True, exist_ok=True)
    reference.mkdir(parents=True, exist_ok=True)
    for name, value in (("W_rec", w_rec), ("mask", mask), ("W_in", w_in), ("W_out", w_out),
                        ("u", u)):
        np.save(data / f"{name}.npy", value)
    w_in_full = np.zeros((NIN, N), dtype=np.float32)
    w_in_full[:, :AREA] = w_in
    for dtype, name in ((np.float64, "f64"), (np.float32, "f32")):
        xs = run_rate_rnn(w_rec * mask, w_in_full, u[:, None, :], np.zeros(N), DT / TAU, np.tanh,
                          STEPS, dtype)
        ys = np.zeros((STEPS + 1, 1, NOUT), dtype=dtype)
        ys[1:] = np.tanh(xs[:-1, :, 2 * AREA:]) @ w_out.astype(dtype) + dtype(B_OUT)
        np.save(reference / f"multiarea_{name}_x.npy", xs)
        np.save(reference / f"multiarea_{name}_y.npy", ys)
    print(f"multiarea: |x| per area at the end {np.abs(xs[-1, 0]).reshape(AREAS, AREA).mean(1)}")


if __name__ == "__main__":
    main()
