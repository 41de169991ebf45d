//===- Passes.td - Transformations within the ncl dialect --*- tablegen -*-===//
#ifndef NCL_TRANSFORMS_PASSES_TD
#define NCL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NclIntegrate : Pass<"ncl-integrate", "ModuleOp"> {
  let summary = "Replace each ncl.ode by an explicit integration scheme";
  let description = [{
    Classifies the right-hand side of every `ncl.ode`. When dx/dt = a + b*x
    with a and b independent of x (found by a linearity analysis over the
    region's SSA graph), the ODE becomes `ncl.exp_euler %x, %a, %b`, which
    is exact for constant a, b (LIF). Otherwise it falls back to forward
    Euler (x + dt*f(x)) and says so in a remark. A clamped ODE keeps x
    while its clamp (the neuron's refractory flag) is true.

    Before:

    ```mlir
    %v1 = ncl.ode "v" (%v) clamp %r : f64 {
    ^bb0(%x: f64):
      %d = arith.subf %el, %x : f64
      %r = arith.divf %d, %tau : f64
      ncl.yield %r : f64
    }
    ```

    After:

    ```mlir
    %a = arith.divf %el, %tau : f64
    %mb = arith.divf %one, %tau : f64
    %b = arith.negf %mb : f64
    %e = ncl.exp_euler %v, %a, %b {dt = 1.0e-4 : f64} : f64
    %v1 = arith.select %r, %v, %e : f64
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect"];
}

#endif // NCL_TRANSFORMS_PASSES_TD
