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
    resets and is refractory. An `ncl.network` holds the populations, the
    schedule of a step and everything the runtime is told about the model.
    `ncl-integrate` turns `ncl.ode` into explicit updates such as
    `ncl.exp_euler`; `ncl-allocate-buffers` assigns storage; `ncl-to-loops`
    lowers each population's program to loops over steps and neurons on
    memrefs, one pattern per op.
  }];
  let cppNamespace = "::mlir::ncl";
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Ncl_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ncl_Dialect, mnemonic, traits>;

#endif // NCL_DIALECT_TD
