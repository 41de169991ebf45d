//===- SemaNetwork.cpp - Checking a network, and Sema's entry points ------===//
//
// A network is checked against the neurons already checked: each population
// gets its model's parameters with the population's values, each stimulus
// its input, and the simulate clause its run length and options. The result
// is the NetworkModel that MLIRGen and the CPU target read.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace ncl;
using namespace ncl::ast;
using namespace ncl::sema;
using llvm::dyn_cast;
using units::Dimension;

int PopulationModel::parameterIndex(const std::string &name) const {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].name == name)
      return static_cast<int>(i);
  return -1;
}

//===----------------------------------------------------------------------===//
// Populations
//===----------------------------------------------------------------------===//

/// The model of a spike generator's neurons: nothing to integrate, no
/// parameters, no threshold; the runtime supplies its spikes.
static const NeuronDecl &spikeGeneratorNeuron() {
  static const NeuronDecl empty = [] {
    NeuronDecl n;
    n.name = "spike_generator";
    return n;
  }();
  return empty;
}

void Sema::checkSpikeGenerator(PopulationDecl &pop, NetworkModel &model) {
  const FileSource &source = *pop.source;
  if (source.function != "spike_generator") {
    diags.error(source.loc, "only 'spike_generator' reads a population's spikes from files; '" +
                                source.function + "' is not a source");
    return;
  }
  if (pop.size <= 0 || pop.size > (int64_t(1) << 40)) {
    diags.error(pop.sizeLoc, "population size must be between 1 and 2^40");
    return;
  }
  bool ok = true;
  if (source.files.size() != 2) {
    diags.error(source.loc, "'spike_generator' takes two files, the spike times (seconds) and "
                            "the neuron indices: spike_generator[n](\"times.npy\", "
                            "\"indices.npy\")");
    ok = false;
  }
  for (const ConnectArg &arg : source.args) {
    diags.error(arg.loc, arg.name.empty() ? "'spike_generator' takes only its two file names"
                                          : "'spike_generator' has no option '" + arg.name + "'");
    ok = false;
  }
  for (size_t k = 0; k < source.files.size(); ++k)
    if (source.files[k].empty()) {
      diags.error(source.fileLocs[k], "empty file name");
      ok = false;
    }
  auto noValues = [&](const SourceLoc &at) {
    diags.error(at, "a spike generator has no parameters, inputs or method to set");
    ok = false;
  };
  for (const Declaration &o : pop.overrides)
    noValues(o.loc);
  for (const InputSeriesDecl &s : pop.series)
    noValues(s.loc);
  for (const KwtaDecl &k : pop.kwta) {
    diags.error(k.loc, "k-WTA needs neurons whose values it can compare; spike generator '" +
                           pop.name + "' has none");
    ok = false;
  }
  if (!pop.method.empty())
    noValues(pop.methodLoc);
  if (!ok)
    return;
  PopulationModel pm;
  pm.decl = &pop;
  pm.neuron = &spikeGeneratorNeuron();
  pm.spikeGenerator = true;
  pm.spikeTimesFile = source.files[0];
  pm.spikeIndicesFile = source.files[1];
  model.populations.push_back(std::move(pm));
}

/// `I = timed_array("drive.npy", dt = 1 ms, scale = 1 nA)`: the input
/// follows the file's series and is no longer a settable value.
void Sema::checkInputSeries(PopulationDecl &pop, PopulationModel &pm) {
  Scope empty;
  for (InputSeriesDecl &decl : pop.series) {
    const FileSource &source = decl.source;
    if (source.function != "timed_array") {
      diags.error(source.loc, "unknown input source '" + source.function + "'" +
                                  didYouMean(source.function, {"timed_array"}) +
                                  "; an input can follow timed_array(\"file.npy\", dt = ...)");
      continue;
    }
    int idx = pm.parameterIndex(decl.input);
    if (idx < 0 || !pm.parameters[static_cast<size_t>(idx)].isInput) {
      std::vector<std::string> inputs;
      for (const InputDecl &in : pm.neuron->inputs)
        inputs.push_back(in.name);
      bool taken = std::any_of(pm.series.begin(), pm.series.end(),
                               [&](const InputSeries &s) { return s.input == decl.input; });
      bool parameter =
          idx >= 0 || std::any_of(pm.neuron->parameters.begin(), pm.neuron->parameters.end(),
                                  [&](const Declaration &p) { return p.name == decl.input; });
      diags.error(decl.loc, taken ? "input '" + decl.input + "' follows two timed arrays"
                            : parameter
                                ? "'" + decl.input + "' is a parameter of '" + pm.neuron->name +
                                      "'; only inputs can follow a timed array"
                                : "neuron '" + pm.neuron->name + "' has no input '" + decl.input +
                                      "'" + didYouMean(decl.input, inputs) +
                                      "; only inputs can follow a timed array");
      continue;
    }
    const ParameterValue &input = pm.parameters[static_cast<size_t>(idx)];
    InputSeries series;
    series.input = decl.input;
    bool ok = true;
    if (source.files.size() != 1) {
      diags.error(source.loc, "'timed_array' takes one file: timed_array(\"values.npy\", "
                              "dt = 1 ms)");
      ok = false;
    } else if (source.files[0].empty()) {
      diags.error(source.fileLocs[0], "empty file name");
      ok = false;
    } else {
      series.file = source.files[0];
    }
    bool hasInterval = false, hasScale = false;
    for (const ConnectArg &arg : source.args) {
      if (arg.name != "dt" && arg.name != "scale") {
        diags.error(arg.loc, arg.name.empty()
                                 ? "'timed_array' takes its file, then 'dt' and 'scale' by name"
                                 : "'timed_array' has no option '" + arg.name + "'" +
                                       didYouMean(arg.name, {"dt", "scale"}));
        ok = false;
        continue;
      }
      bool isInterval = arg.name == "dt";
      Dimension want = isInterval ? Dimension::time() : input.unit.dim;
      if (!checkExpr(*arg.value, ExprScope::shared(empty)) ||
          !expectDim(*arg.value, want, "'" + arg.name + "' of timed_array")) {
        ok = false;
        continue;
      }
      std::optional<double> v = evaluate(*arg.value, empty);
      if (!v) {
        ok = false;
        continue;
      }
      if (isInterval) {
        hasInterval = true;
        if (!(*v > 0) || !std::isfinite(*v)) {
          diags.error(arg.loc, "the interval 'dt' of timed_array must be a positive time");
          ok = false;
        }
        series.interval = *v;
      } else {
        hasScale = true;
        if (!std::isfinite(*v)) {
          diags.error(arg.loc, "the 'scale' of timed_array must be finite");
          ok = false;
        }
        series.scale = *v;
      }
    }
    if (!hasInterval && ok) {
      diags.error(source.loc, "'timed_array' needs the time between its samples: "
                              "timed_array(\"" +
                                  series.file + "\", dt = 1 ms)");
      ok = false;
    }
    if (!hasScale && !input.unit.dim.isDimensionless() && ok) {
      diags.error(source.loc,
                  "the file holds plain numbers: give the unit of input '" + decl.input +
                      "' with 'scale', e.g. scale = 1 " +
                      (input.unitText.empty() ? std::string("<unit>") : input.unitText));
      ok = false;
    }
    if (!ok)
      continue;
    pm.parameters.erase(pm.parameters.begin() + idx);
    pm.series.push_back(std::move(series));
  }
}

void Sema::checkPopulation(PopulationDecl &pop, Module &module, NetworkModel &model) {
  if (pop.source) {
    checkSpikeGenerator(pop, model);
    return;
  }
  NeuronDecl *neuron = nullptr;
  std::vector<std::string> neuronNames;
  for (auto &n : module.neurons) {
    neuronNames.push_back(n.name);
    if (n.name == pop.neuron)
      neuron = &n;
  }
  if (!neuron && pop.neuron == "spike_generator") {
    diags.error(pop.neuronLoc, "a spike generator reads its spikes from two files: "
                               "spike_generator[n](\"times.npy\", \"indices.npy\")");
    return;
  }
  if (!neuron) {
    diags.error(pop.neuronLoc,
                "unknown neuron model '" + pop.neuron + "'" + didYouMean(pop.neuron, neuronNames));
    return;
  }
  if (pop.size <= 0 || pop.size > (int64_t(1) << 40)) {
    diags.error(pop.sizeLoc, "population size must be between 1 and 2^40");
    return;
  }
  PopulationModel pm;
  pm.decl = &pop;
  pm.neuron = neuron;
  pm.method = neuron->method;
  pm.substeps = neuron->substeps;
  if (!pop.method.empty()) {
    if (pop.secondMethodLoc.isValid()) {
      diags.error(pop.methodLoc,
                  "population '" + pop.name + "' chooses its integration method twice");
      diags.note(pop.secondMethodLoc, "first chosen here");
    }
    checkMethod(pop.method, pop.substeps, pop.methodLoc);
    if (neuron->odes.empty())
      diags.error(pop.methodLoc, "population '" + pop.name +
                                     "' chooses an integration method, "
                                     "but neuron '" +
                                     neuron->name + "' has no equations x' = ... to integrate");
    pm.method = pop.method;
    pm.substeps = pop.substeps;
  }
  const Scope &scope = neuronScopes[neuron->name];
  // Derived parameters are recomputed from the others in the kernels,
  // unless the population sets them (then they are plain parameters).
  for (auto &p : neuron->parameters) {
    bool overridden = std::any_of(pop.overrides.begin(), pop.overrides.end(),
                                  [&](const Declaration &o) { return o.name == p.name; });
    if (auto it = scope.find(p.name);
        it != scope.end() && !p.perNeuron && (!p.derived || overridden))
      pm.parameters.push_back(
          {p.name, displayUnit(p, p.value.get()), p.unit, it->second.value, false});
  }
  for (auto &in : neuron->inputs)
    if (auto it = scope.find(in.name); it != scope.end())
      pm.parameters.push_back({in.name, in.unitText, in.unit, it->second.value, true});
  checkInputSeries(pop, pm);
  // What each derived parameter follows, through other derived ones, so
  // the runtime can say what to set instead.
  for (auto &p : neuron->parameters) {
    if (!p.derived || pm.parameterIndex(p.name) >= 0)
      continue;
    DerivedParameter derived{p.name, {}};
    std::set<std::string> reads;
    std::function<void(const Expr &)> collect = [&](const Expr &e) {
      if (auto *name = dyn_cast<NameExpr>(&e)) {
        if (pm.parameterIndex(name->name) >= 0) {
          reads.insert(name->name);
          return;
        }
        for (auto &q : neuron->parameters)
          if (q.name == name->name && q.derived)
            collect(*q.value);
      }
      forEachOperand(e, collect);
    };
    collect(*p.value);
    for (auto &q : pm.parameters)
      if (reads.count(q.name))
        derived.sources.push_back(q.name);
    pm.derived.push_back(std::move(derived));
  }
  checkOverrides(pop, pm);
  checkPopulationRefractory(pop, pm);
  checkKwta(pop, pm);
  model.populations.push_back(std::move(pm));
}

/// `population P = N[n] { name = value }`: constants that replace the
/// neuron's parameters and inputs (or per-neuron initializers).
void Sema::checkOverrides(PopulationDecl &pop, PopulationModel &pm) {
  const NeuronDecl *neuron = pm.neuron;
  Scope empty;
  for (auto &o : pop.overrides) {
    int idx = pm.parameterIndex(o.name);
    const Declaration *perNeuron = nullptr;
    for (auto &p : neuron->parameters)
      if (p.perNeuron && p.name == o.name)
        perNeuron = &p;
    if (std::any_of(pm.series.begin(), pm.series.end(),
                    [&](const InputSeries &series) { return series.input == o.name; })) {
      diags.error(o.loc, "input '" + o.name +
                             "' follows a timed array in this population and cannot also be set "
                             "to a constant");
      continue;
    }
    if (perNeuron) {
      // The population gives every neuron this constant instead.
      if (checkExpr(*o.value, ExprScope::shared(empty)) &&
          expectDim(*o.value, perNeuron->unit.dim, "value of '" + o.name + "'"))
        pm.perNeuronOverrides[o.name] = o.value.get();
      continue;
    }
    if (idx < 0) {
      std::vector<std::string> names;
      for (auto &p : pm.parameters)
        names.push_back(p.name);
      bool isState = false;
      for (auto &s : neuron->state)
        isState |= s.name == o.name;
      diags.error(o.loc, isState ? "'" + o.name + "' is a state variable of '" + neuron->name +
                                       "'; only parameters and inputs can be set per population"
                                 : "neuron '" + neuron->name + "' has no parameter or input '" +
                                       o.name + "'" + didYouMean(o.name, names));
      continue;
    }
    if (!checkExpr(*o.value, ExprScope::shared(empty)))
      continue;
    if (!expectDim(*o.value, pm.parameters[idx].unit.dim, "value of '" + o.name + "'"))
      continue;
    if (auto v = evaluate(*o.value, empty))
      pm.parameters[idx].value = *v;
  }
}

/// The neuron's refractory period with the population's values.
void Sema::checkPopulationRefractory(const PopulationDecl &pop, PopulationModel &pm) {
  const NeuronDecl *neuron = pm.neuron;
  if (!neuron->refractory || neuron->refractoryIsCondition)
    return;
  const Scope &scope = neuronScopes[neuron->name];
  // Unless the neuron's own period was already reported.
  std::optional<double> ownPeriod = evaluate(*neuron->refractory, scope);
  bool reported = ownPeriod && !(*ownPeriod >= 0);
  if (!reported) {
    // Applied one at a time, so the message points at the override
    // that makes the period wrong.
    Scope overridden = scope;
    for (const Declaration &o : pop.overrides) {
      int idx = pm.parameterIndex(o.name);
      auto it = overridden.find(o.name);
      if (idx < 0 || it == overridden.end())
        continue;
      it->second.value = pm.parameters[idx].value;
      if (checkRefractoryPeriod(*neuron->refractory, overridden, o.value->getLoc(),
                                " of population '" + pop.name + "'"))
        break;
    }
  }
  // A parameter that is the period itself: the runtime refuses a
  // negative value for it too (--set, ncl_set_param).
  if (auto *name = dyn_cast<NameExpr>(neuron->refractory.get()))
    if (int idx = pm.parameterIndex(name->name); idx >= 0)
      pm.parameters[idx].minValue = 0;
}

//===----------------------------------------------------------------------===//
// Stimuli and the simulate clause
//===----------------------------------------------------------------------===//

void Sema::checkStimulus(Stimulus &st, const NetworkDecl &net, NetworkModel &model) {
  auto pm = std::find_if(model.populations.begin(), model.populations.end(),
                         [&](const PopulationModel &p) { return p.decl->name == st.population; });
  if (pm == model.populations.end()) {
    std::vector<std::string> names;
    for (auto &p : net.populations)
      names.push_back(p.name);
    diags.error(st.loc,
                "unknown population '" + st.population + "'" + didYouMean(st.population, names));
    return;
  }
  const InputDecl *input = nullptr;
  for (auto &in : pm->neuron->inputs)
    if (in.name == st.input)
      input = &in;
  if (!input) {
    std::vector<std::string> names;
    for (auto &in : pm->neuron->inputs)
      names.push_back(in.name);
    diags.error(st.inputLoc,
                "neuron '" + pm->neuron->name + "' has no input '" + st.input + "'" +
                    didYouMean(st.input, names) +
                    (names.empty() ? "; declare one with 'input " + st.input + " : ...'" : ""));
    return;
  }
  // A stimulus is outside the neuron: it sees time, the neuron's index and
  // random draws, not the neuron's state or parameters.
  Scope empty;
  bool ok = checkExpr(*st.value, ExprScope::everyStep(empty));
  unsigned draws = 0;
  if (ok)
    countRandomDraws(*st.value, draws);
  ok = ok && draws <= kMaxRandomDraws &&
       expectDim(*st.value, input->unit.dim, "stimulus of input '" + st.input + "'");
  if (ok)
    pm->stimuli[st.input].push_back(st.value.get());
}

unsigned Sema::randomStreams(const PopulationModel &pop) {
  unsigned streams = 0;
  forEachExpr(*pop.neuron,
              [&](const Expr &e, const NeuronSite &) { countRandomDraws(e, streams); });
  std::set<std::string> noises;
  for (const OdeDecl &ode : pop.neuron->odes)
    forEachSubExpression(*ode.rhs, [&](const Expr &sub) {
      if (auto *n = dyn_cast<NameExpr>(&sub); n && n->resolution == NameExpr::Resolution::Noise)
        noises.insert(n->name == "xi" ? "xi:" + ode.variable : n->name);
    });
  streams += static_cast<unsigned>(noises.size());
  for (auto &kv : pop.stimuli)
    for (const Expr *e : kv.second)
      forEachSubExpression(*e, [&](const Expr &sub) {
        if (auto *c = dyn_cast<CallExpr>(&sub); c && isRandomDraw(*c))
          ++streams;
      });
  return streams;
}

/// A population's stream is its index in the network (6 bits) above its own
/// site (10 bits): more would make two populations draw the same numbers.
void Sema::checkRandomStreams(const NetworkModel &model) {
  for (size_t index = 0; index < model.populations.size(); ++index) {
    const PopulationModel &pop = model.populations[index];
    unsigned streams = randomStreams(pop);
    if (streams == 0)
      continue;
    if (streams > kMaxRandomDraws) {
      diags.error(pop.decl->loc, "population '" + pop.decl->name + "' draws from " +
                                     std::to_string(streams) + " random streams (its neuron's " +
                                     "rand() calls, white noises and stimuli), more than " +
                                     std::to_string(kMaxRandomDraws));
      continue;
    }
    if (index >= kMaxRandomPopulations) {
      diags.error(pop.decl->loc, "population '" + pop.decl->name + "' draws random numbers, but " +
                                     "only the first " + std::to_string(kMaxRandomPopulations) +
                                     " populations of a network may");
      return;
    }
  }
}

/// Why the synapses of `model`'s projections cannot be shared by batch
/// members, naming the first projection that needs one copy per member:
/// one whose spikes or steps change per-synapse state (on_pre assignments
/// to it, on_post, synapse dynamics), whose synapses draw random numbers
/// every step, or whose delays differ per synapse (their arrivals are
/// queued by synapse, not by member). "" when every projection is shared.
static std::string batchRefusalOf(const NetworkModel &model) {
  auto draws = [](const std::vector<Assignment> &block) {
    bool found = false;
    for (const Assignment &a : block)
      forEachSubExpression(*a.value, [&](const Expr &e) {
        auto *call = dyn_cast<CallExpr>(&e);
        found |= call &&
                 (call->callee == "rand" || call->callee == "randn" || call->callee == "poisson");
      });
    return found;
  };
  for (const ProjectionModel &q : model.projections) {
    const SynapseDecl &s = *q.synapse;
    std::string why;
    for (const Assignment &a : s.onPre)
      if (a.target == Assignment::AssignTarget::SynapseState && why.empty())
        why = "its on_pre changes the synapse variable '" + a.variable + "'";
    if (why.empty() && !s.onPost.empty())
      why = "it has on_post (plasticity)";
    if (why.empty() && !s.odes.empty())
      why = "its synapses have dynamics";
    if (why.empty() && q.delayExpr)
      why = "its delays differ per synapse";
    if (why.empty() && (draws(s.onPre) || draws(s.summed)))
      why = "its on_pre or summed draws random numbers per synapse";
    if (!why.empty())
      return "projection '" + q.decl->name + "' cannot be shared by batch members: " + why +
             ", which would need one copy of its synapses per member";
  }
  return "";
}

/// `simulate T, dt = ..., seed = ..., batch = ...`.
void Sema::checkSimulate(const NetworkDecl &net, NetworkModel &model) {
  model.batchRefusal = batchRefusalOf(model);
  Scope empty;
  bool durationOk = false;
  if (net.duration && checkExpr(*net.duration, ExprScope::shared(empty)) &&
      expectDim(*net.duration, Dimension::time(), "simulated time")) {
    model.duration = *evaluate(*net.duration, empty);
    if (model.duration < 0)
      diags.error(net.duration->getLoc(), "simulated time must not be negative");
    else if (!std::isfinite(model.duration))
      diags.error(net.duration->getLoc(), "simulated time must be finite");
    else
      durationOk = true;
  }
  const SimulateOption *dtOption = nullptr;
  bool dtOk = true;
  for (auto &opt : net.options) {
    if (!checkExpr(*opt.value, ExprScope::shared(empty)))
      continue;
    auto v = evaluate(*opt.value, empty);
    if (opt.name == "dt") {
      if (expectDim(*opt.value, Dimension::time(), "dt")) {
        // A subnormal dt loses precision in t = n * dt and prints as 0.
        dtOption = &opt;
        dtOk = *v > 0 && std::isnormal(*v);
        if (!(*v > 0))
          diags.error(opt.value->getLoc(), "dt must be positive");
        else if (!dtOk)
          diags.error(opt.value->getLoc(), "dt must be a normal floating-point number (it is " +
                                               formatSeconds(*v) + ")");
        model.dt = *v;
      } else {
        dtOk = false;
      }
    } else if (opt.name == "seed") {
      if (expectDim(*opt.value, Dimension::none(), "seed")) {
        if (*v < 0 || *v != std::floor(*v) || *v > 1.8e19)
          diags.error(opt.value->getLoc(), "seed must be a non-negative integer");
        else
          model.seed = static_cast<uint64_t>(*v);
      }
    } else if (opt.name == "batch") {
      if (expectDim(*opt.value, Dimension::none(), "batch")) {
        if (!(*v >= 1) || *v != std::floor(*v) || *v > static_cast<double>(kMaxBatch))
          diags.error(opt.value->getLoc(), "batch must be a whole number from 1 to " +
                                               std::to_string(kMaxBatch) + " (it is " +
                                               formatNumber(*v) + ")");
        else
          model.batch = static_cast<int64_t>(*v);
        if (model.batch > 1 && !model.batchRefusal.empty())
          diags.error(opt.value->getLoc(),
                      "batch = " + std::to_string(model.batch) + ": " + model.batchRefusal);
      }
    } else {
      diags.error(opt.loc, "unknown simulate option '" + opt.name + "'" +
                               didYouMean(opt.name, {"dt", "seed", "batch"}));
    }
  }
  if (durationOk && dtOk)
    checkStepCount(net, model, dtOption);
}

void Sema::checkStepCount(const NetworkDecl &net, const NetworkModel &model,
                          const SimulateOption *dtOption) {
  const SourceLoc &dtLoc = dtOption ? dtOption->value->getLoc() : net.simulateLoc;
  if (model.duration > 0 && model.dt > model.duration) {
    diags.error(dtLoc, "dt (" + formatSeconds(model.dt) + ") is longer than the simulated time (" +
                           formatSeconds(model.duration) + "): the run would have no step");
    return;
  }
  double steps = std::nearbyint(model.duration / model.dt);
  if (steps > static_cast<double>(kMaxSteps))
    diags.error(net.duration->getLoc(), "simulating " + formatSeconds(model.duration) +
                                            " with dt = " + formatSeconds(model.dt) + " takes " +
                                            formatNumber(steps) + " steps; a run has at most " +
                                            std::to_string(kMaxSteps) + " (2^31 - 1)");
}

void Sema::checkOutputNames(const NetworkModel &model) {
  // ncl-run writes POP_spike_{t,i}.npy and POP_EVENT_{t,i}.npy for spikes
  // and events, STEM.npy, STEM_t.npy and STEM_i.npy for a state monitor and
  // STEM.npy, STEM_t.npy for a rate monitor: no two may write the same file.
  struct Writer {
    std::string what; ///< "population 'P'", "the monitor 'record v(E)'", ...
    SourceLoc loc;
    std::string note; ///< where the first one is declared
  };
  std::map<std::string, Writer> files;
  auto claim = [&](const Writer &w, const std::vector<std::string> &names) {
    for (const std::string &file : names) {
      auto [it, inserted] = files.emplace(file, w);
      if (inserted)
        continue;
      diags.error(w.loc, w.what + " writes '" + file + "', as " + it->second.what +
                             " does; rename one of them");
      diags.note(it->second.loc, it->second.note);
      return;
    }
  };
  for (const PopulationModel &pm : model.populations) {
    const std::string &name = pm.decl->name;
    std::string note = "population '" + name + "' is declared here";
    claim({"population '" + name + "'", pm.decl->loc, note},
          {name + "_spike_t.npy", name + "_spike_i.npy"});
    for (const EventDecl &ev : pm.neuron->events)
      claim({"population '" + name + "' (event '" + ev.name + "')", pm.decl->loc, note},
            {name + "_" + ev.name + "_t.npy", name + "_" + ev.name + "_i.npy"});
  }
  for (const StateMonitor &sm : model.stateMonitors)
    claim({"the state monitor '" + sm.name + "'", sm.loc, "that monitor is declared here"},
          {sm.name + ".npy", sm.name + "_t.npy", sm.name + "_i.npy"});
  for (const SynapseMonitor &sm : model.synapseMonitors)
    claim({"the synapse monitor '" + sm.name + "'", sm.loc, "that monitor is declared here"},
          {sm.name + ".npy", sm.name + "_t.npy", sm.name + "_i.npy"});
  for (const RateMonitor &rm : model.rateMonitors)
    claim({"the rate monitor '" + rm.name + "'", rm.loc, "that monitor is declared here"},
          {rm.name + ".npy", rm.name + "_t.npy"});
}

//===----------------------------------------------------------------------===//
// The network
//===----------------------------------------------------------------------===//

bool Sema::checkNetwork(NetworkDecl &net, Module &module, NetworkModel *result) {
  unsigned before = diags.errorCount();
  NetworkModel model;
  model.decl = &net;
  std::map<std::string, SourceLoc> popSeen;
  for (auto &pop : net.populations) {
    if (auto prev = popSeen.find(pop.name); prev != popSeen.end()) {
      diags.error(pop.loc, "redefinition of population '" + pop.name + "'");
      diags.note(prev->second, "first defined here");
      continue;
    }
    popSeen[pop.name] = pop.loc;
    checkPopulation(pop, module, model);
  }
  // Groups and projections share the populations' names.
  groupRanges.clear();
  std::map<std::string, std::pair<const char *, SourceLoc>> names;
  for (auto &pop : net.populations)
    names.emplace(pop.name, std::make_pair("population", pop.loc));
  auto claim = [&](const std::string &name, const char *kind, const SourceLoc &loc) {
    auto [it, inserted] = names.emplace(name, std::make_pair(kind, loc));
    if (inserted)
      return true;
    diags.error(loc, "redefinition of '" + name + "'");
    diags.note(it->second.second, "'" + name + "' was first defined here as a " + it->second.first);
    return false;
  };
  for (auto &g : net.groups)
    if (claim(g.name, "group", g.loc))
      checkGroup(g, net, model);
  checkSigns(net, model);
  for (auto &p : net.projections)
    if (claim(p.name, "projection", p.loc))
      checkProjection(p, module, net, model);
  checkSummedTargets(model);
  for (auto &st : net.stimuli)
    checkStimulus(st, net, model);
  for (auto &r : net.recordSpikes) {
    bool found = false;
    for (auto &pm : model.populations)
      if (pm.decl->name == r.name)
        found = pm.recordSpikes = true;
    bool declared = std::any_of(net.populations.begin(), net.populations.end(),
                                [&](const PopulationDecl &p) { return p.name == r.name; });
    bool isGroup = std::any_of(net.groups.begin(), net.groups.end(),
                               [&](const GroupDecl &g) { return g.name == r.name; });
    if (isGroup) {
      diags.error(r.loc, "'" + r.name + "' is a group; 'record spikes' takes whole populations");
      continue;
    }
    if (!found && !declared) { // a declared one that failed was reported already
      std::vector<std::string> names;
      for (auto &p : net.populations)
        names.push_back(p.name);
      diags.error(r.loc, "unknown population '" + r.name + "'" + didYouMean(r.name, names));
    }
  }
  for (auto &r : net.recordStates)
    checkRecordState(r, net, model);
  for (auto &r : net.recordRates)
    checkRecordRate(r, net, model);
  checkSimulate(net, model);
  checkOutputNames(model);
  checkRandomStreams(model);
  if (result)
    *result = std::move(model);
  return diags.errorCount() == before;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

namespace {

/// Every name the module's synapses and projections read, and the neuron
/// name it may stand for (`x_pre`, `x_post`: `x`).
std::set<std::string> namesReadBySynapses(const Module &module) {
  std::set<std::string> names;
  auto visit = [&](const Expr &e) {
    forEachSubExpression(e, [&](const Expr &sub) {
      auto *ref = dyn_cast<NameExpr>(&sub);
      if (!ref)
        return;
      names.insert(ref->name);
      for (const std::string suffix : {"_pre", "_post"})
        if (ref->name.size() > suffix.size() &&
            ref->name.compare(ref->name.size() - suffix.size(), suffix.size(), suffix) == 0)
          names.insert(ref->name.substr(0, ref->name.size() - suffix.size()));
    });
  };
  for (const SynapseDecl &s : module.synapses) {
    for (const auto *group : {&s.parameters, &s.state})
      for (const Declaration &d : *group)
        if (d.value)
          visit(*d.value);
    for (const auto *block : {&s.onPre, &s.onPost, &s.summed})
      for (const Assignment &a : *block)
        visit(*a.value);
  }
  for (const NetworkDecl &net : module.networks) {
    // A k-WTA's reset runs in the population's scope: the parameters it
    // names are used.
    for (const PopulationDecl &pop : net.populations)
      for (const KwtaDecl &k : pop.kwta)
        for (const Assignment &a : k.reset)
          visit(*a.value);
    for (const ProjectionDecl &p : net.projections) {
      for (const ConnectDecl &c : p.connects)
        if (c.condition)
          visit(*c.condition);
      for (const Declaration &d : p.overrides)
        if (d.value)
          visit(*d.value);
    }
  }
  return names;
}

bool checkNeurons(Sema &sema, Module &module, DiagnosticEngine &diags) {
  bool ok = true;
  sema.readBySynapses = namesReadBySynapses(module);
  std::map<std::string, SourceLoc> seen;
  for (auto &n : module.neurons) {
    if (auto prev = seen.find(n.name); prev != seen.end()) {
      diags.error(n.loc, "redefinition of neuron '" + n.name + "'");
      diags.note(prev->second, "first defined here");
      ok = false;
      continue;
    }
    seen[n.name] = n.loc;
    ok = sema.checkNeuron(n) && ok;
  }
  std::map<std::string, SourceLoc> synapseSeen;
  for (auto &s : module.synapses) {
    if (auto prev = synapseSeen.find(s.name); prev != synapseSeen.end()) {
      diags.error(s.loc, "redefinition of synapse '" + s.name + "'");
      diags.note(prev->second, "first defined here");
      ok = false;
      continue;
    }
    synapseSeen[s.name] = s.loc;
    ok = sema.checkSynapse(s) && ok;
  }
  return ok;
}

} // namespace

bool ncl::analyzeModule(Module &module, DiagnosticEngine &diags) {
  Sema sema(diags);
  bool ok = checkNeurons(sema, module, diags);
  for (auto &net : module.networks)
    ok = sema.checkNetwork(net, module, nullptr) && ok;
  return ok;
}

bool ncl::analyze(Module &module, DiagnosticEngine &diags, NetworkModel &result,
                  const std::string &networkName) {
  Sema sema(diags);
  bool ok = checkNeurons(sema, module, diags);
  NetworkDecl *chosen = nullptr;
  for (auto &net : module.networks)
    if (networkName.empty() || net.name == networkName)
      chosen = chosen && networkName.empty() ? chosen : &net;
  std::vector<std::string> networkNames;
  for (auto &net : module.networks)
    networkNames.push_back(net.name);
  auto listed = [](const std::vector<std::string> &names) {
    std::string text;
    for (const std::string &name : names)
      text += (text.empty() ? "" : ", ") + name;
    return text;
  };
  if (networkName.empty() && module.networks.size() > 1) {
    diags.error(module.networks[1].loc, "more than one network in the file (" +
                                            listed(networkNames) +
                                            "); choose one with --network NAME");
    for (auto &net : module.networks)
      diags.note(net.loc, "network '" + net.name + "' is defined here");
    return false;
  }
  if (!chosen && networkName.empty()) {
    std::vector<std::string> neuronNames;
    for (auto &n : module.neurons)
      neuronNames.push_back(n.name);
    diags.error("'" + module.file + "' has no network to compile" +
                (neuronNames.empty() ? std::string()
                                     : "; it defines only neurons (" + listed(neuronNames) +
                                           "): add a 'network { ... }' to compile it, or "
                                           "check it alone with --check"));
    return false;
  }
  if (!chosen) {
    diags.error("no network named '" + networkName + "' in '" + module.file + "'" +
                didYouMean(networkName, networkNames) +
                (networkNames.empty() ? " (the file has no network)"
                                      : " (its networks: " + listed(networkNames) + ")"));
    return false;
  }
  return sema.checkNetwork(*chosen, module, &result) && ok;
}

/// `kwta r keep k [%] [boost B period T] [reset { ... }]`: r is a state
/// variable or output of the neuron, k a count in 1..N or a percentage that
/// rounds to such a count (docs/semantics.md, "k-WTA").
void Sema::checkKwta(PopulationDecl &pop, PopulationModel &pm) {
  if (pop.kwta.empty())
    return;
  for (size_t k = 0; k < pop.kwta.size(); ++k) {
    if (pop.kwta[k].keyword != "kwta") {
      diags.error(pop.kwta[k].loc, "unknown population item '" + pop.kwta[k].keyword + "'" +
                                       didYouMean(pop.kwta[k].keyword, {"kwta"}) +
                                       "; a population's block sets parameters and inputs "
                                       "(name = value), a 'method' or a 'kwta'");
      return;
    }
    if (k > 0) {
      diags.error(pop.kwta[k].loc,
                  "population '" + pop.name + "' has a second 'kwta'; one k-WTA per population");
      diags.note(pop.kwta[0].loc, "the first is here");
      return;
    }
  }
  KwtaDecl &decl = pop.kwta[0];
  const NeuronDecl *neuron = pm.neuron;
  unsigned before = diags.errorCount();
  if (decl.keepWord != "keep")
    diags.error(decl.keepWordLoc, "expected 'keep' after 'kwta " + decl.variable +
                                      "', as in 'kwta " + decl.variable + " keep 20' or 'kwta " +
                                      decl.variable + " keep 2 %'");
  // What can be compared: a state variable or an output.
  const Scope &scope = neuronStepScopes[neuron->name];
  auto it = scope.find(decl.variable);
  if (it == scope.end() || (it->second.kind != NameExpr::Resolution::State &&
                            it->second.kind != NameExpr::Resolution::Output)) {
    std::vector<std::string> names;
    for (const Declaration &d : neuron->state)
      names.push_back(d.name);
    for (const Declaration &d : neuron->outputs)
      names.push_back(d.name);
    if (it == scope.end())
      diags.error(decl.variableLoc, "neuron '" + neuron->name +
                                        "' has no state variable or output '" + decl.variable +
                                        "'" + didYouMean(decl.variable, names));
    else
      diags.error(decl.variableLoc, std::string("k-WTA compares a state variable or an output, "
                                                "not ") +
                                        kindName(it->second.kind) + " '" + decl.variable + "'");
  }
  KwtaModel km;
  km.decl = &decl;
  km.variable = decl.variable;
  const int64_t n = pop.size;
  if (decl.percent) {
    if (!(decl.keep > 0) || decl.keep > 100) {
      diags.error(decl.keepLoc, "k-WTA keeps a percentage in (0, 100] of the population, not " +
                                    formatNumber(decl.keep) + " %");
    } else {
      km.fraction = decl.keep / 100;
      const double k = std::floor(km.fraction * static_cast<double>(n) + 0.5);
      if (k < 1)
        diags.error(decl.keepLoc, formatNumber(decl.keep) + " % of the " + std::to_string(n) +
                                      " neurons of '" + pop.name +
                                      "' rounds to k = 0; k-WTA must keep at least one neuron");
    }
  } else if (!decl.keepIsInteger) {
    diags.error(decl.keepLoc, "k-WTA keeps a whole number of neurons; write '" +
                                  formatNumber(decl.keep) + " %' for a percentage");
  } else if (decl.keep < 1) {
    diags.error(decl.keepLoc, "k-WTA must keep at least one neuron (k = 0)");
  } else if (decl.keep > static_cast<double>(n)) {
    diags.error(decl.keepLoc, "k-WTA keeps k = " + formatNumber(decl.keep) + " neurons, but '" +
                                  pop.name + "' has only " + std::to_string(n));
  } else {
    km.keep = static_cast<int64_t>(decl.keep);
  }
  // Boosting by duty cycle (Ahmad & Scheinkman 2019).
  const KwtaDecl::Option *boost = nullptr, *period = nullptr;
  for (const KwtaDecl::Option &o : decl.options) {
    const KwtaDecl::Option **slot = o.name == "boost"    ? &boost
                                    : o.name == "period" ? &period
                                                         : nullptr;
    if (!slot) {
      std::string suggestion = didYouMean(o.name, {"boost", "period"});
      diags.error(o.loc, "unknown k-WTA option '" + o.name + "'" +
                             (suggestion.empty()
                                  ? std::string("; k-WTA takes 'boost B' and 'period T' (steps)")
                                  : suggestion));
      continue;
    }
    if (*slot) {
      diags.error(o.loc, "k-WTA option '" + o.name + "' is given twice");
      continue;
    }
    *slot = &o;
  }
  if (boost) {
    km.boost = boost->value;
    km.period = period ? period->value : 1000;
    if (!(km.boost >= 0) || std::isinf(km.boost))
      diags.error(boost->valueLoc, "the boost strength must be a finite number >= 0");
  } else if (period) {
    diags.error(period->loc, "'period' is the duty cycle's averaging period for boosting; "
                             "give 'boost B' too");
  }
  if (period && !(period->value >= 1))
    diags.error(period->valueLoc, "the duty cycle's period must be at least 1 step");
  // On a spiking population the k-WTA chooses which crossing neurons spike
  // (docs/semantics.md, "k-WTA of spiking neurons"): a loser neither spikes
  // nor is reset, so there is nothing for a losers' reset to undo, and the
  // duty cycles of boosting would count spikes, not wins, which is not the
  // rule of Ahmad & Scheinkman; both are refused rather than given a
  // meaning of their own.
  if (neuron->spikeCondition) {
    if (boost)
      diags.error(boost->loc, "boosting is for k-WTA on rate units; on spiking population '" +
                                  pop.name + "' the k-WTA only chooses which neurons may spike");
    if (decl.hasReset)
      diags.error(decl.resetLoc,
                  "a k-WTA on spiking population '" + pop.name +
                      "' has no losers' reset: a neuron that crosses its threshold but loses "
                      "keeps its value and does not spike (the neuron's own 'reset' is for "
                      "spikes)");
  }
  if (decl.hasReset) {
    checkAssignments(decl.reset, scope, "a k-WTA reset");
    for (const Assignment &a : decl.reset) {
      unsigned draws = 0;
      countRandomDraws(*a.value, draws);
      if (draws)
        diags.error(a.value->getLoc(), "a k-WTA reset cannot draw random numbers");
      forEachSubExpression(*a.value, [&](const Expr &e) {
        if (auto *name = dyn_cast<NameExpr>(&e))
          for (const InputSeries &series : pm.series)
            if (series.input == name->name)
              diags.error(name->getLoc(), "a k-WTA reset cannot read input '" + name->name +
                                              "', which follows a timed array");
      });
    }
  }
  if (diags.errorCount() == before)
    pm.kwta = std::move(km);
}
