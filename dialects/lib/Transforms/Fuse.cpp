//===- Fuse.cpp - Element-wise work moved into a population's step --------===//
//
// See NclFuse in Passes.td. A population's step is one loop nest once
// lowered; this pass moves into it the per-neuron work that other ops would
// otherwise do in loops of their own: today the input side of k-WTA.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLFUSE
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using namespace mlir::ncl;

namespace {

/// Whether a stage between the population's `step` and its `kwta` may
/// change the population's variables: a projection's stage onto it
/// (`on_pre` and `on_post` may add to a postsynaptic variable). Then the
/// keys the step would compute might not be the values the k-WTA compares.
bool changedBetween(NetworkOp network, PopulationOp pop) {
  ScheduleOp schedule;
  for (ScheduleOp s : network.getBody().getOps<ScheduleOp>())
    schedule = s;
  if (!schedule)
    return true;
  bool afterStep = false;
  for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
    bool own = stage.getPopulation() == pop.getSymName();
    if (own && stage.getKind() == StageKind::Step) {
      afterStep = true;
      continue;
    }
    if (own && stage.getKind() == StageKind::Kwta)
      return !afterStep;
    if (!afterStep)
      continue;
    if (auto projection = network.lookupSymbol<ProjectionOp>(stage.getPopulationAttr()))
      if (projection.getPost() == pop.getSymName())
        return true;
  }
  return true;
}

/// The value the step writes to `var` (once, at the top level of its program),
/// or the variable's state where it writes none.
Value stepValueOf(PopulationOp pop, StringRef var, OpBuilder &b) {
  Block &program = pop.getStep().front();
  Value written;
  for (StateWriteOp write : program.getOps<StateWriteOp>())
    if (write.getVar() == var)
      written = write.getValue();
  if (written)
    return written;
  Type real = cast<NetworkOp>(pop->getParentOp()).getReal();
  b.setInsertionPointToStart(&program);
  return StateReadOp::create(b, pop.getLoc(), real, var);
}

struct NclFusePass : public mlir::ncl::impl::NclFuseBase<NclFusePass> {
  void runOnOperation() override {
    getOperation().walk([](NetworkOp network) {
      for (KwtaOp kwta : network.getBody().getOps<KwtaOp>()) {
        auto pop = network.lookupSymbol<PopulationOp>(kwta.getPopulationAttr());
        // A spike gate must be known before the update applies threshold
        // and reset: its keys are a kernel of their own (ncl-to-loops).
        if (kwta.getFused() || kwta.gatesSpikes() || !pop || pop.getStep().empty() ||
            changedBetween(network, pop))
          continue;
        OpBuilder b(kwta.getContext());
        Value value = stepValueOf(pop, kwta.getVar(), b);
        b.setInsertionPointToEnd(&pop.getStep().front());
        KwtaKeyOp::create(b, kwta.getLoc(), value);
        kwta.setFused(true);
      }
    });
  }
};

} // namespace
