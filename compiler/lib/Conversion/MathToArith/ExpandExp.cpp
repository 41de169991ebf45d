//===- ExpandExp.cpp - exp and expm1 as branch-free arithmetic ------------===//
//
// Rewrites math.exp, math.expm1 and math.tanh of f32 and f64 into arith and fma ops (see
// NclExpandExp in compiler/include/ncl/Conversion/Passes.td): a Cody-Waite reduction x = k ln2 + r,
// |r| <= ln2/2, a Taylor polynomial for e^r - 1 and a scaling by 2^k built from its bits. Without a
// call the neuron loops vectorise, and since every lane runs the same operations the result does
// not depend on which neurons share a vector, so it is the same on any thread count and on any
// backend that rounds fma, +, * as IEEE.
//
//===----------------------------------------------------------------------===//
#include "ncl/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::ncl {
#define GEN_PASS_DEF_NCLEXPANDEXP
#include "ncl/Conversion/Passes.h.inc"
} // namespace mlir::ncl

using namespace mlir;

namespace {

/// The constants of one precision. The reduction's ln2 is split as in
/// fdlibm (ln2Hi has enough trailing zeros that k * ln2Hi is exact for
/// every k reached); the polynomial is Taylor's, long enough that its
/// truncation stays below a tenth of an ulp for |r| <= ln2/2.
struct ExpConstants {
  unsigned mantissaBits; ///< 52 or 23
  int64_t bias;          ///< 1023 or 127
  double roundMagic;     ///< 1.5 * 2^mantissaBits: adding it rounds to an integer
  double ln2Hi, ln2Lo;
  int taylorDegree;
  double expLow, expHigh;     ///< exp saturates to 0 and inf beyond these
  double expm1Low, expm1High; ///< expm1 saturates to -1 and inf beyond these
  int64_t maxExponent;        ///< 1023 or 127
  double tanhHigh;            ///< tanh rounds to 1 beyond this
};

// tanh(x) = 1 - 2 / (e^2x + 1) is within half an ulp of 1 from x = 19.06
// (f64) and 9.01 (f32) on, so the clamps at 20 and 10 change nothing.
constexpr ExpConstants kF64 = {
    52, 1023, 0x1.8p52, 0x1.62e42feep-1, 0x1.a39ef35793c76p-33, 13, -746, 710, -45, 710, 1023, 20};
constexpr ExpConstants kF32 = {23,  127, 0x1.8p23, 0x1.62e4p-1, 0x1.7f7d1cf79abcap-20, 8, -104, 89,
                               -20, 89,  127,      10};

/// Builds the arithmetic of one exp or expm1 at a fixed insertion point.
class ExpBuilder {
public:
  ExpBuilder(PatternRewriter &b, Location loc, FloatType type, bool mathOps)
      : b(b), loc(loc), type(type), c(type.isF32() ? kF32 : kF64),
        intType(b.getIntegerType(type.getWidth())), mathOps(mathOps) {}

  Value cst(double v) { return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v)); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  /// llvm.intr.fma rather than math.fma, which math-to-libm would turn
  /// into a call of libm's fma: the call would keep the loop scalar.
  Value fma(Value x, Value y, Value z) { return LLVM::FMAOp::create(b, loc, x, y, z); }
  /// `x` where `pred(x, bound)` is false, else `bound`; an ordered compare,
  /// so a NaN passes through.
  Value replaceIf(arith::CmpFPredicate pred, Value x, double bound) {
    Value limit = cst(bound);
    Value beyond = arith::CmpFOp::create(b, loc, pred, x, limit);
    return arith::SelectOp::create(b, loc, beyond, limit, x);
  }
  Value clamp(Value x, double low, double high) {
    return replaceIf(arith::CmpFPredicate::OGT, replaceIf(arith::CmpFPredicate::OLT, x, low), high);
  }

  /// The integer nearest to `x` (|x| < 2^51, resp. 2^22), as a float: the
  /// addition rounds away the fraction. No call (math.roundeven would be
  /// one on this pipeline), so it vectorises.
  Value roundToInteger(Value x) {
    Value magic = cst(c.roundMagic);
    return sub(add(x, magic), magic);
  }

  /// The reduced argument: x = k ln2 + r + rLow, k an integer-valued
  /// float, |r| <= ln2/2. x - k ln2Hi is exact; r + rLow carries what
  /// rounding r to the format loses (fdlibm's expm1 does the same): with
  /// 2^k - 1 and 2^k r of about the size of the result, r's own rounding
  /// would otherwise add up to an ulp to expm1.
  struct Reduced {
    Value k, r, rLow;
  };
  Reduced reduce(Value x) {
    Value magic = cst(c.roundMagic);
    Value k = sub(fma(x, cst(llvm::numbers::log2e), magic), magic);
    Value minusK = arith::NegFOp::create(b, loc, k);
    Value high = fma(minusK, cst(c.ln2Hi), x);
    Value low = mul(k, cst(c.ln2Lo));
    Value r = sub(high, low);
    Value rLow = sub(sub(high, r), low);
    return {k, r, rLow};
  }

  /// r^2 (1/2! + r/3! + ... + r^(n-2)/n!), the part of e^r - 1 beyond r,
  /// by Horner's rule, plus the first-order effect of rLow. It is at most a sixth of r, so its own
  /// rounding errors weigh little in the sums below.
  Value expm1Tail(Value r, Value rLow) {
    // n! is exact in a double up to 18!, so each coefficient rounds once.
    auto inverseFactorial = [](int n) {
      double factorial = 1;
      for (int m = 2; m <= n; ++m)
        factorial *= m;
      return 1 / factorial;
    };
    Value p = cst(inverseFactorial(c.taylorDegree));
    for (int n = c.taylorDegree - 1; n >= 2; --n)
      p = fma(p, r, cst(inverseFactorial(n)));
    // e^(r + rLow) - 1 - r = tail(r) + rLow (1 + r), up to rLow^2.
    return add(mul(mul(r, r), p), fma(rLow, r, rLow));
  }

  /// a + b + tail with a + b exact (Fast2Sum: |a| >= |b| or a = 0), so
  /// that the result rounds about once instead of twice.
  Value sumOfThree(Value a, Value b, Value tail) {
    Value sum = add(a, b);
    Value lost = sub(b, sub(sum, a));
    return add(sum, add(lost, tail));
  }

  /// 2^n for an integer-valued float n with an exponent in range: n plus
  /// the rounding constant holds n in its low mantissa bits; the biased
  /// exponent is shifted into place (the constant's own bits shift out).
  Value powerOfTwo(Value n) {
    Value bits = arith::BitcastOp::create(b, loc, intType, add(n, cst(c.roundMagic)));
    auto integer = [&](int64_t v) {
      return arith::ConstantOp::create(b, loc, b.getIntegerAttr(intType, v));
    };
    Value biased = arith::AddIOp::create(b, loc, bits, integer(c.bias));
    Value shifted = arith::ShLIOp::create(b, loc, biased, integer(c.mantissaBits));
    return arith::BitcastOp::create(b, loc, type, shifted);
  }

  /// e^x = 2^k (1 + r + tail), scaled in two halves 2^k1 2^k2 so that
  /// each is a normal number: the first product is exact and only the
  /// last rounds, also for a subnormal result.
  Value exp(Value x) {
    auto [k, r, rLow] = reduce(clamp(x, c.expLow, c.expHigh));
    Value mantissa = sumOfThree(cst(1), r, expm1Tail(r, rLow));
    Value k1 = roundToInteger(mul(k, cst(0.5)));
    Value scale1 = powerOfTwo(k1), scale2 = powerOfTwo(sub(k, k1));
    return mul(mul(mantissa, scale1), scale2);
  }

  /// e^x - 1 = (2^k - 1) + 2^k r + 2^k tail, the first two added exactly:
  /// 2^k r is exact, and so is 2^k - 1 up to k = mantissaBits + 1; beyond,
  /// 2^k is the first term and the 1 goes with the tail. |first| >= |2^k r|
  /// (or k = 0), as Fast2Sum needs. Only k = maxExponent + 1 (x just below
  /// overflow) has no 2^k: then everything is halved and doubled at the
  /// end. Below expm1Low the result is -1; a zero keeps its sign.
  Value expm1(Value x) {
    auto [k, r, rLow] = reduce(clamp(x, c.expm1Low, c.expm1High));
    Value tail = expm1Tail(r, rLow);
    auto select = [&](Value condition, double yes, double no) {
      return arith::SelectOp::create(b, loc, condition, cst(yes), cst(no));
    };
    auto kAbove = [&](int64_t limit) {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, k,
                                   cst(static_cast<double>(limit)));
    };
    Value top = kAbove(c.maxExponent);
    Value scale = powerOfTwo(
        arith::SelectOp::create(b, loc, top, cst(static_cast<double>(c.maxExponent)), k));
    Value one = select(top, 0.5, 1);
    Value inexact = kAbove(c.mantissaBits + 1);
    Value first = sub(scale, arith::SelectOp::create(b, loc, inexact, cst(0), one));
    Value rest = sub(mul(scale, tail), arith::SelectOp::create(b, loc, inexact, one, cst(0)));
    Value result = mul(sumOfThree(first, mul(scale, r), rest), select(top, 2, 1));
    Value zero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, cst(0));
    return arith::SelectOp::create(b, loc, zero, x, result);
  }

  /// tanh x = sign(x) e / (e + 2), e = e^(2|x|) - 1: expm1 keeps small
  /// arguments exact (tanh x ~ x), and |x| is clamped where tanh is 1 to
  /// the last bit, so e + 2 stays finite. A NaN passes through (ordered
  /// compare), a zero keeps its sign (copysign).
  Value tanh(Value x) {
    Value absolute =
        mathOps ? Value(math::AbsFOp::create(b, loc, x)) : Value(LLVM::FAbsOp::create(b, loc, x));
    Value magnitude = replaceIf(arith::CmpFPredicate::OGT, absolute, c.tanhHigh);
    Value e = expm1(add(magnitude, magnitude));
    Value t = arith::DivFOp::create(b, loc, e, add(e, cst(2)));
    if (mathOps)
      return math::CopySignOp::create(b, loc, t, x);
    return LLVM::CopySignOp::create(b, loc, t, x);
  }

private:
  PatternRewriter &b;
  Location loc;
  FloatType type;
  const ExpConstants &c;
  IntegerType intType;
  bool mathOps; ///< |x| and copysign as math ops (NclExpandExp's math-ops)
};

/// Whether the op's operand is a scalar f32 or f64 (other types stay with
/// the math-to-libm/LLVM lowering).
FloatType expandableType(Type type) {
  return type.isF32() || type.isF64() ? llvm::cast<FloatType>(type) : FloatType();
}

struct ExpandExpOp : OpRewritePattern<math::ExpOp> {
  ExpandExpOp(MLIRContext *context, bool mathOps) : OpRewritePattern(context), mathOps(mathOps) {}
  bool mathOps;
  LogicalResult matchAndRewrite(math::ExpOp op, PatternRewriter &rewriter) const override {
    FloatType type = expandableType(op.getType());
    if (!type)
      return failure();
    rewriter.replaceOp(op, ExpBuilder(rewriter, op.getLoc(), type, mathOps).exp(op.getOperand()));
    return success();
  }
};

struct ExpandExpM1Op : OpRewritePattern<math::ExpM1Op> {
  ExpandExpM1Op(MLIRContext *context, bool mathOps) : OpRewritePattern(context), mathOps(mathOps) {}
  bool mathOps;
  LogicalResult matchAndRewrite(math::ExpM1Op op, PatternRewriter &rewriter) const override {
    FloatType type = expandableType(op.getType());
    if (!type)
      return failure();
    rewriter.replaceOp(op, ExpBuilder(rewriter, op.getLoc(), type, mathOps).expm1(op.getOperand()));
    return success();
  }
};

struct ExpandTanhOp : OpRewritePattern<math::TanhOp> {
  ExpandTanhOp(MLIRContext *context, bool mathOps) : OpRewritePattern(context), mathOps(mathOps) {}
  bool mathOps;
  LogicalResult matchAndRewrite(math::TanhOp op, PatternRewriter &rewriter) const override {
    FloatType type = expandableType(op.getType());
    if (!type)
      return failure();
    rewriter.replaceOp(op, ExpBuilder(rewriter, op.getLoc(), type, mathOps).tanh(op.getOperand()));
    return success();
  }
};

/// math.sqrt as llvm.intr.sqrt on the CPU (without math-ops): math-to-libm
/// would make it a call of libm's sqrt, which may set errno and so keeps
/// a loop that calls it scalar (the connect kernels' normal draws). Both are
/// the correctly rounded square root, so the result is the same.
struct SqrtAsIntrinsic : OpRewritePattern<math::SqrtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::SqrtOp op, PatternRewriter &rewriter) const override {
    if (!expandableType(op.getType()))
      return failure();
    rewriter.replaceOpWithNewOp<LLVM::SqrtOp>(op, op.getOperand());
    return success();
  }
};

struct NclExpandExpPass : mlir::ncl::impl::NclExpandExpBase<NclExpandExpPass> {
  using NclExpandExpBase::NclExpandExpBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    mlir::ncl::populateExpandExpPatterns(patterns, mathOps);
    // Nothing to fold: the expansion is final, and folding its constants
    // is the canonicalizer's job afterwards if it runs.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace

void mlir::ncl::populateExpandExpPatterns(RewritePatternSet &patterns, bool mathOps) {
  patterns.add<ExpandExpOp, ExpandExpM1Op, ExpandTanhOp>(patterns.getContext(), mathOps);
  if (!mathOps)
    patterns.add<SqrtAsIntrinsic>(patterns.getContext());
}
