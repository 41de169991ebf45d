//===- RuntimeTest.cpp - Unit tests of libnclrt's C API and C++ wrapper ---===//
//
// Runs against hand-written model libraries (fixtures/*.c) whose behaviour
// is known exactly: in fake_model, neuron i of a population spikes every
// (i + 2) steps. The tests pin the promises of docs/runtime.md: load errors
// and their wording, unit checking of parameters, sorted and thread-count
// independent results, the spike-buffer drain path, NaN reports and the
// .npy/run.json output.
//
//===----------------------------------------------------------------------===//
#include "ncl/runtime.h"
#include "ncl/runtime.hpp"

#include "RuntimeTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace ncl_test;

// --- Loading -----------------------------------------------------------------

TEST(Load, MissingFile) {
  std::string e = openError("/nonexistent/dir/model.so");
  EXPECT_EQ(e.rfind("cannot open '/nonexistent/dir/model.so': ", 0), 0u) << e;
}

TEST(Load, ForeignLibrary) {
  EXPECT_EQ(openError(NCL_FIXTURE_FOREIGN),
            std::string("'") + NCL_FIXTURE_FOREIGN + "' is not an NCL model (no ncl_model symbol)");
}

TEST(Load, WrongAbiVersion) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_ABI),
            std::string("'") + NCL_FIXTURE_BAD_ABI +
                "' was built for NCL ABI version 999, this runtime supports "
                "version " +
                std::to_string(NCL_ABI_VERSION) + "; recompile it with this nclc");
}

TEST(Load, PreviousAbiVersion) {
  // A library from an nclc of ABI 2, whose descriptor had kernels in the
  // population table: refused before anything past the version is read.
  EXPECT_EQ(openError(NCL_FIXTURE_ABI2),
            std::string("'") + NCL_FIXTURE_ABI2 +
                "' was built for NCL ABI version 2, this runtime supports version " +
                std::to_string(NCL_ABI_VERSION) + "; recompile it with this nclc");
}

/// The message for a fake_model whose descriptor is malformed by `why`.
std::string malformedMessage(const char *path, const std::string &why) {
  return std::string("'") + path + "' has a malformed NCL model descriptor: " + why +
         "; recompile it with this nclc";
}

// fake_model's buffer table is P.params, P.v, P.w, P.refractory_until, P's
// spike buffers, then Q's; its stages P.init, Q.init, P.update, Q.update.
TEST(Load, MalformedBufferTableNamesTheEntry) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_POPULATION_INDEX),
            malformedMessage(NCL_FIXTURE_BAD_POPULATION_INDEX,
                             "buffer 2 ('P.w') belongs to population 7, but the model has 2 "
                             "populations"));
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_STATE_ELEMENT),
            malformedMessage(NCL_FIXTURE_BAD_STATE_ELEMENT,
                             "buffer 1 ('P.v') holds f32 elements, but a state buffer of this "
                             "64-bit model holds f64"));
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_NO_PARAMS),
            malformedMessage(NCL_FIXTURE_BAD_NO_PARAMS, "population 'Q' has no parameter buffer"));
}

TEST(Load, StageWithoutAFunctionIsNamed) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_STAGE_FN),
            malformedMessage(NCL_FIXTURE_BAD_STAGE_FN, "stage 3 ('Q.update') has no function"));
}

// Since ABI 7: a k-WTA stage selects in its population's kwta-order buffer.
TEST(Load, KwtaStageWithoutItsOrderBufferIsNamed) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_KWTA_ORDER),
            malformedMessage(NCL_FIXTURE_BAD_KWTA_ORDER,
                             "stage 4 ('P.kwta') selects winners, but its population has no "
                             "kwta-order buffer"));
}

// Since ABI 9: a spike gate leaves its keys, then its gate, in the kwta-key buffer.
TEST(Load, SpikeGateWithoutItsKeyBufferIsNamed) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_KWTA_KEY),
            malformedMessage(NCL_FIXTURE_BAD_KWTA_KEY,
                             "stage 4 ('P.kwta_gate') gates spikes, but its population has no "
                             "kwta-key buffer"));
}

TEST(Load, WrongMagic) {
  std::string e = openError(NCL_FIXTURE_BAD_MAGIC);
  EXPECT_TRUE(contains(e, "' is not an NCL model (bad magic number 0xdeadbeef)")) << e;
}

TEST(Load, FunctionNamedNclModel) {
  std::string e = openError(NCL_FIXTURE_FUNC_SYMBOL);
  EXPECT_TRUE(contains(e, "is not an NCL model")) << e;
}

TEST(Load, NullAndEmptyPath) {
  EXPECT_FALSE(openError(nullptr).empty());
  EXPECT_FALSE(openError("").empty());
}

TEST(Load, RelativeNameIsAFileNotALibrarySearch) {
  std::string path = NCL_FIXTURE_FAKE_MODEL;
  std::string dir = path.substr(0, path.rfind('/'));
  char old[4096];
  ASSERT_NE(getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(chdir(dir.c_str()), 0);
  ModelPtr m(ncl_open("fake_model.so"), &ncl_close);
  std::string err = ncl_last_error();
  ASSERT_EQ(chdir(old), 0);
  EXPECT_NE(m.get(), nullptr) << err;
}

TEST(Load, Introspection) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_STREQ(ncl_model_name(m.get()), "Fake");
  EXPECT_DOUBLE_EQ(ncl_dt(m.get()), 1e-4);
  EXPECT_EQ(ncl_num_populations(m.get()), 2);
  EXPECT_STREQ(ncl_population_name(m.get(), 0), "P");
  EXPECT_STREQ(ncl_population_name(m.get(), 1), "Q");
  EXPECT_EQ(ncl_population_name(m.get(), 2), nullptr);
  EXPECT_EQ(ncl_population_size(m.get(), "P"), 10);
  EXPECT_EQ(ncl_default_seed(m.get()), 7u);
  EXPECT_EQ(ncl_runtime_abi_version(), NCL_ABI_VERSION);
  double tau = 0;
  ASSERT_EQ(ncl_get_param(m.get(), "P", "tau", &tau), NCL_OK);
  EXPECT_DOUBLE_EQ(tau, 0.02);
}

// --- Bad input never crashes ---------------------------------------------------

TEST(Api, NullHandleEverywhere) {
  double d = 0;
  ncl_timings t;
  EXPECT_EQ(ncl_descriptor(nullptr), nullptr);
  EXPECT_EQ(ncl_model_name(nullptr), nullptr);
  EXPECT_EQ(ncl_model_path(nullptr), nullptr);
  EXPECT_EQ(ncl_dt(nullptr), 0.0);
  EXPECT_EQ(ncl_num_populations(nullptr), -1);
  EXPECT_EQ(ncl_population_name(nullptr, 0), nullptr);
  EXPECT_EQ(ncl_population_size(nullptr, "P"), -1);
  EXPECT_EQ(ncl_set_param(nullptr, "P", "I", 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param_str(nullptr, "P.I", "1nA"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_get_param(nullptr, "P", "I", &d), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_size(nullptr, "P", 3), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_threads(nullptr, 2), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_threads(nullptr), -1);
  EXPECT_EQ(ncl_set_chunk_steps(nullptr, 2), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_spike_buffer(nullptr, 2), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_init(nullptr, 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run(nullptr, 0.1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run_steps(nullptr, 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_current_step(nullptr), -1);
  EXPECT_EQ(ncl_spike_count(nullptr, "P"), -1);
  EXPECT_EQ(ncl_get_spikes(nullptr, "P", nullptr, nullptr, 0), -1);
  EXPECT_EQ(ncl_get_state(nullptr, "P", "v", nullptr, 0), -1);
  EXPECT_EQ(ncl_set_state(nullptr, "P", "v", &d, 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_get_timings(nullptr, &t), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_write_output(nullptr, "/tmp"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(lastError(), "NULL model handle");
  ncl_close(nullptr);
}

TEST(Api, NullNamesAndBadArguments) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  double d = 0;
  EXPECT_EQ(ncl_population_size(m.get(), nullptr), -1);
  EXPECT_EQ(ncl_set_param(m.get(), nullptr, "I", 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param(m.get(), "P", nullptr, 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param(m.get(), "P", "I", NAN), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param_str(m.get(), nullptr, "1"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.I", nullptr), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_get_param(m.get(), "P", "I", nullptr), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_size(m.get(), "P", 0), NCL_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "must be 1..")) << lastError();
  EXPECT_EQ(ncl_set_size(m.get(), "P", -5), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_threads(m.get(), 0), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_threads(m.get(), -1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_chunk_steps(m.get(), -1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run(m.get(), -1.0), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run(m.get(), NAN), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run(m.get(), 1e30), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_run_steps(m.get(), -3), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_get_state(m.get(), "P", "v", nullptr, 0), -1);
  EXPECT_TRUE(contains(lastError(), "no state yet")) << lastError();
  EXPECT_EQ(ncl_get_spikes(m.get(), "P", nullptr, nullptr, -1), -1);
  EXPECT_EQ(ncl_set_state(m.get(), "P", "v", nullptr, 10), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_write_output(m.get(), nullptr), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_get_param(m.get(), "P", "I", &d), NCL_OK);
}

TEST(Api, UnknownNamesListTheKnownOnes) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_set_param(m.get(), "X", "I", 1), NCL_ERROR_NOT_FOUND);
  EXPECT_EQ(lastError(), "model 'Fake' has no population 'X'; its populations "
                         "are: P, Q");
  EXPECT_EQ(ncl_set_param(m.get(), "P", "J", 1), NCL_ERROR_NOT_FOUND);
  EXPECT_EQ(lastError(), "population 'P' has no parameter 'J'; its parameters "
                         "are: I, tau, gain, nan_step, nan_neuron");
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  EXPECT_EQ(ncl_get_state(m.get(), "P", "u", nullptr, 0), -1);
  EXPECT_EQ(lastError(), "population 'P' has no state variable 'u'; its "
                         "variables are: v, w");
  EXPECT_EQ(ncl_get_spikes(m.get(), "Q", nullptr, nullptr, 0), -1);
  EXPECT_TRUE(contains(lastError(), "'Q' does not record its spikes"));
}

// --- Parameters with units ---------------------------------------------------

TEST(Params, QuantitiesWithUnits) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  double v = 0;
  ASSERT_EQ(ncl_set_param_str(m.get(), "P.I", "2.5nA"), NCL_OK) << lastError();
  ncl_get_param(m.get(), "P", "I", &v);
  EXPECT_DOUBLE_EQ(v, 2.5e-9);
  ASSERT_EQ(ncl_set_param_str(m.get(), "P.tau", "5 ms"), NCL_OK);
  ncl_get_param(m.get(), "P", "tau", &v);
  EXPECT_DOUBLE_EQ(v, 5e-3);
  ASSERT_EQ(ncl_set_param_str(m.get(), "Q.gain", "3"), NCL_OK);
  ncl_get_param(m.get(), "Q", "gain", &v);
  EXPECT_DOUBLE_EQ(v, 3);
  // Only Q changed.
  ncl_get_param(m.get(), "P", "gain", &v);
  EXPECT_DOUBLE_EQ(v, 1);
}

TEST(Params, BareNumberNeedsAUnit) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.I", "2.5"), NCL_ERROR_UNITS);
  EXPECT_EQ(lastError(), "P.I = '2.5' has no unit, but P.I is in A; add a "
                         "unit, e.g. '2.5nA'");
  double v = 1;
  ncl_get_param(m.get(), "P", "I", &v);
  EXPECT_EQ(v, 0.0) << "a rejected value must not be stored";
}

TEST(Params, WrongDimension) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.I", "2 ms"), NCL_ERROR_UNITS);
  EXPECT_EQ(lastError(), "P.I is in A, but '2 ms' is in s; use a unit such as '2nA'");
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.gain", "2 mV"), NCL_ERROR_UNITS);
  EXPECT_TRUE(contains(lastError(), "P.gain is dimensionless")) << lastError();
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.I", "2 furlongs"), NCL_ERROR_UNITS);
  EXPECT_TRUE(contains(lastError(), "cannot read '2 furlongs'")) << lastError();
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.I", "lots"), NCL_ERROR_UNITS);
}

TEST(Params, BadTargets) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_set_param_str(m.get(), "I", "1nA"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(lastError(), "expected POPULATION.PARAMETER, got 'I'");
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.", "1nA"), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(ncl_set_param_str(m.get(), "Z.I", "1nA"), NCL_ERROR_NOT_FOUND);
  EXPECT_EQ(ncl_set_param_str(m.get(), "P.nope", "1nA"), NCL_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(lastError(), "its parameters are: I, tau")) << lastError();
}

TEST(Params, ReachKernelsWithoutReinit) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_param(m.get(), "P", "gain", 2.0), NCL_OK);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  std::vector<double> w = state(m.get(), "P", "w");
  ASSERT_EQ(w.size(), 10u);
  EXPECT_EQ(w[3], 6.0); // init: w = i * gain
  ASSERT_EQ(ncl_set_param_str(m.get(), "P.I", "1A"), NCL_OK);
  ASSERT_EQ(ncl_run_steps(m.get(), 5), NCL_OK);
  EXPECT_EQ(state(m.get(), "P", "w")[3], 11.0); // + I per step
}

// --- Stepping, sorting, determinism -------------------------------------------

TEST(Run, SpikesMatchTheModelAndAreSorted) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  ASSERT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  EXPECT_EQ(ncl_current_step(m.get()), 1000);
  SpikeList got = spikes(m.get(), "P");
  EXPECT_TRUE(got == expectedSpikes(10, 1000));
  EXPECT_EQ(ncl_spike_count(m.get(), "P"), static_cast<int64_t>(got.t.size()));
  // Q records nothing but still counts: sum over i<5 of floor(1000/(i+2)).
  EXPECT_EQ(ncl_spike_count(m.get(), "Q"), 500 + 333 + 250 + 200 + 166);
  // Partial copy returns the total and fills only what fits.
  double t[3];
  int64_t idx[3];
  EXPECT_EQ(ncl_get_spikes(m.get(), "P", t, idx, 3), static_cast<int64_t>(got.t.size()));
  EXPECT_EQ(idx[0], 0); // step 2
  EXPECT_EQ(t[0], 2 * 1e-4);
  EXPECT_EQ(idx[1], 1); // step 3
  EXPECT_EQ(t[1], 3 * 1e-4);
  EXPECT_EQ(idx[2], 0); // step 4: neurons 0 and 2, by index
  EXPECT_EQ(t[2], 4 * 1e-4);
}

TEST(Api, ParseQuantity) {
  double v = 0;
  ncl_dimension dim;
  ASSERT_EQ(ncl_parse_quantity("2.5nA", &v, dim), NCL_OK) << lastError();
  EXPECT_DOUBLE_EQ(v, 2.5e-9);
  const ncl_dimension ampere = {0, 0, 0, 2, 0, 0, 0, 0}; // doubled exponents
  EXPECT_TRUE(std::equal(dim, dim + 8, ampere));
  EXPECT_STREQ(ncl_dimension_name(dim), "A");
  ASSERT_EQ(ncl_parse_quantity("-70 mV", &v, dim), NCL_OK) << lastError();
  EXPECT_DOUBLE_EQ(v, -0.07);
  EXPECT_STREQ(ncl_dimension_name(dim), "V");
  ASSERT_EQ(ncl_parse_quantity("3", &v, nullptr), NCL_OK);
  EXPECT_EQ(v, 3.0);
  EXPECT_STREQ(ncl_dimension_name(nullptr), "1");
  EXPECT_EQ(ncl_parse_quantity("5 parsecs", &v, dim), NCL_ERROR_UNITS);
  EXPECT_TRUE(contains(lastError(), "cannot read '5 parsecs'")) << lastError();
  EXPECT_EQ(ncl_parse_quantity(nullptr, &v, dim), NCL_ERROR_ARGUMENT);
}

TEST(Run, DtChosenAtLoadTime) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_dt(m.get()), 1e-4);
  // Q accepts at most the network's dt (an explicit scheme); P any.
  EXPECT_EQ(ncl_set_dt(m.get(), 2e-4), NCL_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "population 'Q'")) << lastError();
  EXPECT_TRUE(contains(lastError(), "explicit scheme")) << lastError();
  EXPECT_EQ(ncl_dt(m.get()), 1e-4);
  for (double bad : {0.0, -1e-4, double(NAN), double(INFINITY), 1e-320})
    EXPECT_EQ(ncl_set_dt(m.get(), bad), NCL_ERROR_ARGUMENT) << bad;
  EXPECT_EQ(ncl_set_dt(nullptr, 1e-4), NCL_ERROR_ARGUMENT);
  // A smaller dt: 0.1 s is twice the steps, and times are steps * dt.
  ASSERT_EQ(ncl_set_dt(m.get(), 5e-5), NCL_OK) << lastError();
  EXPECT_EQ(ncl_dt(m.get()), 5e-5);
  ASSERT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  EXPECT_EQ(ncl_current_step(m.get()), 2000);
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, 2000, 5e-5));
  // Changing dt discards the state, like a size change.
  ASSERT_EQ(ncl_set_dt(m.get(), 1e-4), NCL_OK);
  ASSERT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  EXPECT_EQ(ncl_current_step(m.get()), 1000);
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, 1000));
}

TEST(Run, RunWithoutInitUsesDefaultSeed) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_run(m.get(), 0.001), NCL_OK) << lastError();
  EXPECT_EQ(ncl_current_step(m.get()), 10);
}

TEST(Run, RepeatedRunsContinue) {
  ModelPtr a = open(NCL_FIXTURE_FAKE_MODEL), b = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(a && b);
  ncl_init(a.get(), 3);
  ncl_init(b.get(), 3);
  ASSERT_EQ(ncl_run(a.get(), 0.05), NCL_OK);
  ASSERT_EQ(ncl_run(a.get(), 0.0), NCL_OK);
  ASSERT_EQ(ncl_run(a.get(), 0.05), NCL_OK);
  ASSERT_EQ(ncl_run(b.get(), 0.1), NCL_OK);
  EXPECT_EQ(ncl_current_step(a.get()), 1000);
  EXPECT_TRUE(spikes(a.get(), "P") == spikes(b.get(), "P"));
  EXPECT_EQ(state(a.get(), "P", "v"), state(b.get(), "P", "v"));
}

TEST(Run, IdenticalForAnyThreadCount) {
  SpikeList ref;
  std::vector<double> refV, refW;
  int64_t refQ = 0;
  for (int threads : {1, 2, 3, 7}) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
    ASSERT_TRUE(m);
    ASSERT_EQ(ncl_set_size(m.get(), "P", 1001), NCL_OK);
    ASSERT_EQ(ncl_set_size(m.get(), "Q", 3), NCL_OK); // fewer than threads
    ASSERT_EQ(ncl_set_param_str(m.get(), "P.I", "0.1 A"), NCL_OK);
    ASSERT_EQ(ncl_set_threads(m.get(), threads), NCL_OK);
    ASSERT_EQ(ncl_set_chunk_steps(m.get(), 97), NCL_OK);
    ASSERT_EQ(ncl_init(m.get(), 42), NCL_OK);
    ASSERT_EQ(ncl_run(m.get(), 0.03), NCL_OK) << lastError();
    ASSERT_EQ(ncl_run(m.get(), 0.0123), NCL_OK) << lastError();
    SpikeList s = spikes(m.get(), "P");
    std::vector<double> v = state(m.get(), "P", "v"), w = state(m.get(), "P", "w");
    if (threads == 1) {
      ref = s;
      refV = v;
      refW = w;
      refQ = ncl_spike_count(m.get(), "Q");
      EXPECT_TRUE(ref == expectedSpikes(1001, 423));
      continue;
    }
    EXPECT_TRUE(s == ref) << threads << " threads";
    ASSERT_EQ(v.size(), refV.size());
    EXPECT_EQ(std::memcmp(v.data(), refV.data(), v.size() * sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(w.data(), refW.data(), w.size() * sizeof(double)), 0);
    EXPECT_EQ(ncl_spike_count(m.get(), "Q"), refQ);
  }
}

TEST(Run, ChangingThreadsMidRunKeepsResults) {
  ModelPtr a = open(NCL_FIXTURE_FAKE_MODEL), b = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(a && b);
  ncl_init(a.get(), 1);
  ncl_init(b.get(), 1);
  ASSERT_EQ(ncl_run_steps(a.get(), 300), NCL_OK);
  ASSERT_EQ(ncl_set_threads(a.get(), 3), NCL_OK);
  ASSERT_EQ(ncl_run_steps(a.get(), 300), NCL_OK);
  ASSERT_EQ(ncl_run_steps(b.get(), 600), NCL_OK);
  EXPECT_TRUE(spikes(a.get(), "P") == spikes(b.get(), "P"));
}

TEST(Run, SmallSpikeBufferIsDrainedNotLost) {
  // Capacity 1 is raised to the thread's range (10 neurons), so the kernel
  // stops after nearly every step with a spike and the runtime drains and
  // calls again; the result must not change.
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_spike_buffer(m.get(), 1), NCL_OK);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  ASSERT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, 1000));
  // Same with threads and a capacity just above one step's worth.
  ModelPtr t = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(t);
  ncl_set_size(t.get(), "P", 100);
  ncl_set_threads(t.get(), 3);
  ncl_set_spike_buffer(t.get(), 40);
  ASSERT_EQ(ncl_run(t.get(), 0.1), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(t.get(), "P") == expectedSpikes(100, 1000));
}

TEST(Run, Float32ModelGivesTheSameSpikes) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_F32);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_descriptor(m.get())->real_bits, 32);
  ncl_set_threads(m.get(), 2);
  ASSERT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, 1000));
  std::vector<double> v = state(m.get(), "P", "v");
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[0], 0.0); // 1000 % 2 == 0: just spiked
  EXPECT_EQ(v[1], 1.0); // 1000 % 3 == 1
}

TEST(Run, SetSizeAndState) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_size(m.get(), "P", 4), NCL_OK);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  std::vector<double> v{1, 1, 1, 1};
  EXPECT_EQ(ncl_set_state(m.get(), "P", "v", v.data(), 3), NCL_ERROR_ARGUMENT);
  ASSERT_EQ(ncl_set_state(m.get(), "P", "v", v.data(), 4), NCL_OK);
  ASSERT_EQ(ncl_run_steps(m.get(), 1), NCL_OK);
  // Neuron 0 (period 2) reached 2 one step early.
  SpikeList s = spikes(m.get(), "P");
  ASSERT_EQ(s.i.size(), 1u);
  EXPECT_EQ(s.i[0], 0);
  EXPECT_EQ(s.t[0], 1e-4);
  // A new size discards the state until the next init/run.
  ASSERT_EQ(ncl_set_size(m.get(), "P", 6), NCL_OK);
  EXPECT_EQ(ncl_get_state(m.get(), "P", "v", nullptr, 0), -1);
  ASSERT_EQ(ncl_run_steps(m.get(), 1), NCL_OK);
  EXPECT_EQ(ncl_get_state(m.get(), "P", "v", nullptr, 0), 6);
}

// --- NaN detection --------------------------------------------------------------

TEST(Numeric, NaNStopsWithAClearMessageAndKeepsSpikes) {
  for (int threads : {1, 2}) {
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
    ASSERT_TRUE(m);
    ncl_set_threads(m.get(), threads);
    ncl_set_chunk_steps(m.get(), 500);
    ASSERT_EQ(ncl_set_param(m.get(), "P", "nan_step", 1700), NCL_OK);
    ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
    EXPECT_EQ(ncl_run(m.get(), 0.3), NCL_ERROR_NUMERIC);
    // The chunk 1500..2000 is replayed step by step to find the step.
    EXPECT_EQ(lastError(), "population 'P': variable 'v' of neuron 3 became NaN in step 1700 "
                           "(t = 0.17 s to 0.1701 s); check the parameters and dt");
    EXPECT_EQ(ncl_current_step(m.get()), 1701);
    // Everything up to the failing step is kept, nothing after it; neuron 3
    // stops spiking at step 1700.
    SpikeList s = spikes(m.get(), "P");
    SpikeList want = expectedSpikes(10, 1701);
    SpikeList kept;
    for (size_t k = 0; k < want.t.size(); ++k)
      if (!(want.i[k] == 3 && want.t[k] > 1700 * 1e-4)) {
        kept.t.push_back(want.t[k]);
        kept.i.push_back(want.i[k]);
      }
    EXPECT_TRUE(s == kept);
    // Further runs are refused until init.
    EXPECT_EQ(ncl_run(m.get(), 0.1), NCL_ERROR_STATE);
    EXPECT_TRUE(contains(lastError(), "call ncl_init to start again"));
    ncl_set_param(m.get(), "P", "nan_step", -1);
    ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
    EXPECT_EQ(ncl_run(m.get(), 0.1), NCL_OK) << lastError();
  }
}

TEST(Numeric, NonFiniteInitialValue) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_param(m.get(), "Q", "gain", 1e308), NCL_OK);
  EXPECT_EQ(ncl_init(m.get(), 1), NCL_ERROR_NUMERIC);
  // w = i * gain overflows from neuron 2 on (2e308 > DBL_MAX = 1.797e308).
  EXPECT_EQ(lastError(), "population 'Q': variable 'w' of neuron 2 became +Inf "
                         "in its initial value; check the parameters and dt");
}

// --- Output files -------------------------------------------------------------

void checkNpy(const std::string &bytes, const char *descr, size_t n) {
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t headerLen =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  ASSERT_GE(bytes.size(), 10 + headerLen);
  std::string header = bytes.substr(10, headerLen);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(header.rfind("{'descr': '" + std::string(descr) +
                             "', 'fortran_order': False, 'shape': (" + std::to_string(n) + ",), }",
                         0),
            0u)
      << header;
  EXPECT_EQ(bytes.size(), 10 + headerLen + 8 * n);
}

TEST(Output, NpyAndRunJson) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ncl_set_threads(m.get(), 2);
  ASSERT_EQ(ncl_init(m.get(), 99), NCL_OK);
  ASSERT_EQ(ncl_run(m.get(), 0.01), NCL_OK);
  const std::string dir = tempDir() + "/nested/out";
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();

  SpikeList want = expectedSpikes(10, 100);
  const size_t n = want.t.size();
  std::string t = readFile(dir + "/P_spike_t.npy");
  std::string i = readFile(dir + "/P_spike_i.npy");
  checkNpy(t, "<f8", n);
  checkNpy(i, "<i8", n);
  std::vector<double> tv(n);
  std::vector<int64_t> iv(n);
  std::memcpy(tv.data(), t.data() + t.size() - 8 * n, 8 * n);
  std::memcpy(iv.data(), i.data() + i.size() - 8 * n, 8 * n);
  EXPECT_TRUE((SpikeList{tv, iv}) == want);
  // Q records nothing, so it has no files.
  EXPECT_FALSE(std::ifstream(dir + "/Q_spike_t.npy").good());

  std::string json = readFile(dir + "/run.json");
  const std::string abiField = "\"abi_version\": " + std::to_string(NCL_ABI_VERSION);
  for (const char *part :
       {"\"model\": \"Fake\"", "\"source\": \"fake_model.c\"", abiField.c_str(),
        "\"precision\": 64", "\"dt\": 0.0001", "\"steps\": 100", "\"duration\": 0.01",
        "\"seed\": 99", "\"threads\": 2", "\"P\": {\"neuron\": \"Fake\", \"size\": 10",
        "\"Q\": {\"neuron\": \"Fake\", \"size\": 5", "\"timings\": {",
        "\"load_s\": ", "\"init_s\": ", "\"simulate_s\": "})
    EXPECT_TRUE(contains(json, part)) << part << "\n" << json;
  // P: 10 neurons, 0.01 s, n spikes.
  char rate[64];
  std::snprintf(rate, sizeof rate, "\"spikes\": %zu, \"rate_hz\": ", n);
  EXPECT_TRUE(contains(json, rate)) << json;
}

TEST(Output, EmptyRecordIsAValidEmptyArray) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK);
  checkNpy(readFile(dir + "/P_spike_t.npy"), "<f8", 0);
  checkNpy(readFile(dir + "/P_spike_i.npy"), "<i8", 0);
}

TEST(Output, UnwritableDirectory) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_write_output(m.get(), "/proc/no/such/dir"), NCL_ERROR_IO);
  EXPECT_TRUE(contains(lastError(), "cannot create output directory")) << lastError();
}

// --- C++ wrapper -------------------------------------------------------------

TEST(Cpp, WrapperThrowsAndOwns) {
  try {
    ncl::Model bad(NCL_FIXTURE_BAD_ABI);
    FAIL() << "expected ncl::Error";
  } catch (const ncl::Error &e) {
    EXPECT_EQ(e.status(), NCL_ERROR_LOAD);
    EXPECT_TRUE(contains(e.what(), "ABI version 999"));
  }
  ncl::Model m(NCL_FIXTURE_FAKE_MODEL);
  EXPECT_EQ(m.name(), "Fake");
  EXPECT_EQ(m.populations(), (std::vector<std::string>{"P", "Q"}));
  m.setParam("P.I", "3 nA");
  EXPECT_DOUBLE_EQ(m.param("P", "I"), 3e-9);
  EXPECT_THROW(m.setParam("P.I", "3"), ncl::Error);
  m.setThreads(2);
  m.init(5);
  m.run(0.01);
  ncl::Model moved = std::move(m);
  EXPECT_EQ(m.get(), nullptr);
  ncl::Spikes s = moved.spikes("P");
  EXPECT_EQ(s.times.size(), expectedSpikes(10, 100).t.size());
  EXPECT_EQ(moved.state("P", "v").size(), 10u);
  EXPECT_EQ(moved.step(), 100);
  EXPECT_THROW(moved.spikes("Q"), ncl::Error);
}

} // namespace
