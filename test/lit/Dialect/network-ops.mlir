// RUN: ncl-opt %s | ncl-opt | FileCheck %s
// Round trip of the network IR of projections through the printer and
// parser: ncl.projection with its #ncl.connect rule, init and on_pre
// regions, every synapse op, a population's receives / emits_spikes and
// ncl.synaptic_input, the projection roles and extents of the buffer table,
// and the connect and deliver stages.

// CHECK-LABEL: ncl.network @Net
// CHECK-SAME: buffers = [
// CHECK-SAME: #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons, population = @P, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.ge", role = state, element = f64, extent = neurons, population = @Q, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.u", role = state, element = f64, extent = neurons, population = @Q, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.spike_step", role = spike_step, element = i64, extent = spike_capacity, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.spike_index", role = spike_index, element = i64, extent = spike_capacity, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.spike_channel", role = spike_channel, element = i32, extent = spike_capacity, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.ge.in", role = synaptic_input, element = f64, extent = neurons, population = @Q, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.I.in", role = synaptic_input, element = f64, extent = neurons, population = @Q, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed, population = @C, index = -1, count = 1>,
// CHECK-SAME: #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses, population = @C, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.x", role = synapse_state, element = f64, extent = synapses, population = @C, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows, population = @C, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses, population = @C, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.params", role = params, element = f64, extent = fixed, population = @D, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.s", role = synapse_state, element = f64, extent = synapses, population = @D, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.row_start", role = row_start, element = i64, extent = rows, population = @D, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.post_index", role = post_index, element = i32, extent = synapses, population = @D, index = -1, count = 0>]
// CHECK-SAME: dt = 1.000000e-04 : f64
// CHECK-SAME: real = f64

// CHECK: ncl.population @P {emits_spikes, neuron = "Src"
// CHECK: ncl.population @Q {emits_spikes, neuron = "Dst", params = [], receives = ["ge", "I"], size = 3 : i64
// CHECK: } step {
// CHECK:   %[[GE:.*]] = ncl.state_read "ge" : f64
// CHECK:   %[[IN:.*]] = ncl.synaptic_input "ge" : f64
// CHECK:   %[[I:.*]] = ncl.synaptic_input "I" : f64
// CHECK:   arith.addf %[[GE]], %[[IN]] : f64
// CHECK:   ncl.state_write "u", %[[I]] : f64

// CHECK: ncl.projection @C {connect = #ncl.connect<rule = fixed_probability, p = 5.000000e-01 : f64, n = 0, autapses = false, multapses = true>, delay = 1.500000e-03 : f64, params = [#ncl.param<name = "we", value = 2.000000e+00 : f64>], post = @Q, post_range = array<i64: 1, 3>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Exc", vars = [#ncl.var<name = "w">, #ncl.var<name = "x">]} init {
// CHECK-NEXT:   %[[WE:.*]] = ncl.param "we" : f64
// CHECK-NEXT:   %[[PI:.*]] = ncl.pre_index : f64
// CHECK-NEXT:   %[[PJ:.*]] = ncl.post_index : f64
// CHECK-NEXT:   %[[U:.*]] = ncl.rand stream 1 : f64
// CHECK-NEXT:   %[[IJ:.*]] = arith.addf %[[PI]], %[[PJ]] : f64
// CHECK-NEXT:   %[[W:.*]] = arith.mulf %[[WE]], %[[U]] : f64
// CHECK-NEXT:   ncl.synapse_write "w", %[[W]] : f64
// CHECK-NEXT:   ncl.synapse_write "x", %[[IJ]] : f64
// CHECK-NEXT: } on_pre {
// CHECK-NEXT:   %[[W:.*]] = ncl.synapse_read "w" : f64
// CHECK-NEXT:   %[[VPRE:.*]] = ncl.pre_read "v" : f64
// CHECK-NEXT:   %[[UPOST:.*]] = ncl.post_read "u" : f64
// CHECK-NEXT:   %[[A:.*]] = arith.mulf %[[W]], %[[VPRE]] : f64
// CHECK-NEXT:   ncl.post_add "ge", %[[A]] : f64
// CHECK-NEXT:   ncl.post_add "I", %[[UPOST]] : f64
// CHECK-NEXT:   %[[T:.*]] = ncl.time : f64
// CHECK-NEXT:   %[[DT:.*]] = ncl.dt : f64
// CHECK-NEXT:   %[[X:.*]] = arith.addf %[[T]], %[[DT]] : f64
// CHECK-NEXT:   ncl.synapse_write "x", %[[X]] : f64
// CHECK-NEXT: }
// CHECK: ncl.projection @D {connect = #ncl.connect<rule = fixed_indegree, p = 0.000000e+00 : f64, n = 2, autapses = false, multapses = false>, delay = 0.000000e+00 : f64, params = [], post = @Q, post_range = array<i64: 0, 3>, pre = @Q, pre_range = array<i64: 0, 3>, synapse = "Inh", vars = [#ncl.var<name = "s">]} init {
// CHECK: } on_pre {
// CHECK:   ncl.post_add "I", %{{.*}} : f64
// CHECK: }
// CHECK: ncl.schedule {
// CHECK-NEXT: ncl.stage init @P
// CHECK-NEXT: ncl.stage init @Q
// CHECK-NEXT: ncl.stage connect @C
// CHECK-NEXT: ncl.stage connect @D
// CHECK-NEXT: ncl.stage deliver @C
// CHECK-NEXT: ncl.stage deliver @D
// CHECK-NEXT: ncl.stage step @P
// CHECK-NEXT: ncl.stage step @Q
// CHECK-NEXT: }
ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @P, index = -1, count = 0>,
               #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.ge", role = state, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.u", role = state, element = f64, extent = neurons,
                           population = @Q, index = 1, count = 0>,
               #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.spike_step", role = spike_step, element = i64, extent = spike_capacity,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.spike_index", role = spike_index, element = i64, extent = spike_capacity,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.spike_channel", role = spike_channel, element = i32, extent = spike_capacity,
                           population = @Q, index = -1, count = 0>,
               #ncl.buffer<name = "Q.ge.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 0, count = 0>,
               #ncl.buffer<name = "Q.I.in", role = synaptic_input, element = f64, extent = neurons,
                           population = @Q, index = 1, count = 0>,
               #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed,
                           population = @C, index = -1, count = 1>,
               #ncl.buffer<name = "C.w", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 0, count = 0>,
               #ncl.buffer<name = "C.x", role = synapse_state, element = f64, extent = synapses,
                           population = @C, index = 1, count = 0>,
               #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses,
                           population = @C, index = -1, count = 0>,
               #ncl.buffer<name = "D.params", role = params, element = f64, extent = fixed,
                           population = @D, index = -1, count = 0>,
               #ncl.buffer<name = "D.s", role = synapse_state, element = f64, extent = synapses,
                           population = @D, index = 0, count = 0>,
               #ncl.buffer<name = "D.row_start", role = row_start, element = i64, extent = rows,
                           population = @D, index = -1, count = 0>,
               #ncl.buffer<name = "D.post_index", role = post_index, element = i32, extent = synapses,
                           population = @D, index = -1, count = 0>]} {
  ncl.population @P {neuron = "Src", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "v">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "v", %z : f64
  } step {
    %v = ncl.state_read "v" : f64
    ncl.state_write "v", %v : f64
  }
  ncl.population @Q {neuron = "Dst", size = 3 : i64, emits_spikes, receives = ["ge", "I"],
      params = [], vars = [#ncl.var<name = "ge">, #ncl.var<name = "u">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "ge", %z : f64
    ncl.state_write "u", %z : f64
  } step {
    %ge = ncl.state_read "ge" : f64
    %in = ncl.synaptic_input "ge" : f64
    %i = ncl.synaptic_input "I" : f64
    %ge1 = arith.addf %ge, %in : f64
    ncl.state_write "ge", %ge1 : f64
    ncl.state_write "u", %i : f64
  }
  ncl.projection @C {synapse = "Exc", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 1, 3>,
      connect = #ncl.connect<rule = fixed_probability, p = 5.0e-01 : f64, n = 0,
                             autapses = false, multapses = true>,
      delay = 1.5e-03 : f64,
      params = [#ncl.param<name = "we", value = 2.0 : f64>],
      vars = [#ncl.var<name = "w">, #ncl.var<name = "x">]} init {
    %we = ncl.param "we" : f64
    %i = ncl.pre_index : f64
    %j = ncl.post_index : f64
    %u = ncl.rand stream 1 : f64
    %ij = arith.addf %i, %j : f64
    %w = arith.mulf %we, %u : f64
    ncl.synapse_write "w", %w : f64
    ncl.synapse_write "x", %ij : f64
  } on_pre {
    %w = ncl.synapse_read "w" : f64
    %vpre = ncl.pre_read "v" : f64
    %upost = ncl.post_read "u" : f64
    %a = arith.mulf %w, %vpre : f64
    ncl.post_add "ge", %a : f64
    ncl.post_add "I", %upost : f64
    %t = ncl.time : f64
    %dt = ncl.dt : f64
    %x = arith.addf %t, %dt : f64
    ncl.synapse_write "x", %x : f64
  }
  ncl.projection @D {synapse = "Inh", pre = @Q, post = @Q,
      pre_range = array<i64: 0, 3>, post_range = array<i64: 0, 3>,
      connect = #ncl.connect<rule = fixed_indegree, p = 0.0 : f64, n = 2,
                             autapses = false, multapses = false>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "s">]} init {
    %z = arith.constant 0.0 : f64
    ncl.synapse_write "s", %z : f64
  } on_pre {
    %one = arith.constant 1.0 : f64
    ncl.post_add "I", %one : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage init @Q
    ncl.stage connect @C
    ncl.stage connect @D
    ncl.stage deliver @C
    ncl.stage deliver @D
    ncl.stage step @P
    ncl.stage step @Q
  }
}

// Once lowered, the regions are empty, the projection only describes, and
// the connect and deliver stages name their kernels. The other connect
// rules.

// CHECK-LABEL: ncl.network @Lowered
// CHECK: ncl.projection @A2A {connect = #ncl.connect<rule = all_to_all, p = 0.000000e+00 : f64, n = 0, autapses = true, multapses = true>
// CHECK-SAME: init {
// CHECK-NEXT: } on_pre {
// CHECK-NEXT: }
// CHECK: ncl.projection @O2O {connect = #ncl.connect<rule = one_to_one,
// CHECK: ncl.projection @Out {connect = #ncl.connect<rule = fixed_outdegree, p = 0.000000e+00 : f64, n = 3,
// CHECK: ncl.projection @Total {connect = #ncl.connect<rule = fixed_total, p = 0.000000e+00 : f64, n = 10,
// CHECK: ncl.schedule {
// CHECK-NEXT: ncl.stage init @P kernel @ncl_P_init {args = [0, 1, "begin", "end", "size", "seed", "dt"]}
// CHECK-NEXT: ncl.stage connect @A2A kernel @ncl_A2A_connect {args = [5, 6, 7, "begin", "end", "seed", "dt"]}
// CHECK-NEXT: ncl.stage deliver @A2A kernel @ncl_A2A_deliver {args = [5, 6, 7, "begin", "end", "first_step", "seed", "dt", "spikes", "num_spikes"]}
// CHECK-NEXT: ncl.stage step @P
ncl.network @Lowered attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @A2A {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.projection @O2O {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 2>, post_range = array<i64: 2, 4>,
      connect = #ncl.connect<rule = one_to_one, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.projection @Out {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_outdegree, p = 0.0 : f64, n = 3, autapses = false, multapses = false>,
      delay = 2.0e-4 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.projection @Total {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = fixed_total, p = 0.0 : f64, n = 10, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
  ncl.schedule {
    ncl.stage init @P kernel @ncl_P_init {args = [0, 1, "begin", "end", "size", "seed", "dt"]}
    ncl.stage connect @A2A kernel @ncl_A2A_connect {args = [5, 6, 7, "begin", "end", "seed", "dt"]}
    ncl.stage deliver @A2A kernel @ncl_A2A_deliver {args = [5, 6, 7, "begin", "end", "first_step", "seed", "dt", "spikes", "num_spikes"]}
    ncl.stage step @P
  }
}

// A spike generator and a timed input round-trip.
// CHECK-LABEL: ncl.network @Sources
// CHECK: ncl.population @G {data_dir = "/models", emits_spikes, neuron = "spike_generator", params = [], size = 3 : i64, spike_files = ["t.npy", "i.npy"], vars = []}
// CHECK: timed_inputs = [#ncl.timed_input<input = "I", file = "drive.npy", interval = 1.000000e-03 : f64, scale = 1.000000e-09 : f64>]
// CHECK: ncl.timed_input "I" : f64
ncl.network @Sources attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @G {neuron = "spike_generator", size = 3 : i64, params = [], vars = [],
      emits_spikes, data_dir = "/models", spike_files = ["t.npy", "i.npy"]} init {
  } step {
  }
  ncl.population @P {neuron = "N", size = 3 : i64, params = [], vars = [#ncl.var<name = "v">],
      timed_inputs = [#ncl.timed_input<input = "I", file = "drive.npy",
                                       interval = 1.0e-3 : f64, scale = 1.0e-9 : f64>]} init {
    %zero = arith.constant 0.0 : f64
    ncl.state_write "v", %zero : f64
  } step {
    %i = ncl.timed_input "I" : f64
    ncl.state_write "v", %i : f64
  }
}

// Traces kept per neuron, and their reads and writes, round-trip.
// CHECK-LABEL: ncl.network @Traces
// CHECK: post_traces = [#ncl.var<name = "apost">, #ncl.var<name = "_lastupdate">]
// CHECK-SAME: pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">]
// CHECK: %[[A:.*]] = ncl.trace_read pre "apre" : f64
// CHECK: ncl.trace_write pre "apre", %[[A]] : f64
// CHECK: ncl.trace_read post "apost" : f64
// CHECK: ncl.trace_write post "_lastupdate"
// CHECK: %[[NOW:.*]] = ncl.advance_traces pre ["apre"] {
// CHECK:   %[[X:.*]] = ncl.trace_read pre "apre" : f64
// CHECK:   ncl.advanced %[[X]] : f64
// CHECK: } : f64
// CHECK: ncl.trace_read pre "apre" now : f64
ncl.network @Traces attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 4 : i64, emits_spikes, params = [], vars = []} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">],
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate">],
      post_traces = [#ncl.var<name = "apost">, #ncl.var<name = "_lastupdate">]} init {
  } on_pre {
    %a = ncl.trace_read pre "apre" : f64
    ncl.trace_write pre "apre", %a : f64
  } on_post {
    %b = ncl.trace_read post "apost" : f64
    %t = ncl.time : f64
    ncl.trace_write post "_lastupdate", %t : f64
    %n = ncl.advance_traces pre ["apre"] {
      %x = ncl.trace_read pre "apre" : f64
      ncl.advanced %x : f64
    } : f64
    %m = ncl.trace_read pre "apre" now : f64
    %s = arith.addf %n, %m : f64
    %w = arith.addf %b, %s : f64
    ncl.synapse_write "w", %w : f64
  }
}
