//===- GPUMap.cpp - Kernels mapped to GPU threads -------------------------===//
//
// Rewrites the target-independent kernels of ncl-to-loops for a GPU (see
// NclGPUMap in compiler/include/ncl/Conversion/Passes.td and docs/gpu.md):
// a per-index stage's kernel runs its range [begin + g, begin + g + 1) on
// the thread with global index g, a whole-range stage's on thread 0, the
// host's stages (init, connect) lose their kernels, and every other
// function moves into one gpu.module. What each op computes is
// untouched; only the range a kernel call covers changes. Nothing here is
// specific to CUDA: the gpu dialect's index ops are lowered by the target's
// pipeline (ncl-to-nvvm).
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/model_abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLGPUMAP
#include "ncl/Conversion/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using mlir::ncl::BufferRole;
using mlir::ncl::StageKind;
using mlir::ncl::StageOp;

namespace {

/// The gpu.module that holds the kernels; docs/gpu.md.
constexpr StringLiteral kGPUModuleName = "ncl_kernels";

/// Whether the CUDA backend runs a stage of `kind` on the host, once, with
/// the CPU's kernel (docs/gpu.md): the GPU gets no code for it.
bool runsOnHost(StageKind kind) {
  return kind == StageKind::Init || kind == StageKind::Connect ||
         kind == StageKind::ConnectCondition;
}

/// Whether a stage of `kind` runs on one thread over its whole range.
bool isWholeRange(StageKind kind) { return kind == StageKind::Kwta || kind == StageKind::KwtaGate; }

/// "P.update", "C.deliver": how messages name a stage.
std::string stageName(StageOp stage) {
  return (stage.getPopulation() + "." + mlir::ncl::stringifyStageKind(stage.getKind())).str();
}

/// The argument of `kernel` that the stage's `args` name `field`, if any.
BlockArgument headerArgument(StageOp stage, func::FuncOp kernel, StringRef field) {
  ArrayAttr args = stage.getArgsAttr();
  for (auto [i, a] : llvm::enumerate(args)) {
    auto name = dyn_cast<StringAttr>(a);
    if (name && name.getValue() == field && i < kernel.getNumArguments())
      return kernel.getArgument(i);
  }
  return {};
}

/// Calls fn(buffer, argument) for each argument of `kernel` that the
/// stage's `args` name as a buffer of the network's table.
void forEachBufferArgument(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network,
                           llvm::function_ref<void(mlir::ncl::BufferAttr, Value)> fn) {
  ArrayAttr buffers = network.getBuffersAttr();
  for (auto [i, a] : llvm::enumerate(stage.getArgsAttr())) {
    auto index = dyn_cast<IntegerAttr>(a);
    if (index && buffers && index.getInt() < static_cast<int64_t>(buffers.size()) &&
        i < kernel.getNumArguments())
      fn(cast<mlir::ncl::BufferAttr>(buffers[index.getInt()]), kernel.getArgument(i));
  }
}

/// The first buffer that `kernel` stores into (or changes atomically) among
/// those `select` accepts, or null.
mlir::ncl::BufferAttr writtenBuffer(StageOp stage, func::FuncOp kernel,
                                    mlir::ncl::NetworkOp network,
                                    llvm::function_ref<bool(mlir::ncl::BufferAttr)> select) {
  mlir::ncl::BufferAttr found;
  forEachBufferArgument(stage, kernel, network, [&](mlir::ncl::BufferAttr buffer, Value arg) {
    if (found || !select(buffer))
      return;
    if (llvm::any_of(arg.getUsers(), [&](Operation *user) {
          if (auto store = dyn_cast<memref::StoreOp>(user))
            return store.getMemRef() == arg;
          return isa<memref::AtomicRMWOp>(user);
        }))
      found = buffer;
  });
  return found;
}

/// Why a stage of a per-index kind cannot be divided into a thread per
/// index, or "": its kernel then runs on thread 0 over the whole range.
std::string whyNotPerIndex(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network) {
  BlockArgument begin = headerArgument(stage, kernel, "begin");
  BlockArgument end = headerArgument(stage, kernel, "end");
  // The work of on_post and deliver_synapses comes from the list the
  // runtime gives each CPU thread (its own spikes or synapses), not from
  // [begin, end): a GPU launch has one list.
  if (!begin || !end || (begin.use_empty() && end.use_empty()))
    return "its work comes from the runtime's list of spikes or synapses, not from [begin, end)";
  // A presynaptic trace is kept per calling thread and updated by each for
  // every arriving spike (model_abi.h, NCL_BUFFER_PRE_TRACE): from a
  // postsynaptic range every GPU thread would apply each spike to the one
  // copy.
  if (stage.getKind() == StageKind::AdvancePreTraces)
    return "";
  if (auto trace = writtenBuffer(stage, kernel, network, [](mlir::ncl::BufferAttr buffer) {
        return buffer.getRole() == BufferRole::PreTrace;
      }))
    return ("it updates the presynaptic trace buffer '" + trace.getName().str() +
            "', of which each CPU thread keeps its own copy: every GPU thread of its "
            "postsynaptic range would apply each arriving spike to the one copy");
  return "";
}

/// The loop of a kernel over the runtime's list (`count` is the header's
/// `num_spikes` or `num_synapses`) where the kernel's work is that one loop
/// (from 0 to the count by 1; what is outside it only reads). Else null,
/// with the reason in `why`.
scf::ForOp onlyListLoop(StageOp stage, func::FuncOp kernel, StringRef count, std::string &why) {
  BlockArgument length = headerArgument(stage, kernel, count);
  scf::ForOp loop;
  for (Operation &op : kernel.getBody().front().without_terminator()) {
    auto forOp = dyn_cast<scf::ForOp>(op);
    if (forOp && length && !loop && forOp.getUpperBound() == length &&
        matchPattern(forOp.getLowerBound(), m_Zero()) && matchPattern(forOp.getStep(), m_One())) {
      loop = forOp;
      continue;
    }
    if (!isMemoryEffectFree(&op) && !isa<memref::LoadOp>(op)) {
      why = "its work is not one loop over the runtime's list";
      return {};
    }
  }
  if (!loop)
    why = "its work is not one loop over the runtime's list";
  return loop;
}

/// The loop of a kernel over the runtime's list (onlyListLoop), if the list
/// may be divided between threads: it writes only buffers of the roles
/// `owned`, which the entries of the list do not share. Else null, with the
/// reason in `why`.
scf::ForOp listLoop(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network,
                    StringRef count, ArrayRef<BufferRole> owned, std::string &why) {
  scf::ForOp loop = onlyListLoop(stage, kernel, count, why);
  if (!loop)
    return {};
  if (auto shared = writtenBuffer(stage, kernel, network, [&](mlir::ncl::BufferAttr buffer) {
        return !llvm::is_contained(owned, buffer.getRole());
      })) {
    why = "it writes the buffer '" + shared.getName().str() +
          "', which the entries of the runtime's list may share";
    return {};
  }
  return loop;
}

/// The argument of `kernel` that is a buffer of `role`, if any.
Value bufferArgument(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network,
                     BufferRole role) {
  Value found;
  forEachBufferArgument(stage, kernel, network, [&](mlir::ncl::BufferAttr buffer, Value arg) {
    if (!found && buffer.getRole() == role)
      found = arg;
  });
  return found;
}

/// The arguments of `kernel` that are presynaptic trace buffers.
llvm::SmallPtrSet<Value, 4> preTraceArguments(StageOp stage, func::FuncOp kernel,
                                              mlir::ncl::NetworkOp network) {
  llvm::SmallPtrSet<Value, 4> traces;
  forEachBufferArgument(stage, kernel, network, [&](mlir::ncl::BufferAttr buffer, Value arg) {
    if (buffer.getRole() == BufferRole::PreTrace)
      traces.insert(arg);
  });
  return traces;
}

/// Makes the spike loop of a deliver kernel compute its presynaptic traces
/// in registers (docs/gpu.md, "deliver with presynaptic traces"): a load of
/// a trace after the entry's store at the same place takes the stored
/// value, and the stores go, so every thread computes each entry's values
/// from the memory as it was before the launch. With `apply` false it only
/// checks; where the rewrite is not certain to keep the values (a store in
/// a nested region, a load at another place after a store, an atomic
/// change) it changes nothing and says why.
bool keepTracesInRegisters(scf::ForOp loop, const llvm::SmallPtrSetImpl<Value> &traces, bool apply,
                           std::string &why) {
  llvm::DenseMap<std::pair<Value, Value>, Value> stored;
  llvm::SmallPtrSet<Value, 4> storedBuffers;
  llvm::SmallVector<Operation *> dead;
  // Pre-order visits the ops in program order, each before its regions.
  WalkResult walk = loop.getBody()->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op); store && traces.contains(store.getMemRef())) {
      if (store->getBlock() != loop.getBody() || store.getIndices().size() != 1) {
        why = "it stores a presynaptic trace inside a nested region of its spike loop";
        return WalkResult::interrupt();
      }
      stored[{store.getMemRef(), store.getIndices()[0]}] = store.getValue();
      storedBuffers.insert(store.getMemRef());
      dead.push_back(store);
      return WalkResult::advance();
    }
    if (auto load = dyn_cast<memref::LoadOp>(op); load && traces.contains(load.getMemRef())) {
      if (!storedBuffers.contains(load.getMemRef()))
        return WalkResult::advance(); // the value before the launch, as on the CPU
      auto it = load.getIndices().size() == 1
                    ? stored.find({load.getMemRef(), load.getIndices()[0]})
                    : stored.end();
      if (it == stored.end()) {
        why = "it reads a presynaptic trace at another place than the one it stored";
        return WalkResult::interrupt();
      }
      if (apply) {
        load.replaceAllUsesWith(it->second);
        dead.push_back(load);
      }
      return WalkResult::advance();
    }
    if (auto rmw = dyn_cast<memref::AtomicRMWOp>(op); rmw && traces.contains(rmw.getMemref())) {
      why = "it changes a presynaptic trace atomically";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return false;
  if (apply)
    for (Operation *op : dead)
      op->erase();
  return true;
}

/// The commit kernel of a deliver with presynaptic traces, `<kernel>_commit`
/// beside `kernel`: a copy without the synapse loops, whose spike loop then
/// only updates the traces of each entry's presynaptic neuron, a thread per
/// entry (mapPerSpike). Null, with the reason in `why`, where the copy does
/// anything else: it is then erased.
func::FuncOp buildTraceCommit(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network,
                              scf::ForOp &loop, std::string &why) {
  std::string name = (kernel.getSymName() + "_commit").str();
  if (SymbolTable::lookupNearestSymbolFrom(kernel, StringAttr::get(kernel.getContext(), name))) {
    why = "the name of its commit kernel, '" + name + "', is taken";
    return {};
  }
  OpBuilder b(kernel);
  b.setInsertionPointAfter(kernel);
  auto commit = cast<func::FuncOp>(b.clone(*kernel));
  commit.setSymName(name);
  auto fail = [&](std::string reason) {
    why = std::move(reason);
    commit.erase();
    return func::FuncOp();
  };
  loop = onlyListLoop(stage, commit, "num_spikes", why);
  if (!loop)
    return fail(why);
  for (Operation &op : llvm::make_early_inc_range(loop.getBody()->without_terminator()))
    if (auto kind = op.getAttrOfType<StringAttr>("ncl.loop");
        kind && kind.getValue() == "synapses" && op.getNumResults() == 0)
      op.erase();
  // What only found the row's part (binary searches, row starts) goes too:
  // an op whose results nobody uses and which at most reads.
  auto onlyReads = [](Operation *op) {
    return !op->walk([](Operation *nested) {
                return isa<memref::LoadOp>(nested) || isMemoryEffectFree(nested) ||
                               nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
                           ? WalkResult::advance()
                           : WalkResult::interrupt();
              }).wasInterrupted();
  };
  // Last first, so that an op whose only user goes is seen after it.
  llvm::SmallVector<Operation *> ops;
  for (Operation &op : loop.getBody()->without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (op->getNumResults() > 0 && op->use_empty() && onlyReads(op))
      op->erase();
  llvm::SmallPtrSet<Value, 4> traces = preTraceArguments(stage, commit, network);
  llvm::SmallPtrSet<Value, 2> places; // where the traces are read and written
  WalkResult walk = loop.getBody()->walk([&](Operation *op) {
    Value memref, place;
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (!traces.contains(load.getMemRef()))
        return WalkResult::advance();
      memref = load.getMemRef();
      place = load.getIndices().size() == 1 ? load.getIndices()[0] : Value();
    } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
      memref = store.getMemRef();
      place = store.getIndices().size() == 1 ? store.getIndices()[0] : Value();
    } else if (isa<scf::YieldOp>(op) || op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
               isMemoryEffectFree(op)) {
      return WalkResult::advance();
    } else {
      return WalkResult::interrupt();
    }
    if (!traces.contains(memref) || !place)
      return WalkResult::interrupt();
    places.insert(place);
    return WalkResult::advance();
  });
  // One place: the entry's presynaptic neuron, which no other entry of the
  // runtime's list has (docs/gpu.md), so the entries may run at once.
  if (walk.wasInterrupted() || places.size() > 1)
    return fail("outside its synapse loop it does more than update the presynaptic traces of "
                "the arriving spike's neuron");
  return commit;
}

/// Whether the synapse at place `at` of `list` ends at a postsynaptic
/// neuron (`postIndex` of it) below `key`: two dependent loads.
Value entryBelow(OpBuilder &b, Location loc, Value list, Value postIndex, Value at, Value key) {
  Type indexType = b.getIndexType();
  Value synapse = arith::IndexCastOp::create(b, loc, indexType,
                                             memref::LoadOp::create(b, loc, list, ValueRange{at}));
  Value post = arith::IndexCastOp::create(
      b, loc, indexType, memref::LoadOp::create(b, loc, postIndex, ValueRange{synapse}));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, post, key);
}

/// The first place in [lo, hi) of `list` (synapses, sorted by postsynaptic
/// neuron) whose synapse's postsynaptic neuron (`postIndex`) is not below
/// `key`, or hi: a binary search.
Value lowerBound(OpBuilder &b, Location loc, Value list, Value postIndex, Value lo, Value hi,
                 Value key) {
  Type indexType = b.getIndexType();
  auto search = scf::WhileOp::create(
      b, loc, TypeRange{indexType, indexType}, ValueRange{lo, hi},
      [](OpBuilder &b, Location loc, ValueRange range) {
        Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, range[0], range[1]);
        scf::ConditionOp::create(b, loc, more, range);
      },
      [&](OpBuilder &b, Location loc, ValueRange range) {
        Value one = arith::ConstantIndexOp::create(b, loc, 1);
        Value sum = arith::AddIOp::create(b, loc, range[0], range[1]);
        Value mid = arith::ShRUIOp::create(b, loc, sum, one);
        Value below = entryBelow(b, loc, list, postIndex, mid, key);
        Value next = arith::AddIOp::create(b, loc, mid, one);
        Value lo = arith::SelectOp::create(b, loc, below, next, range[0]);
        Value hi = arith::SelectOp::create(b, loc, below, range[1], mid);
        scf::YieldOp::create(b, loc, ValueRange{lo, hi});
      });
  return search.getResult(0);
}

/// lowerBound over [from, hi) for a `key` whose first place is likely near
/// `from` (the end of a neuron's entries, which are few): probes from, from
/// + 1, from + 3, from + 7, ... until an entry is not below `key`, then
/// searches between the last two probes. One probe where the neuron has no
/// entry, where the binary search over the bucket takes several, each two
/// dependent loads. The same place as lowerBound.
Value gallopingLowerBound(OpBuilder &b, Location loc, Value list, Value postIndex, Value from,
                          Value hi, Value key) {
  Type indexType = b.getIndexType();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value notDone = arith::ConstantIntOp::create(b, loc, 0, 1);
  auto gallop = scf::WhileOp::create(
      b, loc, TypeRange{indexType, indexType, indexType, b.getI1Type()},
      ValueRange{from, hi, one, notDone},
      [](OpBuilder &b, Location loc, ValueRange state) {
        Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, state[0], state[1]);
        Value going = arith::AndIOp::create(
            b, loc, open,
            arith::XOrIOp::create(b, loc, state[3], arith::ConstantIntOp::create(b, loc, 1, 1)));
        scf::ConditionOp::create(b, loc, going, state);
      },
      [&](OpBuilder &b, Location loc, ValueRange state) {
        Value one = arith::ConstantIndexOp::create(b, loc, 1);
        Value reach =
            arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, state[0], state[2]), one);
        Value last = arith::SubIOp::create(b, loc, state[1], one);
        Value probe = arith::MinUIOp::create(b, loc, reach, last);
        Value below = entryBelow(b, loc, list, postIndex, probe, key);
        Value past = arith::AddIOp::create(b, loc, probe, one);
        Value lo = arith::SelectOp::create(b, loc, below, past, state[0]);
        Value bound = arith::SelectOp::create(b, loc, below, state[1], probe);
        Value step = arith::ShLIOp::create(b, loc, state[2], one);
        Value done =
            arith::XOrIOp::create(b, loc, below, arith::ConstantIntOp::create(b, loc, 1, 1));
        scf::YieldOp::create(b, loc, ValueRange{lo, bound, step, done});
      });
  return lowerBound(b, loc, list, postIndex, gallop.getResult(0), gallop.getResult(1), key);
}

/// The thread's global index, g = block_id.x * block_dim.x + thread_id.x.
Value globalThreadIndex(OpBuilder &b, Location loc) {
  Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value blockDim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, block, blockDim), thread);
}

/// Runs the body of `loop`, which has exactly one iteration, in the loop's
/// place, with `value` for its induction variable.
void inlineOnlyIteration(scf::ForOp loop, Value value) {
  Block *body = loop.getBody();
  loop.getInductionVar().replaceAllUsesWith(value);
  loop->getBlock()->getOperations().splice(loop->getIterator(), body->getOperations(),
                                           body->begin(), body->getTerminator()->getIterator());
  loop.erase();
}

/// Replaces `loop`, which has at most one iteration, by that iteration with
/// `value` for its induction variable, under `scf.if lb < ub`.
scf::IfOp replaceByIf(OpBuilder &b, scf::ForOp loop, Value value) {
  b.setInsertionPoint(loop);
  Value taken = arith::CmpIOp::create(b, loop.getLoc(), arith::CmpIPredicate::slt,
                                      loop.getLowerBound(), loop.getUpperBound());
  auto once = scf::IfOp::create(b, loop.getLoc(), taken, /*withElseRegion=*/false);
  Block *body = loop.getBody();
  loop.getInductionVar().replaceAllUsesWith(value);
  once.thenBlock()->getOperations().splice(once.thenBlock()->getTerminator()->getIterator(),
                                           body->getOperations(), body->begin(),
                                           body->getTerminator()->getIterator());
  loop.erase();
  return once;
}

/// Replaces the places loops of one batch member's part of a dense row
/// (ncl-to-loops' pieces, each of at most one iteration on a thread that
/// owns one postsynaptic neuron) by `scf.if`s running that iteration at
/// the place where the first of them starts, the thread's (the `scf.if`s
/// in `branches`, where given). False, changing nothing, where there is no
/// piece or one has results.
bool placesAsBranches(OpBuilder &b, llvm::ArrayRef<scf::ForOp> pieces,
                      llvm::SmallVectorImpl<scf::IfOp> *branches = nullptr) {
  if (pieces.empty() || llvm::any_of(pieces, [](scf::ForOp p) { return p.getNumResults(); }))
    return false;
  Value place = scf::ForOp(pieces.front()).getLowerBound();
  for (scf::ForOp piece : pieces) {
    scf::IfOp branch = replaceByIf(b, piece, place);
    if (branches)
      branches->push_back(branch);
  }
  return true;
}

/// Whether the thread has a place in the dense rows loop `rows`, whose
/// places loops of one member became `branches` (placesAsBranches): its
/// range of places, from where the first piece starts to where the last
/// one ends (ncl-to-loops' pieces of a row around its own neuron lie in
/// it), is not empty. A thread without one still computes a place, clamped
/// to the range's edge, where a neighbour's input may be: it must neither
/// load nor store that input, which a GPU's other thread adds to at the
/// same time. Computed before `rows`; null where the range is not known
/// there.
Value ownsPlace(OpBuilder &b, scf::ForOp rows, scf::IfOp first, scf::IfOp last) {
  auto head = first.getCondition().getDefiningOp<arith::CmpIOp>();
  auto tail = last.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!head || !tail || !rows.isDefinedOutsideOfLoop(head.getLhs()) ||
      !rows.isDefinedOutsideOfLoop(tail.getRhs()))
    return {};
  b.setInsertionPoint(rows);
  return arith::CmpIOp::create(b, rows.getLoc(), arith::CmpIPredicate::slt, head.getLhs(),
                               tail.getRhs());
}

/// Common subexpressions of `kernel` as one (MLIR's CSE on it alone).
void shareCommonSubexpressions(func::FuncOp kernel) {
  IRRewriter rewriter(kernel.getContext());
  DominanceInfo dominance(kernel);
  eliminateCommonSubExpressions(rewriter, dominance, kernel);
}

/// Moves before `loop` each pure op inside it (in its body or any region
/// below) whose operands all come from outside it, in program order, so
/// that what depends only on those moves too.
void hoistInvariants(scf::ForOp loop) {
  llvm::SmallVector<Operation *> ops;
  loop.getBody()->walk<WalkOrder::PreOrder>([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : ops)
    if (op->getNumRegions() == 0 && !op->hasTrait<OpTrait::IsTerminator>() && isPure(op) &&
        llvm::all_of(op->getOperands(), [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
      op->moveBefore(loop);
}

/// An element of a kernel's buffer that a loop reads and writes at one
/// place in every iteration: a sum the loop may carry in a register.
struct Accumulator {
  Value buffer;
  Value place;
};

/// The accumulators of `loop` in `kernel`: the elements of each buffer (an
/// argument of the kernel, which nothing views otherwise) that the loop
/// stores into, where every load and store of it inside the loop has one
/// index, defined outside the loop, and sits in the loop's body or in
/// `scf.if`s there; its elements are those indices, which must be `places`
/// values: one for a thread of one index, a tile's members' places for a
/// thread of a tile (which the caller knows to differ at run time). Where
/// no other argument is the same buffer (the caller checks, passedOnce),
/// no other access of the loop reaches those elements. A buffer that does
/// not fit stays in memory.
llvm::SmallVector<Accumulator> loopAccumulators(scf::ForOp loop, func::FuncOp kernel,
                                                size_t places = 1) {
  llvm::MapVector<Value, llvm::SmallVector<Operation *>> accesses;
  loop.getBody()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op))
      accesses[load.getMemRef()].push_back(op);
    else if (auto store = dyn_cast<memref::StoreOp>(op))
      accesses[store.getMemRef()].push_back(op);
  });
  llvm::SmallVector<Accumulator> found;
  for (auto &[buffer, ops] : accesses) {
    auto argument = dyn_cast<BlockArgument>(buffer);
    if (!argument || argument.getOwner() != &kernel.getBody().front() ||
        !llvm::any_of(ops, [](Operation *op) { return isa<memref::StoreOp>(op); }) ||
        !llvm::all_of(buffer.getUsers(),
                      [](Operation *user) { return isa<memref::LoadOp, memref::StoreOp>(user); }))
      continue;
    llvm::SetVector<Value> at;
    bool fits = llvm::all_of(ops, [&](Operation *op) {
      ValueRange indices = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getIndices()
                                                   : cast<memref::StoreOp>(op).getIndices();
      if (indices.size() != 1 || !loop.isDefinedOutsideOfLoop(indices[0]))
        return false;
      at.insert(indices[0]);
      for (Operation *parent = op->getParentOp(); parent != loop; parent = parent->getParentOp())
        if (!isa<scf::IfOp>(parent))
          return false;
      return true;
    });
    if (fits && at.size() == places)
      for (Value place : at)
        found.push_back({buffer, place});
  }
  return found;
}

/// In `block` (the loop's body or a branch inside it), replaces each load
/// of an accumulator by its value so far (`current`) and drops its stores,
/// whose values become the current ones; an `scf.if` that stores one
/// yields its new value. `current` ends with the values at the block's end.
void forwardAccumulators(Block &block, llvm::ArrayRef<Accumulator> accumulators,
                         llvm::SmallVectorImpl<Value> &current) {
  auto which = [&](Value buffer, ValueRange indices) -> std::optional<size_t> {
    for (auto [k, accumulator] : llvm::enumerate(accumulators))
      if (accumulator.buffer == buffer && indices.size() == 1 && indices[0] == accumulator.place)
        return k;
    return std::nullopt;
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (auto k = which(load.getMemRef(), load.getIndices())) {
        load.replaceAllUsesWith(current[*k]);
        load.erase();
      }
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (auto k = which(store.getMemRef(), store.getIndices())) {
        current[*k] = store.getValue();
        store.erase();
      }
      continue;
    }
    auto branch = dyn_cast<scf::IfOp>(op);
    if (!branch)
      continue;
    llvm::SmallVector<Value> thenValues(current.begin(), current.end()), elseValues = thenValues;
    forwardAccumulators(*branch.thenBlock(), accumulators, thenValues);
    if (branch.elseBlock())
      forwardAccumulators(*branch.elseBlock(), accumulators, elseValues);
    llvm::SmallVector<size_t> changed;
    for (size_t k = 0; k < current.size(); ++k)
      if (thenValues[k] != current[k] || elseValues[k] != current[k])
        changed.push_back(k);
    if (changed.empty())
      continue;
    OpBuilder b(branch);
    Location loc = branch.getLoc();
    llvm::SmallVector<Type> types(branch.getResultTypes());
    for (size_t k : changed)
      types.push_back(current[k].getType());
    auto merged = scf::IfOp::create(b, loc, types, branch.getCondition(), /*addThenBlock=*/false,
                                    /*addElseBlock=*/false);
    merged.getThenRegion().takeBody(branch.getThenRegion());
    if (!branch.getElseRegion().empty()) {
      merged.getElseRegion().takeBody(branch.getElseRegion());
    } else {
      b.createBlock(&merged.getElseRegion());
      scf::YieldOp::create(b, loc);
    }
    for (auto [region, values] : {std::pair(&merged.getThenRegion(), &thenValues),
                                  {&merged.getElseRegion(), &elseValues}}) {
      Operation *yield = region->front().getTerminator();
      for (size_t k : changed)
        yield->insertOperands(yield->getNumOperands(), (*values)[k]);
    }
    for (auto [old, result] : llvm::zip(branch.getResults(), merged.getResults()))
      old.replaceAllUsesWith(result);
    for (auto [n, k] : llvm::enumerate(changed))
      current[k] = merged.getResult(branch.getNumResults() + n);
    branch.erase();
  }
}

/// Carries `accumulators` through `loop` as iteration values: each is
/// loaded before the loop and stored after it, and inside the loop its
/// loads and stores become values (forwardAccumulators). The same
/// arithmetic in the same order: only the memory traffic goes. Returns
/// the loop that replaces `loop`.
scf::ForOp carryAccumulators(scf::ForOp loop, llvm::ArrayRef<Accumulator> accumulators,
                             Value owns) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  // Loaded and stored only by a thread that owns the place (ownsPlace);
  // another carries zeros it never adds to (its branches are never taken).
  llvm::SmallVector<Type> types;
  for (const Accumulator &accumulator : accumulators)
    types.push_back(cast<MemRefType>(accumulator.buffer.getType()).getElementType());
  auto load = scf::IfOp::create(b, loc, types, owns, /*addThenBlock=*/true,
                                /*addElseBlock=*/true);
  {
    OpBuilder inside = OpBuilder::atBlockEnd(load.thenBlock());
    llvm::SmallVector<Value> loaded, zeros;
    for (const Accumulator &accumulator : accumulators)
      loaded.push_back(
          memref::LoadOp::create(inside, loc, accumulator.buffer, ValueRange{accumulator.place}));
    scf::YieldOp::create(inside, loc, loaded);
    inside.setInsertionPointToEnd(load.elseBlock());
    for (Type type : types)
      zeros.push_back(arith::ConstantOp::create(inside, loc, b.getZeroAttr(type)));
    scf::YieldOp::create(inside, loc, zeros);
  }
  llvm::SmallVector<Value> initial(load.getResults());
  auto carried = scf::ForOp::create(b, loc, loop.getLowerBound(), loop.getUpperBound(),
                                    loop.getStep(), initial);
  carried->setDiscardableAttrs(loop->getDiscardableAttrDictionary());
  Block *body = carried.getBody();
  // The loop's own terminator replaces any the builder made.
  while (!body->empty())
    body->back().erase();
  body->getOperations().splice(body->end(), loop.getBody()->getOperations());
  loop.getInductionVar().replaceAllUsesWith(carried.getInductionVar());
  llvm::SmallVector<Value> current(carried.getRegionIterArgs());
  forwardAccumulators(*body, accumulators, current);
  body->getTerminator()->insertOperands(0, current);
  b.setInsertionPointAfter(carried);
  auto store = scf::IfOp::create(b, loc, owns, /*withElseRegion=*/false);
  b.setInsertionPoint(store.thenBlock()->getTerminator());
  for (auto [accumulator, sum] : llvm::zip(accumulators, carried.getResults()))
    memref::StoreOp::create(b, loc, sum, accumulator.buffer, ValueRange{accumulator.place});
  loop.erase();
  return carried;
}

/// Whether `argument` of a kernel is, in each of the stages that call it
/// (several where ncl-merge-kernels gave them one), a buffer of the
/// network's table that the stage passes in no other argument, so that no
/// other argument reaches its memory.
bool passedOnce(llvm::ArrayRef<StageOp> stages, BlockArgument argument) {
  return llvm::all_of(stages, [&](StageOp stage) {
    ArrayAttr args = stage.getArgsAttr();
    unsigned position = argument.getArgNumber();
    auto index = position < args.size() ? dyn_cast<IntegerAttr>(args[position]) : IntegerAttr();
    return index && llvm::count(args, index) == 1;
  });
}

/// Moves the ops of `kernel`'s body from `originalFirst` (up to its end)
/// under `scf.if inRange`, put before the terminator: the kernel's own work
/// runs only on a thread that has some.
void guardBody(OpBuilder &b, func::FuncOp kernel, Operation *originalFirst, Value inRange) {
  Block &body = kernel.getBody().front();
  b.setInsertionPoint(body.getTerminator());
  auto guard = scf::IfOp::create(b, kernel.getLoc(), inRange, /*withElseRegion=*/false);
  llvm::SmallVector<Operation *> moved;
  if (originalFirst != body.getTerminator())
    for (Operation *op = originalFirst; op != guard.getOperation(); op = op->getNextNode())
      moved.push_back(op);
  for (Operation *op : moved)
    op->moveBefore(guard.thenBlock()->getTerminator());
}

/// Makes `value` available before `point`, in a block whose ops write no
/// memory: where its op is later in that block, moves it (and, first, what
/// it uses) up to there, if it has no regions and at most reads. False
/// where it cannot.
bool makeAvailable(Value value, Operation *point) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() || def->isBeforeInBlock(point))
    return true; // a block argument, or defined outside the block, or before
  if (def == point || def->getNumRegions() || !(isPure(def) || isa<memref::LoadOp>(def)))
    return false;
  for (Value operand : def->getOperands())
    if (!makeAvailable(operand, point))
      return false;
  def->moveBefore(point);
  return true;
}

/// Merges `second` into `first`, an earlier `scf.if` of the same block
/// with the same condition, which writes no memory: one `scf.if` at
/// `first`'s place runs `first`'s branch, then `second`'s, and yields
/// both's results. False, changing nothing but the order of ops that only
/// compute or read, where a value `second` uses cannot come before `first`.
bool mergeInto(scf::IfOp first, scf::IfOp second) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(second->getRegions(), used);
  for (Value value : used)
    if (!makeAvailable(value, first))
      return false;
  OpBuilder b(first);
  Location loc = first.getLoc();
  for (scf::IfOp branch : {first, second})
    if (branch.getElseRegion().empty()) {
      OpBuilder::InsertionGuard guard(b);
      b.createBlock(&branch.getElseRegion());
      scf::YieldOp::create(b, loc);
    }
  llvm::SmallVector<Type> types(first.getResultTypes());
  llvm::append_range(types, second.getResultTypes());
  auto merged = scf::IfOp::create(b, loc, types, first.getCondition(), /*addThenBlock=*/false,
                                  /*addElseBlock=*/false);
  merged.getThenRegion().takeBody(first.getThenRegion());
  merged.getElseRegion().takeBody(first.getElseRegion());
  for (auto [into, from] : {std::pair(&merged.getThenRegion(), &second.getThenRegion()),
                            {&merged.getElseRegion(), &second.getElseRegion()}}) {
    Block &to = into->front(), &source = from->front();
    Operation *toYield = to.getTerminator(), *sourceYield = source.getTerminator();
    to.getOperations().splice(toYield->getIterator(), source.getOperations(), source.begin(),
                              sourceYield->getIterator());
    toYield->insertOperands(toYield->getNumOperands(), sourceYield->getOperands());
  }
  unsigned n = first.getNumResults();
  for (auto [k, result] : llvm::enumerate(first.getResults()))
    result.replaceAllUsesWith(merged.getResult(k));
  for (auto [k, result] : llvm::enumerate(second.getResults()))
    result.replaceAllUsesWith(merged.getResult(n + k));
  first.erase();
  second.erase();
  return true;
}

/// In the body of `loop`, which writes no memory, merges each `scf.if`
/// into the first earlier one with the same condition (mergeInto).
void mergeEqualBranches(scf::ForOp loop) {
  for (bool merged = true; merged;) {
    merged = false;
    llvm::SmallVector<scf::IfOp> branches(loop.getBody()->getOps<scf::IfOp>());
    for (size_t x = 0; x < branches.size() && !merged; ++x)
      for (size_t y = 0; y < x && !merged; ++y)
        merged = branches[y].getCondition() == branches[x].getCondition() &&
                 mergeInto(branches[y], branches[x]);
  }
}

/// Whether anything in `op` (or its regions) may write memory.
bool writesMemory(Operation *op) {
  return op
      ->walk([](Operation *nested) {
        if (nested->getNumRegions() == 0 && !isPure(nested) && !isa<memref::LoadOp>(nested) &&
            !nested->hasTrait<OpTrait::IsTerminator>())
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// The rows loop of a dense `sum` kernel (ncl-to-loops marks it with
/// `ncl.dense_row_width`), or null.
scf::ForOp denseRowsLoop(func::FuncOp kernel) {
  scf::ForOp rows;
  kernel.walk([&](scf::ForOp loop) {
    if (loop->hasAttr("ncl.dense_row_width"))
      rows = loop;
  });
  return rows;
}

/// The loops of `kind` (`ncl.loop`) directly in the body of `rows`.
llvm::SmallVector<scf::ForOp> loopsOf(scf::ForOp rows, StringRef kind) {
  llvm::SmallVector<scf::ForOp> found;
  for (auto loop : rows.getBody()->getOps<scf::ForOp>())
    if (auto attr = loop->getAttrOfType<StringAttr>("ncl.loop"); attr && attr.getValue() == kind)
      found.push_back(loop);
  return found;
}

struct NclGPUMapPass : public mlir::ncl::impl::NclGPUMapBase<NclGPUMapPass> {
  /// The stages that call each kernel (a copy for member tiles is named
  /// by the original's).
  llvm::DenseMap<Operation *, llvm::SmallVector<StageOp>> stagesOf;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.lookupSymbol<gpu::GPUModuleOp>(kGPUModuleName))
      return; // mapped by an earlier run
    // The stages that call each kernel.
    stagesOf.clear();
    for (auto network : module.getOps<mlir::ncl::NetworkOp>())
      if (mlir::ncl::ScheduleOp schedule = network.getSchedule())
        for (StageOp stage : schedule.getBody().getOps<StageOp>())
          if (stage.getKernel())
            if (auto kernel = module.lookupSymbol<func::FuncOp>(*stage.getKernel()))
              stagesOf[kernel].push_back(stage);
    for (auto network : module.getOps<mlir::ncl::NetworkOp>()) {
      mlir::ncl::ScheduleOp schedule = network.getSchedule();
      if (!schedule)
        continue;
      for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
        // The host's stages: their kernels go (the connect kernels are most
        // of a network's IR), with whatever only they call (below).
        if (runsOnHost(stage.getKind())) {
          if (stage.getKernel())
            if (auto kernel = module.lookupSymbol<func::FuncOp>(*stage.getKernel()))
              kernel.erase();
          continue;
        }
        if (!stage.getKernel()) {
          stage.emitError() << "the GPU target cannot run stage '" << stageName(stage)
                            << "': it has no kernel (run ncl-to-loops before ncl-gpu-map)";
          return signalPassFailure();
        }
        auto kernel = module.lookupSymbol<func::FuncOp>(*stage.getKernel());
        if (!kernel || kernel.getBody().getBlocks().size() != 1 || kernel.getNumResults() != 0) {
          stage.emitError() << "the GPU target cannot run stage '" << stageName(stage)
                            << "': its kernel is not a function of one block without results";
          return signalPassFailure();
        }
        if (kernel->hasAttr("ncl.gpu_launch"))
          continue; // a kernel two stages share
        // on_post: an entry owns its neuron's column of synapses and its
        // neuron's postsynaptic traces (a neuron spikes once per step, and
        // the runtime gives on_post one step's spikes).
        if (stage.getKind() == StageKind::OnPost) {
          std::string why;
          if (scf::ForOp loop = listLoop(stage, kernel, network, "num_spikes",
                                         {BufferRole::SynapseState, BufferRole::PostTrace}, why)) {
            mapPerSpike(kernel, loop);
            continue;
          }
          kernel->setAttr("ncl.gpu_serial", StringAttr::get(kernel.getContext(), why));
          mapKernel(stage, kernel, /*onThreadZero=*/true);
          continue;
        }
        // deliver_synapses: the entries of one postsynaptic neuron, in the
        // list's order, own what they change at it (its state and input)
        // and their synapses; a thread per postsynaptic neuron keeps that
        // order.
        if (stage.getKind() == StageKind::DeliverSynapses) {
          std::string why;
          Value postIndex = bufferArgument(stage, kernel, network, BufferRole::PostIndex);
          if (scf::ForOp loop = listLoop(
                  stage, kernel, network, "num_synapses",
                  {BufferRole::State, BufferRole::SynapticInput, BufferRole::SynapseState}, why);
              loop && postIndex) {
            mapPerTarget(stage, kernel, loop, postIndex);
            continue;
          }
          kernel->setAttr("ncl.gpu_serial", StringAttr::get(kernel.getContext(), why));
          mapKernel(stage, kernel, /*onThreadZero=*/true);
          continue;
        }
        std::string serial =
            isWholeRange(stage.getKind()) ? std::string() : whyNotPerIndex(stage, kernel, network);
        // deliver with presynaptic traces: a thread per postsynaptic index
        // that keeps the traces in registers, then a commit kernel that
        // stores them, a thread per arriving spike.
        if (!serial.empty() && stage.getKind() == StageKind::Deliver &&
            writtenBuffer(stage, kernel, network, [](mlir::ncl::BufferAttr buffer) {
              return buffer.getRole() == BufferRole::PreTrace;
            })) {
          std::string why;
          if (splitTraceCommit(stage, kernel, network, why))
            continue;
          serial += ", and it cannot be split into a kernel per index and a commit: " + why;
        }
        if (!serial.empty())
          kernel->setAttr("ncl.gpu_serial", StringAttr::get(kernel.getContext(), serial));
        // A dense sum's second entry, for launches of whole tiles of batch
        // members: built on a copy of the target-independent kernel.
        if (stage.getKind() == StageKind::Sum && serial.empty() && denseRowsLoop(kernel))
          addMemberTiles(stage, kernel);
        mapKernel(stage, kernel, isWholeRange(stage.getKind()) || !serial.empty());
        if (stage.getKind() == StageKind::Sum && serial.empty())
          mapDenseSum(stage, kernel);
      }
    }
    // Functions that only the host's kernels called.
    for (bool erased = true; erased;) {
      erased = false;
      for (func::FuncOp f : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
        if (!f->hasAttr("ncl.gpu_launch") && f.isPrivate() &&
            SymbolTable::symbolKnownUseEmpty(f, module)) {
          f.erase();
          erased = true;
        }
    }
    // Every function (kernels and what they call) moves into the GPU module.
    OpBuilder b(module.getContext());
    b.setInsertionPointToStart(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), kGPUModuleName);
    Block &gpuBody = gpuModule.getBodyRegion().front();
    for (func::FuncOp f : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      f->moveBefore(&gpuBody, gpuBody.end());
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), b.getUnitAttr());
  }

  /// The GPU form of a dense `sum` (docs/gpu.md, "Dense sums"), after
  /// mapKernel: the thread's one postsynaptic neuron is one batch member's
  /// (the members loop has one iteration) and one place j of the row (each
  /// places loop has at most one, j: the first loop's lower bound, where
  /// ncl-to-loops starts the places of [begin, end)). The loops become
  /// that iteration, under `scf.if` for the places; what depends only on
  /// the thread moves out of the rows loop; and the neuron's inputs, loaded
  /// and stored at one place in every row, are carried through the rows
  /// in registers, loaded before and stored after. Each input still takes
  /// the rows' additions in ascending order, so the sums are the CPU's.
  void mapDenseSum(StageOp stage, func::FuncOp kernel) {
    scf::ForOp rows = denseRowsLoop(kernel);
    if (!rows)
      return;
    llvm::SmallVector<scf::ForOp> members = loopsOf(rows, "members");
    if (members.size() != 1 || members.front().getNumResults() != 0)
      return;
    inlineOnlyIteration(members.front(), members.front().getLowerBound());
    OpBuilder b(kernel.getContext());
    llvm::SmallVector<scf::IfOp> branches;
    if (!placesAsBranches(b, loopsOf(rows, "synapses"), &branches))
      return;
    hoistInvariants(rows);
    shareCommonSubexpressions(kernel);
    kernel->setAttr("ncl.gpu_dense_sum", b.getUnitAttr());
    llvm::SmallVector<Accumulator> accumulators = loopAccumulators(rows, kernel);
    llvm::erase_if(accumulators, [&](const Accumulator &accumulator) {
      return !passedOnce(stagesOf[kernel], cast<BlockArgument>(accumulator.buffer));
    });
    // The inputs stay in memory where the thread's places are not known
    // before the rows.
    if (accumulators.empty())
      return;
    if (Value owns = ownsPlace(b, rows, branches.front(), branches.back()))
      carryAccumulators(rows, accumulators, owns);
  }

  /// The member-tiled form of a dense `sum` (docs/gpu.md, "Dense sums";
  /// model_abi.h, NCL_GPU_LAUNCH_MEMBER_TILES), built in `kernel`, a copy
  /// of the target-independent kernel: thread g owns postsynaptic neuron
  /// j = g mod N_post in `tileSize` consecutive batch members from
  /// begin / N_post + (g / N_post) * tileSize, all inside
  /// [begin, end) (the runtime launches it only so). The members loop
  /// becomes a copy of its body per member of the tile, in which begin and
  /// end less the member's first index are j and j + 1 (the thread's
  /// neuron); each places loop then runs at most at j, under `scf.if`; the
  /// rows loop carries the tile's inputs as values; and the branches of the
  /// tile's members, which test the same places, become one, whose
  /// members then share each weight they load. Every input takes the rows'
  /// additions in ascending order, as on the CPU. False where the kernel
  /// does not take that form (the caller drops the copy).
  bool buildMemberTiles(StageOp stage, func::FuncOp kernel, int64_t tileSize) {
    scf::ForOp rows = denseRowsLoop(kernel);
    BlockArgument begin = headerArgument(stage, kernel, "begin");
    BlockArgument end = headerArgument(stage, kernel, "end");
    BlockArgument postSize = headerArgument(stage, kernel, "post_size");
    if (!rows || rows->getParentOp() != kernel || !begin || !end || !postSize)
      return false;
    llvm::SmallVector<scf::ForOp> members = loopsOf(rows, "members");
    if (members.size() != 1 || members.front().getNumResults() != 0)
      return false;
    Block &body = kernel.getBody().front();
    Operation *originalFirst = &body.front();
    Location loc = kernel.getLoc();
    OpBuilder b(kernel.getContext());
    b.setInsertionPointToStart(&body);
    auto index = [&](int64_t v) { return Value(arith::ConstantIndexOp::create(b, loc, v)); };
    Value g = globalThreadIndex(b, loc);
    Value j = arith::RemUIOp::create(b, loc, g, postSize);
    Value next = arith::AddIOp::create(b, loc, j, index(1));
    Value tile = arith::DivUIOp::create(b, loc, g, postSize);
    Value firstMember = arith::DivUIOp::create(b, loc, begin, postSize);
    Value lastMember = arith::CeilDivUIOp::create(b, loc, end, postSize);
    llvm::SmallVector<Value> member{arith::AddIOp::create(
        b, loc, firstMember, arith::MulIOp::create(b, loc, tile, index(tileSize)))};
    for (int64_t k = 1; k < tileSize; ++k)
      member.push_back(arith::AddIOp::create(b, loc, member.front(), index(k)));
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, member.back(), lastMember);
    guardBody(b, kernel, originalFirst, inRange);
    // A copy of the members loop's body per member of the tile.
    scf::ForOp loop = members.front();
    b.setInsertionPoint(loop);
    llvm::SmallVector<llvm::SmallVector<scf::ForOp>> places(member.size());
    for (auto [k, m] : llvm::enumerate(member)) {
      IRMapping map;
      map.map(loop.getInductionVar(), m);
      for (Operation &op : loop.getBody()->without_terminator()) {
        Operation *copy = b.clone(op, map);
        if (auto attr = copy->getAttrOfType<StringAttr>("ncl.loop");
            attr && attr.getValue() == "synapses" && isa<scf::ForOp>(copy))
          places[k].push_back(cast<scf::ForOp>(copy));
      }
    }
    loop.erase();
    // In member m, the thread's index is m * N_post + j: begin and end
    // shifted by that member's offset (ncl-to-loops' memberRange) are j and
    // j + 1. Each copy must have had both shifts, and the rows loop must read
    // begin and end nowhere else: else its places would not be the
    // thread's one, and the form would be wrong.
    for (auto [argument, value] : {std::pair(begin, j), {end, next}}) {
      size_t shifts = 0;
      for (Operation *user : llvm::make_early_inc_range(argument.getUsers()))
        if (auto shifted = dyn_cast<arith::SubIOp>(user);
            shifted && shifted.getLhs() == argument && rows->isAncestor(shifted)) {
          shifted.replaceAllUsesWith(value);
          shifted.erase();
          ++shifts;
        }
      if (shifts != member.size() || llvm::any_of(argument.getUsers(), [&](Operation *user) {
            return rows->isAncestor(user);
          }))
        return false;
    }
    // Every member's copy has the thread's places: the first's say whether
    // it has any.
    llvm::SmallVector<scf::IfOp> branches;
    for (auto [k, pieces] : llvm::enumerate(places))
      if (!placesAsBranches(b, pieces, k == 0 ? &branches : nullptr))
        return false;
    hoistInvariants(rows);
    shareCommonSubexpressions(kernel);
    // An input of each member (places that differ: the members differ).
    llvm::SmallVector<Accumulator> accumulators =
        loopAccumulators(rows, kernel, static_cast<size_t>(tileSize));
    if (accumulators.empty() || llvm::any_of(accumulators, [&](const Accumulator &accumulator) {
          return !passedOnce(stagesOf[kernel], cast<BlockArgument>(accumulator.buffer));
        }))
      return false;
    Value owns = ownsPlace(b, rows, branches.front(), branches.back());
    if (!owns)
      return false;
    rows = carryAccumulators(rows, accumulators, owns);
    if (writesMemory(rows))
      return false;
    mergeEqualBranches(rows);
    shareCommonSubexpressions(kernel);
    kernel->setAttr("ncl.gpu_launch", b.getStringAttr("member_tiles"));
    kernel->setAttr("ncl.gpu_member_tile", b.getI64IntegerAttr(tileSize));
    kernel->setAttr("ncl.gpu_dense_sum", b.getUnitAttr());
    return true;
  }

  /// Adds the member-tiled forms (buildMemberTiles) of a dense sum's
  /// `kernel` beside it, one per tile size of model_abi.h (`<kernel>_tiles`
  /// for 4 members, `<kernel>_tiles8` and `<kernel>_tiles16`), and names
  /// them in the kernel's `ncl.gpu_tiles`; the runtime launches one of them
  /// (docs/gpu.md, "Member tiles"). None where that form cannot be built.
  void addMemberTiles(StageOp stage, func::FuncOp kernel) {
    if (kernel->hasAttr("ncl.gpu_tiles"))
      return;
    static constexpr ncl_gpu_member_tile_form forms[] = NCL_GPU_MEMBER_TILE_FORMS;
    OpBuilder b(kernel);
    b.setInsertionPointAfter(kernel);
    llvm::SmallVector<func::FuncOp> built;
    for (const ncl_gpu_member_tile_form &form : forms) {
      auto tiles = cast<func::FuncOp>(b.clone(*kernel));
      tiles.setSymName((kernel.getSymName() + form.suffix).str());
      llvm::SmallVector<StageOp> stages = stagesOf[kernel];
      stagesOf[tiles] = stages;
      built.push_back(tiles);
      if (!buildMemberTiles(stage, tiles, form.members)) {
        // Every size or none (model_abi.h): they differ only in the tile.
        for (func::FuncOp copy : built) {
          stagesOf.erase(copy);
          copy.erase();
        }
        return;
      }
    }
    kernel->setAttr("ncl.gpu_tiles",
                    b.getArrayAttr(llvm::map_to_vector(built, [](func::FuncOp tiles) -> Attribute {
                      return FlatSymbolRefAttr::get(tiles.getSymNameAttr());
                    })));
  }

  /// Splits a deliver that updates presynaptic traces in two (docs/gpu.md):
  /// `kernel`, a thread per postsynaptic index, computes each arriving
  /// spike's trace values from the memory before the launch, in registers,
  /// and applies the spike to its synapses onto the thread's neuron;
  /// `<kernel>_commit`, launched after it, stores the traces, a thread per
  /// spike. Both compute what the CPU kernel does as long as no neuron
  /// arrives twice in one list: a neuron spikes at most once per step, and
  /// a network that refuses batch members (`batch_refusal`) never lists
  /// b * n + i beside i. False, with the reason, where it cannot split.
  bool splitTraceCommit(StageOp stage, func::FuncOp kernel, mlir::ncl::NetworkOp network,
                        std::string &why) {
    if (!network.getBatchRefusalAttr()) {
      why = "the network may run batch members (it has no batch_refusal), whose spikes of one "
            "presynaptic neuron would update its traces more than once in one list";
      return false;
    }
    scf::ForOp loop = onlyListLoop(stage, kernel, "num_spikes", why);
    if (!loop)
      return false;
    llvm::SmallPtrSet<Value, 4> traces = preTraceArguments(stage, kernel, network);
    if (!keepTracesInRegisters(loop, traces, /*apply=*/false, why))
      return false;
    scf::ForOp commitLoop;
    func::FuncOp commit = buildTraceCommit(stage, kernel, network, commitLoop, why);
    if (!commit)
      return false;
    keepTracesInRegisters(loop, traces, /*apply=*/true, why);
    mapPerSpike(commit, commitLoop);
    mapKernel(stage, kernel, /*onThreadZero=*/false);
    OpBuilder b(kernel.getContext());
    kernel->setAttr("ncl.gpu_launch", b.getStringAttr("per_index_commit"));
    kernel->setAttr("ncl.gpu_commit", FlatSymbolRefAttr::get(commit.getSymNameAttr()));
    return true;
  }

  /// A thread per entry of the list: thread g runs the spikes loop for
  /// entry g alone, where g < num_spikes.
  void mapPerSpike(func::FuncOp kernel, scf::ForOp loop) {
    OpBuilder b(kernel.getContext());
    Location loc = kernel.getLoc();
    kernel->setAttr("ncl.gpu_launch", b.getStringAttr("per_spike"));
    b.setInsertionPoint(loop);
    Value g = globalThreadIndex(b, loc);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value next = arith::AddIOp::create(b, loc, g, one);
    Value last = arith::MinSIOp::create(b, loc, next, loop.getUpperBound());
    // [g, min(g + 1, num_spikes)): empty past the list's end.
    loop.getLowerBoundMutable().assign(g);
    loop.getUpperBoundMutable().assign(last);
  }

  /// A thread per postsynaptic neuron j = begin + g of [begin, end): it
  /// runs the list loop over the entries whose synapse ends at j, which the
  /// runtime's list (sorted by postsynaptic neuron, stably) holds together.
  /// The list begins with the starts of its buckets of
  /// NCL_GPU_TARGET_BUCKET neurons (NCL_GPU_LAUNCH_PER_TARGET_BUCKETS), so
  /// the thread searches only the entries of its bucket k = g / 32, places
  /// [list[k], list[k + 1]): [lower_bound(j), lower_bound(j + 1)) there, the
  /// second galloped from the first (a neuron has few entries). The
  /// kernel reads the list through a view that covers the starts too.
  void mapPerTarget(StageOp stage, func::FuncOp kernel, scf::ForOp loop, Value postIndex) {
    OpBuilder b(kernel.getContext());
    Location loc = kernel.getLoc();
    mapKernel(stage, kernel, /*onThreadZero=*/false); // j = begin, j < end, guarded
    kernel->setAttr("ncl.gpu_launch", b.getStringAttr("per_target_buckets"));
    BlockArgument begin = headerArgument(stage, kernel, "begin");
    BlockArgument end = headerArgument(stage, kernel, "end");
    BlockArgument list = headerArgument(stage, kernel, "synapses");
    b.setInsertionPoint(loop);
    // After mapKernel, `begin`'s one use is begin + g: the thread's neuron.
    Value j, g;
    for (Operation *user : begin.getUsers())
      if (auto add = dyn_cast<arith::AddIOp>(user); add && add.getLhs() == begin) {
        j = add.getResult();
        g = add.getRhs();
      }
    Type indexType = b.getIndexType();
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value bucketSize = arith::ConstantIndexOp::create(b, loc, NCL_GPU_TARGET_BUCKET);
    // B + 1 starts and the entries: B = ceil((end - begin) / 32).
    Value range = arith::SubIOp::create(b, loc, end, begin);
    Value buckets = arith::CeilDivUIOp::create(b, loc, range, bucketSize);
    Value count = loop.getUpperBound();
    Value size = arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, buckets, one), count);
    auto listType = cast<MemRefType>(list.getType());
    Value whole = memref::ReinterpretCastOp::create(b, loc, listType, list, b.getIndexAttr(0),
                                                    ArrayRef<OpFoldResult>{size},
                                                    ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    list.replaceAllUsesExcept(whole, whole.getDefiningOp());
    Value k = arith::DivUIOp::create(b, loc, g, bucketSize);
    auto start = [&](Value at) {
      return arith::IndexCastOp::create(b, loc, indexType,
                                        memref::LoadOp::create(b, loc, whole, ValueRange{at}));
    };
    Value lo = start(k);
    Value hi = start(arith::AddIOp::create(b, loc, k, one));
    Value first = lowerBound(b, loc, whole, postIndex, lo, hi, j);
    Value next = arith::AddIOp::create(b, loc, j, one);
    Value last = gallopingLowerBound(b, loc, whole, postIndex, first, hi, next);
    loop.getLowerBoundMutable().assign(first);
    loop.getUpperBoundMutable().assign(last);
  }

  void mapKernel(StageOp stage, func::FuncOp kernel, bool onThreadZero) {
    OpBuilder b(kernel.getContext());
    Block &body = kernel.getBody().front();
    Operation *originalFirst = &body.front();
    Location loc = kernel.getLoc();
    b.setInsertionPointToStart(&body);
    Value g = globalThreadIndex(b, loc);
    Value inRange;
    if (onThreadZero) {
      kernel->setAttr("ncl.gpu_launch", b.getStringAttr("whole_range"));
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, g, zero);
    } else {
      kernel->setAttr("ncl.gpu_launch", b.getStringAttr("per_index"));
      BlockArgument begin = headerArgument(stage, kernel, "begin");
      BlockArgument end = headerArgument(stage, kernel, "end");
      Value first = arith::AddIOp::create(b, loc, begin, g);
      inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, first, end);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value next = arith::AddIOp::create(b, loc, first, one);
      begin.replaceAllUsesExcept(first, first.getDefiningOp());
      end.replaceAllUsesExcept(next, inRange.getDefiningOp());
    }
    // The CPU kernel starts its own count at 0 (each CPU thread has its own
    // header); a launch's threads share one count, which the runtime sets
    // to 0 before the launch, so no thread may reset it.
    if (BlockArgument results = headerArgument(stage, kernel, "results"))
      for (Operation *user : llvm::make_early_inc_range(results.getUsers())) {
        auto store = dyn_cast<memref::StoreOp>(user);
        if (store && store->getBlock() == &body && store.getMemRef() == results &&
            matchPattern(store.getValue(), m_Zero()) && store.getIndices().size() == 1 &&
            matchPattern(store.getIndices()[0], m_Zero()))
          store.erase();
      }
    // The kernel's own work runs only where the thread has some.
    guardBody(b, kernel, originalFirst, inRange);
  }
};

} // namespace
