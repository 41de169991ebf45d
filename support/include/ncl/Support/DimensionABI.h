//===- DimensionABI.h - Dimensions as the model ABI stores them -*- C++ -*-===//
//
// The model ABI (runtime/include/ncl/model_abi.h) carries a dimension as
// `ncl_dimension`, int8_t[8]: the seven doubled SI exponents of
// units::Dimension and one zero byte of padding. The compiler writes it into
// a library's descriptor and the runtime reads it back; both convert here,
// so the two ends cannot disagree on the layout. support/ does not include
// the runtime's headers: each user static_asserts the size against
// sizeof(ncl_dimension).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_SUPPORT_DIMENSIONABI_H
#define NCL_SUPPORT_DIMENSIONABI_H

#include "ncl/Support/Units.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace ncl::units {

/// Bytes in the ABI's ncl_dimension.
constexpr size_t kABIDimensionSize = 8;

/// A dimension in the ABI's layout, padding byte zero.
using ABIDimension = std::array<int8_t, kABIDimensionSize>;

/// `d` as an ncl_dimension.
ABIDimension toABI(const Dimension &d);

/// Writes `d` into `out`, an ncl_dimension (kABIDimensionSize bytes).
void toABI(const Dimension &d, int8_t *out);

/// The dimension stored in `abi`, an ncl_dimension; null is dimensionless.
/// The padding byte is ignored.
Dimension fromABI(const int8_t *abi);

} // namespace ncl::units

#endif // NCL_SUPPORT_DIMENSIONABI_H
