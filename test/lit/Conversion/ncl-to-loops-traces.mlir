// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// Traces kept per neuron (ncl-integrate): each is a buffer per neuron of
// its side, read and written at the spiking neuron's index. What every
// synapse of the spiking neuron shares (the trace's update, t, parameters)
// moves out of the synapse loop: `deliver` runs it once per arriving
// spike, before the row's search and walk, so that every thread updates its
// own copy of the presynaptic trace even where it owns none of the row's
// synapses; the postsynaptic trace is read per synapse at its neuron.
//
// Buffer table: 0-7 @P (params, v, refractory, spike step/index/channel,
// last_spike, v.in), 8-18 @S (params, w, row_start, post_index,
// column_start, column_synapse, pre.apre, pre._lastupdate, post.apost,
// post._lastupdate, column_pre).

// CHECK-LABEL: func.func @ncl_S_deliver(
// CHECK-SAME: %[[SP:[^:]*]]: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// The input v.in, v of both neurons and both populations' parameters, then
// the traces, presynaptic ones first.
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>,
// CHECK-SAME: %[[APRE:[^:]*]]: memref<?xf64>, %[[PRELAST:[^:]*]]: memref<?xf64>, %[[APOST:[^:]*]]: memref<?xf64>, %[[POSTLAST:[^:]*]]: memref<?xf64>,
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}}
// CHECK:   %[[I32:.*]] = memref.load %{{.*}}[%[[K]]] : memref<?xi32>
// CHECK:   %[[SENDER:.*]] = arith.index_cast %[[I32]] : i32 to index
// The neuron within its batch member (a projection with traces never runs
// batched, so this is the spike's neuron).
// CHECK:   %[[I:.*]] = arith.subi %[[SENDER]], %{{.*}} : index
// CHECK:   %[[LAST:.*]] = memref.load %[[PRELAST]][%[[I]]] : memref<?xf64>
// CHECK:   %[[A:.*]] = memref.load %[[APRE]][%[[I]]] : memref<?xf64>
// CHECK:   %[[A1:.*]] = arith.mulf %{{.*}}, %[[A]] : f64
// CHECK:   memref.store %[[A1]], %[[APRE]][%[[I]]] : memref<?xf64>
// CHECK:   memref.store %{{.*}}, %[[PRELAST]][%[[I]]] : memref<?xf64>
// CHECK:   %[[A2:.*]] = arith.addf %[[A1]], %{{.*}} : f64
// CHECK:   memref.store %[[A2]], %[[APRE]][%[[I]]] : memref<?xf64>
// CHECK:   scf.while
// CHECK:   scf.while
// CHECK:   scf.for %[[S:.*]] = %{{.*}} to %{{.*}}
// CHECK-NOT: %[[APRE]]
// CHECK:     %[[J32:.*]] = memref.load %[[POST]][%[[S]]] : memref<?xi32>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK:     memref.load %[[POSTLAST]][%[[J]]] : memref<?xf64>
// CHECK:     memref.load %[[APOST]][%[[J]]] : memref<?xf64>
// CHECK:     memref.load %[[W]][%[[S]]] : memref<?xf64>
// CHECK:     memref.store %{{.*}}, %[[W]][%[[S]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "spikes"}

// on_post: its own trace once per postsynaptic spike, before the column;
// the presynaptic trace per synapse, at the neuron from column_pre.
// CHECK-LABEL: func.func @ncl_S_on_post(
// CHECK: scf.for
// CHECK:   memref.store %{{.*}}, %[[APOST2:arg[0-9]+]][%{{.*}}] : memref<?xf64>
// CHECK:   scf.for
// CHECK:     memref.load %{{.*}}[%{{.*}}] : memref<?xi32>
// CHECK:     %[[I2:.*]] = arith.index_cast
// CHECK-NOT: memref.store %{{.*}}, %[[APOST2]]
// CHECK:     memref.load %{{.*}}[%[[I2]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}

// CHECK-LABEL: ncl.network @Net
// CHECK: ncl.stage deliver @S kernel @ncl_S_deliver {args = [8, 9, 10, 11, 7, 1, 1, 0, 0, 14, 15, 16, 17, "begin"
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
    %m1 = arith.constant -1.000000e+00 : f64
    %t = ncl.time : f64
    %last = ncl.trace_read pre "_lastupdate" : f64
    %el = arith.subf %t, %last : f64
    %tau = ncl.param "tau" : f64
    %apre = ncl.trace_read pre "apre" : f64
    %b = arith.divf %m1, %tau : f64
    %z = arith.mulf %b, %el : f64
    %e = math.exp %z : f64
    %apre1 = arith.mulf %e, %apre : f64
    ncl.trace_write pre "apre", %apre1 : f64
    ncl.trace_write pre "_lastupdate", %t : f64
    %plast = ncl.trace_read post "_lastupdate" : f64
    %pel = arith.subf %t, %plast : f64
    %apost = ncl.trace_read post "apost" : f64
    %pz = arith.mulf %b, %pel : f64
    %pe = math.exp %pz : f64
    %apost1 = arith.mulf %pe, %apost : f64
    %A = ncl.param "A" : f64
    %w = ncl.synapse_read "w" : f64
    ncl.post_add "v", %w : f64
    %apre2 = arith.addf %apre1, %A : f64
    %w1 = arith.addf %w, %apost1 : f64
    ncl.trace_write pre "apre", %apre2 : f64
    ncl.synapse_write "w", %w1 : f64
  } on_post {
    %t = ncl.time : f64
    %A = ncl.param "A" : f64
    %apost = ncl.trace_read post "apost" : f64
    %apost1 = arith.subf %apost, %A : f64
    ncl.trace_write post "apost", %apost1 : f64
    ncl.trace_write post "_lastupdate", %t : f64
    %apre = ncl.trace_read pre "apre" : f64
    %w = ncl.synapse_read "w" : f64
    %w1 = arith.addf %w, %apre : f64
    ncl.synapse_write "w", %w1 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @S
    ncl.stage deliver @S
    ncl.stage on_post @S
    ncl.stage step @P
  }
}
