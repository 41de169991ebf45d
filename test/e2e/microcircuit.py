"""Checks of bench/gpu/microcircuit.ncl (Potjans & Diesmann 2014) against the
published model and against mathematics.

usage: microcircuit.py NCLC NCL_RUN MODEL_NCL WORKDIR CHECK

CHECK is one of
  structure     the full-scale file against the published numbers typed in
                here (P&D 2014 Table 5 and the NEST example's parameters):
                population sizes, K_ext and initial v; the 55 projections,
                one per nonzero connection probability, each with
                K = round(log(1 - p) / log(1 - 1/(N_pre N_post))); the
                synapse model by the source's sign; the weights (0.15 mV PSP
                as a current, L4E -> L23E doubled, inhibitory -4 times, sd
                10 %), delays and the neuron's constants;
  connectivity  a copy scaled by 0.02 (bench/gpu/microcircuit_scaled.py)
                whose neurons each spike once, in step 0, and whose synapses
                note the time their spike arrives: every projection has
                exactly round(0.02 K) synapses inside its populations; the
                weights have the sign, mean and sd of the published normal;
                every delay is a whole number of steps, at least one, and
                the delays of excitatory and of inhibitory synapses have the
                mean and sd of round(max(dt, d) / dt) for d normal (1.5 ms,
                0.75 ms) and (0.75 ms, 0.375 ms), computed here from the
                normal CDF; the probe's synapses and weights are the real
                scaled model's, bit for bit (so the delays it measures are
                drawn by the same projections from the same seed);
  psp           the model's own neuron and Exc synapse, one input spike and
                no background: v follows the closed-form solution of
                C v' = -C (v - E_L)/tau_m + I, I' = -I/tau_syn at every step
                (1e-12), starting exactly 1.5 ms after the spike, and its
                peak is the 0.15 mV the weight was chosen for;
  activity      the scaled copy for 0.5 s on 2 threads: no population is
                silent (below 0.1 Hz) or runs away (above 100 Hz) over
                0.1-0.5 s. The scaled copy is a different network (denser,
                see the generator), so its rates are not compared with the
                published full-scale ones;
  fake-device   the scaled copy for 20 ms on the CUDA backend over the test
                suite's fake driver (FAKE_DRIVER, the 6th argument), its GPU
                kernels run on the host (nclc --gpu-emulation): the spikes
                of every population are the CPU's, bit for bit; the spike
                lists and the arrival queues of its per-synapse delays stay
                on the device (fewer than 20 waits in 200 steps, 3 launches
                a step order the arrivals, the works of consecutive steps
                sharing them; docs/gpu.md, "Arrival queues on the device"),
                and a step takes fewer than 7 launches (its 8 updates as one
                launch of their shared entry's `_seq`, their 8 spike lists
                as one, the arrivals' 3 and its 55 deliveries as one `_seq`
                launch, which find each list's end in its bucket starts, so
                no length is copied; docs/gpu.md, "Deliveries in one
                launch").

usage for fake-device: microcircuit.py NCLC NCL_RUN MODEL_NCL WORKDIR fake-device FAKE_DRIVER
"""
import json
import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np

NAMES = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
SIZES = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# Potjans & Diesmann (2014) Table 5: row = target, column = source.
PROB = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]  # mV
V0_SD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]  # mV

C_M, TAU_M, TAU_SYN = 250e-12, 10e-3, 0.5e-3  # F, s, s
E_L = -65e-3
DT = 1e-4
PSP = 0.15e-3  # V
SCALE = 0.02


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def psc_per_psp():
    """The current jump whose PSP peaks at 1 V (NEST example's helpers.py,
    postsynaptic_potential_to_current): the peak of the difference of
    exponentials at t* = ln(tau_m/tau_syn) tau_m tau_syn / (tau_m - tau_syn)."""
    r = TAU_M * TAU_SYN / (C_M * (TAU_M - TAU_SYN))
    t_peak = math.log(TAU_M / TAU_SYN) * TAU_M * TAU_SYN / (TAU_M - TAU_SYN)
    return 1.0 / (r * (math.exp(-t_peak / TAU_M) - math.exp(-t_peak / TAU_SYN)))


def weight_mean(source, target):
    w = PSP * psc_per_psp()
    if source % 2 == 1:
        w *= -4.0
    elif source == 2 and target == 0:
        w *= 2.0
    return w


def k_full(source, target):
    p = PROB[target][source]
    pairs = SIZES[source] * SIZES[target]
    return round(math.log(1.0 - p) / math.log(1.0 - 1.0 / pairs))


def run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        fail(f"{' '.join(map(str, cmd))} exited {result.returncode}:\n"
             f"{result.stdout}{result.stderr}")
    return result


def quantity(text):
    """'87.808494 pA' or '-65 mV' or '0.5 ms' or '1600' in SI units."""
    scale = {"pA": 1e-12, "mV": 1e-3, "ms": 1e-3, "pF": 1e-12, "Hz": 1.0, "": 1.0}
    match = re.fullmatch(r"\s*(-?[\d.]+)\s*(\w*)\s*", text)
    if not match or match.group(2) not in scale:
        fail(f"cannot read the quantity '{text}'")
    return float(match.group(1)) * scale[match.group(2)]


def block(text, header):
    """The body of the block that starts with `header {` (balanced braces)."""
    start = text.find(header + " {")
    if start < 0:
        fail(f"no '{header}' in the model")
    depth, i = 0, text.index("{", start)
    for k in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[start:k + 1]
    fail(f"unbalanced braces after '{header}'")


def parameters(text, header):
    body = block(block(text, header), "parameters")
    values = {}
    for name, value in re.findall(r"^\s*(\w+)\s*=\s*([^#\n]+?)\s*(?:#.*)?$", body, re.M):
        values[name] = quantity(value)
    return values


def close(a, b, rel, what):
    if not abs(a - b) <= rel * abs(b):
        fail(f"{what}: {a!r}, expected {b!r} (relative tolerance {rel})")


def check_structure(model):
    text = model.read_text()
    pops = re.findall(r"population (\w+)\s*= IafPscExp\[(\d+)\] \{ K_ext = (\d+); "
                      r"V0_mean = (\S+) mV; V0_sd = (\S+) mV \}", text)
    if [p[0] for p in pops] != NAMES:
        fail(f"populations {[p[0] for p in pops]}, expected {NAMES}")
    for k, (name, n, kext, v0m, v0s) in enumerate(pops):
        if (int(n), int(kext)) != (SIZES[k], K_EXT[k]):
            fail(f"{name}: N = {n}, K_ext = {kext}, expected {SIZES[k]}, {K_EXT[k]}")
        if (float(v0m), float(v0s)) != (V0_MEAN[k], V0_SD[k]):
            fail(f"{name}: initial v normal({v0m}, {v0s}) mV, expected "
                 f"({V0_MEAN[k]}, {V0_SD[k]})")

    projections = re.findall(r"projection (\w+) = (\w+)\((\w+) -> (\w+)\) \{(.*?)\n  \}",
                             text, re.S)
    expected = {(s, t) for s in range(8) for t in range(8) if PROB[t][s] > 0}
    seen = set()
    syn = {"Exc": parameters(text, "synapse Exc"), "Inh": parameters(text, "synapse Inh")}
    for name, model_name, src, tgt, body in projections:
        s, t = NAMES.index(src), NAMES.index(tgt)
        if name != f"{src}_{tgt}" or (s, t) in seen:
            fail(f"projection {name} ({src} -> {tgt}) misnamed or repeated")
        seen.add((s, t))
        if model_name != ("Exc" if s % 2 == 0 else "Inh"):
            fail(f"{name}: synapse {model_name} for a source of sign {'EI'[s % 2]}")
        k = re.search(r"connect fixed_total\((\d+)\)\n", body)
        if not k or int(k.group(1)) != k_full(s, t):
            fail(f"{name}: {k.group(0) if k else 'no fixed_total'}, expected "
                 f"fixed_total({k_full(s, t)}) for p = {PROB[t][s]}")
        values = dict(syn[model_name])
        for key, value in re.findall(r"(w_mean|w_sd) = ([^;\n]+)", body):
            values[key] = quantity(value)
        close(values["w_mean"], weight_mean(s, t), 1e-7, f"{name}: mean weight (A)")
        close(values["w_sd"], 0.1 * abs(weight_mean(s, t)), 1e-7, f"{name}: weight sd (A)")
        if "delay = max(d_min, d_mean + d_sd * randn())" not in body:
            fail(f"{name}: not the model's delay rule")
    if seen != expected:
        fail(f"pathways {sorted(expected - seen)} missing, {sorted(seen - expected)} extra")
    for model_name, d_mean in (("Exc", 1.5e-3), ("Inh", 0.75e-3)):
        close(syn[model_name]["d_mean"], d_mean, 1e-12, f"{model_name}: mean delay")
        close(syn[model_name]["d_sd"], 0.5 * d_mean, 1e-12, f"{model_name}: delay sd")
        close(syn[model_name]["d_min"], DT, 1e-12, f"{model_name}: shortest delay")
    if "state { w : pA = max(0 pA, w_mean + w_sd * randn()) }" not in block(text, "synapse Exc") \
            or "state { w : pA = min(0 pA, w_mean + w_sd * randn()) }" not in block(
                text, "synapse Inh"):
        fail("the weights are not normal(w_mean, w_sd) clipped at 0 on their sign's side")
    neuron = parameters(text, "neuron IafPscExp")
    for key, value in {"C_m": C_M, "tau_m": TAU_M, "tau_syn": TAU_SYN, "E_L": E_L,
                       "V_th": -50e-3, "V_reset": -65e-3, "t_ref": 2e-3, "nu_bg": 8.0,
                       "w_ext": PSP * psc_per_psp()}.items():
        close(neuron[key], value, 1e-7, f"IafPscExp.{key}")
    total = sum(k_full(s, t) for s, t in expected)
    print(f"structure: 8 populations ({sum(SIZES)} neurons), 55 projections, "
          f"{total} synapses; weights {PSP * psc_per_psp() * 1e12:.4f} pA per 0.15 mV")


def probe_text(scaled):
    """The scaled model with neurons that spike once, in step 0, and synapses
    that also keep the time their spike arrived (t_arr)."""
    neuron = block(scaled, "neuron IafPscExp")
    probe = """neuron IafPscExp {
  parameters { K_ext = 0; V0_mean = 0 mV; V0_sd = 0 mV }
  state { c = 0; I_syn : pA = 0 pA }
  update { c = c + 1 }
  spike when c > 0.5 and c < 1.5
}"""
    text = scaled.replace(neuron, probe)
    text, n = re.subn(r"state \{ w : pA = (.*) \}", r"state { w : pA = \1; t_arr : s = -1 s }",
                      text)
    text, m = re.subn(r"on_pre \{ I_syn \+= w \}", "on_pre { I_syn += w; t_arr = t }", text)
    if (n, m) != (2, 2):
        fail("cannot make the probe: the synapses' state or on_pre changed form")
    return text


def step_distribution(mean, sd):
    """P(k) of k = round(max(DT, d) / DT) steps for d ~ normal(mean, sd)."""
    def cdf(x):
        return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))
    kmax = int((mean + 12 * sd) / DT) + 2
    p = np.zeros(kmax + 1)
    p[1] = cdf(1.5 * DT)  # the draws below dt are clipped to dt: one step
    for k in range(2, kmax + 1):
        p[k] = cdf((k + 0.5) * DT) - cdf((k - 0.5) * DT)
    return p


def load_weights(directory, name):
    return {key: np.load(directory / f"{name}_{key}.npy")
            for key in ("pre", "post", "w")}


def check_connectivity(nclc, ncl_run, work):
    sys.path.insert(0, str(MODEL.parent))
    from microcircuit_scaled import scaled_text  # noqa: E402

    scaled = scaled_text(SCALE, MODEL)
    sizes = [max(1, round(SCALE * n)) for n in SIZES]
    (work / "scaled.ncl").write_text(scaled)
    (work / "probe.ncl").write_text(probe_text(scaled))
    run([nclc, work / "scaled.ncl", "-o", work / "scaled.so"])
    run([nclc, work / "probe.ncl", "-o", work / "probe.so"])
    run([ncl_run, work / "probe.so", "--time", "20ms", "--threads", "2", "--quiet",
         "--save-weights", work / "probe_w"])
    run([ncl_run, work / "scaled.so", "--time", "0ms", "--quiet",
         "--save-weights", work / "scaled_w"])

    pooled = {0: [], 1: []}
    for s in range(8):
        for t in range(8):
            if PROB[t][s] == 0:
                continue
            name = f"{NAMES[s]}_{NAMES[t]}"
            probe = load_weights(work / "probe_w", name)
            real = load_weights(work / "scaled_w", name)
            k = round(SCALE * k_full(s, t))
            if len(probe["w"]) != k:
                fail(f"{name}: {len(probe['w'])} synapses, expected round({SCALE} * "
                     f"{k_full(s, t)}) = {k}")
            for key in ("pre", "post", "w"):
                if not np.array_equal(probe[key], real[key]):
                    fail(f"{name}: the probe's {key} differ from the scaled model's")
            pre, post, w = probe["pre"], probe["post"], probe["w"]
            if pre.min() < 0 or pre.max() >= sizes[s] or post.min() < 0 \
                    or post.max() >= sizes[t]:
                fail(f"{name}: a neuron index outside {NAMES[s]} or {NAMES[t]}")
            mean, sd = weight_mean(s, t), 0.1 * abs(weight_mean(s, t))
            if np.any(np.sign(w) != np.sign(mean)):
                fail(f"{name}: {np.sum(np.sign(w) != np.sign(mean))} weights of the wrong sign")
            # 5 standard errors: a wrong mean or sd of a few % fails the
            # large projections, a wrong factor (2x, -4x) every one.
            if abs(w.mean() - mean) > 5 * sd / math.sqrt(k):
                fail(f"{name}: mean weight {w.mean():.6g} A, expected {mean:.6g} A")
            if abs(w.std() / sd - 1) > 5 / math.sqrt(2 * k) + 1e-3:
                fail(f"{name}: weight sd {w.std():.6g} A, expected {sd:.6g} A")
            t_arr = np.load(work / "probe_w" / f"{name}_t_arr.npy")
            steps = (t_arr - DT) / DT  # the spike of step 0 carries t = dt
            if np.any(t_arr < 0):
                fail(f"{name}: {np.sum(t_arr < 0)} synapses got no spike in 20 ms")
            if np.any(np.abs(steps - np.round(steps)) > 1e-6):
                fail(f"{name}: an arrival off the step grid")
            steps = np.round(steps).astype(np.int64)
            if steps.min() < 1:
                fail(f"{name}: a delay of {steps.min()} steps, below dt")
            pooled[s % 2].append(steps)

    for sign, (mean, sd) in ((0, (1.5e-3, 0.75e-3)), (1, (0.75e-3, 0.375e-3))):
        steps = np.concatenate(pooled[sign])
        p = step_distribution(mean, sd)
        k = np.arange(len(p))
        mu = float((k * p).sum())
        var = float((k * k * p).sum()) - mu * mu
        n = len(steps)
        label = "excitatory" if sign == 0 else "inhibitory"
        if abs(steps.mean() - mu) > 5 * math.sqrt(var / n):
            fail(f"{label} delays: mean {steps.mean():.5f} steps, expected {mu:.5f}")
        mu4 = float(((k - mu) ** 4 * p).sum())
        if abs(steps.var() / var - 1) > 5 * math.sqrt((mu4 / var**2 - 1) / n):
            fail(f"{label} delays: variance {steps.var():.5f} steps^2, expected {var:.5f}")
        one = np.mean(steps == 1)
        if abs(one - p[1]) > 5 * math.sqrt(p[1] * (1 - p[1]) / n):
            fail(f"{label} delays: {one:.5f} of them one step, expected {p[1]:.5f}")
        print(f"{label}: {n} synapses, delay mean {steps.mean() * DT * 1e3:.4f} ms "
              f"(expected {mu * DT * 1e3:.4f}), sd {steps.std() * DT * 1e3:.4f} ms "
              f"(expected {math.sqrt(var) * DT * 1e3:.4f}), one step {one:.4f} "
              f"(expected {p[1]:.4f})")
    print(f"connectivity: 55 projections of the {SCALE} copy, counts exact, weights and "
          "delays as drawn, the probe's synapses the model's")


def check_psp(nclc, ncl_run, work):
    text = MODEL.read_text()
    model = "\n".join([block(text, "neuron IafPscExp"), block(text, "synapse Exc"), """
neuron Clock {
  state { c = 0 }
  update { c = c + 1 }
  spike when c > 99.5 and c < 100.5
}
network Psp {
  population G = Clock[1]
  population P = IafPscExp[1] { K_ext = 0; V0_mean = -65 mV; V0_sd = 0 mV }
  projection C = Exc(G -> P) {
    connect all_to_all()
    w = w_mean
    delay = 1.5 ms
  }
  record v(P)
  simulate 30 ms, dt = 0.1 ms, seed = 1
}
"""])
    (work / "psp.ncl").write_text(model)
    run([nclc, work / "psp.ncl", "-o", work / "psp.so"])
    run([ncl_run, work / "psp.so", "--quiet", "--out", work / "psp"])
    v = np.load(work / "psp" / "P_v.npy")[:, 0]
    n = np.arange(len(v))
    # The spike of step 99 arrives 15 steps after t_100: at the start of
    # step 115. Sample n is the state at t_n.
    arrival = 115
    w = parameters(text, "synapse Exc")["w_mean"]  # 87.808494 pA, 5e-9 above the exact value
    r = TAU_M * TAU_SYN / (C_M * (TAU_M - TAU_SYN))
    x = (n - arrival) * DT
    closed = np.where(n > arrival, E_L + w * r * (np.exp(-x / TAU_M) - np.exp(-x / TAU_SYN)),
                      E_L)
    err = np.max(np.abs(v - closed))
    if err > 1e-12 * PSP:
        fail(f"v differs from the closed form by {err:.3g} V "
             f"(at step {np.argmax(np.abs(v - closed))})")
    peak = v.max() - E_L
    if not 0.149e-3 < peak <= 0.15e-3 * (1 + 1e-9):
        fail(f"the PSP peaks at {peak * 1e3:.6f} mV, expected just below 0.15 mV")
    print(f"psp: v exact to {err:.2g} V at every step; peak {peak * 1e3:.6f} mV "
          f"on the grid (0.15 mV at t* = 1.577 ms)")


def check_activity(nclc, ncl_run, work):
    sys.path.insert(0, str(MODEL.parent))
    from microcircuit_scaled import scaled_text  # noqa: E402

    (work / "activity.ncl").write_text(scaled_text(SCALE, MODEL))
    run([nclc, work / "activity.ncl", "-o", work / "activity.so"])
    run([ncl_run, work / "activity.so", "--time", "0.5s", "--threads", "2", "--quiet",
         "--out", work / "activity"])
    info = json.loads((work / "activity" / "run.json").read_text())
    report = []
    for name in NAMES:
        times = np.load(work / "activity" / f"{name}_spike_t.npy")
        size = info["populations"][name]["size"]
        rate = np.sum(times > 0.1) / (size * 0.4)
        if not 0.1 <= rate <= 100:
            fail(f"{name}: {rate:.3f} Hz over 0.1-0.5 s, outside 0.1-100 Hz "
                 f"({'silent' if rate < 0.1 else 'runaway'})")
        report.append(f"{name} {rate:.2f}")
    print(f"activity ({SCALE} copy, Hz over 0.1-0.5 s): " + ", ".join(report))


def check_fake_device(nclc, ncl_run, work, driver):
    sys.path.insert(0, str(MODEL.parent))
    from microcircuit_scaled import scaled_text  # noqa: E402

    (work / "fake.ncl").write_text(scaled_text(SCALE, MODEL))
    run([nclc, work / "fake.ncl", "--target=cuda", "--gpu-emulation", "--precision=f32",
         "-o", work / "fake.so"])
    run([ncl_run, work / "fake.so", "--time", "20ms", "--quiet", "--out", work / "cpu"])
    run([ncl_run, work / "fake.so", "--backend=cuda", "--time", "20ms", "--quiet", "--out",
         work / "cuda"], env=dict(os.environ, NCL_CUDA_DRIVER=driver))
    spikes = 0
    for name in NAMES:
        for suffix in ("spike_t", "spike_i"):
            cpu = (work / "cpu" / f"{name}_{suffix}.npy").read_bytes()
            gpu = (work / "cuda" / f"{name}_{suffix}.npy").read_bytes()
            if cpu != gpu:
                fail(f"{name}_{suffix}.npy differs between the CPU and the fake device")
        spikes += len(np.load(work / "cpu" / f"{name}_spike_t.npy"))
    if spikes == 0:
        fail("no spike in 20 ms: nothing was compared")
    info = json.loads((work / "cuda" / "run.json").read_text())
    stats = info["device_stats"]
    per_step = stats["launches"] / info["steps"]
    if per_step >= 7:
        fail(f"{per_step:.1f} launches a step: the updates, lists or deliveries were not "
             f"launched together")
    # Its spikes and arrival queues stay on the device: a few waits a
    # chunk, not one every two steps (the host's exchange), and three
    # launches a step order the arrivals (a chunk's first step four, and its
    # last a SEND more).
    if stats["waits"] >= 20 or not 2.9 <= stats["arrival_launches"] / info["steps"] <= 3.2:
        fail(f"{stats['waits']} waits and {stats['arrival_launches']} launches for the arrival "
             f"queues in {info['steps']} steps: the queues did not stay on the device")
    print(f"fake device ({SCALE} copy, 20 ms): {spikes} spikes as on the CPU, "
          f"{per_step:.1f} launches a step, {stats['waits']} waits")


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[5] == "fake-device":
        MODEL = pathlib.Path(sys.argv[3]).resolve()
        WORK = pathlib.Path(sys.argv[4]) / sys.argv[5]
        WORK.mkdir(parents=True, exist_ok=True)
        check_fake_device(sys.argv[1], sys.argv[2], WORK, sys.argv[6])
        sys.exit(0)
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip().splitlines()[2])
    NCLC, NCL_RUN = sys.argv[1], sys.argv[2]
    MODEL = pathlib.Path(sys.argv[3]).resolve()
    WORK = pathlib.Path(sys.argv[4]) / sys.argv[5]
    WORK.mkdir(parents=True, exist_ok=True)
    check = sys.argv[5]
    if check == "structure":
        check_structure(MODEL)
    elif check == "connectivity":
        check_connectivity(NCLC, NCL_RUN, WORK)
    elif check == "psp":
        check_psp(NCLC, NCL_RUN, WORK)
    elif check == "activity":
        check_activity(NCLC, NCL_RUN, WORK)
    else:
        sys.exit(f"unknown check '{check}'")
