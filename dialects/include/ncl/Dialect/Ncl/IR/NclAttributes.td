//===- NclAttributes.td - Attributes of the ncl dialect ----*- tablegen -*-===//
//
// What the runtime needs to know about a model, carried by the IR so that
// the library's descriptor is computed from the module alone: parameters and
// per-neuron variables with their units and dimensions, derived parameters,
// the integration method, and (after ncl-allocate-buffers) the buffer table.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_ATTRIBUTES_TD
#define NCL_ATTRIBUTES_TD

include "ncl/Dialect/Ncl/IR/NclDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "ncl/Dialect/Ncl/IR/NclEnums.td"

class Ncl_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Ncl_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Ncl_IntegrationMethodAttr : EnumAttr<Ncl_Dialect, Ncl_IntegrationMethod, "method"> {
  let summary = "The integration scheme a population asks for";
  let description = [{
    The names a `.ncl` file may write after `method` (docs/integration.md);
    `auto` lets `ncl-integrate` choose. Written `#ncl<method rk4>`.
  }];
}

def Ncl_SynapseDriveAttr : EnumAttr<Ncl_Dialect, Ncl_SynapseDrive, "drive"> {
  let summary = "When a projection's synapse dynamics are advanced";
  let description = [{
    `clock_driven`: every synapse every step (the `synapse_step` kernel);
    `event_driven`: only in `on_pre` and `on_post`, by the exact solution
    over the time since the synapse's last event. A projection's `method`
    in the `.ncl` file asks for one; `ncl-integrate` chooses otherwise and
    records its choice. Written `#ncl<drive event_driven>`.
  }];
}

//===----------------------------------------------------------------------===//
// The model's description
//===----------------------------------------------------------------------===//

def Ncl_ParameterAttr : Ncl_Attr<"Parameter", "param"> {
  let summary = "A shared parameter (or input) of a population, settable at load time";
  let description = [{
    Its name, the unit it is displayed in (`unit`, "" when dimensionless)
    and that unit's `scale` to SI, its dimension (exponents of m, kg, s, A,
    K, mol, cd, doubled so that 1/sqrt(s) is exact), its default value in
    SI units, and optionally the range the model accepts. The position in
    the population's `params` list is its index in the parameter buffer.
    Left out, the unit is "" (dimensionless), the scale 1, the dimension
    none and the default 0.

    ```mlir
    #ncl.param<name = "tau_m", unit = "ms", scale = 1.000000e-03 : f64,
               dim = [0, 0, 2, 0, 0, 0, 0], value = 2.000000e-02 : f64,
               min = 0.000000e+00 : f64>
    ```
  }];
  let parameters = (ins StringRefParameter<"name">:$name,
                        StringRefParameter<"display unit", "\"\"">:$unit,
                        OptionalParameter<"::mlir::FloatAttr">:$scale,
                        OptionalParameter<"::mlir::DenseI8ArrayAttr">:$dim,
                        OptionalParameter<"::mlir::FloatAttr">:$value,
                        OptionalParameter<"::mlir::FloatAttr">:$min,
                        OptionalParameter<"::mlir::FloatAttr">:$max);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Ncl_VariableAttr : Ncl_Attr<"Variable", "var"> {
  let summary = "A per-neuron variable of a population: one array of reals";
  let description = [{
    Per-neuron parameters, state variables and outputs, in the order the
    runtime lists them. Units as for `#ncl.param`.

    ```mlir
    #ncl.var<name = "v", unit = "mV", scale = 1.000000e-03 : f64,
             dim = [4, 2, -6, -2, 0, 0, 0]>
    ```
  }];
  let parameters = (ins StringRefParameter<"name">:$name,
                        StringRefParameter<"display unit", "\"\"">:$unit,
                        OptionalParameter<"::mlir::FloatAttr">:$scale,
                        OptionalParameter<"::mlir::DenseI8ArrayAttr">:$dim);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Ncl_DerivedAttr : Ncl_Attr<"Derived", "derived"> {
  let summary = "A derived parameter and the settable ones it follows";
  let description = [{
    Computed by the kernels from current parameter values (`Vt = El + 15 mV`),
    so not settable itself; the runtime names its `sources` when asked to.

    ```mlir
    #ncl.derived<name = "Vt", sources = ["El"]>
    ```
  }];
  let parameters = (ins StringRefParameter<"name">:$name, "::mlir::ArrayAttr":$sources);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Ncl_TimedInputAttr : Ncl_Attr<"TimedInput", "timed_input"> {
  let summary = "An input that follows a series read from a .npy file";
  let description = [{
    `timed_array` in a population (docs/semantics.md, "Sources"): input
    `input` takes, in step n, sample min(n / r, rows - 1) of the file
    `file` (as written, read by the runtime at initialisation, r = the
    samples' `interval` in steps of the run's dt) times `scale`. The
    runtime stores the scaled samples in the population's `series` buffer
    and the shape in its `series_shape` buffer, both with this entry's
    position in `timed_inputs` as their index; `ncl.timed_input` reads it.

    ```mlir
    #ncl.timed_input<input = "I", file = "drive.npy", interval = 1.000000e-03 : f64,
                     scale = 1.000000e-09 : f64>
    ```
  }];
  let parameters = (ins StringRefParameter<"input">:$input, StringRefParameter<"file">:$file,
                        "::mlir::FloatAttr":$interval, "::mlir::FloatAttr":$scale);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Ncl_BufferAttr : Ncl_Attr<"Buffer", "buffer"> {
  let summary = "One entry of the buffer table: storage the kernels use";
  let description = [{
    Assigned by `ncl-allocate-buffers`; its position in the network's
    `buffers` list is its index in the kernels' buffer table, and the
    runtime allocates it from this entry alone: `count` elements of
    `element` for a `fixed` extent, one per neuron of `population` for
    `neurons`, the thread's spike capacity for `spike_capacity`, one per
    synapse of the projection for `synapses`, one per presynaptic neuron
    plus one for `rows`. `population` names the owner: a population, or a
    projection for `row_start`, `post_index`, `synapse_state` and a
    projection's `params`. `index` is the variable a `state` or
    `synapse_state` buffer holds, the position in `receives` of the name a
    `synaptic_input` buffer sums (-1 otherwise).

    ```mlir
    #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                population = @P, index = 0, count = 0>
    #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                population = @C, index = 0, count = 0>
    ```
  }];
  let parameters = (ins StringRefParameter<"name">:$name,
                        "::mlir::ncl::BufferRole":$role,
                        "::mlir::Type":$element,
                        "::mlir::ncl::BufferExtent":$extent,
                        "::mlir::FlatSymbolRefAttr":$population,
                        "int64_t":$index,
                        "int64_t":$count);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Ncl_ConnectRuleAttr : EnumAttr<Ncl_Dialect, Ncl_ConnectRule, "connect_rule">;

def Ncl_ConnectAttr : Ncl_Attr<"Connect", "connect"> {
  let summary = "How a projection's synapses are drawn";
  let description = [{
    The rule and its arguments: `p` for `fixed_probability`, `n` the
    in-degree, out-degree or total for the fixed-count rules; `autapses`
    allows a neuron to connect to itself (same population), `multapses`
    several synapses between one pair. The runtime draws the synapses at
    initialisation from the run's seed (docs/semantics.md).

    ```mlir
    #ncl.connect<rule = fixed_probability, p = 2.000000e-02 : f64, n = 0,
                 autapses = true, multapses = true>
    ```

    `condition` keeps each pair for which the projection's `condition`
    region holds with probability `p`. `explicit` lists the synapses in
    `.npy` files the runtime reads at initialisation: `files` maps `pre`
    and `post` (the index files), optionally `delay` and the names of
    per-synapse variables to absolute paths.

    ```mlir
    #ncl.connect<rule = explicit, p = 0.000000e+00 : f64, n = 0, autapses = true,
                 multapses = true, files = {post = "/data/post.npy", pre = "/data/pre.npy",
                 w = "/data/w.npy"}>
    ```

    With any other rule, `files` may name a 2-D matrix (pre range x post
    range) per per-synapse variable, whose entry [i - pre_begin, j -
    post_begin] is synapse i -> j's initial value, and, with `all_to_all`,
    `fixed_probability` or `condition`, a 0/1 `mask` of the same shape:
    pairs with 0 are never connected.

    ```mlir
    #ncl.connect<rule = all_to_all, p = 0.000000e+00 : f64, n = 0, autapses = true,
                 multapses = true, files = {mask = "/data/M.npy", w = "/data/W.npy"}>
    ```
  }];
  let parameters = (ins "::mlir::ncl::ConnectRule":$rule, "::mlir::FloatAttr":$p,
                        "int64_t":$n, "bool":$autapses, "bool":$multapses,
                        OptionalParameter<"::mlir::DictionaryAttr">:$files);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // NCL_ATTRIBUTES_TD
