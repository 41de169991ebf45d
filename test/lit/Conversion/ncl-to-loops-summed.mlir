// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A projection's summed region becomes its `sum` kernel: an scf.for over
// every presynaptic row (`pre_size` rows, in order, never in parallel: two rows
// may add to one neuron), the row's synapses onto the thread's [begin, end)
// found by two binary searches for each batch member, and the region for each, its ncl.post_add
// adding to the postsynaptic neuron's synaptic-input buffer. ncl.pre_read
// and ncl.post_read of a state variable load it at the synapse's neuron; of
// a parameter, load the population's parameter buffer once, before the
// loops. The projection gets `reads_presynaptic_state`, the stage its
// kernel.
//
// Buffer table: 0-7 @P (params, v, refractory, spike step/index/channel,
// last_spike, I.in), 8-10 @G (params, row_start, post_index).

// CHECK-LABEL: func.func @ncl_G_sum(
// CHECK-SAME: %[[GP:[^:]*]]: memref<?xf64>, %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// The postsynaptic input, the presynaptic and postsynaptic v, the two
// populations' parameters.
// CHECK-SAME: %[[IIN:[^:]*]]: memref<?xf64>, %[[VPRE:[^:]*]]: memref<?xf64>, %[[VPOST:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %[[PP:[^:]*]]: memref<?xf64>,
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[SIZE:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: f64, %[[NPRE:[^:]*]]: index, %[[NPOST:[^:]*]]: index, %{{[^:]*}}: index)
// CHECK-SAME: attributes {ncl.kernel = "sum"}
// CHECK-DAG: %[[G:.*]] = memref.load %[[GP]][%{{.*}}] : memref<?xf64>
// CHECK-DAG: %[[EL:.*]] = memref.load %[[PP]][%{{.*}}] : memref<?xf64>
// Rows outside, the batch members the call owns inside (docs/semantics.md,
// "Batches"); each member's part of [begin, end) in its own indices.
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %[[NPRE]]
// CHECK:   memref.load %[[ROWS]][%[[ROW]]] : memref<?xi64>
// CHECK:   scf.for %[[B:.*]] = %{{.*}} to %{{.*}}
// CHECK:     %[[PREOFF:.*]] = arith.muli %[[B]], %[[NPRE]] : index
// CHECK:     %[[POSTOFF:.*]] = arith.muli %[[B]], %[[NPOST]] : index
// CHECK:     %[[SHIFTED:.*]] = arith.subi %[[BEGIN]], %[[POSTOFF]] : index
// CHECK:     %[[CLAMPED:.*]] = arith.maxsi %[[SHIFTED]]
// CHECK:     %[[MBEGIN:.*]] = arith.minsi %[[CLAMPED]], %[[NPOST]] : index
// CHECK:     arith.subi %[[END]], %[[POSTOFF]] : index
// CHECK:     %[[FIRST:.*]]:2 = scf.while
// CHECK:       arith.cmpi ult, %{{.*}}, %[[MBEGIN]] : index
// CHECK:     %[[LAST:.*]]:2 = scf.while
// CHECK:     scf.for %[[S:.*]] = %[[FIRST]]#0 to %[[LAST]]#0
// CHECK:       %[[J32:.*]] = memref.load %[[POST]][%[[S]]] : memref<?xi32>
// CHECK:       %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK:       %[[I:.*]] = arith.addi %[[ROW]], %[[PREOFF]] : index
// CHECK:       %[[VI:.*]] = memref.load %[[VPRE]][%[[I]]] : memref<?xf64>
// CHECK:       %[[JB:.*]] = arith.addi %[[J]], %[[POSTOFF]] : index
// CHECK:       %[[VJ:.*]] = memref.load %[[VPOST]][%[[JB]]] : memref<?xf64>
// CHECK:       %[[D:.*]] = arith.subf %[[VI]], %[[VJ]] : f64
// CHECK:       %[[X:.*]] = arith.mulf %[[G]], %[[D]] : f64
// CHECK:       %[[Y:.*]] = arith.addf %[[X]], %[[EL]] : f64
// CHECK:       %[[AT:.*]] = arith.addi %[[J]], %[[POSTOFF]] : index
// CHECK:       %[[OLD:.*]] = memref.load %[[IIN]][%[[AT]]] : memref<?xf64>
// CHECK:       %[[NEW:.*]] = arith.addf %[[OLD]], %[[Y]] : f64
// CHECK:       memref.store %[[NEW]], %[[IIN]][%[[AT]]] : memref<?xf64>
// CHECK:     } {ncl.loop = "synapses"}
// CHECK:   } {ncl.loop = "members"}
// CHECK: } {ncl.loop = "rows"}
// CHECK: return

// CHECK-LABEL: ncl.network @Gap
// CHECK: ncl.projection @G
// CHECK-SAME: reads_presynaptic_state
// CHECK-SAME: init {
// CHECK-NEXT: } on_pre {
// CHECK-NEXT: }
// CHECK: ncl.stage sum @G kernel @ncl_G_sum {args = [8, 9, 10, 7, 1, 1, 0, 0, "begin", "end", "size", "first_step", "seed", "dt", "pre_size", "post_size", "batch"]}
ncl.network @Gap attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Cell", size = 3 : i64, emits_spikes, receives = ["I"],
      params = [#ncl.param<name = "El", value = -7.0e-2 : f64>, #ncl.param<name = "I">],
      vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %i = ncl.param "I" : f64
    %in = ncl.synaptic_input "I" : f64
    %i1 = arith.addf %i, %in : f64
    %v1 = arith.addf %v, %i1 : f64
    ncl.state_write "v", %v1 : f64
  }
  ncl.projection @G {synapse = "Gap", pre = @P, post = @P,
      pre_range = array<i64: 0, 3>, post_range = array<i64: 0, 3>,
      connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "g", value = 0.5 : f64>], vars = []} init {
  } on_pre {
  } summed {
    %g = ncl.param "g" : f64
    %vi = ncl.pre_read "v" : f64
    %vj = ncl.post_read "v" : f64
    %el = ncl.post_read "El" : f64
    %d = arith.subf %vi, %vj : f64
    %x = arith.mulf %g, %d : f64
    %y = arith.addf %x, %el : f64
    ncl.post_add "I", %y : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @G
    ncl.stage deliver @G
    ncl.stage sum @G
    ncl.stage step @P
  }
}
