// RUN: ncl-opt %s -ncl-integrate -split-input-file -verify-diagnostics | FileCheck %s

// A LIF membrane: dv/dt = (-(v - El) + R*I)/tau is linear in v, so it
// becomes one exponential-Euler step with a = (El + R*I)/tau, b = -1/tau,
// held while refractory.

// CHECK-LABEL: ncl.population @lif
ncl.population @lif {neuron = "LIF", size = 1 : i64, dt = 1.0e-4 : f64,
                     state_vars = ["v"], num_params = 4 : i64} init {
} step {
  // CHECK-DAG: %[[V:.*]] = ncl.state_read "v"
  // CHECK-DAG: %[[TAU:.*]] = ncl.param "tau_m"
  // CHECK-DAG: %[[EL:.*]] = ncl.param "El"
  // CHECK-DAG: %[[R:.*]] = ncl.param "R"
  // CHECK-DAG: %[[I:.*]] = ncl.param "I"
  %v = ncl.state_read "v" : f64
  %tau = ncl.param "tau_m" [0] : f64
  %el = ncl.param "El" [1] : f64
  %r = ncl.param "R" [2] : f64
  %i = ncl.param "I" [3] : f64
  // CHECK-NOT: ncl.ode
  // CHECK-DAG: %[[RI:.*]] = arith.mulf %[[R]], %[[I]]
  // CHECK-DAG: %[[NUM:.*]] = arith.addf %[[EL]], %[[RI]]
  // CHECK-DAG: %[[A:.*]] = arith.divf %[[NUM]], %[[TAU]]
  // CHECK-DAG: %[[M1:.*]] = arith.constant -1.000000e+00 : f64
  // CHECK-DAG: %[[B:.*]] = arith.divf %[[M1]], %[[TAU]]
  // CHECK-DAG: %[[REF:.*]] = ncl.is_refractory : i1
  // CHECK: %[[E:.*]] = ncl.exp_euler %[[V]], %[[A]], %[[B]] {dt = 1.000000e-04 : f64} : f64
  // CHECK: %[[NEXT:.*]] = arith.select %[[REF]], %[[V]], %[[E]] : f64
  // CHECK: ncl.state_write "v", %[[NEXT]]
  %ref = ncl.is_refractory : i1
  %v1 = ncl.ode "v" (%v) clamp %ref : f64 {
  ^bb0(%x: f64):
    %d = arith.subf %x, %el : f64
    %n = arith.negf %d : f64
    %ri = arith.mulf %r, %i : f64
    %s = arith.addf %n, %ri : f64
    %q = arith.divf %s, %tau : f64
    ncl.yield %q : f64
  }
  ncl.state_write "v", %v1 : f64
}

// -----

// A right-hand side that does not depend on x: dx/dt = a, so b = 0 and
// exp-Euler reduces to x + a*dt. No clamp, so no select.

// CHECK-LABEL: ncl.population @drift
ncl.population @drift {neuron = "D", size = 1 : i64, dt = 1.0e-3 : f64,
                       state_vars = ["x"], num_params = 1 : i64} init {
} step {
  %x = ncl.state_read "x" : f64
  %a = ncl.param "a" [0] : f64
  // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
  // CHECK: ncl.exp_euler %{{.*}}, %{{.*}}, %[[ZERO]] {dt = 1.000000e-03 : f64}
  // CHECK-NOT: arith.select
  %x1 = ncl.ode "x" (%x) : f64 {
  ^bb0(%y: f64):
    ncl.yield %a : f64
  }
  ncl.state_write "x", %x1 : f64
}

// -----

// Quadratic in x: not linear, so forward Euler x + dt*f(x), with a remark.

// CHECK-LABEL: ncl.population @quadratic
ncl.population @quadratic {neuron = "Q", size = 1 : i64, dt = 1.0e-3 : f64,
                           state_vars = ["x"], num_params = 0 : i64} init {
} step {
  // CHECK: %[[X:.*]] = ncl.state_read "x"
  %x = ncl.state_read "x" : f64
  // CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f64
  // CHECK: %[[DT:.*]] = arith.constant 1.000000e-03 : f64
  // CHECK: %[[INC:.*]] = arith.mulf %[[SQ]], %[[DT]] : f64
  // CHECK: arith.addf %[[X]], %[[INC]] : f64
  // expected-remark @+1 {{dx/dt of 'x' is not linear in it; integrating with forward Euler}}
  %x1 = ncl.ode "x" (%x) : f64 {
  ^bb0(%y: f64):
    %sq = arith.mulf %y, %y : f64
    ncl.yield %sq : f64
  }
  ncl.state_write "x", %x1 : f64
}
