#!/usr/bin/env python3
"""The GPU images' spike-lists entry (NCL_GPU_SPIKE_LISTS_ENTRY, which
makes several lists in one launch, each as NCL_GPU_SPIKE_LIST_ENTRY's
contract says; model_abi.h) against its contract, through the same code compiled for the host
(nclc --gpu-emulation): the entry is called once per thread of a grid, in
decreasing thread order, on hand-made step-launch entries, and its list and
length are compared with what the contract says, computed here by sorting.

Cases: entries in reverse and random order, events (channels 1 and 2) mixed
with spikes, no channel array, no entries, a grid wider than the entries,
and the guards: a count beyond the arrays reads only `capacity` entries, and
a list's `room` bounds what is written (the place after it keeps its value).

usage: spike_list_kernel.py NCLC MODEL.ncl WORKDIR
Standard library only (ctypes).
"""
import ctypes
import os
import random
import sys

from runtime_entry_harness import check, emulated_entry, finish, run_grid



class Args(ctypes.Structure):
    _fields_ = [("index", ctypes.POINTER(ctypes.c_int64)),
                ("channel", ctypes.POINTER(ctypes.c_int32)),
                ("count", ctypes.POINTER(ctypes.c_int64)),
                ("list", ctypes.POINTER(ctypes.c_int32)),
                ("list_count", ctypes.POINTER(ctypes.c_int64)),
                ("capacity", ctypes.c_int64),
                ("room", ctypes.c_int64)]


class Lists(ctypes.Structure):
    _fields_ = [("count", ctypes.c_int64), ("lists", ctypes.POINTER(Args))]


def run_kernel(lib, thread, indices, channels, count=None, capacity=None, room=None,
               threads=None, block=256):
    """Calls the entry on one list (count 1) on every thread of the grid,
    the last first, which does what the contract of a launch of
    NCL_GPU_SPIKE_LIST_ENTRY on it says; returns (list, length) as the
    kernel left them (the list's unwritten places hold -7)."""
    n = len(indices)
    count = n if count is None else count
    capacity = n if capacity is None else capacity
    room = n + 1 if room is None else room
    index = (ctypes.c_int64 * max(n, 1))(*indices)
    channel = (ctypes.c_int32 * max(n, 1))(*(channels or []))
    counted = ctypes.c_int64(count)
    out = (ctypes.c_int32 * (room + 1))(*([-7] * (room + 1)))
    length = ctypes.c_int64(-1)
    args = Args(index, channel if channels is not None else None, ctypes.pointer(counted),
                out, ctypes.pointer(length), capacity, room)
    threads = max(n, 1) if threads is None else threads
    blocks = (threads + block - 1) // block
    lists = Lists(1, ctypes.pointer(args))
    run_grid(lambda: lib.ncl_spike_lists_gpu(ctypes.byref(lists)), thread, blocks, block,
             increasing=False)
    return list(out), length.value


def run_lists(lib, thread, cases, per, block=64):
    """NCL_GPU_SPIKE_LISTS_ENTRY on several lists at once (`cases`: lists of
    indices, all spikes), `per` blocks each, the threads in increasing
    order; returns each list and length as the kernel left them."""
    keep, args = [], (Args * len(cases))()
    outs, lengths = [], []
    for j, indices in enumerate(cases):
        n = len(indices)
        index = (ctypes.c_int64 * max(n, 1))(*indices)
        counted = ctypes.c_int64(n)
        out = (ctypes.c_int32 * (n + 1))(*([-7] * (n + 1)))
        length = ctypes.c_int64(-1)
        keep += [index, counted]
        outs.append(out)
        lengths.append(length)
        args[j] = Args(index, None, ctypes.pointer(counted), out, ctypes.pointer(length), n, n + 1)
    lists = Lists(len(cases), args)
    run_grid(lambda: lib.ncl_spike_lists_gpu(ctypes.byref(lists)), thread, per * len(cases),
             block, increasing=True)
    return [(list(o), l.value) for o, l in zip(outs, lengths)]


def main():
    nclc, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    lib, thread = emulated_entry(nclc, model, os.path.join(work, "spike_list_kernel.so"),
                                 "ncl_spike_lists_gpu", Lists)

    def expect(name, indices, channels, **kw):
        got, length = run_kernel(lib, thread, indices, channels, **kw)
        n = min(kw.get("count", len(indices)), kw.get("capacity", len(indices)))
        spikes = sorted(i for k, i in enumerate(indices[:n])
                        if channels is None or channels[k] == 0)
        room = kw.get("room", len(indices) + 1)
        want = spikes[:room]
        ok = length == len(want) and got[:len(want)] == want and all(
            v == -7 for v in got[len(want):])
        check(ok, "%s: length %d, list %s... (expected %d, %s...)"
              % (name, length, got[:min(len(want) + 1, 12)], len(want), want[:12]))

    expect("reverse order", list(range(40, 0, -1)), None)
    rng = random.Random(7)
    neurons = rng.sample(range(100000), 700)
    expect("700 entries in random order over 3 blocks", neurons, None)
    channels = [rng.choice([0, 0, 1, 2]) for _ in neurons]
    # Events carry the neuron of a spike too: the same index in another
    # channel must not count.
    events = neurons[:300] + neurons[:300]
    expect("spikes and events (channels 1, 2)", neurons, channels)
    expect("an event beside each spike of a neuron", events, [0] * 300 + [1] * 300)
    expect("no entries", [], None)
    expect("a grid wider than the entries", [5, 3, 9], None, threads=1000)
    expect("a count beyond the arrays reads only capacity entries", [8, 2, 6, 4, 99, 1],
           None, count=1000, capacity=4)
    expect("the room bounds the list", [9, 1, 5, 3, 7], None, room=3)

    # Several lists in one launch (NCL_GPU_SPIKE_LISTS_ENTRY): each list's
    # blocks do what a launch of the single-list entry on it does.
    cases = [rng.sample(range(5000), 150), [], list(range(90, 0, -3)), [42]]
    for per in (3, 5):
        got = run_lists(lib, thread, cases, per)
        ok = all(length == len(c) and out[:len(c)] == sorted(c) and out[len(c)] == -7
                 for (out, length), c in zip(got, cases))
        check(ok, "4 lists in one launch, %d blocks of 64 each: each the single entry's list"
              % per)
    finish()


if __name__ == "__main__":
    main()
