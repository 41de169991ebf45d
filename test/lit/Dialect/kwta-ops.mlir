// RUN: ncl-opt %s | ncl-opt | FileCheck %s
// Round trip of ncl.kwta through the printer and parser: a count, a
// fraction with boosting, a losers' reset region, the kwta stage, and the
// kwta_order, kwta_duty and kwta_key roles of the buffer table.

// CHECK-LABEL: ncl.network @Net
// CHECK-SAME: #ncl.buffer<name = "L.kwta_order", role = kwta_order, element = i32, extent = neurons, population = @L, index = -1, count = 0>
// CHECK-SAME: #ncl.buffer<name = "L.kwta_duty", role = kwta_duty, element = f64, extent = neurons, population = @L, index = -1, count = 0>
// CHECK-SAME: #ncl.buffer<name = "L.kwta_key", role = kwta_key, element = f64, extent = neurons, population = @L, index = -1, count = 0>
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64, buffers = [
    #ncl.buffer<name = "L.params", role = params, element = f64, extent = fixed, population = @L, index = -1, count = 0>,
    #ncl.buffer<name = "L.x", role = state, element = f64, extent = neurons, population = @L, index = 0, count = 0>,
    #ncl.buffer<name = "L.refractory_until", role = refractory, element = i32, extent = neurons, population = @L, index = -1, count = 0>,
    #ncl.buffer<name = "L.kwta_order", role = kwta_order, element = i32, extent = neurons, population = @L, index = -1, count = 0>,
    #ncl.buffer<name = "L.kwta_duty", role = kwta_duty, element = f64, extent = neurons, population = @L, index = -1, count = 0>,
    #ncl.buffer<name = "L.kwta_key", role = kwta_key, element = f64, extent = neurons, population = @L, index = -1, count = 0>,
    #ncl.buffer<name = "M.params", role = params, element = f64, extent = fixed, population = @M, index = -1, count = 0>,
    #ncl.buffer<name = "M.x", role = state, element = f64, extent = neurons, population = @M, index = 0, count = 0>,
    #ncl.buffer<name = "M.refractory_until", role = refractory, element = i32, extent = neurons, population = @M, index = -1, count = 0>,
    #ncl.buffer<name = "M.kwta_order", role = kwta_order, element = i32, extent = neurons, population = @M, index = -1, count = 0>]} {
  ncl.population @L {neuron = "Unit", size = 100 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  ncl.population @M {neuron = "Unit", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
  } step {
  }
  // CHECK: ncl.kwta @L "x" {boost = 1.500000e+00 : f64, fraction = 2.000000e-02 : f64, period = 1.000000e+03 : f64}
  // CHECK-NOT: reset
  ncl.kwta @L "x" {fraction = 0.02 : f64, boost = 1.5 : f64, period = 1000.0 : f64}
  // CHECK: ncl.kwta @M "x" {keep = 3 : i64} reset {
  // CHECK-NEXT:   %[[X:.*]] = ncl.state_read "x" : f64
  // CHECK-NEXT:   %[[H:.*]] = arith.constant 5.000000e-01 : f64
  // CHECK-NEXT:   %[[Y:.*]] = arith.mulf %[[X]], %[[H]] : f64
  // CHECK-NEXT:   ncl.state_write "x", %[[Y]] : f64
  // CHECK-NEXT: }
  ncl.kwta @M "x" {keep = 3 : i64} reset {
    %x = ncl.state_read "x" : f64
    %h = arith.constant 0.5 : f64
    %y = arith.mulf %x, %h : f64
    ncl.state_write "x", %y : f64
  }
  // CHECK: ncl.schedule
  // CHECK: ncl.stage step @L
  // CHECK-NEXT: ncl.stage kwta @L
  // CHECK-NEXT: ncl.stage kwta @M
  ncl.schedule {
    ncl.stage init @L
    ncl.stage step @L
    ncl.stage kwta @L
    ncl.stage kwta @M
  }
}
