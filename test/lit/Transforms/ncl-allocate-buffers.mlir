// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers | FileCheck %s
// The buffer table: per population, in order, its parameters (f64, one per
// entry of `params`), one array of `real` per variable, the refractory
// steps (i32), and, when recorded, the spike step, index and channel arrays
// sized by the thread's spike capacity (projections: see the last case).

// CHECK-LABEL: ncl.network @Two
// CHECK-SAME: buffers = [
// CHECK-SAME: #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 2>,
// CHECK-SAME: #ncl.buffer<name = "P.v", role = state, element = f64, extent = neurons, population = @P, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.w", role = state, element = f64, extent = neurons, population = @P, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.x", role = state, element = f64, extent = neurons, population = @Q, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons, population = @Q, index = -1, count = 0>]
// CHECK-SAME: real = f64
ncl.network @Two attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "A", size = 4 : i64, record_spikes,
        params = [#ncl.param<name = "a">, #ncl.param<name = "b">],
        vars = [#ncl.var<name = "v">, #ncl.var<name = "w">]} init {
  } step {
  }
  ncl.population @Q {neuron = "B", size = 2 : i64, params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
}

// -----

// Float32 state: the variables' arrays are f32, parameters stay f64.

// CHECK-LABEL: ncl.network @Single
// CHECK-SAME: buffers = [
// CHECK-SAME: #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 1>,
// CHECK-SAME: #ncl.buffer<name = "P.v", role = state, element = f32, extent = neurons, population = @P, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>]
// CHECK-SAME: real = f32
ncl.network @Single attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @P {neuron = "A", size = 4 : i64,
        params = [#ncl.param<name = "a">], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// A table already there is kept as it is.

// CHECK-LABEL: ncl.network @Kept
// CHECK-SAME: buffers = [#ncl.buffer<name = "mine", role = state, element = f64, extent = neurons, population = @P, index = 0, count = 0>, #ncl.buffer<name = "my.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 1>, #ncl.buffer<name = "my.refractory", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>]
// CHECK-NOT: #ncl.buffer
ncl.network @Kept attributes {dt = 1.0e-4 : f64, real = f64,
    buffers = [#ncl.buffer<name = "mine", role = state, element = f64, extent = neurons,
                           population = @P, index = 0, count = 0>,
               #ncl.buffer<name = "my.params", role = params, element = f64, extent = fixed,
                           population = @P, index = -1, count = 1>,
               #ncl.buffer<name = "my.refractory", role = refractory, element = i32,
                           extent = neurons, population = @P, index = -1, count = 0>]} {
  ncl.population @P {neuron = "A", size = 4 : i64,
        params = [#ncl.param<name = "a">], vars = [#ncl.var<name = "v">]} init {
  } step {
  }
}

// -----

// A network with a projection. A population whose spikes a projection reads
// (emits_spikes) gets the spike arrays even when not recorded; one that
// receives gets, after its other buffers, one synaptic-input array of
// `real` per received name (index: its position in `receives`). After the
// populations, each projection in order: its parameters, one per-synapse
// array of `real` per variable (index: the variable), the row starts (i64,
// one per presynaptic neuron plus one) and the postsynaptic indices (i32,
// one per synapse).

// CHECK-LABEL: ncl.network @Projected
// CHECK-SAME: buffers = [
// CHECK-SAME: #ncl.buffer<name = "P.params", role = params, element = f64, extent = fixed, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.x", role = state, element = f32, extent = neurons, population = @P, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.refractory_until", role = refractory, element = i32, extent = neurons, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_step", role = spike_step, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_index", role = spike_index, element = i64, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "P.spike_channel", role = spike_channel, element = i32, extent = spike_capacity, population = @P, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.params", role = params, element = f64, extent = fixed, population = @Q, index = -1, count = 1>,
// CHECK-SAME: #ncl.buffer<name = "Q.ge", role = state, element = f32, extent = neurons, population = @Q, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.gi", role = state, element = f32, extent = neurons, population = @Q, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.refractory_until", role = refractory, element = i32, extent = neurons, population = @Q, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.gi.in", role = synaptic_input, element = f32, extent = neurons, population = @Q, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "Q.ge.in", role = synaptic_input, element = f32, extent = neurons, population = @Q, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.params", role = params, element = f64, extent = fixed, population = @C, index = -1, count = 2>,
// CHECK-SAME: #ncl.buffer<name = "C.w", role = synapse_state, element = f32, extent = synapses, population = @C, index = 0, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.u", role = synapse_state, element = f32, extent = synapses, population = @C, index = 1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.row_start", role = row_start, element = i64, extent = rows, population = @C, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "C.post_index", role = post_index, element = i32, extent = synapses, population = @C, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.params", role = params, element = f64, extent = fixed, population = @D, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.row_start", role = row_start, element = i64, extent = rows, population = @D, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "D.post_index", role = post_index, element = i32, extent = synapses, population = @D, index = -1, count = 0>]
// CHECK-SAME: real = f32
ncl.network @Projected attributes {dt = 1.0e-4 : f64, real = f32} {
  ncl.population @P {neuron = "A", size = 4 : i64, emits_spikes,
        params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.population @Q {neuron = "B", size = 2 : i64, receives = ["gi", "ge"],
        params = [#ncl.param<name = "tau">],
        vars = [#ncl.var<name = "ge">, #ncl.var<name = "gi">]} init {
  } step {
  }
  ncl.projection @C {synapse = "S", pre = @P, post = @Q,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 2>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [#ncl.param<name = "a">, #ncl.param<name = "b">],
      vars = [#ncl.var<name = "w">, #ncl.var<name = "u">]} init {
  } on_pre {
  }
  ncl.projection @D {synapse = "T", pre = @P, post = @Q,
      pre_range = array<i64: 1, 3>, post_range = array<i64: 0, 1>,
      connect = #ncl.connect<rule = one_to_one, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
  }
}

// -----

// A projection with on_post also gets the column index the runtime builds:
// where each postsynaptic neuron's synapses start (i64, one per
// postsynaptic neuron plus one: extent `columns`) and the synapses by
// column (i32, one per synapse).

// CHECK-LABEL: ncl.network @Learning
// CHECK-SAME: #ncl.buffer<name = "S.post_index", role = post_index, element = i32, extent = synapses, population = @S, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "S.column_start", role = column_start, element = i64, extent = columns, population = @S, index = -1, count = 0>,
// CHECK-SAME: #ncl.buffer<name = "S.column_synapse", role = column_synapse, element = i32, extent = synapses, population = @S, index = -1, count = 0>]
ncl.network @Learning attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "A", size = 4 : i64, emits_spikes,
        params = [], vars = [#ncl.var<name = "x">]} init {
  } step {
  }
  ncl.projection @S {synapse = "S", pre = @P, post = @P,
      pre_range = array<i64: 0, 4>, post_range = array<i64: 0, 4>,
      connect = #ncl.connect<rule = all_to_all, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = [#ncl.var<name = "w">]} init {
  } on_pre {
  } on_post {
    %w = ncl.synapse_read "w" : f64
    ncl.synapse_write "w", %w : f64
  }
}
