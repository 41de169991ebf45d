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

#include <string>

namespace llvm {
class raw_ostream;
}

namespace ncl {

/// Translates `module` (kernels in the LLVM dialect beside the lowered
/// `ncl.network` that describes them) and adds the descriptor, computed from
/// the network alone. With `llvmOut`, prints the optimised LLVM IR there
/// instead of writing `path`. The network is removed from `module`.
/// `threads` compile the kernels at once (0: one per core the process may
/// use); each kernel's machine code is the same for any number. With
/// `timePhases`, each phase is timed in the timer group kPhaseTimerGroup.
bool emitSharedLibrary(mlir::ModuleOp module, const std::string &path, std::string &error,
                       llvm::raw_ostream *llvmOut = nullptr, unsigned threads = 0,
                       bool timePhases = false);

/// The timer group of `nclc --time-phases`, printed when nclc exits.
inline constexpr const char *kPhaseTimerGroup = "nclc";
inline constexpr const char *kPhaseTimerGroupDescription = "nclc's phases";

} // namespace ncl

#endif
