"""Brian2 C++ standalone run of one network benchmark model (one configuration).

Run with Debian's /usr/bin/python3 (python3-brian 2.5.1). One run per process, because
Brian2's standalone device builds one project per process (as bench/brian2_lif.py).

Models (written here from the published equations; dt = 0.1 ms for all):

  cuba     Brian2's examples/CUBA.py (Vogels & Abbott 2005, as in Brette et al. 2007,
           benchmark 2): 4000 LIF, E = P[:3200], I = P[3200:].
             dv/dt  = (ge + gi - (v - El))/taum : volt (unless refractory)
             dge/dt = -ge/taue ; dgi/dt = -gi/taui       (volt; not clamped when refractory)
           taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
           threshold v > Vt, reset v = Vr, refractory 5 ms, method 'exact'.
           Ce = Synapses(P, P, on_pre='ge += we'); Ce.connect('i < 3200', p=0.02)
           Ci = Synapses(P, P, on_pre='gi += wi'); Ci.connect('i >= 3200', p=0.02)
           we = 60*0.27/10 mV = 1.62 mV, wi = -20*4.5/10 mV = -9 mV.
           v = Vr + rand()*(Vt - Vr), ge = gi = 0.
  coba     the conductance-based LIF network of Brette et al. 2007, benchmark 1 (COBA),
           with the parameters and initialisation of the Brian2 COBA benchmark used in
           the Brian2GeNN/Brian2CUDA papers: 4000 LIF, 3200 E / 800 I, C = 200 pF,
           gl = 10 nS (taum = 20 ms), El = -60 mV, Vt = -50 mV, Vr = -60 mV, refractory
           5 ms, Ee = 0 mV, Ei = -80 mV, taue 5 ms, taui 10 ms, we = 6 nS, wi = 67 nS,
           p = 0.02 (E->all, I->all, autapses allowed), method 'euler' (what Brian2
           chooses by default here: v*ge makes the system non-linear, so no 'exact').
             dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v))/C : volt (unless refractory)
             dge/dt = -ge/taue, dgi/dt = -gi/taui : siemens
           v = Vr + rand()*(Vt - Vr), ge = (randn()*1.5 + 4)*10 nS,
           gi = (randn()*12 + 20)*10 nS.
  cobahh   Brian2's examples/COBAHH.py (Traub & Miles HH, Brette et al. 2007 benchmark 3):
           4000 neurons, E = P[:3200], I = P[3200:], area 20000 um^2, Cm 1 uF/cm^2,
           gl 5e-5 S/cm^2, El -60 mV, EK -90 mV, ENa 50 mV, gNa 100 mS/cm^2,
           gKd 30 mS/cm^2, VT -63 mV, taue 5 ms, taui 10 ms, Ee 0, Ei -80 mV,
           we = 6 nS, wi = 67 nS, Ce.connect(p=0.02) from Pe to P, Ci from Pi to P,
           threshold v > -20 mV, refractory 3 ms, no reset (refractoriness only blocks
           re-threshold), method 'exponential_euler';
           v = El + (randn()*5 - 5) mV, ge = (randn()*1.5 + 4)*10 nS,
           gi = (randn()*12 + 20)*10 nS.
  brunel   Brunel (2000) model A, network of the NEST brunel-delta benchmark: NE = 8000,
           NI = 2000, fixed in-degree CE = 800 from E and CI = 200 from I per neuron
           (drawn without repetition, autapses allowed, with numpy from --seed),
           J = 0.1 mV, g = 5 (I weight -g*J), eta = 2, delay D = 1.5 ms, tau 20 ms,
           theta 20 mV, Vr 10 mV, tau_rp 2 ms, V(0) = 0,
             dv/dt = -v/tau : volt (unless refractory), method 'exact',
           on_pre 'v += J' (delta synapses), external drive PoissonInput(N = CE,
           rate = eta*nu_thr, weight = J), nu_thr = theta/(J*CE*tau) = 12.5 Hz.
           Input while refractory: Brian2 2.5.1 itself gates every `v += ...` on a
           variable declared `(unless refractory)` with not_refractory, in the
           synapses' on_pre code and in PoissonInput alike (see the generated
           Ce_pre_codeobject.cpp and poissoninput_codeobject.cpp: `if(not_refractory)
           v += ...`), so input that arrives while refractory is dropped, as NEST's
           iaf_psc_delta does (refractory_input = False), with either value of
           --refractory-input ("keep" adds no gate of its own; "drop" adds an explicit
           one, which changes nothing).
  brunel-stdp  brunel with additive pair STDP on the excitatory synapses (bench/
           brunel_stdp.ncl): per synapse w (initially J), event-driven traces
             dapre/dt = -apre/taupre, dapost/dt = -apost/taupost : volt (event-driven)
           on_pre  'v_post += w; apre += dApre; w = clip(w + apost, 0*mV, wmax)'
           on_post 'apost += dApost; w = clip(w + apre, 0*mV, wmax)'
           taupre = taupost = 20 ms, dApre = 0.001 mV, dApost = -0.00105 mV,
           wmax = 0.2 mV; the pre pathway has the 1.5 ms delay, the post pathway none.
  brunel-large  the same with NE = 80 000, NI = 20 000, CE = 8000, CI = 2000 (1e9
           synapses); refused before building when the estimate of memory exceeds what
           the machine has.

Prints one JSON line:
  build_s     model construction + code generation + C++ compile (wall)
  simulate_s  Brian2's own simulation-loop time (results/last_run_info.txt)
  run_s       wall time of running the compiled binary (includes init, connect, I/O)
  spikes      {"E": n, "I": n} (absent with --no-monitor); synapses {"Ce": n, "Ci": n}
  (brunel) max_rss_python_mib, max_rss_children_mib: peak memory
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")

MODELS = ("cuba", "coba", "cobahh", "brunel", "brunel-large", "brunel-stdp")


def mem_available_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def build_cuba(b2):
    from brian2 import ms, mV
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV,
              El=-49 * mV, we=(60 * 0.27 / 10) * mV, wi=(-20 * 4.5 / 10) * mV)
    eqs = """
    dv/dt  = (ge + gi - (v - El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                       method="exact", namespace=ns, name="P")
    P.v = "Vr + rand()*(Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect("i < 3200", p=0.02)
    Ci.connect("i >= 3200", p=0.02)
    return P, 3200, [Ce, Ci], [], None


def build_coba(b2):
    from brian2 import ms, mV, nS, pF
    ns = dict(C=200 * pF, gl=10 * nS, El=-60 * mV, Vt=-50 * mV, Vr=-60 * mV,
              Ee=0 * mV, Ei=-80 * mV, taue=5 * ms, taui=10 * ms, we=6 * nS, wi=67 * nS)
    eqs = """
    dv/dt  = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v))/C : volt (unless refractory)
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    """
    # ge*(Ee - v) couples v and ge non-linearly: no 'exact'; Brian2's default is Euler.
    P = b2.NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                       method="euler", namespace=ns, name="P")
    P.v = "Vr + rand()*(Vt - Vr)"
    P.ge = "(randn()*1.5 + 4)*10*nS"
    P.gi = "(randn()*12 + 20)*10*nS"
    Ce = b2.Synapses(P[:3200], P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = b2.Synapses(P[3200:], P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    return P, 3200, [Ce, Ci], [], None


def build_cobahh(b2):
    from brian2 import ms, mV, nS, umetre, ufarad, cm, siemens, msiemens
    area = 20000 * umetre ** 2
    ns = dict(Cm=(1 * ufarad * cm ** -2) * area, gl=(5e-5 * siemens * cm ** -2) * area,
              El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
              g_na=(100 * msiemens * cm ** -2) * area, g_kd=(30 * msiemens * cm ** -2) * area,
              VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
              we=6 * nS, wi=67 * nS)
    eqs = """
    dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v)
             - g_na*(m*m*m)*h*(v - ENa) - g_kd*(n*n*n*n)*(v - EK))/Cm : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV - v + VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v - VT - 40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV - v + VT)/(18*mV))/ms : Hz
    beta_h = 4./(1 + exp((40*mV - v + VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV - v + VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV - v + VT)/(40*mV))/ms : Hz
    """
    P = b2.NeuronGroup(4000, eqs, threshold="v > -20*mV", refractory=3 * ms,
                       method="exponential_euler", namespace=ns, name="P")
    Ce = b2.Synapses(P[:3200], P, on_pre="ge += we", namespace=ns, name="Ce")
    Ci = b2.Synapses(P[3200:], P, on_pre="gi += wi", namespace=ns, name="Ci")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    # The example initialises after connecting (the order changes the random stream).
    P.v = "El + (randn()*5 - 5)*mV"
    P.ge = "(randn()*1.5 + 4)*10.*nS"
    P.gi = "(randn()*12 + 20)*10.*nS"
    return P, 3200, [Ce, Ci], [], None


def brunel_sizes(large):
    NE = 80_000 if large else 8_000
    NI = NE // 4
    return NE, NI, NE // 10, NI // 10


def fixed_indegree(rng, n_pre, n_post, k, np):
    """k distinct presynaptic indices in [0, n_pre) for each postsynaptic neuron."""
    i = np.empty(n_post * k, dtype=np.int32)
    for post in range(n_post):
        i[post * k:(post + 1) * k] = rng.choice(n_pre, size=k, replace=False)
    j = np.repeat(np.arange(n_post, dtype=np.int32), k)
    return i, j


def brunel_connectivity(large, seed):
    """Presynaptic indices of the E and I synapses (fixed in-degree), target-major:
    synapse k of neuron j is at j*C + k. Only these depend on the seed."""
    import numpy as np
    NE, NI, CE, CI = brunel_sizes(large)
    rng = np.random.default_rng(seed)
    return {"Ce": fixed_indegree(rng, NE, NE + NI, CE, np),
            "Ci": fixed_indegree(rng, NI, NE + NI, CI, np)}


def fixed_indegree(rng, n_pre, n_post, k, np):
    """k distinct presynaptic indices in [0, n_pre) for each postsynaptic neuron."""
    i = np.empty(n_post * k, dtype=np.int32)
    for post in range(n_post):
        i[post * k:(post + 1) * k] = rng.choice(n_pre, size=k, replace=False)
    return i


def build_brunel(b2, large, seed, refractory_input, stdp=False):
    import numpy as np
    from brian2 import ms, mV
    NE, NI, CE, CI = brunel_sizes(large)
    N = NE + NI
    tau, theta, Vr, tau_rp, J, g, eta, D = (20 * ms, 20 * mV, 10 * mV, 2 * ms, 0.1 * mV,
                                            5.0, 2.0, 1.5 * ms)
    nu_thr = theta / (J * CE * tau)
    ns = dict(tau=tau, theta=theta, Vr=Vr, J=J, g=g)
    P = b2.NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v > theta",
                       reset="v = Vr", refractory=tau_rp, method="exact", namespace=ns,
                       name="P")
    P.v = 0 * mV
    gate = "*int(not_refractory_post)" if refractory_input == "drop" else ""
    conn = brunel_connectivity(large, seed)
    if stdp:
        ns.update(taupre=20 * ms, taupost=20 * ms, dApre=0.001 * mV, dApost=-0.00105 * mV,
                  wmax=0.2 * mV)
        Ce = b2.Synapses(P[:NE], P,
                         """w : volt
                            dapre/dt = -apre/taupre : volt (event-driven)
                            dapost/dt = -apost/taupost : volt (event-driven)""",
                         on_pre="""v_post += w""" + gate + """
                                   apre += dApre
                                   w = clip(w + apost, 0*mV, wmax)""",
                         on_post="""apost += dApost
                                    w = clip(w + apre, 0*mV, wmax)""",
                         delay={"pre": D}, namespace=ns, name="Ce")
    else:
        Ce = b2.Synapses(P[:NE], P, on_pre="v_post += J" + gate, delay=D, namespace=ns,
                         name="Ce")
    Ci = b2.Synapses(P[NE:], P, on_pre="v_post += -g*J" + gate, delay=D, namespace=ns,
                     name="Ci")
    Ce.connect(i=conn["Ce"], j=np.repeat(np.arange(N, dtype=np.int32), CE))
    if stdp:
        Ce.w = J
    Ci.connect(i=conn["Ci"], j=np.repeat(np.arange(N, dtype=np.int32), CI))
    weight = "J*int(not_refractory)" if refractory_input == "drop" else J
    ext = b2.PoissonInput(P, "v", N=CE, rate=eta * nu_thr, weight=weight)
    return P, NE, [Ce, Ci], [ext], conn


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=MODELS, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", help="comma-separated seeds run from ONE build (one JSON "
                    "line each; spikes in --spikes-out/seed<S>); overrides --seed")
    ap.add_argument("--threads", type=int, default=1, help="0/1: no OpenMP")
    ap.add_argument("--duration-s", type=float, default=1.0)
    ap.add_argument("--precision", choices=["f32", "f64"], default="f64")
    ap.add_argument("--dir", required=True, help="Brian2 project directory (created)")
    ap.add_argument("--spikes-out", help="save E/I spike times and indices (.npy) here")
    ap.add_argument("--no-monitor", action="store_true", help="no SpikeMonitor (timing)")
    ap.add_argument("--refractory-input", choices=["keep", "drop"], default="keep",
                    help="brunel only: keep (Brian2's default) or drop input while "
                         "refractory (NEST's iaf_psc_delta)")
    args = ap.parse_args()
    if args.spikes_out and args.no_monitor:
        ap.error("--spikes-out needs the monitor")
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]

    import numpy as np
    if args.model == "brunel-large":
        NE, NI, CE, CI = brunel_sizes(True)
        n_syn = (NE + NI) * (CE + CI)
        # Peak memory per synapse, roughly: while building, numpy's i and j (int32,
        # 8 B) and the device's copies of them as static arrays (8 B); the binary then
        # holds the static arrays (8 B), _synaptic_pre/_synaptic_post (8 B) and the
        # spike queue's per-source synapse lists (4 B). 32 B per synapse is the bound
        # used to refuse a run before it starts.
        need = 32 * n_syn
        avail = mem_available_bytes()
        if avail is not None and need > avail:
            print(json.dumps(dict(model=args.model, refused=True, synapses=n_syn,
                                  memory_needed_bytes=need, memory_available_bytes=avail)))
            sys.stdout.flush()
            return 3

    import brian2 as b2
    from brian2 import ms

    b2.set_device("cpp_standalone", directory=args.dir, build_on_run=False)
    b2.prefs.logging.console_log_level = "WARNING"
    if args.precision == "f32":
        b2.prefs.core.default_float_dtype = np.float32
    b2.prefs.devices.cpp_standalone.openmp_threads = 0 if args.threads <= 1 else args.threads
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(seeds[0])

    t0 = time.perf_counter()
    if args.model == "cuba":
        P, NE, syn, other, conn_arrays = build_cuba(b2)
    elif args.model == "coba":
        P, NE, syn, other, conn_arrays = build_coba(b2)
    elif args.model == "cobahh":
        P, NE, syn, other, conn_arrays = build_cobahh(b2)
    else:
        P, NE, syn, other, conn_arrays = build_brunel(
            b2, args.model == "brunel-large", seeds[0], args.refractory_input,
            stdp=args.model == "brunel-stdp")
    mon = monE = None
    if not args.no_monitor:
        mon = b2.SpikeMonitor(P, record=bool(args.spikes_out), name="spikes")
        if not args.spikes_out:
            monE = b2.SpikeMonitor(P[:NE], record=False, name="spikesE")
    net = b2.Network(P, *syn, *other)
    for m in (mon, monE):
        if m is not None:
            net.add(m)
    net.run(args.duration_s * b2.second)
    b2.device.build(directory=args.dir, compile=False, run=False)
    # One build for all seeds: the generated main() seeds Brian2's RNG with the
    # constant given to b2.seed(); make it main's first argument instead (the same
    # program, so `--seeds 3` gives what a build with b2.seed(3) gives).
    main_cpp = os.path.join(args.dir, "main.cpp")
    with open(main_cpp) as f:
        src = f.read()
    pat = "rk_seed(%dL + _i," % seeds[0]
    if pat not in src:
        raise RuntimeError("cannot find %r in %s" % (pat, main_cpp))
    src = src.replace(pat, "rk_seed((argc > 1 ? atol(argv[1]) : %dL) + _i," % seeds[0])
    with open(main_cpp, "w") as f:
        f.write("#include <cstdlib>\n" + src)
    from brian2.codegen.cpp_prefs import get_compiler_and_args
    b2.device.compile_source(args.dir, get_compiler_and_args()[0], False, False)
    build_s = time.perf_counter() - t0

    # Brunel's connectivity comes from numpy (static arrays read by the binary at
    # start): rewrite those files for each seed (their sizes do not depend on it).
    static_files = {}
    if conn_arrays:
        for key, arr in conn_arrays.items():
            names = [n for n, a in b2.device.static_arrays.items()
                     if a.shape == arr.shape and np.array_equal(a, arr)]
            if len(names) != 1:
                raise RuntimeError("static array of %s not found uniquely: %r" % (key, names))
            static_files[key] = (os.path.join(args.dir, "static_arrays", names[0]),
                                 b2.device.static_arrays[names[0]].dtype)

    N = len(P)
    for k, seed in enumerate(seeds):
        if static_files and k > 0:
            for key, arr in brunel_connectivity(args.model == "brunel-large", seed).items():
                path, dtype = static_files[key]
                arr.astype(dtype).tofile(path)
        t1 = time.perf_counter()
        b2.device.run(args.dir, with_output=False, run_args=[str(seed)])
        run_s = time.perf_counter() - t1
        with open(os.path.join(args.dir, "results", "last_run_info.txt")) as f:
            simulate_s = float(f.read().split()[0])
        out = dict(model=args.model, seed=seed, precision=args.precision,
                   threads=args.threads, duration_s=args.duration_s, n=N, n_E=NE,
                   n_I=N - NE, build_s=build_s if k == 0 else 0.0,
                   simulate_s=simulate_s, run_s=run_s,
                   simulate_s_per_bio_s=simulate_s / args.duration_s,
                   synapses={s.name: int(len(s)) for s in syn},
                   brian2_version=b2.__version__)
        if args.model.startswith("brunel"):
            out["refractory_input"] = args.refractory_input
            # Peak resident memory, MiB: of this Python process (model construction,
            # connectivity arrays) and of the largest child so far (the compiler or
            # the simulation binary, whichever is larger).
            out["max_rss_python_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out["max_rss_children_mib"] = (
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        if mon is not None:
            if args.spikes_out:
                t = np.asarray(mon.t[:] / b2.second, dtype=np.float64)
                i = np.asarray(mon.i[:], dtype=np.int64)
                order = np.lexsort((i, t))  # NCL's order: by time, then by index
                t, i = t[order], i[order]
                d = args.spikes_out
                if len(seeds) > 1:
                    d = os.path.join(d, "seed%d" % seed)
                os.makedirs(d, exist_ok=True)
                isE = i < NE
                np.save(os.path.join(d, "E_spike_t.npy"), t[isE])
                np.save(os.path.join(d, "E_spike_i.npy"), i[isE])
                np.save(os.path.join(d, "I_spike_t.npy"), t[~isE])
                np.save(os.path.join(d, "I_spike_i.npy"), i[~isE] - NE)
                with open(os.path.join(d, "run.json"), "w") as f:
                    json.dump({"status": "complete", "dt": 1e-4, "seed": seed,
                               "duration": args.duration_s, "source": "brian2 " + args.model,
                               "populations": {"E": {"size": NE}, "I": {"size": N - NE}}},
                              f, indent=1)
                nE = int(isE.sum())
                out["spikes"] = {"E": nE, "I": int(len(i)) - nE}
                out["spikes_dir"] = d
            else:
                nE = int(monE.num_spikes)
                out["spikes"] = {"E": nE, "I": int(mon.num_spikes) - nE}
        print(json.dumps(out))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
