//===- ConnectivityTest.cpp - Unit tests of the connectivity builder ------===//
//
// Tests runtime/lib/Connectivity.cpp and NpyReader.cpp against mathematics:
// exact counts where a rule fixes them, binomial and multinomial moments
// (5 sigma) where it draws, the documented Philox words for one pair, and
// the same synapses for every way of splitting the work into threads.
//
//===----------------------------------------------------------------------===//
#include "Connectivity.h"
#include "ExplicitConnectivity.h"
#include "NpyReader.h"

#include "ncl/philox.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ncl::rt;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

ConnectSpec spec(ConnectRule rule, int64_t pre, int64_t post, bool same = false) {
  ConnectSpec s{};
  s.rule = rule;
  s.preBegin = 0;
  s.preCount = pre;
  s.postBegin = 0;
  s.postCount = post;
  s.preSize = pre;
  s.postSize = post;
  s.samePopulation = same;
  return s;
}

/// A ParallelFor that splits [0, n) into `pieces` ranges and runs them on
/// this thread, last piece first (so nothing may rely on order either).
ParallelFor pieces(int pieces) {
  return [pieces](int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
    for (int k = pieces - 1; k >= 0; --k) {
      const int64_t b = n * k / pieces, e = n * (k + 1) / pieces;
      if (b < e)
        fn(b, e);
    }
  };
}

/// A ParallelFor on `threads` real threads.
ParallelFor threaded(int threads) {
  return [threads](int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
    std::vector<std::thread> workers;
    for (int k = 1; k < threads; ++k)
      workers.emplace_back([&, k] { fn(n * k / threads, n * (k + 1) / threads); });
    fn(0, n / threads);
    for (std::thread &t : workers)
      t.join();
  };
}

std::vector<int64_t> inDegrees(const Csr &c, int64_t postSize) {
  std::vector<int64_t> d(static_cast<size_t>(postSize), 0);
  for (int32_t j : c.post)
    ++d[j];
  return d;
}

std::vector<int64_t> outDegrees(const Csr &c) {
  std::vector<int64_t> d(static_cast<size_t>(c.rows()));
  for (int64_t i = 0; i < c.rows(); ++i)
    d[i] = c.rowPtr[i + 1] - c.rowPtr[i];
  return d;
}

/// Sample mean and variance (n - 1 denominator) of v[begin, end).
std::pair<double, double> moments(const std::vector<int64_t> &v, int64_t begin, int64_t end) {
  double sum = 0;
  for (int64_t k = begin; k < end; ++k)
    sum += static_cast<double>(v[k]);
  const double mean = sum / static_cast<double>(end - begin);
  double ss = 0;
  for (int64_t k = begin; k < end; ++k)
    ss += (static_cast<double>(v[k]) - mean) * (static_cast<double>(v[k]) - mean);
  return {mean, ss / static_cast<double>(end - begin - 1)};
}

/// Pearson's chi-square of counts v[begin, end) against equal expected
/// cells: for a multinomial it is ~ chi^2(K - 1), mean K - 1, sd sqrt(2(K-1)).
void expectUniformCells(const std::vector<int64_t> &v, int64_t begin, int64_t end) {
  const int64_t cells = end - begin;
  double total = 0;
  for (int64_t k = begin; k < end; ++k)
    total += static_cast<double>(v[k]);
  const double expected = total / static_cast<double>(cells);
  double chi2 = 0;
  for (int64_t k = begin; k < end; ++k)
    chi2 +=
        (static_cast<double>(v[k]) - expected) * (static_cast<double>(v[k]) - expected) / expected;
  const double dof = static_cast<double>(cells - 1);
  EXPECT_NEAR(chi2, dof, 5 * std::sqrt(2 * dof)) << "chi-square of " << cells << " cells";
}

/// Rows ascend, lie in [postBegin, postBegin + postCount), and rows outside
/// [preBegin, preBegin + preCount) are empty.
void expectWellFormed(const Csr &c, const ConnectSpec &s) {
  ASSERT_EQ(c.rowPtr.size(), static_cast<size_t>(s.preSize + 1));
  ASSERT_EQ(c.rowPtr[0], 0);
  ASSERT_EQ(c.post.size(), static_cast<size_t>(c.rowPtr.back()));
  for (int64_t i = 0; i < s.preSize; ++i) {
    ASSERT_LE(c.rowPtr[i], c.rowPtr[i + 1]);
    if (i < s.preBegin || i >= s.preBegin + s.preCount) {
      ASSERT_EQ(c.rowPtr[i], c.rowPtr[i + 1]) << "row " << i << " is outside the subgroup";
    }
    for (int64_t k = c.rowPtr[i]; k < c.rowPtr[i + 1]; ++k) {
      ASSERT_GE(c.post[k], s.postBegin);
      ASSERT_LT(c.post[k], s.postBegin + s.postCount);
      if (k > c.rowPtr[i]) {
        ASSERT_LE(c.post[k - 1], c.post[k]) << "row " << i << " is not sorted";
      }
    }
  }
}

bool hasAutapse(const Csr &c) {
  for (int64_t i = 0; i < c.rows(); ++i)
    for (int64_t k = c.rowPtr[i]; k < c.rowPtr[i + 1]; ++k)
      if (c.post[k] == i)
        return true;
  return false;
}

bool hasMultapse(const Csr &c) {
  for (int64_t i = 0; i < c.rows(); ++i)
    for (int64_t k = c.rowPtr[i] + 1; k < c.rowPtr[i + 1]; ++k)
      if (c.post[k] == c.post[k - 1])
        return true;
  return false;
}

bool sameCsr(const Csr &a, const Csr &b) {
  return a.rowPtr == b.rowPtr && a.post == b.post && a.order == b.order;
}

std::string buildError(const ConnectSpec &s) {
  try {
    buildConnectivity(s, 1, nullptr);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Deterministic rules
//===----------------------------------------------------------------------===//

TEST(Connectivity, AllToAllCounts) {
  ConnectSpec s = spec(ConnectRule::AllToAll, 30, 30, true);
  Csr c = buildConnectivity(s, 1, nullptr);
  expectWellFormed(c, s);
  EXPECT_EQ(c.size(), 900);
  s.autapses = false;
  c = buildConnectivity(s, 1, nullptr);
  EXPECT_EQ(c.size(), 900 - 30);
  EXPECT_FALSE(hasAutapse(c));
  // Subgroups [5, 15) -> [10, 30): neurons 10..14 would be autapses.
  s.preBegin = 5, s.preCount = 10, s.postBegin = 10, s.postCount = 20;
  c = buildConnectivity(s, 1, nullptr);
  expectWellFormed(c, s);
  EXPECT_EQ(c.size(), 10 * 20 - 5);
  EXPECT_FALSE(hasAutapse(c));
  EXPECT_EQ(countSynapses(s, 1, nullptr), outDegrees(c));
}

TEST(Connectivity, OneToOne) {
  ConnectSpec s = spec(ConnectRule::OneToOne, 20, 40);
  s.preBegin = 3, s.preCount = 10, s.postBegin = 25, s.postCount = 10;
  Csr c = buildConnectivity(s, 1, nullptr);
  expectWellFormed(c, s);
  ASSERT_EQ(c.size(), 10);
  for (int64_t i = 3; i < 13; ++i) {
    ASSERT_EQ(c.rowPtr[i + 1] - c.rowPtr[i], 1);
    EXPECT_EQ(c.post[c.rowPtr[i]], 25 + (i - 3));
  }
  s.postCount = 11;
  EXPECT_NE(buildError(s).find("one_to_one connects equally many neurons, but there are 10 "
                               "presynaptic and 11 postsynaptic ones"),
            std::string::npos);
  // Within one population with autapses excluded, i -> i is dropped.
  ConnectSpec self = spec(ConnectRule::OneToOne, 10, 10, true);
  self.autapses = false;
  EXPECT_EQ(buildConnectivity(self, 1, nullptr).size(), 0);
}

//===----------------------------------------------------------------------===//
// Fixed probability
//===----------------------------------------------------------------------===//

TEST(Connectivity, FixedProbabilityIsBinomial) {
  const int64_t n = 1000;
  const double p = 0.1;
  ConnectSpec s = spec(ConnectRule::FixedProbability, n, n, true);
  s.p = p;
  s.autapses = false;
  Csr c = buildConnectivity(s, 42, nullptr);
  expectWellFormed(c, s);
  EXPECT_FALSE(hasAutapse(c));
  EXPECT_FALSE(hasMultapse(c));
  // Total ~ Binomial(n(n-1), p).
  const double pairs = static_cast<double>(n * (n - 1));
  EXPECT_NEAR(static_cast<double>(c.size()), p * pairs, 5 * std::sqrt(pairs * p * (1 - p)));
  // In-degrees are independent Binomial(n-1, p): their mean within 5 sigma
  // of its sampling error, their variance within 5 sigma of the variance's
  // (sd of a sample variance ~ var * sqrt(2 / (N - 1)) for near-normal data).
  auto [mean, var] = moments(inDegrees(c, n), 0, n);
  const double mu = (n - 1) * p, sigma2 = (n - 1) * p * (1 - p);
  EXPECT_NEAR(mean, mu, 5 * std::sqrt(sigma2 / n));
  EXPECT_NEAR(var, sigma2, 5 * sigma2 * std::sqrt(2.0 / (n - 1)));
  auto [outMean, outVar] = moments(outDegrees(c), 0, n);
  EXPECT_NEAR(outMean, mu, 5 * std::sqrt(sigma2 / n));
  EXPECT_NEAR(outVar, sigma2, 5 * sigma2 * std::sqrt(2.0 / (n - 1)));
}

TEST(Connectivity, FixedProbabilityEndPoints) {
  ConnectSpec s = spec(ConnectRule::FixedProbability, 50, 70);
  s.p = 0;
  EXPECT_EQ(buildConnectivity(s, 3, nullptr).size(), 0);
  s.p = 1; // T = 2^32: every word accepts
  EXPECT_EQ(buildConnectivity(s, 3, nullptr).size(), 50 * 70);
  s.p = 1.5;
  EXPECT_NE(buildError(s).find("fixed_probability needs p in [0, 1], got 1.5"), std::string::npos);
  s.p = std::nan("");
  EXPECT_NE(buildError(s).find("needs p in [0, 1]"), std::string::npos);
}

/// Pair (i, j) is word j of entity i under the documented counter, written
/// out here by hand from docs/random.md, not through the runtime's helper.
TEST(Connectivity, FixedProbabilityUsesDocumentedWords) {
  ConnectSpec s = spec(ConnectRule::FixedProbability, 6, 37);
  s.p = 0.37;
  s.projection = 5;
  const uint64_t seed = 0x1234567890abcdefull;
  Csr c = buildConnectivity(s, seed, nullptr);
  const uint64_t threshold = static_cast<uint64_t>(std::floor(0.37 * 4294967296.0));
  for (int64_t i = 0; i < 6; ++i) {
    std::vector<int32_t> expected;
    for (int64_t j = 0; j < 37; ++j) {
      const uint64_t step = (uint64_t(0xFFFF0000u | 5u) << 32) | uint64_t(j / 4);
      ncl::philox::Words w = ncl::philox::draw(seed, step, static_cast<uint64_t>(i), 0);
      if (w[j % 4] < threshold)
        expected.push_back(static_cast<int32_t>(j));
    }
    std::vector<int32_t> row(c.post.begin() + c.rowPtr[i], c.post.begin() + c.rowPtr[i + 1]);
    EXPECT_EQ(row, expected) << "row " << i;
  }
}

/// A subgroup sees the very pairs the whole population would.
TEST(Connectivity, FixedProbabilitySubgroupIsARestriction) {
  ConnectSpec whole = spec(ConnectRule::FixedProbability, 40, 60);
  whole.p = 0.3;
  ConnectSpec part = whole;
  part.preBegin = 10, part.preCount = 20, part.postBegin = 7, part.postCount = 33;
  Csr a = buildConnectivity(whole, 9, nullptr), b = buildConnectivity(part, 9, nullptr);
  expectWellFormed(b, part);
  for (int64_t i = 10; i < 30; ++i) {
    std::vector<int32_t> expected;
    for (int64_t k = a.rowPtr[i]; k < a.rowPtr[i + 1]; ++k)
      if (a.post[k] >= 7 && a.post[k] < 40)
        expected.push_back(a.post[k]);
    EXPECT_EQ(std::vector<int32_t>(b.post.begin() + b.rowPtr[i], b.post.begin() + b.rowPtr[i + 1]),
              expected);
  }
}

//===----------------------------------------------------------------------===//
// Fixed in-degree, out-degree and total
//===----------------------------------------------------------------------===//

TEST(Connectivity, FixedInDegreeIsExactAndOutDegreeBinomial) {
  const int64_t pre = 2000, post = 2000, n = 100;
  ConnectSpec s = spec(ConnectRule::FixedInDegree, pre, post);
  s.n = n;
  Csr c = buildConnectivity(s, 7, nullptr);
  expectWellFormed(c, s);
  for (int64_t d : inDegrees(c, post))
    ASSERT_EQ(d, n);
  // Out-degrees: each of the n * post draws picks pre i with probability
  // 1/pre, so out-degree ~ Binomial(n * post, 1 / pre) and the counts are a
  // uniform multinomial.
  const double mu = double(n * post) / pre, sigma2 = mu * (1 - 1.0 / pre);
  auto [mean, var] = moments(outDegrees(c), 0, pre);
  EXPECT_DOUBLE_EQ(mean, mu); // the total is fixed
  EXPECT_NEAR(var, sigma2, 5 * sigma2 * std::sqrt(2.0 / (pre - 1)));
  expectUniformCells(outDegrees(c), 0, pre);
  EXPECT_EQ(countSynapses(s, 7, nullptr), outDegrees(c));
}

TEST(Connectivity, FixedInDegreeWithoutMultapsesOrAutapses) {
  // n below and above half the candidates (drawn directly / as complement).
  for (int64_t n : {int64_t(10), int64_t(150), int64_t(199)}) {
    ConnectSpec s = spec(ConnectRule::FixedInDegree, 200, 200, true);
    s.n = n;
    s.multapses = false;
    s.autapses = false;
    Csr c = buildConnectivity(s, 11, nullptr);
    expectWellFormed(c, s);
    EXPECT_FALSE(hasMultapse(c)) << "n = " << n;
    EXPECT_FALSE(hasAutapse(c)) << "n = " << n;
    for (int64_t d : inDegrees(c, 200))
      ASSERT_EQ(d, n);
    // Each candidate pair is present with probability n / 199, independently
    // across posts: out-degree ~ Poisson-binomial with mean n, variance
    // 200 * (n/199)(1 - n/199) (199 posts, each excluding the pre itself).
    if (n < 199) {
      const double q = n / 199.0, sigma2 = 199 * q * (1 - q);
      auto [mean, var] = moments(outDegrees(c), 0, 200);
      EXPECT_DOUBLE_EQ(mean, static_cast<double>(n));
      EXPECT_NEAR(var, sigma2, 5 * sigma2 * std::sqrt(2.0 / 199)) << "n = " << n;
    } else {
      EXPECT_EQ(c.size(), 200 * 199); // everything but autapses
    }
  }
}

TEST(Connectivity, FixedOutDegreeIsExactAndInDegreeBinomial) {
  const int64_t pre = 1500, post = 2500, n = 120;
  ConnectSpec s = spec(ConnectRule::FixedOutDegree, pre, post);
  s.n = n;
  Csr c = buildConnectivity(s, 8, nullptr);
  expectWellFormed(c, s);
  for (int64_t d : outDegrees(c))
    ASSERT_EQ(d, n);
  const double mu = double(n * pre) / post, sigma2 = mu * (1 - 1.0 / post);
  auto [mean, var] = moments(inDegrees(c, post), 0, post);
  EXPECT_DOUBLE_EQ(mean, mu);
  EXPECT_NEAR(var, sigma2, 5 * sigma2 * std::sqrt(2.0 / (post - 1)));
  expectUniformCells(inDegrees(c, post), 0, post);

  // Without multapses each pre takes each post with probability q = n /
  // post, independently across pres: in-degree ~ Binomial(pre, q).
  s.multapses = false;
  s.n = 2000; // above half: drawn as the complement
  c = buildConnectivity(s, 8, nullptr);
  EXPECT_FALSE(hasMultapse(c));
  for (int64_t d : outDegrees(c))
    ASSERT_EQ(d, 2000);
  const double q = 2000.0 / post, qVar = pre * q * (1 - q);
  auto [qMean, qSampleVar] = moments(inDegrees(c, post), 0, post);
  EXPECT_DOUBLE_EQ(qMean, pre * q);
  EXPECT_NEAR(qSampleVar, qVar, 5 * qVar * std::sqrt(2.0 / (post - 1)));
}

TEST(Connectivity, FixedTotalIsExactAndMultinomial) {
  const int64_t pre = 800, post = 1200, n = 500000;
  ConnectSpec s = spec(ConnectRule::FixedTotal, pre, post);
  s.n = n;
  Csr c = buildConnectivity(s, 5, nullptr);
  expectWellFormed(c, s);
  EXPECT_EQ(c.size(), n);
  expectUniformCells(outDegrees(c), 0, pre);
  expectUniformCells(inDegrees(c, post), 0, post);

  ConnectSpec t = spec(ConnectRule::FixedTotal, 60, 60, true);
  t.n = 60 * 59 - 5; // nearly every pair, none twice, no autapse
  t.multapses = false;
  t.autapses = false;
  c = buildConnectivity(t, 5, nullptr);
  EXPECT_EQ(c.size(), t.n);
  EXPECT_FALSE(hasMultapse(c));
  EXPECT_FALSE(hasAutapse(c));
  EXPECT_EQ(countSynapses(t, 5, nullptr), outDegrees(c));
}

TEST(Connectivity, SubgroupsAreRespected) {
  for (ConnectRule rule : {ConnectRule::FixedInDegree, ConnectRule::FixedOutDegree,
                           ConnectRule::FixedTotal, ConnectRule::FixedProbability}) {
    ConnectSpec s = spec(rule, 100, 100, true);
    s.preBegin = 20, s.preCount = 30, s.postBegin = 35, s.postCount = 40;
    s.n = 12, s.p = 0.2, s.autapses = false;
    Csr c = buildConnectivity(s, 3, nullptr);
    expectWellFormed(c, s);
    EXPECT_FALSE(hasAutapse(c)) << connectRuleName(rule);
    EXPECT_GT(c.size(), 0) << connectRuleName(rule);
  }
}

TEST(Connectivity, EmptyRangesAndZeroCounts) {
  for (ConnectRule rule :
       {ConnectRule::AllToAll, ConnectRule::OneToOne, ConnectRule::FixedProbability,
        ConnectRule::FixedInDegree, ConnectRule::FixedOutDegree, ConnectRule::FixedTotal}) {
    ConnectSpec s = spec(rule, 10, 10);
    s.preCount = 0, s.postCount = 0, s.p = 0.5, s.n = 3;
    if (rule == ConnectRule::FixedTotal) {
      EXPECT_NE(buildError(s).find("has no pair of neurons to connect"), std::string::npos);
      s.n = 0;
    }
    Csr c = buildConnectivity(s, 1, pieces(3));
    expectWellFormed(c, s);
    EXPECT_EQ(c.size(), 0) << connectRuleName(rule);
    ConnectSpec none = spec(rule, 0, 0);
    EXPECT_EQ(buildConnectivity(none, 1, nullptr).rowPtr, std::vector<int64_t>{0});
  }
  ConnectSpec zero = spec(ConnectRule::FixedInDegree, 10, 10);
  EXPECT_EQ(buildConnectivity(zero, 1, nullptr).size(), 0); // n = 0
}

//===----------------------------------------------------------------------===//
// Determinism
//===----------------------------------------------------------------------===//

std::vector<ConnectSpec> everyRule() {
  std::vector<ConnectSpec> all;
  for (bool multapses : {true, false}) {
    for (ConnectRule rule :
         {ConnectRule::AllToAll, ConnectRule::OneToOne, ConnectRule::FixedProbability,
          ConnectRule::FixedInDegree, ConnectRule::FixedOutDegree, ConnectRule::FixedTotal}) {
      ConnectSpec s = spec(rule, 3000, 3000, true);
      s.preBegin = 100, s.preCount = 2500, s.postBegin = 400, s.postCount = 2500;
      s.p = 0.05, s.n = rule == ConnectRule::FixedTotal ? 200000 : 60;
      s.autapses = false, s.multapses = multapses;
      s.projection = 3;
      all.push_back(s);
    }
  }
  return all;
}

TEST(Connectivity, SameResultForAnyPartition) {
  for (const ConnectSpec &s : everyRule()) {
    const Csr reference = buildConnectivity(s, 99, nullptr);
    for (int k : {1, 2, 3, 7}) {
      EXPECT_TRUE(sameCsr(buildConnectivity(s, 99, pieces(k)), reference))
          << connectRuleName(s.rule) << (s.multapses ? "" : " without multapses") << ", " << k
          << " pieces";
      EXPECT_EQ(countSynapses(s, 99, pieces(k)), outDegrees(reference));
    }
  }
  // And on real threads.
  const ConnectSpec s = everyRule()[3]; // fixed in-degree
  EXPECT_TRUE(sameCsr(buildConnectivity(s, 99, threaded(4)), buildConnectivity(s, 99, nullptr)));
}

/// sortIndices sorts a row by counting (a dense row), by radix (a sparse
/// one, a byte a pass) or by std::sort (a short one): each against
/// std::sort, with repeats, at both ends of the range, and over 2^16 and
/// 2^24 values (two, three and four passes).
TEST(Connectivity, SortIndicesSortsEveryRowShape) {
  std::mt19937_64 g(7);
  std::vector<uint32_t> scratch;
  const int64_t lo = 1000;
  for (int64_t count : {int64_t{1}, int64_t{300}, int64_t{20683}, int64_t{70000}, int64_t{1} << 24,
                        int64_t{1} << 30}) {
    for (int64_t n : {0, 1, 2, 31, 32, 33, 500, 2000, 40000}) {
      std::vector<int32_t> row(static_cast<size_t>(n));
      for (int32_t &v : row)
        v = static_cast<int32_t>(lo + static_cast<int64_t>(g() % static_cast<uint64_t>(count)));
      if (n >= 2) { // both ends of the range, and a repeat
        row[0] = static_cast<int32_t>(lo + count - 1);
        row[1] = static_cast<int32_t>(lo);
        row[static_cast<size_t>(n - 1)] = row[0];
      }
      std::vector<int32_t> expected = row;
      std::sort(expected.begin(), expected.end());
      sortIndices(row.data(), n, lo, count, scratch);
      EXPECT_EQ(row, expected) << n << " values of " << count;
    }
  }
}

/// Over 2^16 presynaptic neurons, rows are counted with atomic adds
/// instead of an array per group.
TEST(Connectivity, ManyRowsCountTheSame) {
  for (ConnectRule rule : {ConnectRule::FixedInDegree, ConnectRule::FixedTotal}) {
    ConnectSpec s = spec(rule, 100000, 300);
    s.n = rule == ConnectRule::FixedTotal ? 50000 : 40;
    const Csr reference = buildConnectivity(s, 4, nullptr);
    EXPECT_EQ(reference.size(), rule == ConnectRule::FixedTotal ? 50000 : 40 * 300);
    for (int k : {1, 3})
      EXPECT_TRUE(sameCsr(buildConnectivity(s, 4, pieces(k)), reference));
    EXPECT_EQ(countSynapses(s, 4, threaded(3)), outDegrees(reference));
  }
}

TEST(Connectivity, SeedAndProjectionSelectTheConnectivity) {
  for (const ConnectSpec &s : everyRule()) {
    if (s.rule == ConnectRule::AllToAll || s.rule == ConnectRule::OneToOne)
      continue;
    ConnectSpec other = s;
    other.projection = 4;
    const Csr a = buildConnectivity(s, 99, nullptr);
    EXPECT_FALSE(sameCsr(a, buildConnectivity(s, 100, nullptr))) << connectRuleName(s.rule);
    EXPECT_FALSE(sameCsr(a, buildConnectivity(other, 99, nullptr))) << connectRuleName(s.rule);
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(Connectivity, BadSpecsAreErrors) {
  ConnectSpec s = spec(ConnectRule::FixedInDegree, 10, 20, true);
  EXPECT_NE(buildError(s).find("one population but have sizes 10 and 20"), std::string::npos);

  s = spec(ConnectRule::FixedInDegree, 10, 20);
  s.n = 11;
  s.multapses = false;
  EXPECT_EQ(buildError(s), "fixed_in_degree = 11 without multapses needs at least 11 "
                           "presynaptic candidates per neuron, but there are only 10");
  s = spec(ConnectRule::FixedInDegree, 10, 10, true);
  s.n = 10, s.multapses = false, s.autapses = false;
  EXPECT_NE(buildError(s).find("only 9 (autapses excluded)"), std::string::npos);
  s = spec(ConnectRule::FixedInDegree, 1, 1, true);
  s.n = 1, s.autapses = false;
  EXPECT_NE(buildError(s).find("has no presynaptic neuron to choose from"), std::string::npos);
  s = spec(ConnectRule::FixedOutDegree, 10, 5);
  s.n = -1;
  EXPECT_NE(buildError(s).find("needs n >= 0"), std::string::npos);
  s = spec(ConnectRule::FixedTotal, 3, 3, true);
  s.n = 7, s.multapses = false, s.autapses = false;
  EXPECT_NE(buildError(s).find("only 6"), std::string::npos);

  s = spec(ConnectRule::AllToAll, 10, 10);
  s.preBegin = 5, s.preCount = 6;
  EXPECT_EQ(buildError(s), "presynaptic neurons [5, 5 + 6) are outside the population's [0, 10)");
  s = spec(ConnectRule::AllToAll, 10, 10);
  s.postBegin = -1;
  EXPECT_NE(buildError(s).find("postsynaptic neurons [-1"), std::string::npos);
  s = spec(ConnectRule::AllToAll, 10, int64_t(1) << 31);
  EXPECT_NE(buildError(s).find("outside [0, 2^31 - 1]"), std::string::npos);
  s = spec(ConnectRule::AllToAll, 10, 10);
  s.projection = 0xFFFF;
  EXPECT_NE(buildError(s).find("projection index 65535"), std::string::npos);
  s = spec(ConnectRule::Explicit, 10, 10);
  EXPECT_NE(buildError(s).find("buildExplicit"), std::string::npos);
  EXPECT_THROW(countSynapses(s, 1, nullptr), std::runtime_error);
}

//===----------------------------------------------------------------------===//
// Explicit lists
//===----------------------------------------------------------------------===//

TEST(Connectivity, ExplicitOrderPermutes) {
  ConnectSpec s = spec(ConnectRule::Explicit, 5, 6);
  const std::vector<int64_t> pre{3, 0, 3, 1, 3, 0, 3};
  const std::vector<int64_t> post{5, 2, 1, 4, 5, 0, 2};
  std::string error;
  Csr c = buildExplicit(s, pre, post, error);
  ASSERT_EQ(error, "");
  expectWellFormed(c, s);
  EXPECT_EQ(c.rowPtr, (std::vector<int64_t>{0, 2, 3, 3, 7, 7}));
  EXPECT_EQ(c.post, (std::vector<int32_t>{0, 2, 4, 1, 2, 5, 5}));
  // The pair 3 -> 5 appears twice: file order kept (0 before 4).
  EXPECT_EQ(c.order, (std::vector<int64_t>{5, 1, 3, 2, 6, 0, 4}));
  for (size_t k = 0; k < c.order.size(); ++k)
    EXPECT_EQ(c.post[k], post[c.order[k]]);
}

TEST(Connectivity, ExplicitErrors) {
  ConnectSpec s = spec(ConnectRule::Explicit, 5, 6, false);
  std::string error;
  Csr c = buildExplicit(s, {1, 2}, {1}, error);
  EXPECT_EQ(error, "the explicit lists differ in length: 2 presynaptic and 1 postsynaptic indices");
  EXPECT_TRUE(c.rowPtr.empty());
  buildExplicit(s, {1, 5}, {1, 1}, error);
  EXPECT_EQ(error, "synapse 1: presynaptic index 5 is outside [0, 5)");
  buildExplicit(s, {1, 2}, {-1, 1}, error);
  EXPECT_EQ(error, "synapse 0: postsynaptic index -1 is outside [0, 6)");
  s.postBegin = 2, s.postCount = 3;
  buildExplicit(s, {0}, {5}, error);
  EXPECT_EQ(error, "synapse 0: postsynaptic index 5 is outside [2, 5)");

  ConnectSpec same = spec(ConnectRule::Explicit, 4, 4, true);
  same.autapses = false;
  buildExplicit(same, {0, 2}, {1, 2}, error);
  EXPECT_EQ(error, "synapse 1 connects neuron 2 to itself, but autapses are not allowed");
  same.autapses = true, same.multapses = false;
  buildExplicit(same, {0, 2, 0}, {1, 2, 1}, error);
  EXPECT_EQ(error, "synapses 0 and 2 both connect neuron 0 to neuron 1, but multapses are not "
                   "allowed");
}

//===----------------------------------------------------------------------===//
// Timing (printed, not asserted)
//===----------------------------------------------------------------------===//

TEST(Connectivity, Timing) {
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto time = [&](const char *what, const ConnectSpec &s) {
    // Wall time, and the process's CPU time (a loaded machine stretches the
    // first but not the second).
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    Csr c = buildConnectivity(s, 1, threaded(static_cast<int>(threads)));
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ timing   ] %s: %lld synapses in %.3f s on %u threads (%.3f s CPU)\n", what,
                static_cast<long long>(c.size()), seconds, threads, cpu);
  };
  ConnectSpec p = spec(ConnectRule::FixedProbability, 10000, 10000);
  p.p = 0.1;
  time("fixed_probability 0.1, 10^4 x 10^4", p);
  ConnectSpec in = spec(ConnectRule::FixedInDegree, 10000, 10000);
  in.n = 1000;
  time("fixed_in_degree 1000, 10^4 posts", in);
  ConnectSpec out = spec(ConnectRule::FixedOutDegree, 10000, 10000);
  out.n = 1000;
  time("fixed_out_degree 1000, 10^4 pres", out);
  ConnectSpec total = spec(ConnectRule::FixedTotal, 10000, 10000);
  total.n = 10000000;
  time("fixed_total 10^7, 10^4 x 10^4", total);
  // 10^8 synapses (about 1.2 GB at the peak) only on request.
  if (std::getenv("NCL_CONNECTIVITY_TIMING_BIG")) {
    in.n = 10000;
    time("fixed_in_degree 10^4, 10^4 posts", in);
    out.n = 10000;
    time("fixed_out_degree 10^4, 10^4 pres", out);
    p.p = 1;
    time("fixed_probability 1, 10^4 x 10^4", p);
    total.n = 100000000;
    time("fixed_total 10^8, 10^4 x 10^4", total);
  }
}

//===----------------------------------------------------------------------===//
// NpyReader
//===----------------------------------------------------------------------===//

class NpyReaderTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ncl-npy-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string &f : files_)
      std::remove(f.c_str());
    ::rmdir(dir_.c_str());
  }

  /// Writes a .npy file by hand: magic, version, header length, the dict
  /// padded to a multiple of 64 bytes, then `data`.
  std::string write(const std::string &name, const std::string &dict, const std::string &data,
                    int major = 1) {
    const size_t lengthBytes = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((8 + lengthBytes + header.size() + 1) % 64 != 0)
      header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += '\0';
    for (size_t k = 0; k < lengthBytes; ++k)
      bytes += static_cast<char>((header.size() >> (8 * k)) & 0xff);
    return writeRaw(name, bytes + header + data);
  }
  std::string writeRaw(const std::string &name, const std::string &bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    files_.push_back(path);
    return path;
  }
  template <typename T> static std::string raw(const std::vector<T> &v) {
    return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
  }
  std::string readError(const std::string &path) {
    NpyArray a;
    std::string error;
    EXPECT_FALSE(readNpy1D(path, a, error));
    EXPECT_EQ(a.size(), 0u);
    return error;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(NpyReaderTest, RoundTripsEveryDtype) {
  NpyArray a;
  std::string error;
  const std::vector<int32_t> i4{0, -1, 2147483647, -2147483647 - 1};
  ASSERT_TRUE(readNpy1D(
      write("i4.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", raw(i4)), a,
      error))
      << error;
  EXPECT_EQ(a.dtype, NpyArray::Dtype::Int32);
  EXPECT_EQ(a.ints, (std::vector<int64_t>{0, -1, 2147483647, -2147483648LL}));
  EXPECT_TRUE(a.reals.empty());

  const std::vector<int64_t> i8{int64_t(1) << 40, -3, 7};
  // Version 2.0, keys in another order, no trailing comma.
  ASSERT_TRUE(readNpy1D(
      write("i8.npy", "{'shape': (3,), 'fortran_order': False, 'descr': '<i8'}", raw(i8), 2), a,
      error))
      << error;
  EXPECT_EQ(a.dtype, NpyArray::Dtype::Int64);
  EXPECT_EQ(a.ints, i8);

  const std::vector<float> f4{0.5f, -1e-3f, 3.25f};
  ASSERT_TRUE(readNpy1D(
      write("f4.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", raw(f4)), a,
      error))
      << error;
  EXPECT_EQ(a.dtype, NpyArray::Dtype::Float32);
  EXPECT_EQ(a.reals, (std::vector<double>{0.5, double(-1e-3f), 3.25}));

  const std::vector<double> f8{1e-300, -2.5, 0.1};
  ASSERT_TRUE(readNpy1D(
      write("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", raw(f8)), a,
      error))
      << error;
  EXPECT_EQ(a.dtype, NpyArray::Dtype::Float64);
  EXPECT_EQ(a.reals, f8);
  EXPECT_TRUE(a.ints.empty());

  ASSERT_TRUE(
      readNpy1D(write("empty.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", ""),
                a, error));
  EXPECT_EQ(a.size(), 0u);

  // Large enough to cross the reader's block size.
  std::vector<int64_t> big(200000);
  for (size_t k = 0; k < big.size(); ++k)
    big[k] = static_cast<int64_t>(k * k);
  ASSERT_TRUE(readNpy1D(
      write("big.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (200000,), }", raw(big)),
      a, error));
  EXPECT_EQ(a.ints, big);
}

TEST_F(NpyReaderTest, Errors) {
  const std::string missing = dir_ + "/missing.npy";
  EXPECT_EQ(readError(missing), "'" + missing + "' cannot be read: No such file or directory");
  EXPECT_EQ(readError(dir_), "'" + dir_ + "' is a directory, not a .npy file");
  const std::string text = writeRaw("text.npy", "pre,post\n1,2\n");
  EXPECT_EQ(readError(text),
            "'" + text + "' is not a .npy file (it does not start with \\x93NUMPY)");
  const std::string empty = writeRaw("empty.npy", "");
  EXPECT_NE(readError(empty).find("is not a .npy file"), std::string::npos);
  const std::string v9 = writeRaw("v9.npy", std::string("\x93NUMPY\x09\x00\x10\x00", 10));
  EXPECT_NE(readError(v9).find("has .npy format version 9.0"), std::string::npos);

  const std::vector<int64_t> three{1, 2, 3};
  const std::string u2 =
      write("u2.npy", "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }", "abcdef");
  EXPECT_EQ(readError(u2), "'" + u2 +
                               "' has dtype '<u2', which is not read; save it as int32, int64, "
                               "float32 or float64 (little-endian '<i4', '<i8', '<f4', '<f8')");
  const std::string big =
      write("be.npy", "{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", raw(three));
  EXPECT_NE(readError(big).find("has dtype '>i8'"), std::string::npos);
  const std::string twoD =
      write("2d.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 1), }", raw(three));
  EXPECT_EQ(readError(twoD), "'" + twoD +
                                 "' holds a 2-D array of shape (3, 1); only 1-D arrays are read "
                                 "(flatten it)");
  const std::string zeroD =
      write("0d.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", raw(three));
  EXPECT_NE(readError(zeroD).find("holds a 0-D array of shape ()"), std::string::npos);

  const std::string shortData =
      write("short.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", raw(three));
  EXPECT_EQ(readError(shortData), "'" + shortData +
                                      "' is truncated: its header announces 4 elements (32 bytes "
                                      "of data), but only 24 bytes follow the header");
  const std::string longData =
      write("long.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", raw(three));
  EXPECT_NE(readError(longData).find("has 8 bytes after the data"), std::string::npos);
  const std::string cutHeader =
      writeRaw("cut.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'de", 14));
  EXPECT_NE(readError(cutHeader).find("is truncated: it ends inside the .npy header"),
            std::string::npos);
  const std::string badDict =
      write("dict.npy", "{'descr': '<i8', 'fortran_order': Maybe, 'shape': (3,), }", raw(three));
  EXPECT_NE(readError(badDict).find("'fortran_order' is neither True nor False"),
            std::string::npos);
  const std::string noShape = write("noshape.npy", "{'descr': '<i8', 'fortran_order': False}", "");
  EXPECT_NE(readError(noShape).find("lacks 'descr', 'fortran_order' or 'shape'"),
            std::string::npos);
}

// A timed input's samples: 2-D in C order, flattened row-major; Fortran
// order refused where it differs, and more than the rank asked for refused.
TEST_F(NpyReaderTest, ReadsTwoDimensionalArrays) {
  NpyArray a;
  std::vector<int64_t> shape;
  std::string error;
  const std::vector<double> rows{1, 2, 3, 4, 5, 6};
  const std::string c =
      write("c.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw(rows));
  ASSERT_TRUE(readNpy(c, 2, a, shape, error)) << error;
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.reals, rows);
  // The 1-D reader keeps refusing it, with its own advice.
  EXPECT_NE(readError(c).find("only 1-D arrays are read (flatten it)"), std::string::npos);
  ASSERT_TRUE(
      readNpy(write("column.npy", "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 1), }",
                    raw(std::vector<int32_t>{7, 8, 9})),
              2, a, shape, error))
      << error;
  EXPECT_EQ(a.ints, (std::vector<int64_t>{7, 8, 9}));
  const std::string fortran =
      write("f.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", raw(rows));
  EXPECT_FALSE(readNpy(fortran, 2, a, shape, error));
  EXPECT_NE(error.find("Fortran-ordered array of shape (2, 3)"), std::string::npos);
  const std::string cube = write(
      "cube.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", raw(rows));
  EXPECT_FALSE(readNpy(cube, 2, a, shape, error));
  EXPECT_NE(error.find("holds a 3-D array of shape (1, 2, 3); only 1-D and 2-D arrays are read"),
            std::string::npos);
  EXPECT_TRUE(shape.empty());
}

} // namespace

//===----------------------------------------------------------------------===//
// Conditions (buildConditional)
//===----------------------------------------------------------------------===//

namespace {

/// The condition |i - j| < width as the runtime's generated stage computes
/// it: a verdict per postsynaptic neuron of the range.
RowCondition band(const ConnectSpec &s, int64_t width) {
  return [s, width](int64_t i, int32_t *mask) {
    for (int64_t k = 0; k < s.postCount; ++k)
      mask[k] = std::llabs(i - (s.postBegin + k)) < width;
  };
}

RowCondition always() {
  return [](int64_t, int32_t *mask) { mask[0] = 1; };
}

} // namespace

TEST(ConditionTest, BandIsExactlyTheBand) {
  ConnectSpec s = spec(ConnectRule::Condition, 50, 40, /*same=*/false);
  s.p = 1;
  s.preBegin = 5, s.preCount = 30; // a subgroup: rows outside it stay empty
  const Csr c = buildConditional(s, 1, band(s, 4), {});
  ASSERT_EQ(c.rows(), 50);
  int64_t expected = 0;
  for (int64_t i = 0; i < 50; ++i) {
    std::vector<int32_t> want;
    if (i >= 5 && i < 35)
      for (int64_t j = 0; j < 40; ++j)
        if (std::llabs(i - j) < 4)
          want.push_back(static_cast<int32_t>(j));
    expected += static_cast<int64_t>(want.size());
    EXPECT_EQ(std::vector<int32_t>(c.post.begin() + c.rowPtr[i], c.post.begin() + c.rowPtr[i + 1]),
              want)
        << "row " << i;
  }
  EXPECT_EQ(c.size(), expected);
  EXPECT_TRUE(c.order.empty());
}

TEST(ConditionTest, AutapsesAreLeftOut) {
  ConnectSpec s = spec(ConnectRule::Condition, 30, 30, /*same=*/true);
  s.p = 1;
  s.autapses = false;
  const Csr c = buildConditional(s, 1, band(s, 2), {});
  for (int64_t i = 0; i < 30; ++i) {
    std::vector<int32_t> want;
    for (int64_t j = std::max<int64_t>(0, i - 1); j <= std::min<int64_t>(29, i + 1); ++j)
      if (j != i)
        want.push_back(static_cast<int32_t>(j));
    EXPECT_EQ(std::vector<int32_t>(c.post.begin() + c.rowPtr[i], c.post.begin() + c.rowPtr[i + 1]),
              want);
  }
}

// A condition that always holds keeps fixed_probability's pairs: the same
// Philox word decides each pair.
TEST(ConditionTest, AlwaysTrueIsFixedProbability) {
  ConnectSpec s = spec(ConnectRule::Condition, 200, 150, /*same=*/true);
  s.postSize = s.preSize = 200;
  s.postBegin = 30, s.postCount = 150;
  s.p = 0.13;
  s.autapses = false;
  s.projection = 3;
  auto all = [&](int64_t, int32_t *mask) { std::fill(mask, mask + s.postCount, 1); };
  const Csr c = buildConditional(s, 77, all, {});
  ConnectSpec f = s;
  f.rule = ConnectRule::FixedProbability;
  const Csr d = buildConnectivity(f, 77, {});
  EXPECT_EQ(c.rowPtr, d.rowPtr);
  EXPECT_EQ(c.post, d.post);
  EXPECT_GT(c.size(), 0);
}

// Among the accepted pairs, the count is binomial(accepted, p): 5 sigma.
TEST(ConditionTest, ProbabilityCountIsBinomial) {
  ConnectSpec s = spec(ConnectRule::Condition, 400, 400);
  s.p = 0.25;
  const int64_t width = 50;
  int64_t accepted = 0;
  for (int64_t i = 0; i < 400; ++i)
    for (int64_t j = 0; j < 400; ++j)
      accepted += std::llabs(i - j) < width;
  const double mean = accepted * s.p, sd = std::sqrt(accepted * s.p * (1 - s.p));
  for (uint64_t seed : {1, 2, 3}) {
    const Csr c = buildConditional(s, seed, band(s, width), {});
    EXPECT_LT(std::abs(static_cast<double>(c.size()) - mean), 5 * sd) << "seed " << seed;
    for (int64_t i = 0; i < 400; ++i)
      for (int64_t k = c.rowPtr[i]; k < c.rowPtr[i + 1]; ++k) {
        EXPECT_LT(std::llabs(i - c.post[k]), width);
        if (k > c.rowPtr[i])
          EXPECT_LT(c.post[k - 1], c.post[k]);
      }
  }
}

TEST(ConditionTest, SameSynapsesForEveryPartition) {
  ConnectSpec s = spec(ConnectRule::Condition, 3000, 500);
  s.p = 0.4;
  const Csr one = buildConditional(s, 5, band(s, 700), {});
  for (const ParallelFor &pf : {pieces(7), pieces(3000), threaded(3)}) {
    const Csr other = buildConditional(s, 5, band(s, 700), pf);
    EXPECT_EQ(one.rowPtr, other.rowPtr);
    EXPECT_EQ(one.post, other.post);
  }
}

TEST(ConditionTest, RefusesABadSpecAndOtherRules) {
  ConnectSpec s = spec(ConnectRule::Condition, 10, 10);
  s.p = 1.5;
  EXPECT_THROW(buildConditional(s, 1, always(), {}), std::runtime_error);
  s.p = 0.5;
  EXPECT_THROW(buildConnectivity(s, 1, {}), std::runtime_error);
  EXPECT_THROW(countSynapses(s, 1, {}), std::runtime_error);
  s.rule = ConnectRule::AllToAll;
  EXPECT_THROW(buildConditional(s, 1, always(), {}), std::runtime_error);
}

// A condition stage that throws (a bug, or memory) reaches the caller once,
// whatever thread ran it.
TEST(ConditionTest, AnErrorInARowReachesTheCaller) {
  ConnectSpec s = spec(ConnectRule::Condition, 100, 10);
  s.p = 1;
  auto failing = [](int64_t i, int32_t *) {
    if (i == 57)
      throw std::runtime_error("row 57");
  };
  EXPECT_THROW(buildConditional(s, 1, failing, threaded(3)), std::runtime_error);
}

//===----------------------------------------------------------------------===//
// Explicit lists from files (readExplicitLists)
//===----------------------------------------------------------------------===//

class ExplicitListsTest : public NpyReaderTest {
protected:
  std::string ints(const std::string &name, const std::vector<int64_t> &v) {
    return write(name,
                 "{'descr': '<i8', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) +
                     ",), }",
                 raw(v));
  }
  std::string reals(const std::string &name, const std::vector<double> &v) {
    return write(name,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) +
                     ",), }",
                 raw(v));
  }

  /// A projection of two variables (w in mV, u plain) from files.
  ncl_projection_info info(const std::string &pre, const std::string &post) {
    pre_ = pre, post_ = post;
    vars_[0] = ncl_var_info{"w", "mV", 1e-3, {}};
    vars_[1] = ncl_var_info{"u", "", 1, {}};
    ncl_projection_info qi{};
    qi.name = "C";
    qi.num_vars = 2;
    qi.vars = vars_;
    qi.pre_file = pre_.c_str();
    qi.post_file = post_.c_str();
    qi.var_files = varFiles_;
    return qi;
  }

  std::string pre_, post_, w_, delay_;
  ncl_var_info vars_[2];
  const char *varFiles_[2] = {nullptr, nullptr};
};

TEST_F(ExplicitListsTest, ReadsListsValuesAndDelaysInCsrOrder) {
  ConnectSpec s = spec(ConnectRule::Explicit, 6, 5);
  s.preBegin = 1, s.preCount = 5;
  ncl_projection_info qi =
      info(ints("pre.npy", {4, 1, 4, 2, 1}), ints("post.npy", {0, 3, 0, 4, 1}));
  w_ = reals("w.npy", {0.5, 1.5, 2.5, 3.5, 4.5});
  varFiles_[0] = w_.c_str();
  delay_ = reals("d.npy", {1, 2, 3, 4, 5});
  qi.delay_file = delay_.c_str();
  const ExplicitLists lists = readExplicitLists(s, qi);
  // Rows by pre, then post; the multapse 4 -> 0 keeps file order (0, 2).
  EXPECT_EQ(lists.csr.rowPtr, (std::vector<int64_t>{0, 0, 2, 3, 3, 5, 5}));
  EXPECT_EQ(lists.csr.post, (std::vector<int32_t>{1, 3, 4, 0, 0}));
  EXPECT_EQ(lists.csr.order, (std::vector<int64_t>{4, 1, 3, 0, 2}));
  ASSERT_EQ(lists.varValues.size(), 2u);
  // Value in the declared unit times unit_scale: mV -> V.
  EXPECT_EQ(lists.varValues[0],
            (std::vector<double>{4.5 * 1e-3, 1.5 * 1e-3, 3.5 * 1e-3, 0.5 * 1e-3, 2.5 * 1e-3}));
  EXPECT_TRUE(lists.varValues[1].empty());
  EXPECT_EQ(lists.delays,
            (std::vector<double>{5 * 1e-3, 2 * 1e-3, 4 * 1e-3, 1 * 1e-3, 3 * 1e-3})); // ms -> s
}

TEST_F(ExplicitListsTest, EachBadFileIsNamed) {
  ConnectSpec s = spec(ConnectRule::Explicit, 6, 5);
  s.preBegin = 2, s.preCount = 4;
  auto error = [&](const ncl_projection_info &qi) {
    try {
      readExplicitLists(s, qi);
    } catch (const std::runtime_error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string pre = ints("pre.npy", {2, 3, 5});
  const std::string post = ints("post.npy", {0, 4, 1});
  auto has = [](const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
  };
  std::string e = error(info(dir_ + "/missing.npy", post));
  EXPECT_TRUE(has(e, "missing.npy' cannot be read")) << e;
  e = error(info(pre, reals("postf.npy", {0, 4, 1})));
  EXPECT_TRUE(has(e, "postf.npy' has dtype '<f8'")) << e;
  e = error(info(pre, ints("short.npy", {0, 4})));
  EXPECT_TRUE(has(e, "short.npy' holds 2 postsynaptic indices")) << e;
  e = error(info(ints("low.npy", {2, 1, 5}), post));
  EXPECT_TRUE(has(e, "low.npy': entry 1 is presynaptic index 1, outside")) << e;
  EXPECT_TRUE(has(e, "[2, 6)")) << e;
  e = error(info(pre, ints("high.npy", {0, 5, 1})));
  EXPECT_TRUE(has(e, "high.npy': entry 1 is postsynaptic index 5")) << e;
  ncl_projection_info qi = info(pre, post);
  w_ = reals("nan.npy", {1, std::nan(""), 2});
  varFiles_[0] = w_.c_str();
  e = error(qi);
  EXPECT_TRUE(has(e, "nan.npy': entry 1")) << e;
  EXPECT_TRUE(has(e, "finite")) << e;
  w_ = ints("wi.npy", {1, 2, 3});
  varFiles_[0] = w_.c_str();
  e = error(qi);
  EXPECT_TRUE(has(e, "wi.npy' has dtype '<i8'")) << e;
  varFiles_[0] = nullptr;
  delay_ = reals("neg.npy", {1, 0, -2});
  qi.delay_file = delay_.c_str();
  e = error(qi);
  EXPECT_TRUE(has(e, "neg.npy': entry 2")) << e;
  EXPECT_TRUE(has(e, "negative")) << e;
}
