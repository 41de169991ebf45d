//===- Passes.td - Conversions out of the ncl dialect ------*- tablegen -*-===//
#ifndef NCL_CONVERSION_PASSES_TD
#define NCL_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertNclToLoops : Pass<"ncl-to-loops", "ModuleOp"> {
  let summary = "Lower populations to loops over steps and neurons on memrefs";
  let description = [{
    Each `ncl.population @P` becomes two functions with the kernel ABI of
    runtime/include/ncl/model_abi.h: `ncl_P_init` (initial state of neurons
    [begin, end)) and `ncl_P_update` (up to `num_steps` steps of [begin, end),
    reporting steps done and spikes emitted). A recorded population is
    stepped all neurons per step and stops early at a step boundary when its
    spike buffer could overflow; an unrecorded one runs blocks of 8192
    neurons through all the steps (same values, far less memory traffic).
    Parameters are loaded once per call, before the loops. Both kernels take
    the run's dt (f64) as their last argument: `ncl.dt` and `ncl.time` are
    computed from it. `ncl.exp_euler` is expanded in its increment form with
    `math.expm1`. A population's `ncl.max_dt` and `ncl.min_dt` are kept in
    the module's `ncl.max_dt` and `ncl.min_dt` dictionaries (population name
    to seconds) for the library's descriptor. Run after `ncl-integrate`.

    Before:

    ```mlir
    ncl.population @P {...} init {...} step {
      %v = ncl.state_read "v" : f64
      %tau = ncl.param "tau" [0] : f64
      ...
      ncl.state_write "v", %v2 : f64
    }
    ```

    After (abridged):

    ```mlir
    func.func @ncl_P_update(%params: memref<?xf64>, %v: memref<?xf64>,
        %refractory_until: memref<?xi32>, ...) {
      %tau = memref.load %params[%c0] : memref<?xf64>
      %r:2 = scf.while ... {            // steps
        scf.for %i = %begin to %end ... { // neurons
          %x = memref.load %v[%i] : memref<?xf64>
          ...
          memref.store %x2, %v[%i] : memref<?xf64>
        }
      }
    }
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect",
                           "mlir::math::MathDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

#endif // NCL_CONVERSION_PASSES_TD
