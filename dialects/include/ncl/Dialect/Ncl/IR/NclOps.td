//===- NclOps.td - Operations of the ncl dialect -----------*- tablegen -*-===//
#ifndef NCL_OPS_TD
#define NCL_OPS_TD

include "ncl/Dialect/Ncl/IR/NclDialect.td"
include "ncl/Dialect/Ncl/IR/NclAttributes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Populations and their storage
//===----------------------------------------------------------------------===//

def Ncl_NetworkOp : Ncl_Op<"network", [Symbol, SymbolTable, SingleBlock, NoTerminator,
                                        IsolatedFromAbove]> {
  let summary = "A network: its populations, the order of work in a step, and run defaults";
  let description = [{
    Everything the runtime needs to know about a model: the populations, the
    projections between them (and, later, sources and monitors), the
    `ncl.schedule` of init, connect, deliver and step work, the default `dt`, `duration` (seconds) and `seed`, the
    precision of state (`real`, f32 or f64) and the `.ncl` file it came
    from. `batch` is the number of independent copies of the network a run
    simulates unless the user chooses another (docs/semantics.md,
    "Batches"); `batch_refusal`, where present, says why the network cannot
    run more than one (a projection whose synapses would need a copy per
    member), and the runtime refuses a batch above 1 with it.
    The library's descriptor is computed from this op alone, so a
    module printed at any stage before LLVM compiles to the same library.
    `ncl-allocate-buffers` adds `buffers`, the buffer table: where each
    population's parameters, variables, spike records and synaptic inputs
    live, and each projection's parameters, per-synapse variables and
    connectivity.

    ```mlir
    ncl.network @Single {dt = 1.0e-4 : f64, duration = 1.0 : f64, seed = 1 : i64,
                         real = f64, source = "lif.ncl"} {
      ncl.population @P {...} init {...} step {...}
      ncl.projection @C {...} init {...} on_pre {...}
      ncl.schedule {
        ncl.stage init @P
        ncl.stage connect @C
        ncl.stage deliver @C
        ncl.stage step @P
      }
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, F64Attr:$dt,
                       DefaultValuedAttr<F64Attr, "1.0">:$duration,
                       DefaultValuedAttr<I64Attr, "0">:$seed,
                       TypeAttr:$real, DefaultValuedAttr<StrAttr, "\"\"">:$source,
                       OptionalAttr<TypedArrayAttrBase<Ncl_BufferAttr, "buffer table">>:$buffers,
                       DefaultValuedAttr<I64Attr, "1">:$batch,
                       OptionalAttr<StrAttr>:$batch_refusal);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The network's schedule, or null.
    ::mlir::ncl::ScheduleOp getSchedule();
  }];
}

def Ncl_PopulationOp : Ncl_Op<"population", [Symbol, NoTerminator, IsolatedFromAbove,
                                              HasParent<"NetworkOp">]> {
  let summary = "A population of identical neurons and its per-step program";
  let description = [{
    Holds what one neuron does, and what the runtime must know about it. The
    `init` region computes each state variable's initial value; the `step`
    region advances one neuron by one time step of `ncl.dt` seconds, in the
    order fixed by docs/semantics.md. Both are written for a single neuron;
    `ncl-to-loops` wraps them in loops over the population (and over
    steps) and leaves the regions empty: the op then only describes.

    `params` are the shared parameters (then inputs) with units, defaults
    and ranges, in the order of the parameter buffer; `vars` the per-neuron
    arrays (per-neuron parameters, state variables, outputs); `derived` the
    parameters computed from others; `events` the names of custom events
    (channel k is `events[k-1]`). `method` and `substeps` carry the
    integration scheme chosen by the population or its neuron
    (`ncl-integrate`; absent means the pass chooses). `max_dt` and `min_dt`
    bound the dt the runtime may run it with: `ncl-integrate` sets `max_dt`
    for explicit schemes, MLIRGen both for a discrete `update` block that
    never reads `ncl.dt`. `receives` names the variables and inputs that
    projections add to (each read by `ncl.synaptic_input`); `emits_spikes`
    says that projections read its spikes, so its update stores them even
    when they are not recorded.

    Sources (docs/semantics.md): `spike_files` (times, indices) makes the
    population a spike generator, whose spikes the runtime reads from the
    two `.npy` files; it has no variables, and the schedule has no stage
    for it. `timed_inputs` lists the inputs that follow series from files
    (each read by `ncl.timed_input`). `data_dir` is the directory relative
    file names resolve against (the `.ncl` file's, when compiled).

    ```mlir
    ncl.population @G {neuron = "spike_generator", size = 100 : i64, params = [],
        vars = [], emits_spikes, data_dir = "/home/me/model",
        spike_files = ["times.npy", "indices.npy"]} init {
    } step {
    }
    ```

    Example:

    ```mlir
    ncl.population @P {neuron = "LIF", size = 10 : i64, record_spikes,
        params = [#ncl.param<name = "El", unit = "mV", scale = 1.000000e-03 : f64,
                             dim = [4, 2, -6, -2, 0, 0, 0], value = -7.000000e-02 : f64>,
                  #ncl.param<name = "tau", unit = "ms", scale = 1.000000e-03 : f64,
                             dim = [0, 0, 2, 0, 0, 0, 0], value = 2.000000e-02 : f64>],
        vars = [#ncl.var<name = "v", unit = "mV", scale = 1.000000e-03 : f64,
                         dim = [4, 2, -6, -2, 0, 0, 0]>]} init {
      %el = ncl.param "El" : f64
      ncl.state_write "v", %el : f64
    } step {
      %v = ncl.state_read "v" : f64
      %tau = ncl.param "tau" : f64
      %r = ncl.is_refractory : i1
      %v1 = ncl.ode "v" (%v) clamp %r : f64 {
      ^bb0(%x: f64):
        %d = arith.divf %x, %tau : f64
        %n = arith.negf %d : f64
        ncl.yield %n : f64
      }
      ncl.state_write "v", %v1 : f64
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$neuron, I64Attr:$size,
                       TypedArrayAttrBase<Ncl_ParameterAttr, "parameters">:$params,
                       TypedArrayAttrBase<Ncl_VariableAttr, "per-neuron variables">:$vars,
                       OptionalAttr<TypedArrayAttrBase<Ncl_DerivedAttr, "derived parameters">>:$derived,
                       OptionalAttr<StrArrayAttr>:$events,
                       UnitAttr:$record_spikes,
                       OptionalAttr<Ncl_IntegrationMethodAttr>:$method,
                       OptionalAttr<I64Attr>:$substeps,
                       OptionalAttr<F64Attr>:$max_dt, OptionalAttr<F64Attr>:$min_dt,
                       OptionalAttr<StrArrayAttr>:$receives, UnitAttr:$emits_spikes,
                       OptionalAttr<StrAttr>:$data_dir,
                       OptionalAttr<StrArrayAttr>:$spike_files,
                       OptionalAttr<TypedArrayAttrBase<Ncl_TimedInputAttr, "timed inputs">>:$timed_inputs);
  let regions = (region MaxSizedRegion<1>:$init, MaxSizedRegion<1>:$step);
  let assemblyFormat = "$sym_name attr-dict `init` $init `step` $step";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The index of parameter `name` in `params`, or -1.
    int64_t paramIndex(::llvm::StringRef name);
    /// The index of variable `name` in `vars`, or -1.
    int64_t varIndex(::llvm::StringRef name);
    /// Whether ncl-to-loops has moved the program into kernels.
    bool isLowered() { return getStep().empty(); }
    /// The network's dt (the default of the run's).
    double getNetworkDt();
  }];
}

def Ncl_ProjectionOp : Ncl_Op<"projection", [Symbol, NoTerminator, IsolatedFromAbove,
                                              HasParent<"NetworkOp">]> {
  let summary = "Synapses from a range of one population onto a range of another";
  let description = [{
    A projection of synapse model `synapse` from neurons `pre_range` =
    [begin, end) of population `pre` onto `post_range` of `post`. The
    runtime draws the synapses at initialisation by the `connect` rule from
    the run's seed; `delay` (seconds, shared by all synapses) is rounded to
    whole steps of the run's dt. With `per_synapse_delay`, each synapse has
    its own delay instead, set by `ncl.synapse_delay` in `init` and kept in
    the projection's `synapse_delay` buffer; its spikes are then delivered
    by a `deliver_synapses` stage, and `delay` is unused (0). `params` are
    the shared synapse parameters
    (settable at load time like a population's), `vars` the per-synapse
    variables. `reads_presynaptic_state`, set by `ncl-to-loops`, says that
    `on_pre` or `summed` reads state variables of presynaptic neurons (which
    other threads update), so the runtime has the threads meet in every step.

    The regions are written for one synapse: `init` gives each per-synapse
    variable its initial value (from `ncl.pre_index`, `ncl.post_index`,
    parameters and `ncl.rand`), `on_pre` says what an arriving presynaptic
    spike does (`ncl.post_add` to a postsynaptic variable, writes of the
    synapse's own state). The optional `summed` region is evaluated every
    step for every synapse, reading start-of-step values; its
    `ncl.post_add`s are summed per postsynaptic neuron into inputs (in
    ascending presynaptic order) for that step only (summed variables,
    docs/semantics.md). The optional `on_post` region says what a spike of
    the postsynaptic neuron does to the synapse: writes of the synapse's
    own state only (no `ncl.post_add`), reading the neurons' start-of-step
    values; it runs at the start of the step after the spike, after every
    projection's `on_pre` (the postsynaptic population must then have
    `emits_spikes`), or, with a `post_delay` (seconds, shared, rounded to
    whole steps of the run's dt like `delay`; 0 when absent), that many
    steps later: the dendritic, back-propagating delay. `ncl-to-loops` moves the regions into the
    projection's `connect`, `deliver`, `on_post` and `sum` kernels and
    leaves them empty: the op then only describes. The optional `dynamics`
    region advances every synapse's state by one step, like a population's
    `step`: `ncl.ode`s of its variables (integrated by `ncl-integrate`),
    then `ncl.synapse_write`s; it reads the neurons' start-of-step values
    and becomes the `synapse_step` kernel.

    ```mlir
    ncl.projection @Trace {synapse = "Trace", pre = @P, post = @P, ...} init {
      ...
    } on_pre {
      ...
    } dynamics {
      %x = ncl.synapse_read "x" : f64
      %tau = ncl.param "tau" : f64
      %x1 = ncl.ode "x" (%x) : f64 {
      ^bb0(%xi: f64):
        %n = arith.negf %xi : f64
        %d = arith.divf %n, %tau : f64
        ncl.yield %d : f64
      }
      ncl.synapse_write "x", %x1 : f64
    }
    ``` Empty `on_pre` and `summed` mean
    lowered; an empty `init` with a non-empty `on_pre` or `summed` (a
    synapse without parameters or state) has nothing to initialise. The
    presynaptic population must have `emits_spikes`, the postsynaptic one
    `receives` every name `on_pre` or `summed`
    adds to.

    `pre_traces` and `post_traces` (set by `ncl-integrate`) are variables
    the synapse model declares per synapse but that hold the same value for
    every synapse of a presynaptic (postsynaptic) neuron: event-driven
    traces that start at 0, decay by their own linear ODE and change only
    in `on_pre` (`on_post`) by amounts that depend on nothing of the
    synapse. They are kept once per neuron, with a hidden `_lastupdate`
    trace of the same side (the time of the neuron's last event), and read
    and written by `ncl.trace_read` and `ncl.trace_write`.

    Dale's law: `weight` names the per-synapse variable whose sign the
    presynaptic neuron fixes, and `signed_ranges` lists (begin, end, sign)
    triples of presynaptic neurons (end -1: to the end of the population;
    sign +1 excitatory, -1 inhibitory). The regions already apply the sign
    (MLIRGen writes |w| * sign in `init` and clips every later write of the
    weight at 0); the attributes tell the runtime which values read from
    files it must check.

    ```mlir
    ncl.projection @W {synapse = "Dense", pre = @P, post = @P, ...,
        weight = "w", signed_ranges = array<i64: 0, 80, 1, 80, 100, -1>} init {
      ...
    }
    ```

    A projection whose `connect` rule is `condition` has a third region,
    `condition`, written for one candidate pair (`ncl.pre_index`,
    `ncl.post_index`, parameters, `ncl.pre_read`, `ncl.post_read`) and
    ending in `ncl.accept`; `ncl-to-loops` moves it into the projection's
    `condition` kernel, which the runtime calls per presynaptic row while it
    builds the synapses.

    ```mlir
    ncl.projection @C {synapse = "Exc", pre = @P, post = @P, ...,
        connect = #ncl.connect<rule = condition, p = 1.000000e+00 : f64, n = 0,
                               autapses = true, multapses = true>, ...} init {
      ...
    } on_pre {
      ...
    } condition {
      %i = ncl.pre_index : f64
      %j = ncl.post_index : f64
      %d = arith.subf %i, %j : f64
      %a = math.absf %d : f64
      %c10 = arith.constant 1.000000e+01 : f64
      %near = arith.cmpf olt, %a, %c10 : f64
      ncl.accept %near
    }
    ```

    ```mlir
    ncl.projection @Ce {synapse = "Exc", pre = @P, post = @P,
        pre_range = array<i64: 0, 3200>, post_range = array<i64: 0, 4000>,
        connect = #ncl.connect<rule = fixed_probability, p = 2.000000e-02 : f64, n = 0,
                               autapses = true, multapses = true>,
        delay = 0.000000e+00 : f64,
        params = [#ncl.param<name = "we">], vars = [#ncl.var<name = "w">]} init {
      %we = ncl.param "we" : f64
      ncl.synapse_write "w", %we : f64
    } on_pre {
      %w = ncl.synapse_read "w" : f64
      ncl.post_add "ge", %w : f64
    }
    ```

    A synapse that also learns from postsynaptic spikes (nearest-neighbour
    pair STDP written with the times of the last spikes):

    ```mlir
    ncl.projection @S {synapse = "PairSTDP", pre = @In, post = @Out, ...} init {
      ...
    } on_pre {
      ...
    } on_post {
      %t = ncl.time : f64
      %w = ncl.synapse_read "w" : f64
      %tpre = ncl.synapse_read "tpre" : f64
      %ap = ncl.param "Ap" : f64
      %tau = ncl.param "tau" : f64
      %d = arith.subf %tpre, %t : f64
      %x = arith.divf %d, %tau : f64
      %e = math.exp %x : f64
      %dw = arith.mulf %ap, %e : f64
      %w1 = arith.addf %w, %dw : f64
      ncl.synapse_write "tpost", %t : f64
      ncl.synapse_write "w", %w1 : f64
    }
    ```

    A gap junction: no spikes, a current summed every step.

    ```mlir
    ncl.projection @Gap {synapse = "Gap", pre = @P, post = @P, ...} init {
    } on_pre {
    } summed {
      %g = ncl.param "g" : f64
      %vi = ncl.pre_read "v" : f64
      %vj = ncl.post_read "v" : f64
      %d = arith.subf %vi, %vj : f64
      %i = arith.mulf %g, %d : f64
      ncl.post_add "I_gap", %i : f64
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$synapse, FlatSymbolRefAttr:$pre,
                       FlatSymbolRefAttr:$post, DenseI64ArrayAttr:$pre_range,
                       DenseI64ArrayAttr:$post_range, Ncl_ConnectAttr:$connect, F64Attr:$delay,
                       TypedArrayAttrBase<Ncl_ParameterAttr, "parameters">:$params,
                       TypedArrayAttrBase<Ncl_VariableAttr, "per-synapse variables">:$vars,
                       UnitAttr:$per_synapse_delay, UnitAttr:$reads_presynaptic_state,
                       OptionalAttr<Ncl_SynapseDriveAttr>:$drive,
                       DefaultValuedAttr<F64Attr, "0.0">:$post_delay,
                       OptionalAttr<F64Attr>:$max_dt,
                       OptionalAttr<TypedArrayAttrBase<Ncl_VariableAttr, "presynaptic traces">>:$pre_traces,
                       OptionalAttr<TypedArrayAttrBase<Ncl_VariableAttr, "postsynaptic traces">>:$post_traces,
                       OptionalAttr<StrAttr>:$weight,
                       OptionalAttr<DenseI64ArrayAttr>:$signed_ranges);
  let regions = (region MaxSizedRegion<1>:$init, MaxSizedRegion<1>:$on_pre,
                 MaxSizedRegion<1>:$summed, MaxSizedRegion<1>:$condition,
                 MaxSizedRegion<1>:$on_post, MaxSizedRegion<1>:$dynamics);
  let assemblyFormat = "$sym_name attr-dict `init` $init `on_pre` $on_pre (`on_post` $on_post^)? "
                       "(`summed` $summed^)? (`dynamics` $dynamics^)? (`condition` $condition^)?";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The index of parameter `name` in `params`, or -1.
    int64_t paramIndex(::llvm::StringRef name);
    /// The index of variable `name` in `vars`, or -1.
    int64_t varIndex(::llvm::StringRef name);
    /// The index of trace `name` in `pre_traces` or `post_traces`, or -1.
    int64_t traceIndex(::mlir::ncl::TraceSide side, ::llvm::StringRef name);
    /// Whether ncl-to-loops has moved the program into kernels.
    bool isLowered() {
      return getOnPre().empty() && getOnPost().empty() && getSummed().empty() &&
             getDynamics().empty();
    }
  }];
}

def Ncl_ScheduleOp : Ncl_Op<"schedule", [SingleBlock, NoTerminator, HasParent<"NetworkOp">]> {
  let summary = "The order of work: init stages once, step stages each step";
  let description = [{
    Lists the network's stages in the order the runtime runs them: every
    `init` stage once, in order, then every `connect` stage once (after the
    runtime has drawn the projection's synapses), then, for each interval
    of steps, the `deliver`, `deliver_synapses`, `on_post`, `sum`, `synapse_step` and `step`
    stages in order. Fusion is a pass over this list. `ncl-to-loops` names each stage's kernel and its
    arguments, which the library's descriptor lists.

    ```mlir
    ncl.schedule {
      ncl.stage init @P
      ncl.stage init @Q
      ncl.stage connect @C
      ncl.stage deliver @C
      ncl.stage step @P
      ncl.stage step @Q
    }
    ```
  }];
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
}

def Ncl_StageOp : Ncl_Op<"stage", [HasParent<"ScheduleOp">]> {
  let summary = "One piece of scheduled work over a population or a projection";
  let description = [{
    `init` sets the initial state of the population's neurons, `step`
    advances them by a number of steps. `connect`, `deliver` and `sum` name
    a projection instead: `connect` gives its synapses their initial values
    (presynaptic rows [begin, end)), `deliver` applies a list of
    presynaptic spikes to the postsynaptic neurons [begin, end);
    `deliver_synapses` (a projection with `per_synapse_delay`) applies a
    list of synapses whose spikes arrive in this step, `on_post` runs the
    projection's `on_post` for every synapse onto the postsynaptic neurons
    of a list (those of [begin, end) that spiked at the step's start, found
    through the column index the runtime builds), `synapse_step` advances
    every synapse onto the postsynaptic neurons [begin, end) by one step
    (a projection with `dynamics`), `sum` adds the
    projection's summed values of one step to the postsynaptic neurons
    [begin, end). `connect_condition` (a projection connected by a
    condition) evaluates the condition for presynaptic row `begin` and
    every postsynaptic neuron of the range into the projection's connect
    mask; the runtime calls it while it builds the synapses, after the init
    stages. `kwta` (a population with `ncl.kwta`) keeps the winners of
    the population's k-WTA: the runtime runs it on one thread over all
    the population's neurons after every `step` stage of a step.
    `advance_pre_traces` (`advance_post_traces`) computes, for the
    presynaptic neurons [begin, end) (postsynaptic), the value of each
    trace an `ncl.advance_traces` of the projection reads at the step's
    time, into the projection's `pre_trace_now` (`post_trace_now`) buffers;
    the runtime runs it in a step before the first `deliver` (`on_post`)
    call that has spikes to apply. Once
    lowered, `kernel` names the function that does it and `args` says what
    each of its arguments is: an integer is an index into the buffer table,
    a string a field of the kernel header (`begin`, `end`, `size`,
    `first_step`, `num_steps`, `seed`, `dt`, `spike_capacity`, `results`,
    `spikes`, `num_spikes`, `synapses`, `num_synapses`). `constants`, where
    present, are integers passed after them, in order: a kernel several
    stages share takes what differed between theirs (their random streams;
    ncl-merge-kernels).

    ```mlir
    ncl.stage step @P
    ncl.stage step @P kernel @ncl_P_update {args = [0, 1, 2, "begin", "end", "dt"]}
    ncl.stage deliver @C kernel @ncl_C_deliver {args = [10, 11, 12, 13, 9, "begin", "end",
        "first_step", "seed", "dt", "spikes", "num_spikes"]}
    ncl.stage step @Q kernel @ncl_P_update {args = [5, 6, 7, "begin", "end", "dt"],
        constants = [67108864 : i32]}
    ```
  }];
  let arguments = (ins EnumProp<Ncl_StageKind>:$kind, FlatSymbolRefAttr:$population,
                       OptionalAttr<FlatSymbolRefAttr>:$kernel, OptionalAttr<ArrayAttr>:$args,
                       OptionalAttr<ArrayAttr>:$constants);
  let assemblyFormat = "$kind $population (`kernel` $kernel^)? attr-dict";
  let hasVerifier = 1;
}

def Ncl_KwtaOp : Ncl_Op<"kwta", [NoTerminator, IsolatedFromAbove, HasParent<"NetworkOp">]> {
  let summary = "k-winners-take-all over a population's variable, after each step's update";
  let description = [{
    After every step's update of `population`, keeps the `keep` largest
    values of its per-neuron variable `var` (a state variable or output) and
    changes the others: without a `reset` region they are set to 0, with one
    the region runs for every loser (a per-neuron program like a
    population's `step` region, of `ncl.param`, `ncl.state_read`,
    `ncl.state_write`, ...). `keep` is a count; `fraction` instead keeps
    k = floor(fraction * N + 0.5) of the run's size N. Ties are broken by
    the lower neuron index, so the winners are one well-defined set: the k
    first neurons of the order "larger value first, then lower index".
    With `boost` = beta > 0, the values compared are x_i * exp(beta * (k/N -
    d_i)), d_i each neuron's duty cycle, a moving average over `period`
    steps of having won (docs/semantics.md, "k-WTA"); the winners keep their
    own, unboosted value.

    `ncl-to-loops` lowers it to a kernel `ncl_<P>_kwta` for the schedule's
    `ncl.stage kwta @P`: a quickselect on neuron indices (median-of-three
    pivots, expected linear time, not a sort) in the population's
    `kwta_order` buffer, then one loop over the population that applies the
    mask (and the duty cycles' update, into `kwta_duty`). The op then stays,
    with an empty region, as a description.

    `fused` (set by `ncl-fuse`) says that the population's `step` region
    ends with an `ncl.kwta_key`: the update loop fills `kwta_order` and,
    with boosting, computes every key once into `kwta_key`, so the
    selection only reads them.

    On a spiking population (one whose schedule has the stages `kwta_keys`
    and `kwta_gate` for it, before its `step`: since ABI 9) the op chooses
    which neurons may spike instead: `ncl-to-loops` builds `ncl_<P>_kwta_keys`
    (each thread: key = the value of `var` after integration, before reset,
    for a neuron that crosses its threshold and is free, else -inf, into
    `kwta_key`), `ncl_<P>_kwta_gate` (one thread: the same selection, then
    1 or 0 per neuron into `kwta_key`) and an update whose `ncl.threshold`
    reads that gate (docs/semantics.md, "k-WTA of spiking neurons"). Such a
    k-WTA has no `boost` and no `reset`; `ncl-fuse` leaves it alone.

    ```mlir
    ncl.kwta @L "r" {keep = 20 : i64}
    ncl.kwta @L "r" {fraction = 2.000000e-02 : f64, boost = 1.5 : f64, period = 1000.0 : f64}
    ncl.kwta @L "x" {keep = 5 : i64} reset {
      %x = ncl.state_read "x" : f64
      %h = arith.constant 5.000000e-01 : f64
      %y = arith.mulf %x, %h : f64
      ncl.state_write "x", %y : f64
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$population, StrAttr:$var, OptionalAttr<I64Attr>:$keep,
                       OptionalAttr<F64Attr>:$fraction, OptionalAttr<F64Attr>:$boost,
                       OptionalAttr<F64Attr>:$period, UnitAttr:$fused);
  let regions = (region MaxSizedRegion<1>:$reset);
  let assemblyFormat = "$population $var attr-dict (`reset` $reset^)?";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Winners in a population of `size` neurons: `keep`, or
    /// floor(fraction * size + 0.5); the runtime computes the same.
    int64_t winners(int64_t size);
    /// Whether the schedule runs this k-WTA as a gate on its population's
    /// spikes (stages kwta_keys and kwta_gate) rather than after its update.
    bool gatesSpikes();
  }];
}

def Ncl_KwtaKeyOp : Ncl_Op<"kwta_key", [HasParent<"PopulationOp">]> {
  let summary = "This step's k-WTA key of the neuron, computed in its update (fused)";
  let description = [{
    The input side of the population's `ncl.kwta`, moved into its `step`
    region by `ncl-fuse`: `value` is what the step writes to the k-WTA's
    variable. `ncl-to-loops` lowers it inside the update loop to a store of
    the neuron's own index into `kwta_order` (the selection's starting
    order) and, with boosting, of its key value * exp(beta * (k/N - d)) into
    `kwta_key` (d the duty cycle in `kwta_duty`), computed by the same
    arithmetic as the unfused selection, so both give the same bits. Without
    boosting the key is the value itself, which the selection reads from
    the variable's own buffer.

    ```mlir
    %r = arith.maximumf %x, %zero : f64
    ncl.state_write "r", %r : f64
    ncl.kwta_key %r : f64
    ```
  }];
  let arguments = (ins AnyFloat:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Ncl_MonitorOp : Ncl_Op<"monitor", [HasParent<"NetworkOp">]> {
  let summary = "A state, population-rate or synapse monitor, sampled by the runtime";
  let description = [{
    Describes what the runtime records besides spikes; no kernel reads or
    writes it. A `state` monitor samples variable `var` of neurons `range` =
    [begin, end) of `population` at the start of every step n with
    n % `every` == 0, before anything of that step runs (docs/semantics.md);
    a `rate` monitor counts the population's spikes in every step
    (`range` is then the whole population). `name` is the stem of its output
    files (`P_v.npy`, `P_rate.npy`), unique in the network. The runtime
    reads the state from the buffer table, so monitors need no generated
    code; a rate monitor's population has `emits_spikes`, so that its update
    stores each spike with its step. A `synapse` monitor names a projection
    instead of a population and samples its per-synapse variable `var` of
    the synapses `range` = [begin, end) (indices in the projection's synapse
    order) like a state monitor; `end` = -1 means every synapse the run
    builds, whose number is known only then.

    ```mlir
    ncl.monitor state "E_v" of @P {var = "v", range = array<i64: 0, 3200>, every = 10 : i64}
    ncl.monitor rate "P_rate" of @P {range = array<i64: 0, 4000>}
    ncl.monitor synapse "C_w" of @C {var = "w", range = array<i64: 0, -1>, every = 100 : i64}
    ```
  }];
  let arguments = (ins EnumProp<Ncl_MonitorKind>:$kind, StrAttr:$name,
                       FlatSymbolRefAttr:$population, OptionalAttr<StrAttr>:$var,
                       DenseI64ArrayAttr:$range, DefaultValuedAttr<I64Attr, "1">:$every);
  let assemblyFormat = "$kind $name `of` $population attr-dict";
  let hasVerifier = 1;
}

def Ncl_ParamOp : Ncl_Op<"param", [Pure]> {
  let summary = "Reads a load-time parameter of the population";
  let description = [{
    The value of parameter `name` of the enclosing population (SI units,
    stored as f64; a f32 result is rounded once). Its place in the
    parameter buffer is the population's business (`params`), not the op's.
    Parameters are uniform over the population and constant during a run, so
    everything computed from them alone is hoisted out of the loops.

    ```mlir
    %tau = ncl.param "tau_m" : f64
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_StateReadOp : Ncl_Op<"state_read", [Pure]> {
  let summary = "The value of a state variable at the start of the step";
  let description = [{
    ```mlir
    %v = ncl.state_read "v" : f64
    ```
  }];
  let arguments = (ins StrAttr:$var);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$var attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_StateWriteOp : Ncl_Op<"state_write"> {
  let summary = "Sets a state variable's value at the end of the step";
  let description = [{
    In an `init` region, the initial value; in a `step` region, the value at
    t + dt. At most one write per variable and region.

    ```mlir
    ncl.state_write "v", %v_next : f64
    ```
  }];
  let arguments = (ins StrAttr:$var, AnyFloat:$value);
  let assemblyFormat = "$var `,` $value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Integration
//===----------------------------------------------------------------------===//

def Ncl_OdeOp : Ncl_Op<"ode", [SingleBlock,
                                AllTypesMatch<["state", "result"]>,
                                RecursiveMemoryEffects]> {
  let summary = "dx/dt of one state variable, not yet integrated";
  let description = [{
    The region receives the state `x` and yields dx/dt (in units of x per
    second); the result is x at t + dt. Values from the enclosing step are
    captured directly. With `clamp %r` the variable is held while %r is
    true: the neuron is refractory (`unless refractory`). `ncl-integrate` replaces
    this op by an explicit scheme, e.g. `ncl.exp_euler` when dx/dt is linear
    in x.

    ```mlir
    %v1 = ncl.ode "v" (%v) clamp %refractory : f64 {
    ^bb0(%x: f64):
      %d = arith.subf %el, %x : f64
      %r = arith.divf %d, %tau : f64
      ncl.yield %r : f64
    }
    ```
  }];
  let arguments = (ins StrAttr:$var, AnyFloat:$state, Optional<I1>:$clamp);
  let results = (outs AnyFloat:$result);
  let regions = (region SizedRegion<1>:$rhs);
  let assemblyFormat = [{
    $var `(` $state `)` (`clamp` $clamp^)? attr-dict `:` type($result) $rhs
  }];
  let hasVerifier = 1;
}

def Ncl_YieldOp : Ncl_Op<"yield", [Pure, Terminator, HasParent<"OdeOp">]> {
  let summary = "Yields dx/dt from an ncl.ode region";
  let description = [{
    ```mlir
    ncl.yield %dxdt : f64
    ```
  }];
  let arguments = (ins AnyFloat:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Ncl_NoiseOp : Ncl_Op<"noise", [Pure, HasParent<"OdeOp">]> {
  let summary = "White noise xi in an equation's right-hand side";
  let description = [{
    A standard white noise (units 1/sqrt(s)), which must enter the
    right-hand side linearly: dx/dt = f(x) + g(x) * xi. `ncl-integrate`
    replaces it by a stochastic scheme whose increments are
    `ncl.rand normal stream` draws; equations that name the same noise share
    its `stream`.

    ```mlir
    %xi = ncl.noise stream 5 : f64
    ```
  }];
  let arguments = (ins I64Attr:$stream);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "`stream` $stream attr-dict `:` type($result)";
}

def Ncl_ExpEulerOp : Ncl_Op<"exp_euler", [Pure, SameOperandsAndResultType]> {
  let summary = "One exponential-Euler step of dx/dt = a + b*x over h";
  let description = [{
    x(t + h) = x + h*phi(b*h)*(a + b*x), with phi(z) = (e^z - 1)/z computed
    with expm1 and its limit phi(0) = 1, so b -> 0 is safe (it becomes
    x + a*h). Exact when a and b are constant over the step, as for LIF and,
    with v frozen, Hodgkin-Huxley gates.

    The increment form is chosen over the equal x*e^(b*h) + a*h*phi(b*h):
    its fixed point is where a + b*x rounds to zero, -a/b to the rounding of
    x, while the other's, a*h*phi/(1 - e^(b*h)), depends on how e^(b*h)
    rounds and drifts by ~eps/|b*h| relative, a large error in float32 at
    small steps (docs/integration.md).

    `h` is the step (dt, or dt / substeps), a value: dt is chosen at load
    time (`ncl.dt`).

    ```mlir
    %x1 = ncl.exp_euler %x, %a, %b step %h : f64
    ```
  }];
  let arguments = (ins AnyFloat:$x, AnyFloat:$a, AnyFloat:$b, AnyFloat:$h);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$x `,` $a `,` $b `step` $h attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Spike semantics
//===----------------------------------------------------------------------===//

def Ncl_IsRefractoryOp : Ncl_Op<"is_refractory", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Whether the neuron is refractory during this step";
  let description = [{
    True while the step's start time is before the end of the neuron's last
    refractory period. With `release %c` (for `refractory while cond`, where
    %c is `not cond` on the start-of-step state), a refractory neuron for
    which %c holds is free from this step on. Emitted once per step, before
    anything that depends on it.

    ```mlir
    %r = ncl.is_refractory : i1
    %r2 = ncl.is_refractory release %below : i1
    ```
  }];
  let arguments = (ins Optional<I1>:$release);
  let results = (outs I1:$result);
  let assemblyFormat = "(`release` $release^)? attr-dict `:` type($result)";
}

def Ncl_ThresholdOp : Ncl_Op<"threshold", [MemoryEffects<[MemWrite]>]> {
  let summary = "Emits a spike when the condition holds and the neuron is free";
  let description = [{
    Evaluated on the state at t + dt. A neuron never spikes while
    `%refractory` holds. The result says whether this neuron spiked in this
    step; the spike is counted, and recorded at time t + dt when the
    population is recorded.

    ```mlir
    %c = arith.cmpf ogt, %v1, %vt : f64
    %fired = ncl.threshold %c unless %r
    ```
  }];
  let arguments = (ins I1:$condition, Optional<I1>:$refractory);
  let results = (outs I1:$fired);
  let assemblyFormat = "$condition (`unless` $refractory^)? attr-dict";
}

def Ncl_EventOp : Ncl_Op<"event", [MemoryEffects<[MemWrite]>]> {
  let summary = "A custom event: recorded like a spike when its condition holds";
  let description = [{
    Evaluated after the spike reset, on the state at t + dt. The result says
    whether the event happened for this neuron in this step (its assignments
    use it like a reset). In a recorded population the event is stored with
    its `channel` (1 for the first custom event of the neuron, 2 for the
    next, ...; spikes are channel 0). Refractoriness does not affect events.

    ```mlir
    %c = arith.cmpf ogt, %ca, %limit : f64
    %burst = ncl.event %c {channel = 1 : i64}
    ```
  }];
  let arguments = (ins I1:$condition, I64Attr:$channel);
  let results = (outs I1:$happened);
  let assemblyFormat = "$condition attr-dict";
  let hasVerifier = 1;
}

def Ncl_ResetOp : Ncl_Op<"reset", [Pure, AllTypesMatch<["value", "reset_value", "result"]>]> {
  let summary = "A state value after the reset of a neuron that spiked";
  let description = [{
    `reset_value` if `fired`, otherwise `value`. A `value` that is NaN or
    infinite is kept even where `fired` holds, so that the runtime sees it
    after the step and stops the run there (a reset must not hide it).

    ```mlir
    %v2 = ncl.reset %fired, %v1, %vr : f64
    ```
  }];
  let arguments = (ins I1:$fired, AnyFloat:$value, AnyFloat:$reset_value);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$fired `,` $value `,` $reset_value attr-dict `:` type($result)";
}

def Ncl_RefractoryOp : Ncl_Op<"refractory", [MemoryEffects<[MemWrite]>]> {
  let summary = "Starts a refractory period when the neuron spiked";
  let description = [{
    A neuron that spiked in the step ending at t + dt is refractory for the
    steps starting in [t + dt, t + dt + duration), duration rounded to whole
    steps. Without a duration it stays refractory until released (see
    `ncl.is_refractory`).

    ```mlir
    ncl.refractory %fired for %t_ref : f64
    ncl.refractory %fired
    ```
  }];
  let arguments = (ins I1:$fired, Optional<AnyFloat>:$duration);
  let assemblyFormat = "$fired (`for` $duration^ `:` type($duration))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Where and when
//===----------------------------------------------------------------------===//

def Ncl_DtOp : Ncl_Op<"dt", [Pure]> {
  let summary = "The time step of the run, in seconds";
  let description = [{
    The run's dt: the network's `dt` unless the runtime was given another
    one at load time (`ncl-run --dt`, `ncl_set_dt`). Every dt-dependent
    constant of the integrators (e^(b dt), propagators, Runge-Kutta weights)
    is computed from it, once per kernel call where it does not change
    within the call. The network's `dt` attribute is the default.

    ```mlir
    %dt = ncl.dt : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_TimeOp : Ncl_Op<"time", [Pure]> {
  let summary = "The time at the start of the step, in seconds";
  let description = [{
    t_n = n * dt for step n, computed from the integer step index (no
    accumulated rounding). Inside an ODE's right-hand side it is the time
    the integrator evaluates it at: ncl-integrate maps it to each stage's
    time (t_n + c_i * h) and each sub-step's.

    ```mlir
    %t = ncl.time : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_NeuronIndexOp : Ncl_Op<"neuron_index", [Pure]> {
  let summary = "The neuron's index in its population (i)";
  let description = [{
    ```mlir
    %i = ncl.neuron_index : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_PopulationSizeOp : Ncl_Op<"population_size", [Pure]> {
  let summary = "The population's size at run time (N)";
  let description = [{
    The size the runtime uses, which may differ from the `size` attribute
    when it is overridden at load time.

    ```mlir
    %n = ncl.population_size : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_RandOp : Ncl_Op<"rand", [Pure]> {
  let summary = "A random number of this neuron, step and call site";
  let description = [{
    Uniform in (0, 1), or standard normal with `normal`, from the
    counter-based Philox4x32-10 generator keyed by the run's seed and
    counted by (step, neuron index, stream); see docs/random.md. The same
    seed gives the same numbers on any thread count and on any backend. Each
    call site in the source has its own `stream`, so two `rand()` calls in
    one step differ while two uses of one named expression agree. In an
    `init` region the step is 2^64 - 1, a value no step uses. A normal is
    Box-Muller with NCL's own log and cos (fma and arith ops, no libm call),
    so it vectorises and is the same on every backend.

    In a batched run (docs/semantics.md, "Batches") the neuron index that
    keys a draw is the neuron's index in the whole batch, b * N + i, so
    that members draw different initial states and noise; with `shared`
    it is i, the index within the member, so that every member draws the
    same value: MLIRGen marks the draws of per-neuron parameters so, which
    are the model's, not a member's.

    ```mlir
    %u = ncl.rand stream 3 : f64
    %z = ncl.rand normal stream 4 : f64
    %b = ncl.rand normal shared stream 0 : f64
    ```
  }];
  let arguments = (ins I64Attr:$stream, UnitAttr:$normal, UnitAttr:$shared);
  let results = (outs AnyFloat:$result);
  let assemblyFormat =
      "(`normal` $normal^)? (`shared` $shared^)? `stream` $stream attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_PoissonOp : Ncl_Op<"poisson", [Pure]> {
  let summary = "A Poisson-distributed count of this neuron, step and call site";
  let description = [{
    `poisson(mean)` of the language: a random whole number from the Poisson
    distribution with the given mean (a float, dimensionless), as a float
    of the result type. Drawn from the same counter-based Philox4x32-10
    generator as `ncl.rand`, keyed by the run's seed and counted by (step,
    neuron or synapse index, stream), so the same seed gives the same counts
    on any thread count; the count is computed in f64 (the same integer in
    f32 and f64 models) by inversion of the distribution function, a mean
    above 16 split into equal parts (docs/random.md, "poisson()"). A
    negative, NaN or infinite mean gives NaN.

    ```mlir
    %k = ncl.poisson %lambda stream 2 : f64
    ```
  }];
  let arguments = (ins AnyFloat:$mean, I64Attr:$stream);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$mean `stream` $stream attr-dict `:` type($mean) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Synapses
//===----------------------------------------------------------------------===//

def Ncl_SynapticInputOp : Ncl_Op<"synaptic_input", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "The sum of the effects on a variable that arrive in this step";
  let description = [{
    In a population's `step` region: what projections' `ncl.post_add` on
    variable (or input) `var` of this neuron delivered for this step, summed
    in a fixed order (docs/semantics.md); reading it clears it. The name
    must be in the population's `receives`.

    ```mlir
    %in = ncl.synaptic_input "ge" : f64
    ```
  }];
  let arguments = (ins StrAttr:$var);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$var attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_TimedInputOp : Ncl_Op<"timed_input", [Pure]> {
  let summary = "This step's sample of an input that follows a file's series";
  let description = [{
    In a population's `step` region: the value of input `input`, one of
    the population's `timed_inputs`, during this step: its sample number
    min(n / r, rows - 1) for step n (r steps per sample), of this neuron's
    column (or the only column), already scaled to SI units by the
    runtime. Constant over the step; past the last sample it holds the
    last value (docs/semantics.md, "Sources").

    ```mlir
    %drive = ncl.timed_input "I" : f64
    ```
  }];
  let arguments = (ins StrAttr:$input);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_SynapseReadOp : Ncl_Op<"synapse_read", [Pure]> {
  let summary = "A per-synapse variable of the synapse being processed";
  let description = [{
    In a projection's `init` or `on_pre` region: the current value of
    per-synapse variable `var` (one of the projection's `vars`) of this
    synapse. In `on_pre`, the value before the spike's own
    `ncl.synapse_write`.

    ```mlir
    %w = ncl.synapse_read "w" : f64
    ```
  }];
  let arguments = (ins StrAttr:$var);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$var attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_SynapseWriteOp : Ncl_Op<"synapse_write"> {
  let summary = "Sets a per-synapse variable";
  let description = [{
    In a projection's `init` region, the initial value; in `on_pre`, the
    value after the spike's effect.

    ```mlir
    ncl.synapse_write "w", %w1 : f64
    ```
  }];
  let arguments = (ins StrAttr:$var, AnyFloat:$value);
  let assemblyFormat = "$var `,` $value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Ncl_TraceReadOp : Ncl_Op<"trace_read", [Pure]> {
  let summary = "A per-neuron trace of the synapse's pre- or postsynaptic neuron";
  let description = [{
    In a projection's `on_pre` or `on_post` region: trace `var` (one of the
    projection's `pre_traces` or `post_traces`, by `side`) of this
    synapse's presynaptic or postsynaptic neuron, as stored: its value at
    the neuron's last event (the trace `_lastupdate` of the same side holds
    that time). Every synapse of the neuron shares it.

    With `now`, after `ncl-to-loops` has lowered the projection's
    `ncl.advance_traces`: the trace's value at the step's time, as that
    op's region computed it for the neuron in this step (the projection's
    `pre_trace_now` or `post_trace_now` buffer), rather than the stored one.

    ```mlir
    %apre = ncl.trace_read pre "apre" : f64
    %last = ncl.trace_read pre "_lastupdate" : f64
    %apost = ncl.trace_read post "apost" now : f64
    ```
  }];
  let arguments = (ins EnumProp<Ncl_TraceSide>:$side, StrAttr:$var, UnitProp:$now);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$side $var (`now` $now^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_AdvanceTracesOp : Ncl_Op<"advance_traces", [RecursiveMemoryEffects]> {
  let summary = "The traces of the other side's neuron, advanced to the step's time";
  let description = [{
    In `on_pre` (side `post`) or `on_post` (side `pre`): the values at the
    step's time t_n of the traces `vars` of the synapse's neuron on `side`,
    which this block only reads. The region computes them for one neuron
    from the stored traces (`ncl.trace_read`, with the side's
    `_lastupdate`), `ncl.time`, parameters and constants, by the closed
    form of their ODEs, and ends in `ncl.advanced`. Every synapse of the
    neuron shares the result, and it changes only when the neuron's
    traces are written, which the block that reads them does not do. So
    `ncl-to-loops` evaluates the region once per neuron and step, in the
    projection's `advance_post_traces` (`advance_pre_traces`) kernel, and
    the synapse loop loads the values (`ncl.trace_read ... now`), instead
    of computing an exponential at every synapse it visits. Inlining the
    region at each use would give the same values.

    ```mlir
    %apost = ncl.advance_traces post ["apost"] {
      %t = ncl.time : f64
      %last = ncl.trace_read post "_lastupdate" : f64
      %elapsed = arith.subf %t, %last : f64
      %a = ncl.trace_read post "apost" : f64
      %tau = ncl.param "taupost" : f64
      %x = arith.divf %elapsed, %tau : f64
      %m = arith.negf %x : f64
      %decay = math.exp %m : f64
      %a1 = arith.mulf %a, %decay : f64
      ncl.advanced %a1 : f64
    } : f64
    ```
  }];
  let arguments = (ins EnumProp<Ncl_TraceSide>:$side, StrArrayAttr:$vars);
  let results = (outs Variadic<AnyFloat>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$side $vars $body attr-dict `:` type($results)";
  let hasVerifier = 1;
}

def Ncl_AdvancedOp : Ncl_Op<"advanced", [Pure, Terminator, HasParent<"AdvanceTracesOp">]> {
  let summary = "Ends an ncl.advance_traces region with the advanced values";
  let description = [{
    ```mlir
    ncl.advanced %a1 : f64
    ```
  }];
  let arguments = (ins Variadic<AnyFloat>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def Ncl_TraceWriteOp : Ncl_Op<"trace_write"> {
  let summary = "Sets a per-neuron trace once per event of its neuron";
  let description = [{
    In `on_pre` (side `pre`) or `on_post` (side `post`) only: the trace's
    value after the event. It is written once per spike of the neuron, not
    once per synapse, so `value` may depend only on what all of the
    neuron's synapses share: the neuron's traces, its index and state,
    parameters, constants, `ncl.time` and `ncl.dt`. `ncl-to-loops` computes
    it before the kernel walks the neuron's row (or column), for every
    spike, even where the calling thread owns none of its synapses.

    ```mlir
    %a1 = arith.addf %a, %dA : f64
    ncl.trace_write pre "apre", %a1 : f64
    %t = ncl.time : f64
    ncl.trace_write pre "_lastupdate", %t : f64
    ```
  }];
  let arguments = (ins EnumProp<Ncl_TraceSide>:$side, StrAttr:$var, AnyFloat:$value);
  let assemblyFormat = "$side $var `,` $value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Ncl_SynapseDelayOp : Ncl_Op<"synapse_delay"> {
  let summary = "Sets the delay of a synapse with its own delay";
  let description = [{
    In the `init` region of a projection with `per_synapse_delay`: this
    synapse's delay in seconds. `ncl-to-loops` rounds it to whole steps of
    the run's dt (`roundeven(delay / dt)`, in f64, as the runtime rounds a
    shared delay) and stores the steps in the projection's `synapse_delay`
    buffer (i16, read as unsigned); a delay that is negative, NaN or longer
    than 65534 steps is stored as 65535, which the runtime reports with the
    projection's name.

    ```mlir
    %r = ncl.rand uniform {stream = 0 : i64} : f64
    %span = arith.constant 1.900000e-02 : f64
    %min = arith.constant 1.000000e-03 : f64
    %x = arith.mulf %r, %span : f64
    %d = arith.addf %min, %x : f64
    ncl.synapse_delay %d : f64
    ```
  }];
  let arguments = (ins AnyFloat:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Ncl_PreReadOp : Ncl_Op<"pre_read", [Pure]> {
  let summary = "A variable of the synapse's presynaptic neuron";
  let description = [{
    In a projection's region: variable `var` (one of the presynaptic
    population's `vars`) of this synapse's presynaptic neuron, as stored
    when the kernel runs (in `on_pre` and `summed`, the value at the start
    of the step; in `init`, the neuron's initial value), or its parameter
    or input `var` (one of its `params`: the population's value, without
    stimuli or synaptic input).

    ```mlir
    %v = ncl.pre_read "v" : f64
    ```
  }];
  let arguments = (ins StrAttr:$var);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$var attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_PostReadOp : Ncl_Op<"post_read", [Pure]> {
  let summary = "A variable of the synapse's postsynaptic neuron";
  let description = [{
    In a projection's region: variable `var` (one of the postsynaptic
    population's `vars`) of this synapse's postsynaptic neuron, as stored
    when the kernel runs; deliveries do not change it (they add to the
    synaptic input, `ncl.post_add`). Like `ncl.pre_read`, it reads a
    parameter or input (the population's value) where `var` is one of the
    population's `params`.

    ```mlir
    %v = ncl.post_read "v" : f64
    ```
  }];
  let arguments = (ins StrAttr:$var);
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "$var attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ncl_PostAddOp : Ncl_Op<"post_add"> {
  let summary = "Adds to a variable or input of the postsynaptic neuron";
  let description = [{
    The effect of an arriving spike: `value` is added to what variable (or
    input) `var` of the postsynaptic neuron receives in the step the spike
    arrives (`ncl.synaptic_input` there) when `var` is among the
    postsynaptic population's `receives`; otherwise `var` is one of its
    state variables and `value` is added to the variable itself, before
    the step's update reads it (what MLIRGen chooses where the two agree:
    docs/semantics.md, "Networks"). Effects are sums, so several spikes
    arriving in one step give the same result in any order up to rounding,
    and NCL fixes the order so that they agree bit for bit.

    ```mlir
    ncl.post_add "ge", %w : f64
    ```

    Only in a projection, and `var` must be among the postsynaptic
    population's `receives` or its state variables.
  }];
  let arguments = (ins StrAttr:$var, AnyFloat:$value);
  let assemblyFormat = "$var `,` $value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Ncl_PreIndexOp : Ncl_Op<"pre_index", [Pure]> {
  let summary = "The presynaptic neuron's index in its population (i)";
  let description = [{
    In a projection's region: the index in the presynaptic population (not
    in `pre_range`) of this synapse's presynaptic neuron, as a real.

    ```mlir
    %i = ncl.pre_index : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_PostIndexOp : Ncl_Op<"post_index", [Pure]> {
  let summary = "The postsynaptic neuron's index in its population (j)";
  let description = [{
    In a projection's region: the index in the postsynaptic population (not
    in `post_range`) of this synapse's postsynaptic neuron, as a real.

    ```mlir
    %j = ncl.post_index : f64
    ```
  }];
  let results = (outs AnyFloat:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ncl_AcceptOp : Ncl_Op<"accept"> {
  let summary = "Whether a connect condition holds for the candidate pair";
  let description = [{
    Ends a projection's `condition` region: the pair (`ncl.pre_index`,
    `ncl.post_index`) is a candidate synapse iff `accepted` is true. Once
    lowered it writes 1 or 0 into the projection's connect mask.

    ```mlir
    ncl.accept %near
    ```
  }];
  let arguments = (ins I1:$accepted);
  let assemblyFormat = "$accepted attr-dict";
  let hasVerifier = 1;
}

#endif // NCL_OPS_TD
