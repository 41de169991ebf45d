//===- NpyReader.h - Reading 1-D and 2-D .npy arrays ------------*- C++ -*-===//
//
// Reads the arrays users give in files (explicit connectivity, a spike
// generator's times and indices, a timed input's samples): NumPy's .npy
// format, versions 1.0, 2.0 and 3.0, little-endian arrays of dtype <i4,
// <i8, <f4 or <f8. readNpy1D takes a 1-D shape (n,) only, so a shape
// (n, 1) is refused; readNpy also takes 2-D arrays in C order. Anything
// else is refused with a message naming the file and what is wrong.
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

/// Reads an array of 1 to `maxRank` dimensions (C order) from `path` into
/// `out` (flattened, row-major) and its dimensions into `shape`. Failures
/// as readNpy1D's (which is this with maxRank 1).
bool readNpy(const std::string &path, int maxRank, NpyArray &out, std::vector<int64_t> &shape,
             std::string &error);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_NPYREADER_H
