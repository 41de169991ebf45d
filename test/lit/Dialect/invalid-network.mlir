// RUN: ncl-opt %s -split-input-file -verify-diagnostics
// Every verifier error of projections, synapse ops, synaptic inputs, the
// connect and deliver stages, the buffer table's projection entries, and
// timed inputs with their series buffers.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connects unknown population @Nowhere}}
  ncl.projection @C {synapse = "S", pre = @P, post = @Nowhere,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connects unknown population @Nowhere}}
  ncl.projection @C {synapse = "S", pre = @Nowhere, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// A projection's "population" must be a population, not another projection.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  // expected-error @+1 {{connects unknown population @C}}
  ncl.projection @D {synapse = "S", pre = @C, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{range must be [begin, end) within the 4 neurons of @P}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 5>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{range must be [begin, end) within the 2 neurons of @Q}}
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 1, 1>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{range must be [begin, end) within the 4 neurons of @P}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: -1, 2>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{range must be [begin, end) within the 4 neurons of @P}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{delay must not be negative}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = -1.0e-03 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connection probability must be in [0, 1], got 1.500000e+00}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_probability, p = 1.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connection probability must be in [0, 1], got -2.500000e-01}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_probability, p = -0.25 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connection count must not be negative}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_indegree, p = 0.0 : f64, n = -2, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // An empty on_pre means lowered, and a lowered projection has no init.
  // (An empty init with an on_pre is fine: nothing to initialise.)
  // expected-error @+1 {{has an init region but no on_pre or summed region (once lowered, all are empty)}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
    %z = arith.constant 0.0 : f64
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{declares parameter 'w' twice}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w">, #ncl.param<name = "w">], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{declares 'w' twice}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{presynaptic population @P must have emits_spikes}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
    // expected-error @+1 {{unknown parameter 'we' of the projection}}
    %we = ncl.param "we" : f64
    ncl.synapse_write "w", %we : f64
  } on_pre {
    %w = ncl.synapse_read "w" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
    // expected-error @+1 {{unknown per-synapse variable 'x'}}
    %x = ncl.synapse_read "x" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">]} init {
    %z = arith.constant 0.0 : f64
    // expected-error @+1 {{unknown per-synapse variable 'x'}}
    ncl.synapse_write "x", %z : f64
  } on_pre {
    %w = ncl.synapse_read "w" : f64
  }
}

// -----

// Synapse ops outside a projection: a population's step has no synapse.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [], vars = [#ncl.var<name = "w">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{must be inside an ncl.projection}}
    %w = ncl.synapse_read "w" : f64
  }
}

// -----

func.func @write_outside(%w: f64) {
  // expected-error @+1 {{must be inside an ncl.projection}}
  ncl.synapse_write "w", %w : f64
  return
}

// -----

func.func @pre_read_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.projection}}
  %v = ncl.pre_read "v" : f64
  return %v : f64
}

// -----

func.func @post_read_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.projection}}
  %v = ncl.post_read "v" : f64
  return %v : f64
}

// -----

func.func @post_add_outside(%w: f64) {
  // expected-error @+1 {{must be inside an ncl.projection}}
  ncl.post_add "ge", %w : f64
  return
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, params = [], vars = [#ncl.var<name = "u">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    // The postsynaptic population's variable is not the presynaptic's.
    // expected-error @+1 {{unknown variable or parameter 'u' of the presynaptic population @P}}
    %u = ncl.pre_read "u" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, params = [], vars = [#ncl.var<name = "u">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    // expected-error @+1 {{unknown variable or parameter 'v' of the postsynaptic population @Q}}
    %v = ncl.post_read "v" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, receives = ["ge"],
      params = [], vars = [#ncl.var<name = "ge">, #ncl.var<name = "gi">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %one = arith.constant 1.0 : f64
    // gx is neither a variable @P receives nor one of its state variables
    // (a state variable it does not receive is added to directly).
    // expected-error @+1 {{'gx' is neither among the variables @P receives nor one of its state variables}}
    ncl.post_add "gx", %one : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "ge">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %one = arith.constant 1.0 : f64
    // expected-error @+1 {{'gi' is neither among the variables @P receives nor one of its state variables}}
    ncl.post_add "gi", %one : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, receives = ["ge"],
      params = [], vars = [#ncl.var<name = "ge">, #ncl.var<name = "gi">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{'gi' is not among the variables the population receives}}
    %in = ncl.synaptic_input "gi" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64,
      params = [], vars = [#ncl.var<name = "ge">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{'ge' is not among the variables the population receives}}
    %in = ncl.synaptic_input "ge" : f64
  }
}

// -----

func.func @synaptic_input_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.population}}
  %in = ncl.synaptic_input "ge" : f64
  return %in : f64
}

// -----

// connect and deliver stages name projections; init and step populations.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @+1 {{names unknown projection @P}}
    ncl.stage connect @P
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @+1 {{names unknown projection @P}}
    ncl.stage deliver @P
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @+1 {{names unknown projection @P}}
    ncl.stage sum @P
  }
}

// -----

// A summed region's post_add targets an input the population receives.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  } summed {
    %x = arith.constant 1.0 : f64
    // expected-error @+1 {{'I' is neither among the variables @P receives nor one of its state variables}}
    ncl.post_add "I", %x : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.schedule {
    // expected-error @+1 {{names unknown population @C}}
    ncl.stage step @C
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.schedule {
    // expected-error @+1 {{must name both a kernel and its args, or neither}}
    ncl.stage deliver @C kernel @ncl_C_deliver
  }
}

// -----

// The complete table of this network is valid; each case below breaks one entry.
// A projection buffer owned by a population.
// expected-error @+1 {{buffer 12 belongs to unknown projection @P}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 11 belongs to unknown projection @Nowhere}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @Nowhere, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// A population role owned by a projection.
// expected-error @+1 {{buffer 9 belongs to unknown population @C}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 11 holds variable 1 of a projection with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 1, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 11 holds variable -1 of a projection with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 12 ('C.row_start') of role row_start must hold 'i64' with extent rows}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i32, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 12 ('C.row_start') of role row_start must hold 'i64' with extent rows}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = synapses,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 13 ('C.post_index') of role post_index must hold 'i32' with extent synapses}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = neurons,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 13 ('C.post_index') of role post_index must hold 'i32' with extent synapses}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i64, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// Per-synapse state is `real`, like per-neuron state.
// expected-error @+1 {{buffer 11 ('C.w') of role synapse_state must hold 'f64' with extent synapses}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f32, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 9 ('Q.g.in') of role synaptic_input must hold 'f64' with extent neurons}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = synapses,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 10 holds 2 parameters of a projection with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 2>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// expected-error @+1 {{buffer 9 holds received variable 1 of a population that receives 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 1, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// A received variable without its synaptic-input buffer.
// expected-error @+1 {{buffer table must give population @Q one synaptic-input buffer per received variable (1)}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// Two buffers for one received variable, whatever their names.
// expected-error @+1 {{buffer table must give population @Q one synaptic-input buffer per received variable (1)}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.g.in2", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// A population whose spikes a projection reads has its spike record.
// expected-error @+1 {{buffer table must give population @P one parameter buffer, one buffer per variable, one refractory buffer and its spike record, each once}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.x", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.g.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 2 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0">], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  }
}

// -----

// Per-synapse delays: set by ncl.synapse_delay only where the projection
// has per_synapse_delay, once, in init; no shared delay beside them; and
// delivered by synapse, never by spike.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
    %d = arith.constant 1.0e-3 : f64
    // expected-error @+1 {{sets a per-synapse delay in a projection without per_synapse_delay}}
    ncl.synapse_delay %d : f64
  } on_pre {
    %x = arith.constant 0.0 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{has per-synapse delays and a shared delay}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, params = [], vars = [], per_synapse_delay} init {
  } on_pre {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{with per_synapse_delay must set it once in init (ncl.synapse_delay)}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], per_synapse_delay} init {
    %d = arith.constant 1.0e-3 : f64
    ncl.synapse_delay %d : f64
    ncl.synapse_delay %d : f64
  } on_pre {
    %x = arith.constant 0.0 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], per_synapse_delay} init {
    %d = arith.constant 1.0e-3 : f64
    ncl.synapse_delay %d : f64
  } on_pre {
    %d = arith.constant 1.0e-3 : f64
    // expected-error @+1 {{must be in the projection's init region}}
    ncl.synapse_delay %d : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], per_synapse_delay} init {
  } on_pre {
  }
  ncl.schedule {
    // expected-error @+1 {{of a projection with per-synapse delays must be deliver_synapses}}
    ncl.stage deliver @C
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.schedule {
    // expected-error @+1 {{deliver_synapses needs a projection with per_synapse_delay}}
    ncl.stage deliver_synapses @C
  }
}

// -----

// A per-synapse delay buffer holds i16 steps per synapse.
// expected-error @+1 {{buffer 1 ('C.delay') of role synapse_delay must hold 'i16' with extent synapses}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64, buffers = [
    #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 0>,
    #ncl.buffer<name = "C.delay", role = synapse_delay, element = i32, extent = synapses, population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], per_synapse_delay} init {
  } on_pre {
  }
}

// -----

// A condition rule needs its condition region while unlowered.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{connects by a condition but has no condition region}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = condition, p = 1.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %i = ncl.pre_index : f64
  }
}

// -----

// Only the condition rule has a condition region.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{has a condition region without the condition rule or once lowered}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %i = ncl.pre_index : f64
  } condition {
    %t = arith.constant true
    ncl.accept %t
  }
}

// -----

// ncl.accept ends the condition region.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = condition, p = 1.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %i = ncl.pre_index : f64
  } condition {
    %t = arith.constant true
    // expected-error @+1 {{must end the condition region}}
    ncl.accept %t
    %j = ncl.post_index : f64
  }
}

// -----

// Explicit connectivity names both index files.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{explicit connectivity, and only it, names `pre` and `post` files}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = explicit, p = 0.0 : f64, n = 0, autapses = true, multapses = true,
                             files = {pre = "/d/pre.npy"}>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// A mask selects candidates of all_to_all, fixed_probability or a condition.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{a mask file needs all_to_all, fixed_probability or condition}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_indegree, p = 0.0 : f64, n = 2, autapses = true,
                             multapses = true, files = {mask = "/d/M.npy"}>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// Dale's law: the weight is a per-synapse variable.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{weight 'w' is not a per-synapse variable}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], weight = "w",
      signed_ranges = array<i64: 0, 4, 1>} init {
  } on_pre {
  }
}

// -----

// Dale's law: signed ranges are (begin, end or -1, +1 or -1) triples.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{signed range 1 is not (begin, end or -1, +1 or -1)}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>],
      weight = "w", signed_ranges = array<i64: 0, 2, 1, 2, -1, 2>} init {
  } on_pre {
  }
}

// -----

// A file for something that is neither an index list, the delay nor a variable.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{names a file for 'zz', which is not pre, post, delay, mask or a per-synapse variable}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = explicit, p = 0.0 : f64, n = 0, autapses = true, multapses = true,
                             files = {pre = "/d/pre.npy", post = "/d/post.npy", zz = "/d/z.npy"}>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// A timed input names one of the population's timed inputs.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [], vars = [],
      timed_inputs = [#ncl.timed_input<input = "I", file = "drive.npy",
                                       interval = 1.0e-3 : f64, scale = 1.0e-9 : f64>]} init {
    %z = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{'J' is not among the population's timed inputs}}
    %j = ncl.timed_input "J" : f64
  }
}

// -----

func.func @timed_input_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.population}}
  %i = ncl.timed_input "I" : f64
  return %i : f64
}

// -----

// A series buffer holds the network's real type; its shape three i64.
// expected-error @+1 {{buffer 1 ('P.I.series') of role series must hold 'f64' with extent fixed}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.I.series", role = series, element = f32, extent = fixed,
                           population = @P, index = 0, count = 0>]} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [], vars = [],
      timed_inputs = [#ncl.timed_input<input = "I", file = "drive.npy",
                                       interval = 1.0e-3 : f64, scale = 1.0e-9 : f64>]} init {
    %z = arith.constant 0.0 : f64
  } step {
  }
}

// -----

// on_post reads the postsynaptic population's spikes.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.population @Q {neuron = "N", size = 4 : i64, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{has on_post, so postsynaptic population @Q must have emits_spikes}}
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  } on_post {
    %w = ncl.synapse_read "w" : f64
    ncl.synapse_write "w", %w : f64
  }
}

// -----

// on_post changes only the synapse's own state.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, receives = ["g"], params = [],
      vars = [#ncl.var<name = "g">]} init {
  } step {
  }
  // expected-error @+1 {{adds to a postsynaptic variable in on_post, which may change only the synapse's own state}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  } on_post {
    %w = ncl.synapse_read "w" : f64
    ncl.post_add "g", %w : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{post_delay must be finite and not negative}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, post_delay = -2.0e-03 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// A trace the projection does not keep.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {
    // expected-error @+1 {{unknown postsynaptic trace 'apre'}}
    %a = ncl.trace_read post "apre" : f64
    ncl.synapse_write "w", %a : f64
  }
}

// -----

// A presynaptic trace changes only at its neuron's spikes, in on_pre.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {
  } on_post {
    %a = ncl.trace_read pre "apre" : f64
    // expected-error @+1 {{writes a presynaptic trace outside on_pre}}
    ncl.trace_write pre "apre", %a : f64
  }
}

// -----

// The block that writes a trace advances it itself; only the other side's block reads it advanced.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {
    // expected-error @+1 {{advances presynaptic traces outside on_post}}
    %a = ncl.advance_traces pre ["apre"] {
      %x = ncl.trace_read pre "apre" : f64
      ncl.advanced %x : f64
    } : f64
    ncl.synapse_write "w", %a : f64
  } on_post {

  }
}

// -----

// An advanced trace the projection does not keep.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {

  } on_post {
    // expected-error @+1 {{unknown presynaptic trace "apost"}}
    %a = ncl.advance_traces pre ["apost"] {
      %x = ncl.trace_read pre "apre" : f64
      ncl.advanced %x : f64
    } : f64
    ncl.synapse_write "w", %a : f64
  }
}

// -----

// One value per trace.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {

  } on_post {
    // expected-error @+1 {{yields 0 values whose types differ from its results}}
    %a = ncl.advance_traces pre ["apre"] {
      ncl.advanced
    } : f64
    ncl.synapse_write "w", %a : f64
  }
}

// -----

// The region computes a neuron's value: nothing of a synapse.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {

  } on_post {
    %a = ncl.advance_traces pre ["apre"] {
      // expected-error @+1 {{cannot be in an ncl.advance_traces region, which reads only the presynaptic neuron's traces}}
      %x = ncl.synapse_read "w" : f64
      ncl.advanced %x : f64
    } : f64
    ncl.synapse_write "w", %a : f64
  }
}
