//===- BuiltinsTest.cpp - The built-in function table and the neuron walker ===//
//
// The table is what Sema checks and folds calls with and what MLIRGen
// switches over; the walker is what must not miss an expression (random
// streams are numbered through it). Values are checked against mathematics.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Builtins.h"
#include "ncl/DSL/Frontend.h"

#include <cmath>
#include <gtest/gtest.h>
#include <set>
#include <sstream>

using namespace ncl;
using namespace ncl::ast;

namespace {

TEST(Builtins, TableFollowsTheEnum) {
  std::set<std::string> seen;
  for (const std::string &name : builtinNames()) {
    const Builtin *b = lookupBuiltin(name);
    ASSERT_NE(b, nullptr) << name;
    EXPECT_EQ(&getBuiltin(b->id), b) << name;
    EXPECT_TRUE(seen.insert(name).second) << "two entries named " << name;
    // Only the random draws have no value for constant arguments.
    EXPECT_EQ(b->pure, b->evaluate != nullptr) << name;
    EXPECT_EQ(b->pure, b->unitRule != UnitRule::Random && b->unitRule != UnitRule::RandomCount)
        << name;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(BuiltinId::Poisson) + 1);
  EXPECT_EQ(lookupBuiltin("exp10"), nullptr);
}

double eval(const char *name, std::vector<double> args) {
  const Builtin *b = lookupBuiltin(name);
  EXPECT_EQ(args.size(), b->arity) << name;
  return b->evaluate(args.data());
}

TEST(Builtins, ValuesFromMathematics) {
  EXPECT_DOUBLE_EQ(eval("exp", {1}), M_E);
  EXPECT_DOUBLE_EQ(eval("log10", {1000}), 3);
  // exprel(x) = (e^x - 1)/x, 1 at 0; on both sides of the switch to its
  // series at |x| = 1e-5, the Taylor series to x^3 to rounding.
  EXPECT_EQ(eval("exprel", {0}), 1.0);
  EXPECT_DOUBLE_EQ(eval("exprel", {1}), M_E - 1);
  for (double x : {0.99e-5, 1.01e-5, -0.99e-5, -1.01e-5})
    EXPECT_NEAR(eval("exprel", {x}), 1 + x / 2 + x * x / 6 + x * x * x / 24, 1e-15) << x;
  EXPECT_DOUBLE_EQ(eval("sigmoid", {0}), 0.5);
  // softplus(x) = log(1 + e^x): log 2 at 0, x + e^-x to rounding far above,
  // e^x far below, and no overflow where e^x would.
  EXPECT_DOUBLE_EQ(eval("softplus", {0}), std::log(2.0));
  EXPECT_DOUBLE_EQ(eval("softplus", {50}), 50.0);
  EXPECT_DOUBLE_EQ(eval("softplus", {1000}), 1000.0);
  EXPECT_DOUBLE_EQ(eval("softplus", {-50}), std::exp(-50.0));
  EXPECT_DOUBLE_EQ(eval("softplus", {1}), std::log1p(std::exp(1.0)));
  EXPECT_EQ(eval("relu", {-2}), 0.0);
  EXPECT_EQ(eval("heaviside", {0}), 0.0);
  EXPECT_EQ(eval("heaviside", {1e-300}), 1.0);
  EXPECT_EQ(eval("clip", {5, 0, 1}), 1.0);
  EXPECT_EQ(eval("clip", {-5, 0, 1}), 0.0);
  EXPECT_EQ(eval("pow", {2, 10}), 1024.0);
}

// One rand() in every part of a neuron that holds an expression.
const char *kEverywhere = R"(
neuron Everywhere {
  parameters { a = rand() per neuron }
  input I = 0
  state { v = rand(); w = 0 }
  dynamics {
    s = rand()
    v' = (rand() - v) / (1 ms)
  }
  update { w = rand() }
  spike when v > rand()
  reset { v = rand() }
  refractory while rand() < 0.5
  output o = rand()
  event kick when rand() < 0.1 { v += rand() }
}
)";

TEST(NeuronWalker, VisitsEveryPart) {
  std::ostringstream errors;
  DiagnosticEngine diags(errors);
  auto module = parseSource("everywhere.ncl", kEverywhere, diags);
  ASSERT_TRUE(module) << errors.str();
  ASSERT_EQ(module->neurons.size(), 1u);
  std::vector<NeuronPart> parts;
  unsigned draws = 0;
  forEachSite(module->neurons[0], [&](const NeuronSite &site) { parts.push_back(site.part); });
  forEachExpr(module->neurons[0], [&](const Expr &e, const NeuronSite &) {
    forEachSubExpression(e, [&](const Expr &sub) {
      if (auto *c = llvm::dyn_cast<CallExpr>(&sub); c && c->callee == "rand")
        ++draws;
    });
  });
  using P = NeuronPart;
  std::vector<NeuronPart> expected = {
      P::Parameter, P::Input,          P::State,          P::State, P::SubExpression,
      P::Equation,  P::Update,         P::Spike,          P::Reset, P::Refractory,
      P::Output,    P::EventCondition, P::EventAssignment};
  EXPECT_EQ(parts, expected);
  EXPECT_EQ(draws, 11u); // every rand() of the text
}

} // namespace
