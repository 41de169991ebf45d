#!/usr/bin/env python3
"""ncl-run --backend (docs/gpu.md) without a GPU.

usage: cli_backend.py NCL_RUN GPU_MODEL CPU_ONLY_MODEL FAKE_DRIVER NO_DEVICE_DRIVER WORKDIR

GPU_MODEL is fake_model_gpu.so (GPU kernel names, run by the fake driver),
CPU_ONLY_MODEL fake_model.so. Checks that --backend=auto falls back to the
CPU with one line on stderr where the driver has no device or the library no
GPU code, that run.json records the backend and the device, and that the
fake device's output files are those of the CPU, byte for byte.
"""
import json
import os
import shutil
import subprocess
import sys

ncl_run, gpu_model, cpu_model, fake_driver, no_device, work = sys.argv[1:7]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(model, backend, driver, out):
    env = dict(os.environ, NCL_CUDA_DRIVER=driver)
    shutil.rmtree(out, ignore_errors=True)
    p = subprocess.run([ncl_run, model, "--backend=" + backend, "--time", "50ms", "--out", out],
                       env=env, capture_output=True, text=True)
    with open(os.path.join(out, "run.json")) as f:
        meta = json.load(f) if p.returncode == 0 else None
    return p, meta


def files(out):
    return {n: open(os.path.join(out, n), "rb").read() for n in sorted(os.listdir(out))
            if n.endswith(".npy")}


os.makedirs(work, exist_ok=True)

# auto on a machine whose driver has no device: the CPU, saying so once.
p, meta = run(gpu_model, "auto", no_device, os.path.join(work, "auto-nodevice"))
check(p.returncode == 0, "auto without a device runs (exit %d: %s)" % (p.returncode, p.stderr))
lines = p.stderr.splitlines()
check(lines == ["ncl-run: running on the CPU: cannot use the CUDA backend: cuInit failed: "
                "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"],
      "auto without a device says so once: %r" % lines)
check(meta["backend"] == "cpu" and meta["device"] is None, "run.json: cpu, no device")

# auto with a device but a library compiled for the CPU only.
p, meta = run(cpu_model, "auto", fake_driver, os.path.join(work, "auto-cpu-only"))
check(p.returncode == 0, "auto with a CPU-only library runs")
lines = p.stderr.splitlines()
check(len(lines) == 1 and lines[0].startswith("ncl-run: running on the CPU: cannot use the CUDA "
                                              "backend: '") and
      lines[0].endswith("' has no GPU code (it was compiled for the CPU only); recompile it "
                        "with nclc --target=cuda"),
      "auto with a CPU-only library says so once: %r" % lines)
check(meta["backend"] == "cpu", "run.json: cpu")

# auto where the device can run it, against the CPU.
p_gpu, meta = run(gpu_model, "auto", fake_driver, os.path.join(work, "auto-gpu"))
check(p_gpu.returncode == 0 and p_gpu.stderr == "", "auto on the fake device: no message (%r)"
      % p_gpu.stderr)
check(meta["backend"] == "cuda" and meta["device"] == "NCL fake CUDA device",
      "run.json: cuda on the fake device (%r, %r)" % (meta["backend"], meta["device"]))
check(meta["threads"] == 1, "run.json: one host thread")
check("on NCL fake CUDA device" in p_gpu.stdout, "the summary names the device")
check(meta.get("device_image") == "sm_90 cubin" and "device_image_note" not in meta,
      "run.json: the fake's sm_90 runs the library's sm_90 cubin (%r)" % meta.get("device_image"))
# What each kernel holds, as the driver says (the fake: 2 multiprocessors,
# 40 registers for a stage's entry and 24 for the runtime's, and the blocks
# of 256 threads its 64 Ki registers hold).
kernels = meta.get("device_kernels") or []
entries = [k["entry"] for k in kernels]
check(meta.get("device_multiprocessors") == 2 and kernels and
      len(set(entries)) == len(entries) and "ncl_copy_counts_gpu" in entries and
      all(k["registers"] in (24, 40) and k["local_bytes"] == 0 and
          k["blocks_per_multiprocessor"] == 65536 // (k["registers"] * 256) for k in kernels) and
      any(k["registers"] == 40 for k in kernels),
      "run.json: each kernel's registers and blocks per multiprocessor (%r)" % kernels)
p_cpu, meta_cpu = run(gpu_model, "cpu", fake_driver, os.path.join(work, "cpu"))
check(meta_cpu["backend"] == "cpu" and meta_cpu["device"] is None, "run.json: cpu")
check("device_kernels" not in meta_cpu, "run.json: no kernels without a device")
a, b = files(os.path.join(work, "cpu")), files(os.path.join(work, "auto-gpu"))
check(len(a) >= 5 and a == b, "the fake device writes the CPU's files: %s" % sorted(a))
check(meta["populations"] == meta_cpu["populations"], "run.json: the same populations")

# cuda:N: the driver's device N, with the same files.
os.environ["NCL_FAKE_CUDA_DEVICES"] = "2"
p_one, meta = run(gpu_model, "cuda:1", fake_driver, os.path.join(work, "device1"))
del os.environ["NCL_FAKE_CUDA_DEVICES"]
check(p_one.returncode == 0 and meta["backend"] == "cuda" and
      meta["device"] == "NCL fake CUDA device 1",
      "--backend=cuda:1 runs on device 1 (%s)" % (meta and meta["device"]))
check(files(os.path.join(work, "device1")) == a, "device 1 writes the CPU's files")

# A cubin the driver refuses (made by a newer toolkit than the driver
# knows) gives way to the newest PTX not above the device, which the driver
# compiles; run.json says which image ran and why.
os.environ["NCL_FAKE_CUDA_BAD_IMAGE"] = "cubin"
p_ptx, meta = run(gpu_model, "cuda", fake_driver, os.path.join(work, "cubin-refused"))
del os.environ["NCL_FAKE_CUDA_BAD_IMAGE"]
check(p_ptx.returncode == 0 and p_ptx.stderr == "",
      "a refused cubin: the PTX runs, no message (exit %d: %r)" % (p_ptx.returncode, p_ptx.stderr))
check(meta is not None and meta.get("device_image") == "sm_80 PTX" and
      meta.get("device_image_note") ==
      "the sm_90 cubin cannot be loaded (CUDA_ERROR_INVALID_IMAGE (device kernel image is "
      "invalid)); the driver compiled the sm_80 PTX instead",
      "run.json: the sm_80 PTX ran, and why (%r)" %
      ((meta and (meta.get("device_image"), meta.get("device_image_note"))),))
check(files(os.path.join(work, "cubin-refused")) == a, "the PTX writes the CPU's files")

# NCL_CUDA_PROFILE=1: the summary's device table (docs/gpu.md, "Where a
# step's time goes") has run.json's device_profile, entry for entry, and
# the files are the CPU's; without it, no table.
os.environ["NCL_CUDA_PROFILE"] = "1"
p_prof, meta = run(gpu_model, "cuda", fake_driver, os.path.join(work, "profile"))
del os.environ["NCL_CUDA_PROFILE"]
profile = (meta or {}).get("device_profile") or []
lines = p_prof.stdout.splitlines()
at = [i for i, line in enumerate(lines) if line.startswith("device (NCL_CUDA_PROFILE)")]
table = lines[at[0] + 1:at[0] + 1 + len(profile)] if at else []
steps = (meta or {}).get("steps", 0)
check(p_prof.returncode == 0 and len(profile) > 0 and len(table) == len(profile) and all(
      row.startswith(e["what"]) and row.split()[-3] == str(e["commands"]) and
      abs(float(row.split()[-2]) - 1e6 * e["device_s"] / steps) <= 1e-3 + 1e-3 * float(
          row.split()[-2])
      for row, e in zip(table, profile)),
      "the summary's device table is run.json's device_profile:\n%s\n%s"
      % ("\n".join(table), profile))
check(files(os.path.join(work, "profile")) == a, "a profiled run writes the CPU's files")
check(not any(line.startswith("device (NCL_CUDA_PROFILE)") for line in p_gpu.stdout.splitlines()),
      "without NCL_CUDA_PROFILE, no device table")

if failures:
    sys.exit("%d check(s) failed" % len(failures))
