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
#include "CudaBackend.h"
#include "ExplicitConnectivity.h"
#include "Model.h"
#include "Sources.h"
#include "ThreadPool.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <tuple>
#include <utility>

using namespace ncl::rt;

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
  return element == NCL_ELEMENT_I16                                 ? 2
         : element == NCL_ELEMENT_F32 || element == NCL_ELEMENT_I32 ? 4
                                                                    : 8;
}

/// Whether the runtime allocates entry i itself, once per model: not the
/// parameters (they are Population::params) nor the per-thread spike
/// buffers.
bool modelOwned(const ncl_buffer_info &b) {
  return b.role != NCL_BUFFER_PARAMS && b.extent != NCL_EXTENT_SPIKE_CAPACITY &&
         b.role != NCL_BUFFER_ROW_START && b.role != NCL_BUFFER_POST_INDEX &&
         b.role != NCL_BUFFER_CONNECT_MASK && b.role != NCL_BUFFER_COLUMN_START &&
         b.role != NCL_BUFFER_COLUMN_SYNAPSE && b.role != NCL_BUFFER_COLUMN_PRE &&
         !isPerThreadTraceRole(b.role);
}

/// Elements of a model-owned entry for the current sizes.
uint64_t bufferElements(const ncl_model &m, const ncl_buffer_info &b) {
  if (b.role == NCL_BUFFER_SERIES) { // as many as its file has, once loadSources read it
    const Population &pop = m.pops[static_cast<size_t>(b.population)];
    const size_t k = static_cast<size_t>(b.index);
    return k < pop.series.size() ? pop.series[k].samples.size() : 0;
  }
  switch (b.extent) {
  case NCL_EXTENT_NEURONS: {
    if (b.population >= 0)
      return static_cast<uint64_t>(m.pops[static_cast<size_t>(b.population)].units());
    // A projection's trace: one per neuron of its side.
    const Projection &proj = m.projs[static_cast<size_t>(b.projection)];
    const int32_t side = isPerThreadTraceRole(b.role) ? proj.info->pre : proj.info->post;
    return static_cast<uint64_t>(m.pops[static_cast<size_t>(side)].size);
  }
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
/// spike buffers (null where a thread has none) and presynaptic traces.
void bindThreadBuffers(ncl_model &m) {
  for (ThreadState &ts : m.threadStates) {
    ts.buffers = m.bufferPtrs;
    for (size_t i = 0; i < ts.buffers.size(); ++i) {
      const ncl_buffer_info &b = bufferInfo(m, i);
      if (isPerThreadTraceRole(b.role)) {
        ts.buffers[i] = i < ts.preTraces.size() ? ts.preTraces[i].data() : nullptr;
        continue;
      }
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
    neurons += p.units();
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

/// The shortest delay of a projection in steps: its shared delay, or the
/// shortest of its synapses' once they are drawn (0 before).
int64_t shortestDelay(const ncl_model &m, const Projection &proj) {
  return proj.delayBuffer >= 0 ? proj.minDelaySteps : delaySteps(m, proj.info->delay);
}

/// Whether some kernel reads, before the updates of a step, neurons that
/// other threads update in it: a sum stage (summed variables) or a
/// projection whose kernels read presynaptic state. The threads then meet
/// twice per step: after those reads and after the updates.
bool meetsEveryStep(const ncl_model &m) {
  for (int32_t i = 0; i < m.desc->num_stages; ++i)
    if (m.desc->stages[i].kind == NCL_STAGE_SUM)
      return true;
  for (const Projection &proj : m.projs)
    if (proj.info->reads_presynaptic_state)
      return true;
  return false;
}

/// Whether some stage is of kind `kind`.
bool hasStageOfKind(const ncl_model &m, int32_t kind) {
  for (int32_t i = 0; i < m.desc->num_stages; ++i)
    if (m.desc->stages[i].kind == kind)
      return true;
  return false;
}

/// Whether some population has a k-WTA stage, which needs all of the
/// population after its update in every step.
bool hasKwtaStage(const ncl_model &m) { return hasStageOfKind(m, NCL_STAGE_KWTA); }

/// Whether some spiking population has a k-WTA, which needs the keys of all
/// of the population before its update in every step.
bool hasSpikeGate(const ncl_model &m) {
  return hasStageOfKind(m, NCL_STAGE_KWTA_KEYS) || hasStageOfKind(m, NCL_STAGE_KWTA_GATE);
}

/// Steps between the threads' spike exchanges: the shortest delay plus one
/// (a spike sent in step s arrives at the start of step s + 1 + d); one
/// where the threads meet every step anyway.
int64_t exchangeSteps(const ncl_model &m) {
  if (meetsEveryStep(m) || hasKwtaStage(m) || hasSpikeGate(m))
    return 1;
  int64_t steps = INT64_MAX;
  for (const Projection &proj : m.projs)
    if (proj.delayBuffer < 0 || proj.synapses > 0)
      steps = std::min(steps, shortestDelay(m, proj) + 1);
  return steps == INT64_MAX ? 1 : steps;
}

/// Steps of spike history population p keeps: enough that a list written
/// in one exchange interval is read, at the latest, before the interval in
/// which it is written again. A projection with per-synapse delays reads
/// the lists of an interval right after it (queueArrivals), while other
/// threads may already write the next interval's. 0 when no projection
/// reads it.
int64_t historyDepth(const ncl_model &m, size_t p) {
  int64_t longest = -1;
  const int64_t exchange = exchangeSteps(m);
  for (const Projection &proj : m.projs) {
    if (static_cast<size_t>(proj.info->pre) == p)
      longest =
          std::max(longest, proj.delayBuffer >= 0 ? exchange : delaySteps(m, proj.info->delay));
    // on_post reads its thread's own list of the step before, or of
    // post_delay steps before that.
    if (static_cast<size_t>(proj.info->post) == p && proj.columnStartBuffer >= 0)
      longest = std::max<int64_t>(longest, delaySteps(m, proj.info->post_delay));
  }
  return longest < 0 ? 0 : longest + exchange + 1;
}

/// Spike buffer entries of thread k: none without recorded neurons, else
/// what the chunk could fill, between the floor and the ceiling above (or
/// the user's choice), and at least one neuron's worth of every channel.
int64_t spikeCapacityOfThread(const ncl_model &m, int32_t k) {
  int64_t perStep = 0, widest = 0;
  for (const Population &pop : m.pops) {
    if (!storesSpikes(pop))
      continue;
    auto [begin, end] = partition(pop.units(), k, m.threads);
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
  for (const Monitor &mon : m.monitors)
    held += mon.samples.capacity() + mon.counts.capacity() * sizeof(int64_t);
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

/// Runs a step-time stage: its CPU function, or its kernel on the CUDA
/// device when the model runs there (CudaBackend.h), which then also
/// leaves the spikes of a STEP stage in the thread's spike buffers.
void callStage(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a) {
  if (m.device)
    m.device->launch(m, stage, a);
  else
    stage.fn(&a);
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
  a.batch = m.batch;
  a.seed = m.seed;
  a.dt = m.dt;
  a.spike_capacity = storesSpikes(pop) ? ts.spikeCapacity : 0;
  return a;
}

/// The header of thread ts's calls of a stage of projection `proj`: over
/// its range of postsynaptic neurons, with both populations' sizes.
ncl_kernel_args projectionArgs(const ncl_model &m, ThreadState &ts, const Projection &proj) {
  ncl_kernel_args a = kernelArgs(m, ts, static_cast<size_t>(proj.info->post));
  a.pre_size = m.pops[static_cast<size_t>(proj.info->pre)].size;
  a.post_size = m.pops[static_cast<size_t>(proj.info->post)].size;
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
    if (b.extent != NCL_EXTENT_NEURONS || b.population < 0) // not a projection's traces
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

/// Copies, for every state monitor of population p (every one with p < 0)
/// that samples at step s, thread ts's share of its neurons into the row of
/// step s. Threads own disjoint neuron ranges, so they write disjoint parts
/// of a row.
void sampleStateMonitors(ncl_model &m, const ThreadState &ts, int64_t p, int64_t s) {
  const size_t elem = static_cast<size_t>(m.desc->real_bits / 8);
  for (size_t k = 0; k < m.monitors.size(); ++k) {
    Monitor &mon = m.monitors[k];
    const size_t q = static_cast<size_t>(mon.info->population);
    if (!mon.isState() || (p >= 0 && static_cast<size_t>(p) != q) || s % mon.info->every != 0)
      continue;
    const size_t buffer = static_cast<size_t>(m.pops[q].stateBuffer[mon.info->var]);
    const auto *from = static_cast<const unsigned char *>(m.bufferPtrs[buffer]);
    const int64_t row = s / mon.info->every, size = m.pops[q].size, width = mon.end - mon.begin;
    // A row holds each batch member's neurons [begin, end) in turn.
    for (int64_t b = 0; b < mon.members; ++b) {
      const int64_t first = b * size + mon.begin;
      const int64_t lo = std::max(first, ts.begin[q]), hi = std::min(b * size + mon.end, ts.end[q]);
      if (lo >= hi)
        continue;
      const size_t at = static_cast<size_t>(b * width + lo - first) * elem;
      if (m.device) { // the device holds the state during a run: a copy there
        m.device->sampleMonitor(m, k, row, at, buffer, lo, hi - lo, 1);
        continue;
      }
      std::memcpy(mon.samples.data() + static_cast<size_t>(row * mon.width()) * elem + at,
                  from + static_cast<size_t>(lo) * elem, static_cast<size_t>(hi - lo) * elem);
    }
  }
}

/// Copies, for every synapse monitor that samples at step s, the monitored
/// synapses that end on thread ts's postsynaptic neurons into the row of
/// step s: only that thread writes them (deliveries, on_post and synapse
/// dynamics go by postsynaptic neuron), and it has finished step s - 1.
void sampleSynapseMonitors(ncl_model &m, const ThreadState &ts, int64_t s) {
  const bool f32 = m.desc->real_bits == 32;
  for (size_t n = 0; n < m.monitors.size(); ++n) {
    Monitor &mon = m.monitors[n];
    if (!mon.isSynapse() || s % mon.info->every != 0)
      continue;
    const Projection &proj = m.projs[static_cast<size_t>(mon.info->projection)];
    const size_t post = static_cast<size_t>(proj.info->post);
    const int64_t lo = ts.begin[post], hi = ts.end[post];
    if (lo >= hi)
      continue;
    const size_t buffer = static_cast<size_t>(proj.varBuffer[mon.info->var]);
    const void *from = m.bufferPtrs[buffer];
    const size_t stride = synapseRecordLength(proj); // interleaved records
    const int64_t row = s / mon.info->every;
    if (m.device) { // one thread: every monitored synapse, a strided copy on the device
      m.device->sampleMonitor(m, n, row, 0, buffer, mon.begin, mon.end - mon.begin,
                              static_cast<int64_t>(stride));
      continue;
    }
    for (int64_t k = mon.begin; k < mon.end; ++k) {
      const int32_t j = proj.post[static_cast<size_t>(k)];
      if (j < lo || j >= hi)
        continue;
      const size_t at = static_cast<size_t>(row * mon.width() + k - mon.begin);
      const size_t element = static_cast<size_t>(k) * stride;
      if (f32)
        reinterpret_cast<float *>(mon.samples.data())[at] =
            static_cast<const float *>(from)[element];
      else
        reinterpret_cast<double *>(mon.samples.data())[at] =
            static_cast<const double *>(from)[element];
    }
  }
}

/// The first step after s at which a state monitor of population p samples
/// (INT64_MAX if none does).
int64_t nextSampleStep(const ncl_model &m, size_t p, int64_t s) {
  int64_t next = INT64_MAX;
  for (const Monitor &mon : m.monitors)
    if (mon.isState() && static_cast<size_t>(mon.info->population) == p)
      next = std::min(next, (s / mon.info->every + 1) * mon.info->every);
  return next;
}

/// Checks and keeps the spikes of one call of a step stage over neurons
/// [a.begin, a.end) from step `step`, which reported a.spike_count entries
/// (stepIn, indexIn, channelIn) and a.steps_done steps. Returns false after
/// a contract violation, which goes into the thread's state.
bool takeSpikes(ThreadState &ts, const ncl_stage_info &stage, const Population &pop,
                const ncl_kernel_args &a, int64_t step, const int64_t *stepIn,
                const int64_t *indexIn, const int32_t *channelIn, std::vector<int32_t> *emitted) {
  const size_t p = static_cast<size_t>(stage.population);
  const int32_t numEvents = pop.info->num_events;
  const bool recorded = storesSpikes(pop);
  const bool record = pop.info->record_spikes != 0;
  int64_t *rate = ts.chunkRates[p].empty() ? nullptr : ts.chunkRates[p].data();
  auto fail = [&](const std::string &what) {
    kernelError(ts, stage, pop, what);
    return false;
  };
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
      Spike s{stepIn[j], indexIn[j]};
      if (s.step < first || s.step > last || s.index < a.begin || s.index >= a.end)
        return fail("emitted a spike outside its step or neuron range");
      // Entries of a recorded population carry their event channel.
      const int32_t channel = numEvents > 0 ? channelIn[j] : 0;
      if (channel < 0 || channel > numEvents)
        return fail("emitted an unknown event channel " + std::to_string(channel));
      if (channel == 0) {
        if (record)
          out.push_back(s);
        if (rate)
          ++rate[(s.step - 1 - ts.chunkStart) * pop.batch + s.index / pop.size];
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
  return true;
}

/// Where a sorted run of a population's spikes ends in the thread's lists
/// (after a block of neurons went through all its steps).
void endSpikeRun(const ThreadState &ts, size_t p, SpikeRuns &runs) {
  runs.spikes.push_back(ts.chunkSpikes[p].size());
  for (size_t e = 0; e < runs.events.size(); ++e)
    runs.events[e].push_back(ts.chunkEvents[p][e].size());
}

/// The step launches of a chunk on the CUDA device whose spikes stay there
/// until the host collects them (CudaDevice::launchDeferred): a model whose
/// host needs no spike before the chunk's end. Each is then taken as it
/// would have been at its launch, in launch order.
struct DeferredSteps {
  struct Launch {
    const ncl_stage_info *stage;
    ncl_kernel_args a;
    int64_t step;
    SpikeRuns *runs;
    bool endsRun;                  // the last launch of a block of neurons
    std::vector<int32_t> *emitted; // a network's history slot, or null
    bool clearsEmitted;            // the step's first launch: the slot's old list goes
  };
  std::vector<Launch> launches;
};

/// The spike entries thread ts's ranges may emit in one step: each stored
/// neuron's channels (what a chunk's deferred launches need, per step).
int64_t spikeEntriesPerStep(const ncl_model &m, const ThreadState &ts) {
  int64_t entries = 0;
  for (size_t p = 0; p < m.pops.size(); ++p)
    if (storesSpikes(m.pops[p]))
      entries += (ts.end[p] - ts.begin[p]) * channels(m.pops[p]);
  return entries;
}

/// Reads back the deferred launches' spikes and takes them in launch
/// order, ending the sorted runs where their blocks of neurons ended.
/// Returns false after a contract violation, as runStepStage does.
bool collectDeferred(ncl_model &m, ThreadState &ts, DeferredSteps &deferred) {
  const std::vector<CudaDevice::LaunchSpikes> got = m.device->collectSpikes(m);
  std::vector<DeferredSteps::Launch> launches = std::move(deferred.launches);
  deferred.launches.clear();
  for (size_t i = 0; i < launches.size() && i < got.size(); ++i) {
    DeferredSteps::Launch &l = launches[i];
    const size_t p = static_cast<size_t>(l.stage->population);
    l.a.spike_count = got[i].count;
    if (l.emitted && l.clearsEmitted)
      l.emitted->clear();
    if (!takeSpikes(ts, *l.stage, m.pops[p], l.a, l.step, got[i].step, got[i].index, got[i].channel,
                    l.emitted))
      return false;
    if (l.endsRun)
      endSpikeRun(ts, p, *l.runs);
  }
  return true;
}

/// Runs one step stage over thread ts's range of its population, steps
/// [s0, s1). A recorded range wider than the spike buffer allows is stepped
/// in blocks of neurons, each through all the steps; neurons are
/// independent, so this changes only the order of the spike list, which is
/// merged back into (step, index) order. With `deferred`, the launches'
/// spikes stay on the device until collectDeferred. Returns false after a
/// contract violation, which goes into the thread's state for the caller
/// to report; only bad_alloc throws.
bool runStepStage(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage, int64_t s0,
                  int64_t s1, SpikeRuns &runs, std::vector<int32_t> *emitted = nullptr,
                  DeferredSteps *deferred = nullptr) {
  const size_t p = static_cast<size_t>(stage.population);
  const Population &pop = m.pops[p];
  const bool recorded = storesSpikes(pop);
  ncl_kernel_args a = kernelArgs(m, ts, p);
  const int64_t capacity = a.spike_capacity;
  const int64_t block =
      recorded ? std::max<int64_t>(1, ts.spikeCapacity / channels(pop)) : ts.end[p] - ts.begin[p];
  for (int64_t lo = ts.begin[p]; lo < ts.end[p]; lo += block) {
    a.begin = lo;
    a.end = std::min(lo + block, ts.end[p]);
    int64_t step = s0;
    while (step < s1) {
      a.first_step = step;
      a.num_steps = s1 - step;
      a.spike_count = 0;
      a.steps_done = 0;
      a.spike_capacity = capacity;
      if (deferred) {
        if (!m.device->launchDeferred(m, stage, a)) {
          if (!collectDeferred(m, ts, *deferred))
            return false;
          a.spike_capacity = capacity;
          if (!m.device->launchDeferred(m, stage, a)) {
            kernelError(ts, stage, pop, "found no room for its spikes on the device");
            return false;
          }
        }
        deferred->launches.push_back(
            {&stage, a, step, &runs, false, emitted, lo == ts.begin[p] && step == s0});
        if (a.steps_done <= 0) {
          kernelError(ts, stage, pop, "made no progress");
          return false;
        }
        step += a.steps_done;
        continue;
      }
      callStage(m, stage, a);
      if (!takeSpikes(ts, stage, pop, a, step, ts.spikeStep.data(), ts.spikeIndex.data(),
                      ts.spikeChannel.data(), emitted))
        return false;
      step += a.steps_done;
    }
    if (deferred)
      deferred->launches.back().endsRun = true;
    else
      endSpikeRun(ts, p, runs);
  }
  return true;
}

/// Delivers, in step s, the spikes projection q's presynaptic population
/// sent d + 1 steps earlier (d its delay in steps) to thread ts's range of
/// postsynaptic neurons: every thread's list of that step, in thread order,
/// so in ascending presynaptic order for any thread count.
/// Runs advance stage `stage` of a projection (-1: none) for step s over
/// neurons [begin, end) of its side: the traces' values at t_s, which the
/// deliver (postsynaptic) or on_post (presynaptic) calls of the step then
/// read at every synapse. Called before the first such call that has work,
/// so a step without spikes to apply computes nothing.
void advanceTraces(ncl_model &m, ThreadState &ts, int32_t stage, size_t side, int64_t begin,
                   int64_t end, int64_t s) {
  if (stage < 0)
    return;
  ncl_kernel_args a = kernelArgs(m, ts, side);
  a.begin = begin;
  a.end = end;
  a.first_step = s;
  a.num_steps = 1;
  callStage(m, m.desc->stages[stage], a);
}

void deliver(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage, int64_t s,
             bool listsOnDevice) {
  const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  if (ts.begin[post] >= ts.end[post])
    return;
  const Population &pre = m.pops[static_cast<size_t>(proj.info->pre)];
  if (pre.info->source_kind == NCL_SOURCE_SPIKE_GENERATOR) {
    // Known in advance: the spikes stamped at step index s - d, from the
    // generator's sorted table rather than a history.
    auto [first, last] = generatorSpikesAt(pre, s - proj.delaySteps);
    if (first == last)
      return;
    advanceTraces(m, ts, proj.advancePostStage, post, ts.begin[post], ts.end[post], s);
    ncl_kernel_args a = projectionArgs(m, ts, proj);
    a.first_step = s;
    a.num_steps = 1;
    a.spikes = first;
    a.num_spikes = last - first;
    if (m.batch > 1) {
      // A generator's spikes are every member's: b * n + i for each b.
      std::vector<int32_t> &all = ts.generatorSpikes;
      all.clear();
      for (int64_t b = 0; b < m.batch; ++b)
        for (const int32_t *i = first; i != last; ++i)
          all.push_back(static_cast<int32_t>(b * pre.size + *i));
      a.spikes = all.data();
      a.num_spikes = static_cast<int64_t>(all.size());
    }
    callStage(m, stage, a);
    return;
  }
  const int64_t sent = s - 1 - proj.delaySteps;
  if (sent < 0)
    return;
  const SpikeHistory &h = m.history[static_cast<size_t>(proj.info->pre)];
  ncl_kernel_args a = projectionArgs(m, ts, proj);
  a.first_step = s;
  a.num_steps = 1;
  if (listsOnDevice) {
    // The list is on the device, its length unknown here: the traces are
    // advanced whether or not it is empty (their values are scratch, the
    // same for any number of calls), and an empty list applies nothing.
    advanceTraces(m, ts, proj.advancePostStage, post, ts.begin[post], ts.end[post], s);
    m.device->launchListed(m, stage, a, static_cast<size_t>(proj.info->pre), sent % h.depth);
    return;
  }
  bool advanced = false;
  for (const std::vector<int32_t> &list : h.slots[static_cast<size_t>(sent % h.depth)]) {
    if (list.empty())
      continue;
    if (!advanced)
      advanceTraces(m, ts, proj.advancePostStage, post, ts.begin[post], ts.end[post], s);
    advanced = true;
    a.spikes = list.data();
    a.num_spikes = static_cast<int64_t>(list.size());
    callStage(m, stage, a);
  }
}

/// Applies, in step s, the synapses of projection q (per-synapse delays)
/// whose spikes arrive in s at thread ts's postsynaptic neurons, in the
/// order queueArrivals listed them, and empties their slot.
void deliverSynapses(ncl_model &m, int k, const ncl_stage_info &stage, int64_t s) {
  Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  SynapseQueue &queue = proj.queues[static_cast<size_t>(k)];
  std::vector<int64_t> &slot =
      queue.slots[static_cast<size_t>(s % static_cast<int64_t>(queue.slots.size()))];
  if (slot.empty())
    return;
  const size_t post = static_cast<size_t>(proj.info->post);
  advanceTraces(m, ts, proj.advancePostStage, post, ts.begin[post], ts.end[post], s);
  ncl_kernel_args a = projectionArgs(m, ts, proj);
  a.size = m.pops[static_cast<size_t>(proj.info->pre)].size; // the rows, for on_pre's pre reads
  a.first_step = s;
  a.num_steps = 1;
  a.synapses = slot.data();
  a.num_synapses = static_cast<int64_t>(slot.size());
  callStage(m, stage, a);
  slot.clear();
}

/// deliverSynapses on the CUDA device, whose arrival queues are there too:
/// the step's list, which CudaDevice::orderArrivals made, by target. The
/// traces are advanced whether or not it is empty (scratch values, as for a
/// list made on the device in deliver).
void deliverSynapsesOnDevice(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage,
                             int64_t s) {
  const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  if (ts.begin[post] >= ts.end[post] || proj.synapses == 0)
    return;
  advanceTraces(m, ts, proj.advancePostStage, post, ts.begin[post], ts.end[post], s);
  ncl_kernel_args a = projectionArgs(m, ts, proj);
  a.size = m.pops[static_cast<size_t>(proj.info->pre)].size; // the rows, for on_pre's pre reads
  a.first_step = s;
  a.num_steps = 1;
  m.device->launchArrivals(m, stage, a);
}

/// After the exchange that ends steps [s0, s1): for every projection with
/// per-synapse delays, puts each synapse of thread k's postsynaptic range
/// that a spike of those steps reached into the slot of its arrival step
/// s + 1 + d. Spikes are taken by step, then presynaptic index (the
/// threads' lists in thread order), a row's synapses in their order
/// (ascending postsynaptic index), so every slot lists its synapses by
/// (source step, presynaptic index, postsynaptic index) on any thread
/// count. An arrival is never earlier than s1: the interval is at most the
/// shortest delay plus one steps long.
void queueArrivals(ncl_model &m, int k, int64_t s0, int64_t s1) {
  const ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  for (Projection &proj : m.projs) {
    if (proj.delayBuffer < 0 || proj.synapses == 0)
      continue;
    const size_t post = static_cast<size_t>(proj.info->post);
    const int32_t begin = static_cast<int32_t>(ts.begin[post]);
    const int32_t end = static_cast<int32_t>(ts.end[post]);
    if (begin >= end)
      continue;
    const void *delays = m.bufferPtrs[static_cast<size_t>(proj.delayBuffer)];
    const SpikeHistory &h = m.history[static_cast<size_t>(proj.info->pre)];
    std::vector<std::vector<int64_t>> &slots = proj.queues[static_cast<size_t>(k)].slots;
    const int64_t size = static_cast<int64_t>(slots.size());
    for (int64_t s = s0; s < s1; ++s)
      for (const std::vector<int32_t> &list : h.slots[static_cast<size_t>(s % h.depth)])
        for (int32_t i : list) {
          const auto row = proj.post.begin();
          auto first = std::lower_bound(row + proj.rowStart[static_cast<size_t>(i)],
                                        row + proj.rowStart[static_cast<size_t>(i) + 1], begin);
          auto last = std::lower_bound(first, row + proj.rowStart[static_cast<size_t>(i) + 1], end);
          for (auto it = first; it != last; ++it) {
            const int64_t synapse = it - row;
            const int64_t arrival = s + 1 + proj.delayOf(delays, synapse);
            slots[static_cast<size_t>(arrival % size)].push_back(synapse);
          }
        }
  }
}

/// Runs, in step s, projection q's on_post for the postsynaptic neurons of
/// thread ts's range that spiked at t_{s - D}, D its dendritic delay in
/// steps: those its update found in step s - 1 - D (its own list,
/// ascending, which the history keeps D + 1 steps longer), or a spike
/// generator's spikes stamped at step index s - D.
void onPost(ncl_model &m, int k, const ncl_stage_info &stage, int64_t s, bool listsOnDevice) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  if (ts.begin[post] >= ts.end[post] || proj.synapses == 0)
    return;
  const Population &target = m.pops[post];
  const int64_t spiked = s - delaySteps(m, proj.info->post_delay);
  const int32_t *first = nullptr, *last = nullptr;
  if (target.info->source_kind == NCL_SOURCE_SPIKE_GENERATOR) {
    auto [all, end] = generatorSpikesAt(target, spiked);
    first = std::lower_bound(all, end, static_cast<int32_t>(ts.begin[post]));
    last = std::lower_bound(first, end, static_cast<int32_t>(ts.end[post]));
  } else {
    if (spiked < 1)
      return;
    const SpikeHistory &h = m.history[post];
    if (listsOnDevice) {
      // As deliver: the list and its length are on the device.
      const size_t pre = static_cast<size_t>(proj.info->pre);
      advanceTraces(m, ts, proj.advancePreStage, pre, 0, m.pops[pre].size, s);
      ncl_kernel_args a = projectionArgs(m, ts, proj);
      a.size = m.pops[pre].size;
      a.first_step = s;
      a.num_steps = 1;
      m.device->launchListed(m, stage, a, post, (spiked - 1) % h.depth);
      return;
    }
    const std::vector<int32_t> &list =
        h.slots[static_cast<size_t>((spiked - 1) % h.depth)][static_cast<size_t>(k)];
    first = list.data();
    last = first + list.size();
  }
  if (first == last)
    return;
  // Every presynaptic neuron: the column may hold any of them.
  const size_t pre = static_cast<size_t>(proj.info->pre);
  advanceTraces(m, ts, proj.advancePreStage, pre, 0, m.pops[pre].size, s);
  ncl_kernel_args a = projectionArgs(m, ts, proj);
  a.size = m.pops[pre].size; // the rows, for on_post's pre reads
  a.first_step = s;
  a.num_steps = 1;
  a.spikes = first;
  a.num_spikes = last - first;
  callStage(m, stage, a);
}

/// Adds projection q's summed variables of step s to thread ts's range of
/// postsynaptic neurons, or (a SYNAPSE_STEP stage) advances the synapses
/// onto that range by step s: both walk every presynaptic row.
void sum(ncl_model &m, ThreadState &ts, const ncl_stage_info &stage, int64_t s) {
  const Projection &proj = m.projs[static_cast<size_t>(stage.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  if (ts.begin[post] >= ts.end[post])
    return;
  ncl_kernel_args a = projectionArgs(m, ts, proj);
  a.size = m.pops[static_cast<size_t>(proj.info->pre)].size; // the rows it walks
  a.first_step = s;
  a.num_steps = 1;
  callStage(m, stage, a);
}

/// Thread 0's call, in step s, of every stage of `kind` over its whole
/// population (every batch member's row): the k-WTA selections, which need
/// every neuron at once.
void runOverWholePopulations(ncl_model &m, int32_t kind, int64_t s) {
  ThreadState &ts = m.threadStates[0];
  for (int32_t i = 0; i < m.desc->num_stages; ++i) {
    const ncl_stage_info &stage = m.desc->stages[i];
    if (stage.kind != kind)
      continue;
    const size_t p = static_cast<size_t>(stage.population);
    ncl_kernel_args a = kernelArgs(m, ts, p);
    a.begin = 0;
    a.end = m.pops[p].units();
    a.first_step = s;
    a.num_steps = 1;
    callStage(m, stage, a);
  }
}

/// The k-WTA stages of step s, after every update of it: the threads meet,
/// thread 0 runs each stage over its whole population, and the barrier
/// that ends the step (every step, with k-WTA) holds the others until it is
/// done. One thread selects, so the winners are the same on any thread count.
void selectWinners(ncl_model &m, int k, int64_t s, SpinBarrier *barrier) {
  if (barrier)
    barrier->wait();
  if (k == 0)
    runOverWholePopulations(m, NCL_STAGE_KWTA, s);
}

/// The spike gates of step s, before its updates (docs/runtime.md, "k-WTA
/// stages"): every thread computes the keys of its neurons, the threads
/// meet, thread 0 selects over each whole population and leaves the gate
/// in the key buffer, and the threads meet again before any update reads
/// it. One thread selects, so the gate is the same on any thread count.
void gateSpikes(ncl_model &m, int k, int64_t s, SpinBarrier *barrier) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  for (int32_t i = 0; i < m.desc->num_stages && ts.errorCode == NCL_OK; ++i) {
    const ncl_stage_info &stage = m.desc->stages[i];
    const size_t p = static_cast<size_t>(stage.population);
    if (stage.kind != NCL_STAGE_KWTA_KEYS || ts.begin[p] >= ts.end[p])
      continue;
    ncl_kernel_args a = kernelArgs(m, ts, p);
    a.first_step = s;
    a.num_steps = 1;
    callStage(m, stage, a);
  }
  if (barrier)
    barrier->wait();
  if (k == 0)
    runOverWholePopulations(m, NCL_STAGE_KWTA_GATE, s);
  if (barrier)
    barrier->wait();
}

/// Whether a network's chunk on the CUDA device keeps its spike lists on
/// the device (docs/gpu.md, "Spikes on the device"), so that the host waits
/// for its spikes once a chunk rather than once a step: the images can make
/// the lists, the arrival queues of per-synapse delays can stay there too
/// (CudaDevice::queuesArrivals), and each population whose history the deliveries read
/// stores its spikes and steps all its units in one launch.
bool spikesStayOnDevice(const ncl_model &m, const ThreadState &ts) {
  if (!m.device || !m.device->listsSpikes() || m.threads != 1 ||
      (m.queuesArrivals && !m.device->queuesArrivals(m)))
    return false;
  for (size_t p = 0; p < m.pops.size(); ++p) {
    if (m.history[p].depth <= 0)
      continue;
    const Population &pop = m.pops[p];
    if (!storesSpikes(pop) || ts.spikeCapacity / channels(pop) < ts.end[p] - ts.begin[p])
      return false;
  }
  return true;
}

/// A network's chunk on thread k: step by step, each step's stages in the
/// descriptor's order (deliveries, sums, then updates), the spikes each
/// update sends kept in the history; threads meet every exchangeSteps
/// steps, the shortest delay plus one, so that no delivery reads a list
/// that is being written (docs/semantics.md). Where kernels read neurons
/// of other threads before the updates (summed variables, presynaptic
/// state), they also meet between those reads and the updates.
void stepNetworkThread(ncl_model &m, int k, int64_t s0, int64_t s1, SpinBarrier *barrier,
                       std::vector<SpikeRuns> &runs) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  // On the CUDA device every update of a step is launched before the host
  // waits, once, for all their spikes (docs/gpu.md, "The CUDA backend");
  // where the spike lists stay on the device, once at the chunk's end.
  DeferredSteps deferred;
  DeferredSteps *defer = m.device ? &deferred : nullptr;
  const bool listsOnDevice = defer && spikesStayOnDevice(m, ts);
  // And so do the arrival queues of per-synapse delays.
  const bool arrivalsOnDevice = listsOnDevice && m.queuesArrivals;
  if (defer) {
    if (listsOnDevice) {
      m.device->prepareSpikeHistory(m);
      if (arrivalsOnDevice)
        m.device->prepareArrivals(m);
    } else {
      m.device->spikeHistoryStale();
      if (m.queuesArrivals)
        m.device->arrivalsToHost(m, true);
    }
    m.device->planDeferred(spikeEntriesPerStep(m, ts) *
                           (listsOnDevice ? s1 - s0 : std::min(m.exchangeSteps, s1 - s0)));
  }
  // Through the host, the spikes are collected when the host reads them:
  // at the end of each exchange interval (queueArrivals; a delivery reads
  // no list of its own interval, as on the CPU's threads), or every step
  // where an on_post reads a recent list: every m.collectSteps.
  for (int64_t s = s0; s < s1; ++s) {
    sampleStateMonitors(m, ts, -1, s);
    sampleSynapseMonitors(m, ts, s);
    if (arrivalsOnDevice)
      m.device->orderArrivals(m, s, s0);
    for (int32_t i = 0; i < m.desc->num_stages && ts.errorCode == NCL_OK; ++i) {
      const ncl_stage_info &stage = m.desc->stages[i];
      if (stage.kind == NCL_STAGE_DELIVER)
        deliver(m, ts, stage, s, listsOnDevice);
      else if (stage.kind == NCL_STAGE_DELIVER_SYNAPSES && arrivalsOnDevice)
        deliverSynapsesOnDevice(m, ts, stage, s);
      else if (stage.kind == NCL_STAGE_DELIVER_SYNAPSES)
        deliverSynapses(m, k, stage, s);
      else if (stage.kind == NCL_STAGE_ON_POST)
        onPost(m, k, stage, s, listsOnDevice);
      else if (stage.kind == NCL_STAGE_SUM || stage.kind == NCL_STAGE_SYNAPSE_STEP)
        sum(m, ts, stage, s);
    }
    // A thread that failed still meets the others, which wait for it.
    if (barrier && m.meetEveryStep)
      barrier->wait();
    if (m.gatesSpikes)
      gateSpikes(m, k, s, barrier);
    for (int32_t i = 0; i < m.desc->num_stages && ts.errorCode == NCL_OK; ++i) {
      const ncl_stage_info &stage = m.desc->stages[i];
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
        if (ts.begin[p] < ts.end[p] &&
            runStepStage(m, ts, stage, s, s + 1, runs[p], emitted, defer) && listsOnDevice &&
            emitted)
          m.device->listSpikes(m, p, s % m.history[p].depth);
        // A network's lists are in (step, index) order already: the run
        // bounds are not needed, and must not grow a vector every step.
        if (!defer) {
          runs[p].spikes.resize(1);
          for (std::vector<size_t> &e : runs[p].events)
            e.resize(1);
        }
      } catch (const std::bad_alloc &) {
        ts.errorCode = NCL_ERROR_MEMORY;
        ts.error = "out of memory while recording spikes";
      }
    }
    // The step's spike lists in one launch, after its updates (which then
    // run as one launch of their shared entry).
    if (listsOnDevice)
      m.device->flushSpikeLists(m);
    // The chunk leaves every queue whole: its last spikes queued (whether
    // a step had more arrivals than a queue holds, every collection checks).
    if (arrivalsOnDevice && s + 1 == s1 && ts.errorCode == NCL_OK)
      m.device->queueSent(m, s);
    if (defer && (s + 1 == s1 || (!listsOnDevice && (s + 1 - s0) % m.collectSteps == 0))) {
      try {
        // The step's (or chunk's) spikes, taken in launch order: as if each
        // launch had been read back at once.
        if (ts.errorCode == NCL_OK)
          collectDeferred(m, ts, deferred);
        for (SpikeRuns &r : runs) {
          r.spikes.resize(1);
          for (std::vector<size_t> &e : r.events)
            e.resize(1);
        }
      } catch (const std::bad_alloc &) {
        ts.errorCode = NCL_ERROR_MEMORY;
        ts.error = "out of memory while recording spikes";
      }
    }
    if (m.selectsWinners)
      selectWinners(m, k, s, barrier);
    // A thread that failed still meets the others, which wait for it.
    if ((s + 1 - s0) % m.exchangeSteps == 0 || s + 1 == s1) {
      if (barrier)
        barrier->wait();
      if (m.queuesArrivals && !arrivalsOnDevice) {
        try {
          const int64_t intervalStart = s - (s - s0) % m.exchangeSteps;
          queueArrivals(m, k, intervalStart, s + 1);
        } catch (const std::bad_alloc &) {
          ts.errorCode = NCL_ERROR_MEMORY;
          ts.error = "out of memory queueing the spikes of per-synapse delays";
        }
      }
    }
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
  ts.chunkStart = s0;
  for (const Monitor &mon : m.monitors)
    if (mon.isRate())
      ts.chunkRates[static_cast<size_t>(mon.info->population)].assign(
          static_cast<size_t>((s1 - s0) * mon.members), 0);
  if (!m.projs.empty() || m.selectsWinners || m.gatesSpikes) {
    stepNetworkThread(m, k, s0, s1, barrier, runs);
    // Steps outside, so each thread's list is in (step, index) order already.
    return;
  }
  // On the CUDA device the spikes stay there until the chunk's end: the
  // host needs none before (docs/gpu.md, "The CUDA backend").
  DeferredSteps deferred;
  DeferredSteps *defer = m.device ? &deferred : nullptr;
  if (defer)
    m.device->planDeferred(spikeEntriesPerStep(m, ts) * (s1 - s0));
  for (int32_t s = 0; s < m.desc->num_stages; ++s) {
    const ncl_stage_info &stage = m.desc->stages[s];
    const size_t p = static_cast<size_t>(stage.population);
    if (stage.kind != NCL_STAGE_STEP || ts.begin[p] >= ts.end[p])
      continue;
    // Populations are independent: each runs up to its own monitors' next
    // sample, many steps per kernel call between samples.
    for (int64_t a = s0; a < s1;) {
      sampleStateMonitors(m, ts, static_cast<int64_t>(p), a);
      const int64_t b = std::min(s1, nextSampleStep(m, p, a));
      if (!runStepStage(m, ts, stage, a, b, runs[p], nullptr, defer))
        return;
      a = b;
    }
  }
  if (defer && !collectDeferred(m, ts, deferred))
    return;
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
/// variable), so the report does not depend on the partition. Without
/// `scan` (a device that found every value finite) it only clears the last
/// report.
void scanThread(ncl_model &m, int k, bool scan = true) {
  ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
  ts.badPop = ts.badVar = -1;
  ts.badIndex = -1;
  if (!scan) // the device found every value finite
    return;
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
  const std::string neuron = pop.batch > 1
                                 ? std::to_string(bad->badIndex % pop.size) + " of batch member " +
                                       std::to_string(bad->badIndex / pop.size)
                                 : std::to_string(bad->badIndex);
  return "population '" + std::string(pop.info->name) + "': variable '" +
         pop.info->vars[bad->badVar].name + "' of neuron " + neuron + " became " + what + " " +
         when + "; check the parameters and dt";
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
  if ((!m.projs.empty() || m.selectsWinners || m.gatesSpikes) && m.threads > 1)
    barrier = std::make_unique<SpinBarrier>(m.threads);
  forEachThread(m, [&m, s0, s1, saveStart, &barrier](int k) {
    // An exception must not escape a worker thread (std::terminate);
    // recording spikes is the only thing here that allocates.
    // A device that tests the state itself keeps the chunk's start too, and
    // the host scans only where it found a value that is not finite.
    const bool onDevice = m.device && m.device->testsStateOnDevice();
    bool scan = true;
    try {
      if (saveStart && onDevice)
        m.device->saveChunkStart(m); // one host thread drives the device
      else if (saveStart)
        copyChunkStart(m, k, /*restore=*/false);
      stepThread(m, k, s0, s1, barrier.get());
      if (onDevice)
        scan = m.device->testNeuronState(m, /*replayable=*/saveStart);
      else if (m.device)
        m.device->downloadNeuronState(m, /*replayable=*/saveStart);
    } catch (const std::bad_alloc &) {
      ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
      ts.errorCode = NCL_ERROR_MEMORY;
      ts.error = "out of memory while recording spikes";
    }
    scanThread(m, k, scan);
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

/// Stores the threads' spike counts of steps [s0, s1) in the rate
/// monitors. Assigned, not added, so a replayed chunk counts once.
void collectRates(ncl_model &m, int64_t s0, int64_t s1) {
  for (Monitor &mon : m.monitors) {
    if (!mon.isRate())
      continue;
    const size_t p = static_cast<size_t>(mon.info->population);
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t b = 0; b < mon.members; ++b) {
        int64_t count = 0;
        for (const ThreadState &ts : m.threadStates)
          if (!ts.chunkRates[p].empty())
            count += ts.chunkRates[p][static_cast<size_t>((s - ts.chunkStart) * mon.members + b)];
        mon.counts[static_cast<size_t>(s * mon.members + b)] = count;
      }
  }
}

/// Grows every monitor's storage to hold the samples of a run to step
/// `target`, checking the memory first: a run that cannot keep its samples
/// is refused before its first step.
void reserveMonitors(ncl_model &m, int64_t target) {
  uint64_t need = 0;
  for (size_t k = 0; k < m.monitors.size(); ++k) {
    const uint64_t bytes = monitorBytes(m, k, target);
    const Monitor &mon = m.monitors[k];
    const uint64_t held = mon.samples.size() + mon.counts.size() * sizeof(int64_t);
    if (bytes > held)
      need = saturatingAdd(need, bytes);
  }
  if (need == 0)
    return;
  checkMemory(m, need, "recording the monitors to step " + std::to_string(target));
  const size_t elem = static_cast<size_t>(m.desc->real_bits / 8);
  for (Monitor &mon : m.monitors) {
    const size_t rows = static_cast<size_t>(mon.rows(target));
    if (!mon.isRate()) {
      const size_t bytes = rows * static_cast<size_t>(mon.width()) * elem;
      if (bytes > mon.samples.size())
        mon.samples.resize(bytes);
    } else if (rows * static_cast<size_t>(mon.members) > mon.counts.size()) {
      mon.counts.resize(rows * static_cast<size_t>(mon.members));
    }
  }
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
  if (m.device)
    m.device->uploadNeuronState(m);
  for (int64_t s = s0; s < s1; ++s) {
    advance(m, s, s + 1, /*saveStart=*/false);
    mergeAllSpikes(m);
    recordGeneratorSpikes(m, s, s + 1);
    collectRates(m, s, s + 1);
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
  case ConnectRule::Explicit:
  case ConnectRule::Condition:
    return 0; // known once built; buildProjections checks memory then
  default:
    return static_cast<uint64_t>(spec.n);
  }
}

/// Bytes of one synapse of projection q as ncl_init allocates them: its
/// postsynaptic index, each per-synapse variable and its delay in steps
/// where it has its own (two bytes while the connect stage draws them,
/// whatever narrowSynapseDelays made of an earlier init's).
uint64_t bytesPerSynapse(const ncl_model &m, size_t q) {
  return sizeof(int32_t) +
         static_cast<uint64_t>(m.projs[q].info->num_vars) *
             static_cast<uint64_t>(m.desc->real_bits / 8) +
         (m.projs[q].delayBuffer >= 0 ? sizeof(uint16_t) : 0) +
         (m.projs[q].columnSynapseBuffer >= 0 ? sizeof(int32_t) : 0) +
         (m.projs[q].columnPreBuffer >= 0 ? sizeof(int32_t) : 0);
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
                                               static_cast<uint64_t>(m.pops[p].units()) * 4));
  return bytes;
}

/// Projection proj's per-synapse delays in a new buffer of `bytes` (1 or
/// 2) per delay, the same values; the caller binds the threads' tables.
void storeDelaysIn(ncl_model &m, Projection &proj, int32_t bytes) {
  const size_t b = static_cast<size_t>(proj.delayBuffer);
  const void *from = m.bufferPtrs[b];
  AlignedArray to(std::max<size_t>(static_cast<size_t>(proj.synapses * bytes), 1));
  for (int64_t k = 0; k < proj.synapses; ++k) {
    const auto d = static_cast<uint16_t>(proj.delayOf(from, k));
    if (bytes == 1)
      static_cast<uint8_t *>(to.data())[k] = static_cast<uint8_t>(d);
    else
      static_cast<uint16_t *>(to.data())[k] = d;
  }
  m.buffers[b] = std::move(to);
  m.bufferPtrs[b] = m.buffers[b].data();
  proj.delayBytes = bytes;
}

} // namespace

void ncl::rt::widenSynapseDelays(ncl_model &m) {
  bool any = false;
  for (Projection &proj : m.projs)
    if (proj.delayBuffer >= 0 && proj.delayBytes == 1) {
      storeDelaysIn(m, proj, 2);
      any = true;
    }
  if (any)
    bindThreadBuffers(m);
}

MemoryPlan ncl::rt::planMemory(const ncl_model &m) {
  MemoryPlan plan;
  for (int32_t i = 0; i < m.desc->num_buffers; ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (!modelOwned(b))
      continue;
    const uint64_t bytes = saturatingMul(bufferElements(m, b), elementBytes(b.element));
    plan.state = saturatingAdd(plan.state, bytes);
    if (b.extent == NCL_EXTENT_NEURONS && b.population >= 0)
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

std::pair<int64_t, int64_t> ncl::rt::monitorRange(const ncl_model &m, const ncl_monitor_info &mi) {
  // A synapse monitor of every synapse follows the synapses built (none
  // before ncl_init); a monitor of the whole population follows its size;
  // a range stays.
  if (mi.kind == NCL_MONITOR_SYNAPSE) {
    if (mi.end >= 0)
      return {mi.begin, mi.end};
    return {0, m.projs[static_cast<size_t>(mi.projection)].synapses};
  }
  const Population &pop = m.pops[static_cast<size_t>(mi.population)];
  if (mi.begin == 0 && mi.end == pop.info->default_size)
    return {0, pop.size};
  return {mi.begin, mi.end};
}

uint64_t ncl::rt::monitorBytes(const ncl_model &m, size_t k, int64_t steps) {
  const Monitor &mon = m.monitors[k];
  const uint64_t members = mon.isSynapse() ? 1 : static_cast<uint64_t>(m.batch);
  if (mon.isRate())
    return saturatingMul(static_cast<uint64_t>(mon.rows(steps)), members * sizeof(int64_t));
  auto [begin, end] = monitorRange(m, *mon.info);
  return saturatingMul(
      saturatingMul(static_cast<uint64_t>(mon.rows(steps)),
                    static_cast<uint64_t>(std::max<int64_t>(0, end - begin)) * members),
      static_cast<uint64_t>(m.desc->real_bits / 8));
}
namespace {

/// After a change of the thread count between runs: hands the spikes and
/// synapses in flight to the threads that now own their neurons. A spike
/// history slot's lists are concatenated (ascending) and split by the new
/// ranges, so each thread's list holds its own neurons' spikes, as on_post
/// expects; a queue slot's synapses go to the thread
/// of their postsynaptic neuron, each thread's in their old order, so the
/// order of the effects on every neuron is unchanged.
void repartitionSpikeQueues(ncl_model &m) {
  const size_t n = static_cast<size_t>(m.threads);
  for (size_t p = 0; p < m.history.size(); ++p)
    for (std::vector<std::vector<int32_t>> &slot : m.history[p].slots) {
      std::vector<int32_t> all;
      for (const std::vector<int32_t> &list : slot)
        all.insert(all.end(), list.begin(), list.end());
      slot.assign(std::max<size_t>(n, 1), {});
      for (size_t k = 0; k < slot.size(); ++k) {
        auto [begin, end] = partition(m.pops[p].units(), static_cast<int32_t>(k), m.threads);
        slot[k].reserve(static_cast<size_t>(end - begin));
        auto first = std::lower_bound(all.begin(), all.end(), static_cast<int32_t>(begin));
        slot[k].assign(first, std::lower_bound(first, all.end(), static_cast<int32_t>(end)));
      }
    }
  for (Projection &proj : m.projs) {
    if (proj.delayBuffer < 0 || proj.queues.size() == n)
      continue;
    const int64_t size = m.pops[static_cast<size_t>(proj.info->post)].size;
    std::vector<SynapseQueue> queues(n);
    for (SynapseQueue &queue : queues)
      queue.slots.resize(static_cast<size_t>(proj.maxDelaySteps + 1));
    for (const SynapseQueue &old : proj.queues)
      for (size_t i = 0; i < old.slots.size(); ++i)
        for (int64_t synapse : old.slots[i]) {
          const int64_t j = proj.post[static_cast<size_t>(synapse)];
          // The thread whose range holds j: the last k with size*k/n <= j.
          size_t k = static_cast<size_t>(j * static_cast<int64_t>(n) / size);
          while (k + 1 < n && partition(size, static_cast<int32_t>(k + 1), m.threads).first <= j)
            ++k;
          while (k > 0 && partition(size, static_cast<int32_t>(k), m.threads).first > j)
            --k;
          queues[k].slots[i].push_back(synapse);
        }
    proj.queues = std::move(queues);
  }
}

} // namespace

const void *ncl::rt::preTraceValues(const ncl_model &m, int32_t buffer) {
  const ncl_buffer_info &b = bufferInfo(m, static_cast<size_t>(buffer));
  const Projection &proj = m.projs[static_cast<size_t>(b.projection)];
  const size_t post = static_cast<size_t>(proj.info->post);
  for (const ThreadState &ts : m.threadStates)
    if (ts.begin[post] < ts.end[post] && static_cast<size_t>(buffer) < ts.preTraces.size())
      return ts.preTraces[static_cast<size_t>(buffer)].data();
  return nullptr;
}

std::vector<TraceView> ncl::rt::traceViews(const ncl_model &m, const Projection &q) {
  std::vector<TraceView> views;
  for (bool pre : {true, false}) {
    const std::vector<int32_t> &buffers = pre ? q.preTraceBuffer : q.postTraceBuffer;
    const ncl_var_info *infos = pre ? q.info->pre_traces : q.info->post_traces;
    for (size_t k = 0; k < buffers.size(); ++k) {
      TraceView view;
      view.pre = pre;
      view.name = infos[k].name;
      view.buffer = buffers[k];
      view.neurons = m.pops[static_cast<size_t>(pre ? q.info->pre : q.info->post)].size;
      view.data =
          pre ? preTraceValues(m, buffers[k]) : m.bufferPtrs[static_cast<size_t>(buffers[k])];
      views.push_back(view);
    }
  }
  return views;
}

void ncl::rt::setPreTraceValues(ncl_model &m, int32_t buffer, const void *values) {
  const ncl_buffer_info &b = bufferInfo(m, static_cast<size_t>(buffer));
  const size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
  for (ThreadState &ts : m.threadStates)
    std::memcpy(ts.preTraces[static_cast<size_t>(buffer)].data(), values, bytes);
}

std::vector<std::vector<uint64_t>> ncl::rt::takePreTraces(ncl_model &m) {
  std::vector<std::vector<uint64_t>> traces(m.buffers.size());
  if (m.threadStates.empty())
    return traces;
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    if (bufferInfo(m, i).role != NCL_BUFFER_PRE_TRACE)
      continue;
    const void *values = preTraceValues(m, static_cast<int32_t>(i));
    if (!values)
      continue;
    const auto *words = static_cast<const uint64_t *>(values);
    traces[i].assign(words, words + m.threadStates.front().preTraces[i].size());
  }
  return traces;
}

void ncl::rt::configureThreads(ncl_model &m) {
  const int32_t n = m.threads;
  // The traces below are carried over from the host's copy: current first.
  if (m.device)
    m.device->syncHost(m);
  // Presynaptic traces are equal on every thread that delivers spikes: a
  // run that goes on with other threads starts each from one of them.
  std::vector<std::vector<uint64_t>> traces = takePreTraces(m);
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
      std::tie(ts.begin[p], ts.end[p]) = partition(m.pops[p].units(), k, n);
    }
    ts.chunkCounts.assign(np, 0);
    ts.chunkRates.assign(np, {});
    ts.spikeCapacity = spikeCapacityOfThread(m, k);
    const size_t cap = static_cast<size_t>(ts.spikeCapacity);
    ts.spikeStep.assign(hasRole(m, NCL_BUFFER_SPIKE_STEP) ? cap : 0, 0);
    ts.spikeIndex.assign(hasRole(m, NCL_BUFFER_SPIKE_INDEX) ? cap : 0, 0);
    ts.spikeChannel.assign(hasRole(m, NCL_BUFFER_SPIKE_CHANNEL) ? cap : 0, 0);
    ts.preTraces.resize(m.buffers.size());
    for (size_t i = 0; i < m.buffers.size(); ++i) {
      const ncl_buffer_info &b = bufferInfo(m, i);
      if (!isPerThreadTraceRole(b.role))
        continue;
      const size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
      ts.preTraces[i].assign((bytes + 7) / 8, 0);
      if (m.initialized && traces[i].size() == ts.preTraces[i].size())
        ts.preTraces[i] = traces[i];
    }
  }
  bindThreadBuffers(m);
  if (m.initialized)
    repartitionSpikeQueues(m);
  m.layoutDirty = false;
  if (m.device) // new allocations, or old ones refilled: the host's copy is the state
    m.device->markHostReplaced();
}

void ncl::rt::discardState(ncl_model &m) {
  if (m.device) // what the kernels wrote is discarded with the rest
    m.device->markHostReplaced();
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
    proj.queues.clear();
    proj.minDelaySteps = proj.maxDelaySteps = 0;
    proj.fileOrder = {};
    proj.fileValues = {};
    proj.fileDelays = {};
    proj.columnStart = {};
    proj.columnSynapse = {};
    proj.columnPre = {};
    m.bufferPtrs[static_cast<size_t>(proj.rowStartBuffer)] = nullptr;
    m.bufferPtrs[static_cast<size_t>(proj.postIndexBuffer)] = nullptr;
    for (int32_t i : {proj.columnStartBuffer, proj.columnSynapseBuffer, proj.columnPreBuffer})
      if (i >= 0)
        m.bufferPtrs[static_cast<size_t>(i)] = nullptr;
  }
  m.history.clear();
  for (Monitor &mon : m.monitors) {
    mon.samples = {};
    mon.counts = {};
  }
  for (Population &pop : m.pops) {
    pop.record.clear();
    pop.record.shrink_to_fit();
    pop.events.assign(static_cast<size_t>(std::max(0, pop.info->num_events)), {});
    pop.spikeCount = 0;
  }
}

namespace {

/// Projection q's synapses by its rule: drawn from the seed, read from its
/// files (Explicit: the values and delays the files give wait in the
/// projection until the synapses are initialised), or accepted by its
/// condition stage (Condition), which each row calls with a scratch mask of
/// the thread it runs on.
Csr connect(ncl_model &m, size_t q, const ConnectSpec &spec, const ParallelFor &parallelFor) {
  Projection &proj = m.projs[q];
  if (spec.rule == ConnectRule::Explicit) {
    ExplicitLists lists = readExplicitLists(spec, *proj.info);
    proj.fileOrder = std::move(lists.csr.order);
    proj.fileValues = std::move(lists.varValues);
    proj.fileDelays = std::move(lists.delays);
    return std::move(lists.csr);
  }
  // Matrices of values and a mask (docs/runtime.md, "Dense matrices"),
  // read and checked before anything is built.
  const ConnectMatrices matrices = readConnectMatrices(spec, *proj.info);
  Csr csr;
  if (spec.rule != ConnectRule::Condition && matrices.mask.empty()) {
    csr = buildConnectivity(spec, m.seed, parallelFor);
  } else {
    if (spec.rule == ConnectRule::Condition && (proj.conditionStage < 0 || proj.maskBuffer < 0))
      throw std::runtime_error("the library has no condition stage or mask for it");
    // A mask makes all_to_all and fixed_probability condition rules whose
    // candidates are the mask's pairs (and the condition's, where both are).
    ConnectSpec masked = spec;
    if (spec.rule == ConnectRule::AllToAll)
      masked.p = 1;
    masked.rule = ConnectRule::Condition;
    const size_t pre = static_cast<size_t>(proj.info->pre);
    const RowCondition condition = [&](int64_t row, int32_t *rowMask) {
      if (spec.rule == ConnectRule::Condition) {
        std::vector<void *> buffers = m.bufferPtrs; // this call's own table
        buffers[static_cast<size_t>(proj.maskBuffer)] = rowMask;
        ncl_kernel_args a;
        std::memset(&a, 0, sizeof a);
        a.buffers = buffers.data();
        a.begin = row;
        a.end = row + 1;
        a.size = m.pops[pre].size;
        a.seed = m.seed;
        a.dt = m.dt;
        m.desc->stages[proj.conditionStage].fn(&a);
      } else {
        std::fill(rowMask, rowMask + spec.postCount, 1);
      }
      if (!matrices.mask.empty()) {
        const unsigned char *maskRow =
            matrices.mask.data() + static_cast<size_t>((row - spec.preBegin) * spec.postCount);
        for (int64_t k = 0; k < spec.postCount; ++k)
          rowMask[k] = rowMask[k] && maskRow[k];
      }
    };
    csr = buildConditional(masked, m.seed, condition, parallelFor);
  }
  // The values the matrices give wait, like explicit lists' values, until
  // the synapses are initialised.
  proj.fileValues = matrixValuesInCsrOrder(spec, *proj.info, matrices, csr);
  return csr;
}

/// The column index of a projection with on_post: for each postsynaptic
/// neuron j, the synapses onto it, columnSynapse[columnStart[j] ..
/// columnStart[j + 1]), ascending (so by presynaptic neuron, then place in
/// the row): a counting sort of the postsynaptic indices, the same on any
/// thread count; with a column_pre buffer, each entry's presynaptic neuron.
void buildColumns(Projection &proj, int64_t postSize) {
  proj.columnStart.assign(static_cast<size_t>(postSize) + 1, 0);
  for (int32_t j : proj.post)
    ++proj.columnStart[static_cast<size_t>(j) + 1];
  for (size_t j = 1; j < proj.columnStart.size(); ++j)
    proj.columnStart[j] += proj.columnStart[j - 1];
  std::vector<int64_t> next(proj.columnStart.begin(), proj.columnStart.end() - 1);
  proj.columnSynapse.resize(proj.post.size());
  // Each entry's presynaptic neuron too, where on_post reads it: the row
  // that holds the synapse.
  const bool withPre = proj.columnPreBuffer >= 0;
  proj.columnPre.resize(withPre ? proj.post.size() : 0);
  for (size_t row = 0; row + 1 < proj.rowStart.size(); ++row)
    for (int64_t s = proj.rowStart[row]; s < proj.rowStart[row + 1]; ++s) {
      const int64_t k = next[static_cast<size_t>(proj.post[static_cast<size_t>(s)])]++;
      proj.columnSynapse[static_cast<size_t>(k)] = static_cast<int32_t>(s);
      if (withPre)
        proj.columnPre[static_cast<size_t>(k)] = static_cast<int32_t>(row);
    }
}

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
      csr = connect(m, q, spec, parallelFor);
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY, "out of memory building the synapses of " + name);
    } catch (const std::runtime_error &e) {
      throw Error(NCL_ERROR_ARGUMENT, name + ": " + e.what());
    }
    proj.rowStart = std::move(csr.rowPtr);
    proj.post = std::move(csr.post);
    proj.synapses = static_cast<int64_t>(proj.post.size());
    if (spec.rule == ConnectRule::Explicit || spec.rule == ConnectRule::Condition)
      checkMemory(m, saturatingMul(static_cast<uint64_t>(proj.synapses), bytesPerSynapse(m, q) - 4),
                  "the per-synapse variables of " + name + " (" + std::to_string(proj.synapses) +
                      " synapses)");
    m.bufferPtrs[static_cast<size_t>(proj.rowStartBuffer)] = proj.rowStart.data();
    m.bufferPtrs[static_cast<size_t>(proj.postIndexBuffer)] = proj.post.data();
    if (proj.columnStartBuffer < 0)
      continue;
    // on_post's column index holds synapse indices in 32 bits.
    if (proj.synapses > INT32_MAX)
      throw Error(NCL_ERROR_ARGUMENT, name + " has " + std::to_string(proj.synapses) +
                                          " synapses; with on_post a projection may have at most " +
                                          std::to_string(INT32_MAX) +
                                          " (split it into several projections)");
    try {
      buildColumns(proj, m.pops[static_cast<size_t>(proj.info->post)].size);
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY, "out of memory building the column index of " + name);
    }
    m.bufferPtrs[static_cast<size_t>(proj.columnStartBuffer)] = proj.columnStart.data();
    m.bufferPtrs[static_cast<size_t>(proj.columnSynapseBuffer)] = proj.columnSynapse.data();
    if (proj.columnPreBuffer >= 0)
      m.bufferPtrs[static_cast<size_t>(proj.columnPreBuffer)] = proj.columnPre.data();
  }
  // A projection's per-synapse variables are interleaved (one record per
  // synapse, docs/runtime.md "Synapse records"): the first variable's
  // buffer owns the records, the others point into the first one.
  for (size_t i = 0; i < m.buffers.size(); ++i) {
    const ncl_buffer_info &b = bufferInfo(m, i);
    if (b.extent != NCL_EXTENT_SYNAPSES || !modelOwned(b) ||
        (b.role == NCL_BUFFER_SYNAPSE_STATE && b.index != 0))
      continue;
    size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
    if (b.role == NCL_BUFFER_SYNAPSE_STATE)
      bytes *= synapseRecordLength(m.projs[static_cast<size_t>(b.projection)]);
    try {
      m.buffers[i] = AlignedArray(std::max<size_t>(bytes, 1));
    } catch (const std::bad_alloc &) {
      throw Error(NCL_ERROR_MEMORY,
                  "out of memory allocating buffer '" + std::string(b.name) + "'");
    }
    m.bufferPtrs[i] = m.buffers[i].data();
    if (b.role == NCL_BUFFER_SYNAPSE_DELAY) // as the connect stage writes them
      m.projs[static_cast<size_t>(b.projection)].delayBytes = 2;
  }
  for (const Projection &proj : m.projs)
    for (size_t v = 1; v < proj.varBuffer.size(); ++v)
      m.bufferPtrs[static_cast<size_t>(proj.varBuffer[v])] =
          static_cast<char *>(m.bufferPtrs[static_cast<size_t>(proj.varBuffer[0])]) +
          v * static_cast<size_t>(m.desc->real_bits / 8);
}

/// Every per-synapse delay in one byte instead of two where all of the
/// model's fit (the longest at most 255 steps): a byte less per synapse
/// (the microcircuit's 10 bytes become 9). All or none, as the GPU's
/// arrival kernel reads every queue's delays in one width a launch
/// (model_abi.h, NCL_ARRIVALS_BYTE_DELAYS). After checkSynapseDelays,
/// once the connect stages wrote them; nothing but the runtime reads them
/// after (queueArrivals, the CUDA backend's queues).
void narrowSynapseDelays(ncl_model &m) {
  bool any = false;
  for (const Projection &proj : m.projs) {
    if (proj.delayBuffer < 0)
      continue;
    if (proj.maxDelaySteps > UINT8_MAX)
      return;
    any = true;
  }
  if (!any)
    return;
  for (Projection &proj : m.projs)
    if (proj.delayBuffer >= 0)
      storeDelaysIn(m, proj, 1);
  bindThreadBuffers(m);
}

/// The shortest and longest drawn delay of every projection with
/// per-synapse delays, once its connect stage has run; a delay the stage
/// could not store (negative, not finite, too long) is an error naming the
/// projection and the synapse.
void checkSynapseDelays(ncl_model &m) {
  for (Projection &proj : m.projs) {
    if (proj.delayBuffer < 0)
      continue;
    const auto *delay =
        static_cast<const uint16_t *>(m.bufferPtrs[static_cast<size_t>(proj.delayBuffer)]);
    uint16_t shortest = UINT16_MAX, longest = 0;
    for (int64_t k = 0; k < proj.synapses; ++k) {
      const uint16_t d = delay[k];
      if (d == NCL_DELAY_INVALID) {
        const auto row = std::upper_bound(proj.rowStart.begin(), proj.rowStart.end(), k) - 1;
        const ncl_projection_info &qi = *proj.info;
        throw Error(NCL_ERROR_ARGUMENT,
                    "projection '" + std::string(qi.name) + "': synapse " + std::to_string(k) +
                        " (" + m.pops[static_cast<size_t>(qi.pre)].info->name + "[" +
                        std::to_string(row - proj.rowStart.begin()) + "] -> " +
                        m.pops[static_cast<size_t>(qi.post)].info->name + "[" +
                        std::to_string(proj.post[static_cast<size_t>(k)]) +
                        "]) drew a delay that is negative, not a number, or longer than " +
                        fmtSeconds(NCL_MAX_DELAY_STEPS * m.dt) + " (" +
                        std::to_string(NCL_MAX_DELAY_STEPS) +
                        " steps of dt, the longest per-synapse delay); check its delay expression");
      }
      shortest = std::min(shortest, d);
      longest = std::max(longest, d);
    }
    proj.minDelaySteps = proj.synapses > 0 ? shortest : 0;
    proj.maxDelaySteps = proj.synapses > 0 ? longest : 0;
  }
}

/// The spike histories of the presynaptic populations and the arrival
/// queues of per-synapse delays, sized by the delays in steps.
void allocateSpikeQueues(ncl_model &m) {
  m.meetEveryStep = meetsEveryStep(m);
  m.selectsWinners = hasKwtaStage(m);
  m.gatesSpikes = hasSpikeGate(m);
  m.exchangeSteps = exchangeSteps(m);
  // The host reads a list of its own exchange interval only where an
  // on_post reads its population's list of a recent step: the device's
  // spikes are collected every step then, else once an interval.
  m.collectSteps = m.exchangeSteps;
  for (const Projection &proj : m.projs)
    if (proj.columnStartBuffer >= 0 && delaySteps(m, proj.info->post_delay) < m.exchangeSteps)
      m.collectSteps = 1;
  m.queuesArrivals = false;
  for (Projection &proj : m.projs) {
    proj.queues.clear();
    if (proj.delayBuffer < 0)
      continue;
    m.queuesArrivals = true;
    proj.queues.resize(static_cast<size_t>(m.threads));
    for (SynapseQueue &queue : proj.queues)
      queue.slots.resize(static_cast<size_t>(proj.maxDelaySteps + 1));
  }
  m.history.assign(m.pops.size(), SpikeHistory{});
  for (size_t p = 0; p < m.pops.size(); ++p) {
    SpikeHistory &h = m.history[p];
    h.depth = historyDepth(m, p);
    h.slots.assign(static_cast<size_t>(h.depth),
                   std::vector<std::vector<int32_t>>(static_cast<size_t>(m.threads)));
    for (auto &slot : h.slots)
      for (int32_t k = 0; k < m.threads; ++k) {
        auto [begin, end] = partition(m.pops[p].units(), k, m.threads);
        slot[static_cast<size_t>(k)].reserve(static_cast<size_t>(end - begin));
      }
  }
}

/// Writes projection q's delays from its delay file (seconds, one per
/// synapse in CSR order, checked finite and not negative) into its
/// per-synapse delay buffer, rounded to steps of the run's dt as a drawn
/// delay is (roundeven of delay / dt, docs/semantics.md). A delay longer
/// than NCL_MAX_DELAY_STEPS steps is refused with the file's name.
void applySynapseDelays(ncl_model &m, size_t q, const std::vector<double> &delays) {
  Projection &proj = m.projs[q];
  const std::string where = "projection '" + std::string(proj.info->name) + "': delay file '" +
                            proj.info->delay_file + "'";
  if (proj.delayBuffer < 0)
    throw Error(NCL_ERROR_ARGUMENT, where + " given, but the library has no per-synapse "
                                            "delay buffer for it (compile it again)");
  auto *out = static_cast<uint16_t *>(m.bufferPtrs[static_cast<size_t>(proj.delayBuffer)]);
  for (size_t k = 0; k < delays.size(); ++k) {
    const double steps = std::nearbyint(delays[k] / m.dt);
    if (!(steps >= 0 && steps <= NCL_MAX_DELAY_STEPS))
      throw Error(NCL_ERROR_ARGUMENT, where + ": synapse " + std::to_string(k) +
                                          " has a delay longer than " +
                                          fmtSeconds(NCL_MAX_DELAY_STEPS * m.dt) + " (" +
                                          std::to_string(NCL_MAX_DELAY_STEPS) +
                                          " steps of dt, the longest " + "per-synapse delay)");
    out[k] = static_cast<uint16_t>(steps);
  }
}

/// Explicit projections: the values their files give replace the initial
/// values the connect stages computed; their delays go to the delay hook.
void applyFileValues(ncl_model &m) {
  const bool f32 = m.desc->real_bits == 32;
  for (size_t q = 0; q < m.projs.size(); ++q) {
    Projection &proj = m.projs[q];
    for (size_t v = 0; v < proj.fileValues.size(); ++v) {
      const std::vector<double> &values = proj.fileValues[v];
      if (values.empty())
        continue;
      void *buffer = m.bufferPtrs[static_cast<size_t>(proj.varBuffer[v])];
      const size_t stride = synapseRecordLength(proj);
      for (size_t k = 0; k < values.size(); ++k) {
        if (f32)
          static_cast<float *>(buffer)[k * stride] = static_cast<float>(values[k]);
        else
          static_cast<double *>(buffer)[k * stride] = values[k];
      }
    }
    proj.fileValues = {};
    if (proj.info->delay_file)
      applySynapseDelays(m, q, proj.fileDelays);
  }
}

} // namespace

namespace {
/// On the CUDA backend one host thread drives the device (`threads` is 1),
/// but the init runs on the host's CPU kernels: the neurons' initial state,
/// the synapses and the connect stages take the threads ncl_set_threads
/// asked for the CPU (`cpuThreads`) while it lasts, and the first run lays
/// the state out again for one thread. Results do not depend on the
/// threads (docs/semantics.md, "Threads").
class InitOnCpuThreads {
public:
  explicit InitOnCpuThreads(ncl_model &m) : m_(m), runThreads_(m.threads) {
    if (m.device)
      m.threads = m.cpuThreads;
  }
  ~InitOnCpuThreads() {
    if (m_.threads == runThreads_)
      return;
    m_.threads = runThreads_;
    m_.layoutDirty = true;
  }
  InitOnCpuThreads(const InitOnCpuThreads &) = delete;
  InitOnCpuThreads &operator=(const InitOnCpuThreads &) = delete;

private:
  ncl_model &m_;
  const int32_t runThreads_;
};
} // namespace

void ncl::rt::initModel(ncl_model &m, uint64_t seed) {
  const double t0 = now();
  const InitOnCpuThreads initThreads(m);
  discardState(m);
  for (Population &pop : m.pops)
    pop.batch = m.batch;
  for (Monitor &mon : m.monitors) {
    mon.members = mon.isSynapse() ? 1 : m.batch;
    if (mon.isSynapse())
      continue; // once the synapses are built
    const Population &pop = m.pops[static_cast<size_t>(mon.info->population)];
    std::tie(mon.begin, mon.end) = monitorRange(m, *mon.info);
    if (mon.end > pop.size)
      throw Error(NCL_ERROR_ARGUMENT, "the monitor '" + std::string(mon.info->name) +
                                          "' records neurons " + std::to_string(mon.begin) +
                                          " to " + std::to_string(mon.end - 1) +
                                          " of population '" + pop.info->name + "', which has " +
                                          std::to_string(pop.size) + " now");
  }
  // The files first: they size the series buffers, and a bad one is
  // reported before anything is allocated.
  loadSources(m);
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
    const size_t bytes = static_cast<size_t>(bufferElements(m, b)) * elementBytes(b.element);
    try {
      m.buffers[i] = AlignedArray(bytes);
      m.bufferPtrs[i] = m.buffers[i].data();
      // Populations' state is copied at each chunk's start for a replay
      // (networks, which own the projections' traces, are not replayed).
      if (b.extent == NCL_EXTENT_NEURONS && b.population >= 0)
        m.buffersAtChunkStart[i] = AlignedArray(bytes);
    } catch (const std::bad_alloc &) {
      discardState(m);
      const std::string owner =
          b.population >= 0
              ? "population '" + std::string(m.pops[static_cast<size_t>(b.population)].info->name) +
                    "'"
              : "projection '" +
                    std::string(m.projs[static_cast<size_t>(b.projection)].info->name) + "'";
      throw Error(NCL_ERROR_MEMORY,
                  "out of memory allocating the state of " + owner + " (buffer '" + b.name + "')");
    }
  }
  fillSeriesBuffers(m);
  m.seed = seed;
  // The neurons' initial state first, so that a connection condition may
  // read it (positions drawn at random, say); then the synapses.
  bindThreadBuffers(m);
  forEachThread(m, [&m](int k) {
    ThreadState &ts = m.threadStates[static_cast<size_t>(k)];
    for (int32_t s = 0; s < m.desc->num_stages; ++s) {
      const ncl_stage_info &stage = m.desc->stages[s];
      if (stage.kind != NCL_STAGE_INIT)
        continue;
      const size_t p = static_cast<size_t>(stage.population);
      if (ts.begin[p] >= ts.end[p])
        continue;
      ncl_kernel_args a = kernelArgs(m, ts, p);
      stage.fn(&a);
    }
  });
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
      }
    }
    scanThread(m, k);
  });
  try {
    applyFileValues(m);
    checkSynapseDelays(m);
    narrowSynapseDelays(m);
    allocateSpikeQueues(m);
    // A synapse monitor's range is known now that the synapses are.
    for (Monitor &mon : m.monitors) {
      if (!mon.isSynapse())
        continue;
      const Projection &proj = m.projs[static_cast<size_t>(mon.info->projection)];
      std::tie(mon.begin, mon.end) = monitorRange(m, *mon.info);
      if (mon.end > proj.synapses)
        throw Error(NCL_ERROR_ARGUMENT,
                    "the monitor '" + std::string(mon.info->name) + "' records synapses " +
                        std::to_string(mon.begin) + " to " + std::to_string(mon.end - 1) +
                        " of projection '" + proj.info->name + "', which has " +
                        std::to_string(proj.synapses) + " synapses in this run");
    }
  } catch (const std::bad_alloc &) {
    discardState(m);
    throw Error(NCL_ERROR_MEMORY, "out of memory allocating the spike queues of the projections");
  } catch (...) {
    discardState(m);
    throw;
  }
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
  reserveMonitors(m, target);
  // On the CUDA backend the run starts from the device's copy of the state
  // (uploading what the host changed) and leaves the state there when it
  // completes; one that fails leaves it on the host, as far as it can.
  struct DeviceRun {
    ncl_model &m;
    DeviceRun(ncl_model &m, int64_t target) : m(m) {
      if (m.device)
        m.device->beginRun(m, target);
    }
    ~DeviceRun() {
      if (!m.device)
        return;
      try {
        m.device->endRun(m, /*failed=*/std::uncaught_exceptions() > 0);
      } catch (const Error &) { // m.failure says so: no further run
      }
    }
  } deviceRun{m, target};
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
        if (m.device && m.device->testsStateOnDevice())
          m.device->fetchChunkStart(m);
        forEachThread(m, [&m](int k) { copyChunkStart(m, k, /*restore=*/true); });
        if (m.device)
          m.device->uploadNeuronState(m);
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
      recordGeneratorSpikes(m, s0, s1);
      collectRates(m, s0, s1);
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
