//===- NormalArithmeticTest.cpp - Accuracy of the normals' log and cos ----===//
//
// log_unit and cos_two_pi of ncl/philox.h (NCL's own arithmetic in normal
// draws, which the emitter reproduces bit for bit) against long double
// logl / cosl / sinl, whose 64-bit significand is 11 bits finer than a
// double's: the reference's own error is below 0.001 ulp of the result.
// f32: every uniform the generator can produce (all 2^23), exhaustively.
// f64: 2^22 random uniforms, the smallest and largest ones, the region near
// 1 and near the quadrant boundaries. The bound is the one docs/random.md
// states (0.75 ulp; measured maxima 0.66 and 0.72 ulp for log and
// cos in f32, 0.65 and 0.71 in f64); the maxima are printed.
//
//===----------------------------------------------------------------------===//
#include "ncl/philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace ncl::philox;

namespace {

constexpr double kBoundUlp = 0.75;
constexpr long double kTwoPi = 6.283185307179586476925286766559005768L;

/// The spacing of T's numbers at |x| (x normal in T).
template <typename T> long double ulpOf(long double x) {
  int exponent;
  std::frexp(x, &exponent); // |x| = m 2^exponent, m in [1/2, 1)
  return std::ldexp(1.0L, exponent - std::numeric_limits<T>::digits);
}

/// cos(2pi u) in long double, reduced the same exact way (u - q/4 is
/// exact), so that the reference keeps its full relative accuracy.
long double exactCosTwoPi(long double u) {
  long double q = std::nearbyint(4 * u);
  long double theta = kTwoPi * (u - q / 4);
  switch (static_cast<int>(q)) {
  case 1:
    return -std::sin(theta);
  case 2:
    return -std::cos(theta);
  case 3:
    return std::sin(theta);
  default:
    return std::cos(theta);
  }
}

struct MaxError {
  double ulp = 0;
  long double at = 0;
  void add(long double got, long double exact, long double ulp_, long double u) {
    double e = static_cast<double>(std::fabs(got - exact) / ulp_);
    if (e > ulp) {
      ulp = e;
      at = u;
    }
  }
};

template <typename T> void check(const std::vector<T> &inputs, const char *name) {
  MaxError log, cos;
  for (T u : inputs) {
    long double exactLog = std::log(static_cast<long double>(u));
    log.add(log_unit(u), exactLog, ulpOf<T>(exactLog), u);
    long double exactCos = exactCosTwoPi(u);
    cos.add(cos_two_pi(u), exactCos, ulpOf<T>(exactCos), u);
  }
  std::printf("%s: %zu inputs; log max %.3f ulp (u = %.17Lg), cos(2pi u) max %.3f ulp "
              "(u = %.17Lg)\n",
              name, inputs.size(), log.ulp, log.at, cos.ulp, cos.at);
  EXPECT_LE(log.ulp, kBoundUlp) << name << " log at u = " << static_cast<double>(log.at);
  EXPECT_LE(cos.ulp, kBoundUlp) << name << " cos at u = " << static_cast<double>(cos.at);
}

TEST(NormalArithmetic, EveryFloatUniform) {
  std::vector<float> inputs;
  inputs.reserve(1u << 23);
  for (uint32_t k = 0; k < (1u << 23); ++k)
    inputs.push_back((float(k) + 0.5f) * 0x1p-23f);
  check(inputs, "f32");
}

TEST(NormalArithmetic, DoubleUniforms) {
  std::vector<double> inputs;
  auto uniform = [](uint64_t k) { return (double(k) + 0.5) * 0x1p-52; };
  constexpr uint64_t kTop = (uint64_t(1) << 52) - 1;
  std::mt19937_64 engine(20261128);
  for (int i = 0; i < (1 << 22); ++i)
    inputs.push_back(uniform(engine() & kTop));
  for (uint64_t k = 0; k < 4096; ++k) {
    inputs.push_back(uniform(k));        // the smallest uniforms
    inputs.push_back(uniform(kTop - k)); // near 1
    for (uint64_t quarter = 1; quarter < 4; ++quarter) {
      inputs.push_back(uniform((quarter << 50) + k)); // near q/4 and q/4 +- 1/8
      inputs.push_back(uniform((quarter << 50) - 1 - k));
      inputs.push_back(uniform((quarter << 50) + (uint64_t(1) << 49) + k));
      inputs.push_back(uniform((quarter << 50) - (uint64_t(1) << 49) - k));
    }
    // near sqrt(1/2), where the log's reduction switches
    inputs.push_back(uniform((uint64_t(0x16A09E667F3BCDull) & kTop) + k - 2048));
  }
  check(inputs, "f64");
}

// The C library cannot be in the loop: log_unit / cos_two_pi of the edges
// are finite and have the right signs, and the normals' extremes stay in
// the documented range.
TEST(NormalArithmetic, Edges) {
  EXPECT_EQ(log_unit(1.0), 0.0);
  EXPECT_EQ(log_unit(1.0f), 0.0f);
  EXPECT_EQ(log_unit(0.5), -0x1.62e42fefa39efp-1); // the double nearest -ln 2
  EXPECT_EQ(cos_two_pi(0.5), -1.0);
  EXPECT_EQ(cos_two_pi(0.5f), -1.0f);
  EXPECT_EQ(cos_two_pi(0.25), 0.0);
  EXPECT_LE(std::fabs(normal_f64(Words{0, 0, 0, 0})), 8.58);
  EXPECT_LE(std::fabs(normal_f32(Words{0, 0, 0, 0})), 5.78f);
}

} // namespace
