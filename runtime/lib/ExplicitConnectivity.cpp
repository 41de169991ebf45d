//===- ExplicitConnectivity.cpp - Connectivity read from .npy files -------===//
//
// See ExplicitConnectivity.h. Files are read one at a time and the lists
// are checked in file order, so the first problem reported is the same on
// every run.
//
//===----------------------------------------------------------------------===//
#include "ExplicitConnectivity.h"

#include "NpyReader.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

using namespace ncl::rt;

namespace {

std::string quoted(const char *path) { return "'" + std::string(path) + "'"; }

/// Reads the 1-D array in `path` and checks that its dtype is an integer
/// (`integers`) or a float type, and, with `length` >= 0, that it has
/// `length` elements.
NpyArray readList(const char *path, bool integers, const std::string &what, int64_t length,
                  const char *lengthFile) {
  NpyArray array;
  std::string error;
  if (!readNpy1D(path, array, error))
    throw std::runtime_error(error);
  if (array.isInteger() != integers)
    throw std::runtime_error(quoted(path) + " has dtype '" + npyDtypeName(array.dtype) + "', but " +
                             what +
                             (integers ? " are integers: save them as int32 or int64"
                                       : " are real numbers: save them as float32 or float64"));
  if (length >= 0 && static_cast<int64_t>(array.size()) != length)
    throw std::runtime_error(quoted(path) + " holds " + std::to_string(array.size()) + " " + what +
                             ", but " + quoted(lengthFile) + " lists " + std::to_string(length) +
                             " synapses");
  return array;
}

/// Checks that every index of `list` lies in [begin, begin + count).
void checkIndices(const char *path, const std::vector<int64_t> &list, const char *side,
                  int64_t begin, int64_t count) {
  for (size_t k = 0; k < list.size(); ++k)
    if (list[k] < begin || list[k] >= begin + count)
      throw std::runtime_error(quoted(path) + ": entry " + std::to_string(k) + " is " + side +
                               " index " + std::to_string(list[k]) + ", outside the projection's " +
                               side + " neurons [" + std::to_string(begin) + ", " +
                               std::to_string(begin + count) + ")");
}

/// Checks that every value of `values` is finite (and, with `nonNegative`,
/// not below zero), naming the first that is not.
void checkValues(const char *path, const std::vector<double> &values, const std::string &what,
                 bool nonNegative) {
  for (size_t k = 0; k < values.size(); ++k) {
    const double v = values[k];
    if (!std::isfinite(v) || (nonNegative && v < 0))
      throw std::runtime_error(quoted(path) + ": entry " + std::to_string(k) + " (" + what +
                               " of synapse " + std::to_string(k) + ") is " + std::to_string(v) +
                               (std::isfinite(v) ? ", but delays cannot be negative"
                                                 : ", but values must be finite numbers"));
  }
}

/// `values` (file order) in the CSR order of `order`, times `scale`.
std::vector<double> inCsrOrder(const std::vector<double> &values, const std::vector<int64_t> &order,
                               double scale) {
  std::vector<double> out(order.size());
  for (size_t k = 0; k < order.size(); ++k)
    out[k] = values[static_cast<size_t>(order[k])] * scale;
  return out;
}

} // namespace

ExplicitLists ncl::rt::readExplicitLists(const ConnectSpec &spec, const ncl_projection_info &info) {
  const NpyArray pre = readList(info.pre_file, true, "presynaptic indices", -1, nullptr);
  const int64_t count = static_cast<int64_t>(pre.size());
  const NpyArray post =
      readList(info.post_file, true, "postsynaptic indices", count, info.pre_file);
  checkIndices(info.pre_file, pre.ints, "presynaptic", spec.preBegin, spec.preCount);
  checkIndices(info.post_file, post.ints, "postsynaptic", spec.postBegin, spec.postCount);

  // Values are read and checked before the lists are sorted, so that a bad
  // file is reported before any work.
  std::vector<NpyArray> values(static_cast<size_t>(info.num_vars));
  for (int32_t v = 0; v < info.num_vars; ++v) {
    const char *path = info.var_files ? info.var_files[v] : nullptr;
    if (!path)
      continue;
    const std::string what = "values of '" + std::string(info.vars[v].name) + "'";
    values[static_cast<size_t>(v)] = readList(path, false, what, count, info.pre_file);
    checkValues(path, values[static_cast<size_t>(v)].reals, "the value", false);
  }
  NpyArray delays;
  if (info.delay_file) {
    delays = readList(info.delay_file, false, "delays", count, info.pre_file);
    checkValues(info.delay_file, delays.reals, "the delay", true);
  }

  // Dale's law: weights from the file keep their presynaptic neuron's sign.
  if (info.weight_var >= 0 && info.var_files && info.var_files[info.weight_var]) {
    const std::vector<double> &w = values[static_cast<size_t>(info.weight_var)].reals;
    checkWeightSigns(
        info, info.var_files[info.weight_var], count,
        [&](int64_t k) {
          return FileWeight{pre.ints[static_cast<size_t>(k)], post.ints[static_cast<size_t>(k)],
                            w[static_cast<size_t>(k)]};
        },
        [](int64_t k) { return "entry " + std::to_string(k); });
  }

  ExplicitLists lists;
  std::string error;
  lists.csr = buildExplicit(spec, pre.ints, post.ints, error);
  if (!error.empty())
    throw std::runtime_error("the lists in " + quoted(info.pre_file) + " and " +
                             quoted(info.post_file) + ": " + error);
  lists.varValues.resize(static_cast<size_t>(info.num_vars));
  for (int32_t v = 0; v < info.num_vars; ++v)
    if (!values[static_cast<size_t>(v)].reals.empty() || (info.var_files && info.var_files[v]))
      lists.varValues[static_cast<size_t>(v)] = inCsrOrder(
          values[static_cast<size_t>(v)].reals, lists.csr.order, info.vars[v].unit_scale);
  if (info.delay_file)
    lists.delays = inCsrOrder(delays.reals, lists.csr.order, 1e-3); // milliseconds
  return lists;
}

//===----------------------------------------------------------------------===//
// Dense matrices and masks
//===----------------------------------------------------------------------===//

namespace {

/// Reads the 2-D array in `path` and checks its shape against the
/// projection's ranges.
NpyArray readMatrix(const char *path, const ConnectSpec &spec, const std::string &what) {
  NpyArray array;
  std::vector<int64_t> shape;
  std::string error;
  if (!readNpy(path, 2, array, shape, error))
    throw std::runtime_error(error);
  if (shape.size() != 2 || shape[0] != spec.preCount || shape[1] != spec.postCount) {
    std::string got;
    for (size_t k = 0; k < shape.size(); ++k)
      got += (k ? ", " : "") + std::to_string(shape[k]);
    throw std::runtime_error(quoted(path) + " has shape (" + got + (shape.size() == 1 ? "," : "") +
                             "), but " + what + " of this projection is a matrix of shape (" +
                             std::to_string(spec.preCount) + ", " + std::to_string(spec.postCount) +
                             ") (presynaptic x postsynaptic neurons of its ranges)");
  }
  return array;
}

/// A value as the user wrote it: shortest round-trip form ("-0.25", "2",
/// "nan").
std::string valueText(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  std::string text = os.str();
  for (int digits = 1; digits < 17; ++digits) {
    std::ostringstream shorter;
    shorter << std::setprecision(digits) << v;
    if (std::stod(shorter.str()) == v || !std::isfinite(v))
      return shorter.str();
  }
  return text;
}

std::string matrixEntry(int64_t k, int64_t columns) {
  return "entry [" + std::to_string(k / columns) + ", " + std::to_string(k % columns) + "]";
}

} // namespace

ConnectMatrices ncl::rt::readConnectMatrices(const ConnectSpec &spec,
                                             const ncl_projection_info &info) {
  ConnectMatrices out;
  if (info.mask_file) {
    const NpyArray mask = readMatrix(info.mask_file, spec, "the mask");
    out.mask.resize(mask.size());
    for (size_t k = 0; k < mask.size(); ++k) {
      const double v = mask.isInteger() ? static_cast<double>(mask.ints[k]) : mask.reals[k];
      if (v != 0 && v != 1)
        throw std::runtime_error(
            quoted(info.mask_file) + ": " + matrixEntry(static_cast<int64_t>(k), spec.postCount) +
            " is " + valueText(v) + ", but a mask holds 0 (no synapse) or 1 (a synapse)");
      out.mask[k] = v != 0;
    }
  }
  out.values.resize(static_cast<size_t>(info.num_vars));
  for (int32_t v = 0; v < info.num_vars; ++v) {
    const char *path = info.var_files ? info.var_files[v] : nullptr;
    if (!path)
      continue;
    const std::string what = "'" + std::string(info.vars[v].name) + "'";
    NpyArray matrix = readMatrix(path, spec, what);
    if (matrix.isInteger())
      throw std::runtime_error(quoted(path) + " has dtype '" + npyDtypeName(matrix.dtype) +
                               "', but values of " + what +
                               " are real numbers: save them as float32 or float64");
    for (size_t k = 0; k < matrix.reals.size(); ++k)
      if (!std::isfinite(matrix.reals[k]))
        throw std::runtime_error(
            quoted(path) + ": " + matrixEntry(static_cast<int64_t>(k), spec.postCount) + " is " +
            valueText(matrix.reals[k]) + ", but values must be finite numbers");
    out.values[static_cast<size_t>(v)] = std::move(matrix.reals);
  }
  return out;
}

std::vector<std::vector<double>> ncl::rt::matrixValuesInCsrOrder(const ConnectSpec &spec,
                                                                 const ncl_projection_info &info,
                                                                 const ConnectMatrices &matrices,
                                                                 const Csr &csr) {
  std::vector<std::vector<double>> out(matrices.values.size());
  if (std::all_of(matrices.values.begin(), matrices.values.end(),
                  [](const std::vector<double> &m) { return m.empty(); }))
    return out; // nothing to place: no per-synapse scratch either
  // The matrix entry of each synapse, in CSR order.
  std::vector<int64_t> entry(static_cast<size_t>(csr.size()));
  std::vector<int64_t> preOf(entry.size());
  for (int64_t row = spec.preBegin; row < spec.preBegin + spec.preCount; ++row)
    for (int64_t s = csr.rowPtr[static_cast<size_t>(row)];
         s < csr.rowPtr[static_cast<size_t>(row) + 1]; ++s) {
      entry[static_cast<size_t>(s)] = (row - spec.preBegin) * spec.postCount +
                                      (csr.post[static_cast<size_t>(s)] - spec.postBegin);
      preOf[static_cast<size_t>(s)] = row;
    }
  for (size_t v = 0; v < matrices.values.size(); ++v) {
    const std::vector<double> &matrix = matrices.values[v];
    if (matrix.empty())
      continue;
    if (static_cast<int32_t>(v) == info.weight_var)
      checkWeightSigns(
          info, info.var_files[v], csr.size(),
          [&](int64_t s) {
            return FileWeight{preOf[static_cast<size_t>(s)], csr.post[static_cast<size_t>(s)],
                              matrix[static_cast<size_t>(entry[static_cast<size_t>(s)])]};
          },
          [&](int64_t s) { return matrixEntry(entry[static_cast<size_t>(s)], spec.postCount); });
    out[v].resize(entry.size());
    for (size_t s = 0; s < entry.size(); ++s)
      out[v][s] = matrix[static_cast<size_t>(entry[s])] * info.vars[v].unit_scale;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Dale's law
//===----------------------------------------------------------------------===//

int ncl::rt::weightSign(const ncl_projection_info &info, int64_t pre) {
  for (int32_t k = 0; k < info.num_signed_ranges; ++k) {
    const ncl_signed_range &r = info.signed_ranges[k];
    if (pre >= r.begin && (r.end < 0 || pre < r.end))
      return r.sign;
  }
  return 0;
}

void ncl::rt::checkWeightSigns(const ncl_projection_info &info, const std::string &path,
                               int64_t count, const std::function<FileWeight(int64_t)> &weight,
                               const std::function<std::string(int64_t)> &entry) {
  if (info.weight_var < 0 || info.num_signed_ranges == 0)
    return;
  const std::string name = info.vars[info.weight_var].name;
  for (int64_t k = 0; k < count; ++k) {
    const FileWeight w = weight(k);
    const int sign = weightSign(info, w.pre);
    if ((sign > 0 && w.value < 0) || (sign < 0 && w.value > 0))
      throw std::runtime_error("'" + path + "': " + entry(k) + " gives synapse " +
                               std::to_string(w.pre) + " -> " + std::to_string(w.post) +
                               " the weight " + name + " = " + valueText(w.value) +
                               ", but presynaptic neuron " + std::to_string(w.pre) + " is " +
                               (sign > 0 ? "excitatory" : "inhibitory") +
                               ": Dale's law keeps its weights " + (sign > 0 ? ">= 0" : "<= 0"));
  }
}
