//===- CudaBackend.h - Running a model's stages on a CUDA device ----------===//
//
// The CUDA backend (docs/gpu.md) keeps the CPU backend's host logic: the
// init and connect stages, the connectivity, the spike histories and
// arrival queues, the monitors and the records are those of Simulator.cpp,
// which asks this class to run each step-time stage on the device instead of
// calling its CPU function. Between runs the host's buffers are the model's
// state (ncl_get_state, ncl_set_state, output and saved weights read and
// write them as on the CPU); a run uploads them and downloads what the
// kernels write when it ends.
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
  static std::unique_ptr<CudaDevice> open(const ncl_model &m);
  ~CudaDevice();
  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;

  /// "NVIDIA H200" and "sm_90", for run.json and messages.
  const std::string &name() const { return name_; }
  const std::string &arch() const { return arch_; }

  /// Before a run: mirrors every host buffer of the table on the device
  /// (allocating where the layout changed) and uploads it.
  void beginRun(ncl_model &m);
  /// After a run (complete or not): downloads what the kernels write.
  void endRun(ncl_model &m);
  /// Runs a step-time stage on the device as the CPU call fn(&a) would
  /// (docs/gpu.md, "The kernel contract"); for a STEP stage, copies its
  /// spikes back into the thread's spike buffers sorted by (step, neuron,
  /// channel) and sets a.spike_count and a.steps_done.
  void launch(ncl_model &m, const ncl_stage_info &stage, ncl_kernel_args &a);
  /// Copies elements [first, first + count) of buffer `buffer` from the
  /// device into the host buffer (what a monitor is about to sample).
  void refreshHost(ncl_model &m, size_t buffer, int64_t first, int64_t count);
  /// Copies every population's per-neuron buffers from (to) the device:
  /// after a chunk for the NaN scan and the next chunk-start copy, and after
  /// the host restored a chunk's start.
  void downloadNeuronState(ncl_model &m);
  void uploadNeuronState(ncl_model &m);

private:
  CudaDevice() = default;
  struct Region {
    const void *host = nullptr;
    size_t bytes = 0;
    cuda::CUdeviceptr dev = 0;
    bool written = false; // kernels write it: downloaded after a run
  };
  void check(ncl_model *m, cuda::CUresult r, const char *what) const;
  void makeCurrent() const;
  void mirror(ncl_model &m);
  void freeMirror();
  cuda::CUdeviceptr upload(ncl_model &m, const void *data, size_t bytes, size_t &offset);
  void copyRegion(ncl_model &m, size_t region, bool toDevice);

  const cuda::Driver *d_ = nullptr;
  cuda::CUdevice device_ = 0;
  cuda::CUcontext context_ = nullptr;
  cuda::CUmodule module_ = nullptr;
  std::string name_, arch_;
  std::vector<cuda::CUfunction> kernels_; // per stage; null for the host's stages
  std::vector<Region> regions_;
  std::vector<int32_t> bufferRegion_; // per buffer: its region, or -1 (null on the device)
  std::vector<size_t> bufferOffset_;  // bytes into that region
  cuda::CUdeviceptr table_ = 0, header_ = 0, lists_ = 0;
  size_t listBytes_ = 0;
  int32_t spikeStep_ = -1, spikeIndex_ = -1, spikeChannel_ = -1; // a buffer of each role
};

/// Whether the device runs a stage of this kind (the others, init and
/// connect, run on the host's CPU kernels once at ncl_init).
bool runsOnDevice(int32_t kind);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_CUDABACKEND_H
