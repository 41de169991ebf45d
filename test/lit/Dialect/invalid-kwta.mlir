// RUN: ncl-opt %s -split-input-file -verify-diagnostics
// Every verifier error of ncl.kwta.

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  // expected-error @+1 {{names unknown population @Nowhere}}
  ncl.kwta @Nowhere "x" {keep = 1 : i64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @G {neuron = "spike_generator", size = 10 : i64, params = [], vars = [],
      spike_files = ["t.npy", "i.npy"]} init {
  } step {
  }
  // expected-error @+1 {{needs neurons to compare; population @G is a spike generator}}
  ncl.kwta @G "x" {keep = 1 : i64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{population @P has no variable 'y'}}
  ncl.kwta @P "y" {keep = 1 : i64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{needs exactly one of keep (a count) and fraction}}
  ncl.kwta @P "x" {keep = 1 : i64, fraction = 0.5 : f64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{fraction must be in (0, 1], got 1.5}}
  ncl.kwta @P "x" {fraction = 1.5 : f64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{keeps 11 of the 10 neurons of @P; it must keep 1 to all of them}}
  ncl.kwta @P "x" {keep = 11 : i64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{keeps 0 of the 10 neurons of @P; it must keep 1 to all of them}}
  ncl.kwta @P "x" {fraction = 0.01 : f64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{boost and period go together}}
  ncl.kwta @P "x" {keep = 1 : i64, boost = 1.0 : f64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{boost must be finite and >= 0, got -1}}
  ncl.kwta @P "x" {keep = 1 : i64, boost = -1.0 : f64, period = 10.0 : f64}
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{period must be at least 1 step, got 5.000000e-01}}
  ncl.kwta @P "x" {keep = 1 : i64, boost = 1.0 : f64, period = 0.5 : f64}
}

// -----

// Fused (ncl-fuse), the step must compute the key: here it does not.
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    ncl.state_write "x", %x : f64
  }
  // expected-error @+1 {{is fused, so the step of @P must compute its key with one ncl.kwta_key}}
  ncl.kwta @P "x" {keep = 1 : i64, fused}
}

// -----

// ncl.kwta_key belongs in a population's step.
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  %one = arith.constant 1.0 : f64
  // expected-error @+1 {{expects parent op 'ncl.population'}}
  ncl.kwta_key %one : f64
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "U", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // expected-error @+1 {{gates the spikes of @P, so it can have neither boost nor a losers' reset}}
  ncl.kwta @P "x" {keep = 2 : i64, boost = 1.0 : f64, period = 10.0 : f64}
  ncl.schedule {
    ncl.stage kwta_keys @P
    ncl.stage kwta_gate @P
    ncl.stage step @P
  }
}
