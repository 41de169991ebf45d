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
  /// `outside` maps values captured by the region (the start-of-step state
  /// of the other variables) to the values to use instead, e.g. the state
  /// at a sub-step.
  LinearityAnalysis(OdeOp ode, OpBuilder &builder, const IRMapping &outside = IRMapping())
      : ode(ode), builder(builder), x(ode.getRhs().getArgument(0)), loc(ode.getLoc()),
        mapping(outside) {
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
      return mapping.lookupOrDefault(v); // captured from the enclosing step
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

/// Whether `v` changes during a step: it depends on the state, the time or
/// a random draw (not only on parameters, constants and the neuron index).
bool variesInStep(Value v, llvm::DenseSet<Value> &seen) {
  if (!seen.insert(v).second)
    return false;
  Operation *def = v.getDefiningOp();
  if (!def)
    return true; // a region argument: the integrated variable itself
  if (isa<StateReadOp, TimeOp, RandOp, OdeOp>(def))
    return true;
  return llvm::any_of(def->getOperands(), [&](Value o) { return variesInStep(o, seen); });
}

/// Integrates the ODEs of one population's step as one system, with the
/// scheme the neuron asks for or the one the classification picks.
class SystemIntegrator {
public:
  SystemIntegrator(PopulationOp pop, SmallVector<OdeOp> odes)
      : pop(pop), odes(std::move(odes)), builder(this->odes.front()) {
    dt = pop.getDt().convertToDouble();
    method = pop.getMethod() ? pop.getMethod()->str() : "auto";
    substeps = pop.getSubsteps() ? static_cast<int64_t>(*pop.getSubsteps()) : 1;
    // Insert after the last ODE, where every operand of every ODE exists.
    builder.setInsertionPointAfter(this->odes.back());
  }

  LogicalResult run() {
    // Classify: conditionally linear (every x' = a + b*x with a, b free of
    // x) or not, and, for `exact`, with a and b constant over the step.
    SmallVector<bool> linear, constant;
    {
      OpBuilder scratch(pop.getContext());
      Block block;
      scratch.setInsertionPointToStart(&block);
      for (OdeOp ode : odes) {
        LinearityAnalysis analysis(ode, scratch);
        auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
        std::optional<Affine> lin = analysis.analyze(yield.getValue());
        linear.push_back(lin.has_value());
        llvm::DenseSet<Value> seen;
        bool varies = lin && ((lin->a && variesInStep(lin->a, seen)) ||
                              (lin->b && variesInStep(lin->b, seen)));
        constant.push_back(lin && !varies);
      }
      block.dropAllDefinedValueUses();
      while (!block.empty())
        block.back().erase();
    }
    bool allLinear = llvm::all_of(linear, [](bool l) { return l; });
    std::string chosen = method;
    if (method == "auto")
      chosen = allLinear ? "exp_euler" : "rk4";
    if (method == "exact" || method == "exp_euler") {
      for (auto [k, ode] : llvm::enumerate(odes)) {
        if (method == "exp_euler" && !linear[k])
          return ode.emitError() << "method 'exp_euler' needs d" << ode.getVar()
                                 << "/dt linear in " << ode.getVar()
                                 << " (a + b*" << ode.getVar() << "), but it is not";
        if (method == "exact" && !constant[k])
          return ode.emitError()
                 << "method 'exact' needs d" << ode.getVar() << "/dt = a + b*" << ode.getVar()
                 << " with a and b constant during a step, but "
                 << (linear[k] ? "they depend on other state, the time or random draws"
                               : "it is not linear in " + ode.getVar().str());
      }
      chosen = "exp_euler";
    }
    // Explain each choice: `nclc -v` / `--explain` prints these.
    for (auto [k, ode] : llvm::enumerate(odes)) {
      std::string why;
      if (method == "auto")
        why = allLinear ? (constant[k] ? "linear with constant coefficients: exact"
                                       : "linear in it, with coefficients that change: first order")
                        : "the system is not linear in each variable, so Runge-Kutta 4";
      else
        why = "asked for with 'method " + method + "'";
      std::string name = chosen == "exp_euler" ? "exponential Euler" : chosen;
      ode.emitRemark() << "d" << ode.getVar() << "/dt: " << name
                       << (substeps > 1 ? " with " + std::to_string(substeps) + " sub-steps" : "")
                       << " (" << why << ")";
    }

    SmallVector<Value> x;
    for (OdeOp ode : odes)
      x.push_back(ode.getState());
    SmallVector<Value> start = x;
    double h = dt / static_cast<double>(substeps);
    for (int64_t s = 0; s < substeps; ++s)
      x = chosen == "exp_euler" ? expEulerStep(x, h) : rungeKuttaStep(chosen, x, h);
    for (auto [k, ode] : llvm::enumerate(odes)) {
      Value next = x[k];
      if (Value clamp = ode.getClamp())
        next = arith::SelectOp::create(builder, ode.getLoc(), clamp, start[k], next);
      ode.replaceAllUsesWith(next);
    }
    for (OdeOp ode : odes)
      ode.erase();
    return success();
  }

private:
  Value constant(double v, Type t) {
    return arith::ConstantOp::create(builder, pop.getLoc(), builder.getFloatAttr(t, v));
  }

  /// Maps every ODE's start-of-step value to `x` (for captured uses).
  IRMapping stateMapping(ArrayRef<Value> x) {
    IRMapping m;
    for (auto [k, ode] : llvm::enumerate(odes))
      m.map(ode.getState(), x[k]);
    return m;
  }

  /// dx/dt at state x; a clamped variable does not move.
  SmallVector<Value> derivatives(ArrayRef<Value> x) {
    SmallVector<Value> k;
    for (auto [i, ode] : llvm::enumerate(odes)) {
      IRMapping m = stateMapping(x);
      m.map(ode.getRhs().getArgument(0), x[i]);
      for (Operation &op : ode.getRhs().front().without_terminator())
        builder.clone(op, m);
      Value d = m.lookup(cast<YieldOp>(ode.getRhs().front().getTerminator()).getValue());
      if (Value clamp = ode.getClamp())
        d = arith::SelectOp::create(builder, ode.getLoc(), clamp, constant(0.0, d.getType()), d);
      k.push_back(d);
    }
    return k;
  }

  /// x + c*k, elementwise.
  SmallVector<Value> axpy(ArrayRef<Value> x, double c, ArrayRef<Value> k) {
    SmallVector<Value> out;
    for (auto [xi, ki] : llvm::zip(x, k)) {
      Location loc = pop.getLoc();
      Value scaled = arith::MulFOp::create(builder, loc, ki, constant(c, ki.getType()));
      out.push_back(arith::AddFOp::create(builder, loc, xi, scaled));
    }
    return out;
  }

  SmallVector<Value> rungeKuttaStep(StringRef scheme, ArrayRef<Value> x, double h) {
    SmallVector<Value> k1 = derivatives(x);
    if (scheme == "euler")
      return axpy(x, h, k1);
    if (scheme == "rk2") { // explicit midpoint
      SmallVector<Value> k2 = derivatives(axpy(x, h / 2, k1));
      return axpy(x, h, k2);
    }
    // Classic fourth-order Runge-Kutta.
    SmallVector<Value> k2 = derivatives(axpy(x, h / 2, k1));
    SmallVector<Value> k3 = derivatives(axpy(x, h / 2, k2));
    SmallVector<Value> k4 = derivatives(axpy(x, h, k3));
    SmallVector<Value> out = axpy(x, h / 6, k1);
    out = axpy(out, h / 3, k2);
    out = axpy(out, h / 3, k3);
    return axpy(out, h / 6, k4);
  }

  /// Every variable by one exponential-Euler step from the same state x.
  SmallVector<Value> expEulerStep(ArrayRef<Value> x, double h) {
    SmallVector<Value> out;
    for (auto [i, ode] : llvm::enumerate(odes)) {
      LinearityAnalysis analysis(ode, builder, stateMapping(x));
      auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
      std::optional<Affine> lin = analysis.analyze(yield.getValue());
      Location loc = ode.getLoc();
      Type t = ode.getType();
      Value a = lin->a ? lin->a : constant(0.0, t);
      Value b = lin->b ? lin->b : constant(0.0, t);
      out.push_back(ExpEulerOp::create(builder, loc, t, x[i], a, b, builder.getF64FloatAttr(h)));
    }
    return out;
  }

  PopulationOp pop;
  SmallVector<OdeOp> odes;
  OpBuilder builder;
  double dt;
  std::string method;
  int64_t substeps;
};

struct NclIntegratePass : public mlir::ncl::impl::NclIntegrateBase<NclIntegratePass> {
  void runOnOperation() override {
    SmallVector<PopulationOp> pops(getOperation().getOps<PopulationOp>());
    for (PopulationOp pop : pops) {
      SmallVector<OdeOp> odes(pop.getStep().getOps<OdeOp>());
      if (odes.empty())
        continue;
      if (failed(SystemIntegrator(pop, odes).run()))
        return signalPassFailure();
    }
  }
};

} // namespace
