#!/usr/bin/env python3
"""The dependency check must fail where a test needs more than the default
install: run it on test/deps/fixture (a default install of python3 alone; a
lit configuration importing numpy, which only the fixture's bench list
installs, and a module nobody has; a RUN line calling a program that does
not exist and FileCheck, which python3 does not bring) and expect each
problem named with its file.

Usage: check_detects.py CHECKER FIXTURE_DIR WORK_DIR"""
import os
import subprocess
import sys

checker, fixture, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)  # a build directory without ctest files
p = subprocess.run([sys.executable, checker, fixture, work, "ctest"], capture_output=True, text=True)
print(p.stdout, p.stderr)
expected = [
    "test/lit/lit.cfg.py:3: module 'numpy' comes from python3-numpy, which the default install "
    "(scripts/packages/default.txt) does not provide (it is in bench.txt, installed only by `make bench`)",
    "test/lit/lit.cfg.py:4: imports 'surely_not_an_installed_module', which is not installed",
    "test/lit/uses-missing-tool.ncl:2: executable 'frobnicate-22' is not installed",
    "test/lit/uses-missing-tool.ncl:2: executable 'FileCheck' comes from llvm-22-tools, which the "
    "default install (scripts/packages/default.txt) does not provide",
]
missing = [e for e in expected if e not in p.stdout]
if p.returncode != 1 or missing:
    print("FAIL: exit %d; not reported: %s" % (p.returncode, missing))
    sys.exit(1)
print("OK: the check names every problem")
