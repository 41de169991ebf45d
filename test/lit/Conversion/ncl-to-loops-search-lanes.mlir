// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops=search-lanes=2 | FileCheck %s
// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s --check-prefix=EIGHT
// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops=search-lanes=1 | FileCheck %s --check-prefix=ONE
// ncl-to-loops' search-lanes: a deliver kernel finds the start of its
// postsynaptic range [begin, end) in the rows of `lanes` spikes at once. The
// spike loop carries a window, the starts of `lanes` spikes and how many of
// them it has used (all, at first); where all are used, an scf.if searches
// the rows of spikes k .. k + lanes - 1 in one scf.while whose every step
// probes each open lane (an scf.if per lane: a closed lane loads nothing).
// A lane past the list, or whose member's range starts at 0, is closed from
// the start. The spike takes its lane's start; the end of its part is
// galloped from there as with one lane.

// CHECK-LABEL: func.func @ncl_C_deliver(
// CHECK-SAME: %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %[[SPIKES:[^:]*]]: memref<?xi32>, %[[NSPIKES:[^:]*]]: index, %[[NPRE:[^:]*]]: index, %[[NPOST:[^:]*]]: index)
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[K:[^ ]*]] = %{{.*}} to %[[NSPIKES]] step %{{.*}} iter_args(%[[S0:[^ ]*]] = %{{.*}}, %[[S1:[^ ]*]] = %{{.*}}, %[[USED:[^ ]*]] = %[[C2]]) -> (index, index, index) {
// CHECK:   %[[REFILL:.*]] = arith.cmpi uge, %[[USED]], %{{.*}} : index
// CHECK:   %[[WIN:.*]]:2 = scf.if %[[REFILL]] -> (index, index) {
// Lane 1: spike k + 1 where it is in the list (else k, and the lane closed).
// CHECK:     arith.addi %[[K]], %{{.*}} : index
// CHECK:     arith.cmpi ult, %{{.*}}, %[[NSPIKES]] : index
// CHECK:     %[[SEARCH:.*]]:4 = scf.while (%[[A0:[^ ]*]] = %{{.*}}, %[[A1:[^ ]*]] = %{{.*}}, %[[Z0:[^ ]*]] = %{{.*}}, %[[Z1:[^ ]*]] = %{{.*}}) : (index, index, index, index)
// CHECK:       %[[O0:.*]] = arith.cmpi ult, %[[A0]], %[[Z0]] : index
// CHECK:       %[[O1:.*]] = arith.cmpi ult, %[[A1]], %[[Z1]] : index
// CHECK:       %[[ANY:.*]] = arith.ori %[[O0]], %[[O1]] : i1
// CHECK:       scf.condition(%[[ANY]])
// CHECK:     } do {
// CHECK:       scf.if %{{.*}} -> (index) {
// CHECK:         memref.load %[[POST]][%{{.*}}] : memref<?xi32>
// CHECK:       } else {
// CHECK:       scf.if %{{.*}} -> (index) {
// CHECK:         memref.load %[[POST]][%{{.*}}] : memref<?xi32>
// CHECK:       } else {
// CHECK:       scf.yield
// CHECK:     }
// CHECK:     scf.yield %[[SEARCH]]#0, %[[SEARCH]]#1 : index, index
// CHECK:   } else {
// CHECK:     scf.yield %[[S0]], %[[S1]] : index, index
// CHECK:   }
// CHECK:   %[[LANE:.*]] = arith.select %[[REFILL]], %{{.*}}, %[[USED]] : index
// CHECK:   %[[IS0:.*]] = arith.cmpi eq, %[[LANE]], %{{.*}} : index
// CHECK:   %[[FIRST:.*]] = arith.select %[[IS0]], %[[WIN]]#0, %[[WIN]]#1 : index
// CHECK:   %[[NEXT:.*]] = arith.addi %[[LANE]], %{{.*}} : index
// CHECK-NOT: scf.while ({{.*}}) : (index, index) -> (index, index)
// CHECK:   %[[GALLOP:.*]]:4 = scf.while
// CHECK:   %[[LAST:.*]]:2 = scf.while (%{{.*}} = %[[GALLOP]]#0, %{{.*}} = %[[GALLOP]]#1)
// CHECK:   scf.for %{{.*}} = %[[FIRST]] to %[[LAST]]#0
// CHECK:   } {ncl.loop = "synapses"}
// CHECK:   scf.yield %[[WIN]]#0, %[[WIN]]#1, %[[NEXT]] : index, index, index
// CHECK: } {ncl.loop = "spikes"}

// The default, eight lanes: sixteen bounds in the search.
// EIGHT-LABEL: func.func @ncl_C_deliver(
// EIGHT: scf.for {{.*}} -> (index, index, index, index, index, index, index, index, index) {
// EIGHT: scf.while {{.*}} : (index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)

// One lane: the loop carries nothing, each spike searches its own row.
// ONE-LABEL: func.func @ncl_C_deliver(
// ONE: scf.for %{{[^ ]*}} = %{{.*}} to %{{[^ ]*}} step %{{[^ ]*}} {
// ONE: scf.while ({{.*}}) : (index, index) -> (index, index)
// ONE-NOT: iter_args
// ONE: } {ncl.loop = "spikes"}

ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Clock", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
    %i = ncl.neuron_index : f64
    ncl.state_write "x", %i : f64
  } step {
    %x = ncl.state_read "x" : f64
    %one = arith.constant 1.0 : f64
    %x1 = arith.addf %x, %one : f64
    %lim = arith.constant 100.0 : f64
    %c = arith.cmpf oge, %x1, %lim : f64
    %f = ncl.threshold %c
    %z = arith.constant 0.0 : f64
    %x2 = ncl.reset %f, %x1, %z : f64
    ncl.state_write "x", %x2 : f64
  }
  ncl.population @Q {neuron = "Acc", size = 3 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "g", %z : f64
  } step {
    %g = ncl.state_read "g" : f64
    %in = ncl.synaptic_input "g" : f64
    %g1 = arith.addf %g, %in : f64
    ncl.state_write "g", %g1 : f64
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 3>,
      connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "w0", value = 1.0 : f64>],
      vars = [#ncl.var<name = "w">]} init {
    %w0 = ncl.param "w0" : f64
    %i = ncl.pre_index : f64
    %j = ncl.post_index : f64
    %ten = arith.constant 10.0 : f64
    %a = arith.mulf %i, %ten : f64
    %b = arith.addf %a, %j : f64
    %w = arith.addf %b, %w0 : f64
    ncl.synapse_write "w", %w : f64
  } on_pre {
    %w = ncl.synapse_read "w" : f64
    %x = ncl.pre_read "x" : f64
    %s = arith.mulf %w, %x : f64
    ncl.post_add "g", %s : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage init @Q
    ncl.stage connect @C
    ncl.stage deliver @C
    ncl.stage step @P
    ncl.stage step @Q
  }
}
