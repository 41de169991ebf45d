// RUN: ncl-opt %s | ncl-opt | FileCheck %s
// Round trip of every ncl op and attribute through the printer and parser.

// CHECK-LABEL: ncl.network @N
// CHECK-SAME: buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 3>, #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons, population = @P, index = 0, count = 0>, #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>, #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>, #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>, #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity, population = @P, index = -1, count = 0>, #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed, population = @Q, index = -1, count = 0>, #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons, population = @Q, index = -1, count = 0>]
// CHECK-SAME: dt = 1.000000e-04 : f64
// CHECK-SAME: real = f64
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 3>,
               #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32,
                           extent = neurons, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32,
                           extent = spike_capacity, population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32,
                           extent = neurons, population = @Q, index = -1, count = 0>]} {
  // CHECK: ncl.population @P
  // CHECK-SAME: derived = [#ncl.derived<name = "Vt", sources = ["El"]>]
  // CHECK-SAME: events = ["burst"]
  // CHECK-SAME: max_dt = 1.000000e-03 : f64
  // CHECK-SAME: method = #ncl<method rk4>
  // CHECK-SAME: min_dt = 1.250000e-05 : f64
  // CHECK-SAME: neuron = "LIF"
  // CHECK-SAME: params = [#ncl.param<name = "El", unit = "mV", scale = 1.000000e-03 : f64, dim = [4, 2, -6, -2, 0, 0, 0], value = -7.000000e-02 : f64, min = -1.000000e+00 : f64, max = 1.000000e+00 : f64>, #ncl.param<name = "tau">, #ncl.param<name = "Vt">]
  // CHECK-SAME: record_spikes
  // CHECK-SAME: size = 4 : i64
  // CHECK-SAME: substeps = 2 : i64
  // CHECK-SAME: vars = [#ncl.var<name = "v", unit = "mV", scale = 1.000000e-03 : f64, dim = [4, 2, -6, -2, 0, 0, 0]>]
  ncl.population @P {neuron = "LIF", size = 4 : i64, record_spikes,
      params = [#ncl.param<name = "El", unit = "mV", scale = 1.0e-3 : f64,
                           dim = [4, 2, -6, -2, 0, 0, 0], value = -7.0e-2 : f64,
                           min = -1.0 : f64, max = 1.0 : f64>,
                #ncl.param<name = "tau">, #ncl.param<name = "Vt">],
      vars = [#ncl.var<name = "v", unit = "mV", scale = 1.0e-3 : f64,
                       dim = [4, 2, -6, -2, 0, 0, 0]>],
      derived = [#ncl.derived<name = "Vt", sources = ["El"]>],
      events = ["burst"], method = #ncl<method rk4>, substeps = 2 : i64,
      max_dt = 1.0e-3 : f64, min_dt = 1.25e-5 : f64} init {
    // CHECK: %[[EL0:.*]] = ncl.param "El" : f64
    %el = ncl.param "El" : f64
    // CHECK: ncl.state_write "v", %[[EL0]] : f64
    ncl.state_write "v", %el : f64
  } step {
    // CHECK: %[[V:.*]] = ncl.state_read "v" : f64
    %v = ncl.state_read "v" : f64
    // CHECK: %[[EL:.*]] = ncl.param "El" : f64
    // CHECK: %[[TAU:.*]] = ncl.param "tau" : f64
    // CHECK: %[[VT:.*]] = ncl.param "Vt" : f64
    %el = ncl.param "El" : f64
    %tau = ncl.param "tau" : f64
    %vt = ncl.param "Vt" : f64
    // CHECK: %[[R:.*]] = ncl.is_refractory : i1
    %r = ncl.is_refractory : i1
    // CHECK: %[[V1:.*]] = ncl.ode "v"(%[[V]]) clamp %[[R]] : f64 {
    // CHECK: ^bb0(%[[X:.*]]: f64):
    // CHECK:   %[[D:.*]] = arith.subf %[[EL]], %[[X]] : f64
    // CHECK:   %[[XI:.*]] = ncl.noise stream 5 : f64
    // CHECK:   %[[Q:.*]] = arith.addf %[[D]], %[[XI]] : f64
    // CHECK:   ncl.yield %[[Q]] : f64
    // CHECK: }
    %v1 = ncl.ode "v" (%v) clamp %r : f64 {
    ^bb0(%x: f64):
      %d = arith.subf %el, %x : f64
      %xi = ncl.noise stream 5 : f64
      %q = arith.addf %d, %xi : f64
      ncl.yield %q : f64
    }
    // CHECK: %[[DT:.*]] = ncl.dt : f64
    %dt = ncl.dt : f64
    // CHECK: ncl.exp_euler %[[V]], %[[EL]], %[[TAU]] step %[[DT]] : f64
    %e = ncl.exp_euler %v, %el, %tau step %dt : f64
    // CHECK: %[[C:.*]] = arith.cmpf ogt, %[[V1]], %[[VT]] : f64
    %c = arith.cmpf ogt, %v1, %vt : f64
    // CHECK: %[[F:.*]] = ncl.threshold %[[C]] unless %[[R]]
    %f = ncl.threshold %c unless %r
    // CHECK: ncl.threshold %[[C]]{{$}}
    %f2 = ncl.threshold %c
    // CHECK: ncl.is_refractory release %[[F]] : i1
    %r2 = ncl.is_refractory release %f : i1
    // CHECK: ncl.time : f64
    %t = ncl.time : f64
    // CHECK: ncl.neuron_index : f64
    %i = ncl.neuron_index : f64
    // CHECK: ncl.population_size : f64
    %n = ncl.population_size : f64
    // CHECK: ncl.rand stream 3 : f64
    %u = ncl.rand stream 3 : f64
    // CHECK: ncl.rand normal stream 4 : f32
    %z = ncl.rand normal stream 4 : f32
    // CHECK: ncl.poisson %{{.*}} stream 5 : f64 -> f64
    %k = ncl.poisson %u stream 5 : f64 -> f64
    // CHECK: ncl.event %[[C]] {channel = 1 : i64}
    %burst = ncl.event %c {channel = 1 : i64}
    // CHECK: %[[V2:.*]] = ncl.reset %[[F]], %[[V1]], %[[EL]] : f64
    %v2 = ncl.reset %f, %v1, %el : f64
    // CHECK: ncl.refractory %[[F]] for %[[TAU]] : f64
    ncl.refractory %f for %tau : f64
    // CHECK: ncl.refractory %[[F]]{{$}}
    ncl.refractory %f
    // CHECK: ncl.state_write "v", %[[V2]] : f64
    ncl.state_write "v", %v2 : f64
  }
  // A lowered population: both regions empty, only the description is left.
  // CHECK: ncl.population @Q
  // CHECK-SAME: init {
  // CHECK-NEXT: } step {
  // CHECK-NEXT: }
  ncl.population @Q {neuron = "N", size = 1 : i64, params = [], vars = []} init {
  } step {
  }
  // CHECK: ncl.schedule {
  // CHECK-NEXT: ncl.stage init @P
  // CHECK-NEXT: ncl.stage step @P kernel @ncl_P_update {args = [0, 1, "begin", "end", "dt"]}
  // CHECK-NEXT: ncl.stage step @Q
  // CHECK-NEXT: }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage step @P kernel @ncl_P_update {args = [0, 1, "begin", "end", "dt"]}
    ncl.stage step @Q
  }
}
