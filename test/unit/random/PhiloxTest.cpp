//===- PhiloxTest.cpp - The reference generator in ncl/philox.h -----------===//
//
// Known-answer vectors of Philox4x32, NCL's counter mapping and float
// conversions, golden values shared with the independent Python reference
// (test/e2e/philox_reference.py), and statistical sanity checks.
//
//===----------------------------------------------------------------------===//
#include "ncl/philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <tuple>

using namespace ncl::philox;

namespace {

uint64_t bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// Known answers for philox4x32: Random123's tests/kat_vectors, as quoted in
// DEShawResearch/fs123, core123/ut/ut_philox.cpp (commit 3ea43efd78b7),
// whose comment says they are "cut-and-pasted from the kat_vectors file in
// the original Random123 distribution". Columns: rounds, counter, key,
// expected output.
struct Kat {
  unsigned rounds;
  Words ctr;
  Key key;
  Words out;
};
const Kat kKats[] = {
    {10,
     {0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {10,
     {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {10,
     {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    {7,
     {0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
    {7,
     {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
    {7,
     {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
};

TEST(Philox, KnownAnswerVectors) {
  for (const Kat &k : kKats) {
    Words got = philox4x32_R(k.rounds, k.ctr, k.key);
    EXPECT_EQ(got, k.out) << "rounds " << k.rounds << " ctr[0] " << std::hex << k.ctr[0];
    if (k.rounds == 10)
      EXPECT_EQ(philox4x32_10(k.ctr, k.key), k.out);
  }
}

TEST(Philox, Mapping) {
  EXPECT_EQ(make_key(0x0123456789ABCDEFull), (Key{0x89ABCDEFu, 0x01234567u}));
  EXPECT_EQ(make_counter(0x1111222233334444ull, 0x0000AAAABBBBCCCCull, 0x1234),
            (Words{0x33334444u, 0x11112222u, 0xBBBBCCCCu, 0x1234AAAAu}));
  // Entity bits above 47 and stream bits above 15 are dropped.
  EXPECT_EQ(make_counter(5, 0xFFFF000000000007ull, 0x10002), make_counter(5, 7, 2));
  // seed 0, step 0, entity 0, stream 0 is the all-zero KAT.
  EXPECT_EQ(draw(0, 0, 0, 0), kKats[0].out);
}

// Golden values printed by `python3 test/e2e/philox_reference.py --golden`,
// an independent implementation: seed, step, entity, stream, words,
// bit patterns of uniform01_f64, uniform01_f32, normal_f64, normal_f32.
struct Golden {
  uint64_t seed, step, entity;
  uint32_t stream;
  Words words;
  uint64_t uf64;
  uint32_t uf32;
  uint64_t nf64;
  uint32_t nf32;
};
const Golden kGolden[] = {
    {0x0000000000000000ull,
     0x0ull,
     0x0ull,
     0x0u,
     {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
     0x3fd989fa35785a72ull,
     0x3ecc4fd2u,
     0xbfbf1bcd549837c3ull,
     0xbdf8de3au},
    {0x000000000000002aull,
     0x0ull,
     0x0ull,
     0x0u,
     {0x9ceaf053u, 0x77f5493bu, 0x12bf50adu, 0x5742b3d7u},
     0x3fe39d5e0a6efea9ull,
     0x3f1ceaf1u,
     0x3fec5e30047aa1d6ull,
     0x3f62f17fu},
    {0x000000000000002aull,
     0x1ull,
     0x0ull,
     0x0u,
     {0xfcdb2127u, 0x53ba6cfdu, 0x838f5a6eu, 0x744e06fbu},
     0x3fef9b6424ea774dull,
     0x3f7cdb21u,
     0xbfc40bc8bc52b070ull,
     0xbe205e4au},
    {0x000000000000002aull,
     0x0ull,
     0x1ull,
     0x0u,
     {0x02933769u, 0x2051e913u, 0x3b68b038u, 0xb62c409cu},
     0x3f8499bb49028f40ull,
     0x3c24cdc0u,
     0x3fd5d375ef42862eull,
     0x3eae9b96u},
    {0x000000000000002aull,
     0x0ull,
     0x0ull,
     0x1u,
     {0x610ce4e4u, 0x7fd5c499u, 0xd49de68fu, 0xf70f1e6eu},
     0x3fd84339391ff572ull,
     0x3ec219cau,
     0x3fe59a43e095c3ebull,
     0x3f2cd223u},
    {0xdeadbeefcafef00dull,
     0x1cbe991a14ull,
     0xabcdef012345ull,
     0xffffu,
     {0x7a58d060u, 0xcde092b7u, 0x1f7dcb71u, 0x9c8a463au},
     0x3fde963418337826ull,
     0x3ef4b1a2u,
     0x3febd6531a672270ull,
     0x3f5eb29au},
    {0xffffffffffffffffull,
     0xffffffffffffffffull,
     0xffffffffffffull,
     0x7u,
     {0xb7143e2fu, 0x67c5d634u, 0x52f657a4u, 0x62050023u},
     0x3fe6e287c5ecf8bbull,
     0x3f37143fu,
     0xbfd784eb4d0d1abfull,
     0xbebc2753u},
    {0x0000000000003039ull,
     0x3e8ull,
     0x1869full,
     0x3u,
     {0x3aa70cc2u, 0x4b23f2cdu, 0x07239090u, 0x326c57beu},
     0x3fcd5386612591fcull,
     0x3e6a9c34u,
     0x3ffb0bfb8429d1dcull,
     0x3fd85fdbu},
};

TEST(Philox, GoldenValuesOfPythonReference) {
  for (const Golden &g : kGolden) {
    Words w = draw(g.seed, g.step, g.entity, g.stream);
    EXPECT_EQ(w, g.words) << "seed " << g.seed;
    EXPECT_EQ(bits(uniform01_f64(w)), g.uf64) << "seed " << g.seed;
    EXPECT_EQ(bits(uniform01_f32(w)), g.uf32) << "seed " << g.seed;
    EXPECT_EQ(bits(normal_f64(w)), g.nf64) << "seed " << g.seed;
    EXPECT_EQ(bits(normal_f32(w)), g.nf32) << "seed " << g.seed;
    EXPECT_EQ(bits(uniform_f64(g.seed, g.step, g.entity, g.stream)), g.uf64);
    EXPECT_EQ(bits(normal_f32(g.seed, g.step, g.entity, g.stream)), g.nf32);
  }
}

TEST(Philox, UniformExtremes) {
  const Words zero{0, 0, 0, 0}, ones{~0u, ~0u, ~0u, ~0u};
  EXPECT_EQ(uniform01_f64(zero), std::ldexp(1.0, -53));
  EXPECT_EQ(uniform01_f64(ones), 1.0 - std::ldexp(1.0, -53));
  EXPECT_EQ(uniform01_f32(zero), std::ldexp(1.0f, -24));
  EXPECT_EQ(uniform01_f32(ones), 1.0f - std::ldexp(1.0f, -24));
  EXPECT_LT(uniform01_f64(ones), 1.0);
  EXPECT_LT(uniform01_f32(ones), 1.0f);
  // Largest |z|: u1 smallest, cos(2pi u2) nearest +-1.
  double zmax = normal_f64(Words{0, 0, 0, 0});
  EXPECT_TRUE(std::isfinite(zmax));
  EXPECT_NEAR(zmax, std::sqrt(2 * 53 * std::log(2.0)), 1e-6);
  float zmax32 = normal_f32(Words{0, 0, 0, 0});
  EXPECT_NEAR(zmax32, std::sqrt(2 * 24 * std::log(2.0)), 1e-4);
  EXPECT_TRUE(std::isfinite(normal_f64(ones)));
  EXPECT_TRUE(std::isfinite(normal_f32(ones)));
}

// Mean / variance within 5 sigma of their sampling error over 1e6 draws
// (a 1000 x 1000 grid of steps and neurons, so the mapping is exercised).
struct Moments {
  double n = 0, sum = 0, sumsq = 0, lo = 1e300, hi = -1e300;
  void add(double x) {
    n += 1;
    sum += x;
    sumsq += x * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  double mean() const { return sum / n; }
  double var() const { return sumsq / n - mean() * mean(); }
};

template <typename F> Moments sample(F f, uint32_t stream) {
  Moments m;
  for (uint64_t step = 0; step < 1000; ++step)
    for (uint64_t e = 0; e < 1000; ++e)
      m.add(f(draw(20240601, step, e, stream)));
  return m;
}

TEST(Philox, UniformStatistics) {
  const double n = 1e6;
  for (int single = 0; single < 2; ++single) {
    Moments m = single ? sample([](const Words &w) { return double(uniform01_f32(w)); }, 3)
                       : sample([](const Words &w) { return uniform01_f64(w); }, 3);
    SCOPED_TRACE(single ? "f32" : "f64");
    EXPECT_NEAR(m.mean(), 0.5, 5 * std::sqrt(1.0 / 12 / n));
    EXPECT_NEAR(m.var(), 1.0 / 12, 5 * std::sqrt(1.0 / 180 / n));
    EXPECT_GT(m.lo, 0.0);
    EXPECT_LT(m.hi, 1.0);
  }
}

TEST(Philox, UniformHistogram) {
  // 64 bins, chi-square with 63 degrees of freedom: mean 63, sd sqrt(126).
  const int bins = 64, n = 1000000;
  std::vector<int> count(bins);
  for (int i = 0; i < n; ++i)
    ++count[int(uniform_f64(77, uint64_t(i) / 1000, uint64_t(i) % 1000, 9) * bins)];
  double expected = double(n) / bins, chi2 = 0;
  for (int c : count)
    chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 63 + 5 * std::sqrt(126.0));
}

TEST(Philox, NormalStatistics) {
  const double n = 1e6;
  for (int single = 0; single < 2; ++single) {
    Moments m = single ? sample([](const Words &w) { return double(normal_f32(w)); }, 4)
                       : sample([](const Words &w) { return normal_f64(w); }, 4);
    SCOPED_TRACE(single ? "f32" : "f64");
    EXPECT_NEAR(m.mean(), 0.0, 5 * std::sqrt(1.0 / n));
    EXPECT_NEAR(m.var(), 1.0, 5 * std::sqrt(2.0 / n));
    EXPECT_LT(m.hi, 8.5);
    EXPECT_GT(m.lo, -8.5);
  }
}

TEST(Philox, DistinctInputsGiveDistinctOutputs) {
  std::set<Words> seen;
  std::set<uint64_t> uniforms;
  size_t n = 0;
  const uint64_t steps[] = {0, 1, 2, 0xFFFFFFFFull, 0x100000000ull, ~0ull};
  const uint64_t ents[] = {
      0, 1, 2, 0xFFFFFFFFull, 0x100000000ull, 0x10000FFFFull, (1ull << 48) - 1};
  const uint32_t streams[] = {0, 1, 2, 0x100, 0xFFFF};
  for (uint64_t s : steps)
    for (uint64_t e : ents)
      for (uint32_t st : streams)
        for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(1) << 32}) {
          Words w = draw(seed, s, e, st);
          seen.insert(w);
          uniforms.insert(bits(uniform01_f64(w)));
          ++n;
        }
  EXPECT_EQ(seen.size(), n);
  EXPECT_EQ(uniforms.size(), n);
  // A dense block: 64 steps x 256 entities x 16 streams.
  seen.clear();
  n = 0;
  for (uint64_t s = 0; s < 64; ++s)
    for (uint64_t e = 0; e < 256; ++e)
      for (uint32_t st = 0; st < 16; ++st, ++n)
        seen.insert(draw(99, s, e, st));
  EXPECT_EQ(seen.size(), n);
}

} // namespace
