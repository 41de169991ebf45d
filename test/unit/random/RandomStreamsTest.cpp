//===- RandomStreamsTest.cpp - The layout header from C and C++ -----------===//
//
// ncl/random_streams.h compiled as C (RandomStreamsC.c) against the C++
// reference's key and counter, and its constants against docs/random.md:
// initial values draw at step 2^64 - 1, stream ids are population << 10 | k.
//
//===----------------------------------------------------------------------===//
#include "ncl/philox.h"

#include <gtest/gtest.h>

extern "C" {
void ncl_test_random_key_c(uint64_t seed, uint32_t key[2]);
void ncl_test_random_counter_c(uint64_t step, uint64_t entity, uint32_t stream, uint32_t ctr[4]);
uint32_t ncl_test_random_stream_id_c(uint32_t population, uint32_t site);
uint64_t ncl_test_random_init_step_c(void);
}

using namespace ncl::philox;

namespace {

TEST(RandomStreams, CBuildMatchesReference) {
  const uint64_t values[] = {
      0, 1, 0xFFFFFFFFull, 0x100000000ull, 0x0000AAAABBBBCCCCull, 0xFFFF000000000007ull, ~0ull};
  for (uint64_t a : values) {
    Key key;
    ncl_test_random_key_c(a, key.data());
    EXPECT_EQ(key, make_key(a));
    for (uint64_t b : values)
      for (uint32_t stream : {0u, 1u, 0x1234u, 0xFFFFu, 0x10002u}) {
        Words ctr;
        ncl_test_random_counter_c(a, b, stream, ctr.data());
        EXPECT_EQ(ctr, make_counter(a, b, stream));
      }
  }
}

TEST(RandomStreams, InitStepAndStreamIds) {
  EXPECT_EQ(ncl_test_random_init_step_c(), ~uint64_t(0));
  EXPECT_EQ(kInitStep, ~uint64_t(0));
  EXPECT_EQ(ncl_test_random_stream_id_c(0, 0), 0u);
  EXPECT_EQ(ncl_test_random_stream_id_c(3, 5), 3u * 1024 + 5);
  EXPECT_EQ(ncl_test_random_stream_id_c(63, 1023), 0xFFFFu);
  EXPECT_EQ(NCL_RANDOM_MAX_SITES, 1024u);
  EXPECT_EQ(NCL_RANDOM_MAX_POPULATIONS, 64u);
}

} // namespace
