// RUN: ncl-opt %s -ncl-to-loops -split-input-file | FileCheck %s

// A recorded LIF population after ncl-integrate. Parameters are loaded once
// per call, the steps loop stops before the spike buffer could overflow, and
// the neuron loop appends spikes (step index n+1, neuron index) under scf.if.

// CHECK-LABEL: func.func @ncl_P_init(
// CHECK-SAME: %[[PARAMS:.*]]: memref<?xf64>, %[[V:.*]]: memref<?xf64>, %[[REFR:.*]]: memref<?xi32>, %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[SIZE:.*]]: index, %[[SEED:.*]]: i64, %{{.*}}: f64)
// CHECK: %[[EL:.*]] = memref.load %[[PARAMS]][%{{.*}}] : memref<?xf64>
// CHECK: scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]]
// CHECK:   memref.store %[[EL]], %[[V]][%[[I]]]
// CHECK:   memref.store %{{.*}}, %[[REFR]][%[[I]]] : memref<?xi32>

// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[PARAMS:[^:]*]]: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %[[REFR:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %[[SSTEP:[^:]*]]: memref<?xi64>, %[[SIDX:[^:]*]]: memref<?xi64>, %[[SCHAN:[^:]*]]: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %[[SIZE:[^:]*]]: index, %[[SEED:[^:]*]]: i64,
// CHECK-SAME: %[[FIRST:[^:]*]]: i64, %[[NSTEPS:[^:]*]]: index, %[[CAP:[^:]*]]: index, %[[OUT:[^:]*]]: memref<2xi64>, %[[DT:[^:]*]]: f64)
// CHECK-COUNT-4: memref.load %[[PARAMS]]
// CHECK: %[[WIDTH:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: scf.while (%[[S:.*]] = %{{.*}}, %[[COUNT:.*]] = %{{.*}})
// CHECK:   arith.cmpi slt, %[[S]], %[[NSTEPS]]
// CHECK:   %[[NEED:.*]] = arith.addi %[[COUNT]], %[[WIDTH]]
// CHECK:   arith.cmpi sle, %[[NEED]], %[[CAP]]
// CHECK: scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]] {{.*}} iter_args(%[[C:.*]] = %{{.*}})
// CHECK:   %[[X:.*]] = memref.load %[[V]][%[[I]]]
// CHECK:   %[[RU:.*]] = memref.load %[[REFR]][%[[I]]]
// CHECK:   %[[Z:.*]] = arith.mulf %{{.*}}, %[[DT]] : f64
// CHECK:   math.expm1 %[[Z]]
// CHECK:   %[[PHI:.*]] = arith.select
// CHECK:   %[[GAIN:.*]] = arith.mulf %[[DT]], %[[PHI]]
// CHECK:   %[[BX:.*]] = arith.mulf %{{.*}}, %[[X]]
// CHECK:   %[[RATE:.*]] = arith.addf %{{.*}}, %[[BX]]
// CHECK:   %[[INC:.*]] = arith.mulf %[[GAIN]], %[[RATE]]
// CHECK:   arith.addf %[[X]], %[[INC]]
// CHECK:   %[[FIRED:.*]] = arith.andi
// CHECK:   scf.if %[[FIRED]] {
// CHECK:     memref.store %{{.*}}, %[[SSTEP]][%[[C]]]
// CHECK:     memref.store %{{.*}}, %[[SIDX]][%[[C]]]
// CHECK:   }
// CHECK:   arith.divf %{{.*}}, %[[DT]]
// CHECK:   math.roundeven
// CHECK:   memref.store %{{.*}}, %[[REFR]][%[[I]]] : memref<?xi32>
// CHECK:   memref.store %{{.*}}, %[[V]][%[[I]]] : memref<?xf64>
// CHECK: memref.store %{{.*}}, %[[OUT]][%{{.*}}] : memref<2xi64>
// CHECK: memref.store %{{.*}}, %[[OUT]][%{{.*}}] : memref<2xi64>
// CHECK-NOT: ncl.
ncl.population @P {neuron = "LIF", size = 1 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["v"], num_params = 4 : i64, record_spikes} init {
  %el = ncl.param "El" [0] : f64
  ncl.state_write "v", %el : f64
} step {
  %v = ncl.state_read "v" : f64
  %el = ncl.param "El" [0] : f64
  %b = ncl.param "b" [1] : f64
  %vt = ncl.param "Vt" [2] : f64
  %tref = ncl.param "t_ref" [3] : f64
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

// -----

// Not recorded: nothing leaves the population, so blocks of 8192 neurons run
// all the call's steps while in cache (loops: blocks, steps, neurons); no
// capacity check and no branch, only an i32 count, so the neuron loop
// vectorises. Float32 state reads its f64 parameters once and rounds them.

// CHECK-LABEL: func.func @ncl_Q_update(
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %[[NSTEPS:[^:]*]]: index,
// CHECK: %[[P:.*]] = memref.load
// CHECK: arith.truncf %[[P]] : f64 to f32
// CHECK-NOT: scf.while
// CHECK: scf.for %[[LO:.*]] = %[[BEGIN]] to %[[END]] step %c8192
// CHECK:   %[[HI:.*]] = arith.minsi
// CHECK:   scf.for %{{.*}} = %c0 to %[[NSTEPS]] step %c1
// CHECK:     scf.for %{{.*}} = %[[LO]] to %[[HI]] step %c1 iter_args(%{{.*}} = %c0_i32) -> (i32)
// CHECK-NOT:   scf.if
// CHECK:       arith.extui %{{.*}} : i1 to i32
// CHECK: memref.store %{{.*}}, %{{.*}}[%c1] : memref<2xi64>
ncl.population @Q {neuron = "Step", size = 8 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["x"], num_params = 1 : i64} init {
  %z = arith.constant 0.0 : f32
  ncl.state_write "x", %z : f32
} step {
  %x = ncl.state_read "x" : f32
  %th = ncl.param "th" [0] : f32
  %one = arith.constant 1.0 : f32
  %x1 = arith.addf %x, %one : f32
  %c = arith.cmpf ogt, %x1, %th : f32
  %f = ncl.threshold %c
  %z = arith.constant 0.0 : f32
  %x2 = ncl.reset %f, %x1, %z : f32
  ncl.state_write "x", %x2 : f32
}

// -----

// Random draws become Philox4x32-10 on (seed, step, neuron, stream): the
// init kernel uses step 2^64 - 1, the update kernel the step index; normal
// draws add Box-Muller (log, sqrt, cos).

// CHECK-LABEL: func.func @ncl_R_init(
// CHECK-SAME: %[[SEED:[^:]*]]: i64, %{{[^:]*}}: f64)
// CHECK: arith.constant -1 : i32
// CHECK: scf.for
// CHECK: arith.mului_extended
// CHECK-LABEL: func.func @ncl_R_update(
// CHECK: scf.for
// CHECK-COUNT-20: arith.mului_extended
// CHECK: math.log
// CHECK: math.sqrt
// CHECK: math.cos
ncl.population @R {neuron = "Noise", size = 8 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["x"], num_params = 0 : i64} init {
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

// -----

// A recorded population with a custom event: the buffer must hold a spike
// and an event per neuron and step, and each entry carries its channel.

// CHECK-LABEL: func.func @ncl_E_update(
// CHECK-SAME: %[[CHAN:[^:]*]]: memref<?xi32>, %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index,
// CHECK: %[[WIDTH:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: %[[PER:.*]] = arith.muli %[[WIDTH]], %c2
// CHECK: scf.while
// CHECK:   arith.addi %{{.*}}, %[[PER]]
// CHECK: scf.if
// CHECK:   memref.store %c0_i32, %[[CHAN]]
// CHECK: scf.if
// CHECK:   memref.store %c1_i32, %[[CHAN]]
ncl.population @E {neuron = "Ev", size = 8 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["x"], num_params = 0 : i64, record_spikes} init {
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
