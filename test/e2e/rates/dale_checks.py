"""End-to-end checks of Dale's law and of weight matrices from files
(docs/semantics.md, "Dale's law"; docs/language.md, "Dense matrices").

usage: dale_checks.py drawn|clip|matrix|errors|readout NCLC NCL_RUN LIBNCLRT WORKDIR

drawn:  a network drawn with and without signs from the same seed: where
        a sign is declared the weight is exactly |w| times it (a group
        E = P[0:80] excitatory, I = P[80:100] inhibitory, a whole
        population declared excitatory), elsewhere w is unchanged; the
        magnitudes are |N(0, 1)| (mean sqrt(2/pi) within 5 standard errors).
clip:   weights driven by w' = -1/s and w' = +1/s for 1 s: each is clipped
        at 0 where its sign would change (exactly 0) and follows the line
        w0 -+ t elsewhere (within 1e-9), on 1 and 3 threads.
matrix: `all_to_all(w = "W.npy")` on ranges gives synapse i -> j entry
        [i - a, j - c] (in the variable's unit); with a mask and a
        condition, exactly the pairs both accept; fixed_probability with a
        mask only pairs of the mask.
errors: one message naming the file, and a non-zero exit of ncl-run, for a
        matrix of the wrong shape, dtype or with a NaN, a missing file, a
        mask entry that is not 0 or 1, and weights that break Dale's law in
        a matrix, in from_npy's value list and in saved weights.
readout: the stdlib's LinearReadout and SigmoidReadout (readout.ncl) fed
        through Dense from a matrix: y = W^T r + b and sigmoid(y), exactly,
        one step after their source.
"""
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "networks"))
from connect_checks import expect_error  # noqa: E402
from nclrt import Runtime  # noqa: E402

UNITS = """
neuron Unit {
  parameters { tau = 10 ms }
  input I = 0
  state { x = 0.5 }
  update { x = (1 - dt / tau) * x + dt / tau * I }
  output r = relu(x)
}
"""


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def compile_model(nclc, work, name, text):
    source = work / f"{name}.ncl"
    source.write_text(text)
    lib = work / f"{name}.so"
    run = subprocess.run([nclc, str(source), "-o", str(lib)], capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"nclc {name}.ncl failed:\n{run.stderr}")
    return lib


DRAWN = UNITS + """
synapse Drawn {
  state { w = randn() }
  summed { I = w * r_pre }
}
network Signs {
  population P = Unit[100]
  population Q = Unit[20] { Q_SIGN }
  population R = Unit[20]
  group E = P[0:80] E_SIGN
  group I = P[80:100] I_SIGN
  projection PP = Drawn(P -> P) { connect all_to_all() }
  projection QR = Drawn(Q -> R) { connect all_to_all() }
  projection RP = Drawn(R -> P) { connect all_to_all() }
  simulate 1 ms, dt = 1 ms
}
"""


def signs(q, e, i):
    return DRAWN.replace("Q_SIGN", q).replace("E_SIGN", e).replace("I_SIGN", i)


def weights(rt, lib, threads=1):
    m = rt.open(str(lib), seed=7, threads=threads)
    out = {}
    for proj in ("PP", "QR", "RP"):
        i, _ = rt.synapses(m, proj)
        out[proj] = (i, rt.synapse_state(m, proj, "w"))
    rt.close(m)
    return out


def check_drawn(nclc, ncl_run, rt, work):
    signed = compile_model(nclc, work, "signed", signs("excitatory", "excitatory", "inhibitory"))
    plain = compile_model(nclc, work, "plain", signs("", "", ""))
    s, p = weights(rt, signed), weights(rt, plain)
    i, w = s["PP"]
    sign = np.where(i < 80, 1.0, -1.0)
    if not np.array_equal(w, np.abs(p["PP"][1]) * sign):
        fail("P -> P: the signed weights are not |w| * sign of the same draws")
    if not np.array_equal(s["QR"][1], np.abs(p["QR"][1])):
        fail("Q -> R: an excitatory population's weights are not |w| of the same draws")
    if not np.array_equal(s["RP"][1], p["RP"][1]):
        fail("R -> P: weights of a population without a sign changed")
    if np.all(s["RP"][1] >= 0) or np.all(s["RP"][1] <= 0):
        fail("R -> P: unsigned weights should have both signs")
    magnitude = np.abs(w)
    stderr = np.sqrt(1 - 2 / np.pi) / np.sqrt(len(w))
    if abs(magnitude.mean() - np.sqrt(2 / np.pi)) > 5 * stderr:
        fail(f"|w| has mean {magnitude.mean():.4f}, not sqrt(2/pi) = {np.sqrt(2 / np.pi):.4f}")
    if weights(rt, signed, threads=3)["PP"][1].tobytes() != w.tobytes():
        fail("3 threads draw other signed weights than one")
    print(f"drawn: {len(w)} weights are |w| * sign of the unsigned draws (E >= 0, I <= 0), "
          f"mean |w| {magnitude.mean():.4f} (sqrt(2/pi) = {np.sqrt(2 / np.pi):.4f}), "
          "unsigned population unchanged")


CLIP = UNITS + """
synapse Down {
  state { w = 0.5 }
  dynamics { w' = -1 / s }
  summed { I = w * r_pre }
}
synapse Up {
  state { w = 0.5 }
  dynamics { w' = 1 / s }
  summed { I = w * r_pre }
}
network Clip {
  population P = Unit[10]
  group E = P[0:6] excitatory
  group I = P[6:10] inhibitory
  projection D = Down(P -> P) { connect all_to_all() }
  projection U = Up(P -> P) { connect all_to_all() }
  simulate 1 s, dt = 1 ms
}
"""


def check_clip(nclc, ncl_run, rt, work):
    lib = compile_model(nclc, work, "clip", CLIP)
    for threads in (1, 3):
        m = rt.open(str(lib), seed=1, threads=threads)
        rt.run_steps(m, 1000)
        i, _ = rt.synapses(m, "D")
        down, up = rt.synapse_state(m, "D", "w"), rt.synapse_state(m, "U", "w")
        rt.close(m)
        e = i < 6
        expect_down = np.where(e, 0.0, -1.5)
        expect_up = np.where(e, 1.5, 0.0)
        if not (np.all(down[e] == 0) and np.all(up[~e] == 0)):
            fail(f"{threads} threads: a weight that would change sign is not clipped at 0")
        err = max(np.max(np.abs(down - expect_down)), np.max(np.abs(up - expect_up)))
        if err > 1e-9:
            fail(f"{threads} threads: weights differ from w0 -+ t by {err:.3g}")
    print("clip: after 1 s of w' = -+1/s, E weights that fall and I weights that rise stop at "
          f"exactly 0, the others follow 0.5 -+ t (within {err:.1e}), on 1 and 3 threads")


MATRIX = UNITS + """
synapse Scaled {
  state { w : mV = 0 mV }
  summed { I = w / (1 mV) * r_pre }
}
network Matrix {
  population P = Unit[8]
  population Q = Unit[6]
  projection Dense = Scaled(P[2:6] -> Q[1:4]) { connect all_to_all(w = "W.npy") }
  projection Masked = Scaled(P[2:6] -> Q[1:4]) {
    connect all_to_all(w = "W.npy", mask = "M.npy") if i != j + 1
  }
  projection Sparse = Scaled(P[2:6] -> Q[1:4]) {
    connect fixed_probability(0.5, mask = "M.npy")
  }
  simulate 1 ms, dt = 1 ms
}
"""


def check_matrix(nclc, ncl_run, rt, work):
    directory = work / "matrix"
    directory.mkdir(exist_ok=True)
    w_file = np.arange(12, dtype=np.float64).reshape(4, 3) - 5.5
    mask = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=np.int32)
    np.save(directory / "W.npy", w_file)
    np.save(directory / "M.npy", mask)
    lib = compile_model(nclc, directory, "matrix", MATRIX)
    m = rt.open(str(lib), seed=3)
    i, j = rt.synapses(m, "Dense")
    w = rt.synapse_state(m, "Dense", "w")
    if len(w) != 12 or np.max(np.abs(w - 1e-3 * w_file[i - 2, j - 1])) > 1e-15:
        fail(f"all_to_all(w = \"W.npy\"): weights {w} are not W[i - 2, j - 1] mV")
    i, j = rt.synapses(m, "Masked")
    w = rt.synapse_state(m, "Masked", "w")
    expect = {(a + 2, b + 1) for a in range(4) for b in range(3) if mask[a, b] and a + 2 != b + 2}
    if set(zip(i.tolist(), j.tolist())) != expect or len(i) != len(expect):
        fail(f"mask and condition: synapses {sorted(zip(i, j))}, expected {sorted(expect)}")
    if np.max(np.abs(w - 1e-3 * w_file[i - 2, j - 1])) > 1e-15:
        fail("mask and condition: weights are not the matrix entries of their pairs")
    i, j = rt.synapses(m, "Sparse")
    if not all(mask[a - 2, b - 1] for a, b in zip(i, j)):
        fail("fixed_probability with a mask: a synapse outside the mask")
    rt.close(m)
    print(f"matrix: W[i - 2, j - 1] on ranges, mask and condition give the {len(expect)} pairs "
          f"both accept, fixed_probability keeps {len(i)} of the mask's {mask.sum()} pairs")


ERRORS = UNITS + """
synapse Dense {
  state { w = 0 }
  summed { I = w * r_pre }
}
network Errors {
  population P = Unit[5]
  group E = P[0:3] excitatory
  group I = P[3:5] inhibitory
  projection Rec = Dense(P -> P) { connect all_to_all(w = "W.npy", mask = "M.npy") }
  projection List = Dense(P -> P) { connect from_npy("pre.npy", "post.npy", w = "w.npy") }
  simulate 1 ms, dt = 1 ms
}
"""


def check_errors(nclc, ncl_run, rt, work):
    directory = work / "dale_errors"
    directory.mkdir(exist_ok=True)
    lib = compile_model(nclc, directory, "errors", ERRORS)
    sign = np.where(np.arange(5) < 3, 1.0, -1.0)
    w_path, m_path, list_path = (str(directory / f) for f in ("W.npy", "M.npy", "w.npy"))

    def good():
        np.save(w_path, np.abs(np.arange(25.0).reshape(5, 5) - 12) * sign[:, None])
        np.save(m_path, np.ones((5, 5), dtype=np.float32))
        np.save(directory / "pre.npy", np.array([0, 4, 2], dtype=np.int64))
        np.save(directory / "post.npy", np.array([1, 1, 3], dtype=np.int64))
        np.save(list_path, np.array([0.5, -0.5, 0.0]))

    good()
    run = subprocess.run([ncl_run, str(lib), "--quiet", "--out", str(directory / "out"),
                          "--save-weights", str(directory / "saved")], capture_output=True,
                         text=True)
    if run.returncode != 0:
        fail(f"the good files are refused:\n{run.stderr}")
    np.save(w_path, np.ones((5, 4)))
    expect_error(ncl_run, lib, directory, "matrix shape", w_path, "shape (5, 4)", "(5, 5)")
    good()
    np.save(w_path, np.ones(25))
    expect_error(ncl_run, lib, directory, "1-D matrix", w_path, "shape (25,)")
    good()
    np.save(w_path, np.ones((5, 5), dtype=np.int32))
    expect_error(ncl_run, lib, directory, "integer matrix", w_path, "'<i4'", "float32 or float64")
    good()
    w = np.abs(np.ones((5, 5)))
    w[1, 2] = np.nan
    np.save(w_path, w)
    expect_error(ncl_run, lib, directory, "NaN in the matrix", w_path, "entry [1, 2]", "finite")
    good()
    (directory / "W.npy").unlink()
    expect_error(ncl_run, lib, directory, "missing matrix", w_path, "cannot be read")
    good()
    mask = np.ones((5, 5))
    mask[2, 0] = 2
    np.save(m_path, mask)
    expect_error(ncl_run, lib, directory, "mask entry 2", m_path, "entry [2, 0]", "0 (no synapse)")
    good()
    w = np.abs(np.ones((5, 5))) * sign[:, None]
    w[1, 3] = -0.25
    np.save(w_path, w)
    expect_error(ncl_run, lib, directory, "Dale's law in a matrix", w_path, "entry [1, 3]",
                 "synapse 1 -> 3", "excitatory", ">= 0")
    good()
    np.save(list_path, np.array([0.5, 0.5, 0.0]))
    expect_error(ncl_run, lib, directory, "Dale's law in from_npy", list_path, "entry 1",
                 "synapse 4 -> 1", "inhibitory", "<= 0")
    good()
    saved = directory / "saved" / "Rec_w.npy"
    w = np.load(saved)
    w[7] = -abs(w[7]) - 1  # synapse 7 of Rec is 1 -> 2, from an excitatory unit
    np.save(saved, w)
    run = subprocess.run([ncl_run, str(lib), "--quiet", "--out", str(directory / "out"),
                          "--load-weights", str(directory / "saved")], capture_output=True,
                         text=True)
    message = run.stderr.strip()
    if run.returncode in (0,) or run.returncode >= 128 or len(message.splitlines()) != 1 or \
            str(saved) not in message or "entry 7" not in message or "excitatory" not in message:
        fail(f"saved weights breaking Dale's law: status {run.returncode}, message:\n{message}")
    print(f"saved weights: {message}")


READOUT = """
import "readout.ncl"
neuron Relay {
  parameters { level = 0 per neuron }
  state { x = 0 }
  update { x = level }
  output r = x
}
network Readouts {
  population In = Relay[3] { level = 0.5 }
  population Lin = LinearReadout[2] { b = 0.25 }
  population Sig = SigmoidReadout[2] { b = -0.5 }
  projection L = Dense(In -> Lin) { connect all_to_all(w = "W.npy") }
  projection S = Dense(In -> Sig) { connect all_to_all(w = "W.npy") }
  simulate 3 ms, dt = 1 ms
}
"""


def check_readout(nclc, ncl_run, rt, work):
    directory = work / "readout"
    directory.mkdir(exist_ok=True)
    w = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 3.0]])
    np.save(directory / "W.npy", w)
    lib = compile_model(nclc, directory, "readout", READOUT)
    m = rt.open(str(lib), seed=1)
    rt.run_steps(m, 1)
    # Step 0 reads the relay's start value 0: y = b.
    first = (rt.state(m, "Lin", "y", 2), rt.state(m, "Sig", "r", 2))
    rt.run_steps(m, 1)
    lin, sig = rt.state(m, "Lin", "r", 2), rt.state(m, "Sig", "r", 2)
    rt.close(m)
    y = 0.5 * w.sum(axis=0)
    expect_lin, expect_sig = y + 0.25, 1 / (1 + np.exp(-(y - 0.5)))
    if not (np.all(first[0] == 0.25) and np.allclose(first[1], 1 / (1 + np.exp(0.5)),
                                                        rtol=0, atol=1e-15)):
        fail(f"readouts after one step: {first}, expected b and sigmoid(b)")
    err = max(np.max(np.abs(lin - expect_lin)), np.max(np.abs(sig - expect_sig)))
    if err > 1e-15:
        fail(f"readouts {lin}, {sig}; expected W^T r + b = {expect_lin}, "
             f"sigmoid(W^T r + b) = {expect_sig}")
    print(f"readout: LinearReadout gives W^T r + b and SigmoidReadout its logistic (within "
          f"{err:.1e}), one step after the source")


def main():
    check, nclc, ncl_run, libnclrt, workdir = sys.argv[1:6]
    work = pathlib.Path(workdir) / "dale"
    work.mkdir(parents=True, exist_ok=True)
    {"drawn": check_drawn, "clip": check_clip, "matrix": check_matrix,
     "errors": check_errors, "readout": check_readout}[check](nclc, ncl_run, Runtime(libnclrt), work)


if __name__ == "__main__":
    main()
