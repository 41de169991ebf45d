//===- NclOps.cpp - Verifiers of the ncl operations -----------------------===//
//
// The invariants later passes rely on: state variables and parameters named
// by an op exist in the enclosing population, stages and buffers name
// populations of their network, an ODE's region matches its state, and
// steps are positive.
//
//===----------------------------------------------------------------------===//
#include "ncl/Dialect/Ncl/IR/NclOps.h"
#include "ncl/random_streams.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ncl;

#define GET_OP_CLASSES
#include "ncl/Dialect/Ncl/IR/NclOps.cpp.inc"

//===----------------------------------------------------------------------===//
// ncl.network, ncl.population, ncl.schedule, ncl.stage, ncl.monitor
//===----------------------------------------------------------------------===//

ScheduleOp NetworkOp::getSchedule() {
  auto schedules = getBody().getOps<ScheduleOp>();
  return schedules.empty() ? ScheduleOp() : *schedules.begin();
}

LogicalResult NetworkOp::verify() {
  if (!(getDt().convertToDouble() > 0))
    return emitOpError("dt must be positive");
  if (!(getDuration().convertToDouble() >= 0))
    return emitOpError("duration must not be negative");
  if (!getReal().isF32() && !getReal().isF64())
    return emitOpError("real must be f32 or f64, not ") << getReal();
  if (std::distance(getBody().getOps<ScheduleOp>().begin(), getBody().getOps<ScheduleOp>().end()) >
      1)
    return emitOpError("has more than one ncl.schedule");
  if (auto buffers = getBuffers()) {
    for (auto [k, a] : llvm::enumerate(*buffers)) {
      auto buffer = cast<BufferAttr>(a);
      auto pop = lookupSymbol<PopulationOp>(buffer.getPopulation());
      auto projection = lookupSymbol<ProjectionOp>(buffer.getPopulation());
      bool synaptic =
          buffer.getRole() == BufferRole::RowStart || buffer.getRole() == BufferRole::PostIndex ||
          buffer.getRole() == BufferRole::SynapseState ||
          buffer.getRole() == BufferRole::SynapseDelay ||
          buffer.getRole() == BufferRole::ConnectMask ||
          buffer.getRole() == BufferRole::ColumnStart ||
          buffer.getRole() == BufferRole::ColumnSynapse ||
          buffer.getRole() == BufferRole::ColumnPre || buffer.getRole() == BufferRole::PreTrace ||
          buffer.getRole() == BufferRole::PostTrace ||
          buffer.getRole() == BufferRole::PreTraceNow ||
          buffer.getRole() == BufferRole::PostTraceNow ||
          (buffer.getRole() == BufferRole::Params && projection);
      if (synaptic ? !projection : !pop)
        return emitOpError("buffer ")
               << k << " belongs to unknown " << (synaptic ? "projection " : "population ")
               << buffer.getPopulation();
      if (buffer.getRole() == BufferRole::SynapseState &&
          (buffer.getIndex() < 0 ||
           buffer.getIndex() >= static_cast<int64_t>(projection.getVars().size())))
        return emitOpError("buffer ") << k << " holds variable " << buffer.getIndex()
                                      << " of a projection with " << projection.getVars().size();
      if (buffer.getRole() == BufferRole::PreTrace || buffer.getRole() == BufferRole::PostTrace ||
          buffer.getRole() == BufferRole::PreTraceNow ||
          buffer.getRole() == BufferRole::PostTraceNow) {
        bool pre =
            buffer.getRole() == BufferRole::PreTrace || buffer.getRole() == BufferRole::PreTraceNow;
        ArrayAttr traces = pre ? projection.getPreTracesAttr() : projection.getPostTracesAttr();
        int64_t count = traces ? static_cast<int64_t>(traces.size()) : 0;
        if (buffer.getIndex() < 0 || buffer.getIndex() >= count)
          return emitOpError("buffer ") << k << " holds trace " << buffer.getIndex()
                                        << " of a projection with " << count << " on that side";
      }
      if (buffer.getRole() == BufferRole::SynapticInput) {
        int64_t received = pop.getReceives() ? static_cast<int64_t>(pop.getReceives()->size()) : 0;
        if (buffer.getIndex() < 0 || buffer.getIndex() >= received)
          return emitOpError("buffer ") << k << " holds received variable " << buffer.getIndex()
                                        << " of a population that receives " << received;
      }
      if (buffer.getRole() == BufferRole::State &&
          (buffer.getIndex() < 0 ||
           buffer.getIndex() >= static_cast<int64_t>(pop.getVars().size())))
        return emitOpError("buffer ") << k << " holds variable " << buffer.getIndex()
                                      << " of a population with " << pop.getVars().size();
      // What each role holds (model_abi.h); the runtime's loader checks the same.
      Builder b(getContext());
      auto [element, extent] = [&]() -> std::pair<Type, BufferExtent> {
        switch (buffer.getRole()) {
        case BufferRole::Params:
          return {b.getF64Type(), BufferExtent::Fixed};
        case BufferRole::State:
          return {getReal(), BufferExtent::Neurons};
        case BufferRole::Refractory:
          return {b.getI32Type(), BufferExtent::Neurons};
        case BufferRole::SpikeStep:
        case BufferRole::SpikeIndex:
          return {b.getI64Type(), BufferExtent::SpikeCapacity};
        case BufferRole::SpikeChannel:
          return {b.getI32Type(), BufferExtent::SpikeCapacity};
        case BufferRole::SynapticInput:
          return {getReal(), BufferExtent::Neurons};
        case BufferRole::RowStart:
          return {b.getI64Type(), BufferExtent::Rows};
        case BufferRole::PostIndex:
          return {b.getI32Type(), BufferExtent::Synapses};
        case BufferRole::SynapseState:
          return {getReal(), BufferExtent::Synapses};
        case BufferRole::LastSpike:
          return {b.getI32Type(), BufferExtent::Neurons};
        case BufferRole::SynapseDelay:
          return {b.getIntegerType(16), BufferExtent::Synapses};
        case BufferRole::ConnectMask:
          return {b.getI32Type(), BufferExtent::Fixed};
        case BufferRole::KwtaOrder:
          return {b.getI32Type(), BufferExtent::Neurons};
        case BufferRole::KwtaDuty:
        case BufferRole::KwtaKey:
          return {getReal(), BufferExtent::Neurons};
        case BufferRole::ColumnStart:
          return {b.getI64Type(), BufferExtent::Columns};
        case BufferRole::ColumnSynapse:
        case BufferRole::ColumnPre:
          return {b.getI32Type(), BufferExtent::Synapses};
        case BufferRole::PreTrace:
        case BufferRole::PostTrace:
        case BufferRole::PreTraceNow:
        case BufferRole::PostTraceNow:
          return {getReal(), BufferExtent::Neurons};
        case BufferRole::Series:
          return {getReal(), BufferExtent::Fixed};
        case BufferRole::SeriesShape:
          return {b.getI64Type(), BufferExtent::Fixed};
        }
        llvm_unreachable("every role is handled");
      }();
      if (buffer.getElement() != element || buffer.getExtent() != extent)
        return emitOpError("buffer ")
               << k << " ('" << buffer.getName() << "') of role "
               << stringifyBufferRole(buffer.getRole()) << " must hold " << element
               << " with extent " << stringifyBufferExtent(extent);
      size_t declared = projection ? projection.getParams().size() : pop.getParams().size();
      if (buffer.getRole() == BufferRole::Params &&
          buffer.getCount() != static_cast<int64_t>(declared))
        return emitOpError("buffer ")
               << k << " holds " << buffer.getCount() << " parameters of a "
               << (projection ? "projection" : "population") << " with " << declared;
    }
    // Every population has all its storage, once: the kernels and the
    // runtime look each piece up by role.
    for (PopulationOp pop : getBody().getOps<PopulationOp>()) {
      llvm::DenseMap<int64_t, int> states;
      llvm::DenseMap<int64_t, int> inputs; // received variable -> buffers
      int params = 0, refractory = 0, spikes[3] = {0, 0, 0};
      for (auto buffer : buffers->getAsRange<BufferAttr>()) {
        if (buffer.getPopulation().getValue() != pop.getSymName())
          continue;
        switch (buffer.getRole()) {
        case BufferRole::Params:
          ++params;
          break;
        case BufferRole::State:
          ++states[buffer.getIndex()];
          break;
        case BufferRole::Refractory:
          ++refractory;
          break;
        case BufferRole::SpikeStep:
          ++spikes[0];
          break;
        case BufferRole::SpikeIndex:
          ++spikes[1];
          break;
        case BufferRole::SpikeChannel:
          ++spikes[2];
          break;
        case BufferRole::SynapticInput:
          ++inputs[buffer.getIndex()];
          break;
        case BufferRole::RowStart:
        case BufferRole::PostIndex:
        case BufferRole::SynapseState:
        case BufferRole::LastSpike:
        case BufferRole::SynapseDelay:
        case BufferRole::ConnectMask:
        case BufferRole::ColumnStart:
        case BufferRole::ColumnSynapse:
        case BufferRole::Series:
        case BufferRole::SeriesShape:
        case BufferRole::KwtaOrder:
        case BufferRole::KwtaDuty:
        case BufferRole::KwtaKey:
          break;
        }
      }
      size_t received = pop.getReceives() ? pop.getReceives()->size() : 0;
      if (inputs.size() != received ||
          llvm::any_of(inputs, [](auto &kv) { return kv.second != 1; }))
        return emitOpError("buffer table must give population @")
               << pop.getSymName() << " one synaptic-input buffer per received variable ("
               << received << ")";
      int recorded = pop.getRecordSpikes() || pop.getEmitsSpikes() ? 1 : 0;
      bool complete = params == 1 && refractory == 1 && spikes[0] == recorded &&
                      spikes[1] == recorded && spikes[2] == recorded &&
                      states.size() == pop.getVars().size() &&
                      llvm::all_of(states, [](auto &kv) { return kv.second == 1; });
      if (!complete)
        return emitOpError("buffer table must give population @")
               << pop.getSymName() << " one parameter buffer, one buffer per variable, one "
               << "refractory buffer" << (recorded ? " and its spike record" : "") << ", each once";
    }
  }
  return success();
}

/// The position of the entry named `name` in a list of #ncl.param or
/// #ncl.var attributes, or -1.
template <typename AttrT> static int64_t indexOfName(ArrayAttr list, StringRef name) {
  for (auto [k, a] : llvm::enumerate(list))
    if (cast<AttrT>(a).getName() == name)
      return static_cast<int64_t>(k);
  return -1;
}

int64_t PopulationOp::paramIndex(StringRef name) {
  return indexOfName<ParameterAttr>(getParams(), name);
}

int64_t PopulationOp::varIndex(StringRef name) {
  return indexOfName<VariableAttr>(getVars(), name);
}

double PopulationOp::getNetworkDt() {
  return cast<NetworkOp>((*this)->getParentOp()).getDt().convertToDouble();
}

LogicalResult PopulationOp::verify() {
  // I64Attr accessors return uint64_t; read the signed value to catch < 0.
  if (getSizeAttr().getInt() <= 0)
    return emitOpError("size must be positive, got ") << getSizeAttr().getInt();
  if (getSubstepsAttr() && getSubstepsAttr().getInt() < 1)
    return emitOpError("substeps must be at least 1");
  if (getInit().empty() != getStep().empty())
    return emitOpError("must have both an init and a step region, or neither once lowered");
  llvm::StringSet<> names;
  for (Attribute a : getParams())
    if (!names.insert(cast<ParameterAttr>(a).getName()).second)
      return emitOpError("declares parameter '") << cast<ParameterAttr>(a).getName() << "' twice";
  for (Attribute a : getVars())
    if (!names.insert(cast<VariableAttr>(a).getName()).second)
      return emitOpError("declares '") << cast<VariableAttr>(a).getName() << "' twice";
  // At most one write per variable and region: the final value is unique.
  for (Region *region : {&getInit(), &getStep()}) {
    llvm::StringSet<> written;
    for (auto write : region->getOps<StateWriteOp>())
      if (!written.insert(write.getVar()).second)
        return write.emitOpError("writes state variable '") << write.getVar() << "' twice";
  }
  return success();
}

int64_t ProjectionOp::paramIndex(StringRef name) {
  return indexOfName<ParameterAttr>(getParams(), name);
}

int64_t ProjectionOp::varIndex(StringRef name) {
  return indexOfName<VariableAttr>(getVars(), name);
}

int64_t ProjectionOp::traceIndex(TraceSide side, StringRef name) {
  ArrayAttr traces = side == TraceSide::Pre ? getPreTracesAttr() : getPostTracesAttr();
  return traces ? indexOfName<VariableAttr>(traces, name) : -1;
}

LogicalResult ProjectionOp::verify() {
  auto network = (*this)->getParentOfType<NetworkOp>();
  auto pre = network.lookupSymbol<PopulationOp>(getPreAttr());
  auto post = network.lookupSymbol<PopulationOp>(getPostAttr());
  if (!pre || !post)
    return emitOpError("connects unknown population ") << (pre ? getPostAttr() : getPreAttr());
  for (auto [range, pop] : {std::pair(getPreRange(), pre), std::pair(getPostRange(), post)})
    if (range.size() != 2 || range[0] < 0 || range[0] >= range[1] ||
        range[1] > pop.getSizeAttr().getInt())
      return emitOpError("range must be [begin, end) within the ")
             << pop.getSizeAttr().getInt() << " neurons of @" << pop.getSymName();
  // The deliver stage reads the spikes the presynaptic update stores.
  if (!pre.getEmitsSpikes())
    return emitOpError("presynaptic population @") << pre.getSymName() << " must have emits_spikes";
  // The on_post stage reads the spikes the postsynaptic update stores.
  if (!getOnPost().empty() && !post.getEmitsSpikes())
    return emitOpError("has on_post, so postsynaptic population @")
           << post.getSymName() << " must have emits_spikes";
  if (!getDynamics().empty() && !getDynamics().getOps<PostAddOp>().empty())
    return emitOpError("adds to a postsynaptic variable in its dynamics, which advance only the "
                       "synapse's own state");
  if (!getOnPost().empty() && !getOnPost().getOps<PostAddOp>().empty())
    return emitOpError("adds to a postsynaptic variable in on_post, which may change only the "
                       "synapse's own state");
  if (!(getDelay().convertToDouble() >= 0))
    return emitOpError("delay must not be negative");
  if (!(getPostDelay().convertToDouble() >= 0) || std::isinf(getPostDelay().convertToDouble()))
    return emitOpError("post_delay must be finite and not negative");
  if (getPerSynapseDelay() && getDelay().convertToDouble() != 0)
    return emitOpError("has per-synapse delays and a shared delay");
  if (getPerSynapseDelay() && !isLowered() &&
      llvm::range_size(getInit().getOps<SynapseDelayOp>()) != 1)
    return emitOpError("with per_synapse_delay must set it once in init (ncl.synapse_delay)");
  ConnectAttr connect = getConnect();
  double p = connect.getP().getValueAsDouble();
  if ((connect.getRule() == ConnectRule::FixedProbability ||
       connect.getRule() == ConnectRule::Condition) &&
      !(p >= 0 && p <= 1))
    return emitOpError("connection probability must be in [0, 1], got ") << p;
  DictionaryAttr files = connect.getFiles();
  if ((connect.getRule() == ConnectRule::Explicit) !=
      (files && files.get("pre") && files.get("post")))
    return emitOpError("explicit connectivity, and only it, names `pre` and `post` files");
  if (files)
    for (NamedAttribute file : files) {
      StringRef key = file.getName().getValue();
      if (!isa<StringAttr>(file.getValue()) ||
          (key != "pre" && key != "post" && key != "delay" && key != "mask" && varIndex(key) < 0))
        return emitOpError("names a file for '") << key
                                                 << "', which is not pre, post, delay, mask or "
                                                    "a per-synapse variable";
    }
  // A mask selects candidate pairs of the rules that take a condition.
  if (files && files.get("mask") && connect.getRule() != ConnectRule::AllToAll &&
      connect.getRule() != ConnectRule::FixedProbability &&
      connect.getRule() != ConnectRule::Condition)
    return emitOpError("a mask file needs all_to_all, fixed_probability or condition");
  // Dale's law: the weight is a per-synapse variable; ranges are triples
  // (begin, end or -1, sign +1 or -1).
  if (getWeight() && varIndex(*getWeight()) < 0)
    return emitOpError("weight '") << *getWeight() << "' is not a per-synapse variable";
  if (auto ranges = getSignedRanges()) {
    if (!getWeight() || ranges->size() % 3 != 0)
      return emitOpError("signed_ranges need a weight and (begin, end, sign) triples");
    for (size_t k = 0; k < ranges->size(); k += 3)
      if ((*ranges)[k] < 0 || ((*ranges)[k + 1] != -1 && (*ranges)[k + 1] <= (*ranges)[k]) ||
          ((*ranges)[k + 2] != 1 && (*ranges)[k + 2] != -1))
        return emitOpError("signed range ") << k / 3 << " is not (begin, end or -1, +1 or -1)";
  }
  // The condition region exists exactly while a condition rule is unlowered.
  if (!getCondition().empty() &&
      (connect.getRule() != ConnectRule::Condition || getOnPre().empty()))
    return emitOpError("has a condition region without the condition rule or once lowered");
  if (connect.getRule() == ConnectRule::Condition && !getOnPre().empty() && getCondition().empty())
    return emitOpError("connects by a condition but has no condition region");
  if (connect.getN() < 0)
    return emitOpError("connection count must not be negative");
  // An init region with nothing to do (no parameters, no per-synapse
  // variables) prints as `init {}` and parses back without a block, so only
  // on_pre and summed say whether the projection is lowered.
  if (isLowered() && !getInit().empty())
    return emitOpError("has an init region but no on_pre or summed region (once lowered, all "
                       "are empty)");
  llvm::StringSet<> names;
  for (Attribute a : getParams())
    if (!names.insert(cast<ParameterAttr>(a).getName()).second)
      return emitOpError("declares parameter '") << cast<ParameterAttr>(a).getName() << "' twice";
  for (Attribute a : getVars())
    if (!names.insert(cast<VariableAttr>(a).getName()).second)
      return emitOpError("declares '") << cast<VariableAttr>(a).getName() << "' twice";
  return success();
}

LogicalResult StageOp::verify() {
  auto network = (*this)->getParentOfType<NetworkOp>();
  bool synaptic = getKind() == StageKind::Connect || getKind() == StageKind::Deliver ||
                  getKind() == StageKind::DeliverSynapses || getKind() == StageKind::Sum ||
                  getKind() == StageKind::ConnectCondition || getKind() == StageKind::OnPost ||
                  getKind() == StageKind::SynapseStep || getKind() == StageKind::AdvancePreTraces ||
                  getKind() == StageKind::AdvancePostTraces;
  if (!network || (synaptic ? !network.lookupSymbol<ProjectionOp>(getPopulationAttr())
                            : !network.lookupSymbol<PopulationOp>(getPopulationAttr())))
    return emitOpError("names unknown ")
           << (synaptic ? "projection " : "population ") << getPopulationAttr();
  if (getKernel().has_value() != static_cast<bool>(getArgsAttr()))
    return emitOpError("must name both a kernel and its args, or neither");
  if (ArrayAttr constants = getConstantsAttr()) {
    if (!getKernel())
      return emitOpError("has constants but no kernel");
    if (!llvm::all_of(constants, [](Attribute a) { return isa<IntegerAttr>(a); }))
      return emitOpError("constants must be integers");
  }
  // A projection's spikes go by spike (one shared delay) or by synapse.
  if (getKind() == StageKind::Deliver || getKind() == StageKind::DeliverSynapses) {
    bool perSynapse = network.lookupSymbol<ProjectionOp>(getPopulationAttr()).getPerSynapseDelay();
    if (perSynapse != (getKind() == StageKind::DeliverSynapses))
      return emitOpError(perSynapse ? "of a projection with per-synapse delays must be "
                                      "deliver_synapses"
                                    : "deliver_synapses needs a projection with "
                                      "per_synapse_delay");
  }
  return success();
}

int64_t KwtaOp::winners(int64_t size) {
  if (std::optional<int64_t> keep = getKeep())
    return *keep;
  double fraction = getFractionAttr() ? getFractionAttr().getValueAsDouble() : 0;
  return static_cast<int64_t>(std::floor(fraction * static_cast<double>(size) + 0.5));
}

bool KwtaOp::gatesSpikes() {
  auto network = (*this)->getParentOfType<NetworkOp>();
  ScheduleOp schedule = network ? network.getSchedule() : ScheduleOp();
  if (!schedule)
    return false;
  for (StageOp stage : schedule.getBody().getOps<StageOp>())
    if (stage.getKind() == StageKind::KwtaGate && stage.getPopulation() == getPopulation())
      return true;
  return false;
}

LogicalResult KwtaOp::verify() {
  auto network = (*this)->getParentOfType<NetworkOp>();
  auto pop = network ? network.lookupSymbol<PopulationOp>(getPopulationAttr()) : PopulationOp();
  if (!pop)
    return emitOpError("names unknown population ") << getPopulationAttr();
  if (pop.getSpikeFiles())
    return emitOpError("needs neurons to compare; population @")
           << pop.getSymName() << " is a spike generator";
  if (pop.varIndex(getVar()) < 0)
    return emitOpError("population @")
           << pop.getSymName() << " has no variable '" << getVar() << "'";
  if (getKeep().has_value() == static_cast<bool>(getFractionAttr()))
    return emitOpError("needs exactly one of keep (a count) and fraction");
  if (FloatAttr fraction = getFractionAttr()) {
    double f = fraction.getValueAsDouble();
    if (!(f > 0 && f <= 1))
      return emitOpError("fraction must be in (0, 1], got ") << f;
  }
  int64_t k = winners(pop.getSize());
  if (k < 1 || k > static_cast<int64_t>(pop.getSize()))
    return emitOpError("keeps ") << k << " of the " << pop.getSize() << " neurons of @"
                                 << pop.getSymName() << "; it must keep 1 to all of them";
  if (static_cast<bool>(getPeriodAttr()) != static_cast<bool>(getBoostAttr()))
    return emitOpError("boost and period go together");
  if (FloatAttr boost = getBoostAttr()) {
    double beta = boost.getValueAsDouble();
    if (!(beta >= 0 && std::isfinite(beta)))
      return emitOpError("boost must be finite and >= 0, got ") << beta;
    if (!(getPeriodAttr().getValueAsDouble() >= 1))
      return emitOpError("period must be at least 1 step, got ")
             << getPeriodAttr().getValueAsDouble();
  }
  // A spike gate selects among the neurons that cross: the losers keep
  // their value and there is no duty cycle to boost by.
  if (gatesSpikes() && (getBoostAttr() || !getReset().empty()))
    return emitOpError("gates the spikes of @")
           << pop.getSymName() << ", so it can have neither boost nor a losers' reset";
  // Fused: the step computes the keys, once (until ncl-to-loops moves the
  // step's program into its kernel).
  if (getFused() && !pop.getStep().empty() && !pop.getStep().front().empty()) {
    auto keys = pop.getStep().getOps<KwtaKeyOp>();
    if (std::distance(keys.begin(), keys.end()) != 1)
      return emitOpError("is fused, so the step of @")
             << pop.getSymName() << " must compute its key with one ncl.kwta_key";
  }
  return success();
}

LogicalResult MonitorOp::verify() {
  auto network = (*this)->getParentOfType<NetworkOp>();
  if (getKind() == MonitorKind::Synapse) {
    auto projection =
        network ? network.lookupSymbol<ProjectionOp>(getPopulationAttr()) : ProjectionOp();
    if (!projection)
      return emitOpError("of synapses names unknown projection ") << getPopulationAttr();
    ArrayRef<int64_t> range = getRange();
    if (range.size() != 2 || range[0] < 0 || (range[1] != -1 && range[0] >= range[1]) ||
        (range[1] == -1 && range[0] != 0))
      return emitOpError("range must be [begin, end) of synapse indices, or [0, -1) for all");
    if (getEvery() < 1)
      return emitOpError("every must be at least 1 step, got ") << getEvery();
    if (getName().empty())
      return emitOpError("needs a name");
    if (!getVar() || projection.varIndex(*getVar()) < 0)
      return emitOpError("records unknown per-synapse variable '")
             << getVar().value_or("") << "' of @" << projection.getSymName();
    return success();
  }
  auto pop = network ? network.lookupSymbol<PopulationOp>(getPopulationAttr()) : PopulationOp();
  if (!pop)
    return emitOpError("names unknown population ") << getPopulationAttr();
  int64_t size = pop.getSizeAttr().getInt();
  ArrayRef<int64_t> range = getRange();
  if (range.size() != 2 || range[0] < 0 || range[0] >= range[1] || range[1] > size)
    return emitOpError("range must be [begin, end) within the ")
           << size << " neurons of @" << pop.getSymName();
  if (getEvery() < 1)
    return emitOpError("every must be at least 1 step, got ") << getEvery();
  if (getName().empty())
    return emitOpError("needs a name");
  if (getKind() == MonitorKind::State) {
    if (!getVar() || pop.varIndex(*getVar()) < 0)
      return emitOpError("records unknown variable '")
             << getVar().value_or("") << "' of @" << pop.getSymName();
    return success();
  }
  if (getVar())
    return emitOpError("a rate monitor records no variable");
  if (range[0] != 0 || range[1] != size)
    return emitOpError("a rate monitor takes the whole population");
  // The runtime counts the spikes per step from the ones the update stores.
  if (!pop.getEmitsSpikes())
    return emitOpError("population @") << pop.getSymName() << " must have emits_spikes";
  return success();
}

/// The population whose neurons a per-neuron op works on: the enclosing
/// ncl.population, or the one an enclosing ncl.kwta's reset region names.
static PopulationOp neuronPopulation(Operation *op) {
  if (auto pop = op->getParentOfType<PopulationOp>())
    return pop;
  auto kwta = op->getParentOfType<KwtaOp>();
  auto network = kwta ? kwta->getParentOfType<NetworkOp>() : NetworkOp();
  return network ? network.lookupSymbol<PopulationOp>(kwta.getPopulationAttr()) : PopulationOp();
}

LogicalResult ParamOp::verify() {
  if (auto projection = (*this)->getParentOfType<ProjectionOp>()) {
    if (projection.paramIndex(getName()) < 0)
      return emitOpError("unknown parameter '") << getName() << "' of the projection";
    return success();
  }
  auto pop = neuronPopulation(*this);
  if (!pop)
    return emitOpError("must be inside an ncl.population or ncl.projection");
  if (pop.paramIndex(getName()) < 0)
    return emitOpError("unknown parameter '") << getName() << "'";
  return success();
}

template <typename OpT> static LogicalResult verifyStateVar(OpT op) {
  auto pop = neuronPopulation(op);
  if (!pop)
    return op.emitOpError("must be inside an ncl.population");
  if (pop.varIndex(op.getVar()) < 0)
    return op.emitOpError("unknown state variable '") << op.getVar() << "'";
  return success();
}

LogicalResult StateReadOp::verify() { return verifyStateVar(*this); }
LogicalResult StateWriteOp::verify() { return verifyStateVar(*this); }

LogicalResult OdeOp::verify() {
  Block &body = getRhs().front();
  if (body.getNumArguments() != 1 || body.getArgument(0).getType() != getState().getType())
    return emitOpError("region must take one argument of the state's type ")
           << getState().getType();
  if (getResult().getType() != getState().getType())
    return emitOpError("result type must match the state's type");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValue().getType() != getState().getType())
    return emitOpError("region must yield dx/dt of the state's type");
  return success();
}

LogicalResult EventOp::verify() {
  if (getChannelAttr().getInt() < 1)
    return emitOpError("channel must be at least 1 (channel 0 is the spike)");
  auto pop = (*this)->getParentOfType<PopulationOp>();
  int64_t declared = pop && pop.getEvents() ? static_cast<int64_t>(pop.getEvents()->size()) : 0;
  if (pop && getChannelAttr().getInt() > declared)
    return emitOpError("channel ") << getChannelAttr().getInt() << " is not among the population's "
                                   << declared << " events";
  return success();
}

LogicalResult PoissonOp::verify() {
  int64_t stream = getStreamAttr().getInt();
  if (stream < 0 || stream > NCL_RANDOM_STREAM_MASK)
    return emitOpError("stream ") << stream << " is outside [0, " << NCL_RANDOM_STREAM_MASK << "]";
  return success();
}

LogicalResult RandOp::verify() {
  int64_t stream = getStreamAttr().getInt();
  // The stream field of Philox's counter is 16 bits wide.
  if (stream < 0 || stream > NCL_RANDOM_STREAM_MASK)
    return emitOpError("stream ") << stream << " is outside [0, " << NCL_RANDOM_STREAM_MASK << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// Synapses
//===----------------------------------------------------------------------===//

LogicalResult SynapticInputOp::verify() {
  auto pop = (*this)->getParentOfType<PopulationOp>();
  if (!pop)
    return emitOpError("must be inside an ncl.population");
  if (!pop.getReceives() ||
      !llvm::is_contained(pop.getReceives()->getAsValueRange<StringAttr>(), getVar()))
    return emitOpError("'") << getVar() << "' is not among the variables the population receives";
  return success();
}

LogicalResult TimedInputOp::verify() {
  auto pop = (*this)->getParentOfType<PopulationOp>();
  if (!pop)
    return emitOpError("must be inside an ncl.population");
  if (!pop.getTimedInputs() ||
      llvm::none_of(pop.getTimedInputs()->getAsRange<TimedInputAttr>(),
                    [&](TimedInputAttr t) { return t.getInput() == getInput(); }))
    return emitOpError("'") << getInput() << "' is not among the population's timed inputs";
  return success();
}

/// The projection around `op`, with an error if there is none.
static ProjectionOp enclosingProjection(Operation *op) {
  auto projection = op->getParentOfType<ProjectionOp>();
  if (!projection)
    op->emitOpError("must be inside an ncl.projection");
  return projection;
}

template <typename OpT> static LogicalResult verifySynapseVar(OpT op) {
  ProjectionOp projection = enclosingProjection(op);
  if (!projection)
    return failure();
  if (projection.varIndex(op.getVar()) < 0)
    return op.emitOpError("unknown per-synapse variable '") << op.getVar() << "'";
  return success();
}

LogicalResult SynapseReadOp::verify() { return verifySynapseVar(*this); }
LogicalResult SynapseWriteOp::verify() { return verifySynapseVar(*this); }

template <typename OpT> static LogicalResult verifyTrace(OpT op) {
  ProjectionOp projection = enclosingProjection(op);
  if (!projection)
    return failure();
  if (projection.traceIndex(op.getSide(), op.getVar()) < 0)
    return op.emitOpError("unknown ")
           << stringifyTraceSide(op.getSide()) << "synaptic trace '" << op.getVar() << "'";
  return success();
}

LogicalResult TraceReadOp::verify() { return verifyTrace(*this); }

LogicalResult TraceWriteOp::verify() {
  if (failed(verifyTrace(*this)))
    return failure();
  ProjectionOp projection = (*this)->getParentOfType<ProjectionOp>();
  Region &own = getSide() == TraceSide::Pre ? projection.getOnPre() : projection.getOnPost();
  if ((*this)->getParentRegion() != &own)
    return emitOpError("writes a ") << stringifyTraceSide(getSide()) << "synaptic trace outside "
                                    << (getSide() == TraceSide::Pre ? "on_pre" : "on_post");
  return success();
}

LogicalResult AdvanceTracesOp::verify() {
  ProjectionOp projection = enclosingProjection(*this);
  if (!projection)
    return failure();
  // The block of the other side's neurons reads these traces; its own
  // side's it writes.
  Region &reader = getSide() == TraceSide::Pre ? projection.getOnPost() : projection.getOnPre();
  if ((*this)->getParentRegion() != &reader)
    return emitOpError("advances ") << stringifyTraceSide(getSide()) << "synaptic traces outside "
                                    << (getSide() == TraceSide::Pre ? "on_post" : "on_pre");
  if (getVars().size() != getNumResults())
    return emitOpError("has ") << getVars().size() << " traces but " << getNumResults()
                               << " results";
  for (Attribute var : getVars())
    if (projection.traceIndex(getSide(), cast<StringAttr>(var).getValue()) < 0)
      return emitOpError("unknown ") << stringifyTraceSide(getSide()) << "synaptic trace " << var;
  auto advanced =
      dyn_cast_or_null<AdvancedOp>(getBody().front().empty() ? nullptr : &getBody().front().back());
  if (!advanced)
    return emitOpError("region must end in ncl.advanced");
  if (advanced.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ") << advanced.getValues().size()
                                  << " values whose types differ from its results";
  WalkResult walk = getBody().walk([&](Operation *op) {
    if (isa<TraceWriteOp, SynapseReadOp, SynapseWriteOp, PostAddOp, RandOp, PoissonOp>(op) ||
        (isa<TraceReadOp>(op) && cast<TraceReadOp>(op).getSide() != getSide())) {
      op->emitOpError("cannot be in an ncl.advance_traces region, which reads only the ")
          << stringifyTraceSide(getSide()) << "synaptic neuron's traces";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult SynapseDelayOp::verify() {
  ProjectionOp projection = enclosingProjection(*this);
  if (!projection)
    return emitOpError("must be inside an ncl.projection");
  if (!projection.getPerSynapseDelay())
    return emitOpError("sets a per-synapse delay in a projection without per_synapse_delay");
  if (getOperation()->getParentRegion() != &projection.getInit())
    return emitOpError("must be in the projection's init region");
  return success();
}

/// The pre- or postsynaptic population of the projection around `op`.
static PopulationOp endpoint(Operation *op, bool pre) {
  ProjectionOp projection = enclosingProjection(op);
  if (!projection)
    return {};
  auto network = projection->getParentOfType<NetworkOp>();
  return network.lookupSymbol<PopulationOp>(pre ? projection.getPreAttr()
                                                : projection.getPostAttr());
}

template <typename OpT> static LogicalResult verifyEndpointVar(OpT op, bool pre) {
  PopulationOp pop = endpoint(op, pre);
  if (!pop)
    return failure();
  if (pop.varIndex(op.getVar()) < 0 && pop.paramIndex(op.getVar()) < 0)
    return op.emitOpError("unknown variable or parameter '")
           << op.getVar() << "' of the " << (pre ? "pre" : "post") << "synaptic population @"
           << pop.getSymName();
  return success();
}

LogicalResult AcceptOp::verify() {
  auto projection = (*this)->getParentOfType<ProjectionOp>();
  if (!projection || (*this)->getParentRegion() != &projection.getCondition())
    return emitOpError("must be in a projection's condition region");
  if ((*this)->getNextNode())
    return emitOpError("must end the condition region");
  return success();
}

LogicalResult PreReadOp::verify() { return verifyEndpointVar(*this, true); }
LogicalResult PostReadOp::verify() { return verifyEndpointVar(*this, false); }

LogicalResult PostAddOp::verify() {
  PopulationOp post = endpoint(*this, false);
  if (!post)
    return failure();
  if (post.getReceives() &&
      llvm::is_contained(post.getReceives()->getAsValueRange<StringAttr>(), getVar()))
    return success();
  // Added to the state variable itself, in the delivering thread.
  if (post.varIndex(getVar()) >= 0)
    return success();
  return emitOpError("'") << getVar() << "' is neither among the variables @" << post.getSymName()
                          << " receives nor one of its state variables";
}
