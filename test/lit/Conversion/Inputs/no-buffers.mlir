ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = [#ncl.var<name = "v">]} init {
    %v0 = arith.constant 0.0 : f64
    ncl.state_write "v", %v0 : f64
  } step {
    %v = ncl.state_read "v" : f64
    ncl.state_write "v", %v : f64
  }
}
