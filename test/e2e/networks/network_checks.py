"""End-to-end checks of networks against mathematics and against Brian2.

usage: network_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK [args...]

CHECK is one of
  psp            one synapse onto one neuron: the postsynaptic potential of an
                 exponential current onto a leaky membrane, step by step against
                 its closed form, for several delays (each exact to the step);
  threads MODEL  the model's spikes and final state are byte-identical on 1, 2
                 and 3 threads, and a different seed gives different spikes;
  cuba MODEL REF examples/cuba.ncl's statistics over 3 seeds against Brian2's
                 (test/e2e/networks/brian2_reference.json);
  brunel MODEL REF
                 examples/brunel.ncl's statistics over 2 seeds (5 s each, the
                 reference's window 1-5 s) against Brian2's `brunel` entry.
"""
import math
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

DT = 1e-4
TAU_M, TAU_E = 20e-3, 5e-3
WEIGHT = 2e-3  # 2 mV into ge
SPIKE_STEP = 99  # the clock's spike: found in step 99, stamped t = 100 dt

PSP_MODEL = """
neuron Clock {{
  state {{ c = 0 }}
  update {{ c = c + 1 }}
  spike when c > 99.5 and c < 100.5
}}
neuron Membrane {{
  parameters {{ taum = 20 ms; taue = 5 ms }}
  state {{ v : mV = 0 mV; ge : mV = 0 mV }}
  dynamics {{
    v' = (ge - v) / taum
    ge' = -ge / taue
  }}
}}
synapse Kick {{
  parameters {{ w = 2 mV }}
  on_pre {{ ge += w }}
}}
network Psp {{
  population Source = Clock[1]
  population Target = Membrane[1]
  projection K = Kick(Source -> Target) {{
    connect one_to_one()
    delay = {delay}
  }}
  simulate 50 ms, dt = 0.1 ms, seed = 1
}}
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def compile_model(nclc, source, out, *extra):
    subprocess.run([nclc, str(source), "-o", str(out), *extra], check=True)


def psp_closed_form(t):
    """v(t) for ge(0) = w, v(0) = 0: tau_m v' = ge - v, tau_e ge' = -ge."""
    return WEIGHT * TAU_E / (TAU_E - TAU_M) * (math.exp(-t / TAU_E) - math.exp(-t / TAU_M))


def check_psp(nclc, rt, work):
    # (delay as written, its steps: round(d / dt))
    for text, steps in [("0 ms", 0), ("1 ms", 10), ("1.5 ms", 15), ("2.46 ms", 25)]:
        source = work / f"psp_{steps}.ncl"
        source.write_text(PSP_MODEL.format(delay=text))
        lib = work / f"psp_{steps}.so"
        compile_model(nclc, source, lib)
        m = rt.open(str(lib), seed=1)
        # The spike of step 99 (t = 100 dt) acts at the start of step
        # 100 + d: v after step n is v(t_{n+1}).
        arrival = SPIKE_STEP + 1 + steps
        trace = []
        for _ in range(arrival + 400):
            rt.run_steps(m, 1)
            trace.append(rt.state(m, "Target", "v", 1)[0])
        rt.close(m)
        trace = np.array(trace)
        before = trace[:arrival]
        if np.any(before != 0):
            fail(f"delay {text}: v moved before step {arrival}: first at step "
                 f"{int(np.flatnonzero(before)[0])}")
        after = trace[arrival:]
        expect = np.array([psp_closed_form((k + 1) * DT) for k in range(len(after))])
        err = np.max(np.abs(after - expect)) / np.max(np.abs(expect))
        if not err < 1e-12:
            fail(f"delay {text}: relative error {err:.3g} against the closed form")
        peak_t = TAU_E * TAU_M / (TAU_M - TAU_E) * math.log(TAU_M / TAU_E)
        peak_step = int(np.argmax(after))
        if abs((peak_step + 1) * DT - peak_t) > DT:
            fail(f"delay {text}: peak at {(peak_step + 1) * DT:.5f} s after arrival, "
                 f"closed form {peak_t:.5f} s")
        if not abs(after.max() - psp_closed_form(peak_t)) < 1e-3 * psp_closed_form(peak_t):
            fail(f"delay {text}: peak {after.max():.6g} V, closed form "
                 f"{psp_closed_form(peak_t):.6g} V")
        print(f"psp, delay {text} = {steps} steps: first effect at step {arrival}, "
              f"max relative error {err:.2e}, peak {after.max() * 1e3:.4f} mV "
              f"at {(peak_step + 1) * DT * 1e3:.1f} ms")


def run_dir(ncl_run, lib, out, threads, seed, time):
    subprocess.run([ncl_run, str(lib), "--threads", str(threads), "--seed", str(seed),
                    "--time", time, "--quiet", "--out", str(out)], check=True)
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.npy"))}


def check_threads(nclc, ncl_run, rt, work, model):
    lib = work / (pathlib.Path(model).stem + "_threads.so")
    compile_model(nclc, model, lib)
    outputs = {}
    for threads in (1, 2, 3):
        outputs[threads] = run_dir(ncl_run, lib, work / f"threads{threads}", threads, 7, "0.3s")
        if not outputs[threads]:
            fail("the model records nothing")
        if outputs[threads] != outputs[1]:
            fail(f"{model}: {threads} threads give different spikes than 1")
    other = run_dir(ncl_run, lib, work / "threads_seed8", 1, 8, "0.3s")
    if other == outputs[1]:
        fail(f"{model}: seeds 7 and 8 give the same spikes")
    # The final state too, through the C API.
    states = []
    for threads in (1, 2, 3):
        m = rt.open(str(lib), seed=7, threads=threads)
        rt.run(m, 0.3)
        n = rt.rt.ncl_num_populations(m)
        values = []
        for p in range(n):
            name = rt.rt.ncl_population_name(m, p)
            size = rt.rt.ncl_population_size(m, name)
            for v in range(rt.rt.ncl_num_vars(m, name)):
                var = rt.rt.ncl_var_name(m, name, v)
                values.append(rt.state(m, name.decode(), var.decode(), size).tobytes())
        rt.close(m)
        states.append(values)
    if states[1] != states[0] or states[2] != states[0]:
        fail(f"{model}: the final state depends on the thread count")
    print(f"{model}: spikes and state identical on 1, 2 and 3 threads "
          f"({sum(len(b) for b in outputs[1].values())} bytes of records)")


def check_cuba(nclc, ncl_run, work, model, reference):
    lib = work / "cuba_stats.so"
    compile_model(nclc, model, lib)
    dirs = []
    for seed in (1, 2, 3):
        out = work / f"cuba_seed{seed}"
        run_dir(ncl_run, lib, out, 2, seed, "5s")
        dirs.append(str(out))
    result = subprocess.run(
        [sys.executable, str(HERE / "spike_statistics.py"), "compare", "--reference",
         str(reference), "--model", "cuba", "--group", "E=P:0:3200", "--group",
         "I=P:3200:4000", *dirs])
    if result.returncode != 0:
        fail("CUBA's statistics differ from Brian2's")


def check_brunel(nclc, ncl_run, work, model, reference):
    lib = work / "brunel_stats.so"
    compile_model(nclc, model, lib)
    dirs = []
    for seed in (1, 2):
        out = work / f"brunel_seed{seed}"
        run_dir(ncl_run, lib, out, 2, seed, "5s")
        dirs.append(str(out))
    result = subprocess.run(
        [sys.executable, str(HERE / "spike_statistics.py"), "compare", "--reference",
         str(reference), "--model", "brunel", "--group", "E=P:0:8000", "--group",
         "I=P:8000:10000", *dirs])
    if result.returncode != 0:
        fail("Brunel's statistics differ from Brian2's")


def main():
    nclc, ncl_run, libnclrt, work, check = sys.argv[1:6]
    work = pathlib.Path(work) / "networks"
    work.mkdir(parents=True, exist_ok=True)
    rt = Runtime(libnclrt)
    for name, res, args in [
        ("ncl_num_populations", "c_int32", ["c_void_p"]),
        ("ncl_population_name", "c_char_p", ["c_void_p", "c_int32"]),
        ("ncl_population_size", "c_int64", ["c_void_p", "c_char_p"]),
        ("ncl_num_vars", "c_int32", ["c_void_p", "c_char_p"]),
        ("ncl_var_name", "c_char_p", ["c_void_p", "c_char_p", "c_int32"]),
    ]:
        import ctypes
        f = getattr(rt.rt, name)
        f.restype = getattr(ctypes, res)
        f.argtypes = [getattr(ctypes, a) for a in args]
    if check == "psp":
        check_psp(nclc, rt, work)
    elif check == "threads":
        check_threads(nclc, ncl_run, rt, work, sys.argv[6])
    elif check == "cuba":
        check_cuba(nclc, ncl_run, work, sys.argv[6], sys.argv[7])
    elif check == "brunel":
        check_brunel(nclc, ncl_run, work, sys.argv[6], sys.argv[7])
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
