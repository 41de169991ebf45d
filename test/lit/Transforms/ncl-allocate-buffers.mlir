// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers | FileCheck %s
// The buffer table: per population, in order, its parameters (f64, one per
// entry of `params`), one array of `real` per variable, the refractory
// steps (i32), and, when recorded, the spike step, index and channel arrays
// sized by the thread's spike capacity.

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
