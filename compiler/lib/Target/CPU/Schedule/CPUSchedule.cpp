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
#include "mlir/Dialect/Utils/StaticValueUtils.h"
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

//===----------------------------------------------------------------------===//
// Dense sums: rows jammed into the pass over a row
//===----------------------------------------------------------------------===//

/// Rows of a dense sum that one pass over the places j adds: each member's
/// input at j is loaded and stored once per kJammedRows rows instead of
/// once per row. Measured on the CTRNN (N = 256, 1024; batch 1-16; Zen 3):
/// 4 beat 6 and 8, whose longer chains of dependent additions (one per
/// row, in order) stall the vector loop; splitting a block into two
/// halves for two chains per pass was slower still (twice the streams).
constexpr int64_t kJammedRows = 4;

/// Bytes of one weight row in a block of places: kJammedRows rows' blocks
/// (8 KB) stay in L1 while every member of the call uses them.
constexpr int64_t kPlaceBlockBytes = 2048;

/// The ops of `block` before `last`, which must be the op before the terminator.
SmallVector<Operation *> opsBefore(Block &block, Operation *last) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    if (&op != last)
      ops.push_back(&op);
  return ops;
}

/// The one scf.for of kind `kind` that ends `block` (before its
/// terminator), without results; null if the block has another shape.
scf::ForOp loopEnding(Block &block, StringRef kind) {
  if (block.getOperations().size() < 2)
    return {};
  auto loop = dyn_cast<scf::ForOp>(*std::prev(block.getTerminator()->getIterator()));
  if (!loop || !isLoop(loop, kind) || loop.getNumResults() != 0)
    return {};
  return loop;
}

/// A loop over places at the members level of a dense sum, and the ops of
/// its body.
struct PlacePiece {
  mutable scf::ForOp loop; ///< an op handle: its accessors are not const
  SmallVector<Operation *> ops;
  /// The memrefs the body stores to, each at one index list.
  SmallVector<std::pair<Value, SmallVector<Value>>> accumulators;

  bool isAccumulator(Value memref) const {
    return llvm::any_of(accumulators, [&](auto &a) { return a.first == memref; });
  }
};

/// The nest of a dense sum (ncl-to-loops' buildDenseSum): rows, members,
/// the places, and the ops of each level before the next. The places are
/// one loop, or two (ascending and disjoint in each row) around a row's
/// missing diagonal: [first, e_i) and [s_i, last), where only e_i and s_i
/// depend on the row i.
struct DenseSumNest {
  mutable scf::ForOp rows, members; ///< op handles: their accessors are not const
  SmallVector<Operation *> rowOps, memberOps;
  SmallVector<PlacePiece, 2> pieces;
  int64_t width = 0;

  bool isAccumulator(Value memref) const {
    return llvm::any_of(pieces, [&](const PlacePiece &p) { return p.isAccumulator(memref); });
  }
};

/// Whether `rows` is a dense sum's rows loop whose rows can be jammed: the
/// loops have the shape ncl-to-loops builds; the row and member levels only
/// compute and load; the body of a place computes, loads and stores, and
/// every store goes to an index that does not depend on the row, where the
/// body reads that memref at the same index only. Then row i's terms at
/// place j touch only (member, j)'s accumulators, and the terms of several
/// rows can be added at one j in ascending row order.
std::optional<DenseSumNest> matchDenseSum(scf::ForOp rows) {
  DenseSumNest nest;
  auto width = rows->getAttrOfType<IntegerAttr>("ncl.dense_row_width");
  if (!width || rows.getNumResults() != 0 || getConstantIntValue(rows.getStep()) != 1)
    return std::nullopt;
  nest.width = width.getInt();
  nest.rows = rows;
  nest.members = loopEnding(*rows.getBody(), "members");
  if (!nest.members || !rows.isDefinedOutsideOfLoop(nest.members.getLowerBound()) ||
      !rows.isDefinedOutsideOfLoop(nest.members.getUpperBound()))
    return std::nullopt;
  nest.rowOps = opsBefore(*rows.getBody(), nest.members);
  // The members level: ops, and the place loops, the last of them at its end.
  if (!loopEnding(*nest.members.getBody(), "synapses"))
    return std::nullopt;
  for (Operation &op : nest.members.getBody()->without_terminator()) {
    auto loop = dyn_cast<scf::ForOp>(op);
    if (loop && isLoop(loop, "synapses")) {
      if (loop.getNumResults() != 0 || getConstantIntValue(loop.getStep()) != 1)
        return std::nullopt;
      nest.pieces.push_back({loop, opsBefore(*loop.getBody(), nullptr), {}});
      continue;
    }
    nest.memberOps.push_back(&op);
  }
  if (nest.pieces.size() > 2)
    return std::nullopt;
  auto computesOrLoads = [](Operation *op) {
    return op->getNumRegions() == 0 && (isMemoryEffectFree(op) || isa<memref::LoadOp>(op));
  };
  if (!llvm::all_of(nest.rowOps, computesOrLoads) || !llvm::all_of(nest.memberOps, computesOrLoads))
    return std::nullopt;
  // What depends on the row; the place j does not.
  llvm::DenseSet<Value> byRow{rows.getInductionVar()};
  auto dependsOnRow = [&](ValueRange values) {
    return llvm::any_of(values, [&](Value v) { return byRow.contains(v); });
  };
  auto note = [&](ArrayRef<Operation *> ops) {
    for (Operation *op : ops)
      if (dependsOnRow(op->getOperands()))
        byRow.insert(op->result_begin(), op->result_end());
  };
  note(nest.rowOps);
  note(nest.memberOps);
  for (PlacePiece &piece : nest.pieces)
    note(piece.ops);
  // The places' outer bounds, first and last, are the same for every row.
  if (dependsOnRow(nest.pieces.front().loop.getLowerBound()) ||
      dependsOnRow(nest.pieces.back().loop.getUpperBound()))
    return std::nullopt;
  for (PlacePiece &piece : nest.pieces) {
    for (Operation *op : piece.ops) {
      auto store = dyn_cast<memref::StoreOp>(op);
      if (!store) {
        if (!computesOrLoads(op))
          return std::nullopt;
        continue;
      }
      if (dependsOnRow(store.getIndices()))
        return std::nullopt;
      SmallVector<Value> indices(store.getIndices());
      for (auto &[memref, at] : piece.accumulators)
        if (memref == store.getMemRef() && at != indices)
          return std::nullopt;
      if (!piece.isAccumulator(store.getMemRef()))
        piece.accumulators.push_back({store.getMemRef(), indices});
    }
    if (piece.accumulators.empty())
      return std::nullopt;
  }
  // An accumulator is read only by a place's body, at its index there.
  for (Operation *op : llvm::concat<Operation *const>(nest.rowOps, nest.memberOps))
    if (auto load = dyn_cast<memref::LoadOp>(op); load && nest.isAccumulator(load.getMemRef()))
      return std::nullopt;
  for (PlacePiece &piece : nest.pieces)
    for (Operation *op : piece.ops)
      if (auto load = dyn_cast<memref::LoadOp>(op); load && nest.isAccumulator(load.getMemRef())) {
        if (!piece.isAccumulator(load.getMemRef()))
          return std::nullopt;
        for (auto &[memref, at] : piece.accumulators)
          if (memref == load.getMemRef() && SmallVector<Value>(load.getIndices()) != at)
            return std::nullopt;
      }
  return nest;
}

/// Clones the program of a dense sum's row, member or place level for
/// several copies (one per jammed row) side by side:
/// each copy's IRMapping maps the original values to its own. An op that
/// computes, or loads from a memref that is not an accumulator, the same
/// thing as an earlier copy (same op, same operands) is not cloned again.
class RowJammer {
public:
  RowJammer(OpBuilder &b, const DenseSumNest &nest) : b(b), nest(nest) {}

  /// Clones the row- or member-level `ops` for every copy, op by op.
  void cloneLevel(ArrayRef<Operation *> ops, MutableArrayRef<IRMapping> copies) {
    Cache cache;
    for (Operation *op : ops)
      for (IRMapping &map : copies)
        if (!reuse(cache, op, map))
          remember(cache, op, map, b.clone(*op, map));
  }

  /// Clones the body of `piece` for every copy, in the order of
  /// `copies`, into `places` (the builder is in its body). An accumulator
  /// stays in a register from copy to copy at one index (the copy of row r
  /// reads what the copy of row r - 1 stored) and is stored once, after
  /// the last; ops whose operands are all defined outside `places` are
  /// cloned before it.
  void cloneBody(const PlacePiece &piece, scf::ForOp places, MutableArrayRef<IRMapping> copies) {
    Cache cache;
    // By accumulator and index: the store that last wrote it, and its value.
    struct Pending {
      memref::StoreOp store;
      SmallVector<Value, 2> indices;
      Value value;
    };
    SmallVector<Pending> pending;
    auto pendingAt = [&](Value memref, ValueRange indices, IRMapping &map) {
      return llvm::find_if(pending, [&](Pending &p) {
        return p.store.getMemRef() == memref &&
               llvm::equal(p.indices, llvm::map_range(indices, [&](Value v) {
                             return map.lookupOrDefault(v);
                           }));
      });
    };
    for (IRMapping &map : copies) {
      map.map(piece.loop.getInductionVar(), places.getInductionVar());
      for (Operation *op : piece.ops) {
        if (auto store = dyn_cast<memref::StoreOp>(op)) {
          Value value = map.lookupOrDefault(store.getValue());
          if (auto *it = pendingAt(store.getMemRef(), store.getIndices(), map); it != pending.end())
            it->value = value;
          else
            pending.push_back(
                {store,
                 llvm::to_vector<2>(llvm::map_range(
                     store.getIndices(), [&](Value v) { return map.lookupOrDefault(v); })),
                 value});
          continue;
        }
        if (auto load = dyn_cast<memref::LoadOp>(op);
            load && piece.isAccumulator(load.getMemRef())) {
          if (auto *it = pendingAt(load.getMemRef(), load.getIndices(), map); it != pending.end()) {
            map.map(load.getResult(), it->value);
            continue;
          }
          // Not an index an earlier copy wrote (the rows' indices are the
          // same values when the body is as matched): what was kept in
          // registers for this memref goes to memory before it is read.
          for (Pending &p : pending)
            if (p.store.getMemRef() == load.getMemRef())
              memref::StoreOp::create(b, p.store.getLoc(), p.value,
                                      copies.front().lookupOrDefault(p.store.getMemRef()),
                                      p.indices);
          llvm::erase_if(pending,
                         [&](Pending &p) { return p.store.getMemRef() == load.getMemRef(); });
          b.clone(*op, map);
          continue;
        }
        if (reuse(cache, op, map))
          continue;
        bool invariant = llvm::all_of(op->getOperands(), [&](Value v) {
          return places.isDefinedOutsideOfLoop(map.lookupOrDefault(v));
        });
        if (invariant && (isPure(op) || isa<memref::LoadOp>(op))) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(places);
          remember(cache, op, map, b.clone(*op, map));
          continue;
        }
        remember(cache, op, map, b.clone(*op, map));
      }
    }
    // One store per accumulator and index, of the last copy's value, in the
    // order of their first stores.
    IRMapping &first = copies.front();
    for (Pending &p : pending)
      memref::StoreOp::create(b, p.store.getLoc(), p.value,
                              first.lookupOrDefault(p.store.getMemRef()), p.indices);
  }

private:
  /// By original op: the mapped operands and the clone of each copy so far.
  using Cache =
      llvm::DenseMap<Operation *, SmallVector<std::pair<SmallVector<Value, 4>, Operation *>>>;

  bool isShareable(Operation *op) const {
    if (op->getNumRegions() != 0)
      return false;
    if (auto load = dyn_cast<memref::LoadOp>(op))
      return !nest.isAccumulator(load.getMemRef());
    return isMemoryEffectFree(op);
  }

  SmallVector<Value, 4> mappedOperands(Operation *op, IRMapping &map) const {
    return llvm::to_vector<4>(
        llvm::map_range(op->getOperands(), [&](Value v) { return map.lookupOrDefault(v); }));
  }

  /// Maps `op`'s results to an earlier copy's clone with the same operands.
  bool reuse(Cache &cache, Operation *op, IRMapping &map) const {
    if (!isShareable(op))
      return false;
    auto it = cache.find(op);
    if (it == cache.end())
      return false;
    SmallVector<Value, 4> operands = mappedOperands(op, map);
    for (auto &[seen, clone] : it->second)
      if (seen == operands) {
        map.map(op->getResults(), clone->getResults());
        return true;
      }
    return false;
  }

  void remember(Cache &cache, Operation *op, IRMapping &map, Operation *clone) const {
    if (isShareable(op))
      cache[op].push_back({mappedOperands(op, map), clone});
  }

  OpBuilder &b;
  const DenseSumNest &nest;
};

/// Jams kJammedRows rows of a dense sum into one pass over a block of
/// places. Before (ncl-to-loops):
///
///   for i in rows { row ops; for m in members { member ops;
///     for j in [first, last) { terms of (i, m, j); add to (m, j) } } }
///
/// After (R = kJammedRows):
///
///   for i0 in rows, step R {                  // the whole blocks of R rows
///     row ops of i0 .. i0 + R - 1
///     for J in [0, width), step the place block {
///       for m in members { member ops; loads that do not depend on j
///         for j in [max(first, J), min(last, J + block)) {
///           acc = inputs at (m, j); acc += terms of (i0, m, j); ...;
///           acc += terms of (i0 + R - 1, m, j); inputs at (m, j) = acc } } } }
///   for i in the rows left { as before }
///
/// Each input still receives the rows' terms in ascending row order, one
/// floating-point addition each, so the results are those of the loop
/// before, bit for bit, on any thread count. Rows without their diagonal
/// (two place loops each) are jammed so below and above the R rows' missing
/// places; between them each row adds its term alone.
void jamDenseRows(const DenseSumNest &nest) {
  scf::ForOp rows = nest.rows;
  OpBuilder b(rows);
  Location loc = rows.getLoc();
  auto constant = [&](int64_t v) { return Value(arith::ConstantIndexOp::create(b, loc, v)); };
  Value lb = rows.getLowerBound(), ub = rows.getUpperBound();
  Value jam = constant(kJammedRows);
  Value span = arith::MaxSIOp::create(b, loc, arith::SubIOp::create(b, loc, ub, lb), constant(0));
  Value jammedEnd = arith::AddIOp::create(
      b, loc, lb, arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, span, jam), jam));
  auto type = cast<MemRefType>(nest.pieces.front().accumulators.front().first.getType());
  int64_t elementBytes = std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  int64_t block = std::max<int64_t>(16, kPlaceBlockBytes / elementBytes);
  // Loops are created empty and filled in place, so that every clone
  // already sits in the function (the hoisting asks where values live).
  auto jammed = scf::ForOp::create(b, loc, lb, jammedEnd, jam);
  jammed->setAttr("ncl.loop", b.getStringAttr("jammed-rows"));
  b.setInsertionPointToStart(jammed.getBody());
  Value i0 = jammed.getInductionVar();
  SmallVector<IRMapping, 0> byRow(kJammedRows);
  for (int64_t r = 0; r < kJammedRows; ++r)
    byRow[r].map(rows.getInductionVar(),
                 r == 0 ? i0 : Value(arith::AddIOp::create(b, loc, i0, constant(r))));
  RowJammer jammer(b, nest);
  jammer.cloneLevel(nest.rowOps, byRow);
  Value width = constant(nest.width);
  Value step = constant(block);
  auto blocks = scf::ForOp::create(b, loc, constant(0), width, step);
  blocks->setAttr("ncl.loop", b.getStringAttr("place-blocks"));
  b.setInsertionPointToStart(blocks.getBody());
  Value from = blocks.getInductionVar();
  Value to = arith::MinSIOp::create(b, loc, arith::AddIOp::create(b, loc, from, step), width);
  IRMapping &row0 = byRow.front();
  auto members = scf::ForOp::create(b, loc, row0.lookupOrDefault(nest.members.getLowerBound()),
                                    row0.lookupOrDefault(nest.members.getUpperBound()),
                                    row0.lookupOrDefault(nest.members.getStep()));
  members->setAttrs(nest.members->getAttrs());
  b.setInsertionPointToStart(members.getBody());
  for (IRMapping &map : byRow)
    map.map(nest.members.getInductionVar(), members.getInductionVar());
  jammer.cloneLevel(nest.memberOps, byRow);
  const PlacePiece &head = nest.pieces.front(), &tail = nest.pieces.back();
  Value first =
      arith::MaxSIOp::create(b, loc, row0.lookupOrDefault(head.loop.getLowerBound()), from);
  Value last = arith::MinSIOp::create(b, loc, row0.lookupOrDefault(tail.loop.getUpperBound()), to);
  auto placeLoop = [&](Value lo, Value hi) {
    auto places = scf::ForOp::create(b, loc, lo, hi, constant(1));
    places->setAttrs(head.loop->getAttrs());
    return places;
  };
  if (nest.pieces.size() == 1) {
    scf::ForOp places = placeLoop(first, last);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(places.getBody());
    jammer.cloneBody(head, places, byRow);
  } else {
    // Rows without their diagonal: below every jammed row's head end E all
    // rows take the head's body, from every row's tail start S on the
    // tail's; between them (the rows' missing places, at most kJammedRows
    // places for rows inside the postsynaptic range) each row adds its
    // term where its own pieces cover j, one place at a time.
    Value headEnd = row0.lookupOrDefault(head.loop.getUpperBound());
    Value tailStart = row0.lookupOrDefault(tail.loop.getLowerBound());
    for (IRMapping &map : llvm::drop_begin(byRow)) {
      headEnd =
          arith::MinSIOp::create(b, loc, headEnd, map.lookupOrDefault(head.loop.getUpperBound()));
      tailStart =
          arith::MaxSIOp::create(b, loc, tailStart, map.lookupOrDefault(tail.loop.getLowerBound()));
    }
    Value below =
        arith::MaxSIOp::create(b, loc, first, arith::MinSIOp::create(b, loc, last, headEnd));
    Value above =
        arith::MaxSIOp::create(b, loc, below, arith::MinSIOp::create(b, loc, last, tailStart));
    {
      scf::ForOp places = placeLoop(first, below);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(places.getBody());
      jammer.cloneBody(head, places, byRow);
    }
    {
      scf::ForOp places = placeLoop(below, above);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(places.getBody());
      Value j = places.getInductionVar();
      for (IRMapping &map : byRow) {
        auto clonePiece = [&](const PlacePiece &piece) {
          IRMapping local = map;
          local.map(piece.loop.getInductionVar(), j);
          for (Operation *op : piece.ops)
            b.clone(*op, local);
        };
        Value inHead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, j,
                                             map.lookupOrDefault(head.loop.getUpperBound()));
        Value inTail = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, j,
                                             map.lookupOrDefault(tail.loop.getLowerBound()));
        scf::IfOp::create(
            b, loc, inHead,
            [&](OpBuilder &, Location) {
              clonePiece(head);
              scf::YieldOp::create(b, loc);
            },
            [&](OpBuilder &, Location) {
              scf::IfOp::create(b, loc, inTail, [&](OpBuilder &, Location) {
                clonePiece(tail);
                scf::YieldOp::create(b, loc);
              });
              scf::YieldOp::create(b, loc);
            });
      }
    }
    scf::ForOp places = placeLoop(above, last);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(places.getBody());
    jammer.cloneBody(tail, places, byRow);
  }
  // The rows left over (fewer than kJammedRows) run one at a time.
  rows.getLowerBoundMutable().assign(jammedEnd);
  rows->removeAttr("ncl.dense_row_width");
}

struct NclCPUSchedulePass : public mlir::ncl::impl::NclCPUScheduleBase<NclCPUSchedulePass> {
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      auto kind = f->getAttrOfType<StringAttr>("ncl.kernel");
      if (!kind || f.isExternal())
        continue;
      Block &entry = f.getBody().front();
      if (kind.getValue() == "sum") {
        SmallVector<DenseSumNest, 1> nests;
        f.walk([&](scf::ForOp rows) {
          if (auto nest = matchDenseSum(rows))
            nests.push_back(*nest);
        });
        for (const DenseSumNest &nest : nests)
          jamDenseRows(nest);
        continue;
      }
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
