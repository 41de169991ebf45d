//===- RuntimeTestSupport.h - Helpers shared by the runtime unit tests ----===//
//
// Opening fixtures, reading spikes and state through the C API, and what
// fake_model must record (neuron i spikes every i + 2 steps), so that every
// test states its expectations from the model's definition, not from an
// earlier run.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_TEST_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H
#define NCL_TEST_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H

#include "ncl/runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace ncl_test {

using ModelPtr = std::unique_ptr<ncl_model, decltype(&ncl_close)>;

inline ModelPtr open(const char *path) {
  ModelPtr m(ncl_open(path), &ncl_close);
  EXPECT_NE(m.get(), nullptr) << ncl_last_error();
  return m;
}

inline std::string openError(const char *path) {
  ncl_model *m = ncl_open(path);
  EXPECT_EQ(m, nullptr);
  ncl_close(m);
  return ncl_last_error();
}

inline std::string lastError() { return ncl_last_error(); }

inline bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

struct SpikeList {
  std::vector<double> t;
  std::vector<int64_t> i;
  bool operator==(const SpikeList &o) const {
    return t.size() == o.t.size() && i == o.i &&
           (t.empty() || std::memcmp(t.data(), o.t.data(), t.size() * sizeof(double)) == 0);
  }
};

inline SpikeList spikes(const ncl_model *m, const char *pop) {
  SpikeList s;
  int64_t n = ncl_get_spikes(m, pop, nullptr, nullptr, 0);
  EXPECT_GE(n, 0) << ncl_last_error();
  if (n < 0)
    return s;
  s.t.resize(static_cast<size_t>(n));
  s.i.resize(static_cast<size_t>(n));
  EXPECT_EQ(ncl_get_spikes(m, pop, s.t.data(), s.i.data(), n), n);
  return s;
}

/// What fake_model records for `size` neurons over steps [0, steps).
inline SpikeList expectedSpikes(int64_t size, int64_t steps, double dt = 1e-4) {
  SpikeList s;
  for (int64_t step = 1; step <= steps; ++step)
    for (int64_t i = 0; i < size; ++i)
      if (step % (i + 2) == 0) {
        s.t.push_back(static_cast<double>(step) * dt);
        s.i.push_back(i);
      }
  return s;
}

inline std::vector<double> state(const ncl_model *m, const char *pop, const char *var) {
  int64_t n = ncl_get_state(m, pop, var, nullptr, 0);
  EXPECT_GE(n, 0) << ncl_last_error();
  std::vector<double> out(static_cast<size_t>(n < 0 ? 0 : n));
  ncl_get_state(m, pop, var, out.data(), n);
  return out;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string tempDir() {
  char tmpl[] = "/tmp/nclrt-test-XXXXXX";
  const char *d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "/tmp";
}

} // namespace ncl_test

#endif // NCL_TEST_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H
