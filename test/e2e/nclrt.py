"""ctypes bindings of libnclrt's C API (runtime/include/ncl/runtime.h), for
the end-to-end tests that read state through the runtime."""
import ctypes

import numpy as np


class Runtime:
    def __init__(self, path):
        rt = ctypes.CDLL(path)
        rt.ncl_open.restype = ctypes.c_void_p
        rt.ncl_open.argtypes = [ctypes.c_char_p]
        rt.ncl_last_error.restype = ctypes.c_char_p
        rt.ncl_set_threads.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        rt.ncl_set_dt.argtypes = [ctypes.c_void_p, ctypes.c_double]
        rt.ncl_dt.restype = ctypes.c_double
        rt.ncl_dt.argtypes = [ctypes.c_void_p]
        rt.ncl_init.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        rt.ncl_run.argtypes = [ctypes.c_void_p, ctypes.c_double]
        rt.ncl_run_steps.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        rt.ncl_get_state.restype = ctypes.c_int64
        rt.ncl_get_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
        rt.ncl_get_synapse_state.restype = ctypes.c_int64
        rt.ncl_get_synapse_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
        rt.ncl_set_synapse_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
        rt.ncl_save_weights.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        rt.ncl_load_weights.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        rt.ncl_get_synapses.restype = ctypes.c_int64
        rt.ncl_get_synapses.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_int64),
                                        ctypes.POINTER(ctypes.c_int64), ctypes.c_int64]
        rt.ncl_get_spikes.restype = ctypes.c_int64
        rt.ncl_get_spikes.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_double),
                                      ctypes.POINTER(ctypes.c_int64), ctypes.c_int64]
        rt.ncl_spike_count.restype = ctypes.c_int64
        rt.ncl_spike_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        rt.ncl_close.argtypes = [ctypes.c_void_p]
        rt.ncl_set_batch.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        rt.ncl_batch.restype = ctypes.c_int64
        rt.ncl_batch.argtypes = [ctypes.c_void_p]
        rt.ncl_set_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_double), ctypes.c_int64]
        self.rt = rt

    def check(self, ok):
        if not ok:
            raise RuntimeError(self.rt.ncl_last_error().decode())

    def open(self, lib, seed, threads=1, dt=None, batch=None):
        """Loads a model library and initialises it with `seed` (and the
        time step `dt` in seconds, and the batch members `batch`, when
        given, instead of the network's)."""
        m = self.rt.ncl_open(lib.encode())
        self.check(m)
        self.check(self.rt.ncl_set_threads(m, threads) == 0)
        if dt is not None:
            self.check(self.rt.ncl_set_dt(m, dt) == 0)
        if batch is not None:
            self.check(self.rt.ncl_set_batch(m, batch) == 0)
        self.check(self.rt.ncl_init(m, seed) == 0)
        return m

    def set_threads(self, m, threads):
        self.check(self.rt.ncl_set_threads(m, threads) == 0)

    def run(self, m, seconds):
        self.check(self.rt.ncl_run(m, seconds) == 0)

    def run_steps(self, m, steps):
        self.check(self.rt.ncl_run_steps(m, steps) == 0)

    def state(self, m, pop, var, n):
        buf = (ctypes.c_double * n)()
        self.check(self.rt.ncl_get_state(m, pop.encode(), var.encode(), buf, n) == n)
        return np.frombuffer(buf, dtype=np.float64).copy()

    def set_state(self, m, pop, var, values):
        """Overwrites state variable `var` of population `pop` (every batch
        member's neurons, member b's neuron i at b * N + i)."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        buf = values.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self.check(self.rt.ncl_set_state(m, pop.encode(), var.encode(), buf, len(values)) == 0)

    def batch(self, m):
        return self.rt.ncl_batch(m)

    def synapse_state(self, m, proj, var):
        """Per-synapse variable `var` of projection `proj`, in synapse order."""
        n = self.rt.ncl_get_synapse_state(m, proj.encode(), var.encode(), None, 0)
        self.check(n >= 0)
        buf = (ctypes.c_double * max(n, 1))()
        self.check(self.rt.ncl_get_synapse_state(m, proj.encode(), var.encode(), buf, n) == n)
        return np.frombuffer(buf, dtype=np.float64)[:n].copy()

    def set_synapse_state(self, m, proj, var, values):
        """Overwrites per-synapse variable `var` of projection `proj` (one
        value per synapse, in synapse order, internal units)."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        buf = values.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self.check(self.rt.ncl_set_synapse_state(m, proj.encode(), var.encode(), buf,
                                                 len(values)) == 0)

    def save_weights(self, m, directory):
        self.check(self.rt.ncl_save_weights(m, str(directory).encode()) == 0)

    def load_weights(self, m, directory):
        self.check(self.rt.ncl_load_weights(m, str(directory).encode()) == 0)

    def synapses(self, m, proj):
        """(pre, post) neuron indices of projection `proj`'s synapses."""
        n = self.rt.ncl_get_synapses(m, proj.encode(), None, None, 0)
        self.check(n >= 0)
        pre = (ctypes.c_int64 * max(n, 1))()
        post = (ctypes.c_int64 * max(n, 1))()
        self.check(self.rt.ncl_get_synapses(m, proj.encode(), pre, post, n) == n)
        return (np.frombuffer(pre, dtype=np.int64)[:n].copy(),
                np.frombuffer(post, dtype=np.int64)[:n].copy())

    def spikes(self, m, pop):
        """(times in seconds, indices) of population `pop`'s recorded spikes."""
        n = self.rt.ncl_get_spikes(m, pop.encode(), None, None, 0)
        self.check(n >= 0)
        times = (ctypes.c_double * max(n, 1))()
        index = (ctypes.c_int64 * max(n, 1))()
        self.check(self.rt.ncl_get_spikes(m, pop.encode(), times, index, n) == n)
        return (np.frombuffer(times, dtype=np.float64)[:n].copy(),
                np.frombuffer(index, dtype=np.int64)[:n].copy())

    def spike_count(self, m, pop):
        n = self.rt.ncl_spike_count(m, pop.encode())
        self.check(n >= 0)
        return n

    def close(self, m):
        self.rt.ncl_close(m)
