// RUN: ncl-opt %s -ncl-integrate -split-input-file -verify-diagnostics | FileCheck %s

// Traces every synapse of a neuron shares: pair STDP's apre and apost start
// at 0, decay by x' = -x/tau (coefficients from parameters only), and only
// on_pre (apre) or on_post (apost) changes them, by a parameter. So every
// synapse of a presynaptic neuron holds the same apre, and of a
// postsynaptic neuron the same apost: ncl-integrate keeps them once per
// neuron (pre_traces, post_traces, each with its neuron's `_lastupdate`),
// and w, which differs between synapses, per synapse. Each block advances
// its own side's trace from the neuron's last event and writes it back
// with the time; it reads the other side's trace advanced to t without
// writing it, through an ncl.advance_traces (whose values ncl-to-loops
// computes once per neuron and step, in the stages added before the block's). Their initial values go (the runtime zeroes traces), and no
// per-synapse `_lastupdate` is needed.

// CHECK-LABEL: ncl.projection @S
// CHECK-SAME: drive = #ncl<drive event_driven>
// CHECK-SAME: post_traces = [#ncl.var<name = "apost">, #ncl.var<name = "_lastupdate", unit = "s"
// CHECK-SAME: pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate", unit = "s"
// CHECK-SAME: vars = [#ncl.var<name = "w">]}
// CHECK: init {
// CHECK-NOT: "apre"
// CHECK-NOT: "apost"
// CHECK-NOT: _lastupdate
// CHECK: } on_pre {
// CHECK:   %[[T:.*]] = ncl.time : f64
// CHECK:   %[[LAST:.*]] = ncl.trace_read pre "_lastupdate" : f64
// CHECK:   %[[EL:.*]] = arith.subf %[[T]], %[[LAST]] : f64
// CHECK:   %[[APRE:.*]] = ncl.trace_read pre "apre" : f64
// CHECK:   %[[E:.*]] = math.exp
// CHECK:   %[[APRE1:.*]] = arith.mulf %[[E]], %[[APRE]] : f64
// CHECK:   ncl.trace_write pre "apre", %[[APRE1]] : f64
// CHECK:   ncl.trace_write pre "_lastupdate", %[[T]] : f64
// The postsynaptic trace, advanced and only read.
// CHECK:   %[[APOST1:.*]] = ncl.advance_traces post ["apost"] {
// CHECK:     %[[PT:.*]] = ncl.time : f64
// CHECK:     %[[PLAST:.*]] = ncl.trace_read post "_lastupdate" : f64
// CHECK:     %[[PEL:.*]] = arith.subf %[[PT]], %[[PLAST]] : f64
// CHECK:     %[[APOST:.*]] = ncl.trace_read post "apost" : f64
// CHECK:     %[[PE:.*]] = math.exp
// CHECK:     %[[APOSTT:.*]] = arith.mulf %[[PE]], %[[APOST]] : f64
// CHECK-NOT: ncl.trace_write
// CHECK:     ncl.advanced %[[APOSTT]] : f64
// CHECK:   } : f64
// CHECK-NOT: ncl.trace_write post
// CHECK:   %[[W:.*]] = ncl.synapse_read "w" : f64
// CHECK:   %[[APRE2:.*]] = arith.addf %[[APRE1]], %{{.*}} : f64
// CHECK:   %[[W1:.*]] = arith.addf %[[W]], %[[APOST1]] : f64
// CHECK:   ncl.trace_write pre "apre", %[[APRE2]] : f64
// CHECK:   ncl.synapse_write "w", %[[W1]] : f64
// CHECK: } on_post {
// CHECK:   %[[APRET:.*]] = ncl.advance_traces pre ["apre"] {
// CHECK:     ncl.trace_read pre "apre" : f64
// CHECK:     ncl.advanced
// CHECK:   } : f64
// CHECK-NOT: ncl.trace_write pre
// CHECK:   ncl.trace_write post "apost"
// CHECK:   ncl.trace_write post "_lastupdate"
// CHECK:   arith.addf %{{.*}}, %[[APRET]] : f64
// CHECK:   ncl.trace_write post "apost"
// CHECK-NOT: _lastupdate
// CHECK: }
// The other side's traces are computed once per neuron in the steps that
// read them: by a stage before the block's own.
// CHECK: ncl.schedule {
// CHECK:   ncl.stage advance_post_traces @S
// CHECK-NEXT:   ncl.stage deliver @S
// CHECK-NEXT:   ncl.stage advance_pre_traces @S
// CHECK-NEXT:   ncl.stage on_post @S
// CHECK-NOT: synapse_step
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, params = [#ncl.param<name = "tau">, #ncl.param<name = "A">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Pair",
      vars = [#ncl.var<name = "w">, #ncl.var<name = "apre">, #ncl.var<name = "apost">]} init {
    %half = arith.constant 5.000000e-01 : f64
    ncl.synapse_write "w", %half : f64
    %zero = arith.constant 0.000000e+00 : f64
    ncl.synapse_write "apre", %zero : f64
    ncl.synapse_write "apost", %zero : f64
  } on_pre {
    %A = ncl.param "A" : f64
    %w = ncl.synapse_read "w" : f64
    %apre = ncl.synapse_read "apre" : f64
    %apost = ncl.synapse_read "apost" : f64
    ncl.post_add "v", %w : f64
    %apre1 = arith.addf %apre, %A : f64
    %w1 = arith.addf %w, %apost : f64
    ncl.synapse_write "apre", %apre1 : f64
    ncl.synapse_write "w", %w1 : f64
  } on_post {
    %A = ncl.param "A" : f64
    %w = ncl.synapse_read "w" : f64
    %apre = ncl.synapse_read "apre" : f64
    %apost = ncl.synapse_read "apost" : f64
    %apost1 = arith.subf %apost, %A : f64
    %w1 = arith.addf %w, %apre : f64
    ncl.synapse_write "apost", %apost1 : f64
    ncl.synapse_write "w", %w1 : f64
  } dynamics {
    %tau = ncl.param "tau" : f64
    %apre = ncl.synapse_read "apre" : f64
    %apost = ncl.synapse_read "apost" : f64
    // expected-remark @below {{dapre/dt in projection 'S': event-driven}}
    // expected-remark @below {{apre in projection 'S': kept once per presynaptic neuron, not per synapse (it starts at 0 and only on_pre changes it, by an amount that depends on nothing of the synapse, so all of a neuron's synapses hold the same value)}}
    // expected-remark @below {{apre in projection 'S': on_post reads it at every synapse}}
    %apre1 = ncl.ode "apre"(%apre) : f64 {
    ^bb0(%x: f64):
      %n = arith.negf %x : f64
      %d = arith.divf %n, %tau : f64
      ncl.yield %d : f64
    }
    // expected-remark @below {{dapost/dt in projection 'S': event-driven}}
    // expected-remark @below {{apost in projection 'S': kept once per postsynaptic neuron}}
    // expected-remark @below {{apost in projection 'S': on_pre reads it at every synapse, so its value at each step's time is computed once per neuron}}
    %apost1 = ncl.ode "apost"(%apost) : f64 {
    ^bb0(%x: f64):
      %n = arith.negf %x : f64
      %d = arith.divf %n, %tau : f64
      ncl.yield %d : f64
    }
    ncl.synapse_write "apre", %apre1 : f64
    ncl.synapse_write "apost", %apost1 : f64
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

// What keeps a variable per synapse: y starts at 0 but grows by w, which
// differs between synapses; z grows by a constant but starts at a random
// value; q is changed by both blocks. All three stay per synapse, with the
// synapse's `_lastupdate`, and nothing is kept per neuron.

// CHECK-LABEL: ncl.projection @Kept
// CHECK-NOT: pre_traces
// CHECK-NOT: post_traces
// CHECK-SAME: vars = [#ncl.var<name = "w">, #ncl.var<name = "y">, #ncl.var<name = "z">, #ncl.var<name = "q">, #ncl.var<name = "_lastupdate"
// CHECK-NOT: ncl.trace_
// CHECK: ncl.schedule
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @Kept {connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "tau">], post = @P, post_range = array<i64: 0, 4>,
      pre = @P, pre_range = array<i64: 0, 4>, synapse = "Kept",
      vars = [#ncl.var<name = "w">, #ncl.var<name = "y">, #ncl.var<name = "z">, #ncl.var<name = "q">]} init {
    %zero = arith.constant 0.000000e+00 : f64
    ncl.synapse_write "y", %zero : f64
    %r = ncl.rand stream 0 : f64
    ncl.synapse_write "z", %r : f64
    ncl.synapse_write "q", %zero : f64
  } on_pre {
    %w = ncl.synapse_read "w" : f64
    %y = ncl.synapse_read "y" : f64
    %z = ncl.synapse_read "z" : f64
    %q = ncl.synapse_read "q" : f64
    %one = arith.constant 1.000000e+00 : f64
    %y1 = arith.addf %y, %w : f64
    %z1 = arith.addf %z, %one : f64
    %q1 = arith.addf %q, %one : f64
    ncl.synapse_write "y", %y1 : f64
    ncl.synapse_write "z", %z1 : f64
    ncl.synapse_write "q", %q1 : f64
  } on_post {
    %q = ncl.synapse_read "q" : f64
    %one = arith.constant 1.000000e+00 : f64
    %q1 = arith.subf %q, %one : f64
    ncl.synapse_write "q", %q1 : f64
  } dynamics {
    %tau = ncl.param "tau" : f64
    %y = ncl.synapse_read "y" : f64
    %z = ncl.synapse_read "z" : f64
    %q = ncl.synapse_read "q" : f64
    // expected-remark @below {{dy/dt in projection 'Kept': event-driven}}
    %y1 = ncl.ode "y"(%y) : f64 {
    ^bb0(%x: f64):
      %d = arith.divf %x, %tau : f64
      ncl.yield %d : f64
    }
    // expected-remark @below {{dz/dt in projection 'Kept': event-driven}}
    %z1 = ncl.ode "z"(%z) : f64 {
    ^bb0(%x: f64):
      %d = arith.divf %x, %tau : f64
      ncl.yield %d : f64
    }
    // expected-remark @below {{dq/dt in projection 'Kept': event-driven}}
    %q1 = ncl.ode "q"(%q) : f64 {
    ^bb0(%x: f64):
      %d = arith.divf %x, %tau : f64
      ncl.yield %d : f64
    }
    ncl.synapse_write "y", %y1 : f64
    ncl.synapse_write "z", %z1 : f64
    ncl.synapse_write "q", %q1 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage connect @Kept
    ncl.stage deliver @Kept
    ncl.stage on_post @Kept
    ncl.stage synapse_step @Kept
    ncl.stage step @P
  }
}
