//===- Sema.cpp - Names, dimensions and constants of an NCL file ----------===//
//
// One walk per neuron and per network. Expressions get their dimension
// bottom-up; each rule that can fail says which dimensions it saw and points
// at the sub-expression responsible. Unknown names get a "did you mean".
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Sema.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

using namespace ncl;
using namespace ncl::ast;
using units::Dimension;

int PopulationModel::parameterIndex(const std::string &name) const {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].name == name)
      return static_cast<int>(i);
  return -1;
}

namespace {

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  // Short names are too easily one edit away from anything.
  size_t bestDist = (name.size() <= 2 ? 0 : name.size() <= 5 ? 1 : 2) + 1;
  for (const auto &c : candidates) {
    size_t d = editDistance(name, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

struct Symbol {
  NameExpr::Resolution kind;
  Dimension dim;
  SourceLoc loc;
  double value = 0; ///< known for parameters and inputs
  bool poisoned = false; ///< its declaration had an error: stay quiet about uses
};
using Scope = std::map<std::string, Symbol>;

const char *kindName(NameExpr::Resolution r) {
  switch (r) {
  case NameExpr::Resolution::Parameter: return "parameter";
  case NameExpr::Resolution::Input: return "input";
  case NameExpr::Resolution::State: return "state variable";
  default: return "name";
  }
}

class Sema {
public:
  explicit Sema(DiagnosticEngine &diags) : diags(diags) {}

  bool checkNeuron(NeuronDecl &n);
  bool checkNetwork(NetworkDecl &net, Module &module, NetworkModel *result);

private:
  bool checkExpr(Expr &e, const Scope &scope);
  std::optional<double> evaluate(const Expr &e, const Scope &scope);
  bool declare(Scope &scope, const std::string &name, Symbol sym);
  std::optional<units::Unit> unitOf(const std::string &text, const SourceLoc &loc);
  bool expectDim(const Expr &e, const Dimension &want, const std::string &what);
  std::string displayUnit(const Declaration &d, const Expr *value);

  DiagnosticEngine &diags;
  std::map<std::string, Scope> neuronScopes;
};

bool Sema::declare(Scope &scope, const std::string &name, Symbol sym) {
  auto it = scope.find(name);
  if (it != scope.end()) {
    diags.error(sym.loc, "redefinition of '" + name + "'");
    diags.note(it->second.loc, "'" + name + "' was first declared here as a " +
                                   kindName(it->second.kind));
    return false;
  }
  scope.emplace(name, sym);
  return true;
}

std::optional<units::Unit> Sema::unitOf(const std::string &text, const SourceLoc &loc) {
  std::string err;
  auto u = units::parseUnit(text, &err);
  if (!u)
    diags.error(loc, err);
  return u;
}

bool Sema::expectDim(const Expr &e, const Dimension &want, const std::string &what) {
  if (e.isBool) {
    diags.error(e.getLoc(), what + " must be a number, not a condition");
    return false;
  }
  if (e.dim == want)
    return true;
  diags.error(e.getLoc(), what + " has dimension " + e.dim.str() + ", expected " + want.str());
  return false;
}

bool Sema::checkExpr(Expr &e, const Scope &scope) {
  switch (e.getKind()) {
  case Expr::Kind::Number: {
    auto &n = static_cast<NumberExpr &>(e);
    if (!std::isfinite(n.value)) {
      diags.error(n.getLoc(), "number out of range");
      return false;
    }
    if (n.unitText.empty())
      return true;
    std::string err;
    auto u = units::parseUnit(n.unitText, &err);
    if (!u) {
      diags.error(n.getLoc(), err + " in quantity '" + n.unitText + "'");
      return false;
    }
    n.value *= u->scale;
    n.dim = u->dim;
    return true;
  }
  case Expr::Kind::Name: {
    auto &n = static_cast<NameExpr &>(e);
    auto it = scope.find(n.name);
    if (it != scope.end()) {
      if (it->second.poisoned)
        return false;
      n.resolution = it->second.kind;
      n.dim = it->second.dim;
      return true;
    }
    if (auto u = units::lookupUnitName(n.name)) {
      n.resolution = NameExpr::Resolution::Unit;
      n.unitScale = u->scale;
      n.dim = u->dim;
      return true;
    }
    std::vector<std::string> names;
    for (auto &kv : scope)
      names.push_back(kv.first);
    diags.error(n.getLoc(), "unknown name '" + n.name + "'" + suggestion(n.name, names));
    return false;
  }
  case Expr::Kind::Unary: {
    auto &u = static_cast<UnaryExpr &>(e);
    if (!checkExpr(*u.operand, scope))
      return false;
    if (u.op == "not") {
      if (!u.operand->isBool) {
        diags.error(u.operand->getLoc(), "'not' needs a condition");
        return false;
      }
      e.isBool = true;
      return true;
    }
    if (u.operand->isBool) {
      diags.error(u.operand->getLoc(), "cannot negate a condition; use 'not'");
      return false;
    }
    e.dim = u.operand->dim;
    return true;
  }
  case Expr::Kind::Binary: {
    auto &b = static_cast<BinaryExpr &>(e);
    bool ok = checkExpr(*b.lhs, scope);
    ok = checkExpr(*b.rhs, scope) && ok;
    if (!ok)
      return false;
    const std::string &op = b.op;
    if (op == "and" || op == "or") {
      for (Expr *side : {b.lhs.get(), b.rhs.get()})
        if (!side->isBool) {
          diags.error(side->getLoc(), "'" + op + "' needs conditions on both sides");
          return false;
        }
      e.isBool = true;
      return true;
    }
    for (Expr *side : {b.lhs.get(), b.rhs.get()})
      if (side->isBool) {
        diags.error(side->getLoc(), "a condition cannot be used as a number here");
        return false;
      }
    if (op == "+" || op == "-" || op == "<" || op == "<=" || op == ">" || op == ">=" ||
        op == "==" || op == "!=") {
      if (b.lhs->dim != b.rhs->dim) {
        diags.error(b.getLoc(), "operands of '" + op + "' have different dimensions: " +
                                    b.lhs->dim.str() + " and " + b.rhs->dim.str());
        return false;
      }
      e.isBool = op != "+" && op != "-";
      e.dim = e.isBool ? Dimension::none() : b.lhs->dim;
      return true;
    }
    if (op == "*") {
      e.dim = b.lhs->dim * b.rhs->dim;
      return true;
    }
    if (op == "/") {
      if (auto *n = dynamic_cast<NumberExpr *>(b.rhs.get()); n && n->value == 0) {
        diags.error(n->getLoc(), "division by zero");
        return false;
      }
      e.dim = b.lhs->dim / b.rhs->dim;
      return true;
    }
    if (op == "**") {
      if (!b.rhs->dim.isDimensionless()) {
        diags.error(b.rhs->getLoc(), "an exponent must be dimensionless, not " + b.rhs->dim.str());
        return false;
      }
      if (b.lhs->dim.isDimensionless())
        return true;
      auto *n = dynamic_cast<NumberExpr *>(b.rhs.get());
      if (!n || n->value != std::floor(n->value)) {
        diags.error(b.rhs->getLoc(), "a quantity with dimension " + b.lhs->dim.str() +
                                         " can only be raised to a constant integer power");
        return false;
      }
      e.dim = b.lhs->dim.pow(static_cast<int>(n->value));
      return true;
    }
    diags.error(b.getLoc(), "unknown operator '" + op + "'");
    return false;
  }
  case Expr::Kind::Call: {
    auto &c = static_cast<CallExpr &>(e);
    bool ok = true;
    for (auto &a : c.args)
      ok = checkExpr(*a, scope) && ok;
    if (!ok)
      return false;
    static const std::map<std::string, int> dimensionless = {
        {"exp", 1}, {"expm1", 1}, {"log", 1}, {"log1p", 1}, {"sin", 1}, {"cos", 1}, {"tanh", 1}};
    static const std::map<std::string, int> sameDim = {{"abs", 1}, {"min", 2}, {"max", 2}};
    auto arity = [&](int n) {
      if (static_cast<int>(c.args.size()) == n)
        return true;
      diags.error(c.getLoc(), "'" + c.callee + "' takes " + std::to_string(n) + " argument" +
                                  (n == 1 ? "" : "s") + ", not " + std::to_string(c.args.size()));
      return false;
    };
    for (auto &a : c.args)
      if (a->isBool) {
        diags.error(a->getLoc(), "a condition cannot be used as a number here");
        return false;
      }
    if (auto it = dimensionless.find(c.callee); it != dimensionless.end()) {
      if (!arity(it->second))
        return false;
      if (!c.args[0]->dim.isDimensionless()) {
        diags.error(c.args[0]->getLoc(), "argument of '" + c.callee +
                                             "' must be dimensionless, not " +
                                             c.args[0]->dim.str());
        return false;
      }
      return true;
    }
    if (auto it = sameDim.find(c.callee); it != sameDim.end()) {
      if (!arity(it->second))
        return false;
      for (auto &a : c.args)
        if (a->dim != c.args[0]->dim) {
          diags.error(a->getLoc(), "arguments of '" + c.callee + "' have different dimensions: " +
                                       c.args[0]->dim.str() + " and " + a->dim.str());
          return false;
        }
      e.dim = c.args[0]->dim;
      return true;
    }
    if (c.callee == "sqrt") {
      if (!arity(1))
        return false;
      Dimension d;
      for (int i = 0; i < 7; ++i) {
        if (c.args[0]->dim.exponents[i] % 2) {
          diags.error(c.args[0]->getLoc(), "cannot take the square root of dimension " +
                                               c.args[0]->dim.str());
          return false;
        }
        d.exponents[i] = c.args[0]->dim.exponents[i] / 2;
      }
      e.dim = d;
      return true;
    }
    std::vector<std::string> names = {"exp", "expm1", "log", "log1p", "sin", "cos",
                                      "tanh", "abs", "min", "max", "sqrt"};
    diags.error(c.getLoc(), "unknown function '" + c.callee + "'" + suggestion(c.callee, names));
    return false;
  }
  }
  return false;
}

std::optional<double> Sema::evaluate(const Expr &e, const Scope &scope) {
  switch (e.getKind()) {
  case Expr::Kind::Number:
    return static_cast<const NumberExpr &>(e).value;
  case Expr::Kind::Name: {
    auto &n = static_cast<const NameExpr &>(e);
    if (n.resolution == NameExpr::Resolution::Unit)
      return n.unitScale;
    auto it = scope.find(n.name);
    if (it == scope.end() || it->second.kind == NameExpr::Resolution::State)
      return std::nullopt;
    return it->second.value;
  }
  case Expr::Kind::Unary: {
    auto &u = static_cast<const UnaryExpr &>(e);
    auto v = evaluate(*u.operand, scope);
    if (!v || u.op == "not")
      return std::nullopt;
    return u.op == "-" ? -*v : *v;
  }
  case Expr::Kind::Binary: {
    auto &b = static_cast<const BinaryExpr &>(e);
    auto l = evaluate(*b.lhs, scope), r = evaluate(*b.rhs, scope);
    if (!l || !r)
      return std::nullopt;
    if (b.op == "+") return *l + *r;
    if (b.op == "-") return *l - *r;
    if (b.op == "*") return *l * *r;
    if (b.op == "/") return *l / *r;
    if (b.op == "**") return std::pow(*l, *r);
    return std::nullopt;
  }
  case Expr::Kind::Call: {
    auto &c = static_cast<const CallExpr &>(e);
    std::vector<double> a;
    for (auto &arg : c.args) {
      auto v = evaluate(*arg, scope);
      if (!v)
        return std::nullopt;
      a.push_back(*v);
    }
    static const std::map<std::string, double (*)(double)> f1 = {
        {"exp", [](double x) { return std::exp(x); }},   {"expm1", [](double x) { return std::expm1(x); }},
        {"log", [](double x) { return std::log(x); }},   {"log1p", [](double x) { return std::log1p(x); }},
        {"sin", [](double x) { return std::sin(x); }},   {"cos", [](double x) { return std::cos(x); }},
        {"tanh", [](double x) { return std::tanh(x); }}, {"abs", [](double x) { return std::fabs(x); }},
        {"sqrt", [](double x) { return std::sqrt(x); }}};
    if (auto it = f1.find(c.callee); it != f1.end())
      return it->second(a[0]);
    if (c.callee == "min") return std::min(a[0], a[1]);
    if (c.callee == "max") return std::max(a[0], a[1]);
    return std::nullopt;
  }
  }
  return std::nullopt;
}

std::string Sema::displayUnit(const Declaration &d, const Expr *value) {
  if (!d.unitText.empty())
    return d.unitText;
  if (auto *n = dynamic_cast<const NumberExpr *>(value))
    return n->unitText;
  if (value && !value->dim.isDimensionless())
    return value->dim.str();
  return "";
}

bool Sema::checkNeuron(NeuronDecl &n) {
  unsigned before = diags.errorCount();
  Scope scope;

  // A declaration's value: checked against the declared unit, or giving it.
  auto declValue = [&](Declaration &d, const Scope &s, bool needConstant,
                       NameExpr::Resolution kind) -> std::optional<Symbol> {
    std::optional<units::Unit> declared;
    if (!d.unitText.empty() && !(declared = unitOf(d.unitText, d.unitLoc)))
      return std::nullopt;
    if (!checkExpr(*d.value, s))
      return std::nullopt;
    if (declared && !expectDim(*d.value, declared->dim, "value of '" + d.name + "'"))
      return std::nullopt;
    if (!declared && d.value->isBool) {
      diags.error(d.value->getLoc(), "value of '" + d.name + "' must be a number, not a condition");
      return std::nullopt;
    }
    Symbol sym{kind, d.value->dim, d.loc};
    if (needConstant) {
      auto v = evaluate(*d.value, s);
      if (!v) {
        diags.error(d.value->getLoc(), "value of '" + d.name + "' must be a constant expression");
        return std::nullopt;
      }
      sym.value = *v;
    }
    std::string shown = displayUnit(d, d.value.get());
    std::string err;
    auto u = units::parseUnit(shown, &err);
    d.unit = u && u->dim == sym.dim ? *u : units::Unit{1.0, sym.dim};
    return sym;
  };

  // After an error in a declaration, uses of the name still check against
  // its declared unit; with none, they stay quiet instead of cascading.
  auto poisoned = [](NameExpr::Resolution kind, const Declaration &d) {
    Symbol sym{kind, Dimension(), d.loc};
    auto unit = d.unitText.empty() ? std::nullopt : units::parseUnit(d.unitText);
    if (unit)
      sym.dim = unit->dim;
    else
      sym.poisoned = true;
    return sym;
  };
  for (auto &p : n.parameters) {
    auto sym = declValue(p, scope, true, NameExpr::Resolution::Parameter);
    declare(scope, p.name, sym ? *sym : poisoned(NameExpr::Resolution::Parameter, p));
  }

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
      if (!checkExpr(*in.defaultValue, scope))
        continue;
      if (in.unitText.empty())
        unit.dim = in.defaultValue->dim;
      if (!expectDim(*in.defaultValue, unit.dim, "default of input '" + in.name + "'"))
        continue;
      auto v = evaluate(*in.defaultValue, scope);
      if (!v) {
        diags.error(in.defaultValue->getLoc(), "default of input '" + in.name +
                                                   "' must be a constant expression");
        continue;
      }
      value = *v;
    }
    in.unit = unit;
    declare(scope, in.name, Symbol{NameExpr::Resolution::Input, unit.dim, in.loc, value});
  }

  Scope initScope = scope; // initial values see parameters and inputs only
  for (auto &s : n.state) {
    auto sym = declValue(s, initScope, false, NameExpr::Resolution::State);
    declare(scope, s.name, sym ? *sym : poisoned(NameExpr::Resolution::State, s));
  }

  std::map<std::string, SourceLoc> odeSeen;
  for (auto &ode : n.odes) {
    auto it = scope.find(ode.variable);
    if (it == scope.end()) {
      std::vector<std::string> states;
      for (auto &s : n.state)
        states.push_back(s.name);
      diags.error(ode.loc, "'" + ode.variable + "' is not a state variable" +
                               suggestion(ode.variable, states) +
                               (states.empty() ? "; declare it in a 'state' block" : ""));
      continue;
    }
    if (it->second.poisoned)
      continue;
    if (it->second.kind != NameExpr::Resolution::State) {
      diags.error(ode.loc, std::string("cannot give an equation for ") +
                               kindName(it->second.kind) + " '" + ode.variable +
                               "'; only state variables evolve");
      diags.note(it->second.loc, "'" + ode.variable + "' is declared here");
      continue;
    }
    if (auto prev = odeSeen.find(ode.variable); prev != odeSeen.end()) {
      diags.error(ode.loc, "second equation for '" + ode.variable + "'");
      diags.note(prev->second, "first equation is here");
      continue;
    }
    odeSeen[ode.variable] = ode.loc;
    if (!checkExpr(*ode.rhs, scope))
      continue;
    Dimension want = it->second.dim / Dimension::time();
    if (ode.rhs->isBool || ode.rhs->dim != want)
      diags.error(ode.rhs->getLoc(), "right-hand side of " + ode.variable + "' has dimension " +
                                         (ode.rhs->isBool ? std::string("of a condition")
                                                          : ode.rhs->dim.str()) +
                                         ", expected " + want.str() + " (units of " +
                                         ode.variable + " per time)");
    if (ode.unlessRefractory && !n.refractory)
      diags.error(ode.loc, "'unless refractory' on '" + ode.variable +
                               "', but neuron '" + n.name + "' has no refractory period");
  }

  if (n.spikeCondition && checkExpr(*n.spikeCondition, scope) && !n.spikeCondition->isBool)
    diags.error(n.spikeCondition->getLoc(), "spike condition must be a comparison, e.g. 'v > Vt'");

  for (auto &a : n.reset) {
    auto it = scope.find(a.variable);
    if (it == scope.end()) {
      std::vector<std::string> names;
      for (auto &kv : scope)
        names.push_back(kv.first);
      diags.error(a.loc, "unknown name '" + a.variable + "'" + suggestion(a.variable, names));
      continue;
    }
    if (it->second.poisoned)
      continue;
    if (it->second.kind != NameExpr::Resolution::State) {
      diags.error(a.loc, std::string("cannot assign to ") + kindName(it->second.kind) + " '" +
                             a.variable + "' in a reset; only state variables can change");
      diags.note(it->second.loc, "'" + a.variable + "' is declared here");
      continue;
    }
    if (!checkExpr(*a.value, scope))
      continue;
    if (a.op == "*=" || a.op == "/=")
      expectDim(*a.value, Dimension::none(), "factor in '" + a.op + "'");
    else
      expectDim(*a.value, it->second.dim, "value assigned to '" + a.variable + "'");
  }
  if (!n.reset.empty() && !n.spikeCondition)
    diags.error(n.resetLoc, "reset without a spike condition; add 'spike when ...'");

  if (n.refractory) {
    if (checkExpr(*n.refractory, initScope))
      expectDim(*n.refractory, Dimension::time(), "refractory period");
    if (!n.spikeCondition)
      diags.error(n.refractoryLoc, "refractory period without a spike condition");
  }
  neuronScopes[n.name] = initScope;
  return diags.errorCount() == before;
}

bool Sema::checkNetwork(NetworkDecl &net, Module &module, NetworkModel *result) {
  unsigned before = diags.errorCount();
  NetworkModel model;
  model.decl = &net;
  Scope empty;
  std::map<std::string, SourceLoc> popSeen;
  for (auto &pop : net.populations) {
    if (auto prev = popSeen.find(pop.name); prev != popSeen.end()) {
      diags.error(pop.loc, "redefinition of population '" + pop.name + "'");
      diags.note(prev->second, "first defined here");
      continue;
    }
    popSeen[pop.name] = pop.loc;
    NeuronDecl *neuron = nullptr;
    std::vector<std::string> neuronNames;
    for (auto &n : module.neurons) {
      neuronNames.push_back(n.name);
      if (n.name == pop.neuron)
        neuron = &n;
    }
    if (!neuron) {
      diags.error(pop.neuronLoc, "unknown neuron model '" + pop.neuron + "'" +
                                     suggestion(pop.neuron, neuronNames));
      continue;
    }
    if (pop.size <= 0 || pop.size > (int64_t(1) << 40)) {
      diags.error(pop.sizeLoc, "population size must be between 1 and 2^40");
      continue;
    }
    PopulationModel pm;
    pm.decl = &pop;
    pm.neuron = neuron;
    const Scope &scope = neuronScopes[neuron->name];
    for (auto &p : neuron->parameters)
      if (auto it = scope.find(p.name); it != scope.end())
        pm.parameters.push_back({p.name, displayUnit(p, p.value.get()), p.unit, it->second.value, false});
    for (auto &in : neuron->inputs)
      if (auto it = scope.find(in.name); it != scope.end())
        pm.parameters.push_back({in.name, in.unitText, in.unit, it->second.value, true});
    for (auto &o : pop.overrides) {
      int idx = pm.parameterIndex(o.name);
      if (idx < 0) {
        std::vector<std::string> names;
        for (auto &p : pm.parameters)
          names.push_back(p.name);
        bool isState = false;
        for (auto &s : neuron->state)
          isState |= s.name == o.name;
        diags.error(o.loc, isState ? "'" + o.name + "' is a state variable of '" + neuron->name +
                                         "'; only parameters and inputs can be set per population"
                                   : "neuron '" + neuron->name + "' has no parameter or input '" +
                                         o.name + "'" + suggestion(o.name, names));
        continue;
      }
      if (!checkExpr(*o.value, empty))
        continue;
      if (!expectDim(*o.value, pm.parameters[idx].unit.dim, "value of '" + o.name + "'"))
        continue;
      if (auto v = evaluate(*o.value, empty))
        pm.parameters[idx].value = *v;
    }
    model.populations.push_back(std::move(pm));
  }
  for (auto &r : net.recordSpikes) {
    bool found = false;
    for (auto &pm : model.populations)
      if (pm.decl->name == r.name)
        found = pm.recordSpikes = true;
    if (!found) {
      std::vector<std::string> names;
      for (auto &p : net.populations)
        names.push_back(p.name);
      diags.error(r.loc, "unknown population '" + r.name + "'" + suggestion(r.name, names));
    }
  }
  if (net.duration && checkExpr(*net.duration, empty) &&
      expectDim(*net.duration, Dimension::time(), "simulated time")) {
    model.duration = *evaluate(*net.duration, empty);
    if (model.duration < 0)
      diags.error(net.duration->getLoc(), "simulated time must not be negative");
  }
  for (auto &opt : net.options) {
    if (!checkExpr(*opt.value, empty))
      continue;
    auto v = evaluate(*opt.value, empty);
    if (opt.name == "dt") {
      if (expectDim(*opt.value, Dimension::time(), "dt")) {
        if (!(*v > 0))
          diags.error(opt.value->getLoc(), "dt must be positive");
        model.dt = *v;
      }
    } else if (opt.name == "seed") {
      if (expectDim(*opt.value, Dimension::none(), "seed")) {
        if (*v < 0 || *v != std::floor(*v) || *v > 1.8e19)
          diags.error(opt.value->getLoc(), "seed must be a non-negative integer");
        else
          model.seed = static_cast<uint64_t>(*v);
      }
    } else {
      diags.error(opt.loc, "unknown simulate option '" + opt.name + "'" +
                               suggestion(opt.name, {"dt", "seed"}));
    }
  }
  if (result)
    *result = std::move(model);
  return diags.errorCount() == before;
}

bool checkNeurons(Sema &sema, Module &module, DiagnosticEngine &diags) {
  bool ok = true;
  std::map<std::string, SourceLoc> seen;
  for (auto &n : module.neurons) {
    if (auto prev = seen.find(n.name); prev != seen.end()) {
      diags.error(n.loc, "redefinition of neuron '" + n.name + "'");
      diags.note(prev->second, "first defined here");
      ok = false;
      continue;
    }
    seen[n.name] = n.loc;
    ok = sema.checkNeuron(n) && ok;
  }
  return ok;
}

} // namespace

bool ncl::analyzeModule(Module &module, DiagnosticEngine &diags) {
  Sema sema(diags);
  bool ok = checkNeurons(sema, module, diags);
  for (auto &net : module.networks)
    ok = sema.checkNetwork(net, module, nullptr) && ok;
  return ok;
}

bool ncl::analyze(Module &module, DiagnosticEngine &diags, NetworkModel &result,
                  const std::string &networkName) {
  Sema sema(diags);
  bool ok = checkNeurons(sema, module, diags);
  NetworkDecl *chosen = nullptr;
  for (auto &net : module.networks)
    if (networkName.empty() || net.name == networkName)
      chosen = chosen && networkName.empty() ? chosen : &net;
  if (networkName.empty() && module.networks.size() > 1) {
    diags.error(module.networks[1].loc, "more than one network in the file; choose one with --network");
    return false;
  }
  if (!chosen) {
    diags.error(networkName.empty() ? "'" + module.file + "' has no network to compile"
                                    : "no network named '" + networkName + "' in '" + module.file + "'");
    return false;
  }
  return sema.checkNetwork(*chosen, module, &result) && ok;
}
