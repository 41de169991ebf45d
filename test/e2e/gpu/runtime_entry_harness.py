"""What the tests of the GPU images' runtime entries share (spike_list_kernel.py,
copy_counts_kernel.py, gather_spikes_kernel.py): their checks, a library
compiled by nclc, a grid run a thread at a time through an entry's code
compiled for the host (nclc --gpu-emulation; `ncl_gpu_emulated_thread` holds
threadIdx.x, blockIdx.x, blockDim.x, gridDim.x), what a call writes on
stderr, and an entry opened through the fake CUDA driver.
Standard library only (ctypes).
"""
import ctypes
import os
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def finish():
    if failures:
        sys.exit("FAIL: %d cases" % len(failures))


def compile_library(nclc, model, so, *flags):
    p = subprocess.run([nclc, model, "--target=cuda", *flags, "-o", so],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("FAIL: nclc: " + p.stderr)
    return ctypes.CDLL(so)


def run_grid(call, thread, blocks, block, increasing):
    """call() once per thread of a grid of `blocks` blocks of `block`
    threads, in increasing or decreasing thread order, each after `thread`
    (the library's ncl_gpu_emulated_thread) holds its place."""
    order = range(blocks * block)
    for g in (order if increasing else reversed(order)):
        thread[0], thread[1], thread[2], thread[3] = g % block, g // block, block, blocks
        call()


def stderr_of(call):
    """call()'s result and what it wrote on the process's stderr."""
    sys.stderr.flush()
    with tempfile.TemporaryFile() as caught:
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            result = call()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        return result, caught.read().decode()


def open_entry(driver, lib, entry_name, name, work):
    """The fake driver's entry `entry_name` in the module of library `lib`
    (its log in `work`, NCL_FAKE_CUDA_LOG): checks that
    NCL_FAKE_CUDA_MISSING hides it and that it is found. Returns the
    function and the log's path."""
    log = os.path.join(work, "fake_cuda_%s.log" % name)
    if os.path.exists(log):
        os.remove(log)
    os.environ["NCL_FAKE_CUDA_LOG"] = log
    vp = ctypes.c_void_p
    check(driver.cuInit(0) == 0, "%s: cuInit" % name)
    module = vp()
    # The fake driver finds the model library from any address inside it.
    image = ctypes.cast(getattr(lib, "ncl_model"), vp)
    check(driver.cuModuleLoadDataEx(ctypes.byref(module), image, 0, None, None) == 0,
          "%s: cuModuleLoadDataEx" % name)
    entry = vp()
    os.environ["NCL_FAKE_CUDA_MISSING"] = entry_name
    check(driver.cuModuleGetFunction(ctypes.byref(entry), module, entry_name.encode()) == 500,
          "%s: NCL_FAKE_CUDA_MISSING=%s hides the entry (CUDA_ERROR_NOT_FOUND)"
          % (name, entry_name))
    del os.environ["NCL_FAKE_CUDA_MISSING"]
    check(driver.cuModuleGetFunction(ctypes.byref(entry), module, entry_name.encode()) == 0,
          "%s: cuModuleGetFunction finds the entry" % name)
    return entry, log


def check_log(log, want, name):
    """The fake driver logged `want` first (NCL_FAKE_CUDA_LOG, unset after)."""
    with open(log) as f:
        logged = f.read().split("\n")
    check(logged[:1] == [want], "%s: NCL_FAKE_CUDA_LOG says %r (expected %r)"
          % (name, logged[:1], want))
    del os.environ["NCL_FAKE_CUDA_LOG"]


def emulated_entry(nclc, model, so, entry_name, args_type):
    """The library nclc --gpu-emulation makes of `model` at `so`, and its
    thread place, with the entry's one parameter a pointer to `args_type`."""
    lib = compile_library(nclc, model, so, "--gpu-emulation")
    thread = (ctypes.c_int32 * 4).in_dll(lib, "ncl_gpu_emulated_thread")
    entry = getattr(lib, entry_name)
    entry.argtypes = [ctypes.POINTER(args_type)]
    entry.restype = None
    return lib, thread


def load_fake_driver(fake_cuda):
    """The fake CUDA driver, with the argument types of the calls the tests
    make."""
    driver = ctypes.CDLL(fake_cuda)
    vp = ctypes.c_void_p
    driver.cuModuleLoadDataEx.argtypes = [vp, vp, ctypes.c_uint, vp, vp]
    driver.cuModuleGetFunction.argtypes = [vp, vp, ctypes.c_char_p]
    driver.cuLaunchKernel.argtypes = [vp] + [ctypes.c_uint] * 7 + [vp, vp, vp]
    driver.cuStreamCreate.argtypes = [vp, ctypes.c_uint]
    driver.cuStreamSynchronize.argtypes = [vp]
    return driver
