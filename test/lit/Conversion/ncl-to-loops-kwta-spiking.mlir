// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// An ncl.kwta that gates a spiking population's spikes (its schedule has
// kwta_keys and kwta_gate before the step): ncl-to-loops builds
//  - ncl_P_kwta_keys: the step program that only looks. The synaptic input
//    is read, not cleared; nothing is stored but the key (v before its reset
//    where the neuron crosses and is free, else -inf) into kwta_key and the
//    neuron's index into kwta_order;
//  - ncl_P_kwta_gate: the selection over those keys, then 1 or 0 per neuron
//    into kwta_key (a winner with key -inf did not cross: 0);
//  - ncl_P_update, whose threshold is ANDed with the gate.
//
// Buffer table: 0 params, 1 v, 2 refractory, 3 v.in, 4 kwta_order, 5 kwta_key.

// CHECK-LABEL: func.func @ncl_P_kwta_keys(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %[[REF:[^:]*]]: memref<?xi32>, %[[IN:[^:]*]]: memref<?xf64>, %[[ORDER:[^:]*]]: memref<?xi32>, %[[KEY:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index, %{{[^:]*}}: index,
// CHECK-NOT: memref.store
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK:   %[[X:.*]] = memref.load %[[V]][%[[I]]]
// CHECK:   %[[ARRIVED:.*]] = memref.load %[[IN]][%[[I]]]
// CHECK-NOT: memref.store
// CHECK:   %[[Y:.*]] = arith.addf %[[X]], %[[ARRIVED]] : f64
// CHECK:   %[[C:.*]] = arith.cmpf ogt, %[[Y]]
// CHECK:   %[[FIRED:.*]] = arith.andi %[[C]], %{{.*}} : i1
// CHECK:   %[[NEGINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK:   %[[K:.*]] = arith.select %[[FIRED]], %[[Y]], %[[NEGINF]] : f64
// CHECK:   memref.store %[[K]], %[[KEY]][%[[I]]] : memref<?xf64>
// CHECK:   %[[I32:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK:   memref.store %[[I32]], %[[ORDER]][%[[I]]] : memref<?xi32>
// CHECK-NOT: memref.store
// CHECK: } {ncl.loop = "kwta-keys"}

// The update: the threshold reads the gate; losers are neither reset nor
// made refractory, since both follow the gated threshold.
// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[GATE:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index,
// CHECK: scf.parallel (%[[J:.*]]) =
// CHECK:   %[[CROSS:.*]] = arith.cmpf ogt
// CHECK:   %[[FREE:.*]] = arith.andi %[[CROSS]], %{{.*}} : i1
// CHECK:   %[[G:.*]] = memref.load %[[GATE]][%[[J]]] : memref<?xf64>
// CHECK:   %[[OPEN:.*]] = arith.cmpf one, %[[G]], %{{.*}} : f64
// CHECK:   %[[SPIKE:.*]] = arith.andi %[[FREE]], %[[OPEN]] : i1
// CHECK:   arith.andi %[[SPIKE]]
// CHECK:   arith.select

// The gate: the keys kernel filled the order (no loop that fills it), the
// selection loads the keys, the last pass stores 1 or 0.
// CHECK-LABEL: func.func @ncl_P_kwta_gate(
// CHECK-SAME: %[[ORDER2:[^:]*]]: memref<?xi32>, %[[KEY2:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index,
// CHECK: scf.for %[[B:.*]] = %{{.*}} to
// CHECK-NEXT: arith.muli %[[B]]
// CHECK-NEXT: arith.addi
// CHECK-NOT: scf.for
// CHECK: scf.while
// CHECK:   memref.load %[[KEY2]]
// CHECK: } attributes {ncl.loop = "kwta-select"}
// CHECK: scf.for %[[A:.*]] =
// CHECK:   %[[KA:.*]] = memref.load %[[KEY2]][%[[A]]]
// CHECK:   %[[KA2:.*]] = memref.load %[[KEY2]][%[[A]]]
// CHECK:   %[[CROSSED:.*]] = arith.cmpf ogt, %[[KA2]], %{{.*}} : f64
// CHECK:   %[[OPEN2:.*]] = arith.andi %{{.*}}, %[[CROSSED]] : i1
// CHECK:   %[[ONEZERO:.*]] = arith.select %[[OPEN2]], %{{.*}}, %{{.*}} : f64
// CHECK:   memref.store %[[ONEZERO]], %[[KEY2]][%[[A]]] : memref<?xf64>
// CHECK-NOT: memref.store %{{.*}}, %{{.*}}[%[[A]]] : memref<?xf64>
// CHECK: } {ncl.loop = "kwta-apply"}

// CHECK: ncl.stage kwta_keys @P kernel @ncl_P_kwta_keys {args = [0, 1, 2, 3, 4, 5, "begin", "end", "size", "seed", "first_step", "dt"]}
// CHECK: ncl.stage kwta_gate @P kernel @ncl_P_kwta_gate {args = [0, 1, 2, 4, 5, "size", "seed", "first_step", "dt", "batch"]}
// CHECK: ncl.stage step @P kernel @ncl_P_update
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @P {neuron = "Race", size = 10 : i64, receives = ["v"],
      params = [#ncl.param<name = "vt", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0], value = 1.0 : f64>],
      vars = [#ncl.var<name = "v", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "v", %z : f64
  } step {
    %vt = ncl.param "vt" : f64
    %v = ncl.state_read "v" : f64
    %r = ncl.is_refractory : i1
    %in = ncl.synaptic_input "v" : f64
    %y = arith.addf %v, %in : f64
    %c = arith.cmpf ogt, %y, %vt : f64
    %f = ncl.threshold %c unless %r
    %vr = arith.constant 0.0 : f64
    %w = ncl.reset %f, %y, %vr : f64
    %t = arith.constant 2.0e-3 : f64
    ncl.refractory %f for %t : f64
    ncl.state_write "v", %w : f64
  }
  ncl.kwta @P "v" {keep = 3 : i64}
  ncl.schedule {
    ncl.stage init @P
    ncl.stage kwta_keys @P
    ncl.stage kwta_gate @P
    ncl.stage step @P
  }
}
