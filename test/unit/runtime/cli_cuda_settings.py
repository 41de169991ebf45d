#!/usr/bin/env python3
"""Every environment setting the CUDA backend reads (getenv("NCL_CUDA_...") in
runtime/lib) is named by `ncl-run --help` and in docs/gpu.md, so that a new
one cannot go unlisted; test hooks are named in docs/gpu.md only.

usage: cli_cuda_settings.py NCL_RUN SOURCE_DIR
"""
import os
import re
import subprocess
import sys

ncl_run, root = sys.argv[1:3]
# Settings for NCL's own tests, documented as such in docs/gpu.md.
TEST_HOOKS = {"NCL_CUDA_MONITOR_BLOCK_BYTES"}

read = set()
lib = os.path.join(root, "runtime", "lib")
for name in sorted(os.listdir(lib)):
    if name.endswith((".cpp", ".h")):
        with open(os.path.join(lib, name), encoding="utf-8") as f:
            read |= set(re.findall(r'getenv\("(NCL_CUDA_[A-Z0-9_]+)"\)', f.read()))
help_text = subprocess.run([ncl_run, "--help"], capture_output=True, text=True).stdout
with open(os.path.join(root, "docs", "gpu.md"), encoding="utf-8") as f:
    docs = f.read()

failures = []
if len(read) < 5:
    failures.append("found only %s read in runtime/lib" % sorted(read))
for name in sorted(read):
    if name not in TEST_HOOKS and not re.search(r"(?m)^\s+%s=" % name, help_text):
        failures.append("%s is read by the runtime but not in ncl-run --help" % name)
    if name not in docs:
        failures.append("%s is read by the runtime but not in docs/gpu.md" % name)
for name in sorted(set(re.findall(r"NCL_CUDA_[A-Z0-9_]+", help_text)) - read):
    failures.append("ncl-run --help names %s, which the runtime does not read" % name)
for line in failures:
    print("FAIL " + line)
print("%d settings read, %d problems" % (len(read), len(failures)))
sys.exit(1 if failures else 0)
