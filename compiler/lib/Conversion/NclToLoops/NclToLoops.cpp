//===- NclToLoops.cpp - Populations to loops over steps and neurons -------===//
//
// Builds the two kernels of every population (see ConvertNclToLoops in
// Passes.td) in a target-independent form: a loop over steps around an
// `scf.parallel` over neurons, into which the population's per-neuron
// program is moved. Each ncl op left in it is then rewritten by its own
// conversion pattern (populateNclToLoopsPatterns) into arith, math, memref
// and scf; the ncl dialect is illegal, so an op without a pattern is an
// error at its line. Spikes are counted with `memref.atomic_rmw` on the
// kernel's result cell and appended at the slot it returns, which is right
// on any parallel target; the CPU schedule (ncl-cpu-schedule) turns that
// into a sequential count, blocks and lanes.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"
#include "ncl/Conversion/Philox.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Utils/Phi.h"
#include "ncl/Target/KernelABI.h"
#include "ncl/random_streams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::ncl {
#define GEN_PASS_DEF_CONVERTNCLTOLOOPS
#include "ncl/Conversion/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using namespace mlir::ncl;

//===----------------------------------------------------------------------===//
// ncl.exp_euler
//===----------------------------------------------------------------------===//

namespace {
/// x + h*phi(z)*(a + b*x), z = b*h, phi(z) = expm1(z)/z (buildPhi: 1 + z/2
/// near 0, where the quotient loses digits). The increment form keeps the fixed point at -a/b to
/// the rounding of x in float32 too (see the op's description).
struct ExpEulerLowering : public OpRewritePattern<ExpEulerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpEulerOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value h = op.getH();
    Value z = arith::MulFOp::create(rewriter, loc, op.getB(), h);
    Value phi = buildPhi(rewriter, loc, z, PhiSeries::Linear);
    Value gain = arith::MulFOp::create(rewriter, loc, h, phi);
    Value rate = arith::AddFOp::create(rewriter, loc, op.getA(),
                                       arith::MulFOp::create(rewriter, loc, op.getB(), op.getX()));
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, op.getX(),
                                               arith::MulFOp::create(rewriter, loc, gain, rate));
    return success();
  }
};
} // namespace

void mlir::ncl::populateExpEulerLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpEulerLowering>(patterns.getContext());
}

//===----------------------------------------------------------------------===//
// What the per-neuron patterns read: the kernel around them
//===----------------------------------------------------------------------===//

namespace {

/// Values of the loop nest a neuron's program was moved into.
struct NeuronLoop {
  mutable PopulationOp pop;                   ///< an op handle: its accessors are not const
  Value neuron;                               ///< index in the population
  Value step, nextStep;                       ///< i64: n, and n + 1 where a spike is stored
  Value dt64, seed, size;                     ///< f64, i64, index
  Value params, refractory;                   ///< memref<?xf64>, memref<?xi32>
  SmallVector<Value> vars;                    ///< by variable index
  Value results;                              ///< memref<2xi64>: [0] counts spikes (atomically)
  Value spikeStep, spikeIndex, spikeChannel;  ///< a recorded population's record
  llvm::StringMap<Value> inputs;              ///< synaptic inputs by received variable
  llvm::StringMap<Value> series, seriesShape; ///< timed inputs' samples and shapes by input
  Value lastSpike;                 ///< memref<?xi32>: set when spikes are stored in a second pass
  Operation *entryPoint = nullptr; ///< parameters are loaded before it
  /// A fused k-WTA (ncl.kwta_key): the op, its order, duty and key buffers.
  mutable KwtaOp kwta;
  Value kwtaOrder, kwtaDuty, kwtaKey;
  /// A spike gate's keys kernel: the program only looks. Synaptic inputs are
  /// read and not cleared, a release does not store, and a threshold only
  /// says whether the neuron crosses, free (docs/pipeline.md, "ncl-fuse").
  bool peek = false;
  /// memref<?xreal>: in the update of a population whose k-WTA gates its
  /// spikes, 1 where the neuron may spike in this step, else 0.
  Value spikeGate;
};

/// Values of the loop nest a synapse's program (a projection's init,
/// on_pre or summed) was moved into.
struct SynapseLoop {
  mutable ProjectionOp projection;
  mutable PopulationOp pre, post;       ///< the endpoints, whose parameters the program may read
  Value preParams, postParams;          ///< their parameter buffers (memref<?xf64>), where passed
  Value synapse, preNeuron, postNeuron; ///< index: the synapse, its pre- and postsynaptic neurons
  /// index: where the batch member of a batched stage starts in the pre-
  /// and postsynaptic per-neuron buffers (b * N_pre, b * N_post); null for
  /// stages that touch member 0 only (connect, condition) or run unbatched.
  Value preOffset, postOffset;
  Value step;              ///< i64: the step (NCL's synapse-init step in `connect`)
  Value dt64, seed;        ///< f64, i64
  Value params;            ///< memref<?xf64>
  SmallVector<Value> vars; ///< per-synapse variables by index
  Value delays;            ///< memref<?xi16>: per-synapse delays in steps (connect only)
  llvm::StringMap<Value> preVars, postVars, postInputs;
  llvm::StringMap<Value> preTraces, postTraces; ///< per-neuron traces (memref<?xreal>) by name
  llvm::StringMap<Value> preTracesNow, postTracesNow; ///< their values at the step's time
  Operation *entryPoint = nullptr;                    ///< parameters are loaded before it
  Value mask;      ///< `condition`: memref<?xi32>, by post - postBegin
  Value postBegin; ///< `condition`: index, the range's first neuron
};

} // namespace

/// The loops of the kernels being built, by the op that holds the program:
/// neuron loops (scf.parallel) and synapse loops.
struct mlir::ncl::NeuronLoops {
  llvm::DenseMap<Operation *, NeuronLoop> loops;
  llvm::DenseMap<Operation *, SynapseLoop> synapses;
};

namespace {

/// A pattern for one ncl op inside a neuron loop.
template <typename OpT> struct NeuronOpLowering : public OpConversionPattern<OpT> {
  NeuronOpLowering(MLIRContext *ctx, const NeuronLoops &loops)
      : OpConversionPattern<OpT>(ctx), loops(loops) {}

  const NeuronLoop *loopOf(Operation *op) const {
    for (Operation *p = op->getParentOp(); p; p = p->getParentOp())
      if (auto it = loops.loops.find(p); it != loops.loops.end())
        return &it->second;
    return nullptr;
  }

  LogicalResult matchAndRewrite(OpT op, typename OpConversionPattern<OpT>::OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const final {
    const NeuronLoop *loop = loopOf(op);
    if (!loop)
      return rewriter.notifyMatchFailure(op, "not inside a neuron loop");
    return lower(op, adaptor, *loop, rewriter);
  }

  virtual LogicalResult lower(OpT op, typename OpConversionPattern<OpT>::OpAdaptor adaptor,
                              const NeuronLoop &loop,
                              ConversionPatternRewriter &rewriter) const = 0;

  const NeuronLoops &loops;
};

Value asReal(OpBuilder &b, Location loc, Value v, Type type) {
  return v.getType() == type ? v : Value(arith::TruncFOp::create(b, loc, type, v));
}

Value indexToReal(OpBuilder &b, Location loc, Value i, Type type) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), i);
  return arith::SIToFPOp::create(b, loc, type, i64);
}

/// k of a k-WTA over `n` neurons (index): `keep`, or floor(fraction * n +
/// 0.5) in f64, as the runtime computes it.
Value emitKwtaWinners(OpBuilder &b, Location loc, KwtaOp kwta, Value n) {
  if (std::optional<int64_t> keep = kwta.getKeep())
    return arith::ConstantIndexOp::create(b, loc, *keep);
  Type f64 = b.getF64Type();
  auto constant = [&](double v) {
    return arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f64), APFloat(v));
  };
  Value scaled = arith::MulFOp::create(b, loc, indexToReal(b, loc, n, f64),
                                       constant(kwta.getFraction()->convertToDouble()));
  Value rounded =
      math::FloorOp::create(b, loc, arith::AddFOp::create(b, loc, scaled, constant(0.5)));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                    arith::FPToSIOp::create(b, loc, b.getI64Type(), rounded));
}

/// The boosted key of a neuron with value `v` and duty cycle `d`:
/// v * exp(beta * (k/N - d)), k/N in f64 rounded once to v's type. The
/// selection and, when fused, the update loop compute it by this one
/// function, so both give the same bits.
Value emitBoostedKey(OpBuilder &b, Location loc, KwtaOp kwta, Value v, Value d, Value k, Value n) {
  auto type = cast<FloatType>(v.getType());
  APFloat beta(kwta.getBoost()->convertToDouble());
  bool lost;
  beta.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
  Value boost = arith::ConstantFloatOp::create(b, loc, type, beta);
  Type f64 = b.getF64Type();
  Value target = asReal(
      b, loc,
      arith::DivFOp::create(b, loc, indexToReal(b, loc, k, f64), indexToReal(b, loc, n, f64)),
      type);
  Value z = arith::MulFOp::create(b, loc, boost, arith::SubFOp::create(b, loc, target, d));
  return arith::MulFOp::create(b, loc, v, math::ExpOp::create(b, loc, z));
}

/// The neuron's index i within its batch member: the loop runs over the
/// whole batch, neuron i of member b at b * N + i (docs/semantics.md,
/// "Batches"), so i = that index mod N. Emitted only where a program reads
/// i (the index `i`, per-neuron parameters' draws), so a kernel that does
/// not pays no division.
Value memberLocalIndex(OpBuilder &b, Location loc, const NeuronLoop &loop) {
  return arith::RemUIOp::create(b, loc, loop.neuron, loop.size);
}

/// `neuron` moved by `offset` into the batch member's part of a per-neuron
/// buffer (no offset: member 0).
Value inMember(OpBuilder &b, Location loc, Value neuron, Value offset) {
  return offset ? Value(arith::AddIOp::create(b, loc, neuron, offset)) : neuron;
}

/// Replaces `op` by element `index` of the parameter buffer `params`,
/// loaded once per kernel call, before `entryPoint` (the loops).
void replaceByParam(ConversionPatternRewriter &rewriter, ParamOp op, Operation *entryPoint,
                    Value params, int64_t index) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(entryPoint);
  Location loc = op.getLoc();
  Value at = arith::ConstantIndexOp::create(rewriter, loc, index);
  Value v = memref::LoadOp::create(rewriter, loc, params, ValueRange{at});
  rewriter.replaceOp(op, asReal(rewriter, loc, v, op.getType()));
}

/// Replaces `op` by t_n = n * dt from the integer step index, in f64, then
/// rounded once.
void replaceByTime(ConversionPatternRewriter &rewriter, TimeOp op, Value step, Value dt64) {
  Location loc = op.getLoc();
  Value n = arith::SIToFPOp::create(rewriter, loc, rewriter.getF64Type(), step);
  Value time = arith::MulFOp::create(rewriter, loc, n, dt64);
  rewriter.replaceOp(op, asReal(rewriter, loc, time, op.getType()));
}

/// Replaces `op` by a Philox draw keyed by (seed, step, entity, stream);
/// docs/random.md.
void replaceByDraw(ConversionPatternRewriter &rewriter, RandOp op, Value seed, Value step,
                   Value entity) {
  Location loc = op.getLoc();
  auto words =
      emitPhiloxDraw(rewriter, loc, seed, step, entity, static_cast<uint32_t>(op.getStream()));
  auto type = cast<FloatType>(op.getType());
  rewriter.replaceOp(op, op.getNormal() ? emitNormal(rewriter, loc, words, type)
                                        : emitUniform01(rewriter, loc, words, type));
}

/// Replaces `op` by a Poisson count keyed by (seed, step, entity, stream),
/// computed in f64 (emitPoisson; docs/random.md, "poisson()").
void replaceByPoissonDraw(ConversionPatternRewriter &rewriter, PoissonOp op, Value mean, Value seed,
                          Value step, Value entity) {
  Location loc = op.getLoc();
  Type f64 = rewriter.getF64Type();
  Value mean64 =
      mean.getType() == f64 ? mean : Value(arith::ExtFOp::create(rewriter, loc, f64, mean));
  Value count =
      emitPoisson(rewriter, loc, seed, step, entity, static_cast<uint32_t>(op.getStream()), mean64);
  rewriter.replaceOp(op, asReal(rewriter, loc, count, op.getType()));
}

/// ncl.param: loaded once per kernel call, before the loops.
struct ParamLowering : NeuronOpLowering<ParamOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(ParamOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByParam(rewriter, op, loop.entryPoint, loop.params, loop.pop.paramIndex(op.getName()));
    return success();
  }
};

struct StateReadLowering : NeuronOpLowering<StateReadOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(StateReadOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Value var = loop.vars[loop.pop.varIndex(op.getVar())];
    rewriter.replaceOpWithNewOp<memref::LoadOp>(op, var, ValueRange{loop.neuron});
    return success();
  }
};

struct StateWriteLowering : NeuronOpLowering<StateWriteOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(StateWriteOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Value var = loop.vars[loop.pop.varIndex(op.getVar())];
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, adaptor.getValue(), var,
                                                 ValueRange{loop.neuron});
    return success();
  }
};

/// The run's dt (the kernel's f64 argument) in the op's type.
struct DtLowering : NeuronOpLowering<DtOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(DtOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, asReal(rewriter, op.getLoc(), loop.dt64, op.getType()));
    return success();
  }
};

/// t_n = n * dt from the integer step index, in f64, then rounded once.
struct TimeLowering : NeuronOpLowering<TimeOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(TimeOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByTime(rewriter, op, loop.step, loop.dt64);
    return success();
  }
};

struct NeuronIndexLowering : NeuronOpLowering<NeuronIndexOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(NeuronIndexOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op, indexToReal(rewriter, loc, memberLocalIndex(rewriter, loc, loop), op.getType()));
    return success();
  }
};

struct PopulationSizeLowering : NeuronOpLowering<PopulationSizeOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(PopulationSizeOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, indexToReal(rewriter, op.getLoc(), loop.size, op.getType()));
    return success();
  }
};

/// A Philox draw keyed by (seed, step, neuron, stream); docs/random.md. The
/// neuron is its index in the whole batch, or with `shared` (per-neuron
/// parameters) its index in its member, so that every member draws alike.
struct RandLowering : NeuronOpLowering<RandOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(RandOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Value entity = op.getShared() ? memberLocalIndex(rewriter, op.getLoc(), loop) : loop.neuron;
    replaceByDraw(rewriter, op, loop.seed, loop.step, entity);
    return success();
  }
};

/// A Poisson count keyed by (seed, step, neuron, stream).
struct PoissonLowering : NeuronOpLowering<PoissonOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(PoissonOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByPoissonDraw(rewriter, op, adaptor.getMean(), loop.seed, loop.step, loop.neuron);
    return success();
  }
};

/// Refractory while the step's start is before refractory_until (compared
/// as i32, the counters' width, so that it vectorises in the lanes of f32
/// state); `release` frees the neuron from this step on.
struct IsRefractoryLowering : NeuronOpLowering<IsRefractoryOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(IsRefractoryOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value step32 = arith::TruncIOp::create(rewriter, loc, rewriter.getI32Type(), loop.step);
    Value until = memref::LoadOp::create(rewriter, loc, loop.refractory, ValueRange{loop.neuron});
    // Compared in the state's width (sign-extended, the same order): a flag
    // as wide as an f64 lane blends f64 state without widening the mask.
    Value lhs = until, rhs = step32;
    if (llvm::any_of(loop.vars, [](Value v) {
          return v && cast<MemRefType>(v.getType()).getElementType().isF64();
        })) {
      lhs = arith::ExtSIOp::create(rewriter, loc, rewriter.getI64Type(), until);
      rhs = arith::ExtSIOp::create(rewriter, loc, rewriter.getI64Type(), step32);
    }
    Value refractory = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, lhs, rhs);
    if (Value release = adaptor.getRelease()) {
      Value released = arith::AndIOp::create(rewriter, loc, refractory, release);
      refractory = arith::XOrIOp::create(rewriter, loc, refractory, released);
      if (!loop.peek) {
        until = arith::SelectOp::create(rewriter, loc, released, step32, until);
        memref::StoreOp::create(rewriter, loc, until, loop.refractory, ValueRange{loop.neuron});
      }
    }
    rewriter.replaceOp(op, refractory);
    return success();
  }
};

/// `where ? raised : old` for an i32 counter that is never negative, where
/// `raised` is above `old` whenever `where` holds: max(old, where ? raised :
/// 0). A select between a new value and the one loaded from the address it
/// is stored back to becomes a masked store on x86 (vpmaskmovd), which
/// costs more than the rest of a LIF neuron's step on AMD cores; the
/// maximum compiles to a blend and an ordinary store. (With INT32_MIN
/// instead of 0, LLVM folds the maximum back into the select.)
Value keepOrRaise(OpBuilder &b, Location loc, Value where, Value raised, Value old) {
  Value zero = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  Value candidate = arith::SelectOp::create(b, loc, where, raised, zero);
  return arith::MaxSIOp::create(b, loc, old, candidate);
}

/// Counts an entry where `fired` holds (atomically: neurons may run in
/// parallel) and, in a recorded population, stores (n + 1, i, channel) at
/// the slot the count gave. Events of an unrecorded population just act.
void emitRecord(OpBuilder &b, Location loc, const NeuronLoop &loop, Value fired, int64_t channel) {
  // Spikes are stored for the record and for projections; events only
  // for the record.
  bool record = loop.pop.getRecordSpikes() || (channel == 0 && loop.pop.getEmitsSpikes());
  if (channel != 0 && !record)
    return;
  scf::IfOp::create(b, loc, fired, [&](OpBuilder &, Location) {
    Value one = arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value slot64 = memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addi, one,
                                               loop.results, ValueRange{c0});
    if (record) {
      Value slot = arith::IndexCastOp::create(b, loc, b.getIndexType(), slot64);
      memref::StoreOp::create(b, loc, loop.nextStep, loop.spikeStep, ValueRange{slot});
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), loop.neuron);
      memref::StoreOp::create(b, loc, i64, loop.spikeIndex, ValueRange{slot});
      Value c = arith::ConstantIntOp::create(b, loc, b.getI32Type(), channel);
      memref::StoreOp::create(b, loc, c, loop.spikeChannel, ValueRange{slot});
    }
    scf::YieldOp::create(b, loc);
  });
}

struct ThresholdLowering : NeuronOpLowering<ThresholdOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(ThresholdOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value fired = adaptor.getCondition();
    if (Value refractory = adaptor.getRefractory()) {
      Value one = arith::ConstantIntOp::create(rewriter, loc, rewriter.getI1Type(), 1);
      Value free = arith::XOrIOp::create(rewriter, loc, refractory, one);
      fired = arith::AndIOp::create(rewriter, loc, fired, free);
    }
    if (loop.peek) {
      rewriter.replaceOp(op, fired);
      return success();
    }
    // Of the neurons that cross, only the k-WTA's winners spike.
    if (loop.spikeGate) {
      Value gate = memref::LoadOp::create(rewriter, loc, loop.spikeGate, ValueRange{loop.neuron});
      Value zero =
          arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(gate.getType(), 0));
      Value open = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::ONE, gate, zero);
      fired = arith::AndIOp::create(rewriter, loc, fired, open);
    }
    if (loop.lastSpike) {
      // Marked here, branch-free; the step's second loop stores them. The
      // old mark is 0 or at most n, below n + 1 (keepOrRaise).
      Value next32 = arith::TruncIOp::create(rewriter, loc, rewriter.getI32Type(), loop.nextStep);
      Value old = memref::LoadOp::create(rewriter, loc, loop.lastSpike, ValueRange{loop.neuron});
      Value mark = keepOrRaise(rewriter, loc, fired, next32, old);
      memref::StoreOp::create(rewriter, loc, mark, loop.lastSpike, ValueRange{loop.neuron});
    } else {
      emitRecord(rewriter, loc, loop, fired, 0);
    }
    rewriter.replaceOp(op, fired);
    return success();
  }
};

struct EventLowering : NeuronOpLowering<EventOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(EventOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    emitRecord(rewriter, op.getLoc(), loop, adaptor.getCondition(), op.getChannelAttr().getInt());
    rewriter.replaceOp(op, adaptor.getCondition());
    return success();
  }
};

/// A value that is NaN or infinite is not reset: it stays in the state,
/// where the runtime finds it after the step (the run stops there, naming
/// the step) instead of a reset hiding it. Branch-free.
struct ResetLowering : public OpConversionPattern<ResetOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ResetOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value old = adaptor.getValue();
    // x - x is 0 exactly where x is finite (NaN otherwise): one subtraction
    // against the zero register, where |x| < inf holds two constants in
    // registers that the update loop is short of.
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(old.getType(), 0.0));
    Value finite = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OEQ,
                                         arith::SubFOp::create(rewriter, loc, old, old), zero);
    Value apply = arith::AndIOp::create(rewriter, loc, adaptor.getFired(), finite);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, apply, adaptor.getResetValue(), old);
    return success();
  }
};

/// Free again at the step starting `duration` (rounded to steps) after
/// t + dt; without a duration, until released.
struct RefractoryLowering : NeuronOpLowering<RefractoryOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(RefractoryOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value nextStep32 = arith::TruncIOp::create(rewriter, loc, rewriter.getI32Type(), loop.nextStep);
    Value until;
    if (Value duration = adaptor.getDuration())
      until = refractoryEnd(rewriter, loc, duration,
                            asReal(rewriter, loc, loop.dt64, duration.getType()), nextStep32);
    else
      until = arith::ConstantIntOp::create(rewriter, loc, rewriter.getI32Type(), INT32_MAX);
    // A neuron that fired was free: its counter (0 at the start, never
    // negative) is at most n, below until (keepOrRaise).
    Value current = memref::LoadOp::create(rewriter, loc, loop.refractory, ValueRange{loop.neuron});
    Value next = keepOrRaise(rewriter, loc, adaptor.getFired(), until, current);
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, next, loop.refractory,
                                                 ValueRange{loop.neuron});
    return success();
  }

  /// The step at which a neuron that spiked in the step ending at
  /// `nextStep32` is free again: nextStep32 + roundeven(duration / dt),
  /// saturated to [nextStep32, INT32_MAX]. A period longer than the steps
  /// left (even infinite) holds the neuron for the rest of the run; a
  /// negative or NaN one (refused by nclc and the runtime where it is a
  /// parameter) does not hold it. The clamp happens in f64, where every
  /// i32 is exact, so the conversion and the addition cannot overflow.
  static Value refractoryEnd(OpBuilder &b, Location loc, Value duration, Value dt,
                             Value nextStep32) {
    Type f64 = b.getF64Type();
    Value steps = arith::DivFOp::create(b, loc, duration, dt);
    if (steps.getType() != f64)
      steps = arith::ExtFOp::create(b, loc, f64, steps);
    steps = math::RoundEvenOp::create(b, loc, steps);
    Value int32Max = arith::ConstantIntOp::create(b, loc, b.getI32Type(), INT32_MAX);
    Value stepsLeft = arith::SubIOp::create(b, loc, int32Max, nextStep32);
    Value zero = arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f64), APFloat(0.0));
    // maxnumf(NaN, 0) is 0.
    steps = arith::MaxNumFOp::create(b, loc, steps, zero);
    steps =
        arith::MinNumFOp::create(b, loc, steps, arith::SIToFPOp::create(b, loc, f64, stepsLeft));
    Value n = arith::FPToSIOp::create(b, loc, b.getI32Type(), steps);
    return arith::AddIOp::create(b, loc, nextStep32, n);
  }
};

/// What arrived for this neuron's variable in this step: read, then cleared
/// for the deliveries of later steps (not while peeking: the update reads
/// it again).
struct SynapticInputLowering : NeuronOpLowering<SynapticInputOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(SynapticInputOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value buffer = loop.inputs.lookup(op.getVar());
    if (!buffer)
      return rewriter.notifyMatchFailure(op, "no synaptic-input buffer");
    Value sum = memref::LoadOp::create(rewriter, loc, buffer, ValueRange{loop.neuron});
    if (!loop.peek) {
      Value zero =
          arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(sum.getType(), 0));
      memref::StoreOp::create(rewriter, loc, zero, buffer, ValueRange{loop.neuron});
    }
    rewriter.replaceOp(op, sum);
    return success();
  }
};

/// The input side of a fused k-WTA: the selection's starting order (each
/// neuron its own index) and, with boosting, the key.
struct KwtaKeyLowering : NeuronOpLowering<KwtaKeyOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(KwtaKeyOp op, OpAdaptor adaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    if (!loop.kwta || !loop.kwtaOrder || (loop.kwta.getBoost() && !loop.kwtaKey))
      return rewriter.notifyMatchFailure(op, "no fused k-WTA buffers");
    Location loc = op.getLoc();
    Value neuron = loop.neuron;
    memref::StoreOp::create(
        rewriter, loc, arith::IndexCastOp::create(rewriter, loc, rewriter.getI32Type(), neuron),
        loop.kwtaOrder, ValueRange{neuron});
    if (loop.kwta.getBoost()) {
      Value d = memref::LoadOp::create(rewriter, loc, loop.kwtaDuty, ValueRange{neuron});
      Value k = emitKwtaWinners(rewriter, loc, loop.kwta, loop.size);
      Value key = emitBoostedKey(rewriter, loc, loop.kwta, adaptor.getValue(), d, k, loop.size);
      memref::StoreOp::create(rewriter, loc, key, loop.kwtaKey, ValueRange{neuron});
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// This step's sample of a timed input: sample min(n / r, rows - 1) of the
/// neuron's column, or of the only one (docs/semantics.md, "Sources").
struct TimedInputLowering : NeuronOpLowering<TimedInputOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(TimedInputOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value samples = loop.series.lookup(op.getInput());
    Value shape = loop.seriesShape.lookup(op.getInput());
    if (!samples || !shape)
      return rewriter.notifyMatchFailure(op, "no series buffers");
    Type i64 = rewriter.getI64Type();
    auto shapeAt = [&](int64_t k) {
      return memref::LoadOp::create(rewriter, loc, shape,
                                    ValueRange{arith::ConstantIndexOp::create(rewriter, loc, k)});
    };
    Value stepsPerSample = shapeAt(0), rows = shapeAt(1), columns = shapeAt(2);
    Value one = arith::ConstantIntOp::create(rewriter, loc, i64, 1);
    Value row = arith::MinSIOp::create(
        rewriter, loc, arith::DivSIOp::create(rewriter, loc, loop.step, stepsPerSample),
        arith::SubIOp::create(rewriter, loc, rows, one));
    Value neuron = arith::IndexCastOp::create(rewriter, loc, i64, loop.neuron);
    Value shared = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, columns, one);
    Value column = arith::SelectOp::create(
        rewriter, loc, shared, arith::ConstantIntOp::create(rewriter, loc, i64, 0), neuron);
    Value at = arith::AddIOp::create(rewriter, loc,
                                     arith::MulIOp::create(rewriter, loc, row, columns), column);
    Value position = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), at);
    rewriter.replaceOpWithNewOp<memref::LoadOp>(op, samples, ValueRange{position});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Synapse programs
//===----------------------------------------------------------------------===//

/// A pattern for one ncl op inside a synapse loop.
template <typename OpT> struct SynapseOpLowering : public OpConversionPattern<OpT> {
  SynapseOpLowering(MLIRContext *ctx, const NeuronLoops &loops)
      : OpConversionPattern<OpT>(ctx), loops(loops) {}

  LogicalResult matchAndRewrite(OpT op, typename OpConversionPattern<OpT>::OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const final {
    for (Operation *p = op->getParentOp(); p; p = p->getParentOp())
      if (auto it = loops.synapses.find(p); it != loops.synapses.end())
        return lower(op, adaptor, it->second, rewriter);
    return rewriter.notifyMatchFailure(op, "not inside a synapse loop");
  }

  virtual LogicalResult lower(OpT op, typename OpConversionPattern<OpT>::OpAdaptor adaptor,
                              const SynapseLoop &loop,
                              ConversionPatternRewriter &rewriter) const = 0;

  const NeuronLoops &loops;
};

/// A projection's shared parameter, loaded once per call.
struct SynapseParamLowering : SynapseOpLowering<ParamOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(ParamOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByParam(rewriter, op, loop.entryPoint, loop.params,
                   loop.projection.paramIndex(op.getName()));
    return success();
  }
};

/// Where synapse `synapse`'s value of a variable is in its buffer: the
/// per-synapse variables of a projection are interleaved, one record of
/// `vars` values per synapse (docs/runtime.md, "Synapse records"), and each
/// variable's buffer starts at its place in the first record.
Value synapseRecordIndex(OpBuilder &b, Location loc, const SynapseLoop &loop, Value synapse) {
  int64_t stride = static_cast<int64_t>(loop.projection.getVars().size());
  if (stride == 1)
    return synapse;
  return arith::MulIOp::create(b, loc, synapse, arith::ConstantIndexOp::create(b, loc, stride));
}

struct SynapseReadLowering : SynapseOpLowering<SynapseReadOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(SynapseReadOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Value var = loop.vars[loop.projection.varIndex(op.getVar())];
    Value at = synapseRecordIndex(rewriter, op.getLoc(), loop, loop.synapse);
    rewriter.replaceOpWithNewOp<memref::LoadOp>(op, var, ValueRange{at});
    return success();
  }
};

struct SynapseWriteLowering : SynapseOpLowering<SynapseWriteOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(SynapseWriteOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Value var = loop.vars[loop.projection.varIndex(op.getVar())];
    Value at = synapseRecordIndex(rewriter, op.getLoc(), loop, loop.synapse);
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, adaptor.getValue(), var, ValueRange{at});
    return success();
  }
};

template <typename OpT, bool Pre> struct EndpointReadLowering : SynapseOpLowering<OpT> {
  using SynapseOpLowering<OpT>::SynapseOpLowering;
  LogicalResult lower(OpT op, typename OpConversionPattern<OpT>::OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    if (Value var = (Pre ? loop.preVars : loop.postVars).lookup(op.getVar())) {
      Value at = inMember(rewriter, op.getLoc(), Pre ? loop.preNeuron : loop.postNeuron,
                          Pre ? loop.preOffset : loop.postOffset);
      rewriter.replaceOpWithNewOp<memref::LoadOp>(op, var, ValueRange{at});
      return success();
    }
    // A parameter or input of the population: its value, loaded once.
    PopulationOp pop = Pre ? loop.pre : loop.post;
    Value params = Pre ? loop.preParams : loop.postParams;
    int64_t index = pop ? pop.paramIndex(op.getVar()) : -1;
    if (index < 0 || !params)
      return rewriter.notifyMatchFailure(op, "variable not passed to the kernel");
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(loop.entryPoint);
    Location loc = op.getLoc();
    Value at = arith::ConstantIndexOp::create(rewriter, loc, index);
    Value v = memref::LoadOp::create(rewriter, loc, params, ValueRange{at});
    rewriter.replaceOp(op, asReal(rewriter, loc, v, op.getType()));
    return success();
  }
};

/// Adds to the postsynaptic neuron's synaptic-input sum where the
/// population receives the variable through one, else to the state
/// variable itself. The thread that runs a delivery owns its range of
/// postsynaptic neurons, so no atomics.
struct PostAddLowering : SynapseOpLowering<PostAddOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(PostAddOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value buffer = loop.postInputs.lookup(op.getVar());
    if (!buffer)
      buffer = loop.postVars.lookup(op.getVar());
    if (!buffer)
      return rewriter.notifyMatchFailure(op, "no buffer for the variable");
    Value at = inMember(rewriter, loc, loop.postNeuron, loop.postOffset);
    Value old = memref::LoadOp::create(rewriter, loc, buffer, ValueRange{at});
    Value sum = arith::AddFOp::create(rewriter, loc, old, adaptor.getValue());
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, sum, buffer, ValueRange{at});
    return success();
  }
};

/// A condition's verdict for the pair: 1 or 0 in the row's connect mask.
struct AcceptLowering : SynapseOpLowering<AcceptOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(AcceptOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    if (!loop.mask)
      return rewriter.notifyMatchFailure(op, "not in a condition kernel");
    Location loc = op.getLoc();
    Value verdict =
        arith::ExtUIOp::create(rewriter, loc, rewriter.getI32Type(), adaptor.getAccepted());
    Value k = arith::SubIOp::create(rewriter, loc, loop.postNeuron, loop.postBegin);
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, verdict, loop.mask, ValueRange{k});
    return success();
  }
};

/// Where trace op `op` reads or writes: its per-neuron buffer and the
/// synapse's pre- or postsynaptic neuron (null where the kernel has none).
template <typename OpT>
std::pair<Value, Value> traceElement(OpT op, const SynapseLoop &loop, bool now = false) {
  bool pre = op.getSide() == TraceSide::Pre;
  const llvm::StringMap<Value> &traces = now ? (pre ? loop.preTracesNow : loop.postTracesNow)
                                             : (pre ? loop.preTraces : loop.postTraces);
  return {traces.lookup(op.getVar()), pre ? loop.preNeuron : loop.postNeuron};
}

/// A trace of the synapse's pre- or postsynaptic neuron: element i (j) of
/// its per-neuron buffer, or (`now`) of the buffer its advance kernel filled.
struct TraceReadLowering : SynapseOpLowering<TraceReadOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(TraceReadOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    auto [trace, neuron] = traceElement(op, loop, op.getNow());
    if (!trace || !neuron)
      return rewriter.notifyMatchFailure(op, "trace or neuron not passed to the kernel");
    rewriter.replaceOpWithNewOp<memref::LoadOp>(op, trace, ValueRange{neuron});
    return success();
  }
};

struct TraceWriteLowering : SynapseOpLowering<TraceWriteOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(TraceWriteOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    auto [trace, neuron] = traceElement(op, loop);
    if (!trace || !neuron)
      return rewriter.notifyMatchFailure(op, "trace or neuron not passed to the kernel");
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, adaptor.getValue(), trace, ValueRange{neuron});
    return success();
  }
};

template <typename OpT, bool Pre> struct EndpointIndexLowering : SynapseOpLowering<OpT> {
  using SynapseOpLowering<OpT>::SynapseOpLowering;
  LogicalResult lower(OpT op, typename OpConversionPattern<OpT>::OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, indexToReal(rewriter, op.getLoc(),
                                       Pre ? loop.preNeuron : loop.postNeuron, op.getType()));
    return success();
  }
};

struct SynapseDtLowering : SynapseOpLowering<DtOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(DtOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, asReal(rewriter, op.getLoc(), loop.dt64, op.getType()));
    return success();
  }
};

struct SynapseTimeLowering : SynapseOpLowering<TimeOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(TimeOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByTime(rewriter, op, loop.step, loop.dt64);
    return success();
  }
};

/// A synapse's own delay: seconds / dt rounded to the nearest step, ties to
/// even, in f64 as the runtime rounds a shared delay (docs/semantics.md),
/// stored as an unsigned 16-bit step count; a delay that is negative, NaN
/// or beyond NCL_MAX_DELAY_STEPS becomes NCL_DELAY_INVALID for the runtime
/// to report.
struct SynapseDelayLowering : SynapseOpLowering<SynapseDelayOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(SynapseDelayOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    if (!loop.delays)
      return rewriter.notifyMatchFailure(op, "no per-synapse delay buffer");
    Location loc = op.getLoc();
    Type f64 = rewriter.getF64Type();
    Value seconds = adaptor.getValue();
    if (seconds.getType() != f64)
      seconds = arith::ExtFOp::create(rewriter, loc, f64, seconds);
    Value steps = math::RoundEvenOp::create(
        rewriter, loc, arith::DivFOp::create(rewriter, loc, seconds, loop.dt64));
    auto constant = [&](double v) {
      return arith::ConstantOp::create(rewriter, loc, rewriter.getF64FloatAttr(v));
    };
    // Ordered comparisons: NaN fails both.
    Value nonNegative =
        arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGE, seconds, constant(0));
    Value fits = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OLE, steps,
                                       constant(NCL_MAX_DELAY_STEPS));
    Value valid = arith::AndIOp::create(rewriter, loc, nonNegative, fits);
    Value stored =
        arith::SelectOp::create(rewriter, loc, valid, steps, constant(NCL_DELAY_INVALID));
    Value bits = arith::FPToUIOp::create(rewriter, loc, rewriter.getIntegerType(16), stored);
    rewriter.replaceOpWithNewOp<memref::StoreOp>(op, bits, loop.delays, ValueRange{loop.synapse});
    return success();
  }
};

/// A Philox draw keyed by (seed, step, synapse, stream): the synapse index
/// is the entity (docs/random.md).
struct SynapseRandLowering : SynapseOpLowering<RandOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(RandOp op, OpAdaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByDraw(rewriter, op, loop.seed, loop.step, loop.synapse);
    return success();
  }
};

/// A Poisson count keyed by (seed, step, synapse, stream).
struct SynapsePoissonLowering : SynapseOpLowering<PoissonOp> {
  using SynapseOpLowering::SynapseOpLowering;
  LogicalResult lower(PoissonOp op, OpAdaptor adaptor, const SynapseLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    replaceByPoissonDraw(rewriter, op, adaptor.getMean(), loop.seed, loop.step, loop.synapse);
    return success();
  }
};

} // namespace

void mlir::ncl::populateNclToLoopsPatterns(RewritePatternSet &patterns, const NeuronLoops &loops) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ParamLowering, StateReadLowering, StateWriteLowering, DtLowering, TimeLowering,
               NeuronIndexLowering, PopulationSizeLowering, RandLowering, PoissonLowering,
               IsRefractoryLowering, ThresholdLowering, EventLowering, RefractoryLowering,
               SynapticInputLowering, TimedInputLowering, KwtaKeyLowering>(ctx, loops);
  patterns.add<SynapseParamLowering, SynapseReadLowering, SynapseWriteLowering,
               EndpointReadLowering<PreReadOp, true>, EndpointReadLowering<PostReadOp, false>,
               PostAddLowering, EndpointIndexLowering<PreIndexOp, true>,
               EndpointIndexLowering<PostIndexOp, false>, SynapseDtLowering, SynapseTimeLowering,
               SynapseRandLowering, SynapseDelayLowering, AcceptLowering, SynapsePoissonLowering,
               TraceReadLowering, TraceWriteLowering>(ctx, loops);
  patterns.add<ResetLowering>(ctx);
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

namespace {

/// Appends header fields, by their names in KernelABI.h, to a kernel's
/// argument types and its stage's `args`.
void appendHeaderArgs(OpBuilder &b, SmallVector<Type> &types, SmallVector<Attribute> &args,
                      std::initializer_list<StringRef> fields) {
  for (StringRef field : fields) {
    std::optional<unsigned> f = ::ncl::abi::headerField(field);
    assert(f && "a field of ncl_kernel_args");
    switch (::ncl::abi::kHeaderFields[*f].kind) {
    case ::ncl::abi::FieldKind::Index:
      types.push_back(b.getIndexType());
      break;
    case ::ncl::abi::FieldKind::I64:
      types.push_back(b.getI64Type());
      break;
    case ::ncl::abi::FieldKind::F64:
      types.push_back(b.getF64Type());
      break;
    case ::ncl::abi::FieldKind::Results:
      types.push_back(MemRefType::get({2}, b.getI64Type()));
      break;
    case ::ncl::abi::FieldKind::Spikes:
      types.push_back(MemRefType::get({ShapedType::kDynamic}, b.getI32Type()));
      break;
    case ::ncl::abi::FieldKind::Synapses:
      types.push_back(MemRefType::get({ShapedType::kDynamic}, b.getI64Type()));
      break;
    case ::ncl::abi::FieldKind::Pointer:
      llvm_unreachable("the table is passed as buffers");
    }
    args.push_back(b.getStringAttr(field));
  }
}

/// Builds a population's two kernels around its moved program and records
/// their neuron loops for the patterns.
class KernelBuilder {
public:
  KernelBuilder(PopulationOp pop, NetworkOp network, OpBuilder &builder, NeuronLoops &loops)
      : pop(pop), b(builder), loc(pop.getLoc()), ctx(pop.getContext()), loops(loops) {
    realType = network.getReal();
    // This population's buffers, by role: their index in the network's table.
    for (auto [k, a] : llvm::enumerate(network.getBuffersAttr())) {
      auto buffer = cast<BufferAttr>(a);
      if (buffer.getPopulation().getValue() != pop.getSymName())
        continue;
      switch (buffer.getRole()) {
      case BufferRole::Params:
        paramsBuffer = k;
        break;
      case BufferRole::State:
        varBuffers[buffer.getIndex()] = k;
        break;
      case BufferRole::Refractory:
        refractoryBuffer = k;
        break;
      case BufferRole::SpikeStep:
        spikeBuffers[0] = k;
        break;
      case BufferRole::SpikeIndex:
        spikeBuffers[1] = k;
        break;
      case BufferRole::SpikeChannel:
        spikeBuffers[2] = k;
        break;
      case BufferRole::SynapticInput:
        inputBuffers[buffer.getIndex()] = k;
        break;
      case BufferRole::LastSpike:
        lastSpikeBuffer = k;
        break;
      case BufferRole::Series:
        seriesBuffers[buffer.getIndex()].first = k;
        break;
      case BufferRole::SeriesShape:
        seriesBuffers[buffer.getIndex()].second = k;
        break;
      case BufferRole::RowStart:
      case BufferRole::PostIndex:
      case BufferRole::SynapseState:
      case BufferRole::SynapseDelay:
      case BufferRole::ColumnStart:
      case BufferRole::ColumnSynapse:
      case BufferRole::ConnectMask:
        break; // a projection's
      case BufferRole::KwtaOrder:
        kwtaOrderBuffer = k;
        break;
      case BufferRole::KwtaDuty:
        kwtaDutyBuffer = k;
        break;
      case BufferRole::KwtaKey:
        kwtaKeyBuffer = k;
        break;
      }
    }
  }

  /// The buffer-table entries and header fields (KernelABI.h) each kernel
  /// argument is, for the descriptor's entry points; `keysArgs` only where
  /// the population's k-WTA gates its spikes.
  ArrayAttr initArgs, updateArgs, keysArgs;

  LogicalResult build() {
    WalkResult unintegrated = pop.walk([](OdeOp ode) {
      ode.emitOpError("must be integrated before ncl-to-loops; run ncl-integrate first");
      return WalkResult::interrupt();
    });
    if (unintegrated.wasInterrupted())
      return failure();
    buildInit();
    // The keys kernel copies the step program that the update then moves.
    if (KwtaOp gate = spikeGate(); gate && failed(buildKwtaKeys(gate)))
      return failure();
    return buildUpdate();
  }

  /// The population's k-WTA where it gates the spikes, else null.
  KwtaOp spikeGate() {
    for (KwtaOp kwta : pop->getParentOfType<NetworkOp>().getBody().getOps<KwtaOp>())
      if (kwta.getPopulation() == pop.getSymName() && kwta.gatesSpikes())
        return kwta;
    return {};
  }

private:
  MemRefType dyn(Type t) { return MemRefType::get({ShapedType::kDynamic}, t); }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// params, vars..., refractory_until: the population's buffers, in the
  /// table's order; `args` gets their table indices.
  /// With `withRecord`, also the synaptic inputs, the timed inputs and,
  /// unless `withSpikes` is false, the spike record.
  SmallVector<Type> bufferArgs(SmallVector<Attribute> &args, bool withRecord,
                               bool withSpikes = true) {
    SmallVector<Type> types{dyn(b.getF64Type())};
    args.push_back(b.getI64IntegerAttr(paramsBuffer));
    for (size_t i = 0; i < pop.getVars().size(); ++i) {
      types.push_back(dyn(realType));
      args.push_back(b.getI64IntegerAttr(varBuffers.lookup(i)));
    }
    types.push_back(dyn(b.getI32Type()));
    args.push_back(b.getI64IntegerAttr(refractoryBuffer));
    if (withRecord && withSpikes && storesSpikes()) {
      types.append({dyn(b.getI64Type()), dyn(b.getI64Type()), dyn(b.getI32Type())});
      for (int64_t k : spikeBuffers)
        args.push_back(b.getI64IntegerAttr(k));
      types.push_back(dyn(b.getI32Type()));
      args.push_back(b.getI64IntegerAttr(lastSpikeBuffer));
    }
    if (withRecord)
      for (size_t i = 0; i < inputBuffers.size(); ++i) {
        types.push_back(dyn(realType));
        args.push_back(b.getI64IntegerAttr(inputBuffers.lookup(i)));
      }
    if (withRecord)
      for (size_t i = 0; i < seriesBuffers.size(); ++i) {
        types.append({dyn(realType), dyn(b.getI64Type())});
        args.push_back(b.getI64IntegerAttr(seriesBuffers.lookup(i).first));
        args.push_back(b.getI64IntegerAttr(seriesBuffers.lookup(i).second));
      }
    return types;
  }

  /// Whether the update stores its spikes: for the record or for projections.
  bool storesSpikes() { return pop.getRecordSpikes() || pop.getEmitsSpikes(); }

  void headerArgs(SmallVector<Type> &types, SmallVector<Attribute> &args,
                  std::initializer_list<StringRef> fields) {
    appendHeaderArgs(b, types, args, fields);
  }

  /// A kernel function; the values of its arguments by name.
  func::FuncOp makeFunc(StringRef suffix, ArrayRef<Type> types, ArrayAttr args, NeuronLoop &loop) {
    auto type = FunctionType::get(ctx, types, {});
    auto f = func::FuncOp::create(b, loc, ("ncl_" + pop.getSymName() + "_" + suffix).str(), type);
    f->setAttr("ncl.kernel", b.getStringAttr(suffix));
    Block *entry = f.addEntryBlock();
    loop.pop = pop;
    for (auto [k, a] : llvm::enumerate(args)) {
      Value v = entry->getArgument(k);
      if (auto field = dyn_cast<StringAttr>(a)) {
        header[field.getValue()] = v;
        continue;
      }
      int64_t buffer = cast<IntegerAttr>(a).getInt();
      if (buffer == paramsBuffer)
        loop.params = v;
      else if (buffer == refractoryBuffer)
        loop.refractory = v;
      else if (buffer == spikeBuffers[0])
        loop.spikeStep = v;
      else if (buffer == spikeBuffers[1])
        loop.spikeIndex = v;
      else if (buffer == spikeBuffers[2])
        loop.spikeChannel = v;
      else if (buffer == lastSpikeBuffer)
        lastSpike = v;
      else if (buffer == kwtaOrderBuffer)
        kwtaOrder = v;
      else if (buffer == kwtaDutyBuffer)
        kwtaDuty = v;
      else if (buffer == kwtaKeyBuffer)
        kwtaKey = v;
      else if (std::optional<int64_t> input = receivedBy(buffer))
        loop.inputs[cast<StringAttr>((*pop.getReceives())[*input]).getValue()] = v;
      else if (std::optional<std::pair<int64_t, bool>> series = seriesOf(buffer)) {
        StringRef name = cast<TimedInputAttr>((*pop.getTimedInputs())[series->first]).getInput();
        (series->second ? loop.seriesShape : loop.series)[name] = v;
      } else
        loop.vars.push_back(v);
    }
    loop.dt64 = header.lookup("dt");
    loop.seed = header.lookup("seed");
    loop.size = header.lookup("size");
    loop.results = header.lookup("results");
    return f;
  }

public:
  /// The kernel of `ncl.kwta`, run on one thread over the whole population
  /// after its update: a quickselect finds the k-th winner in the order
  /// "larger key first, then lower index", then one pass keeps every neuron
  /// at or before it in that order and zeroes (or resets) the others.
  ///
  /// A spike gate (`kwta.gatesSpikes()`) is the kernel `ncl_<P>_kwta_gate`
  /// instead: the keys kernel filled the order and the keys (-inf for a
  /// neuron that does not cross), and the pass writes 1 into `kwta_key` for
  /// a winner that crosses and 0 for every other neuron.
  LogicalResult buildKwta(KwtaOp kwta) {
    bool gate = kwta.gatesSpikes();
    // Fused (ncl-fuse): the update filled the order and, with boosting,
    // computed the keys.
    bool keysComputed = gate || (kwta.getFused() && kwta.getBoost());
    bool orderFilled = gate || kwta.getFused();
    if (kwtaOrderBuffer < 0 || (kwta.getBoost() && kwtaDutyBuffer < 0) ||
        (keysComputed && kwtaKeyBuffer < 0))
      return kwta.emitOpError("has no kwta buffers; run ncl-allocate-buffers first");
    SmallVector<Attribute> argNames;
    SmallVector<Type> types = bufferArgs(argNames, false);
    if (gate)
      appendGateBuffers(types, argNames);
    else
      appendKwtaBuffers(kwta, types, argNames);
    headerArgs(types, argNames, {"size", "seed", "first_step", "dt", "batch"});
    kwtaArgs = b.getArrayAttr(argNames);
    NeuronLoop loop;
    header.clear();
    func::FuncOp f = makeFunc(gate ? "kwta_gate" : "kwta", types, kwtaArgs, loop);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    Type idx = b.getIndexType(), i32 = b.getI32Type(), f64 = b.getF64Type();
    Value c0 = index(0), c1 = index(1), n = loop.size;
    Value values = loop.vars[pop.varIndex(kwta.getVar())];
    Value order = kwtaOrder;
    Value step = header["first_step"];

    // k from the run's size, as the runtime computes it (it refuses k = 0
    // and k > N before a run).
    Value k = emitKwtaWinners(b, loc, kwta, n);

    // The key of neuron i: its value, or with boosting its value times
    // exp(beta * (k/N - duty_i)), computed here or, fused, by the update.
    auto keyOf = [&](Value i) -> Value {
      if (keysComputed)
        return memref::LoadOp::create(b, loc, kwtaKey, ValueRange{i});
      Value v = memref::LoadOp::create(b, loc, values, ValueRange{i});
      if (!kwta.getBoost())
        return v;
      Value d = memref::LoadOp::create(b, loc, kwtaDuty, ValueRange{i});
      return emitBoostedKey(b, loc, kwta, v, d, k, n);
    };
    // a before b: a larger key, or an equal one at a lower index.
    auto before = [&](Value ka, Value a, Value kb, Value bIndex) -> Value {
      Value larger = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, ka, kb);
      Value equal = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, ka, kb);
      Value lower = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, a, bIndex);
      return arith::OrIOp::create(b, loc, larger, arith::AndIOp::create(b, loc, equal, lower));
    };
    auto load = [&](Value at) -> Value {
      return arith::IndexCastOp::create(b, loc, idx,
                                        memref::LoadOp::create(b, loc, order, ValueRange{at}));
    };
    auto store = [&](Value neuron, Value at) {
      memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, i32, neuron), order,
                              ValueRange{at});
    };

    // Each batch member is a row of N neurons, b * N to (b + 1) * N, with
    // its own k winners (docs/semantics.md, "Batches"): the selection below
    // runs on the row's neurons, ordered by their index in the batch, which
    // within a row is the order of their index i.
    auto members = scf::ForOp::create(b, loc, c0, header["batch"], c1);
    members->setAttr("ncl.loop", b.getStringAttr("kwta-members"));
    b.setInsertionPoint(members.getBody()->getTerminator());
    Value rowBegin = arith::MulIOp::create(b, loc, members.getInductionVar(), n);
    Value rowEnd = arith::AddIOp::create(b, loc, rowBegin, n);

    // order = the row's neurons in index order (fused: the update's work;
    // a gate: the keys kernel's).
    if (!orderFilled)
      scf::ForOp::create(b, loc, rowBegin, rowEnd, c1, ValueRange{},
                         [&](OpBuilder &, Location, Value i, ValueRange) {
                           store(i, i);
                           scf::YieldOp::create(b, loc);
                         });
    // Quickselect of position k - 1 in [lo, hi): a median-of-three pivot,
    // a Lomuto partition (keys are distinct: ties go by index), then the
    // side that holds k - 1.
    Value targetPos = arith::AddIOp::create(b, loc, rowBegin, arith::SubIOp::create(b, loc, k, c1));
    auto select = scf::WhileOp::create(
        b, loc, TypeRange{idx, idx}, ValueRange{rowBegin, rowEnd},
        [&](OpBuilder &, Location, ValueRange range) {
          Value width = arith::SubIOp::create(b, loc, range[1], range[0]);
          Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, width, c1);
          scf::ConditionOp::create(b, loc, more, range);
        },
        [&](OpBuilder &, Location, ValueRange range) {
          Value lo = range[0], hi = range[1];
          Value last = arith::SubIOp::create(b, loc, hi, c1);
          Value half =
              arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, hi, lo), index(2));
          Value mid = arith::AddIOp::create(b, loc, lo, half);
          Value a = load(lo), m = load(mid), z = load(last);
          Value ka = keyOf(a), km = keyOf(m), kz = keyOf(z);
          Value am = before(ka, a, km, m), mz = before(km, m, kz, z), az = before(ka, a, kz, z);
          // The median of the three positions' neurons in the order.
          Value ifAm = arith::SelectOp::create(b, loc, mz, mid,
                                               arith::SelectOp::create(b, loc, az, last, lo));
          Value ifMa = arith::SelectOp::create(b, loc, az, lo,
                                               arith::SelectOp::create(b, loc, mz, last, mid));
          Value pivotPos = arith::SelectOp::create(b, loc, am, ifAm, ifMa);
          Value pivot = load(pivotPos);
          store(z, pivotPos);
          store(pivot, last);
          Value kp = keyOf(pivot);
          // Branch-free Lomuto (Alexandrescu): [lo, fill) is ahead of the
          // pivot and [fill, j) behind it, so swapping j with fill always
          // keeps that, and fill moves on only past a neuron that is ahead.
          // The ahead-or-not branch would be mispredicted half the time.
          auto partition = scf::ForOp::create(
              b, loc, lo, last, c1, ValueRange{lo},
              [&](OpBuilder &, Location, Value j, ValueRange fill) {
                Value e = load(j);
                Value ahead = before(keyOf(e), e, kp, pivot);
                store(load(fill[0]), j);
                store(e, fill[0]);
                Value step = arith::IndexCastOp::create(
                    b, loc, idx, arith::ExtUIOp::create(b, loc, b.getI64Type(), ahead));
                scf::YieldOp::create(b, loc,
                                     ValueRange{arith::AddIOp::create(b, loc, fill[0], step)});
              });
          Value place = partition.getResult(0);
          store(load(place), last);
          store(pivot, place);
          // Keep the side of the pivot's place that holds position k - 1.
          Value found = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, place, targetPos);
          Value right = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, place, targetPos);
          Value afterPlace = arith::AddIOp::create(b, loc, place, c1);
          Value newLo = arith::SelectOp::create(
              b, loc, found, targetPos, arith::SelectOp::create(b, loc, right, afterPlace, lo));
          Value newHi =
              arith::SelectOp::create(b, loc, found, arith::AddIOp::create(b, loc, targetPos, c1),
                                      arith::SelectOp::create(b, loc, right, hi, place));
          scf::YieldOp::create(b, loc, ValueRange{newLo, newHi});
        });
    select->setAttr("ncl.loop", b.getStringAttr("kwta-select"));
    Value kth = load(targetPos);
    Value kthKey = keyOf(kth);

    // Every neuron at or before the k-th in the order wins; the others are
    // zeroed or reset. With boosting, each duty cycle moves towards this
    // step's outcome: d += (won - d) / min(period, n + 1).
    Value rate;
    if (kwta.getBoost()) {
      Value steps = arith::SIToFPOp::create(
          b, loc, f64,
          arith::AddIOp::create(b, loc, step,
                                arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1)));
      Value period = arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f64),
                                                    APFloat(kwta.getPeriod()->convertToDouble()));
      rate = asReal(b, loc, arith::MinimumFOp::create(b, loc, period, steps), realType);
    }
    auto apply = scf::ForOp::create(b, loc, rowBegin, rowEnd, c1);
    apply->setAttr("ncl.loop", b.getStringAttr("kwta-apply"));
    {
      OpBuilder::InsertionGuard body(b);
      b.setInsertionPoint(apply.getBody()->getTerminator());
      Value i = apply.getInductionVar();
      Value won = before(keyOf(i), i, kthKey, kth);
      Value kept = arith::OrIOp::create(
          b, loc, won, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, i, kth));
      if (gate) {
        // A winner whose key is -inf did not cross: with fewer crossers
        // than k, every crosser spikes and nothing else does.
        Value key = keyOf(i);
        Value crossed =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, key, negativeInfinity());
        Value open = arith::AndIOp::create(b, loc, kept, crossed);
        memref::StoreOp::create(
            b, loc, arith::SelectOp::create(b, loc, open, realConstant(1.0), realConstant(0.0)),
            kwtaKey, ValueRange{i});
      }
      if (kwta.getBoost()) {
        Value d = memref::LoadOp::create(b, loc, kwtaDuty, ValueRange{i});
        Value one = realConstant(1.0), zero = realConstant(0.0);
        Value outcome = arith::SelectOp::create(b, loc, kept, one, zero);
        Value moved = arith::AddFOp::create(
            b, loc, d,
            arith::DivFOp::create(b, loc, arith::SubFOp::create(b, loc, outcome, d), rate));
        memref::StoreOp::create(b, loc, moved, kwtaDuty, ValueRange{i});
      }
      if (gate) {
        // The losers keep their values: nothing to change.
      } else if (kwta.getReset().empty()) {
        Value x = memref::LoadOp::create(b, loc, values, ValueRange{i});
        Value zero = realConstant(0.0);
        memref::StoreOp::create(b, loc, arith::SelectOp::create(b, loc, kept, x, zero), values,
                                ValueRange{i});
      } else {
        Value lost = arith::XOrIOp::create(b, loc, kept,
                                           arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
        auto reset = scf::IfOp::create(b, loc, lost, /*withElseRegion=*/false);
        Block *then = reset.thenBlock();
        moveProgram(kwta.getReset(), then);
        loop.neuron = i;
        loop.step = step;
        loop.nextStep = arith::AddIOp::create(
            b, loc, step, arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1));
        loop.entryPoint = apply;
        loops.loops[reset] = loop;
      }
    }
    b.setInsertionPointAfter(members);
    func::ReturnOp::create(b, loc);
    return success();
  }

  /// The buffer-table entries and header fields of the kwta kernel.
  ArrayAttr kwtaArgs;

  /// The k-WTA's buffers, for its kernel or a fused update: the order, with
  /// boosting the duty cycles, and fused and boosted the keys.
  void appendKwtaBuffers(KwtaOp kwta, SmallVector<Type> &types, SmallVector<Attribute> &args) {
    types.push_back(dyn(b.getI32Type()));
    args.push_back(b.getI64IntegerAttr(kwtaOrderBuffer));
    if (!kwta.getBoost())
      return;
    types.push_back(dyn(realType));
    args.push_back(b.getI64IntegerAttr(kwtaDutyBuffer));
    if (!kwta.getFused())
      return;
    types.push_back(dyn(realType));
    args.push_back(b.getI64IntegerAttr(kwtaKeyBuffer));
  }

  /// A spike gate's buffers, for its keys and gate kernels: the order and
  /// the keys (which the gate overwrites with 1 or 0).
  void appendGateBuffers(SmallVector<Type> &types, SmallVector<Attribute> &args) {
    types.append({dyn(b.getI32Type()), dyn(realType)});
    args.push_back(b.getI64IntegerAttr(kwtaOrderBuffer));
    args.push_back(b.getI64IntegerAttr(kwtaKeyBuffer));
  }

  Value negativeInfinity() {
    auto type = cast<FloatType>(realType);
    return arith::ConstantFloatOp::create(b, loc, type,
                                          APFloat::getInf(type.getFloatSemantics(), true));
  }

  /// `value` rounded once to the state's precision.
  Value realConstant(double value) {
    auto type = cast<FloatType>(realType);
    APFloat v(value);
    bool lost;
    v.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return arith::ConstantFloatOp::create(b, loc, type, v);
  }

private:
  /// The timed input whose samples (false) or shape (true) `buffer` holds.
  std::optional<std::pair<int64_t, bool>> seriesOf(int64_t buffer) {
    for (auto [input, k] : seriesBuffers)
      if (k.first == buffer || k.second == buffer)
        return std::make_pair(input, k.second == buffer);
    return std::nullopt;
  }

  /// The received variable whose synaptic-input buffer is `buffer`, if any.
  std::optional<int64_t> receivedBy(int64_t buffer) {
    for (auto [input, k] : inputBuffers)
      if (k == buffer)
        return input;
    return std::nullopt;
  }

  /// Moves `region`'s program into `body` (before its terminator).
  void moveProgram(Region &region, Block *body) {
    Block &program = region.front();
    body->getOperations().splice(body->getTerminator()->getIterator(), program.getOperations());
  }

  /// scf.parallel over [begin, end), marked as the neuron loop.
  scf::ParallelOp neuronLoop(Value begin, Value end) {
    auto loop =
        scf::ParallelOp::create(b, loc, ValueRange{begin}, ValueRange{end}, ValueRange{index(1)});
    loop->setAttr("ncl.loop", b.getStringAttr("neurons"));
    return loop;
  }

  void buildInit() {
    SmallVector<Attribute> argNames;
    SmallVector<Type> types = bufferArgs(argNames, false);
    headerArgs(types, argNames, {"begin", "end", "size", "seed", "dt"});
    initArgs = b.getArrayAttr(argNames);
    NeuronLoop loop;
    header.clear();
    func::FuncOp f = makeFunc("init", types, initArgs, loop);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    // Initial values draw with a step no simulation step uses (2^64 - 1).
    loop.step = arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                             static_cast<int64_t>(NCL_RANDOM_INIT_STEP));
    loop.nextStep = loop.step;
    Value zero32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
    scf::ParallelOp neurons = neuronLoop(header["begin"], header["end"]);
    loop.neuron = neurons.getInductionVars()[0];
    loop.entryPoint = neurons;
    moveProgram(pop.getInit(), neurons.getBody());
    b.setInsertionPoint(neurons.getBody()->getTerminator());
    memref::StoreOp::create(b, loc, zero32, loop.refractory, ValueRange{loop.neuron});
    b.setInsertionPointAfter(neurons);
    func::ReturnOp::create(b, loc);
    loops.loops[neurons] = loop;
  }

  /// The keys kernel of a k-WTA that gates the population's spikes, run by
  /// every thread over its neurons [begin, end) in step `first_step` before
  /// any update of that step: a copy of the step program that only looks
  /// (`NeuronLoop::peek`), ending in key = the k-WTA variable's value before
  /// its reset where the neuron crosses its threshold and is free, else
  /// -inf, stored into `kwta_key`, and the neuron's index into `kwta_order`.
  /// Random draws are counter-based, so the copy draws what the update will.
  LogicalResult buildKwtaKeys(KwtaOp kwta) {
    if (kwtaOrderBuffer < 0 || kwtaKeyBuffer < 0)
      return kwta.emitOpError("has no kwta buffers; run ncl-allocate-buffers first");
    SmallVector<Attribute> argNames;
    SmallVector<Type> types = bufferArgs(argNames, true, /*withSpikes=*/false);
    appendGateBuffers(types, argNames);
    headerArgs(types, argNames, {"begin", "end", "size", "seed", "first_step", "dt"});
    keysArgs = b.getArrayAttr(argNames);
    NeuronLoop loop;
    header.clear();
    func::FuncOp f = makeFunc("kwta_keys", types, keysArgs, loop);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    loop.peek = true;
    loop.step = header["first_step"];
    loop.nextStep = arith::AddIOp::create(b, loc, loop.step,
                                          arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1));
    scf::ParallelOp neurons = neuronLoop(header["begin"], header["end"]);
    neurons->setAttr("ncl.loop", b.getStringAttr("kwta-keys"));
    loop.neuron = neurons.getInductionVars()[0];
    loop.entryPoint = neurons;
    b.setInsertionPointAfter(neurons);
    func::ReturnOp::create(b, loc);

    Block *body = neurons.getBody();
    b.setInsertionPoint(body->getTerminator());
    IRMapping copies;
    for (Operation &op : pop.getStep().front())
      b.clone(op, copies);
    ThresholdOp threshold;
    StateWriteOp written;
    for (Operation &op : body->without_terminator()) {
      if (auto t = dyn_cast<ThresholdOp>(op))
        threshold = t;
      if (auto w = dyn_cast<StateWriteOp>(op); w && w.getVar() == kwta.getVar())
        written = w;
    }
    if (!threshold)
      return kwta.emitOpError("gates the spikes of @")
             << pop.getSymName() << ", whose step has no ncl.threshold";
    // The value after integration and update, before the reset: through
    // the resets of the written value (a variable the step never writes
    // keeps its value).
    Value value;
    if (written) {
      value = written.getValue();
      while (auto reset = value.getDefiningOp<ResetOp>())
        value = reset.getValue();
    } else {
      OpBuilder::InsertionGuard atStart(b);
      b.setInsertionPointToStart(body);
      value = StateReadOp::create(b, loc, realType, kwta.getVar());
    }
    Value key = arith::SelectOp::create(b, loc, threshold.getFired(), value, negativeInfinity());
    memref::StoreOp::create(b, loc, key, kwtaKey, ValueRange{loop.neuron});
    memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), loop.neuron),
                            kwtaOrder, ValueRange{loop.neuron});
    // What the update changes stays in the update.
    SmallVector<Operation *> effects;
    body->walk([&](Operation *op) {
      if (isa<StateWriteOp, RefractoryOp, EventOp, KwtaKeyOp>(op))
        effects.push_back(op);
    });
    for (Operation *op : effects) {
      if (auto event = dyn_cast<EventOp>(op))
        event.getHappened().replaceAllUsesWith(event.getCondition());
      op->erase();
    }
    loops.loops[neurons] = loop;
    return success();
  }

  /// Steps outside, neurons inside. A recorded population stops at a step
  /// boundary rather than overflow its spike buffer: each neuron records at
  /// most one spike and one of each event a step.
  LogicalResult buildUpdate() {
    SmallVector<Attribute> argNames;
    SmallVector<Type> types = bufferArgs(argNames, true);
    // A fused k-WTA's input side runs in the update loop (ncl-fuse).
    KwtaOp fusedKwta;
    if (!pop.getStep().empty() && !pop.getStep().getOps<KwtaKeyOp>().empty())
      for (KwtaOp kwta : pop->getParentOfType<NetworkOp>().getBody().getOps<KwtaOp>())
        if (kwta.getPopulation() == pop.getSymName() && kwta.getFused())
          fusedKwta = kwta;
    if (fusedKwta) {
      if (kwtaOrderBuffer < 0 || (fusedKwta.getBoost() && kwtaKeyBuffer < 0))
        return fusedKwta.emitOpError("has no kwta buffers; run ncl-allocate-buffers first");
      appendKwtaBuffers(fusedKwta, types, argNames);
    }
    // A spike gate: the threshold reads this step's gate (kwta_key).
    KwtaOp gate = spikeGate();
    if (gate) {
      if (kwtaKeyBuffer < 0)
        return gate.emitOpError("has no kwta buffers; run ncl-allocate-buffers first");
      types.push_back(dyn(realType));
      argNames.push_back(b.getI64IntegerAttr(kwtaKeyBuffer));
    }
    headerArgs(types, argNames,
               {"begin", "end", "size", "seed", "first_step", "num_steps", "spike_capacity",
                "results", "dt"});
    updateArgs = b.getArrayAttr(argNames);
    NeuronLoop loop;
    header.clear();
    func::FuncOp f = makeFunc("update", types, updateArgs, loop);
    if (fusedKwta) {
      loop.kwta = fusedKwta;
      loop.kwtaOrder = kwtaOrder;
      loop.kwtaDuty = kwtaDuty;
      loop.kwtaKey = kwtaKey;
    }
    if (gate)
      loop.spikeGate = kwtaKey;
    appendLoop = {};
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    Type i64 = b.getI64Type(), idx = b.getIndexType();
    Value c0 = index(0), c1 = index(1);
    Value begin = header["begin"], end = header["end"], numSteps = header["num_steps"];
    Value firstStep = header["first_step"], out = loop.results;
    memref::StoreOp::create(b, loc, arith::ConstantIntOp::create(b, loc, i64, 0), out,
                            ValueRange{c0});

    // Without recorded events, spikes are stored in two passes: the update
    // marks each neuron's last spike, branch-free (so the CPU vectorises it),
    // and a second loop appends the marked ones (ncl-cpu-schedule counts
    // them sequentially there). A population without a threshold (rate
    // units) never spikes, so it gets no second loop to scan.
    bool spikes = false;
    pop.getStep().walk([&](ThresholdOp) { spikes = true; });
    bool twoPass = spikes && storesSpikes() &&
                   !(pop.getRecordSpikes() && pop.getEvents() && !pop.getEvents()->empty());
    if (twoPass)
      loop.lastSpike = lastSpike;
    scf::ParallelOp neurons;
    auto stepBody = [&](Value s) {
      loop.step =
          arith::AddIOp::create(b, loc, firstStep, arith::IndexCastOp::create(b, loc, i64, s));
      loop.nextStep =
          arith::AddIOp::create(b, loc, loop.step, arith::ConstantIntOp::create(b, loc, i64, 1));
      neurons = neuronLoop(begin, end);
      if (!twoPass)
        return;
      neurons->setAttr("ncl.loop", b.getStringAttr("neuron-update"));
      OpBuilder::InsertionGuard afterGuard(b);
      b.setInsertionPointAfter(neurons);
      scf::ParallelOp append = neuronLoop(begin, end);
      b.setInsertionPoint(append.getBody()->getTerminator());
      NeuronLoop marked = loop;
      marked.neuron = append.getInductionVars()[0];
      Value next32 = arith::TruncIOp::create(b, loc, b.getI32Type(), loop.nextStep);
      Value last = memref::LoadOp::create(b, loc, lastSpike, ValueRange{marked.neuron});
      Value fired = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, last, next32);
      emitRecord(b, loc, marked, fired, 0);
      appendLoop = append;
    };
    auto stepEnd = [&]() -> Operation * {
      return appendLoop ? appendLoop.getOperation() : neurons.getOperation();
    };
    Value done;
    if (storesSpikes()) {
      int64_t channels = 1 + (pop.getEvents() ? static_cast<int64_t>(pop.getEvents()->size()) : 0);
      Value width = arith::SubIOp::create(b, loc, end, begin);
      Value perStep = channels == 1 ? width : arith::MulIOp::create(b, loc, width, index(channels));
      auto steps = scf::WhileOp::create(
          b, loc, TypeRange{idx}, ValueRange{c0},
          [&](OpBuilder &, Location, ValueRange iter) {
            Value more =
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, iter[0], numSteps);
            Value count = arith::IndexCastOp::create(
                b, loc, idx, memref::LoadOp::create(b, loc, out, ValueRange{c0}));
            Value need = arith::AddIOp::create(b, loc, count, perStep);
            Value room = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, need,
                                               header["spike_capacity"]);
            scf::ConditionOp::create(b, loc, arith::AndIOp::create(b, loc, more, room), iter);
          },
          [&](OpBuilder &, Location, ValueRange iter) {
            stepBody(iter[0]);
            b.setInsertionPointAfter(stepEnd());
            scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, iter[0], c1)});
          });
      steps->setAttr("ncl.loop", b.getStringAttr("steps"));
      done = steps.getResult(0);
    } else {
      auto steps = scf::ForOp::create(b, loc, c0, numSteps, c1, ValueRange{},
                                      [&](OpBuilder &, Location, Value s, ValueRange) {
                                        stepBody(s);
                                        b.setInsertionPointAfter(stepEnd());
                                        scf::YieldOp::create(b, loc);
                                      });
      steps->setAttr("ncl.loop", b.getStringAttr("steps"));
      done = numSteps;
    }
    b.setInsertionPointToEnd(&f.front());
    memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, i64, done), out,
                            ValueRange{c1});
    func::ReturnOp::create(b, loc);
    loop.neuron = neurons.getInductionVars()[0];
    // Parameters are loaded at the top, before the step loop.
    loop.entryPoint = neurons->getParentOp();
    moveProgram(pop.getStep(), neurons.getBody());
    loops.loops[neurons] = loop;
    return success();
  }

  PopulationOp pop;
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  Type realType;
  NeuronLoops &loops;
  int64_t paramsBuffer = -1, refractoryBuffer = -1;
  llvm::DenseMap<int64_t, int64_t> varBuffers;   ///< variable index -> buffer index
  int64_t spikeBuffers[3] = {-1, -1, -1};        ///< by role: step, index, channel
  llvm::DenseMap<int64_t, int64_t> inputBuffers; ///< received variable -> buffer index
  /// timed input -> its samples' and its shape's buffer indices
  llvm::DenseMap<int64_t, std::pair<int64_t, int64_t>> seriesBuffers;
  llvm::StringMap<Value> header; ///< the kernel's header arguments
  int64_t lastSpikeBuffer = -1;
  Value lastSpike; ///< the update kernel's last-spike argument
  int64_t kwtaOrderBuffer = -1, kwtaDutyBuffer = -1, kwtaKeyBuffer = -1;
  Value kwtaOrder, kwtaDuty, kwtaKey; ///< the k-WTA's scratch order, duty cycles and keys
  scf::ParallelOp appendLoop;         ///< the second pass of a two-pass update
};

/// Builds a projection's two kernels: `connect` gives every synapse of the
/// presynaptic rows [begin, end) its initial values once the runtime has
/// drawn the connectivity; `deliver` applies the spikes of the list
/// `spikes` to the postsynaptic neurons [begin, end) (the calling thread's),
/// in list order and, within a presynaptic neuron's row, in the order of
/// its synapses (ascending postsynaptic index), so that sums do not depend
/// on the thread count. A row's synapses for [begin, end) are found by two
/// binary searches in its sorted postsynaptic indices.
class ProjectionKernelBuilder {
public:
  ProjectionKernelBuilder(ProjectionOp projection, NetworkOp network, OpBuilder &builder,
                          NeuronLoops &loops, unsigned searchLaneCount)
      : projection(projection), network(network), b(builder), loc(projection.getLoc()),
        loops(loops), searchLaneCount(searchLaneCount) {
    realType = network.getReal();
    pre = network.lookupSymbol<PopulationOp>(projection.getPreAttr());
    post = network.lookupSymbol<PopulationOp>(projection.getPostAttr());
  }

  ArrayAttr connectArgs, deliverArgs, onPostArgs, sumArgs, synapseStepArgs, conditionArgs;
  ArrayAttr advancePreArgs, advancePostArgs;

  LogicalResult build() {
    for (auto [k, a] : llvm::enumerate(network.getBuffersAttr())) {
      auto buffer = cast<BufferAttr>(a);
      StringRef owner = buffer.getPopulation().getValue();
      int64_t index = static_cast<int64_t>(k);
      if (owner == projection.getSymName()) {
        if (buffer.getRole() == BufferRole::Params)
          paramsBuffer = index;
        else if (buffer.getRole() == BufferRole::SynapseState)
          varBuffers[buffer.getIndex()] = index;
        else if (buffer.getRole() == BufferRole::RowStart)
          rowStartBuffer = index;
        else if (buffer.getRole() == BufferRole::PostIndex)
          postIndexBuffer = index;
        else if (buffer.getRole() == BufferRole::SynapseDelay)
          delayBuffer = index;
        else if (buffer.getRole() == BufferRole::ConnectMask)
          maskBuffer = index;
        else if (buffer.getRole() == BufferRole::ColumnStart)
          columnStartBuffer = index;
        else if (buffer.getRole() == BufferRole::ColumnSynapse)
          columnSynapseBuffer = index;
        else if (buffer.getRole() == BufferRole::ColumnPre)
          columnPreBuffer = index;
        else if (auto *traces = traceList(buffer.getRole())) {
          bool pre = buffer.getRole() == BufferRole::PreTrace ||
                     buffer.getRole() == BufferRole::PreTraceNow;
          ArrayAttr names = pre ? projection.getPreTracesAttr() : projection.getPostTracesAttr();
          traces->push_back({cast<VariableAttr>(names[buffer.getIndex()]).getName(), index});
        }
      }
      if (buffer.getRole() == BufferRole::State && owner == pre.getSymName())
        preVars.push_back({cast<VariableAttr>(pre.getVars()[buffer.getIndex()]).getName(), index});
      if (buffer.getRole() == BufferRole::State && owner == post.getSymName())
        postVars.push_back(
            {cast<VariableAttr>(post.getVars()[buffer.getIndex()]).getName(), index});
      if (buffer.getRole() == BufferRole::Params && owner == pre.getSymName())
        preParamsBuffer = index;
      if (buffer.getRole() == BufferRole::Params && owner == post.getSymName())
        postParamsBuffer = index;
      if (buffer.getRole() == BufferRole::SynapticInput && owner == post.getSymName())
        postInputs.push_back(
            {cast<StringAttr>((*post.getReceives())[buffer.getIndex()]).getValue(), index});
    }
    if (paramsBuffer < 0 || rowStartBuffer < 0 || postIndexBuffer < 0 ||
        varBuffers.size() != projection.getVars().size() ||
        (delayBuffer >= 0) != projection.getPerSynapseDelay())
      return projection.emitOpError("has incomplete storage in the buffer table");
    buildConnect();
    for (Region *event : {&projection.getOnPre(), &projection.getOnPost()})
      if (!event->empty())
        for (AdvanceTracesOp advance :
             llvm::make_early_inc_range(event->front().getOps<AdvanceTracesOp>()))
          if (failed(buildAdvance(advance)))
            return failure();
    if (projection.getPerSynapseDelay())
      buildDeliverSynapses();
    else
      buildDeliver();
    if (!projection.getOnPost().empty()) {
      if (columnStartBuffer < 0 || columnSynapseBuffer < 0)
        return projection.emitOpError("has on_post but no column index in the buffer table");
      buildOnPost();
    }
    if (unsharedTraceWrite)
      return failure();
    if (!projection.getSummed().empty())
      buildSum();
    if (!projection.getDynamics().empty())
      buildSynapseStep();
    if (!projection.getCondition().empty()) {
      if (maskBuffer < 0)
        return projection.emitOpError("has a condition but no connect mask in the buffer table");
      buildCondition();
    }
    return success();
  }

private:
  MemRefType dyn(Type t) { return MemRefType::get({ShapedType::kDynamic}, t); }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value toIndex(Value v) { return arith::IndexCastOp::create(b, loc, b.getIndexType(), v); }

  /// Parameters, per-synapse variables, row starts and postsynaptic
  /// indices: the arguments both kernels share.
  void commonArgs(SmallVector<Type> &types, SmallVector<Attribute> &args) {
    types.push_back(dyn(b.getF64Type()));
    args.push_back(b.getI64IntegerAttr(paramsBuffer));
    for (size_t i = 0; i < projection.getVars().size(); ++i) {
      types.push_back(dyn(realType));
      args.push_back(b.getI64IntegerAttr(varBuffers.lookup(i)));
    }
    types.append({dyn(b.getI64Type()), dyn(b.getI32Type())});
    args.append({b.getI64IntegerAttr(rowStartBuffer), b.getI64IntegerAttr(postIndexBuffer)});
  }

  func::FuncOp makeFunc(StringRef suffix, ArrayRef<Type> types, ArrayAttr args, SynapseLoop &loop) {
    auto f = func::FuncOp::create(b, loc, ("ncl_" + projection.getSymName() + "_" + suffix).str(),
                                  FunctionType::get(b.getContext(), types, {}));
    f->setAttr("ncl.kernel", b.getStringAttr(suffix));
    Block *entry = f.addEntryBlock();
    loop.projection = projection;
    header.clear();
    buffers.clear();
    for (auto [k, a] : llvm::enumerate(args)) {
      Value v = entry->getArgument(k);
      if (auto field = dyn_cast<StringAttr>(a))
        header[field.getValue()] = v;
      else
        buffers.push_back({cast<IntegerAttr>(a).getInt(), v});
    }
    for (auto [buffer, v] : buffers) {
      if (buffer == paramsBuffer)
        loop.params = v;
      for (auto [var, k] : varBuffers)
        if (k == buffer) {
          if (loop.vars.size() <= static_cast<size_t>(var))
            loop.vars.resize(var + 1);
          loop.vars[var] = v;
        }
    }
    loop.dt64 = header.lookup("dt");
    loop.seed = header.lookup("seed");
    return f;
  }

  Value argument(int64_t buffer) {
    for (auto [k, v] : buffers)
      if (k == buffer)
        return v;
    return {};
  }

  /// scf.for over `row`'s synapses [lo, hi) with the program of `region`;
  /// records the loop for the patterns.
  void synapseLoop(Value lo, Value hi, Region &region, SynapseLoop &loop, Value rowStart) {
    Value hole = missesDiagonal() ? diagonalPlace(loop.preNeuron) : Value();
    auto synapses = scf::ForOp::create(b, loc, lo, hi, index(1));
    synapses->setAttr("ncl.loop", b.getStringAttr("synapses"));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(synapses.getBody());
    loop.synapse = synapses.getInductionVar();
    // A dense row holds the postsynaptic range in order: the neuron is the
    // synapse's place in the row, without a load (past the row's missing
    // diagonal, one further).
    if (denseRows()) {
      loop.postNeuron = arith::SubIOp::create(b, loc, loop.synapse, rowStart);
      if (hole) {
        Value past =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, loop.postNeuron, hole);
        loop.postNeuron = arith::SelectOp::create(
            b, loc, past, arith::AddIOp::create(b, loc, loop.postNeuron, index(1)),
            loop.postNeuron);
      }
      if (int64_t postBegin = projection.getPostRange()[0])
        loop.postNeuron = arith::AddIOp::create(b, loc, loop.postNeuron, index(postBegin));
    } else {
      loop.postNeuron = toIndex(
          memref::LoadOp::create(b, loc, argument(postIndexBuffer), ValueRange{loop.synapse}));
    }
    // An init region without a block has nothing to do.
    if (!region.empty())
      synapses.getBody()->getOperations().splice(synapses.getBody()->getTerminator()->getIterator(),
                                                 region.front().getOperations());
    loops.synapses[synapses] = loop;
  }

  /// How an all-to-all projection's rows hold the postsynaptic range.
  enum class RowLayout {
    Sparse,              ///< not all to all, or masked: indices loaded and searched
    Dense,               ///< every row the whole range in order
    DenseWithoutDiagonal ///< as Dense, less the row's own neuron where it is in the range
  };

  /// The layout of the projection's rows. All to all without a mask is a
  /// dense matrix stored by rows, whose postsynaptic indices the kernels
  /// compute instead of loading and searching them; without autapses
  /// between overlapping ranges of one population, row r (r in the
  /// postsynaptic range) misses neuron r, and the place of each later
  /// neuron is one less (the runtime's all-to-all rows, Connectivity.cpp).
  RowLayout rowLayout() {
    ConnectAttr connect = projection.getConnect();
    // A mask file leaves out the pairs it marks 0.
    if (connect.getRule() != ConnectRule::AllToAll ||
        (connect.getFiles() && connect.getFiles().get("mask")))
      return RowLayout::Sparse;
    ArrayRef<int64_t> preRange = projection.getPreRange(), postRange = projection.getPostRange();
    bool overlap = projection.getPre() == projection.getPost() && preRange[0] < postRange[1] &&
                   postRange[0] < preRange[1];
    return connect.getAutapses() || !overlap ? RowLayout::Dense : RowLayout::DenseWithoutDiagonal;
  }

  bool denseRows() { return rowLayout() != RowLayout::Sparse; }
  bool missesDiagonal() { return rowLayout() == RowLayout::DenseWithoutDiagonal; }

  /// For a layout that misses the diagonal: the place in the postsynaptic
  /// range of row `row`'s own neuron, row - post_begin, which its row
  /// leaves out; the range's width (past every place) where `row` is
  /// outside the range and its row is whole.
  Value diagonalPlace(Value row) {
    ArrayRef<int64_t> range = projection.getPostRange();
    Value width = index(range[1] - range[0]);
    Value place = arith::SubIOp::create(b, loc, row, index(range[0]));
    // Unsigned: a row below the range wraps past the width.
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, place, width);
    return arith::SelectOp::create(b, loc, inside, place, width);
  }

  /// In the dense row [lo, hi) of presynaptic neuron `row`: the synapses
  /// onto the postsynaptic neurons [begin, end), by arithmetic.
  std::pair<Value, Value> denseBounds(Value row, Value lo, Value hi, Value begin, Value end) {
    Value width = arith::SubIOp::create(b, loc, hi, lo);
    Value postBegin = index(projection.getPostRange()[0]);
    Value hole = missesDiagonal() ? diagonalPlace(row) : Value();
    auto place = [&](Value key) {
      Value offset = arith::SubIOp::create(b, loc, key, postBegin);
      // The neurons past the row's missing one sit one place earlier.
      if (hole) {
        Value past = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, offset, hole);
        offset = arith::SelectOp::create(b, loc, past,
                                         arith::SubIOp::create(b, loc, offset, index(1)), offset);
      }
      offset = arith::MaxSIOp::create(b, loc, offset, index(0));
      offset = arith::MinSIOp::create(b, loc, offset, width);
      return Value(arith::AddIOp::create(b, loc, lo, offset));
    };
    return {place(begin), place(end)};
  }

  /// The synapses of presynaptic neuron `row`: [row_start[row], row_start[row + 1]).
  std::pair<Value, Value> rowBounds(Value row) {
    Value rowStart = argument(rowStartBuffer);
    Value lo = toIndex(memref::LoadOp::create(b, loc, rowStart, ValueRange{row}));
    Value next = arith::AddIOp::create(b, loc, row, index(1));
    Value hi = toIndex(memref::LoadOp::create(b, loc, rowStart, ValueRange{next}));
    return {lo, hi};
  }

  void buildConnect() {
    SmallVector<Type> types;
    SmallVector<Attribute> argNames;
    commonArgs(types, argNames);
    if (delayBuffer >= 0) {
      types.push_back(dyn(b.getIntegerType(16)));
      argNames.push_back(b.getI64IntegerAttr(delayBuffer));
    }
    // Initial values that read the neurons' (initial) state get both
    // populations' state variables.
    bool readsNeurons = false;
    projection.getInit().walk(
        [&](Operation *op) { readsNeurons |= isa<PreReadOp, PostReadOp>(op); });
    unsigned firstNeuronArg = static_cast<unsigned>(types.size());
    if (readsNeurons)
      for (auto *group : {&preVars, &postVars})
        for (auto &[name, k] : *group) {
          types.push_back(dyn(realType));
          argNames.push_back(b.getI64IntegerAttr(k));
        }
    appendHeaderArgs(b, types, argNames, {"begin", "end", "seed", "dt"});
    connectArgs = b.getArrayAttr(argNames);
    SynapseLoop loop;
    func::FuncOp f = makeFunc("connect", types, connectArgs, loop);
    loop.delays = argument(delayBuffer);
    if (readsNeurons)
      for (auto [group, map] :
           {std::pair(&preVars, &loop.preVars), std::pair(&postVars, &loop.postVars)})
        for (auto &entry : *group)
          (*map)[entry.first] = f.getArgument(firstNeuronArg++);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    loop.step = arith::ConstantIntOp::create(
        b, loc, b.getI64Type(), static_cast<int64_t>(ncl_random_synapse_step(projectionIndex())));
    auto rows = scf::ParallelOp::create(b, loc, ValueRange{header["begin"]},
                                        ValueRange{header["end"]}, ValueRange{index(1)});
    rows->setAttr("ncl.loop", b.getStringAttr("rows"));
    loop.entryPoint = rows;
    b.setInsertionPointToStart(rows.getBody());
    loop.preNeuron = rows.getInductionVars()[0];
    auto [lo, hi] = rowBounds(loop.preNeuron);
    synapseLoop(lo, hi, projection.getInit(), loop, lo);
    b.setInsertionPointAfter(rows);
    func::ReturnOp::create(b, loc);
  }

  /// The first position in [lo, hi) of the sorted postsynaptic indices
  /// whose value is not below `key` (hi if none): a binary search.
  Value lowerBound(Value lo, Value hi, Value key) {
    Value postIndex = argument(postIndexBuffer);
    Type idx = b.getIndexType();
    auto search = scf::WhileOp::create(
        b, loc, TypeRange{idx, idx}, ValueRange{lo, hi},
        [&](OpBuilder &, Location, ValueRange iter) {
          Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, iter[0], iter[1]);
          scf::ConditionOp::create(b, loc, open, iter);
        },
        [&](OpBuilder &, Location, ValueRange iter) {
          Value width = arith::SubIOp::create(b, loc, iter[1], iter[0]);
          Value mid = arith::AddIOp::create(b, loc, iter[0],
                                            arith::ShRUIOp::create(b, loc, width, index(1)));
          Value j = toIndex(memref::LoadOp::create(b, loc, postIndex, ValueRange{mid}));
          Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j, key);
          Value next = arith::AddIOp::create(b, loc, mid, index(1));
          Value a = arith::SelectOp::create(b, loc, below, next, iter[0]);
          Value z = arith::SelectOp::create(b, loc, below, iter[1], mid);
          scf::YieldOp::create(b, loc, ValueRange{a, z});
        });
    return search.getResult(0);
  }

  /// lowerBound(first, hi, key) for the end of a range that starts at
  /// `first`: a galloping search, which probes first, first + 2, first + 6,
  /// ... (places w - 1 past the last probe below `key`, w doubling) until a
  /// value is not below `key`, then searches between the last two probes.
  /// It costs about 2 log2(c) probes for the c synapses onto the range
  /// where the binary search from `first` costs log2(hi - first): one probe
  /// where the range holds no synapse, three where it holds one, all in
  /// the cache line of `first`. A thread of the GPU owns one neuron
  /// (docs/gpu.md), which at most a few synapses of a row reach.
  Value lowerBoundFrom(Value first, Value hi, Value key) {
    Value postIndex = argument(postIndexBuffer);
    Type idx = b.getIndexType();
    Type flag = b.getI1Type();
    Value no = arith::ConstantIntOp::create(b, loc, 0, 1);
    auto gallop = scf::WhileOp::create(
        b, loc, TypeRange{idx, idx, idx, flag}, ValueRange{first, hi, index(1), no},
        [&](OpBuilder &, Location, ValueRange iter) {
          // iter: the probed-below part ends at lo; the answer is in
          // [lo, top]; w the next step; whether a probe reached key.
          Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, iter[0], iter[1]);
          Value notFound =
              arith::XOrIOp::create(b, loc, iter[3], arith::ConstantIntOp::create(b, loc, 1, 1));
          scf::ConditionOp::create(b, loc, arith::AndIOp::create(b, loc, open, notFound), iter);
        },
        [&](OpBuilder &, Location, ValueRange iter) {
          Value ahead = arith::AddIOp::create(b, loc, iter[0],
                                              arith::SubIOp::create(b, loc, iter[2], index(1)));
          Value probe = arith::MinUIOp::create(b, loc, ahead,
                                               arith::SubIOp::create(b, loc, iter[1], index(1)));
          Value j = toIndex(memref::LoadOp::create(b, loc, postIndex, ValueRange{probe}));
          Value reached = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, j, key);
          Value past = arith::AddIOp::create(b, loc, probe, index(1));
          Value lo = arith::SelectOp::create(b, loc, reached, iter[0], past);
          Value top = arith::SelectOp::create(b, loc, reached, probe, iter[1]);
          Value w = arith::ShLIOp::create(b, loc, iter[2], index(1));
          scf::YieldOp::create(b, loc, ValueRange{lo, top, w, reached});
        });
    // Where no probe reached key, lo = top = hi; else the answer is in
    // [lo, top], and top's value is not below key.
    return lowerBound(gallop.getResult(0), gallop.getResult(1), key);
  }

  /// After commonArgs, what the per-step kernels (deliver, sum) read and
  /// write of the two neurons: the postsynaptic inputs, both populations'
  /// variables, then their parameter buffers.
  void endpointArgs(SmallVector<Type> &types, SmallVector<Attribute> &args) {
    for (auto *group : {&postInputs, &preVars, &postVars})
      for (auto &[name, k] : *group) {
        types.push_back(dyn(realType));
        args.push_back(b.getI64IntegerAttr(k));
      }
    for (int64_t k : {preParamsBuffer, postParamsBuffer}) {
      types.push_back(dyn(b.getF64Type()));
      args.push_back(b.getI64IntegerAttr(k));
    }
    for (auto *group : {&preTraces, &postTraces, &preTracesNow, &postTracesNow})
      for (auto &[name, k] : *group) {
        types.push_back(dyn(realType));
        args.push_back(b.getI64IntegerAttr(k));
      }
  }

  /// Starts a kernel `suffix` run in every step (deliver, on_post, sum,
  /// synapse_step): the shared arguments (commonArgs, endpointArgs), then
  /// `extra` buffers (index, type), then the header `fields`; binds them to
  /// `loop`, whose step is the header's first_step, and leaves the builder
  /// at the start of the function (the caller holds an InsertionGuard).
  /// Returns the stage's arguments.
  ArrayAttr beginStepKernel(StringRef suffix, ArrayRef<std::pair<int64_t, Type>> extra,
                            std::initializer_list<StringRef> fields, SynapseLoop &loop) {
    SmallVector<Type> types;
    SmallVector<Attribute> argNames;
    commonArgs(types, argNames);
    endpointArgs(types, argNames);
    for (auto [buffer, type] : extra) {
      types.push_back(type);
      argNames.push_back(b.getI64IntegerAttr(buffer));
    }
    appendHeaderArgs(b, types, argNames, fields);
    ArrayAttr args = b.getArrayAttr(argNames);
    func::FuncOp f = makeFunc(suffix, types, args, loop);
    bindEndpointArgs(f, loop);
    b.setInsertionPointToStart(&f.front());
    loop.step = header["first_step"];
    return args;
  }

  /// Binds the arguments endpointArgs listed to `loop`.
  void bindEndpointArgs(func::FuncOp f, SynapseLoop &loop) {
    unsigned next = static_cast<unsigned>(3 + projection.getVars().size());
    for (auto [group, map] :
         {std::pair(&postInputs, &loop.postInputs), std::pair(&preVars, &loop.preVars),
          std::pair(&postVars, &loop.postVars)})
      for (auto &entry : *group)
        (*map)[entry.first] = f.getArgument(next++);
    loop.pre = pre;
    loop.post = post;
    loop.preParams = f.getArgument(next++);
    loop.postParams = f.getArgument(next++);
    for (auto [group, map] :
         {std::pair(&preTraces, &loop.preTraces), std::pair(&postTraces, &loop.postTraces),
          std::pair(&preTracesNow, &loop.preTracesNow),
          std::pair(&postTracesNow, &loop.postTracesNow)})
      for (auto &entry : *group)
        (*map)[entry.first] = f.getArgument(next++);
  }

  /// The kernel of `advance` (an ncl.advance_traces in on_pre or on_post):
  /// for each neuron [begin, end) of its side, the region's values stored
  /// in the side's `now` buffers. The event block then loads them
  /// (ncl.trace_read ... now) instead of computing them at every synapse.
  LogicalResult buildAdvance(AdvanceTracesOp advance) {
    bool pre = advance.getSide() == TraceSide::Pre;
    Block &body = advance.getBody().front();
    // The region is cloned into a kernel of its own: it may use nothing
    // defined outside it.
    WalkResult outside = advance.getBody().walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (!advance.getBody().isAncestor(operand.getParentRegion()))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (outside.wasInterrupted())
      return advance.emitOpError("uses a value defined outside its region");
    {
      OpBuilder::InsertionGuard guard(b);
      SynapseLoop loop;
      ArrayAttr args = beginStepKernel(pre ? "advance_pre_traces" : "advance_post_traces", {},
                                       {"begin", "end", "first_step", "seed", "dt"}, loop);
      auto neurons = scf::ForOp::create(b, loc, header["begin"], header["end"], index(1));
      neurons->setAttr("ncl.loop", b.getStringAttr("neurons"));
      loop.entryPoint = neurons;
      (pre ? loop.preNeuron : loop.postNeuron) = neurons.getInductionVar();
      const llvm::StringMap<Value> &now = pre ? loop.preTracesNow : loop.postTracesNow;
      auto advanced = cast<AdvancedOp>(body.getTerminator());
      b.setInsertionPoint(advanced);
      for (auto [var, value] : llvm::zip(advance.getVars(), advanced.getValues())) {
        Value buffer = now.lookup(cast<StringAttr>(var).getValue());
        if (!buffer)
          return advance.emitOpError("has no 'now' buffer for trace ") << var;
        memref::StoreOp::create(b, loc, value, buffer, ValueRange{neurons.getInductionVar()});
      }
      advanced.erase();
      neurons.getBody()->getOperations().splice(neurons.getBody()->getTerminator()->getIterator(),
                                                body.getOperations());
      loops.synapses[neurons] = loop;
      b.setInsertionPointAfter(neurons);
      func::ReturnOp::create(b, loc);
      (pre ? advancePreArgs : advancePostArgs) = args;
    }
    // The event block reads what the kernel stored.
    OpBuilder at(advance);
    for (auto [var, result] : llvm::zip(advance.getVars(), advance.getResults()))
      result.replaceAllUsesWith(TraceReadOp::create(at, advance.getLoc(), result.getType(),
                                                    advance.getSide(),
                                                    cast<StringAttr>(var).getValue(),
                                                    /*now=*/true));
    advance.erase();
    return success();
  }

  void buildDeliver() {
    OpBuilder::InsertionGuard guard(b);
    SynapseLoop loop;
    deliverArgs = beginStepKernel("deliver", {},
                                  {"begin", "end", "size", "first_step", "seed", "dt", "spikes",
                                   "num_spikes", "pre_size", "post_size"},
                                  loop);
    Value spikes = header["spikes"];
    // With search lanes, the loop carries the first places of the next
    // spikes' parts of their rows and how many of them it has used.
    unsigned lanes = searchLanesFor();
    SmallVector<Value> window;
    if (lanes > 1) {
      window.assign(lanes, index(0));
      window.push_back(index(lanes)); // all used: the first spike searches
    }
    auto spikeLoop = scf::ForOp::create(b, loc, index(0), header["num_spikes"], index(1), window);
    spikeLoop->setAttr("ncl.loop", b.getStringAttr("spikes"));
    loop.entryPoint = spikeLoop;
    b.setInsertionPointToStart(spikeLoop.getBody());
    Value searched;
    SmallVector<Value> nextWindow;
    if (lanes > 1)
      std::tie(searched, nextWindow) = searchLanes(spikeLoop, lanes);
    // A spike of neuron b * N_pre + i (member b of a batch) walks row i and
    // reaches member b's postsynaptic neurons (docs/semantics.md, "Batches").
    Value sender =
        toIndex(memref::LoadOp::create(b, loc, spikes, ValueRange{spikeLoop.getInductionVar()}));
    Value member = arith::DivUIOp::create(b, loc, sender, header["pre_size"]);
    loop.preOffset = arith::MulIOp::create(b, loc, member, header["pre_size"]);
    loop.postOffset = arith::MulIOp::create(b, loc, member, header["post_size"]);
    loop.preNeuron = arith::SubIOp::create(b, loc, sender, loop.preOffset);
    moveNeuronProgram(projection.getOnPre(), TraceSide::Pre, spikeLoop, loop);
    auto [lo, hi] = rowBounds(loop.preNeuron);
    auto [begin, end] = memberRange(loop.postOffset);
    // A thread that owns the start (or the end) of the member's
    // postsynaptic population takes the row from its start (to its end)
    // without a search: one thread alone searches nothing.
    Value first, last;
    if (denseRows()) {
      std::tie(first, last) = denseBounds(loop.preNeuron, lo, hi, begin, end);
    } else {
      Value fromStart = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, begin, index(0));
      Value toEnd =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, end, header["post_size"]);
      first = searched ? searched
                       : lowerBound(lo, arith::SelectOp::create(b, loc, fromStart, lo, hi), begin);
      last = lowerBoundFrom(arith::SelectOp::create(b, loc, toEnd, hi, first), hi, end);
    }
    synapseLoop(first, last, projection.getOnPre(), loop, lo);
    if (!nextWindow.empty()) {
      b.setInsertionPointToEnd(spikeLoop.getBody());
      scf::YieldOp::create(b, loc, nextWindow);
    }
    b.setInsertionPointAfter(spikeLoop);
    func::ReturnOp::create(b, loc);
  }

  /// How many spikes' rows the deliver kernel searches at once: the pass's
  /// search-lanes, or 1 where the rows are dense (no search) or on_pre
  /// writes presynaptic traces (ncl-gpu-map then builds a commit kernel
  /// that runs the spike loop a thread per spike: docs/gpu.md).
  unsigned searchLanesFor() {
    if (searchLaneCount <= 1 || denseRows())
      return 1;
    bool writesTraces = false;
    projection.getOnPre().walk(
        [&](Operation *op) { writesTraces |= isa<TraceWriteOp, AdvanceTracesOp>(op); });
    return writesTraces ? 1 : searchLaneCount;
  }

  /// The start of this spike's part of its row (the first place whose
  /// postsynaptic neuron is not below the call's begin), from the window
  /// `spikeLoop` carries (its iter_args: `lanes` places, then how many of
  /// them were used), and the window for the next spike. Where all are
  /// used, the spikes k .. k + lanes - 1 (those below num_spikes) are
  /// searched together: one scf.while whose every step probes each open
  /// lane, so a GPU thread waits for `lanes` independent loads at once
  /// instead of one after the other (docs/gpu.md, "A thread per
  /// postsynaptic neuron for `deliver`"). The window is refilled wherever
  /// the loop starts, so a loop divided between threads stays right.
  std::pair<Value, SmallVector<Value>> searchLanes(scf::ForOp spikeLoop, unsigned lanes) {
    Value k = spikeLoop.getInductionVar();
    ValueRange carried = spikeLoop.getRegionIterArgs();
    Value used = carried.back();
    Value refill = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, used, index(lanes));
    SmallVector<Type> types(lanes, b.getIndexType());
    auto fill = scf::IfOp::create(b, loc, types, refill, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(fill.thenBlock());
      scf::YieldOp::create(b, loc, searchSpikes(k, lanes));
      b.setInsertionPointToStart(fill.elseBlock());
      scf::YieldOp::create(b, loc, carried.drop_back());
    }
    Value lane = arith::SelectOp::create(b, loc, refill, index(0), used);
    Value first = fill.getResult(lanes - 1);
    for (unsigned i = lanes - 1; i-- > 0;) {
      Value here = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, index(i));
      first = arith::SelectOp::create(b, loc, here, fill.getResult(i), first);
    }
    SmallVector<Value> next(fill.getResults());
    next.push_back(arith::AddIOp::create(b, loc, lane, index(1)));
    return {first, next};
  }

  /// The first place of each of the spikes k .. k + lanes - 1 of the list
  /// whose postsynaptic neuron is not below the call's begin (in its batch
  /// member), as lowerBound finds it, in one scf.while; a lane past the
  /// list, or whose member's range starts at 0, searches nothing.
  SmallVector<Value> searchSpikes(Value k, unsigned lanes) {
    Value spikes = header["spikes"];
    Value count = header["num_spikes"];
    Value postIndex = argument(postIndexBuffer);
    SmallVector<Value> lows, highs, keys;
    for (unsigned i = 0; i < lanes; ++i) {
      Value at = arith::AddIOp::create(b, loc, k, index(i));
      Value inList = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, at, count);
      at = arith::SelectOp::create(b, loc, inList, at, k);
      Value sender = toIndex(memref::LoadOp::create(b, loc, spikes, ValueRange{at}));
      Value member = arith::DivUIOp::create(b, loc, sender, header["pre_size"]);
      Value preOffset = arith::MulIOp::create(b, loc, member, header["pre_size"]);
      Value postOffset = arith::MulIOp::create(b, loc, member, header["post_size"]);
      Value row = arith::SubIOp::create(b, loc, sender, preOffset);
      auto [lo, hi] = rowBounds(row);
      Value begin = memberRange(postOffset).first;
      Value fromStart = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, begin, index(0));
      Value none = arith::OrIOp::create(
          b, loc, fromStart,
          arith::XOrIOp::create(b, loc, inList, arith::ConstantIntOp::create(b, loc, 1, 1)));
      lows.push_back(lo);
      highs.push_back(arith::SelectOp::create(b, loc, none, lo, hi));
      keys.push_back(begin);
    }
    SmallVector<Value> init(lows);
    init.append(highs);
    SmallVector<Type> types(2 * lanes, b.getIndexType());
    auto search = scf::WhileOp::create(
        b, loc, types, init,
        [&](OpBuilder &, Location, ValueRange iter) {
          Value open;
          for (unsigned i = 0; i < lanes; ++i) {
            Value o =
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, iter[i], iter[lanes + i]);
            open = open ? arith::OrIOp::create(b, loc, open, o) : o;
          }
          scf::ConditionOp::create(b, loc, open, iter);
        },
        [&](OpBuilder &, Location, ValueRange iter) {
          SmallVector<Value> a(lanes), z(lanes);
          for (unsigned i = 0; i < lanes; ++i) {
            Value lo = iter[i], hi = iter[lanes + i];
            Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, lo, hi);
            Value width = arith::SubIOp::create(b, loc, hi, lo);
            Value mid =
                arith::AddIOp::create(b, loc, lo, arith::ShRUIOp::create(b, loc, width, index(1)));
            // A closed lane loads nothing (its mid may be past the list)
            // and reads its key, which keeps [lo, hi) as it is.
            auto probe = scf::IfOp::create(b, loc, TypeRange{b.getIndexType()}, open,
                                           /*withElseRegion=*/true);
            {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(probe.thenBlock());
              scf::YieldOp::create(
                  b, loc, toIndex(memref::LoadOp::create(b, loc, postIndex, ValueRange{mid})));
              b.setInsertionPointToStart(probe.elseBlock());
              scf::YieldOp::create(b, loc, keys[i]);
            }
            Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                                probe.getResult(0), keys[i]);
            Value next = arith::AddIOp::create(b, loc, mid, index(1));
            a[i] = arith::SelectOp::create(b, loc, below, next, lo);
            z[i] = arith::SelectOp::create(b, loc, below, hi, mid);
          }
          SmallVector<Value> yield(a);
          yield.append(z);
          scf::YieldOp::create(b, loc, yield);
        });
    return SmallVector<Value>(search.getResults().take_front(lanes));
  }

  /// The deliver kernel of per-synapse delays: the synapses of the list
  /// `synapses`, in list order (the runtime's order of arrival, by source
  /// step, presynaptic and postsynaptic index), each with the program of
  /// `on_pre`. A synapse's presynaptic neuron, where the program reads it,
  /// is its row: found by a binary search in the row starts.
  void buildDeliverSynapses() {
    OpBuilder::InsertionGuard guard(b);
    SynapseLoop loop;
    deliverArgs = beginStepKernel(
        "deliver", {},
        {"begin", "end", "size", "first_step", "seed", "dt", "synapses", "num_synapses"}, loop);
    auto list = scf::ForOp::create(b, loc, index(0), header["num_synapses"], index(1));
    list->setAttr("ncl.loop", b.getStringAttr("synapses"));
    loop.entryPoint = list;
    b.setInsertionPointToStart(list.getBody());
    loop.synapse = toIndex(
        memref::LoadOp::create(b, loc, header["synapses"], ValueRange{list.getInductionVar()}));
    loop.postNeuron = toIndex(
        memref::LoadOp::create(b, loc, argument(postIndexBuffer), ValueRange{loop.synapse}));
    moveProgramBySynapse(projection.getOnPre(), list, loop);
    b.setInsertionPointAfter(list);
    func::ReturnOp::create(b, loc);
  }

  /// The on_post kernel: for each postsynaptic neuron of the list `spikes`
  /// (the calling thread's, ascending), every synapse of its column in
  /// column order (ascending synapse index: by presynaptic neuron, then
  /// place in the row), each with the program of `on_post`. A synapse's
  /// presynaptic neuron, where the program reads it, is its row (a binary
  /// search in the row starts, as for per-synapse delays).
  void buildOnPost() {
    OpBuilder::InsertionGuard guard(b);
    SynapseLoop loop;
    SmallVector<std::pair<int64_t, Type>> columns = {{columnStartBuffer, dyn(b.getI64Type())},
                                                     {columnSynapseBuffer, dyn(b.getI32Type())}};
    if (columnPreBuffer >= 0)
      columns.push_back({columnPreBuffer, dyn(b.getI32Type())});
    onPostArgs = beginStepKernel(
        "on_post", columns,
        {"begin", "end", "size", "first_step", "seed", "dt", "spikes", "num_spikes"}, loop);
    auto spikeLoop = scf::ForOp::create(b, loc, index(0), header["num_spikes"], index(1));
    spikeLoop->setAttr("ncl.loop", b.getStringAttr("spikes"));
    loop.entryPoint = spikeLoop;
    b.setInsertionPointToStart(spikeLoop.getBody());
    loop.postNeuron = toIndex(
        memref::LoadOp::create(b, loc, header["spikes"], ValueRange{spikeLoop.getInductionVar()}));
    moveNeuronProgram(projection.getOnPost(), TraceSide::Post, spikeLoop, loop);
    Value columnStart = argument(columnStartBuffer);
    Value lo = toIndex(memref::LoadOp::create(b, loc, columnStart, ValueRange{loop.postNeuron}));
    Value next = arith::AddIOp::create(b, loc, loop.postNeuron, index(1));
    Value hi = toIndex(memref::LoadOp::create(b, loc, columnStart, ValueRange{next}));
    auto column = scf::ForOp::create(b, loc, lo, hi, index(1));
    column->setAttr("ncl.loop", b.getStringAttr("synapses"));
    b.setInsertionPointToStart(column.getBody());
    loop.synapse = toIndex(memref::LoadOp::create(b, loc, argument(columnSynapseBuffer),
                                                  ValueRange{column.getInductionVar()}));
    // The presynaptic neuron, where the program reads it: from the column
    // index's own list when the runtime built one (column_pre), else by a
    // search of the rows (moveProgramBySynapse).
    if (columnPreBuffer >= 0)
      loop.preNeuron = toIndex(memref::LoadOp::create(b, loc, argument(columnPreBuffer),
                                                      ValueRange{column.getInductionVar()}));
    prefetchAhead(projection.getOnPost(), column, hi, loop);
    moveProgramBySynapse(projection.getOnPost(), column, loop);
    b.setInsertionPointAfter(spikeLoop);
    func::ReturnOp::create(b, loc);
  }

  /// A column's synapses lie anywhere in the per-synapse arrays, so each
  /// visit would wait for memory: the column loop `column` (up to `hi`)
  /// prefetches the variables `region` reads or writes for the synapse
  /// kPrefetchDistance places ahead, whose index the column already holds.
  void prefetchAhead(Region &region, scf::ForOp column, Value hi, const SynapseLoop &loop) {
    constexpr int64_t kPrefetchDistance = 16;
    llvm::SmallVector<int64_t, 8> used;
    region.walk([&](Operation *op) {
      if (auto read = dyn_cast<SynapseReadOp>(op); read && !read->use_empty())
        used.push_back(projection.varIndex(read.getVar()));
      else if (auto write = dyn_cast<SynapseWriteOp>(op))
        used.push_back(projection.varIndex(write.getVar()));
    });
    if (used.empty())
      return;
    Value ahead = arith::AddIOp::create(b, loc, column.getInductionVar(), index(kPrefetchDistance));
    Value last = arith::SubIOp::create(b, loc, hi, index(1));
    ahead = arith::MinUIOp::create(b, loc, ahead, last);
    Value synapse =
        toIndex(memref::LoadOp::create(b, loc, argument(columnSynapseBuffer), ValueRange{ahead}));
    // One record holds every variable of the synapse: its first and last
    // used values cover the one or two cache lines it spans.
    Value record = synapseRecordIndex(b, loc, loop, synapse);
    llvm::SmallSetVector<int64_t, 2> ends;
    ends.insert(*llvm::min_element(used));
    ends.insert(*llvm::max_element(used));
    for (int64_t var : ends)
      memref::PrefetchOp::create(b, loc, loop.vars[var], ValueRange{record}, /*isWrite=*/true,
                                 /*localityHint=*/3, /*isDataCache=*/true);
  }

  /// Moves to the builder's insertion point, inside the loop over the
  /// spikes `spikes` of `side`'s neurons, what of `region`'s program every
  /// synapse of the spiking neuron shares: the writes of the neuron's
  /// traces and what they and the rest read that depends on nothing of
  /// the synapse (parameters, constants, t, dt, the neuron's index, state
  /// and traces). It then runs once per spike, before the synapses, on
  /// every thread, even where the thread owns none of the neuron's
  /// synapses (each thread keeps its own copy of presynaptic traces).
  void moveNeuronProgram(Region &region, TraceSide side, scf::ForOp spikes, SynapseLoop &loop) {
    if (region.empty())
      return;
    llvm::DenseSet<Value> shared;
    SmallVector<Operation *> moved;
    auto isShared = [&](Operation *op) {
      if (auto read = dyn_cast<TraceReadOp>(op))
        return read.getSide() == side;
      if (isa<TraceWriteOp>(op)) {
        if (llvm::all_of(op->getOperands(), [&](Value v) { return shared.contains(v); }))
          return true;
        op->emitOpError("depends on the synapse, but a trace is written once per spike");
        unsharedTraceWrite = true;
        return false;
      }
      if (isa<PreReadOp, PreIndexOp>(op))
        return side == TraceSide::Pre;
      if (isa<PostReadOp, PostIndexOp>(op))
        return side == TraceSide::Post;
      if (isa<SynapseReadOp, RandOp, PoissonOp>(op) || op->getNumRegions() != 0 || !isPure(op))
        return false;
      return llvm::all_of(op->getOperands(), [&](Value v) { return shared.contains(v); });
    };
    for (Operation &op : region.front()) {
      if (!isShared(&op))
        continue;
      moved.push_back(&op);
      shared.insert(op.getResults().begin(), op.getResults().end());
    }
    if (moved.empty())
      return;
    for (Operation *op : moved)
      op->moveBefore(b.getInsertionBlock(), b.getInsertionPoint());
    loops.synapses[spikes] = loop;
  }

  /// Moves `region`'s program into `synapses`, a loop (at the builder's
  /// insertion point) that has found `loop.synapse` and `loop.postNeuron`
  /// by synapse rather than by row: where the program reads the
  /// presynaptic neuron, it is found from the synapse (rowOf).
  void moveProgramBySynapse(Region &region, scf::ForOp synapses, SynapseLoop &loop) {
    bool readsPre = false;
    region.walk([&](Operation *op) {
      auto trace = dyn_cast<TraceReadOp>(op);
      readsPre |= isa<PreReadOp, PreIndexOp>(op) || (trace && trace.getSide() == TraceSide::Pre);
    });
    if (readsPre && !loop.preNeuron)
      loop.preNeuron = rowOf(loop.synapse);
    synapses.getBody()->getOperations().splice(synapses.getBody()->getTerminator()->getIterator(),
                                               region.front().getOperations());
    loops.synapses[synapses] = loop;
  }

  /// The presynaptic neuron whose row holds `synapse`: the last row r with
  /// row_start[r] <= synapse, by binary search over the rows [0, size)
  /// (the header's `size` is the presynaptic population's in this stage).
  Value rowOf(Value synapse) {
    Value rowStart = argument(rowStartBuffer);
    Type idx = b.getIndexType();
    Value rows = header["size"];
    // Invariant: row_start[lo] <= synapse < row_start[hi].
    auto search = scf::WhileOp::create(
        b, loc, TypeRange{idx, idx}, ValueRange{index(0), rows},
        [&](OpBuilder &, Location, ValueRange iter) {
          Value width = arith::SubIOp::create(b, loc, iter[1], iter[0]);
          Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, width, index(1));
          scf::ConditionOp::create(b, loc, open, iter);
        },
        [&](OpBuilder &, Location, ValueRange iter) {
          Value width = arith::SubIOp::create(b, loc, iter[1], iter[0]);
          Value mid = arith::AddIOp::create(b, loc, iter[0],
                                            arith::ShRUIOp::create(b, loc, width, index(1)));
          Value start = toIndex(memref::LoadOp::create(b, loc, rowStart, ValueRange{mid}));
          Value atOrBefore =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, start, synapse);
          Value lo = arith::SelectOp::create(b, loc, atOrBefore, mid, iter[0]);
          Value hi = arith::SelectOp::create(b, loc, atOrBefore, iter[1], mid);
          scf::YieldOp::create(b, loc, ValueRange{lo, hi});
        });
    return search.getResult(0);
  }

  /// `sum` adds the summed values of one step to the postsynaptic neurons
  /// [begin, end): every presynaptic row (`size` of them) in ascending order, within each its
  /// synapses onto [begin, end) (two binary searches), so each neuron's sum
  /// is taken in ascending presynaptic order whatever the thread count. The
  /// rows run in sequence: two rows may add to the same neuron.
  void buildSum() {
    OpBuilder::InsertionGuard guard(b);
    SynapseLoop loop;
    sumArgs = beginStepKernel(
        "sum", {},
        {"begin", "end", "size", "first_step", "seed", "dt", "pre_size", "post_size", "batch"},
        loop);
    // The batch members whose postsynaptic neurons the call owns, b * N_post
    // to (b + 1) * N_post overlapping [begin, end).
    Value postSize = header["post_size"];
    Value firstMember = arith::DivUIOp::create(b, loc, header["begin"], postSize);
    Value lastMember = arith::DivUIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, header["end"],
                              arith::SubIOp::create(b, loc, postSize, index(1))),
        postSize);
    // Rows outside, members inside: each row's weights are read once per
    // step and used for every member (the matrix-matrix product of a dense
    // projection), and each neuron still sums in ascending presynaptic order.
    // A dense projection's rows outside its presynaptic range are empty.
    bool dense = denseRows();
    ArrayRef<int64_t> preRange = projection.getPreRange();
    Value firstRow = index(dense ? preRange[0] : 0);
    Value lastRow = dense ? index(preRange[1]) : header["pre_size"];
    auto rows = scf::ForOp::create(b, loc, firstRow, lastRow, index(1));
    rows->setAttr("ncl.loop", b.getStringAttr("rows"));
    loop.entryPoint = rows;
    b.setInsertionPointToStart(rows.getBody());
    loop.preNeuron = rows.getInductionVar();
    if (dense) {
      buildDenseSum(rows, firstMember, lastMember, loop);
      return;
    }
    auto [lo, hi] = rowBounds(loop.preNeuron);
    auto members = scf::ForOp::create(b, loc, firstMember, lastMember, index(1));
    members->setAttr("ncl.loop", b.getStringAttr("members"));
    b.setInsertionPointToStart(members.getBody());
    Value member = members.getInductionVar();
    loop.preOffset = arith::MulIOp::create(b, loc, member, header["pre_size"]);
    loop.postOffset = arith::MulIOp::create(b, loc, member, postSize);
    auto [begin, end] = memberRange(loop.postOffset);
    Value fromStart = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, begin, index(0));
    Value toEnd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, end, postSize);
    Value first = lowerBound(lo, arith::SelectOp::create(b, loc, fromStart, lo, hi), begin);
    Value last = lowerBoundFrom(arith::SelectOp::create(b, loc, toEnd, hi, first), hi, end);
    synapseLoop(first, last, projection.getSummed(), loop, lo);
    b.setInsertionPointAfter(rows);
    func::ReturnOp::create(b, loc);
  }

  /// The body of `rows` (the builder is at its start) for a dense
  /// projection: every row of the presynaptic range (the rows that `rows`
  /// walks) holds the postsynaptic range [post_begin,
  /// post_end) in order, so the synapse loop runs over the places j in the
  /// row, the same for every row: synapse row_start + j onto neuron
  /// post_begin + j (without autapses, two loops around the row's own
  /// place h, the synapses past it one earlier). Marks `rows` with
  /// `ncl.dense_row_width` (the range's size), which tells
  /// ncl-cpu-schedule that the rows may be jammed: the body of row i adds
  /// to the inputs at (member, j) only. The first places loop starts at
  /// the place of `begin`, which ncl-gpu-map takes for its thread's place.
  void buildDenseSum(scf::ForOp rows, Value firstMember, Value lastMember, SynapseLoop &loop) {
    ArrayRef<int64_t> range = projection.getPostRange();
    int64_t width = range[1] - range[0];
    rows->setAttr("ncl.dense_row_width", b.getI64IntegerAttr(width));
    Value rowStart = toIndex(
        memref::LoadOp::create(b, loc, argument(rowStartBuffer), ValueRange{loop.preNeuron}));
    auto members = scf::ForOp::create(b, loc, firstMember, lastMember, index(1));
    members->setAttr("ncl.loop", b.getStringAttr("members"));
    b.setInsertionPointToStart(members.getBody());
    Value member = members.getInductionVar();
    loop.preOffset = arith::MulIOp::create(b, loc, member, header["pre_size"]);
    loop.postOffset = arith::MulIOp::create(b, loc, member, header["post_size"]);
    auto [begin, end] = memberRange(loop.postOffset);
    // The places of [begin, end) in the row, clamped to [0, width].
    Value postBegin = index(range[0]);
    auto place = [&](Value key) {
      Value offset = arith::SubIOp::create(b, loc, key, postBegin);
      offset = arith::MaxSIOp::create(b, loc, offset, index(0));
      return Value(arith::MinSIOp::create(b, loc, offset, index(width)));
    };
    Value first = place(begin);
    Value last = place(end);
    Region &summed = projection.getSummed();
    // A loop over the places [lo, hi) of the row, place j's synapse
    // `base` + j, with the program of `summed` (moved, or cloned where
    // `clone` is set).
    auto placeLoop = [&](Value lo, Value hi, Value base, bool clone) {
      auto places = scf::ForOp::create(b, loc, lo, hi, index(1));
      places->setAttr("ncl.loop", b.getStringAttr("synapses"));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(places.getBody());
      Value j = places.getInductionVar();
      SynapseLoop piece = loop;
      piece.synapse = arith::AddIOp::create(b, loc, base, j);
      piece.postNeuron = range[0] ? Value(arith::AddIOp::create(b, loc, j, postBegin)) : j;
      if (!summed.empty()) {
        if (clone) {
          IRMapping map;
          for (Operation &op : summed.front())
            b.clone(op, map);
        } else {
          places.getBody()->getOperations().splice(places.getBody()->getTerminator()->getIterator(),
                                                   summed.front().getOperations());
        }
      }
      loops.synapses[places] = piece;
    };
    if (!missesDiagonal()) {
      placeLoop(first, last, rowStart, /*clone=*/false);
    } else {
      // Row r misses the place h of its own neuron: two pieces, [first,
      // min(last, h)) from the row's start and [max(first, h + 1), last)
      // one synapse earlier, each contiguous (ncl-cpu-schedule jams them).
      // h is the width for a row outside the postsynaptic range: the
      // second piece is then empty.
      Value hole, startPast;
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(members);
        hole = diagonalPlace(loop.preNeuron);
        startPast = arith::SubIOp::create(b, loc, rowStart, index(1));
      }
      placeLoop(first, arith::MinSIOp::create(b, loc, last, hole), rowStart, /*clone=*/true);
      Value past = arith::AddIOp::create(b, loc, hole, index(1));
      placeLoop(arith::MaxSIOp::create(b, loc, first, past), last, startPast, /*clone=*/false);
    }
    b.setInsertionPointAfter(rows);
    func::ReturnOp::create(b, loc);
  }

  /// The call's postsynaptic range [begin, end) within the batch member
  /// whose neurons start at `offset`: in that member's indices, clamped to
  /// [0, N_post].
  std::pair<Value, Value> memberRange(Value offset) {
    Value postSize = header["post_size"];
    auto local = [&](Value global) {
      Value shifted = arith::SubIOp::create(b, loc, global, offset);
      shifted = arith::MaxSIOp::create(b, loc, shifted, index(0));
      return Value(arith::MinSIOp::create(b, loc, shifted, postSize));
    };
    return {local(header["begin"]), local(header["end"])};
  }

  /// `synapse_step` advances every synapse onto the postsynaptic neurons
  /// [begin, end) by one step with the program of `dynamics`, walking the
  /// rows as `sum` does.
  void buildSynapseStep() {
    synapseStepArgs = buildRowWalk("synapse_step", projection.getDynamics());
  }

  /// A kernel named `suffix` that runs `region` for every synapse onto the
  /// postsynaptic neurons [begin, end), row by row; returns its arguments.
  ArrayAttr buildRowWalk(StringRef suffix, Region &region) {
    OpBuilder::InsertionGuard guard(b);
    SynapseLoop loop;
    ArrayAttr args =
        beginStepKernel(suffix, {}, {"begin", "end", "size", "first_step", "seed", "dt"}, loop);
    // A sum stage's `size` is the presynaptic population's: its rows.
    auto rows = scf::ForOp::create(b, loc, index(0), header["size"], index(1));
    rows->setAttr("ncl.loop", b.getStringAttr("rows"));
    loop.entryPoint = rows;
    b.setInsertionPointToStart(rows.getBody());
    loop.preNeuron = rows.getInductionVar();
    auto [lo, hi] = rowBounds(loop.preNeuron);
    Value first, last;
    if (denseRows()) {
      std::tie(first, last) = denseBounds(loop.preNeuron, lo, hi, header["begin"], header["end"]);
    } else {
      first = lowerBound(lo, hi, header["begin"]);
      last = lowerBoundFrom(first, hi, header["end"]);
    }
    synapseLoop(first, last, region, loop, lo);
    b.setInsertionPointAfter(rows);
    func::ReturnOp::create(b, loc);
    return args;
  }

  /// The condition kernel: for presynaptic row `begin`, the verdict of the
  /// condition region for every postsynaptic neuron of the range, into the
  /// connect mask (the runtime's scratch of the calling thread).
  void buildCondition() {
    SmallVector<Type> types{dyn(b.getF64Type())};
    SmallVector<Attribute> argNames{b.getI64IntegerAttr(paramsBuffer)};
    for (auto *group : {&preVars, &postVars})
      for (auto &[name, k] : *group) {
        types.push_back(dyn(realType));
        argNames.push_back(b.getI64IntegerAttr(k));
      }
    types.push_back(dyn(b.getI32Type()));
    argNames.push_back(b.getI64IntegerAttr(maskBuffer));
    appendHeaderArgs(b, types, argNames, {"begin", "seed", "dt"});
    conditionArgs = b.getArrayAttr(argNames);
    SynapseLoop loop;
    func::FuncOp f = makeFunc("condition", types, conditionArgs, loop);
    unsigned next = 1;
    for (auto [group, map] :
         {std::pair(&preVars, &loop.preVars), std::pair(&postVars, &loop.postVars)})
      for (auto &entry : *group)
        (*map)[entry.first] = f.getArgument(next++);
    loop.mask = f.getArgument(next);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    loop.step = arith::ConstantIntOp::create(
        b, loc, b.getI64Type(), static_cast<int64_t>(ncl_random_synapse_step(projectionIndex())));
    ArrayRef<int64_t> range = projection.getPostRange();
    loop.postBegin = index(range[0]);
    loop.preNeuron = header["begin"];
    auto posts = scf::ForOp::create(b, loc, loop.postBegin, index(range[1]), index(1));
    posts->setAttr("ncl.loop", b.getStringAttr("candidates"));
    loop.entryPoint = posts;
    loop.postNeuron = posts.getInductionVar();
    Block &region = projection.getCondition().front();
    posts.getBody()->getOperations().splice(posts.getBody()->getTerminator()->getIterator(),
                                            region.getOperations());
    loops.synapses[posts] = loop;
    b.setInsertionPointAfter(posts);
    func::ReturnOp::create(b, loc);
  }

  uint32_t projectionIndex() {
    uint32_t k = 0;
    for (ProjectionOp p : network.getBody().getOps<ProjectionOp>()) {
      if (p == projection)
        return k;
      ++k;
    }
    return k;
  }

  ProjectionOp projection;
  NetworkOp network;
  PopulationOp pre, post;
  OpBuilder &b;
  Location loc;
  Type realType;
  NeuronLoops &loops;
  int64_t paramsBuffer = -1, rowStartBuffer = -1, postIndexBuffer = -1, delayBuffer = -1;
  int64_t maskBuffer = -1, columnStartBuffer = -1, columnSynapseBuffer = -1, columnPreBuffer = -1;
  /// The list that collects the trace buffers of `role`, or null.
  SmallVector<std::pair<StringRef, int64_t>> *traceList(BufferRole role) {
    switch (role) {
    case BufferRole::PreTrace:
      return &preTraces;
    case BufferRole::PostTrace:
      return &postTraces;
    case BufferRole::PreTraceNow:
      return &preTracesNow;
    case BufferRole::PostTraceNow:
      return &postTracesNow;
    default:
      return nullptr;
    }
  }

  /// Per-neuron traces (ncl-integrate's pre_traces and post_traces): name, buffer.
  SmallVector<std::pair<StringRef, int64_t>> preTraces, postTraces;
  /// Their values at the step's time, where an ncl.advance_traces reads them.
  SmallVector<std::pair<StringRef, int64_t>> preTracesNow, postTracesNow;
  /// Set when a trace write depends on the synapse (ncl-integrate's checks failed).
  bool unsharedTraceWrite = false;
  unsigned searchLaneCount;                            ///< the pass's search-lanes
  int64_t preParamsBuffer = -1, postParamsBuffer = -1; ///< the endpoints' parameters
  llvm::DenseMap<int64_t, int64_t> varBuffers;         ///< variable index -> buffer index
  SmallVector<std::pair<StringRef, int64_t>> preVars, postVars, postInputs; ///< name, buffer
  SmallVector<std::pair<int64_t, Value>> buffers; ///< the kernel's buffer arguments
  llvm::StringMap<Value> header;
};

struct ConvertNclToLoopsPass
    : public mlir::ncl::impl::ConvertNclToLoopsBase<ConvertNclToLoopsPass> {
  using ConvertNclToLoopsBase::ConvertNclToLoopsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    NeuronLoops loops;
    for (NetworkOp network : module.getOps<NetworkOp>()) {
      if (!network.getBuffers()) {
        network.emitOpError("has no buffer table; run ncl-allocate-buffers first");
        return signalPassFailure();
      }
      for (PopulationOp pop : network.getBody().getOps<PopulationOp>()) {
        if (pop.isLowered())
          continue;
        // Kernels are functions of the module, before the network.
        builder.setInsertionPoint(network);
        KernelBuilder kernels(pop, network, builder, loops);
        if (failed(kernels.build()))
          return signalPassFailure();
        nameKernels(network, pop, kernels.initArgs, kernels.updateArgs, kernels.keysArgs);
        // What is left describes the population; its program is in the kernels.
        for (Region *region : {&pop.getInit(), &pop.getStep()})
          region->getBlocks().clear();
      }
      // A k-WTA's kernel, once: its stage has none yet.
      for (KwtaOp kwta : network.getBody().getOps<KwtaOp>()) {
        if (hasKwtaKernel(network, kwta))
          continue;
        auto pop = network.lookupSymbol<PopulationOp>(kwta.getPopulationAttr());
        builder.setInsertionPoint(network);
        KernelBuilder kernels(pop, network, builder, loops);
        if (failed(kernels.buildKwta(kwta)))
          return signalPassFailure();
        nameKwtaKernel(network, kwta, kernels.kwtaArgs);
        kwta.getReset().getBlocks().clear();
      }
      for (ProjectionOp projection : network.getBody().getOps<ProjectionOp>()) {
        if (projection.isLowered())
          continue;
        builder.setInsertionPoint(network);
        markPresynapticReads(projection);
        ProjectionKernelBuilder kernels(projection, network, builder, loops, searchLanes);
        if (failed(kernels.build()))
          return signalPassFailure();
        nameProjectionKernels(network, projection, kernels);
        for (Region *region :
             {&projection.getInit(), &projection.getOnPre(), &projection.getOnPost(),
              &projection.getSummed(), &projection.getDynamics(), &projection.getCondition()})
          region->getBlocks().clear();
      }
    }
    // Every ncl op in a kernel is rewritten by its pattern; what describes
    // the network stays for the library's descriptor.
    ConversionTarget target(getContext());
    target.addLegalDialect<arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
                           scf::SCFDialect, func::FuncDialect>();
    target.addIllegalDialect<NclDialect>();
    target.addLegalOp<NetworkOp, PopulationOp, ProjectionOp, ScheduleOp, StageOp, MonitorOp,
                      KwtaOp>();
    // Normal draws use fma (Philox.cpp, NormalArithmetic).
    target.addLegalOp<LLVM::FMAOp>();
    RewritePatternSet patterns(&getContext());
    populateNclToLoopsPatterns(patterns, loops);
    populateExpEulerLoweringPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }

  /// Sets `reads_presynaptic_state` where on_pre, on_post or summed read a
  /// presynaptic neuron's variable: other threads update those, so the
  /// runtime must have the threads meet before the updates of every step.
  static void markPresynapticReads(ProjectionOp projection) {
    auto network = projection->getParentOfType<NetworkOp>();
    PopulationOp pre = network.lookupSymbol<PopulationOp>(projection.getPreAttr());
    bool reads = false;
    for (Region *region : {&projection.getOnPre(), &projection.getOnPost(), &projection.getSummed(),
                           &projection.getDynamics()})
      region->walk([&](PreReadOp read) { reads = reads || pre.varIndex(read.getVar()) >= 0; });
    if (reads)
      projection.setReadsPresynapticState(true);
  }

  /// Names the kernels of a projection's stages.
  static void nameProjectionKernels(NetworkOp network, ProjectionOp projection,
                                    const ProjectionKernelBuilder &kernels) {
    ScheduleOp schedule = network.getSchedule();
    if (!schedule)
      return;
    for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
      if (stage.getPopulation() != projection.getSymName())
        continue;
      StringRef suffix = "_deliver";
      ArrayAttr args = kernels.deliverArgs;
      if (stage.getKind() == StageKind::Connect) {
        suffix = "_connect";
        args = kernels.connectArgs;
      } else if (stage.getKind() == StageKind::Sum) {
        suffix = "_sum";
        args = kernels.sumArgs;
      } else if (stage.getKind() == StageKind::ConnectCondition) {
        suffix = "_condition";
        args = kernels.conditionArgs;
      } else if (stage.getKind() == StageKind::OnPost) {
        suffix = "_on_post";
        args = kernels.onPostArgs;
      } else if (stage.getKind() == StageKind::SynapseStep) {
        suffix = "_synapse_step";
        args = kernels.synapseStepArgs;
      } else if (stage.getKind() == StageKind::AdvancePreTraces) {
        suffix = "_advance_pre_traces";
        args = kernels.advancePreArgs;
      } else if (stage.getKind() == StageKind::AdvancePostTraces) {
        suffix = "_advance_post_traces";
        args = kernels.advancePostArgs;
      }
      std::string kernel = ("ncl_" + projection.getSymName() + suffix).str();
      stage.setKernelAttr(FlatSymbolRefAttr::get(network.getContext(), kernel));
      stage.setArgsAttr(args);
    }
  }

  /// The name of `kwta`'s selection kernel: `ncl_<P>_kwta`, or for a spike
  /// gate `ncl_<P>_kwta_gate`.
  static std::string kwtaKernelName(KwtaOp kwta) {
    return ("ncl_" + kwta.getPopulation() + (kwta.gatesSpikes() ? "_kwta_gate" : "_kwta")).str();
  }

  /// Whether the module has `kwta`'s kernel already.
  static bool hasKwtaKernel(NetworkOp network, KwtaOp kwta) {
    auto module = network->getParentOfType<ModuleOp>();
    return module && SymbolTable::lookupSymbolIn(module, kwtaKernelName(kwta));
  }

  /// Names the kernel of a population's kwta (or kwta_gate) stage.
  static void nameKwtaKernel(NetworkOp network, KwtaOp kwta, ArrayAttr args) {
    ScheduleOp schedule = network.getSchedule();
    if (!schedule)
      return;
    StageKind kind = kwta.gatesSpikes() ? StageKind::KwtaGate : StageKind::Kwta;
    for (StageOp stage : schedule.getBody().getOps<StageOp>())
      if (stage.getPopulation() == kwta.getPopulation() && stage.getKind() == kind) {
        stage.setKernelAttr(FlatSymbolRefAttr::get(network.getContext(), kwtaKernelName(kwta)));
        stage.setArgsAttr(args);
      }
  }

  /// Names each stage's kernel and what its arguments are.
  static void nameKernels(NetworkOp network, PopulationOp pop, ArrayAttr initArgs,
                          ArrayAttr updateArgs, ArrayAttr keysArgs) {
    ScheduleOp schedule = network.getSchedule();
    if (!schedule)
      return;
    for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
      if (stage.getPopulation() == pop.getSymName() && stage.getKind() == StageKind::KwtaKeys &&
          keysArgs) {
        stage.setKernelAttr(FlatSymbolRefAttr::get(
            network.getContext(), ("ncl_" + pop.getSymName() + "_kwta_keys").str()));
        stage.setArgsAttr(keysArgs);
        continue;
      }
      if (stage.getPopulation() != pop.getSymName() ||
          (stage.getKind() != StageKind::Init && stage.getKind() != StageKind::Step))
        continue;
      bool init = stage.getKind() == StageKind::Init;
      std::string kernel = ("ncl_" + pop.getSymName() + (init ? "_init" : "_update")).str();
      stage.setKernelAttr(FlatSymbolRefAttr::get(network.getContext(), kernel));
      stage.setArgsAttr(init ? initArgs : updateArgs);
    }
  }
};

} // namespace
