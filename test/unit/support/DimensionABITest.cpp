//===- DimensionABITest.cpp - Dimensions in the model ABI's layout --------===//
//
// The layout is model_abi.h's, written out by hand here: volt is
// {4, 2, -6, -2, 0, 0, 0} followed by a zero padding byte.
//
//===----------------------------------------------------------------------===//
#include "ncl/Support/DimensionABI.h"
#include "ncl/model_abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

using namespace ncl::units;

namespace {

static_assert(sizeof(ncl_dimension) == kABIDimensionSize, "ncl_dimension is int8_t[8]");

Dimension volt() { return parseUnit("V")->dim; }

TEST(DimensionABI, VoltAsModelAbiDocumentsIt) {
  ABIDimension abi = toABI(volt());
  EXPECT_EQ(abi, (ABIDimension{4, 2, -6, -2, 0, 0, 0, 0}));
}

TEST(DimensionABI, WritesIntoAnNclDimension) {
  ncl_dimension dim;
  std::fill(std::begin(dim), std::end(dim), int8_t(99));
  toABI(parseUnit("1/s")->dim.sqrt().value(), dim);
  const int8_t want[8] = {0, 0, -1, 0, 0, 0, 0, 0}; // 1/sqrt(s): half exponent -1/2
  EXPECT_TRUE(std::equal(std::begin(dim), std::end(dim), want));
}

TEST(DimensionABI, RoundTrips) {
  for (const char *u : {"mV", "nA", "Mohm", "uS/cm2", "mol/m3", "cd", "K", "1"}) {
    Dimension d = parseUnit(u)->dim;
    EXPECT_EQ(fromABI(toABI(d).data()), d) << u;
  }
}

TEST(DimensionABI, NullAndPaddingReadAsExpected) {
  EXPECT_TRUE(fromABI(nullptr).isDimensionless());
  ncl_dimension dim = {4, 2, -6, -2, 0, 0, 0, 42}; // padding is not an exponent
  EXPECT_EQ(fromABI(dim), volt());
}

} // namespace
