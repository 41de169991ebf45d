// RUN: ncl-opt %s -ncl-integrate -split-input-file -verify-diagnostics | FileCheck %s

// A LIF membrane: dv/dt = (-(v - El) + R*I)/tau is linear in v, so it
// becomes one exponential-Euler step with a = (El + R*I)/tau, b = -1/tau,
// held while refractory.

// CHECK-LABEL: ncl.population @lif
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @lif {neuron = "LIF", size = 1 : i64,
        params = [#ncl.param<name = "tau_m">, #ncl.param<name = "El">, #ncl.param<name = "R">, #ncl.param<name = "I">],
        vars = [#ncl.var<name = "v">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "v", %x0 : f64
  } step {
    // CHECK-DAG: %[[V:.*]] = ncl.state_read "v"
    // CHECK-DAG: %[[TAU:.*]] = ncl.param "tau_m"
    // CHECK-DAG: %[[EL:.*]] = ncl.param "El"
    // CHECK-DAG: %[[R:.*]] = ncl.param "R"
    // CHECK-DAG: %[[I:.*]] = ncl.param "I"
    %v = ncl.state_read "v" : f64
    %tau = ncl.param "tau_m" : f64
    %el = ncl.param "El" : f64
    %r = ncl.param "R" : f64
    %i = ncl.param "I" : f64
    // CHECK-NOT: ncl.ode
    // CHECK-DAG: %[[RI:.*]] = arith.mulf %[[R]], %[[I]]
    // CHECK-DAG: %[[NUM:.*]] = arith.addf %[[EL]], %[[RI]]
    // CHECK-DAG: %[[A:.*]] = arith.divf %[[NUM]], %[[TAU]]
    // CHECK-DAG: %[[M1:.*]] = arith.constant -1.000000e+00 : f64
    // CHECK-DAG: %[[B:.*]] = arith.divf %[[M1]], %[[TAU]]
    // CHECK-DAG: %[[REF:.*]] = ncl.is_refractory : i1
    // CHECK-DAG: %[[DT:.*]] = ncl.dt : f64
    // CHECK: %[[E:.*]] = ncl.exp_euler %[[V]], %[[A]], %[[B]] step %[[DT]] : f64
    // CHECK: %[[NEXT:.*]] = arith.select %[[REF]], %[[V]], %[[E]] : f64
    // CHECK: ncl.state_write "v", %[[NEXT]]
    %ref = ncl.is_refractory : i1
    // expected-remark @+1 {{dv/dt: exponential Euler (linear with constant coefficients: exact)}}
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
}

// -----

// A right-hand side that does not depend on x: dx/dt = a, so b = 0 and
// exp-Euler reduces to x + a*dt. No clamp, so no select.

// CHECK-LABEL: ncl.population @drift
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @drift {neuron = "D", size = 1 : i64,
        params = [#ncl.param<name = "a">],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    %a = ncl.param "a" : f64
    // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
    // CHECK: ncl.exp_euler %{{.*}}, %{{.*}}, %[[ZERO]] step %{{.*}} : f64
    // CHECK-NOT: arith.select
    // expected-remark @+1 {{dx/dt: exponential Euler (linear with constant coefficients: exact)}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      ncl.yield %a : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// Quadratic in x: not linear, so the pass picks Runge-Kutta 4 and says so:
// four evaluations of the right-hand side, combined with weights dt/6,
// dt/3 of the run's dt. An explicit scheme: the runtime may run it at this
// dt or a smaller one (ncl.max_dt).

// CHECK-LABEL: ncl.population @quadratic
// CHECK-SAME: max_dt = 1.000000e-03 : f64
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @quadratic {neuron = "Q", size = 1 : i64,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    // CHECK: %[[X:.*]] = ncl.state_read "x"
    %x = ncl.state_read "x" : f64
    // CHECK: %[[DT:.*]] = ncl.dt : f64
    // CHECK: %[[K1:.*]] = arith.mulf %[[X]], %[[X]] : f64
    // CHECK-COUNT-3: arith.mulf %[[S:.*]], %[[S]] : f64
    // CHECK: %[[SIXTH:.*]] = arith.constant 0.16666666666666666 : f64
    // CHECK: arith.mulf %[[DT]], %[[SIXTH]] : f64
    // CHECK-NOT: ncl.ode
    // expected-remark @+1 {{dx/dt: rk4 (the system is not linear in each variable, so Runge-Kutta 4)}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      %sq = arith.mulf %y, %y : f64
      ncl.yield %sq : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// Asked for forward Euler: x + dt*f(x), one evaluation.

// CHECK-LABEL: ncl.population @euler
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @euler {neuron = "E", size = 1 : i64, method = #ncl<method euler>,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    // CHECK: %[[X:.*]] = ncl.state_read "x"
    %x = ncl.state_read "x" : f64
    // CHECK: %[[DT:.*]] = ncl.dt : f64
    // CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f64
    // CHECK: %[[INC:.*]] = arith.mulf %[[SQ]], %[[DT]] : f64
    // CHECK: %[[NEXT:.*]] = arith.addf %[[X]], %[[INC]] : f64
    // CHECK: ncl.state_write "x", %[[NEXT]]
    // expected-remark @+1 {{dx/dt: euler (asked for with 'method euler')}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      %sq = arith.mulf %y, %y : f64
      ncl.yield %sq : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// A coupled pair with the explicit midpoint rule (rk2): the second stage
// evaluates both right-hand sides at x + dt/2 * k1.

// CHECK-LABEL: ncl.population @pair
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @pair {neuron = "P", size = 1 : i64, method = #ncl<method rk2>,
        params = [],
        vars = [#ncl.var<name = "x">, #ncl.var<name = "y">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    // CHECK-DAG: %[[X:.*]] = ncl.state_read "x"
    // CHECK-DAG: %[[Y:.*]] = ncl.state_read "y"
    %x = ncl.state_read "x" : f64
    %y = ncl.state_read "y" : f64
    // CHECK: %[[NX:.*]] = arith.negf %[[X]] : f64
    // CHECK: %[[DX:.*]] = arith.mulf %[[Y]], %{{.*}} : f64
    // CHECK: %[[XM:.*]] = arith.addf %[[X]], %[[DX]] : f64
    // CHECK: %[[DY:.*]] = arith.mulf %[[NX]], %{{.*}} : f64
    // CHECK: %[[YM:.*]] = arith.addf %[[Y]], %[[DY]] : f64
    // CHECK: %[[NXM:.*]] = arith.negf %[[XM]] : f64
    // CHECK: %[[A:.*]] = arith.mulf %[[YM]], %{{.*}} : f64
    // CHECK: %[[XN:.*]] = arith.addf %[[X]], %[[A]] : f64
    // CHECK: %[[B:.*]] = arith.mulf %[[NXM]], %{{.*}} : f64
    // CHECK: %[[YN:.*]] = arith.addf %[[Y]], %[[B]] : f64
    // CHECK: ncl.state_write "x", %[[XN]]
    // CHECK: ncl.state_write "y", %[[YN]]
    // expected-remark @+1 {{dx/dt: rk2 (asked for with 'method rk2')}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      ncl.yield %y : f64
    }
    // expected-remark @+1 {{dy/dt: rk2 (asked for with 'method rk2')}}
    %y1 = ncl.ode "y" (%y) : f64 {
    ^bb0(%w: f64):
      %n = arith.negf %x : f64
      ncl.yield %n : f64
    }
    ncl.state_write "x", %x1 : f64
    ncl.state_write "y", %y1 : f64
  }
}

// -----

// Exponential Euler with two sub-steps: two steps of dt/2.

// CHECK-LABEL: ncl.population @substeps
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @substeps {neuron = "S", size = 1 : i64, method = #ncl<method exp_euler>, substeps = 2 : i64,
        params = [#ncl.param<name = "tau">],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    %tau = ncl.param "tau" : f64
    // CHECK: %[[DT:.*]] = ncl.dt : f64
    // CHECK: %[[H:.*]] = arith.divf %[[DT]], %{{.*}} : f64
    // CHECK: %[[E1:.*]] = ncl.exp_euler %{{.*}} step %[[H]] : f64
    // CHECK: ncl.exp_euler %[[E1]], %{{.*}} step %[[H]] : f64
    // expected-remark @+1 {{dx/dt: exponential Euler with 2 sub-steps (asked for with 'method exp_euler')}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      %n = arith.negf %y : f64
      %d = arith.divf %n, %tau : f64
      ncl.yield %d : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @not_exact {neuron = "N", size = 1 : i64, method = #ncl<method exact>,
        params = [],
        vars = [#ncl.var<name = "x">, #ncl.var<name = "y">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    %y = ncl.state_read "y" : f64
    // expected-error @+1 {{method 'exact' needs dx/dt = a + b*x with a and b constant during a step, but they depend on other state, the time or random draws}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %p = arith.mulf %u, %y : f64
      ncl.yield %p : f64
    }
    %y1 = ncl.ode "y" (%y) : f64 {
    ^bb0(%w: f64):
      ncl.yield %w : f64
    }
    ncl.state_write "x", %x1 : f64
    ncl.state_write "y", %y1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @not_linear {neuron = "N", size = 1 : i64, method = #ncl<method exp_euler>,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    // expected-error @+1 {{method 'exp_euler' needs dx/dt linear in x (a + b*x), but it is not}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %p = arith.mulf %u, %u : f64
      ncl.yield %p : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// v driven by a decaying current Is: a coupled linear system with constant
// coefficients. Both become the exact propagator: the matrix exponential of
// [A c; 0 0]*dt (Taylor, or scaling and squaring, chosen once per call),
// applied as x <- E x + f; a clamped v uses the propagator with v's row zero.

// CHECK-LABEL: ncl.population @cuba
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @cuba {neuron = "C", size = 1 : i64,
        params = [#ncl.param<name = "tau_m">, #ncl.param<name = "tau_s">, #ncl.param<name = "R">],
        vars = [#ncl.var<name = "v">, #ncl.var<name = "I">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "v", %x0 : f64
  } step {
    // CHECK-DAG: %[[V:.*]] = ncl.state_read "v"
    // CHECK-DAG: %[[I:.*]] = ncl.state_read "I"
    %v = ncl.state_read "v" : f64
    %i = ncl.state_read "I" : f64
    %tau_m = ncl.param "tau_m" : f64
    %tau_s = ncl.param "tau_s" : f64
    %r = ncl.param "R" : f64
    // CHECK-DAG: %[[REF:.*]] = ncl.is_refractory : i1
    %ref = ncl.is_refractory : i1
    // CHECK-NOT: ncl.exp_euler
    // CHECK: math.absf
    // CHECK: arith.select %{{.*}} : f64
    // CHECK: %[[VN:.*]] = arith.select %[[REF]], %{{.*}}, %{{.*}} : f64
    // CHECK: %[[IN:.*]] = arith.select %[[REF]], %{{.*}}, %{{.*}} : f64
    // CHECK: ncl.state_write "v", %[[VN]]
    // CHECK: ncl.state_write "I", %[[IN]]
    // expected-remark @+1 {{dv/dt: exact propagator (a coupled linear system with constant coefficients: the matrix exponential, once per call)}}
    %v1 = ncl.ode "v" (%v) clamp %ref : f64 {
    ^bb0(%x: f64):
      %ri = arith.mulf %r, %i : f64
      %d = arith.subf %ri, %x : f64
      %q = arith.divf %d, %tau_m : f64
      ncl.yield %q : f64
    }
    // expected-remark @+1 {{dI/dt: exact propagator (a coupled linear system with constant coefficients: the matrix exponential, once per call)}}
    %i1 = ncl.ode "I" (%i) : f64 {
    ^bb0(%y: f64):
      %n = arith.negf %y : f64
      %q = arith.divf %n, %tau_s : f64
      ncl.yield %q : f64
    }
    ncl.state_write "v", %v1 : f64
    ncl.state_write "I", %i1 : f64
  }
}

// -----

// White noise: an Ornstein-Uhlenbeck equation (linear drift, additive
// noise) gets exponential Euler for the mean plus one normal draw scaled by
// the exact standard deviation of a step, sqrt(h * phi(2 b h)) * g.

// CHECK-LABEL: ncl.population @ou
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @ou {neuron = "O", size = 1 : i64,
        params = [#ncl.param<name = "tau">, #ncl.param<name = "g">],
        vars = [#ncl.var<name = "v">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "v", %x0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    %tau = ncl.param "tau" : f64
    %g = ncl.param "g" : f64
    // CHECK: %[[MEAN:.*]] = ncl.exp_euler
    // CHECK: math.expm1
    // CHECK: %[[SD:.*]] = math.sqrt
    // CHECK: %[[N:.*]] = ncl.rand normal stream 7 : f64
    // CHECK-NOT: ncl.noise
    // expected-remark @+1 {{dv/dt: exponential Euler with the exact noise variance (exact for Ornstein-Uhlenbeck) (additive noise, drift linear in it)}}
    %v1 = ncl.ode "v" (%v) : f64 {
    ^bb0(%x: f64):
      %n = arith.negf %x : f64
      %d = arith.divf %n, %tau : f64
      %xi = ncl.noise stream 7 : f64
      %s = arith.mulf %g, %xi : f64
      %r = arith.addf %d, %s : f64
      ncl.yield %r : f64
    }
    ncl.state_write "v", %v1 : f64
  }
}

// -----

// Multiplicative noise: stochastic Heun, two evaluations of drift and
// diffusion sharing one draw.

// CHECK-LABEL: ncl.population @gbm
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @gbm {neuron = "G", size = 1 : i64,
        params = [#ncl.param<name = "s">],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    %s = ncl.param "s" : f64
    // CHECK: ncl.rand normal stream 3 : f64
    // CHECK-NOT: ncl.rand
    // expected-remark @+1 {{dx/dt: stochastic Heun (Stratonovich) (multiplicative noise)}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      %xi = ncl.noise stream 3 : f64
      %g = arith.mulf %s, %y : f64
      %r = arith.mulf %g, %xi : f64
      ncl.yield %r : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

// A right-hand side that reads the time, directly (ncl.time inside the
// region) and through an input driven by a stimulus of t (captured): each
// Runge-Kutta 4 stage sees its own time, t_n for k1, t_n + h/2 for k2 and
// k3, t_n + h for k4, and the captured input is recomputed at each.

// CHECK-LABEL: ncl.population @driven
ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @driven {neuron = "D", size = 1 : i64, method = #ncl<method rk4>,
        params = [],
        vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    // CHECK: %[[T:.*]] = ncl.time : f64
    // CHECK: %[[IN:.*]] = math.cos %[[T]] : f64
    // CHECK: %[[X:.*]] = ncl.state_read "x"
    %t = ncl.time : f64
    %in = math.cos %t : f64
    %x = ncl.state_read "x" : f64
    // k1 at t_n: the region's ncl.time is the step's.
    // CHECK: %[[DT:.*]] = ncl.dt : f64
    // CHECK: math.sin %[[T]] : f64
    // CHECK: %[[HALF:.*]] = arith.mulf %[[DT]], %{{.*}} : f64
    // CHECK: %[[TH:.*]] = arith.addf %[[T]], %[[HALF]] : f64
    // k2 at t_n + h/2: the input is recomputed there, and sin reads it too.
    // CHECK: %[[IN2:.*]] = math.cos %[[TH]] : f64
    // CHECK: %[[S2:.*]] = math.sin %[[TH]] : f64
    // CHECK: arith.addf %{{.*}}, %[[S2]] : f64
    // CHECK: arith.addf %{{.*}}, %[[IN2]] : f64
    // k3 at t_n + h/2, k4 at t_n + h.
    // CHECK: math.cos %[[TH]] : f64
    // CHECK: math.sin %[[TH]] : f64
    // CHECK: %[[TF:.*]] = arith.addf %[[T]], %[[DT]] : f64
    // CHECK: math.cos %[[TF]] : f64
    // CHECK: math.sin %[[TF]] : f64
    // CHECK-NOT: ncl.ode
    // expected-remark @+1 {{dx/dt: rk4 (asked for with 'method rk4')}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%y: f64):
      %tt = ncl.time : f64
      %s = math.sin %tt : f64
      %n = arith.negf %y : f64
      %a = arith.addf %n, %s : f64
      %b = arith.addf %a, %in : f64
      ncl.yield %b : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @exact_nonlinear {neuron = "N", size = 1 : i64, method = #ncl<method exact>,
        params = [], vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    // expected-error @+1 {{method 'exact' needs dx/dt = a + b*x with a and b constant during a step, but it is not linear in x}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %p = arith.mulf %u, %u : f64
      ncl.yield %p : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @noise_rk4 {neuron = "N", size = 1 : i64, method = #ncl<method rk4>,
        params = [], vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    // expected-error @+1 {{method 'rk4' cannot integrate white noise; use euler (Euler-Maruyama) or heun}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %xi = ncl.noise stream 1 : f64
      ncl.yield %xi : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @noise_substeps {neuron = "N", size = 1 : i64, substeps = 2 : i64,
        params = [], vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    // expected-error @+1 {{sub-steps are not supported for equations with noise}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %xi = ncl.noise stream 1 : f64
      ncl.yield %xi : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}

// -----

ncl.network @N attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @noise_squared {neuron = "N", size = 1 : i64,
        params = [], vars = [#ncl.var<name = "x">]} init {
    %x0 = arith.constant 5.000000e-01 : f64
    ncl.state_write "x", %x0 : f64
  } step {
    %x = ncl.state_read "x" : f64
    // expected-error @+1 {{white noise must enter dx/dt linearly: f + g*xi, with g free of xi}}
    %x1 = ncl.ode "x" (%x) : f64 {
    ^bb0(%u: f64):
      %xi = ncl.noise stream 1 : f64
      %sq = arith.mulf %xi, %xi : f64
      ncl.yield %sq : f64
    }
    ncl.state_write "x", %x1 : f64
  }
}
