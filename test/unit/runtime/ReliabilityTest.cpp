//===- ReliabilityTest.cpp - libnclrt under bad calls, files and values ---===//
//
// The promises of docs/runtime.md "What the runtime promises": every C API
// function in every state of a model answers with a result or an error and
// a message, never a crash; non-finite values are refused or reported at
// their exact step; memory is estimated before it is allocated; an output
// directory never mixes two runs, even when a write fails, and never
// follows a planted symlink; a truncated or foreign library is refused
// before dlopen. Expectations come from fake_model's definition (neuron i
// spikes every i + 2 steps) and from arithmetic on documented sizes.
//
//===----------------------------------------------------------------------===//
#include "ncl/runtime.h"

#include "RuntimeTestSupport.h"

#include <gtest/gtest.h>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ncl_test;

/// Sets ncl_last_error() to a known message, so a test can see that a
/// failing call replaced it with its own.
void setSentinelError() { ASSERT_EQ(ncl_open(""), nullptr); }
const char *const kSentinel = "no model path given";

/// Expects `result` to be the failure value, with a fresh message that
/// contains `part`.
#define EXPECT_FAILS(call, failValue, part)                                                        \
  do {                                                                                             \
    setSentinelError();                                                                            \
    const auto result_ = (call);                                                                   \
    EXPECT_EQ(result_, failValue) << #call;                                                        \
    const std::string message_ = lastError();                                                      \
    EXPECT_NE(message_, kSentinel) << #call << " set no message";                                  \
    EXPECT_TRUE(contains(message_, part)) << #call << ": " << message_;                            \
  } while (0)

std::string runJsonOf(const std::string &dir) { return readFile(dir + "/run.json"); }

bool exists(const std::string &path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (const dirent *e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

//===----------------------------------------------------------------------===//
// Every function in every state
//===----------------------------------------------------------------------===//

enum class State {
  Fresh,          // just opened
  Initialized,    // ncl_init
  Ran,            // 100 steps
  FailedRun,      // a NaN at step 50
  Resized,        // ran, then P resized to 7
  ThreadsChanged, // ran, then 3 threads
  DtChanged,      // ran, then dt = 0.05 ms
  Interrupted,    // a run stopped by ncl_interrupt
  FailedInit,     // a non-finite initial value
};

const char *stateName(State s) {
  static const char *const names[] = {"fresh",      "initialized", "ran",
                                      "failed run", "resized",     "threads changed",
                                      "dt changed", "interrupted", "failed init"};
  return names[static_cast<int>(s)];
}

/// The events fixture (P records spikes and the event "even"), in state s.
ModelPtr modelIn(State s) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL_EVENTS);
  if (!m)
    return m;
  ncl_model *h = m.get();
  switch (s) {
  case State::Fresh:
    break;
  case State::Initialized:
    EXPECT_EQ(ncl_init(h, 1), NCL_OK);
    break;
  case State::Ran:
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_OK);
    break;
  case State::FailedRun:
    EXPECT_EQ(ncl_set_param(h, "P", "nan_step", 50), NCL_OK);
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_ERROR_NUMERIC);
    break;
  case State::Resized:
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_OK);
    EXPECT_EQ(ncl_set_size(h, "P", 7), NCL_OK);
    break;
  case State::ThreadsChanged:
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_OK);
    EXPECT_EQ(ncl_set_threads(h, 3), NCL_OK);
    break;
  case State::DtChanged:
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_OK);
    EXPECT_EQ(ncl_set_dt(h, 5e-5), NCL_OK);
    break;
  case State::Interrupted:
    EXPECT_EQ(ncl_init(h, 1), NCL_OK);
    EXPECT_EQ(ncl_interrupt(h), NCL_OK);
    EXPECT_EQ(ncl_run_steps(h, 100), NCL_ERROR_INTERRUPTED);
    break;
  case State::FailedInit:
    EXPECT_EQ(ncl_set_param(h, "Q", "gain", 1e308), NCL_OK);
    EXPECT_EQ(ncl_init(h, 1), NCL_ERROR_NUMERIC);
    break;
  }
  return m;
}

bool hasState(State s) {
  return s == State::Initialized || s == State::Ran || s == State::FailedRun ||
         s == State::ThreadsChanged || s == State::Interrupted;
}

int64_t stepsIn(State s) {
  switch (s) {
  case State::Ran:
  case State::ThreadsChanged:
    return 100;
  case State::FailedRun:
    return 51; // the NaN appears in step 50
  default:
    return 0;
  }
}

double dtIn(State s) { return s == State::DtChanged ? 5e-5 : 1e-4; }

const char *statusIn(State s) {
  switch (s) {
  case State::FailedRun:
  case State::FailedInit:
    return "failed";
  case State::Interrupted:
    return "interrupted";
  default:
    return "complete";
  }
}

void exerciseEveryFunction(ncl_model *m, State s) {
  SCOPED_TRACE(stateName(s));
  const int64_t sizeP = s == State::Resized ? 7 : 10;
  const double dt = dtIn(s);
  double d = 0;

  // Introspection.
  ASSERT_NE(ncl_descriptor(m), nullptr);
  EXPECT_TRUE(contains(ncl_model_path(m), "fake_model_events.so"));
  EXPECT_STREQ(ncl_model_name(m), "Fake");
  EXPECT_EQ(ncl_dt(m), dt);
  EXPECT_EQ(ncl_default_seed(m), 7u);
  EXPECT_EQ(ncl_default_duration(m), 0.1);
  EXPECT_EQ(ncl_num_populations(m), 2);
  EXPECT_STREQ(ncl_population_name(m, 1), "Q");
  EXPECT_FAILS(ncl_population_name(m, -1), nullptr, "out of range");
  EXPECT_FAILS(ncl_population_name(m, 2), nullptr, "out of range");
  EXPECT_EQ(ncl_population_size(m, "P"), sizeP);
  EXPECT_FAILS(ncl_population_size(m, nullptr), -1, "NULL population name");
  EXPECT_FAILS(ncl_population_size(m, "X"), -1, "has no population 'X'");

  // Parameters.
  EXPECT_EQ(ncl_get_param(m, "P", "tau", &d), NCL_OK);
  EXPECT_EQ(d, 0.02);
  EXPECT_FAILS(ncl_get_param(m, "P", "tau", nullptr), NCL_ERROR_ARGUMENT, "NULL");
  EXPECT_FAILS(ncl_get_param(m, "P", nullptr, &d), NCL_ERROR_ARGUMENT, "NULL parameter");
  EXPECT_EQ(ncl_set_param(m, "P", "I", 0.0), NCL_OK);
  EXPECT_FAILS(ncl_set_param(m, "P", "I", NAN), NCL_ERROR_ARGUMENT, "NaN");
  EXPECT_FAILS(ncl_set_param(m, "P", "I", -INFINITY), NCL_ERROR_ARGUMENT, "-Inf");
  EXPECT_FAILS(ncl_set_param(m, "P", "nope", 1), NCL_ERROR_NOT_FOUND, "no parameter 'nope'");
  EXPECT_FAILS(ncl_set_param(m, nullptr, "I", 1), NCL_ERROR_ARGUMENT, "NULL population");
  EXPECT_EQ(ncl_set_param_str(m, "P.I", "0 nA"), NCL_OK);
  EXPECT_FAILS(ncl_set_param_str(m, "P.I", "inf nA"), NCL_ERROR_ARGUMENT, "infinite");
  EXPECT_FAILS(ncl_set_param_str(m, "P.I", ""), NCL_ERROR_UNITS, "cannot read ''");
  EXPECT_FAILS(ncl_set_param_str(m, "P.I", nullptr), NCL_ERROR_ARGUMENT, "NULL value");
  EXPECT_FAILS(ncl_set_param_str(m, nullptr, "1nA"), NCL_ERROR_ARGUMENT, "NULL");
  EXPECT_FAILS(ncl_set_param_str(m, "PI", "1nA"), NCL_ERROR_ARGUMENT, "POPULATION.PARAMETER");

  // Configuration, with values that are refused (valid ones define states).
  EXPECT_FAILS(ncl_set_size(m, "P", 0), NCL_ERROR_ARGUMENT, "must be 1..");
  EXPECT_FAILS(ncl_set_size(m, "P", -1), NCL_ERROR_ARGUMENT, "must be 1..");
  EXPECT_FAILS(ncl_set_size(m, "P", (int64_t{1} << 40) + 1), NCL_ERROR_ARGUMENT, "must be 1..");
  EXPECT_FAILS(ncl_set_size(m, "X", 3), NCL_ERROR_NOT_FOUND, "no population 'X'");
  EXPECT_FAILS(ncl_set_size(m, nullptr, 3), NCL_ERROR_ARGUMENT, "NULL");
  EXPECT_FAILS(ncl_set_dt(m, 0), NCL_ERROR_ARGUMENT, "dt must be a positive number");
  EXPECT_FAILS(ncl_set_dt(m, NAN), NCL_ERROR_ARGUMENT, "dt must be a positive number");
  EXPECT_FAILS(ncl_set_dt(m, INFINITY), NCL_ERROR_ARGUMENT, "dt must be a positive number");
  EXPECT_FAILS(ncl_set_dt(m, 2e-4), NCL_ERROR_ARGUMENT, "larger than population 'Q' allows");
  EXPECT_FAILS(ncl_set_threads(m, 0), NCL_ERROR_ARGUMENT, "1..1024");
  EXPECT_FAILS(ncl_set_threads(m, 1025), NCL_ERROR_ARGUMENT, "1..1024");
  EXPECT_EQ(ncl_threads(m), s == State::ThreadsChanged ? 3 : 1);
  EXPECT_FAILS(ncl_set_chunk_steps(m, -1), NCL_ERROR_ARGUMENT, ">= 0");
  EXPECT_FAILS(ncl_set_spike_buffer(m, -1), NCL_ERROR_ARGUMENT, "0..2^32");
  EXPECT_FAILS(ncl_set_spike_buffer(m, (int64_t{1} << 32) + 1), NCL_ERROR_ARGUMENT, "0..2^32");
  EXPECT_GT(ncl_memory_required(m), 0);

  // Results.
  EXPECT_EQ(ncl_current_step(m), stepsIn(s));
  const int64_t count = ncl_spike_count(m, "P");
  const int64_t recorded = ncl_get_spikes(m, "P", nullptr, nullptr, 0);
  EXPECT_EQ(recorded, count);
  if (s != State::FailedRun) { // neuron 3 stops spiking at its NaN
    EXPECT_TRUE(spikes(m, "P") == expectedSpikes(sizeP, stepsIn(s), dt));
  }
  std::vector<double> t(static_cast<size_t>(recorded) + 1);
  EXPECT_EQ(ncl_get_spikes(m, "P", t.data(), nullptr, recorded + 1), recorded);
  EXPECT_EQ(ncl_get_spikes(m, "P", nullptr, nullptr, 5), recorded);
  EXPECT_FAILS(ncl_get_spikes(m, "P", nullptr, nullptr, -1), -1, "negative capacity");
  EXPECT_FAILS(ncl_get_spikes(m, "Q", nullptr, nullptr, 0), -1, "does not record");
  EXPECT_FAILS(ncl_get_spikes(m, nullptr, nullptr, nullptr, 0), -1, "NULL");
  EXPECT_FAILS(ncl_spike_count(m, "X"), -1, "no population 'X'");

  EXPECT_EQ(ncl_num_events(m, "P"), 1);
  EXPECT_EQ(ncl_num_events(m, "Q"), 0);
  EXPECT_FAILS(ncl_num_events(m, nullptr), -1, "NULL");
  EXPECT_STREQ(ncl_event_name(m, "P", 0), "even");
  EXPECT_FAILS(ncl_event_name(m, "P", 1), nullptr, "out of range");
  EXPECT_FAILS(ncl_event_name(m, "P", -1), nullptr, "out of range");
  EXPECT_FAILS(ncl_event_name(m, "Q", 0), nullptr, "out of range");
  // Even neurons emit "even" with each spike: count them from the formula.
  int64_t evenSpikes = 0;
  const SpikeList want = expectedSpikes(sizeP, stepsIn(s), dt);
  for (int64_t i : want.i)
    evenSpikes += i % 2 == 0;
  const int64_t events = ncl_get_events(m, "P", "even", nullptr, nullptr, 0);
  if (s == State::FailedRun)
    EXPECT_GE(events, 0);
  else
    EXPECT_EQ(events, evenSpikes);
  EXPECT_FAILS(ncl_get_events(m, "P", "odd", nullptr, nullptr, 0), -1, "its events are: even");
  EXPECT_FAILS(ncl_get_events(m, "P", nullptr, nullptr, nullptr, 0), -1, "NULL event");
  EXPECT_FAILS(ncl_get_events(m, "Q", "even", nullptr, nullptr, 0), -1, "no event 'even'");
  EXPECT_FAILS(ncl_get_events(m, "P", "even", nullptr, nullptr, -1), -1, "negative capacity");

  // State.
  std::vector<double> v(static_cast<size_t>(sizeP), 0.0);
  if (hasState(s)) {
    EXPECT_EQ(ncl_get_state(m, "P", "v", v.data(), sizeP), sizeP);
    v.assign(v.size(), 0.0); // after a failed run, v holds the NaN
    EXPECT_EQ(ncl_set_state(m, "P", "w", v.data(), sizeP), NCL_OK);
  } else {
    EXPECT_FAILS(ncl_get_state(m, "P", "v", v.data(), sizeP), -1, "no state yet");
    EXPECT_FAILS(ncl_set_state(m, "P", "w", v.data(), sizeP), NCL_ERROR_STATE, "no state yet");
  }
  EXPECT_FAILS(ncl_get_state(m, "P", "v", nullptr, 5), -1, "bad output buffer");
  EXPECT_FAILS(ncl_get_state(m, "P", "u", v.data(), sizeP), -1, "no state variable 'u'");
  EXPECT_FAILS(ncl_get_state(m, "P", nullptr, v.data(), sizeP), -1, "NULL variable");
  EXPECT_FAILS(ncl_set_state(m, "P", "w", v.data(), sizeP - 1), NCL_ERROR_ARGUMENT, "values");
  EXPECT_FAILS(ncl_set_state(m, "P", "w", nullptr, sizeP), NCL_ERROR_ARGUMENT, "NULL values");
  v[1] = NAN;
  EXPECT_FAILS(ncl_set_state(m, "P", "w", v.data(), sizeP), NCL_ERROR_ARGUMENT, "NaN");

  ncl_timings timings;
  EXPECT_EQ(ncl_get_timings(m, &timings), NCL_OK);
  EXPECT_FAILS(ncl_get_timings(m, nullptr), NCL_ERROR_ARGUMENT, "NULL");

  // Output: always possible, and run.json says what state it came from.
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m, dir.c_str()), NCL_OK) << lastError();
  const std::string json = runJsonOf(dir);
  EXPECT_TRUE(contains(json, std::string("\"status\": \"") + statusIn(s) + "\"")) << json;
  EXPECT_TRUE(contains(json, "\"steps\": " + std::to_string(stepsIn(s)) + ",")) << json;
  EXPECT_FAILS(ncl_write_output(m, nullptr), NCL_ERROR_ARGUMENT, "no output directory");
  EXPECT_FAILS(ncl_write_output(m, ""), NCL_ERROR_ARGUMENT, "no output directory");

  // Running: refused after a failure until ncl_init, else it goes on.
  EXPECT_FAILS(ncl_run(m, -1), NCL_ERROR_ARGUMENT, "duration");
  EXPECT_FAILS(ncl_run(m, NAN), NCL_ERROR_ARGUMENT, "duration");
  EXPECT_FAILS(ncl_run_steps(m, -1), NCL_ERROR_ARGUMENT, "negative");
  if (s == State::FailedRun || s == State::FailedInit)
    EXPECT_FAILS(ncl_run_steps(m, 10), NCL_ERROR_STATE, "call ncl_init to start again");
  else
    EXPECT_EQ(ncl_run_steps(m, 10), NCL_OK) << lastError();

  // And ncl_init always starts over cleanly (a bad parameter stays bad).
  EXPECT_EQ(ncl_set_param(m, "P", "nan_step", -1), NCL_OK);
  if (s == State::FailedInit) {
    EXPECT_FAILS(ncl_init(m, 1), NCL_ERROR_NUMERIC, "became +Inf in its initial value");
    EXPECT_EQ(ncl_set_param(m, "Q", "gain", 1), NCL_OK);
  }
  ASSERT_EQ(ncl_init(m, 1), NCL_OK) << lastError();
  ASSERT_EQ(ncl_run_steps(m, 100), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m, "P") == expectedSpikes(sizeP, 100, dt));
}

TEST(States, EveryFunctionInEveryState) {
  for (State s : {State::Fresh, State::Initialized, State::Ran, State::FailedRun, State::Resized,
                  State::ThreadsChanged, State::DtChanged, State::Interrupted, State::FailedInit}) {
    ModelPtr m = modelIn(s);
    ASSERT_TRUE(m);
    exerciseEveryFunction(m.get(), s);
  }
}

TEST(States, NullHandleForEveryFunction) {
  // ncl_interrupt stays async-signal-safe: an error code, no message.
  EXPECT_EQ(ncl_interrupt(nullptr), NCL_ERROR_ARGUMENT);
  EXPECT_FAILS(ncl_memory_required(nullptr), -1, "NULL model handle");
  EXPECT_FAILS(ncl_num_events(nullptr, "P"), -1, "NULL model handle");
  EXPECT_FAILS(ncl_event_name(nullptr, "P", 0), nullptr, "NULL model handle");
  EXPECT_FAILS(ncl_get_events(nullptr, "P", "e", nullptr, nullptr, 0), -1, "NULL model handle");
  EXPECT_FAILS(ncl_default_seed(nullptr), 0u, "NULL model handle");
  EXPECT_FAILS(ncl_default_duration(nullptr), 0.0, "NULL model handle");
}

TEST(States, ResizingDiscardsRecordsWithTheState) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_run_steps(m.get(), 100), NCL_OK);
  ASSERT_EQ(ncl_set_size(m.get(), "P", 20), NCL_OK);
  // The old spikes belong to 10 neurons; kept, they would lie about 20.
  EXPECT_EQ(ncl_current_step(m.get()), 0);
  EXPECT_EQ(ncl_spike_count(m.get(), "P"), 0);
  EXPECT_EQ(ncl_get_spikes(m.get(), "P", nullptr, nullptr, 0), 0);
  ASSERT_EQ(ncl_run_steps(m.get(), 50), NCL_OK);
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(20, 50));
}

//===----------------------------------------------------------------------===//
// Non-finite values
//===----------------------------------------------------------------------===//

TEST(NonFinite, ParametersRefuseNaNAndInfinity) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_param(m.get(), "P", "I", 2e-9), NCL_OK);
  EXPECT_FAILS(ncl_set_param(m.get(), "P", "I", INFINITY), NCL_ERROR_ARGUMENT,
               "parameter P.I cannot be set to +Inf; give a finite value");
  EXPECT_FAILS(ncl_set_param(m.get(), "P", "I", NAN), NCL_ERROR_ARGUMENT,
               "parameter P.I cannot be set to NaN");
  for (const char *text : {"inf nA", "1e400 nA", "-infinity nA", "1e300 GA"})
    EXPECT_FAILS(ncl_set_param_str(m.get(), "P.I", text), NCL_ERROR_ARGUMENT,
                 "P.I = '" + std::string(text) +
                     "' is infinite or too large for a double; "
                     "give a finite value");
  // Not "add a unit, e.g. 'nannA'": the number itself is the problem.
  for (const char *text : {"nan", "nan nA", "NAN"})
    EXPECT_FAILS(ncl_set_param_str(m.get(), "P.I", text), NCL_ERROR_ARGUMENT,
                 "P.I = '" + std::string(text) + "' is not a number; give a finite value");
  double v = 0;
  ASSERT_EQ(ncl_get_param(m.get(), "P", "I", &v), NCL_OK);
  EXPECT_EQ(v, 2e-9) << "a refused value must not be stored";
}

/// +Inf that persists is found at its exact step: w grows by I per step
/// from w = i, so with I = 0.6 * max (of the precision) w passes the
/// largest finite value in step 1 for neurons 0 and 1.
void expectInfinityAtStep1(const char *fixture, double I) {
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    ModelPtr m = open(fixture);
    ASSERT_TRUE(m);
    ncl_set_threads(m.get(), threads);
    ncl_set_chunk_steps(m.get(), 500);
    ASSERT_EQ(ncl_set_param(m.get(), "P", "I", I), NCL_OK);
    ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
    EXPECT_EQ(ncl_run_steps(m.get(), 1000), NCL_ERROR_NUMERIC);
    EXPECT_EQ(lastError(), "population 'P': variable 'w' of neuron 0 became +Inf in step 1 "
                           "(t = 0.0001 s to 0.0002 s); check the parameters and dt");
    EXPECT_EQ(ncl_current_step(m.get()), 2);
    EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, 2));
  }
}

TEST(NonFinite, InfinityIsReportedAtItsStep) {
  expectInfinityAtStep1(NCL_FIXTURE_FAKE_MODEL, 0.6 * 1.7976931348623157e308);
  expectInfinityAtStep1(NCL_FIXTURE_FAKE_MODEL_F32, 0.6 * 3.4028234663852886e38);
}

TEST(NonFinite, NaNAtAChunkBoundaryAndInTheFirstStep) {
  // Steps 0 and 499 are the first and last of a chunk of 500.
  for (int nanStep : {0, 499, 500}) {
    SCOPED_TRACE(nanStep);
    ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
    ASSERT_TRUE(m);
    ncl_set_chunk_steps(m.get(), 500);
    ASSERT_EQ(ncl_set_param(m.get(), "P", "nan_step", nanStep), NCL_OK);
    EXPECT_EQ(ncl_run_steps(m.get(), 2000), NCL_ERROR_NUMERIC);
    EXPECT_TRUE(contains(lastError(), "became NaN in step " + std::to_string(nanStep) + " "))
        << lastError();
    EXPECT_EQ(ncl_current_step(m.get()), nanStep + 1);
  }
}

TEST(NonFinite, SetStateRefusesNonFiniteValues) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  std::vector<double> w(10, 1.0);
  w[4] = INFINITY;
  EXPECT_FAILS(ncl_set_state(m.get(), "P", "w", w.data(), 10), NCL_ERROR_ARGUMENT,
               "value 4 for P.w is +Inf");
  EXPECT_EQ(state(m.get(), "P", "w")[4], 4.0) << "nothing may be written";
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

// Per neuron of fake_model (float64): v and w, 8 bytes each, and an int32
// refractory counter; the state is kept twice (live and at chunk start).
constexpr int64_t kFakeStateBytes = 2 * 8 + 4;
constexpr int64_t kSpikeEntryBytes = 8 + 8 + 4;

TEST(Memory, HugePopulationIsRefusedWithTheFigures) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  const int64_t n = int64_t{1} << 40;
  ASSERT_EQ(ncl_set_size(m.get(), "P", n), NCL_OK);
  // P and Q's 5 neurons, twice; one thread's buffer of 2^18 entries.
  const int64_t state = (n + 5) * kFakeStateBytes;
  EXPECT_EQ(ncl_memory_required(m.get()), 2 * state + (int64_t{1} << 18) * kSpikeEntryBytes);
  EXPECT_EQ(ncl_init(m.get(), 1), NCL_ERROR_MEMORY);
  EXPECT_TRUE(std::regex_match(
      lastError(), std::regex("not enough memory: this run \\(state 22\\.0 TB, its copy at each "
                              "chunk start 22\\.0 TB, spike buffers 5\\.2 MB\\) needs 44\\.0 TB, "
                              "[0-9.]+ [kMGT]?B available")))
      << lastError();
  EXPECT_EQ(ncl_get_state(m.get(), "P", "v", nullptr, 0), -1);
  // Nothing was half-allocated: a sensible size works at once.
  ASSERT_EQ(ncl_set_size(m.get(), "P", 10), NCL_OK);
  ASSERT_EQ(ncl_run_steps(m.get(), 10), NCL_OK) << lastError();
}

TEST(Memory, ThreadsWithoutNeuronsHaveNoSpikeBuffer) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_size(m.get(), "P", 1), NCL_OK);
  ASSERT_EQ(ncl_set_size(m.get(), "Q", 1), NCL_OK);
  ASSERT_EQ(ncl_set_threads(m.get(), 1000), NCL_OK);
  // One thread holds P's neuron and needs at most a chunk (4096 steps) of
  // its spikes; the other 999 hold nothing recorded.
  EXPECT_EQ(ncl_memory_required(m.get()), 2 * 2 * kFakeStateBytes + 4096 * kSpikeEntryBytes);
  ASSERT_EQ(ncl_run_steps(m.get(), 300), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(1, 300));
}

TEST(Memory, SpikeBuffersDoNotGrowWithThePopulation) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  const int64_t n = 100000000; // 1e8
  ASSERT_EQ(ncl_set_size(m.get(), "P", n), NCL_OK);
  ASSERT_EQ(ncl_set_threads(m.get(), 4), NCL_OK);
  const int64_t buffers = 4 * (int64_t{1} << 18) * kSpikeEntryBytes;
  EXPECT_EQ(ncl_memory_required(m.get()), 2 * (n + 5) * kFakeStateBytes + buffers);
}

TEST(Memory, RecordsThatOutgrowMemoryStopTheRunCleanly) {
  // NCL_MEMORY_LIMIT caps what one model may hold: 1 MB is enough for the
  // state and spike buffers but not for the records of a long run.
  ASSERT_EQ(setenv("NCL_MEMORY_LIMIT", "1M", 1), 0);
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 1000), NCL_OK);
  const ncl_status status = ncl_run_steps(m.get(), 1000000);
  const std::string message = lastError();
  ASSERT_EQ(unsetenv("NCL_MEMORY_LIMIT"), 0);
  EXPECT_EQ(status, NCL_ERROR_MEMORY);
  std::smatch match;
  ASSERT_TRUE(std::regex_match(
      message, match,
      std::regex("not enough memory: growing the spike records at step ([0-9]+) needs "
                 "[0-9.]+ [kM]?B, [0-9.]+ [kM]?B available; the run stopped at step \\1 "
                 "with everything before it kept")))
      << message;
  // Records and state both stopped at that chunk boundary, consistently.
  const int64_t step = std::stoll(match[1]);
  EXPECT_EQ(ncl_current_step(m.get()), step);
  EXPECT_EQ(step % 1000, 0);
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, step));
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK);
  EXPECT_TRUE(contains(runJsonOf(dir), "\"status\": \"failed\"")) << runJsonOf(dir);
  // With the limit gone, the run goes on as if it had never stopped.
  ASSERT_EQ(ncl_run_steps(m.get(), 100), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, step + 100));
}

TEST(Memory, WideRangesAreSteppedInBlocksWithTheSameResult) {
  // A buffer of 64 entries makes each thread step its 500 neurons of P in
  // blocks of 64 (32 with the event channel); the record must not change.
  for (const char *fixture : {NCL_FIXTURE_FAKE_MODEL, NCL_FIXTURE_FAKE_MODEL_EVENTS}) {
    SCOPED_TRACE(fixture);
    ModelPtr m = open(fixture);
    ASSERT_TRUE(m);
    ASSERT_EQ(ncl_set_size(m.get(), "P", 1000), NCL_OK);
    ASSERT_EQ(ncl_set_threads(m.get(), 2), NCL_OK);
    ASSERT_EQ(ncl_set_spike_buffer(m.get(), 64), NCL_OK);
    ASSERT_EQ(ncl_set_chunk_steps(m.get(), 97), NCL_OK);
    ASSERT_EQ(ncl_run_steps(m.get(), 300), NCL_OK) << lastError();
    const SpikeList want = expectedSpikes(1000, 300);
    EXPECT_TRUE(spikes(m.get(), "P") == want);
    if (ncl_num_events(m.get(), "P") == 1) {
      SpikeList even;
      for (size_t k = 0; k < want.i.size(); ++k)
        if (want.i[k] % 2 == 0) {
          even.t.push_back(want.t[k]);
          even.i.push_back(want.i[k]);
        }
      const int64_t n = ncl_get_events(m.get(), "P", "even", nullptr, nullptr, 0);
      SpikeList got;
      got.t.resize(static_cast<size_t>(n));
      got.i.resize(static_cast<size_t>(n));
      ncl_get_events(m.get(), "P", "even", got.t.data(), got.i.data(), n);
      EXPECT_TRUE(got == even);
    }
  }
}

//===----------------------------------------------------------------------===//
// Interrupting a run
//===----------------------------------------------------------------------===//

TEST(Interrupt, FromAnotherThreadKeepsWhatWasSimulated) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_set_chunk_steps(m.get(), 1000), NCL_OK);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ncl_interrupt(m.get());
  });
  const int64_t requested = INT32_MAX - 1; // hours of work: only the interrupt ends it
  EXPECT_EQ(ncl_run_steps(m.get(), requested), NCL_ERROR_INTERRUPTED);
  stopper.join();
  const int64_t done = ncl_current_step(m.get());
  EXPECT_TRUE(contains(lastError(), "interrupted after " + std::to_string(done) + " of " +
                                        std::to_string(requested) + " steps"))
      << lastError();
  EXPECT_EQ(done % 1000, 0) << "stops at a chunk boundary";
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, done));
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK);
  const std::string json = runJsonOf(dir);
  EXPECT_TRUE(contains(json, "\"status\": \"interrupted\"")) << json;
  EXPECT_TRUE(contains(json, "\"requested_steps\": " + std::to_string(requested))) << json;
  EXPECT_TRUE(contains(json, "\"steps\": " + std::to_string(done))) << json;
  // Not a failure: the run can go on, and the result is as if uninterrupted.
  ASSERT_EQ(ncl_run_steps(m.get(), 10), NCL_OK) << lastError();
  EXPECT_TRUE(spikes(m.get(), "P") == expectedSpikes(10, done + 10));
}

//===----------------------------------------------------------------------===//
// Output directories
//===----------------------------------------------------------------------===//

ModelPtr ranModel(int64_t sizeP, int64_t steps) {
  ModelPtr m = open(NCL_FIXTURE_FAKE_MODEL);
  if (!m)
    return m;
  EXPECT_EQ(ncl_set_size(m.get(), "P", sizeP), NCL_OK);
  EXPECT_EQ(ncl_run_steps(m.get(), steps), NCL_OK) << lastError();
  return m;
}

TEST(Output, RunJsonCarriesStatusErrorAndSteps) {
  ModelPtr ok = ranModel(10, 100);
  const std::string dir = tempDir();
  ASSERT_EQ(ncl_write_output(ok.get(), dir.c_str()), NCL_OK);
  std::string json = runJsonOf(dir);
  for (const char *part :
       {"\"status\": \"complete\"", "\"error\": null", "\"requested_steps\": 100", "\"steps\": 100",
        "\"files\": [\"P_spike_t.npy\", \"P_spike_i.npy\"]"})
    EXPECT_TRUE(contains(json, part)) << part << "\n" << json;

  ModelPtr nan = open(NCL_FIXTURE_FAKE_MODEL);
  ASSERT_TRUE(nan);
  ASSERT_EQ(ncl_set_param(nan.get(), "P", "nan_step", 1234), NCL_OK);
  ASSERT_EQ(ncl_run_steps(nan.get(), 3000), NCL_ERROR_NUMERIC);
  ASSERT_EQ(ncl_write_output(nan.get(), dir.c_str()), NCL_OK);
  json = runJsonOf(dir);
  for (const char *part : {"\"status\": \"failed\"",
                           "\"error\": \"population 'P': variable 'v' of neuron 3 became NaN in "
                           "step 1234 (t = 0.1234 s to 0.1235 s); check the parameters and dt\"",
                           "\"requested_steps\": 3000", "\"steps\": 1235"})
    EXPECT_TRUE(contains(json, part)) << part << "\n" << json;
}

TEST(Output, PlantedSymlinksAreNotFollowed) {
  const std::string dir = tempDir(), victimDir = tempDir();
  const std::string victim = victimDir + "/victim";
  writeBytes(victim, "precious");
  // The names the old writer used (PATH.tmp<pid>) and the final names.
  const std::string pid = std::to_string(getpid());
  for (const std::string &name :
       {"P_spike_t.npy.tmp" + pid, "P_spike_i.npy.tmp" + pid, "run.json.tmp" + pid,
        std::string("P_spike_t.npy"), std::string("run.json")})
    ASSERT_EQ(::symlink(victim.c_str(), (dir + "/" + name).c_str()), 0) << name;
  ModelPtr m = ranModel(10, 100);
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();
  EXPECT_EQ(readFile(victim), "precious");
  // The final names are now regular files holding this run.
  struct stat st;
  for (const char *name : {"P_spike_t.npy", "P_spike_i.npy", "run.json"}) {
    ASSERT_EQ(::lstat((dir + "/" + name).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << name;
  }
  EXPECT_EQ(readFile(dir + "/P_spike_t.npy").substr(0, 6), "\x93NUMPY");
}

TEST(Output, StaleTemporariesOfDeadWritersAreRemoved) {
  const std::string dir = tempDir();
  // A pid that no longer exists: a child that has exited and been reaped.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0)
    _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = std::to_string(child), alive = std::to_string(getpid());
  const std::vector<std::string> stale = {"P_spike_t.npy.tmp" + dead,
                                          "run.json.tmp" + dead + "-1a2b3c4d0001"};
  const std::vector<std::string> kept = {"P_spike_i.npy.tmp" + alive, "notes.txt.tmp" + dead,
                                         "P_spike_t.npy.tmpabc"};
  for (const std::string &name : stale)
    writeBytes(dir + "/" + name, "x");
  for (const std::string &name : kept)
    writeBytes(dir + "/" + name, "x");
  ModelPtr m = ranModel(10, 10);
  ASSERT_EQ(ncl_write_output(m.get(), dir.c_str()), NCL_OK) << lastError();
  for (const std::string &name : stale)
    EXPECT_FALSE(exists(dir + "/" + name)) << name;
  for (const std::string &name : kept)
    EXPECT_TRUE(exists(dir + "/" + name)) << name;
}

/// Runs `body` with writes limited to `bytes` per file (RLIMIT_FSIZE), and
/// SIGXFSZ ignored so that a write past it fails with EFBIG instead.
template <typename F> void withFileSizeLimit(rlim_t bytes, F body) {
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limited = old;
  limited.rlim_cur = bytes;
  void (*oldHandler)(int) = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  body();
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, oldHandler);
}

TEST(Output, AFullDiskNeverLeavesTwoRunsMixed) {
  const std::string dir = tempDir();
  // Run A: small files. Run B: 100 neurons for 4000 steps, about 16800
  // spikes, over 64 kB per file.
  ModelPtr a = ranModel(10, 100), b = ranModel(100, 4000);
  ASSERT_EQ(ncl_write_output(a.get(), dir.c_str()), NCL_OK);
  withFileSizeLimit(64 * 1024, [&] {
    EXPECT_FAILS(ncl_write_output(b.get(), dir.c_str()), NCL_ERROR_IO,
                 "/P_spike_t.npy': File too large");
  });
  // A's arrays are gone (B did not replace them), and run.json, small
  // enough to be written, says the output failed and lists no files.
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"run.json"});
  const std::string json = runJsonOf(dir);
  for (const char *part : {"\"status\": \"failed\"", "File too large", "\"steps\": 4000",
                           "\"size\": 100", "\"files\": []"})
    EXPECT_TRUE(contains(json, part)) << part << "\n" << json;
  // With room again, B's output is complete.
  ASSERT_EQ(ncl_write_output(b.get(), dir.c_str()), NCL_OK) << lastError();
  EXPECT_TRUE(contains(runJsonOf(dir), "\"status\": \"complete\""));
}

TEST(Output, AFailureAfterSomeFilesKeepsThemAndDropsTheOlderRun) {
  const std::string dir = tempDir();
  ModelPtr a = ranModel(10, 100), b = ranModel(10, 300);
  ASSERT_EQ(ncl_write_output(a.get(), dir.c_str()), NCL_OK);
  // B's second file cannot be put in place: its name is a non-empty
  // directory, which rename(2) does not replace.
  ASSERT_EQ(::unlink((dir + "/P_spike_i.npy").c_str()), 0);
  ASSERT_EQ(::mkdir((dir + "/P_spike_i.npy").c_str(), 0755), 0);
  writeBytes(dir + "/P_spike_i.npy/keep", "x");
  EXPECT_FAILS(ncl_write_output(b.get(), dir.c_str()), NCL_ERROR_IO,
               "cannot rename a temporary file to");
  const std::string json = runJsonOf(dir);
  EXPECT_TRUE(contains(json, "\"status\": \"failed\"")) << json;
  EXPECT_TRUE(contains(json, "\"files\": [\"P_spike_t.npy\"]")) << json;
  EXPECT_TRUE(contains(json, "\"steps\": 300")) << json;
  // The file written is B's, complete: 300 steps of 10 neurons.
  const size_t n = expectedSpikes(10, 300).t.size();
  const std::string t = readFile(dir + "/P_spike_t.npy");
  EXPECT_TRUE(contains(t, "'shape': (" + std::to_string(n) + ",)"));
  // No temporaries are left behind.
  for (const std::string &name : listDir(dir))
    EXPECT_FALSE(contains(name, ".tmp")) << name;
}

//===----------------------------------------------------------------------===//
// The kernel contract
//===----------------------------------------------------------------------===//

TEST(KernelContract, AStageThatOverstatesItsStepsStopsTheRunNamingIt) {
  // bad_steps_done.so is fake_model whose updates report one step more than
  // they ran: P.update, the first step stage, is caught in the first chunk.
  ModelPtr m = open(NCL_FIXTURE_BAD_STEPS_DONE);
  ASSERT_TRUE(m);
  ASSERT_EQ(ncl_init(m.get(), 1), NCL_OK) << lastError(); // init stages report nothing
  EXPECT_FAILS(ncl_run_steps(m.get(), 100), NCL_ERROR_KERNEL,
               "the stage 'P.update' of population 'P' reported 101 steps done of 100 (a bug "
               "in the generated code; please report it)");
  // The model does not go on from a broken step.
  EXPECT_FAILS(ncl_run_steps(m.get(), 1), NCL_ERROR_STATE, "the simulation stopped earlier");
}

//===----------------------------------------------------------------------===//
// Bad libraries
//===----------------------------------------------------------------------===//

std::string fixtureBytes() { return readFile(NCL_FIXTURE_FAKE_MODEL); }

TEST(BadLibrary, EveryTruncationIsRefusedBeforeDlopen) {
  const std::string bytes = fixtureBytes();
  ASSERT_GT(bytes.size(), 1000u);
  const std::string path = tempDir() + "/truncated.so";
  std::vector<size_t> cuts;
  for (size_t cut = 0; cut < bytes.size(); cut += 37)
    cuts.push_back(cut);
  cuts.push_back(bytes.size() - 1);
  for (size_t cut : cuts) {
    SCOPED_TRACE(cut);
    writeBytes(path, bytes.substr(0, cut));
    const std::string e = openError(path.c_str());
    const bool explained = contains(e, "is not a usable shared library (truncated: the file has " +
                                           std::to_string(cut) + " bytes") ||
                           (cut < 4 && contains(e, "not an ELF file"));
    EXPECT_TRUE(explained) << e;
  }
}

TEST(BadLibrary, ForeignElfHeadersAreNamed) {
  const std::string bytes = fixtureBytes(), path = tempDir() + "/foreign.so";
  auto patched = [&](size_t offset, std::string value) {
    std::string b = bytes;
    b.replace(offset, value.size(), value);
    writeBytes(path, b);
    return openError(path.c_str());
  };
  EXPECT_TRUE(contains(patched(EI_CLASS, std::string(1, ELFCLASS32)),
                       "(built for 32-bit code, this runtime is 64-bit)"));
  EXPECT_TRUE(
      contains(patched(EI_DATA, std::string(1, ELFDATA2MSB)), "(built for the other byte order)"));
  const size_t type = offsetof(Elf64_Ehdr, e_type), machine = offsetof(Elf64_Ehdr, e_machine);
  EXPECT_TRUE(contains(patched(type, std::string("\x01\x00", 2)),
                       "(an object file, not a shared library)"));
  EXPECT_TRUE(contains(patched(machine, std::string("\xb7\x00", 2)),
                       "(built for AArch64, this machine is x86-64)"));
  EXPECT_TRUE(contains(patched(0, "\x7f"
                                  "ELG"),
                       "(not an ELF file)"));
  // A program header table said to lie past the end of the file.
  EXPECT_TRUE(contains(patched(offsetof(Elf64_Ehdr, e_phoff), std::string("\x00\x00\x00\x10", 4)),
                       "but the program header table ends at byte"));
}

TEST(BadLibrary, NotARegularFile) {
  const std::string dir = tempDir();
  EXPECT_EQ(openError(dir.c_str()), "'" + dir +
                                        "' is not a usable shared library (it is a "
                                        "directory); rebuild it with nclc");
  const std::string fifo = dir + "/fifo.so";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(contains(openError(fifo.c_str()), "(it is not a regular file)")); // no hang
  writeBytes(dir + "/empty.so", "");
  EXPECT_TRUE(
      contains(openError((dir + "/empty.so").c_str()), "(the file has 0 bytes, not an ELF file)"));
  writeBytes(dir + "/text.so", "INPUT(-lfoo)\n");
  EXPECT_TRUE(contains(openError((dir + "/text.so").c_str()), "(not an ELF file)"));
}

} // namespace
