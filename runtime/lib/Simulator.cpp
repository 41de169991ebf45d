//===- Simulator.cpp - State allocation and the chunked step loop ---------===//
//
// The model's descriptor lists its buffers and its stages (model_abi.h);
// this file allocates every buffer from that table and runs the stages,
// without knowing what they compute. A run is cut into chunks of many
// steps. In a chunk every thread runs each step stage, in the descriptor's
// order, over its own contiguous neuron range of the stage's population
// with as few kernel calls as possible (one, unless its spike buffer fills
// or its recorded range is wider than the buffer, which then takes blocks
// of neurons), then checks its ranges for NaN/Inf. Memory is checked
// before it is allocated: the buffers when a run is initialised, the
// records before they grow. Populations are uncoupled so far, so no thread
// waits for another inside a chunk. After the chunk the calling thread
// merges the per-thread spikes in (step, index) order; since each neuron's
// update depends only on its own state, the seed and the step, both the
// state and the record are bitwise identical for any thread count. The
// same determinism lets a chunk that turned non-finite be replayed step by
// step from a copy of its per-neuron buffers at its start, so a NaN report
// names its exact step.
//
//===----------------------------------------------------------------------===//
#include "Connectivity.h"
#include "Model.h"
#include "ThreadPool.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <tuple>
#include <utility>

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

/// Bounds of a thread's spike buffer, in entries (20 bytes each with step,
/// index and channel). The floor lets a small range run many steps per
/// kernel call; the ceiling keeps the buffer from growing with the
/// population: a larger range is stepped in blocks of neurons that fit (see
/// runStepStage).
constexpr int64_t kMinSpikeBuffer = 16384;
constexpr int64_t kMaxSpikeBuffer = int64_t{1} << 18;

//===----------------------------------------------------------------------===//
// The buffer table
//===----------------------------------------------------------------------===//

const ncl_buffer_info &bufferInfo(const ncl_model &m, size_t i) { return m.desc->buffers[i]; }

size_t elementBytes(int32_t element) {
  return element == NCL_ELEMENT_F32 || element == NCL_ELEMENT_I32 ? 4 : 8;
}

/// Whether the runtime allocates entry i itself, once per model: not the
/// parameters (they are Population::params) nor the per-thread spike
/// buffers.
bool modelOwned(const ncl_buffer_info &b) {
  return b.role != NCL_BUFFER_PARAMS && b.extent != NCL_EXTENT_SPIKE_CAPACITY &&
         b.role != NCL_BUFFER_ROW_START && b.role != NCL_BUFFER_POST_INDEX;
}

/// Elements of a model-owned entry for the current sizes.
uint64_t bufferElements(const ncl_model &m, const ncl_buffer_info &b) {
  switch (b.extent) {
  case NCL_EXTENT_NEURONS:
    return static_cast<uint64_t>(m.pops[static_cast<size_t>(b.population)].size);
  case NCL_EXTENT_SYNAPSES:
    return static_cast<uint64_t>(m.projs[static_cast<size_t>(b.projection)].synapses);
  case NCL_EXTENT_ROWS: {
    const Projection &proj = m.projs[static_cast<size_t>(b.projection)];
    return static_cast<uint64_t>(m.pops[static_cast<size_t>(proj.info->pre)].size) + 1;
  }
  default:
    return static_cast<uint64_t>(b.count);
  }
}

/// Whether a population's update stores its spikes: for its record or for
/// projections.
bool storesSpikes(const Population &pop) {
  return pop.info->record_spikes || pop.info->emits_spikes;
}

/// Whether any entry of the table has `role`.
bool hasRole(const ncl_model &m, int32_t role) {
  for (int32_t i = 0; i < m.desc->num_buffers; ++i)
    if (m.desc->buffers[i].role == role)
      return true;
  return false;
}

/// Bytes of one spike-buffer entry: the thread's one buffer of each spike
/// role the table has (20 with step, index and channel).
uint64_t spikeEntryBytes(const ncl_model &m) {
  uint64_t bytes = 0;
  if (hasRole(m, NCL_BUFFER_SPIKE_STEP))
    bytes += sizeof(int64_t);
  if (hasRole(m, NCL_BUFFER_SPIKE_INDEX))
    bytes += sizeof(int64_t);
  if (hasRole(m, NCL_BUFFER_SPIKE_CHANNEL))
    bytes += sizeof(int32_t);
  return bytes;
}

/// Points thread states' tables at the model's buffers and at their own
/// spike buffers (null where a thread has none).
void bindThreadBuffers(ncl_model &m) {
  for (ThreadState &ts : m.threadStates) {
    ts.buffers = m.bufferPtrs;
    for (size_t i = 0; i < ts.buffers.size(); ++i) {
      const ncl_buffer_info &b = bufferInfo(m, i);
      if (b.extent != NCL_EXTENT_SPIKE_CAPACITY)
        continue;
      void *own = b.role == NCL_BUFFER_SPIKE_STEP    ? static_cast<void *>(ts.spikeStep.data())
                  : b.role == NCL_BUFFER_SPIKE_INDEX ? static_cast<void *>(ts.spikeIndex.data())
                                                     : static_cast<void *>(ts.spikeChannel.data());
      ts.buffers[i] = ts.spikeCapacity > 0 ? own : nullptr;
    }
  }
}

//===----------------------------------------------------------------------===//
// Partition, chunks and memory
//===----------------------------------------------------------------------===//

/// Entries a recorded neuron may emit in one step: a spike and each event.
int64_t channels(const Population &pop) { return 1 + std::max(0, pop.info->num_events); }

/// Thread k's share of `size` neurons: a static contiguous partition. Sizes
/// are at most kMaxPopulationSize and threads at most kMaxThreads, so
/// size * k cannot overflow.
std::pair<int64_t, int64_t> partition(int64_t size, int32_t k, int32_t n) {
  return {size * k / n, size * (k + 1) / n};
}

/// Steps per chunk when the user did not choose: the NaN scan after a chunk
/// reads every state value once, about what one step costs, so a chunk of
/// at least a few hundred steps keeps it under 1%; a small network gets
/// longer chunks so the per-chunk dispatch stays negligible too. The cap
/// bounds the step-by-step replay that locates a NaN.
int64_t autoChunkSteps(const ncl_model &m) {
  int64_t neurons = 0;
  for (const Population &p : m.pops)
    neurons += p.size;
  int64_t chunk = neurons > 0 ? (int64_t{1} << 22) / neurons : 4096;
  return std::clamp<int64_t>(chunk, 256, 4096);
}

int64_t chunkSteps(const ncl_model &m) {
  return m.chunkSteps > 0 ? m.chunkSteps : autoChunkSteps(m);
}

/// A delay in steps of the run's dt: round(delay / dt), ties to even
/// (docs/semantics.md).
int64_t delaySteps(const ncl_model &m, double delay) {
  return static_cast<int64_t>(std::nearbyint(delay / m.dt));
}

/// Steps between the threads' spike exchanges: the shortest delay plus one
/// (a spike sent in step s arrives at the start of step s + 1 + d).
int64_t exchangeSteps(const ncl_model &m) {
  int64_t steps = INT64_MAX;
  for (const Projection &proj : m.projs)
    steps = std::min(steps, delaySteps(m, proj.info->delay) + 1);
  return steps;
}

/// Steps of spike history population p keeps: enough that a list written
/// in one exchange interval is read, at the latest, before the interval in
/// which it is written again. 0 when no projection reads it.
int64_t historyDepth(const ncl_model &m, size_t p) {
  int64_t longest = -1;
  for (const Projection &proj : m.projs)
    if (static_cast<size_t>(proj.info->pre) == p)
      longest = std::max(longest, delaySteps(m, proj.info->delay));
  return longest < 0 ? 0 : longest + exchangeSteps(m) + 1;
}

/// Spike buffer entries of thread k: none without recorded neurons, else
/// what the chunk could fill, between the floor and the ceiling above (or
/// the user's choice), and at least one neuron's worth of every channel.
int64_t spikeCapacityOfThread(const ncl_model &m, int32_t k) {
  int64_t perStep = 0, widest = 0;
  for (const Population &pop : m.pops) {
    if (!storesSpikes(pop))
      continue;
    auto [begin, end] = partition(pop.size, k, m.threads);
    if (begin == end)
      continue;
    perStep = std::max(perStep, (end - begin) * channels(pop));
    widest = std::max(widest, channels(pop));
  }
  if (perStep == 0)
    return 0;
  int64_t cap = m.spikeCapacity;
  if (cap == 0) {
    cap = std::clamp(2 * perStep, kMinSpikeBuffer, kMaxSpikeBuffer);
    const int64_t chunk = chunkSteps(m);
    if (chunk < cap / perStep)
      cap = perStep * chunk; // all the chunk can emit
  }
  return std::max(cap, widest);
}

uint64_t saturatingMul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/// What the model holds now: state, its chunk-start copy, spike buffers
/// and records.
uint64_t heldBytes(const ncl_model &m) {
  uint64_t held = 0;
  for (const AlignedArray &a : m.buffers)
    held += a.bytes();
  for (const AlignedArray &a : m.buffersAtChunkStart)
    held += a.bytes();
  for (const Population &pop : m.pops) {
    held += pop.record.capacity() * sizeof(Spike);
    for (const std::vector<Spike> &e : pop.events)
      held += e.capacity() * sizeof(Spike);
  }
  const uint64_t entry = spikeEntryBytes(m);
  for (const ThreadState &ts : m.threadStates)
    held += static_cast<uint64_t>(ts.spikeCapacity) * entry;
  return held;
}

/// Refuses an allocation of `need` bytes that cannot fit, with both
/// figures: "not enough memory: <what> needs 23.4 GB, 20.1 GB available".
void checkMemory(const ncl_model &m, uint64_t need, const std::string &what,
                 const std::string &consequence = "") {
  const uint64_t available = availableMemory(heldBytes(m));
  if (need <= available)
    return;
  throw Error(NCL_ERROR_MEMORY, "not enough memory: " + what + " needs " + formatBytes(need) +
                                    ", " + formatBytes(available) + " available" + consequence);
}

std::string fmtSeconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g s", s);
  return buf;
}

/// The header of thread ts's calls of a stage over population p. An
/// unrecorded population only counts its spikes: no buffer, so no kernel
/// can stall on one.
ncl_kernel_args kernelArgs(const ncl_model &m, ThreadState &ts, size_t p) {
  const Population &pop = m.pops[p];
  ncl_kernel_args a;
  std::memset(&a, 0, sizeof a);
  a.buffers = ts.buffers.data();
  a.begin = ts.begin[p];
  a.end = ts.end[p];
  a.size = pop.size;
  a.seed = m.seed;
  a.dt = m.dt;
  a.spike_capacity = storesSpikes(pop) ? ts.spikeCapacity : 0;
  return a;
}

void kernelError(ThreadState &ts, const ncl_stage_info &stage, const Population &pop,
                 const std::string &what) {
  if (ts.errorCode != NCL_OK)
    return;
  ts.errorCode = NCL_ERROR_KERNEL;
  ts.error = "the stage '" + std::string(stage.name) + "' of population '" +
             std::string(pop.info->name) + "' " + what +
             " (a bug in the generated code; please report it)";
}

/// Merges the sorted runs [bounds[i], bounds[i+1]) of `v` pairwise, so k
/// runs of n spikes cost O(n log k).
void mergeSortedRuns(std::vector<Spike> &v, std::vector<size_t> bounds) {
  while (bounds.size() > 2) {
    std::vector<size_t> merged{bounds[0]};
    size_t i = 0;
    for (; i + 2 < bounds.size(); i += 2) {
      std::inplace_merge(v.begin() + static_cast<ptrdiff_t>(bounds[i]),
                         v.begin() + static_cast<ptrdiff_t>(bounds[i + 1]),
                         v.begin() + static_cast<ptrdiff_t>(bounds[i + 2]));
      merged.push_back(bounds[i + 2]);
    }
    if (i + 1 < bounds.size())
      merged.push_back(bounds.back());
    bounds = std::move(merged);
  }
}

/// Copies thread k's range of every per-neuron buffer to (or, with
/// `restore`, back from) the chunk-start copy. Threads touch disjoint
/// ranges.
void copyChunkStart(ncl_model &m, int k, bool restore) {
  const ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const ncl_buffer_info &b = bufferInfo(m, i);
    if (b.extent != NCL_EXTENT_NEURONS)
      continue;
    const size_t p = static_cast<size_t>(b.population);
    const int64_t begin = ts.begin[p], end = ts.end[p];
    if (begin >= end)
      continue;
    const size_t elem = elementBytes(b.element);
    char *live = static_cast<char *>(m.buffers[i].data());
    char *saved = static_cast<char *>(m.buffersAtChunkStart[i].data());
    char *from = restore ? saved : live, *to = restore ? live : saved;
    std::memcpy(to + begin * elem, from + begin * elem, static_cast<size_t>(end - begin) * elem);
  }
}

/// Where a chunk's spikes of one population end in the thread's lists
/// after each block of neurons: sorted runs for mergeSortedRuns.
struct SpikeRuns {
  std::vector<size_t> spikes{0};
  std::vector<std::vector<size_t>> events; // per custom event
};

/// Runs one step stage over thread ts's range of its population, steps
/// [s0, s1). A recorded range wider than the spike buffer allows is stepped
/// in blocks of neurons, each through all the steps; neurons are
/// independent, so this changes only the order of the spike list, which is
/// merged back into (step, index) order. Returns false after a contract
/// violation, which goes into the thread's state for the caller to report;
/// only bad_alloc throws.
bool runStepStage(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage, int64_t s0,
                  int64_t s1, SpikeRuns &runs, std::vector<int32_t> *emitted = nullptr) {
  const size_t p = static_cast<size_t>(stage.population);
  const Population &pop = m.pops[p];
  const int32_t numEvents = pop.info->num_events;
  const bool recorded = storesSpikes(pop);
  const bool record = pop.info->record_spikes != 0;
  ncl_kernel_args a = kernelArgs(m, ts, p);
  const int64_t block =
      recorded ? std::max<int64_t>(1, ts.spikeCapacity / channels(pop)) : ts.end[p] - ts.begin[p];
  auto fail = [&](const std::string &what) {
    kernelError(ts, stage, pop, what);
    return false;
  };
  for (int64_t lo = ts.begin[p]; lo < ts.end[p]; lo += block) {
    a.begin = lo;
    a.end = std::min(lo + block, ts.end[p]);
    int64_t step = s0;
    while (step < s1) {
      a.first_step = step;
      a.num_steps = s1 - step;
      a.spike_count = 0;
      a.steps_done = 0;
      stage.fn(&a);
      if (a.steps_done < 0 || a.steps_done > a.num_steps)
        return fail("reported " + std::to_string(a.steps_done) + " steps done of " +
                    std::to_string(a.num_steps));
      if (a.spike_count < 0 || (recorded && a.spike_count > a.spike_capacity))
        return fail("reported " + std::to_string(a.spike_count) + " spikes for a buffer of " +
                    std::to_string(a.spike_capacity));
      if (recorded) {
        const int64_t first = step + 1, last = step + a.steps_done;
        std::vector<Spike> &out = ts.chunkSpikes[p];
        int64_t spikes = 0;
        for (int64_t j = 0; j < a.spike_count; ++j) {
          Spike s{ts.spikeStep[static_cast<size_t>(j)], ts.spikeIndex[static_cast<size_t>(j)]};
          if (s.step < first || s.step > last || s.index < a.begin || s.index >= a.end)
            return fail("emitted a spike outside its step or neuron range");
          // Entries of a recorded population carry their event channel.
          const int32_t channel = numEvents > 0 ? ts.spikeChannel[static_cast<size_t>(j)] : 0;
          if (channel < 0 || channel > numEvents)
            return fail("emitted an unknown event channel " + std::to_string(channel));
          if (channel == 0) {
            if (record)
              out.push_back(s);
            if (emitted)
              emitted->push_back(static_cast<int32_t>(s.index));
            ++spikes;
          } else if (record) {
            ts.chunkEvents[p][static_cast<size_t>(channel - 1)].push_back(s);
          }
        }
        ts.chunkCounts[p] += spikes;
      } else {
        ts.chunkCounts[p] += a.spike_count;
      }
      if (a.steps_done == 0)
        return fail("made no progress");
      step += a.steps_done;
    }
    runs.spikes.push_back(ts.chunkSpikes[p].size());
    for (size_t e = 0; e < runs.events.size(); ++e)
      runs.events[e].push_back(ts.chunkEvents[p][e].size());
  }
  return true;
}

/// Delivers, in step s, the spikes projection q's presynaptic population
/// sent d + 1 steps earlier (d its delay in steps) to thread ts's range of
/// postsynaptic neurons: every thread's list of that step, in thread order,
/// so in ascending presynaptic order for any thread count.
void deliver(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage, int64_t s) {
  const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  const int64_t sent = s - 1 - proj.delaySteps;
  if (sent < 0 || ts.begin[post] >= ts.end[post])
    return;
  const SpikeHistory &h = m.history[static_cast<size_t>(proj.info->pre)];
  ncl_kernel_args a = kernelArgs(m, ts, post);
  a.first_step = s;
  a.num_steps = 1;
  for (const std::vector<int32_t> &list : h.slots[static_cast<size_t>(sent % h.depth)]) {
    if (list.empty())
      continue;
    a.spikes = list.data();
    a.num_spikes = static_cast<int64_t>(list.size());
    stage.fn(&a);
  }
}

/// A network's chunk on thread k: step by step, each step's stages in the
/// descriptor's order (deliveries, then updates), the spikes each update
/// sends kept in the history; threads meet every exchangeSteps steps, the
/// shortest delay plus one, so that no delivery reads a list that is being
/// written (docs/semantics.md).
void stepNetworkThread(ncl_model &m, int k, int64_t s0, int64_t s1, SpinBarrier *barrier,
                       std::vector<SpikeRuns> &runs) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  for (int64_t s = s0; s < s1; ++s) {
    for (int32_t i = 0; i < m.desc->num_stages && ts.errorCode == NCL_OK; ++i) {
      const ncl_stage_info &stage = m.desc->stages[i];
      if (stage.kind == NCL_STAGE_DELIVER) {
        deliver(m, ts, stage, s);
        continue;
      }
      if (stage.kind != NCL_STAGE_STEP)
        continue;
      const size_t p = static_cast<size_t>(stage.population);
      std::vector<int32_t> *emitted = nullptr;
      if (m.history[p].depth > 0) {
        emitted = &m.history[p]
                       .slots[static_cast<size_t>(s % m.history[p].depth)][static_cast<size_t>(k)];
        emitted->clear();
      }
      try {
        if (ts.begin[p] < ts.end[p])
          runStepStage(m, ts, stage, s, s + 1, runs[p], emitted);
        // A network's lists are in (step, index) order already: the run
        // bounds are not needed, and must not grow a vector every step.
        runs[p].spikes.resize(1);
        for (std::vector<size_t> &e : runs[p].events)
          e.resize(1);
      } catch (const std::bad_alloc &) {
        ts.errorCode = NCL_ERROR_MEMORY;
        ts.error = "out of memory while recording spikes";
      }
    }
    // A thread that failed still meets the others, which wait for it.
    if (barrier && ((s + 1 - s0) % m.exchangeSteps == 0 || s + 1 == s1))
      barrier->wait();
  }
}

/// Advances thread k's ranges over steps [s0, s1): every step stage in the
/// descriptor's order, each over the thread's range of its population.
void stepThread(ncl_model &m, int k, int64_t s0, int64_t s1, SpinBarrier *barrier) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  std::vector<SpikeRuns> runs(m.pops.size());
  for (size_t p = 0; p < m.pops.size(); ++p) {
    ts.chunkSpikes[p].clear();
    for (auto &e : ts.chunkEvents[p])
      e.clear();
    ts.chunkCounts[p] = 0;
    runs[p].events.assign(ts.chunkEvents[p].size(), std::vector<size_t>{0});
  }
  if (!m.projs.empty()) {
    stepNetworkThread(m, k, s0, s1, barrier, runs);
    // Steps outside, so each thread's list is in (step, index) order already.
    return;
  }
  for (int32_t s = 0; s < m.desc->num_stages; ++s) {
    const ncl_stage_info &stage = m.desc->stages[s];
    const size_t p = static_cast<size_t>(stage.population);
    if (stage.kind != NCL_STAGE_STEP || ts.begin[p] >= ts.end[p])
      continue;
    if (!runStepStage(m, ts, stage, s0, s1, runs[p]))
      return;
  }
  for (size_t p = 0; p < m.pops.size(); ++p) {
    mergeSortedRuns(ts.chunkSpikes[p], std::move(runs[p].spikes));
    for (size_t e = 0; e < runs[p].events.size(); ++e)
      mergeSortedRuns(ts.chunkEvents[p][e], std::move(runs[p].events[e]));
  }
}

template <typename Real> int64_t firstNonFinite(const void *data, int64_t begin, int64_t end) {
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
    for (size_t v = 0; v < pop.stateBuffer.size(); ++v) {
      const void *x = m.bufferPtrs[static_cast<size_t>(pop.stateBuffer[v])];
      int64_t i = f32 ? firstNonFinite<float>(x, ts.begin[p], limit)
                      : firstNonFinite<double>(x, ts.begin[p], limit);
      if (i < 0)
        continue;
      ts.badPop = static_cast<int>(p);
      ts.badVar = static_cast<int>(v);
      ts.badIndex = i;
      ts.badValue = f32 ? static_cast<const float *>(x)[i] : static_cast<const double *>(x)[i];
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

/// The report of the first non-finite value any thread found ("" if none):
/// "population 'P': variable 'v' of neuron 3 became NaN <when>; ...".
std::string nonFiniteReport(const ncl_model &m, const std::string &when) {
  const ThreadState *bad = nullptr;
  for (const ThreadState &ts : m.threadStates)
    if (ts.badPop >= 0 && (!bad || ts.badPop < bad->badPop ||
                           (ts.badPop == bad->badPop && ts.badIndex < bad->badIndex)))
      bad = &ts;
  if (!bad)
    return "";
  const Population &pop = m.pops[static_cast<size_t>(bad->badPop)];
  const char *what = std::isnan(bad->badValue) ? "NaN" : bad->badValue > 0 ? "+Inf" : "-Inf";
  return "population '" + std::string(pop.info->name) + "': variable '" +
         pop.info->vars[bad->badVar].name + "' of neuron " + std::to_string(bad->badIndex) +
         " became " + what + " " + when + "; check the parameters and dt";
}

bool anyNonFinite(const ncl_model &m) {
  for (const ThreadState &ts : m.threadStates)
    if (ts.badPop >= 0)
      return true;
  return false;
}

[[noreturn]] void failNumeric(ncl_model &m, const std::string &msg) {
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
    std::vector<size_t> bounds{record.size()};
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
    mergeSortedRuns(record, std::move(bounds));
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

/// Runs steps [s0, s1) on every thread and scans the result; with
/// `saveStart`, each thread first copies its ranges for a replay. Leaves
/// the spikes in the thread states (mergeSpikes takes them).
void advance(ncl_model &m, int64_t s0, int64_t s1, bool saveStart) {
  for (ThreadState &ts : m.threadStates) {
    ts.errorCode = NCL_OK;
    ts.error.clear();
  }
  std::unique_ptr<SpinBarrier> barrier;
  if (!m.projs.empty() && m.threads > 1)
    barrier = std::make_unique<SpinBarrier>(m.threads);
  forEachThread(m, [&m, s0, s1, saveStart, &barrier](int k) {
    // An exception must not escape a worker thread (std::terminate);
    // recording spikes is the only thing here that allocates.
    try {
      if (saveStart)
        copyChunkStart(m, k, /*restore=*/false);
      stepThread(m, k, s0, s1, barrier.get());
    } catch (const std::bad_alloc &) {
      ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
      ts.errorCode = NCL_ERROR_MEMORY;
      ts.error = "out of memory while recording spikes";
    }
    scanThread(m, k);
  });
}

/// Makes room in the records for the chunk's spikes before merging them. A
/// record that must grow reallocates to twice its capacity while still
/// holding the old block: that is where a long run would meet the OOM
/// killer, so the memory is checked first. Throws, with nothing merged, if
/// it does not fit.
void reserveRecords(ncl_model &m, int64_t step) {
  std::vector<std::pair<std::vector<Spike> *, size_t>> growths;
  uint64_t need = 0;
  auto plan = [&](std::vector<Spike> &record, size_t incoming) {
    const size_t wanted = record.size() + incoming;
    if (wanted <= record.capacity())
      return;
    const size_t capacity = std::max(wanted, 2 * record.capacity());
    growths.emplace_back(&record, capacity);
    need += capacity * sizeof(Spike);
  };
  for (size_t p = 0; p < m.pops.size(); ++p) {
    Population &pop = m.pops[p];
    if (!pop.info->record_spikes)
      continue;
    size_t incoming = 0;
    for (const ThreadState &ts : m.threadStates)
      incoming += ts.chunkSpikes[p].size();
    plan(pop.record, incoming);
    for (size_t e = 0; e < pop.events.size(); ++e) {
      incoming = 0;
      for (const ThreadState &ts : m.threadStates)
        incoming += ts.chunkEvents[p][e].size();
      plan(pop.events[e], incoming);
    }
  }
  if (growths.empty())
    return;
  const std::string at = "step " + std::to_string(step);
  checkMemory(m, need, "growing the spike records at " + at,
              "; the run stopped at " + at + " with everything before it kept");
  for (auto &[record, capacity] : growths)
    record->reserve(capacity);
}

void mergeAllSpikes(ncl_model &m) {
  for (size_t p = 0; p < m.pops.size(); ++p)
    mergeSpikes(m, p);
}

/// "t = 0.17 s to 0.1701 s" for steps [s0, s1).
std::string timeSpan(const ncl_model &m, int64_t s0, int64_t s1) {
  const double dt = m.dt;
  return "t = " + fmtSeconds(static_cast<double>(s0) * dt) + " to " +
         fmtSeconds(static_cast<double>(s1) * dt);
}

/// After a chunk [s0, s1) ended non-finite: restores its starting state and
/// repeats it one step at a time, keeping every step before the bad one, so
/// the report names the step. Kernels are deterministic (counter-based
/// random numbers), so the replay reproduces the chunk exactly.
[[noreturn]] void locateNonFinite(ncl_model &m, int64_t s0, int64_t s1) {
  const std::string chunkReport =
      nonFiniteReport(m, "between " + timeSpan(m, s0, s1) + " (steps " + std::to_string(s0) +
                             " to " + std::to_string(s1) + ")");
  forEachThread(m, [&m](int k) { copyChunkStart(m, k, /*restore=*/true); });
  for (int64_t s = s0; s < s1; ++s) {
    advance(m, s, s + 1, /*saveStart=*/false);
    mergeAllSpikes(m);
    m.step = s + 1;
    throwKernelErrors(m);
    if (anyNonFinite(m))
      failNumeric(m, nonFiniteReport(m, "in step " + std::to_string(s) + " (" +
                                            timeSpan(m, s, s + 1) + ")"));
  }
  failNumeric(m, chunkReport + " (the step-by-step replay of this chunk did "
                               "not reproduce it: the generated code is not "
                               "deterministic; please report it)");
}

/// The connection spec of projection q for the current sizes.
ConnectSpec connectSpec(const ncl_model &m, size_t q) {
  const ncl_projection_info &qi = *m.projs[q].info;
  ConnectSpec spec;
  spec.rule = static_cast<ConnectRule>(qi.rule - NCL_CONNECT_ALL_TO_ALL +
                                       static_cast<int>(ConnectRule::AllToAll));
  spec.preBegin = qi.pre_begin;
  spec.preCount = qi.pre_end - qi.pre_begin;
  spec.postBegin = qi.post_begin;
  spec.postCount = qi.post_end - qi.post_begin;
  spec.preSize = m.pops[static_cast<size_t>(qi.pre)].size;
  spec.postSize = m.pops[static_cast<size_t>(qi.post)].size;
  spec.samePopulation = qi.pre == qi.post;
  spec.p = qi.p;
  spec.n = qi.n;
  spec.autapses = qi.autapses != 0;
  spec.multapses = qi.multapses != 0;
  spec.projection = static_cast<uint32_t>(q);
  return spec;
}

/// The synapses projection q will have: exact for the rules that fix the
/// count, the mean plus five standard deviations for fixed_probability.
uint64_t expectedSynapses(const ncl_model &m, size_t q) {
  const ConnectSpec spec = connectSpec(m, q);
  const double pairs = static_cast<double>(spec.preCount) * static_cast<double>(spec.postCount);
  switch (spec.rule) {
  case ConnectRule::AllToAll:
    return static_cast<uint64_t>(pairs);
  case ConnectRule::OneToOne:
    return static_cast<uint64_t>(spec.preCount);
  case ConnectRule::FixedProbability:
    return static_cast<uint64_t>(
        std::min(pairs, pairs * spec.p + 5 * std::sqrt(pairs * spec.p * (1 - spec.p)) + 1));
  case ConnectRule::FixedInDegree:
    return static_cast<uint64_t>(spec.n) * static_cast<uint64_t>(spec.postCount);
  case ConnectRule::FixedOutDegree:
    return static_cast<uint64_t>(spec.n) * static_cast<uint64_t>(spec.preCount);
  default:
    return static_cast<uint64_t>(spec.n);
  }
}

/// Bytes of one synapse of projection q: its postsynaptic index and each
/// per-synapse variable.
uint64_t bytesPerSynapse(const ncl_model &m, size_t q) {
  return sizeof(int32_t) + static_cast<uint64_t>(m.projs[q].info->num_vars) *
                               static_cast<uint64_t>(m.desc->real_bits / 8);
}

/// What the projections will hold (their synapses, expected, and rows) and
/// the spike histories of their presynaptic populations.
uint64_t synapseBytes(const ncl_model &m) {
  uint64_t bytes = 0;
  for (size_t q = 0; q < m.projs.size(); ++q) {
    const ncl_projection_info &qi = *m.projs[q].info;
    bytes = saturatingAdd(bytes, saturatingMul(expectedSynapses(m, q), bytesPerSynapse(m, q)));
    bytes = saturatingAdd(
        bytes, saturatingMul(static_cast<uint64_t>(m.pops[static_cast<size_t>(qi.pre)].size) + 1,
                             sizeof(int64_t)));
  }
  for (size_t p = 0; p < m.pops.size(); ++p)
    bytes = saturatingAdd(bytes, saturatingMul(static_cast<uint64_t>(historyDepth(m, p)),
                                               static_cast<uint64_t>(m.pops[p].size) * 4));
  return bytes;
}

} // namespace

MemoryPlan ncl::rt::planMemory(const ncl_model &m) {
  MemoryPlan plan;
  for (int32_t i = 0; i < m.desc->num_buffers; ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (!modelOwned(b))
      continue;
    const uint64_t bytes = saturatingMul(bufferElements(m, b), elementBytes(b.element));
    plan.state = saturatingAdd(plan.state, bytes);
    if (b.extent == NCL_EXTENT_NEURONS)
      plan.chunkStartCopy = saturatingAdd(plan.chunkStartCopy, bytes);
  }
  plan.synapses = synapseBytes(m);
  const uint64_t entry = spikeEntryBytes(m);
  for (int32_t k = 0; k < m.threads; ++k)
    plan.spikeBuffers =
        saturatingAdd(plan.spikeBuffers,
                      saturatingMul(static_cast<uint64_t>(spikeCapacityOfThread(m, k)), entry));
  return plan;
}

void ncl::rt::configureThreads(ncl_model &m) {
  const int32_t n = m.threads;
  // Buffers of the old layout go first, so the check sees what they free.
  m.threadStates.clear();
  checkMemory(m, planMemory(m).spikeBuffers,
              "the spike buffers of " + std::to_string(n) + " threads");
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
    for (size_t p = 0; p < np; ++p) {
      ts.chunkEvents[p].resize(static_cast<size_t>(std::max(0, m.pops[p].info->num_events)));
      std::tie(ts.begin[p], ts.end[p]) = partition(m.pops[p].size, k, n);
    }
    ts.chunkCounts.assign(np, 0);
    ts.spikeCapacity = spikeCapacityOfThread(m, k);
    const size_t cap = static_cast<size_t>(ts.spikeCapacity);
    ts.spikeStep.assign(hasRole(m, NCL_BUFFER_SPIKE_STEP) ? cap : 0, 0);
    ts.spikeIndex.assign(hasRole(m, NCL_BUFFER_SPIKE_INDEX) ? cap : 0, 0);
    ts.spikeChannel.assign(hasRole(m, NCL_BUFFER_SPIKE_CHANNEL) ? cap : 0, 0);
  }
  bindThreadBuffers(m);
  m.layoutDirty = false;
}

void ncl::rt::discardState(ncl_model &m) {
  m.initialized = false;
  m.layoutDirty = true;
  m.failure.clear();
  m.runEnd = RunEnd::Complete;
  m.runError.clear();
  m.step = 0;
  m.requestedSteps = 0;
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    if (!modelOwned(bufferInfo(m, i)))
      continue;
    m.buffers[i] = AlignedArray();
    m.buffersAtChunkStart[i] = AlignedArray();
    m.bufferPtrs[i] = nullptr;
  }
  for (ThreadState &ts : m.threadStates)
    ts.buffers.clear(); // rebound by configureThreads
  for (Projection &proj : m.projs) {
    proj.rowStart = {};
    proj.post = {};
    proj.synapses = 0;
    m.bufferPtrs[static_cast<size_t>(proj.rowStartBuffer)] = nullptr;
    m.bufferPtrs[static_cast<size_t>(proj.postIndexBuffer)] = nullptr;
  }
  m.history.clear();
  for (Population &pop : m.pops) {
    pop.record.clear();
    pop.record.shrink_to_fit();
    pop.events.assign(static_cast<size_t>(std::max(0, pop.info->num_events)), {});
    pop.spikeCount = 0;
  }
}

namespace {

/// Draws every projection's synapses from the seed (Connectivity.h), on the
/// pool's threads, then allocates their per-synapse buffers and the spike
/// histories. The row starts and postsynaptic indices stay in the
/// projection's vectors, which their buffer entries point at.
void buildProjections(ncl_model &m) {
  const ParallelFor parallelFor = [&m](int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
    forEachThread(m, [&](int k) {
      auto [begin, end] = partition(n, k, m.threads);
      if (begin < end)
        fn(begin, end);
    });
  };
  for (size_t q = 0; q < m.projs.size(); ++q) {
    Projection &proj = m.projs[q];
    const ConnectSpec spec = connectSpec(m, q);
    const std::string name = "projection '" + std::string(proj.info->name) + "'";
    if (std::string problem = validateConnectSpec(spec); !problem.empty())
      throw Error(NCL_ERROR_ARGUMENT, name + ": " + problem);
    proj.delaySteps = delaySteps(m, proj.info->delay);
    if (proj.delaySteps > INT32_MAX)
      throw Error(NCL_ERROR_ARGUMENT, name + ": its delay is too long for dt");
    Csr csr;
    try {
      csr = buildConnectivity(spec, m.seed, parallelFor);
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY, "out of memory building the synapses of " + name);
    } catch (const std::runtime_error &e) {
      throw Error(NCL_ERROR_ARGUMENT, name + ": " + e.what());
    }
    proj.rowStart = std::move(csr.rowPtr);
    proj.post = std::move(csr.post);
    proj.synapses = static_cast<int64_t>(proj.post.size());
    m.bufferPtrs[static_cast<size_t>(proj.rowStartBuffer)] = proj.rowStart.data();
    m.bufferPtrs[static_cast<size_t>(proj.postIndexBuffer)] = proj.post.data();
  }
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const ncl_buffer_info &b = bufferInfo(m, i);
    if (b.extent != NCL_EXTENT_SYNAPSES || !modelOwned(b))
      continue;
    const size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
    try {
      m.buffers[i] = AlignedArray(std::max<size_t>(bytes, 1));
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY,
                  "out of memory allocating buffer '" + std::string(b.name) + "'");
    }
    m.bufferPtrs[i] = m.buffers[i].data();
  }
  m.exchangeSteps = exchangeSteps(m);
  m.history.assign(m.pops.size(), SpikeHistory{});
  for (size_t p = 0; p < m.pops.size(); ++p) {
    SpikeHistory &h = m.history[p];
    h.depth = historyDepth(m, p);
    h.slots.assign(static_cast<size_t>(h.depth),
                   std::vector<std::vector<int32_t>>(static_cast<size_t>(m.threads)));
    for (auto &slot : h.slots)
      for (int32_t k = 0; k < m.threads; ++k) {
        auto [begin, end] = partition(m.pops[p].size, k, m.threads);
        slot[static_cast<size_t>(k)].reserve(static_cast<size_t>(end - begin));
      }
  }
}

} // namespace

void ncl::rt::initModel(ncl_model &m, uint64_t seed) {
  const double t0 = now();
  discardState(m);
  const MemoryPlan plan = planMemory(m);
  checkMemory(m, plan.total(),
              "this run (state " + formatBytes(plan.state) + ", its copy at each chunk start " +
                  formatBytes(plan.chunkStartCopy) + ", spike buffers " +
                  formatBytes(plan.spikeBuffers) +
                  (m.projs.empty() ? "" : ", synapses " + formatBytes(plan.synapses)) + ")");
  configureThreads(m);
  // Every model-owned buffer, zeroed; a per-neuron one also gets its
  // chunk-start copy. Per-synapse buffers come once the synapses are drawn.
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const ncl_buffer_info &b = bufferInfo(m, i);
    if (!modelOwned(b) || b.extent == NCL_EXTENT_SYNAPSES)
      continue;
    const Population &pop = m.pops[static_cast<size_t>(b.population)];
    const size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
    try {
      m.buffers[i] = AlignedArray(bytes);
      m.bufferPtrs[i] = m.buffers[i].data();
      if (b.extent == NCL_EXTENT_NEURONS)
        m.buffersAtChunkStart[i] = AlignedArray(bytes);
    } catch (const std::bad_alloc &) {
      discardState(m);
      throw Error(NCL_ERROR_MEMORY, "out of memory allocating the state of population '" +
                                        std::string(pop.info->name) + "' (" +
                                        std::to_string(pop.size) + " neurons; buffer '" + b.name +
                                        "')");
    }
  }
  m.seed = seed;
  try {
    buildProjections(m);
  } catch (...) {
    discardState(m);
    throw;
  }
  bindThreadBuffers(m);
  forEachThread(m, [&m](int k) {
    ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
    for (int32_t s = 0; s < m.desc->num_stages; ++s) {
      const ncl_stage_info &stage = m.desc->stages[s];
      if (stage.kind == NCL_STAGE_CONNECT) {
        // The synapses of this thread's share of the presynaptic rows.
        const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
        const size_t pre = static_cast<size_t>(proj.info->pre);
        ncl_kernel_args a = kernelArgs(m, ts, pre);
        std::tie(a.begin, a.end) = partition(m.pops[pre].size, k, m.threads);
        if (a.begin < a.end)
          stage.fn(&a);
        continue;
      }
      const size_t p = static_cast<size_t>(stage.population);
      if (stage.kind != NCL_STAGE_INIT || ts.begin[p] >= ts.end[p])
        continue;
      ncl_kernel_args a = kernelArgs(m, ts, p);
      stage.fn(&a);
    }
    scanThread(m, k);
  });
  if (anyNonFinite(m)) {
    m.runEnd = RunEnd::Failed;
    m.runError = nonFiniteReport(m, "in its initial value");
    failNumeric(m, m.runError);
  }
  m.initialized = true;
  m.initSeconds = now() - t0;
}

void ncl::rt::runModel(ncl_model &m, int64_t steps) {
  if (steps < 0)
    throw Error(NCL_ERROR_ARGUMENT, "cannot run a negative number of steps");
  if (!m.failure.empty())
    throw Error(NCL_ERROR_STATE,
                "the simulation stopped earlier (" + m.failure + "); call ncl_init to start again");
  if (!m.initialized)
    initModel(m, m.desc->default_seed);
  if (steps > INT32_MAX - m.step)
    throw Error(NCL_ERROR_ARGUMENT, "a run of " + std::to_string(steps) +
                                        " steps would pass step " + std::to_string(INT32_MAX) +
                                        ", the limit of the int32 refractory counters");
  if (m.layoutDirty)
    configureThreads(m);

  const double t0 = now();
  struct AddTime {
    ncl_model &m;
    double t0;
    ~AddTime() { m.simulateSeconds += now() - t0; }
  } addTime{m, t0};

  const int64_t start = m.step, target = m.step + steps;
  m.requestedSteps = target;
  m.runEnd = RunEnd::Complete;
  m.runError.clear();
  try {
    const int64_t chunk = chunkSteps(m);
    while (m.step < target) {
      if (m.interruptRequested.exchange(false)) {
        m.runEnd = RunEnd::Interrupted;
        m.runError = "interrupted after " + std::to_string(m.step - start) + " of " +
                     std::to_string(steps) +
                     " steps (at t = " + fmtSeconds(static_cast<double>(m.step) * m.dt) + ")";
        throw Error(NCL_ERROR_INTERRUPTED, m.runError);
      }
      const int64_t s0 = m.step, s1 = s0 + std::min(chunk, target - s0);
      // A network's chunk cannot be replayed from a copy of its neurons
      // (the spike history moved on), so its NaN report names the chunk.
      const bool replayable = m.projs.empty();
      advance(m, s0, s1, /*saveStart=*/replayable);
      if (replayable && anyNonFinite(m) &&
          std::all_of(m.threadStates.begin(), m.threadStates.end(),
                      [](const ThreadState &ts) { return ts.errorCode == NCL_OK; }))
        locateNonFinite(m, s0, s1);
      try {
        reserveRecords(m, s0);
      } catch (...) {
        if (!replayable) {
          m.failure = "out of memory growing the spike records at step " + std::to_string(s0);
          throw Error(NCL_ERROR_MEMORY, m.failure + "; the spikes recorded before it are kept");
        }
        // The records stay at s0, so the state goes back there too: the
        // model is consistent and could go on if memory were freed.
        forEachThread(m, [&m](int k) { copyChunkStart(m, k, /*restore=*/true); });
        try {
          throw;
        } catch (const std::bad_alloc &) {
          throw Error(NCL_ERROR_MEMORY, "out of memory growing the spike records at step " +
                                            std::to_string(s0) +
                                            "; the run stopped there with everything before "
                                            "it kept");
        }
      }
      mergeAllSpikes(m);
      m.step = s1;
      throwKernelErrors(m);
      if (anyNonFinite(m))
        failNumeric(m, nonFiniteReport(m, "between " + timeSpan(m, s0, s1)));
    }
  } catch (const Error &e) {
    if (m.runEnd != RunEnd::Interrupted) {
      m.runEnd = RunEnd::Failed;
      m.runError = e.what();
    }
    throw;
  } catch (const std::bad_alloc &) {
    // The spike records grow with the run; they are all that can run out.
    m.failure = m.runError = "out of memory while recording spikes at step " +
                             std::to_string(m.step) + "; the spikes recorded so far are kept";
    m.runEnd = RunEnd::Failed;
    throw Error(NCL_ERROR_MEMORY, m.runError);
  }
}
