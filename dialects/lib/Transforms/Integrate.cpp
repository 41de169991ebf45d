//===- Integrate.cpp - Choose and apply an integration scheme -------------===//
//
// ncl-integrate rewrites each population's ncl.ode ops, as one system, into
// explicit updates. The linearity analysis walks an ODE region's SSA graph
// from the yielded value and writes dx/dt as an affine function of chosen
// variables (its own state, the other states, or the noise terms),
// materialising the coefficients as IR (ops free of those variables are
// simply cloned). SystemIntegrator uses it to pick and build the scheme.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Transforms/Passes.h"
#include "ncl/Dialect/Ncl/Utils/Phi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <functional>
#include <map>

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLINTEGRATE
#include "ncl/Dialect/Ncl/Transforms/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;
using namespace mlir::ncl;

namespace {

/// dx/dt written as a + sum_k b[k]*vars[k]; a null Value stands for zero.
struct Affine {
  Value a;
  SmallVector<Value> b;
};

/// Writes an ODE's right-hand side as an affine function of chosen
/// variables (its own state, and possibly the other ODEs' states), building
/// a and b as IR at the builder's insertion point. Fails when the
/// right-hand side is not affine in them.
class LinearityAnalysis {
public:
  /// With no `vars`, the only variable is the ODE's own state. `outside`
  /// maps values captured by the region (the start-of-step state of the
  /// other variables) to the values to use instead, e.g. at a sub-step.
  LinearityAnalysis(OdeOp ode, OpBuilder &builder, const IRMapping &outside = IRMapping(),
                    SmallVector<Value> vars = {})
      : ode(ode), builder(builder), loc(ode.getLoc()), vars(std::move(vars)), mapping(outside) {
    if (this->vars.empty())
      this->vars.push_back(ode.getRhs().getArgument(0));
    auto isVar = [&](Value v) { return llvm::is_contained(this->vars, v); };
    for (Operation &op : ode.getRhs().front().without_terminator()) {
      bool dependent = llvm::any_of(op.getOperands(), [&](Value v) {
        return isVar(v) || dependentOps.contains(v.getDefiningOp());
      });
      if (dependent)
        dependentOps.insert(&op);
    }
  }

  std::optional<Affine> analyze(Value v) {
    for (auto [k, var] : llvm::enumerate(vars))
      if (v == var) {
        Affine unit{Value(), SmallVector<Value>(vars.size())};
        unit.b[k] = constant(1.0);
        return unit;
      }
    Operation *def = v.getDefiningOp();
    if (!def || !dependentOps.contains(def))
      return Affine{independent(v), SmallVector<Value>(vars.size())};
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    std::optional<Affine> result = analyzeOp(def);
    if (result)
      memo[v] = *result;
    return result;
  }

private:
  static bool dependsOnVars(const Affine &f) {
    return llvm::any_of(f.b, [](Value b) { return static_cast<bool>(b); });
  }

  template <typename F> Affine combine(const Affine &l, const Affine &r, F op) {
    Affine out{op(l.a, r.a), SmallVector<Value>(vars.size())};
    for (size_t k = 0; k < vars.size(); ++k)
      out.b[k] = op(l.b[k], r.b[k]);
    return out;
  }
  template <typename F> Affine scale(const Affine &f, Value c, F op) {
    Affine out{op(f.a, c), SmallVector<Value>(vars.size())};
    for (size_t k = 0; k < vars.size(); ++k)
      out.b[k] = op(f.b[k], c);
    return out;
  }

  std::optional<Affine> analyzeOp(Operation *def) {
    auto plusOp = [&](Value l, Value r) { return plus(l, r); };
    auto minusOp = [&](Value l, Value r) { return minus(l, r); };
    if (auto add = dyn_cast<arith::AddFOp>(def)) {
      auto l = analyze(add.getLhs()), r = analyze(add.getRhs());
      if (!l || !r)
        return std::nullopt;
      return combine(*l, *r, plusOp);
    }
    if (auto sub = dyn_cast<arith::SubFOp>(def)) {
      auto l = analyze(sub.getLhs()), r = analyze(sub.getRhs());
      if (!l || !r)
        return std::nullopt;
      return combine(*l, *r, minusOp);
    }
    if (auto neg = dyn_cast<arith::NegFOp>(def)) {
      auto o = analyze(neg.getOperand());
      if (!o)
        return std::nullopt;
      return combine(Affine{Value(), SmallVector<Value>(vars.size())}, *o, minusOp);
    }
    if (auto mul = dyn_cast<arith::MulFOp>(def)) {
      auto l = analyze(mul.getLhs()), r = analyze(mul.getRhs());
      if (!l || !r)
        return std::nullopt;
      if (dependsOnVars(*l) && dependsOnVars(*r))
        return std::nullopt; // x*x, x*y
      const Affine &lin = dependsOnVars(*l) ? *l : *r;
      Value c = dependsOnVars(*l) ? r->a : l->a;
      return scale(lin, c, [&](Value v, Value k) { return times(v, k); });
    }
    if (auto div = dyn_cast<arith::DivFOp>(def)) {
      auto l = analyze(div.getLhs()), r = analyze(div.getRhs());
      if (!l || !r || dependsOnVars(*r))
        return std::nullopt; // division by something depending on x
      if (!r->a)
        return std::nullopt; // division by zero
      return scale(*l, r->a, [&](Value v, Value k) { return divide(v, k); });
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
    return arith::ConstantOp::create(builder, loc, builder.getFloatAttr(ode.getType(), value));
  }
  Value plus(Value l, Value r) {
    if (!l)
      return r;
    if (!r)
      return l;
    return arith::AddFOp::create(builder, loc, l, r);
  }
  Value minus(Value l, Value r) {
    if (!r)
      return l;
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
    if (!l || !r)
      return Value();
    return arith::MulFOp::create(builder, loc, l, r);
  }
  Value divide(Value l, Value r) {
    if (!l)
      return Value();
    return arith::DivFOp::create(builder, loc, l, r);
  }

  OdeOp ode;
  OpBuilder &builder;
  Location loc;
  SmallVector<Value> vars;
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
  if (isa<StateReadOp, SynapseReadOp, TimeOp, RandOp, PoissonOp, OdeOp>(def))
    return true;
  return llvm::any_of(def->getOperands(), [&](Value o) { return variesInStep(o, seen); });
}

/// Whether parameter `name` is a shared parameter (or input: synapses read
/// its population value) of `population`: constant between a synapse's
/// events.
bool isSharedParameter(Operation *from, FlatSymbolRefAttr population, StringRef name) {
  auto pop = SymbolTable::lookupNearestSymbolFrom<PopulationOp>(from, population);
  return pop && llvm::any_of(pop.getParams(),
                             [&](Attribute a) { return cast<ParameterAttr>(a).getName() == name; });
}

/// What makes `v` change between a synapse's events (empty: nothing): the
/// time, a random draw, or a neuron's variable other than a shared
/// parameter.
std::string changesBetweenEvents(Value v, ProjectionOp projection, llvm::DenseSet<Value> &seen) {
  if (!seen.insert(v).second)
    return "";
  Operation *def = v.getDefiningOp();
  if (!def)
    return "";
  if (isa<TimeOp>(def))
    return "it reads t";
  if (isa<RandOp, PoissonOp>(def))
    return "it draws random numbers";
  if (auto read = dyn_cast<PreReadOp>(def))
    if (!isSharedParameter(projection, projection.getPreAttr(), read.getVar()))
      return "it reads " + read.getVar().str() + "_pre, a variable of the presynaptic neuron";
  if (auto read = dyn_cast<PostReadOp>(def))
    if (!isSharedParameter(projection, projection.getPostAttr(), read.getVar()))
      return "it reads " + read.getVar().str() + "_post, a variable of the postsynaptic neuron";
  for (Value operand : def->getOperands())
    if (std::string why = changesBetweenEvents(operand, projection, seen); !why.empty())
      return why;
  return "";
}

/// Integrates the ODEs of one population's step as one system, with the
/// scheme the neuron asks for or the one the classification picks.
class SystemIntegrator {
public:
  /// The ODEs `odes` of `owner`'s per-step region `block` (a population's
  /// step, a projection's dynamics), with the scheme asked for.
  SystemIntegrator(Operation *owner, Block &block, SmallVector<OdeOp> odes,
                   IntegrationMethod method, int64_t substeps)
      : owner(owner), block(&block), odes(std::move(odes)), builder(this->odes.front()),
        method(method), substeps(substeps) {
    // Insert after the last ODE, where every operand of every ODE exists.
    builder.setInsertionPointAfter(this->odes.back());
    usesTime = llvm::any_of(this->odes, [&](OdeOp ode) { return dependsOnTime(ode); });
  }

  /// Whether the scheme run() chose is explicit (its stability depends on
  /// dt), for the runtime's check of a dt chosen at load time.
  bool explicitScheme() const { return explicitChosen; }

  /// Why these synapse ODEs cannot be updated only at the synapse's events
  /// (empty: they can), and the equation at fault in `culprit`: each must
  /// be x' = a + b*x in its own variable alone, with a and b constant
  /// between events (parameters, constants and the synapse's other
  /// variables, which change only at events).
  std::string eventDrivenObstacle(ProjectionOp projection, OdeOp &culprit) {
    std::string reason;
    inScratch([&](OpBuilder &scratch) {
      for (auto [i, ode] : llvm::enumerate(odes)) {
        culprit = ode;
        if (!ode.getRhs().getOps<NoiseOp>().empty()) {
          reason = "it has white noise";
          return;
        }
        LinearityAnalysis analysis(ode, scratch, IRMapping(), systemVars(i));
        auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
        std::optional<Affine> lin = analysis.analyze(yield.getValue());
        if (!lin) {
          reason = "it is not linear in the synapse's variables";
          return;
        }
        for (auto [j, b] : llvm::enumerate(lin->b))
          if (b && j != i) {
            reason = "it depends on " + odes[j].getVar().str() +
                     " (a coupled system; event-driven updates take each x' = a + b*x alone)";
            return;
          }
        llvm::DenseSet<Value> seen;
        for (Value c : {lin->a, lin->b[i]})
          if (c && (reason = changesBetweenEvents(c, projection, seen), !reason.empty()))
            return;
      }
    });
    return reason;
  }

  /// Advances every variable over `elapsed` (the time since the synapse's
  /// last event) by its exact solution, x e^{b*elapsed} + a*elapsed*phi(b*elapsed)
  /// for x' = a + b*x with a and b constant over the interval (the caller
  /// checked this: eventDrivenObstacle).
  void runEventDriven(Value elapsed) {
    SmallVector<Value> start, next;
    for (OdeOp ode : odes) {
      LinearityAnalysis analysis(ode, builder);
      auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
      std::optional<Affine> lin = analysis.analyze(yield.getValue());
      assert(lin && "checked by eventDrivenObstacle");
      Location loc = ode.getLoc();
      Value x = ode.getState(), a = lin->a, b = lin->b[0], v = x;
      if (b) {
        Value z = arith::MulFOp::create(builder, loc, b, elapsed);
        v = arith::MulFOp::create(builder, loc, math::ExpOp::create(builder, loc, z), x);
        if (a) {
          Value gain = arith::MulFOp::create(builder, loc, elapsed,
                                             buildPhi(builder, loc, z, PhiSeries::Linear));
          v = arith::AddFOp::create(builder, loc, v, arith::MulFOp::create(builder, loc, a, gain));
        }
      } else if (a) {
        v = arith::AddFOp::create(builder, loc, x, arith::MulFOp::create(builder, loc, a, elapsed));
      }
      start.push_back(x);
      next.push_back(v);
    }
    (void)finish(start, next);
  }

  LogicalResult run() {
    for (OdeOp ode : odes)
      if (!ode.getRhs().getOps<NoiseOp>().empty())
        return runStochastic();
    // Classify: conditionally linear (every x' = a + b*x with a, b free of
    // x) or not, and, for `exact`, with a and b constant over the step.
    SmallVector<bool> linear, constant;
    inScratch([&](OpBuilder &scratch) {
      for (OdeOp ode : odes) {
        LinearityAnalysis analysis(ode, scratch);
        auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
        std::optional<Affine> lin = analysis.analyze(yield.getValue());
        linear.push_back(lin.has_value());
        llvm::DenseSet<Value> seen;
        bool varies = lin && ((lin->a && variesInStep(lin->a, seen)) ||
                              (lin->b[0] && variesInStep(lin->b[0], seen)));
        constant.push_back(lin && !varies);
      }
    });
    bool allLinear = llvm::all_of(linear, [](bool l) { return l; });
    // A coupled linear system with constant coefficients (v driven by a
    // decaying synaptic current) is integrated exactly by its matrix
    // exponential; a decoupled one by exponential Euler, which is then exact.
    if ((method == IntegrationMethod::Auto || method == IntegrationMethod::Exact) &&
        coupledLinearSystem()) {
      for (OdeOp ode : odes)
        ode.emitRemark() << "d" << ode.getVar() << "/dt: exact propagator (a coupled linear system "
                         << "with constant coefficients: the matrix exponential, once per call)";
      return applyPropagator();
    }
    std::string chosen = stringifyIntegrationMethod(method).str();
    if (method == IntegrationMethod::Auto)
      chosen = allLinear ? "exp_euler" : "rk4";
    if (method == IntegrationMethod::Exact || method == IntegrationMethod::ExpEuler) {
      for (auto [k, ode] : llvm::enumerate(odes)) {
        if (method == IntegrationMethod::ExpEuler && !linear[k])
          return ode.emitError() << "method 'exp_euler' needs d" << ode.getVar() << "/dt linear in "
                                 << ode.getVar() << " (a + b*" << ode.getVar()
                                 << "), but it is not";
        if (method == IntegrationMethod::Exact && !constant[k])
          return ode.emitError() << "method 'exact' needs d" << ode.getVar() << "/dt = a + b*"
                                 << ode.getVar() << " with a and b constant during a step, but "
                                 << (linear[k]
                                         ? "they depend on other state, the time or random draws"
                                         : "it is not linear in " + ode.getVar().str());
      }
      chosen = "exp_euler";
    }
    // Explain each choice: `nclc -v` / `--explain` prints these.
    for (auto [k, ode] : llvm::enumerate(odes)) {
      std::string why;
      if (method == IntegrationMethod::Auto)
        why = allLinear ? (constant[k] ? "linear with constant coefficients: exact"
                                       : "linear in it, with coefficients that change: first order")
                        : "the system is not linear in each variable, so Runge-Kutta 4";
      else
        why = "asked for with 'method " + stringifyIntegrationMethod(method).str() + "'";
      std::string name = chosen == "exp_euler" ? "exponential Euler" : chosen;
      ode.emitRemark() << "d" << ode.getVar() << "/dt: " << name
                       << (substeps > 1 ? " with " + std::to_string(substeps) + " sub-steps" : "")
                       << " (" << why << ")";
    }

    SmallVector<Value> x;
    for (OdeOp ode : odes)
      x.push_back(ode.getState());
    SmallVector<Value> start = x;
    Type t = odes.front().getType();
    // The step h = dt / substeps, dt being the run's (ncl.dt). Sub-step s
    // starts at t_n + s*h: its right-hand sides see that time.
    Value h = stepValue(t);
    explicitChosen = chosen != "exp_euler";
    for (int64_t s = 0; s < substeps; ++s) {
      Value subStart;
      if (usesTime && s > 0)
        subStart =
            add(timeValue(t), s == 1 ? h : mul(h, this->constant(static_cast<double>(s), t)));
      x = chosen == "exp_euler" ? expEulerStep(x, h, subStart)
                                : rungeKuttaStep(chosen, x, h, subStart);
    }
    return finish(start, x);
  }

private:
  /// dx = f(x) dt + sum_k g_k(x) dW_k: f and the g_k at the state `x`.
  struct Sde {
    Value f;
    SmallVector<Value> g;
  };
  std::optional<Sde> splitNoise(size_t i, ArrayRef<Value> x, SmallVector<Value> &noises,
                                Value stageTime = Value()) {
    OdeOp ode = odes[i];
    noises.clear();
    for (NoiseOp n : ode.getRhs().getOps<NoiseOp>())
      noises.push_back(n.getResult());
    IRMapping m = stateMapping(x);
    mapTime(m, stageTime);
    m.map(ode.getRhs().getArgument(0), x[i]);
    LinearityAnalysis analysis(ode, builder, m, noises);
    auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
    std::optional<Affine> lin = analysis.analyze(yield.getValue());
    if (!lin)
      return std::nullopt;
    Type t = ode.getType();
    Sde sde{lin->a ? lin->a : constant(0.0, t), {}};
    for (Value g : lin->b)
      sde.g.push_back(g ? g : constant(0.0, t));
    return sde;
  }

  /// phi(z) = (e^z - 1)/z, with its limit near 0 (as exponential Euler's).
  Value phi(Value z) { return buildPhi(builder, owner->getLoc(), z, PhiSeries::Linear); }

  /// Equations with white noise: Euler-Maruyama, stochastic Heun
  /// (Stratonovich) for multiplicative noise, or, for additive noise on a
  /// drift linear in its variable, the exact Ornstein-Uhlenbeck update.
  LogicalResult runStochastic() {
    if (!llvm::is_contained(
            {IntegrationMethod::Auto, IntegrationMethod::Euler, IntegrationMethod::Heun}, method))
      return odes.front().emitError()
             << "method '" << stringifyIntegrationMethod(method)
             << "' cannot integrate white noise; use euler (Euler-Maruyama) or heun";
    if (substeps > 1)
      return odes.front().emitError() << "sub-steps are not supported for equations with noise";
    Location loc = owner->getLoc();
    Type t = odes.front().getType();
    Value hValue = stepValue(t);
    Value sqrtH = math::SqrtOp::create(builder, loc, hValue);
    explicitChosen = true; // Euler-Maruyama and Heun; the OU update below is exact
    // One standard normal per noise stream and step, shared by the
    // equations that name it.
    llvm::DenseMap<int64_t, Value> normals;
    auto normal = [&](Value noise) {
      int64_t stream = cast<NoiseOp>(noise.getDefiningOp()).getStream();
      Value &n = normals[stream];
      if (!n)
        n = RandOp::create(builder, loc, t, builder.getI64IntegerAttr(stream),
                           builder.getUnitAttr(), UnitAttr());
      return n;
    };

    SmallVector<Value> x;
    for (OdeOp ode : odes)
      x.push_back(ode.getState());
    // Classify at the start of the step.
    bool additive = true, linearDrift = true;
    SmallVector<Sde> at0;
    SmallVector<SmallVector<Value>> noiseOf(odes.size());
    for (size_t i = 0; i < odes.size(); ++i) {
      std::optional<Sde> sde = splitNoise(i, x, noiseOf[i]);
      if (!sde)
        return odes[i].emitError() << "white noise must enter d" << odes[i].getVar()
                                   << "/dt linearly: f + g*xi, with g free of xi";
      for (Value g : sde->g) {
        llvm::DenseSet<Value> seen;
        additive &= !variesInStep(g, seen);
      }
      at0.push_back(*sde);
      // Is the drift linear in the variable (noise set to zero)?
      inScratch([&](OpBuilder &scratch) {
        IRMapping zeroNoise;
        Value zero = arith::ConstantOp::create(scratch, loc, scratch.getFloatAttr(t, 0.0));
        for (Value n : noiseOf[i])
          zeroNoise.map(n, zero);
        LinearityAnalysis drift(odes[i], scratch, zeroNoise);
        auto yield = cast<YieldOp>(odes[i].getRhs().front().getTerminator());
        linearDrift &= drift.analyze(yield.getValue()).has_value();
      });
    }
    std::string scheme = method == IntegrationMethod::Heun    ? "heun"
                         : method == IntegrationMethod::Euler ? "euler"
                         : !additive                          ? "heun"
                         : linearDrift                        ? "ou"
                                                              : "euler";
    static const std::map<std::string, std::string> names = {
        {"heun", "stochastic Heun (Stratonovich)"},
        {"euler", "Euler-Maruyama"},
        {"ou", "exponential Euler with the exact noise variance (exact for Ornstein-Uhlenbeck)"}};
    for (OdeOp ode : odes)
      ode.emitRemark() << "d" << ode.getVar() << "/dt: " << names.at(scheme) << " ("
                       << (method == IntegrationMethod::Auto
                               ? (additive ? (linearDrift ? "additive noise, drift linear in it"
                                                          : "additive noise")
                                           : "multiplicative noise")
                               : "asked for with 'method " +
                                     stringifyIntegrationMethod(method).str() + "'")
                       << ")";

    // Noise increment of equation i: sum_k g_k * scale * N_k.
    auto noiseTerm = [&](size_t i, const Sde &sde, Value scale) {
      Value sum;
      for (auto [k, g] : llvm::enumerate(sde.g))
        sum = add(sum, mul(mul(g, scale), normal(noiseOf[i][k])));
      return sum ? sum : constant(0.0, t);
    };
    SmallVector<Value> next;
    if (scheme == "ou") {
      explicitChosen = false;
      for (size_t i = 0; i < odes.size(); ++i) {
        IRMapping zeroNoise = stateMapping(x);
        zeroNoise.map(odes[i].getRhs().getArgument(0), odes[i].getRhs().getArgument(0));
        Value zero = constant(0.0, t);
        for (Value n : noiseOf[i])
          zeroNoise.map(n, zero);
        LinearityAnalysis drift(odes[i], builder, zeroNoise);
        auto yield = cast<YieldOp>(odes[i].getRhs().front().getTerminator());
        std::optional<Affine> lin = drift.analyze(yield.getValue());
        Value a = lin->a ? lin->a : constant(0.0, t);
        Value b = lin->b[0] ? lin->b[0] : constant(0.0, t);
        Value mean = ExpEulerOp::create(builder, loc, t, x[i], a, b, hValue);
        // Var of the noise over a step: g^2 h phi(2 b h).
        Value z = mul(mul(b, constant(2.0, t)), hValue);
        Value scale = math::SqrtOp::create(builder, loc, mul(hValue, phi(z)));
        next.push_back(add(mean, noiseTerm(i, at0[i], scale)));
      }
    } else {
      // Euler-Maruyama: x + f h + g dW.
      SmallVector<Value> predictor;
      for (size_t i = 0; i < odes.size(); ++i)
        predictor.push_back(add(add(x[i], mul(at0[i].f, hValue)), noiseTerm(i, at0[i], sqrtH)));
      if (scheme == "euler") {
        next = predictor;
      } else {
        // Heun: average f and g at x and at the Euler-Maruyama predictor.
        Value half = constant(0.5, t);
        for (size_t i = 0; i < odes.size(); ++i) {
          SmallVector<Value> unused;
          Value stageTime = usesTime ? add(timeValue(t), hValue) : Value();
          std::optional<Sde> at1 = splitNoise(i, predictor, unused, stageTime);
          Sde mean{mul(add(at0[i].f, at1->f), half), {}};
          for (auto [g0, g1] : llvm::zip(at0[i].g, at1->g))
            mean.g.push_back(mul(add(g0, g1), half));
          next.push_back(add(add(x[i], mul(mean.f, hValue)), noiseTerm(i, mean, sqrtH)));
        }
      }
    }
    return finish(x, next);
  }

  /// Replaces every ODE by its value at t + dt (`start` where its clamp
  /// holds) and erases the ODEs.
  LogicalResult finish(ArrayRef<Value> start, ArrayRef<Value> next) {
    for (auto [i, ode] : llvm::enumerate(odes)) {
      Value v = next[i];
      if (Value clamp = ode.getClamp())
        v = arith::SelectOp::create(builder, ode.getLoc(), clamp, start[i], v);
      ode.replaceAllUsesWith(v);
    }
    for (OdeOp ode : odes)
      ode.erase();
    return success();
  }

  /// Runs `fn` with a builder into a scratch block that is thrown away
  /// afterwards: for classifying without leaving IR behind.
  template <typename F> void inScratch(F fn) {
    OpBuilder scratch(owner->getContext());
    Block block;
    scratch.setInsertionPointToStart(&block);
    fn(scratch);
    block.dropAllDefinedValueUses();
    while (!block.empty())
      block.back().erase();
  }

  /// The ODE variables as seen from ODE i's region: its own argument, and
  /// the other ODEs' start-of-step values it captures.
  SmallVector<Value> systemVars(size_t i) {
    SmallVector<Value> vars;
    for (auto [j, ode] : llvm::enumerate(odes))
      vars.push_back(j == i ? Value(ode.getRhs().getArgument(0)) : Value(ode.getState()));
    return vars;
  }

  /// Whether x' = A x + c with A, c constant during a step and A not
  /// diagonal. At most 8 variables (the propagator is unrolled), and one
  /// clamp (the neuron's refractory flag) for all clamped variables.
  bool coupledLinearSystem() {
    if (odes.size() < 2 || odes.size() > 8)
      return false;
    Value clamp;
    for (OdeOp ode : odes)
      if (Value c = ode.getClamp()) {
        if (clamp && clamp != c)
          return false;
        clamp = c;
      }
    bool linearConstant = true, coupled = false;
    inScratch([&](OpBuilder &scratch) {
      for (auto [i, ode] : llvm::enumerate(odes)) {
        LinearityAnalysis analysis(ode, scratch, IRMapping(), systemVars(i));
        auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
        std::optional<Affine> lin = analysis.analyze(yield.getValue());
        if (!lin) {
          linearConstant = false;
          break;
        }
        llvm::DenseSet<Value> seen;
        if (lin->a && variesInStep(lin->a, seen))
          linearConstant = false;
        for (auto [j, b] : llvm::enumerate(lin->b)) {
          if (b && variesInStep(b, seen))
            linearConstant = false;
          coupled |= b && j != i;
        }
      }
    });
    return linearConstant && coupled;
  }

  using Matrix = SmallVector<SmallVector<Value>>; ///< null entries are zero

  Value add(Value l, Value r) {
    if (!l)
      return r;
    if (!r)
      return l;
    return arith::AddFOp::create(builder, owner->getLoc(), l, r);
  }
  Value mul(Value l, Value r) {
    if (!l || !r)
      return Value();
    return arith::MulFOp::create(builder, owner->getLoc(), l, r);
  }
  Matrix matmul(const Matrix &x, const Matrix &y) {
    size_t n = x.size();
    Matrix out(n, SmallVector<Value>(n));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        for (size_t k = 0; k < n; ++k)
          out[i][j] = add(out[i][j], mul(x[i][k], y[k][j]));
    return out;
  }

  /// e^M. For the usual |M| (dt a fraction of the time constants) the
  /// Taylor polynomial of degree 20 alone is exact to rounding; for larger
  /// |M| scaling and squaring, e^M = (T(M / 2^8))^(2^8) with T of degree 12,
  /// is (squaring costs about 8 bits, so it is not used when not needed).
  /// Both are computed once per kernel call; a select by `small`
  /// (directIsExact) picks one. An entry that is zero in both for any
  /// values of the coefficients (no path in M from column to row) stays a
  /// null Value, so the update multiplies by no structural zero.
  Matrix expm(const Matrix &m, Type t, Value small) {
    Matrix direct = taylorExp(m, t, /*squarings=*/0, /*degree=*/20);
    Matrix scaled = taylorExp(m, t, /*squarings=*/8, /*degree=*/12);
    size_t n = m.size();
    Matrix out(n, SmallVector<Value>(n));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) {
        if (!direct[i][j] && !scaled[i][j])
          continue;
        Value d = direct[i][j] ? direct[i][j] : constant(0.0, t);
        Value sc = scaled[i][j] ? scaled[i][j] : constant(0.0, t);
        out[i][j] = arith::SelectOp::create(builder, owner->getLoc(), small, d, sc);
      }
    return out;
  }

  /// Whether the Taylor polynomial of degree 20 alone gives e^M to
  /// rounding (expm).
  Value directIsExact(const Matrix &m, Type t) {
    // The entries mix units (V per A next to 1/s), so their size says little;
    // what a diagonal change of units cannot alter is the diagonal and the
    // products around cycles. Their geometric means (cycles of length up to
    // 3), times n, estimate the norm of the balanced matrix; Taylor 20 is
    // exact to rounding below 1 (the remainder is under 1/21!).
    Location loc = owner->getLoc();
    size_t n = m.size();
    Value bound = constant(0.0, t);
    auto raise = [&](Value v) {
      if (v)
        bound =
            arith::MaximumFOp::create(builder, loc, bound, math::AbsFOp::create(builder, loc, v));
    };
    for (size_t i = 0; i < n; ++i) {
      raise(m[i][i]);
      for (size_t j = i + 1; j < n; ++j) {
        if (Value p = mul(m[i][j], m[j][i]))
          raise(math::SqrtOp::create(builder, loc, math::AbsFOp::create(builder, loc, p)));
        for (size_t k = j + 1; k < n; ++k)
          for (Value p : {mul(mul(m[i][j], m[j][k]), m[k][i]), mul(mul(m[i][k], m[k][j]), m[j][i])})
            if (p)
              raise(math::CbrtOp::create(builder, loc, math::AbsFOp::create(builder, loc, p)));
      }
    }
    bound = mul(bound, constant(static_cast<double>(n), t));
    return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLT, bound, constant(1.0, t));
  }

  Matrix taylorExp(Matrix m, Type t, int squarings, int degree) {
    size_t n = m.size();
    Value one = constant(1.0, t);
    if (squarings)
      for (auto &row : m)
        for (Value &v : row)
          v = mul(v, constant(std::ldexp(1.0, -squarings), t));
    Matrix p(n, SmallVector<Value>(n));
    for (size_t i = 0; i < n; ++i)
      p[i][i] = one;
    for (int k = degree; k >= 1; --k) {
      Matrix xp = matmul(m, p);
      Value inv = constant(1.0 / k, t);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
          p[i][j] = add(i == j ? one : Value(), mul(xp[i][j], inv));
    }
    for (int s = 0; s < squarings; ++s)
      p = matmul(p, p);
    return p;
  }

  /// x(t + dt) = E x(t) + f, with [E f; 0 1] = exp([A c; 0 0] dt); clamped
  /// variables use the propagator of the system with their rows zeroed.
  LogicalResult applyPropagator() {
    size_t n = odes.size();
    Type t = odes.front().getType();
    Value dtValue = stepValue(t, /*perSubstep=*/false), clamp;
    Matrix m(n + 1, SmallVector<Value>(n + 1));
    for (auto [i, ode] : llvm::enumerate(odes)) {
      LinearityAnalysis analysis(ode, builder, IRMapping(), systemVars(i));
      auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
      std::optional<Affine> lin = analysis.analyze(yield.getValue());
      for (size_t j = 0; j < n; ++j)
        m[i][j] = mul(lin->b[j], dtValue);
      m[i][n] = mul(lin->a, dtValue);
      if (Value c = ode.getClamp())
        clamp = c;
    }
    auto propagate = [&](const Matrix &e) {
      SmallVector<Value> next;
      for (size_t i = 0; i < n; ++i) {
        Value v = e[i][n];
        for (size_t j = 0; j < n; ++j)
          v = add(v, mul(e[i][j], odes[j].getState()));
        next.push_back(v ? v : constant(0.0, t));
      }
      return next;
    };
    // One choice of method for both propagators: zeroing rows only lowers
    // the bound, and with the same method a row that reaches no clamped
    // variable is the same expression in both, so the select below folds.
    Value small = directIsExact(m, t);
    SmallVector<Value> next = propagate(expm(m, t, small));
    if (clamp) {
      Matrix held = m;
      for (auto [i, ode] : llvm::enumerate(odes))
        if (ode.getClamp())
          for (Value &v : held[i])
            v = Value();
      SmallVector<Value> heldNext = propagate(expm(held, t, small));
      for (size_t i = 0; i < n; ++i)
        next[i] = arith::SelectOp::create(builder, owner->getLoc(), clamp, heldNext[i], next[i]);
    }
    for (auto [i, ode] : llvm::enumerate(odes))
      ode.replaceAllUsesWith(next[i]);
    for (OdeOp ode : odes)
      ode.erase();
    return success();
  }

  Value constant(double v, Type t) {
    return arith::ConstantOp::create(builder, owner->getLoc(), builder.getFloatAttr(t, v));
  }

  /// Maps every ODE's start-of-step value to `x` (for captured uses).
  IRMapping stateMapping(ArrayRef<Value> x) {
    IRMapping m;
    for (auto [k, ode] : llvm::enumerate(odes))
      m.map(ode.getState(), x[k]);
    return m;
  }

  /// The run's dt (ncl.dt), or the step h = dt / substeps, of type `t`;
  /// built once, where the scheme is built.
  Value stepValue(Type t, bool perSubstep = true) {
    Value &dt = dtValues[t];
    if (!dt)
      dt = DtOp::create(builder, owner->getLoc(), t);
    if (!perSubstep || substeps == 1)
      return dt;
    Value &h = hValues[t];
    if (!h)
      h = arith::DivFOp::create(builder, owner->getLoc(), dt,
                                constant(static_cast<double>(substeps), t));
    return h;
  }

  /// t_n, the time at the start of the step, of type `t`: the step's own
  /// ncl.time where one comes before the scheme, else a new one.
  Value timeValue(Type t) {
    Value &v = timeValues[t];
    if (v)
      return v;
    for (Operation &op : *block) {
      if (&op == odes.back().getOperation())
        break;
      if (auto time = dyn_cast<TimeOp>(op); time && time.getType() == t)
        return v = time;
    }
    return v = TimeOp::create(builder, owner->getLoc(), t);
  }

  /// Whether an ODE's right-hand side reads the time: ncl.time inside, or a
  /// captured value computed from it.
  bool dependsOnTime(OdeOp ode) {
    bool found = false;
    ode.getRhs().walk([&](Operation *op) {
      found |= isa<TimeOp>(op) || llvm::any_of(op->getOperands(), [&](Value o) {
                 return !ode.getRhs().isAncestor(o.getParentRegion()) && computedFromTime(o);
               });
    });
    return found;
  }

  /// Whether `v` is ncl.time or computed from it (memoised: values only
  /// get new users while the scheme is built, never new operands).
  bool computedFromTime(Value v) {
    if (auto it = timeDependent.find(v); it != timeDependent.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    bool result = def && (isa<TimeOp>(def) || llvm::any_of(def->getOperands(), [&](Value o) {
                            return computedFromTime(o);
                          }));
    return timeDependent[v] = result;
  }

  /// Makes `m` evaluate the right-hand sides at `stageTime` instead of t_n
  /// (nothing when it is null): every ncl.time in an ODE region, and every
  /// value an ODE captures from the step that depends on the time (an input
  /// driven by a stimulus of t), recomputed from it.
  void mapTime(IRMapping &m, Value stageTime) {
    if (!stageTime)
      return;
    // At t_n itself only the regions' own ncl.time ops are shared; what
    // the step computed from the time is right as it is.
    bool atStart = static_cast<bool>(stageTime.getDefiningOp<TimeOp>());
    std::function<Value(Value)> retime = [&](Value v) -> Value {
      if (Value mapped = m.lookupOrNull(v))
        return mapped;
      if (!computedFromTime(v))
        return v;
      Operation *def = v.getDefiningOp();
      if (isa<TimeOp>(def)) {
        Value tv = stageTime;
        if (tv.getType() != v.getType())
          tv = v.getType().getIntOrFloatBitWidth() < tv.getType().getIntOrFloatBitWidth()
                   ? Value(arith::TruncFOp::create(builder, owner->getLoc(), v.getType(), tv))
                   : Value(arith::ExtFOp::create(builder, owner->getLoc(), v.getType(), tv));
        m.map(v, tv);
        return tv;
      }
      for (Value o : def->getOperands())
        retime(o);
      Operation *clone = builder.clone(*def, m);
      return clone->getResult(cast<OpResult>(v).getResultNumber());
    };
    for (OdeOp ode : odes)
      ode.getRhs().walk([&](Operation *op) {
        if (isa<TimeOp>(op)) {
          retime(op->getResult(0));
          return;
        }
        if (atStart)
          return;
        for (Value o : op->getOperands())
          if (!ode.getRhs().isAncestor(o.getParentRegion()))
            retime(o);
      });
  }

  /// dx/dt at state x and time `stageTime` (t_n when null); a clamped
  /// variable does not move.
  SmallVector<Value> derivatives(ArrayRef<Value> x, Value stageTime = Value()) {
    SmallVector<Value> k;
    // The state and the stage's time, once for all the equations.
    IRMapping atStage = stateMapping(x);
    mapTime(atStage, stageTime);
    for (auto [i, ode] : llvm::enumerate(odes)) {
      IRMapping m = atStage;
      m.map(ode.getRhs().getArgument(0), x[i]);
      for (Operation &op : ode.getRhs().front().without_terminator())
        if (op.getNumResults() == 0 || !m.contains(op.getResult(0))) // ncl.time at a stage
          builder.clone(op, m);
      Value d = m.lookup(cast<YieldOp>(ode.getRhs().front().getTerminator()).getValue());
      if (Value clamp = ode.getClamp())
        d = arith::SelectOp::create(builder, ode.getLoc(), clamp, constant(0.0, d.getType()), d);
      k.push_back(d);
    }
    return k;
  }

  /// x + c*k, elementwise.
  SmallVector<Value> axpy(ArrayRef<Value> x, Value c, ArrayRef<Value> k) {
    SmallVector<Value> out;
    for (auto [xi, ki] : llvm::zip(x, k)) {
      Location loc = owner->getLoc();
      Value scaled = arith::MulFOp::create(builder, loc, ki, c);
      out.push_back(arith::AddFOp::create(builder, loc, xi, scaled));
    }
    return out;
  }

  /// One Runge-Kutta step of size h from x; the stage i right-hand sides
  /// see the time start + c_i*h (start = t_n when null).
  SmallVector<Value> rungeKuttaStep(StringRef scheme, ArrayRef<Value> x, Value h, Value start) {
    Type t = h.getType();
    // h times a Butcher coefficient, and the time of a stage (null, for t_n
    // unchanged, when no right-hand side depends on the time).
    auto hTimes = [&](double c) { return c == 1.0 ? h : mul(h, constant(c, t)); };
    auto at = [&](Value offset) {
      return usesTime ? add(start ? start : timeValue(t), offset) : Value();
    }; // add(x, null) is x
    SmallVector<Value> k1 = derivatives(x, at(Value()));
    if (scheme == "euler")
      return axpy(x, h, k1);
    Value half = hTimes(0.5);
    Value tHalf = at(half);
    if (scheme == "rk2") { // explicit midpoint
      SmallVector<Value> k2 = derivatives(axpy(x, half, k1), tHalf);
      return axpy(x, h, k2);
    }
    // Classic fourth-order Runge-Kutta: c = 0, 1/2, 1/2, 1.
    SmallVector<Value> k2 = derivatives(axpy(x, half, k1), tHalf);
    SmallVector<Value> k3 = derivatives(axpy(x, half, k2), tHalf);
    SmallVector<Value> k4 = derivatives(axpy(x, h, k3), at(h));
    Value sixth = hTimes(1.0 / 6.0), third = hTimes(1.0 / 3.0);
    SmallVector<Value> out = axpy(x, sixth, k1);
    out = axpy(out, third, k2);
    out = axpy(out, third, k3);
    return axpy(out, sixth, k4);
  }

  /// Every variable by one exponential-Euler step from the same state x,
  /// with a and b evaluated at `start` (t_n when null).
  SmallVector<Value> expEulerStep(ArrayRef<Value> x, Value h, Value start) {
    SmallVector<Value> out;
    IRMapping outside = stateMapping(x);
    mapTime(outside, start);
    for (auto [i, ode] : llvm::enumerate(odes)) {
      LinearityAnalysis analysis(ode, builder, outside);
      auto yield = cast<YieldOp>(ode.getRhs().front().getTerminator());
      std::optional<Affine> lin = analysis.analyze(yield.getValue());
      Location loc = ode.getLoc();
      Type t = ode.getType();
      Value a = lin->a ? lin->a : constant(0.0, t);
      Value b = lin->b[0] ? lin->b[0] : constant(0.0, t);
      out.push_back(ExpEulerOp::create(builder, loc, t, x[i], a, b, h));
    }
    return out;
  }

  Operation *owner;
  Block *block;
  SmallVector<OdeOp> odes;
  OpBuilder builder;
  IntegrationMethod method;
  int64_t substeps;
  bool explicitChosen = false;
  bool usesTime = false; ///< some right-hand side depends on t
  llvm::DenseMap<Type, Value> dtValues, hValues, timeValues;
  llvm::DenseMap<Value, bool> timeDependent; ///< computedFromTime's memo
};

struct NclIntegratePass : public mlir::ncl::impl::NclIntegrateBase<NclIntegratePass> {
  void runOnOperation() override {
    SmallVector<PopulationOp> pops;
    getOperation().walk([&](PopulationOp pop) { pops.push_back(pop); });
    for (PopulationOp pop : pops) {
      SmallVector<OdeOp> odes(pop.getStep().getOps<OdeOp>());
      if (odes.empty())
        continue;
      SystemIntegrator integrator(pop, pop.getStep().front(), odes,
                                  pop.getMethod() ? *pop.getMethod() : IntegrationMethod::Auto,
                                  pop.getSubsteps() ? static_cast<int64_t>(*pop.getSubsteps()) : 1);
      if (failed(integrator.run()))
        return signalPassFailure();
      // An explicit scheme was chosen for the network's dt: the runtime
      // accepts a smaller dt at load time, not a larger one (stability).
      if (integrator.explicitScheme())
        pop.setMaxDtAttr(FloatAttr::get(Float64Type::get(pop.getContext()), pop.getNetworkDt()));
    }
    // A projection's synapse dynamics: at its events where they can be
    // (and it is not asked otherwise), else every step.
    SmallVector<ProjectionOp> projections;
    getOperation().walk([&](ProjectionOp projection) { projections.push_back(projection); });
    for (ProjectionOp projection : projections) {
      if (projection.getDynamics().empty())
        continue;
      Block &block = projection.getDynamics().front();
      SmallVector<OdeOp> odes(block.getOps<OdeOp>());
      if (odes.empty())
        continue;
      SystemIntegrator integrator(projection, block, odes, IntegrationMethod::Auto, 1);
      OdeOp culprit;
      std::string obstacle = eventDrivenObstacle(projection, integrator, odes, culprit);
      std::optional<SynapseDrive> asked = projection.getDrive();
      if (obstacle.empty() && asked != SynapseDrive::ClockDriven) {
        for (OdeOp ode : odes)
          ode.emitRemark() << "d" << ode.getVar() << "/dt in projection '"
                           << projection.getSymName()
                           << "': event-driven, advanced exactly over the time since its "
                              "last update by an on_pre or on_post, only there ("
                           << (asked ? "asked for with 'method event_driven'"
                                     : "linear in it with coefficients constant between "
                                       "events, and read only by on_pre and on_post")
                           << ")";
        makeEventDriven(projection, odes);
        continue;
      }
      if (asked == SynapseDrive::EventDriven) {
        InFlightDiagnostic error = culprit.emitError()
                                   << "projection '" << projection.getSymName()
                                   << "' asks for 'event_driven', but d" << culprit.getVar()
                                   << "/dt cannot be: " << obstacle;
        error.attachNote(projection.getLoc()) << "asked for by this projection";
        return signalPassFailure();
      }
      for (OdeOp ode : odes)
        ode.emitRemark() << "d" << ode.getVar() << "/dt in projection '" << projection.getSymName()
                         << "': clock-driven, every synapse every step ("
                         << (asked ? std::string("asked for with 'method clock_driven'")
                                   : "d" + culprit.getVar().str() + "/dt: " + obstacle)
                         << ")";
      projection.setDriveAttr(SynapseDriveAttr::get(&getContext(), SynapseDrive::ClockDriven));
      if (failed(integrator.run()))
        return signalPassFailure();
      // As for populations: an explicit scheme holds at the network's dt or
      // a smaller one.
      if (integrator.explicitScheme())
        projection.setMaxDtAttr(
            FloatAttr::get(Float64Type::get(&getContext()),
                           projection->getParentOfType<NetworkOp>().getDt().convertToDouble()));
    }
  }

  /// Why `projection`'s synapse ODEs `odes` must be clock-driven (empty:
  /// they can be event-driven): their equations (SystemIntegrator), or how
  /// they are read: `summed` reads them every step, and only an `on_pre` or
  /// `on_post` that reads or changes them brings them up to date.
  static std::string eventDrivenObstacle(ProjectionOp projection, SystemIntegrator &integrator,
                                         MutableArrayRef<OdeOp> odes, OdeOp &culprit) {
    if (std::string why = integrator.eventDrivenObstacle(projection, culprit); !why.empty())
      return why;
    for (OdeOp ode : odes) {
      culprit = ode;
      if (!projection.getSummed().empty() && touches(projection.getSummed().front(), ode.getVar()))
        return "summed reads " + ode.getVar().str() + " in every step";
      // A monitor samples the variable between events, where an
      // event-driven one would still hold its value at the last event.
      bool recorded = false;
      projection->getParentOp()->walk([&](MonitorOp monitor) {
        recorded |= monitor.getKind() == MonitorKind::Synapse &&
                    monitor.getPopulation() == projection.getSymName() &&
                    monitor.getVar() == ode.getVar();
      });
      if (recorded)
        return "a monitor records " + ode.getVar().str() + " between events";
    }
    culprit = odes.front();
    for (Region *event : {&projection.getOnPre(), &projection.getOnPost()})
      for (OdeOp ode : odes)
        if (!event->empty() && touches(event->front(), ode.getVar()))
          return "";
    return "neither on_pre nor on_post reads or changes the synapse's variables, so only a "
           "step brings them up to date";
  }

  /// Whether `block` reads (and uses) or writes synapse variable `var`.
  static bool touches(Block &block, StringRef var) {
    for (Operation &op : block) {
      if (auto read = dyn_cast<SynapseReadOp>(op);
          read && read.getVar() == var && !read->use_empty())
        return true;
      if (auto write = dyn_cast<SynapseWriteOp>(op); write && write.getVar() == var)
        return true;
    }
    return false;
  }

  /// Where an event-driven variable is kept: per synapse, or once per
  /// presynaptic or postsynaptic neuron (a trace every synapse of the
  /// neuron shares).
  enum class Storage { Synapse, Pre, Post };

  static TraceSide sideOf(Storage storage) {
    return storage == Storage::Pre ? TraceSide::Pre : TraceSide::Post;
  }

  /// Whether `v`, computed in an event block of `side`'s neurons (on_pre
  /// for presynaptic ones), is the same for every synapse of the neuron at
  /// one of its events: it depends only on constants, parameters, dt, t,
  /// the neuron's own index and variables, and the synapse variables in
  /// `traces` (candidates kept for the same neurons).
  static bool sharedByNeuron(Value v, TraceSide side, const llvm::StringSet<> &traces,
                             llvm::DenseSet<Value> &seen) {
    if (!seen.insert(v).second)
      return true;
    Operation *def = v.getDefiningOp();
    if (!def)
      return false;
    if (auto read = dyn_cast<SynapseReadOp>(def))
      return traces.contains(read.getVar());
    if (isa<PreReadOp, PreIndexOp>(def))
      return side == TraceSide::Pre;
    if (isa<PostReadOp, PostIndexOp>(def))
      return side == TraceSide::Post;
    if (isa<RandOp, PoissonOp>(def) || def->getNumRegions() != 0 || !isPure(def))
      return false;
    return llvm::all_of(def->getOperands(),
                        [&](Value o) { return sharedByNeuron(o, side, traces, seen); });
  }

  /// Chooses, for each event-driven variable of `projection`, where it is
  /// kept. A variable is a trace of the presynaptic (postsynaptic) neurons
  /// when every synapse of a neuron must hold the same value: it starts at
  /// 0, its ODE reads only parameters and constants besides itself (and no
  /// other ODE reads it), only on_pre (on_post) changes it, and by a value
  /// shared by the neuron's synapses (sharedByNeuron, with the other traces
  /// of that side). Presynaptic traces need one delay for every synapse, so
  /// that a spike reaches all of a neuron's synapses in the same step.
  static llvm::StringMap<Storage> chooseStorage(ProjectionOp projection, ArrayRef<OdeOp> odes) {
    llvm::StringMap<Storage> storage;
    llvm::StringSet<> candidates[2];
    DictionaryAttr files = projection.getConnect().getFiles();
    auto writesIn = [](Region &region, StringRef var) {
      return !region.empty() && llvm::any_of(region.front().getOps<SynapseWriteOp>(),
                                             [&](SynapseWriteOp w) { return w.getVar() == var; });
    };
    auto readIn = [](Region &region, StringRef var) {
      return !region.empty() &&
             llvm::any_of(region.front().getOps<SynapseReadOp>(),
                          [&](SynapseReadOp r) { return r.getVar() == var && !r->use_empty(); });
    };
    for (OdeOp ode : odes) {
      StringRef var = ode.getVar();
      storage[var] = Storage::Synapse;
      bool pre = writesIn(projection.getOnPre(), var);
      bool post = writesIn(projection.getOnPost(), var);
      if (pre == post || (pre && projection.getPerSynapseDelay()) || (files && files.get(var)) ||
          readIn(projection.getInit(), var))
        continue;
      // Starts at 0 in every synapse.
      bool zero = false;
      if (!projection.getInit().empty())
        for (SynapseWriteOp w : projection.getInit().front().getOps<SynapseWriteOp>())
          if (w.getVar() == var)
            zero = matchPattern(w.getValue(), m_AnyZeroFloat());
      if (!zero)
        continue;
      // Its ODE: coefficients from parameters and constants only, and its
      // state read by nothing else.
      llvm::StringSet<> none;
      llvm::DenseSet<Value> seen;
      bool uniform = true;
      ode.getRhs().walk([&](Operation *op) {
        for (Value operand : op->getOperands())
          if (!ode.getRhs().isAncestor(operand.getParentRegion()))
            uniform &= sharedByNeuron(operand, pre ? TraceSide::Pre : TraceSide::Post, none, seen);
      });
      Value state = ode.getState();
      if (!uniform || !llvm::all_of(state.getUsers(),
                                    [&](Operation *user) { return user == ode.getOperation(); }))
        continue;
      candidates[pre ? 0 : 1].insert(var);
    }
    // Keep the candidates whose new values are shared, until none drops.
    for (int side = 0; side < 2; ++side) {
      Region &block = side == 0 ? projection.getOnPre() : projection.getOnPost();
      TraceSide traceSide = side == 0 ? TraceSide::Pre : TraceSide::Post;
      if (block.empty())
        continue;
      for (bool dropped = true; dropped;) {
        dropped = false;
        for (SynapseWriteOp write : block.front().getOps<SynapseWriteOp>()) {
          llvm::DenseSet<Value> seen;
          if (candidates[side].contains(write.getVar()) &&
              !sharedByNeuron(write.getValue(), traceSide, candidates[side], seen)) {
            candidates[side].erase(write.getVar());
            dropped = true;
          }
        }
      }
      for (const auto &entry : candidates[side])
        storage[entry.getKey()] = side == 0 ? Storage::Pre : Storage::Post;
    }
    return storage;
  }

  /// Moves the synapse ODEs into the projection's on_pre and on_post. A
  /// variable every synapse of a neuron shares (chooseStorage) becomes a
  /// trace of that neuron (`pre_traces`, `post_traces`); the others stay
  /// per synapse. Each block that reads or changes variables of one kind
  /// first advances all of that kind from the time of its last event (a
  /// hidden `_lastupdate`: per synapse, or a trace of the neuron) to t; the
  /// block of the traces' own side writes them back with the time, the
  /// other block only reads them. The `dynamics` region goes, and with it
  /// the synapse_step kernel.
  void makeEventDriven(ProjectionOp projection, MutableArrayRef<OdeOp> odes) {
    MLIRContext *context = &getContext();
    Block &dynamics = projection.getDynamics().front();
    Type t = odes.front().getType();
    Location loc = projection.getLoc();
    llvm::StringMap<Storage> storage = chooseStorage(projection, odes);
    auto storageOf = [&](StringRef var) {
      auto it = storage.find(var);
      return it == storage.end() ? std::optional<Storage>() : std::optional(it->second);
    };
    for (OdeOp ode : odes)
      if (Storage kept = storage[ode.getVar()]; kept != Storage::Synapse) {
        bool pre = kept == Storage::Pre;
        ode.emitRemark() << ode.getVar() << " in projection '" << projection.getSymName()
                         << "': kept once per " << (pre ? "presynaptic" : "postsynaptic")
                         << " neuron, not per synapse (it starts at 0 and only "
                         << (pre ? "on_pre" : "on_post")
                         << " changes it, by an amount that depends on nothing of the synapse, "
                            "so all of a neuron's synapses hold the same value)";
        // Where the other side's block reads it: advanced once per neuron.
        Region &reader = pre ? projection.getOnPost() : projection.getOnPre();
        if (!reader.empty() && touches(reader.front(), ode.getVar()))
          ode.emitRemark() << ode.getVar() << " in projection '" << projection.getSymName()
                           << "': " << (pre ? "on_post" : "on_pre")
                           << " reads it at every synapse, so its value at each step's time "
                              "is computed once per neuron in the steps that read it, not at "
                              "every synapse";
      }

    auto lastUpdate =
        VariableAttr::get(context, kLastUpdate, "s", FloatAttr::get(Float64Type::get(context), 1.0),
                          DenseI8ArrayAttr::get(context, {0, 0, 2, 0, 0, 0, 0}));
    SmallVector<Attribute> vars, traces[2];
    for (Attribute a : projection.getVars()) {
      std::optional<Storage> kept = storageOf(cast<VariableAttr>(a).getName());
      if (!kept || *kept == Storage::Synapse)
        vars.push_back(a);
      else
        traces[*kept == Storage::Pre ? 0 : 1].push_back(a);
    }
    bool perSynapse =
        llvm::any_of(odes, [&](OdeOp ode) { return storage[ode.getVar()] == Storage::Synapse; });
    if (perSynapse)
      vars.push_back(lastUpdate);
    projection.setVarsAttr(ArrayAttr::get(context, vars));
    for (int side = 0; side < 2; ++side)
      if (!traces[side].empty()) {
        traces[side].push_back(lastUpdate);
        ArrayAttr list = ArrayAttr::get(context, traces[side]);
        if (side == 0)
          projection.setPreTracesAttr(list);
        else
          projection.setPostTracesAttr(list);
      }

    // Every synapse starts at t = 0 (its initial values are the state
    // then); traces start at 0 (the runtime zeroes them), so their initial
    // values go.
    if (projection.getInit().empty())
      projection.getInit().emplaceBlock();
    Block &init = projection.getInit().front();
    for (SynapseWriteOp write : llvm::make_early_inc_range(init.getOps<SynapseWriteOp>()))
      if (std::optional<Storage> kept = storageOf(write.getVar());
          kept && *kept != Storage::Synapse)
        write.erase();
    if (perSynapse) {
      OpBuilder builder = OpBuilder::atBlockEnd(&init);
      SynapseWriteOp::create(builder, loc, kLastUpdate,
                             arith::ConstantOp::create(builder, loc, builder.getFloatAttr(t, 0.0)));
    }

    for (Storage own : {Storage::Pre, Storage::Post}) {
      Region &event = own == Storage::Pre ? projection.getOnPre() : projection.getOnPost();
      if (event.empty())
        continue;
      Block &block = event.front();
      SmallVector<Operation *> original;
      for (Operation &op : block)
        original.push_back(&op);
      OpBuilder builder(&block, block.begin());
      Value now;
      llvm::StringMap<Value> advanced;
      for (Storage kind : {Storage::Synapse, Storage::Pre, Storage::Post}) {
        SmallVector<OdeOp> group;
        for (OdeOp ode : odes)
          if (storage[ode.getVar()] == kind)
            group.push_back(ode);
        if (group.empty() ||
            llvm::none_of(group, [&](OdeOp ode) { return touches(block, ode.getVar()); }))
          continue;
        if (kind != Storage::Synapse && kind != own) {
          advanceOtherSide(projection, builder, dynamics, odes, group, kind, advanced);
          continue;
        }
        if (!now)
          now = TimeOp::create(builder, loc, t);
        advanceGroup(projection, builder, dynamics, odes, group, kind, own, now, advanced);
      }
      // The block's own reads of the variables now see the advanced values;
      // its writes of its own side's traces become trace writes.
      for (Operation *op : original) {
        if (auto read = dyn_cast<SynapseReadOp>(op); read && advanced.count(read.getVar())) {
          read.replaceAllUsesWith(advanced[read.getVar()]);
          read.erase();
        } else if (auto write = dyn_cast<SynapseWriteOp>(op)) {
          std::optional<Storage> kept = storageOf(write.getVar());
          if (kept && *kept != Storage::Synapse) {
            OpBuilder at(write);
            TraceWriteOp::create(at, write.getLoc(), sideOf(*kept), write.getVar(),
                                 write.getValue());
            write.erase();
          }
        }
      }
    }
    projection.getDynamics().getBlocks().clear();
    SmallVector<StageOp> steps;
    projection->getParentOp()->walk([&](StageOp stage) {
      if (stage.getKind() == StageKind::SynapseStep &&
          stage.getPopulation() == projection.getSymName())
        steps.push_back(stage);
    });
    for (StageOp stage : steps)
      stage.erase();
    scheduleAdvances(projection);
    projection.setDriveAttr(SynapseDriveAttr::get(context, SynapseDrive::EventDriven));
  }

  /// Adds the stages that compute the traces an ncl.advance_traces of
  /// `projection` reads: before its deliver stage (postsynaptic traces,
  /// read by on_pre) and its on_post stage (presynaptic ones).
  static void scheduleAdvances(ProjectionOp projection) {
    auto network = projection->getParentOfType<NetworkOp>();
    ScheduleOp schedule = network ? network.getSchedule() : ScheduleOp();
    if (!schedule)
      return;
    for (auto [side, reader] : {std::pair(TraceSide::Post, &projection.getOnPre()),
                                std::pair(TraceSide::Pre, &projection.getOnPost())}) {
      if (reader->empty() || reader->front().getOps<AdvanceTracesOp>().empty())
        continue;
      for (StageOp stage : llvm::make_early_inc_range(schedule.getBody().getOps<StageOp>())) {
        bool readsThere = side == TraceSide::Post ? (stage.getKind() == StageKind::Deliver ||
                                                     stage.getKind() == StageKind::DeliverSynapses)
                                                  : stage.getKind() == StageKind::OnPost;
        if (stage.getPopulation() != projection.getSymName() || !readsThere)
          continue;
        OpBuilder builder(stage);
        StageOp::create(builder, stage.getLoc(),
                        side == TraceSide::Post ? StageKind::AdvancePostTraces
                                                : StageKind::AdvancePreTraces,
                        stage.getPopulationAttr(), FlatSymbolRefAttr(), ArrayAttr(), ArrayAttr());
        break;
      }
    }
  }

  /// At the builder's insertion point in the event block of the other
  /// side's neurons, which only reads them: the traces of `group` (kept as
  /// `kind`) advanced to the step's time by an ncl.advance_traces, whose
  /// results are recorded in `advanced`. Every synapse of a neuron would
  /// compute the same values, so ncl-to-loops computes them once per neuron
  /// and step.
  void advanceOtherSide(ProjectionOp projection, OpBuilder &builder, Block &dynamics,
                        ArrayRef<OdeOp> odes, ArrayRef<OdeOp> group, Storage kind,
                        llvm::StringMap<Value> &advanced) {
    Location loc = projection.getLoc();
    Type t = OdeOp(group.front()).getType();
    SmallVector<Attribute> vars;
    for (OdeOp ode : group)
      vars.push_back(builder.getStringAttr(ode.getVar()));
    auto advance = AdvanceTracesOp::create(builder, loc, SmallVector<Type>(group.size(), t),
                                           sideOf(kind), builder.getArrayAttr(vars));
    Block &body = advance.getBody().emplaceBlock();
    OpBuilder inside = OpBuilder::atBlockEnd(&body);
    Value now = TimeOp::create(inside, loc, t);
    llvm::StringMap<Value> values;
    advanceGroup(projection, inside, dynamics, odes, group, kind, /*own=*/Storage::Synapse, now,
                 values);
    SmallVector<Value> results;
    for (OdeOp ode : group)
      results.push_back(values.lookup(ode.getVar()));
    AdvancedOp::create(inside, loc, results);
    // What the cloned dynamics read but these equations do not use goes.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();
    for (auto [ode, result] : llvm::zip(group, advance.getResults()))
      advanced[OdeOp(ode).getVar()] = result;
  }

  /// At the builder's insertion point in the event block of `own`'s
  /// neurons: the variables of `group` (all kept as `kind`) advanced from
  /// their last event to `now` by their ODEs (cloned from `dynamics`,
  /// whose ODEs are `odes`), recorded in `advanced`; written back with the
  /// time where they are per synapse or traces of `own`'s side.
  void advanceGroup(ProjectionOp projection, OpBuilder &builder, Block &dynamics,
                    ArrayRef<OdeOp> odes, ArrayRef<OdeOp> group, Storage kind, Storage own,
                    Value now, llvm::StringMap<Value> &advanced) {
    Location loc = projection.getLoc();
    Type t = now.getType();
    bool perSynapse = kind == Storage::Synapse;
    bool writesBack = perSynapse || kind == own;
    Value last = perSynapse
                     ? Value(SynapseReadOp::create(builder, loc, t, kLastUpdate))
                     : Value(TraceReadOp::create(builder, loc, t, sideOf(kind), kLastUpdate));
    Value elapsed = arith::SubFOp::create(builder, loc, now, last);
    Block *block = builder.getInsertionBlock();
    Block::iterator before = builder.getInsertionPoint();
    Operation *first = before == block->end() ? nullptr : &*before;
    IRMapping mapping;
    for (Operation &op : dynamics)
      builder.clone(op, mapping);
    SmallVector<OdeOp> clones;
    for (OdeOp ode : odes)
      if (llvm::is_contained(group, ode))
        clones.push_back(mapping.lookup(ode.getResult()).getDefiningOp<OdeOp>());
    // The other kinds' equations and their writes go.
    for (OdeOp ode : odes) {
      if (llvm::is_contained(group, ode))
        continue;
      auto clone = mapping.lookup(ode.getResult()).getDefiningOp<OdeOp>();
      for (Operation *user : llvm::make_early_inc_range(clone->getUsers()))
        user->erase();
      clone.erase();
    }
    // Reads of traces: their states as stored.
    for (OdeOp ode : odes) {
      auto read = mapping.lookup(ode.getState()).getDefiningOp<SynapseReadOp>();
      if (!read)
        continue;
      if (read->use_empty()) {
        read.erase();
        continue;
      }
      if (!perSynapse) {
        OpBuilder at(read);
        read.replaceAllUsesWith(
            TraceReadOp::create(at, read.getLoc(), t, sideOf(kind), read.getVar()).getResult());
        read.erase();
      }
    }
    SystemIntegrator(projection, *block, clones, IntegrationMethod::Auto, 1)
        .runEventDriven(elapsed);
    // The clones' writes hold the advanced values.
    for (Operation &op : llvm::make_early_inc_range(*block)) {
      if (&op == first)
        break;
      auto write = dyn_cast<SynapseWriteOp>(op);
      if (!write || !llvm::any_of(group, [&](OdeOp ode) { return ode.getVar() == write.getVar(); }))
        continue;
      advanced[write.getVar()] = write.getValue();
      if (!writesBack) {
        write.erase();
      } else if (!perSynapse) {
        OpBuilder at(write);
        TraceWriteOp::create(at, write.getLoc(), sideOf(kind), write.getVar(), write.getValue());
        write.erase();
      }
    }
    if (perSynapse)
      SynapseWriteOp::create(builder, loc, kLastUpdate, now);
    else if (writesBack)
      TraceWriteOp::create(builder, loc, sideOf(kind), kLastUpdate, now);
  }

  /// The hidden per-synapse variable of an event-driven projection.
  static constexpr StringLiteral kLastUpdate = "_lastupdate";
};

} // namespace
