// RUN: ncl-opt %s | ncl-opt | FileCheck %s
// Round trip of ncl.monitor through the printer and parser: a state monitor
// of a range every k steps, one of the whole population (every defaults to
// 1 and is not printed), a rate monitor, and synapse monitors of all the
// synapses of a projection (range [0, -1)) and of synapses 2 to 5.

// CHECK-LABEL: ncl.network @N
// CHECK: ncl.monitor state "P_v" of @P {every = 5 : i64, range = array<i64: 1, 3>, var = "v"}
// CHECK: ncl.monitor state "All_v" of @P {range = array<i64: 0, 4>, var = "v"}
// CHECK: ncl.monitor rate "P_rate" of @P {range = array<i64: 0, 4>}
// CHECK: ncl.monitor synapse "C_w" of @C {every = 10 : i64, range = array<i64: 0, -1>, var = "w"}
// CHECK: ncl.monitor synapse "Some_w" of @C {range = array<i64: 2, 6>, var = "w"}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.monitor state "P_v" of @P {var = "v", range = array<i64: 1, 3>, every = 5 : i64}
  ncl.monitor state "All_v" of @P {var = "v", range = array<i64: 0, 4>, every = 1 : i64}
  ncl.monitor rate "P_rate" of @P {range = array<i64: 0, 4>}
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [],
      vars = [#ncl.var<name = "w", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } on_pre {
  }
  ncl.monitor synapse "C_w" of @C {var = "w", range = array<i64: 0, -1>, every = 10 : i64}
  ncl.monitor synapse "Some_w" of @C {var = "w", range = array<i64: 2, 6>}
}
