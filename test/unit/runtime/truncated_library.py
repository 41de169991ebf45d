#!/usr/bin/python3
"""truncated_library.py - ncl-run refuses every truncation of a real model.

Usage: truncated_library.py NCLC NCL_RUN MODEL.ncl WORKDIR

A model library cut short (a full disk, an interrupted copy) used to crash
the process inside dlopen, which mapped segments past the end of the file.
This compiles MODEL.ncl with nclc and runs ncl-run on copies truncated at
many points (every 29 bytes, and each of the last 64): every one must exit
with status 1 and one line saying the library is truncated (or, below the
ELF magic, not an ELF file), never crash. The whole file must still run.
"""
import os
import re
import shutil
import subprocess
import sys

nclc, ncl_run, model, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
lib = os.path.join(work, "model.so")
subprocess.run([nclc, model, "-o", lib], check=True)
with open(lib, "rb") as f:
    data = f.read()
print("%s: %d bytes" % (lib, len(data)))

cut_path = os.path.join(work, "cut.so")
cuts = sorted(set(range(0, len(data), 29)) | set(range(max(0, len(data) - 64), len(data))))
failures = []
for cut in cuts:
    with open(cut_path, "wb") as f:
        f.write(data[:cut])
    p = subprocess.run([ncl_run, cut_path, "--time", "1ms", "--quiet"], capture_output=True,
                       text=True)
    quoted = re.escape("'%s'" % cut_path)
    truncated = (r"^ncl-run: error: %s is not a usable shared library \(truncated: the file has "
                 r"%d bytes, but .* ends at byte \d+\); rebuild it with nclc\n$" % (quoted, cut))
    not_elf = r"^ncl-run: error: %s is not a usable shared library \(.*not an ELF file\)" % quoted
    ok = p.returncode == 1 and (re.match(truncated, p.stderr) or
                                (cut < 4 and re.match(not_elf, p.stderr)))
    if not ok:
        failures.append((cut, p.returncode, p.stderr))

p = subprocess.run([ncl_run, lib, "--time", "1ms", "--quiet"], capture_output=True, text=True)
if p.returncode != 0:
    failures.append(("whole file", p.returncode, p.stderr))

for cut, rc, err in failures[:20]:
    print("cut at %s: exit status %d, stderr: %r" % (cut, rc, err))
print("%d truncations tried, %d failures" % (len(cuts), len(failures)))
sys.exit(1 if failures else 0)
