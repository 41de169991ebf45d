// RUN: ncl-opt %s -split-input-file -verify-diagnostics
// Every verifier error of the ncl dialect.

// expected-error @+1 {{size must be positive, got 0}}
ncl.population @P {neuron = "N", size = 0 : i64, dt = 1.0e-4 : f64, state_vars = [], num_params = 0 : i64} init {
} step {
}

// -----

// expected-error @+1 {{dt must be positive}}
ncl.population @P {neuron = "N", size = 1 : i64, dt = 0.0 : f64, state_vars = [], num_params = 0 : i64} init {
} step {
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = [], num_params = 1 : i64} init {
} step {
  // expected-error @+1 {{index 3 is out of range for a population with 1 parameters}}
  %p = ncl.param "x" [3] : f64
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = ["v"], num_params = 0 : i64} init {
} step {
  // expected-error @+1 {{unknown state variable 'w'}}
  %w = ncl.state_read "w" : f64
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = ["v"], num_params = 0 : i64} init {
  %c = arith.constant 0.0 : f64
  ncl.state_write "v", %c : f64
  // expected-error @+1 {{writes state variable 'v' twice}}
  ncl.state_write "v", %c : f64
} step {
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = ["v"], num_params = 0 : i64} init {
} step {
  %v = ncl.state_read "v" : f64
  // expected-error @+1 {{region must take one argument of the state's type}}
  %v1 = ncl.ode "v" (%v) : f64 {
  ^bb0(%x: f32):
    %c = arith.constant 0.0 : f64
    ncl.yield %c : f64
  }
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = ["v"], num_params = 0 : i64} init {
} step {
  %v = ncl.state_read "v" : f64
  // expected-error @+1 {{region must yield dx/dt of the state's type}}
  %v1 = ncl.ode "v" (%v) : f64 {
  ^bb0(%x: f64):
    %c = arith.constant 0.0 : f32
    ncl.yield %c : f32
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
  %p = ncl.param "x" [0] : f64
  return %p : f64
}

// -----

// expected-error @+1 {{num_params must not be negative}}
ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = [], num_params = -1 : i64} init {
} step {
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = ["v"], num_params = 0 : i64} init {
  %c = arith.constant 0.0 : f64
  // expected-error @+1 {{unknown state variable 'u'}}
  ncl.state_write "u", %c : f64
} step {
}

// -----

func.func @read_outside() -> f64 {
  // expected-error @+1 {{must be inside an ncl.population}}
  %v = ncl.state_read "v" : f64
  return %v : f64
}

// -----

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64, state_vars = [], num_params = 0 : i64} init {
} step {
  // expected-error @+1 {{stream 65536 is outside [0, 65535]}}
  %u = ncl.rand stream 65536 : f64
}

// -----

func.func @event_channel(%c: i1) -> i1 {
  // expected-error @+1 {{channel must be at least 1 (channel 0 is the spike)}}
  %e = ncl.event %c {channel = 0 : i64}
  return %e : i1
}
