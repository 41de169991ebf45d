//===- Passes.td - Transformations within the ncl dialect --*- tablegen -*-===//
#ifndef NCL_TRANSFORMS_PASSES_TD
#define NCL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NclIntegrate : Pass<"ncl-integrate", "ModuleOp"> {
  let summary = "Replace each ncl.ode by an explicit integration scheme";
  let description = [{
    Integrates the `ncl.ode` ops of each population's step as one system. A
    linearity analysis over each region's SSA graph writes dx/dt as
    a + b*x. A coupled linear system with constant coefficients becomes its
    exact propagator (the matrix exponential, computed in the kernel); when
    every equation is linear in its own variable, each becomes
    `ncl.exp_euler %x, %a, %b` (exact for constant a, b, as for LIF);
    otherwise Runge-Kutta 4. The population's `method` / `substeps` override
    the choice (an error says why a method does not apply), and equations
    with `ncl.noise` get the exact Ornstein-Uhlenbeck update, Euler-Maruyama
    or stochastic Heun. Every choice is reported as a remark. A clamped ODE
    keeps x while its clamp (the neuron's refractory flag) is true.

    Steps are values, not constants: h = dt / substeps from `ncl.dt`, the
    run's dt, so a library runs at any dt chosen at load time. Each
    Runge-Kutta stage and each sub-step sees its own time: `ncl.time` in a
    right-hand side, and any captured value computed from it (an input
    driven by a stimulus of t), is re-evaluated at t_n + c_i*h. A population
    integrated by an explicit scheme gets `max_dt` (the network's `dt`): the
    runtime refuses a larger dt there. A discrete `update` is plain
    arithmetic in the step region, which this pass leaves alone.

    A projection's `dynamics` (synapse ODEs) become event-driven where each
    equation is x' = a + b*x in its own variable with a and b constant
    between the synapse's events (no `ncl.time`, random draws or neuron
    state in them) and only `on_pre` and `on_post` use the variables,
    unless the projection's `drive` asks for `clock_driven`: the pass adds
    the per-synapse variable `_lastupdate` (0 in `init`), copies the ODEs to
    the start of each event block that reads or writes them, replaces them
    there by their exact solution over Δ = t - _lastupdate,
    x e^{bΔ} + a Δ phi(bΔ), writes the variables and `_lastupdate` = t, and
    makes the block's own reads see the new values; the `dynamics` region
    and the projection's `synapse_step` stage go. Otherwise the system is
    integrated in place, every step, as a population's is. `drive` records
    the choice; asking for `event_driven` where it cannot apply is an
    error at the equation that says why.

    ```mlir
    // before: dynamics { %x1 = ncl.ode "x"(%x) ... -x/tau ... ; ncl.synapse_write "x", %x1 }
    //         on_pre { %x = ncl.synapse_read "x"; %x2 = arith.addf %x, %one; ncl.synapse_write "x", %x2 }
    } on_pre {
      %t = ncl.time : f64
      %last = ncl.synapse_read "_lastupdate" : f64
      %el = arith.subf %t, %last : f64
      %x = ncl.synapse_read "x" : f64
      %b = arith.divf %minus_one, %tau : f64
      %z = arith.mulf %b, %el : f64
      %e = math.exp %z : f64
      %x1 = arith.mulf %e, %x : f64
      ncl.synapse_write "x", %x1 : f64
      ncl.synapse_write "_lastupdate", %t : f64
      %x2 = arith.addf %x1, %one : f64
      ncl.synapse_write "x", %x2 : f64
    }
    ```

    Before:

    ```mlir
    %v1 = ncl.ode "v" (%v) clamp %r : f64 {
    ^bb0(%x: f64):
      %d = arith.subf %el, %x : f64
      %r = arith.divf %d, %tau : f64
      ncl.yield %r : f64
    }
    ```

    After:

    ```mlir
    %a = arith.divf %el, %tau : f64
    %mb = arith.divf %one, %tau : f64
    %b = arith.negf %mb : f64
    %dt = ncl.dt : f64
    %e = ncl.exp_euler %v, %a, %b step %dt : f64
    %v1 = arith.select %r, %v, %e : f64
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect"];
}

def NclFuse : Pass<"ncl-fuse", "ModuleOp"> {
  let summary = "Merge the element-wise work around a population's step into its update loop";
  let description = [{
    A population's `step` region is already one loop nest when lowered:
    integration, threshold, reset, refractoriness and activations
    (`update`, outputs) are one program per neuron, so each state variable
    is read and written once per step. What still runs in loops of its own
    is the work other ops do per neuron of the population; this pass moves
    it into the step where the data flow allows.

    k-WTA: the selection of `ncl.kwta` needs every neuron's key before it
    can start, so it stays a kernel of its own, but its input side (filling
    the selection's order, and with boosting the key
    x * exp(beta * (k/N - d)), one exponential per neuron and comparison
    when the selection computes it) is element-wise: the pass appends an
    `ncl.kwta_key` of the value the step writes to the k-WTA's variable
    (of that variable's state, where the step does not write it) to the
    step region and marks the `ncl.kwta` `fused`. The kernels then compute
    the same numbers as the unfused build in fewer loops, bit for bit.
    `nclc --no-fuse` skips the pass. A k-WTA that gates a spiking
    population's spikes (stages `kwta_keys` and `kwta_gate`) is left alone:
    the gate must be known before the update thresholds, so its keys cannot
    come out of that update.

    Before:

    ```mlir
    ncl.population @L {...} init {...} step {
      ...
      %r = arith.maximumf %x1, %zero : f64
      ncl.state_write "r", %r : f64
    }
    ncl.kwta @L "r" {boost = 2.0 : f64, fraction = 0.05 : f64, period = 100.0 : f64}
    ```

    After:

    ```mlir
    ncl.population @L {...} init {...} step {
      ...
      %r = arith.maximumf %x1, %zero : f64
      ncl.state_write "r", %r : f64
      ncl.kwta_key %r : f64
    }
    ncl.kwta @L "r" {boost = 2.0 : f64, fraction = 0.05 : f64, fused, period = 100.0 : f64}
    ```
  }];
}

def NclAllocateBuffers : Pass<"ncl-allocate-buffers", "ModuleOp"> {
  let summary = "Assign every population's storage to the network's buffer table";
  let description = [{
    Storage is decided here, late, not by the front end (as CIRCT's Arc
    `AllocateState` does): each `ncl.network` gets `buffers`, the table the
    kernels index and the runtime allocates from. Per population, in order:
    its parameters (`fixed`, f64, one per `params` entry), one array per
    variable (`neurons`, of the network's `real` type), the refractory
    counters (`neurons`, i32) and, for a recorded population, its spike
    record (`spike_capacity`: step and index as i64, event channel as i32),
    also kept for a population whose spikes projections read
    (`emits_spikes`), and one `synaptic_input` array per variable it
    `receives`. Then per projection: its parameters, one array per
    per-synapse variable (`synapses`), the start of each presynaptic row
    (`rows`, i64), the postsynaptic index of each synapse (`synapses`,
    i32), with `per_synapse_delay` each synapse's delay in steps
    (`synapse_delay`, `synapses`, i16), and for a projection connected by a
    condition its connect mask (`fixed`, i32, one per postsynaptic neuron of
    its range: the runtime's per-thread scratch). A network that has a table
    already keeps it.

    Before:

    ```mlir
    ncl.network @N {dt = 1.0e-4 : f64, duration = 1.0 : f64, seed = 1 : i64,
                    real = f64, source = "n.ncl"} {
      ncl.population @P {neuron = "LIF", size = 4 : i64, params = [#ncl.param<...>],
                         vars = [#ncl.var<name = "v", ...>]} init {...} step {...}
    }
    ```

    After:

    ```mlir
    ncl.network @N {buffers = [
        #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                    population = @P, index = -1, count = 1>,
        #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                    population = @P, index = 0, count = 0>,
        #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32,
                    extent = neurons, population = @P, index = -1, count = 0>],
        dt = 1.0e-4 : f64, ...} {...}
    ```
  }];
}

#endif // NCL_TRANSFORMS_PASSES_TD
