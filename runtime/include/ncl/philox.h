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
 *    evaluated in the stated type, in this order, one rounding per operation:
 *      t = log(u1); r = sqrt(-2 * t); a = TWO_PI * u2; z = r * cos(a)
 *    with TWO_PI the double nearest 2pi (f64) or the float nearest 2pi
 *    (f32: 6.28318548f). log and cos come from the platform libm (log/cos,
 *    logf/cosf), sqrt is IEEE. Range: |z| <= 8.57 (f64), |z| <= 5.77 (f32).
 *===----------------------------------------------------------------------===*/
#ifndef NCL_PHILOX_H
#define NCL_PHILOX_H

#include "ncl/random_streams.h"

#include <array>
#include <cmath>
#include <cstdint>

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

constexpr double kTwoPiF64 = 6.283185307179586;         // nearest double to 2pi
constexpr float kTwoPiF32 = 6.28318548f;                // nearest float to 2pi
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

/// Standard normal (Box-Muller, cosine branch): u1 from words 0,1 and u2
/// from words 2,3.
inline double normal_f64(const Words &o) {
  double u1 = uniform01_f64(o);
  double u2 = uniform01_f64(Words{o[2], o[3], 0, 0});
  double t = std::log(u1);
  double r = std::sqrt(-2.0 * t);
  double a = kTwoPiF64 * u2;
  return r * std::cos(a);
}

/// Standard normal in float: u1 from word 0, u2 from word 2, float libm.
inline float normal_f32(const Words &o) {
  float u1 = uniform01_f32(o);
  float u2 = uniform01_f32(Words{o[2], 0, 0, 0});
  float t = ::logf(u1);
  float r = ::sqrtf(-2.0f * t);
  float a = kTwoPiF32 * u2;
  return r * ::cosf(a);
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
