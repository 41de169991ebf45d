//===- CudaBackend.h - Running a model's stages on a CUDA device ----------===//
//
// The CUDA backend (docs/gpu.md) keeps the CPU backend's host logic: the
// init and connect stages, the connectivity, the spike histories and
// arrival queues, the monitors and the records are those of Simulator.cpp,
// which asks this class to run each step-time stage on the device instead of
// calling its CPU function. The work goes, in order, to one stream per
// model; the host waits for it only where it needs a result. The state stays
// on the device between runs: a run uploads only what the host changed
// (markHostChanged), and the host's copy is brought up to date
// (syncHost) before the host reads it (the C API's accessors, output).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_CUDABACKEND_H
#define NCL_RUNTIME_LIB_CUDABACKEND_H

#include "CudaDriver.h"
#include "ncl/model_abi.h"

#include <cstdint>
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
  /// The device's number (ncl_set_backend's "cuda:N"; "cuda" is 0).
  int ordinal() const { return ordinal_; }

  /// Before a run: mirrors every host buffer of the table on the device
  /// (allocating where the layout changed) and uploads what the host
  /// changed since the device last had it.
  void beginRun(ncl_model &m);
  /// After a run: nothing when it completed (the state stays on the
  /// device); when it failed or was interrupted, downloads what the kernels
  /// wrote, as far as the device still answers.
  void endRun(ncl_model &m, bool failed);
  /// Runs a step-time stage on the device as the CPU call fn(&a) would
  /// (docs/gpu.md, "The kernel contract"); for a STEP stage, copies its
  /// spikes back into the thread's spike buffers sorted by (step, neuron,
  /// channel) and sets a.spike_count and a.steps_done. Other stages return
  /// once queued.
  void launch(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a);
  /// Copies elements [first, first + count) of buffer `buffer` from the
  /// device into the host buffer (what a monitor is about to sample).
  void refreshHost(ncl_model &m, size_t buffer, int64_t first, int64_t count);
  /// After a chunk, copies what the host scans from the device: the
  /// populations' state variables (the NaN scan) and, where the chunk may
  /// be replayed (`replayable`), every per-neuron buffer (its start is
  /// copied on the host). uploadNeuronState sends every per-neuron buffer
  /// back after the host restored a chunk's start.
  void downloadNeuronState(ncl_model &m, bool replayable);
  void uploadNeuronState(ncl_model &m);

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
  /// Waits for the stream; the pinned staging is free again afterwards.
  void synchronize(ncl_model *m, const char *what);
  void mirror(ncl_model &m);
  void freeMirror();
  bool deviceAhead(const Region &r) const { return r.written && r.syncedAt != launches_; }
  void download(ncl_model &m, Region &r);
  /// A copy of `bytes` of `data` in pinned host memory, valid until the
  /// next synchronize (an asynchronous copy reads it when the stream gets
  /// there).
  void *staged(ncl_model &m, const void *data, size_t bytes);
  cuda::CUdeviceptr uploadList(ncl_model &m, const void *data, size_t bytes, size_t &offset);
  void readSpikes(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a, int64_t steps,
                  const std::string &what);
  /// Pinned host memory of at least `bytes` in `p` (of `capacity`),
  /// reallocated (contents lost) when smaller.
  void reservePinned(ncl_model &m, void *&p, size_t &capacity, size_t bytes);

  const cuda::Driver *d_ = nullptr;
  cuda::CUdevice device_ = 0;
  cuda::CUcontext context_ = nullptr;
  cuda::CUmodule module_ = nullptr;
  cuda::CUstream stream_ = nullptr;
  std::string name_, arch_;
  int ordinal_ = 0;                       // the driver's device number
  std::vector<cuda::CUfunction> kernels_; // per stage; null for the host's stages
  std::vector<cuda::CUfunction> commits_; // per stage: a split deliver's commit, else null
  std::vector<Region> regions_;
  std::vector<int32_t> bufferRegion_; // per buffer: its region, or -1 (null on the device)
  std::vector<size_t> bufferOffset_;  // bytes into that region
  cuda::CUdeviceptr table_ = 0, header_ = 0, lists_ = 0;
  size_t listBytes_ = 0;
  std::vector<int64_t> sortedSynapses_; // a per-target launch's list, by postsynaptic neuron
  uint64_t launches_ = 0;    // launches so far: a region is current on the host if synced since
  bool hostReplaced_ = true; // markHostReplaced since the last beginRun
  // Pinned host memory: the headers and lists of the launches queued since
  // the last synchronize (stagingUsed_ bytes), and a step's readback.
  void *staging_ = nullptr, *readback_ = nullptr;
  size_t stagingBytes_ = 0, stagingUsed_ = 0, readbackBytes_ = 0;
  std::vector<int64_t> expectedSpikes_; // per stage: entries read with the header
  int32_t spikeStep_ = -1, spikeIndex_ = -1, spikeChannel_ = -1; // a buffer of each role
};

/// Whether the device runs a stage of this kind (the others, init and
/// connect, run on the host's CPU kernels once at ncl_init).
bool runsOnDevice(int32_t kind);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_CUDABACKEND_H
