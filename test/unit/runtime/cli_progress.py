#!/usr/bin/python3
"""cli_progress.py - ncl-run's progress line, on a terminal only.

Usage: cli_progress.py NCL_RUN FAKE_MODEL_SO WORKDIR

Runs ncl-run on the hand-written fake model under a pseudo-terminal (the
pty module) and through pipes, with NCL_RUN_PROGRESS_DELAY=0 so that even
this short run counts as a long one, and checks docs/runtime.md "ncl-run":
  - on a terminal the progress line appears on stderr (simulated time,
    bio-s/s, ETA), rewritten in place with '\\r' and erased before the
    summary;
  - with --quiet, or with the outputs piped, nothing of it appears;
  - with the default delay of a second, this short run shows none;
  - the run in slices writes the same spikes as the run in one call.
"""
import os
import pty
import subprocess
import sys

ncl_run, model, workdir = sys.argv[1:4]
os.makedirs(workdir, exist_ok=True)
failures = []


def on_terminal(args, env):
    """Runs ncl-run with stdout and stderr on a new pseudo-terminal; returns
    its exit status and everything it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([ncl_run, model] + args, stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode()


env = dict(os.environ, NCL_RUN_PROGRESS_DELAY="0")
tty_out = os.path.join(workdir, "tty")
code, text = on_terminal(["--time", "1s", "--out", tty_out], env)
if code != 0 or "bio-s/s" not in text or "ETA" not in text or "\r" not in text:
    failures.append("no progress line on a terminal (status %d): %r" % (code, text))
elif "\r\033[K" not in text or text.rfind("\r\033[K") > text.find("model    Fake"):
    failures.append("the progress line is not erased before the summary: %r" % text)
if "rate (Hz)" not in text:
    failures.append("no summary on a terminal: %r" % text)

code, text = on_terminal(["--time", "1s", "--quiet"], env)
if code != 0 or text.strip():
    failures.append("--quiet on a terminal printed %r (status %d)" % (text, code))

default_env = {k: v for k, v in os.environ.items() if k != "NCL_RUN_PROGRESS_DELAY"}
code, text = on_terminal(["--time", "10ms"], default_env)
if code != 0 or "bio-s/s" in text:
    failures.append("a 10 ms run showed progress by default (status %d): %r" % (code, text))

pipe_out = os.path.join(workdir, "pipe")
r = subprocess.run([ncl_run, model, "--time", "1s", "--out", pipe_out], env=env,
                   capture_output=True, text=True)
if r.returncode != 0 or "bio-s/s" in r.stdout + r.stderr or "\r" in r.stdout + r.stderr:
    failures.append("progress through a pipe (status %d): %r %r"
                    % (r.returncode, r.stdout, r.stderr))

for name in ("P_spike_t.npy", "P_spike_i.npy"):
    a, b = (open(os.path.join(d, name), "rb").read() for d in (tty_out, pipe_out))
    if a != b:
        failures.append("%s differs between the sliced and the whole run" % name)

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("OK: progress on a terminal only, the same spikes either way")
