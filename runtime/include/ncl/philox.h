/*===- ncl/philox.h - NCL's counter-based random numbers (reference) -----===*
 *
 * Header-only reference implementation of the random numbers NCL programs
 * draw. C++ only (plain inline functions, no LLVM); used by the runtime and
 * the tests. The MLIR emitter (compiler/include/ncl/Conversion/Philox.h)
 * produces the very same bits; test/unit/random checks that, and
 * test/e2e/philox_reference.py is an independent Python copy.
 * See docs/random.md for the rationale.
 *
 * 1. Generator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
 *    numbers: as easy as 1, 2, 3", SC'11), exactly as Random123 defines it:
 *    a 128-bit counter ctr[0..3] and a 64-bit key key[0..1] give 128 bits
 *    out[0..3]. One round is
 *        (hi0, lo0) = 0xD2511F53 * ctr[0]     (64-bit product, split)
 *        (hi1, lo1) = 0xCD9E8D57 * ctr[2]
 *        ctr = { hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0 }
 *    and between rounds the key is bumped by the Weyl constants
 *        key[0] += 0x9E3779B9, key[1] += 0xBB67AE85   (mod 2^32).
 *    10 rounds; the first uses the key unchanged.
 *
 * 2. NCL mapping. A draw is identified by
 *        seed   (uint64: the simulation's seed),
 *        step   (uint64: the integer time step the draw belongs to),
 *        entity (uint64: the neuron / synapse index; bits 0..47 are used),
 *        stream (uint32: a per-call-site id chosen by the compiler, < 2^16)
 *    and laid out in key and counter as ncl/random_streams.h defines (the
 *    one definition, shared with the compiler's emitter):
 *        key[0] = seed  & 0xffffffff        key[1] = seed >> 32
 *        ctr[0] = step  & 0xffffffff        ctr[1] = step >> 32
 *        ctr[2] = entity & 0xffffffff
 *        ctr[3] = (stream & 0xffff) << 16 | ((entity >> 32) & 0xffff)
 *    The map (step, entity < 2^48, stream < 2^16) -> counter is injective,
 *    so distinct draws of one seed never share a counter. One draw yields
 *    four 32-bit words and is consumed by exactly one uniform or normal.
 *
 * 3. Floats. Every conversion below is exact in IEEE arithmetic (integer to
 *    float of a value that fits the significand, + 0.5, * power of two), so
 *    any compiler or GPU gives the same bits:
 *      uniform01_f64(o) = (k + 0.5) * 2^-52,
 *                         k = (uint64(o[0]) << 20) | (o[1] >> 12)  (52 bits)
 *                         range [2^-53, 1 - 2^-53], open interval (0,1)
 *      uniform01_f32(o) = (float(o[0] >> 9) + 0.5f) * 2^-23        (23 bits)
 *                         range [2^-24, 1 - 2^-24], open interval (0,1)
 *    Why 52 and 23 bits and not 53 and 24: (k + 0.5) for a 53-bit k needs a
 *    54-bit significand; it would round, and the largest k would give 1.0.
 *    Both sets of values are symmetric about 0.5 (1-u is a value as well).
 *
 * 4. Normals, Box-Muller, one normal per draw (the sine half is dropped):
 *      f64: u1 = uniform01_f64({o0, o1, ., .}), u2 = uniform01_f64({o2, o3, ., .})
 *      f32: u1 = uniform01_f32({o0, ., ., .}),  u2 = uniform01_f32({o2, ., ., .})
 *      z   = sqrt(-2 * log(u1)) * cos(2pi * u2)
 *    evaluated in the stated type, one rounding per operation:
 *      t = log_unit(u1); r = sqrt(-2 * t); c = cos_two_pi(u2); z = r * c
 *    log_unit and cos_two_pi are NCL's own branch-free arithmetic (+, -, *,
 *    /, fma, bit operations), not libm, so every platform and backend that
 *    rounds these as IEEE gives the same bits (section 5). sqrt is IEEE.
 *    Range: |z| <= 8.57 (f64), |z| <= 5.77 (f32).
 *
 * 5. log_unit(u), u a normal number in (0, 1]: u = 2^k m from the bits, m in
 *    [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f),
 *      log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)),
 *      R(z) = 2z/3 + 2z^2/5 + ... (Taylor, 10 terms in f64, 4 in f32),
 *    f^2/2 carried exactly (fma), f - f^2/2 and k ln2Hi + log(m) summed with
 *    their rounding errors (Fast2Sum), so the result rounds about once.
 *    cos_two_pi(u), u in (0, 1): q = round(4u), f = u - q/4 (both exact,
 *    |f| <= 1/8); cos(2pi u) is cos(2pi f), -sin(2pi f), -cos(2pi f) or
 *    sin(2pi f) for q = 0 (or 4), 1, 2, 3. sin(2pi f) = f (2pi + f^2 S(f^2)),
 *    cos(2pi f) = 1 - 2pi^2 f^2 + f^4 C(f^2) (Taylor in f; 2pi, 2pi^2 and
 *    f^2 carried as two numbers). Coefficients: each exact value rounded once
 *    to the format (NormalConstants). Measured errors: at most 0.72 ulp for both
 *    in f64 and f32 (test/unit/random/NormalArithmeticTest.cpp).
 *    Products are written as fma(a, b, -0) so that a compiler cannot
 *    contract them with a following addition.
 *===----------------------------------------------------------------------===*/
#ifndef NCL_PHILOX_H
#define NCL_PHILOX_H

#include "ncl/random_streams.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ncl {
namespace philox {

constexpr uint32_t kMul0 = 0xD2511F53u;  // PHILOX_M4x32_0
constexpr uint32_t kMul1 = 0xCD9E8D57u;  // PHILOX_M4x32_1
constexpr uint32_t kWeyl0 = 0x9E3779B9u; // PHILOX_W32_0 (golden ratio)
constexpr uint32_t kWeyl1 = 0xBB67AE85u; // PHILOX_W32_1 (sqrt(3) - 1)
constexpr unsigned kRounds = 10;

using Words = std::array<uint32_t, 4>;
using Key = std::array<uint32_t, 2>;

/// Largest stream id and entity index the mapping keeps distinct.
constexpr uint32_t kMaxStream = NCL_RANDOM_STREAM_MASK;
constexpr uint64_t kMaxEntity = (uint64_t(1) << NCL_RANDOM_ENTITY_BITS) - 1;

/// The step of draws in initial values (2^64 - 1, which no step uses).
constexpr uint64_t kInitStep = NCL_RANDOM_INIT_STEP;

constexpr double kInv2Pow52 = 1.0 / 4503599627370496.0; // 2^-52
constexpr float kInv2Pow23 = 1.0f / 8388608.0f;         // 2^-23

inline void mulhilo32(uint32_t a, uint32_t b, uint32_t &hi, uint32_t &lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

inline Words philox4x32_round(const Words &c, const Key &k) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo32(kMul0, c[0], hi0, lo0);
  mulhilo32(kMul1, c[2], hi1, lo1);
  return Words{hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

/// Philox4x32 with `rounds` rounds (Random123's philox4x32_R).
inline Words philox4x32_R(unsigned rounds, Words ctr, Key key) {
  for (unsigned r = 0; r < rounds; ++r) {
    if (r != 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    ctr = philox4x32_round(ctr, key);
  }
  return ctr;
}

/// Philox4x32-10, Random123's philox4x32 (default 10 rounds).
inline Words philox4x32_10(const Words &ctr, const Key &key) {
  return philox4x32_R(kRounds, ctr, key);
}

/// NCL's key for a seed (ncl/random_streams.h).
inline Key make_key(uint64_t seed) {
  Key key;
  ncl_random_key(seed, key.data());
  return key;
}

/// NCL's counter for (step, entity, stream) (ncl/random_streams.h).
inline Words make_counter(uint64_t step, uint64_t entity, uint32_t stream) {
  Words ctr;
  ncl_random_counter(step, entity, stream, ctr.data());
  return ctr;
}

/// The four words of draw (seed, step, entity, stream).
inline Words draw(uint64_t seed, uint64_t step, uint64_t entity, uint32_t stream) {
  return philox4x32_10(make_counter(step, entity, stream), make_key(seed));
}

/// Uniform in (0,1) from words 0 and 1: (k + 0.5) * 2^-52, 52-bit k.
inline double uniform01_f64(const Words &o) {
  uint64_t k = (uint64_t(o[0]) << 20) | uint64_t(o[1] >> 12);
  return (double(k) + 0.5) * kInv2Pow52;
}

/// Uniform in (0,1) from word 0: (k + 0.5) * 2^-23, 23-bit k.
inline float uniform01_f32(const Words &o) {
  uint32_t k = o[0] >> 9;
  return (float(k) + 0.5f) * kInv2Pow23;
}

/// The constants of log_unit and cos_two_pi (section 5) in one precision:
/// every coefficient is its exact value rounded once to the format, and the
/// compiler's emitter reads them from here.
template <typename T> struct NormalConstants;

template <> struct NormalConstants<double> {
  using Bits = uint64_t;
  static constexpr unsigned kMantissaBits = 52;
  static constexpr Bits kOneBits = 0x3FF0000000000000ull;
  static constexpr Bits kSqrtHalfBits = 0x3FE6A09E667F3BCDull; // nearest double to sqrt(1/2)
  /// 2^52 with a biased exponent e in its low bits is 2^52 + e.
  static constexpr Bits kExponentMagicBits = 0x4330000000000000ull;
  static constexpr double kExponentOffset = 0x1p52 + 1023;
  /// ln2 = ln2Hi + ln2Lo; k ln2Hi is exact for |k| < 2^24.
  static constexpr double kLn2Hi = 0x1.62e42feep-1, kLn2Lo = 0x1.a39ef35793c76p-33;
  /// 2 / (2n + 1), n = 1, 2, ...
  static constexpr std::array<double, 10> kLog = {
      0x1.5555555555555p-1, 0x1.999999999999ap-2, 0x1.2492492492492p-2, 0x1.c71c71c71c71cp-3,
      0x1.745d1745d1746p-3, 0x1.3b13b13b13b14p-3, 0x1.1111111111111p-3, 0x1.e1e1e1e1e1e1ep-4,
      0x1.af286bca1af28p-4, 0x1.8618618618618p-4};
  /// Adding and subtracting 1.5 * 2^52 rounds to an integer.
  static constexpr double kRoundMagic = 0x1.8p52;
  static constexpr double kTwoPiHi = 0x1.921fb54442d18p+2, kTwoPiLo = 0x1.1a62633145c07p-52;
  /// (-1)^n (2pi)^(2n+1) / (2n+1)!, n = 1, 2, ...
  static constexpr std::array<double, 8> kSin = {
      -0x1.4abbce625be53p+5, 0x1.466bc6775aae2p+6, -0x1.32d2cce62bd86p+6, 0x1.50783487ee782p+5,
      -0x1.e3074fde8871fp+3, 0x1.e8f434d018d63p+1, -0x1.6fadb9f155744p-1, 0x1.aaec32af93359p-4};
  /// -(2pi)^2 / 2 = cosHi + cosLo.
  static constexpr double kCosHi = -0x1.3bd3cc9be45dep+4, kCosLo = -0x1.692b71366cc04p-50;
  /// (-1)^n (2pi)^(2n) / (2n)!, n = 2, 3, ...
  static constexpr std::array<double, 7> kCos = {
      0x1.03c1f081b5ac4p+6, -0x1.55d3c7e3cbffap+6, 0x1.e1f506891babbp+5, -0x1.a6d1f2a204a8cp+4,
      0x1.f9d38a3763cc3p+2, -0x1.b6e24f44b128fp+0, 0x1.20c62c2f2d7f5p-2};
};

template <> struct NormalConstants<float> {
  using Bits = uint32_t;
  static constexpr unsigned kMantissaBits = 23;
  static constexpr Bits kOneBits = 0x3F800000u;
  static constexpr Bits kSqrtHalfBits = 0x3F3504F3u; // nearest float to sqrt(1/2)
  static constexpr Bits kExponentMagicBits = 0x4B000000u;
  static constexpr float kExponentOffset = 0x1p23f + 127;
  static constexpr float kLn2Hi = 0x1.62e4p-1f, kLn2Lo = 0x1.7f7d1cp-20f;
  static constexpr std::array<float, 4> kLog = {0x1.555556p-1f, 0x1.99999ap-2f, 0x1.24924ap-2f,
                                                0x1.c71c72p-3f};
  static constexpr float kRoundMagic = 0x1.8p23f;
  static constexpr float kTwoPiHi = 0x1.921fb6p+2f, kTwoPiLo = -0x1.777a5cp-23f;
  static constexpr std::array<float, 4> kSin = {-0x1.4abbcep+5f, 0x1.466bc6p+6f, -0x1.32d2ccp+6f,
                                                0x1.507834p+5f};
  static constexpr float kCosHi = -0x1.3bd3ccp+4f, kCosLo = -0x1.37c8bcp-21f;
  static constexpr std::array<float, 4> kCos = {0x1.03c1f0p+6f, -0x1.55d3c8p+6f, 0x1.e1f506p+5f,
                                                -0x1.a6d1f2p+4f};
};

namespace detail {
/// a * b rounded once, written as an fma so that it cannot be contracted
/// with an addition that follows (which would change the bits).
template <typename T> inline T mul(T a, T b) { return std::fma(a, b, T(-0.0)); }

template <typename T> inline typename NormalConstants<T>::Bits bitsOf(T x) {
  typename NormalConstants<T>::Bits bits;
  std::memcpy(&bits, &x, sizeof x);
  return bits;
}

template <typename T> inline T fromBits(typename NormalConstants<T>::Bits bits) {
  T x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

/// Horner's rule with fma: c[0] + z (c[1] + z (c[2] + ...)).
template <typename T, size_t N> inline T horner(const std::array<T, N> &c, T z) {
  T p = c[N - 1];
  for (size_t n = N - 1; n-- > 0;)
    p = std::fma(p, z, c[n]);
  return p;
}
} // namespace detail

/// log(u) for a normal number u in (0, 1] (section 5).
template <typename T> inline T log_unit(T u) {
  using C = NormalConstants<T>;
  using Bits = typename C::Bits;
  using detail::mul;
  Bits t = detail::bitsOf(u) + (C::kOneBits - C::kSqrtHalfBits);
  T k = detail::fromBits<T>(C::kExponentMagicBits | (t >> C::kMantissaBits)) - C::kExponentOffset;
  Bits mantissaMask = (Bits(1) << C::kMantissaBits) - 1;
  T m = detail::fromBits<T>((t & mantissaMask) + C::kSqrtHalfBits);
  T f = m - T(1);
  T half = mul(T(0.5), f);
  T hfsq = mul(half, f);
  T hfsqLow = std::fma(half, f, -hfsq);
  T s = f / (T(2) + f);
  T z = mul(s, s);
  T r = mul(z, detail::horner(C::kLog, z));
  T sum = f - hfsq;
  T lost = (f - sum) - hfsq;
  T tail = std::fma(s, hfsq + r, lost - hfsqLow);
  T high = mul(k, C::kLn2Hi);
  T total = high + sum;
  T lostTotal = (high - total) + sum;
  return total + (lostTotal + std::fma(k, C::kLn2Lo, tail));
}

/// cos(2pi u) for u in (0, 1) (section 5).
template <typename T> inline T cos_two_pi(T u) {
  using C = NormalConstants<T>;
  using detail::mul;
  T q = (mul(T(4), u) + C::kRoundMagic) - C::kRoundMagic;
  T f = u - mul(q, T(0.25));
  T f2 = mul(f, f);
  T f2Low = std::fma(f, f, -f2);
  T sinInner = std::fma(f2, detail::horner(C::kSin, f2), C::kTwoPiLo);
  T sine = std::fma(f, C::kTwoPiHi, mul(f, sinInner));
  T product = mul(C::kCosHi, f2);
  T productLow = std::fma(C::kCosHi, f2, -product);
  T sum = T(1) + product;
  T lost = (T(1) - sum) + product;
  T tail = std::fma(C::kCosLo, f2, std::fma(C::kCosHi, f2Low, productLow));
  tail = std::fma(mul(f2, f2), detail::horner(C::kCos, f2), tail);
  T cosine = sum + (lost + tail);
  T value = (q == T(1) || q == T(3)) ? sine : cosine;
  return (q == T(1) || q == T(2)) ? -value : value;
}

/// Standard normal (Box-Muller, cosine branch): u1 from words 0,1 and u2
/// from words 2,3.
inline double normal_f64(const Words &o) {
  double u1 = uniform01_f64(o);
  double u2 = uniform01_f64(Words{o[2], o[3], 0, 0});
  double r = std::sqrt(-2.0 * log_unit(u1));
  return r * cos_two_pi(u2);
}

/// Standard normal in float: u1 from word 0, u2 from word 2.
inline float normal_f32(const Words &o) {
  float u1 = uniform01_f32(o);
  float u2 = uniform01_f32(Words{o[2], 0, 0, 0});
  float r = std::sqrt(-2.0f * log_unit(u1));
  return r * cos_two_pi(u2);
}

/// Convenience: the value a program gets for rand/randn at (seed, step,
/// entity, stream).
inline double uniform_f64(uint64_t seed, uint64_t step, uint64_t entity, uint32_t stream) {
  return uniform01_f64(draw(seed, step, entity, stream));
}
inline float uniform_f32(uint64_t seed, uint64_t step, uint64_t entity, uint32_t stream) {
  return uniform01_f32(draw(seed, step, entity, stream));
}
inline double normal_f64(uint64_t seed, uint64_t step, uint64_t entity, uint32_t stream) {
  return normal_f64(draw(seed, step, entity, stream));
}
inline float normal_f32(uint64_t seed, uint64_t step, uint64_t entity, uint32_t stream) {
  return normal_f32(draw(seed, step, entity, stream));
}

} // namespace philox
} // namespace ncl

#endif // NCL_PHILOX_H
