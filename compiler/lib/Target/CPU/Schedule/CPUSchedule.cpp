//===- CPUSchedule.cpp - Kernels scheduled for a CPU core -----------------===//
//
// Rewrites the target-independent kernels of ncl-to-loops for one CPU core
// (see NclCPUSchedule in compiler/include/ncl/Conversion/Passes.td): neuron
// loops run in order and count spikes in a loop-carried value, unrecorded
// populations run blocks of neurons through all the steps. What each op
// computes is untouched: only loops and the spike count change.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLCPUSCHEDULE
#include "ncl/Conversion/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;

namespace {

/// Neurons of an unrecorded population that run a whole call's steps
/// together: 8192 neurons' state (up to ~100 KB) stays in L2 between steps.
constexpr int64_t kNeuronBlock = 8192;

bool isLoop(Operation *op, StringRef kind) {
  auto attr = op->getAttrOfType<StringAttr>("ncl.loop");
  return attr && attr.getValue() == kind;
}

/// Clones `par` (an scf.parallel over neurons, one dimension) as an scf.for
/// over [lo, hi) at `b`'s insertion point, carrying the spike count `count`
/// (i32 or index): every `scf.if %c { memref.atomic_rmw addi 1, ... }` takes
/// the running count as its slot and adds %c to it; an if that only counted
/// disappears, so the loop stays branch-free. Returns the count after it.
Value sequentialNeuronLoop(OpBuilder &b, scf::ParallelOp par, Value lo, Value hi, Value count,
                           IRMapping &mapping) {
  Location loc = par.getLoc();
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, lo, hi, c1, ValueRange{count}, [&](OpBuilder &, Location, Value i, ValueRange iter) {
        mapping.map(par.getInductionVars()[0], i);
        Value running = iter[0];
        Type countType = running.getType();
        for (Operation &op : par.getBody()->without_terminator()) {
          auto ifOp = dyn_cast<scf::IfOp>(op);
          memref::AtomicRMWOp counter;
          if (ifOp)
            ifOp.getThenRegion().walk([&](memref::AtomicRMWOp a) { counter = a; });
          if (!counter) {
            b.clone(op, mapping);
            continue;
          }
          // The slot is the count so far.
          Value slot = countType.isIndex()
                           ? Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), running))
                           : Value(arith::ExtUIOp::create(b, loc, b.getI64Type(), running));
          mapping.map(counter.getResult(), slot);
          bool onlyCounts = llvm::all_of(
              ifOp.getThenRegion().front().without_terminator(), [&](Operation &inner) {
                return &inner == counter.getOperation() || isa<arith::ConstantOp>(inner);
              });
          Value fired = mapping.lookupOrDefault(ifOp.getCondition());
          if (!onlyCounts) {
            auto copy = scf::IfOp::create(b, loc, fired, [&](OpBuilder &, Location) {
              for (Operation &inner : ifOp.getThenRegion().front().without_terminator())
                if (&inner != counter.getOperation())
                  b.clone(inner, mapping);
              scf::YieldOp::create(b, loc);
            });
            (void)copy;
          }
          Value inc = countType.isIndex()
                          ? Value(arith::IndexCastOp::create(
                                b, loc, b.getIndexType(),
                                arith::ExtUIOp::create(b, loc, b.getI64Type(), fired)))
                          : Value(arith::ExtUIOp::create(b, loc, countType, fired));
          running = arith::AddIOp::create(b, loc, running, inc);
        }
        scf::YieldOp::create(b, loc, running);
      });
  return loop.getResult(0);
}

/// Neurons whose marks the append loop of a two-pass update tests at once
/// (two AVX2 vectors of i32 marks).
constexpr int64_t kScanBlock = 16;

/// The append loop `par` of a two-pass update (its body tests each
/// neuron's mark and stores the marked ones) over [lo, hi), counting from
/// `count`: whole blocks of kScanBlock neurons first test whether any of
/// their marks is set, with a constant trip count that LLVM unrolls into
/// vector compares, and run the sequential loop only where one is (a few
/// neurons a step in a network); the rest of the range runs sequentially.
/// Falls back to the plain sequential loop when the body does more than
/// read and compute besides its stores under `scf.if`.
Value blockedAppendLoop(OpBuilder &b, scf::ParallelOp par, Value lo, Value hi, Value count,
                        IRMapping &mapping) {
  SmallVector<scf::IfOp> stores;
  for (Operation &op : par.getBody()->without_terminator()) {
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      stores.push_back(ifOp);
      continue;
    }
    if (!isMemoryEffectFree(&op) && !isa<memref::LoadOp>(op))
      return sequentialNeuronLoop(b, par, lo, hi, count, mapping);
  }
  if (stores.empty())
    return sequentialNeuronLoop(b, par, lo, hi, count, mapping);
  Location loc = par.getLoc();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value block = arith::ConstantIndexOp::create(b, loc, kScanBlock);
  Value whole = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, hi, lo), block), block);
  Value wholeEnd = arith::AddIOp::create(b, loc, lo, whole);
  auto blocks = scf::ForOp::create(
      b, loc, lo, wholeEnd, block, ValueRange{count},
      [&](OpBuilder &, Location, Value first, ValueRange iter) {
        // Whether any condition holds, as an i32 `or` of the conditions
        // widened (LLVM's SLP vectoriser turns it into two vector compares
        // and one mask test; an i32 sum left a third of the compares
        // scalar, and an i1 `or` chain stays scalar).
        Type i32 = b.getI32Type();
        Value none = arith::ConstantIntOp::create(b, loc, i32, 0);
        auto test = scf::ForOp::create(
            b, loc, c0, block, c1, ValueRange{none},
            [&](OpBuilder &, Location, Value k, ValueRange seen) {
              IRMapping marks = mapping;
              marks.map(par.getInductionVars()[0], arith::AddIOp::create(b, loc, first, k));
              for (Operation &op : par.getBody()->without_terminator())
                if (!isa<scf::IfOp>(op))
                  b.clone(op, marks);
              Value anySet = seen[0];
              for (scf::IfOp ifOp : stores)
                anySet = arith::OrIOp::create(
                    b, loc, anySet,
                    arith::ExtUIOp::create(b, loc, i32, marks.lookup(ifOp.getCondition())));
              scf::YieldOp::create(b, loc, anySet);
            });
        Value any =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, test.getResult(0), none);
        auto store = scf::IfOp::create(b, loc, TypeRange{count.getType()}, any,
                                       /*addThenBlock=*/true, /*addElseBlock=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(store.thenBlock());
          Value last = arith::AddIOp::create(b, loc, first, block);
          Value counted = sequentialNeuronLoop(b, par, first, last, iter[0], mapping);
          scf::YieldOp::create(b, loc, counted);
          b.setInsertionPointToStart(store.elseBlock());
          scf::YieldOp::create(b, loc, iter[0]);
        }
        scf::YieldOp::create(b, loc, store.getResult(0));
      });
  return sequentialNeuronLoop(b, par, wholeEnd, hi, blocks.getResult(0), mapping);
}

/// Clones the ops of `block` except its terminator and `skip`.
void cloneBody(OpBuilder &b, Block &block, Operation *skip, IRMapping &mapping) {
  for (Operation &op : block.without_terminator())
    if (&op != skip)
      b.clone(op, mapping);
}

/// The neuron loop directly inside `block`.
scf::ParallelOp neuronLoopIn(Block &block) {
  for (Operation &op : block)
    if (auto par = dyn_cast<scf::ParallelOp>(op); par && isLoop(par, "neurons"))
      return par;
  return {};
}

/// The store of 0 to results[0] at the kernel's start, which the count
/// replaces; and the results memref.
memref::StoreOp initialCountStore(func::FuncOp f) {
  for (auto store : f.getBody().front().getOps<memref::StoreOp>())
    if (cast<MemRefType>(store.getMemRef().getType()).getShape() == ArrayRef<int64_t>{2})
      return store;
  return {};
}

void scheduleInit(scf::ParallelOp par) {
  OpBuilder b(par);
  Location loc = par.getLoc();
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  IRMapping mapping;
  scf::ForOp::create(b, loc, par.getLowerBound()[0], par.getUpperBound()[0], c1, ValueRange{},
                     [&](OpBuilder &, Location, Value i, ValueRange) {
                       mapping.map(par.getInductionVars()[0], i);
                       cloneBody(b, *par.getBody(), nullptr, mapping);
                       scf::YieldOp::create(b, loc);
                     });
  par.erase();
}

/// Unrecorded: blocks of neurons outside, all the steps inside.
LogicalResult scheduleBlocked(scf::ForOp steps, memref::StoreOp countStore) {
  scf::ParallelOp par = neuronLoopIn(*steps.getBody());
  if (!par)
    return steps.emitOpError("has no neuron loop");
  OpBuilder b(steps);
  Location loc = steps.getLoc();
  Value begin = par.getLowerBound()[0], end = par.getUpperBound()[0];
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value block = arith::ConstantIndexOp::create(b, loc, kNeuronBlock);
  auto blocks = scf::ForOp::create(
      b, loc, begin, end, block, ValueRange{c0},
      [&](OpBuilder &, Location, Value lo, ValueRange total) {
        Value hi = arith::MinSIOp::create(b, loc, arith::AddIOp::create(b, loc, lo, block), end);
        auto inner = scf::ForOp::create(
            b, loc, steps.getLowerBound(), steps.getUpperBound(), steps.getStep(),
            ValueRange{total[0]}, [&](OpBuilder &, Location, Value s, ValueRange sum) {
              IRMapping mapping;
              mapping.map(steps.getInductionVar(), s);
              cloneBody(b, *steps.getBody(), par, mapping);
              Value zero = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
              Value part = sequentialNeuronLoop(b, par, lo, hi, zero, mapping);
              Value wide = arith::IndexCastOp::create(b, loc, b.getIndexType(), part);
              scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, sum[0], wide)});
            });
        scf::YieldOp::create(b, loc, inner.getResult(0));
      });
  b.setInsertionPointAfter(blocks);
  memref::StoreOp::create(b, loc,
                          arith::IndexCastOp::create(b, loc, b.getI64Type(), blocks.getResult(0)),
                          countStore.getMemRef(), countStore.getIndices());
  steps.erase();
  countStore.erase();
  return success();
}

/// Recorded: steps outside neurons, the count carried by the step loop
/// (it decides whether the next step's spikes fit).
LogicalResult scheduleRecorded(scf::WhileOp steps, memref::StoreOp countStore) {
  scf::ParallelOp par = neuronLoopIn(steps.getAfter().front());
  if (!par)
    return steps.emitOpError("has no neuron loop");
  OpBuilder b(steps);
  Location loc = steps.getLoc();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Type idx = b.getIndexType();
  auto loop = scf::WhileOp::create(
      b, loc, TypeRange{idx, idx}, ValueRange{steps.getInits()[0], c0},
      [&](OpBuilder &, Location, ValueRange iter) {
        IRMapping mapping;
        Block &before = steps.getBefore().front();
        mapping.map(before.getArgument(0), iter[0]);
        // The count so far, instead of the result cell's.
        for (Operation &op : before.without_terminator()) {
          if (auto load = dyn_cast<memref::LoadOp>(op);
              load && load.getMemRef() == countStore.getMemRef()) {
            mapping.map(load.getResult(),
                        arith::IndexCastOp::create(b, loc, b.getI64Type(), iter[1]));
            continue;
          }
          b.clone(op, mapping);
        }
        auto condition = cast<scf::ConditionOp>(before.getTerminator());
        scf::ConditionOp::create(b, loc, mapping.lookup(condition.getCondition()), iter);
      },
      [&](OpBuilder &, Location, ValueRange iter) {
        IRMapping mapping;
        Block &after = steps.getAfter().front();
        mapping.map(after.getArgument(0), iter[0]);
        cloneBody(b, after, par, mapping);
        // After the update loop of a two-pass update, par appends the marked.
        bool twoPass = llvm::any_of(after, [](Operation &op) {
          return isa<scf::ParallelOp>(op) && isLoop(&op, "neuron-update");
        });
        Value count = twoPass ? blockedAppendLoop(b, par, par.getLowerBound()[0],
                                                  par.getUpperBound()[0], iter[1], mapping)
                              : sequentialNeuronLoop(b, par, par.getLowerBound()[0],
                                                     par.getUpperBound()[0], iter[1], mapping);
        auto yield = cast<scf::YieldOp>(after.getTerminator());
        scf::YieldOp::create(b, loc, ValueRange{mapping.lookup(yield.getOperand(0)), count});
      });
  b.setInsertionPointAfter(loop);
  memref::StoreOp::create(b, loc,
                          arith::IndexCastOp::create(b, loc, b.getI64Type(), loop.getResult(1)),
                          countStore.getMemRef(), countStore.getIndices());
  steps.getResult(0).replaceAllUsesWith(loop.getResult(0));
  steps.erase();
  countStore.erase();
  return success();
}

struct NclCPUSchedulePass : public mlir::ncl::impl::NclCPUScheduleBase<NclCPUSchedulePass> {
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      auto kind = f->getAttrOfType<StringAttr>("ncl.kernel");
      if (!kind || f.isExternal())
        continue;
      Block &entry = f.getBody().front();
      if (kind.getValue() == "init") {
        if (scf::ParallelOp par = neuronLoopIn(entry))
          scheduleInit(par);
        continue;
      }
      memref::StoreOp countStore = initialCountStore(f);
      Operation *steps = nullptr;
      for (Operation &op : entry)
        if (isLoop(&op, "steps"))
          steps = &op;
      if (!steps || !countStore)
        continue; // scheduled already
      LogicalResult done = success();
      if (auto loop = dyn_cast<scf::ForOp>(steps))
        done = scheduleBlocked(loop, countStore);
      else if (auto loop = dyn_cast<scf::WhileOp>(steps))
        done = scheduleRecorded(loop, countStore);
      if (failed(done))
        return signalPassFailure();
    }
  }
};

} // namespace
