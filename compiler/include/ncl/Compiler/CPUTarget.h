//===- CPUTarget.h - LLVM dialect to a loadable shared library --*- C++ -*-===//
//
// The last stage on the CPU: translate to LLVM IR, add the C-ABI kernel
// entry points and the `ncl_model` descriptor (runtime/include/ncl/
// model_abi.h), optimise for the host CPU, emit objects in-process (the
// kernels shared out among threads) and link them with lld into a shared
// library. No external tool is spawned.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_COMPILER_CPUTARGET_H
#define NCL_COMPILER_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <future>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class Function;
class Instruction;
class Module;
class raw_ostream;
} // namespace llvm

namespace mlir::ncl {
class NetworkOp;
class StageOp;
} // namespace mlir::ncl

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace ncl {

/// One GPU image of the library (ncl_gpu_image, docs/gpu.md).
struct GPUImage {
  std::string arch; ///< "sm_80"
  int format;       ///< ncl_gpu_format
  std::string data; ///< PTX text (without its NUL) or a cubin
};

/// What a GPU target adds to the library: its images, and the entry that
/// runs each kernel (by the kernel's name in the module's schedule).
struct GPUModule {
  /// The images, once waitForImages returned true.
  std::vector<GPUImage> images;
  /// How many images there will be: known before they are compiled.
  size_t numImages = 0;
  /// The images, or why they could not be made.
  struct Images {
    std::vector<GPUImage> images;
    std::string error;
  };
  /// The images' code generation (and ptxas), while it runs in the
  /// background beside the CPU's compile (emitCUDAImages).
  std::future<Images> pending;
  /// Waits for the background compile, if one runs; fills `images`, or
  /// `error` and returns false.
  bool waitForImages(std::string &error) {
    if (pending.valid()) {
      Images done = pending.get();
      if (!done.error.empty()) {
        error = std::move(done.error);
        return false;
      }
      images = std::move(done.images);
    }
    return true;
  }
  /// Each stage's GPU entry, in the schedule's order ("" for the host's
  /// stages): stages that share a kernel have an entry each, unless they
  /// share one (NCL_GPU_LAUNCH_SHARED_ENTRY).
  std::vector<std::string> stageEntries;
  /// How each stage's threads divide its work (ncl_gpu_launch, with its
  /// flag), from ncl-gpu-map's `ncl.gpu_launch` of its kernel.
  std::vector<int32_t> stageLaunches;
  /// With CUDAOptions::emulation: the same kernels and entries as LLVM
  /// bitcode for the host, which emitSharedLibrary compiles into the
  /// library, so that the fake driver of the tests runs the GPU's code a
  /// thread at a time (docs/gpu.md, "The GPU's code on the host").
  std::string emulation;
};

/// Translates `module` (kernels in the LLVM dialect beside the lowered
/// `ncl.network` that describes them) and adds the descriptor, computed from
/// the network alone. With `llvmOut`, prints the optimised LLVM IR there
/// instead of writing `path`. The network is removed from `module`.
/// `threads` compile the kernels at once (0: one per core the process may
/// use); each kernel's machine code is the same for any number. With
/// `timePhases`, each phase is timed in the timer group kPhaseTimerGroup.
/// With `gpu`, the descriptor lists its images and each stage's GPU entry;
/// images still compiling in the background are waited for after the CPU's
/// code, and become the library's last object.
bool emitSharedLibrary(mlir::ModuleOp module, const std::string &path, std::string &error,
                       llvm::raw_ostream *llvmOut = nullptr, unsigned threads = 0,
                       bool timePhases = false, GPUModule *gpu = nullptr);

/// The name ncl-to-loops gave the stage's kernel (`ncl_<population>_update`),
/// where ncl-merge-kernels gave the stage another stage's: its entry points
/// are named after it.
std::string stageKernelName(mlir::ncl::StageOp stage);

/// Adds `void <entryName>(ncl_kernel_args *)` (external) to `m`: it loads
/// each argument the stage's `args` name, from the buffer table or the
/// header (memrefs expanded into their descriptors), and calls the stage's
/// kernel, which becomes internal. The CPU's entry points and the GPU's
/// (docs/gpu.md) are built by this one function. `kernel`, where given,
/// names another function of the stage's arguments to call (a GPU commit
/// kernel).
llvm::Function *buildKernelEntry(llvm::Module &m, mlir::ncl::StageOp stage,
                                 mlir::ncl::NetworkOp network, llvm::StringRef entryName,
                                 std::string &error, llvm::StringRef kernel = {});

/// Points every entry of `entries` whose kernel is identical to another's
/// (and is passed the same constants) at one copy of it, which is then
/// compiled once: populations of one neuron model and projections of one
/// synapse model. Kernels that are the same code but for integer constants
/// that arithmetic takes (their random streams) become one kernel taking
/// those constants as extra arguments, which each entry passes. The CPU's
/// and the GPU's entries both use it.
void mergeIdenticalKernels(llvm::ArrayRef<llvm::Function *> entries);

/// An operand of an instruction: (instruction, operand number).
using OperandSlot = std::pair<llvm::Instruction *, unsigned>;

/// Where `a` and `b` differ, if they are the same code but for integer
/// constants at operands for which `may(instruction, operand)` holds: those
/// operands of `a`, in a's order. Null where they differ in anything else.
std::optional<std::vector<OperandSlot>>
integerConstantDifferences(llvm::Function &a, llvm::Function &b,
                           llvm::function_ref<bool(const llvm::Instruction &, unsigned)> may);

/// The instruction of `b` at the place `i` has in `a` (the same code).
llvm::Instruction *samePlace(llvm::Function &a, llvm::Function &b, llvm::Instruction *i);

/// Runs LLVM's O3 pipeline on `m` for `tm` (its target's callbacks
/// included, e.g. NVVMReflect for libdevice), with the SLP vectoriser if
/// `slpVectorize`. It does not reassociate floating-point operations: the
/// results stay those of the IR. The CPU and the GPU targets both use it.
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, bool slpVectorize);

/// The timer group of `nclc --time-phases`, printed when nclc exits.
inline constexpr const char *kPhaseTimerGroup = "nclc";
inline constexpr const char *kPhaseTimerGroupDescription = "nclc's phases";

} // namespace ncl

#endif
