//===- ncl-opt.cpp - Run ncl passes and pipelines on MLIR -----------------===//
//
// Registers only the dialects the ncl pipelines use, the ncl passes and the
// named pipelines nclc runs, so lit tests exercise the production pipeline.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/Pipeline.h"
#include "ncl/Conversion/Passes.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::ncl::registerNclPasses();
  mlir::ncl::registerNclConversionPasses();
  ncl::registerNclPipelines();
  mlir::DialectRegistry registry;
  ncl::registerNclDialects(registry);
  ncl::registerNclGPUDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "ncl optimizer driver\n", registry));
}
