//===- NclToLoops.cpp - Populations to loops over steps and neurons -------===//
//
// Builds the two kernels of every population (see ConvertNclToLoops in
// Passes.td). The per-neuron program of the `step` region is cloned into
// the neuron loop, with the ncl ops that remain after ncl-integrate
// replaced by memref accesses and selects. Everything is branch-free except
// the append to a recorded population's spike buffer, so unrecorded
// populations vectorise.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"
#include "ncl/Conversion/Philox.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Utils/Phi.h"
#include "ncl/random_streams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
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
/// near 0, where the quotient loses digits). The increment form keeps the fixed point at -a/b to the
/// rounding of x in float32 too (see the op's description).
struct ExpEulerLowering : public OpRewritePattern<ExpEulerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpEulerOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getType();
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
// Kernels
//===----------------------------------------------------------------------===//

namespace {

/// Neurons of an unrecorded population that run a whole call's steps
/// together: 8192 neurons' state (up to ~100 KB) stays in L2 between steps.
constexpr int64_t kNeuronBlock = 8192;

class PopulationLowering {
public:
  PopulationLowering(PopulationOp pop, OpBuilder &builder)
      : pop(pop), b(builder), loc(pop.getLoc()), ctx(pop.getContext()) {
    realType = Float64Type::get(ctx);
    pop.walk([&](StateWriteOp w) { realType = w.getValue().getType(); });
    for (auto [i, name] : llvm::enumerate(pop.getStateVars()))
      varIndex[cast<StringAttr>(name).getValue()] = i;
  }

  LogicalResult lower() {
    WalkResult unintegrated = pop.walk([](OdeOp ode) {
      ode.emitOpError("must be integrated before ncl-to-loops; run ncl-integrate first");
      return WalkResult::interrupt();
    });
    if (unintegrated.wasInterrupted())
      return failure();
    buildInit();
    return buildUpdate();
  }

private:
  MemRefType dyn(Type t) { return MemRefType::get({ShapedType::kDynamic}, t); }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// params, vars..., refractory_until
  SmallVector<Type> commonArgs() {
    SmallVector<Type> types{dyn(b.getF64Type())};
    for (size_t i = 0; i < varIndex.size(); ++i)
      types.push_back(dyn(realType));
    types.push_back(dyn(b.getI32Type()));
    return types;
  }

  func::FuncOp makeFunc(StringRef suffix, ArrayRef<Type> args) {
    auto type = FunctionType::get(ctx, args, {});
    auto f = func::FuncOp::create(b, loc, ("ncl_" + pop.getSymName() + "_" + suffix).str(), type);
    f.addEntryBlock();
    return f;
  }

  /// Loads every parameter used in `region` once, at the current point.
  void loadParams(Region &region, Value params) {
    region.walk([&](ParamOp p) {
      Value v = memref::LoadOp::create(b, loc, params, ValueRange{index(p.getIndex())});
      if (p.getType() != v.getType())
        v = arith::TruncFOp::create(b, loc, p.getType(), v);
      mapping.map(p.getResult(), v);
    });
  }

  /// Ops that mean the same in init and step; returns false for others.
  bool lowerNeuronOp(Operation &op, Value i, Value size, Value step) {
    if (auto r = dyn_cast<RandOp>(op)) {
      auto words = emitPhiloxDraw(b, loc, seed, step, i, static_cast<uint32_t>(r.getStream()));
      auto type = cast<FloatType>(r.getType());
      mapping.map(r.getResult(), r.getNormal() ? emitNormal(b, loc, words, type)
                                               : emitUniform01(b, loc, words, type));
      return true;
    }
    if (auto n = dyn_cast<NeuronIndexOp>(op)) {
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), i);
      mapping.map(n.getResult(), arith::SIToFPOp::create(b, loc, n.getType(), i64));
      return true;
    }
    if (auto n = dyn_cast<PopulationSizeOp>(op)) {
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), size);
      mapping.map(n.getResult(), arith::SIToFPOp::create(b, loc, n.getType(), i64));
      return true;
    }
    if (auto d = dyn_cast<DtOp>(op)) {
      mapping.map(d.getResult(), dtOf(d.getType()));
      return true;
    }
    return false;
  }

  /// The run's dt (the kernel's last argument, f64) as `type`.
  Value dtOf(Type type) {
    return type == dt64.getType() ? dt64 : Value(arith::TruncFOp::create(b, loc, type, dt64));
  }

  void buildInit() {
    SmallVector<Type> args = commonArgs();
    args.append({b.getIndexType(), b.getIndexType(), b.getIndexType(), b.getI64Type(), b.getF64Type()});
    func::FuncOp f = makeFunc("init", args);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    Block &entry = f.front();
    Value params = entry.getArgument(0), refr = entry.getArgument(varIndex.size() + 1);
    Value begin = entry.getArgument(varIndex.size() + 2), end = entry.getArgument(varIndex.size() + 3);
    Value size = entry.getArgument(varIndex.size() + 4);
    seed = entry.getArgument(varIndex.size() + 5);
    dt64 = entry.getArgument(varIndex.size() + 6);
    // Initial values draw with a step no simulation step uses (2^64 - 1).
    Value initStep = arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                                  static_cast<int64_t>(NCL_RANDOM_INIT_STEP));
    mapping.clear();
    loadParams(pop.getInit(), params);
    Value zero32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
    scf::ForOp::create(b, loc, begin, end, index(1), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         for (Operation &op : pop.getInit().front()) {
                           if (isa<ParamOp>(op) || lowerNeuronOp(op, i, size, initStep))
                             continue;
                           if (auto w = dyn_cast<StateWriteOp>(op)) {
                             Value var = entry.getArgument(1 + varIndex[w.getVar()]);
                             memref::StoreOp::create(b, loc, mapping.lookup(w.getValue()), var, ValueRange{i});
                             continue;
                           }
                           b.clone(op, mapping);
                         }
                         memref::StoreOp::create(b, loc, zero32, refr, ValueRange{i});
                         scf::YieldOp::create(b, loc);
                       });
    func::ReturnOp::create(b, loc);
  }

  LogicalResult buildUpdate() {
    SmallVector<Type> args = commonArgs();
    Type idx = b.getIndexType(), i64 = b.getI64Type();
    args.append({dyn(i64), dyn(i64), dyn(b.getI32Type()), idx, idx, idx, i64, i64, idx, idx,
                 MemRefType::get({2}, i64), b.getF64Type()});
    func::FuncOp f = makeFunc("update", args);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&f.front());
    Block &entry = f.front();
    unsigned nv = varIndex.size();
    Value params = entry.getArgument(0), refr = entry.getArgument(nv + 1);
    Value spikeStep = entry.getArgument(nv + 2), spikeIndex = entry.getArgument(nv + 3);
    spikeChannel = entry.getArgument(nv + 4);
    Value begin = entry.getArgument(nv + 5), end = entry.getArgument(nv + 6);
    size = entry.getArgument(nv + 7);
    seed = entry.getArgument(nv + 8);
    Value firstStep = entry.getArgument(nv + 9), numSteps = entry.getArgument(nv + 10);
    Value capacity = entry.getArgument(nv + 11), out = entry.getArgument(nv + 12);
    dt64 = entry.getArgument(nv + 13);
    bool record = pop.getRecordSpikes();

    mapping.clear();
    loadParams(pop.getStep(), params);
    Value width = arith::SubIOp::create(b, loc, end, begin);
    Value c0 = index(0), c1 = index(1);
    Value dtReal = dtOf(realType);

    auto stepIndices = [&](Value s) {
      Value step = arith::AddIOp::create(b, loc, firstStep, arith::IndexCastOp::create(b, loc, i64, s));
      Value next = arith::AddIOp::create(b, loc, step, arith::ConstantIntOp::create(b, loc, i64, 1));
      return std::make_pair(step, next);
    };
    auto neuronLoop = [&](Value lo, Value hi, Value count0, Value step, Value nextStep) {
      return scf::ForOp::create(
          b, loc, lo, hi, c1, ValueRange{count0},
          [&](OpBuilder &, Location, Value i, ValueRange count) {
            Value c = emitNeuron(entry, i, step, nextStep, dtReal, count[0], record, spikeStep,
                                 spikeIndex, refr);
            scf::YieldOp::create(b, loc, c);
          });
    };

    Value count, done;
    if (record) {
      // Steps outside neurons, so spikes come out in (step, index) order,
      // stopping at a step boundary rather than overflow the buffer: each
      // neuron records at most one spike and one of each event a step.
      int64_t channels = 1;
      pop.getStep().walk([&](EventOp) { ++channels; });
      Value perStep = channels == 1 ? width : arith::MulIOp::create(b, loc, width, index(channels));
      auto loop = scf::WhileOp::create(
          b, loc, TypeRange{idx, idx}, ValueRange{c0, c0},
          [&](OpBuilder &, Location, ValueRange iter) {
            Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, iter[0], numSteps);
            Value need = arith::AddIOp::create(b, loc, iter[1], perStep);
            Value room = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, need, capacity);
            scf::ConditionOp::create(b, loc, arith::AndIOp::create(b, loc, more, room), iter);
          },
          [&](OpBuilder &, Location, ValueRange iter) {
            auto [step, nextStep] = stepIndices(iter[0]);
            // The running count is the next free slot of the spike buffer.
            Value counted = neuronLoop(begin, end, iter[1], step, nextStep).getResult(0);
            Value s1 = arith::AddIOp::create(b, loc, iter[0], c1);
            scf::YieldOp::create(b, loc, ValueRange{s1, counted});
          });
      count = loop.getResult(1);
      done = loop.getResult(0);
    } else {
      // Nothing leaves the population during the call (no recording, no
      // projections yet), so each block of neurons can run all the steps
      // while it stays in cache: per neuron the same operations in the same
      // order as step by step, hence the same results, with the memory
      // traffic of one sweep per call instead of one per step. Spikes are
      // counted in i32 lanes, like refractory_until, so float32 state
      // vectorises at full width; widened once per block.
      Value block = index(kNeuronBlock);
      auto blocks = scf::ForOp::create(
          b, loc, begin, end, block, ValueRange{c0},
          [&](OpBuilder &, Location, Value lo, ValueRange total) {
            Value hi = arith::MinSIOp::create(b, loc, arith::AddIOp::create(b, loc, lo, block), end);
            auto steps = scf::ForOp::create(
                b, loc, c0, numSteps, c1, ValueRange{total[0]},
                [&](OpBuilder &, Location, Value s, ValueRange sum) {
                  auto [step, nextStep] = stepIndices(s);
                  Value zero = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
                  Value part = neuronLoop(lo, hi, zero, step, nextStep).getResult(0);
                  Value wide = arith::IndexCastOp::create(b, loc, b.getIndexType(), part);
                  scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, sum[0], wide)});
                });
            scf::YieldOp::create(b, loc, steps.getResult(0));
          });
      count = blocks.getResult(0);
      done = numSteps;
    }
    memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, i64, count), out, ValueRange{c0});
    memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, i64, done), out, ValueRange{c1});
    func::ReturnOp::create(b, loc);
    return success();
  }

  /// Appends (step, neuron, channel) where `fired` holds when recording, and
  /// returns the count plus `fired`.
  Value emitRecord(Value fired, int64_t channel, Value count, bool record, Value i, Value nextStep,
                   Value spikeStep, Value spikeIndex) {
    if (record) {
      Value slot = count;
      scf::IfOp::create(b, loc, fired, [&](OpBuilder &, Location) {
        memref::StoreOp::create(b, loc, nextStep, spikeStep, ValueRange{slot});
        Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), i);
        memref::StoreOp::create(b, loc, i64, spikeIndex, ValueRange{slot});
        Value c = arith::ConstantIntOp::create(b, loc, b.getI32Type(), channel);
        memref::StoreOp::create(b, loc, c, spikeChannel, ValueRange{slot});
        scf::YieldOp::create(b, loc);
      });
    }
    Value inc = count.getType().isIndex()
                    ? Value(arith::IndexCastOp::create(
                          b, loc, b.getIndexType(),
                          arith::ExtUIOp::create(b, loc, b.getI64Type(), fired)))
                    : Value(arith::ExtUIOp::create(b, loc, count.getType(), fired));
    return arith::AddIOp::create(b, loc, count, inc);
  }

  /// The step at which a neuron that spiked in the step ending at
  /// `nextStep32` is free again: nextStep32 + roundeven(duration / dt),
  /// saturated to [nextStep32, INT32_MAX]. A period longer than the steps
  /// left (even infinite) holds the neuron for the rest of the run; a
  /// negative or NaN one (refused by nclc and the runtime where it is a
  /// parameter) does not hold it. The clamp happens in f64, where every
  /// i32 is exact, so the conversion and the addition cannot overflow.
  Value refractoryEnd(Value duration, Value dt, Value nextStep32) {
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
    steps = arith::MinNumFOp::create(b, loc, steps,
                                     arith::SIToFPOp::create(b, loc, f64, stepsLeft));
    Value n = arith::FPToSIOp::create(b, loc, b.getI32Type(), steps);
    return arith::AddIOp::create(b, loc, nextStep32, n);
  }

  /// One neuron, one step; returns the updated spike count.
  Value emitNeuron(Block &entry, Value i, Value step, Value nextStep, Value dt, Value count,
                   bool record, Value spikeStep, Value spikeIndex, Value refr) {
    Value step32 = arith::TruncIOp::create(b, loc, b.getI32Type(), step);
    Value nextStep32 = arith::TruncIOp::create(b, loc, b.getI32Type(), nextStep);
    // Step indices are compared as i32, the width of refractory_until, so
    // the comparison vectorises in the same lanes as float32 state. The
    // refractory state read at the start of the step may be released by
    // ncl.is_refractory and is written back by ncl.refractory.
    Value refractoryUntil;
    for (Operation &op : pop.getStep().front()) {
      if (isa<ParamOp>(op) || lowerNeuronOp(op, i, size, step))
        continue;
      if (auto r = dyn_cast<StateReadOp>(op)) {
        Value var = entry.getArgument(1 + varIndex[r.getVar()]);
        mapping.map(r.getResult(), memref::LoadOp::create(b, loc, var, ValueRange{i}));
      } else if (auto w = dyn_cast<StateWriteOp>(op)) {
        Value var = entry.getArgument(1 + varIndex[w.getVar()]);
        memref::StoreOp::create(b, loc, mapping.lookup(w.getValue()), var, ValueRange{i});
      } else if (auto r = dyn_cast<IsRefractoryOp>(op)) {
        refractoryUntil = memref::LoadOp::create(b, loc, refr, ValueRange{i});
        Value refractory = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, refractoryUntil, step32);
        if (Value release = r.getRelease()) {
          Value released = arith::AndIOp::create(b, loc, refractory, mapping.lookup(release));
          refractory = arith::XOrIOp::create(b, loc, refractory, released);
          refractoryUntil = arith::SelectOp::create(b, loc, released, step32, refractoryUntil);
          memref::StoreOp::create(b, loc, refractoryUntil, refr, ValueRange{i});
        }
        mapping.map(r.getResult(), refractory);
      } else if (auto t = dyn_cast<TimeOp>(op)) {
        Value time = arith::MulFOp::create(b, loc, arith::SIToFPOp::create(b, loc, b.getF64Type(), step),
                                           dt64);
        if (t.getType() != time.getType())
          time = arith::TruncFOp::create(b, loc, t.getType(), time);
        mapping.map(t.getResult(), time);
      } else if (auto t = dyn_cast<ThresholdOp>(op)) {
        Value fired = mapping.lookup(t.getCondition());
        if (Value refractory = t.getRefractory()) {
          Value free = arith::XOrIOp::create(b, loc, mapping.lookup(refractory),
                                             arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
          fired = arith::AndIOp::create(b, loc, fired, free);
        }
        mapping.map(t.getFired(), fired);
        count = emitRecord(fired, 0, count, record, i, nextStep, spikeStep, spikeIndex);
      } else if (auto ev = dyn_cast<EventOp>(op)) {
        Value happened = mapping.lookup(ev.getCondition());
        mapping.map(ev.getHappened(), happened);
        // Unrecorded populations count only spikes; their events just act.
        if (record)
          count = emitRecord(happened, ev.getChannelAttr().getInt(), count, record, i, nextStep,
                             spikeStep, spikeIndex);
      } else if (auto r = dyn_cast<ResetOp>(op)) {
        // A value that is NaN or infinite is not reset: it stays in the state,
        // where the runtime finds it after the step (the run stops there,
        // naming the step) instead of a reset hiding it. Branch-free.
        Value old = mapping.lookup(r.getValue());
        Value inf = arith::ConstantOp::create(
            b, loc, b.getFloatAttr(old.getType(), std::numeric_limits<double>::infinity()));
        Value finite = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                             math::AbsFOp::create(b, loc, old), inf);
        Value apply = arith::AndIOp::create(b, loc, mapping.lookup(r.getFired()), finite);
        mapping.map(r.getResult(),
                    arith::SelectOp::create(b, loc, apply, mapping.lookup(r.getResetValue()), old));
      } else if (auto r = dyn_cast<RefractoryOp>(op)) {
        // Free again at the step starting duration (rounded to steps) after
        // t + dt; without a duration, until released.
        Value until;
        if (Value duration = r.getDuration())
          until = refractoryEnd(mapping.lookup(duration), dt, nextStep32);
        else {
          until = arith::ConstantIntOp::create(b, loc, b.getI32Type(), INT32_MAX);
        }
        if (!refractoryUntil)
          refractoryUntil = memref::LoadOp::create(b, loc, refr, ValueRange{i});
        Value next = arith::SelectOp::create(b, loc, mapping.lookup(r.getFired()), until, refractoryUntil);
        memref::StoreOp::create(b, loc, next, refr, ValueRange{i});
      } else {
        b.clone(op, mapping);
      }
    }
    return count;
  }

  PopulationOp pop;
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  Type realType;
  llvm::StringMap<unsigned> varIndex;
  IRMapping mapping;
  Value size, seed, dt64, spikeChannel; ///< of the kernel being built
};

struct ConvertNclToLoopsPass
    : public mlir::ncl::impl::ConvertNclToLoopsBase<ConvertNclToLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<PopulationOp> pops(module.getOps<PopulationOp>());
    OpBuilder builder(module.getContext());
    SmallVector<NamedAttribute> maxDt, minDt;
    for (PopulationOp pop : pops) {
      if (auto limit = pop->getAttrOfType<FloatAttr>("ncl.max_dt"))
        maxDt.push_back(builder.getNamedAttr(pop.getSymName(), limit));
      if (auto limit = pop->getAttrOfType<FloatAttr>("ncl.min_dt"))
        minDt.push_back(builder.getNamedAttr(pop.getSymName(), limit));
      builder.setInsertionPoint(pop);
      PopulationLowering lowering(pop, builder);
      if (failed(lowering.lower()))
        return signalPassFailure();
      pop.erase();
    }
    if (!maxDt.empty())
      module->setAttr("ncl.max_dt", builder.getDictionaryAttr(maxDt));
    if (!minDt.empty())
      module->setAttr("ncl.min_dt", builder.getDictionaryAttr(minDt));
    RewritePatternSet patterns(&getContext());
    populateExpEulerLoweringPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
