//===- Philox.h - Emit Philox4x32-10 random numbers as arith/math ops -*- C++ -*-===//
//
// Builds NCL's counter-based random numbers out of arith and math ops, bit
// for bit as the reference runtime/include/ncl/philox.h computes them (the
// mapping and the float formulas are documented there and in
// docs/random.md). Everything is straight-line code: no branches, no state,
// so it can sit inside scf.for / scf.parallel / gpu bodies and vectorise.
//
// All functions accept scalars or vectors: the integer inputs may be i32 /
// i64 / index or vectors of them (same shape everywhere), and results take
// that shape.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_CONVERSION_PHILOX_H
#define NCL_CONVERSION_PHILOX_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <array>
#include <cstdint>

namespace mlir::ncl {

/// Philox4x32-10 (Random123's philox4x32) on i32 values (or vectors of i32):
/// 10 rounds of two 32x32->64 multiplies (arith.mului_extended), xori, and
/// the key bumped by the Weyl constants between rounds (addi).
std::array<Value, 4> emitPhilox4x32x10(OpBuilder &b, Location loc, Value key0, Value key1,
                                       std::array<Value, 4> ctr);

/// Key and counter of draw (seed, step, entity, stream), laid out as
/// ncl/random_streams.h defines:
///   key  = {seed lo, seed hi}
///   ctr  = {step lo, step hi, entity bits 0..31,
///           (stream & 0xffff) << 16 | entity bits 32..47}
/// `seed` and `step` are i64; `entity` is any integer or index (zero-extended
/// to i64). `stream` must be <= 0xffff (asserted; higher bits are dropped).
struct PhiloxInput {
  Value key0, key1;
  std::array<Value, 4> ctr;
};
PhiloxInput emitPhiloxCounter(OpBuilder &b, Location loc, Value seed, Value step, Value entity,
                              uint32_t stream);

/// emitPhiloxCounter followed by emitPhilox4x32x10: the draw's four words.
std::array<Value, 4> emitPhiloxDraw(OpBuilder &b, Location loc, Value seed, Value step,
                                    Value entity, uint32_t stream);

/// Uniform in the open interval (0,1), of type `type` (f32 or f64):
///   f64: (uitofp((zext(w0) << 20) | zext(w1 >> 12)) + 0.5) * 2^-52
///   f32: (uitofp(w0 >> 9) + 0.5) * 2^-23
/// Only words[0] (and words[1] for f64) are read.
Value emitUniform01(OpBuilder &b, Location loc, std::array<Value, 4> words, FloatType type);

/// Standard normal (Box-Muller, cosine branch), one per draw:
///   u1 = uniform(w0, w1), u2 = uniform(w2, w3)   (f32: w0 and w2)
///   z  = sqrt(-2 * log(u1)) * cos(2pi * u2)
/// with math.log, math.sqrt, math.cos in `type` (f32 or f64).
Value emitNormal(OpBuilder &b, Location loc, std::array<Value, 4> words, FloatType type);

/// The largest mean one inversion of emitPoisson serves (docs/random.md,
/// "poisson()"): larger means are split into equal parts of at most this.
constexpr double kPoissonChunkMean = 16.0;

/// A Poisson-distributed count of mean `mean` (f64), as f64, drawn for
/// (seed, step, entity, stream) by inversion of the distribution function:
///   C = max(1, ceil(mean / 16)) parts of mean mu = mean / C; part c takes
///   the f64 uniform u of draw c (draw 0: the counter of (seed, step,
///   entity, stream); draw c + 1: Philox of draw c's four words under the
///   same key) and counts k = the least k with u <= sum_{j<=k} e^-mu mu^j/j!
///   (at most 100 terms); the result is the sum of the C counts.
/// NaN for a negative, NaN or infinite mean; 0 for 0.
Value emitPoisson(OpBuilder &b, Location loc, Value seed, Value step, Value entity, uint32_t stream,
                  Value mean);

} // namespace mlir::ncl

#endif // NCL_CONVERSION_PHILOX_H
