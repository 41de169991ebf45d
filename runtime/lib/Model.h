//===- Model.h - Internal state of a loaded NCL model -----------*- C++ -*-===//
//
// The C API hands out `ncl_model *`; this is what it points to. Everything
// here is private to libnclrt: the loader fills in the descriptor view, the
// simulator owns state arrays, spike records and the thread pool, and the
// output writer reads them. Errors travel as ncl::rt::Error exceptions inside
// the library and become status codes at the C boundary (CApi.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_MODEL_H
#define NCL_RUNTIME_LIB_MODEL_H

#include "AlignedArray.h"
#include "ncl/runtime.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ncl::rt {

class ThreadPool;
class CudaDevice;

/// Limits that keep index arithmetic in int64 (size * threads < 2^63).
constexpr int64_t kMaxPopulationSize = int64_t{1} << 40;
constexpr int32_t kMaxThreads = 1024;
/// The most batch members a run may have (nclc refuses more, too).
constexpr int64_t kMaxBatch = int64_t{1} << 20;

/// A failure with a message meant for the user and the status to return.
struct Error : std::runtime_error {
  Error(ncl_status code, const std::string &msg) : std::runtime_error(msg), code(code) {}
  ncl_status code;
};

/// One recorded spike: the step index at which it is stored (a spike found
/// while integrating step n is stored as n+1) and the neuron index. Ordering
/// by (step, index) is the output order.
struct Spike {
  int64_t step;
  int64_t index;
  bool operator<(const Spike &o) const {
    return step < o.step || (step == o.step && index < o.index);
  }
  bool operator==(const Spike &o) const { return step == o.step && index == o.index; }
};

/// A population as the runtime sees it: the descriptor entry plus the
/// values this run uses (size, parameters). Its state lives in the model's
/// buffer table (ncl_model::buffers).
struct Population {
  const ncl_population_info *info = nullptr;
  int64_t size = 0;  // one batch member's neurons (N)
  int64_t batch = 1; // the run's batch members (ncl_model::batch)
  /// Entries of each per-neuron buffer: every member's neurons, member b's
  /// neuron i at b * size + i (docs/runtime.md, "Batches").
  int64_t units() const { return size * batch; }
  std::vector<double> params;       // what its NCL_BUFFER_PARAMS entry points at
  std::vector<int32_t> stateBuffer; // per variable: its entry in the table
  int64_t spikeCount = 0;           // emitted since init, recorded or not
  std::vector<Spike> record;
  std::vector<std::vector<Spike>> events; // per custom event, when recorded
  /// A spike generator's spikes for the run's dt (Sources.h): step indices
  /// ascending and, within a step, neuron indices ascending.
  std::vector<int64_t> generatorSteps;
  std::vector<int32_t> generatorIndices;
  /// Each timed input's samples, scaled to internal units (Sources.h).
  struct Series {
    std::vector<double> samples; // rows x columns, row-major
    int64_t rows = 0, columns = 0, stepsPerSample = 1;
  };
  std::vector<Series> series;

  /// Index of a custom event by name, or -1.
  int findEvent(const std::string &name) const;

  int findParam(const std::string &name) const;
  int findVar(const std::string &name) const;
  /// "a, b, c" of parameter or variable names, for error messages.
  std::string paramList() const;
  std::string varList() const;
  std::string eventList() const;
};

/// Per-thread scratch: its neuron range in every population, its own spike
/// buffer and its own copy of the buffer table pointing at it, so threads
/// never share a write target. Every spike-capacity entry of a role points
/// at the thread's one buffer of that role: a thread runs one stage call at
/// a time and drains the buffer after each. A thread that owns no recorded
/// neuron has no spike buffer at all.
/// The synapses of a projection with per-synapse delays whose spikes are
/// on their way to one thread's postsynaptic neurons: slot (arrival step
/// mod size) lists them in the order their effects apply (docs/semantics.md).
struct SynapseQueue {
  std::vector<std::vector<int64_t>> slots; // maxDelaySteps + 1
};

/// A projection and the synapses the runtime built for it (Connectivity.h).
struct Projection {
  const ncl_projection_info *info = nullptr;
  std::vector<double> params; // what its NCL_BUFFER_PARAMS entry points at
  int32_t rowStartBuffer = -1, postIndexBuffer = -1;
  int32_t delayBuffer = -1;      // per-synapse delays (steps), or -1 for one shared delay
  int64_t synapses = 0;          // built by ncl_init
  int64_t delaySteps = 0;        // the delay rounded to steps of the run's dt
  std::vector<int64_t> rowStart; // what the row-start buffer points at
  std::vector<int32_t> post;     // what the postsynaptic-index buffer points at
  // With per-synapse delays: the shortest and longest, known once the
  // connect stage has drawn them, and per thread the synapses whose spikes
  // arrive in each of the next steps (SynapseQueue).
  int64_t minDelaySteps = 0, maxDelaySteps = 0;
  // Bytes per delay in the delay buffer: 2 as the connect stage writes
  // them, 1 once narrowed (every per-synapse delay of the model fits a
  // byte: narrowSynapseDelays).
  int32_t delayBytes = 2;
  /// Synapse k's delay in steps, from `delays` (the delay buffer).
  int64_t delayOf(const void *delays, int64_t k) const {
    return delayBytes == 1 ? static_cast<const uint8_t *>(delays)[k]
                           : static_cast<const uint16_t *>(delays)[k];
  }
  std::vector<SynapseQueue> queues; // per thread
  // Since ABI 5 (connectivity): a condition rule's stage and scratch buffer,
  // the buffer of each per-synapse variable, and what explicit lists read
  // from their files (the file index of each synapse in CSR order, and in
  // CSR order the values of variables and the delays in seconds that files
  // give).
  int32_t conditionStage = -1, maskBuffer = -1;
  std::vector<int32_t> varBuffer; // interleaved: see synapseRecordLength

  std::vector<int64_t> fileOrder;
  std::vector<std::vector<double>> fileValues; // per variable, internal units; empty: none
  std::vector<double> fileDelays;
  // With on_post: the column index (the synapses onto each postsynaptic
  // neuron, ascending), which its two buffers point at.
  int32_t columnStartBuffer = -1, columnSynapseBuffer = -1;
  std::vector<int64_t> columnStart; // postsynaptic size + 1
  std::vector<int32_t> columnSynapse;
  // Since ABI 7: each column entry's presynaptic neuron, where on_post
  // reads it, and the buffers of the traces kept per neuron (by index in
  // the projection's pre_traces and post_traces; -1 for none). A
  // presynaptic trace's buffer is per thread (ThreadState::preTraces).
  int32_t columnPreBuffer = -1;
  std::vector<int32_t> columnPre;
  std::vector<int32_t> preTraceBuffer, postTraceBuffer;
  // Since ABI 8: the stages that compute the traces' values at a step's
  // time, which on_post (presynaptic) and on_pre (postsynaptic) read; -1
  // for none.
  int32_t advancePreStage = -1, advancePostStage = -1;
};

/// The roles of a projection's per-neuron trace buffers.
inline bool isTraceRole(int32_t role) {
  return role == NCL_BUFFER_PRE_TRACE || role == NCL_BUFFER_POST_TRACE ||
         role == NCL_BUFFER_PRE_TRACE_NOW || role == NCL_BUFFER_POST_TRACE_NOW;
}

/// The roles of a projection's per-neuron buffers kept once per thread:
/// the presynaptic traces, which every thread updates for every spike.
inline bool isPerThreadTraceRole(int32_t role) {
  return role == NCL_BUFFER_PRE_TRACE || role == NCL_BUFFER_PRE_TRACE_NOW;
}

/// The per-synapse variables of a projection are stored interleaved, one
/// record of all of them per synapse (Since ABI 6, docs/runtime.md "Synapse
/// records"): variable v of synapse s is element s * length + v of the
/// records, i.e. element s * length of variable v's buffer.
inline size_t synapseRecordLength(const Projection &proj) {
  return static_cast<size_t>(proj.info->num_vars);
}

/// The hidden per-synapse variable of an event-driven synapse: the time of
/// its last event (docs/semantics.md "Event-driven synapse dynamics").
inline bool isEventTime(const char *var) { return std::string_view(var) == "_lastupdate"; }

/// The spikes a population sent in its recent steps, for projections to
/// deliver after their delays: slot (step mod depth), one list per thread
/// (the thread's neurons, ascending), each with room for the whole range so
/// that the step loop never allocates.
struct SpikeHistory {
  int64_t depth = 0;
  std::vector<std::vector<std::vector<int32_t>>> slots; // [depth][thread]
};

/// A state or rate monitor and its samples since init (Simulator.cpp takes
/// them). Before each run its storage grows to hold every sample the run
/// can take, so the step loop never allocates; the row of a sample is fixed
/// by its step, so a chunk replayed after a NaN rewrites the same rows with
/// the same values.
struct Monitor {
  const ncl_monitor_info *info = nullptr;
  int64_t begin = 0, end = 0; // the recorded neurons for the run's size
  int64_t members = 1;        // batch members: a row holds each one's values in turn
  /// A state or synapse monitor: row r (the sample at step r * every) holds
  /// end - begin values of the model's real type (neurons or synapses
  /// [begin, end)).
  std::vector<unsigned char> samples;
  /// A rate monitor: the spikes stored with step index n + 1 (those found
  /// in step n), at index n.
  std::vector<int64_t> counts;

  bool isState() const { return info->kind == NCL_MONITOR_STATE; }
  bool isRate() const { return info->kind == NCL_MONITOR_RATE; }
  bool isSynapse() const { return info->kind == NCL_MONITOR_SYNAPSE; }
  int64_t width() const { return isRate() ? members : (end - begin) * members; }
  /// Rows recorded once `steps` steps have run since init.
  int64_t rows(int64_t steps) const {
    return isRate() ? steps : (steps + info->every - 1) / info->every;
  }
};

struct ThreadState {
  std::vector<int64_t> begin, end; // per population
  std::vector<int64_t> spikeStep, spikeIndex;
  std::vector<int32_t> spikeChannel;
  int64_t spikeCapacity = 0;
  std::vector<void *> buffers; // ncl_kernel_args::buffers of its calls
  // By buffer index: its copy of each presynaptic trace (8-byte words).
  std::vector<std::vector<uint64_t>> preTraces;
  std::vector<std::vector<Spike>> chunkSpikes;              // per population, this chunk
  std::vector<std::vector<std::vector<Spike>>> chunkEvents; // per population and event
  std::vector<int64_t> chunkCounts;                         // per population, this chunk
  // Per population with a rate monitor: spikes of each step of the chunk
  // (index n - chunkStart); empty for the others.
  std::vector<std::vector<int64_t>> chunkRates;
  int64_t chunkStart = 0;
  std::vector<int32_t> generatorSpikes; // a generator's spikes of one step, for every member
  std::string error;
  ncl_status errorCode = NCL_OK;
  // First non-finite value found in this thread's ranges after a chunk.
  int badPop = -1, badVar = -1;
  int64_t badIndex = -1;
  double badValue = 0;
};

} // namespace ncl::rt

/// What ncl_init allocates for the current sizes and threads, in bytes.
/// Spike records are not included: they grow with the spikes.
struct MemoryPlan {
  uint64_t state = 0;          // the table's per-neuron and fixed buffers
  uint64_t chunkStartCopy = 0; // the per-neuron ones at each chunk start
  uint64_t spikeBuffers = 0;   // per-thread kernel spike buffers
  uint64_t synapses = 0;       // projections' synapses (expected counts) and spike histories
  uint64_t total() const { return state + chunkStartCopy + spikeBuffers + synapses; }
};

/// How the last run ended, for run.json.
enum class RunEnd { Complete, Failed, Interrupted };

/// The opaque handle of the C API.
struct ncl_model {
  ncl_model();
  ~ncl_model();

  std::string path;
  void *handle = nullptr;
  const ncl_model_descriptor *desc = nullptr;
  std::vector<ncl::rt::Population> pops;
  std::vector<ncl::rt::Projection> projs;
  std::vector<ncl::rt::Monitor> monitors;     // in the descriptor's order
  std::vector<ncl::rt::SpikeHistory> history; // per population (depth 0: no projection reads it)
  int64_t exchangeSteps = 0;                  // steps between spike exchanges of threads
  bool queuesArrivals = false;                // some projection has per-synapse delays
  /// On the CUDA device, exchanging through the host: the steps between
  /// collections of the spikes (exchangeSteps, or 1 where an on_post reads
  /// its population's list of a step of the same interval).
  int64_t collectSteps = 1;
  bool meetEveryStep = false;  // threads also meet between a step's reads and its updates
  bool selectsWinners = false; // some population has a k-WTA stage: threads meet every step
  bool gatesSpikes = false;    // since ABI 9, a spiking k-WTA: keys and gate before the updates
  // The descriptor's buffer table: per entry its storage (none for the
  // parameters and the per-thread spike buffers), the copy of a per-neuron
  // entry at the start of the current chunk (so that a run that turns
  // non-finite can be replayed step by step to name the exact step), and
  // the pointers handed to the kernels (per-thread entries null here).
  std::vector<ncl::rt::AlignedArray> buffers;
  std::vector<ncl::rt::AlignedArray> buffersAtChunkStart;
  std::vector<void *> bufferPtrs;

  int32_t threads = 1;
  int64_t chunkSteps = 0;    // 0: automatic
  int64_t spikeCapacity = 0; // 0: automatic
  bool initialized = false;
  bool layoutDirty = true; // threads, sizes or buffer capacity changed
  uint64_t seed = 0;
  int64_t batch = 1;   // batch members: the descriptor's default_batch or ncl_set_batch's
  double dt = 0;       // the run's step: the network's, or one set at load time
  std::string dataDir; // where relative data files resolve; "": each population's data_dir
  int64_t step = 0;
  int64_t requestedSteps = 0; // asked for by the runs since init
  std::string failure;        // set once a run failed; cleared by init
  RunEnd runEnd = RunEnd::Complete;
  std::string runError; // why the last run stopped early ("" if it did not)
  // Set by ncl_interrupt (async-signal-safe); a run stops at the next chunk.
  std::atomic<bool> interruptRequested{false};

  double loadSeconds = 0, initSeconds = 0, simulateSeconds = 0;

  std::unique_ptr<ncl::rt::ThreadPool> pool;
  std::vector<ncl::rt::ThreadState> threadStates;

  // The CUDA backend (docs/gpu.md), or null on the CPU. It is driven by
  // one host thread: while it is chosen `threads` is 1 and `cpuThreads`
  // keeps what ncl_set_threads asked for the CPU. `backendFallback` says
  // why "auto" chose the CPU ("" otherwise).
  std::unique_ptr<ncl::rt::CudaDevice> device;
  int32_t cpuThreads = 1;
  std::string backendFallback;

  int findPopulation(const std::string &name) const;
  /// Throws NOT_FOUND listing the known populations.
  ncl::rt::Population &population(const char *name);
  const ncl::rt::Population &population(const char *name) const;
  std::string populationList() const;
};

namespace ncl::rt {
/// The model's time now, as its kernels compute t (step * dt).
inline double currentTime(const ncl_model &m) { return static_cast<double>(m.step) * m.dt; }
} // namespace ncl::rt

namespace ncl::rt {

/// Opens and validates a model library (Loader.cpp).
std::unique_ptr<ncl_model> openModel(const char *path);

/// Allocates the buffers and runs the init stages (Simulator.cpp).
void initModel(ncl_model &m, uint64_t seed);
/// Advances `steps` steps in chunks on the thread pool (Simulator.cpp).
void runModel(ncl_model &m, int64_t steps);
/// Rebuilds the partition and thread states for m.threads (Simulator.cpp).
void configureThreads(ncl_model &m);
/// Forgets the state and records after a size change (Simulator.cpp).
void discardState(ncl_model &m);
/// A presynaptic trace's values (buffer `buffer` of the table): the copy of
/// a thread that delivers the projection's spikes, or null before init.
const void *preTraceValues(const ncl_model &m, int32_t buffer);
/// Sets every thread's copy of presynaptic trace `buffer` to `values`.
void setPreTraceValues(ncl_model &m, int32_t buffer, const void *values);
/// Copies of the presynaptic traces (by buffer index; empty where none).
std::vector<std::vector<uint64_t>> takePreTraces(ncl_model &m);
/// A trace a projection keeps per neuron (Since ABI 7): which side, its
/// name, and its values (the population's neurons; null before init).
struct TraceView {
  bool pre = true;
  const char *name = nullptr;
  int32_t buffer = -1;
  int64_t neurons = 0;
  const void *data = nullptr;
  /// "pre.apre": how files and the C API name it.
  std::string fileName() const { return std::string(pre ? "pre." : "post.") + name; }
};
/// The traces of projection q, presynaptic ones first (Simulator.cpp).
std::vector<TraceView> traceViews(const ncl_model &m, const Projection &q);
/// What initModel would allocate now (Simulator.cpp).
MemoryPlan planMemory(const ncl_model &m);
/// Gives the per-synapse delays two bytes each again where ncl_init
/// narrowed them to one (Simulator.cpp): for a GPU image whose arrival
/// kernel reads two-byte delays only.
void widenSynapseDelays(ncl_model &m);
/// Bytes a model that already holds `held` bytes may still allocate:
/// MemAvailable, lowered to the headroom of a limited memory cgroup and to
/// NCL_MEMORY_LIMIT - held when that variable is set; UINT64_MAX when
/// nothing is known (SystemMemory.cpp).
uint64_t availableMemory(uint64_t held);
/// "23.4 GB" (SystemMemory.cpp).
std::string formatBytes(uint64_t bytes);

/// The neurons [begin, end) a monitor records at the current sizes
/// (Simulator.cpp).
std::pair<int64_t, int64_t> monitorRange(const ncl_model &m, const ncl_monitor_info &mi);
/// Bytes monitor k holds once `steps` steps have run since init, with
/// every row allocated (Simulator.cpp).
uint64_t monitorBytes(const ncl_model &m, size_t k, int64_t steps);

/// Writes the spike .npy files and run.json into `dir` (Output.cpp).
void writeOutput(const ncl_model &m, const std::string &dir);

/// Writes every per-synapse variable of every projection, and each
/// projection's presynaptic and postsynaptic indices, as .npy files into
/// `dir` (Output.cpp; docs/runtime.md "Saved weights").
void writeSynapseState(const ncl_model &m, const std::string &dir);
/// Reads what writeSynapseState wrote into the model's per-synapse
/// variables after checking every file first, so that a failure writes
/// nothing (SavedWeights.cpp).
void readSynapseState(ncl_model &m, const std::string &dir);

/// Seconds on a monotonic clock.
double now();

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_MODEL_H
