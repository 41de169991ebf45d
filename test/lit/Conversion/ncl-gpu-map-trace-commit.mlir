// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-gpu-map | FileCheck %s
// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-gpu-map -ncl-gpu-map | FileCheck %s
// ncl-gpu-map on a deliver that updates presynaptic traces (docs/gpu.md,
// "deliver with presynaptic traces"): where no presynaptic neuron can
// arrive twice in one list, it is split in two kernels, each of which runs
// a thread per index.

// The kernel per postsynaptic index: every thread computes each spike's
// trace values in registers from the memory before the launch (the decay,
// the increment) and stores no trace; the trace that on_pre reads back
// after writing it is the value it wrote. The commit kernel, a thread per
// spike (as on_post's): the same trace updates, stored, and no synapse loop
// nor the search for the row's part that fed it.

// CHECK-LABEL: func.func @ncl_S_deliver(
// CHECK-SAME: attributes {ncl.gpu_commit = @ncl_S_deliver_commit, ncl.gpu_launch = "per_index_commit", ncl.kernel = "deliver"}
// CHECK-NOT: ncl.gpu_serial
// CHECK: gpu.thread_id x
// CHECK: scf.if
// CHECK: scf.for
// CHECK-NOT: memref.store
// CHECK: math.exp
// CHECK-NOT: memref.store
// CHECK: %[[APRE2:.*]] = arith.addf
// CHECK-NOT: memref.store
// CHECK: scf.for
// CHECK: arith.mulf %{{.*}}, %[[APRE2]] : f64
// CHECK: memref.store
// CHECK-NEXT: } {ncl.loop = "synapses"}
// CHECK-NEXT: } {ncl.loop = "spikes"}
// CHECK-LABEL: func.func @ncl_S_deliver_commit(
// CHECK-SAME: %[[COUNT:[a-z0-9]+]]: index, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index) attributes {ncl.gpu_launch = "per_spike", ncl.kernel = "deliver"}
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[B:.*]] = gpu.block_id x
// CHECK: %[[D:.*]] = gpu.block_dim x
// CHECK: %[[BD:.*]] = arith.muli %[[B]], %[[D]] : index
// CHECK: %[[G:.*]] = arith.addi %[[BD]], %[[T]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[G]], %{{.*}} : index
// CHECK: %[[END:.*]] = arith.minsi %[[NEXT]], %[[COUNT]] : index
// CHECK: scf.for %{{.*}} = %[[G]] to %[[END]] step
// CHECK: math.exp
// CHECK-NEXT: %[[DECAYED:.*]] = arith.mulf %{{.*}} : f64
// CHECK-NEXT: memref.store %[[DECAYED]], %[[APRE:[a-z0-9]+]]{{\[}}%[[I:[a-z0-9]+]]{{\]}}
// CHECK-NEXT: memref.store %{{.*}}, %{{[a-z0-9]+}}{{\[}}%[[I]]{{\]}}
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[DECAYED]], %{{.*}} : f64
// CHECK-NEXT: memref.store %[[SUM]], %[[APRE]]{{\[}}%[[I]]{{\]}}
// CHECK-NEXT: } {ncl.loop = "spikes"}
// CHECK-NEXT: return

ncl.network @Net attributes {batch_refusal = "projection 'S' cannot be shared by batch members", dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, drive = #ncl<drive event_driven>, params = [#ncl.param<name = "tau">, #ncl.param<name = "A">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Pair",
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate", unit = "s">],
      vars = [#ncl.var<name = "w">]} init {
    %half = arith.constant 5.000000e-01 : f64
    ncl.synapse_write "w", %half : f64
  } on_pre {
    %m1 = arith.constant -1.000000e+00 : f64
    %t = ncl.time : f64
    %last = ncl.trace_read pre "_lastupdate" : f64
    %el = arith.subf %t, %last : f64
    %tau = ncl.param "tau" : f64
    %apre = ncl.trace_read pre "apre" : f64
    %b = arith.divf %m1, %tau : f64
    %z = arith.mulf %b, %el : f64
    %e = math.exp %z : f64
    %apre1 = arith.mulf %e, %apre : f64
    ncl.trace_write pre "apre", %apre1 : f64
    ncl.trace_write pre "_lastupdate", %t : f64
    %A = ncl.param "A" : f64
    %apre2 = arith.addf %apre1, %A : f64
    ncl.trace_write pre "apre", %apre2 : f64
    %again = ncl.trace_read pre "apre" : f64
    %w = ncl.synapse_read "w" : f64
    %g = arith.mulf %w, %again : f64
    ncl.post_add "v", %g : f64
  }
  ncl.schedule {
    ncl.stage connect @S
    ncl.stage deliver @S
  }
}

// -----

// A network that may run batch members (no batch_refusal): a list may hold
// b * n + i beside i, both of neuron i's traces, which the CPU updates
// twice in turn; it stays on thread 0, saying why.

// CHECK-LABEL: func.func @ncl_S_deliver(
// CHECK-SAME: ncl.gpu_launch = "whole_range"
// CHECK-SAME: ncl.gpu_serial = "it updates the presynaptic trace buffer 'S.pre.apre', of which each CPU thread keeps its own copy: every GPU thread of its postsynaptic range would apply each arriving spike to the one copy, and it cannot be split into a kernel per index and a commit: the network may run batch members (it has no batch_refusal), whose spikes of one presynaptic neuron would update its traces more than once in one list"
// CHECK-NOT: func.func @ncl_S_deliver_commit

ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, drive = #ncl<drive event_driven>, params = [#ncl.param<name = "tau">, #ncl.param<name = "A">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Pair",
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate", unit = "s">],
      vars = [#ncl.var<name = "w">]} init {
    %half = arith.constant 5.000000e-01 : f64
    ncl.synapse_write "w", %half : f64
  } on_pre {
    %m1 = arith.constant -1.000000e+00 : f64
    %t = ncl.time : f64
    %last = ncl.trace_read pre "_lastupdate" : f64
    %el = arith.subf %t, %last : f64
    %tau = ncl.param "tau" : f64
    %apre = ncl.trace_read pre "apre" : f64
    %b = arith.divf %m1, %tau : f64
    %z = arith.mulf %b, %el : f64
    %e = math.exp %z : f64
    %apre1 = arith.mulf %e, %apre : f64
    ncl.trace_write pre "apre", %apre1 : f64
    ncl.trace_write pre "_lastupdate", %t : f64
    %A = ncl.param "A" : f64
    %apre2 = arith.addf %apre1, %A : f64
    ncl.trace_write pre "apre", %apre2 : f64
    %again = ncl.trace_read pre "apre" : f64
    %w = ncl.synapse_read "w" : f64
    %g = arith.mulf %w, %again : f64
    ncl.post_add "v", %g : f64
  }
  ncl.schedule {
    ncl.stage connect @S
    ncl.stage deliver @S
  }
}
