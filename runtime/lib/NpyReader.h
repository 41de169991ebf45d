//===- NpyReader.h - Reading 1-D .npy arrays (explicit connectivity) -*- C++ -*-===//
//
// Reads the index, weight and delay arrays users give for explicit
// connectivity: NumPy's .npy format, versions 1.0, 2.0 and 3.0, little-endian
// C-order (or Fortran-order, the same for 1-D) arrays of dtype <i4, <i8, <f4
// or <f8 with a 1-D shape (n,). Anything else, a shape (n, 1) included, is
// refused with a message naming the file and what is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_NPYREADER_H
#define NCL_RUNTIME_LIB_NPYREADER_H

#include <cstdint>
#include <string>
#include <vector>

namespace ncl::rt {

struct NpyArray {
  enum class Dtype { Int32, Int64, Float32, Float64 };
  Dtype dtype = Dtype::Int64;
  /// The values: in `ints` for Int32/Int64 and in `reals` for
  /// Float32/Float64 (widened exactly); the other vector is empty.
  std::vector<int64_t> ints;
  std::vector<double> reals;

  bool isInteger() const { return dtype == Dtype::Int32 || dtype == Dtype::Int64; }
  size_t size() const { return isInteger() ? ints.size() : reals.size(); }
};

/// The dtype as NumPy spells it ("<i4", ...).
const char *npyDtypeName(NpyArray::Dtype dtype);

/// Reads the 1-D array in `path` into `out`. On failure returns false and
/// sets `error` to a message that starts with the quoted path.
bool readNpy1D(const std::string &path, NpyArray &out, std::string &error);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_NPYREADER_H
