//===- NclDialect.td - The ncl dialect ---------------------*- tablegen -*-===//
#ifndef NCL_DIALECT_TD
#define NCL_DIALECT_TD

include "mlir/IR/OpBase.td"

def Ncl_Dialect : Dialect {
  let name = "ncl";
  let summary = "Neural dynamics: populations, ODEs, spikes and their semantics.";
  let description = [{
    The `ncl` dialect keeps the meaning of a neural model that later passes
    need: which values are per-neuron state, which are load-time parameters,
    which equations are ODEs still to be integrated, and when a neuron spikes,
    resets and is refractory. `ncl-integrate` turns `ncl.ode` into explicit
    updates such as `ncl.exp_euler`; `ncl-to-loops` lowers a population to
    loops over neurons and steps on memrefs.
  }];
  let cppNamespace = "::mlir::ncl";
}

class Ncl_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ncl_Dialect, mnemonic, traits>;

#endif // NCL_DIALECT_TD
