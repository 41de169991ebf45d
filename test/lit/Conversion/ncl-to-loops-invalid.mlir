// RUN: ncl-opt %s -ncl-to-loops -verify-diagnostics

ncl.population @P {neuron = "N", size = 1 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["v"], num_params = 0 : i64} init {
} step {
  %v = ncl.state_read "v" : f64
  // expected-error @+1 {{must be integrated before ncl-to-loops; run ncl-integrate first}}
  %v1 = ncl.ode "v" (%v) : f64 {
  ^bb0(%x: f64):
    ncl.yield %x : f64
  }
  ncl.state_write "v", %v1 : f64
}
