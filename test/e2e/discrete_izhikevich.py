#!/usr/bin/env python3
"""Izhikevich's published 1 ms scheme, step for step against the paper's code.

The reference is the MATLAB network code of Izhikevich (2003), "Simple model
of spiking neurons", transcribed to NumPy for uncoupled neurons:

    for k = 1:T
      fired = find(v >= 30);  v(fired) = c;  u(fired) = u(fired) + d;
      v = v + 0.5*(0.04*v.^2 + 5*v + 140 - u + I);
      v = v + 0.5*(0.04*v.^2 + 5*v + 140 - u + I);
      u = u + a.*(b.*v - u);
    end

with I a deterministic function of the neuron index and time. MATLAB tests
the threshold at the top of iteration k, on the state left by iteration
k - 1; NCL tests it at the end of step k - 1, on that same state, stamps the
spike with step index k (t = k ms) and resets at once. Either way the reset
happens before the next update, so the two produce the same sequence of
states, and a neuron MATLAB finds firing in iteration k (0-based below: at
the top of loop pass k) is NCL's spike at step index k.

Two models of discrete_izhikevich.ncl are compared:
- `PaperIzhikevich`, the paper's dimensionless arithmetic in the same order:
  the same floating-point operations, so spikes are identical and v, u agree
  to 1e-12 relative over the whole second (in practice bit for bit).
- the standard library's `IzhikevichDiscrete`, in mV/ms units compiled to SI
  (v in V, u in V/s, the step dt/2 = 5e-4 s): each operation rounds
  differently in the last bits (1e-16 relative). The 1 ms scheme amplifies
  such differences tenfold every 10-20 ms of fast spiking (a step that
  overshoots 30 mV squares v, and u takes the overshoot in), as the reference
  itself shows when its initial u is moved by one part in 1e15 (printed
  below). So v and u are compared within 1e-9 relative over the first 40
  steps (each neuron fires 1 to 4 times), and the spike steps over the first
  120 steps, where the amplified rounding is still far below what would move
  a threshold crossing by a step.

It also checks which dt the runtime accepts: PaperIzhikevich never reads dt,
so only the network's 1 ms (smaller and larger steps refused); the library
model scales with dt, so 0.5 ms is accepted and 2 ms refused.
Usage: discrete_izhikevich.py NCLC NCLRT MODEL WORKDIR
"""
import ctypes
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, nclrt_path, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)

POPS = {  # the paper's (a, b, c, d) of each cell type, in 1/ms, 1/ms, mV, mV/ms
    "RS": (0.02, 0.2, -65.0, 8.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
}
N = 5


def paper_reference(steps, u_perturbation=0.0):
    """The MATLAB loop in mV and ms: states after each step's reset (row k is
    the state NCL holds after k steps) and, per step, which neurons fired."""
    a, b, c, d = (np.repeat([p[j] for p in POPS.values()], N) for j in range(4))
    idx = np.tile(np.arange(N), len(POPS)).astype(np.float64)
    v = np.full(len(a), -65.0)
    u = b * v * (1 + u_perturbation)
    vs, us, fired_at = [], [], []
    for k in range(steps + 1):
        fired = v >= 30
        fired_at.append(fired)
        v[fired] = c[fired]
        u[fired] = u[fired] + d[fired]
        vs.append(v.copy())
        us.append(u.copy())
        I = 6.0 + 1.5 * idx + (4.0 if k > 299.5 else 0.0)  # t = k ms
        v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        v = v + 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        u = u + a * (b * v - u)
    return np.array(vs), np.array(us), np.array(fired_at)


def compile_network(name):
    lib = os.path.join(workdir, "discrete_izhikevich_%s.so" % name)
    subprocess.run([nclc, model, "--network", name, "-o", lib], check=True)
    return lib


rt = Runtime(nclrt_path)
rt.rt.ncl_set_dt.argtypes = [ctypes.c_void_p, ctypes.c_double]
failures = []


def trajectories(lib, steps, v_scale, u_scale):
    """v and u of every neuron after each step, in mV and mV/ms, and the
    spike step indices, read through the runtime."""
    m = rt.open(lib, 1)
    vs, us, counts = [], [], []
    for k in range(steps + 1):
        if k:
            rt.run_steps(m, 1)
        vs.append(np.concatenate([rt.state(m, p, "v", N) for p in POPS]) / v_scale)
        us.append(np.concatenate([rt.state(m, p, "u", N) for p in POPS]) / u_scale)
    rt.close(m)
    return np.array(vs), np.array(us)


def spikes(lib, seconds):
    """Spike step indices (population, neuron) -> array, from ncl-run's records."""
    ncl_run = os.path.join(os.path.dirname(nclc), "ncl-run")
    out = lib[:-3] + "_out"
    subprocess.run([ncl_run, lib, "--time", "%gs" % seconds, "--out", out, "--quiet"], check=True)
    result = {}
    for p in POPS:
        t = np.load(os.path.join(out, p + "_spike_t.npy"))
        i = np.load(os.path.join(out, p + "_spike_i.npy"))
        for n in range(N):
            result[(p, n)] = np.rint(t[i == n] / 1e-3).astype(np.int64)
    return result


def compare(label, lib, state_steps, spike_steps, v_scale, u_scale, rel):
    ref_v, ref_u, ref_fired = paper_reference(spike_steps)
    got_v, got_u = trajectories(lib, state_steps, v_scale, u_scale)
    ref_v, ref_u = ref_v[:state_steps + 1], ref_u[:state_steps + 1]
    before = len(failures)
    for name, got, ref in (("v", got_v, ref_v), ("u", got_u, ref_u)):
        err = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)
        worst = np.unravel_index(np.argmax(err), err.shape)
        if err[worst] > rel:
            failures.append("%s: %s of neuron %d after %d steps is %.17g, the paper's code %.17g "
                            "(relative error %.2g > %.0e)" % (label, name, worst[1], worst[0],
                                                             got[worst], ref[worst], err[worst], rel))
    got_spikes = spikes(lib, spike_steps * 1e-3)
    total = 0
    for j, (p, n) in enumerate((p, n) for p in POPS for n in range(N)):
        want = np.nonzero(ref_fired[:, j])[0]
        total += len(want)
        if not np.array_equal(got_spikes[(p, n)], want):
            failures.append("%s: %s[%d] spikes at steps %s, the paper's code at %s" %
                            (label, p, n, got_spikes[(p, n)][:12], want[:12]))
        if len(want) < 2:
            failures.append("%s: %s[%d] fired only %d times: the test needs spikes" %
                            (label, p, n, len(want)))
    if len(failures) == before:
        print("%s: %d spikes of %d neurons in %d steps at the paper's steps; v and u within "
              "%.0e relative over %d steps" % (label, total, N * len(POPS), spike_steps, rel,
                                               state_steps))


def dt_accepted(lib, dt):
    m = rt.rt.ncl_open(lib.encode())
    rt.check(m)
    ok = rt.rt.ncl_set_dt(m, dt) == 0
    message = "" if ok else rt.rt.ncl_last_error().decode()
    rt.close(m)
    return ok, message


paper = compile_network("Paper")
library = compile_network("Library")
compare("PaperIzhikevich (dimensionless)", paper, 1000, 1000, 1.0, 1.0, 1e-12)
compare("IzhikevichDiscrete (SI)", library, 40, 120, 1e-3, 1.0, 1e-9)
# The reference's own sensitivity: the same code with u(0) moved by 1e-15.
ref_v, _, _ = paper_reference(120)
moved_v, _, _ = paper_reference(120, 1e-15)
growth = np.abs(moved_v - ref_v) / np.maximum(np.abs(ref_v), 1.0)
print("the paper's code itself, u(0) moved by 1e-15: v differs by %.1e at step 40, %.1e at "
      "step 120" % (growth[:41].max(), growth.max()))

for lib, dt, want in ((paper, 1e-3, True), (paper, 5e-4, False), (paper, 2e-3, False),
                      (library, 1e-3, True), (library, 5e-4, True), (library, 2e-3, False)):
    ok, message = dt_accepted(lib, dt)
    if ok != want:
        failures.append("ncl_set_dt(%g s) on %s: %s, expected %s" %
                        (dt, os.path.basename(lib), "accepted" if ok else "refused: " + message,
                         "accepted" if want else "refused"))
    elif not ok and dt < 1e-3 and "does not use dt" not in message:
        failures.append("ncl_set_dt(%g s) refused without saying why: %s" % (dt, message))
    elif not ok:
        print("ncl_set_dt(%g s) on %s refused: %s" % (dt, os.path.basename(lib), message))

if failures:
    print("\n".join("FAIL: " + f for f in failures[:20]))
    sys.exit(1)
print("OK")
