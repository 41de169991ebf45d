//===- SemaExpr.cpp - Names, dimensions and constants of expressions ------===//
//
// Expressions get their dimension bottom-up; each rule that can fail says
// which dimensions it saw and points at the sub-expression responsible.
// Unknown names and functions get a "did you mean". What an expression may
// use besides declared names (time, the neuron's index, random draws, white
// noise) comes with it in its ExprScope.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include "ncl/DSL/Builtins.h"

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace ncl;
using namespace ncl::ast;
using namespace ncl::sema;
using llvm::cast;
using llvm::dyn_cast;
using llvm::dyn_cast_or_null;
using units::Dimension;

std::string sema::formatNumber(double value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

std::string sema::formatSeconds(double seconds) { return formatNumber(seconds) + " s"; }

const char *sema::kindName(NameExpr::Resolution r) {
  switch (r) {
  case NameExpr::Resolution::Parameter:
    return "parameter";
  case NameExpr::Resolution::NeuronParameter:
    return "per-neuron parameter";
  case NameExpr::Resolution::Input:
    return "input";
  case NameExpr::Resolution::State:
    return "state variable";
  case NameExpr::Resolution::SubExpression:
    return "sub-expression";
  case NameExpr::Resolution::Output:
    return "output";
  case NameExpr::Resolution::SynapseParameter:
    return "synapse parameter";
  case NameExpr::Resolution::SynapseState:
    return "synapse state variable";
  case NameExpr::Resolution::PreState:
    return "presynaptic state variable";
  case NameExpr::Resolution::PreParameter:
    return "presynaptic parameter";
  case NameExpr::Resolution::PreInput:
    return "presynaptic input";
  case NameExpr::Resolution::PostState:
    return "postsynaptic state variable";
  case NameExpr::Resolution::PostParameter:
    return "postsynaptic parameter";
  case NameExpr::Resolution::PostInput:
    return "postsynaptic input";
  default:
    return "name";
  }
}

bool sema::referencesParameters(const Expr &e) {
  if (auto *n = dyn_cast<NameExpr>(&e))
    return n->resolution == NameExpr::Resolution::Parameter ||
           n->resolution == NameExpr::Resolution::Input;
  bool found = false;
  forEachOperand(e, [&](const Expr &operand) { found = found || referencesParameters(operand); });
  return found;
}

bool sema::isRandomDraw(const CallExpr &c) {
  const Builtin *f = lookupBuiltin(c.callee);
  return f && (f->unitRule == UnitRule::Random || f->unitRule == UnitRule::RandomCount);
}

//===----------------------------------------------------------------------===//
// Units and hints
//===----------------------------------------------------------------------===//

/// A bare number where a quantity was expected: suggest the unit.
std::string Sema::unitHint(const Expr &bare, const Dimension &want, const Expr *other) {
  const Expr *e = &bare;
  std::string sign;
  if (auto *u = dyn_cast<UnaryExpr>(e); u && u->op == "-") {
    sign = "-";
    e = u->operand.get();
  }
  auto *n = dyn_cast<NumberExpr>(e);
  if (!n || !n->unitText.empty() || want.isDimensionless())
    return "";
  std::string unit = want.str();
  if (auto *o = dyn_cast_or_null<NumberExpr>(other); o && !o->unitText.empty())
    unit = o->unitText;
  if (auto *o = dyn_cast_or_null<NameExpr>(other); o && displayUnits.count(o->name))
    unit = displayUnits[o->name];
  if (!hintUnit.empty())
    unit = hintUnit;
  std::ostringstream text;
  text << sign << n->value;
  return "; did you forget a unit? e.g. '" + text.str() + " " + unit + "'";
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

std::string Sema::displayUnit(const Declaration &d, const Expr *value) {
  if (!d.unitText.empty())
    return d.unitText;
  // A signed literal (`-70 mV`) is a negation of the number: shown in its unit.
  const Expr *literal = value;
  while (auto *u = dyn_cast_or_null<UnaryExpr>(literal))
    if (u->op == "-" || u->op == "+")
      literal = u->operand.get();
    else
      break;
  if (auto *n = dyn_cast_or_null<NumberExpr>(literal))
    return n->unitText;
  if (value && !value->dim.isDimensionless())
    return value->dim.str();
  return "";
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

bool Sema::checkExpr(Expr &e, const ExprScope &scope) {
  switch (e.getKind()) {
  case Expr::Kind::Number: {
    auto &n = cast<NumberExpr>(e);
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
    return checkName(cast<NameExpr>(e), scope);
  case Expr::Kind::Unary:
    return checkUnary(cast<UnaryExpr>(e), scope);
  case Expr::Kind::Binary:
    return checkBinary(cast<BinaryExpr>(e), scope);
  case Expr::Kind::Call:
    return checkCall(cast<CallExpr>(e), scope);
  case Expr::Kind::Conditional:
    return checkConditional(cast<ConditionalExpr>(e), scope);
  }
  return false;
}

bool Sema::checkUnary(UnaryExpr &u, const ExprScope &scope) {
  if (!checkExpr(*u.operand, scope))
    return false;
  if (u.op == "not") {
    if (!u.operand->isBool) {
      diags.error(u.operand->getLoc(), "'not' needs a condition");
      return false;
    }
    u.isBool = true;
    return true;
  }
  if (u.operand->isBool) {
    diags.error(u.operand->getLoc(), "cannot negate a condition; use 'not'");
    return false;
  }
  u.dim = u.operand->dim;
  return true;
}

bool Sema::checkBinary(BinaryExpr &b, const ExprScope &scope) {
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
    b.isBool = true;
    return true;
  }
  for (Expr *side : {b.lhs.get(), b.rhs.get()})
    if (side->isBool) {
      diags.error(side->getLoc(), "a condition cannot be used as a number here");
      return false;
    }
  if (op == "+" || op == "-" || op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" ||
      op == "!=") {
    if (b.lhs->dim != b.rhs->dim) {
      std::string hint = unitHint(*b.rhs, b.lhs->dim, b.lhs.get());
      if (hint.empty())
        hint = unitHint(*b.lhs, b.rhs->dim, b.rhs.get());
      diags.error(b.getLoc(), "operands of '" + op + "' have different dimensions: " +
                                  b.lhs->dim.str() + " and " + b.rhs->dim.str() + hint);
      return false;
    }
    b.isBool = op != "+" && op != "-";
    b.dim = b.isBool ? Dimension::none() : b.lhs->dim;
    return true;
  }
  if (op == "*") {
    b.dim = b.lhs->dim * b.rhs->dim;
    return true;
  }
  if (op == "/") {
    if (auto *n = dyn_cast<NumberExpr>(b.rhs.get()); n && n->value == 0) {
      diags.error(n->getLoc(), "division by zero");
      return false;
    }
    b.dim = b.lhs->dim / b.rhs->dim;
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
    b.dim = b.lhs->dim.pow(*power);
    return true;
  }
  diags.error(b.getLoc(), "unknown operator '" + op + "'");
  return false;
}

bool Sema::checkConditional(ConditionalExpr &c, const ExprScope &scope) {
  bool ok = checkExpr(*c.cond, scope);
  ok = checkExpr(*c.ifTrue, scope) && ok;
  ok = checkExpr(*c.ifFalse, scope) && ok;
  if (!ok)
    return false;
  if (!c.cond->isBool) {
    diags.error(c.cond->getLoc(),
                "the condition of '?:' must be a comparison or a logical expression");
    return false;
  }
  if (c.ifTrue->isBool != c.ifFalse->isBool || c.ifTrue->dim != c.ifFalse->dim) {
    auto describe = [](const Expr &x) {
      return x.isBool ? std::string("a condition") : x.dim.str();
    };
    diags.error(c.getLoc(), "the branches of '?:' have different dimensions: " +
                                describe(*c.ifTrue) + " and " + describe(*c.ifFalse));
    return false;
  }
  c.isBool = c.ifTrue->isBool;
  c.dim = c.ifTrue->dim;
  return true;
}

/// The exponent of a quantity with a unit: a small integer literal (a
/// dimension's exponents are 8-bit, doubled).
std::optional<int> Sema::integerPower(const Expr &exponent, const Dimension &base) {
  auto *n = dyn_cast<NumberExpr>(&exponent);
  if (!n || n->value != std::floor(n->value)) {
    diags.error(exponent.getLoc(), "a quantity with dimension " + base.str() +
                                       " can only be raised to a constant integer power");
    return std::nullopt;
  }
  if (std::fabs(n->value) > 63) { // exponents are stored doubled in 8 bits
    diags.error(exponent.getLoc(),
                "power of a quantity with dimension " + base.str() + " is out of range");
    return std::nullopt;
  }
  return static_cast<int>(n->value);
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

bool Sema::checkName(NameExpr &n, const ExprScope &scope) {
  auto it = scope.names.find(n.name);
  if (it != scope.names.end()) {
    if (it->second.poisoned)
      return false;
    used.insert(n.name);
    n.resolution = it->second.kind;
    n.variable = it->second.variable;
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
  // In a synapse, i and j index its two neurons, N_pre and N_post count them.
  if (scope.synapse) {
    static const std::pair<const char *, NameExpr::Resolution> synapseNames[] = {
        {"i", NameExpr::Resolution::PreIndex},
        {"j", NameExpr::Resolution::PostIndex},
        {"N_pre", NameExpr::Resolution::PreSize},
        {"N_post", NameExpr::Resolution::PostSize}};
    for (auto &[name, kind] : synapseNames)
      if (n.name == name) {
        n.resolution = kind;
        n.dim = Dimension::none();
        return true;
      }
    if (n.name == "N") {
      diags.error(n.getLoc(), "a synapse has two populations: use 'N_pre' or 'N_post'");
      return false;
    }
  }
  // Built-in names, where they mean something.
  struct BuiltinName {
    const char *name;
    NameExpr::Resolution kind;
    bool ExprScope::*needs; ///< null: meaningful everywhere
    double value;
    const char *where;
  };
  static const BuiltinName builtins[] = {
      {"pi", NameExpr::Resolution::Constant, nullptr, M_PI, ""},
      {"e", NameExpr::Resolution::Constant, nullptr, M_E, ""},
      {"t", NameExpr::Resolution::Time, &ExprScope::time, 0,
       "the time 't' exists only in dynamics, update, spike, reset and refractory expressions"},
      {"dt", NameExpr::Resolution::Step, &ExprScope::time, 0,
       "the time step 'dt' exists only in dynamics, update, spike, reset and refractory "
       "expressions"},
      {"i", NameExpr::Resolution::Index, &ExprScope::perNeuron, 0,
       "the neuron index 'i' differs per neuron, so a shared parameter cannot use it"},
      {"N", NameExpr::Resolution::Size, &ExprScope::perNeuron, 0,
       "the population size 'N' is not known where parameters are evaluated"},
  };
  for (const BuiltinName &b : builtins) {
    if (n.name != b.name)
      continue;
    if (b.needs && !(scope.*b.needs)) {
      diags.error(n.getLoc(), std::string(b.where));
      return false;
    }
    n.resolution = b.kind;
    n.unitScale = b.value;
    n.dim = b.needs == &ExprScope::time ? Dimension::time() : Dimension::none();
    return true;
  }
  // White noise: xi (one per equation) or xi_<name> (shared by name).
  if (n.name == "xi" || n.name.rfind("xi_", 0) == 0) {
    if (!scope.noise) {
      diags.error(n.getLoc(),
                  "white noise '" + n.name +
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
  for (auto &kv : scope.names)
    names.push_back(kv.first);
  diags.error(n.getLoc(), "unknown name '" + n.name + "'" + didYouMean(n.name, names));
  return false;
}

bool Sema::resolveSubExpression(const std::string &name, const ExprScope &scope) {
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

//===----------------------------------------------------------------------===//
// Calls of built-in functions
//===----------------------------------------------------------------------===//

bool Sema::checkCall(CallExpr &c, const ExprScope &scope) {
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
  const std::string &f = c.callee;
  const Builtin *builtin = lookupBuiltin(f);
  if (!builtin) {
    diags.error(c.getLoc(), "unknown function '" + f + "'" + didYouMean(f, builtinNames()));
    return false;
  }
  if (size_t n = builtin->arity; c.args.size() != n) {
    diags.error(c.getLoc(), "'" + f + "' takes " + std::to_string(n) + " argument" +
                                (n == 1 ? "" : "s") + ", not " + std::to_string(c.args.size()));
    return false;
  }
  auto dimensionless = [&](size_t k) {
    if (c.args[k]->dim.isDimensionless())
      return true;
    diags.error(c.args[k]->getLoc(),
                "argument of '" + f + "' must be dimensionless, not " + c.args[k]->dim.str());
    return false;
  };
  switch (builtin->unitRule) {
  case UnitRule::Random:
    if (!scope.perNeuron) {
      diags.error(c.getLoc(), "'" + f +
                                  "()' draws a new number per neuron and step, so a shared "
                                  "parameter cannot use it");
      return false;
    }
    return true;
  case UnitRule::RandomCount:
    if (!scope.perNeuron) {
      diags.error(c.getLoc(), "'" + f +
                                  "()' draws a new number per neuron and step, so a shared "
                                  "parameter cannot use it");
      return false;
    }
    if (!c.args[0]->dim.isDimensionless()) {
      diags.error(c.args[0]->getLoc(), "the mean of 'poisson' must be dimensionless (a "
                                       "number of events per step, e.g. rate * dt), not " +
                                           c.args[0]->dim.str());
      return false;
    }
    return true;
  case UnitRule::Dimensionless:
    for (size_t k = 0; k < c.args.size(); ++k)
      if (!dimensionless(k))
        return false;
    return true;
  case UnitRule::SameAsArgument:
    c.dim = c.args[0]->dim;
    return true;
  case UnitRule::SameAsArguments:
    for (auto &a : c.args)
      if (a->dim != c.args[0]->dim) {
        diags.error(a->getLoc(),
                    "arguments of '" + f + "' have different dimensions: " + c.args[0]->dim.str() +
                        " and " + a->dim.str() + unitHint(*a, c.args[0]->dim, c.args[0].get()));
        return false;
      }
    c.dim = c.args[0]->dim;
    return true;
  case UnitRule::AnyToNumber:
    return true;
  case UnitRule::SquareRoot: {
    std::optional<Dimension> root = c.args[0]->dim.sqrt();
    if (!root) {
      diags.error(c.args[0]->getLoc(),
                  "cannot take the square root of dimension " + c.args[0]->dim.str());
      return false;
    }
    c.dim = *root;
    return true;
  }
  case UnitRule::IntegerPower: {
    if (!dimensionless(1))
      return false;
    if (c.args[0]->dim.isDimensionless())
      return true;
    std::optional<int> power = integerPower(*c.args[1], c.args[0]->dim);
    if (!power)
      return false;
    c.dim = c.args[0]->dim.pow(*power);
    return true;
  }
  }
  return false;
}

void Sema::countRandomDraws(const Expr &e, unsigned &count) {
  forEachSubExpression(e, [&](const Expr &sub) {
    if (auto *c = dyn_cast<CallExpr>(&sub); c && isRandomDraw(*c) && ++count == kMaxRandomDraws + 1)
      diags.error(c->getLoc(), "more than " + std::to_string(kMaxRandomDraws) +
                                   " random draws in one neuron model");
  });
}

//===----------------------------------------------------------------------===//
// Constant evaluation
//===----------------------------------------------------------------------===//

std::optional<double> Sema::evaluate(const Expr &e, const Scope &scope) {
  switch (e.getKind()) {
  case Expr::Kind::Number:
    return cast<NumberExpr>(e).value;
  case Expr::Kind::Name: {
    auto &n = cast<NameExpr>(e);
    if (n.resolution == NameExpr::Resolution::Unit ||
        n.resolution == NameExpr::Resolution::Constant)
      return n.unitScale;
    if (n.resolution != NameExpr::Resolution::Parameter &&
        n.resolution != NameExpr::Resolution::Input &&
        n.resolution != NameExpr::Resolution::SynapseParameter)
      return std::nullopt;
    auto it = scope.find(n.name);
    if (it == scope.end() || it->second.kind == NameExpr::Resolution::State)
      return std::nullopt;
    return it->second.value;
  }
  case Expr::Kind::Unary: {
    auto &u = cast<UnaryExpr>(e);
    auto v = evaluate(*u.operand, scope);
    if (!v || u.op == "not")
      return std::nullopt;
    return u.op == "-" ? -*v : *v;
  }
  case Expr::Kind::Binary: {
    auto &b = cast<BinaryExpr>(e);
    auto l = evaluate(*b.lhs, scope), r = evaluate(*b.rhs, scope);
    if (!l || !r)
      return std::nullopt;
    if (b.op == "+")
      return *l + *r;
    if (b.op == "-")
      return *l - *r;
    if (b.op == "*")
      return *l * *r;
    if (b.op == "/")
      return *l / *r;
    if (b.op == "**")
      return std::pow(*l, *r);
    return std::nullopt;
  }
  case Expr::Kind::Call: {
    auto &c = cast<CallExpr>(e);
    std::vector<double> a;
    for (auto &arg : c.args) {
      auto v = evaluate(*arg, scope);
      if (!v)
        return std::nullopt;
      a.push_back(*v);
    }
    const Builtin *f = lookupBuiltin(c.callee);
    if (!f || !f->evaluate || a.size() != f->arity)
      return std::nullopt;
    return f->evaluate(a.data());
  }
  case Expr::Kind::Conditional:
    return std::nullopt; // conditions are not constant-folded
  }
  return std::nullopt;
}
