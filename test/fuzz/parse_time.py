#!/usr/bin/env python3
"""fuzz/parse-time: inputs that once took quadratic time or unbounded memory
in the front end must be answered at once.

Each input is generated here (most are too large to commit) and checked
with `nclc --check`: the exit status, a fragment of the message, and the
CPU time nclc used, which must stay under a generous bound (2 s; each takes
well under 0.5 s now). CPU time rather than wall time, so a loaded machine
does not fail the test; a quadratic parse of these sizes took 6 to 17 s.
Usage: parse_time.py NCLC WORKDIR [BOUND_SECONDS]  (larger for sanitised builds)
"""
import os
import resource
import subprocess
import sys

nclc, workdir = sys.argv[1:3]
os.makedirs(workdir, exist_ok=True)
BOUND_S = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
failures = []


def block(body):
    return "neuron N {\n  parameters { a = %s }\n}\n" % body


# name -> (text or a path to read, expected exit status, message fragment)
cases = {
    "newlines-32000": ("\n" * 32000, 0, ""),
    "semicolons-32000": (";" * 32000, 0, ""),
    "separators-in-a-block": ("neuron N {" + "\n" * 32000 + "parameters { a = 1 }" +
                              " ;\n" * 16000 + "}\n", 0, ""),
    "unclosed-parens-10000": (block("(" * 10000), 1, "parentheses nested too deeply"),
    "chained-conditional-8000": (block("1 > 0 ? 1 : " * 8000 + "1"), 1,
                                 "expression nested too deeply"),
    "nested-parens-1000000": (block("(" * 1000000 + "1" + ")" * 1000000), 1,
                              "parentheses nested too deeply"),
    "unary-minus-100000": (block("-" * 100000 + "1"), 1, "expression nested too deeply"),
    "power-chain-100000": (block("2 ** " * 100000 + "1"), 1, "expression nested too deeply"),
    "valid-neurons-over-4MiB": ("".join(
        "neuron N%d {\n  parameters { tau = 10 ms }\n  state { v = 0 }\n"
        "  dynamics { v' = -v / tau }\n}\n" % i for i in range(50000)), 1,
        "is larger than 4 MiB"),
    "dev-zero": ("/dev/zero", 1, "is larger than 4 MiB"),
}


def run(name, path, status, fragment, feeder=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([nclc, "--check", path], capture_output=True, text=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if feeder:
        feeder.kill()
        feeder.wait()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    first = result.stderr.splitlines()[0] if result.stderr else ""
    if result.returncode != status or fragment not in result.stderr:
        failures.append("%s: exit %d, %r; expected exit %d and %r"
                        % (name, result.returncode, first[:200], status, fragment))
    if cpu > BOUND_S:
        failures.append("%s: %.2f s of CPU time (bound %g s)" % (name, cpu, BOUND_S))
    print("%-26s %5.2f s  %s" % (name, cpu, first[:100]))


for name, (text, status, fragment) in cases.items():
    path = text if text.startswith("/dev/") else os.path.join(workdir, name + ".ncl")
    if path != text:
        with open(path, "w") as f:
            f.write(text)
    run(name, path, status, fragment)

# A pipe that never ends: nclc must stop reading at the limit.
fifo = os.path.join(workdir, "endless.fifo")
if os.path.exists(fifo):
    os.remove(fifo)
os.mkfifo(fifo)
feeder = subprocess.Popen(["sh", "-c", 'exec yes "neuron N { }" > "$0"', fifo],
                          stderr=subprocess.DEVNULL)
run("endless-pipe", fifo, 1, "is larger than 4 MiB", feeder)

if failures:
    print("\n".join(failures))
    sys.exit(1)
