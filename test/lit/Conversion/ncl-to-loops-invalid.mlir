// RUN: ncl-opt %s -split-input-file -ncl-allocate-buffers -ncl-to-loops -verify-diagnostics
// RUN: not ncl-opt %S/Inputs/no-buffers.mlir -ncl-to-loops 2>&1 | FileCheck %s --check-prefix=NOTABLE
// What ncl-to-loops refuses, at the op's location: an ODE not yet
// integrated, an ncl op that no pattern lowers (outside a population's
// neuron loop), and a network without its buffer table.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64,
        params = [],
        vars = [#ncl.var<name = "v">]} init {
    %v0 = arith.constant 0.0 : f64
    ncl.state_write "v", %v0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    // expected-error @+1 {{must be integrated before ncl-to-loops; run ncl-integrate first}}
    %v1 = ncl.ode "v" (%v) : f64 {
    ^bb0(%x: f64):
      ncl.yield %x : f64
    }
    ncl.state_write "v", %v1 : f64
  }
}

// -----

// An ncl op outside a population has no neuron loop to lower into.
func.func @stray(%x: f64) -> f64 {
  // expected-error @+1 {{failed to legalize operation 'ncl.time'}}
  %t = ncl.time : f64
  %y = arith.addf %x, %t : f64
  return %y : f64
}

// NOTABLE: no-buffers.mlir:1:1: error: 'ncl.network' op has no buffer table; run ncl-allocate-buffers first
