// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -verify-diagnostics
// RUN: not ncl-opt %S/Inputs/no-buffers.mlir -ncl-to-loops 2>&1 | FileCheck %s --check-prefix=NOTABLE
// What ncl-to-loops refuses, at the op's location: an ODE not yet
// integrated, an ncl op that no pattern lowers (outside a population's
// neuron loop), a network without its buffer table, and a projection
// whose buffers are missing from the table.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64,
        params = [],
        vars = [#ncl.var<name = "v">]} init {
    %v0 = arith.constant 0.0 : f64
    ncl.state_write "v", %v0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    // expected-error @+1 {{must be integrated before ncl-to-loops; run ncl-integrate first}}
    %v1 = ncl.ode "v" (%v) : f64 {
    ^bb0(%x: f64):
      ncl.yield %x : f64
    }
    ncl.state_write "v", %v1 : f64
  }
}

// -----

// An ncl op outside a population has no neuron loop to lower into.
func.func @stray(%x: f64) -> f64 {
  // expected-error @+1 {{failed to legalize operation 'ncl.time'}}
  %t = ncl.time : f64
  %y = arith.addf %x, %t : f64
  return %y : f64
}

// NOTABLE: no-buffers.mlir:1:1: error: 'ncl.network' op has no buffer table; run ncl-allocate-buffers first

// -----

// A buffer table without the projection's connectivity (the verifier checks
// each entry, the pass that the projection has all it needs).
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32,
                           extent = neurons, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32,
                           extent = synapses, population = @C, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 2 : i64, emits_spikes, params = [], vars = []} init {
    %z = arith.constant 0.0 : f64
  } step {
    %z = arith.constant 0.0 : f64
  }
  // expected-error @+1 {{has incomplete storage in the buffer table}}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 2>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %z = arith.constant 0.0 : f64
  }
}
