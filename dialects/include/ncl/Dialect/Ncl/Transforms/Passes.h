//===- Passes.h - Transformations within the ncl dialect --------*- C++ -*-===//
#ifndef NCL_DIALECT_NCL_TRANSFORMS_PASSES_H
#define NCL_DIALECT_NCL_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::ncl {
#define GEN_PASS_DECL
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"
} // namespace mlir::ncl

#endif
