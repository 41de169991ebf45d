//===- ExplicitConnectivity.h - Connectivity read from .npy files -*- C++ -*-===//
//
// A projection with `connect from_npy(...)` (NCL_CONNECT_EXPLICIT) lists its
// synapses in files the runtime reads when it initialises a run: the
// presynaptic and postsynaptic indices, and optionally a value per synapse
// for some of its variables and a delay per synapse. Everything is checked
// here before anything is built, and every problem is reported as one
// message naming the file (docs/runtime.md, "Explicit connectivity").
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_EXPLICITCONNECTIVITY_H
#define NCL_RUNTIME_LIB_EXPLICITCONNECTIVITY_H

#include "Connectivity.h"
#include "ncl/model_abi.h"

#include <functional>
#include <string>
#include <vector>

namespace ncl::rt {

/// What an explicit projection's files hold, checked and in CSR order.
struct ExplicitLists {
  /// The synapses; `csr.order[k]` is the index in the files of synapse k.
  Csr csr;
  /// Per synapse variable (the projection's `vars` order): its values in
  /// internal units in CSR order, or empty when no file gives them.
  std::vector<std::vector<double>> varValues;
  /// Per-synapse delays in seconds in CSR order, or empty without a delay
  /// file.
  std::vector<double> delays;
};

/// Reads and checks the files of projection `info` (rule
/// NCL_CONNECT_EXPLICIT) for the ranges and sizes of `spec`: integer 1-D
/// index files of equal length with every index inside its range, float
/// 1-D value and delay files of the same length holding finite numbers
/// (delays also not negative). Throws std::runtime_error with a message
/// that names the file at fault.
ExplicitLists readExplicitLists(const ConnectSpec &spec, const ncl_projection_info &info);

/// The 2-D files of a projection of any other rule (docs/runtime.md,
/// "Dense matrices"): its mask and per-variable value matrices, each of
/// shape (preCount, postCount) in row-major order.
struct ConnectMatrices {
  /// 0/1 per candidate pair; empty without a mask file.
  std::vector<unsigned char> mask;
  /// Per synapse variable: the matrix in the file's units, or empty.
  std::vector<std::vector<double>> values;
};

/// Reads and checks the mask and value matrices of `info`: 2-D arrays of
/// the projection's range shape, a mask of integers or floats that are 0 or
/// 1, values of float32 or float64 that are finite. Throws
/// std::runtime_error naming the file at fault.
ConnectMatrices readConnectMatrices(const ConnectSpec &spec, const ncl_projection_info &info);

/// The values `matrices` give the synapses of `csr` (CSR order, internal
/// units), per variable (empty where no file gives one); refuses a weight
/// whose sign breaks Dale's law (checkWeightSigns).
std::vector<std::vector<double>> matrixValuesInCsrOrder(const ConnectSpec &spec,
                                                        const ncl_projection_info &info,
                                                        const ConnectMatrices &matrices,
                                                        const Csr &csr);

/// The sign Dale's law fixes for the weights of presynaptic neuron `pre` of
/// projection `info`: +1, -1, or 0 where none is declared.
int weightSign(const ncl_projection_info &info, int64_t pre);

/// Where a weight read from a file sits: its presynaptic and postsynaptic
/// neurons and value (in the file's units).
struct FileWeight {
  int64_t pre, post;
  double value;
};

/// Throws std::runtime_error naming `path` and the first of `count` weights
/// (`weight(k)`) whose sign breaks its presynaptic neuron's; `entry(k)`
/// says where the file holds it ("entry 5", "entry [3, 7]").
void checkWeightSigns(const ncl_projection_info &info, const std::string &path, int64_t count,
                      const std::function<FileWeight(int64_t)> &weight,
                      const std::function<std::string(int64_t)> &entry);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_EXPLICITCONNECTIVITY_H
