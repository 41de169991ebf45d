// RUN: ncl-opt %s -ncl-integrate -cse -canonicalize | FileCheck %s

// The exact propagator keeps the structural zeros of e^(M dt): an entry
// with no path from its column to its row in M is no value at all, so the
// update multiplies by no zero. CUBA's form: v driven by two decaying
// currents, v held while refractory. The held propagator keeps v as it is,
// and because both propagators choose Taylor or scaling and squaring by the
// same test, the rows of ge and gi (which reach no held variable) are the
// same expressions in both and need no select on the refractory flag.

// CHECK-LABEL: ncl.population @cuba
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @cuba {neuron = "C", size = 1 : i64,
        params = [#ncl.param<name = "taum">, #ncl.param<name = "taue">,
                  #ncl.param<name = "taui">, #ncl.param<name = "El">],
        vars = [#ncl.var<name = "v">, #ncl.var<name = "ge">, #ncl.var<name = "gi">]} init {
    %x0 = arith.constant 0.0 : f64
    ncl.state_write "v", %x0 : f64
  } step {
    // CHECK-DAG: %[[V:.*]] = ncl.state_read "v"
    // CHECK-DAG: %[[GE:.*]] = ncl.state_read "ge"
    // CHECK-DAG: %[[GI:.*]] = ncl.state_read "gi"
    // CHECK-DAG: %[[REF:.*]] = ncl.is_refractory : i1
    %v = ncl.state_read "v" : f64
    %ge = ncl.state_read "ge" : f64
    %gi = ncl.state_read "gi" : f64
    %taum = ncl.param "taum" : f64
    %taue = ncl.param "taue" : f64
    %taui = ncl.param "taui" : f64
    %el = ncl.param "El" : f64
    %ref = ncl.is_refractory : i1
    // Each state is multiplied once per row that it reaches, by no zero:
    // v in v's row, ge and gi in v's row and their own.
    // CHECK-NOT: arith.mulf %{{.*}}, %[[V]]
    // CHECK: arith.mulf %{{.*}}, %[[V]] : f64
    // CHECK-NOT: arith.mulf %{{.*}}, %[[V]]
    // CHECK: arith.mulf %{{.*}}, %[[GE]] : f64
    // CHECK: arith.mulf %{{.*}}, %[[GI]] : f64
    // CHECK: %[[GEN:.*]] = arith.mulf %{{.*}}, %[[GE]] : f64
    // CHECK: %[[GIN:.*]] = arith.mulf %{{.*}}, %[[GI]] : f64
    // CHECK-NOT: arith.mulf %{{.*}}, %[[V]]
    // CHECK: %[[VN:.*]] = arith.select %[[REF]], %[[V]], %{{.*}} : f64
    // CHECK-NOT: arith.select %[[REF]]
    // CHECK: ncl.state_write "v", %[[VN]]
    // CHECK: ncl.state_write "ge", %[[GEN]]
    // CHECK: ncl.state_write "gi", %[[GIN]]
    %v1 = ncl.ode "v" (%v) clamp %ref : f64 {
    ^bb0(%x: f64):
      %s = arith.addf %ge, %gi : f64
      %d = arith.subf %x, %el : f64
      %r = arith.subf %s, %d : f64
      %q = arith.divf %r, %taum : f64
      ncl.yield %q : f64
    }
    %ge1 = ncl.ode "ge" (%ge) : f64 {
    ^bb0(%y: f64):
      %n = arith.negf %y : f64
      %q = arith.divf %n, %taue : f64
      ncl.yield %q : f64
    }
    %gi1 = ncl.ode "gi" (%gi) : f64 {
    ^bb0(%y: f64):
      %n = arith.negf %y : f64
      %q = arith.divf %n, %taui : f64
      ncl.yield %q : f64
    }
    ncl.state_write "v", %v1 : f64
    ncl.state_write "ge", %ge1 : f64
    ncl.state_write "gi", %gi1 : f64
  }
}
