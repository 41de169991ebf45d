//===- Simulator.cpp - State allocation and the chunked step loop ---------===//
//
// A run is cut into chunks of many steps. In a chunk every thread advances
// its own contiguous neuron range of every population with as few kernel
// calls as possible (one, unless its spike buffer fills), then checks its
// range for NaN/Inf. Populations are uncoupled so far, so no thread waits
// for another inside a chunk. After the chunk the calling thread merges the
// per-thread spikes in (step, index) order; since each neuron's update
// depends only on its own state, the seed and the step, both the state and
// the record are bitwise identical for any thread count.
//
//===----------------------------------------------------------------------===//
#include "Model.h"
#include "ThreadPool.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

using namespace ncl::rt;

AlignedArray::AlignedArray(size_t bytes) : bytes_(bytes) {
  constexpr size_t kAlign = 64;
  size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void *p = std::aligned_alloc(kAlign, rounded ? rounded : kAlign);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded ? rounded : kAlign);
  ptr_.reset(p);
}

namespace {

size_t realBytes(const ncl_model &m) { return m.desc->real_bits / 8; }

/// Steps per chunk when the user did not choose: the NaN scan after a chunk
/// reads every state value once, about what one step costs, so a chunk of
/// at least a few hundred steps keeps it under 1%; a small network gets
/// longer chunks so the per-chunk dispatch stays negligible too. The cap
/// keeps the time window of a NaN report useful (0.4 s at dt = 0.1 ms).
int64_t autoChunkSteps(const ncl_model &m) {
  int64_t neurons = 0;
  for (const Population &p : m.pops)
    neurons += p.size;
  int64_t chunk = neurons > 0 ? (int64_t{1} << 22) / neurons : 4096;
  return std::clamp<int64_t>(chunk, 256, 4096);
}

std::string fmtSeconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g s", s);
  return buf;
}

/// Fills the kernel arguments shared by init and update calls.
ncl_kernel_args kernelArgs(const ncl_model &m, Population &pop,
                           ThreadState &ts, size_t p) {
  ncl_kernel_args a;
  std::memset(&a, 0, sizeof a);
  a.params = pop.params.data();
  a.vars = pop.varPtrs.data();
  a.refractory_until = static_cast<int32_t *>(pop.refractory.data());
  a.begin = ts.begin[p];
  a.end = ts.end[p];
  a.seed = m.seed;
  a.dt = m.dt;
  a.size = pop.size;
  a.spike_step = ts.spikeStep.data();
  a.spike_index = ts.spikeIndex.data();
  a.spike_channel = ts.spikeChannel.data();
  a.spike_capacity = static_cast<int64_t>(ts.spikeStep.size());
  return a;
}

void kernelError(ThreadState &ts, const Population &pop,
                 const std::string &what) {
  if (ts.errorCode != NCL_OK)
    return;
  ts.errorCode = NCL_ERROR_KERNEL;
  ts.error = "the update kernel of population '" + std::string(pop.info->name) +
             "' " + what + " (a bug in the generated code; please report it)";
}

/// Advances thread k's ranges over steps [s0, s1). Contract violations go
/// into the thread's state for the caller to report; only bad_alloc throws.
void stepThread(ncl_model &m, int k, int64_t s0, int64_t s1) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  for (size_t p = 0; p < m.pops.size(); ++p) {
    Population &pop = m.pops[p];
    ts.chunkSpikes[p].clear();
    for (auto &e : ts.chunkEvents[p])
      e.clear();
    ts.chunkCounts[p] = 0;
    const int32_t numEvents = pop.info->num_events;
    if (ts.begin[p] >= ts.end[p])
      continue;
    const bool recorded = pop.info->record_spikes != 0;
    ncl_kernel_args a = kernelArgs(m, pop, ts, p);
    int64_t step = s0;
    while (step < s1) {
      a.first_step = step;
      a.num_steps = s1 - step;
      a.spike_count = 0;
      a.steps_done = 0;
      pop.info->update(&a);
      if (a.steps_done < 0 || a.steps_done > a.num_steps)
        return kernelError(ts, pop, "reported " + std::to_string(a.steps_done) +
                                        " steps done of " +
                                        std::to_string(a.num_steps));
      if (a.spike_count < 0 || (recorded && a.spike_count > a.spike_capacity))
        return kernelError(ts, pop, "reported " +
                                        std::to_string(a.spike_count) +
                                        " spikes for a buffer of " +
                                        std::to_string(a.spike_capacity));
      if (recorded) {
        const int64_t lo = step + 1, hi = step + a.steps_done;
        std::vector<Spike> &out = ts.chunkSpikes[p];
        int64_t spikes = 0;
        for (int64_t j = 0; j < a.spike_count; ++j) {
          Spike s{a.spike_step[j], a.spike_index[j]};
          if (s.step < lo || s.step > hi || s.index < a.begin ||
              s.index >= a.end)
            return kernelError(ts, pop, "emitted a spike outside its step or "
                                        "neuron range");
          // Entries of a recorded population carry their event channel.
          const int32_t channel = numEvents > 0 ? a.spike_channel[j] : 0;
          if (channel < 0 || channel > numEvents)
            return kernelError(ts, pop, "emitted an unknown event channel " +
                                            std::to_string(channel));
          if (channel == 0) {
            out.push_back(s);
            ++spikes;
          } else {
            ts.chunkEvents[p][static_cast<size_t>(channel - 1)].push_back(s);
          }
        }
        ts.chunkCounts[p] += spikes;
      } else {
        ts.chunkCounts[p] += a.spike_count;
      }
      if (a.steps_done == 0)
        return kernelError(ts, pop, "made no progress");
      step += a.steps_done;
    }
  }
}

template <typename Real>
int64_t firstNonFinite(const void *data, int64_t begin, int64_t end) {
  const Real *x = static_cast<const Real *>(data);
  for (int64_t i = begin; i < end; ++i)
    if (!std::isfinite(x[i]))
      return i;
  return -1;
}

/// Finds, in thread k's ranges, the first population (in model order) with
/// a non-finite value and there the lowest neuron index (then the first
/// variable), so the report does not depend on the partition.
void scanThread(ncl_model &m, int k) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  ts.badPop = ts.badVar = -1;
  ts.badIndex = -1;
  const bool f32 = m.desc->real_bits == 32;
  for (size_t p = 0; p < m.pops.size(); ++p) {
    const Population &pop = m.pops[p];
    int64_t limit = ts.end[p];
    for (size_t v = 0; v < pop.vars.size(); ++v) {
      int64_t i = f32 ? firstNonFinite<float>(pop.varPtrs[v], ts.begin[p], limit)
                      : firstNonFinite<double>(pop.varPtrs[v], ts.begin[p],
                                               limit);
      if (i < 0)
        continue;
      ts.badPop = static_cast<int>(p);
      ts.badVar = static_cast<int>(v);
      ts.badIndex = i;
      ts.badValue = f32 ? static_cast<const float *>(pop.varPtrs[v])[i]
                        : static_cast<const double *>(pop.varPtrs[v])[i];
      limit = i; // later variables only matter at a lower index
    }
    if (ts.badPop >= 0)
      return;
  }
}

/// Throws the first kernel error, by thread order (deterministic).
void throwKernelErrors(ncl_model &m) {
  for (ThreadState &ts : m.threadStates)
    if (ts.errorCode != NCL_OK) {
      m.failure = ts.error;
      throw Error(ts.errorCode, ts.error);
    }
}

/// Throws NUMERIC naming the first bad value, if any thread found one.
void throwNonFinite(ncl_model &m, const std::string &when) {
  const ThreadState *bad = nullptr;
  for (const ThreadState &ts : m.threadStates)
    if (ts.badPop >= 0 &&
        (!bad || ts.badPop < bad->badPop ||
         (ts.badPop == bad->badPop && ts.badIndex < bad->badIndex)))
      bad = &ts;
  if (!bad)
    return;
  const Population &pop = m.pops[static_cast<size_t>(bad->badPop)];
  const char *what = std::isnan(bad->badValue) ? "NaN"
                     : bad->badValue > 0       ? "+Inf"
                                               : "-Inf";
  std::string msg = "population '" + std::string(pop.info->name) +
                    "': variable '" + pop.info->vars[bad->badVar].name +
                    "' of neuron " + std::to_string(bad->badIndex) +
                    " became " + what + " " + when +
                    "; check the parameters and dt";
  m.failure = msg;
  throw Error(NCL_ERROR_NUMERIC, msg);
}

/// Appends the chunk's spikes of population p, from all threads, to its
/// record in (step, index) order. Thread ranges are disjoint, so each
/// thread's list only has to be merged with the others by step.
void mergeSpikes(ncl_model &m, size_t p) {
  Population &pop = m.pops[p];
  for (ThreadState &ts : m.threadStates)
    pop.spikeCount += ts.chunkCounts[p];
  if (!pop.info->record_spikes)
    return;
  // Appends the threads' lists to `record`, merged by (step, index).
  auto merge = [&](std::vector<Spike> &record, auto &&threadList) {
    const size_t base = record.size();
    std::vector<size_t> bounds{base};
    for (ThreadState &ts : m.threadStates) {
      std::vector<Spike> &s = threadList(ts);
      if (s.empty())
        continue;
      // Generated kernels loop steps outside neurons, so this is sorted in
      // practice; sorting is the fallback that keeps the contract regardless.
      if (!std::is_sorted(s.begin(), s.end()))
        std::sort(s.begin(), s.end());
      record.insert(record.end(), s.begin(), s.end());
      bounds.push_back(record.size());
    }
    auto begin = record.begin();
    for (size_t b = 2; b < bounds.size(); ++b)
      std::inplace_merge(begin + static_cast<ptrdiff_t>(base),
                         begin + static_cast<ptrdiff_t>(bounds[b - 1]),
                         begin + static_cast<ptrdiff_t>(bounds[b]));
  };
  merge(pop.record, [&](ThreadState &ts) -> std::vector<Spike> & { return ts.chunkSpikes[p]; });
  for (size_t e = 0; e < pop.events.size(); ++e)
    merge(pop.events[e],
          [&](ThreadState &ts) -> std::vector<Spike> & { return ts.chunkEvents[p][e]; });
}

/// Runs job(k) on every thread, on the pool when there is one.
template <typename F> void forEachThread(ncl_model &m, F job) {
  if (!m.pool) {
    job(0);
    return;
  }
  m.pool->run(std::function<void(int)>(job));
}

} // namespace

void ncl::rt::configureThreads(ncl_model &m) {
  const int32_t n = m.threads;
  if (n > 1 && (!m.pool || m.pool->size() != n))
    m.pool = std::make_unique<ThreadPool>(n);
  else if (n == 1)
    m.pool.reset();
  m.threadStates.assign(static_cast<size_t>(n), ThreadState{});
  const size_t np = m.pops.size();
  for (int32_t k = 0; k < n; ++k) {
    ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
    ts.begin.resize(np);
    ts.end.resize(np);
    ts.chunkSpikes.resize(np);
    ts.chunkEvents.resize(np);
    for (size_t p = 0; p < np; ++p)
      ts.chunkEvents[p].resize(static_cast<size_t>(std::max(0, m.pops[p].info->num_events)));
    ts.chunkCounts.assign(np, 0);
    int64_t largest = 0;
    for (size_t p = 0; p < np; ++p) {
      // Static contiguous partition; sizes are at most kMaxPopulationSize
      // and threads at most kMaxThreads, so size * k cannot overflow.
      const int64_t size = m.pops[p].size;
      ts.begin[p] = size * k / n;
      ts.end[p] = size * (k + 1) / n;
      // A recorded neuron may emit a spike and each of its events in one step.
      const int64_t channels = 1 + std::max(0, m.pops[p].info->num_events);
      largest = std::max(largest, (ts.end[p] - ts.begin[p]) * channels);
    }
    // One step of a range may spike everywhere, so a buffer smaller than the
    // range could stall the kernel; anything above only saves drains.
    int64_t cap = m.spikeCapacity > 0
                      ? m.spikeCapacity
                      : std::max<int64_t>(2 * largest, 16384);
    cap = std::max<int64_t>({cap, largest, 1});
    ts.spikeStep.assign(static_cast<size_t>(cap), 0);
    ts.spikeIndex.assign(static_cast<size_t>(cap), 0);
    ts.spikeChannel.assign(static_cast<size_t>(cap), 0);
  }
  m.layoutDirty = false;
}

void ncl::rt::initModel(ncl_model &m, uint64_t seed) {
  const double t0 = now();
  m.initialized = false;
  m.failure.clear();
  configureThreads(m);
  for (Population &pop : m.pops) {
    pop.vars.clear();
    pop.varPtrs.clear();
    pop.refractory = AlignedArray();
    pop.record.clear();
    pop.record.shrink_to_fit();
    pop.events.assign(static_cast<size_t>(std::max(0, pop.info->num_events)), {});
    pop.spikeCount = 0;
  }
  for (Population &pop : m.pops) {
    const size_t n = static_cast<size_t>(pop.size);
    try {
      for (int32_t v = 0; v < pop.info->num_vars; ++v) {
        pop.vars.emplace_back(n * realBytes(m));
        pop.varPtrs.push_back(pop.vars.back().data());
      }
      pop.refractory = AlignedArray(n * sizeof(int32_t));
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY,
                  "out of memory allocating the state of population '" +
                      std::string(pop.info->name) + "' (" +
                      std::to_string(pop.size) + " neurons)");
    }
  }
  m.seed = seed;
  m.step = 0;
  forEachThread(m, [&m](int k) {
    ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
    for (size_t p = 0; p < m.pops.size(); ++p) {
      Population &pop = m.pops[p];
      if (!pop.info->init || ts.begin[p] >= ts.end[p])
        continue;
      ncl_kernel_args a = kernelArgs(m, pop, ts, p);
      pop.info->init(&a);
    }
    scanThread(m, k);
  });
  throwNonFinite(m, "in its initial value");
  m.initialized = true;
  m.initSeconds = now() - t0;
}

void ncl::rt::runModel(ncl_model &m, int64_t steps) {
  if (!m.failure.empty())
    throw Error(NCL_ERROR_STATE, "the simulation stopped earlier (" +
                                     m.failure +
                                     "); call ncl_init to start again");
  if (steps < 0)
    throw Error(NCL_ERROR_ARGUMENT, "cannot run a negative number of steps");
  if (!m.initialized)
    initModel(m, m.desc->default_seed);
  if (steps > INT32_MAX - m.step)
    throw Error(NCL_ERROR_ARGUMENT,
                "a run of " + std::to_string(steps) + " steps would pass step " +
                    std::to_string(INT32_MAX) +
                    ", the limit of the int32 refractory counters");
  if (m.layoutDirty)
    configureThreads(m);

  const double t0 = now();
  struct AddTime {
    ncl_model &m;
    double t0;
    ~AddTime() { m.simulateSeconds += now() - t0; }
  } addTime{m, t0};

  const int64_t chunk = m.chunkSteps > 0 ? m.chunkSteps : autoChunkSteps(m);
  const double dt = m.dt;
  for (int64_t left = steps; left > 0;) {
    const int64_t s0 = m.step, s1 = s0 + std::min(chunk, left);
    for (ThreadState &ts : m.threadStates) {
      ts.errorCode = NCL_OK;
      ts.error.clear();
    }
    forEachThread(m, [&m, s0, s1](int k) {
      // An exception must not escape a worker thread (std::terminate);
      // recording spikes is the only thing here that allocates.
      try {
        stepThread(m, k, s0, s1);
      } catch (const std::bad_alloc &) {
        ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
        ts.errorCode = NCL_ERROR_MEMORY;
        ts.error = "out of memory while recording spikes";
      }
      scanThread(m, k);
    });
    for (size_t p = 0; p < m.pops.size(); ++p)
      mergeSpikes(m, p);
    m.step = s1;
    left -= s1 - s0;
    throwKernelErrors(m);
    throwNonFinite(m, "between t = " + fmtSeconds(static_cast<double>(s0) * dt) +
                          " and t = " +
                          fmtSeconds(static_cast<double>(s1) * dt) +
                          " (steps " + std::to_string(s0) + " to " +
                          std::to_string(s1) + ")");
  }
}
