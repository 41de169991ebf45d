//===- ncl/runtime.hpp - Header-only C++ wrapper of the NCL runtime -*- C++ -*-===//
//
// RAII ownership of an ncl_model and exceptions instead of status codes,
// over exactly the C API of ncl/runtime.h (nothing here is compiled into
// libnclrt, so C++ programs depend on the same stable C symbols as C ones).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_HPP
#define NCL_RUNTIME_HPP

#include "ncl/runtime.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ncl {

/// A failed runtime call: the ncl_last_error() message and its status.
class Error : public std::runtime_error {
public:
  Error(ncl_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  ncl_status status() const { return status_; }

private:
  ncl_status status_;
};

/// Recorded spikes of one population, sorted by time then neuron index.
struct Spikes {
  std::vector<double> times;    ///< seconds
  std::vector<int64_t> indices; ///< neuron indices
};

/// What a state or rate monitor recorded (Model::monitor).
struct MonitorSamples {
  int64_t width = 0;          ///< values per sample
  std::vector<double> times;  ///< seconds, one per sample
  std::vector<double> values; ///< samples x width, row by row
};

/// An open model: state, parameters and recorded spikes. Move-only.
class Model {
public:
  /// Opens a model library; throws ncl::Error if it cannot be used.
  explicit Model(const std::string &soPath) : m_(ncl_open(soPath.c_str())) {
    if (!m_)
      throw Error(NCL_ERROR_LOAD, ncl_last_error());
  }
  ~Model() { ncl_close(m_); }
  Model(Model &&o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  Model &operator=(Model &&o) noexcept {
    if (this != &o) {
      ncl_close(m_);
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// The underlying C handle, for calls the wrapper does not cover.
  ncl_model *get() const { return m_; }
  const ncl_model_descriptor &descriptor() const { return *ncl_descriptor(m_); }

  std::string name() const { return ncl_model_name(m_); }
  double dt() const { return ncl_dt(m_); }
  double defaultDuration() const { return ncl_default_duration(m_); }
  uint64_t defaultSeed() const { return ncl_default_seed(m_); }

  /// Population names in model order.
  std::vector<std::string> populations() const {
    std::vector<std::string> names;
    for (int32_t i = 0, n = ncl_num_populations(m_); i < n; ++i)
      names.emplace_back(ncl_population_name(m_, i));
    return names;
  }
  int64_t size(const std::string &pop) const { return value(ncl_population_size(m_, pop.c_str())); }

  /// Sets a parameter in internal (SI) units.
  void setParam(const std::string &pop, const std::string &name, double v) {
    check(ncl_set_param(m_, pop.c_str(), name.c_str(), v));
  }
  /// Sets "POP.PARAM" from a quantity with units, e.g. "2.5nA".
  void setParam(const std::string &target, const std::string &quantity) {
    check(ncl_set_param_str(m_, target.c_str(), quantity.c_str()));
  }
  double param(const std::string &pop, const std::string &name) const {
    double v = 0;
    check(ncl_get_param(m_, pop.c_str(), name.c_str(), &v));
    return v;
  }
  void setSize(const std::string &pop, int64_t n) { check(ncl_set_size(m_, pop.c_str(), n)); }
  /// Batch members of the next run (docs/runtime.md, "Batches").
  void setBatch(int64_t batch) { check(ncl_set_batch(m_, batch)); }
  int64_t batch() const { return ncl_batch(m_); }
  void setThreads(int32_t n) { check(ncl_set_threads(m_, n)); }
  /// The time step in seconds (see ncl_set_dt).
  void setDt(double seconds) { check(ncl_set_dt(m_, seconds)); }
  void setDataDir(const std::string &dir) { check(ncl_set_data_dir(m_, dir.c_str())); }
  int32_t threads() const { return ncl_threads(m_); }
  /// "cpu", "cuda" or "auto" (see ncl_set_backend; docs/gpu.md).
  void setBackend(const std::string &backend) { check(ncl_set_backend(m_, backend.c_str())); }
  /// "cpu" or "cuda".
  std::string backend() const { return ncl_backend(m_); }
  /// The CUDA device's name, "" on the CPU.
  std::string deviceName() const { return ncl_device_name(m_); }
  /// Why setBackend("auto") chose the CPU, or "".
  std::string backendFallback() const { return ncl_backend_fallback(m_); }

  void init(uint64_t seed) { check(ncl_init(m_, seed)); }
  void run(double seconds) { check(ncl_run(m_, seconds)); }
  void runSteps(int64_t steps) { check(ncl_run_steps(m_, steps)); }
  /// Asks a run in progress to stop at the end of its chunk (any thread).
  void interrupt() { check(ncl_interrupt(m_)); }
  /// Bytes init() would allocate for the current sizes and threads.
  int64_t memoryRequired() const { return value(ncl_memory_required(m_)); }
  int64_t step() const { return value(ncl_current_step(m_)); }

  int64_t spikeCount(const std::string &pop) const {
    return value(ncl_spike_count(m_, pop.c_str()));
  }
  Spikes spikes(const std::string &pop) const {
    Spikes s;
    int64_t n = value(ncl_get_spikes(m_, pop.c_str(), nullptr, nullptr, 0));
    s.times.resize(static_cast<size_t>(n));
    s.indices.resize(static_cast<size_t>(n));
    value(ncl_get_spikes(m_, pop.c_str(), s.times.data(), s.indices.data(), n));
    return s;
  }
  /// A state variable converted to double, internal units.
  std::vector<double> state(const std::string &pop, const std::string &var) const {
    int64_t n = value(ncl_get_state(m_, pop.c_str(), var.c_str(), nullptr, 0));
    std::vector<double> out(static_cast<size_t>(n));
    value(ncl_get_state(m_, pop.c_str(), var.c_str(), out.data(), n));
    return out;
  }
  void setState(const std::string &pop, const std::string &var, const std::vector<double> &values) {
    check(ncl_set_state(m_, pop.c_str(), var.c_str(), values.data(),
                        static_cast<int64_t>(values.size())));
  }
  /// A state variable from a .npy file: (size,) or (batch, size).
  void loadState(const std::string &pop, const std::string &var, const std::string &path) {
    check(ncl_load_state(m_, pop.c_str(), var.c_str(), path.c_str()));
  }
  /// A per-synapse variable of a projection, in synapse order.
  std::vector<double> synapseState(const std::string &proj, const std::string &var) const {
    int64_t n = value(ncl_get_synapse_state(m_, proj.c_str(), var.c_str(), nullptr, 0));
    std::vector<double> out(static_cast<size_t>(n));
    value(ncl_get_synapse_state(m_, proj.c_str(), var.c_str(), out.data(), n));
    return out;
  }
  void setSynapseState(const std::string &proj, const std::string &var,
                       const std::vector<double> &values) {
    check(ncl_set_synapse_state(m_, proj.c_str(), var.c_str(), values.data(),
                                static_cast<int64_t>(values.size())));
  }
  /// A monitor's samples so far: times (s) and values row by row, `width`
  /// per sample (internal units; Hz for a rate monitor).
  MonitorSamples monitor(const std::string &name) const {
    MonitorSamples s;
    s.width = value(ncl_monitor_width(m_, name.c_str()));
    const int64_t n = value(ncl_get_monitor(m_, name.c_str(), nullptr, nullptr, 0));
    s.times.resize(static_cast<size_t>(n));
    s.values.resize(static_cast<size_t>(n * s.width));
    value(ncl_get_monitor(m_, name.c_str(), s.times.data(), s.values.data(), n));
    return s;
  }
  ncl_timings timings() const {
    ncl_timings t{};
    check(ncl_get_timings(m_, &t));
    return t;
  }
  void writeOutput(const std::string &dir) const { check(ncl_write_output(m_, dir.c_str())); }
  void saveWeights(const std::string &dir) const { check(ncl_save_weights(m_, dir.c_str())); }
  void loadWeights(const std::string &dir) { check(ncl_load_weights(m_, dir.c_str())); }

private:
  static void check(ncl_status s) {
    if (s != NCL_OK)
      throw Error(s, ncl_last_error());
  }
  static int64_t value(int64_t v) {
    if (v < 0)
      throw Error(NCL_ERROR_ARGUMENT, ncl_last_error());
    return v;
  }

  ncl_model *m_;
};

} // namespace ncl

#endif // NCL_RUNTIME_HPP
