//===- AstDump.cpp - Print the AST with source locations ------------------===//
//
// The text `nclc --emit=ast` prints: one node per line, indented, each with
// `@file:line:col` so tests can check where a construct came from.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/AST.h"

#include <algorithm>
#include <ostream>

using namespace ncl;
using namespace ncl::ast;
using llvm::dyn_cast;

namespace {
class Dumper {
public:
  explicit Dumper(std::ostream &os) : os(os) {}

  void expr(const Expr &e, int depth) {
    indent(depth);
    if (auto *n = dyn_cast<NumberExpr>(&e)) {
      os << "Number " << n->value;
      if (!n->unitText.empty())
        os << " [" << n->unitText << "]";
    } else if (auto *n = dyn_cast<NameExpr>(&e)) {
      os << "Name " << n->name;
    } else if (auto *u = dyn_cast<UnaryExpr>(&e)) {
      os << "Unary " << u->op;
    } else if (auto *b = dyn_cast<BinaryExpr>(&e)) {
      os << "Binary " << b->op;
    } else if (auto *c = dyn_cast<CallExpr>(&e)) {
      os << "Call " << c->callee;
    } else {
      os << "Conditional";
    }
    os << " " << at(e.getLoc()) << "\n";
    forEachOperand(e, [&](const Expr &operand) { expr(operand, depth + 1); });
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

  /// `name("a.npy", ..., key = value)`: the files, then the named values.
  void fileSource(const FileSource &source, int depth) {
    indent(depth);
    os << "Files " << source.function << " " << at(source.loc) << "\n";
    for (size_t k = 0; k < source.files.size(); ++k) {
      indent(depth + 1);
      os << "File \"" << source.files[k] << "\" " << at(source.fileLocs[k]) << "\n";
    }
    for (auto &a : source.args) {
      indent(depth + 1);
      os << "Arg " << (a.name.empty() ? "#" : a.name) << " " << at(a.loc) << "\n";
      expr(*a.value, depth + 2);
    }
  }

  /// One place of a neuron that holds an expression: its header line, then
  /// the expression below it.
  void neuronSite(const NeuronDecl &n, const NeuronSite &site) {
    int depth = 3;
    switch (site.part) {
    case NeuronPart::Parameter:
      return decl("Parameter", *site.decl, 2);
    case NeuronPart::State:
      return decl("State", *site.decl, 2);
    case NeuronPart::SubExpression:
      return decl("Expression", *site.decl, 2);
    case NeuronPart::Output:
      return decl("Output", *site.decl, 2);
    case NeuronPart::Input:
      indent(2);
      os << "Input " << site.input->name;
      if (!site.input->unitText.empty())
        os << " : " << site.input->unitText;
      os << " " << at(site.input->loc) << "\n";
      break;
    case NeuronPart::Equation:
      indent(2);
      os << "Ode " << site.ode->variable
         << (site.ode->unlessRefractory ? " unless-refractory " : " ") << at(site.ode->loc) << "\n";
      break;
    case NeuronPart::Update:
      indent(2);
      os << "Update " << site.assignment->variable << " " << site.assignment->op
         << (site.assignment->unlessRefractory ? " unless-refractory " : " ")
         << at(site.assignment->loc) << "\n";
      break;
    case NeuronPart::Spike:
      indent(2);
      os << "Spike " << at(n.spikeLoc) << "\n";
      break;
    case NeuronPart::Reset:
      indent(2);
      os << "Reset " << site.assignment->variable << " " << site.assignment->op << " "
         << at(site.assignment->loc) << "\n";
      break;
    case NeuronPart::Refractory:
      indent(2);
      os << (n.refractoryIsCondition ? "RefractoryWhile " : "Refractory ") << at(n.refractoryLoc)
         << "\n";
      break;
    case NeuronPart::EventCondition:
      indent(2);
      os << "Event " << site.event->name << " " << at(site.event->loc) << "\n";
      break;
    case NeuronPart::EventAssignment:
      indent(3);
      os << "Assign " << site.assignment->variable << " " << site.assignment->op << " "
         << at(site.assignment->loc) << "\n";
      depth = 4;
      break;
    }
    if (site.expr)
      expr(*site.expr, depth);
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
      forEachSite(n, [&](const NeuronSite &site) { neuronSite(n, site); });
      if (!n.method.empty()) {
        indent(2);
        os << "Method " << n.method << " substeps " << n.substeps << " " << at(n.methodLoc) << "\n";
      }
    }
    for (auto &syn : m.synapses) {
      indent(1);
      os << "Synapse " << syn.name << " " << at(syn.loc) << "\n";
      for (auto &p : syn.parameters)
        decl("Parameter", p, 2);
      for (auto &st : syn.state)
        decl("State", st, 2);
      for (auto *block : {&syn.onPre, &syn.onPost, &syn.summed}) {
        if (block->empty())
          continue;
        indent(2);
        if (block == &syn.onPre)
          os << "OnPre " << at(syn.onPreLoc) << "\n";
        else if (block == &syn.onPost)
          os << "OnPost " << at(syn.onPostLoc) << "\n";
        else
          os << "Summed " << at(syn.summedLoc) << "\n";
        for (auto &a : *block) {
          indent(3);
          os << "Assign " << a.variable << " " << a.op << " " << at(a.loc) << "\n";
          expr(*a.value, 4);
        }
      }
      if (!syn.odes.empty()) {
        indent(2);
        os << "Dynamics " << at(syn.dynamicsLoc) << "\n";
        for (auto &ode : syn.odes) {
          indent(3);
          os << "Ode " << ode.variable << "' " << at(ode.loc) << "\n";
          expr(*ode.rhs, 4);
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
        if (p.source)
          fileSource(*p.source, 3);
        for (auto &o : p.overrides)
          decl("Set", o, 3);
        for (auto &series : p.series) {
          indent(3);
          os << "Series " << series.input << " " << at(series.loc) << "\n";
          fileSource(series.source, 4);
        }
        if (!p.method.empty()) {
          indent(3);
          os << "Method " << p.method << " substeps " << p.substeps << " " << at(p.methodLoc)
             << "\n";
        }
        for (auto &sign : p.signs) {
          indent(3);
          os << "Sign " << sign.word << " " << at(sign.loc) << "\n";
        }
      }
      for (auto &g : net.groups) {
        indent(2);
        os << "Group " << g.name << " = " << range(g.range) << " " << at(g.loc) << "\n";
        if (g.sign) {
          indent(3);
          os << "Sign " << g.sign->word << " " << at(g.sign->loc) << "\n";
        }
      }
      for (auto &p : net.projections) {
        indent(2);
        os << "Projection " << p.name << " = " << p.synapse << "(" << range(p.pre) << " -> "
           << range(p.post) << ") " << at(p.loc) << "\n";
        for (auto &c : p.connects) {
          indent(3);
          os << "Connect " << c.rule << " " << at(c.loc) << "\n";
          for (auto &a : c.args) {
            indent(4);
            os << "Arg " << (a.name.empty() ? "#" : a.name) << " " << at(a.loc) << "\n";
            if (a.value) {
              expr(*a.value, 5);
            } else {
              indent(5);
              os << "String \"" << a.text << "\"\n";
            }
          }
          if (c.condition) {
            indent(4);
            os << "If\n";
            expr(*c.condition, 5);
          }
        }
        for (auto &o : p.overrides)
          decl("Set", o, 3);
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
      for (auto &r : net.recordStates) {
        indent(2);
        os << "RecordState " << r.var << "(" << range(r.target) << ") " << at(r.loc) << "\n";
        if (r.every) {
          indent(3);
          os << "Every\n";
          expr(*r.every, 4);
        }
      }
      for (auto &r : net.recordRates) {
        indent(2);
        os << "RecordRate " << range(r.target) << " " << at(r.loc) << "\n";
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
  /// Two spaces a level, up to kMaxIndent levels; deeper lines (a long
  /// flat sum is a tree as deep as it is long) say their level instead, so
  /// the dump stays linear in the size of the tree.
  void indent(int depth) {
    constexpr int kMaxIndent = 64;
    os << std::string(2 * std::min(depth, kMaxIndent), ' ');
    if (depth > kMaxIndent)
      os << '[' << depth << "] ";
  }
  static std::string at(const SourceLoc &l) { return "@" + l.str(); }
  static std::string range(const RangeRef &r) {
    if (r.whole)
      return r.population;
    return r.population + "[" + std::to_string(r.begin) + ":" + std::to_string(r.end) + "]";
  }
  std::ostream &os;
};
} // namespace

void ncl::ast::dump(const Module &module, std::ostream &os) { Dumper(os).module(module); }
