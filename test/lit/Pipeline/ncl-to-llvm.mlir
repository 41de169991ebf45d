// RUN: ncl-opt %s --ncl-to-llvm 2>/dev/null | FileCheck %s
// The pipeline nclc runs, on a LIF population. Everything that depends only
// on parameters and the run's dt (expm1(b dt), the refractory step count) is
// computed once per call, before the loops (expm1 expanded by ncl-expand-exp,
// no libm call); the loop body is the per-neuron
// update. The kernels are LLVM functions; the network stays, emptied of
// programs, for the library's descriptor, its stages naming the kernels.

// CHECK-LABEL: llvm.func @ncl_P_init(
// CHECK-SAME: attributes {ncl.kernel = "init"}
// CHECK-NOT: ncl.
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @ncl_P_update(
// CHECK-SAME: attributes {ncl.kernel = "update"}
// CHECK-NOT: ncl.
// CHECK-NOT: llvm.call @expm1
// CHECK: llvm.intr.fma
// CHECK-NOT: ncl.
// CHECK: llvm.call @roundeven(
// CHECK-NOT: ncl.
// CHECK: llvm.br ^[[HEADER:.*]](
// CHECK: ^[[HEADER]](
// CHECK-NOT: llvm.call @exp
// CHECK-NOT: llvm.call @roundeven
// CHECK-NOT: ncl.
// CHECK: llvm.return
// CHECK-NEXT: }

// CHECK-LABEL: ncl.network @N
// CHECK-SAME: buffers = [#ncl.buffer<name = "P.params"
// CHECK: ncl.population @P
// CHECK-SAME: init {
// CHECK-NEXT: } step {
// CHECK-NEXT: }
// CHECK: ncl.schedule {
// CHECK-NEXT: ncl.stage init @P kernel @ncl_P_init
// CHECK-NEXT: ncl.stage step @P kernel @ncl_P_update
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
