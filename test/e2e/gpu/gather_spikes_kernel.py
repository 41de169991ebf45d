#!/usr/bin/env python3
"""The GPU images' spike-gather entry (NCL_GPU_GATHER_SPIKES_ENTRY,
model_abi.h) against its contract, through the same code compiled for the
host (nclc --gpu-emulation): phase 0 and then phase 1 are each called once
per thread of their grid, in decreasing and then in increasing thread order,
on hand-made regions of step/index/channel arrays, and the starts and the
packed arrays afterwards are compared with what the contract says, computed
here on its own: n_j = min(max(count_j, 0), capacity_j), starts[j] the sum of
the n before j, starts[launches] the total, the regions' first n_j entries one
after the other in the order of `from`, only places below `room` written,
every other place (past the run, past `room`, past launches + 1 starts, the
channel copy when there is no channel array) its old value.

Cases: regions whose counts are below, at and above their capacity and
negative, in another order than their offsets, with unwritten entries
between them (which must not be copied); channel array and none (null, and
to_channel then null too: neither is touched); room below the total (cutting
a region), room 0; zero launches (no region array: starts[0] = 0 and nothing
else); many regions (phase 0 sums over all before it); grids wider than the
work in both phases, and phase-1 blocks narrower and wider than a region;
an unknown phase and negative launches write nothing.

Then the fake CUDA driver (test/unit/runtime/fixtures/fake_cuda.c) with
this library, whose entry it runs a thread at a time, and with a library
without --gpu-emulation, for which it computes the contract itself: both
gather as the contract says, log "gather_spikes emulated" and
"gather_spikes" (NCL_FAKE_CUDA_LOG), read the arguments when the launches
run on their stream (not at the call), refuse a phase-0 grid short of
launches + 1 threads, a phase-1 grid short of `launches` blocks, another
phase, and a phase 1 whose starts are not phase 0's, each with its line on
stderr and nothing written, and NCL_FAKE_CUDA_MISSING=ncl_gather_spikes_gpu
hides the entry.

usage: gather_spikes_kernel.py NCLC MODEL.ncl FAKE_CUDA.so WORKDIR
Standard library only (ctypes).
"""
import ctypes
import os
import random
import sys

from runtime_entry_harness import (check, check_log, compile_library, emulated_entry, finish,
                                   load_fake_driver, open_entry, run_grid, stderr_of)


I64 = ctypes.c_int64
I32 = ctypes.c_int32
P64 = ctypes.POINTER(I64)
P32 = ctypes.POINTER(I32)
UNWRITTEN_STEP, UNWRITTEN_INDEX, UNWRITTEN_CHANNEL = -7001, -7002, -73


class Region(ctypes.Structure):
    _fields_ = [("count", P64), ("offset", I64), ("capacity", I64)]


class Args(ctypes.Structure):
    _fields_ = [("phase", I64), ("launches", I64), ("from_", ctypes.POINTER(Region)),
                ("step", P64), ("index", P64), ("channel", P32), ("starts", P64),
                ("to_step", P64), ("to_index", P64), ("to_channel", P32), ("room", I64)]


class Case:
    """Source arrays of `size` entries, regions (count, offset, capacity),
    destination arrays of `out` places, `starts_size` starts; everything
    kept alive here, the pointers in `args`."""

    def __init__(self, rng, regions, size, out, room, channel=True, starts_size=None,
                 launches=None, null_regions=False):
        self.regions = regions
        self.step = (I64 * size)(*[rng.randrange(-2**62, 2**62) for _ in range(size)])
        self.index = (I64 * size)(*[rng.randrange(0, 2**40) for _ in range(size)])
        self.channel = (I32 * size)(*[rng.randrange(0, 2**31) for _ in range(size)]) \
            if channel else None
        self.counts = (I64 * max(len(regions), 1))(*[c for c, _, _ in regions])
        base = ctypes.addressof(self.counts)
        self.from_ = (Region * max(len(regions), 1))(*[
            Region(ctypes.cast(base + 8 * j, P64), offset, capacity)
            for j, (_, offset, capacity) in enumerate(regions)])
        self.launches = len(regions) if launches is None else launches
        self.starts = (I64 * (starts_size or len(regions) + 1))()
        self.to_step = (I64 * out)()
        self.to_index = (I64 * out)()
        self.to_channel = (I32 * out)()
        self.reset()
        self.args = Args(0, self.launches, None if null_regions else self.from_,
                         self.step, self.index, self.channel, self.starts,
                         self.to_step, self.to_index, self.to_channel if channel else None,
                         room)

    def reset(self):
        for k in range(len(self.starts)):
            self.starts[k] = -99
        for k in range(len(self.to_step)):
            self.to_step[k], self.to_index[k] = UNWRITTEN_STEP, UNWRITTEN_INDEX
            self.to_channel[k] = UNWRITTEN_CHANNEL

    def result(self):
        return (list(self.starts), list(self.to_step), list(self.to_index),
                list(self.to_channel))

    def expected(self):
        """The contract, computed here."""
        starts = list(self.starts)
        to = [list(self.to_step), list(self.to_index), list(self.to_channel)]
        launches, room = self.args.launches, self.args.room
        if launches < 0:
            return starts, to[0], to[1], to[2]
        run = []
        for j in range(launches):
            _, offset, capacity = self.regions[j]
            count = self.counts[j]  # as the kernel reads it
            starts[j] = len(run)
            run += range(offset, offset + min(max(count, 0), capacity))
        starts[launches] = len(run)
        for place, source in enumerate(run[:max(room, 0)]):
            to[0][place] = self.step[source]
            to[1][place] = self.index[source]
            if self.channel:
                to[2][place] = self.channel[source]
        return starts, to[0], to[1], to[2]


def run_kernel(lib, thread, case, threads0, blocks1, block, increasing, phases=(0, 1)):
    """Phase 0 on a grid covering threads0 threads, then phase 1 on blocks1
    blocks, each of blocks of `block` threads, a thread at a time."""
    for phase in phases:
        case.args.phase = phase
        blocks = max((threads0 + block - 1) // block, 1) if phase == 0 else blocks1
        run_grid(lambda: lib.ncl_gather_spikes_gpu(ctypes.byref(case.args)), thread, blocks,
                 block, increasing)


def describe(got, want):
    names = ("starts", "to_step", "to_index", "to_channel")
    for name, g, w in zip(names, got, want):
        wrong = [k for k in range(len(w)) if g[k] != w[k]]
        if wrong:
            return "%s places %s hold %s, expected %s" % (
                name, wrong[:6], [g[k] for k in wrong[:6]], [w[k] for k in wrong[:6]])
    return "as the contract says"


# Regions of a 64-entry source: counts below, at and above capacity and
# negative, offsets out of order, unwritten entries between regions.
MIXED = [(3, 40, 8), (8, 0, 8), (12, 20, 5), (-4, 10, 6), (0, 30, 4), (6, 50, 10)]
MIXED_TOTAL = 3 + 8 + 5 + 0 + 0 + 6


def fake_driver(driver, lib, emulated, work):
    """The fake driver's NCL_GPU_GATHER_SPIKES_ENTRY with the library `lib`."""
    name = "emulated" if emulated else "native"
    entry, log = open_entry(driver, lib, "ncl_gather_spikes_gpu", name, work)
    vp = ctypes.c_void_p

    rng = random.Random(5)
    for channel in (True, False):
        what = "%s, %s" % (name, "channels" if channel else "no channel array")
        case = Case(rng, MIXED, 64, 32, 32, channel=channel)
        # Phase 0 and phase 1 on arguments of their own, as the host
        # uploads them: the same pointers, another phase.
        second = Args.from_buffer_copy(case.args)
        second.phase = 1
        pointers = [ctypes.c_uint64(ctypes.addressof(a)) for a in (case.args, second)]
        params = [(vp * 1)(ctypes.addressof(p)) for p in pointers]

        def launch(phase, grid, block, stream=None, params=params):
            return driver.cuLaunchKernel(entry, grid, 1, 1, block, 1, 1, 0, stream,
                                         params[phase], None)

        stream = vp()
        check(driver.cuStreamCreate(ctypes.byref(stream), 1) == 0, "%s: cuStreamCreate" % what)
        before = case.result()
        check(launch(0, 1, 8, stream) == 0 and launch(1, 6, 4, stream) == 0,
              "%s: phase 0 and phase 1 on a stream" % what)
        check(case.result() == before, "%s: nothing written before the wait" % what)
        case.counts[0] = 5  # what the launches read when they run
        want = case.expected()
        check(driver.cuStreamSynchronize(stream) == 0, "%s: cuStreamSynchronize" % what)
        got = case.result()
        check(got == want and got[0][-1] == MIXED_TOTAL + 2,
              "%s: after the wait, the regions' counts then: %s" % (what, describe(got, want)))
        case.counts[0] = 3
        case.reset()
        want = case.expected()
        check(launch(0, 2, 128) == 0 and launch(1, 9, 3) == 0 and case.result() == want,
              "%s: a phase-0 grid of 2 blocks of 128, a phase-1 grid of 9 blocks of 3: %s"
              % (what, describe(case.result(), want)))
        case.reset()
        before = case.result()
        r, err = stderr_of(lambda: launch(0, 1, 6))
        check(r == 1 and "the grid of phase 0 does not cover launches + 1 threads" in err
              and case.result() == before,
              "%s: a phase-0 grid of 6 threads for 6 launches is refused: %d, %r"
              % (what, r, err.strip()))
        check(launch(0, 1, 7) == 0, "%s: a phase-0 grid of 7 threads for 6 launches" % what)
        before = case.result()
        r, err = stderr_of(lambda: launch(1, 5, 64))
        check(r == 1 and "the grid of phase 1 has fewer blocks than launches" in err
              and case.result() == before,
              "%s: a phase-1 grid of 5 blocks for 6 launches is refused: %d, %r"
              % (what, r, err.strip()))
        case.starts[2] += 1
        r, err = stderr_of(lambda: launch(1, 6, 4))
        check(r == 1 and "phase 1 with start 12 of region 2, not phase 0's 11" in err
              and case.result()[1:] == before[1:],
              "%s: a phase 1 whose starts are not phase 0's is refused: %d, %r"
              % (what, r, err.strip()))
        case.starts[2] -= 1
        for phase in (2, -1):
            second.phase = phase
            r, err = stderr_of(lambda: launch(1, 8, 8))
            check(r == 1 and "a phase other than 0 (the starts) and 1 (the entries)" in err
                  and case.result() == before,
                  "%s: phase %d is refused: %d, %r" % (what, phase, r, err.strip()))
        second.phase = 1
        check(launch(1, 6, 1) == 0 and case.result() == want,
              "%s: phase 1 after the refusals, blocks of one thread: %s"
              % (what, describe(case.result(), want)))
    empty = Case(rng, [], 4, 4, 4, null_regions=True)
    pointer = ctypes.c_uint64(ctypes.addressof(empty.args))
    param = (vp * 1)(ctypes.addressof(pointer))
    ok = driver.cuLaunchKernel(entry, 1, 1, 1, 1, 1, 1, 0, None, param, None) == 0
    empty.args.phase = 1
    ok = ok and driver.cuLaunchKernel(entry, 1, 1, 1, 1, 1, 1, 0, None, param, None) == 0
    check(ok and empty.result() == empty.expected() and empty.starts[0] == 0,
          "%s: zero launches: starts[0] = 0, nothing else written" % name)
    check_log(log, "gather_spikes emulated" if emulated else "gather_spikes", name)


def main():
    nclc, model, fake_cuda, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    lib, thread = emulated_entry(nclc, model, os.path.join(work, "gather_spikes_kernel.so"), "ncl_gather_spikes_gpu",
                                 Args)
    rng = random.Random(17)

    def expect(name, make, threads0=None, blocks1=None, block=4, phases=(0, 1)):
        for increasing in (False, True):
            case = make()
            launches = max(case.args.launches, 0)
            want = case.expected()
            if phases == (1,):  # starts as phase 0 leaves them
                for k in range(launches + 1):
                    case.starts[k] = want[0][k]
            run_kernel(lib, thread, case, launches + 1 if threads0 is None else threads0,
                       max(launches, 1) if blocks1 is None else blocks1, block, increasing,
                       phases)
            got = case.result()
            check(got == want, "%s, threads %s: %s" % (
                name, "increasing" if increasing else "decreasing", describe(got, want)))

    expect("6 regions: counts below, at, above capacity, negative, 0; channels",
           lambda: Case(rng, MIXED, 64, 40, 40))
    expect("the same regions without a channel array (to_channel null)",
           lambda: Case(rng, MIXED, 64, 40, 40, channel=False))
    expect("room 24 beyond the total 22", lambda: Case(rng, MIXED, 64, 24, 24))
    expect("room 22, the total", lambda: Case(rng, MIXED, 64, 30, 22))
    expect("room 13 cuts the third region", lambda: Case(rng, MIXED, 64, 30, 13))
    expect("room 13 without a channel array",
           lambda: Case(rng, MIXED, 64, 30, 13, channel=False))
    expect("room 0", lambda: Case(rng, MIXED, 64, 8, 0))
    expect("phase-0 grid of 300 threads over 20 starts, phase-1 grid of 11 blocks",
           lambda: Case(rng, MIXED, 64, 40, 40, starts_size=20), threads0=300, blocks1=11,
           block=32)
    expect("phase-1 blocks of 1 thread", lambda: Case(rng, MIXED, 64, 40, 40), block=1)
    expect("phase-1 blocks of 3 threads, narrower than most regions",
           lambda: Case(rng, MIXED, 64, 40, 40), block=3)
    expect("phase-1 blocks of 64 threads, wider than every region",
           lambda: Case(rng, MIXED, 64, 40, 40), block=64)
    expect("zero launches, no region array: starts[0] = 0",
           lambda: Case(rng, [], 8, 8, 8, starts_size=4, null_regions=True), threads0=16,
           blocks1=2)
    # 200 regions of up to 7 entries in a 1000-entry source.
    many = [(rng.randrange(-2, 9), 5 * j, 5) for j in range(200)]
    expect("200 regions of capacity 5, counts -2 .. 8",
           lambda: Case(rng, many, 1000, 1000, 1000), block=8)
    expect("200 regions, room 333", lambda: Case(rng, many, 1000, 1000, 333), block=2)
    # A broken launch's count: far beyond its region, and the most negative.
    expect("counts 2^62 and -2^63", lambda: Case(rng, [(2**62, 4, 3), (-2**63, 0, 4),
                                                       (2, 8, 2)], 16, 16, 16))
    # Phase 1 alone, on the starts phase 0 leaves.
    expect("phase 1 alone, starts given", lambda: Case(rng, MIXED, 64, 40, 40), phases=(1,))
    for phase in (2, -1):
        case = Case(rng, MIXED, 64, 40, 40)
        before = case.result()
        case.args.phase = phase
        run_kernel(lib, thread, case, 16, 8, 8, False, phases=(phase,))
        check(case.result() == before, "phase %d writes nothing" % phase)
    case = Case(rng, MIXED, 64, 40, 40, launches=-2)
    before = case.result()
    run_kernel(lib, thread, case, 16, 8, 8, False)
    check(case.result() == before, "launches -2 writes nothing")

    driver = load_fake_driver(fake_cuda)
    fake_driver(driver, lib, True, work)
    plain = compile_library(nclc, model, os.path.join(work, "gather_spikes_plain.so"))
    fake_driver(driver, plain, False, work)
    finish()


if __name__ == "__main__":
    main()
