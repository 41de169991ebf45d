// RUN: ncl-opt %s -ncl-expand-exp | FileCheck %s
// RUN: ncl-opt %s -ncl-expand-exp=math-ops=true | FileCheck %s --check-prefix=MATH
// math.exp, math.expm1 and math.tanh of f64 and f32 become call-free arithmetic (fma as
// llvm.intr.fma, which math-to-libm leaves alone): a
// clamp (ordered compares, so a NaN passes), k = x log2(e) rounded by the
// 1.5 * 2^52 (2^23) constant, x - k ln2 as r + rLow (ln2 in two parts), the
// Taylor polynomial of e^r - 1 (degree 13 in f64, 8 in f32: 12 and 7 fma),
// 2^k from its exponent bits. Other types keep their math op.

// CHECK-LABEL: func.func @exp_f64
// CHECK-SAME: (%[[X:.*]]: f64)
// CHECK-NOT: math.exp
// CHECK-DAG: %[[LOW:.*]] = arith.constant -7.460000e+02 : f64
// CHECK-DAG: %[[HIGH:.*]] = arith.constant 7.100000e+02 : f64
// CHECK-DAG: %[[MAGIC:.*]] = arith.constant 0x4338000000000000 : f64
// CHECK-DAG: %[[LOG2E:.*]] = arith.constant 1.4426950408889634 : f64
// CHECK-DAG: %[[LN2HI:.*]] = arith.constant 0.69314718036912382 : f64
// CHECK-DAG: %[[LN2LO:.*]] = arith.constant 1.9082149292705877E-10 : f64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[X]], %[[LOW]] : f64
// CHECK: %[[XL:.*]] = arith.select %[[BELOW]], %[[LOW]], %[[X]] : f64
// CHECK: %[[ABOVE:.*]] = arith.cmpf ogt, %[[XL]], %[[HIGH]] : f64
// CHECK: %[[XC:.*]] = arith.select %[[ABOVE]], %[[HIGH]], %[[XL]] : f64
// CHECK: %[[T:.*]] = llvm.intr.fma(%[[XC]], %[[LOG2E]], %[[MAGIC]]) : (f64, f64, f64) -> f64
// CHECK: %[[K:.*]] = arith.subf %[[T]], %[[MAGIC]] : f64
// CHECK: %[[NK:.*]] = arith.negf %[[K]] : f64
// CHECK: %[[HI:.*]] = llvm.intr.fma(%[[NK]], %[[LN2HI]], %[[XC]]) : (f64, f64, f64) -> f64
// CHECK: %[[LO:.*]] = arith.mulf %[[K]], %[[LN2LO]] : f64
// CHECK: %[[R:.*]] = arith.subf %[[HI]], %[[LO]] : f64
// CHECK: %[[D:.*]] = arith.subf %[[HI]], %[[R]] : f64
// CHECK: %[[RLOW:.*]] = arith.subf %[[D]], %[[LO]] : f64
// CHECK-COUNT-10: llvm.intr.fma(%{{.*}}, %[[R]], %{{.*}}) : (f64, f64, f64) -> f64
// CHECK: %[[P:.*]] = llvm.intr.fma(%{{.*}}, %[[R]], %{{.*}}) : (f64, f64, f64) -> f64
// CHECK: %[[CORR:.*]] = llvm.intr.fma(%[[RLOW]], %[[R]], %[[RLOW]]) : (f64, f64, f64) -> f64
// CHECK: %[[R2:.*]] = arith.mulf %[[R]], %[[R]] : f64
// CHECK: %[[R2P:.*]] = arith.mulf %[[R2]], %[[P]] : f64
// CHECK: %[[TAIL:.*]] = arith.addf %[[R2P]], %[[CORR]] : f64
// CHECK: %[[S:.*]] = arith.addf %[[ONE]], %[[R]] : f64
// CHECK: %[[SA:.*]] = arith.subf %[[S]], %[[ONE]] : f64
// CHECK: %[[LOST:.*]] = arith.subf %[[R]], %[[SA]] : f64
// CHECK: %[[SMALL:.*]] = arith.addf %[[LOST]], %[[TAIL]] : f64
// CHECK: %[[M:.*]] = arith.addf %[[S]], %[[SMALL]] : f64
// CHECK: arith.bitcast %{{.*}} : f64 to i64
// CHECK: arith.shli %{{.*}}, %{{.*}} : i64
// CHECK: %[[S1:.*]] = arith.bitcast %{{.*}} : i64 to f64
// CHECK: %[[S2:.*]] = arith.bitcast %{{.*}} : i64 to f64
// CHECK: %[[E:.*]] = arith.mulf %[[M]], %[[S1]] : f64
// CHECK: %[[RES:.*]] = arith.mulf %[[E]], %[[S2]] : f64
// CHECK: return %[[RES]]
func.func @exp_f64(%x: f64) -> f64 {
  %e = math.exp %x : f64
  return %e : f64
}

// expm1: (2^k - 1) + 2^k r added exactly (Fast2Sum), then the tail; beyond
// k = 53 the 1 moves to the tail; k = 1024 (x just below overflow) takes
// 2^1023 and a final doubling; a zero is returned as it is (-0 stays).
// CHECK-LABEL: func.func @expm1_f64
// CHECK-SAME: (%[[X:.*]]: f64)
// CHECK-NOT: math.expm1
// CHECK-DAG: arith.constant -4.500000e+01 : f64
// CHECK-DAG: %[[MAXEXP:.*]] = arith.constant 1.023000e+03 : f64
// CHECK-DAG: %[[EXACT:.*]] = arith.constant 5.300000e+01 : f64
// CHECK: %[[K:.*]] = arith.subf
// CHECK: %[[R:.*]] = arith.subf
// CHECK: %[[TAIL:.*]] = arith.addf
// CHECK: %[[TOP:.*]] = arith.cmpf ogt, %[[K]], %[[MAXEXP]] : f64
// CHECK: arith.select %[[TOP]], %[[MAXEXP]], %[[K]] : f64
// CHECK: %[[S:.*]] = arith.bitcast %{{.*}} : i64 to f64
// CHECK: %[[INEXACT:.*]] = arith.cmpf ogt, %[[K]], %[[EXACT]] : f64
// CHECK: %[[FIRST:.*]] = arith.subf %[[S]], %{{.*}} : f64
// CHECK: %[[STAIL:.*]] = arith.mulf %[[S]], %[[TAIL]] : f64
// CHECK: %[[REST:.*]] = arith.subf %[[STAIL]], %{{.*}} : f64
// CHECK: %[[SR:.*]] = arith.mulf %[[S]], %[[R]] : f64
// CHECK: %[[SUM:.*]] = arith.addf %[[FIRST]], %[[SR]] : f64
// CHECK: %[[SF:.*]] = arith.subf %[[SUM]], %[[FIRST]] : f64
// CHECK: %[[LOST:.*]] = arith.subf %[[SR]], %[[SF]] : f64
// CHECK: %[[SMALL:.*]] = arith.addf %[[LOST]], %[[REST]] : f64
// CHECK: %[[E:.*]] = arith.addf %[[SUM]], %[[SMALL]] : f64
// CHECK: %[[E2:.*]] = arith.mulf %[[E]], %{{.*}} : f64
// CHECK: %[[ZERO:.*]] = arith.cmpf oeq, %[[X]], %{{.*}} : f64
// CHECK: %[[RES:.*]] = arith.select %[[ZERO]], %[[X]], %[[E2]] : f64
// CHECK: return %[[RES]]
func.func @expm1_f64(%x: f64) -> f64 {
  %e = math.expm1 %x : f64
  return %e : f64
}

// f32: the same with 2^23, bias 127, shift 23 and 7 fma in Horner's rule.
// CHECK-LABEL: func.func @exp_f32
// CHECK-NOT: math.exp
// CHECK-DAG: arith.constant -1.040000e+02 : f32
// CHECK-DAG: arith.constant 8.900000e+01 : f32
// CHECK-DAG: arith.constant 0x4B400000 : f32
// CHECK-DAG: arith.constant 127 : i32
// CHECK-DAG: arith.constant 23 : i32
// CHECK: llvm.intr.fma
// CHECK: llvm.intr.fma
// CHECK: %[[R:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK-COUNT-6: llvm.intr.fma(%{{.*}}, %[[R]], %{{.*}}) : (f32, f32, f32) -> f32
// CHECK: arith.shli %{{.*}}, %{{.*}} : i32
// CHECK: return
func.func @exp_f32(%x: f32) -> f32 {
  %e = math.exp %x : f32
  return %e : f32
}

// CHECK-LABEL: func.func @expm1_f32
// CHECK-NOT: math.expm1
// CHECK: arith.constant -2.000000e+01 : f32
// CHECK: return
func.func @expm1_f32(%x: f32) -> f32 {
  %e = math.expm1 %x : f32
  return %e : f32
}

// tanh x = sign(x) e / (e + 2) with e = expm1(2 min(|x|, 20)) (10 in f32):
// the clamp is an ordered compare, so a NaN passes.
// CHECK-LABEL: func.func @tanh_f64
// CHECK-SAME: (%[[X:.*]]: f64)
// CHECK-NOT: math.tanh
// CHECK-DAG: %[[TOP:.*]] = arith.constant 2.000000e+01 : f64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f64
// CHECK: %[[A:.*]] = llvm.intr.fabs(%[[X]]) : (f64) -> f64
// With math-ops (the GPU pipeline, whose convert-gpu-to-nvvm refuses the two
// intrinsics), |x| and copysign are math ops:
// MATH-LABEL: func.func @tanh_f64
// MATH-NOT: llvm.intr.fabs
// MATH: math.absf %{{.*}} : f64
// MATH-NOT: llvm.intr.copysign
// MATH: math.copysign %{{.*}}, %{{.*}} : f64
// MATH-NOT: llvm.intr.fabs
// MATH-NOT: llvm.intr.copysign
// CHECK: %[[BEYOND:.*]] = arith.cmpf ogt, %[[A]], %[[TOP]] : f64
// CHECK: %[[AC:.*]] = arith.select %[[BEYOND]], %[[TOP]], %[[A]] : f64
// CHECK: %[[TWICE:.*]] = arith.addf %[[AC]], %[[AC]] : f64
// CHECK: llvm.intr.fma
// CHECK: %[[E:.*]] = arith.select %{{.*}}, %[[TWICE]], %{{.*}} : f64
// CHECK: %[[D:.*]] = arith.addf %[[E]], %[[TWO]] : f64
// CHECK: %[[T:.*]] = arith.divf %[[E]], %[[D]] : f64
// CHECK: %[[Y:.*]] = llvm.intr.copysign(%[[T]], %[[X]]) : (f64, f64) -> f64
// CHECK: return %[[Y]] : f64
func.func @tanh_f64(%x: f64) -> f64 {
  %y = math.tanh %x : f64
  return %y : f64
}

// CHECK-LABEL: func.func @tanh_f32
// CHECK-NOT: math.tanh
// CHECK: arith.constant 1.000000e+01 : f32
// CHECK: llvm.intr.copysign
// CHECK: return
func.func @tanh_f32(%x: f32) -> f32 {
  %y = math.tanh %x : f32
  return %y : f32
}

// CHECK-LABEL: func.func @others_unchanged
// CHECK: math.exp %{{.*}} : vector<4xf64>
// CHECK: math.expm1 %{{.*}} : f16
// CHECK: math.log %{{.*}} : f64
func.func @others_unchanged(%v: vector<4xf64>, %h: f16, %x: f64) -> (vector<4xf64>, f16, f64) {
  %a = math.exp %v : vector<4xf64>
  %b = math.expm1 %h : f16
  %c = math.log %x : f64
  return %a, %b, %c : vector<4xf64>, f16, f64
}

// math.sqrt of f32 or f64 becomes llvm.intr.sqrt (math-to-libm would call
// libm's sqrt, which may set errno and so keeps a loop scalar: the connect
// kernels' normal draws); both are the correctly rounded square root. With
// math-ops (the GPU), it stays a math op, for convert-gpu-to-nvvm.
// CHECK-LABEL: func.func @sqrt
// CHECK: llvm.intr.sqrt(%{{.*}}) : (f64) -> f64
// CHECK: llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// CHECK: math.sqrt %{{.*}} : vector<4xf64>
// CHECK-NOT: math.sqrt
// CHECK: return
// MATH-LABEL: func.func @sqrt
// MATH-COUNT-3: math.sqrt
// MATH-NOT: llvm.intr.sqrt
// MATH: return
func.func @sqrt(%x: f64, %y: f32, %v: vector<4xf64>) -> (f64, f32, vector<4xf64>) {
  %a = math.sqrt %x : f64
  %b = math.sqrt %y : f32
  %c = math.sqrt %v : vector<4xf64>
  return %a, %b, %c : f64, f32, vector<4xf64>
}
