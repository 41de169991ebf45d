// RUN: ncl-opt %s -ncl-integrate -split-input-file -verify-diagnostics | FileCheck %s

// Event-driven synapse dynamics: x' = -x/tau_x (a pure decay) and
// u' = (U - u)/tau_u (relaxation to U) are each linear in their own
// variable with constant coefficients, and only on_pre and on_post read
// them. ncl-integrate moves them into both event blocks: each first
// advances x and u from the hidden `_lastupdate` to t by their exact
// solutions, x*e^{-elapsed/tau_x} and u*e^{b*elapsed} + a*elapsed*phi(b*elapsed),
// writes them and `_lastupdate` = t, and then runs the block on the
// advanced values. The dynamics region and its synapse_step stage go. (x
// grows by w, which differs between synapses, so it stays per synapse:
// ncl-integrate-synaptic-traces.mlir has the traces kept per neuron.)

// CHECK-LABEL: ncl.projection @S
// CHECK-SAME: drive = #ncl<drive event_driven>
// CHECK-SAME: #ncl.var<name = "_lastupdate", unit = "s"
// CHECK: init {
// CHECK:   ncl.synapse_write "x"
// CHECK:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:   ncl.synapse_write "_lastupdate", %[[ZERO]] : f64
// CHECK: } on_pre {
// CHECK:   %[[T:.*]] = ncl.time : f64
// CHECK:   %[[LAST:.*]] = ncl.synapse_read "_lastupdate" : f64
// CHECK:   %[[EL:.*]] = arith.subf %[[T]], %[[LAST]] : f64
// CHECK:   %[[X:.*]] = ncl.synapse_read "x" : f64
// CHECK:   %[[U:.*]] = ncl.synapse_read "u" : f64
// CHECK:   %[[BX:.*]] = arith.divf %{{.*}}, %{{.*}} : f64
// CHECK:   %[[ZX:.*]] = arith.mulf %[[BX]], %[[EL]] : f64
// CHECK:   %[[EX:.*]] = math.exp %[[ZX]] : f64
// CHECK:   %[[X1:.*]] = arith.mulf %[[EX]], %[[X]] : f64
// CHECK:   %[[ZU:.*]] = arith.mulf %{{.*}}, %[[EL]] : f64
// CHECK:   %[[EU:.*]] = math.exp %[[ZU]] : f64
// CHECK:   %[[DECAY:.*]] = arith.mulf %[[EU]], %[[U]] : f64
// CHECK:   math.expm1 %[[ZU]] : f64
// CHECK:   %[[PHI:.*]] = arith.select
// CHECK:   %[[GAIN:.*]] = arith.mulf %[[EL]], %[[PHI]] : f64
// CHECK:   %[[DRIVE:.*]] = arith.mulf %{{.*}}, %[[GAIN]] : f64
// CHECK:   %[[U1:.*]] = arith.addf %[[DECAY]], %[[DRIVE]] : f64
// CHECK:   ncl.synapse_write "x", %[[X1]] : f64
// CHECK:   ncl.synapse_write "u", %[[U1]] : f64
// CHECK:   ncl.synapse_write "_lastupdate", %[[T]] : f64
// The block's own reads of x and u are the advanced values.
// CHECK:   %[[W:.*]] = ncl.synapse_read "w" : f64
// CHECK:   arith.mulf %[[W]], %[[U1]] : f64
// CHECK:   %[[X2:.*]] = arith.addf %[[X1]], %{{.*}} : f64
// CHECK:   ncl.synapse_write "x", %[[X2]] : f64
// CHECK: } on_post {
// CHECK:   ncl.time
// CHECK:   ncl.synapse_write "_lastupdate"
// CHECK:   ncl.synapse_write "w"
// CHECK-NEXT: }
// CHECK-NOT: dynamics
// CHECK: ncl.schedule
// CHECK-NOT: synapse_step
// CHECK: ncl.stage step @P
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "tau_x">, #ncl.param<name = "tau_u">, #ncl.param<name = "U">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Trace",
      vars = [#ncl.var<name = "x">, #ncl.var<name = "u">, #ncl.var<name = "w">]} init {
    %cst = arith.constant 0.000000e+00 : f64
    ncl.synapse_write "x", %cst : f64
  } on_pre {
    %u = ncl.synapse_read "u" : f64
    %x = ncl.synapse_read "x" : f64
    %w = ncl.synapse_read "w" : f64
    %wu = arith.mulf %w, %u : f64
    ncl.post_add "v", %wu : f64
    %x1 = arith.addf %x, %w : f64
    ncl.synapse_write "x", %x1 : f64
  } on_post {
    %x = ncl.synapse_read "x" : f64
    %w = ncl.synapse_read "w" : f64
    %w1 = arith.addf %w, %x : f64
    ncl.synapse_write "w", %w1 : f64
  } dynamics {
    %tau_x = ncl.param "tau_x" : f64
    %tau_u = ncl.param "tau_u" : f64
    %U = ncl.param "U" : f64
    %x = ncl.synapse_read "x" : f64
    %u = ncl.synapse_read "u" : f64
    // expected-remark @below {{dx/dt in projection 'S': event-driven, advanced exactly over the time since its last update by an on_pre or on_post, only there (linear in it with coefficients constant between events, and read only by on_pre and on_post)}}
    %x1 = ncl.ode "x"(%x) : f64 {
    ^bb0(%xi: f64):
      %n = arith.negf %xi : f64
      %d = arith.divf %n, %tau_x : f64
      ncl.yield %d : f64
    }
    // expected-remark @below {{du/dt in projection 'S': event-driven}}
    %u1 = ncl.ode "u"(%u) : f64 {
    ^bb0(%ui: f64):
      %d = arith.subf %U, %ui : f64
      %r = arith.divf %d, %tau_u : f64
      ncl.yield %r : f64
    }
    ncl.synapse_write "x", %x1 : f64
    ncl.synapse_write "u", %u1 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @S
    ncl.stage deliver @S
    ncl.stage on_post @S
    ncl.stage synapse_step @S
    ncl.stage step @P
  }
}

// -----

// A trace that reads the postsynaptic membrane (it changes every step)
// stays clock-driven: the dynamics region is integrated in place
// (exponential Euler) and keeps its synapse_step stage.

// CHECK-LABEL: ncl.projection @Clock
// CHECK-SAME: drive = #ncl<drive clock_driven>
// CHECK-NOT: _lastupdate
// CHECK: } dynamics {
// CHECK:   ncl.exp_euler
// CHECK: ncl.stage synapse_step @Clock
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @Clock {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "tau_x">], post = @P, post_range = array<i64: 0, 4>,
      pre = @P, pre_range = array<i64: 0, 4>, synapse = "Follow", vars = [#ncl.var<name = "x">]} init {
  } on_pre {
  } on_post {
    %x = ncl.synapse_read "x" : f64
    %x1 = arith.mulf %x, %x : f64
    ncl.synapse_write "x", %x1 : f64
  } dynamics {
    %tau_x = ncl.param "tau_x" : f64
    %v = ncl.post_read "v" : f64
    %x = ncl.synapse_read "x" : f64
    // expected-remark @below {{dx/dt in projection 'Clock': clock-driven, every synapse every step (dx/dt: it reads v_post, a variable of the postsynaptic neuron)}}
    // expected-remark @below {{dx/dt: exponential Euler (linear with constant coefficients: exact)}}
    %x1 = ncl.ode "x"(%x) : f64 {
    ^bb0(%xi: f64):
      %d = arith.subf %v, %xi : f64
      %r = arith.divf %d, %tau_x : f64
      ncl.yield %r : f64
    }
    ncl.synapse_write "x", %x1 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @Clock
    ncl.stage deliver @Clock
    ncl.stage on_post @Clock
    ncl.stage synapse_step @Clock
    ncl.stage step @P
  }
}

// -----

// Asked for event_driven where it cannot be: the error names the reason.

ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  // expected-note @below {{asked for by this projection}}
  ncl.projection @Asked {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, drive = #ncl<drive event_driven>, params = [#ncl.param<name = "tau_x">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Follow",
      vars = [#ncl.var<name = "x">]} init {
  } on_pre {
  } on_post {
    %x = ncl.synapse_read "x" : f64
    %x1 = arith.mulf %x, %x : f64
    ncl.synapse_write "x", %x1 : f64
  } dynamics {
    %x = ncl.synapse_read "x" : f64
    // expected-error @below {{projection 'Asked' asks for 'event_driven', but dx/dt cannot be: it is not linear in the synapse's variables}}
    %x1 = ncl.ode "x"(%x) : f64 {
    ^bb0(%xi: f64):
      %d = arith.mulf %xi, %xi : f64
      ncl.yield %d : f64
    }
    ncl.synapse_write "x", %x1 : f64
  }
}

// -----

// A nonlinear synapse system stays clock-driven and gets Runge-Kutta 4, an
// explicit scheme: the projection records the network's dt as its max_dt
// (the runtime refuses a larger one).

// CHECK-LABEL: ncl.projection @Explicit
// CHECK-SAME: drive = #ncl<drive clock_driven>
// CHECK-SAME: max_dt = 1.000000e-04 : f64
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @Explicit {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], post = @P, post_range = array<i64: 0, 4>, pre = @P,
      pre_range = array<i64: 0, 4>, synapse = "Square", vars = [#ncl.var<name = "x">]} init {
  } on_pre {
  } on_post {
    %x = ncl.synapse_read "x" : f64
    %one = arith.constant 1.000000e+00 : f64
    %x1 = arith.addf %x, %one : f64
    ncl.synapse_write "x", %x1 : f64
  } dynamics {
    %x = ncl.synapse_read "x" : f64
    // expected-remark @below {{dx/dt in projection 'Explicit': clock-driven, every synapse every step (dx/dt: it is not linear in the synapse's variables)}}
    // expected-remark @below {{dx/dt: rk4 (the system is not linear in each variable, so Runge-Kutta 4)}}
    %x1 = ncl.ode "x"(%x) : f64 {
    ^bb0(%xi: f64):
      %d = arith.mulf %xi, %xi : f64
      %n = arith.negf %d : f64
      ncl.yield %n : f64
    }
    ncl.synapse_write "x", %x1 : f64
  }
}
