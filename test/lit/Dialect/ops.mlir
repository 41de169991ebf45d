// RUN: ncl-opt %s | ncl-opt | FileCheck %s
// Round trip of every ncl op through the printer and parser.

// CHECK-LABEL: ncl.population @P
// CHECK-SAME: neuron = "LIF"
// CHECK-SAME: record_spikes
ncl.population @P {neuron = "LIF", size = 4 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["v"], num_params = 3 : i64, record_spikes} init {
  // CHECK: ncl.param "El"[0] : f64
  %el = ncl.param "El" [0] : f64
  // CHECK: ncl.state_write "v", %{{.*}} : f64
  ncl.state_write "v", %el : f64
} step {
  // CHECK: %[[V:.*]] = ncl.state_read "v" : f64
  %v = ncl.state_read "v" : f64
  %el = ncl.param "El" [0] : f64
  %tau = ncl.param "tau" [1] : f64
  %vt = ncl.param "Vt" [2] : f64
  // CHECK: %[[R:.*]] = ncl.is_refractory : i1
  %r = ncl.is_refractory : i1
  // CHECK: ncl.ode "v"(%[[V]]) clamp %[[R]] : f64 {
  // CHECK: ^bb0(%[[X:.*]]: f64):
  // CHECK: ncl.yield %{{.*}} : f64
  %v1 = ncl.ode "v" (%v) clamp %r : f64 {
  ^bb0(%x: f64):
    %d = arith.subf %el, %x : f64
    %q = arith.divf %d, %tau : f64
    ncl.yield %q : f64
  }
  // CHECK: %[[DT:.*]] = ncl.dt : f64
  %dt = ncl.dt : f64
  // CHECK: ncl.exp_euler %{{.*}}, %{{.*}}, %{{.*}} step %[[DT]] : f64
  %e = ncl.exp_euler %v, %el, %tau step %dt : f64
  %c = arith.cmpf ogt, %v1, %vt : f64
  // CHECK: %[[F:.*]] = ncl.threshold %{{.*}} unless %[[R]]
  %f = ncl.threshold %c unless %r
  // CHECK: ncl.is_refractory release %[[F]] : i1
  %r2 = ncl.is_refractory release %f : i1
  // CHECK: ncl.time : f64
  %t = ncl.time : f64
  // CHECK: ncl.neuron_index : f64
  %i = ncl.neuron_index : f64
  // CHECK: ncl.population_size : f64
  %n = ncl.population_size : f64
  // CHECK: ncl.event %{{.*}} {channel = 1 : i64}
  %burst = ncl.event %c {channel = 1 : i64}
  // CHECK: ncl.reset %[[F]], %{{.*}}, %{{.*}} : f64
  %v2 = ncl.reset %f, %v1, %el : f64
  // CHECK: ncl.refractory %[[F]] for %{{.*}} : f64
  ncl.refractory %f for %tau : f64
  // CHECK: ncl.refractory %[[F]]{{$}}
  ncl.refractory %f
  ncl.state_write "v", %v2 : f64
}
