// RUN: ncl-opt %s --ncl-to-nvvm 2>/dev/null | FileCheck %s
// The GPU pipeline nclc --target=cuda runs (docs/gpu.md), on the LIF
// population of ncl-to-llvm.mlir: the kernels, mapped to a thread per
// neuron by ncl-gpu-map, are LLVM functions in gpu.module @ncl_kernels
// whose thread index comes from NVVM's registers. exp and expm1 are NCL's
// expansion (fma, no call); the exact math functions left become libdevice
// calls here (__nv_fabs, __nv_rint, ...), which the CUDA target replaces
// by LLVM intrinsics before code generation. The spike count is an atomic
// add. The init kernel, which the host runs, is not there. The network
// stays, for the descriptor.

// CHECK-LABEL: gpu.module @ncl_kernels {
// CHECK-NOT: @ncl_P_init(
// CHECK-LABEL: llvm.func @ncl_P_update(
// CHECK-SAME: ncl.gpu_launch = "per_index"
// CHECK-NOT: math.
// CHECK-NOT: llvm.call @__nv_exp
// CHECK: nvvm.read.ptx.sreg.tid.x : i32
// CHECK: nvvm.read.ptx.sreg.ctaid.x : i32
// CHECK: nvvm.read.ptx.sreg.ntid.x : i32
// CHECK: llvm.intr.fma
// CHECK-NOT: llvm.call @__nv_exp
// CHECK: llvm.call @__nv_rint(
// CHECK: llvm.atomicrmw add
// CHECK: llvm.return
// CHECK-NOT: func.func
// CHECK-LABEL: ncl.network @N
// CHECK: ncl.stage init @P kernel @ncl_P_init
// CHECK: ncl.stage step @P kernel @ncl_P_update
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "LIF", size = 1 : i64, record_spikes,
        params = [#ncl.param<name = "tau_m">, #ncl.param<name = "El">, #ncl.param<name = "Vt">, #ncl.param<name = "Vr">, #ncl.param<name = "t_ref">],
        vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %tau = ncl.param "tau_m" : f64
    %el = ncl.param "El" : f64
    %vt = ncl.param "Vt" : f64
    %vr = ncl.param "Vr" : f64
    %tref = ncl.param "t_ref" : f64
    %r = ncl.is_refractory : i1
    %v1 = ncl.ode "v" (%v) clamp %r : f64 {
    ^bb0(%x: f64):
      %d = arith.subf %el, %x : f64
      %q = arith.divf %d, %tau : f64
      ncl.yield %q : f64
    }
    %c = arith.cmpf ogt, %v1, %vt : f64
    %f = ncl.threshold %c unless %r
    %v2 = ncl.reset %f, %v1, %vr : f64
    ncl.refractory %f for %tref : f64
    ncl.state_write "v", %v2 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage step @P
  }
}
