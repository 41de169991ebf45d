//===- AllocateBuffers.cpp - The network's buffer table -------------------===//
//
// Lists every buffer a network's kernels use (see NclAllocateBuffers in
// Passes.td). The table's order is the index the kernels use and the order
// the library's descriptor lists, so that the runtime allocates storage
// without knowing what the model computes.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLALLOCATEBUFFERS
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using namespace mlir::ncl;

namespace {

ArrayAttr allocate(NetworkOp network) {
  MLIRContext *ctx = network.getContext();
  Builder b(ctx);
  SmallVector<Attribute> buffers;
  auto add = [&](PopulationOp pop, StringRef name, BufferRole role, Type element,
                 BufferExtent extent, int64_t index, int64_t count) {
    buffers.push_back(BufferAttr::get(ctx, (pop.getSymName() + "." + name).str(), role, element,
                                      extent, FlatSymbolRefAttr::get(pop.getSymNameAttr()), index,
                                      count));
  };
  for (PopulationOp pop : network.getBody().getOps<PopulationOp>()) {
    add(pop, "params", BufferRole::Params, b.getF64Type(), BufferExtent::Fixed, -1,
        static_cast<int64_t>(pop.getParams().size()));
    for (auto [k, a] : llvm::enumerate(pop.getVars()))
      add(pop, cast<VariableAttr>(a).getName(), BufferRole::State, network.getReal(),
          BufferExtent::Neurons, static_cast<int64_t>(k), 0);
    add(pop, "refractory_until", BufferRole::Refractory, b.getI32Type(), BufferExtent::Neurons, -1,
        0);
    if (pop.getRecordSpikes()) {
      add(pop, "spike_step", BufferRole::SpikeStep, b.getI64Type(), BufferExtent::SpikeCapacity, -1,
          0);
      add(pop, "spike_index", BufferRole::SpikeIndex, b.getI64Type(), BufferExtent::SpikeCapacity,
          -1, 0);
      add(pop, "spike_channel", BufferRole::SpikeChannel, b.getI32Type(),
          BufferExtent::SpikeCapacity, -1, 0);
    }
  }
  return b.getArrayAttr(buffers);
}

struct NclAllocateBuffersPass
    : public mlir::ncl::impl::NclAllocateBuffersBase<NclAllocateBuffersPass> {
  void runOnOperation() override {
    getOperation().walk([](NetworkOp network) {
      if (!network.getBuffers())
        network.setBuffersAttr(allocate(network));
    });
  }
};

} // namespace
