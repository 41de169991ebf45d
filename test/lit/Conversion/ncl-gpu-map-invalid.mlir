// RUN: ncl-opt %s -split-input-file -ncl-gpu-map -verify-diagnostics
// ncl-gpu-map's errors: each names the stage the GPU target cannot run.

ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Unit", size = 2 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @below {{the GPU target cannot run stage 'P.init': it has no kernel (run ncl-to-loops before ncl-gpu-map)}}
    ncl.stage init @P
  }
}

// -----

func.func @ncl_P_init(%begin: index, %end: index) -> index {
  return %begin : index
}
ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "Unit", size = 2 : i64, params = [], vars = []} init {
  } step {
  }
  ncl.schedule {
    // expected-error @below {{the GPU target cannot run stage 'P.init': its kernel is not a function of one block without results}}
    ncl.stage init @P kernel @ncl_P_init {args = ["begin", "end"]}
  }
}
