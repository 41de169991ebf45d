// RUN: ncl-opt %s -split-input-file -verify-diagnostics
// Every verifier error of ncl.monitor: the population, the variable, the
// neuron range, the sampling interval, and what a rate monitor needs.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{names unknown population @Q}}
  ncl.monitor state "Q_v" of @Q {var = "v", range = array<i64: 0, 4>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{records unknown variable 'u' of @P}}
  ncl.monitor state "P_u" of @P {var = "u", range = array<i64: 0, 4>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{range must be [begin, end) within the 4 neurons of @P}}
  ncl.monitor state "P_v" of @P {var = "v", range = array<i64: 2, 5>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{every must be at least 1 step, got 0}}
  ncl.monitor state "P_v" of @P {var = "v", range = array<i64: 0, 4>, every = 0 : i64}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{population @P must have emits_spikes}}
  ncl.monitor rate "P_rate" of @P {range = array<i64: 0, 4>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  // expected-error @+1 {{a rate monitor takes the whole population}}
  ncl.monitor rate "P_rate" of @P {range = array<i64: 0, 2>}
}
