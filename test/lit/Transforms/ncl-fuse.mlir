// RUN: ncl-opt %s -ncl-fuse | FileCheck %s
// RUN: ncl-opt %s -ncl-fuse -ncl-fuse | FileCheck %s
// ncl-fuse moves the input side of each ncl.kwta into its population's
// step: an ncl.kwta_key of the value the step writes to the k-WTA's
// variable, or of the variable's state where the step does not write it,
// and marks the k-WTA `fused`. Where a projection's stage onto the
// population runs between its step and its k-WTA (on_pre may add to the
// variable), the keys could differ from what the k-WTA compares: the
// k-WTA stays unfused. Running the pass twice changes nothing more.

// @A: the key is the value the step writes to r, at the step's end.
// CHECK-LABEL: ncl.population @A
// CHECK: step {
// CHECK:   %[[X1:.*]] = arith.mulf
// CHECK:   %[[R:.*]] = arith.maximumf %[[X1]], %{{.*}} : f64
// CHECK:   ncl.state_write "r", %[[R]] : f64
// CHECK:   ncl.state_write "x", %[[X1]] : f64
// CHECK-NEXT: ncl.kwta_key %[[R]] : f64
// CHECK-NOT: ncl.kwta_key
// CHECK-NEXT: }

// @B's step does not write x: the key is x's state.
// CHECK-LABEL: ncl.population @B
// CHECK: step {
// CHECK-NEXT: %[[XB:.*]] = ncl.state_read "x" : f64
// CHECK:      ncl.state_write "y", %{{.*}} : f64
// CHECK-NEXT: ncl.kwta_key %[[XB]] : f64
// CHECK-NEXT: }

// @C receives a projection whose stage runs between its step and its k-WTA.
// CHECK-LABEL: ncl.population @C
// CHECK-NOT: ncl.kwta_key
// CHECK-LABEL: ncl.population @S

// @S is spiking: its k-WTA gates the spikes (stages kwta_keys, kwta_gate
// before its step) and its keys are a kernel of their own, not fused.
// CHECK-NOT: ncl.kwta_key
// CHECK: ncl.projection @W

// CHECK: ncl.kwta @A "r" {boost = 2.000000e+00 : f64, fraction = 5.000000e-02 : f64, fused, period = 1.000000e+02 : f64}
// CHECK: ncl.kwta @B "x" {fused, keep = 2 : i64}
// CHECK: ncl.kwta @C "x" {keep = 1 : i64}
// CHECK: ncl.kwta @S "v" {keep = 2 : i64}
ncl.network @Net attributes {dt = 1.0e-3 : f64, real = f64} {
  ncl.population @A {neuron = "Rate", size = 100 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>,
              #ncl.var<name = "r", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %zero = arith.constant 0.0 : f64
    %x1 = arith.mulf %x, %x : f64
    %r = arith.maximumf %x1, %zero : f64
    ncl.state_write "r", %r : f64
    ncl.state_write "x", %x1 : f64
  }
  ncl.population @B {neuron = "Rate", size = 10 : i64, params = [], emits_spikes,
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>,
              #ncl.var<name = "y", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %one = arith.constant 1.0 : f64
    ncl.state_write "y", %one : f64
  }
  ncl.population @C {neuron = "Rate", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "x", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "x", %z : f64
  } step {
    %x = ncl.state_read "x" : f64
    %h = arith.constant 0.5 : f64
    %y = arith.mulf %x, %h : f64
    ncl.state_write "x", %y : f64
  }
  ncl.population @S {neuron = "Spiking", size = 10 : i64, params = [],
      vars = [#ncl.var<name = "v", unit = "", scale = 1.0 : f64, dim = [0, 0, 0, 0, 0, 0, 0]>]} init {
    %z = arith.constant 0.0 : f64
    ncl.state_write "v", %z : f64
  } step {
    %v = ncl.state_read "v" : f64
    %h = arith.constant 0.5 : f64
    %y = arith.addf %v, %h : f64
    %one = arith.constant 1.0 : f64
    %c = arith.cmpf ogt, %y, %one : f64
    %f = ncl.threshold %c
    %zero = arith.constant 0.0 : f64
    %w = ncl.reset %f, %y, %zero : f64
    ncl.state_write "v", %w : f64
  }
  ncl.projection @W {synapse = "Syn", pre = @B, post = @C, pre_range = array<i64: 0, 10>,
      post_range = array<i64: 0, 10>, connect = #ncl.connect<rule = one_to_one, p = 0.0 : f64, n = 0, autapses = true, multapses = true>,
      delay = 0.0 : f64, params = [], vars = []} init {
  } on_pre {
    %one = arith.constant 1.0 : f64
    ncl.post_add "x", %one : f64
  }
  ncl.kwta @A "r" {fraction = 0.05 : f64, boost = 2.0 : f64, period = 100.0 : f64}
  ncl.kwta @B "x" {keep = 2 : i64}
  ncl.kwta @C "x" {keep = 1 : i64}
  ncl.kwta @S "v" {keep = 2 : i64}
  ncl.schedule {
    ncl.stage init @A
    ncl.stage init @B
    ncl.stage init @C
    ncl.stage kwta_keys @S
    ncl.stage kwta_gate @S
    ncl.stage step @A
    ncl.stage step @B
    ncl.stage step @C
    ncl.stage step @S
    ncl.stage deliver @W
    ncl.stage kwta @A
    ncl.stage kwta @B
    ncl.stage kwta @C
  }
}
