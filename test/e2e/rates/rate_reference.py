"""The NumPy loop that the rate-network references of examples/eirnn.ncl
and examples/multiarea.ncl share: independent of NCL, it iterates

    x_{n+1} = (1 - a) x_n + a (f(x_n) W_rec + rin_n W_in + b),
    rin_{n+1} = u_n,   rin_0 = 0,

over a batch of B independent copies (each from its own x_0), where
rows of W_rec and W_in are presynaptic units (the files' layout, pre x
post), f is the rate function and rin the input layer, which relays the
input u with one step's delay as NCL's input population does (a
projection reads its source's start-of-step rates). Everything is done in
the dtype asked for, so a float32 reference rounds as a float32 run does
(up to the order of the sums).
"""
import numpy as np


def run_rate_rnn(w_rec, w_in, u, bias, a, rate, steps, dtype, x0=None):
    """Trajectories x of shape (steps + 1, B, N) from x_0 = x0 (B, N), or 0;
    u has shape (steps, B, n_in)."""
    w_rec = np.asarray(w_rec, dtype=dtype)
    w_in = np.asarray(w_in, dtype=dtype)
    u = np.asarray(u, dtype=dtype)
    bias = np.asarray(bias, dtype=dtype)
    a = dtype(a)
    one = dtype(1)
    batch, n = u.shape[1], w_rec.shape[0]
    x = np.zeros((batch, n), dtype=dtype) if x0 is None else np.asarray(x0, dtype=dtype).copy()
    rin = np.zeros((batch, w_in.shape[0]), dtype=dtype)
    out = [x.copy()]
    for step in range(steps):
        x = (one - a) * x + a * (rate(x) @ w_rec + rin @ w_in + bias)
        rin = u[step]
        out.append(x.copy())
    return np.array(out)


def relu(x):
    return np.maximum(x, 0)
