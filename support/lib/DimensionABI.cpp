//===- DimensionABI.cpp - Dimensions as the model ABI stores them ---------===//
//
// The layout is documented in ncl/Support/DimensionABI.h.
//
//===----------------------------------------------------------------------===//
#include "ncl/Support/DimensionABI.h"

using namespace ncl::units;

static_assert(std::tuple_size<decltype(Dimension::exponents)>::value < kABIDimensionSize,
              "the ABI's ncl_dimension holds every exponent and a padding byte");

ABIDimension ncl::units::toABI(const Dimension &d) {
  ABIDimension abi{};
  toABI(d, abi.data());
  return abi;
}

void ncl::units::toABI(const Dimension &d, int8_t *out) {
  for (size_t i = 0; i < kABIDimensionSize; ++i)
    out[i] = i < d.exponents.size() ? d.exponents[i] : 0;
}

Dimension ncl::units::fromABI(const int8_t *abi) {
  Dimension d;
  if (abi)
    for (size_t i = 0; i < d.exponents.size(); ++i)
      d.exponents[i] = abi[i];
  return d;
}
