#!/usr/bin/env python3
"""Compares every example's recorded results between two builds of NCL.

    scripts/compare_example_results.py OLD NEW

OLD and NEW are build (or install) directories, each with bin/nclc,
bin/ncl-run and lib/libnclrt.so. Every examples/*.ncl is compiled and run by
both, at f64 and f32, and every .npy file the runs write must be
byte-identical. Used when the compiler's middle changes but its results
must not (issue 11); exits non-zero naming the first differing file.
"""
import filecmp
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(build, model, precision, out):
    build = pathlib.Path(build).resolve()
    env = dict(os.environ, LD_LIBRARY_PATH=str(build / "lib"))
    out.mkdir(parents=True)
    lib = out / "model.so"
    subprocess.run([str(build / "bin" / "nclc"), str(model), f"--precision={precision}",
                    "-o", str(lib)], check=True, env=env)
    subprocess.run([str(build / "bin" / "ncl-run"), str(lib), "--out", str(out / "results")],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return out / "results"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = sys.argv[1:]
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for model in sorted((ROOT / "examples").glob("*.ncl")):
            for precision in ("f64", "f32"):
                tag = f"{model.stem}-{precision}"
                a = run(old, model, precision, pathlib.Path(tmp) / f"old-{tag}")
                b = run(new, model, precision, pathlib.Path(tmp) / f"new-{tag}")
                names = sorted(p.name for p in a.glob("*.npy"))
                if names != sorted(p.name for p in b.glob("*.npy")):
                    sys.exit(f"{tag}: the builds record different files")
                for name in names:
                    if not filecmp.cmp(a / name, b / name, shallow=False):
                        sys.exit(f"{tag}: {name} differs")
                    compared += 1
    print(f"{compared} recorded files identical")


if __name__ == "__main__":
    main()
