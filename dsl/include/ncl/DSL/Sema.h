//===- Sema.h - Names, dimensions and constants of an NCL file --*- C++ -*-===//
//
// Semantic analysis resolves every name, checks the physical dimension of
// every expression, evaluates parameter defaults and network settings to
// internal (SI) values, and picks the network to compile. MLIRGen only ever
// sees a module that passed here.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_DSL_SEMA_H
#define NCL_DSL_SEMA_H

#include "ncl/DSL/AST.h"

#include <cmath>
#include <map>
#include <memory>
#include <optional>

namespace ncl {

/// A population parameter as the compiled model exposes it.
struct ParameterValue {
  std::string name;
  std::string unitText; ///< display unit ("" when dimensionless)
  units::Unit unit;     ///< scale of unitText, and the dimension
  double value = 0;     ///< default, internal units
  bool isInput = false;
  /// Values the runtime accepts for it (e.g. a refractory period is >= 0).
  double minValue = -HUGE_VAL, maxValue = HUGE_VAL;
};

/// A parameter the kernels compute from settable ones (docs/language.md).
struct DerivedParameter {
  std::string name;
  /// The settable parameters and inputs it follows, directly or through
  /// other derived parameters, in declaration order.
  std::vector<std::string> sources;
};

/// An input driven by a series read from a `.npy` file at initialisation
/// (`timed_array`, docs/semantics.md "Sources").
struct InputSeries {
  std::string input;
  std::string file;    ///< as written
  double interval = 0; ///< seconds between samples
  double scale = 1;    ///< internal value = file value * scale
};

/// `kwta r keep ...` of a population, checked (docs/semantics.md, "k-WTA").
struct KwtaModel {
  const ast::KwtaDecl *decl = nullptr;
  std::string variable; ///< a state variable or output of the neuron
  /// Winners per step: `keep` where it is a count, else
  /// floor(fraction * N + 0.5) of the run's size N (both > 0).
  int64_t keep = 0;
  double fraction = 0;
  /// Boosting by duty cycle: beta (0: none) and the averaging period in steps.
  double boost = 0;
  double period = 0;
};

struct PopulationModel {
  const ast::PopulationDecl *decl = nullptr;
  /// A spike generator (`spike_generator[n]("times.npy", "indices.npy")`):
  /// the two files, as written; its neuron is an empty model.
  bool spikeGenerator = false;
  std::string spikeTimesFile, spikeIndicesFile;
  std::vector<InputSeries> series; ///< inputs set to timed arrays
  const ast::NeuronDecl *neuron = nullptr;
  std::vector<ParameterValue> parameters; ///< shared neuron parameters, then inputs
  std::vector<DerivedParameter> derived;  ///< derived parameters the population does not set
  /// Per-neuron parameters the population sets to a constant instead of the
  /// neuron's initializer.
  std::map<std::string, const ast::Expr *> perNeuronOverrides;
  /// Stimuli summed into each input, in the order the network lists them.
  std::map<std::string, std::vector<const ast::Expr *>> stimuli;
  bool recordSpikes = false;
  /// The integration scheme: the population's `method`, else the neuron's
  /// (empty: ncl-integrate chooses).
  std::string method;
  int64_t substeps = 1;
  std::optional<KwtaModel> kwta;
  int parameterIndex(const std::string &name) const;
};

/// A projection's connect rule, with its arguments evaluated.
struct ConnectSpec {
  enum class Rule {
    AllToAll,
    OneToOne,
    FixedProbability,
    FixedInDegree,
    FixedOutDegree,
    FixedTotal,
    Explicit, ///< from_npy(pre, post, ...): lists read from files at load time
    Condition ///< all_to_all or fixed_probability with `if condition`
  };
  Rule rule = Rule::AllToAll;
  double p = 0;  ///< fixed_probability; Condition: each accepted pair's probability
  int64_t n = 0; ///< fixed_indegree, fixed_outdegree, fixed_total
  bool autapses = true, multapses = true;
  SourceLoc loc;
  /// Condition: a boolean expression of i, j, N_pre, N_post, the synapse's
  /// parameters and the neurons' state (`x_pre`, `x_post`).
  const ast::Expr *condition = nullptr;
  /// Explicit: absolute paths of the index files, of the per-synapse values
  /// of variables (by name) and of the per-synapse delays ("" if none).
  std::string preFile, postFile, delayFile;
  /// Explicit: 1-D files, one value per listed synapse. Any other rule: 2-D
  /// matrices (pre range x post range), entry [i - a, j - c] for synapse
  /// i -> j (`all_to_all(w = "W.npy")`).
  std::map<std::string, std::string> varFiles;
  /// all_to_all, fixed_probability (with or without a condition): the
  /// absolute path of a 0/1 matrix of candidate pairs, or "".
  std::string maskFile;
};

/// Presynaptic neurons whose outgoing weights keep one sign (Dale's law):
/// a population or group declared `excitatory` or `inhibitory`.
struct SignedRange {
  int64_t begin = 0, end = -1; ///< in the source population; end = -1: to its end
  int sign = 1;                ///< +1 excitatory (w >= 0), -1 inhibitory (w <= 0)
  bool covers(int64_t b, int64_t e) const { return begin <= b && (end < 0 || end >= e); }
  bool overlaps(int64_t b, int64_t e) const { return begin < e && (end < 0 || end > b); }
};

/// `projection Name = Synapse(pre -> post) { ... }`, checked.
struct ProjectionModel {
  const ast::ProjectionDecl *decl = nullptr;
  /// This projection's own copy of the synapse model: its on_pre/on_post
  /// are resolved against this projection's neurons (NameExpr::Resolution
  /// Pre*/Post*, Assignment::target).
  const ast::SynapseDecl *synapse = nullptr;
  std::shared_ptr<const ast::SynapseDecl> synapseCopy; ///< owns *synapse
  int pre = -1, post = -1;                             ///< indices into NetworkModel::populations
  int64_t preBegin = 0, preEnd = 0, postBegin = 0, postEnd = 0; ///< [begin, end) in those
  ConnectSpec connect;
  std::vector<ParameterValue> parameters; ///< the synapse's parameters, this projection's values
  std::vector<DerivedParameter> derived;  ///< empty: synapse parameters are plain constants
  /// Per-synapse variable -> its initial value: the projection's override
  /// or the synapse's declaration (may use i, j, N_pre, N_post, rand(),
  /// randn() and the synapse's parameters).
  std::map<std::string, const ast::Expr *> stateInit;
  double delay = 0;                     ///< seconds, when shared
  const ast::Expr *delayExpr = nullptr; ///< non-null: a per-synapse delay (seconds)
  double postDelay = 0;                 ///< seconds: the dendritic delay of on_post, shared
  /// The projection's random draws, numbered in this order: the state
  /// initial values (in the synapse's declaration order), the delay,
  /// on_pre, on_post, summed. At most NCL_RANDOM_MAX_SITES.
  unsigned randomSites = 0;
  /// Dale's law: the signed presynaptic ranges that overlap this
  /// projection's source, and the per-synapse weight they fix (`w`; empty
  /// without signed ranges).
  std::vector<SignedRange> signedRanges;
  std::string weight;
  int parameterIndex(const std::string &name) const;
};

/// `record var(P[a:b]) every k`.
struct StateMonitor {
  int population = -1;
  std::string var;
  /// The stem of its output files, `<name>_<var>`: `name` is the group or
  /// population as written, or the population of an index range.
  std::string name;
  int64_t begin = 0, end = 0, every = 1;
  SourceLoc loc;
};

/// `record rate(P)`.
struct RateMonitor {
  int population = -1;
  std::string name; ///< the stem of its output files, `<P>_rate`
  SourceLoc loc;
};

/// `record w(C[a:b]) every k` of a projection C: its per-synapse variable
/// `var` of synapses [begin, end) in the projection's synapse order.
struct SynapseMonitor {
  int projection = -1;
  std::string var;
  std::string name; ///< the stem of its output files, `<C>_<var>`
  /// Synapse indices [begin, end); end = -1: every synapse of the run.
  int64_t begin = 0, end = -1, every = 1;
  SourceLoc loc;
};

struct NetworkModel {
  const ast::NetworkDecl *decl = nullptr;
  double dt = 1e-4;      ///< seconds
  double duration = 1.0; ///< seconds
  uint64_t seed = 0;
  /// `simulate ..., batch = B`: independent copies of the network in a run
  /// (docs/semantics.md, "Batches").
  int64_t batch = 1;
  /// Why the network cannot run more than one batch member, naming the
  /// projection ("" when it can): the runtime refuses a batch set at load
  /// time with it.
  std::string batchRefusal;
  std::vector<PopulationModel> populations;
  std::vector<ProjectionModel> projections;
  std::vector<StateMonitor> stateMonitors;
  std::vector<RateMonitor> rateMonitors;
  std::vector<SynapseMonitor> synapseMonitors;
};

/// Checks `module` and, on success, describes the network to compile
/// (`networkName`, or the only network in the file). Returns false after
/// reporting every error found.
bool analyze(ast::Module &module, DiagnosticEngine &diags, NetworkModel &result,
             const std::string &networkName = "");

/// Checks a module without choosing a network (nclc --check of a library).
bool analyzeModule(ast::Module &module, DiagnosticEngine &diags);

} // namespace ncl

#endif // NCL_DSL_SEMA_H
