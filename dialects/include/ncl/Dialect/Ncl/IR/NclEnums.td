//===- NclEnums.td - Enumerations of the ncl dialect -------*- tablegen -*-===//
//
// The enumerations alone, generated into NclEnums.h.inc / .cpp.inc (library
// MLIRNclEnums, without the dialect): the front end reads the integration
// methods from here, so their names are written once.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_ENUMS_TD
#define NCL_ENUMS_TD

include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enumerations
//===----------------------------------------------------------------------===//

def Ncl_Method_Auto : I32EnumAttrCase<"Auto", 0, "auto">;
def Ncl_Method_Exact : I32EnumAttrCase<"Exact", 1, "exact">;
def Ncl_Method_ExpEuler : I32EnumAttrCase<"ExpEuler", 2, "exp_euler">;
def Ncl_Method_Euler : I32EnumAttrCase<"Euler", 3, "euler">;
def Ncl_Method_RK2 : I32EnumAttrCase<"RK2", 4, "rk2">;
def Ncl_Method_RK4 : I32EnumAttrCase<"RK4", 5, "rk4">;
def Ncl_Method_Heun : I32EnumAttrCase<"Heun", 6, "heun">;

def Ncl_IntegrationMethod : I32EnumAttr<"IntegrationMethod", "an integration method", [
    Ncl_Method_Auto, Ncl_Method_Exact, Ncl_Method_ExpEuler, Ncl_Method_Euler,
    Ncl_Method_RK2, Ncl_Method_RK4, Ncl_Method_Heun]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

// When a synapse's `dynamics` are advanced: every step for every synapse
// (clock-driven), or only when an `on_pre` or `on_post` touches the synapse,
// exactly over the time elapsed since its last event (event-driven).
def Ncl_Drive_ClockDriven : I32EnumAttrCase<"ClockDriven", 0, "clock_driven">;
def Ncl_Drive_EventDriven : I32EnumAttrCase<"EventDriven", 1, "event_driven">;

def Ncl_SynapseDrive : I32EnumAttr<"SynapseDrive", "when synapse dynamics are advanced", [
    Ncl_Drive_ClockDriven, Ncl_Drive_EventDriven]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

// The values are the ABI's (ncl_buffer_role, ncl_buffer_extent in
// runtime/include/ncl/model_abi.h), checked by static_assert in
// compiler/include/ncl/Target/KernelABI.h.
def Ncl_Role_Params : I32EnumAttrCase<"Params", 1, "params">;
def Ncl_Role_State : I32EnumAttrCase<"State", 2, "state">;
def Ncl_Role_Refractory : I32EnumAttrCase<"Refractory", 3, "refractory">;
def Ncl_Role_SpikeStep : I32EnumAttrCase<"SpikeStep", 4, "spike_step">;
def Ncl_Role_SpikeIndex : I32EnumAttrCase<"SpikeIndex", 5, "spike_index">;
def Ncl_Role_SpikeChannel : I32EnumAttrCase<"SpikeChannel", 6, "spike_channel">;
def Ncl_Role_SynapticInput : I32EnumAttrCase<"SynapticInput", 7, "synaptic_input">;
def Ncl_Role_RowStart : I32EnumAttrCase<"RowStart", 8, "row_start">;
def Ncl_Role_PostIndex : I32EnumAttrCase<"PostIndex", 9, "post_index">;
def Ncl_Role_SynapseState : I32EnumAttrCase<"SynapseState", 10, "synapse_state">;
def Ncl_Role_LastSpike : I32EnumAttrCase<"LastSpike", 11, "last_spike">;
def Ncl_Role_SynapseDelay : I32EnumAttrCase<"SynapseDelay", 12, "synapse_delay">;
def Ncl_Role_Series : I32EnumAttrCase<"Series", 13, "series">;
def Ncl_Role_SeriesShape : I32EnumAttrCase<"SeriesShape", 14, "series_shape">;
def Ncl_Role_ColumnStart : I32EnumAttrCase<"ColumnStart", 15, "column_start">;
def Ncl_Role_ColumnSynapse : I32EnumAttrCase<"ColumnSynapse", 16, "column_synapse">;
def Ncl_Role_PreTrace : I32EnumAttrCase<"PreTrace", 17, "pre_trace">;
def Ncl_Role_PostTrace : I32EnumAttrCase<"PostTrace", 18, "post_trace">;
def Ncl_Role_ConnectMask : I32EnumAttrCase<"ConnectMask", 19, "connect_mask">;
def Ncl_Role_ColumnPre : I32EnumAttrCase<"ColumnPre", 22, "column_pre">;
def Ncl_Role_KwtaOrder : I32EnumAttrCase<"KwtaOrder", 20, "kwta_order">;
def Ncl_Role_KwtaDuty : I32EnumAttrCase<"KwtaDuty", 21, "kwta_duty">;
def Ncl_Role_KwtaKey : I32EnumAttrCase<"KwtaKey", 23, "kwta_key">;
def Ncl_Role_PreTraceNow : I32EnumAttrCase<"PreTraceNow", 27, "pre_trace_now">;
def Ncl_Role_PostTraceNow : I32EnumAttrCase<"PostTraceNow", 28, "post_trace_now">;

def Ncl_BufferRole : I32EnumAttr<"BufferRole", "what a buffer holds", [
    Ncl_Role_Params, Ncl_Role_State, Ncl_Role_Refractory, Ncl_Role_SpikeStep,
    Ncl_Role_SpikeIndex, Ncl_Role_SpikeChannel, Ncl_Role_SynapticInput, Ncl_Role_RowStart,
    Ncl_Role_PostIndex, Ncl_Role_SynapseState, Ncl_Role_LastSpike, Ncl_Role_SynapseDelay,
    Ncl_Role_Series, Ncl_Role_SeriesShape, Ncl_Role_ColumnStart, Ncl_Role_ColumnSynapse,
    Ncl_Role_ConnectMask, Ncl_Role_PreTrace, Ncl_Role_PostTrace, Ncl_Role_ColumnPre,
    Ncl_Role_KwtaOrder, Ncl_Role_KwtaDuty, Ncl_Role_KwtaKey, Ncl_Role_PreTraceNow, Ncl_Role_PostTraceNow]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

def Ncl_Extent_Fixed : I32EnumAttrCase<"Fixed", 1, "fixed">;
def Ncl_Extent_Neurons : I32EnumAttrCase<"Neurons", 2, "neurons">;
def Ncl_Extent_SpikeCapacity : I32EnumAttrCase<"SpikeCapacity", 3, "spike_capacity">;
def Ncl_Extent_Synapses : I32EnumAttrCase<"Synapses", 4, "synapses">;
def Ncl_Extent_Rows : I32EnumAttrCase<"Rows", 5, "rows">;
def Ncl_Extent_Columns : I32EnumAttrCase<"Columns", 6, "columns">;

def Ncl_BufferExtent : I32EnumAttr<"BufferExtent", "how many elements a buffer has", [
    Ncl_Extent_Fixed, Ncl_Extent_Neurons, Ncl_Extent_SpikeCapacity, Ncl_Extent_Synapses,
    Ncl_Extent_Rows, Ncl_Extent_Columns]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

def Ncl_StageKind_Init : I32EnumAttrCase<"Init", 1, "init">;
def Ncl_StageKind_Step : I32EnumAttrCase<"Step", 2, "step">;
def Ncl_StageKind_Connect : I32EnumAttrCase<"Connect", 3, "connect">;
def Ncl_StageKind_Deliver : I32EnumAttrCase<"Deliver", 4, "deliver">;
def Ncl_StageKind_Sum : I32EnumAttrCase<"Sum", 5, "sum">;
def Ncl_StageKind_OnPost : I32EnumAttrCase<"OnPost", 6, "on_post">;
def Ncl_StageKind_DeliverSynapses : I32EnumAttrCase<"DeliverSynapses", 8, "deliver_synapses">;
def Ncl_StageKind_ConnectCondition : I32EnumAttrCase<"ConnectCondition", 9, "connect_condition">;
def Ncl_StageKind_SynapseStep : I32EnumAttrCase<"SynapseStep", 10, "synapse_step">;
def Ncl_StageKind_Kwta : I32EnumAttrCase<"Kwta", 11, "kwta">;
def Ncl_StageKind_AdvancePreTraces : I32EnumAttrCase<"AdvancePreTraces", 13, "advance_pre_traces">;
def Ncl_StageKind_AdvancePostTraces : I32EnumAttrCase<"AdvancePostTraces", 14, "advance_post_traces">;
// Since ABI 9: the k-WTA of a spiking population, before its update.
def Ncl_StageKind_KwtaKeys : I32EnumAttrCase<"KwtaKeys", 15, "kwta_keys">;
def Ncl_StageKind_KwtaGate : I32EnumAttrCase<"KwtaGate", 16, "kwta_gate">;
def Ncl_StageKind : I32EnumAttr<"StageKind", "when the runtime runs a stage", [
    Ncl_StageKind_Init, Ncl_StageKind_Step, Ncl_StageKind_Connect, Ncl_StageKind_Deliver,
    Ncl_StageKind_Sum, Ncl_StageKind_OnPost, Ncl_StageKind_DeliverSynapses,
    Ncl_StageKind_ConnectCondition, Ncl_StageKind_SynapseStep, Ncl_StageKind_Kwta,
    Ncl_StageKind_AdvancePreTraces, Ncl_StageKind_AdvancePostTraces, Ncl_StageKind_KwtaKeys,
    Ncl_StageKind_KwtaGate]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

// How a projection's synapses are drawn; the values are the ABI's
// (ncl_connect_rule).
def Ncl_Connect_AllToAll : I32EnumAttrCase<"AllToAll", 1, "all_to_all">;
def Ncl_Connect_OneToOne : I32EnumAttrCase<"OneToOne", 2, "one_to_one">;
def Ncl_Connect_FixedProbability : I32EnumAttrCase<"FixedProbability", 3, "fixed_probability">;
def Ncl_Connect_FixedInDegree : I32EnumAttrCase<"FixedInDegree", 4, "fixed_indegree">;
def Ncl_Connect_FixedOutDegree : I32EnumAttrCase<"FixedOutDegree", 5, "fixed_outdegree">;
def Ncl_Connect_FixedTotal : I32EnumAttrCase<"FixedTotal", 6, "fixed_total">;
def Ncl_Connect_Explicit : I32EnumAttrCase<"Explicit", 7, "explicit">;
def Ncl_Connect_Condition : I32EnumAttrCase<"Condition", 8, "condition">;
def Ncl_ConnectRule : I32EnumAttr<"ConnectRule", "a connectivity rule", [
    Ncl_Connect_AllToAll, Ncl_Connect_OneToOne, Ncl_Connect_FixedProbability,
    Ncl_Connect_FixedInDegree, Ncl_Connect_FixedOutDegree, Ncl_Connect_FixedTotal,
    Ncl_Connect_Explicit, Ncl_Connect_Condition]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

// Which neurons a projection's per-neuron trace belongs to: its presynaptic
// neurons (changed by on_pre) or its postsynaptic ones (changed by on_post).
def Ncl_TraceSide_Pre : I32EnumAttrCase<"Pre", 0, "pre">;
def Ncl_TraceSide_Post : I32EnumAttrCase<"Post", 1, "post">;
def Ncl_TraceSide : I32EnumAttr<"TraceSide", "the neurons a synaptic trace is kept for", [
    Ncl_TraceSide_Pre, Ncl_TraceSide_Post]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

// What a monitor records; the values are the ABI's (ncl_monitor_kind).
def Ncl_Monitor_State : I32EnumAttrCase<"State", 1, "state">;
def Ncl_Monitor_Rate : I32EnumAttrCase<"Rate", 2, "rate">;
def Ncl_Monitor_Synapse : I32EnumAttrCase<"Synapse", 3, "synapse">;
def Ncl_MonitorKind : I32EnumAttr<"MonitorKind", "what a monitor records", [
    Ncl_Monitor_State, Ncl_Monitor_Rate, Ncl_Monitor_Synapse]> {
  let cppNamespace = "::mlir::ncl";
  let genSpecializedAttr = 0;
}

#endif // NCL_ENUMS_TD
