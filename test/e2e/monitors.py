#!/usr/bin/env python3
"""State and rate monitors end to end (monitors.ncl, monitors_blowup.ncl).

P relaxes to rest without spiking and is integrated exactly, so the sample
of neuron j at step n is El + j mV * exp(-n dt / tau) for v and
-2 mV * j * exp(-n dt / tau_w) for w: every recorded sample (all neurons,
an index range every 7 steps, a group every 3 steps) must equal that closed
form at the sampled times n = 0, k, 2k, ... < steps. Q's rate monitor must
equal the recorded spikes of each step, counted here with numpy, divided by
size * dt. Shapes, dtypes and indices are checked, on 1 and 3 threads (bit
for bit equal), as uncoupled populations and in a network (the same model
with a projection that adds 0 to v), in float64 (to 1e-12 V) and float32
(to 2e-5 V: the propagator rounded to float32, 1000 times). A run that
overflows keeps the samples taken before the failing step.
Usage: monitors.py NCLC NCL_RUN DIR WORKDIR
"""
import json
import os
import subprocess
import sys

import numpy as np

nclc, ncl_run, here, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
failures = []
dt, steps = 1e-4, 1000
El, tau, tau_w = -70e-3, 20e-3, 50e-3

with open(os.path.join(here, "monitors.ncl")) as f:
    source = f.read()
network = source.replace("network Monitored {", "synapse Nothing {\n"
                         "  parameters { w0 = 0 mV }\n  on_pre { v += w0 }\n}\n\n"
                         "network Monitored {").replace(
    "  record spikes(Q)", "  record spikes(Q)\n"
    "  projection C = Nothing(Q -> P) { connect all_to_all() }")
assert network != source
models = {"uncoupled": os.path.join(here, "monitors.ncl"),
          "network": os.path.join(workdir, "monitors_network.ncl")}
with open(models["network"], "w") as f:
    f.write(network)


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def expect_state(out, stem, label, every, indices, closed_form, dtype, tol):
    x = np.load(os.path.join(out, stem + ".npy"))
    t = np.load(os.path.join(out, stem + "_t.npy"))
    i = np.load(os.path.join(out, stem + "_i.npy"))
    rows = -(-steps // every)
    if not (check(x.shape == (rows, len(indices)), "%s %s: shape %s, expected %s"
                  % (label, stem, x.shape, (rows, len(indices))))
            and check(x.dtype == dtype, "%s %s: dtype %s" % (label, stem, x.dtype))
            and check(t.dtype == np.float64 and i.dtype == np.int64,
                      "%s %s: times or indices of the wrong dtype" % (label, stem))):
        return
    n = np.arange(0, steps, every)
    check(np.array_equal(t, n * dt), "%s %s: times are not n*dt for n %% %d == 0"
          % (label, stem, every))
    check(np.array_equal(i, np.asarray(indices)), "%s %s: indices %s" % (label, stem, i))
    want = closed_form(n[:, None] * dt, np.asarray(indices)[None, :])
    err = np.max(np.abs(x - want))
    check(err <= tol, "%s %s: largest deviation from the closed form %.3g V" % (label, stem, err))


outputs = {}
for kind, model in models.items():
    for real, dtype, tol in (("f64", np.float64, 1e-12), ("f32", np.float32, 2e-5)):
        lib = os.path.join(workdir, "monitors_%s_%s.so" % (kind, real))
        subprocess.run([nclc, model, "--precision=" + real, "-o", lib], check=True)
        for threads in (1, 3):
            label = "%s %s %d threads" % (kind, real, threads)
            out = os.path.join(workdir, "out_%s_%s_%d" % (kind, real, threads))
            subprocess.run([ncl_run, lib, "--out", out, "--quiet", "--threads", str(threads)],
                           check=True)
            v = lambda t, j: El + 1e-3 * j * np.exp(-t / tau)
            w = lambda t, j: -2e-3 * j * np.exp(-t / tau_w)
            expect_state(out, "P_v", label, 1, range(40), v, dtype, tol)
            expect_state(out, "P_w", label, 7, range(5, 25), w, dtype, tol)
            expect_state(out, "Low_v", label, 3, range(10), v, dtype, tol)
            # The rate monitor against the spikes of each step.
            st = np.load(os.path.join(out, "Q_spike_t.npy"))
            rate = np.load(os.path.join(out, "Q_rate.npy"))
            rt = np.load(os.path.join(out, "Q_rate_t.npy"))
            step = np.rint(st / dt).astype(np.int64)  # spikes of step n carry (n + 1) dt
            counts = np.bincount(step - 1, minlength=steps)
            check(len(st) > 100, "%s: only %d spikes of Q" % (label, len(st)))
            check(rate.shape == (steps,) and rate.dtype == np.float64,
                  "%s: Q_rate has shape %s, dtype %s" % (label, rate.shape, rate.dtype))
            check(np.array_equal(rt, np.arange(1, steps + 1) * dt), "%s: Q_rate_t" % label)
            check(rate.shape == counts.shape and np.allclose(rate, counts / (30 * dt),
                                                             rtol=1e-12, atol=0),
                  "%s: the rate is not the spikes per step / (N dt)" % label)
            with open(os.path.join(out, "run.json")) as f:
                meta = json.load(f)
            mons = meta["monitors"]
            check(mons["P_w"] == {"kind": "state", "population": "P", "variable": "w",
                                  "neurons": [5, 25], "every": 7, "samples": 143}
                  and mons["Q_rate"]["samples"] == steps
                  and all(s in meta["files"] for s in ("P_v.npy", "P_w_t.npy", "Low_v_i.npy",
                                                       "Q_rate.npy", "Q_rate_t.npy")),
                  "%s: run.json says %s" % (label, mons))
            outputs[label] = {name: open(os.path.join(out, name), "rb").read()
                              for name in os.listdir(out) if name.endswith(".npy")}
        one, three = (outputs["%s %s %d threads" % (kind, real, k)] for k in (1, 3))
        check(one == three, "%s %s: 1 and 3 threads differ" % (kind, real))
    print("%s: monitors agree with the closed forms and the spike counts" % kind)

# A monitor of the whole population follows --size; a range must still fit.
lib = os.path.join(workdir, "monitors_uncoupled_f64.so")
out = os.path.join(workdir, "out_resized")
subprocess.run([ncl_run, lib, "--size", "P=60", "--time", "1ms", "--out", out, "--quiet"],
               check=True)
check(np.load(os.path.join(out, "P_v.npy")).shape == (10, 60)
      and np.load(os.path.join(out, "P_w.npy")).shape == (2, 20),
      "--size P=60: P_v is not 10 x 60 or P_w not 2 x 20")
r = subprocess.run([ncl_run, lib, "--size", "P=20", "--quiet"], capture_output=True, text=True)
check(r.returncode == 1 and r.stderr == "ncl-run: error: the monitor 'P_w' records neurons 5 to "
      "24 of population 'P', which has 20 now\n", "--size P=20: %d %r" % (r.returncode, r.stderr))

# A run that fails keeps what it sampled: v = exp(n dt / 1 ms) overflows
# float64 by t = 709.8 ms (a little sooner where the update forms v / tau on
# the way); the samples before the failing step are written.
lib = os.path.join(workdir, "blowup.so")
out = os.path.join(workdir, "out_blowup")
subprocess.run([nclc, os.path.join(here, "monitors_blowup.ncl"), "-o", lib], check=True)
r = subprocess.run([ncl_run, lib, "--out", out, "--quiet"], capture_output=True, text=True)
check(r.returncode == 1 and "became +Inf" in r.stderr, "blowup: %d %s" % (r.returncode, r.stderr))
with open(os.path.join(out, "run.json")) as f:
    meta = json.load(f)
x = np.load(os.path.join(out, "P_v.npy"))
t = np.load(os.path.join(out, "P_v_t.npy"))
done = meta["steps"]
if check(meta["status"] == "failed" and 6000 < done <= 7098, "blowup: run.json %s" % meta) and \
        check(x.shape == (-(-done // 10), 3), "blowup: shape %s after %d steps" % (x.shape, done)):
    check(np.array_equal(t, np.arange(0, done, 10) * dt), "blowup: times")
    want = np.exp(t / 1e-3)[:, None]
    check(np.all(np.isfinite(x)) and np.max(np.abs(x / want - 1)) < 1e-9,
          "blowup: samples differ from exp(t / 1 ms)")
    print("blowup: %d samples kept up to the failing step %d" % (len(x), done))

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK")
