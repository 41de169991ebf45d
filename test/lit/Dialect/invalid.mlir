// RUN: ncl-opt %s -split-input-file -verify-diagnostics
// Every verifier error of the ncl dialect.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{size must be positive, got 0}}
  ncl.population @P {neuron = "N", size = 0 : i64, params = [], vars = []} init {
  } step {
  }
}

// -----

// expected-error @+1 {{dt must be positive}}
ncl.network @N attributes {dt = 0.0 : f64, real = f64} {
}

// -----

// expected-error @+1 {{dt must be positive}}
ncl.network @N attributes {dt = -1.0e-4 : f64, real = f64} {
}

// -----

// expected-error @+1 {{duration must not be negative}}
ncl.network @N attributes {dt = 1.0e-4 : f64, duration = -1.0 : f64, real = f64} {
}

// -----

// expected-error @+1 {{real must be f32 or f64, not 'f16'}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f16} {
}

// -----

// expected-error @+1 {{has more than one ncl.schedule}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.schedule {
  }
  ncl.schedule {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [#ncl.param<name = "x">], vars = []} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{unknown parameter 'y'}}
    %p = ncl.param "y" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{unknown state variable 'w'}}
    %w = ncl.state_read "w" : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %c = arith.constant 0.0 : f64
    // expected-error @+1 {{unknown state variable 'u'}}
    ncl.state_write "u", %c : f64
  } step {
    %step = arith.constant 0.0 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %c = arith.constant 0.0 : f64
    ncl.state_write "v", %c : f64
    // expected-error @+1 {{writes state variable 'v' twice}}
    ncl.state_write "v", %c : f64
  } step {
    %step = arith.constant 0.0 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{declares parameter 'a' twice}}
  ncl.population @P {neuron = "N", size = 1 : i64,
                     params = [#ncl.param<name = "a">, #ncl.param<name = "a">], vars = []} init {
  } step {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{declares 'a' twice}}
  ncl.population @P {neuron = "N", size = 1 : i64,
                     params = [#ncl.param<name = "a">], vars = [#ncl.var<name = "a">]} init {
  } step {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{substeps must be at least 1}}
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [], substeps = 0 : i64} init {
  } step {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{must have both an init and a step region, or neither once lowered}}
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  ^bb0:
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  // expected-error @+1 {{must have both an init and a step region, or neither once lowered}}
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  ^bb0:
  } step {
  }
}

// -----

func.func @population_outside() {
  // expected-error @+1 {{expects parent op 'ncl.network'}}
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  }
  return
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.schedule {
    // expected-error @+1 {{names unknown population @Q}}
    ncl.stage step @Q
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @+1 {{must name both a kernel and its args, or neither}}
    ncl.stage step @P kernel @ncl_P_update
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @+1 {{must name both a kernel and its args, or neither}}
    ncl.stage step @P {args = [0]}
  }
}

// -----

// expected-error @+1 {{buffer 0 belongs to unknown population @Q}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  }
}

// -----

// expected-error @+1 {{buffer 1 holds variable 1 of a population with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.w", role = state, element = f64, extent = neurons,
                           population = @P, index = 1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// A state buffer holds the network's real type.
// expected-error @+1 {{buffer 0 ('P.v') of role state must hold 'f64' with extent neurons}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.v", role = state, element = f32, extent = neurons,
                           population = @P, index = 0, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// A spike record is per thread, not per neuron.
// expected-error @+1 {{buffer 0 ('P.spike_step') of role spike_step must hold 'i64' with extent spike_capacity}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.spike_step", role = spike_step, element = i64,
                           extent = neurons, population = @P, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, record_spikes, params = [], vars = []} init {
  } step {
  }
}

// -----

// expected-error @+1 {{buffer 0 holds 2 parameters of a population with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 2>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [#ncl.param<name = "a">],
                     vars = []} init {
  } step {
  }
}

// -----

// A recorded population without its spike record.
// expected-error @+1 {{buffer table must give population @P one parameter buffer, one buffer per variable, one refractory buffer and its spike record, each once}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32,
                           extent = neurons, population = @P, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, record_spikes, params = [],
                     vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// A variable held twice.
// expected-error @+1 {{buffer table must give population @P one parameter buffer, one buffer per variable, one refractory buffer, each once}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.v2", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32,
                           extent = neurons, population = @P, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [],
                     vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// expected-error @+1 {{buffer 0 holds variable -1 of a population with 1}}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = -1, count = 0>]} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    // expected-error @+1 {{region must take one argument of the state's type}}
    %v1 = ncl.ode "v" (%v) : f64 {
    ^bb0(%x: f32):
      %c = arith.constant 0.0 : f64
      ncl.yield %c : f64
    }
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %init = arith.constant 0.0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    // expected-error @+1 {{region must yield dx/dt of the state's type}}
    %v1 = ncl.ode "v" (%v) : f64 {
    ^bb0(%x: f64):
      %c = arith.constant 0.0 : f32
      ncl.yield %c : f32
    }
  }
}

// -----

func.func @step_of_another_type(%x: f64, %h: f32) -> f64 {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %e = "ncl.exp_euler"(%x, %x, %x, %h) : (f64, f64, f64, f32) -> f64
  return %e : f64
}

// -----

func.func @outside(%x: f64) -> f64 {
  // expected-error @+1 {{must be inside an ncl.population}}
  %p = ncl.param "x" : f64
  return %p : f64
}

// -----

func.func @read_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.population}}
  %v = ncl.state_read "v" : f64
  return %v : f64
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
    %init = arith.constant 0.0 : f64
  } step {
    // expected-error @+1 {{stream 65536 is outside [0, 65535]}}
    %u = ncl.rand stream 65536 : f64
  }
}

// -----

func.func @event_channel(%c: i1) -> i1 {
  // expected-error @+1 {{channel must be at least 1 (channel 0 is the spike)}}
  %e = ncl.event %c {channel = 0 : i64}
  return %e : i1
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [], events = ["burst"]} init {
    %init = arith.constant 0.0 : f64
  } step {
    %c = arith.constant true
    // expected-error @+1 {{channel 2 is not among the population's 1 events}}
    %e = ncl.event %c {channel = 2 : i64}
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
    %init = arith.constant 0.0 : f64
  } step {
    %c = arith.constant true
    // expected-error @+1 {{channel 1 is not among the population's 0 events}}
    %e = ncl.event %c {channel = 1 : i64}
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
    %init = arith.constant 0.0 : f64
  } step {
    %mean = arith.constant 2.0 : f64
    // expected-error @+1 {{stream 70000 is outside [0, 65535]}}
    %k = ncl.poisson %mean stream 70000 : f64 -> f64
  }
}
