// RUN: ncl-opt %s -split-input-file -ncl-gpu-map -verify-diagnostics
// ncl-gpu-map's errors: each names the stage the GPU target cannot run.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Unit", size = 2 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @below {{the GPU target cannot run stage 'P.step': it has no kernel (run ncl-to-loops before ncl-gpu-map)}}
    ncl.stage step @P
  }
}

// -----

func.func @ncl_P_update(%begin: index, %end: index) -> index {
  return %begin : index
}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Unit", size = 2 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @below {{the GPU target cannot run stage 'P.step': its kernel is not a function of one block without results}}
    ncl.stage step @P kernel @ncl_P_update {args = ["begin", "end"]}
  }
}
