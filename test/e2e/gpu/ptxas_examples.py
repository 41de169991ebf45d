#!/usr/bin/env python3
"""Every example's GPU kernels (nclc --target=cuda --emit=ptx), assembled by
the CUDA toolkit's ptxas for each default architecture (docs/gpu.md).
ptxas is $NCL_CUDA_PATH/bin/ptxas, else /usr/local/cuda/bin/ptxas; where it
is absent the test is skipped (exit 77), saying so. An example the GPU
target refuses (a stage it cannot run, nclc's error names it) is listed
as skipped with nclc's reason; any other failure fails the test.

usage: ptxas_examples.py [--expect-skip] NCLC WORKDIR EXAMPLE...
  --expect-skip: the toolkit must be absent; exit 0 after saying so (checks
  the skip path with NCL_CUDA_PATH pointing nowhere)
"""
import os
import subprocess
import sys

ARCHS = ["sm_80", "sm_90"]


def main():
    args = sys.argv[1:]
    expect_skip = args and args[0] == "--expect-skip"
    if expect_skip:
        args = args[1:]
    nclc, work = args[:2]
    examples = args[2:]
    toolkit = os.environ.get("NCL_CUDA_PATH", "/usr/local/cuda")
    ptxas = os.path.join(toolkit, "bin", "ptxas")
    if not os.access(ptxas, os.X_OK):
        print(f"SKIP: no CUDA ptxas at {ptxas} (install the CUDA toolkit or set "
              f"NCL_CUDA_PATH): the PTX of {len(examples)} examples was not assembled")
        return 0 if expect_skip else 77
    if expect_skip:
        sys.exit(f"FAIL: expected no ptxas, found {ptxas}")
    os.makedirs(work, exist_ok=True)
    assembled, refused = [], []
    for example in examples:
        name = os.path.splitext(os.path.basename(example))[0]
        for arch in ARCHS:
            result = subprocess.run([nclc, example, "--target=cuda", "--emit=ptx",
                                     f"--gpu-arch={arch}"], capture_output=True, text=True)
            if result.returncode != 0:
                if "the GPU target cannot run stage" in result.stderr:
                    refused.append((name, result.stderr.strip().splitlines()[0]))
                    break
                sys.exit(f"FAIL: nclc --target=cuda {example} ({arch}):\n{result.stderr}")
            ptx = os.path.join(work, f"ptxas_{name}_{arch}.ptx")
            with open(ptx, "w") as f:
                f.write(result.stdout)
            check = subprocess.run([ptxas, f"-arch={arch}", "-o", os.devnull, ptx],
                                   capture_output=True, text=True)
            if check.returncode != 0:
                sys.exit(f"FAIL: ptxas -arch={arch} rejects the PTX of {example}:\n"
                         f"{check.stderr}")
        else:
            assembled.append(name)
    print(f"assembled by {ptxas} for {', '.join(ARCHS)}: {len(assembled)} examples: "
          + ", ".join(assembled))
    for name, reason in refused:
        print(f"skipped {name}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
