//===- MLIRGen.h - Checked AST to the ncl dialect ---------------*- C++ -*-===//
#ifndef NCL_COMPILER_MLIRGEN_H
#define NCL_COMPILER_MLIRGEN_H

#include "ncl/DSL/Sema.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace ncl {

struct CodegenOptions {
  unsigned realBits = 64; ///< precision of state and arithmetic: 32 or 64
};

/// Emits the network as one ncl.network: its populations (each described by
/// its parameters, variables and events), the schedule of a step and the run
/// defaults, everything the library's descriptor is computed from. The module must
/// have passed Sema; MLIRGen reports nothing itself.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const NetworkModel &network,
                                          const CodegenOptions &options);

} // namespace ncl

#endif
