// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A projection's on_post region becomes its `on_post` kernel: an scf.for
// over the list `spikes` (the postsynaptic neurons of the thread's range
// that spiked), for each the synapses of its column [column_start[j],
// column_start[j + 1]) taken from column_synapse, and the region for each.
// A presynaptic read needs the synapse's presynaptic neuron: the runtime
// lists it beside the column index (column_pre), since on_post reads it.
// ncl.time is t of the stage's step.
// The projection gets `reads_presynaptic_state` (on_post reads v_pre), the
// stage its kernel.
//
// Buffer table: 0-6 @P (params, v, refractory, spike step/index/channel,
// last_spike), 7-14 @S (params, w, tpre, row_start, post_index,
// column_start, column_synapse, column_pre).

// CHECK-LABEL: func.func @ncl_S_on_post(
// CHECK-SAME: %[[SP:[^:]*]]: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>, %[[TPRE:[^:]*]]: memref<?xf64>, %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// The presynaptic and postsynaptic v, the two populations' parameters,
// then the column index.
// CHECK-SAME: %[[VPRE:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>,
// CHECK-SAME: %[[CSTART:[^:]*]]: memref<?xi64>, %[[CSYN:[^:]*]]: memref<?xi32>, %[[CPRE:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %{{[^:]*}}: index, %{{[^:]*}}: index, %[[SIZE:[^:]*]]: index, %[[STEP:[^:]*]]: i64, %{{[^:]*}}: i64, %[[DT:[^:]*]]: f64, %[[SPIKES:[^:]*]]: memref<?xi32>, %[[NUM:[^:]*]]: index)
// CHECK-SAME: attributes {ncl.kernel = "on_post"}
// CHECK-DAG: %[[AP:.*]] = memref.load %[[SP]][%{{.*}}] : memref<?xf64>
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[NUM]]
// CHECK:   %[[J32:.*]] = memref.load %[[SPIKES]][%[[K]]] : memref<?xi32>
// CHECK:   %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// What every synapse of the spiking neuron shares (here t) is computed once
// per spike, before its column.
// CHECK:   arith.sitofp %[[STEP]] : i64 to f64
// CHECK:   %[[LO:.*]] = memref.load %[[CSTART]][%[[J]]] : memref<?xi64>
// CHECK:   %[[HI:.*]] = memref.load %[[CSTART]][%{{.*}}] : memref<?xi64>
// CHECK:   scf.for %[[C:.*]] = %{{.*}} to %{{.*}}
// CHECK:     %[[S32:.*]] = memref.load %[[CSYN]][%[[C]]] : memref<?xi32>
// CHECK:     %[[S:.*]] = arith.index_cast %[[S32]] : i32 to index
// CHECK:     %[[I32:.*]] = memref.load %[[CPRE]][%[[C]]] : memref<?xi32>
// CHECK:     %[[I:.*]] = arith.index_cast %[[I32]] : i32 to index
// The records of the synapse 16 places ahead in the column are fetched
// early: they lie anywhere in the per-synapse arrays.
// CHECK:     %[[AHEAD:.*]] = arith.minui
// CHECK:     %[[A32:.*]] = memref.load %[[CSYN]][%[[AHEAD]]] : memref<?xi32>
// CHECK:     memref.prefetch %{{.*}}, write, locality<3>, data : memref<?xf64>
// CHECK-NOT: scf.while
// The variables (w, tpre) are interleaved: synapse s's record starts at
// element 2 s (each use computes it; CSE merges them later).
// CHECK:     %[[REC:.*]] = arith.muli %[[S]], %{{.*}} : index
// CHECK:     memref.load %[[W]][%[[REC]]] : memref<?xf64>
// CHECK:     memref.load %[[VPRE]][%[[I]]] : memref<?xf64>
// CHECK:     %[[REC2:.*]] = arith.muli %[[S]], %{{.*}} : index
// CHECK:     memref.store %{{.*}}, %[[TPRE]][%[[REC2]]] : memref<?xf64>
// CHECK:     %[[REC3:.*]] = arith.muli %[[S]], %{{.*}} : index
// CHECK:     memref.store %{{.*}}, %[[W]][%[[REC3]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "spikes"}
// CHECK: return

// CHECK-LABEL: ncl.network @Learn
// CHECK: ncl.projection @S
// CHECK-SAME: reads_presynaptic_state
// CHECK-SAME: init {
// CHECK-NEXT: } on_pre {
// CHECK-NEXT: }
// CHECK-NOT: on_post {
// CHECK: ncl.stage on_post @S kernel @ncl_S_on_post {args = [7, 8, 9, 10, 11, 1, 1, 0, 0, 12, 13, 14, "begin", "end", "size", "first_step", "seed", "dt", "spikes", "num_spikes"]}
ncl.network @Learn attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Cell", size = 3 : i64, emits_spikes,
      params = [#ncl.param<name = "El", value = -7.0e-2 : f64>],
      vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    ncl.state_write "v", %v : f64
  }
  ncl.projection @S {synapse = "Learn", pre = @P, post = @P,
      pre_range = array<i64: 0, 3>, post_range = array<i64: 0, 3>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "Ap", value = 0.01 : f64>],
      vars = [#ncl.var<name = "w">, #ncl.var<name = "tpre">]} init {
    %ap = ncl.param "Ap" : f64
    ncl.synapse_write "w", %ap : f64
    ncl.synapse_write "tpre", %ap : f64
  } on_pre {
  } on_post {
    %ap = ncl.param "Ap" : f64
    %w = ncl.synapse_read "w" : f64
    %vi = ncl.pre_read "v" : f64
    %t = ncl.time : f64
    %x = arith.mulf %ap, %vi : f64
    %w1 = arith.addf %w, %x : f64
    ncl.synapse_write "tpre", %t : f64
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
