//===- CudaBackend.h - Running a model's stages on a CUDA device ----------===//
//
// The CUDA backend (docs/gpu.md) keeps the CPU backend's host logic: the
// init and connect stages, the connectivity, the spike histories and
// arrival queues, the monitors and the records are those of Simulator.cpp
// (a network's histories and arrival queues may stay on the device for a
// chunk, copied back before the host needs them), which asks this class to run each step-time stage
// on the device instead of calling its CPU function. The work goes, in order, to one stream per
// model; the host waits for it only where it needs a result (monitors fill
// blocks on the device, a model without projections reads its spikes once
// a chunk, and so does a network whose spike lists stay on the device). The
// state stays
// on the device between runs: a run uploads only what the host changed
// (markHostChanged), and the host's copy is brought up to date
// (syncHost) before the host reads it (the C API's accessors, output).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_CUDABACKEND_H
#define NCL_RUNTIME_LIB_CUDABACKEND_H

#include "CudaDriver.h"
#include "ncl/model_abi.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct ncl_model;

namespace ncl::rt {

class CudaDevice {
public:
  /// Opens device 0 for model `m`: checks that the library has a GPU kernel
  /// for every stage the device runs, opens the driver, picks the image for
  /// the device's architecture, loads it and resolves the kernels. Throws
  /// Error with one message naming what is missing.
  static std::unique_ptr<CudaDevice> open(const ncl_model &m, int ordinal = 0);
  ~CudaDevice();
  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;

  /// "NVIDIA H200" and "sm_90", for run.json and messages.
  const std::string &name() const { return name_; }
  const std::string &arch() const { return arch_; }
  /// The image the driver loaded, "sm_90 cubin" or "sm_80 PTX", and, where
  /// the device's cubin was refused and its PTX loaded instead, why (else
  /// empty); for run.json.
  const std::string &image() const { return image_; }
  const std::string &imageNote() const { return imageNote_; }
  /// The device's number (ncl_set_backend's "cuda:N"; "cuda" is 0).
  int ordinal() const { return ordinal_; }

  /// What the model asked of the driver since it chose this device
  /// (run.json's "device_stats", docs/gpu.md): kernel launches, copies each
  /// way and on the device, waits for the stream and the seconds the host
  /// spent in them (the device's work the host did not overlap).
  struct Stats {
    int64_t launches = 0, copiesToDevice = 0, copiesToHost = 0, copiesOnDevice = 0, waits = 0,
            graphLaunches = 0, arrivalLaunches = 0;
    double waitSeconds = 0;
  };
  const Stats &stats() const { return stats_; }

  /// With NCL_CUDA_PROFILE=1 (docs/gpu.md, "Where a step's time goes"):
  /// the device time of each kind of command, measured by a pair of events
  /// around each (graphs are then not used), totalled by what it ran: a
  /// stage's name, or the runtime's work ("making a spike list on the
  /// device", the arrival works of a launch). Complete as of the last wait.
  struct ProfileEntry {
    std::string what;
    int64_t commands = 0;
    double seconds = 0;
  };
  bool profiling() const { return profiling_; }

  /// What the driver says of each kernel the device loaded (run.json's
  /// "device_kernels", docs/gpu.md "What each kernel holds"): registers per
  /// thread, local memory per thread (spilled registers), and how many of
  /// its blocks of 256 threads one multiprocessor holds at once; -1 where
  /// the driver does not say. In the order the stages name them, the
  /// runtime's own kernels last.
  struct KernelResources {
    std::string entry;
    int registers = -1, localBytes = -1, blocksPerMultiprocessor = -1;
  };
  const std::vector<KernelResources> &kernelResources() const { return kernelResources_; }
  /// The device's multiprocessors, or -1 where the driver does not say.
  int multiprocessors() const { return multiprocessors_; }
  /// How a dense sum with member-tiled forms (model_abi.h) is launched:
  /// in tiles of `members` batch members (0: a thread per index alone),
  /// fixed by NCL_CUDA_MEMBER_TILE or, where it is unset or "auto", the
  /// size whose launches the device ran fastest in the first steps
  /// (docs/gpu.md, "Member tiles"). `tuned` is each size's mean device time
  /// per launch where that was measured; `decided` is false while it is.
  struct MemberTiling {
    int64_t members = 0;
    bool decided = true;
    std::vector<int64_t> candidates; // 0 and the sizes the image has
    std::vector<double> seconds;     // per candidate: device time of its timed launches
    std::vector<int64_t> launches;   // per candidate: its timed launches
    int64_t trials = 0;              // launches recorded while deciding
  };
  /// Per stage (the dense sums with member tiles only: `candidates` empty
  /// elsewhere).
  const std::vector<MemberTiling> &memberTiling() const { return tiling_; }
  /// An update `_seq` entry with a lean form (model_abi.h,
  /// NCL_GPU_LEAN_SUFFIX): which of the two its launches take, fixed by
  /// NCL_CUDA_LEAN or, where that is unset or "auto" and the lean form fits
  /// more blocks on a multiprocessor, the one the device ran faster in the
  /// first steps (docs/gpu.md, "Lean updates"). Form 0 is the entry, 1 the
  /// lean one.
  struct LeanChoice {
    std::string entry; // the `_seq` entry's name
    cuda::CUfunction forms[2] = {nullptr, nullptr};
    int blocksPerMultiprocessor[2] = {-1, -1}; // of 256 threads; -1 where the driver does not say
    int form = 0;
    bool decided = true;
    /// What chose the form: "NCL_CUDA_LEAN", "timed", "occupancy" (the lean
    /// form fits no more blocks on a multiprocessor, or the driver does not
    /// say), "one wave" (the grid fits the multiprocessors at once in the
    /// entry's form) or "no events" (the driver cannot time it).
    const char *chosenBy = "timed";
    double seconds[2] = {0, 0};   // per form: device time of its timed launches
    int64_t launches[2] = {0, 0}; // per form: its timed launches
    int64_t trials = 0;           // launches recorded while deciding
    int64_t blocks = 0;           // the largest grid of its launches
  };
  const std::vector<LeanChoice> &leanChoices() const { return leans_; }
  /// Why NCL_CUDA_PROFILE=1 could not be followed, or "".
  const std::string &profileNote() const { return profileNote_; }
  /// The entries that timed a command, most device time first (pointers
  /// that stay valid while the device lives).
  std::vector<const ProfileEntry *> profile() const;

  /// Before a run to step `target`: mirrors every host buffer of the
  /// table on the device (allocating where the layout changed), gives each
  /// state and synapse monitor a device block for its samples, and uploads
  /// what the host changed since the device last had it.
  void beginRun(ncl_model &m, int64_t target);
  /// After a run: nothing when it completed (the state stays on the
  /// device); when it failed or was interrupted, downloads what the kernels
  /// wrote, as far as the device still answers.
  void endRun(ncl_model &m, bool failed);
  /// Queues a step-time stage other than `step` on the device, as the CPU
  /// call fn(&a) would run it (docs/gpu.md, "The kernel contract"); a
  /// `step` stage goes through launchDeferred, which gives its spikes a
  /// region of their own.
  void launch(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a);
  /// Launches a step stage as launch() does, but leaves its spikes and
  /// header on the device, in a region of the deferred spike buffer that
  /// is this launch's alone, until collectSpikes; sets a.steps_done (the
  /// steps it runs, which the host chooses) and a.spike_capacity (its
  /// region's entries). Returns false, launching nothing, when the buffer
  /// has no room left for it: collectSpikes first. Every step launch goes
  /// this way; the host collects the spikes when it needs them (a chunk's
  /// end, an exchange interval's, or every step for some networks).
  bool launchDeferred(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a);
  /// Before a chunk's deferred launches: the entries they may emit in all
  /// (each neuron's channels in each step), which sizes the buffer (at most
  /// 2^20 entries of each array unless a launch needs more).
  void planDeferred(int64_t entries) { deferredPlanned_ = entries; }
  /// A deferred launch's spikes: its header's spike_count and, where it is
  /// within the launch's capacity, its entries sorted by (step, neuron,
  /// channel); valid until the next collectSpikes.
  struct LaunchSpikes {
    int64_t count = 0;
    const int64_t *step = nullptr, *index = nullptr;
    const int32_t *channel = nullptr;
  };
  /// Reads back every deferred launch's header and spikes, in launch
  /// order: one wait, and a second where a launch emitted more than its
  /// stage's previous ones (with headroom).
  std::vector<LaunchSpikes> collectSpikes(ncl_model &m);

  /// Whether a network's spikes may stay on the device (docs/gpu.md,
  /// "Spikes on the device"): the images have NCL_GPU_SPIKE_LIST_ENTRY.
  bool listsSpikes() const { return spikeLists_ || spikeList_; }
  /// Before a chunk whose spike lists stay on the device: every population
  /// with a spike history gets its slots on the device (m.history's depth,
  /// room for every unit in each), holding the host's lists where the host
  /// is ahead (after ncl_init, or a chunk that exchanged through the host).
  void prepareSpikeHistory(ncl_model &m);
  /// A chunk exchanged its spikes through the host: the device's history
  /// is behind.
  void spikeHistoryStale() { historyCurrent_ = false; }
  /// After the launchDeferred of population p's step over all its units:
  /// queues the spike-list kernel that makes that step's list, ascending,
  /// in p's history slot `slot` on the device; where the images can make
  /// several in one launch, it is made with the step's others when the
  /// host calls flushSpikeLists (or collects the spikes).
  void listSpikes(ncl_model &m, size_t p, int64_t slot);
  /// After a step's updates: one launch makes the lists listSpikes asked
  /// for (NCL_GPU_SPIKE_LISTS_ENTRY), so that the updates of one shared
  /// entry stay one launch.
  void flushSpikeLists(ncl_model &m);
  /// Queues a stage as launch() does, with population p's history slot
  /// `slot` on the device as its spike list (its length is copied into the
  /// header on the device; a per-spike launch covers the slot's room).
  void launchListed(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a, size_t p,
                    int64_t slot);

  /// Whether the arrival queues of per-synapse delays may stay on the
  /// device in a chunk whose spike lists do (docs/gpu.md, "Arrival queues
  /// on the device"): the images have NCL_GPU_ARRIVALS_ENTRY, the batch is
  /// 1, and every DELIVER_SYNAPSES stage runs a thread per target on a
  /// presynaptic population that is not a spike generator.
  bool queuesArrivals(const ncl_model &m) const;
  /// Before such a chunk: the queues on the device (allocated where the
  /// layout changed), holding the host's where the host is ahead.
  void prepareArrivals(ncl_model &m);
  /// At the start of step s of a chunk that began at s0: queues the phases
  /// that put step s - 1's spikes in their arrival slots (none at s0: the
  /// previous chunk ended with queueSent) and make step s's lists.
  void orderArrivals(ncl_model &m, int64_t s, int64_t s0);
  /// After the chunk's last step s (its spike lists queued): its spikes
  /// into their arrival slots, so that a chunk leaves every queue whole.
  void queueSent(ncl_model &m, int64_t s);
  /// A DELIVER_SYNAPSES stage on its queue's list of the step, made by
  /// orderArrivals (its length copied into the header on the device).
  void launchArrivals(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a);
  /// Before the host reads or changes its arrival queues (a chunk that
  /// exchanges through the host, a new thread layout, the CPU backend):
  /// the device's copied back where they are ahead. `hostWillChange`: the
  /// device's are stale afterwards.
  void arrivalsToHost(ncl_model &m, bool hostWillChange);

  /// Monitor `monitor` samples, into its row `row` at byte `at`, the
  /// elements first, first + stride, ... (`count` of them) of buffer
  /// `buffer`: a copy on the device, queued after the launches before it,
  /// into the monitor's block; the host gets the block's rows when it is
  /// full (flushMonitors), and at the chunk's end (downloadNeuronState).
  void sampleMonitor(ncl_model &m, size_t monitor, int64_t row, size_t at, size_t buffer,
                     int64_t first, int64_t count, int64_t stride);
  /// Copies every monitor's queued rows into its samples on the host (one
  /// wait, none when nothing is queued).
  void flushMonitors(ncl_model &m);
  /// After a chunk, copies what the host scans from the device: the
  /// monitors' queued rows, the populations' state variables (the NaN
  /// scan) and, where the chunk may be replayed (`replayable`), every
  /// per-neuron buffer (its start is copied on the host), after one wait.
  /// uploadNeuronState sends every per-neuron buffer back after the host
  /// restored a chunk's start.
  void downloadNeuronState(ncl_model &m, bool replayable);
  void uploadNeuronState(ncl_model &m);
  /// Whether the device tests a chunk's state itself and keeps the chunk's
  /// start (the image has NCL_GPU_FIND_NONFINITE_ENTRY): then nothing of
  /// the state comes back after a chunk unless a value is not finite
  /// (docs/gpu.md, "After each chunk").
  bool testsStateOnDevice() const { return findNonFinite_ != nullptr; }
  /// Before a chunk that may be replayed: a copy of every per-neuron
  /// buffer on the device, in stream order.
  void saveChunkStart(ncl_model &m);
  /// After a chunk, in place of downloadNeuronState: the monitors' queued
  /// rows, the test of the populations' state variables on the device and
  /// one wait; where a value is not finite, what downloadNeuronState
  /// copies, and the chunk's start saved on the device into the host's
  /// chunk-start copy (`replayable`). Whether one was not finite.
  bool testNeuronState(ncl_model &m, bool replayable);
  /// The chunk's start saved on the device into the host's chunk-start
  /// copy (m.buffersAtChunkStart), for a restore.
  void fetchChunkStart(ncl_model &m);

  /// Before the host reads (or changes part of) the state: copies back
  /// what the kernels changed since the host last had it, of the allocation
  /// that holds `at` (a buffer, a parameter array), or of all of them.
  void syncHost(ncl_model &m, const void *at = nullptr);
  /// After the host changed the allocation that holds `at` (synced first,
  /// where the kernels write it): the next run uploads it.
  void markHostChanged(const void *at);
  /// The host's copy is the whole state now (init, a discarded or
  /// reallocated state): what the kernels wrote is dropped, the next run
  /// uploads everything.
  void markHostReplaced();

private:
  CudaDevice() = default;
  /// A host allocation the buffer table points into and its device copy.
  struct Region {
    const void *host = nullptr;
    size_t bytes = 0;
    cuda::CUdeviceptr dev = 0;
    bool written = false;  // kernels write it
    bool scratch = false;  // a spike buffer: the kernels' output, never uploaded
    bool hostAhead = true; // the host changed it: the next run uploads it
    uint64_t syncedAt = 0; // launches_ when the host last had the device's values
  };
  void check(ncl_model *m, cuda::CUresult r, const char *what) const;
  void makeCurrent() const;
  /// Issues what is recorded and waits for the stream; the arena is free
  /// again afterwards.
  void synchronize(ncl_model *m, const char *what);
  /// The driver's calls on the model's stream, counted in stats_. The
  /// copies to and from the host issue the recorded work first (flush), so
  /// that they run after it, as queued.
  cuda::CUresult copyToDevice(ncl_model &m, cuda::CUdeviceptr to, const void *from, size_t bytes);
  cuda::CUresult copyToHost(ncl_model &m, void *to, cuda::CUdeviceptr from, size_t bytes);
  cuda::CUresult copyOnDevice(cuda::CUdeviceptr to, cuda::CUdeviceptr from, size_t bytes);
  cuda::CUresult launchKernel(cuda::CUfunction f, unsigned blocks, unsigned threads, void **params);

  /// The launches and the copies on the device are recorded, and issued
  /// in order when the host next copies, waits or runs out of room
  /// (flush): first one copy of everything they read that the host wrote
  /// (their headers, arguments and lists, put in the arena; the deferred
  /// launches' headers, in their slots), then the commands. A launch
  /// therefore costs one driver call, not a copy and a call (docs/gpu.md,
  /// "What a run costs").
  struct Command {
    enum Kind : uint8_t { Launch, Copy, Copy2D } kind = Launch;
    cuda::CUfunction function = nullptr; // Launch: the kernel, its grid, its one parameter
    unsigned blocks = 0, threads = 0;
    cuda::CUdeviceptr param = 0;
    int32_t row = -1; // a shared entry's second parameter (the stage's row), else -1 and unread
    cuda::CUdeviceptr to = 0, from = 0; // Copy: `bytes` on the device
    size_t bytes = 0;
    cuda::Memcpy2D copy{};                 // Copy2D
    const char *action = "";               // what a failure is reported as,
    const ncl_stage_info *stage = nullptr; // with the stage's name where set
    int64_t phase = 0;                     // an arrival launch's works (the profile's label)
    double *timed = nullptr; // where its device time is added while forms are timed, else null
    /// The same work (what a failure is reported as aside).
    bool operator==(const Command &o) const;
  };
  /// Queues one command on the stream.
  cuda::CUresult issue(Command &c);
  /// Where a batch repeats an earlier one (a run's chunks: the same
  /// launches, on headers of other contents), issues it as a CUDA graph,
  /// captured from it the second time it is seen and replayed after
  /// (docs/gpu.md); false where the caller issues it command by command.
  bool replay(ncl_model *m, std::vector<Command> &commands);
  void record(const Command &c) {
    seqOpen_ = false; // what follows runs after it
    commands_.push_back(c);
  }
  /// Issues the uploads and the commands recorded since the last flush.
  void flush(ncl_model *m);
  /// Makes room for `bytes` more in the arena (pieces 16-byte aligned: ask
  /// 16 more per piece); where it is full, issues and waits for what was
  /// recorded, or grows it, which loses the addresses taken before.
  void reserveArena(ncl_model &m, size_t bytes);
  /// A copy of `data` in the arena, on the device once the next flush has
  /// uploaded it; within the room reserveArena made.
  cuda::CUdeviceptr putInArena(const void *data, size_t bytes);
  /// Where the arena's device address `at` is mirrored on the host.
  void *hostInArena(cuda::CUdeviceptr at);
  /// A group of list-length copies (NCL_GPU_COPY_COUNTS_ENTRY): its
  /// arguments and room for a copy per stage in the arena, and its launch,
  /// recorded where it opens, before the deliveries whose lengths it copies.
  size_t countGroupBytes(const ncl_model &m) const;
  /// Deliveries of one shared entry recorded one after another run as one
  /// launch of its `_seq` entry (model_abi.h): the group's arguments, room
  /// for every stage naming the entry, are in the arena; the group takes
  /// launches until another command is recorded or the host flushes.
  size_t seqGroupBytes(size_t stage) const;
  void addToSeqGroup(const ncl_model &m, size_t stage, cuda::CUdeviceptr header, int64_t range,
                     int64_t begin);
  void openCountGroup(const ncl_model &m);
  /// Writes `bytes` of `data` at offset `at` of the deferred area's staging,
  /// for the next flush to upload there.
  void uploadDeferred(size_t at, const void *data, size_t bytes);
  void mirror(ncl_model &m);
  void freeMirror();
  bool deviceAhead(const Region &r) const { return r.written && r.syncedAt != launches_; }
  void download(ncl_model &m, Region &r);
  /// Records a launch of the stage's kernel on the header at `header` (on
  /// the device by the time it runs), a thread per index of a `range` (one
  /// thread with `oneThread`); with `countFrom`, the copy of a list's
  /// length made on the device into the header first.
  void recordLaunch(const ncl_model &m, const ncl_stage_info &stage, cuda::CUdeviceptr header,
                    int64_t range, int64_t begin, bool oneThread, cuda::CUdeviceptr countFrom = 0,
                    size_t countField = offsetof(ncl_kernel_args, num_spikes));
  /// Records a launch of a stage's second entry (a split deliver's
  /// commit, a dense sum's member tiles) on the header at `header`,
  /// `threads` threads, with the shared entry's `row` (else -1).
  void recordSecondEntry(const ncl_stage_info &stage, cuda::CUfunction function, int32_t row,
                         int64_t threads, cuda::CUdeviceptr header);
  /// A spike list on the device: `count` entries at `spikes`, room for
  /// `capacity`; with `synapses`, a list of synapses (int64) made by the
  /// arrival queues, its length copied into num_synapses.
  struct DeviceList {
    cuda::CUdeviceptr spikes = 0, count = 0;
    int64_t capacity = 0;
    bool synapses = false;
  };
  void launchWith(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a,
                  const DeviceList *list);
  /// Pinned host memory of at least `bytes` in `p` (of `capacity`),
  /// reallocated (contents lost) when smaller.
  void reservePinned(ncl_model &m, void *&p, size_t &capacity, size_t bytes);
  /// Gives every state and synapse monitor a block for the rows of a run
  /// to step `target` (at most the block budget), before the run's first
  /// launch (a block that must grow waits for the stream first).
  void prepareMonitorBlocks(ncl_model &m, int64_t target);
  /// Queues the copy of every block's rows into the pinned staging;
  /// storeMonitorRows puts them into the monitors after the wait.
  void queueMonitorRows(ncl_model &m);
  void storeMonitorRows(ncl_model &m);
  void freeMonitorBlocks();

  const cuda::Driver *d_ = nullptr;
  cuda::CUdevice device_ = 0;
  cuda::CUcontext context_ = nullptr;
  cuda::CUmodule module_ = nullptr;
  cuda::CUstream stream_ = nullptr;
  std::string name_, arch_, image_, imageNote_;
  int ordinal_ = 0;                       // the driver's device number
  std::vector<cuda::CUfunction> kernels_; // per stage; null for the host's stages
  std::vector<cuda::CUfunction> commits_; // per stage: a split deliver's commit, else null
  /// Per stage: a dense sum's member-tiled entries by size (members 0: none).
  std::vector<std::map<int64_t, cuda::CUfunction>> tiles_;
  std::vector<MemberTiling> tiling_; // per stage
  /// The launches issued between two events while the forms they take
  /// (member tiles, lean updates) are timed, read back after the next wait
  /// (readTiming) into `seconds`.
  struct TimedForm {
    double *seconds;
    cuda::CUevent start, end;
  };
  std::vector<TimedForm> timedForms_;
  int64_t formsPending_ = 0; // timed launches recorded and not read back yet
  void readTiming();
  /// The members of the tiles the next launch of dense sum `index` takes,
  /// and, while its sizes are timed, the candidate it times (else -1).
  int64_t nextMemberTile(ncl_model &m, size_t index, int32_t &candidate);
  std::vector<LeanChoice> leans_;
  std::vector<int32_t> leanOf_; // per stage: its `_seq` entry's place in leans_, else -1
  /// Before a launch of stage `index` records anything: where its `_seq`
  /// entry's forms have been timed enough, waits for the device once for
  /// the times and takes the faster.
  void settleLean(ncl_model &m, size_t index);
  /// The form a `_seq` launch of stage `index` opened now takes, and where
  /// its time goes while the forms are timed (else null).
  cuda::CUfunction nextSeqForm(size_t index, double *&timed);
  cuda::CUevent takeEvent(ncl_model *m);
  std::vector<int32_t> rows_; // per stage: its row where its entry is shared, else -1
  std::vector<cuda::CUfunction> seqKernels_; // per stage: its shared entry's `_seq`, else null
  std::vector<int64_t> seqRoom_;             // per stage: the stages naming its shared entry
  struct SeqGroup {
    cuda::CUfunction function = nullptr;
    size_t command = 0;         // its launch in commands_
    cuda::CUdeviceptr args = 0; // ncl_seq_launch_args, then the headers and rows
    int64_t count = 0, room = 0;
    int64_t blocks = 0; // the grid: every launch's blocks from its first
    // Per launch: (postsynaptic population, begin, first block)
    struct Target {
      int32_t population;
      int64_t begin;
      int32_t firstBlock;
    };
    std::vector<Target> targets;
  } seq_;
  bool seqOpen_ = false;
  std::vector<Region> regions_;
  std::vector<int32_t> bufferRegion_; // per buffer: its region, or -1 (null on the device)
  std::vector<size_t> bufferOffset_;  // bytes into that region
  cuda::CUdeviceptr table_ = 0;
  std::vector<Command> commands_; // recorded since the last flush
  bool useGraphs_ = false;        // the driver has them, NCL_CUDA_GRAPHS is not 0
  bool waitEach_ = false;         // NCL_CUDA_WAIT_EACH=1: a wait after each command
  /// NCL_CUDA_PROFILE=1: every command issued between two events, read
  /// back after the next wait into profile_ (by label).
  bool profiling_ = false;
  std::string profileNote_;
  std::vector<KernelResources> kernelResources_;
  int multiprocessors_ = -1;
  struct Timed {
    size_t entry; // into profile_
    cuda::CUevent start, end;
  };
  std::vector<Timed> timed_;
  std::vector<cuda::CUevent> freeEvents_;
  std::deque<ProfileEntry> profile_; // a deque: entries never move
  std::string profileLabel(const Command &c) const;
  /// Issues `c` between two events (profiling) or alone.
  cuda::CUresult issueTimed(ncl_model *m, Command &c);
  /// Adds the times of the commands the device has finished.
  void readProfile();
  /// The batches captured as graphs, most recently used first, and the
  /// hashes of recent batches (a batch seen again is captured).
  struct Graph {
    uint64_t hash = 0;
    std::vector<Command> commands;
    cuda::CUgraphExec exec = nullptr;
  };
  std::vector<Graph> graphs_;
  std::vector<uint64_t> seen_;
  static uint64_t hashOf(const std::vector<Command> &commands);
  /// The arena: `arenaBytes_` on the device and their pinned mirror, of
  /// which `arenaUsed_` are taken since the last wait and `arenaUploaded_`
  /// were copied by a flush.
  cuda::CUdeviceptr arena_ = 0;
  void *arenaHost_ = nullptr;
  size_t arenaBytes_ = 0, arenaUsed_ = 0, arenaUploaded_ = 0;
  /// What the host wrote into deferredStaging_ since the last flush (the
  /// step launches' headers and buffer tables), for the flush to upload to
  /// the same place of the deferred area: an (offset, bytes) range for the
  /// headers and one for the tables.
  std::vector<std::pair<size_t, size_t>> deferredUploads_;
  std::vector<int64_t> sortedSynapses_; // a per-target launch's list, by postsynaptic neuron
  uint64_t launches_ = 0;    // launches so far: a region is current on the host if synced since
  bool hostReplaced_ = true; // markHostReplaced since the last beginRun
  std::vector<int64_t> expectedSpikes_; // per stage: entries read with the header
  /// The deferred launches: on the device a header and a buffer table per
  /// launch (`deferredSlots_` of them) and each array of spike entries
  /// (`deferredEntries_` each), laid out as in deferredStaging_.
  struct DeferredLaunch {
    size_t stage = 0;
    int64_t begin = 0;                // its first neuron
    int64_t offset = 0, capacity = 0; // its entries in the arrays
    bool channels = false;            // the channel array is written
    bool launched = true;             // false: an empty range, nothing ran
  };
  std::vector<DeferredLaunch> deferred_;
  /// Per stage and first neuron (a block of neurons spikes as it did
  /// before): the entries a collection reads with the headers.
  std::map<std::pair<size_t, int64_t>, int64_t> expectedOfBlock_;
  std::vector<cuda::CUdeviceptr> tableHost_; // the buffer table, as uploaded
  /// Per deferred slot: the offset into the spike arrays that the slot's
  /// table on the device points at (-1: none yet), kept while the area and
  /// the mirror stay.
  std::vector<int64_t> slotTableOffset_;
  cuda::CUdeviceptr deferredArea_ = 0;
  int64_t deferredSlots_ = 0, deferredEntries_ = 0, deferredUsed_ = 0, deferredPlanned_ = 0;
  size_t deferredTableEntries_ = SIZE_MAX; // the table's entries when the area was made
  void *deferredStaging_ = nullptr;
  size_t deferredStagingBytes_ = 0;
  std::vector<int64_t> collectedStep_, collectedIndex_;
  std::vector<int32_t> collectedChannel_;
  size_t deferredHeaderBytes() const;
  size_t deferredTablesAt() const;
  /// 0 steps, 1 indices, 2 channels: the launches' arrays; 3 to 5 the
  /// same, packed by NCL_GPU_GATHER_SPIKES_ENTRY.
  size_t deferredArrayAt(int which) const;
  /// Where the packed launches' starts are, in the area or its staging
  /// (which mirrors the area up to the launches' arrays).
  size_t deferredStartsAt(bool onDevice) const;
  /// Queues the copies of entries [from, to) of a launch's arrays into the
  /// staging.
  void queueLaunchEntries(ncl_model &m, const DeferredLaunch &l, int64_t from, int64_t to);
  /// Packs the deferred launches' entries on the device and copies them
  /// into the staging's arrays, launch after launch (the first `expected`
  /// with the headers, in one wait; the rest in a second); at[i] is where
  /// launch i's entries start there.
  void gatherSpikes(ncl_model &m, bool channels, int64_t expected, std::vector<int64_t> &at);
  /// A monitor's samples on the device: rows [firstRow, firstRow + rows)
  /// of its record, `capacity` rows of rowBytes, staged at byte `staged` of
  /// monitorStaging_ on their way to the host.
  struct MonitorBlock {
    cuda::CUdeviceptr dev = 0;
    size_t rowBytes = 0, staged = 0;
    int64_t capacity = 0, firstRow = 0, rows = 0;
  };
  std::vector<MonitorBlock> blocks_; // per monitor (empty for a rate monitor)
  void *monitorStaging_ = nullptr;
  size_t monitorStagingBytes_ = 0;
  bool monitorRowsQueued_ = false; // queueMonitorRows since the last storeMonitorRows
  int32_t spikeStep_ = -1, spikeIndex_ = -1, spikeChannel_ = -1; // a buffer of each role
  /// Spike lists on the device: per population, `depth` slots of `units`
  /// indices and `depth` lengths (docs/gpu.md, "Spikes on the device").
  cuda::CUfunction spikeList_ = nullptr;
  cuda::CUfunction spikeLists_ = nullptr; // NCL_GPU_SPIKE_LISTS_ENTRY, where the image has it
  struct PendingList {
    size_t launch = 0, population = 0; // its deferred launch, its population
    int64_t slot = 0;                  // the history slot it fills
  };
  std::vector<PendingList> pendingLists_;
  ncl_spike_list_args spikeListArgs(size_t launch, size_t p, int64_t slot) const;
  cuda::CUfunction copyCounts_ = nullptr;    // NCL_GPU_COPY_COUNTS_ENTRY, where the image has it
  cuda::CUfunction gatherSpikes_ = nullptr;  // NCL_GPU_GATHER_SPIKES_ENTRY, likewise
  cuda::CUfunction gatherRecords_ = nullptr; // NCL_GPU_GATHER_RECORDS_ENTRY, likewise
  cuda::CUfunction findNonFinite_ = nullptr; // NCL_GPU_FIND_NONFINITE_ENTRY, likewise
  /// A chunk's start on the device (saveChunkStart): per buffer, its place
  /// in startArea_, or SIZE_MAX where it is not a per-neuron buffer.
  cuda::CUdeviceptr startArea_ = 0;
  std::vector<size_t> startOffset_;
  int64_t countGroup_ = -1;         // the open group's command, or -1
  cuda::CUdeviceptr countArgs_ = 0; // its arguments in the arena
  int64_t countsInGroup_ = 0, countGroupRoom_ = 0;
  struct DeviceHistory {
    cuda::CUdeviceptr lists = 0, counts = 0;
    int64_t depth = 0, units = 0;
  };
  std::vector<DeviceHistory> histories_;
  bool historyCurrent_ = false; // the device's lists are the host's
  void freeHistories();
  /// The arrival queues on the device (ncl_arrival_queue, model_abi.h), one
  /// per projection with per-synapse delays, in one allocation: first the
  /// descriptors, then per queue its ring, its counters (ring_count,
  /// out_count, overflow, target_count: zeroed on upload) and its lists.
  // NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY, or an older image's
  // NCL_GPU_PIPELINED_ARRIVALS_ENTRY or NCL_GPU_ARRIVALS_ENTRY, where the
  // image has one
  cuda::CUfunction arrivals_ = nullptr;
  struct ArrivalQueue {
    size_t projection = 0;
    int64_t slots = 0, room = 0, buckets = 0, preUnits = 0;
    size_t ring = 0, counters = 0, countersBytes = 0, bucketStart = 0, groupSum = 0, out = 0;
    // Its deliveries read its bucket starts at the list's beginning
    // (NCL_GPU_LAUNCH_PER_TARGET_BUCKETS): bucketStart is out.
    bool prefixed = false;
  };
  std::vector<ArrivalQueue> arrivalQueues_;
  std::vector<int32_t> queueOfProjection_; // per projection: its queue, or -1
  cuda::CUdeviceptr arrivalMemory_ = 0;
  bool arrivalsOnDevice_ = false; // the device's queues are current
  bool arrivalsOnHost_ = true;    // the host's are
  bool arrivalsCombined_ = false; // every delay >= 1 step: works of two steps share launches
  // Each work's grid (blocks per queue times queues), by its items: the
  // synapses a step's spikes reach (sending, scattering), the groups of
  // buckets or the buckets.
  struct ArrivalGrids {
    unsigned sending = 1, groups = 1, buckets = 1;
    /// The grid of `phase`: an older entry's phase (0 to 6), or the
    /// largest of the works of a set (NCL_ARRIVALS_ bits).
    unsigned of(int64_t phase, bool pipelined) const;
  } arrivalBlocks_;
  bool arrivalsPipelined_ = false;  // arrivals_ is NCL_GPU_PIPELINED_ARRIVALS_ENTRY or later
  bool arrivalsByteDelays_ = false; // arrivals_ is NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY
  bool byteDelays_ = false;         // the queues' delays are one byte each (prepareArrivals)
  void recordArrivalPhase(ncl_model &m, int64_t phase, int64_t step);
  /// In every collection, after its wait and before any spike is taken,
  /// while the device's queues are in use: refuses, with one message naming
  /// the projection, a step whose arrivals did not fit its queue's room.
  void checkArrivals(ncl_model &m);
  void freeArrivals();
  Stats stats_;
};

/// Whether the device runs a stage of this kind (the others, init and
/// connect, run on the host's CPU kernels once at ncl_init).
bool runsOnDevice(int32_t kind);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_CUDABACKEND_H
