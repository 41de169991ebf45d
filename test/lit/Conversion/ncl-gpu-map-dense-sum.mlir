// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-gpu-map | FileCheck %s
// The GPU form of a dense `sum` (docs/gpu.md, "Dense sums"). A thread
// owns one postsynaptic neuron of one batch member: the members loop of the
// target-independent kernel runs once (member begin / N_post) and each
// places loop at most once, at the thread's place j in the row, so they
// become that iteration, the places under `scf.if`. What depends only on
// the thread (its member, its place, where its inputs are) is computed
// before the rows; each input the summed program adds to (here I and J) is
// loaded once, carried through the rows as a value, and stored after them,
// each row adding in the same order as on the CPU. Only a thread that has
// a place in the rows (its neuron in the projection's postsynaptic range:
// its range of places, from where the first piece starts to where the last
// ends, is not empty) loads and stores them: another thread's place is
// clamped to the range's edge, a neighbour's input, which it must not
// write back while that neighbour adds to it.

// Without autapses between overlapping ranges (rows 1-3 miss their own
// neuron), the two pieces of each row, [first, min(last, h)) and
// [max(first, h + 1), last), become two branches, the second adding to
// what the first yields.
// CHECK-LABEL: func.func @ncl_H_sum(
// CHECK-SAME: %[[R:[^:]*]]: memref<?xi64>, %{{[^:]*}}: memref<?xi32>, %[[IIN:[^:]*]]: memref<?xf64>, %[[JIN:[^:]*]]: memref<?xf64>, %[[VPRE:[^:]*]]: memref<?xf64>, %[[VPOST:[^:]*]]: memref<?xf64>
// CHECK-SAME: ncl.gpu_dense_sum
// CHECK-SAME: ncl.gpu_tiles = [@ncl_H_sum_tiles, @ncl_H_sum_tiles8, @ncl_H_sum_tiles16]
// CHECK: scf.if
// CHECK-NOT: scf.for
// CHECK: %[[OWNS:.*]] = arith.cmpi slt, %[[FIRST:[^,]*]], %[[LAST:[^ ]*]] : index
// CHECK-NEXT: %[[START:.*]]:2 = scf.if %[[OWNS]] -> (f64, f64) {
// CHECK-NEXT: %[[I0:.*]] = memref.load %[[IIN]][%[[AT:.*]]] : memref<?xf64>
// CHECK-NEXT: %[[J0:.*]] = memref.load %[[JIN]][%[[AT]]] : memref<?xf64>
// CHECK-NEXT: scf.yield %[[I0]], %[[J0]] : f64, f64
// CHECK-NEXT: } else {
// CHECK: scf.yield %{{.*}}, %{{.*}} : f64, f64
// CHECK-NEXT: }
// CHECK-NEXT: %[[SUMS:.*]]:2 = scf.for %[[ROW:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[I:[^ ]*]] = %[[START]]#0, %[[J:[^ ]*]] = %[[START]]#1) -> (f64, f64) {
// CHECK-NOT: memref.store
// CHECK-NOT: memref.load %[[IIN]]
// CHECK-NOT: memref.load %[[JIN]]
// CHECK:   memref.load %[[R]][%[[ROW]]] : memref<?xi64>
// CHECK:   %[[FIRSTPIECE:.*]] = arith.cmpi slt, %[[FIRST]], %{{.*}} : index
// CHECK:   %[[HEAD:.*]]:2 = scf.if %[[FIRSTPIECE]] -> (f64, f64) {
// CHECK:     %[[V:.*]] = memref.load %[[VPRE]]
// CHECK:     memref.load %[[VPOST]][%[[AT]]]
// CHECK:     %[[IH:.*]] = arith.addf %[[I]], %{{.*}} : f64
// CHECK:     %[[JH:.*]] = arith.addf %[[J]], %[[V]] : f64
// CHECK:     scf.yield %[[IH]], %[[JH]] : f64, f64
// CHECK:   } else {
// CHECK:     scf.yield %[[I]], %[[J]] : f64, f64
// CHECK:   }
// CHECK:   %[[LASTPIECE:.*]] = arith.cmpi slt, %{{.*}}, %[[LAST]] : index
// CHECK:   %[[TAIL:.*]]:2 = scf.if %[[LASTPIECE]] -> (f64, f64) {
// CHECK:     %[[IT:.*]] = arith.addf %[[HEAD]]#0, %{{.*}} : f64
// CHECK:     %[[JT:.*]] = arith.addf %[[HEAD]]#1, %{{.*}} : f64
// CHECK:     scf.yield %[[IT]], %[[JT]] : f64, f64
// CHECK:   } else {
// CHECK:     scf.yield %[[HEAD]]#0, %[[HEAD]]#1 : f64, f64
// CHECK:   }
// CHECK:   scf.yield %[[TAIL]]#0, %[[TAIL]]#1 : f64, f64
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
// CHECK-NEXT: scf.if %[[OWNS]] {
// CHECK-NEXT: memref.store %[[SUMS]]#0, %[[IIN]][%[[AT]]] : memref<?xf64>
// CHECK-NEXT: memref.store %[[SUMS]]#1, %[[JIN]][%[[AT]]] : memref<?xf64>
// The member-tiled entry (NCL_GPU_LAUNCH_MEMBER_TILES), a copy built from
// the target-independent kernel: thread g owns neuron j = g mod N_post in
// the 4 members from begin / N_post + 4 (g / N_post), all in range. The
// members loop becomes a copy of its body per member, whose branches test
// the same places (begin and end less a member's offset are j and j + 1),
// so they merge into one per piece: each row loads its weight once for the
// 4 members, and the rows carry 4 values of I and 4 of J.
// CHECK-LABEL: func.func @ncl_H_sum_tiles(
// CHECK-SAME: %[[TW:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi64>, %{{[^:]*}}: memref<?xi32>, %[[TI:[^:]*]]: memref<?xf64>, %[[TJ:[^:]*]]: memref<?xf64>
// CHECK-SAME: ncl.gpu_dense_sum, ncl.gpu_launch = "member_tiles", ncl.gpu_member_tile = 4 : i64
// CHECK: %[[G:.*]] = arith.addi %{{.*}}, %thread_id_x : index
// CHECK: arith.remui %[[G]], %[[N:[^ ]*]] : index
// CHECK: %[[TILE:.*]] = arith.divui %[[G]], %[[N]] : index
// CHECK: %[[FOUR:.*]] = arith.muli %[[TILE]], %c4 : index
// CHECK: %[[M0:.*]] = arith.addi %{{.*}}, %[[FOUR]] : index
// CHECK: %[[M3:.*]] = arith.addi %[[M0]], %c3 : index
// CHECK: %[[ALL:.*]] = arith.cmpi ult, %[[M3]], %{{.*}} : index
// CHECK: scf.if %[[ALL]] {
// CHECK: %[[TOWNS:.*]] = arith.cmpi slt
// CHECK-NEXT: scf.if %[[TOWNS]] -> (f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK-COUNT-4: memref.load %[[TI]]
// CHECK-COUNT-4: memref.load %[[TJ]]
// CHECK: scf.for %{{.*}} iter_args({{.*}}) -> (f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK-NOT: memref.store
// CHECK: scf.if %{{.*}} -> (f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK: memref.load %[[TW]]
// CHECK-NOT: memref.load %[[TW]]
// CHECK: scf.yield
// CHECK: } else {
// CHECK-NOT: memref.store
// CHECK: scf.if %{{.*}} -> (f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK: memref.load %[[TW]]
// CHECK-NOT: memref.load %[[TW]]
// CHECK: scf.yield
// CHECK: } else {
// CHECK-NOT: memref.store
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
// CHECK-NEXT: scf.if %[[TOWNS]] {
// CHECK-COUNT-4: memref.store %{{.*}}, %[[TI]]
// CHECK-COUNT-4: memref.store %{{.*}}, %[[TJ]]
// The same form for tiles of 8 and of 16 members (model_abi.h,
// NCL_GPU_MEMBER_TILE_FORMS), which the runtime may launch instead: 8 and
// 16 values of each input carried through the rows.
// CHECK-LABEL: func.func @ncl_H_sum_tiles8(
// CHECK-SAME: ncl.gpu_launch = "member_tiles", ncl.gpu_member_tile = 8 : i64
// CHECK: arith.muli %{{.*}}, %c8 : index
// CHECK: scf.for %{{.*}} iter_args({{.*}}) -> ({{(f64, ){15}f64}}) {
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
// CHECK-COUNT-8: memref.store %{{.*}}, %{{.*}}
// CHECK-LABEL: func.func @ncl_H_sum_tiles16(
// CHECK-SAME: ncl.gpu_launch = "member_tiles", ncl.gpu_member_tile = 16 : i64
// CHECK: arith.muli %{{.*}}, %c16 : index
// CHECK: scf.for %{{.*}} iter_args({{.*}}) -> ({{(f64, ){31}f64}}) {
// CHECK: } {ncl.dense_row_width = 3 : i64, ncl.loop = "rows"}
ncl.network @Hap attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Cell", size = 4 : i64, emits_spikes, receives = ["I", "J"],
      params = [#ncl.param<name = "El", value = -7.0e-2 : f64>, #ncl.param<name = "I">, #ncl.param<name = "J">],
      vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %i = ncl.synaptic_input "I" : f64
    %j = ncl.synaptic_input "J" : f64
    %i1 = arith.addf %i, %j : f64
    %v1 = arith.addf %v, %i1 : f64
    ncl.state_write "v", %v1 : f64
  }
  ncl.projection @H {synapse = "Gap2", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 1, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = false, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "g", value = 0.5 : f64>],
      vars = [#ncl.var<name = "w">]} init {
    %g = ncl.param "g" : f64
    ncl.synapse_write "w", %g : f64
  } on_pre {
  } summed {
    %w = ncl.synapse_read "w" : f64
    %vi = ncl.pre_read "v" : f64
    %vj = ncl.post_read "v" : f64
    %d = arith.subf %vi, %vj : f64
    %x = arith.mulf %w, %d : f64
    ncl.post_add "I", %x : f64
    ncl.post_add "J", %vi : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @H
    ncl.stage sum @H
    ncl.stage step @P
  }
}

// -----

// A sparse projection's rows are searched for the thread's neuron, and its
// synapses onto it may be several (multapses): its sum keeps the
// target-independent form, a thread per index, and has no member tiles.
// CHECK-LABEL: func.func @ncl_S_sum(
// CHECK-NOT: ncl.gpu_dense_sum
// CHECK-SAME: ncl.gpu_launch = "per_index"
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.store
// CHECK: } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "members"}
// CHECK: } {ncl.loop = "rows"}
// CHECK-NOT: func.func @ncl_S_sum_tiles
ncl.network @Sparse attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Cell", size = 4 : i64, emits_spikes, receives = ["I"],
      params = [#ncl.param<name = "I">], vars = [#ncl.var<name = "v">]} init {
    %zero = arith.constant 0.0 : f64
    ncl.state_write "v", %zero : f64
  } step {
    %v = ncl.state_read "v" : f64
    %i = ncl.synaptic_input "I" : f64
    %v1 = arith.addf %v, %i : f64
    ncl.state_write "v", %v1 : f64
  }
  ncl.projection @S {synapse = "Gap", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  } summed {
    %vi = ncl.pre_read "v" : f64
    ncl.post_add "I", %vi : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @S
    ncl.stage sum @S
    ncl.stage step @P
  }
}
