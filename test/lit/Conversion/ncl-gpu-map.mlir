// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-gpu-map | FileCheck %s
// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -ncl-gpu-map -ncl-gpu-map | FileCheck %s
// ncl-gpu-map maps the target-independent kernels to GPU threads
// (docs/gpu.md): every function moves into gpu.module @ncl_kernels; a
// per-index stage's kernel covers [begin + g, begin + g + 1) on the thread
// with global index g = block_id * block_dim + thread_id and does nothing
// past `end`; what each op computes is unchanged. A second run changes
// nothing (the second RUN line).

// Recorded LIF: the init kernel, which the CUDA backend runs on the host,
// is erased (the stage keeps its name); the update kernel is per index. It
// no longer resets the spike count (a launch's threads share it; the
// runtime zeroes it), still adds to it atomically, and each thread runs
// the steps loop for its one neuron: its capacity check adds
// end - begin = 1.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NOT: func.func @ncl_P_init
// CHECK: gpu.module @ncl_kernels {
// CHECK-NOT: func.func @ncl_P_init
// CHECK-LABEL: func.func @ncl_P_update(
// CHECK-SAME: %[[BEGIN:[^:]*]]: index, %[[END:[^:]*]]: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %[[NSTEPS:[^:]*]]: index, %[[CAP:[^:]*]]: index, %[[OUT:[^:]*]]: memref<2xi64>, %{{[^:]*}}: f64)
// CHECK-SAME: ncl.gpu_launch = "per_index"
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[BID:.*]] = gpu.block_id x
// CHECK: %[[BDIM:.*]] = gpu.block_dim x
// CHECK: %[[BASE:.*]] = arith.muli %[[BID]], %[[BDIM]] : index
// CHECK: %[[G:.*]] = arith.addi %[[BASE]], %[[TID]] : index
// CHECK: %[[FIRST:.*]] = arith.addi %[[BEGIN]], %[[G]] : index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[FIRST]], %[[END]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[FIRST]], %{{.*}} : index
// CHECK: scf.if %[[IN]] {
// CHECK-NOT: memref.store %{{.*}}, %[[OUT]][%c0{{.*}}]
// CHECK:   %[[WIDTH:.*]] = arith.subi %[[NEXT]], %[[FIRST]] : index
// CHECK:   scf.while
// CHECK:     arith.cmpi slt, %{{.*}}, %[[NSTEPS]]
// CHECK:     %[[COUNT:.*]] = memref.load %[[OUT]]
// CHECK:     %[[C:.*]] = arith.index_cast %[[COUNT]] : i64 to index
// CHECK:     %[[NEED:.*]] = arith.addi %[[C]], %[[WIDTH]] : index
// CHECK:     arith.cmpi sle, %[[NEED]], %[[CAP]] : index
// CHECK:   } do {
// CHECK:     scf.parallel (%{{.*}}) = (%[[FIRST]]) to (%[[NEXT]])
// CHECK:     } {ncl.loop = "neuron-update"}
// CHECK:     scf.parallel (%{{.*}}) = (%[[FIRST]]) to (%[[NEXT]])
// CHECK:       memref.atomic_rmw addi %{{.*}}, %[[OUT]]
// CHECK:     } {ncl.loop = "neurons"}
// CHECK:   } attributes {ncl.loop = "steps"}
// CHECK:   memref.store %{{.*}}, %[[OUT]][%{{.*}}] : memref<2xi64>
// CHECK-NEXT: }
// CHECK-NEXT: return
// CHECK-NOT: func.func
// CHECK: ncl.network @N
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "LIF", size = 1 : i64, record_spikes,
        params = [#ncl.param<name = "El">, #ncl.param<name = "b">, #ncl.param<name = "Vt">],
        vars = [#ncl.var<name = "v">]} init {
    %el = ncl.param "El" : f64
    ncl.state_write "v", %el : f64
  } step {
    %v = ncl.state_read "v" : f64
    %el = ncl.param "El" : f64
    %b = ncl.param "b" : f64
    %vt = ncl.param "Vt" : f64
    %dt = ncl.dt : f64
    %e = ncl.exp_euler %v, %el, %b step %dt : f64
    %c = arith.cmpf ogt, %e, %vt : f64
    %f = ncl.threshold %c
    %v2 = ncl.reset %f, %e, %el : f64
    ncl.state_write "v", %v2 : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage step @P
  }
}

// -----

// A k-WTA's selection is a whole-range stage: thread 0 runs the CPU kernel
// over the whole population (the body under g == 0), whatever the launch.

// CHECK-LABEL: func.func @ncl_L_kwta(
// CHECK-SAME: ncl.gpu_launch = "whole_range"
// CHECK: %[[G:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[G]], %[[ZERO]] : index
// CHECK: scf.if %[[FIRST]] {
// CHECK:   scf.for
// CHECK: return

ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @L {neuron = "Unit", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.kwta @L "x" {keep = 3 : i64}
  ncl.schedule {
    ncl.stage kwta @L
  }
}

// -----

// Per-synapse delays: the deliver_synapses kernel takes the list of
// synapses that arrive now and never reads begin and end (each CPU thread
// gets its own list). It writes only its synapses' postsynaptic neurons'
// input, so a thread per postsynaptic neuron j = begin + g applies the
// entries that end at j, in the list's order: the runtime sorts the list by
// postsynaptic neuron (stably) and puts the starts of its buckets of 32
// neurons first (NCL_GPU_LAUNCH_PER_TARGET_BUCKETS), and the thread finds
// its run by two binary searches on post_index[list[e]], for j and j + 1,
// in its bucket's places [list[g / 32], list[g / 32 + 1]). The kernel reads
// the list through a view of its B + 1 + count places, B = ceil((end -
// begin) / 32).

// CHECK-LABEL: func.func @ncl_C_deliver(
// CHECK-SAME: %[[POST:[a-z0-9]+]]: memref<?xi32>
// CHECK-SAME: %[[BEGIN:[a-z0-9]+]]: index, %[[END:[a-z0-9]+]]: index,
// CHECK-SAME: %[[LIST:[a-z0-9]+]]: memref<?xi64>, %[[COUNT:[a-z0-9]+]]: index)
// CHECK-SAME: ncl.gpu_launch = "per_target_buckets"
// CHECK-NOT: ncl.gpu_serial
// CHECK: %[[G:.*]] = arith.addi %{{.*}}, %thread_id_x : index
// CHECK: %[[J:.*]] = arith.addi %[[BEGIN]], %[[G]] : index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[J]], %[[END]] : index
// CHECK: scf.if %[[IN]] {
// CHECK:   %[[C32:.*]] = arith.constant 32 : index
// CHECK:   %[[RANGE:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK:   %[[B:.*]] = arith.ceildivui %[[RANGE]], %[[C32]] : index
// CHECK:   %[[B1:.*]] = arith.addi %[[B]], %{{c1.*}} : index
// CHECK:   %[[SIZE:.*]] = arith.addi %[[B1]], %[[COUNT]] : index
// CHECK:   %[[WHOLE:.*]] = memref.reinterpret_cast %[[LIST]] to offset: [0], sizes: [%[[SIZE]]], strides: [1]
// CHECK:   %[[K:.*]] = arith.divui %[[G]], %[[C32]] : index
// CHECK:   %[[LO:.*]] = memref.load %[[WHOLE]][%[[K]]]
// CHECK:   %[[LOI:.*]] = arith.index_cast %[[LO]] : i64 to index
// CHECK:   %[[K1:.*]] = arith.addi %[[K]], %{{c1.*}} : index
// CHECK:   %[[HI:.*]] = memref.load %[[WHOLE]][%[[K1]]]
// CHECK:   %[[HII:.*]] = arith.index_cast %[[HI]] : i64 to index
// CHECK:   %[[FIRST:.*]]:2 = scf.while ({{.*}} = %[[LOI]], {{.*}} = %[[HII]])
// CHECK:     %[[MID:.*]] = arith.shrui
// CHECK:     %[[SYN:.*]] = memref.load %[[WHOLE]][%[[MID]]]
// CHECK:     %[[P:.*]] = memref.load %[[POST]][%{{.*}}]
// CHECK:     arith.cmpi slt, %{{.*}}, %[[J]] : index
// The end of the neuron's entries is galloped from their start (probes at
// first, first + 1, first + 3, ...: one where the neuron has none), then
// searched between the last two probes.
// CHECK:   %[[NEXT:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK:   %[[GALLOP:.*]]:4 = scf.while ({{.*}} = %[[FIRST]]#0, {{.*}} = %[[HII]], %[[STEP:[^ ]*]] = %{{.*}}, {{.*}} = %false)
// CHECK:     memref.load %[[WHOLE]]
// CHECK:     memref.load %[[POST]]
// CHECK:     arith.cmpi slt, %{{.*}}, %[[NEXT]] : index
// CHECK:     arith.shli %[[STEP]], %{{.*}} : index
// CHECK:   %[[LAST:.*]]:2 = scf.while ({{.*}} = %[[GALLOP]]#0, {{.*}} = %[[GALLOP]]#1)
// CHECK:     arith.cmpi slt, %{{.*}}, %[[NEXT]] : index
// CHECK:   scf.for %{{.*}} = %[[FIRST]]#0 to %[[LAST]]#0 step
// CHECK: return

ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Clock", size = 4 : i64, emits_spikes,
      params = [], vars = [#ncl.var<name = "x">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %one = arith.constant 1.0 : f64
    %x1 = arith.addf %x, %one : f64
    %lim = arith.constant 100.0 : f64
    %c = arith.cmpf oge, %x1, %lim : f64
    %f = ncl.threshold %c
    %z = arith.constant 0.0 : f64
    %x2 = ncl.reset %f, %x1, %z : f64
    ncl.state_write "x", %x2 : f64
  }
  ncl.population @Q {neuron = "Acc", size = 3 : i64, receives = ["g"],
      params = [], vars = [#ncl.var<name = "g">]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "g", %z : f64
  } step {
    %g = ncl.state_read "g" : f64
    %in = ncl.synaptic_input "g" : f64
    %g1 = arith.addf %g, %in : f64
    ncl.state_write "g", %g1 : f64
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 3>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [], per_synapse_delay} init {
    %j = ncl.post_index : f64
    %step = arith.constant 1.0e-3 : f64
    %d = arith.mulf %j, %step : f64
    ncl.synapse_delay %d : f64
  } on_pre {
    %i = ncl.pre_index : f64
    ncl.post_add "g", %i : f64
  }
  ncl.schedule {
    ncl.stage init @P
    ncl.stage init @Q
    ncl.stage connect @C
    ncl.stage deliver_synapses @C
    ncl.stage step @P
    ncl.stage step @Q
  }
}

// -----

// Traces kept per neuron: connect runs on the host (no GPU kernel).
// deliver updates the presynaptic trace of each arriving spike, a
// buffer each CPU thread keeps a copy of; per index, every thread would
// update the one copy, and this network may run batch members, so it runs
// on thread 0 (split in two otherwise: ncl-gpu-map-trace-commit.mlir). on_post's work is one loop
// over the runtime's list of postsynaptic spikes, and it writes only what
// an entry owns (the synapses of its neuron's column, its neuron's
// postsynaptic traces): a thread per entry, thread g running the loop over
// [g, min(g + 1, num_spikes)).

// CHECK-NOT: func.func @ncl_S_connect(
// CHECK-LABEL: func.func @ncl_S_deliver(
// CHECK-SAME: ncl.gpu_launch = "whole_range"
// CHECK-SAME: ncl.gpu_serial = "it updates the presynaptic trace buffer 'S.pre.apre', of which each CPU thread keeps its own copy: every GPU thread of its postsynaptic range would apply each arriving spike to the one copy, and it cannot be split into a kernel per index and a commit: the network may run batch members (it has no batch_refusal), whose spikes of one presynaptic neuron would update its traces more than once in one list"
// CHECK-LABEL: func.func @ncl_S_on_post(
// CHECK-SAME: %[[COUNT:[a-z0-9]+]]: index) attributes {ncl.gpu_launch = "per_spike", ncl.kernel = "on_post"}
// CHECK-NOT: ncl.gpu_serial
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[B:.*]] = gpu.block_id x
// CHECK: %[[D:.*]] = gpu.block_dim x
// CHECK: %[[BD:.*]] = arith.muli %[[B]], %[[D]] : index
// CHECK: %[[G:.*]] = arith.addi %[[BD]], %[[T]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[G]], %{{.*}} : index
// CHECK: %[[LAST:.*]] = arith.minsi %[[NEXT]], %[[COUNT]] : index
// CHECK: scf.for %{{.*}} = %[[G]] to %[[LAST]] step
// CHECK: return

ncl.network @Net attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {emits_spikes, neuron = "Cell", params = [#ncl.param<name = "tau">],
      receives = ["v"], size = 4 : i64, vars = [#ncl.var<name = "v">]} init {
  } step {
  }
  ncl.projection @S {connect = #ncl.connect<rule = fixed_probability, p = 0.5 : f64, n = 0, autapses = true, multapses = true>,
      delay = 1.0e-3 : f64, drive = #ncl<drive event_driven>, params = [#ncl.param<name = "tau">, #ncl.param<name = "A">],
      post = @P, post_range = array<i64: 0, 4>, pre = @P, pre_range = array<i64: 0, 4>, synapse = "Pair",
      pre_traces = [#ncl.var<name = "apre">, #ncl.var<name = "_lastupdate", unit = "s">],
      post_traces = [#ncl.var<name = "apost">, #ncl.var<name = "_lastupdate", unit = "s">],
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
    %plast = ncl.trace_read post "_lastupdate" : f64
    %pel = arith.subf %t, %plast : f64
    %apost = ncl.trace_read post "apost" : f64
    %pz = arith.mulf %b, %pel : f64
    %pe = math.exp %pz : f64
    %apost1 = arith.mulf %pe, %apost : f64
    %A = ncl.param "A" : f64
    %w = ncl.synapse_read "w" : f64
    ncl.post_add "v", %w : f64
    %apre2 = arith.addf %apre1, %A : f64
    %w1 = arith.addf %w, %apost1 : f64
    ncl.trace_write pre "apre", %apre2 : f64
    ncl.synapse_write "w", %w1 : f64
  } on_post {
    %t = ncl.time : f64
    %A = ncl.param "A" : f64
    %apost = ncl.trace_read post "apost" : f64
    %apost1 = arith.subf %apost, %A : f64
    ncl.trace_write post "apost", %apost1 : f64
    ncl.trace_write post "_lastupdate", %t : f64
    %apre = ncl.trace_read pre "apre" : f64
    %w = ncl.synapse_read "w" : f64
    %w1 = arith.addf %w, %apre : f64
    ncl.synapse_write "w", %w1 : f64
  }
  ncl.schedule {
    ncl.stage connect @S
    ncl.stage deliver @S
    ncl.stage on_post @S
  }
}
