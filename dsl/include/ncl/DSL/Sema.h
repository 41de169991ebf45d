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

struct PopulationModel {
  const ast::PopulationDecl *decl = nullptr;
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
  int parameterIndex(const std::string &name) const;
};

struct NetworkModel {
  const ast::NetworkDecl *decl = nullptr;
  double dt = 1e-4;      ///< seconds
  double duration = 1.0; ///< seconds
  uint64_t seed = 0;
  std::vector<PopulationModel> populations;
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
