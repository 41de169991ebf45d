//===- SemaTest.cpp - Parameter values and network settings ---------------===//
//
// Sema converts every quantity to SI once; check the values it hands to
// code generation against hand-computed SI numbers.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Sema.h"
#include "ncl/DSL/Frontend.h"

#include <gtest/gtest.h>
#include <sstream>

using namespace ncl;

namespace {

const char *kModel = R"(
neuron LIF {
  parameters {
    tau_m = 20 ms
    El = -70 mV
    Vt = El + 15 mV
    R = 10 Mohm
    gL = 1 / R
  }
  input I : nA = 0.5 nA
  state { v : mV = El }
  dynamics { v' = (El - v + R * I) / tau_m }
  spike when v > Vt
  reset { v = El }
}
network Net {
  population P = LIF[42] { I = 2 nA; tau_m = 10 ms }
  record spikes(P)
  simulate 250 ms, dt = 0.05 ms, seed = 17
}
)";

TEST(Sema, ValuesInSIUnits) {
  std::ostringstream errors;
  DiagnosticEngine diags(errors);
  auto module = parseSource("model.ncl", kModel, diags);
  ASSERT_TRUE(module) << errors.str();
  NetworkModel net;
  ASSERT_TRUE(analyze(*module, diags, net)) << errors.str();
  EXPECT_DOUBLE_EQ(net.dt, 5e-5);
  EXPECT_DOUBLE_EQ(net.duration, 0.25);
  EXPECT_EQ(net.seed, 17u);
  ASSERT_EQ(net.populations.size(), 1u);
  const PopulationModel &p = net.populations[0];
  EXPECT_EQ(p.decl->size, 42);
  EXPECT_TRUE(p.recordSpikes);
  auto value = [&](const char *name) { return p.parameters.at(p.parameterIndex(name)).value; };
  EXPECT_DOUBLE_EQ(value("tau_m"), 0.010); // overridden by the population
  EXPECT_DOUBLE_EQ(value("El"), -0.070);
  EXPECT_DOUBLE_EQ(value("R"), 1e7);
  EXPECT_DOUBLE_EQ(value("I"), 2e-9);
  EXPECT_TRUE(p.parameters.at(p.parameterIndex("I")).isInput);
  // Vt = El + 15 mV and gL = 1/R are recomputed from El and R in the
  // kernels, so they are not load-time parameters of their own.
  EXPECT_EQ(p.parameterIndex("Vt"), -1);
  EXPECT_EQ(p.parameterIndex("gL"), -1);
  for (auto &d : p.neuron->parameters) {
    EXPECT_EQ(d.derived, d.name == "Vt" || d.name == "gL") << d.name;
    if (d.name == "gL")
      EXPECT_EQ(d.unit.dim.str(), "S");
  }
}

TEST(Sema, ReportsEveryErrorOnce) {
  std::ostringstream errors;
  DiagnosticEngine diags(errors);
  auto module = parseSource("bad.ncl", R"(
neuron N {
  parameters { a = 1 mV; b = a + 1 nA }
  state { v : mV = c }
  dynamics { v' = v }
}
)",
                            diags);
  ASSERT_TRUE(module);
  EXPECT_FALSE(analyzeModule(*module, diags));
  EXPECT_EQ(diags.errorCount(), 3u) << errors.str();
  EXPECT_NE(
      errors.str().find("bad.ncl:3:30: error: operands of '+' have different dimensions: V and A"),
      std::string::npos)
      << errors.str();
  EXPECT_NE(errors.str().find("bad.ncl:4:20: error: unknown name 'c'"), std::string::npos);
  EXPECT_NE(
      errors.str().find("bad.ncl:5:19: error: right-hand side of v' has dimension V, expected V/s"),
      std::string::npos)
      << errors.str();
}

} // namespace
