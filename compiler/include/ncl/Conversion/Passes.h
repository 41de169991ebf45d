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
/// ncl.exp_euler in its increment form with math.expm1.
void populateExpEulerLoweringPatterns(RewritePatternSet &patterns);

/// math.exp, math.expm1 and math.tanh of f32 and f64 as branch-free arith
/// ops and llvm.intr.fma (NclExpandExp); with `mathOps`, tanh's |x| and
/// copysign as math ops instead of LLVM intrinsics.
void populateExpandExpPatterns(RewritePatternSet &patterns, bool mathOps = false);

/// The neuron loops of kernels being built (NclToLoops.cpp): the values the
/// per-neuron patterns read (the neuron index, the step, the buffers).
struct NeuronLoops;

/// One conversion pattern per ncl op of a neuron's program, inside the loops
/// described by `loops`: the target-independent semantics of each op, which
/// a CPU or GPU mapping reuses unchanged.
void populateNclToLoopsPatterns(RewritePatternSet &patterns, const NeuronLoops &loops);
} // namespace ncl
} // namespace mlir

#endif
