//===- Integrate.cpp - Choose and apply an integration scheme -------------===//
//
// ncl-integrate rewrites every ncl.ode into explicit updates. The linearity
// analysis walks the ODE region's SSA graph from the yielded value and
// writes dx/dt as a + b*x, materialising a and b as arith ops before the ODE
// (ops that do not depend on x are simply cloned there). When that fails the
// right-hand side is not linear in x and forward Euler is used instead.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLINTEGRATE
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using namespace mlir::ncl;

namespace {

/// dx/dt written as a + b*x; a null Value stands for zero.
struct Affine {
  Value a, b;
};

class LinearityAnalysis {
public:
  LinearityAnalysis(OdeOp ode, OpBuilder &builder)
      : ode(ode), builder(builder), x(ode.getRhs().getArgument(0)), loc(ode.getLoc()) {
    // Ops independent of x are cloned before the ODE once, in order.
    for (Operation &op : ode.getRhs().front().without_terminator()) {
      bool dependent = llvm::any_of(op.getOperands(), [&](Value v) {
        return v == x || dependentOps.contains(v.getDefiningOp());
      });
      if (dependent)
        dependentOps.insert(&op);
    }
  }

  std::optional<Affine> analyze(Value v) {
    if (v == x)
      return Affine{Value(), constant(1.0)};
    Operation *def = v.getDefiningOp();
    if (!def || !dependentOps.contains(def))
      return Affine{independent(v), Value()};
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    std::optional<Affine> result = analyzeOp(def);
    if (result)
      memo[v] = *result;
    return result;
  }

private:
  std::optional<Affine> analyzeOp(Operation *def) {
    if (auto add = dyn_cast<arith::AddFOp>(def)) {
      auto l = analyze(add.getLhs()), r = analyze(add.getRhs());
      if (!l || !r)
        return std::nullopt;
      return Affine{plus(l->a, r->a), plus(l->b, r->b)};
    }
    if (auto sub = dyn_cast<arith::SubFOp>(def)) {
      auto l = analyze(sub.getLhs()), r = analyze(sub.getRhs());
      if (!l || !r)
        return std::nullopt;
      return Affine{minus(l->a, r->a), minus(l->b, r->b)};
    }
    if (auto neg = dyn_cast<arith::NegFOp>(def)) {
      auto o = analyze(neg.getOperand());
      if (!o)
        return std::nullopt;
      return Affine{minus(Value(), o->a), minus(Value(), o->b)};
    }
    if (auto mul = dyn_cast<arith::MulFOp>(def)) {
      auto l = analyze(mul.getLhs()), r = analyze(mul.getRhs());
      if (!l || !r)
        return std::nullopt;
      if (l->b && r->b)
        return std::nullopt; // x*x
      const Affine &lin = l->b ? *l : *r;
      Value c = l->b ? r->a : l->a;
      return Affine{times(lin.a, c), times(lin.b, c)};
    }
    if (auto div = dyn_cast<arith::DivFOp>(def)) {
      auto l = analyze(div.getLhs()), r = analyze(div.getRhs());
      if (!l || !r || r->b)
        return std::nullopt; // division by something depending on x
      if (!r->a)
        return std::nullopt; // division by zero
      return Affine{divide(l->a, r->a), divide(l->b, r->a)};
    }
    return std::nullopt;
  }

  Value independent(Value v) {
    if (v.getParentRegion() != &ode.getRhs())
      return v; // captured from the enclosing step
    if (Value mapped = mapping.lookupOrNull(v))
      return mapped;
    Operation *def = v.getDefiningOp();
    for (Value operand : def->getOperands())
      independent(operand);
    Operation *clone = builder.clone(*def, mapping);
    return clone->getResult(cast<OpResult>(v).getResultNumber());
  }

  Value constant(double value) {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getFloatAttr(x.getType(), value));
  }
  Value plus(Value l, Value r) {
    if (!l) return r;
    if (!r) return l;
    return arith::AddFOp::create(builder, loc, l, r);
  }
  Value minus(Value l, Value r) {
    if (!r) return l;
    if (!l) {
      // Keep a and b readable: -(-y) = y, and -c is a constant.
      if (auto neg = r.getDefiningOp<arith::NegFOp>())
        return neg.getOperand();
      if (auto c = r.getDefiningOp<arith::ConstantOp>())
        if (auto f = dyn_cast<FloatAttr>(c.getValue()))
          return constant(-f.getValueAsDouble());
      return arith::NegFOp::create(builder, loc, r);
    }
    return arith::SubFOp::create(builder, loc, l, r);
  }
  Value times(Value l, Value r) {
    if (!l || !r) return Value();
    return arith::MulFOp::create(builder, loc, l, r);
  }
  Value divide(Value l, Value r) {
    if (!l) return Value();
    return arith::DivFOp::create(builder, loc, l, r);
  }

  OdeOp ode;
  OpBuilder &builder;
  Value x;
  Location loc;
  llvm::SmallPtrSet<Operation *, 16> dependentOps;
  llvm::DenseMap<Value, Affine> memo;
  IRMapping mapping;
};

/// x + dt*f(x): the region inlined with x bound to the current state.
Value forwardEuler(OdeOp ode, double dt, OpBuilder &builder) {
  IRMapping mapping;
  mapping.map(ode.getRhs().getArgument(0), ode.getState());
  for (Operation &op : ode.getRhs().front().without_terminator())
    builder.clone(op, mapping);
  auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
  Value slope = mapping.lookup(yield.getValue());
  Location loc = ode.getLoc();
  Value step = arith::ConstantOp::create(builder, loc, builder.getFloatAttr(slope.getType(), dt));
  Value inc = arith::MulFOp::create(builder, loc, slope, step);
  return arith::AddFOp::create(builder, loc, ode.getState(), inc);
}

struct NclIntegratePass : public mlir::ncl::impl::NclIntegrateBase<NclIntegratePass> {
  void runOnOperation() override {
    SmallVector<OdeOp> odes;
    getOperation().walk([&](OdeOp ode) { odes.push_back(ode); });
    for (OdeOp ode : odes) {
      auto pop = ode->getParentOfType<PopulationOp>();
      double dt = pop.getDt().convertToDouble();
      OpBuilder builder(ode);
      Location loc = ode.getLoc();
      auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
      Value next;
      LinearityAnalysis analysis(ode, builder);
      if (std::optional<Affine> lin = analysis.analyze(yield.getValue())) {
        auto zero = [&] {
          return arith::ConstantOp::create(builder, loc, builder.getFloatAttr(ode.getType(), 0.0));
        };
        Value a = lin->a ? lin->a : zero();
        Value b = lin->b ? lin->b : zero();
        next = ExpEulerOp::create(builder, loc, ode.getType(), ode.getState(), a, b,
                                  builder.getF64FloatAttr(dt));
      } else {
        ode.emitRemark() << "dx/dt of '" << ode.getVar()
                         << "' is not linear in it; integrating with forward Euler";
        next = forwardEuler(ode, dt, builder);
      }
      if (Value clamp = ode.getClamp())
        next = arith::SelectOp::create(builder, loc, clamp, ode.getState(), next);
      ode.replaceAllUsesWith(next);
      ode.erase();
    }
  }
};

} // namespace
