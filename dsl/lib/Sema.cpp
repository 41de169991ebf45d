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
#include <set>
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

/// The most steps one run may take: step indices are compared in 32 bits
/// (ncl_kernel_args::refractory_until), and ncl_run refuses longer runs.
constexpr int64_t kMaxSteps = INT32_MAX;

std::string formatNumber(double value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

std::string formatSeconds(double seconds) { return formatNumber(seconds) + " s"; }

struct Symbol {
  NameExpr::Resolution kind;
  Dimension dim;
  SourceLoc loc;
  double value = 0; ///< known for parameters and inputs
  bool poisoned = false; ///< its declaration had an error: stay quiet about uses
  Declaration *decl = nullptr; ///< for sub-expressions and outputs
};
using Scope = std::map<std::string, Symbol>;

const char *kindName(NameExpr::Resolution r) {
  switch (r) {
  case NameExpr::Resolution::Parameter: return "parameter";
  case NameExpr::Resolution::NeuronParameter: return "per-neuron parameter";
  case NameExpr::Resolution::Input: return "input";
  case NameExpr::Resolution::State: return "state variable";
  case NameExpr::Resolution::SubExpression: return "sub-expression";
  case NameExpr::Resolution::Output: return "output";
  default: return "name";
  }
}

class Sema {
public:
  explicit Sema(DiagnosticEngine &diags) : diags(diags) {}

  bool checkNeuron(NeuronDecl &n);
  bool checkNetwork(NetworkDecl &net, Module &module, NetworkModel *result);

private:
  /// Which built-in names an expression may use where it is being checked.
  enum Builtins : unsigned {
    kConstants = 1, ///< pi, e
    kNeuron = 2,    ///< i, N (neuron index and population size)
    kTime = 4,      ///< t, dt
    kNoise = 8,     ///< xi, xi_<name>: only in an equation's right-hand side
  };
  struct SubExpression {
    Declaration *decl = nullptr;
    enum { Unchecked, InProgress, Done } state = Unchecked;
    bool ok = false;
  };

  bool checkExpr(Expr &e, const Scope &scope);
  bool checkName(NameExpr &n, const Scope &scope);
  bool checkCall(CallExpr &c, const Scope &scope);
  bool resolveSubExpression(const std::string &name, const Scope &scope);
  std::optional<int> integerPower(const Expr &exponent, const Dimension &base);
  void checkAssignments(std::vector<Assignment> &assignments, const Scope &scope, const char *where);
  std::string unitHint(const Expr &bare, const Dimension &want, const Expr *other = nullptr);
  std::optional<double> evaluate(const Expr &e, const Scope &scope);
  bool declare(Scope &scope, const std::string &name, Symbol sym);
  std::optional<units::Unit> unitOf(const std::string &text, const SourceLoc &loc);
  bool expectDim(const Expr &e, const Dimension &want, const std::string &what);
  std::string displayUnit(const Declaration &d, const Expr *value);
  /// Reports a period known to be negative or NaN; returns whether it did.
  bool checkRefractoryPeriod(const Expr &period, const Scope &scope, const SourceLoc &where,
                             const std::string &context);
  void checkStepCount(const NetworkDecl &net, const NetworkModel &model,
                      const SimulateOption *dtOption);
  void checkOutputNames(const NetworkModel &model);
  void checkMethod(const std::string &method, int64_t substeps, const SourceLoc &loc);

  DiagnosticEngine &diags;
  std::map<std::string, Scope> neuronScopes;
  // State of the neuron being checked.
  unsigned allowed = kConstants;
  std::map<std::string, SubExpression> subExpressions;
  std::vector<std::string> subExpressionStack;
  std::set<std::string> used;
  std::map<std::string, std::string> displayUnits; ///< declared units, for hints
  std::string hintUnit; ///< the unit a declaration asks for, while checking it
  unsigned randomCalls = 0;
  std::set<std::string> randomNeurons; ///< neurons that draw random numbers
};

/// A bare number where a quantity was expected: suggest the unit.
std::string Sema::unitHint(const Expr &bare, const Dimension &want, const Expr *other) {
  const Expr *e = &bare;
  std::string sign;
  if (auto *u = dynamic_cast<const UnaryExpr *>(e); u && u->op == "-") {
    sign = "-";
    e = u->operand.get();
  }
  auto *n = dynamic_cast<const NumberExpr *>(e);
  if (!n || !n->unitText.empty() || want.isDimensionless())
    return "";
  std::string unit = want.str();
  if (auto *o = dynamic_cast<const NumberExpr *>(other); o && !o->unitText.empty())
    unit = o->unitText;
  if (auto *o = dynamic_cast<const NameExpr *>(other); o && displayUnits.count(o->name))
    unit = displayUnits[o->name];
  if (!hintUnit.empty())
    unit = hintUnit;
  std::ostringstream text;
  text << sign << n->value;
  return "; did you forget a unit? e.g. '" + text.str() + " " + unit + "'";
}

/// Whether a (checked) expression reads a parameter or an input.
bool referencesParameters(const Expr &e) {
  if (auto *n = dynamic_cast<const NameExpr *>(&e))
    return n->resolution == NameExpr::Resolution::Parameter ||
           n->resolution == NameExpr::Resolution::Input;
  if (auto *u = dynamic_cast<const UnaryExpr *>(&e))
    return referencesParameters(*u->operand);
  if (auto *b = dynamic_cast<const BinaryExpr *>(&e))
    return referencesParameters(*b->lhs) || referencesParameters(*b->rhs);
  if (auto *c = dynamic_cast<const CallExpr *>(&e))
    return std::any_of(c->args.begin(), c->args.end(),
                       [](const ExprPtr &a) { return referencesParameters(*a); });
  if (auto *c = dynamic_cast<const ConditionalExpr *>(&e))
    return referencesParameters(*c->cond) || referencesParameters(*c->ifTrue) ||
           referencesParameters(*c->ifFalse);
  return false;
}

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
  diags.error(e.getLoc(), what + " has dimension " + e.dim.str() + ", expected " + want.str() +
                              unitHint(e, want));
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
  case Expr::Kind::Name:
    return checkName(static_cast<NameExpr &>(e), scope);
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
        std::string hint = unitHint(*b.rhs, b.lhs->dim, b.lhs.get());
        if (hint.empty())
          hint = unitHint(*b.lhs, b.rhs->dim, b.rhs.get());
        diags.error(b.getLoc(), "operands of '" + op + "' have different dimensions: " +
                                    b.lhs->dim.str() + " and " + b.rhs->dim.str() + hint);
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
      std::optional<int> power = integerPower(*b.rhs, b.lhs->dim);
      if (!power)
        return false;
      e.dim = b.lhs->dim.pow(*power);
      return true;
    }
    diags.error(b.getLoc(), "unknown operator '" + op + "'");
    return false;
  }
  case Expr::Kind::Call:
    return checkCall(static_cast<CallExpr &>(e), scope);
  case Expr::Kind::Conditional: {
    auto &c = static_cast<ConditionalExpr &>(e);
    bool ok = checkExpr(*c.cond, scope);
    ok = checkExpr(*c.ifTrue, scope) && ok;
    ok = checkExpr(*c.ifFalse, scope) && ok;
    if (!ok)
      return false;
    if (!c.cond->isBool) {
      diags.error(c.cond->getLoc(), "the condition of '?:' must be a comparison or a logical expression");
      return false;
    }
    if (c.ifTrue->isBool != c.ifFalse->isBool || c.ifTrue->dim != c.ifFalse->dim) {
      auto describe = [](const Expr &x) { return x.isBool ? std::string("a condition") : x.dim.str(); };
      diags.error(c.getLoc(), "the branches of '?:' have different dimensions: " +
                                  describe(*c.ifTrue) + " and " + describe(*c.ifFalse));
      return false;
    }
    e.isBool = c.ifTrue->isBool;
    e.dim = c.ifTrue->dim;
    return true;
  }
  }
  return false;
}

/// The exponent of a quantity with a unit: a small integer literal (a
/// dimension's exponents are 8-bit, doubled).
std::optional<int> Sema::integerPower(const Expr &exponent, const Dimension &base) {
  auto *n = dynamic_cast<const NumberExpr *>(&exponent);
  if (!n || n->value != std::floor(n->value)) {
    diags.error(exponent.getLoc(), "a quantity with dimension " + base.str() +
                                       " can only be raised to a constant integer power");
    return std::nullopt;
  }
  if (std::fabs(n->value) > 63) { // exponents are stored doubled in 8 bits
    diags.error(exponent.getLoc(), "power of a quantity with dimension " + base.str() +
                                       " is out of range");
    return std::nullopt;
  }
  return static_cast<int>(n->value);
}

bool Sema::checkName(NameExpr &n, const Scope &scope) {
  auto it = scope.find(n.name);
  if (it != scope.end()) {
    if (it->second.poisoned)
      return false;
    used.insert(n.name);
    n.resolution = it->second.kind;
    if (n.resolution == NameExpr::Resolution::SubExpression ||
        n.resolution == NameExpr::Resolution::Output) {
      if (!resolveSubExpression(n.name, scope))
        return false;
      const Expr &value = *subExpressions[n.name].decl->value;
      n.dim = value.dim;
      n.isBool = value.isBool;
      return true;
    }
    n.dim = it->second.dim;
    return true;
  }
  // Built-in names, where they mean something.
  struct Builtin {
    const char *name;
    NameExpr::Resolution kind;
    unsigned needs;
    bool isTime;
    double value;
    const char *where;
  };
  static const Builtin builtins[] = {
      {"pi", NameExpr::Resolution::Constant, kConstants, false, M_PI, ""},
      {"e", NameExpr::Resolution::Constant, kConstants, false, M_E, ""},
      {"t", NameExpr::Resolution::Time, kTime, true, 0,
       "the time 't' exists only in dynamics, update, spike, reset and refractory expressions"},
      {"dt", NameExpr::Resolution::Step, kTime, true, 0,
       "the time step 'dt' exists only in dynamics, update, spike, reset and refractory expressions"},
      {"i", NameExpr::Resolution::Index, kNeuron, false, 0,
       "the neuron index 'i' differs per neuron, so a shared parameter cannot use it"},
      {"N", NameExpr::Resolution::Size, kNeuron, false, 0,
       "the population size 'N' is not known where parameters are evaluated"},
  };
  for (const Builtin &b : builtins) {
    if (n.name != b.name)
      continue;
    if (!(allowed & b.needs)) {
      diags.error(n.getLoc(), std::string(b.where));
      return false;
    }
    n.resolution = b.kind;
    n.unitScale = b.value;
    n.dim = b.isTime ? Dimension::time() : Dimension::none();
    return true;
  }
  // White noise: xi (one per equation) or xi_<name> (shared by name).
  if (n.name == "xi" || n.name.rfind("xi_", 0) == 0) {
    if (!(allowed & kNoise)) {
      diags.error(n.getLoc(), "white noise '" + n.name +
                                  "' can only appear in the right-hand side of an equation x' = ...");
      return false;
    }
    n.resolution = NameExpr::Resolution::Noise;
    n.dim = *Dimension::time().sqrt();
    n.dim = Dimension::none() / n.dim; // 1/sqrt(s)
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
  diags.error(n.getLoc(), "unknown name '" + n.name + "'" + didYouMean(n.name, names));
  return false;
}

bool Sema::resolveSubExpression(const std::string &name, const Scope &scope) {
  SubExpression &sub = subExpressions[name];
  if (sub.state == SubExpression::Done)
    return sub.ok;
  if (sub.state == SubExpression::InProgress) {
    std::string chain;
    auto first = std::find(subExpressionStack.begin(), subExpressionStack.end(), name);
    for (auto it = first; it != subExpressionStack.end(); ++it)
      chain += *it + " -> ";
    diags.error(sub.decl->loc, "recursive sub-expression: " + chain + name);
    sub.ok = false;
    sub.state = SubExpression::Done;
    return false;
  }
  sub.state = SubExpression::InProgress;
  subExpressionStack.push_back(name);
  Declaration &d = *sub.decl;
  bool ok = checkExpr(*d.value, scope);
  if (ok && !d.unitText.empty()) {
    if (auto unit = unitOf(d.unitText, d.unitLoc))
      ok = expectDim(*d.value, unit->dim, "value of '" + d.name + "'");
    else
      ok = false;
  }
  subExpressionStack.pop_back();
  if (sub.state == SubExpression::Done) // a cycle through this name was reported
    return false;
  sub.state = SubExpression::Done;
  sub.ok = ok;
  if (ok) {
    std::string err;
    auto u = d.unitText.empty() ? std::nullopt : units::parseUnit(d.unitText, &err);
    d.unit = u ? *u : units::Unit{1.0, d.value->dim};
  }
  return ok;
}

bool Sema::checkCall(CallExpr &c, const Scope &scope) {
  bool ok = true;
  for (auto &a : c.args)
    ok = checkExpr(*a, scope) && ok;
  if (!ok)
    return false;
  for (auto &a : c.args)
    if (a->isBool) {
      diags.error(a->getLoc(), "a condition cannot be used as a number here");
      return false;
    }
  auto arity = [&](size_t n) {
    if (c.args.size() == n)
      return true;
    diags.error(c.getLoc(), "'" + c.callee + "' takes " + std::to_string(n) + " argument" +
                                (n == 1 ? "" : "s") + ", not " + std::to_string(c.args.size()));
    return false;
  };
  auto dimensionless = [&](size_t k) {
    if (c.args[k]->dim.isDimensionless())
      return true;
    diags.error(c.args[k]->getLoc(), "argument of '" + c.callee + "' must be dimensionless, not " +
                                         c.args[k]->dim.str());
    return false;
  };
  auto sameAsFirst = [&] {
    for (auto &a : c.args)
      if (a->dim != c.args[0]->dim) {
        diags.error(a->getLoc(), "arguments of '" + c.callee + "' have different dimensions: " +
                                     c.args[0]->dim.str() + " and " + a->dim.str() +
                                     unitHint(*a, c.args[0]->dim, c.args[0].get()));
        return false;
      }
    return true;
  };
  const std::string &f = c.callee;
  if (f == "rand" || f == "randn") {
    if (!arity(0))
      return false;
    if (!(allowed & kNeuron)) {
      diags.error(c.getLoc(), "'" + f + "()' draws a new number per neuron and step, so a shared "
                                  "parameter cannot use it");
      return false;
    }
    // Each call site is a stream of the generator: 10 bits of it (docs/random.md).
    if (++randomCalls > 1024) {
      diags.error(c.getLoc(), "more than 1024 random draws in one neuron model");
      return false;
    }
    return true;
  }
  // f(x) with x and the result dimensionless.
  static const std::set<std::string> pure = {"exp", "expm1", "exprel", "log", "log1p", "log10",
                                             "sin", "cos", "tan", "tanh", "sigmoid", "floor", "ceil"};
  if (pure.count(f)) {
    if (!arity(1) || !dimensionless(0))
      return false;
    return true;
  }
  // Same dimension in and out.
  if (f == "abs" || f == "relu") {
    if (!arity(1))
      return false;
    c.dim = c.args[0]->dim;
    return true;
  }
  if (f == "min" || f == "max" || f == "clip") {
    if (!arity(f == "clip" ? 3 : 2) || !sameAsFirst())
      return false;
    c.dim = c.args[0]->dim;
    return true;
  }
  if (f == "heaviside") { // 1 for x > 0, else 0
    return arity(1);
  }
  if (f == "sqrt") {
    if (!arity(1))
      return false;
    std::optional<Dimension> root = c.args[0]->dim.sqrt();
    if (!root) {
      diags.error(c.args[0]->getLoc(), "cannot take the square root of dimension " +
                                           c.args[0]->dim.str());
      return false;
    }
    c.dim = *root;
    return true;
  }
  if (f == "pow") {
    if (!arity(2) || !dimensionless(1))
      return false;
    if (c.args[0]->dim.isDimensionless())
      return true;
    std::optional<int> power = integerPower(*c.args[1], c.args[0]->dim);
    if (!power)
      return false;
    c.dim = c.args[0]->dim.pow(*power);
    return true;
  }
  std::vector<std::string> names = {"rand", "randn", "exp",  "expm1", "exprel", "log",       "log1p", "log10", "sin",
                                    "cos",  "tan",   "tanh",      "sigmoid", "floor", "ceil",
                                    "abs",  "relu",  "min",       "max",   "clip",  "heaviside",
                                    "sqrt", "pow"};
  diags.error(c.getLoc(), "unknown function '" + f + "'" + didYouMean(f, names));
  return false;
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
    diags.error(where, "the refractory period" + context + " is negative (" +
                           formatSeconds(*value) + ")");
  return true;
}

std::optional<double> Sema::evaluate(const Expr &e, const Scope &scope) {
  switch (e.getKind()) {
  case Expr::Kind::Number:
    return static_cast<const NumberExpr &>(e).value;
  case Expr::Kind::Name: {
    auto &n = static_cast<const NameExpr &>(e);
    if (n.resolution == NameExpr::Resolution::Unit || n.resolution == NameExpr::Resolution::Constant)
      return n.unitScale;
    if (n.resolution != NameExpr::Resolution::Parameter && n.resolution != NameExpr::Resolution::Input)
      return std::nullopt;
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
        {"exprel", [](double x) { return std::fabs(x) < 1e-5 ? 1 + x * (0.5 + x / 6) : std::expm1(x) / x; }},
        {"log", [](double x) { return std::log(x); }},   {"log1p", [](double x) { return std::log1p(x); }},
        {"sin", [](double x) { return std::sin(x); }},   {"cos", [](double x) { return std::cos(x); }},
        {"tanh", [](double x) { return std::tanh(x); }}, {"abs", [](double x) { return std::fabs(x); }},
        {"sqrt", [](double x) { return std::sqrt(x); }}, {"tan", [](double x) { return std::tan(x); }},
        {"log10", [](double x) { return std::log10(x); }},
        {"sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
        {"relu", [](double x) { return x > 0 ? x : 0.0; }},
        {"heaviside", [](double x) { return x > 0 ? 1.0 : 0.0; }},
        {"floor", [](double x) { return std::floor(x); }},
        {"ceil", [](double x) { return std::ceil(x); }}};
    if (auto it = f1.find(c.callee); it != f1.end())
      return it->second(a[0]);
    if (c.callee == "min") return std::min(a[0], a[1]);
    if (c.callee == "max") return std::max(a[0], a[1]);
    if (c.callee == "clip") return std::min(std::max(a[0], a[1]), a[2]);
    if (c.callee == "pow") return std::pow(a[0], a[1]);
    return std::nullopt;
  }
  case Expr::Kind::Conditional:
    return std::nullopt; // conditions are not constant-folded
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

/// Assignments of a reset or an event: to state variables, with matching units.
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
    if (!checkExpr(*a.value, scope))
      continue;
    if (a.op == "*=" || a.op == "/=")
      expectDim(*a.value, Dimension::none(), "factor in '" + a.op + "'");
    else
      expectDim(*a.value, it->second.dim, "value assigned to '" + a.variable + "'");
  }
}

/// `method NAME [substeps n]`, of a neuron or a population.
void Sema::checkMethod(const std::string &method, int64_t substeps, const SourceLoc &loc) {
  static const std::vector<std::string> methods = {"exact", "exp_euler", "euler", "rk2", "rk4",
                                                   "heun"};
  if (std::find(methods.begin(), methods.end(), method) == methods.end())
    diags.error(loc, "unknown integration method '" + method + "'" + didYouMean(method, methods) +
                         "; choose exact, exp_euler, euler, rk2, rk4 or heun");
  if (substeps < 1 || substeps > 1000)
    diags.error(loc, "substeps must be between 1 and 1000");
}

bool Sema::checkNeuron(NeuronDecl &n) {
  unsigned before = diags.errorCount();
  Scope scope;
  used.clear();
  randomCalls = 0;
  displayUnits.clear();
  subExpressions.clear();
  subExpressionStack.clear();
  allowed = kConstants; // parameters and inputs are shared constants

  // A declaration's value: checked against the declared unit, or giving it.
  auto declValue = [&](Declaration &d, const Scope &s, bool needConstant,
                       NameExpr::Resolution kind) -> std::optional<Symbol> {
    std::optional<units::Unit> declared;
    if (!d.unitText.empty())
      displayUnits[d.name] = d.unitText;
    if (!d.unitText.empty() && !(declared = unitOf(d.unitText, d.unitLoc)))
      return std::nullopt;
    if (!checkExpr(*d.value, s))
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
      auto v = evaluate(*d.value, s);
      if (!v) {
        diags.error(d.value->getLoc(), "value of '" + d.name + "' must be a constant expression" +
                                           std::string(d.perNeuron ? "" : "; a shared parameter cannot "
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
    // A per-neuron parameter is evaluated for each neuron at initialisation:
    // it may use i, N and random draws, but no shared value can depend on it.
    auto kind = p.perNeuron ? NameExpr::Resolution::NeuronParameter : NameExpr::Resolution::Parameter;
    allowed = p.perNeuron ? kConstants | kNeuron : kConstants;
    auto sym = declValue(p, scope, !p.perNeuron, kind);
    declare(scope, p.name, sym ? *sym : poisoned(kind, p));
    p.derived = sym && !p.perNeuron && referencesParameters(*p.value);
  }
  allowed = kConstants;

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
  allowed = kConstants | kNeuron;
  for (auto &s : n.state) {
    auto sym = declValue(s, initScope, false, NameExpr::Resolution::State);
    declare(scope, s.name, sym ? *sym : poisoned(NameExpr::Resolution::State, s));
  }

  // Everything below runs every step: state, time and the neuron's index.
  allowed = kConstants | kNeuron | kTime;
  for (auto *group : {&n.subExpressions, &n.outputs}) {
    auto kind = group == &n.outputs ? NameExpr::Resolution::Output
                                    : NameExpr::Resolution::SubExpression;
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
          resolveSubExpression(d.name, scope) && d.value->isBool && group == &n.outputs)
        diags.error(d.value->getLoc(), "output '" + d.name + "' must be a number, not a condition");

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
    allowed |= kNoise;
    bool rhsOk = checkExpr(*ode.rhs, scope);
    allowed &= ~kNoise;
    if (!rhsOk)
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

  // The discrete update runs after the ODEs (docs/semantics.md); a variable
  // is either integrated or updated, so each step has one meaning for it.
  checkAssignments(n.update, scope, "an update");
  for (auto &a : n.update) {
    if (a.unlessRefractory && !n.refractory)
      diags.error(a.loc, "'unless refractory' on '" + a.variable + "', but neuron '" + n.name +
                             "' has no refractory period");
    if (auto ode = odeSeen.find(a.variable); ode != odeSeen.end()) {
      diags.error(a.loc, "'" + a.variable + "' has an equation in 'dynamics' and cannot also be "
                         "assigned in 'update'; a variable is either integrated or updated");
      diags.note(ode->second, "the equation of '" + a.variable + "' is here");
    }
  }
  checkAssignments(n.reset, scope, "a reset");
  std::map<std::string, SourceLoc> eventSeen;
  for (auto &ev : n.events) {
    if (auto prev = eventSeen.find(ev.name); prev != eventSeen.end()) {
      diags.error(ev.loc, "redefinition of event '" + ev.name + "'");
      diags.note(prev->second, "first defined here");
      continue;
    }
    eventSeen[ev.name] = ev.loc;
    if (checkExpr(*ev.condition, scope) && !ev.condition->isBool)
      diags.error(ev.condition->getLoc(), "the condition of event '" + ev.name +
                                              "' must be a comparison or a logical expression");
    checkAssignments(ev.assignments, scope, "an event");
  }
  if (!n.reset.empty() && !n.spikeCondition)
    diags.error(n.resetLoc, "reset without a spike condition; add 'spike when ...'");

  if (n.refractory) {
    // A duration is evaluated when the neuron spikes (it may depend on the
    // state); a condition holds the neuron refractory after a spike while true.
    if (checkExpr(*n.refractory, scope)) {
      if (n.refractoryIsCondition && !n.refractory->isBool)
        diags.error(n.refractory->getLoc(), "'refractory while' needs a condition, e.g. 'v > -40 mV'");
      else if (!n.refractoryIsCondition &&
               expectDim(*n.refractory, Dimension::time(), "refractory period"))
        checkRefractoryPeriod(*n.refractory, scope, n.refractory->getLoc(), "");
    }
    if (!n.spikeCondition)
      diags.error(n.refractoryLoc, "refractory period without a spike condition");
  }

  if (!n.method.empty()) {
    checkMethod(n.method, n.substeps, n.methodLoc);
    if (n.odes.empty())
      diags.error(n.methodLoc, "neuron '" + n.name + "' chooses an integration method but has no "
                               "equations x' = ... to integrate");
  }

  // Legal but suspicious: declarations nothing uses, state nothing changes.
  if (diags.errorCount() == before) {
    for (auto &p : n.parameters)
      if (!used.count(p.name))
        diags.warning(p.loc, "parameter '" + p.name + "' is never used");
    for (auto &in : n.inputs)
      if (!used.count(in.name))
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
  neuronScopes[n.name] = initScope;
  if (randomCalls)
    randomNeurons.insert(n.name);
  allowed = kConstants;
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
                                     didYouMean(pop.neuron, neuronNames));
      continue;
    }
    if (pop.size <= 0 || pop.size > (int64_t(1) << 40)) {
      diags.error(pop.sizeLoc, "population size must be between 1 and 2^40");
      continue;
    }
    // The population's index is 6 bits of the generator's stream.
    if (randomNeurons.count(neuron->name) && model.populations.size() >= 64) {
      diags.error(pop.loc, "more than 64 populations in a network draw random numbers");
      continue;
    }
    PopulationModel pm;
    pm.decl = &pop;
    pm.neuron = neuron;
    pm.method = neuron->method;
    pm.substeps = neuron->substeps;
    if (!pop.method.empty()) {
      if (pop.secondMethodLoc.isValid()) {
        diags.error(pop.methodLoc, "population '" + pop.name + "' chooses its integration method twice");
        diags.note(pop.secondMethodLoc, "first chosen here");
      }
      checkMethod(pop.method, pop.substeps, pop.methodLoc);
      if (neuron->odes.empty())
        diags.error(pop.methodLoc, "population '" + pop.name + "' chooses an integration method, "
                                   "but neuron '" + neuron->name +
                                   "' has no equations x' = ... to integrate");
      pm.method = pop.method;
      pm.substeps = pop.substeps;
    }
    const Scope &scope = neuronScopes[neuron->name];
    // Derived parameters are recomputed from the others in the kernels,
    // unless the population sets them (then they are plain parameters).
    for (auto &p : neuron->parameters) {
      bool overridden = std::any_of(pop.overrides.begin(), pop.overrides.end(),
                                    [&](const Declaration &o) { return o.name == p.name; });
      if (auto it = scope.find(p.name);
          it != scope.end() && !p.perNeuron && (!p.derived || overridden))
        pm.parameters.push_back({p.name, displayUnit(p, p.value.get()), p.unit, it->second.value, false});
    }
    for (auto &in : neuron->inputs)
      if (auto it = scope.find(in.name); it != scope.end())
        pm.parameters.push_back({in.name, in.unitText, in.unit, it->second.value, true});
    // What each derived parameter follows, through other derived ones, so
    // the runtime can say what to set instead.
    for (auto &p : neuron->parameters) {
      if (!p.derived || pm.parameterIndex(p.name) >= 0)
        continue;
      DerivedParameter derived{p.name, {}};
      std::set<std::string> reads;
      std::function<void(const Expr &)> collect = [&](const Expr &e) {
        if (auto *name = dynamic_cast<const NameExpr *>(&e)) {
          if (pm.parameterIndex(name->name) >= 0) {
            reads.insert(name->name);
            return;
          }
          for (auto &q : neuron->parameters)
            if (q.name == name->name && q.derived)
              collect(*q.value);
        }
        forEachOperand(e, collect);
      };
      collect(*p.value);
      for (auto &q : pm.parameters)
        if (reads.count(q.name))
          derived.sources.push_back(q.name);
      pm.derived.push_back(std::move(derived));
    }
    for (auto &o : pop.overrides) {
      int idx = pm.parameterIndex(o.name);
      const Declaration *perNeuron = nullptr;
      for (auto &p : neuron->parameters)
        if (p.perNeuron && p.name == o.name)
          perNeuron = &p;
      if (perNeuron) {
        // The population gives every neuron this constant instead.
        if (checkExpr(*o.value, empty) &&
            expectDim(*o.value, perNeuron->unit.dim, "value of '" + o.name + "'"))
          pm.perNeuronOverrides[o.name] = o.value.get();
        continue;
      }
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
                                         o.name + "'" + didYouMean(o.name, names));
        continue;
      }
      if (!checkExpr(*o.value, empty))
        continue;
      if (!expectDim(*o.value, pm.parameters[idx].unit.dim, "value of '" + o.name + "'"))
        continue;
      if (auto v = evaluate(*o.value, empty))
        pm.parameters[idx].value = *v;
    }
    if (neuron->refractory && !neuron->refractoryIsCondition) {
      // The period with the population's values, unless the neuron's own
      // was already reported.
      std::optional<double> ownPeriod = evaluate(*neuron->refractory, scope);
      bool reported = ownPeriod && !(*ownPeriod >= 0);
      if (!reported) {
        // Applied one at a time, so the message points at the override
        // that makes the period wrong.
        Scope overridden = scope;
        for (const Declaration &o : pop.overrides) {
          int idx = pm.parameterIndex(o.name);
          auto it = overridden.find(o.name);
          if (idx < 0 || it == overridden.end())
            continue;
          it->second.value = pm.parameters[idx].value;
          if (checkRefractoryPeriod(*neuron->refractory, overridden, o.value->getLoc(),
                                    " of population '" + pop.name + "'"))
            break;
        }
      }
      // A parameter that is the period itself: the runtime refuses a
      // negative value for it too (--set, ncl_set_param).
      if (auto *name = dynamic_cast<const NameExpr *>(neuron->refractory.get()))
        if (int idx = pm.parameterIndex(name->name); idx >= 0)
          pm.parameters[idx].minValue = 0;
    }
    model.populations.push_back(std::move(pm));
  }
  for (auto &st : net.stimuli) {
    auto pm = std::find_if(model.populations.begin(), model.populations.end(),
                           [&](const PopulationModel &p) { return p.decl->name == st.population; });
    if (pm == model.populations.end()) {
      std::vector<std::string> names;
      for (auto &p : net.populations)
        names.push_back(p.name);
      diags.error(st.loc, "unknown population '" + st.population + "'" + didYouMean(st.population, names));
      continue;
    }
    const InputDecl *input = nullptr;
    for (auto &in : pm->neuron->inputs)
      if (in.name == st.input)
        input = &in;
    if (!input) {
      std::vector<std::string> names;
      for (auto &in : pm->neuron->inputs)
        names.push_back(in.name);
      diags.error(st.inputLoc, "neuron '" + pm->neuron->name + "' has no input '" + st.input + "'" +
                                   didYouMean(st.input, names) +
                                   (names.empty() ? "; declare one with 'input " + st.input + " : ...'"
                                                  : ""));
      continue;
    }
    // A stimulus is outside the neuron: it sees time, the neuron's index and
    // random draws, not the neuron's state or parameters.
    allowed = kConstants | kNeuron | kTime;
    randomCalls = 0;
    bool ok = checkExpr(*st.value, empty) &&
              expectDim(*st.value, input->unit.dim, "stimulus of input '" + st.input + "'");
    allowed = kConstants;
    if (ok)
      pm->stimuli[st.input].push_back(st.value.get());
  }
  for (auto &r : net.recordSpikes) {
    bool found = false;
    for (auto &pm : model.populations)
      if (pm.decl->name == r.name)
        found = pm.recordSpikes = true;
    bool declared = std::any_of(net.populations.begin(), net.populations.end(),
                                [&](const PopulationDecl &p) { return p.name == r.name; });
    if (!found && !declared) { // a declared one that failed was reported already
      std::vector<std::string> names;
      for (auto &p : net.populations)
        names.push_back(p.name);
      diags.error(r.loc, "unknown population '" + r.name + "'" + didYouMean(r.name, names));
    }
  }
  bool durationOk = false;
  if (net.duration && checkExpr(*net.duration, empty) &&
      expectDim(*net.duration, Dimension::time(), "simulated time")) {
    model.duration = *evaluate(*net.duration, empty);
    if (model.duration < 0)
      diags.error(net.duration->getLoc(), "simulated time must not be negative");
    else if (!std::isfinite(model.duration))
      diags.error(net.duration->getLoc(), "simulated time must be finite");
    else
      durationOk = true;
  }
  const SimulateOption *dtOption = nullptr;
  bool dtOk = true;
  for (auto &opt : net.options) {
    if (!checkExpr(*opt.value, empty))
      continue;
    auto v = evaluate(*opt.value, empty);
    if (opt.name == "dt") {
      if (expectDim(*opt.value, Dimension::time(), "dt")) {
        // A subnormal dt loses precision in t = n * dt and prints as 0.
        dtOption = &opt;
        dtOk = *v > 0 && std::isnormal(*v);
        if (!(*v > 0))
          diags.error(opt.value->getLoc(), "dt must be positive");
        else if (!dtOk)
          diags.error(opt.value->getLoc(), "dt must be a normal floating-point number (it is " +
                                               formatSeconds(*v) + ")");
        model.dt = *v;
      } else {
        dtOk = false;
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
                               didYouMean(opt.name, {"dt", "seed"}));
    }
  }
  if (durationOk && dtOk)
    checkStepCount(net, model, dtOption);
  checkOutputNames(model);
  if (result)
    *result = std::move(model);
  return diags.errorCount() == before;
}

void Sema::checkStepCount(const NetworkDecl &net, const NetworkModel &model,
                          const SimulateOption *dtOption) {
  const SourceLoc &dtLoc = dtOption ? dtOption->value->getLoc() : net.simulateLoc;
  if (model.duration > 0 && model.dt > model.duration) {
    diags.error(dtLoc, "dt (" + formatSeconds(model.dt) + ") is longer than the simulated time (" +
                           formatSeconds(model.duration) + "): the run would have no step");
    return;
  }
  double steps = std::nearbyint(model.duration / model.dt);
  if (steps > static_cast<double>(kMaxSteps))
    diags.error(net.duration->getLoc(),
                "simulating " + formatSeconds(model.duration) + " with dt = " +
                    formatSeconds(model.dt) + " takes " + formatNumber(steps) +
                    " steps; a run has at most " + std::to_string(kMaxSteps) + " (2^31 - 1)");
}

void Sema::checkOutputNames(const NetworkModel &model) {
  // ncl-run writes POP_spike_{t,i}.npy and POP_EVENT_{t,i}.npy: two
  // populations must not produce the same file name.
  struct Writer {
    const PopulationDecl *pop;
    std::string event; ///< "" for the population's spikes
  };
  std::map<std::string, Writer> stems;
  auto describe = [](const Writer &w) {
    return "population '" + w.pop->name + "'" +
           (w.event.empty() ? std::string() : " (event '" + w.event + "')");
  };
  for (const PopulationModel &pm : model.populations) {
    std::vector<Writer> writers{{pm.decl, ""}};
    for (const EventDecl &ev : pm.neuron->events)
      writers.push_back({pm.decl, ev.name});
    for (const Writer &w : writers) {
      std::string stem = w.pop->name + "_" + (w.event.empty() ? "spike" : w.event);
      auto [it, inserted] = stems.emplace(stem, w);
      if (inserted)
        continue;
      diags.error(w.pop->loc, describe(w) + " writes '" + stem + "_t.npy', as " +
                                  describe(it->second) + " does; rename one of them");
      diags.note(it->second.pop->loc, "population '" + it->second.pop->name + "' is declared here");
    }
  }
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
  std::vector<std::string> networkNames;
  for (auto &net : module.networks)
    networkNames.push_back(net.name);
  auto listed = [](const std::vector<std::string> &names) {
    std::string text;
    for (const std::string &name : names)
      text += (text.empty() ? "" : ", ") + name;
    return text;
  };
  if (networkName.empty() && module.networks.size() > 1) {
    diags.error(module.networks[1].loc, "more than one network in the file (" +
                                            listed(networkNames) +
                                            "); choose one with --network NAME");
    for (auto &net : module.networks)
      diags.note(net.loc, "network '" + net.name + "' is defined here");
    return false;
  }
  if (!chosen && networkName.empty()) {
    std::vector<std::string> neuronNames;
    for (auto &n : module.neurons)
      neuronNames.push_back(n.name);
    diags.error("'" + module.file + "' has no network to compile" +
                (neuronNames.empty() ? std::string()
                                     : "; it defines only neurons (" + listed(neuronNames) +
                                           "): add a 'network { ... }' to compile it, or "
                                           "check it alone with --check"));
    return false;
  }
  if (!chosen) {
    diags.error("no network named '" + networkName + "' in '" + module.file + "'" +
                didYouMean(networkName, networkNames) +
                (networkNames.empty() ? " (the file has no network)"
                                      : " (its networks: " + listed(networkNames) + ")"));
    return false;
  }
  return sema.checkNetwork(*chosen, module, &result) && ok;
}
