//===- AstDump.cpp - Print the AST with source locations ------------------===//
//
// The text `nclc --emit=ast` prints: one node per line, indented, each with
// `@file:line:col` so tests can check where a construct came from.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/AST.h"

#include <ostream>

using namespace ncl;
using namespace ncl::ast;

namespace {
class Dumper {
public:
  explicit Dumper(std::ostream &os) : os(os) {}

  void expr(const Expr &e, int depth) {
    indent(depth);
    switch (e.getKind()) {
    case Expr::Kind::Number: {
      auto &n = static_cast<const NumberExpr &>(e);
      os << "Number " << n.value;
      if (!n.unitText.empty())
        os << " [" << n.unitText << "]";
      break;
    }
    case Expr::Kind::Name:
      os << "Name " << static_cast<const NameExpr &>(e).name;
      break;
    case Expr::Kind::Unary:
      os << "Unary " << static_cast<const UnaryExpr &>(e).op;
      break;
    case Expr::Kind::Binary:
      os << "Binary " << static_cast<const BinaryExpr &>(e).op;
      break;
    case Expr::Kind::Call:
      os << "Call " << static_cast<const CallExpr &>(e).callee;
      break;
    case Expr::Kind::Conditional:
      os << "Conditional";
      break;
    }
    os << " " << at(e.getLoc()) << "\n";
    if (auto *u = dynamic_cast<const UnaryExpr *>(&e))
      expr(*u->operand, depth + 1);
    if (auto *b = dynamic_cast<const BinaryExpr *>(&e)) {
      expr(*b->lhs, depth + 1);
      expr(*b->rhs, depth + 1);
    }
    if (auto *c = dynamic_cast<const CallExpr *>(&e))
      for (auto &a : c->args)
        expr(*a, depth + 1);
    if (auto *c = dynamic_cast<const ConditionalExpr *>(&e)) {
      expr(*c->cond, depth + 1);
      expr(*c->ifTrue, depth + 1);
      expr(*c->ifFalse, depth + 1);
    }
  }

  void decl(const char *what, const Declaration &d, int depth) {
    indent(depth);
    os << what << " " << d.name;
    if (!d.unitText.empty())
      os << " : " << d.unitText;
    if (d.perNeuron)
      os << " per-neuron";
    os << " " << at(d.loc) << "\n";
    expr(*d.value, depth + 1);
  }

  void module(const Module &m) {
    os << "Module " << m.file << "\n";
    for (auto &imp : m.imports) {
      indent(1);
      os << "Import \"" << imp.path << "\" " << at(imp.loc) << "\n";
    }
    for (auto &n : m.neurons) {
      indent(1);
      os << "Neuron " << n.name << " " << at(n.loc) << "\n";
      for (auto &p : n.parameters)
        decl("Parameter", p, 2);
      for (auto &in : n.inputs) {
        indent(2);
        os << "Input " << in.name;
        if (!in.unitText.empty())
          os << " : " << in.unitText;
        os << " " << at(in.loc) << "\n";
        if (in.defaultValue)
          expr(*in.defaultValue, 3);
      }
      for (auto &s : n.state)
        decl("State", s, 2);
      for (auto &d : n.subExpressions)
        decl("Expression", d, 2);
      for (auto &o : n.odes) {
        indent(2);
        os << "Ode " << o.variable << (o.unlessRefractory ? " unless-refractory " : " ")
           << at(o.loc) << "\n";
        expr(*o.rhs, 3);
      }
      for (auto &a : n.update) {
        indent(2);
        os << "Update " << a.variable << " " << a.op
           << (a.unlessRefractory ? " unless-refractory " : " ") << at(a.loc) << "\n";
        expr(*a.value, 3);
      }
      if (n.spikeCondition) {
        indent(2);
        os << "Spike " << at(n.spikeLoc) << "\n";
        expr(*n.spikeCondition, 3);
      }
      for (auto &a : n.reset) {
        indent(2);
        os << "Reset " << a.variable << " " << a.op << " " << at(a.loc) << "\n";
        expr(*a.value, 3);
      }
      if (n.refractory) {
        indent(2);
        os << (n.refractoryIsCondition ? "RefractoryWhile " : "Refractory ") << at(n.refractoryLoc)
           << "\n";
        expr(*n.refractory, 3);
      }
      for (auto &o : n.outputs)
        decl("Output", o, 2);
      if (!n.method.empty()) {
        indent(2);
        os << "Method " << n.method << " substeps " << n.substeps << " " << at(n.methodLoc) << "\n";
      }
      for (auto &ev : n.events) {
        indent(2);
        os << "Event " << ev.name << " " << at(ev.loc) << "\n";
        expr(*ev.condition, 3);
        for (auto &a : ev.assignments) {
          indent(3);
          os << "Assign " << a.variable << " " << a.op << " " << at(a.loc) << "\n";
          expr(*a.value, 4);
        }
      }
    }
    for (auto &net : m.networks) {
      indent(1);
      os << "Network " << net.name << " " << at(net.loc) << "\n";
      for (auto &p : net.populations) {
        indent(2);
        os << "Population " << p.name << " = " << p.neuron << "[" << p.size << "] " << at(p.loc)
           << "\n";
        for (auto &o : p.overrides)
          decl("Set", o, 3);
        if (!p.method.empty()) {
          indent(3);
          os << "Method " << p.method << " substeps " << p.substeps << " " << at(p.methodLoc)
             << "\n";
        }
      }
      for (auto &st : net.stimuli) {
        indent(2);
        os << "Stimulus " << st.population << "." << st.input << " " << at(st.loc) << "\n";
        expr(*st.value, 3);
      }
      for (auto &r : net.recordSpikes) {
        indent(2);
        os << "RecordSpikes " << r.name << " " << at(r.loc) << "\n";
      }
      if (net.duration) {
        indent(2);
        os << "Simulate " << at(net.simulateLoc) << "\n";
        expr(*net.duration, 3);
        for (auto &o : net.options) {
          indent(3);
          os << "Option " << o.name << " " << at(o.loc) << "\n";
          expr(*o.value, 4);
        }
      }
    }
  }

private:
  void indent(int depth) { os << std::string(2 * depth, ' '); }
  static std::string at(const SourceLoc &l) { return "@" + l.str(); }
  std::ostream &os;
};
} // namespace

void ncl::ast::dump(const Module &module, std::ostream &os) { Dumper(os).module(module); }
