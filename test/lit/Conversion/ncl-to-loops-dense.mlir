// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A dense projection (all to all, without a mask) holds in every row of
// its presynaptic range the whole postsynaptic range in order (less the
// row's own neuron without autapses, the last case below): the sum kernel walks the places j of a row
// (synapse row_start + j onto neuron post_begin + j) over the thread's part
// of [0, width), computed by arithmetic, instead of loading postsynaptic
// indices and searching them. Its inner loop then reads w and writes the
// inputs contiguously (a matrix-vector product by rows), and the rows loop
// carries the row width, which lets ncl-cpu-schedule jam several rows
// (ncl-cpu-schedule.mlir).

// With batch members, the sum walks the rows outside and the members the
// call owns inside, so each row's weights serve every member (a matrix-
// matrix product): member b reads presynaptic neuron b * N_pre + i and adds
// to postsynaptic b * N_post + j, over its part of [begin, end).
// CHECK-LABEL: func.func @ncl_G_sum(
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[SIZE:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: f64, %[[PRE:[^:]*]]: index, %[[POST:[^:]*]]: index, %{{[^:]*}}: index)
// CHECK-NOT: scf.while
// CHECK: %[[M0:.*]] = arith.divui %[[BEGIN]], %[[POST]] : index
// CHECK: %[[M1:.*]] = arith.divui %{{.*}}, %[[POST]] : index
// The rows of the presynaptic range [0, 3):
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[C3]]
// CHECK:   %[[LO:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NOT: memref.load
// CHECK:   scf.for %[[B:.*]] = %[[M0]] to %[[M1]]
// CHECK:     %[[PREOFF:.*]] = arith.muli %[[B]], %[[PRE]] : index
// CHECK:     %[[POSTOFF:.*]] = arith.muli %[[B]], %[[POST]] : index
// CHECK:     arith.subi %[[BEGIN]], %[[POSTOFF]] : index
// CHECK:     arith.subi %[[END]], %[[POSTOFF]] : index
// CHECK:     arith.minsi %{{.*}}, %[[POST]] : index
// Their places in the row, clamped to the width 3:
// CHECK:     %[[FIRST:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// CHECK:     %[[LAST:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// CHECK:     scf.for %[[J:.*]] = %[[FIRST]] to %[[LAST]]
// CHECK-NOT: memref.load %{{.*}} : memref<?xi32>
// The synapse is the row's start plus j; the range starts at neuron 0, so
// j is the postsynaptic neuron.
// CHECK:       arith.addi %[[LO]], %[[J]] : index
// CHECK:       %[[PREAT:.*]] = arith.addi %[[I]], %[[PREOFF]] : index
// CHECK:       memref.load %{{.*}}[%[[PREAT]]] : memref<?xf64>
// CHECK:       %[[POSTAT:.*]] = arith.addi %[[J]], %[[POSTOFF]] : index
// CHECK:       memref.load %{{.*}}[%[[POSTAT]]] : memref<?xf64>
// CHECK:     } {ncl.loop = "synapses"}
// CHECK:   } {ncl.loop = "members"}
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
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
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
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

// -----

// Without autapses between overlapping ranges, the row of presynaptic
// neuron i (inside the postsynaptic range [1, 4)) misses its own neuron:
// its place h = i - 1 in the range, the range's width 3 for a row outside
// it (row 0, which is whole). Still no postsynaptic index is loaded or
// searched. deliver finds a spike's synapses onto [begin, end) by arithmetic: a
// neuron past the row's missing one sits one place earlier. Synapse k of
// the row reaches neuron 1 + k, or 1 + k + 1 from h on.
// CHECK-LABEL: func.func @ncl_H_deliver(
// CHECK-NOT: scf.while
// CHECK: %[[ROW:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: %[[DLO:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[DPLACE:.*]] = arith.subi %[[ROW]], %{{.*}} : index
// CHECK: %[[DIN:.*]] = arith.cmpi ult, %[[DPLACE]], %{{.*}} : index
// CHECK: %[[DH:.*]] = arith.select %[[DIN]], %[[DPLACE]], %{{.*}} : index
// CHECK: %[[OFF:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: %[[LATER:.*]] = arith.cmpi sgt, %[[OFF]], %[[DH]] : index
// CHECK: %[[EARLIER:.*]] = arith.subi %[[OFF]], %{{.*}} : index
// CHECK: arith.select %[[LATER]], %[[EARLIER]], %[[OFF]] : index
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NOT: memref.load %{{.*}} : memref<?xi32>
// CHECK:   %[[KK:.*]] = arith.subi %[[S]], %[[DLO]] : index
// CHECK:   %[[BEYOND:.*]] = arith.cmpi sge, %[[KK]], %{{.*}} : index
// CHECK:   %[[NEXT:.*]] = arith.addi %[[KK]], %{{.*}} : index
// CHECK:   %[[KPOST:.*]] = arith.select %[[BEYOND]], %[[NEXT]], %[[KK]] : index
// CHECK:   %[[POSTJ:.*]] = arith.addi %[[KPOST]], %{{.*}} : index
// CHECK:   memref.load %{{.*}}[%{{.*}}] : memref<?xf64>
// CHECK: } {ncl.loop = "synapses"}

// The sum walks each row's places in two pieces around h:
// [first, min(last, h)) from the row's start and [max(first, h + 1), last)
// one synapse earlier, each contiguous, so ncl-cpu-schedule can jam them
// (ncl-cpu-schedule.mlir).
// CHECK-LABEL: func.func @ncl_H_sum(
// CHECK-NOT: scf.while
// The rows of the presynaptic range [0, 4):
// CHECK: scf.for %[[I:[^ ]*]] = %{{.*}} to %{{.*}} step
// CHECK:   %[[LO:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:   %[[PLACE:.*]] = arith.subi %[[I]], %[[C1:.*]] : index
// CHECK:   %[[INSIDE:.*]] = arith.cmpi ult, %[[PLACE]], %[[W:.*]] : index
// CHECK:   %[[H:.*]] = arith.select %[[INSIDE]], %[[PLACE]], %[[W]] : index
// CHECK:   %[[PASTLO:.*]] = arith.subi %[[LO]], %{{.*}} : index
// CHECK:   scf.for
// Their places in the range, clamped to the width 3:
// CHECK:     %[[FIRST:.*]] = arith.minsi %{{.*}}, %c3{{.*}} : index
// CHECK:     %[[LAST:.*]] = arith.minsi %{{.*}}, %c3{{.*}} : index
// CHECK:     %[[HEADEND:.*]] = arith.minsi %[[LAST]], %[[H]] : index
// CHECK:     scf.for %[[J:.*]] = %[[FIRST]] to %[[HEADEND]]
// CHECK-NOT: memref.load %{{.*}} : memref<?xi32>
// CHECK:       arith.addi %[[LO]], %[[J]] : index
// CHECK:     } {ncl.loop = "synapses"}
// CHECK:     %[[PAST:.*]] = arith.addi %[[H]], %{{.*}} : index
// CHECK:     %[[TAILSTART:.*]] = arith.maxsi %[[FIRST]], %[[PAST]] : index
// CHECK:     scf.for %[[K:.*]] = %[[TAILSTART]] to %[[LAST]]
// CHECK-NOT: memref.load %{{.*}} : memref<?xi32>
// CHECK:       arith.addi %[[PASTLO]], %[[K]] : index
// CHECK:     } {ncl.loop = "synapses"}
// CHECK:   } {ncl.loop = "members"}
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
ncl.network @Hap attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Cell", size = 4 : i64, emits_spikes, receives = ["I"],
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
  ncl.projection @H {synapse = "Gap2", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 1, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = false, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "g", value = 0.5 : f64>], vars = []} init {
  } on_pre {
    %g = ncl.param "g" : f64
    ncl.post_add "I", %g : f64
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
    ncl.stage connect @H
    ncl.stage deliver @H
    ncl.stage sum @H
    ncl.stage step @P
  }
}
