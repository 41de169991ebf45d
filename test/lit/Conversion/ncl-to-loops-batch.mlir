// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// Batches (docs/semantics.md, "Batches"): the neuron loops run over every
// batch member's neurons, member b's neuron i at b * N + i, so the index
// the loop gives is the neuron's place in the batch. `i` (ncl.neuron_index)
// and the draws of `shared` ncl.rand (per-neuron parameters, the same in
// every member) use i = that index mod N; every other draw uses the place
// in the batch, so that members draw their own initial states and noise.

// CHECK-LABEL: func.func @ncl_P_init(
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[SIZE:[^:]*]]: index,
// CHECK: scf.parallel (%[[G:.*]]) = (%[[BEGIN]]) to (%[[END]])
// The entity word of b's draw is i...
// CHECK:   %[[LOCAL:.*]] = arith.remui %[[G]], %[[SIZE]] : index
// CHECK:   %[[LOCAL64:.*]] = arith.index_castui %[[LOCAL]] : index to i64
// CHECK:   arith.trunci %[[LOCAL64]] : i64 to i32
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[G]]] : memref<?xf64>
// ...and x's is the place in the batch.
// CHECK:   %[[G64:.*]] = arith.index_castui %[[G]] : index to i64
// CHECK:   arith.trunci %[[G64]] : i64 to i32
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[G]]] : memref<?xf64>

// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[SIZE:[^:]*]]: index, %{{[^:]*}}: i64,
// CHECK: scf.parallel (%[[G:.*]]) =
// CHECK:   %[[LOCAL:.*]] = arith.remui %[[G]], %[[SIZE]] : index
// CHECK:   %[[I64:.*]] = arith.index_cast %[[LOCAL]] : index to i64
// CHECK:   arith.sitofp %[[I64]] : i64 to f64
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64, batch = 4 : i64} {
  ncl.population @P {neuron = "Unit", size = 8 : i64, params = [],
      vars = [#ncl.var<name = "b">, #ncl.var<name = "x">]} init {
    %b = ncl.rand normal shared stream 0 : f64
    ncl.state_write "b", %b : f64
    %x = ncl.rand normal stream 1 : f64
    ncl.state_write "x", %x : f64
  } step {
    %i = ncl.neuron_index : f64
    %b = ncl.state_read "b" : f64
    %x = arith.addf %i, %b : f64
    ncl.state_write "x", %x : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage step @P
  }
}
