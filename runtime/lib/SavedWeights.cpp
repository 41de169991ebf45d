//===- SavedWeights.cpp - Per-synapse state read back from .npy files -----===//
//
// Reads the files that writeSynapseState (Output.cpp) writes, as
// `ncl-run --load-weights DIR` and ncl_load_weights do: for every
// projection P, P_pre.npy and P_post.npy (the neurons of each synapse,
// which must be this model's) and P_<var>.npy for every per-synapse
// variable, hidden ones (`_lastupdate`) included, in the model's precision.
// Every file is read and checked before any value is written, so a failure
// leaves the model as it was, and the message names the file.
//
//===----------------------------------------------------------------------===//
#include "ExplicitConnectivity.h"
#include "Model.h"
#include "NpyReader.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace ncl::rt;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const std::string &path, const std::string &why) {
  throw Error(NCL_ERROR_IO, "cannot load weights: '" + path + "' " + why);
}

NpyArray readArray(const std::string &path) {
  NpyArray array;
  std::string error;
  if (!readNpy1D(path, array, error))
    throw Error(NCL_ERROR_IO, "cannot load weights: " + error);
  return array;
}

void checkLength(const std::string &path, const NpyArray &array, const Projection &q) {
  if (static_cast<int64_t>(array.size()) != q.synapses)
    refuse(path, "holds " + std::to_string(array.size()) + " values, but projection '" +
                     q.info->name + "' has " + std::to_string(q.synapses) +
                     " synapses (the weights were saved from another network)");
}

/// Checks that P_pre.npy and P_post.npy list this model's synapses.
void checkConnectivity(const ncl_model &m, const Projection &q, const std::string &stem) {
  const std::string prePath = stem + "pre.npy", postPath = stem + "post.npy";
  const NpyArray pre = readArray(prePath), post = readArray(postPath);
  for (const auto &[path, array] : {std::pair{&prePath, &pre}, std::pair{&postPath, &post}}) {
    if (!array->isInteger())
      refuse(*path, std::string("has dtype '") + npyDtypeName(array->dtype) +
                        "', but neuron indices are integers (int32)");
    checkLength(*path, *array, q);
  }
  const ncl_population_info &prePop = m.desc->populations[q.info->pre];
  const ncl_population_info &postPop = m.desc->populations[q.info->post];
  for (size_t row = 0, k = 0; row + 1 < q.rowStart.size(); ++row)
    for (; static_cast<int64_t>(k) < q.rowStart[row + 1]; ++k)
      if (pre.ints[k] != static_cast<int64_t>(row) || post.ints[k] != q.post[k])
        refuse(pre.ints[k] != static_cast<int64_t>(row) ? prePath : postPath,
               "does not describe this model's synapses: synapse " + std::to_string(k) + " is " +
                   prePop.name + "[" + std::to_string(pre.ints[k]) + "] -> " + postPop.name + "[" +
                   std::to_string(post.ints[k]) + "] in the files but " + prePop.name + "[" +
                   std::to_string(row) + "] -> " + postPop.name + "[" + std::to_string(q.post[k]) +
                   "] in projection '" + q.info->name +
                   "' (saved with another seed, size or connect rule?)");
}

/// Dale's law: saved weights keep the sign of their presynaptic neuron.
void checkSavedWeightSigns(const Projection &q, const std::string &path,
                           const std::vector<double> &weights) {
  std::vector<int64_t> preOf(weights.size());
  for (size_t row = 0; row + 1 < q.rowStart.size(); ++row)
    for (int64_t k = q.rowStart[row]; k < q.rowStart[row + 1]; ++k)
      preOf[static_cast<size_t>(k)] = static_cast<int64_t>(row);
  try {
    checkWeightSigns(
        *q.info, path, static_cast<int64_t>(weights.size()),
        [&](int64_t k) {
          return FileWeight{preOf[static_cast<size_t>(k)], q.post[static_cast<size_t>(k)],
                            weights[static_cast<size_t>(k)]};
        },
        [](int64_t k) { return "entry " + std::to_string(k); });
  } catch (const std::runtime_error &e) {
    throw Error(NCL_ERROR_IO, std::string("cannot load weights: ") + e.what());
  }
}

} // namespace

void ncl::rt::readSynapseState(ncl_model &m, const std::string &dir) {
  if (!fs::is_directory(dir))
    throw Error(NCL_ERROR_IO, "cannot load weights: '" + dir + "' is not a directory");
  const bool f32 = m.desc->real_bits == 32;
  const NpyArray::Dtype precision = f32 ? NpyArray::Dtype::Float32 : NpyArray::Dtype::Float64;
  // Per projection and variable, the values to write once all are checked.
  std::vector<std::vector<std::vector<double>>> values(m.projs.size());
  for (size_t p = 0; p < m.projs.size(); ++p) {
    const Projection &q = m.projs[p];
    const std::string stem = (fs::path(dir) / q.info->name).string() + "_";
    checkConnectivity(m, q, stem);
    for (int v = 0; v < q.info->num_vars; ++v) {
      const std::string path = stem + q.info->vars[v].name + ".npy";
      NpyArray array = readArray(path);
      if (array.dtype != precision)
        refuse(path, std::string("has dtype '") + npyDtypeName(array.dtype) + "', but this is a " +
                         (f32 ? "float32" : "float64") + " model, which saves and loads '" +
                         npyDtypeName(precision) + "'");
      checkLength(path, array, q);
      for (size_t k = 0; k < array.reals.size(); ++k)
        if (!std::isfinite(array.reals[k]))
          refuse(path, "holds " + std::to_string(array.reals[k]) + " at synapse " +
                           std::to_string(k) + "; values must be finite");
      if (v == q.info->weight_var)
        checkSavedWeightSigns(q, path, array.reals);
      values[p].push_back(std::move(array.reals));
    }
  }
  // Traces kept per neuron: one value per neuron of their side.
  std::vector<std::vector<std::pair<TraceView, std::vector<double>>>> traces(m.projs.size());
  for (size_t p = 0; p < m.projs.size(); ++p) {
    const Projection &q = m.projs[p];
    const std::string stem = (fs::path(dir) / q.info->name).string() + "_";
    for (const TraceView &trace : traceViews(m, q)) {
      const std::string path = stem + trace.fileName() + ".npy";
      NpyArray array = readArray(path);
      if (array.dtype != precision)
        refuse(path, std::string("has dtype '") + npyDtypeName(array.dtype) + "', but this is a " +
                         (f32 ? "float32" : "float64") + " model, which saves and loads '" +
                         npyDtypeName(precision) + "'");
      if (static_cast<int64_t>(array.size()) != trace.neurons)
        refuse(path, "holds " + std::to_string(array.size()) + " values, but the " +
                         (trace.pre ? "presynaptic" : "postsynaptic") + " population of '" +
                         q.info->name + "' has " + std::to_string(trace.neurons) + " neurons");
      for (size_t k = 0; k < array.reals.size(); ++k)
        if (!std::isfinite(array.reals[k]))
          refuse(path, "holds " + std::to_string(array.reals[k]) + " at neuron " +
                           std::to_string(k) + "; values must be finite");
      traces[p].push_back({trace, std::move(array.reals)});
    }
  }
  for (size_t p = 0; p < m.projs.size(); ++p)
    for (auto &[trace, in] : traces[p]) {
      if (isEventTime(trace.name))
        for (double &t : in)
          t += currentTime(m);
      std::vector<unsigned char> raw(in.size() * (f32 ? 4 : 8));
      for (size_t k = 0; k < in.size(); ++k)
        if (f32)
          reinterpret_cast<float *>(raw.data())[k] = static_cast<float>(in[k]);
        else
          reinterpret_cast<double *>(raw.data())[k] = in[k];
      if (trace.pre)
        setPreTraceValues(m, trace.buffer, raw.data());
      else
        std::memcpy(m.bufferPtrs[static_cast<size_t>(trace.buffer)], raw.data(), raw.size());
    }
  for (size_t p = 0; p < m.projs.size(); ++p) {
    const Projection &q = m.projs[p];
    for (size_t v = 0; v < values[p].size(); ++v) {
      void *data = m.bufferPtrs[static_cast<size_t>(q.varBuffer[v])];
      std::vector<double> &in = values[p][v];
      // Saved relative to the time of saving (writeSynapseState): now
      // relative to this run's clock.
      if (isEventTime(q.info->vars[v].name))
        for (double &t : in)
          t += currentTime(m);
      const size_t stride = synapseRecordLength(q); // interleaved records
      for (size_t k = 0; k < in.size(); ++k) {
        if (f32)
          static_cast<float *>(data)[k * stride] = static_cast<float>(in[k]);
        else
          static_cast<double *>(data)[k * stride] = in[k];
      }
    }
  }
}
