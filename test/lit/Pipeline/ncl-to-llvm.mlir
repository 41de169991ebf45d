// RUN: ncl-opt %s --ncl-to-llvm | FileCheck %s
// The pipeline nclc runs, on a LIF population. Everything that depends only
// on parameters and the run's dt (expm1(b dt), the refractory step count) is
// computed once per call, before the loops; the loop body is the per-neuron
// update.

// CHECK-LABEL: llvm.func @ncl_P_init(
// CHECK-LABEL: llvm.func @ncl_P_update(
// CHECK: llvm.call @expm1(
// CHECK: llvm.call @roundeven(
// CHECK: llvm.br ^[[HEADER:.*]](
// CHECK: ^[[HEADER]](
// CHECK-NOT: llvm.call @exp
// CHECK-NOT: llvm.call @roundeven
// CHECK: llvm.return

// CHECK-NOT: ncl.
ncl.population @P {neuron = "LIF", size = 1 : i64, dt = 1.0e-4 : f64,
                   state_vars = ["v"], num_params = 5 : i64, record_spikes} init {
  %el = ncl.param "El" [1] : f64
  ncl.state_write "v", %el : f64
} step {
  %v = ncl.state_read "v" : f64
  %tau = ncl.param "tau_m" [0] : f64
  %el = ncl.param "El" [1] : f64
  %vt = ncl.param "Vt" [2] : f64
  %vr = ncl.param "Vr" [3] : f64
  %tref = ncl.param "t_ref" [4] : f64
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
