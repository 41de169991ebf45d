//===- ExplicitConnectivity.cpp - Connectivity read from .npy files -------===//
//
// See ExplicitConnectivity.h. Files are read one at a time and the lists
// are checked in file order, so the first problem reported is the same on
// every run.
//
//===----------------------------------------------------------------------===//
#include "ExplicitConnectivity.h"

#include "NpyReader.h"

#include <cmath>
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
