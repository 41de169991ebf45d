//===- AstClone.cpp - Deep copies of AST nodes ----------------------------===//
//
// A synapse's on_pre/on_post names the variables of the neurons it connects,
// so Sema checks it once per projection, each time on its own copy: the
// resolutions and dimensions it fills in belong to that projection.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/AST.h"

using namespace ncl;
using namespace ncl::ast;
using llvm::cast;

ExprPtr ncl::ast::clone(const Expr &e) {
  ExprPtr copy;
  switch (e.getKind()) {
  case Expr::Kind::Number: {
    auto &n = cast<NumberExpr>(e);
    copy = std::make_unique<NumberExpr>(n.getLoc(), n.value, n.unitText);
    break;
  }
  case Expr::Kind::Name: {
    auto &n = cast<NameExpr>(e);
    auto name = std::make_unique<NameExpr>(n.getLoc(), n.name);
    name->resolution = n.resolution;
    name->unitScale = n.unitScale;
    name->variable = n.variable;
    copy = std::move(name);
    break;
  }
  case Expr::Kind::Unary: {
    auto &u = cast<UnaryExpr>(e);
    copy = std::make_unique<UnaryExpr>(u.getLoc(), u.op, clone(*u.operand));
    break;
  }
  case Expr::Kind::Binary: {
    auto &b = cast<BinaryExpr>(e);
    copy = std::make_unique<BinaryExpr>(b.getLoc(), b.op, clone(*b.lhs), clone(*b.rhs));
    break;
  }
  case Expr::Kind::Call: {
    auto &c = cast<CallExpr>(e);
    std::vector<ExprPtr> args;
    for (auto &a : c.args)
      args.push_back(clone(*a));
    copy = std::make_unique<CallExpr>(c.getLoc(), c.callee, std::move(args));
    break;
  }
  case Expr::Kind::Conditional: {
    auto &c = cast<ConditionalExpr>(e);
    copy = std::make_unique<ConditionalExpr>(c.getLoc(), clone(*c.cond), clone(*c.ifTrue),
                                             clone(*c.ifFalse));
    break;
  }
  }
  copy->dim = e.dim;
  copy->isBool = e.isBool;
  return copy;
}

Declaration ncl::ast::clone(const Declaration &d) {
  Declaration copy;
  copy.loc = d.loc;
  copy.name = d.name;
  copy.unitText = d.unitText;
  copy.unitLoc = d.unitLoc;
  copy.value = d.value ? clone(*d.value) : nullptr;
  copy.perNeuron = d.perNeuron;
  copy.derived = d.derived;
  copy.unit = d.unit;
  return copy;
}

Assignment ncl::ast::clone(const Assignment &a) {
  Assignment copy;
  copy.loc = a.loc;
  copy.variable = a.variable;
  copy.op = a.op;
  copy.value = a.value ? clone(*a.value) : nullptr;
  copy.unlessRefractory = a.unlessRefractory;
  copy.target = a.target;
  copy.targetVariable = a.targetVariable;
  return copy;
}

SynapseDecl ncl::ast::clone(const SynapseDecl &s) {
  SynapseDecl copy;
  copy.loc = s.loc;
  copy.name = s.name;
  for (auto &d : s.parameters)
    copy.parameters.push_back(clone(d));
  for (auto &d : s.state)
    copy.state.push_back(clone(d));
  for (auto &a : s.onPre)
    copy.onPre.push_back(clone(a));
  for (auto &a : s.onPost)
    copy.onPost.push_back(clone(a));
  copy.onPreLoc = s.onPreLoc;
  copy.onPostLoc = s.onPostLoc;
  for (auto &a : s.summed)
    copy.summed.push_back(clone(a));
  copy.summedLoc = s.summedLoc;
  for (auto &o : s.odes) {
    OdeDecl ode;
    ode.loc = o.loc;
    ode.variable = o.variable;
    ode.rhs = clone(*o.rhs);
    ode.unlessRefractory = o.unlessRefractory;
    copy.odes.push_back(std::move(ode));
  }
  copy.dynamicsLoc = s.dynamicsLoc;
  return copy;
}
