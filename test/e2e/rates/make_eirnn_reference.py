"""Makes the inputs of examples/eirnn.ncl and the NumPy reference its
end-to-end test compares with (test/e2e/rates/example_checks.py eirnn).

usage: make_eirnn_reference.py [DATA_DIR REFERENCE_DIR]   (writes examples/data/eirnn/*.npy and
                                  test/e2e/rates/reference/eirnn_*.npy)

W_rec (pre x post, 100 x 100): |N(0, g^2 / N)| with g = 0.5, times +1 for
the 80 excitatory presynaptic units and -4 for the 20 inhibitory ones (the
|W| * sign of NN4Neurosim's EIRNN, inhibition 4 times stronger to balance
the 4:1 ratio), zero diagonal. W_in (3 x 100): N(0, 1/3). u (steps x 3): a
0.5 Hz sine, a 0.25 Hz cosine and a pulse of 1 from 0.6 s to 1.2 s. All
saved as float32, so a float32 and a float64 run read the same numbers.
The reference iterates the example's equation (rate_reference.py) with
b_i = 0.05 cos(i) in float64 and in float32 for one batch member, and saves
x of every step, shape (steps + 1, B, N).
"""
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from rate_reference import relu, run_rate_rnn  # noqa: E402

N, NE, NIN = 100, 80, 3
STEPS, DT, TAU, G = 100, 0.020, 0.100, 0.5
DATA = HERE.parents[2] / "examples" / "data" / "eirnn"
REFERENCE = HERE / "reference"


def inputs():
    rng = np.random.default_rng(14)
    sign = np.where(np.arange(N) < NE, 1.0, -4.0)
    w_rec = np.abs(rng.standard_normal((N, N))) * G / np.sqrt(N) * sign[:, None]
    np.fill_diagonal(w_rec, 0.0)
    w_in = rng.standard_normal((NIN, N)) / np.sqrt(NIN)
    t = np.arange(STEPS) * DT
    u = np.stack([np.sin(2 * np.pi * 0.5 * t), np.cos(2 * np.pi * 0.25 * t),
                  ((t >= 0.6) & (t < 1.2)).astype(float)], axis=1)
    return w_rec.astype(np.float32), w_in.astype(np.float32), u.astype(np.float32)


def main():
    data, reference = DATA, REFERENCE
    if len(sys.argv) > 2:
        data, reference = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    w_rec, w_in, u = inputs()
    data.mkdir(parents=True, exist_ok=True)
    reference.mkdir(parents=True, exist_ok=True)
    np.save(data / "W_rec.npy", w_rec)
    np.save(data / "W_in.npy", w_in)
    np.save(data / "u.npy", u)
    bias = 0.05 * np.cos(np.arange(N))
    for dtype, name in ((np.float64, "f64"), (np.float32, "f32")):
        xs = run_rate_rnn(w_rec, w_in, u[:, None, :], bias, DT / TAU, relu, STEPS, dtype)
        np.save(reference / f"eirnn_{name}.npy", xs)
    r = relu(xs)
    print(f"eirnn: r in [{r.min():.3f}, {r.max():.3f}], mean {r.mean():.3f}")


if __name__ == "__main__":
    main()
