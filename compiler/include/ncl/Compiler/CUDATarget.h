//===- CUDATarget.h - NVVM kernels to PTX and cubin images ------*- C++ -*-===//
//
// The last stage for NVIDIA GPUs (docs/gpu.md): the kernels that
// `ncl-to-nvvm` left in `gpu.module @ncl_kernels` are translated to LLVM IR,
// each stage gets an entry `<kernel>_gpu(ncl_kernel_args *)`, libdevice is
// linked where a math function needs it, and LLVM's NVPTX backend emits
// PTX for each architecture, in-process, with floating-point contraction
// off; where the CUDA toolkit's `ptxas` exists, it assembles a cubin too.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_COMPILER_CUDATARGET_H
#define NCL_COMPILER_CUDATARGET_H

#include "ncl/Compiler/CPUTarget.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace ncl {

/// The architectures `nclc --gpu-arch` takes by default.
inline constexpr const char *kDefaultGPUArchs = "sm_80,sm_90";

/// Parses a comma-separated list of CUDA architectures ("sm_80,sm_90") into
/// `archs` (duplicates dropped); false, with `error`, for an empty list or a
/// name LLVM's NVPTX backend does not know.
bool parseGPUArchs(llvm::StringRef list, std::vector<std::string> &archs, std::string &error);

/// The CUDA toolkit NCL uses for libdevice and ptxas: $NCL_CUDA_PATH, or
/// /usr/local/cuda. It is optional (docs/gpu.md).
std::string cudaToolkitPath();

struct CUDAOptions {
  std::vector<std::string> archs; ///< at least one, from parseGPUArchs
  std::string toolkit;            ///< cudaToolkitPath()
  bool cubin = true;              ///< assemble cubins where ptxas exists
  bool emulation = false;         ///< also the kernels for the host (GPUModule::emulation)
};

/// Marks the loop whose back edge is `latch` not to be unrolled (`.pragma
/// "nounroll"` in the PTX): ptxas otherwise unrolls the loops of the
/// runtime's entries and of the `_seq` entries, whose trip counts are data
/// (a list's length, a row's synapses, the launches of a group), at a cost
/// in compile time (the whole of a `_seq` entry's inlined body copied per
/// unrolled launch) and nothing at run time worth it.
void markNotUnrolled(llvm::Instruction *latch);

/// Adds to `m` the entry NCL_GPU_SPIKE_LISTS_ENTRY (model_abi.h), with
/// which the CUDA backend makes a step's spike lists on the device in one
/// launch: the grid's blocks shared between them, each a rank sort of the
/// entries one step launch wrote, as NCL_GPU_SPIKE_LIST_ENTRY's contract
/// says (RuntimeKernels.cpp).
llvm::Function *buildSpikeListsKernel(llvm::Module &m);

/// Adds to `m` the entry NCL_GPU_COPY_COUNTS_ENTRY (model_abi.h), with which
/// the CUDA backend copies a step's spike-list lengths into its deliveries'
/// headers in one launch: thread g makes copy g (RuntimeKernels.cpp).
llvm::Function *buildCopyCountsKernel(llvm::Module &m);

/// Adds to `m` the entry NCL_GPU_GATHER_RECORDS_ENTRY (model_abi.h), with
/// which the CUDA backend takes a synapse monitor's sample: thread g copies
/// element g of one variable of interleaved synapse records into a row of
/// the monitor's block (RuntimeKernels.cpp).
llvm::Function *buildGatherRecordsKernel(llvm::Module &m);

/// Adds to `m` the entry NCL_GPU_FIND_NONFINITE_ENTRY (model_abi.h), with
/// which the CUDA backend tests a chunk's state for NaN and infinities on the
/// device: thread g looks at every G-th value of each region and stores 1
/// where one is not finite (RuntimeKernels.cpp).
llvm::Function *buildFindNonFiniteKernel(llvm::Module &m);

/// Adds to `m` the entry NCL_GPU_GATHER_SPIKES_ENTRY (model_abi.h), with
/// which the CUDA backend packs the entries several step launches wrote into
/// their regions of the deferred spike arrays into one run: phase 0 the
/// runs' starts, phase 1 a block per region copying its entries
/// (RuntimeKernels.cpp).
llvm::Function *buildGatherSpikesKernel(llvm::Module &m);

/// Adds to `m` the entry NCL_GPU_BYTE_DELAY_ARRIVALS_ENTRY (model_abi.h),
/// with which the CUDA backend keeps the arrival queues of per-synapse
/// delays on the device: the arrivals of each step queued and counted by
/// bucket with atomic adds, then scanned, scattered and sorted by target in
/// works, those of consecutive steps that touch different slots in one
/// launch (RuntimeKernels.cpp).
llvm::Function *buildArrivalsKernel(llvm::Module &m);

/// Compiles `module`, the output of `ncl-to-nvvm` (its ncl.network is read,
/// not removed), into `gpu`: per architecture, PTX and, with ptxas, a cubin;
/// and the entry of every stage's kernel. False, with `error`, where a
/// kernel needs libdevice and the toolkit has none, or ptxas fails.
bool emitCUDAImages(mlir::ModuleOp module, const CUDAOptions &options, GPUModule &gpu,
                    std::string &error, bool timePhases = false);

/// `nclc --target=cuda`: runs `ncl-to-nvvm` on a copy of `ir` (the ncl
/// dialect at any stage before LLVM; `ir` is not changed) and then
/// emitCUDAImages. False with an empty `error` where a pass reported the
/// error at the model's line (a stage the GPU cannot run).
bool compileGPUModule(mlir::ModuleOp ir, const CUDAOptions &options, bool fuse, GPUModule &gpu,
                      std::string &error, bool timePhases = false);

} // namespace ncl

#endif
