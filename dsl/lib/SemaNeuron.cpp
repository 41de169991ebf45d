//===- SemaNeuron.cpp - Checking a neuron model ---------------------------===//
//
// A neuron is checked in the order its names come into sight: parameters
// and inputs (shared constants), initial values (per neuron), then what runs
// every step (named expressions, equations, update, spike, reset, events,
// refractoriness). Each part checks its expressions in the ExprScope that
// says what may be used there.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include "ncl/Dialect/Ncl/IR/NclEnums.h"

#include <algorithm>
#include <cmath>

using namespace ncl;
using namespace ncl::ast;
using namespace ncl::sema;
using units::Dimension;

bool Sema::declare(Scope &scope, const std::string &name, Symbol sym) {
  auto it = scope.find(name);
  if (it != scope.end()) {
    diags.error(sym.loc, "redefinition of '" + name + "'");
    diags.note(it->second.loc,
               "'" + name + "' was first declared here as a " + kindName(it->second.kind));
    return false;
  }
  scope.emplace(name, sym);
  return true;
}

/// A declaration's value: checked against the declared unit, or giving it.
std::optional<Symbol> Sema::checkDeclaration(Declaration &d, const ExprScope &scope,
                                             bool needConstant, NameExpr::Resolution kind) {
  std::optional<units::Unit> declared;
  if (!d.unitText.empty())
    displayUnits[d.name] = d.unitText;
  if (!d.unitText.empty() && !(declared = unitOf(d.unitText, d.unitLoc)))
    return std::nullopt;
  if (!checkExpr(*d.value, scope))
    return std::nullopt;
  hintUnit = d.unitText;
  bool matches = !declared || expectDim(*d.value, declared->dim, "value of '" + d.name + "'");
  hintUnit.clear();
  if (!matches)
    return std::nullopt;
  if (!declared && d.value->isBool) {
    diags.error(d.value->getLoc(), "value of '" + d.name + "' must be a number, not a condition");
    return std::nullopt;
  }
  Symbol sym{kind, d.value->dim, d.loc};
  if (needConstant) {
    auto v = evaluate(*d.value, scope.names);
    if (!v) {
      diags.error(d.value->getLoc(), "value of '" + d.name + "' must be a constant expression" +
                                         std::string(d.perNeuron ? ""
                                                                 : "; a shared parameter cannot "
                                                                   "depend on per-neuron values"));
      return std::nullopt;
    }
    sym.value = *v;
  }
  std::string shown = displayUnit(d, d.value.get());
  if (!shown.empty())
    displayUnits[d.name] = shown;
  std::string err;
  auto u = units::parseUnit(shown, &err);
  d.unit = u && u->dim == sym.dim ? *u : units::Unit{1.0, sym.dim};
  return sym;
}

/// After an error in a declaration, uses of the name still check against
/// its declared unit; with none, they stay quiet instead of cascading.
Symbol Sema::poisoned(NameExpr::Resolution kind, const Declaration &d) {
  Symbol sym{kind, Dimension(), d.loc};
  auto unit = d.unitText.empty() ? std::nullopt : units::parseUnit(d.unitText);
  if (unit)
    sym.dim = unit->dim;
  else
    sym.poisoned = true;
  return sym;
}

//===----------------------------------------------------------------------===//
// Parameters, inputs and named expressions
//===----------------------------------------------------------------------===//

void Sema::checkParameters(NeuronDecl &n, Scope &scope) {
  for (auto &p : n.parameters) {
    // A per-neuron parameter is evaluated for each neuron at initialisation:
    // it may use i, N and random draws, but no shared value can depend on it.
    auto kind =
        p.perNeuron ? NameExpr::Resolution::NeuronParameter : NameExpr::Resolution::Parameter;
    ExprScope where = p.perNeuron ? ExprScope::perNeuronInit(scope) : ExprScope::shared(scope);
    auto sym = checkDeclaration(p, where, !p.perNeuron, kind);
    declare(scope, p.name, sym ? *sym : poisoned(kind, p));
    p.derived = sym && !p.perNeuron && referencesParameters(*p.value);
  }
}

void Sema::checkInputs(NeuronDecl &n, Scope &scope) {
  for (auto &in : n.inputs) {
    units::Unit unit;
    if (!in.unitText.empty()) {
      auto u = unitOf(in.unitText, in.unitLoc);
      if (!u)
        continue;
      unit = *u;
    }
    double value = 0;
    if (in.defaultValue) {
      if (!checkExpr(*in.defaultValue, ExprScope::shared(scope)))
        continue;
      if (in.unitText.empty())
        unit.dim = in.defaultValue->dim;
      if (!expectDim(*in.defaultValue, unit.dim, "default of input '" + in.name + "'"))
        continue;
      auto v = evaluate(*in.defaultValue, scope);
      if (!v) {
        diags.error(in.defaultValue->getLoc(),
                    "default of input '" + in.name + "' must be a constant expression");
        continue;
      }
      value = *v;
    }
    in.unit = unit;
    declare(scope, in.name, Symbol{NameExpr::Resolution::Input, unit.dim, in.loc, value});
  }
}

/// Sub-expressions and outputs: declared together first, since each may use
/// any other, then checked each once, in order, following the names they use.
void Sema::checkNamedExpressions(NeuronDecl &n, Scope &scope) {
  for (auto *group : {&n.subExpressions, &n.outputs}) {
    auto kind =
        group == &n.outputs ? NameExpr::Resolution::Output : NameExpr::Resolution::SubExpression;
    for (auto &d : *group) {
      Symbol sym{kind, Dimension(), d.loc};
      sym.decl = &d;
      if (declare(scope, d.name, sym))
        subExpressions[d.name].decl = &d;
    }
  }
  for (auto *group : {&n.subExpressions, &n.outputs})
    for (auto &d : *group)
      if (subExpressions.count(d.name) && subExpressions[d.name].decl == &d &&
          resolveSubExpression(d.name, ExprScope::everyStep(scope)) && d.value->isBool &&
          group == &n.outputs)
        diags.error(d.value->getLoc(), "output '" + d.name + "' must be a number, not a condition");
}

//===----------------------------------------------------------------------===//
// What runs every step
//===----------------------------------------------------------------------===//

/// The equations x' = ...; returns where each variable's equation is.
std::map<std::string, SourceLoc> Sema::checkEquations(NeuronDecl &n, const Scope &scope) {
  std::map<std::string, SourceLoc> odeSeen;
  for (auto &ode : n.odes) {
    auto it = scope.find(ode.variable);
    if (it == scope.end()) {
      std::vector<std::string> states;
      for (auto &s : n.state)
        states.push_back(s.name);
      diags.error(ode.loc, "'" + ode.variable + "' is not a state variable" +
                               didYouMean(ode.variable, states) +
                               (states.empty() ? "; declare it in a 'state' block" : ""));
      continue;
    }
    if (it->second.poisoned)
      continue;
    if (it->second.kind != NameExpr::Resolution::State) {
      diags.error(ode.loc, std::string("cannot give an equation for ") + kindName(it->second.kind) +
                               " '" + ode.variable + "'; only state variables evolve");
      diags.note(it->second.loc, "'" + ode.variable + "' is declared here");
      continue;
    }
    if (auto prev = odeSeen.find(ode.variable); prev != odeSeen.end()) {
      diags.error(ode.loc, "second equation for '" + ode.variable + "'");
      diags.note(prev->second, "first equation is here");
      continue;
    }
    odeSeen[ode.variable] = ode.loc;
    if (!checkExpr(*ode.rhs, ExprScope::equation(scope)))
      continue;
    Dimension want = it->second.dim / Dimension::time();
    if (ode.rhs->isBool || ode.rhs->dim != want)
      diags.error(ode.rhs->getLoc(),
                  "right-hand side of " + ode.variable + "' has dimension " +
                      (ode.rhs->isBool ? std::string("of a condition") : ode.rhs->dim.str()) +
                      ", expected " + want.str() + " (units of " + ode.variable + " per time)");
    if (ode.unlessRefractory && !n.refractory)
      diags.error(ode.loc, "'unless refractory' on '" + ode.variable + "', but neuron '" + n.name +
                               "' has no refractory period");
  }
  return odeSeen;
}

/// The discrete update runs after the ODEs (docs/semantics.md); a variable
/// is either integrated or updated, so each step has one meaning for it.
void Sema::checkUpdate(NeuronDecl &n, const Scope &scope,
                       const std::map<std::string, SourceLoc> &equations) {
  checkAssignments(n.update, scope, "an update");
  for (auto &a : n.update) {
    if (a.unlessRefractory && !n.refractory)
      diags.error(a.loc, "'unless refractory' on '" + a.variable + "', but neuron '" + n.name +
                             "' has no refractory period");
    if (auto ode = equations.find(a.variable); ode != equations.end()) {
      diags.error(a.loc, "'" + a.variable +
                             "' has an equation in 'dynamics' and cannot also be "
                             "assigned in 'update'; a variable is either integrated or updated");
      diags.note(ode->second, "the equation of '" + a.variable + "' is here");
    }
  }
}

void Sema::checkEvents(NeuronDecl &n, const Scope &scope) {
  std::map<std::string, SourceLoc> eventSeen;
  for (auto &ev : n.events) {
    if (auto prev = eventSeen.find(ev.name); prev != eventSeen.end()) {
      diags.error(ev.loc, "redefinition of event '" + ev.name + "'");
      diags.note(prev->second, "first defined here");
      continue;
    }
    eventSeen[ev.name] = ev.loc;
    if (checkExpr(*ev.condition, ExprScope::everyStep(scope)) && !ev.condition->isBool)
      diags.error(ev.condition->getLoc(), "the condition of event '" + ev.name +
                                              "' must be a comparison or a logical expression");
    checkAssignments(ev.assignments, scope, "an event");
  }
}

void Sema::checkRefractory(NeuronDecl &n, const Scope &scope) {
  if (!n.refractory)
    return;
  // A duration is evaluated when the neuron spikes (it may depend on the
  // state); a condition holds the neuron refractory after a spike while true.
  if (checkExpr(*n.refractory, ExprScope::everyStep(scope))) {
    if (n.refractoryIsCondition && !n.refractory->isBool)
      diags.error(n.refractory->getLoc(),
                  "'refractory while' needs a condition, e.g. 'v > -40 mV'");
    else if (!n.refractoryIsCondition &&
             expectDim(*n.refractory, Dimension::time(), "refractory period"))
      checkRefractoryPeriod(*n.refractory, scope, n.refractory->getLoc(), "");
  }
  if (!n.spikeCondition)
    diags.error(n.refractoryLoc, "refractory period without a spike condition");
}

bool Sema::checkRefractoryPeriod(const Expr &period, const Scope &scope, const SourceLoc &where,
                                 const std::string &context) {
  // Known at compile time when it is made of parameters. A period longer
  // than the run, even an infinite one, holds the neuron for the rest of it.
  std::optional<double> value = evaluate(period, scope);
  if (!value || *value >= 0)
    return false;
  if (std::isnan(*value))
    diags.error(where, "the refractory period" + context + " is not a number");
  else
    diags.error(where,
                "the refractory period" + context + " is negative (" + formatSeconds(*value) + ")");
  return true;
}

/// Assignments of an update, a reset or an event: to state variables, with
/// matching units.
void Sema::checkAssignments(std::vector<Assignment> &assignments, const Scope &scope,
                            const char *where) {
  for (auto &a : assignments) {
    auto it = scope.find(a.variable);
    if (it == scope.end()) {
      std::vector<std::string> names;
      for (auto &kv : scope)
        names.push_back(kv.first);
      diags.error(a.loc, "unknown name '" + a.variable + "'" + didYouMean(a.variable, names));
      continue;
    }
    if (it->second.poisoned)
      continue;
    if (it->second.kind != NameExpr::Resolution::State) {
      diags.error(a.loc, std::string("cannot assign to ") + kindName(it->second.kind) + " '" +
                             a.variable + "' in " + where + "; only state variables can change");
      diags.note(it->second.loc, "'" + a.variable + "' is declared here");
      continue;
    }
    if (!checkExpr(*a.value, ExprScope::everyStep(scope)))
      continue;
    if (a.op == "*=" || a.op == "/=")
      expectDim(*a.value, Dimension::none(), "factor in '" + a.op + "'");
    else
      expectDim(*a.value, it->second.dim, "value assigned to '" + a.variable + "'");
  }
}

/// `method NAME [substeps n]`, of a neuron or a population.
void Sema::checkMethod(const std::string &method, int64_t substeps, const SourceLoc &loc) {
  // The names of the dialect's IntegrationMethod (NclEnums.td) but `auto`,
  // which is what leaving `method` out means.
  static const std::vector<std::string> methods = [] {
    std::vector<std::string> names;
    for (unsigned k = 0; k <= mlir::ncl::getMaxEnumValForIntegrationMethod(); ++k)
      if (auto m = mlir::ncl::symbolizeIntegrationMethod(k);
          m && *m != mlir::ncl::IntegrationMethod::Auto)
        names.push_back(mlir::ncl::stringifyIntegrationMethod(*m).str());
    return names;
  }();
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    std::string choices;
    for (size_t k = 0; k < methods.size(); ++k)
      choices += (k == 0 ? "" : k + 1 == methods.size() ? " or " : ", ") + methods[k];
    diags.error(loc, "unknown integration method '" + method + "'" + didYouMean(method, methods) +
                         "; choose " + choices);
  }
  if (substeps < 1 || substeps > 1000)
    diags.error(loc, "substeps must be between 1 and 1000");
}

//===----------------------------------------------------------------------===//
// The whole neuron
//===----------------------------------------------------------------------===//

/// Every rand()/randn() of the neuron, wherever it is (the sites MLIRGen
/// numbers as streams).
void Sema::checkRandomDraws(const NeuronDecl &n) {
  unsigned draws = 0;
  forEachExpr(n, [&](const Expr &e, const NeuronSite &) { countRandomDraws(e, draws); });
  if (draws)
    randomNeurons.insert(n.name);
}

/// Legal but suspicious: declarations nothing uses, state nothing changes.
void Sema::warnUnused(const NeuronDecl &n) {
  for (auto &p : n.parameters)
    if (!used.count(p.name) && !readBySynapses.count(p.name))
      diags.warning(p.loc, "parameter '" + p.name + "' is never used");
  for (auto &in : n.inputs)
    if (!used.count(in.name) && !readBySynapses.count(in.name))
      diags.warning(in.loc, "input '" + in.name + "' is never used");
  for (auto &d : n.subExpressions)
    if (!used.count(d.name))
      diags.warning(d.loc, "sub-expression '" + d.name + "' is never used");
  for (auto &st : n.state) {
    bool updated = false;
    for (auto &ode : n.odes)
      updated |= ode.variable == st.name;
    for (auto *group : {&n.reset, &n.update})
      for (auto &a : *group)
        updated |= a.variable == st.name;
    for (auto &ev : n.events)
      for (auto &a : ev.assignments)
        updated |= a.variable == st.name;
    if (!updated)
      diags.warning(st.loc, "state variable '" + st.name +
                                "' is never updated; if it is constant, make it a parameter");
  }
}

bool Sema::checkNeuron(NeuronDecl &n) {
  unsigned before = diags.errorCount();
  Scope scope;
  used.clear();
  displayUnits.clear();
  subExpressions.clear();
  subExpressionStack.clear();

  // Parameters and inputs are shared constants.
  checkParameters(n, scope);
  checkInputs(n, scope);

  // Initial values see parameters and inputs only, and differ per neuron.
  Scope initScope = scope;
  for (auto &s : n.state) {
    auto sym = checkDeclaration(s, ExprScope::perNeuronInit(initScope), false,
                                NameExpr::Resolution::State);
    declare(scope, s.name, sym ? *sym : poisoned(NameExpr::Resolution::State, s));
  }

  // Everything below runs every step: state, time and the neuron's index.
  checkNamedExpressions(n, scope);
  std::map<std::string, SourceLoc> equations = checkEquations(n, scope);
  if (n.spikeCondition && checkExpr(*n.spikeCondition, ExprScope::everyStep(scope)) &&
      !n.spikeCondition->isBool)
    diags.error(n.spikeCondition->getLoc(), "spike condition must be a comparison, e.g. 'v > Vt'");
  checkUpdate(n, scope, equations);
  checkAssignments(n.reset, scope, "a reset");
  checkEvents(n, scope);
  if (!n.reset.empty() && !n.spikeCondition)
    diags.error(n.resetLoc, "reset without a spike condition; add 'spike when ...'");
  checkRefractory(n, scope);

  if (!n.method.empty()) {
    checkMethod(n.method, n.substeps, n.methodLoc);
    if (n.odes.empty())
      diags.error(n.methodLoc, "neuron '" + n.name +
                                   "' chooses an integration method but has no "
                                   "equations x' = ... to integrate");
  }
  checkRandomDraws(n);

  if (diags.errorCount() == before)
    warnUnused(n);
  neuronScopes[n.name] = initScope;
  neuronStepScopes[n.name] = scope;
  return diags.errorCount() == before;
}
