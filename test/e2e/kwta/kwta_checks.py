#!/usr/bin/env python3
"""k-WTA (docs/semantics.md, "k-WTA") against an independent NumPy reference.

Each check compiles a small model whose population L copies, every step n,
row n of a 2-D timed array into x (`update { x = I }`), so that the values
the k-WTA sees are known exactly; then it runs step by step and compares x
after every step with the reference: the winners are the first k of
np.argsort(-x, kind="stable") (larger first, equal values by lower index),
the losers are 0 (or get the declared reset). Values are compared exactly:
the k-WTA only selects and copies, so there is no rounding to allow for.

Checks (the first argument):
  ties     integer-valued inputs, so that many neurons tie at the k-th value
  k1       k = 1
  kN       k = N: nothing changes
  random   normal inputs, k = 2 % of 1000, and half-way rounding of a percentage
  threads  the random model on 1, 2 and 3 threads: bitwise identical
  reset    a `reset { ... }` for the losers instead of zeroing
  boost    boosting by duty cycle against the NumPy recursion of semantics.md
  resize   sizes for which k would be 0 or more than N are refused
  example  examples/kwta_layer.ncl does what its header says
  layer    examples/kwta_layer.ncl resized to 200 units (k = 6) over 3
           batch members against an independent NumPy loop of its equation,
           with NCL's normal draws from philox_reference.py: x within 1e-12
           (f64) or 2e-6 (f32) after each of 40 steps, the same winners
  fused    builds with ncl-fuse (the default) and without (nclc --no-fuse)
           give bitwise identical results: plain, boosted, with a reset,
           boosted over 3 batch members on 1 and 2 threads, and
           examples/kwta_layer.ncl (noisy inputs); the boosted fused build
           has the kwta_key buffer the unfused one lacks
  spiking  examples/kwta_spiking.ncl: of the neurons that cross, the k most
           depolarised spike (ties to the lower index), the losers keep v;
           against a NumPy reference on 1, 2 and 3 threads
  spiking-inputs  the same with spikes arriving through a projection and a
           refractory period
  spiking-batch  spiking-noise over 3 batch members, each its own selection
  spiking-noise  a noisy update: the spikers are the most depolarised
           crossers of the run's own values, on 1, 2 and 3 threads alike
Usage: kwta_checks.py NCLC NCL-RUN NCLRT WORKDIR CHECK f64|f32 [EXAMPLES_DIR]
"""
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from nclrt import Runtime  # noqa: E402

nclc, ncl_run, nclrt_path, workdir, check, precision = sys.argv[1:7]
examples = sys.argv[7] if len(sys.argv) > 7 else None
real = np.float32 if precision == "f32" else np.float64
rt = Runtime(nclrt_path)
rt.rt.ncl_set_size.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
failures = []


def build(name, n, kwta, values, flags=(), batch=None):
    """A model of n units whose x follows `values` (steps x n, or steps x
    batch x n) row by row, with the population item `kwta`, compiled with
    nclc's `flags`; returns the library's path."""
    d = os.path.join(workdir, "kwta_%s_%s" % (name, precision))
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "values.npy"), np.asarray(values, dtype=np.float64))
    source = os.path.join(d, "model.ncl")
    with open(source, "w") as f:
        f.write("""neuron Unit {
  input I = 0
  state { x = 0 }
  update { x = I }
}
network Kwta {
  population L = Unit[%d] {
    I = timed_array("values.npy", dt = 1 ms)
    %s
  }
  simulate 1 s, dt = 1 ms%s
}
""" % (n, kwta, ", batch = %d" % batch if batch else ""))
    lib = os.path.join(d, "model%s.so" % "".join(f.strip("-") for f in flags))
    subprocess.run([nclc, source, "--precision=" + precision, "-o", lib] + list(flags), check=True)
    return lib


def simulate(lib, n, steps, threads=1, var="x", seed=1):
    """`var` after each of `steps` steps (steps x n, float64 copies)."""
    m = rt.open(lib, seed, threads=threads)
    rows = []
    for _ in range(steps):
        rt.run_steps(m, 1)
        rows.append(rt.state(m, "L", var, n))
    rt.close(m)
    return np.array(rows)


def winners(keys, k):
    """The reference selection: first k of "larger first, then lower index"."""
    won = np.zeros(keys.shape[0], dtype=bool)
    won[np.argsort(-keys, kind="stable")[:k]] = True
    return won


def reference(values, k, loser=lambda x: np.zeros_like(x)):
    rows = []
    for row in np.asarray(values, dtype=np.float64).astype(real):
        won = winners(row, k)
        rows.append(np.where(won, row, loser(row)).astype(np.float64))
    return np.array(rows)


def compare(what, got, ref):
    if got.shape != ref.shape or not np.array_equal(got, ref):
        bad = np.argwhere(got != ref) if got.shape == ref.shape else []
        failures.append("%s: differs from the NumPy reference (%d entries, first %s)" %
                        (what, len(bad), bad[:1].tolist()))
    else:
        print("%s: equal to the NumPy reference (%d steps x %d neurons, %s)" %
              (what, got.shape[0], got.shape[1], precision))


rng = np.random.default_rng(14)
if check == "ties":
    n, k, steps = 50, 7, 40
    values = rng.integers(0, 4, size=(steps, n)).astype(np.float64)
    # Every step must tie at the k-th value, or the check proves nothing.
    ties = [int(np.sum(r == np.sort(r)[::-1][k - 1])) for r in values]
    assert min(ties) > 1, "the inputs do not tie at the k-th value"
    compare("ties (k = 7 of 50, values 0..3)", simulate(build("ties", n, "kwta x keep 7", values),
                                                       n, steps), reference(values, k))
elif check == "k1":
    n, steps = 37, 30
    values = rng.integers(-3, 3, size=(steps, n)).astype(np.float64)
    compare("k = 1", simulate(build("k1", n, "kwta x keep 1", values), n, steps),
            reference(values, 1))
elif check == "kN":
    n, steps = 20, 30
    values = rng.normal(size=(steps, n))
    got = simulate(build("kN", n, "kwta x keep 20", values), n, steps)
    compare("k = N", got, reference(values, n))
    compare("k = N keeps every value", got, values.astype(real).astype(np.float64))
elif check in ("random", "threads"):
    n, steps = 1000, 25
    values = rng.normal(size=(steps, n))
    lib = build("random", n, "kwta x keep 2 %", values)
    got = simulate(lib, n, steps)
    if check == "random":
        compare("random, 2 % of 1000 (k = 20)", got, reference(values, 20))
        # 2.5 % of 100 is 2.5 neurons: k = floor(2.5 + 0.5) = 3; of 60, 2.
        for size, k in ((100, 3), (60, 2)):
            v = rng.normal(size=(10, size))
            compare("2.5 %% of %d rounds to k = %d" % (size, k),
                    simulate(build("half%d" % size, size, "kwta x keep 2.5 %", v), size, 10),
                    reference(v, k))
    else:
        for threads in (2, 3):
            other = simulate(lib, n, steps, threads=threads)
            if not np.array_equal(got, other):
                failures.append("%d threads differ from 1 thread" % threads)
            else:
                print("%d threads: bitwise identical to 1 thread (%s)" % (threads, precision))
        compare("1 thread", got, reference(values, 20))
elif check == "reset":
    n, steps = 40, 20
    values = rng.normal(size=(steps, n))
    got = simulate(build("reset", n, "kwta x keep 5 reset { x = 0.5 * x - 1 }", values), n, steps)
    compare("losers reset to 0.5 x - 1", got,
            reference(values, 5, lambda x: real(0.5) * x - real(1)))
elif check == "boost":
    n, steps, k, beta, period = 200, 300, 10, 3.0, 50.0
    # Units of higher index get systematically larger inputs: without
    # boosting the same few win; boosting must rotate the winners.
    values = rng.uniform(0.5, 1.0, size=(steps, n)) * (1 + np.arange(n) / n)
    got = simulate(build("boost", n, "kwta x keep 10 boost 3 period 50", values), n, steps)
    duty = np.zeros(n, dtype=real)
    target = real(k / n)
    rows, plain = [], []
    for s, row in enumerate(values.astype(real)):
        keys = row * np.exp(real(beta) * (target - duty))
        won = winners(keys, k)
        rows.append(np.where(won, row, real(0)).astype(np.float64))
        plain.append(winners(row, k))
        rate = real(min(period, s + 1.0))
        duty = duty + (won.astype(real) - duty) / rate
    compare("boosted selection (beta = 3, period 50 steps)", got, np.array(rows))
    distinct_boosted = int(np.sum(np.any(got != 0, axis=0)))
    distinct_plain = int(np.sum(np.any(np.array(plain), axis=0)))
    print("units that ever won: %d with boosting, %d without" % (distinct_boosted, distinct_plain))
    if not distinct_boosted > 1.5 * distinct_plain:
        failures.append("boosting should let half as many units again win (%d vs %d)" %
                        (distinct_boosted, distinct_plain))
elif check == "resize":
    values = rng.normal(size=(5, 30))
    lib = build("resize", 30, "kwta x keep 20", values)
    m = rt.rt.ncl_open(lib.encode())
    rt.check(m)
    if rt.rt.ncl_set_size(m, b"L", 10) == 0:
        failures.append("a size below k was accepted")
    else:
        msg = rt.rt.ncl_last_error().decode()
        expected = "population 'L' cannot have 10 neurons: its k-WTA keeps k = 20 of them"
        if msg != expected:
            failures.append("message %r, expected %r" % (msg, expected))
        else:
            print("ncl_set_size(L, 10) with keep 20: " + msg)
    if rt.rt.ncl_set_size(m, b"L", 25) != 0:
        failures.append("a size above k was refused: " + rt.rt.ncl_last_error().decode())
    rt.close(m)
    lib = build("resize_fraction", 1000, "kwta x keep 2 %", rng.normal(size=(5, 1000)))
    m = rt.rt.ncl_open(lib.encode())
    rt.check(m)
    if rt.rt.ncl_set_size(m, b"L", 20) == 0:
        failures.append("a size where 2 % rounds to 0 was accepted")
    else:
        msg = rt.rt.ncl_last_error().decode()
        expected = ("population 'L' cannot have 20 neurons: its k-WTA keeps 2 % of them, "
                    "which rounds to k = 0")
        if msg != expected:
            failures.append("message %r, expected %r" % (msg, expected))
        else:
            print("ncl_set_size(L, 20) with keep 2 %: " + msg)
    rt.close(m)
    # ncl-run prints the same message and exits 1.
    run = subprocess.run([ncl_run, lib, "--size", "L=20", "--time", "1ms", "--out",
                          os.path.join(workdir, "kwta_resize_out")],
                         capture_output=True, text=True)
    if run.returncode != 1 or "its k-WTA keeps 2 % of them, which rounds to k = 0" not in run.stderr:
        failures.append("ncl-run --size L=20: exit %d, stderr %r" % (run.returncode, run.stderr))
    else:
        print("ncl-run --size L=20 exits 1: " + run.stderr.strip())
elif check == "example":
    source = os.path.join(examples, "kwta_layer.ncl")
    lib = os.path.join(workdir, "kwta_layer_%s.so" % precision)
    subprocess.run([nclc, source, "--precision=" + precision, "-o", lib], check=True)
    n, k = 1000, 30
    m = rt.open(lib, 7)
    for step in range(200):
        rt.run_steps(m, 1)
        r = rt.state(m, "L", "r", n)
        x = rt.state(m, "L", "x", n)
        active = np.flatnonzero(r > 0)
        expected = np.flatnonzero(winners(x, k))
        if len(active) != k or not np.array_equal(active, expected):
            failures.append("step %d: %d rates positive, expected the %d of the largest x" %
                            (step, len(active), k))
            break
    else:
        print("200 steps: exactly 30 of 1000 rates positive (3 %%) after every step, "
              "those of the 30 largest x; last winners: %s" % active.tolist())
    rt.close(m)
elif check == "layer":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from philox_reference import ncl_normal  # noqa: E402
    lib = os.path.join(workdir, "kwta_layer_ref_%s.so" % precision)
    subprocess.run([nclc, os.path.join(examples, "kwta_layer.ncl"), "--precision=" + precision,
                    "-o", lib], check=True)
    n, batch, steps, seed = 200, 3, 40, 7
    k = int(np.floor(0.03 * n + 0.5))
    m = rt.rt.ncl_open(lib.encode())
    rt.check(m)
    rt.check(rt.rt.ncl_set_size(m, b"L", n) == 0)
    rt.check(rt.rt.ncl_set_batch(m, batch) == 0)
    rt.check(rt.rt.ncl_init(m, seed) == 0)
    got_x, got_r = [], []
    for _ in range(steps):
        rt.run_steps(m, 1)
        got_x.append(rt.state(m, "L", "x", n * batch))
        got_r.append(rt.state(m, "L", "r", n * batch))
    rt.close(m)
    # tau x' = -x + mu_i + I, mu_i = i / N, I = 0.5 randn() drawn anew each
    # step (stream 0, entity b N + i), by exponential Euler (exact here):
    # x += h phi(z) (a + b x), z = b h, phi(z) = expm1(z) / z, a = (mu + I) / tau,
    # b = -1 / tau; r = relu(x), then the k-WTA on r.
    tau, h = real(0.020), real(0.001)
    mu = np.tile((np.arange(n, dtype=real) / real(n)).astype(real), batch)
    b = real(-1) / tau
    z = b * h
    gain = h * real(np.expm1(np.float64(z)) / np.float64(z))
    x = np.zeros(n * batch, dtype=real)
    margin = np.inf
    bits = 32 if precision == "f32" else 64
    for step in range(steps):
        draws = np.asarray(ncl_normal(seed, step, np.arange(n * batch), 0, bits=bits), dtype=real)
        a = (mu + real(0.5) * draws) / tau
        x = (x + gain * (a + b * x)).astype(real)
        r = np.maximum(x, real(0))
        kept = np.zeros_like(r)
        for member in range(batch):
            row = r[member * n:(member + 1) * n]
            order = np.argsort(-row, kind="stable")
            margin = min(margin, float(row[order[k - 1]] - row[order[k]]))
            kept[member * n + order[:k]] = row[order[:k]]
        tolerance = 1e-12 if precision == "f64" else 2e-6
        if np.max(np.abs(got_x[step] - x)) > tolerance:
            failures.append("step %d: x differs from the NumPy loop by %.3g" %
                            (step, np.max(np.abs(got_x[step] - x))))
            break
        if not np.array_equal(got_r[step] != 0, kept != 0):
            failures.append("step %d: other winners than the NumPy loop's" % step)
            break
        if np.max(np.abs(got_r[step] - kept)) > tolerance:
            failures.append("step %d: r differs from the NumPy loop" % step)
            break
        x = np.asarray(got_x[step], dtype=real)  # follow NCL's rounding from here
    # The winners are well defined only if the k-th and (k+1)-th rates are
    # further apart than the rounding differences.
    if not margin > 10 * tolerance:
        failures.append("the k-th and (k+1)-th rates come within %.3g: the check proves little"
                        % margin)
    if not failures:
        print("kwta_layer, %d units (k = %d), %d batch members, %s: x and r after each of %d "
              "steps as the NumPy loop's, the same winners (smallest k-th gap %.2g)" %
              (n, k, batch, precision, steps, margin))
elif check == "fused":
    def same(what, fused, unfused):
        if fused.shape != unfused.shape or not np.array_equal(fused, unfused):
            failures.append("%s: fused and unfused builds differ" % what)
        else:
            print("%s: fused and unfused builds bitwise identical (%d steps x %d, %s)" %
                  (what, fused.shape[0], fused.shape[1], precision))

    n, steps = 300, 60
    values = rng.normal(size=(steps, n))
    for name, item in (("plain", "kwta x keep 2 %"),
                       ("boosted", "kwta x keep 10 boost 3 period 20"),
                       ("reset", "kwta x keep 9 reset { x = 0.5 * x - 1 }")):
        libs = [build("fused_" + name, n, item, values, flags) for flags in ((), ("--no-fuse",))]
        same(name, *[simulate(lib, n, steps) for lib in libs])
    batch = 3
    values = rng.normal(size=(steps, batch, n))
    item = "kwta x keep 10 boost 3 period 20"
    libs = [build("fused_batch", n, item, values, flags, batch)
            for flags in ((), ("--no-fuse",))]
    fused = simulate(libs[0], n * batch, steps)
    same("boosted, batch = 3", fused, simulate(libs[1], n * batch, steps))
    same("boosted, batch = 3, fused on 2 threads", fused,
         simulate(libs[0], n * batch, steps, threads=2))
    # The selection sees different inputs per member: the members differ.
    rows = fused[-1].reshape(batch, n)
    if np.array_equal(rows[0], rows[1]):
        failures.append("batch members 0 and 1 have the same winners; the check proves little")
    # What fusion changed: the keys' buffer, which only the fused build has.
    source = os.path.join(workdir, "kwta_fused_batch_%s" % precision, "model.ncl")
    loops = [subprocess.run([nclc, source, "--emit=mlir-loops"] + flags, check=True,
                            capture_output=True, text=True).stdout
             for flags in ([], ["--no-fuse"])]
    if "role = kwta_key" not in loops[0] or "role = kwta_key" in loops[1]:
        failures.append("only the fused build should have a kwta_key buffer")
    source = os.path.join(examples, "kwta_layer.ncl")
    libs = []
    for flags in ([], ["--no-fuse"]):
        libs.append(os.path.join(workdir, "kwta_layer_%s%s.so" % (precision, "".join(flags))))
        subprocess.run([nclc, source, "--precision=" + precision, "-o", libs[-1]] + flags,
                       check=True)
    same("examples/kwta_layer.ncl (r)", *[simulate(lib, 1000, 50, var="r", seed=7) for lib in libs])
elif check in ("spiking", "spiking-inputs"):
    # k-WTA on a spiking population (docs/semantics.md, "k-WTA of spiking
    # neurons"): of the neurons that cross, the min(k, #crossers) with the
    # largest v (before reset; ties to the lower index) spike; the others
    # keep their value. The models are discrete, v <- v/2 + d (+ arrivals),
    # with dyadic numbers, so the NumPy reference is exact in both precisions.
    if check == "spiking":
        # examples/kwta_spiking.ncl, as its header says.
        n, k, steps, refractory_steps, kick = 40, 3, 100, 0, 0.0
        source = os.path.join(examples, "kwta_spiking.ncl")
        arrivals = np.zeros((steps, n))
    else:
        # Spikes of a generator arrive through a projection (on_pre adds to
        # v: the keys kernel must read the synaptic input without clearing
        # it), and a refractory period of 2 steps (a refractory neuron has
        # no key; an update `unless refractory` drops what arrives).
        n, k, steps, refractory_steps, kick = 30, 4, 80, 2, 0.25
        d = os.path.join(workdir, "kwta_spiking_inputs_%s" % precision)
        os.makedirs(d, exist_ok=True)
        gen_steps, gen_index = [], []
        for step in range(steps):
            for i in rng.choice(n, size=rng.integers(0, 8), replace=False):
                gen_steps.append(step)
                gen_index.append(i)
        np.save(os.path.join(d, "times.npy"), np.array(gen_steps, dtype=np.float64) * 1e-3)
        np.save(os.path.join(d, "indices.npy"), np.array(gen_index, dtype=np.int64))
        arrivals = np.zeros((steps, n))
        for step, i in zip(gen_steps, gen_index):
            arrivals[step, i] += kick
        source = os.path.join(d, "model.ncl")
        with open(source, "w") as f:
            f.write("""neuron Race {
  parameters {
    vt = 1
    vr = 0
    d = 0.5 + (1 + floor(i / 2)) / 64   per neuron
    t_ref = 2 ms
  }
  state { v = 0 }
  update { v = 0.5 * v + d   unless refractory }
  spike when v > vt
  reset { v = vr }
  refractory t_ref
}
synapse Kick { on_pre { v += 0.25 } }
network KwtaSpikingInputs {
  population G = spike_generator[%d]("times.npy", "indices.npy")
  population P = Race[%d] { kwta v keep %d }
  projection C = Kick(G -> P) { connect one_to_one() }
  record spikes(P)
  simulate 80 ms, dt = 1 ms
}
""" % (n, n, k))
    lib = os.path.join(workdir, "%s_%s.so" % (check, precision))
    subprocess.run([nclc, source, "--precision=" + precision, "-o", lib], check=True)

    # The reference: semantics.md's step with the gate.
    drive = (0.5 + (1 + np.floor(np.arange(n) / 2)) / 64).astype(real)
    v = np.zeros(n, dtype=real)
    until = np.zeros(n, dtype=np.int64)
    ref_v, ref_spikes, crossers, tied = [], [], [], 0
    for step in range(steps):
        free = step >= until
        v = np.where(free, v + arrivals[step].astype(real), v)
        v = np.where(free, real(0.5) * v + drive, v)
        cross = (v > 1) & free
        key = np.where(cross, v, -np.inf)
        spike = winners(key, k) & cross
        # A tie at the k-th key between crossers, settled by the index.
        kth = np.sort(key[cross])[::-1][k - 1] if cross.sum() >= k else None
        tied += int(kth is not None and np.sum(key == kth) > 1 and not spike[key == kth].all())
        crossers.append(int(cross.sum()))
        ref_spikes.append(np.flatnonzero(spike))
        v = np.where(spike, real(0), v)
        until = np.where(spike, step + 1 + refractory_steps, until)
        ref_v.append(v.astype(np.float64))
    ref_v = np.array(ref_v)
    counts = np.array([len(s) for s in ref_spikes])
    # The reference itself: never more than k, exactly min(k, #crossers),
    # and the case the gate is about (more crossers than k) happens often.
    assert np.array_equal(counts, np.minimum(k, crossers))
    busy = int(np.sum(np.array(crossers) > k))
    assert busy > steps // 4 and tied > 0, (busy, tied)

    for threads in (1, 2, 3):
        m = rt.open(lib, 1, threads=threads)
        got_v = []
        for _ in range(steps):
            rt.run_steps(m, 1)
            got_v.append(rt.state(m, "P", "v", n))
        times, index = rt.spikes(m, "P")
        rt.close(m)
        got_v = np.array(got_v)
        spike_steps = np.rint(times / 1e-3).astype(np.int64) - 1  # stamped t_{n+1}
        got_spikes = [np.sort(index[spike_steps == s]) for s in range(steps)]
        what = "%s, %d thread%s" % (check, threads, "s" if threads > 1 else "")
        bad = [s for s in range(steps) if not np.array_equal(got_spikes[s], ref_spikes[s])]
        if bad:
            s = bad[0]
            failures.append("%s: spikes of step %d are %s, expected %s (the %d largest of %d "
                            "crossers)" % (what, s, got_spikes[s].tolist(),
                                           ref_spikes[s].tolist(), k, crossers[s]))
        else:
            print("%s: the spikes of all %d steps are the reference's (%d spikes; %d steps with "
                  "more than k = %d crossers, %d with a tie at the k-th)" %
                  (what, steps, counts.sum(), busy, k, tied))
        compare(what + ", v after every step (losers keep theirs)", got_v, ref_v)
    if check == "spiking":
        # What the example's header promises.
        spiked = sorted(set(np.concatenate(ref_spikes).tolist()))
        if not (counts[0] == 0 and np.all(counts[1:] == 3) and crossers[1] == 20 and
                ref_spikes[1].tolist() == [36, 38, 39] and spiked == list(range(24, 40)) and
                np.all(ref_v[10:, :24] > 1)):
            failures.append("examples/kwta_spiking.ncl does not do what its header says")
elif check in ("spiking-noise", "spiking-batch"):
    # The same rule with a noisy update, v <- v/2 + d + 0.05 randn(): the
    # keys kernel must draw what the update draws. A subtractive reset
    # (v -= 1, exact for v in [1/2, 2]) lets the check recover each spiker's
    # value before the reset from the state after the step, so the gate is
    # checked against the values of the run itself: the spikers are the
    # min(k, C) crossers of largest value (ties to the lower index), and a
    # crosser that lost kept its value above threshold.
    # spiking-batch: the same over 3 batch members, each its own selection
    # (spikes of member b's neuron i are reported as b * N + i).
    batch = 3 if check == "spiking-batch" else 1
    n, k, steps = 200, 5, 60
    d = os.path.join(workdir, "kwta_spiking_noise_%s" % precision)
    os.makedirs(d, exist_ok=True)
    source = os.path.join(d, "model.ncl")
    with open(source, "w") as f:
        f.write("""neuron Noisy {
  parameters {
    vt = 1
    d = 0.5 + (1 + floor(i / 2)) / 512   per neuron
  }
  state { v = 0 }
  update { v = 0.5 * v + d + 0.05 * randn() }
  spike when v > vt
  reset { v = v - 1 }
}
network KwtaSpikingNoise {
  population P = Noisy[%d] { kwta v keep %d }
  record spikes(P)
  simulate 60 ms, dt = 1 ms
}
""" % (n, k))
    lib = os.path.join(workdir, "spiking_noise_%s_%d.so" % (precision, batch))
    subprocess.run([nclc, source, "--precision=" + precision, "-o", lib], check=True)
    runs = []
    for threads in (1, 2, 3):
        m = rt.open(lib, 5, threads=threads, batch=batch)
        vs = []
        for _ in range(steps):
            rt.run_steps(m, 1)
            vs.append(rt.state(m, "P", "v", n * batch))
        times, index = rt.spikes(m, "P")
        rt.close(m)
        runs.append((np.array(vs), np.rint(times / 1e-3).astype(np.int64) - 1, index))
    for threads, run in zip((2, 3), runs[1:]):
        if not all(np.array_equal(a, b) for a, b in zip(runs[0], run)):
            failures.append("spiking-noise: %d threads differ from 1 thread" % threads)
        else:
            print("spiking-noise: %d threads bitwise identical to 1 thread (%s)" %
                  (threads, precision))
    vs, spike_steps, index = runs[0]
    busy, spikes = 0, 0
    if batch > 1 and np.array_equal(vs[:, :n], vs[:, n:2 * n]):
        failures.append("spiking-batch: members 0 and 1 have the same values")
    for step, member in ((s, b) for s in range(steps) for b in range(batch)):
        spiked = np.zeros(n * batch, dtype=bool)
        spiked[index[spike_steps == step]] = True
        spiked = spiked[member * n:(member + 1) * n]
        after = vs[step][member * n:(member + 1) * n].astype(real)
        before = np.where(spiked, after + real(1), after)  # exact for v in [1/2, 2]
        if np.any(before[spiked] > 2) or np.any(before[spiked] <= 1):
            failures.append("spiking-noise: step %d has a spiker whose value is outside (1, 2]"
                            % step)
            break
        cross = before > 1
        expected = winners(np.where(cross, before, -np.inf), k) & cross
        busy += int(cross.sum() > k)
        spikes += int(spiked.sum())
        if not np.array_equal(spiked, expected):
            failures.append("spiking-noise: step %d (member %d) spiked %s, expected %s of %d "
                            "crossers" % (step, member, np.flatnonzero(spiked).tolist(),
                                          np.flatnonzero(expected).tolist(), int(cross.sum())))
            break
    else:
        if busy < steps * batch // 2:
            failures.append("spiking-noise: only %d steps with more than k crossers" % busy)
        else:
            print("%s: in all %d steps of %d member(s) the spikers are the %d most "
                  "depolarised crossers (%d spikes; %d member-steps with more than k crossers)" %
                  (check, steps, batch, k, spikes, busy))
else:
    sys.exit("unknown check " + check)

if failures:
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1)
