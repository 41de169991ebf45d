//===- ProjectionSemaTest.cpp - What Sema hands over for projections ------===//
//
// The NetworkModel's projections and monitors are the interface code
// generation reads: endpoints as population ranges, evaluated connect rules,
// parameter values in SI, delays, and the on_pre names resolved against the
// projection's own neurons.
//
//===----------------------------------------------------------------------===//
#include "ncl/DSL/Frontend.h"
#include "ncl/DSL/Sema.h"

#include <gtest/gtest.h>
#include <sstream>

using namespace ncl;
using namespace ncl::ast;

namespace {

const char *kModel = R"(
neuron Cell {
  parameters { tau = 20 ms; El = -60 mV }
  input I : nA = 0 nA
  state { v : mV = El; ge : mV = 0 mV }
  dynamics { v' = (El - v + ge + I * 1 Mohm) / tau; ge' = -ge / (5 ms) }
  spike when v > -50 mV
  reset { v = El }
}
neuron Other {
  parameters { tau = 10 ms }
  state { x = 0 }
  dynamics { x' = -x / tau }
  spike when x > 1
}
synapse Exc {
  parameters { we = 1.62 mV; half = we / 2 }
  state { w : mV = we; u = rand() }
  on_pre {
    ge += w + half
    I -= 1 nA * tau_pre / (10 ms)
    w *= 0.5
  }
  on_post { w += 0.1 mV * v / v_post }
}
network Net {
  population P = Cell[4000]
  population O = Other[10]
  group E = P[0:3200]
  group E2 = E[100:200]
  projection Ce = Exc(E -> P) {
    connect fixed_probability(0.02, autapses = false)
    we = 2 mV
    delay = 1.5 ms
  }
  projection Co = Exc(O -> E2[10:20]) {
    connect fixed_indegree(n = 5, multapses = false)
    w = we * i / N_pre + 0 mV * j / N_post
    delay = 1 ms + rand() * 19 ms
  }
  record v(E2[0:10]) every 10
  record ge(P)
  record rate(O)
}
)";

TEST(ProjectionSema, Interface) {
  std::ostringstream errors;
  DiagnosticEngine diags(errors);
  auto module = parseSource("model.ncl", kModel, diags);
  ASSERT_TRUE(module) << errors.str();
  NetworkModel net;
  ASSERT_TRUE(analyze(*module, diags, net)) << errors.str();
  ASSERT_EQ(net.projections.size(), 2u);

  const ProjectionModel &ce = net.projections[0];
  EXPECT_EQ(ce.decl->name, "Ce");
  EXPECT_EQ(ce.synapse->name, "Exc");
  EXPECT_EQ(ce.pre, 0);
  EXPECT_EQ(ce.post, 0);
  EXPECT_EQ(ce.preBegin, 0);
  EXPECT_EQ(ce.preEnd, 3200);
  EXPECT_EQ(ce.postBegin, 0);
  EXPECT_EQ(ce.postEnd, 4000);
  EXPECT_EQ(ce.connect.rule, ConnectSpec::Rule::FixedProbability);
  EXPECT_DOUBLE_EQ(ce.connect.p, 0.02);
  EXPECT_FALSE(ce.connect.autapses);
  EXPECT_TRUE(ce.connect.multapses);
  ASSERT_EQ(ce.parameters.size(), 2u);
  EXPECT_DOUBLE_EQ(ce.parameters[ce.parameterIndex("we")].value, 2e-3);
  EXPECT_DOUBLE_EQ(ce.parameters[ce.parameterIndex("half")].value, 1e-3); // follows we
  EXPECT_DOUBLE_EQ(ce.delay, 1.5e-3);
  EXPECT_EQ(ce.delayExpr, nullptr);
  EXPECT_EQ(ce.stateInit.at("w"), ce.synapse->state[0].value.get());
  EXPECT_EQ(ce.randomSites, 1u); // u = rand()

  // on_pre against Cell -> Cell.
  const auto &onPre = ce.synapse->onPre;
  ASSERT_EQ(onPre.size(), 3u);
  EXPECT_EQ(onPre[0].target, Assignment::AssignTarget::PostState);
  EXPECT_EQ(onPre[0].targetVariable, "ge");
  auto *sum = llvm::cast<BinaryExpr>(onPre[0].value.get());
  EXPECT_EQ(llvm::cast<NameExpr>(sum->lhs.get())->resolution, NameExpr::Resolution::SynapseState);
  EXPECT_EQ(llvm::cast<NameExpr>(sum->rhs.get())->resolution,
            NameExpr::Resolution::SynapseParameter);
  EXPECT_EQ(onPre[2].target, Assignment::AssignTarget::SynapseState);
  const auto &onPost = ce.synapse->onPost;
  ASSERT_EQ(onPost.size(), 1u);
  // `v` and `v_post` both name the postsynaptic neuron's v.
  int postNames = 0;
  forEachSubExpression(*onPost[0].value, [&](const Expr &e) {
    if (auto *n = llvm::dyn_cast<NameExpr>(&e); n && (n->name == "v" || n->name == "v_post")) {
      EXPECT_EQ(n->resolution, NameExpr::Resolution::PostState);
      EXPECT_EQ(n->variable, "v");
      ++postNames;
    }
  });
  EXPECT_EQ(postNames, 2);

  // The second projection has its own copy, resolved against Other -> Cell.
  const ProjectionModel &co = net.projections[1];
  EXPECT_NE(co.synapse, ce.synapse);
  EXPECT_EQ(co.pre, 1);
  EXPECT_EQ(co.preBegin, 0);
  EXPECT_EQ(co.preEnd, 10);
  EXPECT_EQ(co.post, 0);
  EXPECT_EQ(co.postBegin, 110);
  EXPECT_EQ(co.postEnd, 120);
  EXPECT_EQ(co.connect.rule, ConnectSpec::Rule::FixedInDegree);
  EXPECT_EQ(co.connect.n, 5);
  EXPECT_FALSE(co.connect.multapses);
  EXPECT_DOUBLE_EQ(co.parameters[co.parameterIndex("we")].value, 1.62e-3);
  ASSERT_NE(co.delayExpr, nullptr);
  EXPECT_EQ(co.stateInit.at("w"), co.decl->overrides[0].value.get());
  EXPECT_EQ(co.randomSites, 2u); // u = rand(), then the delay's
  const Assignment &input = co.synapse->onPre[1];
  EXPECT_EQ(input.target, Assignment::AssignTarget::PostInput);
  EXPECT_EQ(input.targetVariable, "I");
  bool sawPre = false;
  forEachSubExpression(*input.value, [&](const Expr &e) {
    if (auto *n = llvm::dyn_cast<NameExpr>(&e); n && n->name == "tau_pre")
      sawPre = n->resolution == NameExpr::Resolution::PreParameter && n->variable == "tau";
  });
  EXPECT_TRUE(sawPre);
  bool sawIndices = false;
  forEachSubExpression(*co.stateInit.at("w"), [&](const Expr &e) {
    if (auto *n = llvm::dyn_cast<NameExpr>(&e); n && n->name == "j")
      sawIndices = n->resolution == NameExpr::Resolution::PostIndex;
  });
  EXPECT_TRUE(sawIndices);

  ASSERT_EQ(net.stateMonitors.size(), 2u);
  EXPECT_EQ(net.stateMonitors[0].population, 0);
  EXPECT_EQ(net.stateMonitors[0].var, "v");
  EXPECT_EQ(net.stateMonitors[0].begin, 100);
  EXPECT_EQ(net.stateMonitors[0].end, 110);
  EXPECT_EQ(net.stateMonitors[0].every, 10);
  EXPECT_EQ(net.stateMonitors[0].name, "P_v"); // a range takes its population's name
  EXPECT_EQ(net.stateMonitors[1].name, "P_ge");
  EXPECT_EQ(net.stateMonitors[1].begin, 0);
  EXPECT_EQ(net.stateMonitors[1].end, 4000);
  EXPECT_EQ(net.stateMonitors[1].every, 1);
  ASSERT_EQ(net.rateMonitors.size(), 1u);
  EXPECT_EQ(net.rateMonitors[0].population, 1);
  EXPECT_EQ(net.rateMonitors[0].name, "O_rate");
}

} // namespace
