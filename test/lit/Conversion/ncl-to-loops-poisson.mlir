// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// ncl.poisson becomes the inversion of docs/random.md ("poisson()"): the
// mean split into ceil(mean / 16) parts, a loop over the parts that draws
// one Philox uniform each (the first from the counter, the next from the
// previous words) and a sequential search over k (at most 100 terms), all
// in f64; a negative, NaN or infinite mean gives NaN. In an f32 model the
// mean is extended to f64 and the count truncated back.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @R {neuron = "Counts", size = 8 : i64,
        params = [],
        vars = [#ncl.var<name = "k">]} init {
    %zero = arith.constant 0.0 : f32
    ncl.state_write "k", %zero : f32
  } step {
    %mean = arith.constant 2.5 : f32
    %k = ncl.poisson %mean stream 7 : f32 -> f32
    ncl.state_write "k", %k : f32
  }
}
// CHECK-LABEL: func.func @ncl_R_update
// CHECK:       scf.parallel
// CHECK:       %[[MEAN:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:       arith.cmpf oge, %[[MEAN]]
// CHECK:       arith.cmpf one, %[[MEAN]]
// CHECK:       %[[C16:.*]] = arith.constant 1.600000e+01 : f64
// CHECK:       arith.divf %{{.*}}, %[[C16]] : f64
// CHECK:       math.ceil
// CHECK:       arith.maximumf
// CHECK:       math.exp
// CHECK-COUNT-20: arith.mului_extended
// CHECK:       scf.for {{.*}} iter_args({{.*}}) -> (f64, i32, i32, i32, i32)
// The uniform (k + 1/2) 2^-52 from the 52-bit k, by its bits (2^52 + k).
// CHECK:       arith.bitcast %{{.*}} : i64 to f64
// CHECK:       scf.while
// CHECK:       arith.cmpf ogt
// CHECK:       arith.cmpf olt
// CHECK:       scf.condition
// CHECK:       } do {
// CHECK:       arith.divf
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:       scf.yield
// CHECK-COUNT-20: arith.mului_extended
// CHECK:       scf.yield
// CHECK:       arith.select
// CHECK:       arith.truncf %{{.*}} : f64 to f32
// CHECK:       memref.store
