#!/usr/bin/env python3
"""Batches (docs/semantics.md, "Batches") against independent references.

usage: batch_checks.py NCLC NCL-RUN LIBNCLRT WORKDIR CHECK [f64|f32]

Checks (the fifth argument):
  ctrnn    a discrete-time CTRNN (x <- (1 - a) x + a (W tanh(x) + u + b), as
           examples/ctrnn.ncl) with batch = 4, each member driven by its own
           block of a 3-D timed array (steps x 4 x N), against a NumPy loop
           of the equation for all members at once (X is B x N, the product
           tanh(X) W^T), using the W and b the run drew (read through the C
           API) and each member's own initial state; b must be the same in
           every member and the initial states must differ. float64 within
           1e-12, float32 within 2e-5, over 60 steps (the network is chaotic:
           rounding differences grow about e-fold every 40 ms). Then: 1, 2
           and 3 threads bitwise identical (3 threads split members in the
           middle); member 0 bitwise equal to the unbatched network given
           member 0's input (a 2-D file); the state monitor's file
           (samples x 4 x N) equal to what the C API read.
  spiking  a LIF network with a recurrent projection (delay 1 ms), a spike
           generator projecting onto it and a drive from a 3-D timed array,
           batch = 3: each member b must equal, bit for bit (membrane
           potentials every step and spike trains), the unbatched network
           run with member b's drive (a 2-D file) and member b's initial
           state (set through ncl_set_state); the generator's spikes reach
           every member. On 1, 2 and 3 threads.
  kwta     k-WTA per batch member: x follows a 3-D timed array of integer
           values (many ties), batch = 5, keep 7 of 40; after every step each
           member's row must be the NumPy reference (the first 7 of
           argsort(-x, stable), the others 0), exactly.
  errors   load-time errors: a 3-D timed array whose batch dimension is not
           the run's batch (the message names the file), ncl-run --batch 0
           (usage error, status 2), and --batch 2 of a network whose
           projection is plastic (the message names the projection).
"""
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

nclc, ncl_run, libnclrt, workdir, check = sys.argv[1:6]
precision = sys.argv[6] if len(sys.argv) > 6 else "f64"
work = pathlib.Path(workdir) / ("batch_%s_%s" % (check, precision))
work.mkdir(parents=True, exist_ok=True)
rt = Runtime(libnclrt)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def compile_model(name, source, **arrays):
    """Writes `source` and the .npy `arrays` beside it, compiles; returns the library."""
    for file, values in arrays.items():
        np.save(work / (file + ".npy"), values)
    path = work / (name + ".ncl")
    path.write_text(source)
    lib = work / (name + ".so")
    subprocess.run([nclc, str(path), "-o", str(lib), "--precision=" + precision], check=True)
    return str(lib)


# ---------------------------------------------------------------------------
# CTRNN
# ---------------------------------------------------------------------------

CTRNN = """neuron RateUnit {
  parameters {
    tau = 20 ms
    b = 0.1 * randn() per neuron
  }
  input Irec = 0
  input u = 0
  state { x = randn() }
  update { x = (1 - dt / tau) * x + dt / tau * (Irec + u + b) }
  output r = tanh(x)
}
synapse Dense {
  parameters { g = 1.5 }
  state { w = g * randn() / sqrt(N_pre) }
  summed { Irec = w * r_pre }
}
network CTRNNBatch {
  population P = RateUnit[%(n)d] { u = timed_array("%(file)s.npy", dt = 1 ms) }
  projection W = Dense(P -> P) { connect all_to_all() }
  record x(P) every 1
  simulate %(steps)d ms, dt = 1 ms, seed = 1, batch = %(batch)d
}
"""


def trajectories(lib, threads, steps, n, batch=None):
    """x of every member after each step (steps + 1 rows of B * N), b, W, x0."""
    m = rt.open(lib, seed=1, threads=threads, batch=batch)
    members = rt.batch(m)
    xs = [rt.state(m, "P", "x", members * n)]
    b = rt.state(m, "P", "b", members * n)
    i, j = rt.synapses(m, "W")
    w = rt.synapse_state(m, "W", "w")
    for _ in range(steps):
        rt.run_steps(m, 1)
        xs.append(rt.state(m, "P", "x", members * n))
    rt.close(m)
    w_dense = np.zeros((n, n))
    w_dense[j, i] = w
    return np.array(xs), b, w_dense


def check_ctrnn():
    n, batch, steps = 64, 4, 60
    rng = np.random.default_rng(7)
    u = rng.normal(0, 0.5, size=(steps, batch, n))
    lib = compile_model("ctrnn", CTRNN % dict(n=n, file="u", steps=steps, batch=batch), u=u)
    xs, b, w_dense = trajectories(lib, 1, steps, n)
    b = b.reshape(batch, n)
    if not all(np.array_equal(b[k], b[0]) for k in range(batch)):
        fail("the per-neuron parameter b differs between batch members")
    x0 = xs[0].reshape(batch, n)
    if any(np.array_equal(x0[k], x0[0]) for k in range(1, batch)):
        fail("two batch members drew the same initial state")
    # The reference: all members at once, X (B x N) <- (1 - a) X + a (tanh(X) W^T + U_n + b).
    a = 1e-3 / 20e-3
    x = x0.astype(np.float64)
    expect = [x.copy()]
    for step in range(steps):
        x = (1 - a) * x + a * (np.tanh(x) @ w_dense.T + u[step] + b[0])
        expect.append(x.copy())
    expect = np.array(expect).reshape(steps + 1, batch * n)
    tol = 1e-12 if precision == "f64" else 2e-5
    err = np.max(np.abs(xs - expect))
    if not err < tol:
        fail("x differs from the NumPy loop by %.3g (tolerance %g)" % (err, tol))
    for threads in (2, 3):
        other, _, _ = trajectories(lib, threads, steps, n)
        if other.tobytes() != xs.tobytes():
            fail("%d threads give other trajectories than one" % threads)
    # Member 0 is the unbatched network given member 0's input.
    single = compile_model("ctrnn_single", CTRNN % dict(n=n, file="u0", steps=steps, batch=1),
                           u0=u[:, 0, :])
    xs1, _, _ = trajectories(single, 1, steps, n)
    if xs1.tobytes() != xs[:, :n].tobytes():
        fail("member 0 differs from the unbatched run with its input")
    # The monitor's file: samples x members x neurons, what the C API read.
    out = work / "out"
    subprocess.run([ncl_run, lib, "--out", str(out), "--quiet", "--threads", "2"], check=True)
    recorded = np.load(out / "P_x.npy")
    if recorded.shape != (steps, batch, n):
        fail("P_x.npy has shape %s, expected %s" % (recorded.shape, (steps, batch, n)))
    if not np.array_equal(recorded.reshape(steps, batch * n), xs[:steps].astype(recorded.dtype)):
        fail("P_x.npy is not the state the C API read")
    print("ctrnn %s: batch %d of %d units within %.1e of the NumPy loop over %d steps; b shared, "
          "initial states differ; 1, 2, 3 threads identical; member 0 = the unbatched run; "
          "P_x.npy %s" % (precision, batch, n, err, steps, recorded.shape))


# ---------------------------------------------------------------------------
# Spiking
# ---------------------------------------------------------------------------

SPIKING = """neuron LIF {
  parameters {
    tau = 10 ms
    bias = 0.3 * rand() per neuron
  }
  input I = 0
  state {
    v = rand()
    ge = 0
  }
  dynamics {
    v' = (-v + I + bias + ge) / tau unless refractory
    ge' = -ge / (5 ms)
  }
  spike when v > 1
  reset { v = 0 }
  refractory 2 ms
}
synapse Exc {
  state { w = 0.3 * rand() }
  on_pre { ge += w }
}
synapse Kick {
  on_pre { v += 0.4 }
}
network Spiking {
  population P = LIF[%(n)d] { I = timed_array("%(file)s.npy", dt = 1 ms) }
  population G = spike_generator[4]("gen_t.npy", "gen_i.npy")
  projection C = Exc(P -> P) { connect fixed_probability(0.2); delay = 1 ms }
  projection K = Kick(G -> P) { connect all_to_all() }
  record spikes(P)
  record rate(P)
  simulate %(steps)d ms, dt = 0.1 ms, seed = 3, batch = %(batch)d
}
"""


def spiking_run(lib, threads, steps, n, initial=None):
    """v after every step (steps + 1 rows) and the spikes (times, indices)."""
    m = rt.open(lib, seed=3, threads=threads)
    members = rt.batch(m)
    if initial is not None:
        rt.set_state(m, "P", "v", initial)
    vs = [rt.state(m, "P", "v", members * n)]
    for _ in range(steps):
        rt.run_steps(m, 1)
        vs.append(rt.state(m, "P", "v", members * n))
    spikes = rt.spikes(m, "P")
    rt.close(m)
    return np.array(vs), spikes


def check_spiking():
    n, batch, ms = 50, 3, 60
    steps = ms * 10
    rng = np.random.default_rng(11)
    # Members get different drives: strong enough that every member spikes.
    drive = 1.0 + rng.uniform(0, 0.6, size=(ms, batch, n)) * np.arange(1, batch + 1)[None, :, None] / 2
    gen = dict(gen_t=np.array([0.005, 0.012, 0.020, 0.033]), gen_i=np.array([0, 2, 1, 3]))
    lib = compile_model("spiking", SPIKING % dict(n=n, file="drive", steps=ms, batch=batch),
                        drive=drive, **gen)
    vs, (times, index) = spiking_run(lib, 1, steps, n)
    for threads in (2, 3):
        other, (t2, i2) = spiking_run(lib, threads, steps, n)
        if other.tobytes() != vs.tobytes() or t2.tobytes() != times.tobytes() or \
                i2.tobytes() != index.tobytes():
            fail("%d threads give another run than one" % threads)
    counts = []
    for b in range(batch):
        single = compile_model("spiking_%d" % b,
                               SPIKING % dict(n=n, file="drive%d" % b, steps=ms, batch=1),
                               **{"drive%d" % b: drive[:, b, :]}, **gen)
        v1, (t1, i1) = spiking_run(single, 1, steps, n, initial=vs[0, b * n:(b + 1) * n])
        if v1.tobytes() != vs[:, b * n:(b + 1) * n].tobytes():
            diff = np.max(np.abs(v1 - vs[:, b * n:(b + 1) * n]))
            fail("member %d's v differs from the unbatched run by %.3g" % (b, diff))
        mine = (index // n) == b
        if t1.tobytes() != times[mine].tobytes() or i1.tobytes() != (index[mine] - b * n).tobytes():
            fail("member %d's spikes differ from the unbatched run's" % b)
        counts.append(len(t1))
    if min(counts) < 20 or len(set(counts)) == 1:
        fail("the members' spike counts %s do not show distinct, active members" % counts)
    # The files: P_spike_{t,i,b}.npy and the rate per member (samples x B).
    out = work / "out"
    subprocess.run([ncl_run, lib, "--out", str(out), "--quiet", "--threads", "3"], check=True)
    ft, fi, fb = (np.load(out / ("P_spike_%s.npy" % c)) for c in "tib")
    if not (np.array_equal(ft, times) and np.array_equal(fb, index // n) and
            np.array_equal(fi, index % n)):
        fail("P_spike_t/i/b.npy are not the spikes the C API gave")
    rate = np.load(out / "P_rate.npy")
    dt = 1e-4
    steps_of = np.rint(times / dt).astype(np.int64) - 1
    expect = np.zeros((steps, batch))
    np.add.at(expect, (steps_of, index // n), 1.0 / (n * dt))
    if rate.shape != (steps, batch) or not np.allclose(rate, expect, rtol=1e-12, atol=0):
        fail("P_rate.npy (shape %s) is not each member's spikes per step over N dt"
             % (rate.shape,))
    print("spiking %s: batch %d, each member equals the unbatched run with its drive and initial "
          "state bit for bit (%s spikes); 1, 2, 3 threads identical; P_spike_b.npy and "
          "P_rate.npy (steps x members) agree" % (precision, batch, counts))


# ---------------------------------------------------------------------------
# k-WTA per member
# ---------------------------------------------------------------------------

KWTA = """neuron Unit {
  input I = 0
  state { x = 0 }
  update { x = I }
}
network Kwta {
  population L = Unit[%(n)d] {
    I = timed_array("values.npy", dt = 1 ms)
    kwta x keep %(k)d
  }
  simulate %(steps)d ms, dt = 1 ms, batch = %(batch)d
}
"""


def check_kwta():
    n, k, batch, steps = 40, 7, 5, 30
    rng = np.random.default_rng(5)
    values = rng.integers(-3, 4, size=(steps, batch, n)).astype(np.float64)
    lib = compile_model("kwta", KWTA % dict(n=n, k=k, steps=steps, batch=batch), values=values)
    for threads in (1, 3):
        m = rt.open(lib, seed=1, threads=threads)
        for step in range(steps):
            rt.run_steps(m, 1)
            x = rt.state(m, "L", "x", batch * n).reshape(batch, n)
            for b in range(batch):
                row = values[step, b]
                expect = np.zeros(n)
                winners = np.argsort(-row, kind="stable")[:k]
                expect[winners] = row[winners]
                if not np.array_equal(x[b], expect):
                    fail("step %d, member %d (%d threads): k-WTA row %s, expected %s"
                         % (step, b, threads, x[b], expect))
        rt.close(m)
    print("kwta %s: %d members x %d steps, each row keeps its own %d winners (ties by index) on "
          "1 and 3 threads" % (precision, batch, steps, k))


# ---------------------------------------------------------------------------
# Load-time errors
# ---------------------------------------------------------------------------

PLASTIC = """neuron LIF {
  input I = 0
  state { v = 0 }
  dynamics { v' = (-v + I) / (10 ms) }
  spike when v > 1
  reset { v = 0 }
}
synapse Growing {
  state { w = 0.5 }
  on_pre { v += w; w += 0.01 }
}
network Plastic {
  population P = LIF[10] { I = 2 }
  projection Grow = Growing(P -> P) { connect all_to_all() }
  simulate 10 ms, dt = 1 ms
}
"""


def expect_error(args, status, *phrases):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != status:
        fail("%s exited %d, expected %d: %s" % (" ".join(args), r.returncode, status, r.stderr))
    for phrase in phrases:
        if phrase not in r.stderr:
            fail("%s: the message %r does not say %r" % (" ".join(args), r.stderr, phrase))
    if len(r.stderr.strip().splitlines()) > 2:
        fail("%s: more than one message: %r" % (" ".join(args), r.stderr))


def check_errors():
    n = 8
    u = np.zeros((5, 4, n))
    lib = compile_model("ctrnn", CTRNN % dict(n=n, file="u", steps=5, batch=4), u=u)
    expect_error([ncl_run, lib, "--batch", "3", "--quiet"], 1, "u.npy", "4 batch members",
                 "the run has 3")
    expect_error([ncl_run, lib, "--batch", "0"], 2, "--batch")
    plastic = compile_model("plastic", PLASTIC)
    expect_error([ncl_run, plastic, "--batch", "2", "--quiet"], 1, "projection 'Grow'",
                 "on_pre changes the synapse variable 'w'")
    r = subprocess.run([ncl_run, plastic, "--batch", "1", "--quiet"], capture_output=True)
    if r.returncode != 0:
        fail("--batch 1 of the plastic network failed: %s" % r.stderr)
    print("errors: a 3-D timed array of another batch, --batch 0 and a batch of a plastic "
          "projection are refused with one message each")


{"ctrnn": check_ctrnn, "spiking": check_spiking, "kwta": check_kwta,
 "errors": check_errors}[check]()
