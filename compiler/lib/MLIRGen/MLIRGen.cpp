//===- MLIRGen.cpp - Checked AST to the ncl dialect -----------------------===//
//
// Writes each population's per-neuron program: an `init` region with the
// initial values and a `step` region in the order of docs/semantics.md
// (integrate ODEs from start-of-step values, test the threshold on the new
// state, reset in order, start the refractory period). Units are already
// folded into literals by Sema, so this emits plain SI arithmetic.
//
//===----------------------------------------------------------------------===//
#include "ncl/Compiler/MLIRGen.h"
#include "ncl/DSL/Builtins.h"
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/Dialect/Ncl/Utils/Phi.h"
#include "ncl/random_streams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

using namespace mlir;
using namespace ::ncl;
using namespace ::ncl::ast;

namespace {

class MLIRGenImpl {
public:
  MLIRGenImpl(MLIRContext &context, const CodegenOptions &options)
      : builder(&context),
        realType(options.realBits == 32 ? Type(builder.getF32Type()) : Type(builder.getF64Type())) {
  }

  OwningOpRef<ModuleOp> gen(const NetworkModel &net) {
    auto module = ModuleOp::create(loc(net.decl->loc));
    builder.setInsertionPointToEnd(module.getBody());
    const SourceLoc &at = net.decl->loc;
    auto network = mlir::ncl::NetworkOp::create(
        builder, loc(at), builder.getStringAttr(net.decl->name), builder.getF64FloatAttr(net.dt),
        builder.getF64FloatAttr(net.duration),
        builder.getI64IntegerAttr(static_cast<int64_t>(net.seed)), TypeAttr::get(realType),
        builder.getStringAttr(at.file ? *at.file : ""), ArrayAttr(),
        builder.getI64IntegerAttr(net.batch),
        net.batchRefusal.empty() ? StringAttr() : builder.getStringAttr(net.batchRefusal));
    builder.setInsertionPointToStart(&network.getBody().emplaceBlock());
    this->net = &net;
    for (const PopulationModel &pop : net.populations) {
      numberRandomSites(pop);
      genPopulation(pop, net.dt);
      if (pop.kwta)
        genKwta(pop);
      ++populationIndex;
    }
    for (const ProjectionModel &projection : net.projections)
      genProjection(projection);
    for (const StateMonitor &monitor : net.stateMonitors)
      genMonitor(mlir::ncl::MonitorKind::State, monitor.name, monitor.population, monitor.var,
                 monitor.begin, monitor.end, monitor.every, monitor.loc);
    for (const RateMonitor &monitor : net.rateMonitors) {
      const PopulationModel &pop = net.populations[static_cast<size_t>(monitor.population)];
      genMonitor(mlir::ncl::MonitorKind::Rate, monitor.name, monitor.population, "", 0,
                 pop.decl->size, 1, monitor.loc);
    }
    for (const SynapseMonitor &monitor : net.synapseMonitors) {
      const ProjectionModel &pm = net.projections[static_cast<size_t>(monitor.projection)];
      mlir::ncl::MonitorOp::create(builder, loc(monitor.loc), mlir::ncl::MonitorKind::Synapse,
                                   builder.getStringAttr(monitor.name),
                                   FlatSymbolRefAttr::get(builder.getContext(), pm.decl->name),
                                   builder.getStringAttr(monitor.var),
                                   builder.getDenseI64ArrayAttr({monitor.begin, monitor.end}),
                                   builder.getI64IntegerAttr(monitor.every));
    }
    // The order of work (docs/semantics.md): every population's init, every
    // projection's synapses; then in each step the deliveries, the on_post
    // blocks, the summed variables, the synapses' dynamics, then the
    // updates.
    auto schedule = mlir::ncl::ScheduleOp::create(builder, loc(at));
    builder.setInsertionPointToStart(&schedule.getBody().emplaceBlock());
    auto stage = [&](mlir::ncl::StageKind kind, const SourceLoc &l, const std::string &name) {
      mlir::ncl::StageOp::create(builder, loc(l), kind,
                                 FlatSymbolRefAttr::get(builder.getContext(), name),
                                 FlatSymbolRefAttr(), ArrayAttr(), ArrayAttr());
    };
    // A spike generator has no stages: the runtime supplies its spikes.
    for (const PopulationModel &pop : net.populations)
      if (!pop.spikeGenerator)
        stage(mlir::ncl::StageKind::Init, pop.decl->loc, pop.decl->name);
    for (const ProjectionModel &projection : net.projections)
      if (projection.connect.rule == ConnectSpec::Rule::Condition)
        stage(mlir::ncl::StageKind::ConnectCondition, projection.decl->loc, projection.decl->name);
    for (const ProjectionModel &projection : net.projections)
      stage(mlir::ncl::StageKind::Connect, projection.decl->loc, projection.decl->name);
    for (const ProjectionModel &projection : net.projections)
      stage(hasPerSynapseDelay(projection) ? mlir::ncl::StageKind::DeliverSynapses
                                           : mlir::ncl::StageKind::Deliver,
            projection.decl->loc, projection.decl->name);
    for (const ProjectionModel &projection : net.projections)
      if (!projection.synapse->onPost.empty())
        stage(mlir::ncl::StageKind::OnPost, projection.synapse->onPostLoc, projection.decl->name);
    for (const ProjectionModel &projection : net.projections)
      if (!projection.synapse->summed.empty())
        stage(mlir::ncl::StageKind::Sum, projection.synapse->summedLoc, projection.decl->name);
    for (const ProjectionModel &projection : net.projections)
      if (!projection.synapse->odes.empty())
        stage(mlir::ncl::StageKind::SynapseStep, projection.synapse->dynamicsLoc,
              projection.decl->name);
    // The k-WTA of a spiking population decides which neurons may spike
    // before its update applies threshold and reset: every thread computes
    // the keys of its neurons, then one thread the gate (docs/semantics.md,
    // "k-WTA of spiking neurons").
    for (const PopulationModel &pop : net.populations)
      if (pop.kwta && pop.neuron->spikeCondition)
        stage(mlir::ncl::StageKind::KwtaKeys, pop.kwta->decl->loc, pop.decl->name);
    for (const PopulationModel &pop : net.populations)
      if (pop.kwta && pop.neuron->spikeCondition)
        stage(mlir::ncl::StageKind::KwtaGate, pop.kwta->decl->loc, pop.decl->name);
    for (const PopulationModel &pop : net.populations)
      if (!pop.spikeGenerator)
        stage(mlir::ncl::StageKind::Step, pop.decl->loc, pop.decl->name);
    // k-WTA sees a rate population after its update, all its neurons at once.
    for (const PopulationModel &pop : net.populations)
      if (pop.kwta && !pop.neuron->spikeCondition)
        stage(mlir::ncl::StageKind::Kwta, pop.kwta->decl->loc, pop.decl->name);
    if (failed) {
      module.erase();
      return nullptr;
    }
    return module;
  }

private:
  /// Whether each synapse has its own delay: drawn by an expression or
  /// read from a file of the explicit rule.
  static bool hasPerSynapseDelay(const ProjectionModel &projection) {
    return projection.delayExpr || !projection.connect.delayFile.empty();
  }

  static bool isRandom(const CallExpr &c) {
    const Builtin *f = lookupBuiltin(c.callee);
    return f &&
           (f->id == BuiltinId::Rand || f->id == BuiltinId::Randn || f->id == BuiltinId::Poisson);
  }

  /// The k-th rand()/randn() of a neuron's text, in reading order, draws
  /// from stream k (docs/random.md).
  void numberRandomSites(const PopulationModel &pop) {
    std::vector<const CallExpr *> sites;
    auto visit = [&](const Expr &e) {
      forEachSubExpression(e, [&](const Expr &sub) {
        if (auto *c = dyn_cast<CallExpr>(&sub); c && isRandom(*c))
          sites.push_back(c);
      });
    };
    forEachExpr(*pop.neuron, [&](const Expr &e, const NeuronSite &) { visit(e); });
    std::sort(sites.begin(), sites.end(), [](const CallExpr *a, const CallExpr *b) {
      return std::make_pair(a->getLoc().line, a->getLoc().column) <
             std::make_pair(b->getLoc().line, b->getLoc().column);
    });
    // Then the network's stimuli of this population, in the order written.
    size_t neuronSites = sites.size();
    for (auto &kv : pop.stimuli)
      for (const Expr *e : kv.second)
        visit(*e);
    std::sort(sites.begin() + neuronSites, sites.end(), [](const CallExpr *a, const CallExpr *b) {
      return std::make_pair(a->getLoc().line, a->getLoc().column) <
             std::make_pair(b->getLoc().line, b->getLoc().column);
    });
    randomSites.clear();
    for (size_t k = 0; k < sites.size(); ++k)
      randomSites[sites[k]] = static_cast<int64_t>(k);
    // Noise sources take the streams after the rand() calls, in order of
    // first use (equations in order).
    noiseStreams.clear();
    nextRandomStream = static_cast<int64_t>(sites.size());
  }

  /// The stream id of this population's random site `site`
  /// (ncl/random_streams.h; Sema bounds both numbers).
  int64_t streamId(int64_t site) const {
    return ncl_random_stream_id(static_cast<uint32_t>(populationIndex),
                                static_cast<uint32_t>(site));
  }

  Location loc(const SourceLoc &l) {
    if (!l.isValid())
      return builder.getUnknownLoc();
    return FileLineColLoc::get(builder.getStringAttr(l.file ? *l.file : "<unknown>"), l.line,
                               l.column);
  }

  Value constant(double v, Location l) {
    return arith::ConstantOp::create(builder, l, builder.getFloatAttr(realType, v));
  }

  void genPopulation(const PopulationModel &pop, double dt) {
    const NeuronDecl &n = *pop.neuron;
    this->dt = dt;
    named.clear();
    for (auto *group : {&n.subExpressions, &n.outputs})
      for (auto &d : *group)
        named[d.name] = &d;
    auto op = mlir::ncl::PopulationOp::create(
        builder, loc(pop.decl->loc), builder.getStringAttr(pop.decl->name),
        builder.getStringAttr(n.name), builder.getI64IntegerAttr(pop.decl->size),
        describeParameters(pop.parameters), describeVariables(n), describeDerived(pop),
        describeEvents(n), pop.recordSpikes ? builder.getUnitAttr() : UnitAttr(),
        methodAttr(pop.method),
        pop.substeps > 1 ? builder.getI64IntegerAttr(pop.substeps) : IntegerAttr(), FloatAttr(),
        FloatAttr(), receivedBy(populationIndex), sendsSpikes(populationIndex), StringAttr(),
        ArrayAttr(), ArrayAttr());
    describeSources(pop, op);
    // A difference equation's meaning depends on the step: one that never
    // reads dt holds only at the network's dt; one that scales by dt (a CTRNN
    // with alpha = dt/tau) is an explicit scheme, right at a smaller dt too.
    if (!n.update.empty()) {
      bool scalesWithStep =
          llvm::any_of(n.update, [&](const Assignment &a) { return readsStep(*a.value); });
      op.setMaxDtAttr(builder.getF64FloatAttr(dt));
      if (!scalesWithStep)
        op.setMinDtAttr(builder.getF64FloatAttr(dt));
    }
    OpBuilder::InsertionGuard guard(builder);

    // init: parameters, then each initial value in declaration order, then
    // the outputs of the initial state.
    builder.setInsertionPointToStart(&op.getInit().emplaceBlock());
    env.clear();
    inInit = true;
    declareParams(pop);
    for (auto &p : n.parameters) {
      if (!p.perNeuron)
        continue;
      auto override = pop.perNeuronOverrides.find(p.name);
      // A per-neuron parameter is the model's: every batch member draws
      // the same value (ncl.rand `shared`).
      inPerNeuronParameter = true;
      Value v = gen(override != pop.perNeuronOverrides.end() ? *override->second : *p.value);
      inPerNeuronParameter = false;
      mlir::ncl::StateWriteOp::create(builder, loc(p.loc), p.name, v);
      env[p.name] = v;
    }
    for (auto &s : n.state) {
      Value v = gen(*s.value);
      mlir::ncl::StateWriteOp::create(builder, loc(s.loc), s.name, v);
      env[s.name] = v;
    }
    for (auto &o : n.outputs)
      mlir::ncl::StateWriteOp::create(builder, loc(o.loc), o.name, gen(*o.value));
    inInit = false;

    // step
    builder.setInsertionPointToStart(&op.getStep().emplaceBlock());
    env.clear();
    declareParams(pop);
    // Inputs: the population's value plus every stimulus, this step.
    for (auto &kv : pop.stimuli)
      for (const Expr *stimulus : kv.second)
        env[kv.first] =
            arith::AddFOp::create(builder, loc(stimulus->getLoc()), env[kv.first], gen(*stimulus));
    for (auto &p : n.parameters)
      if (p.perNeuron)
        env[p.name] = mlir::ncl::StateReadOp::create(builder, loc(p.loc), realType, p.name);
    std::map<std::string, Value> start;
    for (auto &s : n.state)
      env[s.name] = start[s.name] =
          mlir::ncl::StateReadOp::create(builder, loc(s.loc), realType, s.name);

    // 0. Refractory status at the start of the step.
    Value refractory;
    if (n.refractory) {
      Location l = loc(n.refractoryLoc);
      Value release;
      if (n.refractoryIsCondition)
        release =
            arith::XOrIOp::create(builder, l, gen(*n.refractory),
                                  arith::ConstantIntOp::create(builder, l, builder.getI1Type(), 1));
      refractory = mlir::ncl::IsRefractoryOp::create(builder, l, builder.getI1Type(), release);
    }

    // 0b. What projections delivered for this step: added to the state at
    // its start (dropped for a variable held while refractory), or to an
    // input for this step (docs/semantics.md).
    if (ArrayAttr received = receivedBy(populationIndex))
      for (StringRef name : received.getAsValueRange<StringAttr>())
        applySynapticInput(n, name.str(), refractory, start);

    // 1. Every ODE sees the state at the start of the step.
    std::map<std::string, Value> current = start;
    for (auto &ode : n.odes) {
      current[ode.variable] =
          genOde(ode, start[ode.variable], ode.unlessRefractory ? refractory : Value());
    }
    for (auto &kv : current)
      env[kv.first] = kv.second;

    // 1b. The discrete update, in order, each assignment seeing the values
    // left by the previous one.
    genUpdate(n, refractory);

    // 2. Threshold on the new state; 3. resets in order; 4. refractoriness.
    if (n.spikeCondition) {
      Location l = loc(n.spikeLoc);
      Value fired = mlir::ncl::ThresholdOp::create(builder, l, builder.getI1Type(),
                                                   gen(*n.spikeCondition), refractory);
      genAssignments(n.reset, fired);
      if (n.refractory)
        mlir::ncl::RefractoryOp::create(builder, loc(n.refractoryLoc), fired,
                                        n.refractoryIsCondition ? Value() : gen(*n.refractory));
    }
    // 5. Custom events, in the order declared, on the state after the reset.
    for (auto [k, ev] : llvm::enumerate(n.events)) {
      Location l = loc(ev.loc);
      Value happened =
          mlir::ncl::EventOp::create(builder, l, builder.getI1Type(), gen(*ev.condition),
                                     builder.getI64IntegerAttr(static_cast<int64_t>(k) + 1));
      genAssignments(ev.assignments, happened);
    }
    for (auto &s : n.state)
      mlir::ncl::StateWriteOp::create(builder, loc(s.loc), s.name, env[s.name]);
    for (auto &o : n.outputs)
      mlir::ncl::StateWriteOp::create(builder, loc(o.loc), o.name, gen(*o.value));
  }

  /// `kwta r keep ...`: the op, and its losers' reset as a per-neuron
  /// program (the state at the end of the step, then the assignments in
  /// order).
  void genKwta(const PopulationModel &pop) {
    const KwtaModel &k = *pop.kwta;
    Location l = loc(k.decl->loc);
    auto op = mlir::ncl::KwtaOp::create(
        builder, l, FlatSymbolRefAttr::get(builder.getContext(), pop.decl->name),
        builder.getStringAttr(k.variable),
        k.keep > 0 ? builder.getI64IntegerAttr(k.keep) : IntegerAttr(),
        k.keep > 0 ? FloatAttr() : builder.getF64FloatAttr(k.fraction),
        k.boost > 0 ? builder.getF64FloatAttr(k.boost) : FloatAttr(),
        k.boost > 0 ? builder.getF64FloatAttr(k.period) : FloatAttr());
    if (!k.decl->hasReset || k.decl->reset.empty())
      return;
    const NeuronDecl &n = *pop.neuron;
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&op.getReset().emplaceBlock());
    env.clear();
    for (const ParameterValue &p : pop.parameters)
      env[p.name] = mlir::ncl::ParamOp::create(builder, l, realType, p.name);
    for (auto &d : n.parameters)
      if (d.derived && pop.parameterIndex(d.name) < 0)
        env[d.name] = gen(*d.value);
    for (auto &p : n.parameters)
      if (p.perNeuron)
        env[p.name] = mlir::ncl::StateReadOp::create(builder, loc(p.loc), realType, p.name);
    for (auto &s : n.state)
      env[s.name] = mlir::ncl::StateReadOp::create(builder, loc(s.loc), realType, s.name);
    std::set<std::string> assigned;
    for (const Assignment &a : k.decl->reset) {
      Location al = loc(a.loc);
      env[a.variable] = combine(a, env[a.variable], gen(*a.value), al);
      assigned.insert(a.variable);
    }
    for (auto &s : n.state)
      if (assigned.count(s.name))
        mlir::ncl::StateWriteOp::create(builder, loc(s.loc), s.name, env[s.name]);
  }

  /// Where a spike generator's spikes and the timed inputs' series come
  /// from: files named as written, and the directory of the `.ncl` file
  /// (made absolute) that relative names resolve against.
  void describeSources(const PopulationModel &pop, mlir::ncl::PopulationOp op) {
    if (!pop.spikeGenerator && pop.series.empty())
      return;
    std::error_code ec;
    std::filesystem::path source(pop.decl->loc.file ? *pop.decl->loc.file : "");
    std::filesystem::path dir = std::filesystem::absolute(source, ec).parent_path();
    op.setDataDirAttr(builder.getStringAttr(ec ? "" : dir.lexically_normal().string()));
    if (pop.spikeGenerator)
      op.setSpikeFilesAttr(builder.getStrArrayAttr({pop.spikeTimesFile, pop.spikeIndicesFile}));
    SmallVector<Attribute> timed;
    for (const InputSeries &series : pop.series)
      timed.push_back(mlir::ncl::TimedInputAttr::get(
          builder.getContext(), series.input, series.file, builder.getF64FloatAttr(series.interval),
          builder.getF64FloatAttr(series.scale)));
    if (!timed.empty())
      op.setTimedInputsAttr(builder.getArrayAttr(timed));
  }

  /// The variables and inputs of population `p` that projections add to
  /// through a synaptic-input buffer, in the order the projections first
  /// name them (null: none). State variables that deliveredDirectly are
  /// not among them: the deliveries add to the variable itself.
  ArrayAttr receivedBy(int64_t p) {
    SmallVector<StringRef> names;
    for (const ProjectionModel &projection : net->projections) {
      if (projection.post != p)
        continue;
      for (const auto *block : {&projection.synapse->onPre, &projection.synapse->summed})
        for (const Assignment &a : *block)
          if ((a.target == Assignment::AssignTarget::PostInput ||
               (a.target == Assignment::AssignTarget::PostState &&
                !deliveredDirectly(p, a.targetVariable))) &&
              !llvm::is_contained(names, a.targetVariable))
            names.push_back(a.targetVariable);
    }
    return names.empty() ? ArrayAttr() : builder.getStrArrayAttr(names);
  }

  /// Whether arriving effects on state variable `name` of population `p`
  /// are added to the variable itself, inside the deliveries, rather than
  /// summed in a buffer that the update adds at the start of the step: the
  /// same value (up to the order of the sums, docs/semantics.md) when the
  /// update would add them unconditionally and nothing reads the variable
  /// between the deliveries and the update. So not for a variable held
  /// while refractory (what arrives then is dropped, which needs the
  /// neuron's status at the update), nor for one that a projection's
  /// `on_pre`, `on_post` or `summed` reads (as v_pre or v_post; it would
  /// see earlier deliveries).
  bool deliveredDirectly(int64_t p, StringRef name) {
    const NeuronDecl &n = *net->populations[static_cast<size_t>(p)].neuron;
    if (n.refractory && heldWhileRefractory(n, name))
      return false;
    for (const ProjectionModel &projection : net->projections) {
      if (projection.pre != p && projection.post != p)
        continue;
      bool read = false;
      auto visit = [&](const Expr &value) {
        forEachSubExpression(value, [&](const Expr &e) {
          auto *ref = dyn_cast<NameExpr>(&e);
          if (ref && ref->variable == name &&
              ((ref->resolution == NameExpr::Resolution::PreState && projection.pre == p) ||
               (ref->resolution == NameExpr::Resolution::PostState && projection.post == p)))
            read = true;
        });
      };
      for (const auto *block :
           {&projection.synapse->onPre, &projection.synapse->onPost, &projection.synapse->summed})
        for (const Assignment &a : *block)
          visit(*a.value);
      for (const OdeDecl &ode : projection.synapse->odes)
        visit(*ode.rhs);
      if (read)
        return false;
    }
    return true;
  }

  /// Whether variable `name` of neuron `n` is held while refractory:
  /// integrated `unless refractory`, or assigned `unless refractory` in the
  /// update (what arrives for it then is dropped).
  static bool heldWhileRefractory(const NeuronDecl &n, StringRef name) {
    return llvm::any_of(
               n.odes,
               [&](const OdeDecl &o) { return o.variable == name && o.unlessRefractory; }) ||
           llvm::any_of(n.update, [&](const Assignment &a) {
             return a.variable == name && a.unlessRefractory;
           });
  }

  /// Whether projections (as presynaptic population, or postsynaptic one
  /// with an on_post) or a rate monitor read population p's spikes.
  UnitAttr sendsSpikes(int64_t p) {
    for (const ProjectionModel &projection : net->projections)
      if (projection.pre == p || (projection.post == p && !projection.synapse->onPost.empty()))
        return builder.getUnitAttr();
    for (const RateMonitor &monitor : net->rateMonitors)
      if (monitor.population == p)
        return builder.getUnitAttr();
    return UnitAttr();
  }

  /// A monitor: described to the runtime, which samples it (no kernel).
  void genMonitor(mlir::ncl::MonitorKind kind, const std::string &name, int population,
                  const std::string &var, int64_t begin, int64_t end, int64_t every,
                  const SourceLoc &at) {
    const PopulationModel &pop = net->populations[static_cast<size_t>(population)];
    mlir::ncl::MonitorOp::create(builder, loc(at), kind, builder.getStringAttr(name),
                                 FlatSymbolRefAttr::get(builder.getContext(), pop.decl->name),
                                 var.empty() ? StringAttr() : builder.getStringAttr(var),
                                 builder.getDenseI64ArrayAttr({begin, end}),
                                 builder.getI64IntegerAttr(every));
  }

  void applySynapticInput(const NeuronDecl &n, const std::string &name, Value refractory,
                          std::map<std::string, Value> &start) {
    Location l = loc(n.loc);
    Value in = mlir::ncl::SynapticInputOp::create(builder, l, realType, name);
    if (!start.count(name)) { // an input: this step's value
      env[name] = arith::AddFOp::create(builder, l, env.at(name), in);
      return;
    }
    Value old = start[name];
    Value sum = arith::AddFOp::create(builder, l, old, in);
    // Held while refractory: integrated `unless refractory`, or assigned
    // `unless refractory` in the update.
    if (refractory && heldWhileRefractory(n, name))
      sum = arith::SelectOp::create(builder, l, refractory, old, sum);
    env[name] = start[name] = sum;
  }

  //===--------------------------------------------------------------------===//
  // Projections
  //===--------------------------------------------------------------------===//

  void genProjection(const ProjectionModel &projection) {
    const SynapseDecl &syn = *projection.synapse;
    const auto &pre = net->populations[static_cast<size_t>(projection.pre)];
    const auto &post = net->populations[static_cast<size_t>(projection.post)];
    Location l = loc(projection.decl->loc);
    SmallVector<Attribute> vars;
    for (const Declaration &d : syn.state)
      vars.push_back(describeVariable(d));
    auto rule = static_cast<mlir::ncl::ConnectRule>(
        static_cast<int>(projection.connect.rule) - static_cast<int>(ConnectSpec::Rule::AllToAll) +
        static_cast<int>(mlir::ncl::ConnectRule::AllToAll));
    // Files the runtime reads at load time (absolute paths): explicit
    // lists, or matrices and a mask of the other rules.
    DictionaryAttr files;
    if (projection.connect.rule == ConnectSpec::Rule::Explicit ||
        !projection.connect.varFiles.empty() || !projection.connect.maskFile.empty()) {
      SmallVector<NamedAttribute> entries;
      auto add = [&](StringRef key, const std::string &path) {
        if (!path.empty())
          entries.push_back(builder.getNamedAttr(key, builder.getStringAttr(path)));
      };
      add("pre", projection.connect.preFile);
      add("post", projection.connect.postFile);
      add("delay", projection.connect.delayFile);
      add("mask", projection.connect.maskFile);
      for (const auto &[var, path] : projection.connect.varFiles)
        add(var, path);
      files = builder.getDictionaryAttr(entries);
    }
    // Dale's law: the weight and the presynaptic ranges that fix its sign.
    mlir::StringAttr weight;
    mlir::DenseI64ArrayAttr signedRanges;
    if (!projection.weight.empty()) {
      SmallVector<int64_t> triples;
      for (const SignedRange &r : projection.signedRanges)
        triples.append({r.begin, r.end, r.sign});
      weight = builder.getStringAttr(projection.weight);
      signedRanges = builder.getDenseI64ArrayAttr(triples);
    }
    auto connect = mlir::ncl::ConnectAttr::get(
        builder.getContext(), rule, builder.getF64FloatAttr(projection.connect.p),
        projection.connect.n, projection.connect.autapses, projection.connect.multapses, files);
    auto op = mlir::ncl::ProjectionOp::create(
        builder, l, builder.getStringAttr(projection.decl->name), builder.getStringAttr(syn.name),
        FlatSymbolRefAttr::get(builder.getContext(), pre.decl->name),
        FlatSymbolRefAttr::get(builder.getContext(), post.decl->name),
        builder.getDenseI64ArrayAttr({projection.preBegin, projection.preEnd}),
        builder.getDenseI64ArrayAttr({projection.postBegin, projection.postEnd}), connect,
        builder.getF64FloatAttr(projection.delay), describeParameters(projection.parameters),
        builder.getArrayAttr(vars),
        hasPerSynapseDelay(projection) ? builder.getUnitAttr() : mlir::UnitAttr(), mlir::UnitAttr(),
        synapseDrive(projection), builder.getF64FloatAttr(projection.postDelay), mlir::FloatAttr(),
        mlir::ArrayAttr(), mlir::ArrayAttr(), weight, signedRanges);
    OpBuilder::InsertionGuard guard(builder);
    numberSynapseSites(projection);
    inSynapse = true;
    synapseSizes = {static_cast<double>(pre.decl->size), static_cast<double>(post.decl->size)};
    endpoints = {&pre, &post};

    // init: each per-synapse variable's initial value, in declaration order.
    builder.setInsertionPointToStart(&op.getInit().emplaceBlock());
    env.clear();
    inInit = true;
    for (const ParameterValue &p : projection.parameters)
      env[p.name] = mlir::ncl::ParamOp::create(builder, l, realType, p.name);
    for (const Declaration &d : syn.state) {
      Value v = gen(*projection.stateInit.at(d.name));
      if (d.name == projection.weight)
        v = keepSign(projection, v, SignRule::Magnitude, loc(d.loc));
      mlir::ncl::SynapseWriteOp::create(builder, loc(d.loc), d.name, v);
      env[d.name] = v;
    }
    // A delay of its own, drawn after the initial values (Sema's order of
    // random sites); it may read them and the parameters.
    if (projection.delayExpr)
      mlir::ncl::SynapseDelayOp::create(builder, loc(projection.delayExpr->getLoc()),
                                        gen(*projection.delayExpr));
    else if (hasPerSynapseDelay(projection))
      // Delays from a file: the runtime writes them over this placeholder
      // once the connect stage has run (docs/runtime.md).
      mlir::ncl::SynapseDelayOp::create(
          builder, l, arith::ConstantOp::create(builder, l, builder.getF64FloatAttr(0.0)));
    inInit = false;

    // on_pre: assignments in order; effects on the postsynaptic neuron add.
    beginSynapseProgram(op.getOnPre(), projection, l);
    std::set<std::string> written;
    for (const Assignment &a : syn.onPre) {
      Location al = loc(a.loc);
      Value value = gen(*a.value);
      if (a.target == Assignment::AssignTarget::SynapseState) {
        env[a.variable] = combine(a, env.at(a.variable), value, al);
        if (a.variable == projection.weight)
          env[a.variable] = keepSign(projection, env[a.variable], SignRule::Clip, al);
        written.insert(a.variable);
        continue;
      }
      if (a.op == "-=")
        value = arith::NegFOp::create(builder, al, value);
      mlir::ncl::PostAddOp::create(builder, al, a.targetVariable, value);
    }
    for (const Declaration &d : syn.state)
      if (written.count(d.name))
        mlir::ncl::SynapseWriteOp::create(builder, loc(d.loc), d.name, env.at(d.name));
    // summed: every synapse's value, added to its postsynaptic neuron's
    // input in every step (the sum is the kernel's loop).
    if (!syn.summed.empty()) {
      beginSynapseProgram(op.getSummed(), projection, l);
      for (const Assignment &a : syn.summed)
        mlir::ncl::PostAddOp::create(builder, loc(a.loc), a.targetVariable, gen(*a.value));
    }
    // on_post: what a postsynaptic spike does to the synapse's own state,
    // assignments in order.
    if (!syn.onPost.empty()) {
      beginSynapseProgram(op.getOnPost(), projection, l);
      std::set<std::string> changed;
      for (const Assignment &a : syn.onPost) {
        env[a.variable] = combine(a, env.at(a.variable), gen(*a.value), loc(a.loc));
        if (a.variable == projection.weight)
          env[a.variable] = keepSign(projection, env[a.variable], SignRule::Clip, loc(a.loc));
        changed.insert(a.variable);
      }
      for (const Declaration &d : syn.state)
        if (changed.count(d.name))
          mlir::ncl::SynapseWriteOp::create(builder, loc(d.loc), d.name, env.at(d.name));
    }

    // dynamics: every synapse's ODEs, from the start-of-step values, then
    // the new values (ncl-integrate picks the scheme).
    if (!syn.odes.empty()) {
      beginSynapseProgram(op.getDynamics(), projection, l);
      std::map<std::string, Value> next;
      for (const OdeDecl &ode : syn.odes)
        next[ode.variable] = genOde(ode, env.at(ode.variable), Value());
      if (auto w = next.find(projection.weight); w != next.end())
        w->second = keepSign(projection, w->second, SignRule::Clip, l);
      for (const Declaration &d : syn.state)
        if (next.count(d.name))
          mlir::ncl::SynapseWriteOp::create(builder, loc(d.loc), d.name, next.at(d.name));
    }

    // condition: whether a candidate pair (i, j) is connected.
    if (const Expr *condition = projection.connect.condition) {
      builder.setInsertionPointToStart(&op.getCondition().emplaceBlock());
      env.clear();
      inInit = true;
      for (const ParameterValue &p : projection.parameters)
        env[p.name] = mlir::ncl::ParamOp::create(builder, l, realType, p.name);
      Value accepted = gen(*condition);
      mlir::ncl::AcceptOp::create(builder, loc(condition->getLoc()), accepted);
      inInit = false;
    }
    inSynapse = false;
  }

  /// How Dale's law acts on a weight: an initial value becomes |w| * sign
  /// (the parametrisation of EI RNNs), a later value is clipped at 0.
  enum class SignRule { Magnitude, Clip };

  /// `w` with the sign the projection's presynaptic neuron fixes, where it
  /// fixes one: a constant sign where one signed range covers the whole
  /// source range, else a choice by the presynaptic index.
  Value keepSign(const ProjectionModel &projection, Value w, SignRule rule, Location l) {
    Value magnitude; // |w|, made once where a range needs it
    auto withSign = [&](int sign) -> Value {
      if (rule == SignRule::Magnitude) {
        if (!magnitude)
          magnitude = math::AbsFOp::create(builder, l, w);
        return sign > 0 ? magnitude : Value(arith::NegFOp::create(builder, l, magnitude));
      }
      Value zero = constant(0.0, l);
      return sign > 0 ? Value(arith::MaximumFOp::create(builder, l, w, zero))
                      : Value(arith::MinimumFOp::create(builder, l, w, zero));
    };
    for (const SignedRange &r : projection.signedRanges)
      if (r.covers(projection.preBegin, projection.preEnd))
        return withSign(r.sign);
    Value i = mlir::ncl::PreIndexOp::create(builder, l, realType);
    Value out = w;
    for (const SignedRange &r : projection.signedRanges) {
      Value inside = arith::CmpFOp::create(builder, l, arith::CmpFPredicate::OGE, i,
                                           constant(static_cast<double>(r.begin), l));
      if (r.end >= 0)
        inside =
            arith::AndIOp::create(builder, l, inside,
                                  arith::CmpFOp::create(builder, l, arith::CmpFPredicate::OLT, i,
                                                        constant(static_cast<double>(r.end), l)));
      out = arith::SelectOp::create(builder, l, inside, withSign(r.sign), out);
    }
    return out;
  }

  /// The projection's `method clock_driven` / `event_driven`, or null (the
  /// compiler chooses: ncl-integrate).
  mlir::ncl::SynapseDriveAttr synapseDrive(const ProjectionModel &projection) {
    const std::string &method = projection.decl->method;
    if (method.empty())
      return {};
    return mlir::ncl::SynapseDriveAttr::get(
        builder.getContext(), method == "event_driven" ? mlir::ncl::SynapseDrive::EventDriven
                                                       : mlir::ncl::SynapseDrive::ClockDriven);
  }

  /// Starts a per-synapse program (on_pre, summed, on_post, dynamics) in
  /// `region`: its block, with the projection's parameters and the
  /// synapse's start values (ncl.synapse_read) as the names it sees.
  void beginSynapseProgram(Region &region, const ProjectionModel &projection, Location l) {
    builder.setInsertionPointToStart(&region.emplaceBlock());
    env.clear();
    for (const ParameterValue &p : projection.parameters)
      env[p.name] = mlir::ncl::ParamOp::create(builder, l, realType, p.name);
    for (const Declaration &d : projection.synapse->state)
      env[d.name] = mlir::ncl::SynapseReadOp::create(builder, loc(d.loc), realType, d.name);
  }

  /// Parameter or input `name` of a synapse's pre- or postsynaptic
  /// population: read from its storage (`ncl.pre_read` / `ncl.post_read`
  /// of a settable or per-neuron parameter), or, for a derived one, computed
  /// from those reads as the population's kernels compute it.
  Value endpointParameter(const PopulationModel &pop, const std::string &name, bool pre,
                          Location l) {
    auto read = [&](const std::string &var) -> Value {
      if (pre)
        return mlir::ncl::PreReadOp::create(builder, l, realType, var);
      return mlir::ncl::PostReadOp::create(builder, l, realType, var);
    };
    const NeuronDecl &n = *pop.neuron;
    auto decl = llvm::find_if(n.parameters, [&](const Declaration &d) { return d.name == name; });
    if (pop.parameterIndex(name) >= 0 || decl == n.parameters.end() || decl->perNeuron)
      return read(name);
    // A derived parameter: its expression names the population's
    // parameters, which resolve through `env` (saved and restored).
    std::map<std::string, Value> saved = env;
    for (const ParameterValue &p : pop.parameters)
      env[p.name] = read(p.name);
    for (const Declaration &d : n.parameters) {
      if (d.perNeuron)
        env[d.name] = read(d.name);
      else if (d.derived && pop.parameterIndex(d.name) < 0)
        env[d.name] = gen(*d.value);
      if (d.name == name)
        break;
    }
    Value value = env.at(name);
    env = saved;
    return value;
  }

  /// A projection's rand()/randn() sites in Sema's order: the state
  /// initial values, the delay, on_pre, on_post, summed; each expression in
  /// reading order.
  void numberSynapseSites(const ProjectionModel &projection) {
    std::vector<const CallExpr *> sites;
    auto visit = [&](const Expr &e) {
      std::vector<const CallExpr *> here;
      forEachSubExpression(e, [&](const Expr &sub) {
        if (auto *c = dyn_cast<CallExpr>(&sub); c && isRandom(*c))
          here.push_back(c);
      });
      std::sort(here.begin(), here.end(), [](const CallExpr *a, const CallExpr *b) {
        return std::make_pair(a->getLoc().line, a->getLoc().column) <
               std::make_pair(b->getLoc().line, b->getLoc().column);
      });
      sites.insert(sites.end(), here.begin(), here.end());
    };
    for (const Declaration &d : projection.synapse->state)
      visit(*projection.stateInit.at(d.name));
    if (projection.delayExpr)
      visit(*projection.delayExpr);
    for (const auto *block :
         {&projection.synapse->onPre, &projection.synapse->onPost, &projection.synapse->summed})
      for (const Assignment &a : *block)
        visit(*a.value);
    randomSites.clear();
    for (size_t k = 0; k < sites.size(); ++k)
      randomSites.try_emplace(sites[k], static_cast<int64_t>(k));
  }

  /// Whether `e` reads dt, directly or through a named expression.
  bool readsStep(const Expr &e) {
    if (auto *name = dyn_cast<NameExpr>(&e)) {
      if (name->resolution == NameExpr::Resolution::Step)
        return true;
      auto it = named.find(name->name);
      return (name->resolution == NameExpr::Resolution::SubExpression ||
              name->resolution == NameExpr::Resolution::Output) &&
             it != named.end() && readsStep(*it->second->value);
    }
    if (auto *u = dyn_cast<UnaryExpr>(&e))
      return readsStep(*u->operand);
    if (auto *b = dyn_cast<BinaryExpr>(&e))
      return readsStep(*b->lhs) || readsStep(*b->rhs);
    if (auto *c = dyn_cast<CallExpr>(&e))
      return llvm::any_of(c->args, [&](const ExprPtr &a) { return readsStep(*a); });
    if (auto *c = dyn_cast<ConditionalExpr>(&e))
      return readsStep(*c->cond) || readsStep(*c->ifTrue) || readsStep(*c->ifFalse);
    return false;
  }

  /// The `update` block: plain arithmetic on the state, integrated by
  /// nothing. An assignment `unless refractory` keeps the old value in a
  /// refractory step.
  void genUpdate(const NeuronDecl &n, Value refractory) {
    for (auto &a : n.update) {
      Location al = loc(a.loc);
      Value old = env[a.variable];
      Value value = combine(a, old, gen(*a.value), al);
      if (a.unlessRefractory)
        value = arith::SelectOp::create(builder, al, refractory, old, value);
      env[a.variable] = value;
    }
  }

  /// An ncl.ode of `ode.variable` from `start` (held where `clamp` holds,
  /// if given): its right-hand side sees the variable as the region's
  /// argument and every other name as `env` has it. Returns the ODE's
  /// value at the end of the step.
  Value genOde(const OdeDecl &ode, Value start, Value clamp) {
    Location l = loc(ode.loc);
    auto odeOp = mlir::ncl::OdeOp::create(builder, l, realType, ode.variable, start, clamp);
    Block &body = odeOp.getRhs().emplaceBlock();
    Value x = body.addArgument(realType, l);
    OpBuilder::InsertionGuard inner(builder);
    builder.setInsertionPointToStart(&body);
    Value saved = env[ode.variable];
    env[ode.variable] = x;
    currentEquation = ode.variable;
    mlir::ncl::YieldOp::create(builder, l, gen(*ode.rhs));
    env[ode.variable] = saved;
    return odeOp.getResult();
  }

  /// `x op= e` as the new value of x.
  Value combine(const Assignment &a, Value old, Value value, Location al) {
    if (a.op == "+=")
      return arith::AddFOp::create(builder, al, old, value);
    if (a.op == "-=")
      return arith::SubFOp::create(builder, al, old, value);
    if (a.op == "*=")
      return arith::MulFOp::create(builder, al, old, value);
    if (a.op == "/=")
      return arith::DivFOp::create(builder, al, old, value);
    return value;
  }

  /// Assignments that apply where `fired` holds, in order.
  void genAssignments(const std::vector<Assignment> &assignments, Value fired) {
    for (auto &a : assignments) {
      Location al = loc(a.loc);
      Value old = env[a.variable];
      Value value = combine(a, old, gen(*a.value), al);
      env[a.variable] = mlir::ncl::ResetOp::create(builder, al, realType, fired, old, value);
    }
  }

  //===--------------------------------------------------------------------===//
  // What the runtime is told about a population (the descriptor's source)
  //===--------------------------------------------------------------------===//

  DenseI8ArrayAttr dimension(const units::Dimension &d) {
    return builder.getDenseI8ArrayAttr(
        llvm::ArrayRef<int8_t>(d.exponents.data(), d.exponents.size()));
  }

  /// Shared parameters, then inputs, in the order of the parameter buffer.
  ArrayAttr describeParameters(const std::vector<ParameterValue> &values) {
    SmallVector<Attribute> params;
    for (const ParameterValue &p : values) {
      auto bound = [&](double v, double none) {
        return v == none ? FloatAttr() : builder.getF64FloatAttr(v);
      };
      params.push_back(mlir::ncl::ParameterAttr::get(
          builder.getContext(), p.name, p.unitText, builder.getF64FloatAttr(p.unit.scale),
          dimension(p.unit.dim), builder.getF64FloatAttr(p.value), bound(p.minValue, -HUGE_VAL),
          bound(p.maxValue, HUGE_VAL)));
    }
    return builder.getArrayAttr(params);
  }

  /// A per-neuron or per-synapse variable as the runtime is told of it.
  Attribute describeVariable(const Declaration &d) {
    std::string unit = d.unitText;
    if (unit.empty() && !d.unit.dim.isDimensionless())
      unit = d.unit.dim.str();
    return mlir::ncl::VariableAttr::get(builder.getContext(), d.name, unit,
                                        builder.getF64FloatAttr(d.unit.scale),
                                        dimension(d.unit.dim));
  }

  /// Per neuron the runtime stores: per-neuron parameters, state variables,
  /// then outputs.
  ArrayAttr describeVariables(const NeuronDecl &n) {
    SmallVector<Attribute> vars;
    for (auto *group : {&n.parameters, &n.state, &n.outputs})
      for (const Declaration &d : *group)
        if (group != &n.parameters || d.perNeuron)
          vars.push_back(describeVariable(d));
    return builder.getArrayAttr(vars);
  }

  ArrayAttr describeDerived(const PopulationModel &pop) {
    if (pop.derived.empty())
      return ArrayAttr();
    SmallVector<Attribute> derived;
    for (const DerivedParameter &d : pop.derived) {
      SmallVector<StringRef> sources(d.sources.begin(), d.sources.end());
      derived.push_back(mlir::ncl::DerivedAttr::get(builder.getContext(), d.name,
                                                    builder.getStrArrayAttr(sources)));
    }
    return builder.getArrayAttr(derived);
  }

  ArrayAttr describeEvents(const NeuronDecl &n) {
    if (n.events.empty())
      return ArrayAttr();
    SmallVector<StringRef> names;
    for (const auto &ev : n.events)
      names.push_back(ev.name);
    return builder.getStrArrayAttr(names);
  }

  mlir::ncl::IntegrationMethodAttr methodAttr(const std::string &method) {
    if (method.empty())
      return {};
    std::optional<mlir::ncl::IntegrationMethod> m = mlir::ncl::symbolizeIntegrationMethod(method);
    assert(m && "Sema admits only known methods");
    return mlir::ncl::IntegrationMethodAttr::get(builder.getContext(), *m);
  }

  void declareParams(const PopulationModel &pop) {
    const NeuronDecl &n = *pop.neuron;
    for (const ParameterValue &p : pop.parameters) {
      SourceLoc at = n.loc;
      for (auto &d : n.parameters)
        if (d.name == p.name)
          at = d.loc;
      for (auto &d : n.inputs)
        if (d.name == p.name)
          at = d.loc;
      env[p.name] = mlir::ncl::ParamOp::create(builder, loc(at), realType, p.name);
    }
    // An input that follows a timed array: this step's sample; in initial
    // values, which precede every step, its declared default.
    for (const InputSeries &series : pop.series)
      for (auto &in : n.inputs)
        if (in.name == series.input)
          env[in.name] =
              inInit
                  ? (in.defaultValue ? gen(*in.defaultValue) : constant(0, loc(in.loc)))
                  : Value(mlir::ncl::TimedInputOp::create(builder, loc(in.loc), realType, in.name));
    // Derived parameters, in declaration order, from the current values of
    // the ones they use (so a load-time change propagates).
    for (auto &d : n.parameters)
      if (d.derived && pop.parameterIndex(d.name) < 0)
        env[d.name] = gen(*d.value);
  }

  Value gen(const Expr &e) {
    Location l = loc(e.getLoc());
    switch (e.getKind()) {
    case Expr::Kind::Number:
      return constant(static_cast<const NumberExpr &>(e).value, l);
    case Expr::Kind::Name: {
      auto &n = static_cast<const NameExpr &>(e);
      switch (n.resolution) {
      case NameExpr::Resolution::Unit:
      case NameExpr::Resolution::Constant:
        return constant(n.unitScale, l);
      case NameExpr::Resolution::Step:
        return mlir::ncl::DtOp::create(builder, l, realType); // the run's dt, set at load time
      case NameExpr::Resolution::Time:
        if (inInit)
          return constant(0.0, l);
        return mlir::ncl::TimeOp::create(builder, l, realType);
      case NameExpr::Resolution::Index:
        return mlir::ncl::NeuronIndexOp::create(builder, l, realType);
      case NameExpr::Resolution::Noise: {
        // `xi` is its own noise in each equation; `xi_name` is shared.
        std::string key = n.name == "xi" ? "xi:" + currentEquation : n.name;
        auto [it, inserted] = noiseStreams.try_emplace(key, nextRandomStream);
        if (inserted)
          ++nextRandomStream;
        return mlir::ncl::NoiseOp::create(builder, l, realType,
                                          builder.getI64IntegerAttr(streamId(it->second)));
      }
      case NameExpr::Resolution::Size:
        return mlir::ncl::PopulationSizeOp::create(builder, l, realType);
      case NameExpr::Resolution::SubExpression:
      case NameExpr::Resolution::Output:
        // Named expressions are inlined where used, with the values current
        // there (CSE merges repeated uses).
        return gen(*named.at(n.name)->value);
      case NameExpr::Resolution::PreState:
        return mlir::ncl::PreReadOp::create(builder, l, realType, n.variable);
      case NameExpr::Resolution::PostState:
        return mlir::ncl::PostReadOp::create(builder, l, realType, n.variable);
      case NameExpr::Resolution::PreIndex:
        return mlir::ncl::PreIndexOp::create(builder, l, realType);
      case NameExpr::Resolution::PostIndex:
        return mlir::ncl::PostIndexOp::create(builder, l, realType);
      case NameExpr::Resolution::PreSize:
        return constant(synapseSizes.first, l);
      case NameExpr::Resolution::PostSize:
        return constant(synapseSizes.second, l);
      case NameExpr::Resolution::PreParameter:
      case NameExpr::Resolution::PreInput:
        return endpointParameter(*endpoints.first, n.variable, /*pre=*/true, l);
      case NameExpr::Resolution::PostParameter:
      case NameExpr::Resolution::PostInput:
        return endpointParameter(*endpoints.second, n.variable, /*pre=*/false, l);
      default:
        return env.at(n.name);
      }
    }
    case Expr::Kind::Unary: {
      auto &u = static_cast<const UnaryExpr &>(e);
      Value v = gen(*u.operand);
      if (u.op == "not")
        return arith::XOrIOp::create(
            builder, l, v, arith::ConstantIntOp::create(builder, l, builder.getI1Type(), 1));
      if (u.op == "-")
        return arith::NegFOp::create(builder, l, v);
      return v;
    }
    case Expr::Kind::Binary: {
      auto &bin = static_cast<const BinaryExpr &>(e);
      if (bin.op == "**")
        return power(bin, l);
      Value lhs = gen(*bin.lhs), rhs = gen(*bin.rhs);
      const std::string &op = bin.op;
      if (op == "+")
        return arith::AddFOp::create(builder, l, lhs, rhs);
      if (op == "-")
        return arith::SubFOp::create(builder, l, lhs, rhs);
      if (op == "*")
        return arith::MulFOp::create(builder, l, lhs, rhs);
      if (op == "/")
        return arith::DivFOp::create(builder, l, lhs, rhs);
      if (op == "and")
        return arith::AndIOp::create(builder, l, lhs, rhs);
      if (op == "or")
        return arith::OrIOp::create(builder, l, lhs, rhs);
      static const std::map<std::string, arith::CmpFPredicate> predicates = {
          {"<", arith::CmpFPredicate::OLT},  {"<=", arith::CmpFPredicate::OLE},
          {">", arith::CmpFPredicate::OGT},  {">=", arith::CmpFPredicate::OGE},
          {"==", arith::CmpFPredicate::OEQ}, {"!=", arith::CmpFPredicate::UNE}};
      return arith::CmpFOp::create(builder, l, predicates.at(op), lhs, rhs);
    }
    case Expr::Kind::Conditional: {
      auto &c = static_cast<const ConditionalExpr &>(e);
      Value cond = gen(*c.cond), a = gen(*c.ifTrue), b = gen(*c.ifFalse);
      return arith::SelectOp::create(builder, l, cond, a, b);
    }
    case Expr::Kind::Call: {
      auto &c = static_cast<const CallExpr &>(e);
      SmallVector<Value> args;
      for (auto &a : c.args)
        args.push_back(gen(*a));
      const Builtin *f = lookupBuiltin(c.callee);
      assert(f && "Sema admits only known functions");
      switch (f->id) {
      case BuiltinId::Rand:
      case BuiltinId::Randn: {
        // One stream per call site (and population): inlining a named
        // expression twice reuses its stream, and CSE merges the draws.
        // A synapse's draws are keyed by its projection's step word, so the
        // stream is the site itself (docs/random.md).
        int64_t stream = inSynapse ? randomSites.at(&c) : streamId(randomSites.at(&c));
        return mlir::ncl::RandOp::create(builder, l, realType, builder.getI64IntegerAttr(stream),
                                         f->id == BuiltinId::Randn ? builder.getUnitAttr()
                                                                   : UnitAttr(),
                                         inPerNeuronParameter ? builder.getUnitAttr() : UnitAttr());
      }
      case BuiltinId::Poisson: {
        int64_t stream = inSynapse ? randomSites.at(&c) : streamId(randomSites.at(&c));
        return mlir::ncl::PoissonOp::create(builder, l, realType, args[0],
                                            builder.getI64IntegerAttr(stream));
      }
      case BuiltinId::Exp:
        return math::ExpOp::create(builder, l, args[0]);
      case BuiltinId::Expm1:
        return math::ExpM1Op::create(builder, l, args[0]);
      case BuiltinId::Exprel: {
        // (e^x - 1)/x, which is 1 at x = 0: rate functions like
        // x / (1 - e^-x) (Hodgkin-Huxley, Traub-Miles) have a removable
        // singularity there. Near 0 the series 1 + x/2 + x^2/6, whose error
        // x^3/24 is below rounding for |x| < 1e-5 in f64 (1e-3 in f32).
        return mlir::ncl::buildPhi(builder, l, args[0], mlir::ncl::PhiSeries::Quadratic);
      }
      case BuiltinId::Log:
        return math::LogOp::create(builder, l, args[0]);
      case BuiltinId::Log1p:
        return math::Log1pOp::create(builder, l, args[0]);
      case BuiltinId::Sin:
        return math::SinOp::create(builder, l, args[0]);
      case BuiltinId::Cos:
        return math::CosOp::create(builder, l, args[0]);
      case BuiltinId::Tanh:
        return math::TanhOp::create(builder, l, args[0]);
      case BuiltinId::Sqrt:
        return math::SqrtOp::create(builder, l, args[0]);
      case BuiltinId::Abs:
        return math::AbsFOp::create(builder, l, args[0]);
      case BuiltinId::Min:
        return arith::MinimumFOp::create(builder, l, args[0], args[1]);
      case BuiltinId::Max:
        return arith::MaximumFOp::create(builder, l, args[0], args[1]);
      case BuiltinId::Log10:
        return math::Log10Op::create(builder, l, args[0]);
      case BuiltinId::Tan:
        return math::TanOp::create(builder, l, args[0]);
      case BuiltinId::Floor:
        return math::FloorOp::create(builder, l, args[0]);
      case BuiltinId::Ceil:
        return math::CeilOp::create(builder, l, args[0]);
      case BuiltinId::Clip:
        return arith::MinimumFOp::create(
            builder, l, arith::MaximumFOp::create(builder, l, args[0], args[1]), args[2]);
      case BuiltinId::Relu:
        return arith::MaximumFOp::create(builder, l, args[0], constant(0.0, l));
      case BuiltinId::Sigmoid: {
        Value e = math::ExpOp::create(builder, l, arith::NegFOp::create(builder, l, args[0]));
        return arith::DivFOp::create(builder, l, constant(1.0, l),
                                     arith::AddFOp::create(builder, l, constant(1.0, l), e));
      }
      case BuiltinId::Softplus: {
        // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, and
        // exact to rounding for large |x| on either side.
        Value magnitude = math::AbsFOp::create(builder, l, args[0]);
        Value e = math::ExpOp::create(builder, l, arith::NegFOp::create(builder, l, magnitude));
        return arith::AddFOp::create(
            builder, l, arith::MaximumFOp::create(builder, l, args[0], constant(0.0, l)),
            math::Log1pOp::create(builder, l, e));
      }
      case BuiltinId::Heaviside: {
        Value positive =
            arith::CmpFOp::create(builder, l, arith::CmpFPredicate::OGT, args[0], constant(0.0, l));
        return arith::SelectOp::create(builder, l, positive, constant(1.0, l), constant(0.0, l));
      }
      case BuiltinId::Pow:
        return power(args[0], c.args[1].get(), args[1], l);
      }
      llvm_unreachable("Sema admits only known functions");
    }
    }
    llvm_unreachable("unknown expression kind");
  }

  Value power(const BinaryExpr &bin, Location l) {
    return power(gen(*bin.lhs), bin.rhs.get(), Value(), l);
  }

  /// Small integer powers become products (exact and vectorisable).
  Value power(Value base, const Expr *exponent, Value exponentValue, Location l) {
    if (auto *n = dynamic_cast<const NumberExpr *>(exponent);
        n && n->value == static_cast<int>(n->value) && std::abs(n->value) <= 4 && n->value != 0) {
      Value result = base;
      for (int i = 1; i < std::abs(static_cast<int>(n->value)); ++i)
        result = arith::MulFOp::create(builder, l, result, base);
      if (n->value < 0)
        result = arith::DivFOp::create(builder, l, constant(1.0, l), result);
      return result;
    }
    return math::PowFOp::create(builder, l, base, exponentValue ? exponentValue : gen(*exponent));
  }

  OpBuilder builder;
  Type realType;
  std::map<std::string, Value> env;
  std::map<std::string, const Declaration *> named; ///< sub-expressions and outputs
  double dt = 0;
  bool inInit = false;
  int64_t populationIndex = 0;
  std::map<const CallExpr *, int64_t> randomSites;
  std::map<std::string, int64_t> noiseStreams;
  int64_t nextRandomStream = 0;
  std::string currentEquation;
  const NetworkModel *net = nullptr;
  bool inSynapse = false;
  /// While generating a per-neuron parameter's value: its draws are shared by
  /// the batch members.
  bool inPerNeuronParameter = false;
  std::pair<double, double> synapseSizes; ///< N_pre, N_post of the projection being built
  /// The pre- and postsynaptic populations of the projection being built.
  std::pair<const PopulationModel *, const PopulationModel *> endpoints;
  bool failed = false;
};

} // namespace

OwningOpRef<ModuleOp>(::ncl::mlirGen)(MLIRContext &context, const NetworkModel &network,
                                      const CodegenOptions &options) {
  return MLIRGenImpl(context, options).gen(network);
}
