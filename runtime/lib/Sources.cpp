//===- Sources.cpp - Spike generators and timed inputs from .npy files ----===//
//
// Reads the files of spike generators and timed inputs at initialisation
// (Sources.h). A generator's spike times are rounded to steps of the run's
// dt and sorted; a timed input's samples are scaled to internal units and
// checked against the population's size and the run's dt. Everything a
// file could get wrong is refused here, with its path, so that the kernels
// and the step loop never see a bad value.
//
//===----------------------------------------------------------------------===//
#include "Sources.h"
#include "NpyReader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <tuple>

using namespace ncl::rt;

namespace {

std::string quoted(const std::string &path) { return "'" + path + "'"; }

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

[[noreturn]] void fail(const std::string &message) { throw Error(NCL_ERROR_IO, message); }

/// Reads `path` (1-D, or up to `maxRank` dimensions) or fails with `owner`
/// and the reader's message.
NpyArray read(const std::string &owner, const std::string &path, int maxRank,
              std::vector<int64_t> &shape) {
  NpyArray array;
  std::string error;
  if (!readNpy(path, maxRank, array, shape, error))
    fail(owner + ": " + error);
  return array;
}

/// A generator's spikes for the run's dt: each time rounded to the nearest
/// step (ties to even), then sorted by step and neuron.
void loadGenerator(ncl_model &m, Population &pop) {
  const ncl_population_info &pi = *pop.info;
  const std::string owner = "spike generator '" + std::string(pi.name) + "'";
  const std::string timesPath = resolveDataFile(m, pi, pi.spike_times_file);
  const std::string indicesPath = resolveDataFile(m, pi, pi.spike_indices_file);
  std::vector<int64_t> shape;
  NpyArray times = read(owner, timesPath, 1, shape);
  NpyArray indices = read(owner, indicesPath, 1, shape);
  if (times.isInteger())
    fail(owner + ": " + quoted(timesPath) + " holds integers (" + npyDtypeName(times.dtype) +
         "); spike times are seconds as floating-point numbers (float64)");
  if (!indices.isInteger())
    fail(owner + ": " + quoted(indicesPath) + " holds floating-point numbers (" +
         npyDtypeName(indices.dtype) + "); neuron indices are integers (int32 or int64)");
  if (times.size() != indices.size())
    fail(owner + ": " + quoted(timesPath) + " has " + std::to_string(times.size()) +
         " spike times but " + quoted(indicesPath) + " has " + std::to_string(indices.size()) +
         " neuron indices; they must have one entry per spike");
  // (step, neuron, position in the files), so that a duplicate names both.
  std::vector<std::tuple<int64_t, int64_t, size_t>> spikes(times.size());
  const double maxTime = static_cast<double>(INT32_MAX) * m.dt;
  for (size_t k = 0; k < times.size(); ++k) {
    const double t = times.reals[k];
    const int64_t i = indices.ints[k];
    if (!std::isfinite(t) || t < 0)
      fail(owner + ": " + quoted(timesPath) + ": spike " + std::to_string(k) + " has time " +
           number(t) + "; spike times must be finite and at least 0 (seconds)");
    if (i < 0 || i >= pop.size)
      fail(owner + ": " + quoted(indicesPath) + ": spike " + std::to_string(k) + " is of neuron " +
           std::to_string(i) + ", but population '" + pi.name + "' has " +
           std::to_string(pop.size) + " neurons (0 to " + std::to_string(pop.size - 1) + ")");
    // Later than any run can reach: kept out of the int32 step range.
    const double steps = std::nearbyint(std::min(t, maxTime) / m.dt);
    spikes[k] = {static_cast<int64_t>(steps), i, k};
  }
  std::sort(spikes.begin(), spikes.end());
  for (size_t k = 1; k < spikes.size(); ++k) {
    auto [step, neuron, at] = spikes[k];
    auto [prevStep, prevNeuron, prevAt] = spikes[k - 1];
    if (step == prevStep && neuron == prevNeuron)
      fail(owner + ": neuron " + std::to_string(neuron) + " has two spikes in step " +
           std::to_string(step) + " (spikes " + std::to_string(prevAt) + " and " +
           std::to_string(at) + " of " + quoted(timesPath) +
           ", at t = " + number(times.reals[prevAt]) + " s and " + number(times.reals[at]) +
           " s, dt = " + number(m.dt) + " s); a neuron spikes at most once per step");
  }
  pop.generatorSteps.resize(spikes.size());
  pop.generatorIndices.resize(spikes.size());
  for (size_t k = 0; k < spikes.size(); ++k) {
    pop.generatorSteps[k] = std::get<0>(spikes[k]);
    pop.generatorIndices[k] = static_cast<int32_t>(std::get<1>(spikes[k]));
  }
}

/// A timed input's samples: 1-D (one value for all neurons), 2-D (samples x
/// neurons, shared by the batch members) or 3-D (samples x batch members x
/// neurons), scaled, finite, at a whole number of steps apart. Per-neuron
/// samples are kept as (samples x members x neurons), copying a 2-D file
/// for each member, so that the kernels read column b * N + i of a batched
/// run (docs/runtime.md, "Batches").
Population::Series loadSeries(ncl_model &m, const Population &pop, const ncl_timed_input_info &ti) {
  const std::string owner =
      "timed input '" + std::string(pop.info->name) + "." + std::string(ti.input) + "'";
  const std::string path = resolveDataFile(m, *pop.info, ti.file);
  std::vector<int64_t> shape;
  NpyArray values = read(owner, path, 3, shape);
  Population::Series series;
  series.rows = shape[0];
  series.columns = shape.size() >= 2 ? shape.back() : 1;
  std::string shapeText = "(" + std::to_string(shape[0]);
  for (size_t k = 1; k < shape.size(); ++k)
    shapeText += ", " + std::to_string(shape[k]);
  shapeText += shape.size() == 1 ? ",)" : ")";
  if (series.rows == 0)
    fail(owner + ": " + quoted(path) + " has shape " + shapeText +
         ", no samples; a series needs at least one");
  if (shape.size() == 3 && shape[1] != pop.batch)
    fail(owner + ": " + quoted(path) + " has shape " + shapeText + ", " + std::to_string(shape[1]) +
         " batch members, but the run has " + std::to_string(pop.batch) +
         "; give one block per member (samples x batch x neurons), or a 2-D series that all "
         "members share");
  if (shape.size() >= 2 && series.columns != pop.size)
    fail(owner + ": " + quoted(path) + " has shape " + shapeText + ", " +
         std::to_string(series.columns) + " columns, but population '" + pop.info->name + "' has " +
         std::to_string(pop.size) +
         " neurons; give one column per neuron (samples x neurons), or a 1-D series that "
         "all neurons share");
  const size_t n = values.size();
  series.samples.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const double v = values.isInteger() ? static_cast<double>(values.ints[k]) : values.reals[k];
    if (!std::isfinite(v))
      fail(owner + ": " + quoted(path) + ": sample " + std::to_string(k / series.columns) +
           (shape.size() == 2 ? " of neuron " + std::to_string(k % series.columns) : "") + " is " +
           number(v) + "; samples must be finite");
    series.samples[k] = v * ti.scale;
  }
  if (shape.size() >= 2 && pop.batch > 1) {
    // Member b's column i at b * N + i of each sample's row.
    if (shape.size() == 2) {
      std::vector<double> perMember;
      perMember.reserve(n * static_cast<size_t>(pop.batch));
      for (int64_t r = 0; r < series.rows; ++r)
        for (int64_t b = 0; b < pop.batch; ++b)
          perMember.insert(perMember.end(), series.samples.begin() + r * series.columns,
                           series.samples.begin() + (r + 1) * series.columns);
      series.samples = std::move(perMember);
    }
    series.columns *= pop.batch;
  }
  const double steps = std::nearbyint(ti.interval / m.dt);
  if (!(steps >= 1) || std::fabs(steps * m.dt - ti.interval) > 1e-9 * ti.interval ||
      steps > INT32_MAX)
    fail(owner + ": " + quoted(path) + ": its samples are " + number(ti.interval) +
         " s apart, which is not a whole number of steps of dt = " + number(m.dt) +
         " s; choose a dt that divides the interval");
  series.stepsPerSample = static_cast<int64_t>(steps);
  return series;
}

} // namespace

std::string ncl::rt::resolveDataFile(const ncl_model &m, const ncl_population_info &pop,
                                     const char *file) {
  const std::string name = file ? file : "";
  if (!name.empty() && name[0] == '/')
    return name;
  const std::string dir = !m.dataDir.empty() ? m.dataDir : pop.data_dir ? pop.data_dir : "";
  if (dir.empty())
    return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

void ncl::rt::loadSources(ncl_model &m) {
  for (Population &pop : m.pops) {
    pop.generatorSteps.clear();
    pop.generatorIndices.clear();
    pop.series.clear();
    if (pop.info->source_kind == NCL_SOURCE_SPIKE_GENERATOR)
      loadGenerator(m, pop);
    for (int32_t k = 0; k < pop.info->num_timed_inputs; ++k)
      pop.series.push_back(loadSeries(m, pop, pop.info->timed_inputs[k]));
  }
}

void ncl::rt::fillSeriesBuffers(ncl_model &m) {
  for (int32_t i = 0; i < m.desc->num_buffers; ++i) {
    const ncl_buffer_info &b = m.desc->buffers[i];
    if (b.role != NCL_BUFFER_SERIES && b.role != NCL_BUFFER_SERIES_SHAPE)
      continue;
    const Population::Series &series =
        m.pops[static_cast<size_t>(b.population)].series[static_cast<size_t>(b.index)];
    void *data = m.bufferPtrs[static_cast<size_t>(i)];
    if (b.role == NCL_BUFFER_SERIES_SHAPE) {
      const int64_t shape[3] = {series.stepsPerSample, series.rows, series.columns};
      std::memcpy(data, shape, sizeof shape);
    } else if (b.element == NCL_ELEMENT_F32) {
      std::transform(series.samples.begin(), series.samples.end(), static_cast<float *>(data),
                     [](double v) { return static_cast<float>(v); });
    } else {
      std::copy(series.samples.begin(), series.samples.end(), static_cast<double *>(data));
    }
  }
}

std::pair<const int32_t *, const int32_t *> ncl::rt::generatorSpikesAt(const Population &pop,
                                                                       int64_t stamp) {
  auto [lo, hi] = std::equal_range(pop.generatorSteps.begin(), pop.generatorSteps.end(), stamp);
  const int32_t *base = pop.generatorIndices.data();
  return {base + (lo - pop.generatorSteps.begin()), base + (hi - pop.generatorSteps.begin())};
}

void ncl::rt::recordGeneratorSpikes(ncl_model &m, int64_t s0, int64_t s1) {
  for (Population &pop : m.pops) {
    if (pop.info->source_kind != NCL_SOURCE_SPIKE_GENERATOR)
      continue;
    const int64_t first = s0 == 0 ? 0 : s0 + 1;
    auto lo = std::lower_bound(pop.generatorSteps.begin(), pop.generatorSteps.end(), first);
    auto hi = std::upper_bound(lo, pop.generatorSteps.end(), s1);
    pop.spikeCount += hi - lo;
    if (!pop.info->record_spikes)
      continue;
    for (auto it = lo; it != hi; ++it)
      pop.record.push_back(
          {*it, pop.generatorIndices[static_cast<size_t>(it - pop.generatorSteps.begin())]});
  }
}
