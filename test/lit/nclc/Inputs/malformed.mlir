ncl.network @N attributes {dt = 1.0e-4 : f64, real = f64} {
  ncl.population @P {neuron = "N", size = 1 : i64, params = [], vars = []} init {
    %x = arith.constant 0.0 : f64 +
  } step {
  }
}
