#!/usr/bin/env python3
"""The arrival queues of per-synapse delays on the CUDA device (docs/gpu.md,
"Arrival queues on the device"), on the test suite's fake driver.

usage: arrival_queues.py NCLC LIBNCLRT FAKE_DRIVER EXAMPLES_DIR WORKDIR GPU_SHIM

The queues move between the host and the device whenever the backend or the
way spikes are exchanged changes, and each move must keep every spike on
its way: examples/delays.ncl (delays of 10 to 200 steps, longer than any
chunk here), examples/polychronization.ncl (delays and STDP),
gpu_models/arrival_order.ncl (whose state shows the order in which a neuron
receives a step's synapses) and gpu_models/long_delays.ncl (the same with
200 to 300 steps: two bytes per delay, where the others' are narrowed to
one) run on the CPU for their whole duration, and
again through the C API on
  cpu -> cuda (short chunks) -> cpu -> cuda with a spike buffer too small to
  keep the lists on the device (the host's queues) -> cuda -> cpu,
and the spikes and the state of every population must be the CPU's, bit for
bit, for the
library with the GPU's code on the host (--gpu-emulation: the fake device
runs NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY's code a thread at a time) and for the
one without (the fake driver's own copy of its contract, and of the older
entries', which an older nclc's images have instead:
NCL_GPU_PIPELINED_ARRIVALS_ENTRY, two-byte delays only, for which the runtime
widens the delays it narrowed, and NCL_GPU_ARRIVALS_ENTRY, a phase a launch).
The deliveries of that
library read their lists' bucket starts (NCL_GPU_LAUNCH_PER_TARGET_BUCKETS);
an older nclc's read the sorted list alone (NCL_GPU_LAUNCH_PER_TARGET): the
same plan runs through fixtures/gpu_shim.c with each shape
(NCL_GPU_SHIM_PER_TARGET), the stages' CPU functions on the fake driver,
which checks every list's order and bucket starts.

Then a queue too small for one step's arrivals (NCL_CUDA_ARRIVAL_ROOM=1)
must fail the run with one message that names the projection and the
setting, never give other spikes.
"""
import ctypes
import os
import subprocess
import sys

nclc, libnclrt, driver, examples, work, shim = sys.argv[1:7]
os.makedirs(work, exist_ok=True)
os.environ["NCL_CUDA_DRIVER"] = driver
# The arrival queues' kernels take their places with atomics and sort them
# in several works a launch: their threads run in a random order, and a
# place two of them touch in an order-dependent way fails the launch
# (fixtures/fake_cuda.c, NCL_FAKE_CUDA_ORDER and NCL_FAKE_CUDA_RACES).
os.environ["NCL_FAKE_CUDA_ORDER"] = "shuffle"
os.environ["NCL_FAKE_CUDA_RACES"] = "1"
# A child of this script (below): the shim's copy of one library, whose
# descriptor is made once, when the shim is loaded.
child = len(sys.argv) > 8 and sys.argv[7] == "--shim-of"
if child:
    os.environ["NCL_GPU_SHIM_MODEL"] = sys.argv[8]
    os.environ["NCL_GPU_SHIM_PER_TARGET"] = sys.argv[9]
os.environ.pop("NCL_CUDA_ARRIVAL_ROOM", None)
rt = ctypes.CDLL(libnclrt)
rt.ncl_open.restype = ctypes.c_void_p
rt.ncl_open.argtypes = [ctypes.c_char_p]
rt.ncl_last_error.restype = ctypes.c_char_p
for name in ("ncl_init", "ncl_run_steps", "ncl_set_backend", "ncl_set_chunk_steps",
             "ncl_set_spike_buffer", "ncl_get_spikes", "ncl_num_populations",
             "ncl_population_name", "ncl_close", "ncl_default_seed", "ncl_default_duration",
             "ncl_dt", "ncl_backend"):
    getattr(rt, name).argtypes = [ctypes.c_void_p]
rt.ncl_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
rt.ncl_run_steps.argtypes = [ctypes.c_void_p, ctypes.c_int64]
rt.ncl_set_backend.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
rt.ncl_set_chunk_steps.argtypes = [ctypes.c_void_p, ctypes.c_int64]
rt.ncl_set_spike_buffer.argtypes = [ctypes.c_void_p, ctypes.c_int64]
rt.ncl_get_spikes.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                              ctypes.c_void_p, ctypes.c_int64]
rt.ncl_get_spikes.restype = ctypes.c_int64
rt.ncl_population_name.argtypes = [ctypes.c_void_p, ctypes.c_int32]
rt.ncl_population_name.restype = ctypes.c_char_p
rt.ncl_default_seed.restype = ctypes.c_uint64
rt.ncl_default_duration.restype = ctypes.c_double
rt.ncl_dt.restype = ctypes.c_double
rt.ncl_backend.restype = ctypes.c_char_p
rt.ncl_num_vars.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
rt.ncl_var_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
rt.ncl_var_name.restype = ctypes.c_char_p
rt.ncl_get_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                             ctypes.c_int64]
rt.ncl_get_state.restype = ctypes.c_int64

failures = 0


def check(ok, message):
    global failures
    print(("ok   " if ok else "FAIL ") + message)
    failures += 0 if ok else 1


def compile_example(name, emulated):
    lib = os.path.join(work, name + ("-emulated" if emulated else "") + ".so")
    source = os.path.join(examples, name + ".ncl")
    if not os.path.exists(source):
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu_models",
                              name + ".ncl")
    p = subprocess.run([nclc, source, "--target=all", "-o", lib]
                       + (["--gpu-emulation"] if emulated else []),
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("nclc failed on %s: %s" % (name, p.stderr))
    return lib


def results(m):
    """Every population's spikes (times, indices) and state variables, as
    bytes."""
    out = {}
    for p in range(rt.ncl_num_populations(m)):
        pop = rt.ncl_population_name(m, p)
        for v in range(rt.ncl_num_vars(m, pop)):
            var = rt.ncl_var_name(m, pop, v)
            n = rt.ncl_get_state(m, pop, var, None, 0)
            values = (ctypes.c_double * max(n, 1))()
            rt.ncl_get_state(m, pop, var, values, n)
            out[pop.decode() + "." + var.decode()] = bytes(values)[:8 * n]
        n = rt.ncl_get_spikes(m, pop, None, None, 0)
        if n < 0:
            continue
        times = (ctypes.c_double * max(n, 1))()
        indices = (ctypes.c_int64 * max(n, 1))()
        rt.ncl_get_spikes(m, pop, times, indices, n)
        out[pop.decode()] = (bytes(times)[:8 * n], bytes(indices)[:8 * n])
    return out


def expect(m, status, what):
    if status != 0:
        raise RuntimeError("%s: %s" % (what, rt.ncl_last_error().decode()))


def run_plan(lib, plan):
    """Runs the model for its duration along `plan`, a list of (backend,
    chunk steps, spike buffer, fraction of the duration); returns its
    results."""
    m = rt.ncl_open(lib.encode())
    if not m:
        raise RuntimeError(rt.ncl_last_error().decode())
    try:
        expect(m, rt.ncl_init(m, rt.ncl_default_seed(m)), "ncl_init")
        total = round(rt.ncl_default_duration(m) / rt.ncl_dt(m))
        done = 0
        for i, (backend, chunk, buffer, fraction) in enumerate(plan):
            expect(m, rt.ncl_set_backend(m, backend.encode()), "ncl_set_backend " + backend)
            expect(m, rt.ncl_set_chunk_steps(m, chunk), "ncl_set_chunk_steps")
            expect(m, rt.ncl_set_spike_buffer(m, buffer), "ncl_set_spike_buffer")
            steps = total - done if i == len(plan) - 1 else int(total * fraction)
            expect(m, rt.ncl_run_steps(m, steps), "ncl_run_steps on " + backend)
            done += steps
        return results(m)
    finally:
        rt.ncl_close(m)


PLAN = [("cpu", 0, 0, 0.15), ("cuda", 37, 0, 0.2), ("cpu", 0, 0, 0.1),
        ("cuda", 0, 1, 0.15), ("cuda", 0, 0, 0.2), ("cpu", 0, 0, 0)]

if child:
    reference = run_plan(shim, [("cpu", 0, 0, 1.0)])
    try:
        mixed = run_plan(shim, PLAN)
    except RuntimeError as e:
        print(e)
        sys.exit(1)
    count = sum(len(r[0]) // 8 for r in reference.values() if isinstance(r, tuple))
    print("%d spikes" % count)
    sys.exit(0 if mixed == reference and count > 0 else 1)

for name in ("delays", "polychronization", "arrival_order", "long_delays"):
    for shape in ("4", "6"):
        cpu_lib = os.path.join(work, name + "-cpu.so")
        source = os.path.join(examples, name + ".ncl")
        if not os.path.exists(source):
            source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu_models",
                                  name + ".ncl")
        if subprocess.run([nclc, source, "-o", cpu_lib]).returncode != 0:
            sys.exit("nclc failed on " + name)
        p = subprocess.run([sys.executable, os.path.abspath(__file__)] + sys.argv[1:7]
                           + ["--shim-of", cpu_lib, shape], capture_output=True, text=True)
        check(p.returncode == 0,
              "%s (the shim's stages, gpu_launch %s): %s on cpu/cuda/cpu/cuda(host "
              "queues)/cuda/cpu, the CPU's bit for bit"
              % (name, shape, (p.stdout + p.stderr).strip()))
    for emulated, entry in ((True, "byte-delay"), (False, "byte-delay"), (False, "pipelined"),
                            (False, "older")):
        lib = compile_example(name, emulated)
        label = "%s (%s)" % (name, "the GPU's code" if emulated else
                             "the fake driver's %s arrivals entry" % entry)
        reference = run_plan(lib, [("cpu", 0, 0, 1.0)])
        count = sum(len(r[0]) // 8 for r in reference.values() if isinstance(r, tuple))
        # An older nclc's image has NCL_GPU_PIPELINED_ARRIVALS_ENTRY (two-byte
        # delays only), or NCL_GPU_ARRIVALS_ENTRY, a phase a launch, instead
        # of the byte-delay one (which the fake driver then hides): the
        # runtime widens delays it narrowed.
        if entry == "pipelined":
            os.environ["NCL_FAKE_CUDA_MISSING"] = "ncl_arrivals_byte_delays_gpu"
        if entry == "older":
            os.environ["NCL_FAKE_CUDA_MISSING"] = \
                "ncl_arrivals_byte_delays_gpu,ncl_arrivals_pipelined_gpu"
        try:
            mixed = run_plan(lib, PLAN)
        except RuntimeError as e:
            check(False, "%s: %s" % (label, e))
            continue
        finally:
            os.environ.pop("NCL_FAKE_CUDA_MISSING", None)
        check(mixed == reference and count > 0,
              "%s: %d spikes and the state on cpu/cuda/cpu/cuda(host queues)/cuda/cpu, the "
              "CPU's bit for bit"
              % (label, count))

# A queue that cannot hold a step's arrivals: one message, no spikes of the
# chunk it broke.
lib = compile_example("delays", True)
os.environ["NCL_CUDA_ARRIVAL_ROOM"] = "1"
try:
    run_plan(lib, [("cuda", 0, 0, 1.0)])
    check(False, "a queue of room 1 did not stop the run")
except RuntimeError as e:
    message = str(e)
    check("projection 'K'" in message and "NCL_CUDA_ARRIVAL_ROOM to at least" in message
          and "more than its arrival queue on the CUDA device holds per step (1)" in message,
          "a queue of room 1 stops the run: %s" % message)
finally:
    os.environ.pop("NCL_CUDA_ARRIVAL_ROOM", None)

sys.exit(1 if failures else 0)
