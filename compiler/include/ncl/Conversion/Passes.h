//===- Passes.h - Conversions out of the ncl dialect ------------*- C++ -*-===//
#ifndef NCL_CONVERSION_PASSES_H
#define NCL_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace ncl {
#define GEN_PASS_DECL
#include "ncl/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ncl/Conversion/Passes.h.inc"

/// Expands ncl.exp_euler into arith and math ops.
void populateExpEulerLoweringPatterns(RewritePatternSet &patterns);
} // namespace ncl
} // namespace mlir

#endif
