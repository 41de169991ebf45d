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

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_EXPLICITCONNECTIVITY_H
