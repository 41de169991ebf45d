// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops=search-lanes=1 | FileCheck %s
// A projection's kernels. `connect` runs the init region for every synapse
// of the presynaptic rows [begin, end): an scf.parallel over rows, an
// scf.for over the row's synapses [row_start[i], row_start[i + 1]).
// `deliver` runs on_pre for every spike of the list `spikes` and every
// synapse of its row whose postsynaptic neuron is in the thread's
// [begin, end), found by searches (scf.while) in the row's sorted
// postsynaptic indices, binary for begin and galloping from there for end,
// each skipped (started empty) where the range
// begins at 0 or ends at the population's size; ncl.post_add adds to the postsynaptic
// neuron's synaptic-input buffer (load, addf, store: the thread owns the
// range, no atomics). A population's ncl.synaptic_input reads its buffer and
// clears it.
//
// Buffer table: 0-5 @P (params, x, refractory, spike step/index/channel),
// 6-9 @Q (params, g, refractory, g.in), 10-13 @C (params, w, row_start,
// post_index).

// CHECK-LABEL: func.func @ncl_Q_update(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[G:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[GIN:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index,
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK:   %[[GV:.*]] = memref.load %[[G]][%[[I]]] : memref<?xf64>
// CHECK:   %[[IN:.*]] = memref.load %[[GIN]][%[[I]]] : memref<?xf64>
// CHECK:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:   memref.store %[[ZERO]], %[[GIN]][%[[I]]] : memref<?xf64>
// CHECK:   %[[SUM:.*]] = arith.addf %[[GV]], %[[IN]] : f64
// CHECK:   memref.store %[[SUM]], %[[G]][%[[I]]] : memref<?xf64>
// CHECK: } {ncl.loop = "neurons"}

// CHECK-LABEL: func.func @ncl_C_connect(
// CHECK-SAME: %[[PARAMS:[^:]*]]: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>, %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: f64)
// CHECK-SAME: attributes {ncl.kernel = "connect"}
// Parameters are loaded once, before the loops.
// CHECK: %[[W0:.*]] = memref.load %[[PARAMS]][%{{.*}}] : memref<?xf64>
// CHECK: scf.parallel (%[[ROW:.*]]) = (%[[BEGIN]]) to (%[[END]])
// CHECK:   %[[LO64:.*]] = memref.load %[[ROWS]][%[[ROW]]] : memref<?xi64>
// CHECK:   %[[LO:.*]] = arith.index_cast %[[LO64]] : i64 to index
// CHECK:   %[[NEXT:.*]] = arith.addi %[[ROW]], %{{.*}} : index
// CHECK:   %[[HI64:.*]] = memref.load %[[ROWS]][%[[NEXT]]] : memref<?xi64>
// CHECK:   %[[HI:.*]] = arith.index_cast %[[HI64]] : i64 to index
// CHECK:   scf.for %[[S:.*]] = %[[LO]] to %[[HI]]
// CHECK:     %[[J32:.*]] = memref.load %[[POST]][%[[S]]] : memref<?xi32>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// ncl.pre_index is the row, ncl.post_index the synapse's postsynaptic neuron.
// CHECK:     %[[I64:.*]] = arith.index_cast %[[ROW]] : index to i64
// CHECK:     %[[IF:.*]] = arith.sitofp %[[I64]] : i64 to f64
// CHECK:     %[[JI64:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK:     %[[JF:.*]] = arith.sitofp %[[JI64]] : i64 to f64
// CHECK:     %[[A:.*]] = arith.mulf %[[IF]], %{{.*}} : f64
// CHECK:     %[[B:.*]] = arith.addf %[[A]], %[[JF]] : f64
// CHECK:     %[[WV:.*]] = arith.addf %[[B]], %[[W0]] : f64
// CHECK:     memref.store %[[WV]], %[[W]][%[[S]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}
// CHECK:   scf.reduce
// CHECK: } {ncl.loop = "rows"}
// CHECK: return

// CHECK-LABEL: func.func @ncl_C_deliver(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>, %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>,
// The postsynaptic inputs, the presynaptic and the postsynaptic variables.
// CHECK-SAME: %[[GIN:[^:]*]]: memref<?xf64>, %[[X:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xf64>,
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[SIZE:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: f64,
// CHECK-SAME: %[[SPIKES:[^:]*]]: memref<?xi32>, %[[NSPIKES:[^:]*]]: index, %[[NPRE:[^:]*]]: index, %[[NPOST:[^:]*]]: index)
// CHECK-SAME: attributes {ncl.kernel = "deliver"}
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[NSPIKES]]
// CHECK:   %[[SENDER32:.*]] = memref.load %[[SPIKES]][%[[K]]] : memref<?xi32>
// CHECK:   %[[SENDER:.*]] = arith.index_cast %[[SENDER32]] : i32 to index
// A spike of neuron b * N_pre + i of a batch (docs/semantics.md, "Batches")
// walks row i and reaches member b's postsynaptic neurons.
// CHECK:   %[[MEMBER:.*]] = arith.divui %[[SENDER]], %[[NPRE]] : index
// CHECK:   %[[PREOFF:.*]] = arith.muli %[[MEMBER]], %[[NPRE]] : index
// CHECK:   %[[POSTOFF:.*]] = arith.muli %[[MEMBER]], %[[NPOST]] : index
// CHECK:   %[[PRE:.*]] = arith.subi %[[SENDER]], %[[PREOFF]] : index
// What every synapse of the spike's row shares (here x_pre) is read once per
// spike, before the row's search.
// CHECK:   %[[XAT:.*]] = arith.addi %[[PRE]], %[[PREOFF]] : index
// CHECK:   %[[XV:.*]] = memref.load %[[X]][%[[XAT]]] : memref<?xf64>
// CHECK:   %[[LO64:.*]] = memref.load %[[ROWS]][%[[PRE]]] : memref<?xi64>
// CHECK:   %[[LO:.*]] = arith.index_cast %[[LO64]] : i64 to index
// CHECK:   %[[HI64:.*]] = memref.load %[[ROWS]][%{{.*}}] : memref<?xi64>
// CHECK:   %[[HI:.*]] = arith.index_cast %[[HI64]] : i64 to index
// The call's range [begin, end) in the member's own indices, clamped to
// [0, N_post].
// CHECK:   arith.subi %[[BEGIN]], %[[POSTOFF]] : index
// CHECK:   %[[MBEGIN:.*]] = arith.minsi %{{.*}}, %[[NPOST]] : index
// CHECK:   arith.subi %[[END]], %[[POSTOFF]] : index
// CHECK:   %[[MEND:.*]] = arith.minsi %{{.*}}, %[[NPOST]] : index
// The first synapse whose postsynaptic index is not below begin (the row's
// start, without a search, where begin is 0)...
// CHECK:   %[[FROMSTART:.*]] = arith.cmpi eq, %[[MBEGIN]], %{{.*}} : index
// CHECK:   %[[TOEND:.*]] = arith.cmpi sge, %[[MEND]], %[[NPOST]] : index
// CHECK:   %[[UPPER:.*]] = arith.select %[[FROMSTART]], %[[LO]], %[[HI]] : index
// CHECK:   %[[FIRST:.*]]:2 = scf.while (%[[A:.*]] = %[[LO]], %[[Z:.*]] = %[[UPPER]]) : (index, index) -> (index, index) {
// CHECK:     %[[OPEN:.*]] = arith.cmpi ult, %[[A]], %[[Z]] : index
// CHECK:     scf.condition(%[[OPEN]]) %[[A]], %[[Z]] : index, index
// CHECK:   } do {
// CHECK:   ^bb0(%[[A:.*]]: index, %[[Z:.*]]: index):
// CHECK:     %[[WIDTH:.*]] = arith.subi %[[Z]], %[[A]] : index
// CHECK:     %[[HALF:.*]] = arith.shrui %[[WIDTH]], %{{.*}} : index
// CHECK:     %[[MID:.*]] = arith.addi %[[A]], %[[HALF]] : index
// CHECK:     %[[J32:.*]] = memref.load %[[POST]][%[[MID]]] : memref<?xi32>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK:     %[[BELOW:.*]] = arith.cmpi ult, %[[J]], %[[MBEGIN]] : index
// CHECK:     %[[MID1:.*]] = arith.addi %[[MID]], %{{.*}} : index
// CHECK:     %[[A1:.*]] = arith.select %[[BELOW]], %[[MID1]], %[[A]] : index
// CHECK:     %[[Z1:.*]] = arith.select %[[BELOW]], %[[Z]], %[[MID]] : index
// CHECK:     scf.yield %[[A1]], %[[Z1]] : index, index
// CHECK:   }
// ...and the first not below end, searched from there (the row's end where
// end is the member's size) by galloping: probes w - 1 past the last probe
// below end, w = 1, 2, 4, ..., clamped to the row, until one is not below
// end, then a binary search between the last two probes.
// CHECK:   %[[LOWER:.*]] = arith.select %[[TOEND]], %[[HI]], %[[FIRST]]#0 : index
// CHECK:   %[[GALLOP:.*]]:4 = scf.while (%[[A:.*]] = %[[LOWER]], %[[Z:.*]] = %[[HI]], %[[STEP:.*]] = %{{.*}}, %[[F:.*]] = %false) : (index, index, index, i1) -> (index, index, index, i1) {
// CHECK:     %[[OPEN:.*]] = arith.cmpi ult, %[[A]], %[[Z]] : index
// CHECK:     %[[NOTF:.*]] = arith.xori %[[F]], %true : i1
// CHECK:     %[[GO:.*]] = arith.andi %[[OPEN]], %[[NOTF]] : i1
// CHECK:     scf.condition(%[[GO]]) %[[A]], %[[Z]], %[[STEP]], %[[F]]
// CHECK:   } do {
// CHECK:   ^bb0(%[[A:.*]]: index, %[[Z:.*]]: index, %[[STEP:.*]]: index, %{{.*}}: i1):
// CHECK:     %[[STEPLESS:.*]] = arith.subi %[[STEP]], %{{.*}} : index
// CHECK:     %[[AHEAD:.*]] = arith.addi %[[A]], %[[STEPLESS]] : index
// CHECK:     %[[Z1:.*]] = arith.subi %[[Z]], %{{.*}} : index
// CHECK:     %[[PROBE:.*]] = arith.minui %[[AHEAD]], %[[Z1]] : index
// CHECK:     %[[J32:.*]] = memref.load %[[POST]][%[[PROBE]]] : memref<?xi32>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK:     %[[REACHED:.*]] = arith.cmpi uge, %[[J]], %[[MEND]] : index
// CHECK:     %[[PAST:.*]] = arith.addi %[[PROBE]], %{{.*}} : index
// CHECK:     %[[A2:.*]] = arith.select %[[REACHED]], %[[A]], %[[PAST]] : index
// CHECK:     %[[Z2:.*]] = arith.select %[[REACHED]], %[[PROBE]], %[[Z]] : index
// CHECK:     %[[STEP2:.*]] = arith.shli %[[STEP]], %{{.*}} : index
// CHECK:     scf.yield %[[A2]], %[[Z2]], %[[STEP2]], %[[REACHED]]
// CHECK:   }
// CHECK:   %[[LAST:.*]]:2 = scf.while (%[[A:.*]] = %[[GALLOP]]#0, %[[Z:.*]] = %[[GALLOP]]#1)
// CHECK:     arith.cmpi ult, %{{.*}}, %[[MEND]] : index
// CHECK:   }
// CHECK:   scf.for %[[S:.*]] = %[[FIRST]]#0 to %[[LAST]]#0
// CHECK:     %[[J32:.*]] = memref.load %[[POST]][%[[S]]] : memref<?xi32>
// CHECK:     %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// CHECK:     %[[WV:.*]] = memref.load %[[W]][%[[S]]] : memref<?xf64>
// CHECK:     %[[E:.*]] = arith.mulf %[[WV]], %[[XV]] : f64
// CHECK:     %[[AT:.*]] = arith.addi %[[J]], %[[POSTOFF]] : index
// CHECK:     %[[OLD:.*]] = memref.load %[[GIN]][%[[AT]]] : memref<?xf64>
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %[[E]] : f64
// CHECK:     memref.store %[[NEW]], %[[GIN]][%[[AT]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "spikes"}
// CHECK: return
// CHECK-NOT: ncl.synapse
// CHECK-NOT: ncl.post_add

// The projection only describes now, and its stages name their kernels and
// arguments: buffer-table indices (shared: params, per-synapse variables,
// row starts, postsynaptic indices; deliver adds the postsynaptic inputs,
// the presynaptic and the postsynaptic variables, the presynaptic and the
// postsynaptic parameters), then header fields. on_pre reads the
// presynaptic x, so the projection gets `reads_presynaptic_state`.
// CHECK-LABEL: ncl.network @Net
// CHECK: ncl.population @Q {neuron = "Acc", params = [], receives = ["g"]
// CHECK: ncl.projection @C
// CHECK-SAME: reads_presynaptic_state
// CHECK-SAME: init {
// CHECK-NEXT: } on_pre {
// CHECK-NEXT: }
// CHECK: ncl.schedule {
// CHECK-NEXT: ncl.stage init @P kernel @ncl_P_init
// CHECK-NEXT: ncl.stage init @Q kernel @ncl_Q_init
// CHECK-NEXT: ncl.stage connect @C kernel @ncl_C_connect {args = [11, 12, 13, 14, "begin", "end", "seed", "dt"]}
// CHECK-NEXT: ncl.stage deliver @C kernel @ncl_C_deliver {args = [11, 12, 13, 14, 10, 1, 8, 0, 7, "begin", "end", "size", "first_step", "seed", "dt", "spikes", "num_spikes", "pre_size", "post_size"]}
// CHECK-NEXT: ncl.stage step @P kernel @ncl_P_update {args = [0, 1, 2, 3, 4, 5, 6,
// CHECK-NEXT: ncl.stage step @Q kernel @ncl_Q_update {args = [7, 8, 9, 10, "begin", "end", "size", "seed", "first_step", "num_steps", "spike_capacity", "results", "dt"]}
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

// -----

// A synapse without parameters or state: its init region has no block (it
// prints as `init {}`), so the connect kernel's synapse loop is empty;
// deliver still adds to the synaptic input.

// CHECK-LABEL: func.func @ncl_E_connect(
// CHECK-SAME: attributes {ncl.kernel = "connect"}
// CHECK: scf.parallel
// CHECK:   scf.for
// CHECK-NEXT:  memref.load
// CHECK-NEXT:  arith.index_cast
// CHECK-NEXT: } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "rows"}
// CHECK-LABEL: func.func @ncl_E_deliver(
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     %[[OLD:.*]] = memref.load %{{.*}} : memref<?xf32>
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK:     memref.store %[[NEW]]
// CHECK:   } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "spikes"}
// CHECK-LABEL: ncl.network @Plain
// Same population on both sides: its variable buffer is passed as the
// presynaptic and as the postsynaptic variable.
// CHECK: ncl.stage connect @E kernel @ncl_E_connect {args = [8, 9, 10, "begin", "end", "seed", "dt"]}
// CHECK-NEXT: ncl.stage deliver @E kernel @ncl_E_deliver {args = [8, 9, 10, 7, 1, 1, 0, 0, "begin", "end", "size", "first_step", "seed", "dt", "spikes", "num_spikes", "pre_size", "post_size"]}
ncl.network @Plain attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @P {neuron = "N", size = 2 : i64, emits_spikes, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
    %z = arith.constant 0.0 : f32
    ncl.state_write "g", %z : f32
  } step {
    %in = ncl.synaptic_input "g" : f32
    ncl.state_write "g", %in : f32
  }
  ncl.projection @E {synapse = "Plain", pre = @P, post = @P,
      pre_range = array<i64: 0, 2>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = one_to_one, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %one = arith.constant 1.0 : f32
    ncl.post_add "g", %one : f32
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @E
    ncl.stage deliver @E
    ncl.stage step @P
  }
}

// -----

// A state variable the population does not receive through a buffer (MLIRGen
// chooses this where the update would add what arrived unconditionally):
// deliver adds straight to the variable, and the update has no synaptic
// input to read or clear.

// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-NOT: ncl.synaptic_input
// CHECK-LABEL: func.func @ncl_D_deliver(
// CHECK-SAME: %{{[^:]*}}: memref<?xi32>, %{{[^:]*}}: memref<?xf64>, %[[G:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: index, %{{[^:]*}}: index,
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     %[[POST:.*]] = arith.index_cast
// CHECK:     %[[AT:.*]] = arith.addi %[[POST]], %{{.*}} : index
// CHECK:     %[[OLD:.*]] = memref.load %[[G]][%[[AT]]] : memref<?xf64>
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f64
// CHECK:     memref.store %[[NEW]], %[[G]][%[[AT]]] : memref<?xf64>
// CHECK:   } {ncl.loop = "synapses"}
// CHECK: } {ncl.loop = "spikes"}
// The state buffer of g (1) is passed as the presynaptic and the postsynaptic
// variable (the latter is the one added to), then the parameters of both
// (0); no synaptic-input buffer is allocated.
// CHECK-LABEL: ncl.network @Direct
// CHECK-NOT: synaptic_input
// CHECK: ncl.stage deliver @D kernel @ncl_D_deliver {args = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, 1, 1, 0, 0, "begin", "end", "size", "first_step", "seed", "dt", "spikes", "num_spikes", "pre_size", "post_size"]}
ncl.network @Direct attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 2 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "g">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "g", %z : f64
  } step {
    %g = ncl.state_read "g" : f64
    ncl.state_write "g", %g : f64
  }
  ncl.projection @D {synapse = "Plain", pre = @P, post = @P,
      pre_range = array<i64: 0, 2>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = one_to_one, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %one = arith.constant 1.0 : f64
    ncl.post_add "g", %one : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @D
    ncl.stage deliver @D
    ncl.stage step @P
  }
}
