//===- SemaImpl.h - Sema's checker, shared by its parts ---------*- C++ -*-===//
//
// Private to dsl/lib. The checker is one class whose members live in three
// files by concern: SemaExpr.cpp (expressions, units, constant folding),
// SemaNeuron.cpp (a neuron's declarations and clauses), SemaSynapse.cpp
// (synapse models, groups, projections, monitors) and SemaNetwork.cpp
// (populations, stimuli, simulate options, and the public entry points).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_LIB_SEMAIMPL_H
#define NCL_DSL_LIB_SEMAIMPL_H

#include "ncl/DSL/Sema.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ncl/random_streams.h"

namespace ncl::sema {

/// The most steps one run may take: step indices are compared in 32 bits
/// (ncl_kernel_args::refractory_until), and ncl_run refuses longer runs.
constexpr int64_t kMaxSteps = INT32_MAX;
/// The most batch members a network may declare (`simulate ..., batch = B`).
constexpr int64_t kMaxBatch = int64_t{1} << 20;

/// The most rand()/randn() sites one neuron may have: each is a stream of
/// the generator (ncl/random_streams.h, docs/random.md).
constexpr unsigned kMaxRandomDraws = NCL_RANDOM_MAX_SITES;
/// The most populations of a network that draw random numbers: the
/// population's index is the rest of the stream's bits.
constexpr unsigned kMaxRandomPopulations = NCL_RANDOM_MAX_POPULATIONS;

std::string formatNumber(double value);
std::string formatSeconds(double seconds);

/// A declared name of a neuron.
struct Symbol {
  ast::NameExpr::Resolution kind;
  units::Dimension dim;
  SourceLoc loc;
  double value = 0;                 ///< known for parameters and inputs
  bool poisoned = false;            ///< its declaration had an error: stay quiet about uses
  ast::Declaration *decl = nullptr; ///< for sub-expressions and outputs
  std::string variable;             ///< a neuron's variable, seen from a synapse (Pre*/Post*)
  std::string unitText;             ///< its unit as declared, for messages ("" when unknown)
};
using Scope = std::map<std::string, Symbol>;

/// "parameter", "state variable", ...: how a message names a symbol's kind.
const char *kindName(ast::NameExpr::Resolution r);

/// What an expression may use where it is checked: the declared names in
/// sight, and which built-in names and functions mean something there (pi
/// and e mean something everywhere).
struct ExprScope {
  const Scope &names;
  bool perNeuron = false; ///< i, N, rand(), randn(): values that differ per neuron
  bool time = false;      ///< t, dt: only in what runs every step
  bool noise = false;     ///< xi, xi_<name>: only in an equation's right-hand side
  bool synapse = false;   ///< i, j, N_pre, N_post name a synapse's two neurons (no N)

  /// Shared parameters, input defaults, population settings, the network.
  static ExprScope shared(const Scope &names) { return {names}; }
  /// Per-neuron parameters and initial values: evaluated once per neuron.
  static ExprScope perNeuronInit(const Scope &names) { return {names, true}; }
  /// Everything that runs every step (sub-expressions, spike, reset, ...).
  static ExprScope everyStep(const Scope &names) { return {names, true, true}; }
  /// The right-hand side of x' = ...: every step, and white noise.
  static ExprScope equation(const Scope &names) { return {names, true, true, true}; }
  /// A synapse's initial values and delay: evaluated once per synapse.
  static ExprScope synapseInit(const Scope &names) { return {names, true, false, false, true}; }
  /// A synapse's on_pre and on_post: run when a spike arrives.
  static ExprScope synapseEvent(const Scope &names) { return {names, true, true, false, true}; }
};

/// Whether a (checked) expression reads a parameter or an input.
bool referencesParameters(const ast::Expr &e);

/// Whether `c` calls rand() or randn().
bool isRandomDraw(const ast::CallExpr &c);

class Sema {
public:
  explicit Sema(DiagnosticEngine &diags) : diags(diags) {}

  bool checkNeuron(ast::NeuronDecl &n);
  bool checkSynapse(ast::SynapseDecl &s);
  bool checkNetwork(ast::NetworkDecl &net, ast::Module &module, NetworkModel *result);

  /// Names that synapses and projections of the module read, with a
  /// `_pre`/`_post` suffix stripped: a neuron parameter or input among them
  /// is used even where the neuron itself never reads it (set before the
  /// neurons are checked).
  std::set<std::string> readBySynapses;

private:
  struct SubExpression {
    ast::Declaration *decl = nullptr;
    enum { Unchecked, InProgress, Done } state = Unchecked;
    bool ok = false;
  };

  // Expressions and units (SemaExpr.cpp).
  bool checkExpr(ast::Expr &e, const ExprScope &scope);
  bool checkUnary(ast::UnaryExpr &u, const ExprScope &scope);
  bool checkBinary(ast::BinaryExpr &b, const ExprScope &scope);
  bool checkConditional(ast::ConditionalExpr &c, const ExprScope &scope);
  bool checkName(ast::NameExpr &n, const ExprScope &scope);
  bool checkCall(ast::CallExpr &c, const ExprScope &scope);
  bool resolveSubExpression(const std::string &name, const ExprScope &scope);
  std::optional<int> integerPower(const ast::Expr &exponent, const units::Dimension &base);
  std::string unitHint(const ast::Expr &bare, const units::Dimension &want,
                       const ast::Expr *other = nullptr);
  std::optional<double> evaluate(const ast::Expr &e, const Scope &scope);
  std::optional<units::Unit> unitOf(const std::string &text, const SourceLoc &loc);
  bool expectDim(const ast::Expr &e, const units::Dimension &want, const std::string &what);
  std::string displayUnit(const ast::Declaration &d, const ast::Expr *value);
  /// Adds the rand()/randn() sites of `e` to `count`, and reports the one
  /// that takes it past kMaxRandomDraws.
  void countRandomDraws(const ast::Expr &e, unsigned &count);
  /// The random streams a population draws from: its neuron's rand() sites,
  /// its white noises (one per equation for `xi`, one per name for `xi_name`)
  /// and its stimuli's rand() sites, as MLIRGen numbers them.
  unsigned randomStreams(const PopulationModel &pop);
  /// Every population's streams fit its share of the stream id.
  void checkRandomStreams(const NetworkModel &model);

  // Neurons (SemaNeuron.cpp).
  bool declare(Scope &scope, const std::string &name, Symbol sym);
  std::optional<Symbol> checkDeclaration(ast::Declaration &d, const ExprScope &scope,
                                         bool needConstant, ast::NameExpr::Resolution kind);
  Symbol poisoned(ast::NameExpr::Resolution kind, const ast::Declaration &d);
  void checkParameters(ast::NeuronDecl &n, Scope &scope);
  void checkInputs(ast::NeuronDecl &n, Scope &scope);
  void checkNamedExpressions(ast::NeuronDecl &n, Scope &scope);
  std::map<std::string, SourceLoc> checkEquations(ast::NeuronDecl &n, const Scope &scope);
  void checkUpdate(ast::NeuronDecl &n, const Scope &scope,
                   const std::map<std::string, SourceLoc> &equations);
  void checkEvents(ast::NeuronDecl &n, const Scope &scope);
  void checkRefractory(ast::NeuronDecl &n, const Scope &scope);
  void checkRandomDraws(const ast::NeuronDecl &n);
  void warnUnused(const ast::NeuronDecl &n);
  void checkAssignments(std::vector<ast::Assignment> &assignments, const Scope &scope,
                        const char *where);
  /// Reports a period known to be negative or NaN; returns whether it did.
  bool checkRefractoryPeriod(const ast::Expr &period, const Scope &scope, const SourceLoc &where,
                             const std::string &context);
  void checkMethod(const std::string &method, int64_t substeps, const SourceLoc &loc);

  // Networks (SemaNetwork.cpp).
  void checkPopulation(ast::PopulationDecl &pop, ast::Module &module, NetworkModel &model);
  void checkOverrides(ast::PopulationDecl &pop, PopulationModel &pm);
  void checkSpikeGenerator(ast::PopulationDecl &pop, NetworkModel &model);
  void checkInputSeries(ast::PopulationDecl &pop, PopulationModel &pm);
  void checkPopulationRefractory(const ast::PopulationDecl &pop, PopulationModel &pm);
  void checkKwta(ast::PopulationDecl &pop, PopulationModel &pm);
  void checkStimulus(ast::Stimulus &st, const ast::NetworkDecl &net, NetworkModel &model);
  void checkSimulate(const ast::NetworkDecl &net, NetworkModel &model);
  void checkStepCount(const ast::NetworkDecl &net, const NetworkModel &model,
                      const ast::SimulateOption *dtOption);
  void checkOutputNames(const NetworkModel &model);

  // Synapses, groups, projections and monitors (SemaSynapse.cpp).
  /// Neurons [begin, end) of one population of the network being checked.
  struct NeuronRange {
    int population = -1;
    int64_t begin = 0, end = 0;
    int64_t size() const { return end - begin; }
  };
  std::optional<NeuronRange> resolveRange(const ast::RangeRef &r, const ast::NetworkDecl &net,
                                          const NetworkModel &model);
  std::string describeRange(const ast::RangeRef &r, const NeuronRange &range);
  void checkGroup(const ast::GroupDecl &g, const ast::NetworkDecl &net, const NetworkModel &model);
  void checkProjection(ast::ProjectionDecl &p, ast::Module &module, const ast::NetworkDecl &net,
                       NetworkModel &model);
  Scope withNeuronState(const Scope &scope, const ProjectionModel &pm, const NetworkModel &model);
  void checkSynapseDynamics(ast::SynapseDecl &syn, const Scope &scope);
  void checkTimedInputReads(const ast::SynapseDecl &syn, const ProjectionModel &pm,
                            const NetworkModel &model);
  bool checkProjectionOverrides(ast::ProjectionDecl &p, const ast::SynapseDecl &syn,
                                ProjectionModel &pm, const NetworkModel &model);
  bool checkConnect(const ast::ProjectionDecl &p, ProjectionModel &pm, const NetworkModel &model);
  bool checkConnectCondition(const ast::ProjectionDecl &p, ProjectionModel &pm,
                             const NetworkModel &model);
  bool checkExplicitConnect(const ast::ProjectionDecl &p, ProjectionModel &pm);
  bool checkMatrixFiles(const ast::ConnectDecl &c, const ast::SynapseDecl &syn, ConnectSpec &spec);
  Scope synapseEventScope(const ast::SynapseDecl &syn, const ProjectionModel &pm,
                          const NetworkModel &model);
  void checkEffects(std::vector<ast::Assignment> &block, const Scope &scope, bool onPost);
  void checkSummed(ast::SynapseDecl &syn, const Scope &scope);
  void checkSummedTargets(const NetworkModel &model);
  void checkProjectionRandomSites(const ast::ProjectionDecl &p, ProjectionModel &pm);
  // Dale's law (SemaSigns.cpp).
  void checkSigns(const ast::NetworkDecl &net, const NetworkModel &model);
  bool checkWeightSign(const ast::ProjectionDecl &p, ProjectionModel &pm);
  void checkRecordState(ast::RecordStateDecl &r, const ast::NetworkDecl &net, NetworkModel &model);
  void checkRecordSynapse(ast::RecordStateDecl &r, int projection, int64_t every,
                          NetworkModel &model);
  void checkRecordRate(const ast::RecordRateDecl &r, const ast::NetworkDecl &net,
                       NetworkModel &model);

  DiagnosticEngine &diags;
  /// Each checked neuron's parameters and inputs, for its populations.
  std::map<std::string, Scope> neuronScopes;
  /// Each checked neuron's names as its step sees them (state too), for a
  /// population's k-WTA reset.
  std::map<std::string, Scope> neuronStepScopes;
  std::set<std::string> randomNeurons; ///< neurons that draw random numbers
  /// Each checked synapse's parameters (with their defaults) and state.
  std::map<std::string, Scope> synapseScopes;
  std::set<std::string> badSynapses; ///< synapses with errors: their projections stay quiet
  /// The groups of the network being checked.
  std::map<std::string, NeuronRange> groupRanges;
  /// The populations and groups of the network being checked that declare a
  /// sign (Dale's law), where they declare it.
  struct SignedNeurons {
    int population = -1;
    SignedRange range;
    std::string name;
    SourceLoc loc;
  };
  std::vector<SignedNeurons> signedNeurons;

  // State of the neuron being checked.
  std::map<std::string, SubExpression> subExpressions;
  std::vector<std::string> subExpressionStack;
  std::set<std::string> used;
  std::map<std::string, std::string> displayUnits; ///< declared units, for hints
  std::string hintUnit; ///< the unit a declaration asks for, while checking it
};

} // namespace ncl::sema

#endif // NCL_DSL_LIB_SEMAIMPL_H
