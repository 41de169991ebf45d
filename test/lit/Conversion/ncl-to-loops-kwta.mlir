// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// ncl.kwta becomes the kernel ncl_<P>_kwta, run on one thread over the
// whole population: the neuron order 0..N-1 in the kwta_order buffer, a
// quickselect of position k - 1 (median-of-three pivot, branch-free Lomuto
// partition; never a sort) under "larger key first, then lower index", then
// one pass
// that keeps every neuron at or before the k-th and zeroes the others (or
// runs the reset region for them). With boosting, the key is
// x * exp(beta * (k/N - d)) and the pass moves each duty cycle d by
// (won - d) / min(period, n + 1). The stage gets the kernel; the op stays,
// its region emptied. All of it runs for each batch member in turn, on the
// member's row of N neurons, b * N to (b + 1) * N (docs/semantics.md,
// "Batches").
//
// Buffer table: 0-3 @L (params, x, refractory, kwta_order), 4-8 @M
// (params, x, refractory, kwta_order, kwta_duty).

// CHECK-LABEL: func.func @ncl_L_kwta(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[X:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[ORDER:[^:]*]]: memref<?xi32>,
// CHECK-SAME: %[[N:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: f64, %[[BATCH:[^:]*]]: index)
// CHECK-SAME: attributes {ncl.kernel = "kwta"}
// k = 3; the select targets position k - 1 of the member's row.
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[B:.*]] = %[[C0]] to %[[BATCH]]
// CHECK: %[[ROW:.*]] = arith.muli %[[B]], %[[N]] : index
// CHECK: %[[ROWEND:.*]] = arith.addi %[[ROW]], %[[N]] : index
// CHECK: scf.for %[[I:.*]] = %[[ROW]] to %[[ROWEND]]
// CHECK:   %[[I32:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK:   memref.store %[[I32]], %[[ORDER]][%[[I]]] : memref<?xi32>
// CHECK: %[[K1:.*]] = arith.subi %[[C3]], %[[C1]] : index
// CHECK: %[[KM1:.*]] = arith.addi %[[ROW]], %[[K1]] : index
// CHECK: scf.while (%{{.*}} = %[[ROW]], %{{.*}} = %[[ROWEND]])
// CHECK:   arith.cmpi sgt
// CHECK: } do {
// The median of three, then the partition: a neuron goes ahead of the
// pivot if its value is larger, or equal at a lower index.
// CHECK:   arith.select
// CHECK:   %[[PART:.*]] = scf.for %{{.*}} iter_args
// CHECK:     %[[E:.*]] = memref.load %[[X]][%{{.*}}] : memref<?xf64>
// CHECK:     %[[GT:.*]] = arith.cmpf ogt, %[[E]], %{{.*}} : f64
// CHECK:     %[[EQ:.*]] = arith.cmpf oeq, %[[E]], %{{.*}} : f64
// CHECK:     %[[LT:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK:     %[[TIE:.*]] = arith.andi %[[EQ]], %[[LT]] : i1
// CHECK:     %[[AHEAD:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// Branch-free Lomuto: always swap with the fill position, advance it
// past a neuron that is ahead.
// CHECK:     memref.store
// CHECK:     memref.store
// CHECK:     %[[ONE:.*]] = arith.extui %[[AHEAD]] : i1 to i64
// CHECK:     %[[INC:.*]] = arith.index_cast %[[ONE]] : i64 to index
// CHECK:     %[[NEXTFILL:.*]] = arith.addi %{{.*}}, %[[INC]] : index
// CHECK:     scf.yield %[[NEXTFILL]] : index
// CHECK:   arith.cmpi eq, %[[PART]], %[[KM1]] : index
// CHECK: } attributes {ncl.loop = "kwta-select"}
// CHECK: %[[KTH32:.*]] = memref.load %[[ORDER]][%[[KM1]]] : memref<?xi32>
// CHECK: %[[KTH:.*]] = arith.index_cast %[[KTH32]] : i32 to index
// CHECK: %[[KX:.*]] = memref.load %[[X]][%[[KTH]]] : memref<?xf64>
// CHECK: scf.for %[[J:.*]] = %[[ROW]] to %[[ROWEND]]
// CHECK:   %[[V:.*]] = memref.load %[[X]][%[[J]]] : memref<?xf64>
// CHECK:   arith.cmpf ogt, %[[V]], %[[KX]] : f64
// CHECK:   arith.cmpi eq, %[[J]], %[[KTH]] : index
// CHECK:   %[[KEPT:.*]] = arith.ori
// CHECK:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:   %[[NEW:.*]] = arith.select %[[KEPT]], %{{.*}}, %[[ZERO]] : f64
// CHECK:   memref.store %[[NEW]], %[[X]][%[[J]]] : memref<?xf64>
// CHECK: } {ncl.loop = "kwta-apply"}
// CHECK: } {ncl.loop = "kwta-members"}
// CHECK-NOT: scf.parallel
// CHECK: return

// With boosting (fraction 0.25 of N, beta 2, period 100) and a reset.
// CHECK-LABEL: func.func @ncl_M_kwta(
// CHECK-SAME: %[[MP:[^:]*]]: memref<?xf64>, %[[MX:[^:]*]]: memref<?xf64>, %{{[^:]*}}: memref<?xi32>, %[[MORDER:[^:]*]]: memref<?xi32>, %[[DUTY:[^:]*]]: memref<?xf64>,
// CHECK-SAME: %[[MN:[^:]*]]: index, %{{[^:]*}}: i64, %[[STEP:[^:]*]]: i64, %{{[^:]*}}: f64, %{{[^:]*}}: index)
// k = floor(0.25 N + 0.5), from the run's N.
// CHECK: %[[NF:.*]] = arith.sitofp %{{.*}} : i64 to f64
// CHECK: %[[SCALED:.*]] = arith.mulf %[[NF]], %{{.*}} : f64
// CHECK: %[[HALF:.*]] = arith.addf %[[SCALED]], %{{.*}} : f64
// CHECK: math.floor %[[HALF]] : f64
// The key: x * exp(beta * (k/N - d)).
// CHECK: scf.while
// CHECK:   %[[D:.*]] = memref.load %[[DUTY]]
// CHECK:   %[[GAP:.*]] = arith.subf %{{.*}}, %[[D]] : f64
// CHECK:   %[[Z:.*]] = arith.mulf %{{.*}}, %[[GAP]] : f64
// CHECK:   %[[B:.*]] = math.exp %[[Z]] : f64
// CHECK:   arith.mulf %{{.*}}, %[[B]] : f64
// CHECK: } attributes {ncl.loop = "kwta-select"}
// The duty cycle's rate: min(period, n + 1).
// CHECK: %[[NEXT:.*]] = arith.addi %[[STEP]], %{{.*}} : i64
// CHECK: %[[NEXTF:.*]] = arith.sitofp %[[NEXT]] : i64 to f64
// CHECK: %[[RATE:.*]] = arith.minimumf %{{.*}}, %[[NEXTF]] : f64
// The parameter the reset reads is loaded once, before the last pass.
// CHECK: %[[H:.*]] = memref.load %[[MP]]
// CHECK: scf.for %[[K:.*]] =
// CHECK:   arith.cmpi eq, %[[K]], %{{.*}} : index
// CHECK:   %[[WON:.*]] = arith.ori
// CHECK:   %[[OLD:.*]] = memref.load %[[DUTY]][%[[K]]] : memref<?xf64>
// CHECK:   %[[A:.*]] = arith.select %[[WON]], %{{.*}}, %{{.*}} : f64
// CHECK:   %[[STEPD:.*]] = arith.subf %[[A]], %[[OLD]] : f64
// CHECK:   %[[FRAC:.*]] = arith.divf %[[STEPD]], %[[RATE]] : f64
// CHECK:   %[[MOVED:.*]] = arith.addf %[[OLD]], %[[FRAC]] : f64
// CHECK:   memref.store %[[MOVED]], %[[DUTY]][%[[K]]] : memref<?xf64>
// The losers run the reset: x = x * h.
// CHECK:   %[[LOST:.*]] = arith.xori %[[WON]], %{{.*}} : i1
// CHECK:   scf.if %[[LOST]] {
// CHECK:     %[[XV:.*]] = memref.load %[[MX]][%[[K]]] : memref<?xf64>
// CHECK:     %[[Y:.*]] = arith.mulf %[[XV]], %[[H]] : f64
// CHECK:     memref.store %[[Y]], %[[MX]][%[[K]]] : memref<?xf64>
// CHECK: } {ncl.loop = "kwta-apply"}

// CHECK-LABEL: ncl.network @Net
// CHECK: ncl.kwta @L "x" {keep = 3 : i64}
// CHECK-NEXT: ncl.kwta @M "x"
// CHECK-NOT: reset
// CHECK: ncl.stage kwta @L kernel @ncl_L_kwta {args = [0, 1, 2, 3, "size", "seed", "first_step", "dt", "batch"]}
// CHECK: ncl.stage kwta @M kernel @ncl_M_kwta {args = [4, 5, 6, 7, 8, "size", "seed", "first_step", "dt", "batch"]}
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @L {neuron = "Unit", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.population @M {neuron = "Unit", size = 20 : i64,
      params = [#ncl.param<name = "h", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0], value = 0.5 : f64>],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.kwta @L "x" {keep = 3 : i64}
  ncl.kwta @M "x" {fraction = 0.25 : f64, boost = 2.0 : f64, period = 100.0 : f64} reset {
    %x = ncl.state_read "x" : f64
    %h = ncl.param "h" : f64
    %y = arith.mulf %x, %h : f64
    ncl.state_write "x", %y : f64
  }
  ncl.schedule {
    ncl.stage init @L
    ncl.stage init @M
    ncl.stage step @L
    ncl.stage step @M
    ncl.stage kwta @L
    ncl.stage kwta @M
  }
}
