//===- Pipeline.cpp - The named pass pipelines nclc runs ------------------===//
#include "ncl/Compiler/Pipeline.h"

#include "ncl/Conversion/Passes.h"
#include "ncl/Dialect/Ncl/IR/NclDialect.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void ::ncl::buildNclKernelsPipeline(OpPassManager &pm, bool fuse) {
  pm.addPass(mlir::ncl::createNclIntegrate());
  if (fuse)
    pm.addPass(mlir::ncl::createNclFuse());
  pm.addPass(mlir::ncl::createNclAllocateBuffers());
  pm.addPass(mlir::ncl::createConvertNclToLoops());
  // Before the clean-up, which would fold a random stream of 0 away.
  pm.addPass(mlir::ncl::createNclMergeKernels());
}

/// Fold the constants the lowering spelled out, then hoist everything that
/// depends only on parameters (e^(-dt/tau), refractory steps) out of the
/// loops, so a step costs only the per-neuron work.
static void cleanUp(OpPassManager &pm) {
  // The kernels are structured loops (scf) with one block per region, so
  // the canonicalizer's region simplification (merging and erasing
  // blocks) has nothing to do; skipping it saves a sixth of the MLIR
  // pipeline's time.
  pm.addPass(createCanonicalizerPass(
      GreedyRewriteConfig().setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled)));
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
}

void ::ncl::buildNclToLoopsPipeline(OpPassManager &pm, bool fuse) {
  buildNclKernelsPipeline(pm, fuse);
  cleanUp(pm);
}

void ::ncl::buildNclToLLVMPipeline(OpPassManager &pm, bool fuse) {
  buildNclKernelsPipeline(pm, fuse);
  pm.addPass(mlir::ncl::createNclCPUSchedule());
  cleanUp(pm);
  // exp and expm1 as arithmetic, so that the neuron loops that call them
  // vectorise; after hoisting, like the libm calls below.
  pm.addPass(mlir::ncl::createNclExpandExp());
  pm.addPass(createSCFToControlFlowPass());
  // What ncl-expand-exp leaves (other math functions; expm1 of types it does
  // not expand) through libm: the LLVM lowering of expm1 computes exp(x)-1,
  // which loses all digits for tiny x. This runs after hoisting, so the calls sit outside
  // the loops.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void ::ncl::buildNclToNVVMPipeline(OpPassManager &pm, bool fuse) {
  buildNclKernelsPipeline(pm, fuse);
  // In place of ncl-cpu-schedule: a thread per index (docs/gpu.md); the
  // spike count stays the atomic of the target-independent form.
  pm.addPass(mlir::ncl::createNclGPUMap());
  cleanUp(pm);
  // |x| and copysign as math ops: convert-gpu-to-nvvm refuses the LLVM
  // intrinsics the CPU gets.
  pm.addPass(mlir::ncl::createNclExpandExp(mlir::ncl::NclExpandExpOptions{/*mathOps=*/true}));
  pm.addPass(createSCFToControlFlowPass());
  // The kernels to the LLVM and NVVM dialects: thread indices to NVVM
  // registers, the math functions ncl-expand-exp leaves (log, sin, pow, ...)
  // to calls of libdevice's (__nv_log, ...), memrefs to descriptors as on
  // the CPU.
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void ::ncl::registerNclPipelines() {
  PassPipelineRegistration<>("ncl-to-loops-pipeline",
                             "Integrate and lower ncl populations to loops (target independent)",
                             [](OpPassManager &pm) { buildNclToLoopsPipeline(pm); });
  PassPipelineRegistration<>("ncl-to-llvm", "The CPU pipeline nclc runs: ncl to the LLVM dialect",
                             [](OpPassManager &pm) { buildNclToLLVMPipeline(pm); });
  PassPipelineRegistration<>(
      "ncl-to-nvvm", "The GPU pipeline nclc --target=cuda runs: ncl to kernels in the NVVM dialect",
      [](OpPassManager &pm) { buildNclToNVVMPipeline(pm); });
}

void ::ncl::registerNclDialects(DialectRegistry &registry) {
  registry
      .insert<mlir::ncl::NclDialect, arith::ArithDialect, cf::ControlFlowDialect, func::FuncDialect,
              LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void ::ncl::registerNclGPUDialects(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, NVVM::NVVMDialect>();
  // convert-gpu-to-nvvm lowers every dialect with these interfaces.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  registerNVVMDialectTranslation(registry);
}
