//===- Pipeline.h - The named pass pipelines nclc runs ----------*- C++ -*-===//
//
// `nclc` and `ncl-opt --ncl-to-llvm` run the same pipeline, so a lit test of
// the pipeline tests exactly what users get.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_COMPILER_PIPELINE_H
#define NCL_COMPILER_PIPELINE_H

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace ncl {

/// The part every target shares: integrate, fuse (unless `fuse` is
/// false), assign storage, lower to target-independent loops. nclc runs it
/// once for all targets; each target's pipeline starts with it too, and
/// leaves what it already lowered as it is.
void buildNclKernelsPipeline(mlir::OpPassManager &pm, bool fuse = true);

/// ncl dialect -> loops on memrefs (target independent): integrate, fuse
/// (unless `fuse` is false: `nclc --no-fuse`), lower populations to loops,
/// clean up and hoist loop-invariant work.
void buildNclToLoopsPipeline(mlir::OpPassManager &pm, bool fuse = true);

/// Loops -> LLVM dialect (CPU): everything above, then the standard
/// conversions, with math.expm1 through libm for full precision.
void buildNclToLLVMPipeline(mlir::OpPassManager &pm, bool fuse = true);

/// Loops -> GPU kernels in the NVVM dialect (docs/gpu.md): the kernels
/// above, mapped to a thread per index by ncl-gpu-map and moved into
/// `gpu.module @ncl_kernels`, then lowered by convert-gpu-to-nvvm (math
/// functions ncl-expand-exp leaves become libdevice calls).
void buildNclToNVVMPipeline(mlir::OpPassManager &pm, bool fuse = true);

/// Registers `ncl-to-loops-pipeline`, `ncl-to-llvm` and `ncl-to-nvvm` with
/// the pass registry.
void registerNclPipelines();

/// The dialects (and their LLVM translation interfaces) the pipelines use.
void registerNclDialects(mlir::DialectRegistry &registry);

/// What `ncl-to-nvvm` adds: the gpu and NVVM dialects, the LLVM conversion
/// interfaces convert-gpu-to-nvvm uses, NVVM's LLVM translation. nclc
/// registers them only for a GPU target (they cost start-up time).
void registerNclGPUDialects(mlir::DialectRegistry &registry);

} // namespace ncl

#endif
