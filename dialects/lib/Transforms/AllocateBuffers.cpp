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
  auto add = [&](StringAttr owner, StringRef name, BufferRole role, Type element,
                 BufferExtent extent, int64_t index, int64_t count) {
    buffers.push_back(BufferAttr::get(ctx, (owner.getValue() + "." + name).str(), role, element,
                                      extent, FlatSymbolRefAttr::get(owner), index, count));
  };
  for (PopulationOp popOp : network.getBody().getOps<PopulationOp>()) {
    StringAttr pop = popOp.getSymNameAttr();
    add(pop, "params", BufferRole::Params, b.getF64Type(), BufferExtent::Fixed, -1,
        static_cast<int64_t>(popOp.getParams().size()));
    for (auto [k, a] : llvm::enumerate(popOp.getVars()))
      add(pop, cast<VariableAttr>(a).getName(), BufferRole::State, network.getReal(),
          BufferExtent::Neurons, static_cast<int64_t>(k), 0);
    add(pop, "refractory_until", BufferRole::Refractory, b.getI32Type(), BufferExtent::Neurons, -1,
        0);
    if (popOp.getRecordSpikes() || popOp.getEmitsSpikes()) {
      add(pop, "spike_step", BufferRole::SpikeStep, b.getI64Type(), BufferExtent::SpikeCapacity, -1,
          0);
      add(pop, "spike_index", BufferRole::SpikeIndex, b.getI64Type(), BufferExtent::SpikeCapacity,
          -1, 0);
      add(pop, "spike_channel", BufferRole::SpikeChannel, b.getI32Type(),
          BufferExtent::SpikeCapacity, -1, 0);
      add(pop, "last_spike", BufferRole::LastSpike, b.getI32Type(), BufferExtent::Neurons, -1, 0);
    }
    // What projections deliver to each received variable, per step.
    if (ArrayAttr receives = popOp.getReceivesAttr())
      for (auto [k, name] : llvm::enumerate(receives.getAsValueRange<StringAttr>()))
        add(pop, (name + ".in").str(), BufferRole::SynapticInput, network.getReal(),
            BufferExtent::Neurons, static_cast<int64_t>(k), 0);
    // Each timed input's samples (sized by the runtime from its file) and
    // shape (steps per sample, samples, columns).
    if (ArrayAttr timed = popOp.getTimedInputsAttr())
      for (auto [k, t] : llvm::enumerate(timed.getAsRange<TimedInputAttr>())) {
        add(pop, (t.getInput() + ".series").str(), BufferRole::Series, network.getReal(),
            BufferExtent::Fixed, static_cast<int64_t>(k), 0);
        add(pop, (t.getInput() + ".series_shape").str(), BufferRole::SeriesShape, b.getI64Type(),
            BufferExtent::Fixed, static_cast<int64_t>(k), 3);
      }
    // k-WTA's scratch (the neuron order its selection permutes) and, with
    // boosting, each neuron's duty cycle, which lasts from step to step, and
    // where ncl-fuse moved the keys into the update, their scratch.
    for (KwtaOp kwta : network.getBody().getOps<KwtaOp>()) {
      if (kwta.getPopulation() != pop.getValue())
        continue;
      add(pop, "kwta_order", BufferRole::KwtaOrder, b.getI32Type(), BufferExtent::Neurons, -1, 0);
      if (kwta.getBoost())
        add(pop, "kwta_duty", BufferRole::KwtaDuty, network.getReal(), BufferExtent::Neurons, -1,
            0);
      // Fused and boosted: the keys the update computes for the selection;
      // a spike gate: the keys, then the gate, of every step.
      if ((kwta.getBoost() && kwta.getFused()) || kwta.gatesSpikes())
        add(pop, "kwta_key", BufferRole::KwtaKey, network.getReal(), BufferExtent::Neurons, -1, 0);
    }
  }
  // Each projection's parameters, per-synapse variables and connectivity
  // (rows by presynaptic neuron, sorted postsynaptic indices).
  for (ProjectionOp projection : network.getBody().getOps<ProjectionOp>()) {
    StringAttr owner = projection.getSymNameAttr();
    add(owner, "params", BufferRole::Params, b.getF64Type(), BufferExtent::Fixed, -1,
        static_cast<int64_t>(projection.getParams().size()));
    for (auto [k, a] : llvm::enumerate(projection.getVars()))
      add(owner, cast<VariableAttr>(a).getName(), BufferRole::SynapseState, network.getReal(),
          BufferExtent::Synapses, static_cast<int64_t>(k), 0);
    add(owner, "row_start", BufferRole::RowStart, b.getI64Type(), BufferExtent::Rows, -1, 0);
    add(owner, "post_index", BufferRole::PostIndex, b.getI32Type(), BufferExtent::Synapses, -1, 0);
    // Steps of each synapse's own delay: 2 bytes hold 65534 steps (6.5 s
    // at dt = 0.1 ms), docs/runtime.md.
    if (projection.getPerSynapseDelay())
      add(owner, "delay", BufferRole::SynapseDelay, b.getIntegerType(16), BufferExtent::Synapses,
          -1, 0);
    // The synapses onto each postsynaptic neuron (the column index the
    // runtime builds once connected), for on_post.
    if (!projection.getOnPost().empty()) {
      add(owner, "column_start", BufferRole::ColumnStart, b.getI64Type(), BufferExtent::Columns, -1,
          0);
      add(owner, "column_synapse", BufferRole::ColumnSynapse, b.getI32Type(),
          BufferExtent::Synapses, -1, 0);
    }
    // Traces kept once per neuron (ncl-integrate): the presynaptic ones
    // one copy per thread, since every thread applies every arriving spike
    // to its own (docs/runtime.md, "Synaptic traces").
    for (auto [role, traces] : {std::pair(BufferRole::PreTrace, projection.getPreTracesAttr()),
                                std::pair(BufferRole::PostTrace, projection.getPostTracesAttr())})
      if (traces)
        for (auto [k, a] : llvm::enumerate(traces))
          add(owner,
              ((role == BufferRole::PreTrace ? "pre." : "post.") + cast<VariableAttr>(a).getName())
                  .str(),
              role, network.getReal(), BufferExtent::Neurons, static_cast<int64_t>(k), 0);
    // The values at the step's time of the traces an ncl.advance_traces
    // reads (ncl-to-loops computes them once per neuron and step); the
    // presynaptic ones, like their traces, one copy per thread.
    for (Region *event : {&projection.getOnPre(), &projection.getOnPost()})
      event->walk([&](AdvanceTracesOp advance) {
        bool pre = advance.getSide() == TraceSide::Pre;
        for (Attribute var : advance.getVars()) {
          StringRef name = cast<StringAttr>(var).getValue();
          add(owner, ((pre ? "pre." : "post.") + name + ".now").str(),
              pre ? BufferRole::PreTraceNow : BufferRole::PostTraceNow, network.getReal(),
              BufferExtent::Neurons, projection.traceIndex(advance.getSide(), name), 0);
        }
      });
    // The presynaptic neuron of each column entry, where on_post reads it.
    bool onPostReadsPre = false;
    projection.getOnPost().walk([&](Operation *op) {
      if (auto read = dyn_cast<TraceReadOp>(op))
        onPostReadsPre |= read.getSide() == TraceSide::Pre;
      onPostReadsPre |= isa<PreReadOp, PreIndexOp>(op);
    });
    if (onPostReadsPre)
      add(owner, "column_pre", BufferRole::ColumnPre, b.getI32Type(), BufferExtent::Synapses, -1,
          0);
    // A condition's verdicts for one presynaptic row: the runtime's
    // scratch, one per calling thread, over the postsynaptic range.
    if (projection.getConnect().getRule() == ConnectRule::Condition)
      add(owner, "connect_mask", BufferRole::ConnectMask, b.getI32Type(), BufferExtent::Fixed, -1,
          projection.getPostRange()[1] - projection.getPostRange()[0]);
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
