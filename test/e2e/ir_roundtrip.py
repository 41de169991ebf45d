#!/usr/bin/env python3
"""The IR describes the model: a library built from nclc's printed IR runs
like the one built from the .ncl file.

    ir_roundtrip.py NCLC NCL_RUN LIBNCLRT WORK MODEL.ncl...

For every model, at f64 and f32, `nclc --emit=mlir` and `nclc --emit=mlir-loops`
print the IR; `nclc IR.mlir -o B.so` compiles it; B.so and the library built
from the .ncl file must record byte-identical .npy files (spikes and events)
in a run, and end it with bit-identical state, read through the C API. The descriptor is computed from the IR alone, so
nothing the front end knows may be missing from it.
"""
import ctypes
import filecmp
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nclrt import Runtime  # noqa: E402


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(map(str, cmd))}\n{result.stderr}")
    return result.stdout


def final_state(rt, library, variables, seconds=0.05):
    """Every variable of every population after `seconds`, as raw bytes."""
    m = rt.open(str(library), seed=7)
    rt.run(m, seconds)
    state = {}
    for pop, names in variables.items():
        # Every batch member's neurons (examples/sequence.ncl has 4 members).
        n = rt.rt.ncl_population_size(m, pop.encode()) * rt.batch(m)
        for var in names:
            state[(pop, var)] = rt.state(m, pop, var, n).tobytes()
    rt.close(m)
    return state


def variables(ir_text):
    """Population -> its per-neuron variables, as the IR lists them."""
    found = {}
    for pop, attrs in re.findall(r'ncl\.population @(\w+) \{(.*?)\} init', ir_text):
        found[pop] = re.findall(r'#ncl\.var<name = "(\w+)"', attrs)
    return found


def main():
    nclc, ncl_run, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[4]) / "ir-roundtrip"
    rt = Runtime(sys.argv[3])
    rt.rt.ncl_population_size.restype = ctypes.c_int64
    rt.rt.ncl_population_size.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    models = [pathlib.Path(m) for m in sys.argv[5:]]
    work.mkdir(parents=True, exist_ok=True)
    compared = 0
    for model in models:
        for precision in ("f64", "f32"):
            tag = f"{model.stem}-{precision}"
            reference = work / f"{tag}.so"
            run([nclc, str(model), f"--precision={precision}", "-o", str(reference)])
            run([ncl_run, str(reference), "--out", str(work / f"{tag}-ncl"), "--quiet"])
            expected = sorted(p.name for p in (work / f"{tag}-ncl").glob("*.npy"))
            if not expected:
                sys.exit(f"{tag}: the reference run recorded nothing")
            names = variables(run([nclc, str(model), f"--precision={precision}", "--emit=mlir"]))
            if not any(names.values()):
                sys.exit(f"{tag}: no variables found in the IR")
            reference_state = final_state(rt, reference, names)
            for stage in ("mlir", "mlir-loops"):
                ir = work / f"{tag}.{stage}.mlir"
                ir.write_text(run([nclc, str(model), f"--precision={precision}", f"--emit={stage}"]))
                library = work / f"{tag}.{stage}.so"
                run([nclc, str(ir), "-o", str(library)])
                out = work / f"{tag}-{stage}"
                run([ncl_run, str(library), "--out", str(out), "--quiet"])
                got = sorted(p.name for p in out.glob("*.npy"))
                if got != expected:
                    sys.exit(f"{tag} from --emit={stage}: records {got}, the .ncl's library {expected}")
                for name in expected:
                    if not filecmp.cmp(work / f"{tag}-ncl" / name, out / name, shallow=False):
                        sys.exit(f"{tag} from --emit={stage}: {name} differs from the .ncl's run")
                    compared += 1
                state = final_state(rt, library, names)
                for key, value in reference_state.items():
                    if state[key] != value:
                        sys.exit(f"{tag} from --emit={stage}: the final {key[0]}.{key[1]} differs")
                    compared += 1
    print(f"{compared} recorded files and final states identical from the IR and from the .ncl source")


if __name__ == "__main__":
    main()
