//===- MonitorTest.cpp - State and rate monitors through the C API -------===//
//
// fake_model_monitors (fixtures/fake_model.c with FAKE_MONITORS) records
// v of every neuron of P each step, w of P's neurons [2, 7) every 3 steps
// and Q's rate. Its neurons are predictable: at the start of step n, v of
// neuron i is n mod (i + 2) and w is i * gain + n * I, and neuron i spikes
// in step n when (n + 1) % (i + 2) == 0. Each monitor call is tested in
// every state of a model: a null handle, bad names, before init, between
// runs, after a failed run and after a size change.
//
//===----------------------------------------------------------------------===//
#include "ncl/runtime.h"
#include "ncl/runtime.hpp"

#include "RuntimeTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace ncl_test;

constexpr double kDt = 1e-4;

struct Samples {
  std::vector<double> t, values;
  int64_t rows = -1;
};

Samples samples(const ncl_model *m, const char *name) {
  Samples s;
  s.rows = ncl_get_monitor(m, name, nullptr, nullptr, 0);
  const int64_t width = ncl_monitor_width(m, name);
  EXPECT_GE(s.rows, 0) << lastError();
  EXPECT_GE(width, 0) << lastError();
  if (s.rows < 0 || width < 0)
    return s;
  s.t.resize(static_cast<size_t>(s.rows));
  s.values.resize(static_cast<size_t>(s.rows * width));
  EXPECT_EQ(ncl_get_monitor(m, name, s.t.data(), s.values.data(), s.rows), s.rows);
  return s;
}

/// v of P sampled every step over [0, steps): row n, neuron i.
void expectV(const ncl_model *m, int64_t steps) {
  Samples s = samples(m, "P_v");
  ASSERT_EQ(s.rows, steps);
  ASSERT_EQ(ncl_monitor_samples(m, "P_v"), steps);
  for (int64_t n = 0; n < steps; ++n) {
    EXPECT_EQ(s.t[n], static_cast<double>(n) * kDt);
    for (int64_t i = 0; i < 10; ++i)
      EXPECT_EQ(s.values[n * 10 + i], static_cast<double>(n % (i + 2)))
          << "step " << n << " i " << i;
  }
}

/// w of P[2:7] every 3 steps, with gain 1 and I = 0.25.
void expectW(const ncl_model *m, int64_t steps) {
  Samples s = samples(m, "P_w");
  ASSERT_EQ(s.rows, (steps + 2) / 3);
  for (int64_t r = 0; r < s.rows; ++r) {
    EXPECT_EQ(s.t[r], static_cast<double>(3 * r) * kDt);
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(s.values[r * 5 + j], static_cast<double>(2 + j) + 0.25 * static_cast<double>(3 * r))
          << "row " << r << " column " << j;
  }
}

/// Q's rate: its spikes in step n over 5 neurons * dt, at (n + 1) * dt.
void expectRate(const ncl_model *m, int64_t steps) {
  Samples s = samples(m, "Q_rate");
  ASSERT_EQ(s.rows, steps);
  for (int64_t n = 0; n < steps; ++n) {
    int count = 0;
    for (int64_t i = 0; i < 5; ++i)
      count += (n + 1) % (i + 2) == 0;
    EXPECT_EQ(s.t[n], static_cast<double>(n + 1) * kDt);
    EXPECT_DOUBLE_EQ(s.values[n], count / (5 * kDt)) << "step " << n;
  }
}

ModelPtr openMonitored(const char *path, int threads) {
  ModelPtr m = open(path);
  if (!m)
    return m;
  EXPECT_EQ(ncl_set_threads(m.get(), threads), NCL_OK);
  EXPECT_EQ(ncl_set_param(m.get(), "P", "I", 0.25), NCL_OK);
  return m;
}

TEST(Monitors, NullHandleAndBadNames) {
  double d = 0;
  int64_t k = 0;
  EXPECT_EQ(ncl_num_monitors(nullptr), -1);
  EXPECT_EQ(ncl_monitor_name(nullptr, 0), nullptr);
  EXPECT_EQ(ncl_monitor_samples(nullptr, "P_v"), -1);
  EXPECT_EQ(ncl_monitor_width(nullptr, "P_v"), -1);
  EXPECT_EQ(ncl_get_monitor(nullptr, "P_v", &d, &d, 1), -1);
  EXPECT_EQ(ncl_monitor_indices(nullptr, "P_v", &k, 1), -1);
  EXPECT_EQ(ncl_monitor_memory(nullptr, 10), -1);
  EXPECT_EQ(lastError(), "NULL model handle");

  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_MONITORS);
  ASSERT_TRUE(m);
  EXPECT_EQ(ncl_monitor_name(m.get(), 3), nullptr);
  EXPECT_EQ(ncl_monitor_name(m.get(), -1), nullptr);
  EXPECT_EQ(ncl_monitor_samples(m.get(), nullptr), -1);
  EXPECT_EQ(lastError(), "NULL monitor name");
  EXPECT_EQ(ncl_get_monitor(m.get(), "P_u", nullptr, nullptr, 0), -1);
  EXPECT_EQ(lastError(), "unknown monitor 'P_u'; the model has 'P_v', 'P_w', 'Q_rate'");
  EXPECT_EQ(ncl_get_monitor(m.get(), "P_v", nullptr, nullptr, -1), -1);
  EXPECT_EQ(ncl_monitor_indices(m.get(), "P_w", nullptr, 3), -1);
  EXPECT_EQ(ncl_monitor_indices(m.get(), "Q_rate", &k, 1), -1);
  EXPECT_TRUE(contains(lastError(), "'Q_rate' is a rate monitor")) << lastError();
  EXPECT_EQ(ncl_monitor_memory(m.get(), -1), -1);

  // A model without monitors says how to add one.
  ModelPtr plain = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(plain);
  EXPECT_EQ(ncl_num_monitors(plain.get()), 0);
  EXPECT_EQ(ncl_monitor_samples(plain.get(), "P_v"), -1);
  EXPECT_TRUE(contains(lastError(), "the model has none")) << lastError();
}

TEST(Monitors, MalformedMonitorTableIsRefusedAtLoad) {
  EXPECT_EQ(openError(NCL_FIXTURE_BAD_MONITOR_VAR),
            std::string("'") + NCL_FIXTURE_BAD_MONITOR_VAR +
                "' has a malformed NCL model descriptor: monitor 0 ('P_v') records variable 5 "
                "of a population with 2; recompile it with this nclc");
}

TEST(Monitors, IntrospectionBeforeInit) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_MONITORS);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_num_monitors(m.get()), 3);
  EXPECT_STREQ(ncl_monitor_name(m.get(), 0), "P_v");
  EXPECT_STREQ(ncl_monitor_name(m.get(), 1), "P_w");
  EXPECT_STREQ(ncl_monitor_name(m.get(), 2), "Q_rate");
  EXPECT_EQ(ncl_monitor_width(m.get(), "P_v"), 10);
  EXPECT_EQ(ncl_monitor_width(m.get(), "P_w"), 5);
  EXPECT_EQ(ncl_monitor_width(m.get(), "Q_rate"), 1);
  for (const char *name : {"P_v", "P_w", "Q_rate"})
    EXPECT_EQ(ncl_monitor_samples(m.get(), name), 0) << name;
  std::vector<int64_t> indices(8, -1);
  EXPECT_EQ(ncl_monitor_indices(m.get(), "P_w", indices.data(), 8), 5);
  EXPECT_EQ(indices, (std::vector<int64_t>{2, 3, 4, 5, 6, -1, -1, -1}));
  // 8-byte samples: v 10 per step, w 5 every third step, one count per step.
  EXPECT_EQ(ncl_monitor_memory(m.get(), 0), 0);
  EXPECT_EQ(ncl_monitor_memory(m.get(), 1000), 8 * (1000 * 10 + 334 * 5 + 1000));
}

TEST(Monitors, SamplesBetweenRunsMatchTheModel) {
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS, threads);
    ASSERT_TRUE(m);
    ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
    EXPECT_EQ(ncl_monitor_samples(m.get(), "P_v"), 0);
    // Short chunks, so that samples cross chunk boundaries too.
    ASSERT_EQ(ncl_set_chunk_steps(m.get(), 4), NCL_OK);
    ASSERT_EQ(ncl_run_steps(m.get(), 10), NCL_OK);
    expectV(m.get(), 10);
    expectW(m.get(), 10);
    expectRate(m.get(), 10);
    ASSERT_EQ(ncl_run_steps(m.get(), 0), NCL_OK);
    ASSERT_EQ(ncl_run_steps(m.get(), 27), NCL_OK);
    expectV(m.get(), 37);
    expectW(m.get(), 37);
    expectRate(m.get(), 37);
    // The rate agrees with the spike count.
    Samples rate = samples(m.get(), "Q_rate");
    double total = 0;
    for (double r : rate.values)
      total += r * 5 * kDt;
    EXPECT_DOUBLE_EQ(total, static_cast<double>(ncl_spike_count(m.get(), "Q")));
    // ncl_init starts the monitors afresh.
    ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
    EXPECT_EQ(ncl_monitor_samples(m.get(), "P_w"), 0);
    ASSERT_EQ(ncl_run_steps(m.get(), 5), NCL_OK);
    expectW(m.get(), 5);
  }
}

TEST(Monitors, Float32SamplesConvertToDouble) {
  ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS_F32, 2);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_run_steps(m.get(), 20), NCL_OK);
  expectV(m.get(), 20);
  expectW(m.get(), 20);
  expectRate(m.get(), 20);
  EXPECT_EQ(ncl_monitor_memory(m.get(), 3), 4 * (3 * 10 + 1 * 5) + 8 * 3);
}

TEST(Monitors, AFailedRunKeepsTheSamplesBeforeIt) {
  ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS, 2);
  ASSERT_TRUE(m);
  // Neuron 3 of P becomes NaN in step 12: the run stops after it.
  ASSERT_EQ(ncl_set_param(m.get(), "P", "nan_step", 12), NCL_OK);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 50), NCL_OK);
  ASSERT_EQ(ncl_run_steps(m.get(), 100), NCL_ERROR_NUMERIC);
  ASSERT_EQ(ncl_current_step(m.get()), 13);
  expectV(m.get(), 13);
  expectW(m.get(), 13);
  expectRate(m.get(), 13);
}

TEST(Monitors, SizeChanges) {
  ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS, 1);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_run_steps(m.get(), 4), NCL_OK);
  // A monitor of the whole population follows its size; samples restart.
  ASSERT_EQ(ncl_set_size(m.get(), "Q", 3), NCL_OK);
  EXPECT_EQ(ncl_monitor_samples(m.get(), "Q_rate"), 0);
  ASSERT_EQ(ncl_set_size(m.get(), "P", 7), NCL_OK);
  EXPECT_EQ(ncl_monitor_width(m.get(), "P_v"), 7);
  EXPECT_EQ(ncl_monitor_width(m.get(), "P_w"), 5);
  ASSERT_EQ(ncl_run_steps(m.get(), 3), NCL_OK);
  Samples v = samples(m.get(), "P_v");
  ASSERT_EQ(v.values.size(), 21u);
  EXPECT_EQ(v.values[2 * 7 + 6], 2.0); // step 2, neuron 6
  // A range that no longer fits is refused at init, naming the monitor.
  ASSERT_EQ(ncl_set_size(m.get(), "P", 5), NCL_OK);
  EXPECT_EQ(ncl_init(m.get(), 1), NCL_ERROR_ARGUMENT);
  EXPECT_EQ(lastError(), "the monitor 'P_w' records neurons 2 to 6 of population 'P', which "
                         "has 5 now");
}

TEST(Monitors, ARunWhoseSamplesDoNotFitIsRefusedBeforeItsFirstStep) {
  ASSERT_EQ(setenv("NCL_MEMORY_LIMIT", "1M", 1), 0);
  ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS, 1);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  const ncl_status status = ncl_run_steps(m.get(), 100000); // 10 MB of samples
  const std::string message = lastError();
  ASSERT_EQ(unsetenv("NCL_MEMORY_LIMIT"), 0);
  EXPECT_EQ(status, NCL_ERROR_MEMORY);
  EXPECT_TRUE(contains(message, "not enough memory: recording the monitors to step 100000 needs "))
      << message;
  EXPECT_EQ(ncl_current_step(m.get()), 0);
  // Nothing was lost: a shorter run goes on.
  ASSERT_EQ(ncl_run_steps(m.get(), 30), NCL_OK);
  expectV(m.get(), 30);
}

TEST(Monitors, CppWrapper) {
  ncl::Model model(NCL_FIXTURE_FAKE_MODEL_MONITORS);
  model.runSteps(6);
  const ncl::MonitorSamples w = model.monitor("P_w");
  EXPECT_EQ(w.width, 5);
  EXPECT_EQ(w.times, (std::vector<double>{0.0, 3 * kDt}));
  ASSERT_EQ(w.values.size(), 10u);
  EXPECT_EQ(w.values[5], 2.0); // neuron 2 at step 3, I = 0
  EXPECT_THROW(model.monitor("nope"), ncl::Error);
}

TEST(Monitors, WrittenAsNpyWithRunJson) {
  ModelPtr m = openMonitored(NCL_FIXTURE_FAKE_MODEL_MONITORS, 1);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_run_steps(m.get(), 7), NCL_OK);
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();
  const std::string v = readFile(dir + "/P_v.npy");
  EXPECT_TRUE(contains(v, "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 10), }"));
  EXPECT_EQ(v.size(), 128u + 7 * 10 * 8);
  EXPECT_TRUE(contains(readFile(dir + "/P_w.npy"), "'shape': (3, 5), }"));
  EXPECT_TRUE(contains(readFile(dir + "/P_w_t.npy"), "'descr': '<f8'"));
  EXPECT_TRUE(contains(readFile(dir + "/P_w_i.npy"), "{'descr': '<i8', 'fortran_order': False, "
                                                     "'shape': (5,), }"));
  EXPECT_TRUE(contains(readFile(dir + "/Q_rate.npy"), "'shape': (7,), }"));
  EXPECT_TRUE(contains(readFile(dir + "/Q_rate_t.npy"), "'shape': (7,), }"));
  const std::string json = readFile(dir + "/run.json");
  EXPECT_TRUE(contains(json, "\"P_w\": {\"kind\": \"state\", \"population\": \"P\", \"variable\": "
                             "\"w\", \"neurons\": [2, 7], \"every\": 3, \"samples\": 3}"))
      << json;
  EXPECT_TRUE(contains(json, "\"Q_rate\": {\"kind\": \"rate\", \"population\": \"Q\", "
                             "\"samples\": 7}"))
      << json;
  EXPECT_TRUE(contains(json, "\"P_v.npy\", \"P_v_t.npy\", \"P_v_i.npy\"")) << json;
}

} // namespace
