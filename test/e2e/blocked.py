#!/usr/bin/env python3
"""An unrecorded population runs blocks of neurons through many steps; a
recorded one runs step by step. Per neuron the operations are the same, so
the final state and the spike count must be identical, bit for bit, for
float64 and float32 and on 1 and 3 threads.
Usage: blocked.py NCLC LIBNCLRT MODEL WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nclrt import Runtime  # noqa: E402

nclc, libnclrt, model, workdir = sys.argv[1:5]
os.makedirs(workdir, exist_ok=True)
rt = Runtime(libnclrt)
N = 20000
failures = []
for precision in ("f64", "f32"):
    results = {}
    for network in ("Recorded", "Unrecorded"):
        lib = os.path.join(workdir, "blocked_%s_%s.so" % (network, precision))
        subprocess.run([nclc, model, "--network", network, "--precision=" + precision, "-o", lib],
                       check=True)
        for threads in (1, 3):
            m = rt.open(lib, 9, threads)
            rt.run(m, 0.3)
            results[network, threads] = (rt.state(m, "P", "v", N), rt.spike_count(m, "P"))
            rt.close(m)
    ref_v, ref_n = results["Recorded", 1]
    print("%s: %d spikes recorded" % (precision, ref_n))
    for key, (v, n) in results.items():
        if not np.array_equal(v, ref_v) or n != ref_n:
            failures.append("%s %s on %d threads: %d spikes, v differs at %d neurons"
                            % (precision, key[0], key[1], n, int(np.sum(v != ref_v))))
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: identical state and spike counts")
