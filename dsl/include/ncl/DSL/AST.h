//===- AST.h - The owned syntax tree of an NCL file -------------*- C++ -*-===//
//
// AstBuilder turns ANTLR's parse tree into these nodes immediately, so no
// ANTLR type escapes dsl/. Every node carries the source location of its
// first token; Sema fills in the dimension and resolution of expressions.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_AST_H
#define NCL_DSL_AST_H

#include "ncl/DSL/Diagnostics.h"
#include "ncl/Support/Units.h"

#include "llvm/Support/Casting.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ncl::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind { Number, Name, Unary, Binary, Call, Conditional };
  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
  Kind getKind() const { return kind; }
  const SourceLoc &getLoc() const { return loc; }

  /// Filled in by Sema.
  units::Dimension dim;
  bool isBool = false;

private:
  Kind kind;
  SourceLoc loc;
};
using ExprPtr = std::unique_ptr<Expr>;

/// A literal, with its unit already applied: `value` is in internal units.
class NumberExpr : public Expr {
public:
  NumberExpr(SourceLoc loc, double value, std::string unitText)
      : Expr(Kind::Number, loc), value(value), unitText(std::move(unitText)) {}
  double value;
  std::string unitText; ///< as written; empty when dimensionless
  static bool classof(const Expr *e) { return e->getKind() == Kind::Number; }
};

class NameExpr : public Expr {
public:
  enum class Resolution {
    Unresolved,
    Parameter,
    NeuronParameter, ///< a parameter declared `per neuron`
    Input,
    State,
    SubExpression, ///< a named expression of the neuron, inlined where used
    Output,        ///< an `output`, usable like a sub-expression
    Unit,          ///< a unit name used as a value (`20*ms`)
    Constant,      ///< pi, e
    Time,          ///< t: time at the start of the step
    Step,          ///< dt
    Index,         ///< i: the neuron's index in its population
    Size,          ///< N: the population's size
    Noise,         ///< xi or xi_<name>: white noise, in an equation only
    // In a synapse (checked per projection): `variable` names the neuron's
    // variable for the Pre*/Post* kinds, without a `_pre`/`_post` suffix.
    SynapseParameter, ///< a shared parameter of the synapse (the projection's value)
    SynapseState,     ///< a per-synapse state variable
    PreState,         ///< a state variable of the presynaptic neuron (`v_pre`)
    PreParameter,     ///< a parameter of the presynaptic neuron
    PreInput,         ///< an input of the presynaptic neuron
    PostState,        ///< a state variable of the postsynaptic neuron (`v`, `v_post`)
    PostParameter,    ///< a parameter of the postsynaptic neuron
    PostInput,        ///< an input of the postsynaptic neuron
    PreIndex,         ///< i: the presynaptic neuron's index in its population
    PostIndex,        ///< j: the postsynaptic neuron's index in its population
    PreSize,          ///< N_pre: the presynaptic population's size
    PostSize          ///< N_post: the postsynaptic population's size
  };
  NameExpr(SourceLoc loc, std::string name) : Expr(Kind::Name, loc), name(std::move(name)) {}
  std::string name;
  Resolution resolution = Resolution::Unresolved;
  double unitScale = 1.0; ///< value for Resolution::Unit and Constant
  /// For Pre*/Post* resolutions: the neuron's name of the variable.
  std::string variable;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }
};

class UnaryExpr : public Expr {
public:
  UnaryExpr(SourceLoc loc, std::string op, ExprPtr operand)
      : Expr(Kind::Unary, loc), op(std::move(op)), operand(std::move(operand)) {}
  std::string op; ///< "-", "+", "not"
  ExprPtr operand;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }
};

class BinaryExpr : public Expr {
public:
  BinaryExpr(SourceLoc loc, std::string op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, loc), op(std::move(op)), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  std::string op; ///< + - * / ** < <= > >= == != and or
  ExprPtr lhs, rhs;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }
};

class CallExpr : public Expr {
public:
  CallExpr(SourceLoc loc, std::string callee, std::vector<ExprPtr> args)
      : Expr(Kind::Call, loc), callee(std::move(callee)), args(std::move(args)) {}
  std::string callee;
  std::vector<ExprPtr> args;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }
};

/// `cond ? a : b`
class ConditionalExpr : public Expr {
public:
  ConditionalExpr(SourceLoc loc, ExprPtr cond, ExprPtr a, ExprPtr b)
      : Expr(Kind::Conditional, loc), cond(std::move(cond)), ifTrue(std::move(a)),
        ifFalse(std::move(b)) {}
  ExprPtr cond, ifTrue, ifFalse;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Conditional; }
};

/// Calls `fn` on each direct sub-expression of `e` (operands, arguments,
/// branches), in source order: the one place that knows the shape of every
/// kind of expression, for walks over an expression tree.
template <typename F> void forEachOperand(const Expr &e, F &&fn) {
  if (auto *u = llvm::dyn_cast<UnaryExpr>(&e)) {
    fn(*u->operand);
  } else if (auto *b = llvm::dyn_cast<BinaryExpr>(&e)) {
    fn(*b->lhs);
    fn(*b->rhs);
  } else if (auto *c = llvm::dyn_cast<CallExpr>(&e)) {
    for (auto &a : c->args)
      fn(*a);
  } else if (auto *c = llvm::dyn_cast<ConditionalExpr>(&e)) {
    fn(*c->cond);
    fn(*c->ifTrue);
    fn(*c->ifFalse);
  }
}

/// Calls `fn` on `e` and on every expression below it, parents first.
template <typename F> void forEachSubExpression(const Expr &e, F &&fn) {
  fn(e);
  forEachOperand(e, [&](const Expr &operand) { forEachSubExpression(operand, fn); });
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// `name [: unit] = expr` in parameters, state and population overrides.
struct Declaration {
  SourceLoc loc;
  std::string name;
  std::string unitText; ///< declared unit, empty if none
  SourceLoc unitLoc;
  ExprPtr value;
  /// A parameter with its own value in every neuron (`... per neuron`): the
  /// value is an initializer evaluated per neuron, which may use i, N and
  /// random draws.
  bool perNeuron = false;
  /// Filled in by Sema: a shared parameter computed from other parameters
  /// (`Vt = El + 15 mV`), so that setting El at load time moves Vt too.
  bool derived = false;
  /// Filled in by Sema: declared (or inferred) unit.
  units::Unit unit;
};

/// `input I [: unit] [= default]`: a summed input; with no projection feeding
/// it, a constant current set per population.
struct InputDecl {
  SourceLoc loc;
  std::string name;
  std::string unitText;
  SourceLoc unitLoc;
  ExprPtr defaultValue; ///< may be null (zero)
  units::Unit unit;
};

struct OdeDecl {
  SourceLoc loc;
  std::string variable;
  ExprPtr rhs;
  bool unlessRefractory = false;
};

struct Assignment {
  SourceLoc loc;
  std::string variable;
  std::string op; ///< "=", "+=", "-=", "*=", "/="
  ExprPtr value;
  /// In an `update` block only: the variable keeps its value while the
  /// neuron is refractory.
  bool unlessRefractory = false;
  /// In a synapse's on_pre/on_post (set by Sema): what is assigned. `Own` is
  /// a neuron's own state (update, reset, events).
  enum class AssignTarget { Own, SynapseState, PostState, PostInput } target = AssignTarget::Own;
  /// For PostState/PostInput: the neuron's name of the variable (no suffix).
  std::string targetVariable;
};

/// `event name when cond { assignments }`: a custom event besides spikes,
/// recorded like them.
struct EventDecl {
  SourceLoc loc;
  std::string name;
  ExprPtr condition;
  std::vector<Assignment> assignments;
};

struct NeuronDecl {
  SourceLoc loc;
  std::string name;
  std::vector<Declaration> parameters;
  std::vector<Declaration> state;
  std::vector<InputDecl> inputs;
  std::vector<OdeDecl> odes;
  std::vector<Declaration> subExpressions; ///< `name [: unit] = expr` in dynamics
  std::vector<Declaration> outputs;
  std::vector<EventDecl> events;
  std::string method; ///< integration scheme; empty: the compiler chooses
  int64_t substeps = 1;
  SourceLoc methodLoc;
  ExprPtr spikeCondition; ///< null: never spikes
  SourceLoc spikeLoc;
  std::vector<Assignment> reset;
  SourceLoc resetLoc;
  /// `update { ... }`: the discrete-time update of each step, in order, after
  /// the ODEs (docs/semantics.md). Integrated by nothing.
  std::vector<Assignment> update;
  SourceLoc updateLoc;
  ExprPtr refractory;                 ///< null: no refractory period
  bool refractoryIsCondition = false; ///< `refractory while cond`
  SourceLoc refractoryLoc;
};

//===----------------------------------------------------------------------===//
// Walking a neuron's expressions
//===----------------------------------------------------------------------===//

/// The part of a neuron an expression belongs to.
enum class NeuronPart {
  Parameter,       ///< a parameter's value (`decl`)
  Input,           ///< an input's default (`input`; the only optional one)
  State,           ///< a state variable's initial value (`decl`)
  SubExpression,   ///< a named expression in dynamics (`decl`)
  Equation,        ///< the right-hand side of x' = ... (`ode`)
  Update,          ///< an assignment of the update block (`assignment`)
  Spike,           ///< the spike condition
  Reset,           ///< an assignment of the reset (`assignment`)
  Refractory,      ///< the refractory period, or its condition (`refractory while`)
  Output,          ///< an output's value (`decl`)
  EventCondition,  ///< an event's condition (`event`)
  EventAssignment, ///< an assignment of an event's body (`event`, `assignment`)
};

/// Where in a neuron an expression stands: the part, and the declaration,
/// equation, assignment or event that holds it (the others are null).
struct NeuronSite {
  NeuronPart part;
  const Expr *expr = nullptr; ///< null only for an input without a default
  const Declaration *decl = nullptr;
  const InputDecl *input = nullptr;
  const OdeDecl *ode = nullptr;
  const Assignment *assignment = nullptr;
  const EventDecl *event = nullptr;
};

/// Calls `fn(const NeuronSite &)` on every place of `n` that holds an
/// expression, in the order `nclc --emit=ast` prints them: parameters,
/// inputs, state, sub-expressions, equations, update, spike condition,
/// reset, refractory period or condition, outputs, then each event's
/// condition and body. An absent clause (no spike condition) is no site; an
/// input without a default is one, with a null `expr`.
template <typename F> void forEachSite(const NeuronDecl &n, F &&fn) {
  using P = NeuronPart;
  for (const Declaration &d : n.parameters)
    fn(NeuronSite{P::Parameter, d.value.get(), &d});
  for (const InputDecl &in : n.inputs)
    fn(NeuronSite{P::Input, in.defaultValue.get(), nullptr, &in});
  for (const Declaration &d : n.state)
    fn(NeuronSite{P::State, d.value.get(), &d});
  for (const Declaration &d : n.subExpressions)
    fn(NeuronSite{P::SubExpression, d.value.get(), &d});
  for (const OdeDecl &o : n.odes)
    fn(NeuronSite{P::Equation, o.rhs.get(), nullptr, nullptr, &o});
  for (const Assignment &a : n.update)
    fn(NeuronSite{P::Update, a.value.get(), nullptr, nullptr, nullptr, &a});
  if (n.spikeCondition)
    fn(NeuronSite{P::Spike, n.spikeCondition.get()});
  for (const Assignment &a : n.reset)
    fn(NeuronSite{P::Reset, a.value.get(), nullptr, nullptr, nullptr, &a});
  if (n.refractory)
    fn(NeuronSite{P::Refractory, n.refractory.get()});
  for (const Declaration &d : n.outputs)
    fn(NeuronSite{P::Output, d.value.get(), &d});
  for (const EventDecl &ev : n.events) {
    fn(NeuronSite{P::EventCondition, ev.condition.get(), nullptr, nullptr, nullptr, nullptr, &ev});
    for (const Assignment &a : ev.assignments)
      fn(NeuronSite{P::EventAssignment, a.value.get(), nullptr, nullptr, nullptr, &a, &ev});
  }
}

/// Calls `fn(const Expr &, const NeuronSite &)` on every top-level
/// expression of `n`, in the order of forEachSite. With
/// forEachSubExpression, this reaches every expression of a neuron: the
/// walk for anything that must not miss one (random draws, names used).
template <typename F> void forEachExpr(const NeuronDecl &n, F &&fn) {
  forEachSite(n, [&](const NeuronSite &site) {
    if (site.expr)
      fn(*site.expr, site);
  });
}

//===----------------------------------------------------------------------===//
// Synapses
//===----------------------------------------------------------------------===//

/// `synapse Name { parameters {...} state {...} on_pre {...} on_post {...}
/// summed {...} }`.
/// Its on_pre/on_post name the neurons' variables, so Sema checks them per
/// projection, on a copy (ProjectionModel::synapse).
struct SynapseDecl {
  SourceLoc loc;
  std::string name;
  std::vector<Declaration> parameters; ///< shared by the synapses of one projection
  std::vector<Declaration> state;      ///< per synapse, with initial values
  std::vector<Assignment> onPre, onPost;
  SourceLoc onPreLoc, onPostLoc; ///< invalid when the block is absent
  /// `summed { I = expr }`: expr, evaluated every step for every synapse,
  /// summed per postsynaptic neuron into its input I for that step.
  std::vector<Assignment> summed;
  SourceLoc summedLoc;
  /// `dynamics { x' = ... }`: ODEs of per-synapse state, integrated every
  /// step for every synapse (clock-driven, like Brian2's Synapses without
  /// `(event-driven)`).
  std::vector<OdeDecl> odes;
  SourceLoc dynamicsLoc;
};

//===----------------------------------------------------------------------===//
// Networks
//===----------------------------------------------------------------------===//

/// One argument of a connect rule: positional (`name` empty) or named.
struct ConnectArg {
  SourceLoc loc;
  std::string name;
  ExprPtr value;      ///< null when the argument is a string
  std::string text;   ///< a string argument (a file name), without its quotes
  SourceLoc valueLoc; ///< where the value (expression or string) starts
};

/// `name("a.npy", ..., key = value, ...)`: data read from `.npy` files when
/// the model is initialised (a spike generator, a timed array).
struct FileSource {
  SourceLoc loc; ///< the name
  std::string function;
  std::vector<std::string> files; ///< as written, without the quotes
  std::vector<SourceLoc> fileLocs;
  std::vector<ConnectArg> args; ///< named values after the files
};

/// `I = timed_array("drive.npy", dt = 1 ms, scale = 1 nA)` in a
/// population's block: an input driven by a series from a file.
struct InputSeriesDecl {
  SourceLoc loc; ///< the input's name
  std::string input;
  FileSource source;
};

/// `kwta r keep 20` / `kwta r keep 2 %` in a population's block: after each
/// step only the k largest values of r survive (docs/semantics.md, "k-WTA").
struct KwtaDecl {
  SourceLoc loc; ///< the first word (`kwta`)
  std::string keyword;
  std::string variable;
  SourceLoc variableLoc;
  std::string keepWord; ///< `keep`, as written
  SourceLoc keepWordLoc;
  double keep = 0; ///< a count, or a percentage of the population with `%`
  bool keepIsInteger = true;
  bool percent = false;
  SourceLoc keepLoc;
  /// `boost B period T`: boosting by duty cycle, as written.
  struct Option {
    SourceLoc loc;
    std::string name;
    double value = 0;
    SourceLoc valueLoc;
  };
  std::vector<Option> options;
  /// `reset { ... }`: what the losers get instead of 0.
  bool hasReset = false;
  SourceLoc resetLoc;
  std::vector<Assignment> reset;
};

/// `excitatory` or `inhibitory` on a population or group: the sign its
/// neurons give their outgoing weights (Dale's law), as written (Sema
/// checks the word).
struct SignDecl {
  SourceLoc loc;
  std::string word;
};

struct PopulationDecl {
  SourceLoc loc;
  std::string name;
  std::string neuron;
  SourceLoc neuronLoc;
  int64_t size = 0;
  SourceLoc sizeLoc;
  std::vector<Declaration> overrides;
  /// `method NAME [substeps n]` in the population's block: replaces the
  /// neuron's choice for this population. Empty: the neuron's.
  std::string method;
  int64_t substeps = 1;
  SourceLoc methodLoc;
  SourceLoc secondMethodLoc; ///< the earlier of two `method` choices (an error)
  /// `spike_generator[n]("times.npy", "indices.npy")`: files after the size.
  std::optional<FileSource> source;
  std::vector<InputSeriesDecl> series; ///< inputs set to timed arrays
  std::vector<KwtaDecl> kwta;          ///< one expected; Sema reports more
  std::vector<SignDecl> signs;         ///< one expected; Sema reports more
};

struct NamedRef {
  SourceLoc loc;
  std::string name;
};

/// `stimulus P.I += expr`: one more source summed into an input of every
/// neuron of a population, evaluated each step (may use t, i, N, rand()).
struct Stimulus {
  SourceLoc loc;
  std::string population;
  std::string input;
  SourceLoc inputLoc;
  ExprPtr value;
};

struct SimulateOption {
  SourceLoc loc;
  std::string name;
  ExprPtr value;
};

/// Neurons of a network: `P` (a population or group, whole) or `P[a:b]`
/// (its neurons a to b-1, counted within P).
struct RangeRef {
  SourceLoc loc;          ///< the name
  std::string population; ///< a population or a group
  bool whole = true;
  int64_t begin = 0, end = 0; ///< when !whole; -1 when the literal is out of range
  SourceLoc rangeLoc;         ///< `[a:b]`
};

/// `group E = P[0:3200]`: a named range, usable wherever a population is.
struct GroupDecl {
  SourceLoc loc;
  std::string name;
  RangeRef range;
  std::optional<SignDecl> sign; ///< `group E = P[0:80] excitatory`
};

/// `connect rule(args)`, optionally `if condition`.
struct ConnectDecl {
  SourceLoc loc; ///< the rule's name
  std::string rule;
  std::vector<ConnectArg> args;
  ExprPtr condition; ///< null without `if`
};

/// `projection Ce = Exc(E -> P) { connect ...; w = ...; delay = ... }`.
struct ProjectionDecl {
  SourceLoc loc;
  std::string name;
  std::string synapse;
  SourceLoc synapseLoc;
  RangeRef pre, post;
  std::vector<ConnectDecl> connects; ///< one expected; Sema reports none or several
  /// Values of the synapse's parameters, initial values of its state, and
  /// `delay`.
  std::vector<Declaration> overrides;
  /// `method clock_driven` or `method event_driven` (empty: the compiler
  /// chooses); a second `method` is reported at secondMethodLoc.
  std::string method;
  SourceLoc methodLoc, secondMethodLoc;
};

/// `record v(P[0:10]) every 10`: a state variable of some neurons, every
/// `every` steps (null: 1).
struct RecordStateDecl {
  SourceLoc loc; ///< the variable's name
  std::string var;
  RangeRef target;
  ExprPtr every;
};

/// `record rate(P)`: the population's rate.
struct RecordRateDecl {
  SourceLoc loc;
  RangeRef target;
};

struct NetworkDecl {
  SourceLoc loc;
  std::string name;
  std::vector<PopulationDecl> populations;
  std::vector<GroupDecl> groups;
  std::vector<ProjectionDecl> projections;
  std::vector<RecordStateDecl> recordStates;
  std::vector<RecordRateDecl> recordRates;
  std::vector<NamedRef> recordSpikes;
  std::vector<Stimulus> stimuli;
  ExprPtr duration; ///< null when there is no `simulate`
  SourceLoc simulateLoc;
  std::vector<SimulateOption> options;
};

/// One parsed `.ncl` file.
struct Import {
  SourceLoc loc;
  std::string path; ///< as written, without quotes
};

struct Module {
  std::string file;
  std::vector<Import> imports;
  std::vector<NeuronDecl> neurons;
  std::vector<SynapseDecl> synapses;
  std::vector<NetworkDecl> networks;
};

/// A deep copy of `e`, with what Sema filled in.
ExprPtr clone(const Expr &e);
Declaration clone(const Declaration &d);
Assignment clone(const Assignment &a);
SynapseDecl clone(const SynapseDecl &s);

/// Prints the tree with `@file:line:col` locations (nclc --emit=ast).
void dump(const Module &module, std::ostream &os);

} // namespace ncl::ast

#endif // NCL_DSL_AST_H
