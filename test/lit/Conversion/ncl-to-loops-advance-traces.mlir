// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// ncl.advance_traces: on_pre reads the postsynaptic trace apost advanced to
// the step's time at every synapse it visits, and on_post the presynaptic
// apre. ncl-to-loops moves each op's region into a kernel of its own,
// `advance_post_traces` (`advance_pre_traces`), that computes the value for
// every neuron [begin, end) into the side's `now` buffer; the synapse loops
// then load it at the synapse's neuron instead of computing an exponential
// per synapse.
//
// Buffer table: 0-7 @P (params, v, refractory, spike step/index/channel,
// last_spike, v.in), 8-20 @S (params, w, row_start, post_index,
// column_start, column_synapse, pre.apre, pre._lastupdate, post.apost,
// post._lastupdate, post.apost.now, pre.apre.now, column_pre).

// The advance kernels: a loop over the neurons [begin, end), each storing
// the closed form of its trace.
// CHECK-LABEL: func.func @ncl_S_advance_post_traces(
// The traces, then their values now (presynaptic ones first).
// CHECK-SAME: %[[APOST:arg11]]: memref<?xf64>, %[[POSTLAST:arg12]]: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %[[APOSTNOW:arg14]]: memref<?xf64>,
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[STEP:[^:]*]]: i64, %{{[^:]*}}: i64, %[[DT:[^:]*]]: f64)
// CHECK-SAME: attributes {ncl.kernel = "advance_post_traces"}
// CHECK: scf.for %[[J:.*]] = %[[BEGIN]] to %[[END]]
// CHECK:   %[[LAST:.*]] = memref.load %[[POSTLAST]][%[[J]]] : memref<?xf64>
// CHECK:   %[[A:.*]] = memref.load %[[APOST]][%[[J]]] : memref<?xf64>
// CHECK:   %[[E:.*]] = math.exp
// CHECK:   %[[A1:.*]] = arith.mulf %[[E]], %[[A]] : f64
// CHECK:   memref.store %[[A1]], %[[APOSTNOW]][%[[J]]] : memref<?xf64>
// CHECK: } {ncl.loop = "neurons"}
// CHECK-LABEL: func.func @ncl_S_advance_pre_traces(
// CHECK-SAME: attributes {ncl.kernel = "advance_pre_traces"}
// CHECK: scf.for
// CHECK:   math.exp
// CHECK:   memref.store %{{.*}}, %arg13[%{{.*}}] : memref<?xf64>
// CHECK: } {ncl.loop = "neurons"}

// deliver: apost is a load at the synapse's postsynaptic neuron, without
// an exponential in the synapse loop.
// CHECK-LABEL: func.func @ncl_S_deliver(
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}}
// CHECK:   scf.for %[[S:.*]] = %{{.*}} to %{{.*}}
// CHECK-NOT: math.exp
// CHECK:     %[[J32:.*]] = memref.load %{{.*}}[%[[S]]] : memref<?xi32>
// CHECK:     %[[J2:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK-NOT: math.exp
// CHECK:     memref.load %arg14[%[[J2]]] : memref<?xf64>
// CHECK-NOT: math.exp
// CHECK:   } {ncl.loop = "synapses"}

// on_post: apre at the neuron column_pre (arg17) gives.
// CHECK-LABEL: func.func @ncl_S_on_post(
// CHECK: scf.for
// CHECK:   scf.for %[[C:.*]] = %{{.*}} to %{{.*}}
// CHECK:     %[[I32:.*]] = memref.load %arg17[%[[C]]] : memref<?xi32>
// CHECK:     %[[I:.*]] = arith.index_cast %[[I32]] : i32 to index
// CHECK-NOT: math.exp
// CHECK:     memref.load %arg13[%[[I]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}

// CHECK-LABEL: ncl.network @Net
// CHECK: ncl.stage advance_post_traces @S kernel @ncl_S_advance_post_traces {args = [8, 9, 10, 11, 7, 1, 1, 0, 0, 14, 15, 16, 17, 19, 18, "begin", "end", "first_step", "seed", "dt"]}
// CHECK: ncl.stage advance_pre_traces @S kernel @ncl_S_advance_pre_traces
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, drive = #ncl<drive event_driven>, params = [#ncl.param<name = "tau">, #ncl.param<name = "A">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Pair",
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate", unit = "s">],
      post_traces = [#ncl.var<name = "apost">, #ncl.var<name = "_lastupdate", unit = "s">],
      vars = [#ncl.var<name = "w">]} init {
    %half = arith.constant 5.000000e-01 : f64
    ncl.synapse_write "w", %half : f64
  } on_pre {
    %t = ncl.time : f64
    %A = ncl.param "A" : f64
    %apre = ncl.trace_read pre "apre" : f64
    %apre1 = arith.addf %apre, %A : f64
    ncl.trace_write pre "apre", %apre1 : f64
    ncl.trace_write pre "_lastupdate", %t : f64
    %apost = ncl.advance_traces post ["apost"] {
      %m1 = arith.constant -1.000000e+00 : f64
      %tn = ncl.time : f64
      %tau = ncl.param "tau" : f64
      %plast = ncl.trace_read post "_lastupdate" : f64
      %pel = arith.subf %tn, %plast : f64
      %a = ncl.trace_read post "apost" : f64
      %b = arith.divf %m1, %tau : f64
      %pz = arith.mulf %b, %pel : f64
      %pe = math.exp %pz : f64
      %a1 = arith.mulf %pe, %a : f64
      ncl.advanced %a1 : f64
    } : f64
    %w = ncl.synapse_read "w" : f64
    ncl.post_add "v", %w : f64
    %w1 = arith.addf %w, %apost : f64
    ncl.synapse_write "w", %w1 : f64
  } on_post {
    %t = ncl.time : f64
    %A = ncl.param "A" : f64
    %apost = ncl.trace_read post "apost" : f64
    %apost1 = arith.subf %apost, %A : f64
    ncl.trace_write post "apost", %apost1 : f64
    ncl.trace_write post "_lastupdate", %t : f64
    %apre = ncl.advance_traces pre ["apre"] {
      %m1 = arith.constant -1.000000e+00 : f64
      %tn = ncl.time : f64
      %tau = ncl.param "tau" : f64
      %last = ncl.trace_read pre "_lastupdate" : f64
      %el = arith.subf %tn, %last : f64
      %a = ncl.trace_read pre "apre" : f64
      %b = arith.divf %m1, %tau : f64
      %z = arith.mulf %b, %el : f64
      %e = math.exp %z : f64
      %a1 = arith.mulf %e, %a : f64
      ncl.advanced %a1 : f64
    } : f64
    %w = ncl.synapse_read "w" : f64
    %w1 = arith.addf %w, %apre : f64
    ncl.synapse_write "w", %w1 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @S
    ncl.stage advance_post_traces @S
    ncl.stage deliver @S
    ncl.stage advance_pre_traces @S
    ncl.stage on_post @S
    ncl.stage step @P
  }
}
