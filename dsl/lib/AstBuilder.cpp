//===- AstBuilder.cpp - ANTLR parse tree to owned AST ---------------------===//
//
// Runs the generated lexer and parser, collects syntax errors through a
// listener that reports to the DiagnosticEngine, and walks the parse tree
// once to build ast::Module. This is the only file that sees ANTLR types;
// it is compiled with exceptions, and nothing thrown here escapes it.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Frontend.h"

#include "NclLexer.h"
#include "NclParser.h"
#include "antlr4-runtime.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <pthread.h>
#include <set>
#include <sstream>

using namespace ncl;
using namespace ncl::ast;
using nclgrammar::NclParser;

namespace {

/// Turns ANTLR's syntax errors into located diagnostics.
class ErrorListener : public antlr4::BaseErrorListener {
public:
  ErrorListener(DiagnosticEngine &diags, std::shared_ptr<const std::string> file)
      : diags(diags), file(std::move(file)) {}

  void syntaxError(antlr4::Recognizer *, antlr4::Token *offending, size_t line, size_t column,
                   const std::string &msg, std::exception_ptr) override {
    SourceLoc loc{file, static_cast<unsigned>(line), static_cast<unsigned>(column) + 1, 1};
    if (offending && offending->getType() != antlr4::Token::EOF) {
      std::string text = offending->getText();
      loc.length = text == "\n" || text == "\r\n" ? 1 : static_cast<unsigned>(text.size());
    }
    diags.error(loc, "syntax error: " + cleanMessage(msg));
    ++count;
  }
  unsigned count = 0;

private:
  /// ANTLR prints newlines as real line breaks; name them instead, and the
  /// separator tokens NL and SEMI by what they stand for.
  static std::string cleanMessage(std::string msg) {
    auto isWordChar = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    auto wordAt = [&](size_t i, const char *word) {
      size_t n = std::strlen(word);
      return msg.compare(i, n, word) == 0 && (i == 0 || !isWordChar(msg[i - 1])) &&
             (i + n == msg.size() || !isWordChar(msg[i + n]));
    };
    std::string out;
    for (size_t i = 0; i < msg.size(); ++i) {
      if (msg[i] == '\n')
        out += "end of line";
      else if (msg[i] == '\r')
        continue;
      else if (static_cast<unsigned char>(msg[i]) < 0x20 && msg[i] != '\t') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(msg[i]));
        out += hex;
      } else if (msg.compare(i, 4, "'\\n'") == 0) {
        out += "end of line";
        i += 3;
      } else if (wordAt(i, "NL")) {
        out += "end of line";
        i += 1;
      } else if (wordAt(i, "SEMI")) {
        out += "';'";
        i += 3;
      } else
        out += msg[i];
    }
    return out;
  }
  DiagnosticEngine &diags;
  std::shared_ptr<const std::string> file;
};

/// Deeper expressions are rejected: the AST is walked recursively by Sema
/// and MLIRGen, and no model needs anything near this.
constexpr unsigned kMaxExpressionDepth = 1000;
/// A chain `a + b + ...` is a left-leaning tree as deep as it is long: long
/// flat sums are fine, within what the recursive walks of Sema and MLIRGen
/// can take on the large stacks that the parser and nclc run on.
constexpr unsigned kMaxTreeDepth = 200000;
/// Larger files are refused before they are parsed: tokens, parse tree and
/// AST take about 200 times the text's size (4 MiB of neurons: 0.8 GB and
/// 4 s), and a model this large would be some 40 000 neuron definitions.
constexpr size_t kMaxSourceBytes = size_t(4) << 20;

class Builder {
public:
  Builder(std::shared_ptr<const std::string> file, DiagnosticEngine &diags)
      : file(std::move(file)), diags(diags) {}
  bool tooDeep = false;

  SourceLoc loc(antlr4::Token *tok) const {
    return SourceLoc{file, static_cast<unsigned>(tok->getLine()),
                     static_cast<unsigned>(tok->getCharPositionInLine()) + 1,
                     static_cast<unsigned>(std::max<size_t>(1, tok->getText().size()))};
  }
  /// A location spanning a whole rule, when it stays on one line.
  SourceLoc loc(antlr4::ParserRuleContext *ctx) const {
    SourceLoc l = loc(ctx->getStart());
    antlr4::Token *stop = ctx->getStop();
    if (stop && stop->getLine() == ctx->getStart()->getLine() &&
        stop->getStopIndex() >= ctx->getStart()->getStartIndex())
      l.length = static_cast<unsigned>(stop->getStopIndex() - ctx->getStart()->getStartIndex() + 1);
    return l;
  }

  std::unique_ptr<Module> build(NclParser::FileContext *ctx) {
    auto module = std::make_unique<Module>();
    module->file = *file;
    for (auto *item : ctx->topItem()) {
      if (auto *imp = item->importDecl()) {
        std::string text = imp->STRING()->getText();
        module->imports.push_back(
            {loc(imp->STRING()->getSymbol()), text.substr(1, text.size() - 2)});
      } else if (auto *n = item->neuronDecl())
        module->neurons.push_back(neuron(n));
      else if (auto *s = item->synapseDecl())
        module->synapses.push_back(synapse(s));
      else if (auto *n = item->networkDecl())
        module->networks.push_back(network(n));
    }
    return module;
  }

private:
  Declaration declaration(NclParser::DeclarationContext *d) {
    Declaration decl;
    decl.loc = loc(d->ID()->getSymbol());
    decl.name = d->ID()->getText();
    if (d->unit()) {
      decl.unitText = unitText(d->unit());
      decl.unitLoc = loc(d->unit());
    }
    decl.value = expr(d->expr());
    decl.perNeuron = d->PER() != nullptr;
    return decl;
  }

  /// -1 when out of range, which Sema reports.
  static int64_t parseSubsteps(const std::string &text) {
    try {
      return std::stoll(text);
    } catch (...) {
      return -1;
    }
  }

  static double numberValue(NclParser::NumberContext *n) {
    try {
      return std::stod(n->getText());
    } catch (...) {
      return HUGE_VAL;
    }
  }

  /// `kwta r keep 20 [%] [boost B period T] [reset { ... }]`; the words are
  /// checked by Sema.
  KwtaDecl kwta(NclParser::KwtaDeclContext *k) {
    KwtaDecl decl;
    auto words = k->ID();
    auto numbers = k->number();
    decl.loc = loc(words[0]->getSymbol());
    decl.keyword = words[0]->getText();
    decl.variableLoc = loc(words[1]->getSymbol());
    decl.variable = words[1]->getText();
    decl.keepWordLoc = loc(words[2]->getSymbol());
    decl.keepWord = words[2]->getText();
    decl.keepLoc = loc(numbers[0]->getStart());
    decl.keep = numberValue(numbers[0]);
    decl.keepIsInteger = numbers[0]->INT() != nullptr;
    decl.percent = k->PERCENT() != nullptr;
    for (size_t i = 3; i < words.size(); ++i)
      decl.options.push_back({loc(words[i]->getSymbol()), words[i]->getText(),
                              numberValue(numbers[i - 2]), loc(numbers[i - 2]->getStart())});
    if (k->RESET()) {
      decl.hasReset = true;
      decl.resetLoc = loc(k->RESET()->getSymbol());
      for (auto *a : k->assignment())
        decl.reset.push_back(assignment(a));
    }
    return decl;
  }

  Assignment assignment(NclParser::AssignmentContext *a) {
    Assignment as;
    as.loc = loc(a->ID()->getSymbol());
    as.variable = a->ID()->getText();
    as.op = a->op->getText();
    as.value = expr(a->expr());
    return as;
  }

  NeuronDecl neuron(NclParser::NeuronDeclContext *ctx) {
    NeuronDecl n;
    n.loc = loc(ctx->ID()->getSymbol());
    n.name = ctx->ID()->getText();
    for (auto *item : ctx->neuronItem()) {
      if (auto *p = dynamic_cast<NclParser::ParametersBlockContext *>(item)) {
        for (auto *d : p->declaration())
          n.parameters.push_back(declaration(d));
      } else if (auto *s = dynamic_cast<NclParser::StateBlockContext *>(item)) {
        for (auto *d : s->declaration())
          n.state.push_back(declaration(d));
      } else if (auto *in = dynamic_cast<NclParser::InputDeclContext *>(item)) {
        InputDecl input;
        input.loc = loc(in->ID()->getSymbol());
        input.name = in->ID()->getText();
        if (in->unit()) {
          input.unitText = unitText(in->unit());
          input.unitLoc = loc(in->unit());
        }
        if (in->expr())
          input.defaultValue = expr(in->expr());
        n.inputs.push_back(std::move(input));
      } else if (auto *dyn = dynamic_cast<NclParser::DynamicsBlockContext *>(item)) {
        for (auto *di : dyn->dynamicsItem()) {
          if (auto *d = di->declaration()) {
            n.subExpressions.push_back(declaration(d));
            continue;
          }
          auto *o = di->odeDecl();
          OdeDecl ode;
          ode.loc = loc(o->ID()->getSymbol());
          ode.variable = o->ID()->getText();
          ode.rhs = expr(o->expr());
          ode.unlessRefractory = o->UNLESS() != nullptr;
          n.odes.push_back(std::move(ode));
        }
      } else if (auto *sp = dynamic_cast<NclParser::SpikeDeclContext *>(item)) {
        n.spikeLoc = loc(sp->getStart());
        n.spikeCondition = expr(sp->expr());
      } else if (auto *r = dynamic_cast<NclParser::ResetBlockContext *>(item)) {
        n.resetLoc = loc(r->getStart());
        for (auto *a : r->assignment())
          n.reset.push_back(assignment(a));
      } else if (auto *u = dynamic_cast<NclParser::UpdateBlockContext *>(item)) {
        n.updateLoc = loc(u->getStart());
        for (auto *ui : u->updateItem()) {
          n.update.push_back(assignment(ui->assignment()));
          n.update.back().unlessRefractory = ui->UNLESS() != nullptr;
        }
      } else if (auto *rf = dynamic_cast<NclParser::RefractoryDeclContext *>(item)) {
        n.refractoryLoc = loc(rf->getStart());
        n.refractory = expr(rf->expr());
      } else if (auto *rw = dynamic_cast<NclParser::RefractoryWhileDeclContext *>(item)) {
        n.refractoryLoc = loc(rw->getStart());
        n.refractory = expr(rw->expr());
        n.refractoryIsCondition = true;
      } else if (auto *md = dynamic_cast<NclParser::MethodDeclContext *>(item)) {
        n.methodLoc = loc(md->ID()->getSymbol());
        n.method = md->ID()->getText();
        if (md->INT())
          n.substeps = parseSubsteps(md->INT()->getText());
      } else if (auto *ev = dynamic_cast<NclParser::EventDeclContext *>(item)) {
        EventDecl event;
        event.loc = loc(ev->ID()->getSymbol());
        event.name = ev->ID()->getText();
        event.condition = expr(ev->expr());
        for (auto *a : ev->assignment())
          event.assignments.push_back(assignment(a));
        n.events.push_back(std::move(event));
      } else if (auto *out = dynamic_cast<NclParser::OutputDeclContext *>(item)) {
        Declaration decl;
        decl.loc = loc(out->ID()->getSymbol());
        decl.name = out->ID()->getText();
        if (out->unit()) {
          decl.unitText = unitText(out->unit());
          decl.unitLoc = loc(out->unit());
        }
        decl.value = expr(out->expr());
        n.outputs.push_back(std::move(decl));
      }
    }
    return n;
  }

  SynapseDecl synapse(NclParser::SynapseDeclContext *ctx) {
    SynapseDecl s;
    s.loc = loc(ctx->ID()->getSymbol());
    s.name = ctx->ID()->getText();
    for (auto *item : ctx->synapseItem()) {
      if (auto *p = dynamic_cast<NclParser::SynapseParametersBlockContext *>(item)) {
        for (auto *d : p->declaration())
          s.parameters.push_back(declaration(d));
      } else if (auto *st = dynamic_cast<NclParser::SynapseStateBlockContext *>(item)) {
        for (auto *d : st->declaration())
          s.state.push_back(declaration(d));
      } else if (auto *pre = dynamic_cast<NclParser::OnPreBlockContext *>(item)) {
        s.onPreLoc = loc(pre->getStart());
        for (auto *a : pre->assignment())
          s.onPre.push_back(assignment(a));
      } else if (auto *post = dynamic_cast<NclParser::OnPostBlockContext *>(item)) {
        s.onPostLoc = loc(post->getStart());
        for (auto *a : post->assignment())
          s.onPost.push_back(assignment(a));
      } else if (auto *summed = dynamic_cast<NclParser::SummedBlockContext *>(item)) {
        s.summedLoc = loc(summed->getStart());
        for (auto *a : summed->assignment())
          s.summed.push_back(assignment(a));
      } else if (auto *dyn = dynamic_cast<NclParser::SynapseDynamicsBlockContext *>(item)) {
        s.dynamicsLoc = loc(dyn->getStart());
        for (auto *o : dyn->odeDecl()) {
          OdeDecl ode;
          ode.loc = loc(o->ID()->getSymbol());
          ode.variable = o->ID()->getText();
          ode.rhs = expr(o->expr());
          ode.unlessRefractory = o->UNLESS() != nullptr;
          s.odes.push_back(std::move(ode));
        }
      }
    }
    return s;
  }

  /// -1 when out of range, which Sema reports.
  static int64_t parseIndex(const std::string &text) {
    try {
      return std::stoll(text);
    } catch (...) {
      return -1;
    }
  }

  RangeRef range(NclParser::RangeContext *ctx) {
    RangeRef r;
    r.loc = loc(ctx->ID()->getSymbol());
    r.population = ctx->ID()->getText();
    auto ints = ctx->INT();
    if (ints.size() == 2) {
      r.whole = false;
      r.begin = parseIndex(ints[0]->getText());
      r.end = parseIndex(ints[1]->getText());
      r.rangeLoc = loc(ints[0]->getSymbol());
      antlr4::Token *close = ctx->getStop();
      if (close->getLine() == ints[0]->getSymbol()->getLine() && r.rangeLoc.column > 1) {
        // Underline `[a:b]`, from the bracket before a.
        r.rangeLoc.column -= 1;
        r.rangeLoc.length = static_cast<unsigned>(close->getStopIndex() -
                                                  ints[0]->getSymbol()->getStartIndex() + 2);
      }
    }
    return r;
  }

  ProjectionDecl projection(NclParser::ProjectionDeclContext *p) {
    ProjectionDecl proj;
    proj.loc = loc(p->ID(0)->getSymbol());
    proj.name = p->ID(0)->getText();
    proj.synapseLoc = loc(p->ID(1)->getSymbol());
    proj.synapse = p->ID(1)->getText();
    proj.pre = range(p->range(0));
    proj.post = range(p->range(1));
    for (auto *item : p->projectionItem()) {
      if (auto *d = item->declaration()) {
        proj.overrides.push_back(declaration(d));
        continue;
      }
      if (!item->connectRule()) {
        if (!proj.method.empty() && !proj.secondMethodLoc.isValid())
          proj.secondMethodLoc = proj.methodLoc;
        proj.methodLoc = loc(item->ID()->getSymbol());
        proj.method = item->ID()->getText();
        continue;
      }
      auto *rule = item->connectRule();
      ConnectDecl c;
      c.loc = loc(rule->ID()->getSymbol());
      c.rule = rule->ID()->getText();
      for (auto *a : rule->connectArg()) {
        ConnectArg arg;
        antlr4::Token *start = a->expr() ? a->expr()->getStart() : a->STRING()->getSymbol();
        arg.valueLoc = loc(start);
        arg.loc = a->ID() ? loc(a->ID()->getSymbol()) : arg.valueLoc;
        if (a->ID())
          arg.name = a->ID()->getText();
        if (a->expr()) {
          arg.value = expr(a->expr());
        } else {
          std::string text = a->STRING()->getText();
          arg.text = text.substr(1, text.size() - 2);
        }
        c.args.push_back(std::move(arg));
      }
      if (rule->expr())
        c.condition = expr(rule->expr());
      proj.connects.push_back(std::move(c));
    }
    return proj;
  }

  /// `name("a.npy", ..., key = value)`.
  FileSource fileSource(antlr4::tree::TerminalNode *name, NclParser::FileArgsContext *ctx) {
    FileSource source;
    source.loc = loc(name->getSymbol());
    source.function = name->getText();
    for (auto *file : ctx->STRING()) {
      std::string text = file->getText();
      source.files.push_back(text.substr(1, text.size() - 2));
      source.fileLocs.push_back(loc(file->getSymbol()));
    }
    for (auto *a : ctx->connectArg()) {
      ConnectArg arg;
      arg.loc = a->ID() ? loc(a->ID()->getSymbol()) : loc(a->expr()->getStart());
      if (a->ID())
        arg.name = a->ID()->getText();
      arg.value = expr(a->expr());
      source.args.push_back(std::move(arg));
    }
    return source;
  }

  NetworkDecl network(NclParser::NetworkDeclContext *ctx) {
    NetworkDecl net;
    net.loc = loc(ctx->ID()->getSymbol());
    net.name = ctx->ID()->getText();
    for (auto *item : ctx->networkItem()) {
      if (auto *p = dynamic_cast<NclParser::PopulationDeclContext *>(item)) {
        PopulationDecl pop;
        pop.loc = loc(p->ID(0)->getSymbol());
        pop.name = p->ID(0)->getText();
        pop.neuronLoc = loc(p->ID(1)->getSymbol());
        pop.neuron = p->ID(1)->getText();
        pop.sizeLoc = loc(p->INT()->getSymbol());
        try {
          pop.size = std::stoll(p->INT()->getText());
        } catch (...) {
          pop.size = -1; // reported by Sema as out of range
        }
        if (auto *files = p->fileArgs())
          pop.source = fileSource(p->ID(1), files);
        for (auto *item : p->populationItem()) {
          if (auto *d = item->declaration()) {
            pop.overrides.push_back(declaration(d));
            continue;
          }
          if (auto *k = item->kwtaDecl()) {
            pop.kwta.push_back(kwta(k));
            continue;
          }
          if (item->sign) {
            pop.signs.push_back({loc(item->sign), item->sign->getText()});
            continue;
          }
          if (auto *files = item->fileArgs()) {
            pop.series.push_back({loc(item->ID(0)->getSymbol()), item->ID(0)->getText(),
                                  fileSource(item->ID(1), files)});
            continue;
          }
          if (!pop.method.empty() && !pop.secondMethodLoc.isValid())
            pop.secondMethodLoc = pop.methodLoc;
          pop.methodLoc = loc(item->ID(0)->getSymbol());
          pop.method = item->ID(0)->getText();
          pop.substeps = item->INT() ? parseSubsteps(item->INT()->getText()) : 1;
        }
        net.populations.push_back(std::move(pop));
      } else if (auto *g = dynamic_cast<NclParser::GroupDeclContext *>(item)) {
        GroupDecl group{loc(g->ID(0)->getSymbol()), g->ID(0)->getText(), range(g->range()), {}};
        if (g->sign)
          group.sign = SignDecl{loc(g->sign), g->sign->getText()};
        net.groups.push_back(std::move(group));
      } else if (auto *p = dynamic_cast<NclParser::ProjectionDeclContext *>(item)) {
        net.projections.push_back(projection(p));
      } else if (auto *rv = dynamic_cast<NclParser::RecordVariableDeclContext *>(item)) {
        // `rate` is not a keyword: a neuron may have a variable of that name,
        // but `record rate(P)` always means the population's rate.
        if (rv->ID()->getText() == "rate" && !rv->expr()) {
          net.recordRates.push_back({loc(rv->ID()->getSymbol()), range(rv->range())});
          continue;
        }
        RecordStateDecl rec;
        rec.loc = loc(rv->ID()->getSymbol());
        rec.var = rv->ID()->getText();
        rec.target = range(rv->range());
        if (rv->expr())
          rec.every = expr(rv->expr());
        net.recordStates.push_back(std::move(rec));
      } else if (auto *r = dynamic_cast<NclParser::RecordDeclContext *>(item)) {
        for (auto *id : r->ID())
          net.recordSpikes.push_back({loc(id->getSymbol()), id->getText()});
      } else if (auto *st = dynamic_cast<NclParser::StimulusDeclContext *>(item)) {
        Stimulus stim;
        stim.loc = loc(st->ID(0)->getSymbol());
        stim.population = st->ID(0)->getText();
        stim.inputLoc = loc(st->ID(1)->getSymbol());
        stim.input = st->ID(1)->getText();
        stim.value = expr(st->expr());
        net.stimuli.push_back(std::move(stim));
      } else if (auto *s = dynamic_cast<NclParser::SimulateDeclContext *>(item)) {
        net.simulateLoc = loc(s->getStart());
        auto exprs = s->expr();
        net.duration = expr(exprs[0]);
        auto ids = s->ID();
        for (size_t i = 0; i < ids.size(); ++i)
          net.options.push_back({loc(ids[i]->getSymbol()), ids[i]->getText(), expr(exprs[i + 1])});
      }
    }
    return net;
  }

  std::string unitText(NclParser::UnitContext *u) {
    // Only "1/..." makes sense as a leading number; anything else becomes
    // an unknown unit that Sema reports.
    if (u->one && u->one->getText() != "1") {
      std::string text;
      for (auto *child : u->children)
        text += child->getText();
      return text;
    }
    // Rebuild from tokens so that "mV / ms" and "mV/ms" read the same.
    std::string text;
    for (auto *child : u->children)
      text += child->getText();
    return text;
  }

  /// Builds a sub-expression one nesting level deeper. The left operand of
  /// a left-associative operator continues its chain (`a + b + c`) and is
  /// not a level, but still a step deeper in the tree the later walks
  /// recurse over, which has its own, larger limit.
  template <typename Context> ExprPtr nested(Context *ctx, bool continuesChain = false) {
    bool tooManyLevels = !continuesChain && depth >= kMaxExpressionDepth;
    if (tooManyLevels || treeDepth >= kMaxTreeDepth) {
      if (!tooDeep)
        diags.error(loc(ctx->getStart()),
                    tooManyLevels ? "expression nested too deeply (more than " +
                                        std::to_string(kMaxExpressionDepth) + " levels)"
                                  : "expression too long (more than " +
                                        std::to_string(kMaxTreeDepth) + " operands in a row)");
      tooDeep = true;
      return std::make_unique<NumberExpr>(loc(ctx->getStart()), 0.0, "");
    }
    depth += continuesChain ? 0 : 1;
    ++treeDepth;
    ExprPtr result = build(ctx);
    depth -= continuesChain ? 0 : 1;
    --treeDepth;
    return result;
  }

  ExprPtr expr(NclParser::ExprContext *ctx) { return nested(ctx); }

  ExprPtr build(NclParser::ExprContext *ctx) {
    if (!ctx->expr().empty())
      return std::make_unique<ConditionalExpr>(loc(ctx), nested(ctx->operation()),
                                               nested(ctx->expr(0)), nested(ctx->expr(1)));
    // Not a level of its own: `a` and `(a)` nest equally deep.
    return build(ctx->operation());
  }

  ExprPtr build(NclParser::OperationContext *ctx) {
    if (auto *c = dynamic_cast<NclParser::LiteralExprContext *>(ctx)) {
      double value = 0;
      try {
        value = std::stod(c->number()->getText());
      } catch (...) {
        value = HUGE_VAL;
      }
      // A name right after a number that is not a unit: keep it as the unit
      // text, so Sema reports "unknown unit" rather than a syntax error.
      std::string unit = c->unit()    ? unitText(c->unit())
                         : c->notUnit ? c->notUnit->getText()
                                      : std::string();
      return std::make_unique<NumberExpr>(loc(ctx), value, unit);
    }
    if (auto *c = dynamic_cast<NclParser::NameExprContext *>(ctx))
      return std::make_unique<NameExpr>(loc(c->ID()->getSymbol()), c->ID()->getText());
    if (auto *c = dynamic_cast<NclParser::ParenExprContext *>(ctx))
      return nested(c->expr());
    if (auto *c = dynamic_cast<NclParser::UnaryExprContext *>(ctx))
      return std::make_unique<UnaryExpr>(loc(ctx), c->op->getText(), nested(c->operation()));
    if (auto *c = dynamic_cast<NclParser::NotExprContext *>(ctx))
      return std::make_unique<UnaryExpr>(loc(ctx), "not", nested(c->operation()));
    if (auto *c = dynamic_cast<NclParser::CallExprContext *>(ctx)) {
      std::vector<ExprPtr> args;
      for (auto *a : c->expr())
        args.push_back(expr(a));
      return std::make_unique<CallExpr>(loc(c->ID()->getSymbol()), c->ID()->getText(),
                                        std::move(args));
    }
    // The right-associative '**' nests: a ** b ** c is a ** (b ** c), and
    // the parser recurses once per '**'.
    auto binary = [&](auto *c, const std::string &op, bool leftAssociative = true) {
      ExprPtr lhs = nested(c->operation(0), /*continuesChain=*/leftAssociative);
      ExprPtr rhs = nested(c->operation(1));
      return std::make_unique<BinaryExpr>(loc(ctx), op, std::move(lhs), std::move(rhs));
    };
    if (auto *c = dynamic_cast<NclParser::PowerExprContext *>(ctx))
      return binary(c, "**", /*leftAssociative=*/false);
    if (auto *c = dynamic_cast<NclParser::MulExprContext *>(ctx))
      return binary(c, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::AddExprContext *>(ctx))
      return binary(c, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::CompareExprContext *>(ctx))
      return binary(c, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::AndExprContext *>(ctx))
      return binary(c, "and");
    if (auto *c = dynamic_cast<NclParser::OrExprContext *>(ctx))
      return binary(c, "or");
    // Only reachable after a syntax error, in which case the tree is dropped.
    return std::make_unique<NumberExpr>(loc(ctx), 0.0, "");
  }

  std::shared_ptr<const std::string> file;
  DiagnosticEngine &diags;
  unsigned depth = 0;     ///< nesting levels around the expression being built
  unsigned treeDepth = 0; ///< AST nodes above it, chains included
};

std::string tooLargeMessage(const std::string &path) {
  return "'" + path + "' is larger than " + std::to_string(kMaxSourceBytes >> 20) +
         " MiB, the limit for a .ncl file";
}

/// A file holds only `neuron`, `synapse`, `network` and `import` items. ANTLR's
/// message for any other word there ("no viable alternative at input
/// '\n\nnueron'") names none of them, so the token stream is checked first:
/// the first token of a line outside every brace must start an item (or be
/// the `{` of one). Reports the first stray word; returns whether it found one.
bool reportStrayTopLevelWord(antlr4::CommonTokenStream &tokens,
                             std::shared_ptr<const std::string> file, DiagnosticEngine &diags) {
  tokens.fill();
  int depth = 0;
  bool lineStart = true;
  for (antlr4::Token *tok : tokens.getTokens()) {
    if (tok->getType() == antlr4::Token::EOF)
      return false;
    if (tok->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    const std::string text = tok->getText();
    if (tok->getType() == nclgrammar::NclLexer::NL || text == ";") {
      lineStart = lineStart || depth == 0;
      continue;
    }
    if (depth == 0 && lineStart && text != "neuron" && text != "synapse" && text != "network" &&
        text != "import" && text != "{") {
      SourceLoc loc{file, static_cast<unsigned>(tok->getLine()),
                    static_cast<unsigned>(tok->getCharPositionInLine()) + 1,
                    static_cast<unsigned>(std::max<size_t>(1, text.size()))};
      static const std::set<std::string> networkItems = {"population", "group",    "projection",
                                                         "record",     "stimulus", "simulate"};
      static const std::set<std::string> neuronItems = {
          "parameters", "state",      "input",  "dynamics", "update", "spike",
          "reset",      "refractory", "output", "method",   "event"};
      std::string message =
          "expected 'neuron', 'synapse', 'network' or 'import', found '" + text + "'";
      if (networkItems.count(text))
        message += "; '" + text + "' belongs inside a 'network { ... }' block";
      else if (neuronItems.count(text))
        message += "; '" + text + "' belongs inside a 'neuron { ... }' block";
      else if (text == "on_pre" || text == "on_post" || text == "summed")
        message += "; '" + text + "' belongs inside a 'synapse { ... }' block";
      else
        message += didYouMean(text, {"neuron", "synapse", "network", "import"});
      diags.error(loc, message);
      return true;
    }
    lineStart = false;
    if (text == "{")
      ++depth;
    else if (text == "}" && --depth < 0)
      return false; // unbalanced: leave it to the parser's message
  }
  return false;
}

/// Offset of the first byte that is not valid UTF-8, or npos.
size_t invalidUtf8(const std::string &text) {
  size_t i = 0, n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > n)
      return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2)
        return i;
    i += len;
  }
  return std::string::npos;
}

} // namespace

namespace {
std::unique_ptr<Module> parseOnThisStack(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept;
}

std::unique_ptr<Module> ncl::parseSource(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept {
  std::unique_ptr<Module> result;
  runOnLargeStack([&] { result = parseOnThisStack(fileName, text, diags); });
  return result;
}

namespace {
std::unique_ptr<Module> parseOnThisStack(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept {
  try {
    if (text.size() > kMaxSourceBytes) {
      diags.error(tooLargeMessage(fileName));
      return nullptr;
    }
    auto file = diags.addFile(fileName, text);
    if (size_t bad = invalidUtf8(text); bad != std::string::npos) {
      unsigned line = 1, column = 1;
      for (size_t k = 0; k < bad; ++k, ++column)
        if (text[k] == '\n')
          line += 1, column = 0;
      diags.error(SourceLoc{file, line, column, 1}, "the file is not valid UTF-8 here");
      return nullptr;
    }
    antlr4::ANTLRInputStream input(text);
    nclgrammar::NclLexer lexer(&input);
    ErrorListener listener(diags, file);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    if (lexer.tooDeepLine != 0) {
      diags.error(SourceLoc{file, static_cast<unsigned>(lexer.tooDeepLine),
                            static_cast<unsigned>(lexer.tooDeepColumn) + 1, 1},
                  "parentheses nested too deeply (more than " +
                      std::to_string(nclgrammar::NclLexer::kMaxNesting) + " levels)");
      return nullptr;
    }
    if (reportStrayTopLevelWord(tokens, file, diags))
      return nullptr;
    NclParser parser(&tokens);
    // Two stages: the fast SLL prediction, which is exact for this grammar
    // on nearly every input, and bails out at the first error; only then
    // full LL with error recovery, to report the errors.
    parser.removeErrorListeners();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    parser.stackBase = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    NclParser::FileContext *tree = nullptr;
    try {
      try {
        tree = parser.file();
      } catch (const antlr4::ParseCancellationException &) {
        tokens.seek(0);
        parser.reset();
        parser.addErrorListener(&listener);
        parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
        parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
            antlr4::atn::PredictionMode::LL);
        tree = parser.file();
      }
    } catch (const NclParser::NestingTooDeep &deep) {
      diags.error(SourceLoc{file, static_cast<unsigned>(deep.line),
                            static_cast<unsigned>(deep.column) + 1, 1},
                  "expression nested too deeply (more than " + std::to_string(kMaxExpressionDepth) +
                      " levels)");
      return nullptr;
    }
    if (listener.count)
      return nullptr;
    Builder builder(file, diags);
    std::unique_ptr<Module> module = builder.build(tree);
    return builder.tooDeep ? nullptr : std::move(module);
  } catch (const std::exception &e) {
    diags.error(std::string("internal parser error: ") + e.what());
  } catch (...) {
    diags.error("internal parser error");
  }
  return nullptr;
}

} // namespace

void ncl::runOnLargeStack(const std::function<void()> &fn) noexcept {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kLargeStackBytes);
  pthread_t thread;
  auto trampoline = [](void *arg) -> void * {
    (*static_cast<const std::function<void()> *>(arg))();
    return nullptr;
  };
  if (pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()> *>(&fn)) == 0)
    pthread_join(thread, nullptr);
  else
    fn(); // no thread: run on this stack
  pthread_attr_destroy(&attr);
}

std::unique_ptr<Module> ncl::parseFile(const std::string &path, DiagnosticEngine &diags) noexcept {
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      diags.error("'" + path + "' is a directory, not a .ncl file");
      return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diags.error("cannot open input file '" + path + "'");
      return nullptr;
    }
    // Read at most one byte over the limit: /dev/zero or a pipe that never
    // ends must not be read forever.
    std::string text;
    char chunk[1 << 16];
    while (text.size() <= kMaxSourceBytes && in.read(chunk, sizeof chunk).gcount() > 0)
      text.append(chunk, static_cast<size_t>(in.gcount()));
    if (in.bad()) {
      diags.error("cannot read input file '" + path + "'");
      return nullptr;
    }
    if (text.size() > kMaxSourceBytes) {
      diags.error(tooLargeMessage(path));
      return nullptr;
    }
    return parseSource(path, text, diags);
  } catch (...) {
    diags.error("cannot read input file '" + path + "'");
    return nullptr;
  }
}
