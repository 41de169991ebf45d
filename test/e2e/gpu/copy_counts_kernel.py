#!/usr/bin/env python3
"""The GPU images' count-copy entry (NCL_GPU_COPY_COUNTS_ENTRY, model_abi.h)
against its contract, through the same code compiled for the host
(nclc --gpu-emulation): the entry is called once per thread of a grid, in
decreasing and then in increasing thread order, on hand-made copies between
places of one int64 array, and the whole array afterwards is compared with
what the contract says: place copies[g].to holds the value of place
copies[g].from for every g < count, every other place its old value.

Cases: several copies over several blocks, full 64-bit values (negative,
beyond 2^32), one source into several destinations, sources and
destinations interleaved in memory and in a permuted order, a grid wider
than count over a copy array that holds more copies (threads past count
must not make them), count 0 and a negative count (with a null copy array
for count 0: the kernel reads only `count`).

Then the fake CUDA driver (test/unit/runtime/fixtures/fake_cuda.c) with
this library, whose entry it runs a thread at a time, and with a library
without --gpu-emulation, for which it computes the contract itself: both
copy as the contract says, log "copy_counts emulated" and "copy_counts"
(NCL_FAKE_CUDA_LOG), read the arguments when the launch runs on its stream
(not at the call), refuse a grid that does not cover `count` and copies
whose result would depend on the threads' order, each with its line on
stderr, and NCL_FAKE_CUDA_MISSING=ncl_copy_counts_gpu hides the entry.

usage: copy_counts_kernel.py NCLC MODEL.ncl FAKE_CUDA.so WORKDIR
Standard library only (ctypes).
"""
import ctypes
import os
import random
import sys

from runtime_entry_harness import (check, check_log, compile_library, emulated_entry, finish,
                                   load_fake_driver, open_entry, run_grid, stderr_of)



class CountCopy(ctypes.Structure):
    _fields_ = [("from_", ctypes.POINTER(ctypes.c_int64)),
                ("to", ctypes.POINTER(ctypes.c_int64))]


class Args(ctypes.Structure):
    _fields_ = [("count", ctypes.c_int64),
                ("copies", ctypes.POINTER(CountCopy))]


def run_kernel(lib, thread, values, pairs, count, threads, block, increasing, null_copies=False):
    """Calls the entry on every thread of a grid covering `threads`, with
    the copies `pairs` (place from, place to) between places of an int64
    array holding `values`; returns the array afterwards."""
    memory = (ctypes.c_int64 * len(values))(*values)
    base = ctypes.addressof(memory)
    place = lambda k: ctypes.cast(base + 8 * k, ctypes.POINTER(ctypes.c_int64))
    copies = (CountCopy * max(len(pairs), 1))(*[CountCopy(place(f), place(t)) for f, t in pairs])
    args = Args(count, None if null_copies else copies)
    blocks = max((threads + block - 1) // block, 1)
    run_grid(lambda: lib.ncl_copy_counts_gpu(ctypes.byref(args)), thread, blocks, block,
             increasing)
    return list(memory)




def fake_driver(driver, lib, emulated, work):
    """The fake driver's NCL_GPU_COPY_COUNTS_ENTRY with the library `lib`."""
    name = "emulated" if emulated else "native"
    entry, log = open_entry(driver, lib, "ncl_copy_counts_gpu", name, work)
    vp = ctypes.c_void_p

    values = list(range(100, 110)) + [-1] * 10
    memory = (ctypes.c_int64 * 20)(*values)
    base = ctypes.addressof(memory)
    place = lambda k: ctypes.cast(base + 8 * k, ctypes.POINTER(ctypes.c_int64))
    copies = (CountCopy * 10)(*[CountCopy(place(k), place(19 - k)) for k in range(10)])
    args = Args(10, copies)
    device_args = ctypes.c_uint64(ctypes.addressof(args))
    params = (vp * 1)(ctypes.addressof(device_args))

    def launch(grid, block, stream=None):
        return driver.cuLaunchKernel(entry, grid, 1, 1, block, 1, 1, 0, stream, params, None)

    def reset():
        for k in range(20):
            memory[k] = values[k]

    # On a stream: the arguments are read when the launch runs.
    stream = vp()
    check(driver.cuStreamCreate(ctypes.byref(stream), 1) == 0, "%s: cuStreamCreate" % name)
    args.count = 2
    check(launch(1, 4, stream) == 0, "%s: a launch on a stream" % name)
    check(list(memory) == values, "%s: nothing copied before the wait" % name)
    args.count = 4  # what the launch reads when it runs
    check(driver.cuStreamSynchronize(stream) == 0, "%s: cuStreamSynchronize" % name)
    want = values[:16] + [103, 102, 101, 100]
    check(list(memory) == want, "%s: after the wait, the 4 copies the arguments held then: %s"
          % (name, list(memory)))
    reset()
    args.count = 10
    check(launch(3, 4) == 0, "%s: 10 copies on a grid of 3 blocks of 4" % name)
    want = values[:10] + values[9::-1]
    check(list(memory) == want, "%s: 10 copies: %s" % (name, list(memory)))
    reset()
    args.count = 0
    check(launch(1, 1) == 0 and list(memory) == values, "%s: count 0 copies nothing" % name)
    args.count = 10
    r, err = stderr_of(lambda: launch(1, 8))
    check(r == 1 and "the grid does not cover the copies" in err and list(memory) == values,
          "%s: a grid of 8 threads for 10 copies is refused: %d, %r" % (name, r, err.strip()))
    copies[3].to = place(12)  # copy 7's destination
    r, err = stderr_of(lambda: launch(1, 16))
    check(r == 1 and "copy 3 writes the destination of copy 7" in err,
          "%s: two copies to one place are refused: %d, %r" % (name, r, err.strip()))
    copies[3].to = place(5)  # copy 5's source
    r, err = stderr_of(lambda: launch(1, 16))
    check(r == 1 and "copy 3 writes the source of copy 5" in err,
          "%s: a copy onto another's source is refused: %d, %r" % (name, r, err.strip()))
    check(list(memory) == values, "%s: a refused launch copies nothing" % name)
    check_log(log, "copy_counts emulated" if emulated else "copy_counts", name)


def main():
    nclc, model, fake_cuda, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    lib, thread = emulated_entry(nclc, model, os.path.join(work, "copy_counts_kernel.so"), "ncl_copy_counts_gpu",
                                 Args)

    def expect(name, values, pairs, count=None, threads=None, block=4, null_copies=False):
        count = len(pairs) if count is None else count
        threads = max(count, 1) if threads is None else threads
        want = list(values)
        for f, t in pairs[:max(count, 0)]:
            want[t] = values[f]
        for increasing in (False, True):
            got = run_kernel(lib, thread, values, pairs, count, threads, block, increasing,
                             null_copies)
            wrong = [k for k in range(len(values)) if got[k] != want[k]]
            check(not wrong, "%s, threads %s: %s" % (
                name, "increasing" if increasing else "decreasing",
                "as the contract says" if not wrong else "places %s hold %s, expected %s" % (
                    wrong[:8], [got[k] for k in wrong[:8]], [want[k] for k in wrong[:8]])))

    rng = random.Random(11)
    # Sources 0..9, destinations 10..19, values unlike the destinations' own.
    values = [rng.randrange(-2**62, 2**62) for _ in range(10)] + [-1] * 10
    expect("10 copies over 3 blocks of 4", values, [(k, 10 + k) for k in range(10)])
    expect("10 copies in a permuted order", values,
           list(zip(range(10), rng.sample(range(10, 20), 10))))
    expect("one source into several destinations", values,
           [(3, 12), (3, 17), (5, 11), (3, 10)])
    # Source 2k, destination 2k+1 (and the reverse pairing): each copy
    # writes eight bytes between places that must keep their values.
    interleaved = [rng.randrange(-2**40, 2**40) for _ in range(40)]
    expect("sources and destinations interleaved", interleaved,
           [(2 * k, 2 * k + 1) for k in range(20)])
    expect("interleaved, permuted, each destination beside another copy's source",
           interleaved, list(zip(range(1, 40, 2), rng.sample(range(0, 40, 2), 20))))
    # The array holds 10 copies; count says 3.
    expect("a grid of 1000 threads for 3 of 10 copies", values,
           [(k, 10 + k) for k in range(10)], count=3, threads=1000, block=256)
    expect("count 0, a grid of 256, no copy array", values, [], count=0, threads=256,
           block=256, null_copies=True)
    expect("count 0 over a copy array", values, [(k, 10 + k) for k in range(10)], count=0,
           threads=16)
    # A grid of as many threads as copies: a comparison as unsigned would
    # make them all, and show as wrong places, not a crash.
    expect("a negative count", values, [(k, 10 + k) for k in range(10)], count=-3,
           threads=10, block=10)

    driver = load_fake_driver(fake_cuda)
    fake_driver(driver, lib, True, work)
    plain = compile_library(nclc, model, os.path.join(work, "copy_counts_plain.so"))
    fake_driver(driver, plain, False, work)
    finish()


if __name__ == "__main__":
    main()
