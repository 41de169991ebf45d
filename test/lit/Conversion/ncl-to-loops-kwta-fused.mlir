// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A fused ncl.kwta (ncl-fuse): the update loop lowers ncl.kwta_key to a
// store of the neuron's index into kwta_order and, with boosting, of its key
// x * exp(beta * (k/N - d)) into kwta_key; the kwta kernel then has no loop
// that fills the order and computes no exponential: it loads the keys.
//
// Buffer table: 0-3 @L (params, x, refractory, kwta_order), 4-9 @M
// (params, x, refractory, kwta_order, kwta_duty, kwta_key).

// Without boosting the key is the value: only the order is stored.
// CHECK-LABEL: func.func @ncl_L_update(
// CHECK-SAME: %[[LX:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[LORDER:[^:]*]]: memref<?xi32>, %{{[^:]*}}: index,
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK:   %[[Y:.*]] = arith.addf
// CHECK:   memref.store %[[Y]], %[[LX]][%[[I]]] : memref<?xf64>
// CHECK:   %[[I32:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK:   memref.store %[[I32]], %[[LORDER]][%[[I]]] : memref<?xi32>
// CHECK-NOT: memref.store
// CHECK: } {ncl.loop = "neurons"}

// With boosting: the key, from this step's value and the duty cycle.
// CHECK-LABEL: func.func @ncl_M_update(
// CHECK-SAME: %[[MX:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[MORDER:[^:]*]]: memref<?xi32>, %[[DUTY:[^:]*]]: memref<?xf64>, %[[KEY:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index,
// CHECK: scf.parallel (%[[J:.*]]) =
// CHECK:   %[[V:.*]] = arith.addf
// CHECK:   memref.store %[[V]], %[[MX]][%[[J]]]
// CHECK:   memref.store %{{.*}}, %[[MORDER]][%[[J]]] : memref<?xi32>
// CHECK:   %[[D:.*]] = memref.load %[[DUTY]][%[[J]]] : memref<?xf64>
// CHECK:   %[[GAP:.*]] = arith.subf %{{.*}}, %[[D]] : f64
// CHECK:   %[[Z:.*]] = arith.mulf %{{.*}}, %[[GAP]] : f64
// CHECK:   %[[B:.*]] = math.exp %[[Z]] : f64
// CHECK:   %[[K:.*]] = arith.mulf %[[V]], %[[B]] : f64
// CHECK:   memref.store %[[K]], %[[KEY]][%[[J]]] : memref<?xf64>
// CHECK: } {ncl.loop = "neurons"}

// The selection starts from the order the update left: the member loop's
// first op is the row's bounds, then the quickselect.
// CHECK-LABEL: func.func @ncl_L_kwta(
// CHECK: scf.for %[[B1:.*]] = %{{.*}} to
// CHECK-NEXT: arith.muli %[[B1]]
// CHECK-NEXT: arith.addi
// CHECK-NOT: scf.for
// CHECK: scf.while
// CHECK: } {ncl.loop = "kwta-members"}

// The boosted selection and its last pass load the keys.
// CHECK-LABEL: func.func @ncl_M_kwta(
// CHECK-SAME: %[[MORDER2:[^:]*]]: memref<?xi32>, %[[DUTY2:[^:]*]]: memref<?xf64>, %[[KEY2:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index,
// CHECK-NOT: math.exp
// CHECK: scf.while
// CHECK:   memref.load %[[KEY2]]
// CHECK: } attributes {ncl.loop = "kwta-select"}
// CHECK: scf.for
// CHECK:   memref.load %[[KEY2]]
// CHECK:   memref.store %{{.*}}, %[[DUTY2]]
// CHECK: } {ncl.loop = "kwta-apply"}
// CHECK-NOT: math.exp

// CHECK: ncl.stage step @L kernel @ncl_L_update {args = [0, 1, 2, 3, "begin"
// CHECK: ncl.stage step @M kernel @ncl_M_update {args = [4, 5, 6, 7, 8, 9, "begin"
// CHECK: ncl.stage kwta @M kernel @ncl_M_kwta {args = [4, 5, 6, 7, 8, 9, "size"
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @L {neuron = "Unit", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %h = arith.constant 0.5 : f64
    %y = arith.addf %x, %h : f64
    ncl.state_write "x", %y : f64
    ncl.kwta_key %y : f64
  }
  ncl.population @M {neuron = "Unit", size = 20 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %h = arith.constant 0.5 : f64
    %y = arith.addf %x, %h : f64
    ncl.state_write "x", %y : f64
    ncl.kwta_key %y : f64
  }
  ncl.kwta @L "x" {keep = 3 : i64, fused}
  ncl.kwta @M "x" {fraction = 0.25 : f64, boost = 2.0 : f64, period = 100.0 : f64, fused}
  ncl.schedule {
    ncl.stage init @L
    ncl.stage init @M
    ncl.stage step @L
    ncl.stage step @M
    ncl.stage kwta @L
    ncl.stage kwta @M
  }
}
