// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops -split-input-file | FileCheck %s
// Target-independent loops: each kernel is a loop over steps (scf.for, or
// scf.while when spikes are recorded) around an scf.parallel over the
// neurons of [begin, end); a spike is counted with memref.atomic_rmw on
// results[0] under scf.if. No CPU choices (blocks, lanes, carried counts):
// those are ncl-cpu-schedule's.

// A recorded LIF population after ncl-integrate. Parameters are loaded once
// per call, the steps loop stops before the spike buffer could overflow, and
// each spike is appended (step index n+1, neuron index, channel 0) at the
// slot the atomic count returns. The stages name their kernels and say what
// each argument is: buffer-table indices, then header fields.

// CHECK-LABEL: func.func @ncl_P_init(
// CHECK-SAME: %[[PARAMS:[^:]*]]: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %[[REFR:[^:]*]]: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %{{[^:]*}}: f64)
// CHECK-SAME: attributes {ncl.kernel = "init"}
// CHECK: %[[EL:.*]] = memref.load %[[PARAMS]][%{{.*}}] : memref<?xf64>
// CHECK: scf.parallel (%[[I:.*]]) = (%[[BEGIN]]) to (%[[END]])
// CHECK:   memref.store %[[EL]], %[[V]][%[[I]]] : memref<?xf64>
// CHECK:   memref.store %{{.*}}, %[[REFR]][%[[I]]] : memref<?xi32>
// CHECK: } {ncl.loop = "neurons"}

// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[PARAMS:[^:]*]]: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %[[REFR:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %[[SSTEP:[^:]*]]: memref<?xi64>, %[[SIDX:[^:]*]]: memref<?xi64>, %[[SCHAN:[^:]*]]: memref<?xi32>, %[[LAST:[^:]*]]: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64,
// CHECK-SAME: %[[FIRST:[^:]*]]: i64, %[[NSTEPS:[^:]*]]: index, %[[CAP:[^:]*]]: index, %[[OUT:[^:]*]]: memref<2xi64>, %[[DT:[^:]*]]: f64)
// CHECK-SAME: attributes {ncl.kernel = "update"}
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[C0:.*]]] : memref<2xi64>
// CHECK: %[[WIDTH:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK-COUNT-4: memref.load %[[PARAMS]]
// CHECK: %[[DONE:.*]] = scf.while (%[[S:.*]] = %{{.*}}) : (index) -> index {
// CHECK:   arith.cmpi slt, %[[S]], %[[NSTEPS]]
// CHECK:   %[[COUNT:.*]] = memref.load %[[OUT]][%[[C0]]]
// CHECK:   %[[COUNTI:.*]] = arith.index_cast %[[COUNT]] : i64 to index
// CHECK:   %[[NEED:.*]] = arith.addi %[[COUNTI]], %[[WIDTH]]
// CHECK:   arith.cmpi sle, %[[NEED]], %[[CAP]]
// CHECK: } do {
// CHECK:   %[[N:.*]] = arith.addi %[[FIRST]], %{{.*}} : i64
// CHECK:   %[[N1:.*]] = arith.addi %[[N]], %{{.*}} : i64
// CHECK:   scf.parallel (%[[I:.*]]) = (%[[BEGIN]]) to (%[[END]])
// CHECK:     %[[X:.*]] = memref.load %[[V]][%[[I]]]
// CHECK:     %[[UNTIL0:.*]] = memref.load %[[REFR]][%[[I]]]
// The refractory flag is compared in i64, as wide as the f64 state it
// selects (f32 state compares in i32).
// CHECK:     %[[UNTIL64:.*]] = arith.extsi %[[UNTIL0]] : i32 to i64
// CHECK:     %[[STEP64:.*]] = arith.extsi %{{.*}} : i32 to i64
// CHECK:     arith.cmpi sgt, %[[UNTIL64]], %[[STEP64]] : i64
// CHECK:     %[[Z:.*]] = arith.mulf %{{.*}}, %[[DT]] : f64
// CHECK:     math.expm1 %[[Z]]
// CHECK:     %[[PHI:.*]] = arith.select
// CHECK:     %[[GAIN:.*]] = arith.mulf %[[DT]], %[[PHI]]
// CHECK:     %[[BX:.*]] = arith.mulf %{{.*}}, %[[X]]
// CHECK:     %[[RATE:.*]] = arith.addf %{{.*}}, %[[BX]]
// CHECK:     %[[INC:.*]] = arith.mulf %[[GAIN]], %[[RATE]]
// CHECK:     arith.addf %[[X]], %[[INC]]
// The update marks the spike, branch-free (so that it vectorises), as the
// maximum of the old mark and (fired ? n + 1 : 0), never a select of the
// loaded value (which x86 turns into a slow masked store) ...
// CHECK:     %[[FIRED:.*]] = arith.andi
// CHECK:     %[[N1_32:.*]] = arith.trunci %[[N1]] : i64 to i32
// CHECK:     %[[OLD:.*]] = memref.load %[[LAST]][%[[I]]]
// CHECK:     %[[NEW:.*]] = arith.select %[[FIRED]], %[[N1_32]], %[[ZERO:.*]] : i32
// CHECK:     %[[MARK:.*]] = arith.maxsi %[[OLD]], %[[NEW]] : i32
// CHECK:     memref.store %[[MARK]], %[[LAST]][%[[I]]]
// The reset applies where the neuron fired and v is finite (v - v is 0
// exactly there, NaN for an infinite or NaN v, which stays for the
// runtime's check).
// CHECK:     %[[SELF:.*]] = arith.subf %[[VN:.*]], %[[VN]] : f64
// CHECK:     %[[FINITE:.*]] = arith.cmpf oeq, %[[SELF]], %{{.*}} : f64
// CHECK:     %[[APPLY:.*]] = arith.andi %[[FIRED]], %[[FINITE]] : i1
// CHECK:     arith.select %[[APPLY]], %{{.*}}, %[[VN]] : f64
// CHECK-NOT: scf.if
// CHECK:     arith.divf %{{.*}}, %[[DT]]
// CHECK:     math.roundeven
// The refractory counter is raised the same way.
// CHECK:     %[[UNTIL:.*]] = arith.addi %{{.*}} : i32
// CHECK:     %[[HELD:.*]] = memref.load %[[REFR]][%[[I]]]
// CHECK:     %[[RAISE:.*]] = arith.select %[[FIRED]], %[[UNTIL]], %{{.*}} : i32
// CHECK:     %[[NEXT:.*]] = arith.maxsi %[[HELD]], %[[RAISE]] : i32
// CHECK:     memref.store %[[NEXT]], %[[REFR]][%[[I]]] : memref<?xi32>
// CHECK:     memref.store %{{.*}}, %[[V]][%[[I]]] : memref<?xf64>
// CHECK:     scf.reduce
// CHECK:   } {ncl.loop = "neuron-update"}
// ... and a second loop stores the marked ones.
// CHECK:   scf.parallel (%[[J:.*]]) = (%[[BEGIN]]) to (%[[END]])
// CHECK:     %[[SEEN:.*]] = memref.load %[[LAST]][%[[J]]]
// CHECK:     %[[NOW:.*]] = arith.cmpi eq, %[[SEEN]], %{{.*}} : i32
// CHECK:     scf.if %[[NOW]] {
// CHECK:       %[[SLOT:.*]] = memref.atomic_rmw addi %{{.*}}, %[[OUT]][%{{.*}}] : (i64, memref<2xi64>) -> i64
// CHECK:       %[[AT:.*]] = arith.index_cast %[[SLOT]] : i64 to index
// CHECK:       memref.store %[[N1]], %[[SSTEP]][%[[AT]]]
// CHECK:       memref.store %{{.*}}, %[[SIDX]][%[[AT]]]
// CHECK:       memref.store %c0_i32, %[[SCHAN]][%[[AT]]]
// CHECK:     }
// CHECK:   } {ncl.loop = "neurons"}
// CHECK: } attributes {ncl.loop = "steps"}
// CHECK: %[[DONE64:.*]] = arith.index_cast %[[DONE]] : index to i64
// CHECK: memref.store %[[DONE64]], %[[OUT]][%{{.*}}] : memref<2xi64>
// CHECK-NOT: ncl.

// The population only describes now, and the stages name their kernels.
// CHECK-LABEL: ncl.network @N
// CHECK: ncl.population @P
// CHECK-SAME: init {
// CHECK-NEXT: } step {
// CHECK-NEXT: }
// CHECK: ncl.schedule {
// CHECK-NEXT: ncl.stage init @P kernel @ncl_P_init {args = [0, 1, 2, "begin", "end", "size", "seed", "dt"]}
// CHECK-NEXT: ncl.stage step @P kernel @ncl_P_update {args = [0, 1, 2, 3, 4, 5, 6, "begin", "end", "size", "seed", "first_step", "num_steps", "spike_capacity", "results", "dt"]}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "LIF", size = 1 : i64, record_spikes,
        params = [#ncl.param<name = "El">, #ncl.param<name = "b">, #ncl.param<name = "Vt">, #ncl.param<name = "t_ref">],
        vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %el = ncl.param "El" : f64
    %b = ncl.param "b" : f64
    %vt = ncl.param "Vt" : f64
    %tref = ncl.param "t_ref" : f64
    %r = ncl.is_refractory : i1
    %dt = ncl.dt : f64
    %e = ncl.exp_euler %v, %el, %b step %dt : f64
    %v1 = arith.select %r, %v, %e : f64
    %c = arith.cmpf ogt, %v1, %vt : f64
    %f = ncl.threshold %c unless %r
    %v2 = ncl.reset %f, %v1, %el : f64
    ncl.refractory %f for %tref : f64
    ncl.state_write "v", %v2 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage step @P
  }
}

// -----

// Not recorded: no capacity check, so a plain scf.for over the steps; a spike
// is only counted. Float32 state reads its f64 parameters once and rounds
// them.

// CHECK-LABEL: func.func @ncl_Q_update(
// CHECK-SAME: %[[PARAMS:[^:]*]]: memref<?xf64>, %[[X:[^:]*]]: memref<?xf32>, %{{[^:]*}}: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %[[NSTEPS:[^:]*]]: index, %{{[^:]*}}: index, %[[OUT:[^:]*]]: memref<2xi64>, %{{[^:]*}}: f64)
// CHECK: %[[P:.*]] = memref.load %[[PARAMS]]
// CHECK: %[[TH:.*]] = arith.truncf %[[P]] : f64 to f32
// CHECK-NOT: scf.while
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[NSTEPS]] step %{{.*}} {
// CHECK:   scf.parallel (%[[I:.*]]) = (%[[BEGIN]]) to (%[[END]])
// CHECK:     memref.load %[[X]][%[[I]]] : memref<?xf32>
// CHECK:     %[[C:.*]] = arith.cmpf ogt, %{{.*}}, %[[TH]] : f32
// CHECK:     scf.if %[[C]] {
// CHECK-NEXT:  arith.constant 1 : i64
// CHECK-NEXT:  arith.constant 0 : index
// CHECK-NEXT:  memref.atomic_rmw addi %{{.*}}, %[[OUT]][%{{.*}}] : (i64, memref<2xi64>) -> i64
// CHECK-NEXT: }
// CHECK:     memref.store %{{.*}}, %[[X]][%[[I]]] : memref<?xf32>
// CHECK:   } {ncl.loop = "neurons"}
// CHECK: } {ncl.loop = "steps"}
// CHECK: %[[ALL:.*]] = arith.index_cast %[[NSTEPS]] : index to i64
// CHECK: memref.store %[[ALL]], %[[OUT]][%c1] : memref<2xi64>
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

// Random draws become Philox4x32-10 on (seed, step, neuron, stream): the
// init kernel uses step 2^64 - 1, the update kernel the step index; normal
// draws add Box-Muller with NCL's own log and cos (ncl-to-loops-normal.mlir):
// fma and sqrt, no math.log or math.cos.

// CHECK-LABEL: func.func @ncl_R_init(
// CHECK-SAME: %[[SEED:[^:]*]]: i64, %{{[^:]*}}: f64)
// CHECK: arith.constant -1 : i64
// CHECK: scf.parallel
// CHECK: arith.trunci %[[SEED]] : i64 to i32
// CHECK: arith.mului_extended
// CHECK-LABEL: func.func @ncl_R_update(
// CHECK: scf.for
// CHECK: scf.parallel
// CHECK-COUNT-20: arith.mului_extended
// CHECK-NOT: math.log
// CHECK: llvm.intr.fma
// CHECK-NOT: math.log
// CHECK-NOT: math.cos
// CHECK: math.sqrt
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @R {neuron = "Noise", size = 8 : i64,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %u = ncl.rand stream 0 : f64
    ncl.state_write "x", %u : f64
  } step {
    %x = ncl.state_read "x" : f64
    %u = ncl.rand stream 1 : f64
    %z = ncl.rand normal stream 2 : f64
    %s = arith.addf %u, %z : f64
    %x1 = arith.addf %x, %s : f64
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// A recorded population with a custom event: the buffer must hold a spike
// and an event per neuron and step, and each entry carries its channel.

// CHECK-LABEL: func.func @ncl_E_update(
// CHECK-SAME: %[[CHAN:[^:]*]]: memref<?xi32>, %{{[^:]*}}: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index,
// CHECK: %[[WIDTH:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: %[[PER:.*]] = arith.muli %[[WIDTH]], %c2
// CHECK: scf.while
// CHECK:   arith.addi %{{.*}}, %[[PER]]
// CHECK: scf.if
// CHECK:   memref.atomic_rmw addi
// CHECK:   memref.store %c0_i32, %[[CHAN]]
// CHECK: scf.if
// CHECK:   memref.atomic_rmw addi
// CHECK:   memref.store %c1_i32, %[[CHAN]]
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @E {neuron = "Ev", size = 8 : i64, record_spikes, events = ["burst"],
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %one = arith.constant 1.0 : f64
    %x1 = arith.addf %x, %one : f64
    %c = arith.cmpf ogt, %x1, %one : f64
    %f = ncl.threshold %c
    %e = ncl.event %c {channel = 1 : i64}
    %z = arith.constant 0.0 : f64
    %x2 = ncl.reset %e, %x1, %z : f64
    ncl.state_write "x", %x2 : f64
  }
}
