// RUN: ncl-opt %s -ncl-allocate-buffers -ncl-to-loops | FileCheck %s
// A projection with per-synapse delays. ncl-allocate-buffers gives it a
// `synapse_delay` buffer (i16 per synapse, after post_index). The connect
// kernel rounds each synapse's delay to steps of the run's dt in f64,
// roundeven(d / dt), and stores it as an unsigned 16-bit count; a delay
// that is negative or NaN (the ordered oge fails) or longer than 65534
// steps stores 65535 for the runtime to report. Delivery is by synapse: a
// `deliver_synapses` kernel runs on_pre for each synapse of the header's
// list `synapses`, in list order; where on_pre reads the presynaptic index
// it finds the synapse's row by a binary search in the row starts over the
// header's `size` rows.
//
// Buffer table: 0-6 @P, 7-10 @Q (params, g, refractory, g.in), 11-14 @C
// (params, row_start, post_index, delay).

// CHECK-LABEL: func.func @ncl_C_connect(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xi64>, %{{[^:]*}}: memref<?xi32>, %[[DELAY:[^:]*]]: memref<?xi16>,
// CHECK-SAME: %{{[^:]*}}: index, %{{[^:]*}}: index, %{{[^:]*}}: i64, %[[DT:[^:]*]]: f64)
// CHECK:   scf.for %[[S:.*]] = %{{.*}} to %{{.*}} step
// CHECK:     %[[D:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK:     %[[Q:.*]] = arith.divf %[[D]], %[[DT]] : f64
// CHECK:     %[[STEPS:.*]] = math.roundeven %[[Q]] : f64
// CHECK:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:     %[[NONNEG:.*]] = arith.cmpf oge, %[[D]], %[[ZERO]] : f64
// CHECK:     %[[MAX:.*]] = arith.constant 6.553400e+04 : f64
// CHECK:     %[[FITS:.*]] = arith.cmpf ole, %[[STEPS]], %[[MAX]] : f64
// CHECK:     %[[VALID:.*]] = arith.andi %[[NONNEG]], %[[FITS]] : i1
// CHECK:     %[[INVALID:.*]] = arith.constant 6.553500e+04 : f64
// CHECK:     %[[STORED:.*]] = arith.select %[[VALID]], %[[STEPS]], %[[INVALID]] : f64
// CHECK:     %[[BITS:.*]] = arith.fptoui %[[STORED]] : f64 to i16
// CHECK:     memref.store %[[BITS]], %[[DELAY]][%[[S]]] : memref<?xi16>
// CHECK:   } {ncl.loop = "synapses"}

// CHECK-LABEL: func.func @ncl_C_deliver(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %[[ROWS:[^:]*]]: memref<?xi64>, %[[POST:[^:]*]]: memref<?xi32>, %[[GIN:[^:]*]]: memref<?xf64>,
// CHECK-SAME: %{{[^:]*}}: index, %{{[^:]*}}: index, %[[SIZE:[^:]*]]: index, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: f64,
// CHECK-SAME: %[[LIST:[^:]*]]: memref<?xi64>, %[[COUNT:[^:]*]]: index)
// CHECK-SAME: attributes {ncl.kernel = "deliver"}
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[COUNT]]
// CHECK:   %[[S64:.*]] = memref.load %[[LIST]][%[[K]]] : memref<?xi64>
// CHECK:   %[[S:.*]] = arith.index_cast %[[S64]] : i64 to index
// CHECK:   %[[J32:.*]] = memref.load %[[POST]][%[[S]]] : memref<?xi32>
// CHECK:   %[[J:.*]] = arith.index_cast %[[J32]] : i32 to index
// The row: the last r in [0, size) with row_start[r] <= s.
// CHECK:   %[[ROW:.*]]:2 = scf.while (%[[LO:.*]] = %{{.*}}, %[[HI:.*]] = %[[SIZE]])
// CHECK:     arith.cmpi ugt
// CHECK:   } do {
// CHECK:     %[[START64:.*]] = memref.load %[[ROWS]][%{{.*}}] : memref<?xi64>
// CHECK:     %[[START:.*]] = arith.index_cast %[[START64]] : i64 to index
// CHECK:     arith.cmpi ule, %[[START]], %[[S]] : index
// CHECK:   }
// CHECK:   %[[I64:.*]] = arith.index_cast %[[ROW]]#0 : index to i64
// CHECK:   %[[I:.*]] = arith.sitofp %[[I64]] : i64 to f64
// CHECK:   %[[OLD:.*]] = memref.load %[[GIN]][%[[J]]] : memref<?xf64>
// CHECK:   %[[NEW:.*]] = arith.addf %[[OLD]], %[[I]] : f64
// CHECK:   memref.store %[[NEW]], %[[GIN]][%[[J]]] : memref<?xf64>
// CHECK: } {ncl.loop = "synapses"}
// CHECK: return

// CHECK-LABEL: ncl.network @Net
// CHECK-SAME: #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses, population = @C, index = -1, count = 0>, #ncl.buffer<name = "C.delay", role = synapse_delay, element = i16, extent = synapses, population = @C, index = -1, count = 0>]
// CHECK: ncl.stage connect @C kernel @ncl_C_connect {args = [11, 12, 13, 14, "begin", "end", "seed", "dt"]}
// CHECK-NEXT: ncl.stage deliver_synapses @C kernel @ncl_C_deliver {args = [11, 12, 13, 10, 1, 8, 0, 7, "begin", "end", "size", "first_step", "seed", "dt", "synapses", "num_synapses"]}
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
