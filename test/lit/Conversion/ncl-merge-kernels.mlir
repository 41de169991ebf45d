// RUN: ncl-opt %s -ncl-integrate -ncl-allocate-buffers -ncl-to-loops -ncl-merge-kernels | FileCheck %s
// RUN: ncl-opt %s -ncl-integrate -ncl-allocate-buffers -ncl-to-loops -ncl-merge-kernels -canonicalize -ncl-merge-kernels | FileCheck %s
// RUN: ncl-opt %s -ncl-integrate -ncl-allocate-buffers -ncl-to-loops -ncl-merge-kernels -ncl-gpu-map | FileCheck %s --check-prefix=GPU
// ncl-merge-kernels: A and B, two populations of one neuron model, get one
// init kernel (the same code) and one update kernel, whose random stream
// (a constant that `arith.ori` takes: 0 for A, 1024 << 16 for B) becomes
// its last argument, passed by each stage's `constants`; B's kernels are
// gone. C's code differs (no draw): it keeps its own. First the buffers a
// kernel does not use go from it and from its stages' `args` (here one of
// each update's, one of each init's), so that kernels that differ only in
// which buffer they use (a synapse that adds to ge, another to gi) are the
// same. The network is
// marked merged, and a second run, after the clean-up (which folds A's
// `x | 0`), changes nothing.

// CHECK-LABEL: func.func @ncl_A_init(
// CHECK-LABEL: func.func @ncl_A_update(
// CHECK-SAME: %{{[^:]*}}: f64, %[[STREAM:[^:]*]]: i32) attributes
// CHECK: arith.ori %{{.*}}, %[[STREAM]] : i32
// CHECK-NOT: func.func @ncl_B_
// CHECK-LABEL: func.func @ncl_C_init(
// CHECK-LABEL: func.func @ncl_C_update(
// CHECK-SAME: %{{[^:]*}}: f64) attributes
// CHECK: ncl.network @Net attributes {{{.*}}ncl.kernels_merged
// CHECK: ncl.stage init @A kernel @ncl_A_init {args = [0, 1, 2, "begin", "end", "size", "seed", "dt"]}
// CHECK-NEXT: ncl.stage init @B kernel @ncl_A_init {args = [3, 4, 5, "begin", "end", "size", "seed", "dt"]}
// CHECK-NEXT: ncl.stage step @A kernel @ncl_A_update {args = [0, 1, "begin", {{.*}}], constants = [0 : i32]}
// CHECK-NEXT: ncl.stage step @B kernel @ncl_A_update {args = [3, 4, "begin", {{.*}}], constants = [67108864 : i32]}
// CHECK-NEXT: ncl.stage init @C kernel @ncl_C_init {args = [7, 8, "begin",
// CHECK-NEXT: ncl.stage step @C kernel @ncl_C_update {args = [7, "begin", {{.*}}"dt"]}


// ncl-gpu-map maps the kept kernels into the gpu.module (and drops the init
// kernels: the host runs them).
// GPU: gpu.module @ncl_kernels {
// GPU: func.func @ncl_A_update(
// GPU-SAME: %{{[^:]*}}: f64, %[[STREAM:[^:]*]]: i32) attributes
// GPU-NOT: func.func @ncl_B_update
// GPU: func.func @ncl_C_update(
// GPU: ncl.stage step @A kernel @ncl_A_update {{.*}} constants = [0 : i32]}
// GPU-NEXT: ncl.stage step @B kernel @ncl_A_update {{.*}} constants = [67108864 : i32]}

module {
  ncl.network @Net attributes {dt = 1.000000e-04 : f64, real = f64} {
    ncl.population @A {max_dt = 1.000000e-04 : f64, min_dt = 1.000000e-04 : f64, neuron = "Noisy", params = [#ncl.param<name = "sigma", scale = 1.000000e+00 : f64, dim = [0, 0, 0, 0, 0, 0, 0], value = 1.000000e+00 : f64>], size = 8 : i64, vars = [#ncl.var<name = "v", scale = 1.000000e+00 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
      %0 = ncl.param "sigma" : f64
      %cst = arith.constant 0.000000e+00 : f64
      ncl.state_write "v", %cst : f64
    } step {
      %0 = ncl.param "sigma" : f64
      %1 = ncl.state_read "v" : f64
      %cst = arith.constant 5.000000e-01 : f64
      %2 = arith.mulf %1, %cst : f64
      %3 = ncl.rand normal stream 0 : f64
      %4 = arith.mulf %0, %3 : f64
      %5 = arith.addf %2, %4 : f64
      ncl.state_write "v", %5 : f64
    }
    ncl.population @B {max_dt = 1.000000e-04 : f64, min_dt = 1.000000e-04 : f64, neuron = "Noisy", params = [#ncl.param<name = "sigma", scale = 1.000000e+00 : f64, dim = [0, 0, 0, 0, 0, 0, 0], value = 1.000000e+00 : f64>], size = 16 : i64, vars = [#ncl.var<name = "v", scale = 1.000000e+00 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
      %0 = ncl.param "sigma" : f64
      %cst = arith.constant 0.000000e+00 : f64
      ncl.state_write "v", %cst : f64
    } step {
      %0 = ncl.param "sigma" : f64
      %1 = ncl.state_read "v" : f64
      %cst = arith.constant 5.000000e-01 : f64
      %2 = arith.mulf %1, %cst : f64
      %3 = ncl.rand normal stream 1024 : f64
      %4 = arith.mulf %0, %3 : f64
      %5 = arith.addf %2, %4 : f64
      ncl.state_write "v", %5 : f64
    }
    ncl.population @C {max_dt = 1.000000e-04 : f64, min_dt = 1.000000e-04 : f64, neuron = "Decay", params = [], size = 4 : i64, vars = [#ncl.var<name = "v", scale = 1.000000e+00 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
      %cst = arith.constant 1.000000e+00 : f64
      ncl.state_write "v", %cst : f64
    } step {
      %1 = ncl.state_read "v" : f64
      %cst = arith.constant 5.000000e-01 : f64
      %2 = arith.mulf %1, %cst : f64
      ncl.state_write "v", %2 : f64
    }
    ncl.schedule {
      ncl.stage init @A
      ncl.stage init @B
      ncl.stage step @A
      ncl.stage step @B
      ncl.stage init @C
      ncl.stage step @C
    }
  }
}
