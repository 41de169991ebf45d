// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-cpu-schedule | FileCheck %s
// ncl-cpu-schedule turns the target-independent kernels into loops for one
// CPU core: the neuron scf.parallel becomes a sequential scf.for and the
// atomic spike count a count carried through the loops.

// Recorded: the spike append (the second loop of a step) stays under scf.if, at the slot given by an
// index count carried through the neuron and step loops; the while loop's
// capacity check reads the carried count, not the results buffer, and the
// count is stored once at the end. The init kernel is a plain scf.for.

// CHECK-LABEL: func.func @ncl_P_init(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index,
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]] step %{{.*}} {
// CHECK:   memref.store %{{.*}}, %[[V]][%[[I]]] : memref<?xf64>
// CHECK: }
// CHECK: return

// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[SSTEP:[^:]*]]: memref<?xi64>, %[[SIDX:[^:]*]]: memref<?xi64>, %[[SCHAN:[^:]*]]: memref<?xi32>, %[[LAST:[^:]*]]: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index,
// CHECK-SAME: %[[NSTEPS:[^:]*]]: index, %[[CAP:[^:]*]]: index, %[[OUT:[^:]*]]: memref<2xi64>, %{{[^:]*}}: f64)
// CHECK-NOT: memref.atomic_rmw
// CHECK: %[[WIDTH:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: %[[DONE:.*]]:2 = scf.while (%[[S:.*]] = %{{.*}}, %[[COUNT:.*]] = %{{.*}}) : (index, index) -> (index, index) {
// CHECK:   arith.cmpi slt, %[[S]], %[[NSTEPS]]
// CHECK-NOT: memref.load %[[OUT]]
// CHECK:   %[[CI:.*]] = arith.index_cast %[[COUNT]] : index to i64
// CHECK:   %[[CC:.*]] = arith.index_cast %[[CI]] : i64 to index
// CHECK:   %[[NEED:.*]] = arith.addi %[[CC]], %[[WIDTH]]
// CHECK:   arith.cmpi sle, %[[NEED]], %[[CAP]]
// CHECK:   scf.condition(%{{.*}}) %[[S]], %[[COUNT]] : index, index
// CHECK: } do {
// CHECK: ^bb0(%[[S2:.*]]: index, %[[COUNT2:.*]]: index):
// The update (marking spikes in last_spike) stays a branch-free loop; the
// append loop after it carries the count. It tests whole blocks of 16 marks
// at once (an `or` of the set ones, which LLVM vectorises) and appends only
// in a block that has one; the rest of the range is appended one by one.
// CHECK:   scf.parallel
// CHECK:     arith.cmpf ogt
// CHECK:     memref.store %{{.*}}, %[[LAST]]
// CHECK:   } {ncl.loop = "neuron-update"}
// CHECK:   %[[C16:.*]] = arith.constant 16 : index
// CHECK:   %[[SPAN:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK:   %[[NB:.*]] = arith.divui %[[SPAN]], %[[C16]] : index
// CHECK:   %[[WHOLE:.*]] = arith.muli %[[NB]], %[[C16]] : index
// CHECK:   %[[WEND:.*]] = arith.addi %[[BEGIN]], %[[WHOLE]] : index
// CHECK:   %[[BLOCKS:.*]] = scf.for %[[B:.*]] = %[[BEGIN]] to %[[WEND]] step %[[C16]] iter_args(%[[BC:.*]] = %[[COUNT2]]) -> (index) {
// CHECK:     %[[SET:.*]] = scf.for %[[K:.*]] = %{{.*}} to %[[C16]] step %{{.*}} iter_args(%[[T:.*]] = %[[ZERO:.*]]) -> (i32) {
// CHECK:       %[[BK:.*]] = arith.addi %[[B]], %[[K]] : index
// CHECK:       memref.load %[[LAST]][%[[BK]]]
// CHECK:       %[[HIT:.*]] = arith.cmpi eq
// CHECK:       %[[HIT32:.*]] = arith.extui %[[HIT]] : i1 to i32
// CHECK:       %[[SUM:.*]] = arith.ori %[[T]], %[[HIT32]] : i32
// CHECK:       scf.yield %[[SUM]] : i32
// CHECK:     }
// CHECK:     %[[ANY:.*]] = arith.cmpi ne, %[[SET]], %[[ZERO]] : i32
// CHECK:     %[[AFTER:.*]] = scf.if %[[ANY]] -> (index) {
// CHECK:       %[[BEND:.*]] = arith.addi %[[B]], %[[C16]] : index
// CHECK:       %[[IN:.*]] = scf.for %{{.*}} = %[[B]] to %[[BEND]] step %{{.*}} iter_args(%{{.*}} = %[[BC]]) -> (index) {
// CHECK:         scf.if
// CHECK:       }
// CHECK:       scf.yield %[[IN]] : index
// CHECK:     } else {
// CHECK:       scf.yield %[[BC]] : index
// CHECK:     }
// CHECK:     scf.yield %[[AFTER]] : index
// CHECK:   }
// CHECK:   %[[NEW:.*]] = scf.for %[[I:.*]] = %[[WEND]] to %[[END]] step %{{.*}} iter_args(%[[C:.*]] = %[[BLOCKS]]) -> (index) {
// CHECK:     %[[MARK:.*]] = memref.load %[[LAST]][%[[I]]]
// CHECK:     %[[FIRED:.*]] = arith.cmpi eq, %[[MARK]]
// CHECK:     %[[SLOT:.*]] = arith.index_cast %[[C]] : index to i64
// CHECK:     scf.if %[[FIRED]] {
// CHECK:       %[[AT:.*]] = arith.index_cast %[[SLOT]] : i64 to index
// CHECK:       memref.store %{{.*}}, %[[SSTEP]][%[[AT]]] : memref<?xi64>
// CHECK:       memref.store %{{.*}}, %[[SIDX]][%[[AT]]] : memref<?xi64>
// CHECK:       memref.store %{{.*}}, %[[SCHAN]][%[[AT]]] : memref<?xi32>
// CHECK:     }
// CHECK:     %[[ONE:.*]] = arith.extui %[[FIRED]] : i1 to i64
// CHECK:     %[[ONEI:.*]] = arith.index_cast %[[ONE]] : i64 to index
// CHECK:     %[[NEXT:.*]] = arith.addi %[[C]], %[[ONEI]] : index
// CHECK:     scf.yield %[[NEXT]] : index
// CHECK:   }
// CHECK:   scf.yield %{{.*}}, %[[NEW]] : index, index
// CHECK: }
// CHECK: %[[SPIKES:.*]] = arith.index_cast %[[DONE]]#1 : index to i64
// CHECK: memref.store %[[SPIKES]], %[[OUT]][%{{.*}}] : memref<2xi64>
// CHECK: %[[STEPS:.*]] = arith.index_cast %[[DONE]]#0 : index to i64
// CHECK: memref.store %[[STEPS]], %[[OUT]][%{{.*}}] : memref<2xi64>
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "LIF", size = 1 : i64, record_spikes,
        params = [#ncl.param<name = "El">, #ncl.param<name = "b">, #ncl.param<name = "Vt">],
        vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %el = ncl.param "El" : f64
    %b = ncl.param "b" : f64
    %vt = ncl.param "Vt" : f64
    %dt = ncl.dt : f64
    %e = ncl.exp_euler %v, %el, %b step %dt : f64
    %c = arith.cmpf ogt, %e, %vt : f64
    %f = ncl.threshold %c
    %v2 = ncl.reset %f, %e, %el : f64
    ncl.state_write "v", %v2 : f64
  }
}

// -----

// Not recorded: nothing leaves the population but the count, so blocks of
// 8192 neurons run all the call's steps while in cache (loops: blocks,
// steps, neurons); the neuron loop counts in an i32 lane without a branch,
// so it vectorises, and the lane is added to the index count after it.

// CHECK-LABEL: func.func @ncl_Q_update(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf32>, %{{[^:]*}}: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %[[NSTEPS:[^:]*]]: index, %{{[^:]*}}: index, %[[OUT:[^:]*]]: memref<2xi64>
// CHECK-NOT: scf.while
// CHECK: %[[BLOCK:.*]] = arith.constant 8192 : index
// CHECK: %[[TOTAL:.*]] = scf.for %[[LO:.*]] = %[[BEGIN]] to %[[END]] step %[[BLOCK]] iter_args(%[[BC:.*]] = %{{.*}}) -> (index) {
// CHECK:   %[[LOEND:.*]] = arith.addi %[[LO]], %[[BLOCK]] : index
// CHECK:   %[[HI:.*]] = arith.minsi %[[LOEND]], %[[END]] : index
// CHECK:   %[[BLOCKCOUNT:.*]] = scf.for %{{.*}} = %{{.*}} to %[[NSTEPS]] step %{{.*}} iter_args(%[[SC:.*]] = %[[BC]]) -> (index) {
// CHECK:     %[[LANES:.*]] = scf.for %[[I:.*]] = %[[LO]] to %[[HI]] step %{{.*}} iter_args(%[[LANE:.*]] = %c0_i32) -> (i32) {
// CHECK-NOT:   scf.if
// CHECK-NOT:   memref.atomic_rmw
// CHECK:       %[[F:.*]] = arith.cmpf ogt
// CHECK:       %[[F32:.*]] = arith.extui %[[F]] : i1 to i32
// CHECK:       %[[LANE1:.*]] = arith.addi %[[LANE]], %[[F32]] : i32
// CHECK:       memref.store %{{.*}}, %[[X]][%[[I]]] : memref<?xf32>
// CHECK:       scf.yield %[[LANE1]] : i32
// CHECK:     }
// CHECK:     %[[LANESI:.*]] = arith.index_cast %[[LANES]] : i32 to index
// CHECK:     %[[SC1:.*]] = arith.addi %[[SC]], %[[LANESI]] : index
// CHECK:     scf.yield %[[SC1]] : index
// CHECK:   }
// CHECK:   scf.yield %[[BLOCKCOUNT]] : index
// CHECK: }
// CHECK: %[[T64:.*]] = arith.index_cast %[[TOTAL]] : index to i64
// CHECK: memref.store %[[T64]], %[[OUT]][%{{.*}}] : memref<2xi64>
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @Q {neuron = "Step", size = 8 : i64,
        params = [#ncl.param<name = "th">],
        vars = [#ncl.var<name = "x">]} init {
    %z = arith.constant 0.0 : f32
    ncl.state_write "x", %z : f32
  } step {
    %x = ncl.state_read "x" : f32
    %th = ncl.param "th" : f32
    %one = arith.constant 1.0 : f32
    %x1 = arith.addf %x, %one : f32
    %c = arith.cmpf ogt, %x1, %th : f32
    %f = ncl.threshold %c
    %z = arith.constant 0.0 : f32
    %x2 = ncl.reset %f, %x1, %z : f32
    ncl.state_write "x", %x2 : f32
  }
}

// -----

// A dense sum (ncl-to-loops marks its rows loop with the row width): four
// rows are jammed into one pass over a block of places. Each row's start
// and each row's presynaptic v (per member) are loaded once, outside the
// places loop; the input at (member, j) is loaded once, receives the four
// rows' terms in ascending row order, one addition each, and is stored
// once; the postsynaptic reads, the same for every row, are made once.
// The rows left over (fewer than four) run one at a time as before.
// CHECK-LABEL: func.func @ncl_G_sum(
// The whole blocks of four rows end at first + (rows / 4) * 4:
// CHECK: %[[BLOCKS:.*]] = arith.divui %{{.*}}, %[[C4:c4.*]] : index
// CHECK: %[[WHOLE:.*]] = arith.muli %[[BLOCKS]], %[[C4]] : index
// CHECK: %[[JEND:.*]] = arith.addi %{{.*}}, %[[WHOLE]] : index
// CHECK: scf.for %[[I0:.*]] = %{{.*}} to %[[JEND]] step %[[C4]] {
// CHECK:   memref.load %[[ROWSTART:arg[0-9]+]][%[[I0]]] : memref<?xi64>
// CHECK-COUNT-3: memref.load %[[ROWSTART]][%{{.*}}] : memref<?xi64>
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-COUNT-4: memref.load %{{.*}}[%{{.*}}] : memref<?xf64>
// CHECK:       scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:         memref.load %{{.*}}[%{{.*}}] : memref<?xf64>
// CHECK:         %[[IN:.*]] = memref.load %[[INPUT:arg[0-9]+]][%[[AT:.*]]] : memref<?xf64>
// CHECK:         %[[A0:.*]] = arith.addf %[[IN]], %{{.*}} : f64
// CHECK-NOT:     memref.load
// CHECK:         %[[A1:.*]] = arith.addf %[[A0]], %{{.*}} : f64
// CHECK-NOT:     memref.load
// CHECK:         %[[A2:.*]] = arith.addf %[[A1]], %{{.*}} : f64
// CHECK-NOT:     memref.load
// CHECK:         %[[A3:.*]] = arith.addf %[[A2]], %{{.*}} : f64
// CHECK-NEXT:    memref.store %[[A3]], %[[INPUT]][%[[AT]]] : memref<?xf64>
// CHECK-NEXT:  } {ncl.loop = "synapses"}
// CHECK:     } {ncl.loop = "members"}
// CHECK:   } {ncl.loop = "place-blocks"}
// CHECK: } {ncl.loop = "jammed-rows"}
// CHECK: scf.for %{{.*}} = %[[JEND]] to
// CHECK: } {ncl.loop = "rows"}
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

// Without autapses a row of the dense sum misses its own neuron's place h:
// ncl-to-loops gives it two pieces, [first, min(last, h)) from the row's
// start and [max(first, h + 1), last) from one synapse earlier. Four rows
// are jammed still: below E (the least of their head ends) every row takes
// its head's body and from S (the greatest of their tail starts) on its
// tail's, four terms per input in ascending row order as above; the places
// between (the rows' holes) add each row's term where its own pieces cover
// j, one place and one row at a time in the same order.
// CHECK-LABEL: func.func @ncl_H_sum(
// CHECK: scf.for %[[I0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[S0:.*]] = memref.load %[[ROWSTART:arg[0-9]+]][%[[I0]]] : memref<?xi64>
// CHECK:   %[[LO0:.*]] = arith.index_cast %[[S0]] : i64 to index
// CHECK-COUNT-4: arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// CHECK:   %[[PAST0:.*]] = arith.subi %[[LO0]], %{{.*}} : index
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:       scf.for %[[J:.*]] = %{{.*}} to %[[BELOW:.*]] step %{{.*}} {
// CHECK:         arith.addi %[[LO0]], %[[J]] : index
// The postsynaptic v, then the input:
// CHECK:         memref.load %{{.*}}[%{{.*}}] : memref<?xf64>
// CHECK:         %[[IN:.*]] = memref.load %[[INPUT:arg[0-9]+]][%[[AT:.*]]] : memref<?xf64>
// CHECK:         %[[A0:.*]] = arith.addf %[[IN]], %{{.*}} : f64
// CHECK:         %[[A1:.*]] = arith.addf %[[A0]], %{{.*}} : f64
// CHECK:         %[[A2:.*]] = arith.addf %[[A1]], %{{.*}} : f64
// CHECK:         %[[A3:.*]] = arith.addf %[[A2]], %{{.*}} : f64
// CHECK-NEXT:    memref.store %[[A3]], %[[INPUT]][%[[AT]]] : memref<?xf64>
// CHECK-NEXT:  } {ncl.loop = "synapses"}
// CHECK:       scf.for %[[K:.*]] = %[[BELOW]] to %[[ABOVE:.*]] step %{{.*}} {
// CHECK:         %[[HEAD:.*]] = arith.cmpi slt, %[[K]], %{{.*}} : index
// CHECK:         %[[TAIL:.*]] = arith.cmpi sge, %[[K]], %{{.*}} : index
// CHECK:         scf.if %[[HEAD]] {
// CHECK:           arith.addi %[[LO0]], %[[K]] : index
// CHECK:           memref.store %{{.*}}, %[[INPUT]][%{{.*}}] : memref<?xf64>
// CHECK:         } else {
// CHECK:           scf.if %[[TAIL]] {
// CHECK:             arith.addi %[[PAST0]], %[[K]] : index
// CHECK:             memref.store %{{.*}}, %[[INPUT]][%{{.*}}] : memref<?xf64>
// CHECK-COUNT-3: scf.if %{{.*}} {
// CHECK:       } {ncl.loop = "synapses"}
// CHECK:       scf.for %[[T:.*]] = %[[ABOVE]] to %{{.*}} step %{{.*}} {
// CHECK:         arith.addi %[[PAST0]], %[[T]] : index
// CHECK:         memref.load %{{.*}}[%{{.*}}] : memref<?xf64>
// CHECK:         %[[TIN:.*]] = memref.load %[[INPUT]][%[[TAT:.*]]] : memref<?xf64>
// CHECK:         %[[T0:.*]] = arith.addf %[[TIN]], %{{.*}} : f64
// CHECK:         %[[T1:.*]] = arith.addf %[[T0]], %{{.*}} : f64
// CHECK:         %[[T2:.*]] = arith.addf %[[T1]], %{{.*}} : f64
// CHECK:         %[[T3:.*]] = arith.addf %[[T2]], %{{.*}} : f64
// CHECK-NEXT:    memref.store %[[T3]], %[[INPUT]][%[[TAT]]] : memref<?xf64>
// CHECK-NEXT:  } {ncl.loop = "synapses"}
// CHECK:     } {ncl.loop = "members"}
// CHECK:   } {ncl.loop = "place-blocks"}
// CHECK: } {ncl.loop = "jammed-rows"}
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
