#!/usr/bin/env python3
"""The dependency check must fail where a test needs more than the default
install. This writes a small source tree into WORK_DIR (written here, not
committed, so that the project's own checks never mistake it for a test):
an install script whose default list is python3 alone and whose bench list
is python3-numpy; a lit configuration importing numpy and a module nobody
has; a lit test calling a program that does not exist and FileCheck, which
python3 does not bring. It runs the check on that tree and expects each
problem named with its file and line.

Usage: check_detects.py CHECKER WORK_DIR"""
import os
import shutil
import subprocess
import sys

checker, work = sys.argv[1:3]
shutil.rmtree(work, ignore_errors=True)
tree, build = os.path.join(work, "src"), os.path.join(work, "build")  # build: no ctest files
os.makedirs(os.path.join(tree, "scripts"))
os.makedirs(os.path.join(tree, "test", "lit"))
os.makedirs(build)
FILES = {
    "scripts/install-deps.sh": '[ "$2" = default ] && echo python3\n[ "$2" = bench ] && echo python3-numpy\nexit 0\n',
    "test/lit/lit.cfg.py": "import numpy\nimport surely_not_an_installed_module\n",
    "test/lit/uses-missing-tool.ncl": "# " + "RUN" + ": frobnicate-22 %s | FileCheck %s\n",
}
for name, text in FILES.items():
    with open(os.path.join(tree, name), "w") as f:
        f.write(text)

p = subprocess.run([sys.executable, checker, tree, build, "ctest"], capture_output=True, text=True)
print(p.stdout, p.stderr)
expected = [
    "test/lit/lit.cfg.py:1: module 'numpy' comes from python3-numpy, which the default install "
    "(scripts/install-deps.sh) does not provide (it is in the bench list, installed only by `make bench`)",
    "test/lit/lit.cfg.py:2: imports 'surely_not_an_installed_module', which is not installed",
    "test/lit/uses-missing-tool.ncl:1: executable 'frobnicate-22' is not installed",
    "test/lit/uses-missing-tool.ncl:1: executable 'FileCheck' comes from llvm-22-tools, which the "
    "default install (scripts/install-deps.sh) does not provide",
]
missing = [e for e in expected if e not in p.stdout]
if p.returncode != 1 or missing:
    print("FAIL: exit %d; not reported: %s" % (p.returncode, missing))
    sys.exit(1)
print("OK: the check names every problem")
