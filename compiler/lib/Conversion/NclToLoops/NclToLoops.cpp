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
  mutable PopulationOp pop;                  ///< an op handle: its accessors are not const
  Value neuron;                              ///< index in the population
  Value step, nextStep;                      ///< i64: n, and n + 1 where a spike is stored
  Value dt64, seed, size;                    ///< f64, i64, index
  Value params, refractory;                  ///< memref<?xf64>, memref<?xi32>
  SmallVector<Value> vars;                   ///< by variable index
  Value results;                             ///< memref<2xi64>: [0] counts spikes (atomically)
  Value spikeStep, spikeIndex, spikeChannel; ///< a recorded population's record
  Operation *entryPoint = nullptr;           ///< parameters are loaded before it
};

} // namespace

/// The neuron loops of the kernels being built, by their scf.parallel op.
struct mlir::ncl::NeuronLoops {
  llvm::DenseMap<Operation *, NeuronLoop> loops;
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

/// ncl.param: loaded once per kernel call, before the loops.
struct ParamLowering : NeuronOpLowering<ParamOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(ParamOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(loop.entryPoint);
    Location loc = op.getLoc();
    Value index = arith::ConstantIndexOp::create(rewriter, loc, loop.pop.paramIndex(op.getName()));
    Value v = memref::LoadOp::create(rewriter, loc, loop.params, ValueRange{index});
    rewriter.replaceOp(op, asReal(rewriter, loc, v, op.getType()));
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
    Location loc = op.getLoc();
    Value n = arith::SIToFPOp::create(rewriter, loc, rewriter.getF64Type(), loop.step);
    Value time = arith::MulFOp::create(rewriter, loc, n, loop.dt64);
    rewriter.replaceOp(op, asReal(rewriter, loc, time, op.getType()));
    return success();
  }
};

struct NeuronIndexLowering : NeuronOpLowering<NeuronIndexOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(NeuronIndexOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, indexToReal(rewriter, op.getLoc(), loop.neuron, op.getType()));
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

/// A Philox draw keyed by (seed, step, neuron, stream); docs/random.md.
struct RandLowering : NeuronOpLowering<RandOp> {
  using NeuronOpLowering::NeuronOpLowering;
  LogicalResult lower(RandOp op, OpAdaptor, const NeuronLoop &loop,
                      ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto words = emitPhiloxDraw(rewriter, loc, loop.seed, loop.step, loop.neuron,
                                static_cast<uint32_t>(op.getStream()));
    auto type = cast<FloatType>(op.getType());
    rewriter.replaceOp(op, op.getNormal() ? emitNormal(rewriter, loc, words, type)
                                          : emitUniform01(rewriter, loc, words, type));
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
    Value refractory =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, until, step32);
    if (Value release = adaptor.getRelease()) {
      Value released = arith::AndIOp::create(rewriter, loc, refractory, release);
      refractory = arith::XOrIOp::create(rewriter, loc, refractory, released);
      until = arith::SelectOp::create(rewriter, loc, released, step32, until);
      memref::StoreOp::create(rewriter, loc, until, loop.refractory, ValueRange{loop.neuron});
    }
    rewriter.replaceOp(op, refractory);
    return success();
  }
};

/// Counts an entry where `fired` holds (atomically: neurons may run in
/// parallel) and, in a recorded population, stores (n + 1, i, channel) at
/// the slot the count gave. Events of an unrecorded population just act.
void emitRecord(OpBuilder &b, Location loc, const NeuronLoop &loop, Value fired, int64_t channel) {
  bool record = loop.pop.getRecordSpikes();
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
    emitRecord(rewriter, loc, loop, fired, 0);
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
    Value inf = arith::ConstantOp::create(
        rewriter, loc,
        rewriter.getFloatAttr(old.getType(), std::numeric_limits<double>::infinity()));
    Value finite = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OLT,
                                         math::AbsFOp::create(rewriter, loc, old), inf);
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
    Value current = memref::LoadOp::create(rewriter, loc, loop.refractory, ValueRange{loop.neuron});
    Value next = arith::SelectOp::create(rewriter, loc, adaptor.getFired(), until, current);
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

} // namespace

void mlir::ncl::populateNclToLoopsPatterns(RewritePatternSet &patterns, const NeuronLoops &loops) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ParamLowering, StateReadLowering, StateWriteLowering, DtLowering, TimeLowering,
               NeuronIndexLowering, PopulationSizeLowering, RandLowering, IsRefractoryLowering,
               ThresholdLowering, EventLowering, RefractoryLowering>(ctx, loops);
  patterns.add<ResetLowering>(ctx);
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

namespace {

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
      }
    }
  }

  /// The buffer-table entries and header fields (KernelABI.h) each kernel
  /// argument is, for the descriptor's entry points.
  ArrayAttr initArgs, updateArgs;

  LogicalResult build() {
    WalkResult unintegrated = pop.walk([](OdeOp ode) {
      ode.emitOpError("must be integrated before ncl-to-loops; run ncl-integrate first");
      return WalkResult::interrupt();
    });
    if (unintegrated.wasInterrupted())
      return failure();
    buildInit();
    buildUpdate();
    return success();
  }

private:
  MemRefType dyn(Type t) { return MemRefType::get({ShapedType::kDynamic}, t); }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// params, vars..., refractory_until: the population's buffers, in the
  /// table's order; `args` gets their table indices.
  SmallVector<Type> bufferArgs(SmallVector<Attribute> &args, bool withRecord) {
    SmallVector<Type> types{dyn(b.getF64Type())};
    args.push_back(b.getI64IntegerAttr(paramsBuffer));
    for (size_t i = 0; i < pop.getVars().size(); ++i) {
      types.push_back(dyn(realType));
      args.push_back(b.getI64IntegerAttr(varBuffers.lookup(i)));
    }
    types.push_back(dyn(b.getI32Type()));
    args.push_back(b.getI64IntegerAttr(refractoryBuffer));
    if (withRecord && pop.getRecordSpikes()) {
      types.append({dyn(b.getI64Type()), dyn(b.getI64Type()), dyn(b.getI32Type())});
      for (int64_t k : spikeBuffers)
        args.push_back(b.getI64IntegerAttr(k));
    }
    return types;
  }

  /// Header fields, by their names in KernelABI.h.
  void headerArgs(SmallVector<Type> &types, SmallVector<Attribute> &args,
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
      case ::ncl::abi::FieldKind::Pointer:
        llvm_unreachable("the table is passed as buffers");
      }
      args.push_back(b.getStringAttr(field));
    }
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
      else
        loop.vars.push_back(v);
    }
    loop.dt64 = header.lookup("dt");
    loop.seed = header.lookup("seed");
    loop.size = header.lookup("size");
    loop.results = header.lookup("results");
    return f;
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

  /// Steps outside, neurons inside. A recorded population stops at a step
  /// boundary rather than overflow its spike buffer: each neuron records at
  /// most one spike and one of each event a step.
  void buildUpdate() {
    SmallVector<Attribute> argNames;
    SmallVector<Type> types = bufferArgs(argNames, true);
    headerArgs(types, argNames,
               {"begin", "end", "size", "seed", "first_step", "num_steps", "spike_capacity",
                "results", "dt"});
    updateArgs = b.getArrayAttr(argNames);
    NeuronLoop loop;
    header.clear();
    func::FuncOp f = makeFunc("update", types, updateArgs, loop);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    Type i64 = b.getI64Type(), idx = b.getIndexType();
    Value c0 = index(0), c1 = index(1);
    Value begin = header["begin"], end = header["end"], numSteps = header["num_steps"];
    Value firstStep = header["first_step"], out = loop.results;
    memref::StoreOp::create(b, loc, arith::ConstantIntOp::create(b, loc, i64, 0), out,
                            ValueRange{c0});

    scf::ParallelOp neurons;
    auto stepBody = [&](Value s) {
      loop.step =
          arith::AddIOp::create(b, loc, firstStep, arith::IndexCastOp::create(b, loc, i64, s));
      loop.nextStep =
          arith::AddIOp::create(b, loc, loop.step, arith::ConstantIntOp::create(b, loc, i64, 1));
      neurons = neuronLoop(begin, end);
    };
    Value done;
    if (pop.getRecordSpikes()) {
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
            b.setInsertionPointAfter(neurons);
            scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, iter[0], c1)});
          });
      steps->setAttr("ncl.loop", b.getStringAttr("steps"));
      done = steps.getResult(0);
    } else {
      auto steps = scf::ForOp::create(b, loc, c0, numSteps, c1, ValueRange{},
                                      [&](OpBuilder &, Location, Value s, ValueRange) {
                                        stepBody(s);
                                        b.setInsertionPointAfter(neurons);
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
  }

  PopulationOp pop;
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  Type realType;
  NeuronLoops &loops;
  int64_t paramsBuffer = -1, refractoryBuffer = -1;
  llvm::DenseMap<int64_t, int64_t> varBuffers; ///< variable index -> buffer index
  int64_t spikeBuffers[3] = {-1, -1, -1};      ///< by role: step, index, channel
  llvm::StringMap<Value> header;               ///< the kernel's header arguments
};

struct ConvertNclToLoopsPass
    : public mlir::ncl::impl::ConvertNclToLoopsBase<ConvertNclToLoopsPass> {
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
        nameKernels(network, pop, kernels.initArgs, kernels.updateArgs);
        // What is left describes the population; its program is in the kernels.
        for (Region *region : {&pop.getInit(), &pop.getStep()})
          region->getBlocks().clear();
      }
    }
    // Every ncl op in a kernel is rewritten by its pattern; what describes
    // the network stays for the library's descriptor.
    ConversionTarget target(getContext());
    target.addLegalDialect<arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
                           scf::SCFDialect, func::FuncDialect>();
    target.addIllegalDialect<NclDialect>();
    target.addLegalOp<NetworkOp, PopulationOp, ScheduleOp, StageOp>();
    RewritePatternSet patterns(&getContext());
    populateNclToLoopsPatterns(patterns, loops);
    populateExpEulerLoweringPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }

  /// Names each stage's kernel and what its arguments are.
  static void nameKernels(NetworkOp network, PopulationOp pop, ArrayAttr initArgs,
                          ArrayAttr updateArgs) {
    ScheduleOp schedule = network.getSchedule();
    if (!schedule)
      return;
    for (StageOp stage : schedule.getBody().getOps<StageOp>()) {
      if (stage.getPopulation() != pop.getSymName())
        continue;
      bool init = stage.getKind() == StageKind::Init;
      std::string kernel = ("ncl_" + pop.getSymName() + (init ? "_init" : "_update")).str();
      stage.setKernelAttr(FlatSymbolRefAttr::get(network.getContext(), kernel));
      stage.setArgsAttr(init ? initArgs : updateArgs);
    }
  }
};

} // namespace
