// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A normal draw (ncl.rand normal) is Box-Muller with NCL's own log and cos
// (docs/random.md, "Normals"): no math.log / math.cos (no libm call, so the
// neuron loop vectorises and every backend gives the same bits), but
// straight-line arith with llvm.intr.fma. log(u1): the exponent and the
// mantissa m in [sqrt(1/2), sqrt(2)) from the bits, s = f / (2 + f) and a
// series in s^2; cos(2 pi u2): q = round(4 u2) by adding and subtracting
// 1.5 * 2^52, series for sin and cos of 2 pi (u2 - q/4), the quadrant
// chosen by selects; then sqrt(-2 log u1) * cos. The same in f32.
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @R {neuron = "Noise", size = 8 : i64,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %zero = arith.constant 0.0 : f64
    ncl.state_write "x", %zero : f64
  } step {
    %x = ncl.state_read "x" : f64
    %z = ncl.rand normal stream 2 : f64
    %x1 = arith.addf %x, %z : f64
    ncl.state_write "x", %x1 : f64
  }
}
// CHECK-LABEL: func.func @ncl_R_update(
// CHECK-NOT:   math.log
// CHECK-NOT:   math.cos
// CHECK:       scf.parallel
// CHECK-COUNT-20: arith.mului_extended
// log(u1): the bits of u1 offset by those of 1 - sqrt(1/2), the exponent
// through 2^52 + e, the mantissa m, f = m - 1 and s = f / (2 + f).
// CHECK:       %[[BITS:.*]] = arith.bitcast %[[U1:.*]] : f64 to i64
// CHECK:       %[[T:.*]] = arith.addi %[[BITS]], %{{.*}} : i64
// CHECK:       %[[E:.*]] = arith.shrui %[[T]], %{{.*}} : i64
// CHECK:       arith.ori %[[E]], %{{.*}} : i64
// CHECK:       arith.andi %[[T]], %{{.*}} : i64
// CHECK:       %[[M:.*]] = arith.bitcast %{{.*}} : i64 to f64
// CHECK:       %[[F:.*]] = arith.subf %[[M]], %{{.*}} : f64
// CHECK:       %[[TWOF:.*]] = arith.addf %{{.*}}, %[[F]] : f64
// CHECK:       arith.divf %[[F]], %[[TWOF]] : f64
// CHECK-COUNT-9: llvm.intr.fma
// cos(2 pi u2): q = round(4 u2), f = u2 - q/4, sine and cosine series.
// CHECK:       %[[MAGIC:.*]] = arith.constant 0x4338000000000000 : f64
// CHECK:       %[[FOUR:.*]] = arith.mulf %{{.*}}, %[[U2:.*]] : f64
// CHECK:       %[[SHIFTED:.*]] = arith.addf %[[FOUR]], %[[MAGIC]] : f64
// CHECK:       %[[Q:.*]] = arith.subf %[[SHIFTED]], %[[MAGIC]] : f64
// CHECK:       arith.subf %[[U2]], %{{.*}} : f64
// CHECK-COUNT-8: llvm.intr.fma
// CHECK:       arith.cmpf oeq, %[[Q]]
// CHECK:       arith.cmpf oeq, %[[Q]]
// CHECK:       arith.ori
// CHECK:       arith.select
// CHECK:       arith.select
// CHECK:       math.sqrt
// CHECK-NOT:   math.log
// CHECK-NOT:   math.cos
// CHECK:       memref.store
