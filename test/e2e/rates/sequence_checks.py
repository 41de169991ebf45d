"""End-to-end check of examples/sequence.ncl (an encoder, two stacked k-WTA
rate layers and a readout, batch = 4) against the NumPy reference committed
in test/e2e/rates/reference/ (made by make_sequence_reference.py from the
same .npy files the example reads).

usage: sequence_checks.py NCLC NCL_RUN LIBNCLRT EXAMPLE WORKDIR f64|f32

The example is compiled in the precision given and run by ncl-run from
another directory (the data files are found beside the .ncl file) on 1 and
3 threads, which must write identical files. Then, for all 4 batch members:

- H2's r (the last layer's k-WTA output) and the readout's y at every
  recorded step (the start of steps 0 to 59) must follow the reference of
  the same precision: within 1e-12 of the trace's largest magnitude in
  float64, within 16 float32 epsilons of it in float32. The reference adds
  every sum in the documented order, so the run should match it to the
  last bit (the check prints the difference it finds); summing in any
  other order (NumPy's matrix products) moves the values by at most 1.7
  epsilons of that magnitude, and the error does not grow over the run
  (the leak and the k-WTA contract), so the bounds leave room for a
  compiler that rounds otherwise without hiding a wrong step, sum or
  winner (adding 10^-4 to the layers' biases moves H2's r by 3.5 * 10^-5
  of its largest magnitude, 18 times the float32 bound).
- H2's winners (its nonzero units) must be the reference's, exactly: the
  reference made sure that the k-th and (k + 1)-th values are at least
  10^-4 of the row's largest apart, about 840 float32 epsilons, so no
  rounding can swap them.
- After step 0 each member's H1 has exactly 10 (5 % of 200) and H2 exactly
  5 positive rates, the rest 0, at every step; before it, none.
- The header's claims: members are equal while only the biases drive them
  and part when their inputs arrive, one step later in each layer; at the
  end of each symbol, two members' H2 codes of the same symbol share more
  than twice as many winners, on average, as codes of different symbols.

The example makes its rate r a state variable so that ncl-run can record
it (monitors record state variables only). The same model written with
`output r = relu(x)` and the k-WTA on that output is also stepped through
the C API, reading r and y after every step (including the last, which
no monitor samples): it must follow the reference within the same
tolerances, with the same winners.

Last, the reference script is run again into the work directory: the
committed inputs are what it makes, bit for bit, and the committed
reference within a tenth of the tolerances.
"""
import itertools
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nclrt import Runtime  # noqa: E402

REFERENCE = HERE / "reference"
STEPS, BATCH, N1, N2, NOUT, K1, K2 = 60, 4, 200, 100, 4, 10, 5
SYMBOLS, HOLD = 6, 10
TOLERANCE = {"f64": 1e-12, "f32": 16 * float(np.finfo(np.float32).eps)}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(ncl_run, lib, work, threads):
    """ncl-run from a directory other than the example's; the recorded
    H1 r, H2 r and readout y (samples x members x units)."""
    out = work / f"out_{threads}"
    elsewhere = work / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    done = subprocess.run([ncl_run, str(lib), "--quiet", "--threads", str(threads), "--out",
                           str(out)], cwd=elsewhere, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"ncl-run on {threads} threads failed:\n{done.stderr}")
    return {name: np.load(out / f"{name}.npy") for name in ("H1_r", "H2_r", "Out_y")}


def compare(what, precision, got, expect):
    scale = np.max(np.abs(expect))
    err = np.max(np.abs(got.astype(np.float64) - expect)) / scale
    if not err <= TOLERANCE[precision]:
        step = int(np.argmax(np.max(np.abs(got - expect), axis=(1, 2))))
        fail(f"{what} ({precision}) differs from the NumPy reference by {err:.3g} of its largest "
             f"magnitude {scale:.3g} (tolerance {TOLERANCE[precision]:.3g}), most at sample {step}")
    return err


def check_counts(name, r, k):
    """No positive rate at sample 0, then exactly k per member and sample."""
    if np.any(r < 0):
        fail(f"{name}: a negative rate")
    positive = np.count_nonzero(r > 0, axis=2)
    if np.any(positive[0] != 0):
        fail(f"{name}: positive rates in the initial state")
    if np.any(positive[1:] != k):
        sample, member = np.argwhere(positive[1:] != k)[0]
        fail(f"{name}: {positive[1 + sample, member]} positive rates in member {member} at sample "
             f"{1 + sample}, expected exactly {k}")


def first_difference(values):
    """The first sample at which the members are not all equal."""
    for sample in range(values.shape[0]):
        if any(not np.array_equal(values[sample, 0], values[sample, b])
               for b in range(1, values.shape[1])):
            return sample
    return None


def check_claims(got, u):
    parts = [first_difference(got[name]) for name in ("H1_r", "H2_r", "Out_y")]
    if parts != [2, 3, 4]:
        fail(f"the members part at samples {parts} of H1, H2 and the readout, expected [2, 3, 4]: "
             "the encoder's input of step 0 reaches H1 in step 1, H2 in step 2, the readout in 3")
    # Which symbol each member sees in each segment, from the input file.
    symbol_of = {u[s * HOLD, 0].tobytes(): s for s in range(SYMBOLS)}
    codes = [(symbol_of[u[s * HOLD, b].tobytes()],
              frozenset(np.flatnonzero(got["H2_r"][s * HOLD + HOLD - 1, b])))
             for b in range(BATCH) for s in range(SYMBOLS)]
    same, other = [], []
    for (sa, ca), (sb, cb) in itertools.combinations(codes, 2):
        (same if sa == sb else other).append(len(ca & cb))
    if not np.mean(same) > 2 * np.mean(other):
        fail(f"H2's codes of one symbol share {np.mean(same):.2f} winners on average, of "
             f"different symbols {np.mean(other):.2f}: not more than twice as many")
    print(f"members part at samples {parts} (H1, H2, readout); H2 codes of one symbol share "
          f"{np.mean(same):.2f} of {K2} winners, of different symbols {np.mean(other):.2f}")


STATE_RATE = """  state {
    x = 0
    r = 0            # the rate, a state so that it can be recorded
  }
  update {
    x = (1 - dt / tau) * x + dt / tau * (I + b)
    r = relu(x)
  }"""
OUTPUT_RATE = """  state { x = 0 }
  update { x = (1 - dt / tau) * x + dt / tau * (I + b) }
  output r = relu(x)"""


def check_output_rate(nclc, rt, example, work, precision, r_ref, y_ref):
    """The example with r an output (the k-WTA of an output), stepped
    through the C API, against the reference's every state."""
    source = example.read_text()
    if STATE_RATE not in source:
        fail("examples/sequence.ncl no longer declares r as this check expects")
    data = (example.parent / "data" / "sequence").as_posix()
    source = source.replace(STATE_RATE, OUTPUT_RATE).replace('"data/sequence/', f'"{data}/')
    source = "\n".join(line for line in source.split("\n") if not line.startswith("  record r("))
    variant = work / "sequence_output_rate.ncl"
    variant.write_text(source)
    lib = work / f"sequence_output_rate_{precision}.so"
    subprocess.run([nclc, str(variant), "-o", str(lib), f"--precision={precision}"], check=True)
    m = rt.open(str(lib), seed=1)
    rs, ys = [rt.state(m, "H2", "r", BATCH * N2)], [rt.state(m, "Out", "y", BATCH * NOUT)]
    for _ in range(STEPS):
        rt.run_steps(m, 1)
        rs.append(rt.state(m, "H2", "r", BATCH * N2))
        ys.append(rt.state(m, "Out", "y", BATCH * NOUT))
    rt.close(m)
    rs = np.array(rs).reshape(STEPS + 1, BATCH, N2)
    ys = np.array(ys).reshape(STEPS + 1, BATCH, NOUT)
    err_r = compare("H2's output r (C API)", precision, rs, r_ref)
    err_y = compare("the readout's y (C API)", precision, ys, y_ref)
    if not np.array_equal(rs != 0, r_ref != 0):
        fail("with r an output, H2's winners differ from the reference's")
    print(f"with r an output and its k-WTA, {STEPS + 1} states through the C API within "
          f"{err_r:.1e} and {err_y:.1e} of the reference, the same winners")


def check_reproducible(example, work, precision):
    data, reference = work / "made_data", work / "made_reference"
    subprocess.run([sys.executable, str(HERE / "make_sequence_reference.py"), str(data),
                    str(reference)], check=True, capture_output=True)
    for made in sorted(data.glob("*.npy")):
        committed = example.parent / "data" / "sequence" / made.name
        if np.load(made).tobytes() != np.load(committed).tobytes():
            fail(f"{committed} is not what make_sequence_reference.py makes: run it again")
    for made in sorted(reference.glob(f"sequence_{precision}_*.npy")):
        committed = REFERENCE / made.name
        expect = np.load(committed)
        bound = TOLERANCE[precision] / 10 * np.max(np.abs(expect))
        if np.max(np.abs(np.load(made) - expect)) > bound:
            fail(f"{committed} is not what make_sequence_reference.py makes: run it again")
    print("the committed inputs and reference are what make_sequence_reference.py makes")


def main():
    nclc, ncl_run, libnclrt, example, workdir, precision = sys.argv[1:7]
    example = pathlib.Path(example)
    work = pathlib.Path(workdir) / f"rates_sequence_{precision}"
    work.mkdir(parents=True, exist_ok=True)
    lib = work / f"sequence_{precision}.so"
    subprocess.run([nclc, str(example), "-o", str(lib), f"--precision={precision}"], check=True)
    got = run(ncl_run, lib, work, 1)
    three = run(ncl_run, lib, work, 3)
    for name in got:
        if got[name].tobytes() != three[name].tobytes():
            fail(f"{name}.npy differs between 1 and 3 threads")
    dtype = np.float32 if precision == "f32" else np.float64
    shapes = {"H1_r": (STEPS, BATCH, N1), "H2_r": (STEPS, BATCH, N2), "Out_y": (STEPS, BATCH, NOUT)}
    for name, shape in shapes.items():
        if got[name].shape != shape or got[name].dtype != dtype:
            fail(f"{name}.npy is {got[name].dtype} {got[name].shape}, expected {shape} "
                 f"{np.dtype(dtype)}")

    r_ref = np.load(REFERENCE / f"sequence_{precision}_r.npy")[:STEPS]
    y_ref = np.load(REFERENCE / f"sequence_{precision}_y.npy")[:STEPS]
    err_r = compare("H2's r", precision, got["H2_r"], r_ref)
    err_y = compare("the readout's y", precision, got["Out_y"], y_ref)
    if not np.array_equal(got["H2_r"] != 0, r_ref != 0):
        sample, member = np.argwhere(np.any((got["H2_r"] != 0) != (r_ref != 0), axis=2))[0]
        fail(f"H2's winners differ from the reference's in member {member} at sample {sample}")
    print(f"{precision}: H2's r and the readout of {BATCH} members over {STEPS} steps within "
          f"{err_r:.1e} and {err_y:.1e} of their largest magnitudes of the NumPy reference "
          f"(tolerance {TOLERANCE[precision]:.1e}), H2's winners identical; 1 and 3 threads "
          "write identical files")
    check_counts("H1", got["H1_r"], K1)
    check_counts("H2", got["H2_r"], K2)
    print(f"after step 0, exactly {K1} of H1's and {K2} of H2's rates are positive in every "
          "member and step")
    check_claims(got, np.load(example.parent / "data" / "sequence" / "u.npy"))
    check_output_rate(nclc, Runtime(libnclrt), example, work, precision,
                      np.load(REFERENCE / f"sequence_{precision}_r.npy"),
                      np.load(REFERENCE / f"sequence_{precision}_y.npy"))
    check_reproducible(example, work, precision)


if __name__ == "__main__":
    main()
