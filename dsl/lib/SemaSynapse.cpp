//===- SemaSynapse.cpp - Synapse models, groups, projections, monitors ----===//
//
// A synapse model is checked once for what it owns (parameters, initial
// values of its state), and its on_pre, on_post and summed once per
// projection, on the projection's own copy: names there resolve like Brian2's, the synapse's
// own first, then the postsynaptic neuron's, with `_pre`/`_post` suffixes
// naming either neuron explicitly. Groups, projection endpoints and
// monitors name neurons of the network as a population, a group, or a range
// `P[a:b]` of either.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace ncl;
using namespace ncl::ast;
using namespace ncl::sema;
using llvm::dyn_cast;
using units::Dimension;
using Resolution = NameExpr::Resolution;

int ProjectionModel::parameterIndex(const std::string &name) const {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].name == name)
      return static_cast<int>(i);
  return -1;
}

//===----------------------------------------------------------------------===//
// Synapse models
//===----------------------------------------------------------------------===//

bool Sema::checkSynapse(SynapseDecl &s) {
  unsigned before = diags.errorCount();
  Scope scope;
  displayUnits.clear();
  auto reserved = [&](const Declaration &d) {
    // `delay` and `post_delay` in a projection are the projection's
    // delays, never variables.
    if (d.name != "delay" && d.name != "post_delay")
      return false;
    diags.error(d.loc, "'" + d.name +
                           "' is the name of a projection's delay; name the synapse's "
                           "variable differently");
    return true;
  };
  // Parameters are shared by the synapses of one projection, which may set
  // them: constants, possibly computed from the parameters above.
  for (auto &p : s.parameters) {
    if (reserved(p))
      continue;
    if (p.perNeuron) {
      diags.error(p.loc, "a synapse parameter is shared by the projection; declare a per-synapse "
                         "value in 'state'");
      continue;
    }
    auto sym = checkDeclaration(p, ExprScope::shared(scope), true, Resolution::SynapseParameter);
    declare(scope, p.name, sym ? *sym : poisoned(Resolution::SynapseParameter, p));
  }
  // Initial values differ per synapse: they see the parameters, i, j,
  // N_pre, N_post and random draws.
  Scope initScope = scope;
  for (auto &st : s.state) {
    if (reserved(st))
      continue;
    if (st.perNeuron) {
      diags.error(st.loc, "'per neuron' has no meaning in a synapse's state; its variables "
                          "are per synapse already");
      continue;
    }
    auto sym =
        checkDeclaration(st, ExprScope::synapseInit(initScope), false, Resolution::SynapseState);
    declare(scope, st.name, sym ? *sym : poisoned(Resolution::SynapseState, st));
  }
  synapseScopes[s.name] = scope;
  bool ok = diags.errorCount() == before;
  if (!ok)
    badSynapses.insert(s.name);
  return ok;
}

//===----------------------------------------------------------------------===//
// Ranges of neurons and groups
//===----------------------------------------------------------------------===//

std::optional<Sema::NeuronRange> Sema::resolveRange(const RangeRef &r, const NetworkDecl &net,
                                                    const NetworkModel &model) {
  NeuronRange whole;
  if (auto g = groupRanges.find(r.population); g != groupRanges.end()) {
    whole = g->second;
  } else {
    auto pm = std::find_if(model.populations.begin(), model.populations.end(),
                           [&](const PopulationModel &p) { return p.decl->name == r.population; });
    if (pm == model.populations.end()) {
      bool declared =
          std::any_of(net.populations.begin(), net.populations.end(),
                      [&](const PopulationDecl &p) { return p.name == r.population; }) ||
          std::any_of(net.groups.begin(), net.groups.end(),
                      [&](const GroupDecl &g) { return g.name == r.population; });
      if (!declared) { // a declared one that failed was reported already
        std::vector<std::string> names;
        for (auto &p : net.populations)
          names.push_back(p.name);
        for (auto &g : net.groups)
          names.push_back(g.name);
        diags.error(r.loc, "unknown population or group '" + r.population + "'" +
                               didYouMean(r.population, names));
      }
      return std::nullopt;
    }
    whole.population = static_cast<int>(pm - model.populations.begin());
    whole.begin = 0;
    whole.end = pm->decl->size;
  }
  if (r.whole)
    return whole;
  std::string text =
      r.population + "[" + std::to_string(r.begin) + ":" + std::to_string(r.end) + "]";
  if (r.begin < 0 || r.end < 0) {
    diags.error(r.rangeLoc, "index out of range in '" + r.population + "[...]'");
    return std::nullopt;
  }
  if (r.begin >= r.end) {
    diags.error(r.rangeLoc, "the range " + text + " is " +
                                (r.begin == r.end ? "empty" : "reversed") +
                                "; it means neurons a to b-1 of [a:b], with a < b");
    return std::nullopt;
  }
  if (r.end > whole.size()) {
    diags.error(r.rangeLoc, "the range " + text + " is out of bounds: '" + r.population + "' has " +
                                std::to_string(whole.size()) + " neurons");
    return std::nullopt;
  }
  return NeuronRange{whole.population, whole.begin + r.begin, whole.begin + r.end};
}

/// `'E' (3200 neurons)`: how a message names a projection's endpoint.
std::string Sema::describeRange(const RangeRef &r, const NeuronRange &range) {
  std::string name = r.population;
  if (!r.whole)
    name += "[" + std::to_string(r.begin) + ":" + std::to_string(r.end) + "]";
  return "'" + name + "' (" + std::to_string(range.size()) + " neuron" +
         (range.size() == 1 ? "" : "s") + ")";
}

void Sema::checkGroup(const GroupDecl &g, const NetworkDecl &net, const NetworkModel &model) {
  if (auto range = resolveRange(g.range, net, model))
    groupRanges[g.name] = *range;
}

//===----------------------------------------------------------------------===//
// Projections
//===----------------------------------------------------------------------===//

void Sema::checkProjection(ProjectionDecl &p, Module &module, const NetworkDecl &net,
                           NetworkModel &model) {
  const SynapseDecl *syn = nullptr;
  std::vector<std::string> synapseNames;
  for (auto &s : module.synapses) {
    synapseNames.push_back(s.name);
    if (s.name == p.synapse)
      syn = &s;
  }
  if (!syn) {
    bool isNeuron = std::any_of(module.neurons.begin(), module.neurons.end(),
                                [&](const NeuronDecl &n) { return n.name == p.synapse; });
    diags.error(p.synapseLoc, "unknown synapse model '" + p.synapse + "'" +
                                  (isNeuron ? "; '" + p.synapse + "' is a neuron model"
                                            : didYouMean(p.synapse, synapseNames)));
    return;
  }
  auto pre = resolveRange(p.pre, net, model);
  auto post = resolveRange(p.post, net, model);
  if (p.connects.empty())
    diags.error(p.loc, "projection '" + p.name +
                           "' needs a connect rule, e.g. 'connect fixed_probability(0.1)' in "
                           "its block");
  for (size_t k = 1; k < p.connects.size(); ++k) {
    diags.error(p.connects[k].loc, "projection '" + p.name + "' has more than one connect rule");
    diags.note(p.connects[0].loc, "the first is here");
  }
  if (!p.method.empty()) {
    if (p.secondMethodLoc.isValid()) {
      diags.error(p.methodLoc, "projection '" + p.name + "' chooses its method twice");
      diags.note(p.secondMethodLoc, "first chosen here");
    }
    if (p.method != "clock_driven" && p.method != "event_driven")
      diags.error(p.methodLoc, "unknown synapse method '" + p.method +
                                   "'; a projection may ask for 'clock_driven' or 'event_driven'" +
                                   didYouMean(p.method, {"clock_driven", "event_driven"}));
    else if (syn->odes.empty())
      diags.error(p.methodLoc, "projection '" + p.name + "' asks for '" + p.method +
                                   "', but synapse '" + syn->name +
                                   "' has no dynamics block to advance");
  }
  if (!pre || !post || badSynapses.count(syn->name))
    return;

  ProjectionModel pm;
  pm.decl = &p;
  auto copy = std::make_shared<SynapseDecl>(clone(*syn));
  pm.synapse = copy.get();
  pm.synapseCopy = copy;
  pm.pre = pre->population;
  pm.preBegin = pre->begin;
  pm.preEnd = pre->end;
  pm.post = post->population;
  pm.postBegin = post->begin;
  pm.postEnd = post->end;
  bool ok = checkProjectionOverrides(p, *copy, pm, model);
  if (p.connects.size() == 1)
    ok = checkConnect(p, pm, model) && ok;

  // on_pre and on_post, against this projection's neurons.
  Scope events = synapseEventScope(*copy, pm, model);
  unsigned before = diags.errorCount();
  checkEffects(copy->onPre, events, false);
  checkEffects(copy->onPost, events, true);
  checkSummed(*copy, events);
  checkSynapseDynamics(*copy, events);
  checkTimedInputReads(*copy, pm, model);
  ok = ok && diags.errorCount() == before;
  if (!ok || !checkWeightSign(p, pm))
    return;
  checkProjectionRandomSites(p, pm);
  model.projections.push_back(std::move(pm));
}

/// A synapse reads a neuron's input as its population value (docs/semantics.md,
/// "Reads of the neurons"), which an input driven by a timed array does not
/// have: such a read is refused at its name, with the way round it.
void Sema::checkTimedInputReads(const SynapseDecl &syn, const ProjectionModel &pm,
                                const NetworkModel &model) {
  auto visit = [&](const Expr &e) {
    forEachSubExpression(e, [&](const Expr &sub) {
      auto *ref = dyn_cast<NameExpr>(&sub);
      if (!ref || (ref->resolution != NameExpr::Resolution::PreInput &&
                   ref->resolution != NameExpr::Resolution::PostInput))
        return;
      bool pre = ref->resolution == NameExpr::Resolution::PreInput;
      const PopulationModel &pop = model.populations[static_cast<size_t>(pre ? pm.pre : pm.post)];
      for (const InputSeries &series : pop.series)
        if (series.input == ref->variable)
          diags.error(ref->getLoc(),
                      "input '" + ref->variable + "' of population '" + pop.decl->name +
                          "' follows a timed array, which a synapse cannot read (it reads an "
                          "input's population value); copy it into a state variable of the "
                          "neuron, e.g. 'update { " +
                          ref->variable + "_now = " + ref->variable + " }', and read that");
    });
  };
  for (const auto *block : {&syn.onPre, &syn.onPost, &syn.summed})
    for (const Assignment &a : *block)
      visit(*a.value);
  for (const OdeDecl &ode : syn.odes)
    visit(*ode.rhs);
}

/// `name = value` in a projection: a synapse parameter's value (a
/// constant), a per-synapse variable's initial value, or `delay`.
bool Sema::checkProjectionOverrides(ProjectionDecl &p, const SynapseDecl &syn, ProjectionModel &pm,
                                    const NetworkModel &model) {
  unsigned before = diags.errorCount();
  const Scope &synScope = synapseScopes[syn.name];
  // The parameters in order, each with the projection's value or its own
  // default computed from the values above it.
  Scope params;
  Scope empty;
  for (const Declaration &d : syn.parameters) {
    auto it = synScope.find(d.name);
    if (it == synScope.end())
      continue;
    Symbol sym = it->second;
    auto o = std::find_if(p.overrides.begin(), p.overrides.end(),
                          [&](const Declaration &o) { return o.name == d.name; });
    if (o != p.overrides.end()) {
      if (checkExpr(*o->value, ExprScope::shared(empty)) &&
          expectDim(*o->value, d.unit.dim, "value of '" + d.name + "'"))
        sym.value = evaluate(*o->value, empty).value_or(0);
    } else if (auto v = evaluate(*d.value, params)) {
      sym.value = *v;
    }
    params[d.name] = sym;
    pm.parameters.push_back({d.name, displayUnit(d, d.value.get()), d.unit, sym.value, false});
  }
  for (const Declaration &d : syn.state)
    pm.stateInit[d.name] = d.value.get();

  std::map<std::string, SourceLoc> seen;
  for (Declaration &o : p.overrides) {
    if (auto prev = seen.find(o.name); prev != seen.end()) {
      diags.error(o.loc, "projection '" + p.name + "' sets '" + o.name + "' twice");
      diags.note(prev->second, "first set here");
      continue;
    }
    seen[o.name] = o.loc;
    if (!o.unitText.empty() || o.perNeuron) {
      diags.error(o.loc, "a projection sets values only, as 'name = value'");
      continue;
    }
    if (o.name == "delay") {
      // Shared when constant; with i, j or random draws, per synapse.
      if (!checkExpr(*o.value, ExprScope::synapseInit(params)) ||
          !expectDim(*o.value, Dimension::time(), "delay"))
        continue;
      if (auto v = evaluate(*o.value, params)) {
        if (std::isnan(*v) || *v < 0)
          diags.error(o.value->getLoc(), "the delay of projection '" + p.name +
                                             "' must not be negative (it is " + formatSeconds(*v) +
                                             ")");
        else if (!std::isfinite(*v))
          diags.error(o.value->getLoc(), "the delay must be finite");
        else
          pm.delay = *v;
      } else {
        pm.delayExpr = o.value.get();
      }
      continue;
    }
    if (o.name == "post_delay") {
      // The dendritic delay of on_post: one constant for the projection.
      if (!checkExpr(*o.value, ExprScope::synapseInit(params)) ||
          !expectDim(*o.value, Dimension::time(), "post_delay"))
        continue;
      auto v = evaluate(*o.value, params);
      if (!v)
        diags.error(o.value->getLoc(),
                    "post_delay of projection '" + p.name +
                        "' must be a constant shared by its synapses; per-synapse dendritic "
                        "delays are not supported");
      else if (std::isnan(*v) || *v < 0)
        diags.error(o.value->getLoc(), "post_delay of projection '" + p.name +
                                           "' must not be negative (it is " + formatSeconds(*v) +
                                           ")");
      else if (!std::isfinite(*v))
        diags.error(o.value->getLoc(), "post_delay must be finite");
      else if (syn.onPost.empty())
        diags.error(o.loc, "post_delay delays the on_post block of synapse '" + syn.name +
                               "', which has none");
      else
        pm.postDelay = *v;
      continue;
    }
    if (params.count(o.name))
      continue; // checked above
    auto st = std::find_if(syn.state.begin(), syn.state.end(),
                           [&](const Declaration &d) { return d.name == o.name; });
    if (st == syn.state.end()) {
      std::vector<std::string> names{"delay", "post_delay"};
      for (auto &d : syn.parameters)
        names.push_back(d.name);
      for (auto &d : syn.state)
        names.push_back(d.name);
      diags.error(o.loc, "synapse '" + syn.name + "' has no parameter or state variable '" +
                             o.name + "'" + didYouMean(o.name, names));
      continue;
    }
    // A per-synapse variable's initial value, evaluated per synapse; it
    // may read the two neurons' initial state as name_pre and name_post.
    if (checkExpr(*o.value, ExprScope::synapseInit(withNeuronState(params, pm, model))) &&
        expectDim(*o.value, st->unit.dim, "initial value of '" + o.name + "'"))
      pm.stateInit[o.name] = o.value.get();
  }
  return diags.errorCount() == before;
}

namespace {
struct RuleInfo {
  const char *name;
  ConnectSpec::Rule rule;
  const char *count; ///< the positional argument: "p", "n" or null
  bool hasAutapses;  ///< takes `autapses = ...`
  bool hasMultapses; ///< takes `multapses = ...`
  const char *usage;
};
const RuleInfo kRules[] = {
    {"all_to_all", ConnectSpec::Rule::AllToAll, nullptr, true, false,
     "all_to_all(autapses = true)"},
    {"one_to_one", ConnectSpec::Rule::OneToOne, nullptr, false, false, "one_to_one()"},
    {"fixed_probability", ConnectSpec::Rule::FixedProbability, "p", true, false,
     "fixed_probability(p, autapses = true)"},
    {"fixed_indegree", ConnectSpec::Rule::FixedInDegree, "n", true, true,
     "fixed_indegree(n, autapses = true, multapses = true)"},
    {"fixed_outdegree", ConnectSpec::Rule::FixedOutDegree, "n", true, true,
     "fixed_outdegree(n, autapses = true, multapses = true)"},
    {"fixed_total", ConnectSpec::Rule::FixedTotal, "n", true, true,
     "fixed_total(n, autapses = true, multapses = true)"},
};
} // namespace

bool Sema::checkConnect(const ProjectionDecl &p, ProjectionModel &pm, const NetworkModel &model) {
  const ConnectDecl &c = p.connects[0];
  if (c.rule == "from_npy")
    return checkExplicitConnect(p, pm);
  const RuleInfo *info = nullptr;
  std::vector<std::string> ruleNames;
  for (const RuleInfo &r : kRules) {
    ruleNames.push_back(r.name);
    if (c.rule == r.name)
      info = &r;
  }
  ruleNames.push_back("from_npy");
  if (!info) {
    std::string choices;
    for (size_t k = 0; k < ruleNames.size(); ++k)
      choices += (k == 0 ? "" : k + 1 == ruleNames.size() ? " or " : ", ") + ruleNames[k];
    std::string suggestion = didYouMean(c.rule, ruleNames);
    diags.error(c.loc, "unknown connect rule '" + c.rule + "'" +
                           (suggestion.empty() ? "; choose " + choices : suggestion));
    return false;
  }
  unsigned before = diags.errorCount();
  ConnectSpec &spec = pm.connect;
  spec.rule = info->rule;
  spec.loc = c.loc;
  const ConnectArg *count = nullptr;
  std::set<std::string> given;
  bool positionalDone = false;
  Scope empty;
  if (!checkMatrixFiles(c, *pm.synapse, spec))
    return false;
  for (const ConnectArg &a : c.args) {
    if (!a.value)
      continue; // a file: checkMatrixFiles
    std::string name = a.name;
    if (name.empty()) {
      if (positionalDone || !info->count || count) {
        diags.error(a.loc, "too many arguments for '" + c.rule + "'; it takes " + info->usage);
        continue;
      }
      name = info->count;
    } else {
      positionalDone = true;
    }
    if (!given.insert(name).second) {
      diags.error(a.loc, "argument '" + name + "' of '" + c.rule + "' is given twice");
      continue;
    }
    if (info->count && name == info->count) {
      count = &a;
      continue;
    }
    bool isFlag =
        (name == "autapses" && info->hasAutapses) || (name == "multapses" && info->hasMultapses);
    if (!isFlag) {
      std::vector<std::string> names;
      if (info->count)
        names.push_back(info->count);
      if (info->hasAutapses)
        names.push_back("autapses");
      if (info->hasMultapses)
        names.push_back("multapses");
      // An argument of another rule is named as such; a typo gets a suggestion.
      bool ofAnotherRule = name == "p" || name == "n" || name == "autapses" || name == "multapses";
      std::string suggestion = ofAnotherRule ? "" : didYouMean(name, names);
      diags.error(a.loc,
                  "'" + c.rule + "' has no argument '" + name + "'" +
                      (suggestion.empty() ? std::string("; it takes ") + info->usage : suggestion));
      continue;
    }
    auto *flag = dyn_cast<NameExpr>(a.value.get());
    if (!flag || (flag->name != "true" && flag->name != "false")) {
      diags.error(a.value->getLoc(), "'" + name + "' must be true or false");
      continue;
    }
    (name == "autapses" ? spec.autapses : spec.multapses) = flag->name == "true";
  }
  if (info->count && !count) {
    diags.error(c.loc, "'" + c.rule + "' needs " +
                           (std::string(info->count) == "p" ? "a connection probability"
                                                            : "a number of connections") +
                           ": " + info->usage);
    return false;
  }
  if (count) {
    if (!checkExpr(*count->value, ExprScope::shared(empty)) ||
        !expectDim(*count->value, Dimension::none(), std::string("'") + info->count + "'"))
      return false;
    auto v = evaluate(*count->value, empty);
    if (!v) {
      diags.error(count->value->getLoc(),
                  std::string("'") + info->count + "' must be a constant expression");
      return false;
    }
    if (spec.rule == ConnectSpec::Rule::FixedProbability) {
      if (!(*v >= 0 && *v <= 1)) {
        diags.error(count->value->getLoc(), "connection probability p must be between 0 and 1 "
                                            "(it is " +
                                                formatNumber(*v) + ")");
        return false;
      }
      spec.p = *v;
    } else {
      if (!(*v >= 0) || *v != std::floor(*v) || *v > 9.0e18) {
        diags.error(count->value->getLoc(), "'" + c.rule +
                                                "' needs a non-negative integer n (it is " +
                                                formatNumber(*v) + ")");
        return false;
      }
      spec.n = static_cast<int64_t>(*v);
    }
  }
  if (diags.errorCount() != before)
    return false;
  if (c.condition)
    return checkConnectCondition(p, pm, model);

  // What the sizes of the two endpoints allow.
  NeuronRange pre{pm.pre, pm.preBegin, pm.preEnd}, post{pm.post, pm.postBegin, pm.postEnd};
  std::string preText = describeRange(p.pre, pre), postText = describeRange(p.post, post);
  if (spec.rule == ConnectSpec::Rule::OneToOne && pre.size() != post.size()) {
    diags.error(c.loc, "'one_to_one' connects neuron k of the source to neuron k of the target, "
                       "but the source " +
                           preText + " and the target " + postText + " differ in size");
    return false;
  }
  if (spec.multapses) // n connections can always be drawn with repetition
    return true;
  // Without autapses, a neuron in both endpoints cannot connect to itself.
  int64_t overlap = 0;
  if (!spec.autapses && pre.population == post.population)
    overlap = std::max<int64_t>(0, std::min(pre.end, post.end) - std::max(pre.begin, post.begin));
  auto tooMany = [&](int64_t available, const std::string &what) {
    diags.error(c.loc, "'" + c.rule + "' with multapses = false asks for " +
                           std::to_string(spec.n) + " distinct " + what + " only " +
                           std::to_string(std::max<int64_t>(available, 0)) +
                           (overlap ? " (without autapses)" : ""));
    return false;
  };
  switch (spec.rule) {
  case ConnectSpec::Rule::FixedInDegree:
    if (spec.n > pre.size() - (overlap ? 1 : 0))
      return tooMany(pre.size() - (overlap ? 1 : 0),
                     "presynaptic neurons per target, but the source " + preText + " offers");
    break;
  case ConnectSpec::Rule::FixedOutDegree:
    if (spec.n > post.size() - (overlap ? 1 : 0))
      return tooMany(post.size() - (overlap ? 1 : 0),
                     "postsynaptic neurons per source neuron, but the target " + postText +
                         " offers");
    break;
  case ConnectSpec::Rule::FixedTotal: {
    // Sizes are at most 2^40 each: the product fits in a double exactly
    // enough for this comparison.
    double pairs = static_cast<double>(pre.size()) * static_cast<double>(post.size()) -
                   static_cast<double>(overlap);
    if (static_cast<double>(spec.n) > pairs)
      return tooMany(static_cast<int64_t>(std::min(pairs, 9.0e18)),
                     "pairs, but the source " + preText + " and the target " + postText + " make");
    break;
  }
  default:
    break;
  }
  return true;
}

/// `connect all_to_all() if cond` / `connect fixed_probability(p) if cond`:
/// the condition rule, every pair for which `cond` holds kept with
/// probability p (1 for all_to_all).
bool Sema::checkConnectCondition(const ProjectionDecl &p, ProjectionModel &pm,
                                 const NetworkModel &model) {
  const ConnectDecl &c = p.connects[0];
  ConnectSpec &spec = pm.connect;
  if (spec.rule != ConnectSpec::Rule::AllToAll &&
      spec.rule != ConnectSpec::Rule::FixedProbability) {
    diags.error(c.condition->getLoc(),
                "a condition ('if ...') combines with all_to_all or fixed_probability only, not "
                "with '" +
                    c.rule + "'");
    return false;
  }
  if (spec.rule == ConnectSpec::Rule::AllToAll)
    spec.p = 1;
  spec.rule = ConnectSpec::Rule::Condition;
  spec.condition = c.condition.get();

  // The synapse's parameters, then the neurons' state as name_pre and
  // name_post (which neuron a bare name would mean is unclear here).
  Scope params;
  const SynapseDecl &syn = *pm.synapse;
  for (const Declaration &d : syn.parameters)
    if (auto it = synapseScopes[syn.name].find(d.name); it != synapseScopes[syn.name].end())
      params.emplace(d.name, it->second);
  Expr &cond = *c.condition;
  if (!checkExpr(cond, ExprScope::synapseInit(withNeuronState(params, pm, model))))
    return false;
  if (!cond.isBool) {
    diags.error(cond.getLoc(), "the condition of a connect rule must be a comparison or a "
                               "logical expression (of i, j, ...)");
    return false;
  }
  bool ok = true;
  forEachSubExpression(cond, [&](const Expr &sub) {
    if (auto *call = dyn_cast<CallExpr>(&sub); call && isRandomDraw(*call)) {
      diags.error(call->getLoc(), "a connect condition cannot draw random numbers; give the "
                                  "probability as fixed_probability(p) if ...");
      ok = false;
    }
  });
  return ok;
}

/// `scope` and the state variables and per-neuron parameters of the
/// projection's two neurons as name_pre and name_post (a bare name would be ambiguous before any
/// spike): what a connect condition and a per-synapse initial value read.
Scope Sema::withNeuronState(const Scope &scope, const ProjectionModel &pm,
                            const NetworkModel &model) {
  Scope out = scope;
  auto add = [&](const NeuronDecl &n, bool pre) {
    const std::string suffix = pre ? "_pre" : "_post";
    auto put = [&](const Declaration &d, Resolution kind) {
      Symbol sym{kind, d.unit.dim, d.loc};
      sym.variable = d.name;
      sym.unitText = displayUnit(d, d.value.get());
      out.emplace(d.name + suffix, sym);
    };
    for (const Declaration &d : n.state)
      put(d, pre ? Resolution::PreState : Resolution::PostState);
    // Per-neuron parameters are stored like state (positions, gains).
    for (const Declaration &d : n.parameters)
      if (d.perNeuron)
        put(d, pre ? Resolution::PreParameter : Resolution::PostParameter);
  };
  add(*model.populations[pm.pre].neuron, true);
  add(*model.populations[pm.post].neuron, false);
  return out;
}

/// The absolute path of a data file named in a connect rule: a relative
/// path is relative to the directory of the .ncl file that names it.
static std::string dataFilePath(const SourceLoc &loc, const std::string &text) {
  std::filesystem::path path(text);
  if (path.is_relative() && loc.file)
    path = std::filesystem::path(*loc.file).parent_path() / path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

/// File arguments of a rule other than from_npy: `w = "W.npy"` (a matrix of
/// a per-synapse variable, pre range x post range) and `mask = "M.npy"`
/// (a 0/1 matrix of candidate pairs; all_to_all and fixed_probability
/// only). Records them in `spec` and returns false after reporting any
/// other string argument.
bool Sema::checkMatrixFiles(const ConnectDecl &c, const SynapseDecl &syn, ConnectSpec &spec) {
  const std::string usage = c.rule + "(..., w = \"W.npy\", mask = \"M.npy\")";
  unsigned before = diags.errorCount();
  for (const ConnectArg &a : c.args) {
    if (a.value)
      continue;
    auto isNamed = [&](const std::vector<Declaration> &decls) {
      return std::any_of(decls.begin(), decls.end(),
                         [&](const Declaration &d) { return d.name == a.name; });
    };
    if (a.name.empty()) {
      diags.error(a.valueLoc, "'" + c.rule +
                                  "' takes file names only for a per-synapse variable or the "
                                  "mask, named: " +
                                  usage + "; from_npy lists synapses from files");
    } else if (a.name == "mask") {
      if (c.rule != "all_to_all" && c.rule != "fixed_probability")
        diags.error(a.loc, "a mask combines with all_to_all or fixed_probability only, not "
                           "with '" +
                               c.rule + "'");
      else
        spec.maskFile = dataFilePath(a.valueLoc, a.text);
    } else if (isNamed(syn.state)) {
      spec.varFiles[a.name] = dataFilePath(a.valueLoc, a.text);
    } else {
      std::vector<std::string> names{"mask"};
      for (const Declaration &d : syn.state)
        names.push_back(d.name);
      diags.error(a.loc, isNamed(syn.parameters)
                             ? "'" + a.name + "' is a shared parameter of synapse '" + syn.name +
                                   "'; only per-synapse variables take values from a file"
                             : "'" + c.rule + "' has no file argument '" + a.name + "'" +
                                   didYouMean(a.name, names) +
                                   "; it takes a matrix of a per-synapse variable of synapse '" +
                                   syn.name + "' or a mask: " + usage);
    }
  }
  return diags.errorCount() == before;
}

/// `connect from_npy("pre.npy", "post.npy", w = "w.npy", delay = "d.npy")`:
/// synapses listed in files the runtime reads at load time. Relative paths
/// are relative to the directory of the .ncl file that names them.
bool Sema::checkExplicitConnect(const ProjectionDecl &p, ProjectionModel &pm) {
  const ConnectDecl &c = p.connects[0];
  ConnectSpec &spec = pm.connect;
  spec.rule = ConnectSpec::Rule::Explicit;
  spec.loc = c.loc;
  const char *usage = "from_npy(\"pre.npy\", \"post.npy\", var = \"values.npy\", "
                      "delay = \"delays.npy\")";
  if (c.condition) {
    diags.error(c.condition->getLoc(), "from_npy lists its synapses; it takes no condition");
    return false;
  }
  unsigned before = diags.errorCount();
  const SynapseDecl &syn = *pm.synapse;
  auto resolve = [&](const std::string &text) { return dataFilePath(c.loc, text); };
  std::set<std::string> given;
  size_t positional = 0;
  bool named = false;
  for (const ConnectArg &a : c.args) {
    std::string name = a.name;
    named |= !name.empty();
    if (name.empty()) {
      if (positional >= 2 || named) {
        diags.error(a.loc, "too many arguments for 'from_npy'; it takes " + std::string(usage));
        continue;
      }
      name = positional++ == 0 ? "pre" : "post";
    }
    if (!given.insert(name).second) {
      diags.error(a.loc, "argument '" + name + "' of 'from_npy' is given twice");
      continue;
    }
    bool isVar = std::any_of(syn.state.begin(), syn.state.end(),
                             [&](const Declaration &d) { return d.name == name; });
    if (name != "pre" && name != "post" && name != "delay" && !isVar) {
      std::vector<std::string> names{"pre", "post", "delay"};
      for (const Declaration &d : syn.state)
        names.push_back(d.name);
      bool isParam = std::any_of(syn.parameters.begin(), syn.parameters.end(),
                                 [&](const Declaration &d) { return d.name == name; });
      diags.error(a.loc, isParam ? "'" + name + "' is a shared parameter of synapse '" + syn.name +
                                       "'; only per-synapse variables take values from a file"
                                 : "'from_npy' has no argument '" + name + "'" +
                                       didYouMean(name, names) +
                                       "; it takes the index files and per-synapse "
                                       "variables or delay of synapse '" +
                                       syn.name + "'");
      continue;
    }
    if (a.value || a.text.empty()) {
      diags.error(a.valueLoc, "'from_npy' takes file names in quotes, e.g. " + std::string(usage));
      continue;
    }
    std::string path = resolve(a.text);
    if (name == "pre")
      spec.preFile = path;
    else if (name == "post")
      spec.postFile = path;
    else if (name == "delay")
      spec.delayFile = path;
    else
      spec.varFiles[name] = path;
  }
  if (diags.errorCount() != before)
    return false;
  if (spec.preFile.empty() || spec.postFile.empty()) {
    diags.error(c.loc, "'from_npy' needs two index files, presynaptic and postsynaptic: " +
                           std::string(usage));
    return false;
  }
  if (!spec.delayFile.empty() && (pm.delay != 0 || pm.delayExpr)) {
    diags.error(c.loc, "projection '" + p.name +
                           "' sets its delay twice: by 'delay = ...' and by a delay file");
    return false;
  }
  return true;
}

/// What on_pre/on_post see: the synapse's names, then the postsynaptic
/// neuron's state, inputs and parameters, then `name_pre` and `name_post`
/// for either neuron's.
Scope Sema::synapseEventScope(const SynapseDecl &syn, const ProjectionModel &pm,
                              const NetworkModel &model) {
  Scope scope = synapseScopes[syn.name];
  for (const Declaration &d : syn.state)
    if (auto it = scope.find(d.name); it != scope.end())
      it->second.unitText = displayUnit(d, d.value.get());
  auto add = [&](const NeuronDecl &n, bool pre, const std::string &suffix) {
    auto put = [&](const std::string &name, Resolution kind, const Dimension &dim,
                   const SourceLoc &loc, const std::string &unitText) {
      Symbol sym{kind, dim, loc};
      sym.variable = name;
      sym.unitText = unitText;
      scope.emplace(name + suffix, sym); // never replaces the synapse's own names
    };
    for (const Declaration &d : n.state)
      put(d.name, pre ? Resolution::PreState : Resolution::PostState, d.unit.dim, d.loc,
          displayUnit(d, d.value.get()));
    // Outputs are stored per neuron like state (a rate unit's r = f(x)).
    for (const Declaration &d : n.outputs)
      put(d.name, pre ? Resolution::PreState : Resolution::PostState, d.unit.dim, d.loc,
          displayUnit(d, d.value.get()));
    for (const InputDecl &in : n.inputs)
      put(in.name, pre ? Resolution::PreInput : Resolution::PostInput, in.unit.dim, in.loc,
          in.unitText);
    for (const Declaration &d : n.parameters)
      put(d.name, pre ? Resolution::PreParameter : Resolution::PostParameter, d.unit.dim, d.loc,
          displayUnit(d, d.value.get()));
  };
  const NeuronDecl &preNeuron = *model.populations[pm.pre].neuron;
  const NeuronDecl &postNeuron = *model.populations[pm.post].neuron;
  add(postNeuron, false, "");
  add(postNeuron, false, "_post");
  add(preNeuron, true, "_pre");
  return scope;
}

/// The assignments of on_pre (`onPost` false) or on_post.
void Sema::checkEffects(std::vector<Assignment> &block, const Scope &scope, bool onPost) {
  const char *where = onPost ? "on_post" : "on_pre";
  for (Assignment &a : block) {
    auto it = scope.find(a.variable);
    if (it == scope.end()) {
      std::vector<std::string> names;
      for (auto &kv : scope)
        names.push_back(kv.first);
      diags.error(a.loc,
                  "unknown name '" + a.variable + "' in " + where + didYouMean(a.variable, names));
      continue;
    }
    const Symbol &target = it->second;
    if (target.poisoned)
      continue;
    switch (target.kind) {
    case Resolution::SynapseState:
      a.target = Assignment::AssignTarget::SynapseState;
      break;
    case Resolution::PostState:
    case Resolution::PostInput:
      if (onPost) {
        diags.error(a.loc, "on_post can change only the synapse's own state for now, not " +
                               std::string(kindName(target.kind)) + " '" + target.variable + "'");
        continue;
      }
      if (a.op != "+=" && a.op != "-=") {
        diags.error(
            a.loc,
            "an effect on the postsynaptic " +
                std::string(target.kind == Resolution::PostInput ? "input" : "variable") + " '" +
                target.variable + "' must be '+=' or '-=', not '" + a.op +
                "', so that spikes arriving in the same step have the same effect in any order");
        continue;
      }
      a.target = target.kind == Resolution::PostState ? Assignment::AssignTarget::PostState
                                                      : Assignment::AssignTarget::PostInput;
      a.targetVariable = target.variable;
      break;
    default:
      diags.error(a.loc, std::string("cannot assign to ") + kindName(target.kind) + " '" +
                             a.variable + "' in " + where +
                             "; only the synapse's state and the postsynaptic neuron's state and "
                             "inputs can change");
      diags.note(target.loc, "'" + (target.variable.empty() ? a.variable : target.variable) +
                                 "' is declared here");
      continue;
    }
    if (!checkExpr(*a.value, ExprScope::synapseEvent(scope)))
      continue;
    if (a.op == "*=" || a.op == "/=") {
      expectDim(*a.value, Dimension::none(), "factor in '" + a.op + "'");
    } else if (a.value->isBool || a.value->dim != target.dim) {
      // Both units: the target's as declared, the value's as its dimension.
      std::string targetUnit = target.unitText.empty() || target.unitText == target.dim.str()
                                   ? target.dim.str()
                                   : target.unitText + " (" + target.dim.str() + ")";
      diags.error(a.value->getLoc(), "value assigned to '" + a.variable + "' " +
                                         (a.value->isBool ? std::string("is a condition")
                                                          : "has dimension " + a.value->dim.str()) +
                                         ", but '" + a.variable + "' is in " + targetUnit +
                                         unitHint(*a.value, target.dim));
    }
  }
}

/// `summed { I = expr }`: each target an input of the postsynaptic neuron,
/// named once, in its unit; the sum replaces no other effect on it.
void Sema::checkSummed(SynapseDecl &syn, const Scope &scope) {
  std::map<std::string, SourceLoc> seen;
  for (Assignment &a : syn.summed) {
    auto it = scope.find(a.variable);
    if (it == scope.end()) {
      std::vector<std::string> names;
      for (auto &kv : scope)
        if (kv.second.kind == Resolution::PostInput)
          names.push_back(kv.first);
      diags.error(a.loc, "unknown name '" + a.variable +
                             "' in summed; its targets are inputs of the postsynaptic neuron" +
                             didYouMean(a.variable, names));
      continue;
    }
    const Symbol &target = it->second;
    if (target.poisoned)
      continue;
    if (target.kind != Resolution::PostInput) {
      bool ofPost =
          target.kind == Resolution::PostState || target.kind == Resolution::PostParameter;
      diags.error(a.loc, "summed adds to an input of the postsynaptic neuron, not to " +
                             std::string(kindName(target.kind)) + " '" + a.variable + "'" +
                             (ofPost ? "; declare '" + target.variable +
                                           "' as an 'input' of the neuron and use it in its "
                                           "equations"
                                     : std::string()));
      diags.note(target.loc, "'" + (target.variable.empty() ? a.variable : target.variable) +
                                 "' is declared here");
      continue;
    }
    if (a.op != "=") {
      diags.error(a.loc, "a summed definition is written 'name = value' (the value is summed "
                         "over the synapses), not '" +
                             a.op + "'");
      continue;
    }
    if (auto prev = seen.find(target.variable); prev != seen.end()) {
      diags.error(a.loc, "input '" + target.variable + "' is summed twice in synapse '" + syn.name +
                             "'; write one definition with the terms added");
      diags.note(prev->second, "first defined here");
      continue;
    }
    seen[target.variable] = a.loc;
    for (const Assignment &effect : syn.onPre)
      if (effect.targetVariable == target.variable &&
          effect.target == Assignment::AssignTarget::PostInput) {
        diags.error(a.loc, "input '" + target.variable +
                               "' is both summed and changed by on_pre in synapse '" + syn.name +
                               "'; give each its own input");
        diags.note(effect.loc, "on_pre changes it here");
      }
    a.target = Assignment::AssignTarget::PostInput;
    a.targetVariable = target.variable;
    if (!checkExpr(*a.value, ExprScope::synapseEvent(scope)))
      continue;
    if (a.value->isBool || a.value->dim != target.dim) {
      std::string targetUnit = target.unitText.empty() || target.unitText == target.dim.str()
                                   ? target.dim.str()
                                   : target.unitText + " (" + target.dim.str() + ")";
      diags.error(a.value->getLoc(), "value summed into '" + a.variable + "' " +
                                         (a.value->isBool ? std::string("is a condition")
                                                          : "has dimension " + a.value->dim.str()) +
                                         ", but '" + a.variable + "' is in " + targetUnit +
                                         unitHint(*a.value, target.dim));
    }
  }
}

/// `dynamics { x' = ... }` of a synapse, against this projection's
/// neurons: each an ODE of one of its state variables, in that variable's
/// units per time, reading what on_pre reads; no random draws (the noise of
/// neurons' equations is not defined per synapse) and no `unless
/// refractory` (a synapse is never refractory).
void Sema::checkSynapseDynamics(SynapseDecl &syn, const Scope &scope) {
  std::map<std::string, SourceLoc> seen;
  for (OdeDecl &ode : syn.odes) {
    auto it = scope.find(ode.variable);
    if (it == scope.end() || it->second.kind != Resolution::SynapseState) {
      std::vector<std::string> names;
      for (const Declaration &d : syn.state)
        names.push_back(d.name);
      diags.error(ode.loc, "'" + ode.variable + "' is not a state variable of synapse '" +
                               syn.name + "'; a synapse's dynamics integrate its own state" +
                               didYouMean(ode.variable, names));
      continue;
    }
    if (auto prev = seen.find(ode.variable); prev != seen.end()) {
      diags.error(ode.loc, "second equation for '" + ode.variable + "'");
      diags.note(prev->second, "first equation is here");
      continue;
    }
    seen[ode.variable] = ode.loc;
    if (ode.unlessRefractory) {
      diags.error(ode.loc,
                  "'unless refractory' on '" + ode.variable + "': a synapse is never refractory");
      continue;
    }
    if (!checkExpr(*ode.rhs, ExprScope::synapseEvent(scope)))
      continue;
    bool random = false;
    forEachSubExpression(*ode.rhs, [&](const Expr &sub) {
      if (auto *call = dyn_cast<CallExpr>(&sub); call && isRandomDraw(*call) && !random) {
        random = true;
        diags.error(call->getLoc(), "a synapse's dynamics cannot draw random numbers");
      }
    });
    Dimension want = it->second.dim / Dimension::time();
    if (!random && (ode.rhs->isBool || ode.rhs->dim != want))
      diags.error(ode.rhs->getLoc(),
                  "right-hand side of " + ode.variable + "' has dimension " +
                      (ode.rhs->isBool ? std::string("of a condition") : ode.rhs->dim.str()) +
                      ", expected " + want.str() + " (units of " + ode.variable + " per time)");
  }
}

/// A postsynaptic input is summed by projections or changed by the spikes
/// of on_pre, not both: the first is a coupling held for the step, the
/// second a pulse, and one input meaning both would hide which is which.
void Sema::checkSummedTargets(const NetworkModel &model) {
  for (const ProjectionModel &summing : model.projections)
    for (const Assignment &a : summing.synapse->summed)
      for (const ProjectionModel &other : model.projections) {
        if (other.post != summing.post || &other == &summing)
          continue;
        for (const Assignment &effect : other.synapse->onPre)
          if (effect.target == Assignment::AssignTarget::PostInput &&
              effect.targetVariable == a.targetVariable) {
            diags.error(a.loc, "input '" + a.targetVariable + "' of population '" +
                                   model.populations[summing.post].decl->name +
                                   "' is summed by projection '" + summing.decl->name +
                                   "' and changed by on_pre of projection '" + other.decl->name +
                                   "'; give each its own input");
            diags.note(effect.loc, "on_pre changes it here");
          }
      }
}

/// The projection's rand()/randn() sites, in the order ProjectionModel
/// documents: each is a stream of the generator.
void Sema::checkProjectionRandomSites(const ProjectionDecl &p, ProjectionModel &pm) {
  unsigned sites = 0;
  auto count = [&](const Expr &e) {
    forEachSubExpression(e, [&](const Expr &sub) {
      if (auto *c = dyn_cast<CallExpr>(&sub); c && isRandomDraw(*c))
        ++sites;
    });
  };
  for (const Declaration &d : pm.synapse->state)
    if (auto it = pm.stateInit.find(d.name); it != pm.stateInit.end())
      count(*it->second);
  if (pm.delayExpr)
    count(*pm.delayExpr);
  for (auto *block : {&pm.synapse->onPre, &pm.synapse->onPost, &pm.synapse->summed})
    for (const Assignment &a : *block)
      count(*a.value);
  pm.randomSites = sites;
  if (sites > kMaxRandomDraws)
    diags.error(p.loc, "projection '" + p.name + "' has " + std::to_string(sites) +
                           " random draws (rand() and randn() in its initial values, delay, "
                           "on_pre, on_post and summed), more than " +
                           std::to_string(kMaxRandomDraws));
}

//===----------------------------------------------------------------------===//
// Monitors
//===----------------------------------------------------------------------===//

void Sema::checkRecordState(RecordStateDecl &r, const NetworkDecl &net, NetworkModel &model) {
  int64_t every = 1;
  if (r.every) {
    Scope empty;
    if (!checkExpr(*r.every, ExprScope::shared(empty)) ||
        !expectDim(*r.every, Dimension::none(), "'every'"))
      return;
    auto v = evaluate(*r.every, empty);
    if (!v || !(*v >= 1) || *v != std::floor(*v) || *v > static_cast<double>(kMaxSteps)) {
      diags.error(r.every->getLoc(), "'every' must be a positive whole number of steps" +
                                         (v ? " (it is " + formatNumber(*v) + ")" : std::string()));
      return;
    }
    every = static_cast<int64_t>(*v);
  }
  // `record w(C)` of a projection C: its synapses.
  auto projection =
      std::find_if(model.projections.begin(), model.projections.end(),
                   [&](const ProjectionModel &pm) { return pm.decl->name == r.target.population; });
  if (projection != model.projections.end()) {
    checkRecordSynapse(r, static_cast<int>(projection - model.projections.begin()), every, model);
    return;
  }
  if (std::any_of(net.projections.begin(), net.projections.end(),
                  [&](const ProjectionDecl &p) { return p.name == r.target.population; }))
    return; // a projection that failed was reported already
  auto range = resolveRange(r.target, net, model);
  if (!range)
    return;
  const PopulationModel &pop = model.populations[range->population];
  const NeuronDecl &neuron = *pop.neuron;
  bool isState = std::any_of(neuron.state.begin(), neuron.state.end(),
                             [&](const Declaration &d) { return d.name == r.var; });
  if (!isState) {
    std::vector<std::string> names;
    for (auto &d : neuron.state)
      names.push_back(d.name);
    const char *kind = nullptr;
    for (auto *group : {&neuron.parameters, &neuron.subExpressions, &neuron.outputs})
      for (auto &d : *group)
        if (d.name == r.var)
          kind = group == &neuron.parameters       ? "a parameter"
                 : group == &neuron.subExpressions ? "a sub-expression"
                                                   : "an output";
    for (auto &in : neuron.inputs)
      if (in.name == r.var)
        kind = "an input";
    if (kind)
      diags.error(r.loc, "'" + r.var + "' is " + kind + " of neuron '" + neuron.name +
                             "'; only state variables can be recorded for now");
    else
      diags.error(r.loc, "neuron '" + neuron.name + "' of population '" + pop.decl->name +
                             "' has no state variable '" + r.var + "' to record" +
                             didYouMean(r.var, names));
    return;
  }
  const std::string &owner = r.target.whole ? r.target.population : pop.decl->name;
  model.stateMonitors.push_back(
      {range->population, r.var, owner + "_" + r.var, range->begin, range->end, every, r.loc});
}

/// The synapses a projection has whatever the seed, or -1 when the rule
/// draws their number (or reads it from files).
static int64_t fixedSynapseCount(const ProjectionModel &pm) {
  const int64_t pre = pm.preEnd - pm.preBegin, post = pm.postEnd - pm.postBegin;
  const bool overlap = pm.pre == pm.post && pm.preBegin < pm.postEnd && pm.postBegin < pm.preEnd;
  switch (pm.connect.rule) {
  case ConnectSpec::Rule::AllToAll:
    return pm.connect.autapses || !overlap ? pre * post : -1;
  case ConnectSpec::Rule::OneToOne:
    return pre;
  case ConnectSpec::Rule::FixedInDegree:
    return post * pm.connect.n;
  case ConnectSpec::Rule::FixedOutDegree:
    return pre * pm.connect.n;
  case ConnectSpec::Rule::FixedTotal:
    return pm.connect.n;
  default:
    return -1;
  }
}

void Sema::checkRecordSynapse(RecordStateDecl &r, int projection, int64_t every,
                              NetworkModel &model) {
  const ProjectionModel &pm = model.projections[static_cast<size_t>(projection)];
  const SynapseDecl &synapse = *pm.synapse;
  const std::string &name = pm.decl->name;
  bool isState = std::any_of(synapse.state.begin(), synapse.state.end(),
                             [&](const Declaration &d) { return d.name == r.var; });
  if (!isState) {
    std::vector<std::string> names;
    for (auto &d : synapse.state)
      names.push_back(d.name);
    bool isParameter = std::any_of(synapse.parameters.begin(), synapse.parameters.end(),
                                   [&](const Declaration &d) { return d.name == r.var; });
    if (isParameter)
      diags.error(r.loc, "'" + r.var + "' is a shared parameter of synapse '" + synapse.name +
                             "' (one value for all of projection '" + name +
                             "'); only per-synapse state variables can be recorded");
    else
      diags.error(r.loc,
                  "synapse '" + synapse.name + "' of projection '" + name +
                      "' has no per-synapse variable '" + r.var + "' to record" +
                      (names.empty() ? std::string("; it has none") : didYouMean(r.var, names)));
    return;
  }
  int64_t begin = 0, end = -1;
  if (!r.target.whole) {
    const std::string text =
        name + "[" + std::to_string(r.target.begin) + ":" + std::to_string(r.target.end) + "]";
    if (r.target.begin < 0 || r.target.end < 0) {
      diags.error(r.target.rangeLoc, "index out of range in '" + name + "[...]'");
      return;
    }
    if (r.target.begin >= r.target.end) {
      diags.error(r.target.rangeLoc, "the range " + text + " is " +
                                         (r.target.begin == r.target.end ? "empty" : "reversed") +
                                         "; it means synapses a to b-1 of [a:b], with a < b");
      return;
    }
    const int64_t count = fixedSynapseCount(pm);
    if (count >= 0 && r.target.end > count) {
      diags.error(r.target.rangeLoc, "the range " + text + " is out of bounds: projection '" +
                                         name + "' has " + std::to_string(count) + " synapses");
      return;
    }
    begin = r.target.begin;
    end = r.target.end;
  }
  model.synapseMonitors.push_back(
      {projection, r.var, name + "_" + r.var, begin, end, every, r.loc});
}

void Sema::checkRecordRate(const RecordRateDecl &r, const NetworkDecl &net, NetworkModel &model) {
  auto range = resolveRange(r.target, net, model);
  if (!range)
    return;
  const PopulationModel &pop = model.populations[range->population];
  if (!r.target.whole || pop.decl->name != r.target.population) {
    diags.error(r.target.loc, "'record rate' takes a whole population, not a group or range");
    return;
  }
  if (pop.spikeGenerator) {
    // Its spikes are the file's, known before the run: record them instead.
    diags.error(r.loc, "'record rate' of spike generator '" + pop.decl->name +
                           "' is not supported; record its spikes (record spikes(" +
                           pop.decl->name + ")) or compute the rate from its files");
    return;
  }
  model.rateMonitors.push_back({range->population, pop.decl->name + "_rate", r.loc});
}
