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

#include <cmath>
#include <cstdio>
#include <functional>
#include <pthread.h>
#include <set>
#include <fstream>
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

  void syntaxError(antlr4::Recognizer *, antlr4::Token *offending, size_t line,
                   size_t column, const std::string &msg, std::exception_ptr) override {
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
  /// ANTLR prints newlines as real line breaks; name them instead.
  static std::string cleanMessage(std::string msg) {
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
      }
      else if (msg.compare(i, 4, "'\\n'") == 0 || msg.compare(i, 2, "NL") == 0) {
        out += "end of line";
        i += msg.compare(i, 4, "'\\n'") == 0 ? 3 : 1;
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
        module->imports.push_back({loc(imp->STRING()->getSymbol()), text.substr(1, text.size() - 2)});
      } else if (auto *n = item->neuronDecl())
        module->neurons.push_back(neuron(n));
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
        for (auto *item : p->populationItem()) {
          if (auto *d = item->declaration()) {
            pop.overrides.push_back(declaration(d));
            continue;
          }
          if (!pop.method.empty() && !pop.secondMethodLoc.isValid())
            pop.secondMethodLoc = pop.methodLoc;
          pop.methodLoc = loc(item->ID()->getSymbol());
          pop.method = item->ID()->getText();
          pop.substeps = item->INT() ? parseSubsteps(item->INT()->getText()) : 1;
        }
        net.populations.push_back(std::move(pop));
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

  ExprPtr expr(NclParser::ExprContext *ctx) {
    if (depth >= kMaxExpressionDepth) {
      if (!tooDeep)
        diags.error(loc(ctx->getStart()), "expression nested too deeply (more than " +
                                              std::to_string(kMaxExpressionDepth) + " levels)");
      tooDeep = true;
      return std::make_unique<NumberExpr>(loc(ctx->getStart()), 0.0, "");
    }
    ++depth;
    ExprPtr result = exprAt(ctx);
    --depth;
    return result;
  }

  ExprPtr exprAt(NclParser::ExprContext *ctx) {
    if (auto *c = dynamic_cast<NclParser::LiteralExprContext *>(ctx)) {
      double value = 0;
      try {
        value = std::stod(c->number()->getText());
      } catch (...) {
        value = HUGE_VAL;
      }
      // A name right after a number that is not a unit: keep it as the unit
      // text, so Sema reports "unknown unit" rather than a syntax error.
      std::string unit = c->unit()      ? unitText(c->unit())
                         : c->notUnit ? c->notUnit->getText()
                                      : std::string();
      return std::make_unique<NumberExpr>(loc(ctx), value, unit);
    }
    if (auto *c = dynamic_cast<NclParser::NameExprContext *>(ctx))
      return std::make_unique<NameExpr>(loc(c->ID()->getSymbol()), c->ID()->getText());
    if (auto *c = dynamic_cast<NclParser::ParenExprContext *>(ctx))
      return expr(c->expr());
    if (auto *c = dynamic_cast<NclParser::UnaryExprContext *>(ctx))
      return std::make_unique<UnaryExpr>(loc(ctx), c->op->getText(), expr(c->expr()));
    if (auto *c = dynamic_cast<NclParser::NotExprContext *>(ctx))
      return std::make_unique<UnaryExpr>(loc(ctx), "not", expr(c->expr()));
    if (auto *c = dynamic_cast<NclParser::ConditionalExprContext *>(ctx))
      return std::make_unique<ConditionalExpr>(loc(ctx), expr(c->expr(0)), expr(c->expr(1)),
                                               expr(c->expr(2)));
    if (auto *c = dynamic_cast<NclParser::CallExprContext *>(ctx)) {
      std::vector<ExprPtr> args;
      for (auto *a : c->expr())
        args.push_back(expr(a));
      return std::make_unique<CallExpr>(loc(c->ID()->getSymbol()), c->ID()->getText(),
                                        std::move(args));
    }
    auto binary = [&](auto *c, antlr4::Token *opTok, const std::string &op) {
      SourceLoc l = loc(ctx);
      return std::make_unique<BinaryExpr>(l, op, expr(c->expr(0)), expr(c->expr(1)));
      (void)opTok;
    };
    if (auto *c = dynamic_cast<NclParser::PowerExprContext *>(ctx))
      return binary(c, nullptr, "**");
    if (auto *c = dynamic_cast<NclParser::MulExprContext *>(ctx))
      return binary(c, c->op, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::AddExprContext *>(ctx))
      return binary(c, c->op, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::CompareExprContext *>(ctx))
      return binary(c, c->op, c->op->getText());
    if (auto *c = dynamic_cast<NclParser::AndExprContext *>(ctx))
      return binary(c, nullptr, "and");
    if (auto *c = dynamic_cast<NclParser::OrExprContext *>(ctx))
      return binary(c, nullptr, "or");
    // Only reachable after a syntax error, in which case the tree is dropped.
    return std::make_unique<NumberExpr>(loc(ctx), 0.0, "");
  }

  std::shared_ptr<const std::string> file;
  DiagnosticEngine &diags;
  unsigned depth = 0;
};

/// A file holds only `neuron`, `network` and `import` items. ANTLR's
/// message for any other word there ("no viable alternative at input
/// '\n\nsynapse'") names none of them, so the token stream is checked first:
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
    if (depth == 0 && lineStart && text != "neuron" && text != "network" && text != "import" &&
        text != "{") {
      SourceLoc loc{file, static_cast<unsigned>(tok->getLine()),
                    static_cast<unsigned>(tok->getCharPositionInLine()) + 1,
                    static_cast<unsigned>(std::max<size_t>(1, text.size()))};
      static const std::set<std::string> networkItems = {"population", "record", "stimulus",
                                                         "simulate"};
      static const std::set<std::string> neuronItems = {
          "parameters", "state", "input", "dynamics", "update", "spike", "reset",
          "refractory", "output", "method", "event"};
      std::string message = "expected 'neuron', 'network' or 'import', found '" + text + "'";
      if (text == "synapse" || text == "synapses")
        message += "; synapse models are not supported yet (only neurons and networks)";
      else if (networkItems.count(text))
        message += "; '" + text + "' belongs inside a 'network { ... }' block";
      else if (neuronItems.count(text))
        message += "; '" + text + "' belongs inside a 'neuron { ... }' block";
      else
        message += didYouMean(text, {"neuron", "network", "import"});
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
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > n)
      return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2)
        return i;
    i += len;
  }
  return std::string::npos;
}

/// Runs `fn` on a thread with a large stack: ANTLR's recursive-descent
/// parser recurses once per nesting level of the input.
void withLargeStack(const std::function<void()> &fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t(512) << 20);
  pthread_t thread;
  auto trampoline = [](void *arg) -> void * {
    (*static_cast<const std::function<void()> *>(arg))();
    return nullptr;
  };
  if (pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()> *>(&fn)) == 0)
    pthread_join(thread, nullptr);
  else
    fn(); // no thread: parse on this stack
  pthread_attr_destroy(&attr);
}

} // namespace

namespace {
std::unique_ptr<Module> parseOnThisStack(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept;
}

std::unique_ptr<Module> ncl::parseSource(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept {
  std::unique_ptr<Module> result;
  withLargeStack([&] { result = parseOnThisStack(fileName, text, diags); });
  return result;
}

namespace {
std::unique_ptr<Module> parseOnThisStack(const std::string &fileName, const std::string &text,
                                         DiagnosticEngine &diags) noexcept {
  try {
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
    if (reportStrayTopLevelWord(tokens, file, diags))
      return nullptr;
    NclParser parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    NclParser::FileContext *tree = parser.file();
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

std::unique_ptr<Module> ncl::parseFile(const std::string &path, DiagnosticEngine &diags) noexcept {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diags.error("cannot open input file '" + path + "'");
      return nullptr;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parseSource(path, buffer.str(), diags);
  } catch (...) {
    diags.error("cannot read input file '" + path + "'");
    return nullptr;
  }
}
