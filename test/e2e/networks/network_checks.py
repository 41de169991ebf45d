"""End-to-end checks of networks against mathematics and against Brian2.

usage: network_checks.py NCLC NCL_RUN LIBNCLRT WORKDIR CHECK [args...]

CHECK is one of
  psp            one synapse onto one neuron: the postsynaptic potential of an
                 exponential current onto a leaky membrane, step by step against
                 its closed form, for several delays (each exact to the step);
  gap            two passive neurons coupled by a gap junction (a summed
                 variable): a linear 2x2 system, against the exact discrete-time
                 recursion of NCL's step and, with first-order convergence in
                 dt, against the continuous system's closed form;
  gap-example MODEL
                 examples/gap_junctions.ncl's spikes (on 2 threads) against its
                 discrete-time equations computed here with numpy;
  threads MODEL  the model's spikes and final state are byte-identical on 1, 2
                 and 3 threads, and with nclc -j1 and -j3 (kernels compiled
                 on 1 and 3 threads), and a different seed gives different
                 spikes;
  cuba MODEL REF examples/cuba.ncl's statistics over 3 seeds against Brian2's
                 (test/e2e/networks/brian2_reference.json);
  coba MODEL REF, cobahh MODEL REF
                 the same for examples/coba.ncl and examples/cobahh.ncl (each
                 compared with the reference's entry of that name).
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


# Two passive membranes (no threshold) coupled both ways by a gap junction
# of conductance g: with u = v - El and r = R g,
#   tau u1' = -u1 + r (u2 - u1),   tau u2' = -u2 + r (u1 - u2).
GAP_TAU, GAP_R, GAP_G, GAP_U0 = 10e-3, 100e6, 2e-9, np.array([20e-3, 0.0])
GAP_MODEL = """
neuron Passive {
  parameters { tau = 10 ms; El = -70 mV; R = 100 Mohm }
  input I : nA = 0 nA
  state { v : mV = El + (i < 0.5 ? 20 mV : 0 mV) }
  dynamics { v' = (El - v + R * I) / tau }
}
synapse Gap {
  parameters { g = 2 nS }
  summed { I = g * (v_pre - v_post) }
}
network Two {
  population P = Passive[2]
  projection G = Gap(P -> P) { connect all_to_all(autapses = false) }
  simulate 50 ms, dt = 0.1 ms, seed = 1
}
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


def gap_trace(rt, lib, dt, steps, threads):
    """u(t_k) = v - El of both neurons after k = 1..steps steps."""
    m = rt.open(str(lib), seed=1, threads=threads, dt=dt)
    trace = []
    for _ in range(steps):
        rt.run_steps(m, 1)
        trace.append(rt.state(m, "P", "v", 2) + 70e-3)
    rt.close(m)
    return np.array(trace)


def check_gap(nclc, rt, work):
    source = work / "gap.ncl"
    source.write_text(GAP_MODEL)
    lib = work / "gap.so"
    compile_model(nclc, source, lib)
    r = GAP_R * GAP_G
    coupling = np.array([[-1.0, 1.0], [1.0, -1.0]])
    # The continuous system u' = A u, solved by eigen-decomposition.
    a = (-np.eye(2) + r * coupling) / GAP_TAU
    lam, vec = np.linalg.eig(a)
    coef = np.linalg.solve(vec, GAP_U0)

    def exact(t):
        return (vec * coef) @ np.exp(np.outer(lam, t))

    horizon = 20e-3
    errors = []
    for dt in (1e-4, 5e-5, 2.5e-5):
        steps = int(round(horizon / dt))
        # 1 and 2 threads: each neuron then reads the other's voltage across
        # threads; the results must agree bit for bit.
        trace = gap_trace(rt, lib, dt, steps, 2)
        if not np.array_equal(trace, gap_trace(rt, lib, dt, steps, 1)):
            fail(f"gap, dt = {dt}: 1 and 2 threads differ")
        # NCL's step: the coupling current of the start-of-step voltages,
        # held for the step, and each membrane integrated exactly:
        #   u_{n+1} = e u_n + (1 - e) r C u_n,   e = exp(-dt / tau).
        e = np.exp(-dt / GAP_TAU)
        step = e * np.eye(2) + (1 - e) * r * coupling
        u = GAP_U0.copy()
        recursion = []
        for _ in range(steps):
            u = step @ u
            recursion.append(u)
        recursion = np.array(recursion)
        rec_err = np.max(np.abs(trace - recursion)) / GAP_U0[0]
        if not rec_err < 1e-12:
            fail(f"gap, dt = {dt}: relative error {rec_err:.3g} against the discrete recursion")
        t = dt * np.arange(1, steps + 1)
        err = np.max(np.abs(trace - exact(t).T)) / GAP_U0[0]
        errors.append(err)
        print(f"gap, dt = {dt * 1e3:.4f} ms: against the recursion {rec_err:.2e}, "
              f"against the closed form {err:.3e} (of the 20 mV amplitude)")
    # Holding the coupling for a step is first order: halving dt halves the
    # error. Its size: the difference mode decays at (1 + 2r)/tau; holding
    # the coupling adds r dt/tau of it per time constant, so with dt/tau =
    # 0.01 and r = 0.2 the error is a few 1e-4 of the amplitude.
    for coarse, fine in zip(errors, errors[1:]):
        ratio = coarse / fine
        if not 1.8 < ratio < 2.2:
            fail(f"gap: error ratio {ratio:.3f} when halving dt, expected 2 (first order)")
    if not errors[0] < 2e-3:
        fail(f"gap: error {errors[0]:.3g} of the amplitude at dt = 0.1 ms, expected < 2e-3")
    print(f"gap: first-order convergence, ratios "
          f"{', '.join(f'{a / b:.3f}' for a, b in zip(errors, errors[1:]))}")


def check_gap_example(nclc, ncl_run, work, model):
    """10 LIF neurons, all-to-all gap junctions (examples/gap_junctions.ncl):
    each step, Igap_j = w sum_i (v_i - v_j) from the start-of-step voltages,
    then v integrated exactly with Igap held, threshold v > 1, reset to 0."""
    n, tau, v0, w, dt, steps = 10, 10e-3, 1.05, 0.02, 1e-4, 5000
    lib = work / "gap_example.so"
    compile_model(nclc, model, lib)
    out = work / "gap_example"
    run_dir(ncl_run, lib, out, 2, 1, "0.5s")
    t = np.load(out / "P_spike_t.npy")
    i = np.load(out / "P_spike_i.npy")
    decay = np.exp(-dt / tau)
    v = np.arange(n) / (n - 1.0)
    ref_t, ref_i = [], []
    for step in range(steps):
        # In NCL's order: the sum over i ascending, one term at a time.
        gap = np.array([sum(w * (v[k] - v[j]) for k in range(n)) for j in range(n)])
        v = v0 + gap + (v - v0 - gap) * decay
        fired = v > 1
        ref_t += [(step + 1) * dt] * int(fired.sum())
        ref_i += list(np.flatnonzero(fired))
        v[fired] = 0.0
    if len(t) != len(ref_t) or not np.array_equal(i, ref_i):
        fail(f"gap example: {len(t)} spikes, the equations give {len(ref_t)} "
             f"(or in another order)")
    if not np.max(np.abs(t - np.array(ref_t))) < dt / 2:
        fail("gap example: spike times differ from the equations'")
    period = np.diff(t[i == 0]).mean()
    print(f"gap example: {len(t)} spikes as the equations give, "
          f"neuron 0 every {period * 1e3:.2f} ms")


def run_dir(ncl_run, lib, out, threads, seed, time):
    subprocess.run([ncl_run, str(lib), "--threads", str(threads), "--seed", str(seed),
                    "--time", time, "--quiet", "--out", str(out)], check=True)
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.npy"))}


def check_threads(nclc, ncl_run, rt, work, model):
    lib = work / (pathlib.Path(model).stem + "_threads.so")
    compile_model(nclc, model, lib)
    outputs = {}
    # Each model its own directories: ctest runs the examples in parallel.
    stem = pathlib.Path(model).stem
    for threads in (1, 2, 3):
        outputs[threads] = run_dir(ncl_run, lib, work / f"{stem}_threads{threads}", threads, 7,
                                   "0.3s")
        if not outputs[threads]:
            fail("the model records nothing")
        if outputs[threads] != outputs[1]:
            fail(f"{model}: {threads} threads give different spikes than 1")
    # A model that draws no random numbers (gap_junctions.ncl: all-to-all,
    # initial values from i) is the same for every seed, by design.
    text = pathlib.Path(model).read_text()
    random = "rand(" in text or "randn(" in text or "fixed_" in text
    other = run_dir(ncl_run, lib, work / f"{stem}_threads_seed8", 1, 8, "0.3s")
    if random and other == outputs[1]:
        fail(f"{model}: seeds 7 and 8 give the same spikes")
    # nclc compiles the kernels on one thread (-j1, one module) or shares
    # them out among three: the same library behaviour either way.
    for jobs in ("-j1", "-j3"):
        jlib = work / f"{stem}_threads{jobs}.so"
        compile_model(nclc, model, jlib, jobs)
        if run_dir(ncl_run, jlib, work / f"{stem}_threads{jobs}", 1, 7, "0.3s") != outputs[1]:
            fail(f"{model}: compiled with nclc {jobs}, it gives different spikes")
    # The final state too, through the C API.
    states = []
    for threads in (1, 2, 3):
        m = rt.open(str(lib), seed=7, threads=threads)
        rt.run(m, 0.3)
        n = rt.rt.ncl_num_populations(m)
        values = []
        for p in range(n):
            name = rt.rt.ncl_population_name(m, p)
            # Every batch member's neurons (examples/sequence.ncl has 4 members).
            size = rt.rt.ncl_population_size(m, name) * rt.batch(m)
            for v in range(rt.rt.ncl_num_vars(m, name)):
                var = rt.rt.ncl_var_name(m, name, v)
                values.append(rt.state(m, name.decode(), var.decode(), size).tobytes())
        rt.close(m)
        states.append(values)
    if states[1] != states[0] or states[2] != states[0]:
        fail(f"{model}: the final state depends on the thread count")
    print(f"{model}: spikes and state identical on 1, 2 and 3 threads "
          f"({sum(len(b) for b in outputs[1].values())} bytes of records)")


def check_statistics(nclc, ncl_run, work, name, model, reference):
    """The statistics of `model` (a 4000-neuron network P with E = P[0:3200] and
    I = P[3200:4000]) over seeds 1-3, 5 s each (the reference's window is 1-5 s),
    against the reference's entry `name`."""
    lib = work / f"{name}_stats.so"
    compile_model(nclc, model, lib)
    dirs = []
    for seed in (1, 2, 3):
        out = work / f"{name}_seed{seed}"
        run_dir(ncl_run, lib, out, 2, seed, "5s")
        dirs.append(str(out))
    result = subprocess.run(
        [sys.executable, str(HERE / "spike_statistics.py"), "compare", "--reference",
         str(reference), "--model", name, "--group", "E=P:0:3200", "--group",
         "I=P:3200:4000", *dirs])
    if result.returncode != 0:
        fail(f"{name}'s statistics differ from Brian2's")


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
    elif check == "gap":
        check_gap(nclc, rt, work)
    elif check == "gap-example":
        check_gap_example(nclc, ncl_run, work, sys.argv[6])
    elif check == "threads":
        check_threads(nclc, ncl_run, rt, work, sys.argv[6])
    elif check in ("cuba", "coba", "cobahh"):
        check_statistics(nclc, ncl_run, work, check, sys.argv[6], sys.argv[7])
    elif check == "brunel":
        check_brunel(nclc, ncl_run, work, sys.argv[6], sys.argv[7])
    else:
        fail(f"unknown check {check}")
    print("PASS")


if __name__ == "__main__":
    main()
