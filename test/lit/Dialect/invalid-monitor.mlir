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

// -----

// A synapse monitor names a projection, one of its per-synapse variables,
// and synapses [begin, end), or [0, -1) for all of them.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  // expected-error @+1 {{of synapses names unknown projection @P}}
  ncl.monitor synapse "P_v" of @P {var = "v", range = array<i64: 0, -1>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  // expected-error @+1 {{records unknown per-synapse variable 'x' of @C}}
  ncl.monitor synapse "C_x" of @C {var = "x", range = array<i64: 0, -1>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  // expected-error @+1 {{range must be [begin, end) of synapse indices, or [0, -1) for all}}
  ncl.monitor synapse "C_w" of @C {var = "w", range = array<i64: 3, 3>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  // expected-error @+1 {{range must be [begin, end) of synapse indices, or [0, -1) for all}}
  ncl.monitor synapse "C_w" of @C {var = "w", range = array<i64: 2, -1>}
}

// -----

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  // expected-error @+1 {{every must be at least 1 step, got 0}}
  ncl.monitor synapse "C_w" of @C {var = "w", range = array<i64: 0, 5>, every = 0 : i64}
}
