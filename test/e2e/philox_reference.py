#!/usr/bin/env python3
"""Independent Python reference of NCL's random numbers (docs/random.md).

Philox4x32-10 (Salmon et al., SC'11; Random123's philox4x32) on Python ints,
NCL's (seed, step, entity, stream) -> (key, counter) mapping and the uniform /
normal formulas. Written from the specification, not translated from
runtime/include/ncl/philox.h, so the two check each other.

    from philox_reference import ncl_uniform, ncl_normal, ncl_words
    u = ncl_uniform(seed, step, entity, stream, bits=64)   # float in (0,1)
    z = ncl_normal(seed, step, entity, stream, bits=32)    # float32 value

`entity` may also be a sequence / numpy array of neuron indices (the words
are then computed vectorised with numpy; the result is a numpy array).

Normals use NCL's own log and cos (docs/random.md, "Normals"), no libm: this
file computes them from the exact values of pi and ln 2 and the same
sequence of IEEE operations, fma emulated exactly with fractions.Fraction
(the exact a*b + c rounded once), float32 operations on numpy.float32, so
results are bit-identical to the compiled code for bits=64 and bits=32.

Run as a script to check the known-answer vectors and the golden values.
"""
import math
import struct
import sys
from fractions import Fraction

M32 = 0xFFFFFFFF

# Weyl and multiplier constants, written as the paper derives them: the Weyl
# increments are the 32-bit golden ratio and sqrt(3)-1 fractions.
W0 = int((math.sqrt(5.0) - 1.0) / 2.0 * 2**32)     # 0x9E3779B9
W1 = int((math.sqrt(3.0) - 1.0) * 2**32)           # 0xBB67AE85
MUL0 = 0xD2511F53
MUL1 = 0xCD9E8D57
assert W0 == 0x9E3779B9 and W1 == 0xBB67AE85

MAX_STREAM = 0xFFFF
MAX_ENTITY = (1 << 48) - 1


def philox4x32(ctr, key, rounds=10):
    """Random123 philox4x32_R on a 4-word counter and a 2-word key."""
    c0, c1, c2, c3 = (int(x) & M32 for x in ctr)
    k0, k1 = (int(x) & M32 for x in key)
    for r in range(rounds):
        if r:
            k0 = (k0 + W0) & M32
            k1 = (k1 + W1) & M32
        p0 = MUL0 * c0
        p1 = MUL1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & M32,
                          (p0 >> 32) ^ c3 ^ k1, p0 & M32)
    return [c0, c1, c2, c3]


def ncl_key(seed):
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return [seed & M32, seed >> 32]


def ncl_counter(step, entity, stream):
    step = int(step) & 0xFFFFFFFFFFFFFFFF
    entity = int(entity) & 0xFFFFFFFFFFFFFFFF
    stream = int(stream)
    if not 0 <= stream <= MAX_STREAM:
        raise ValueError("stream must be in [0, 0xffff]")
    return [step & M32, step >> 32, entity & M32,
            (stream << 16) | ((entity >> 32) & 0xFFFF)]


def ncl_words(seed, step, entity, stream):
    """The four 32-bit words of draw (seed, step, entity, stream)."""
    return philox4x32(ncl_counter(step, entity, stream), ncl_key(seed))


def _f32(x):
    """Round a Python float to the nearest float32 (returned as a float)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def uniform_from_words(w, bits=64):
    if bits == 64:
        k = (w[0] << 20) | (w[1] >> 12)            # 52 bits
        return (k + 0.5) / 2.0**52                  # exact
    if bits == 32:
        k = w[0] >> 9                               # 23 bits
        return (k + 0.5) / 2.0**23                  # exact, is a float32
    raise ValueError("bits must be 32 or 64")


# ---- Normals: NCL's own log and cos (docs/random.md, "Normals") ----------

def _pi():
    """pi to 2^-300 (Machin's formula, exact rational arithmetic)."""
    def atan_inv(x):
        total, term, n, sign = Fraction(0), Fraction(1, x), 1, 1
        while term > Fraction(1, 2**320):
            total += sign * term / n
            term /= x * x
            n += 2
            sign = -sign
        return total
    return 16 * atan_inv(5) - 4 * atan_inv(239)


def _ln2():
    """ln 2 = 2 atanh(1/3) to 2^-300."""
    total, term, n = Fraction(0), Fraction(1, 3), 1
    while term > Fraction(1, 2**320):
        total += term / n
        term /= 9
        n += 2
    return 2 * total


PI, LN2 = _pi(), _ln2()


def round_f32(x):
    """The float32 nearest the exact rational x (ties to even), as
    numpy.float32: one rounding, not two through float64."""
    import numpy as np
    x = Fraction(x)
    if x == 0:
        return np.float32(0.0)
    sign, a = (-1 if x < 0 else 1), abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    e = max(e, -126)                       # subnormals: fixed spacing 2^-149
    n = round(a / Fraction(2) ** (e - 23))  # Fraction rounds ties to even
    return np.float32(sign * float(n * Fraction(2) ** (e - 23)))


class _Double:
    """f64 arithmetic: Python floats; fma = the exact a*b + c rounded once."""
    bits, mantissa, sqrt_half_bits = 64, 52, 0x3FE6A09E667F3BCD
    ln2_hi = float.fromhex("0x1.62e42feep-1")
    log_terms, sin_terms, cos_terms = 10, 8, 8

    def const(self, x):
        return float(x)

    def fma(self, a, b, c):
        return float(Fraction(a) * Fraction(b) + Fraction(c))

    def from_bits(self, b):
        return struct.unpack("<d", struct.pack("<Q", b))[0]

    def to_bits(self, x):
        return struct.unpack("<Q", struct.pack("<d", x))[0]


class _Single:
    """f32 arithmetic: numpy.float32 (+ - * / are IEEE single operations);
    fma = the exact a*b + c rounded once to float32."""
    bits, mantissa, sqrt_half_bits = 32, 23, 0x3F3504F3
    ln2_hi = float.fromhex("0x1.62e4p-1")
    log_terms, sin_terms, cos_terms = 4, 4, 5

    def const(self, x):
        return round_f32(x)

    def fma(self, a, b, c):
        return round_f32(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))

    def from_bits(self, b):
        import numpy as np
        return np.uint32(b).view(np.float32)

    def to_bits(self, x):
        import numpy as np
        return int(np.float32(x).view(np.uint32))


class _Constants:
    """Each coefficient: its exact value rounded once to the format."""
    def __init__(self, A):
        c = A.const
        two_pi = 2 * PI
        self.one, self.two, self.half, self.four, self.quarter = (
            c(1), c(2), c(Fraction(1, 2)), c(4), c(Fraction(1, 4)))
        self.bias = c(2 ** (A.bits - A.mantissa - 2) - 1)
        self.round_magic = c(3 * 2 ** (A.mantissa - 1))  # x + M - M rounds to an integer
        self.ln2_hi = c(A.ln2_hi)
        self.ln2_lo = c(LN2 - Fraction(A.ln2_hi))
        self.log = [c(Fraction(2, 2 * n + 1)) for n in range(1, A.log_terms + 1)]
        self.two_pi_hi = c(two_pi)
        self.two_pi_lo = c(two_pi - Fraction(float(self.two_pi_hi)))
        self.sin = [c((-1) ** n * two_pi ** (2 * n + 1) / math.factorial(2 * n + 1))
                    for n in range(1, A.sin_terms + 1)]
        cos1 = -two_pi ** 2 / 2
        self.cos_hi = c(cos1)
        self.cos_lo = c(cos1 - Fraction(float(self.cos_hi)))
        self.cos = [c((-1) ** n * two_pi ** (2 * n) / math.factorial(2 * n))
                    for n in range(2, A.cos_terms + 1)]


_ARITH = {}


def _arith(bits):
    if bits not in _ARITH:
        A = _Double() if bits == 64 else _Single()
        _ARITH[bits] = (A, _Constants(A))
    return _ARITH[bits]


def _horner(A, coefficients, z):
    p = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        p = A.fma(p, z, c)
    return p


def log_unit(u, bits=64):
    """log(u) for u in (0, 1]: u = 2^k m, m in [sqrt(1/2), sqrt(2)) from the
    bits; log m = f - f^2/2 + s (f^2/2 + R(s^2)), f = m - 1, s = f/(2 + f),
    R(z) = sum 2 z^n / (2n + 1); the big sums keep their rounding errors."""
    A, K = _arith(bits)
    mask = (1 << A.bits) - 1
    t = (A.to_bits(u) + (A.to_bits(K.one) - A.sqrt_half_bits)) & mask
    k = A.const(t >> A.mantissa) - K.bias               # exact
    m = A.from_bits((t & ((1 << A.mantissa) - 1)) + A.sqrt_half_bits)
    f = m - K.one
    half = K.half * f
    hfsq = half * f
    hfsq_low = A.fma(half, f, -hfsq)                    # hfsq + hfsq_low = f^2/2
    s = f / (K.two + f)
    z = s * s
    r = z * _horner(A, K.log, z)
    total = f - hfsq
    lost = (f - total) - hfsq
    tail = A.fma(s, hfsq + r, lost - hfsq_low)
    high = k * K.ln2_hi                                 # exact
    total2 = high + total
    lost2 = (high - total2) + total
    return total2 + (lost2 + A.fma(k, K.ln2_lo, tail))


def cos_two_pi(u, bits=64):
    """cos(2 pi u) for u in (0, 1): q = round(4u), f = u - q/4 (exact,
    |f| <= 1/8), then +-cos(2 pi f) or +-sin(2 pi f) by the quadrant q."""
    A, K = _arith(bits)
    q = (K.four * u + K.round_magic) - K.round_magic
    f = u - q * K.quarter
    f2 = f * f
    f2_low = A.fma(f, f, -f2)                           # f2 + f2_low = f^2
    sin_inner = A.fma(f2, _horner(A, K.sin, f2), K.two_pi_lo)
    sine = A.fma(f, K.two_pi_hi, f * sin_inner)
    product = K.cos_hi * f2
    product_low = A.fma(K.cos_hi, f2, -product)
    total = K.one + product
    lost = (K.one - total) + product
    tail = A.fma(K.cos_lo, f2, A.fma(K.cos_hi, f2_low, product_low))
    tail = A.fma(f2 * f2, _horner(A, K.cos, f2), tail)
    cosine = total + (lost + tail)
    value = sine if q in (1, 3) else cosine
    return -value if q in (1, 2) else value


def normal_from_words(w, bits=64):
    if bits == 64:
        u1 = uniform_from_words([w[0], w[1]], 64)
        u2 = uniform_from_words([w[2], w[3]], 64)
        return math.sqrt(-2.0 * log_unit(u1, 64)) * cos_two_pi(u2, 64)
    if bits == 32:
        import numpy as np
        u1 = np.float32(uniform_from_words([w[0]], 32))
        u2 = np.float32(uniform_from_words([w[2]], 32))
        r = np.sqrt(np.float32(-2) * log_unit(u1, 32))  # IEEE sqrt in float32
        return float(r * cos_two_pi(u2, 32))
    raise ValueError("bits must be 32 or 64")


def _vectorised(entity):
    return not isinstance(entity, (int,)) and hasattr(entity, "__len__")


def _words_np(seed, step, entities, stream):
    import numpy as np
    e = np.asarray(entities, dtype=np.uint64)
    key = ncl_key(seed)
    step = int(step) & 0xFFFFFFFFFFFFFFFF
    c = [np.full(e.shape, step & M32, np.uint64), np.full(e.shape, step >> 32, np.uint64),
         e & np.uint64(M32), np.uint64(stream << 16) | ((e >> np.uint64(32)) & np.uint64(0xFFFF))]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    m = np.uint64(M32)
    s32 = np.uint64(32)
    for r in range(10):
        if r:
            k0 = (k0 + np.uint64(W0)) & m
            k1 = (k1 + np.uint64(W1)) & m
        p0 = np.uint64(MUL0) * c[0]
        p1 = np.uint64(MUL1) * c[2]
        c = [(p1 >> s32) ^ c[1] ^ k0, p1 & m, (p0 >> s32) ^ c[3] ^ k1, p0 & m]
    return c


def ncl_uniform(seed, step, entity, stream, bits=64):
    """Uniform in (0,1) that NCL draws at (seed, step, entity, stream)."""
    if _vectorised(entity):
        import numpy as np
        if not 0 <= int(stream) <= MAX_STREAM:
            raise ValueError("stream must be in [0, 0xffff]")
        w = _words_np(seed, step, entity, int(stream))
        if bits == 64:
            k = (w[0] << np.uint64(20)) | (w[1] >> np.uint64(12))
            return (k.astype(np.float64) + 0.5) * 2.0**-52
        k = (w[0] >> np.uint64(9)).astype(np.float32)
        return (k + np.float32(0.5)) * np.float32(2.0**-23)
    return uniform_from_words(ncl_words(seed, step, entity, stream), bits)


def ncl_normal(seed, step, entity, stream, bits=64):
    """Standard normal that NCL draws at (seed, step, entity, stream).
    For arrays of entities the words are vectorised but log/cos are
    computed element by element."""
    if _vectorised(entity):
        import numpy as np
        w = _words_np(seed, step, entity, int(stream))
        cols = [x.tolist() for x in w]
        vals = [normal_from_words(ws, bits) for ws in zip(*cols)]
        return np.array(vals, dtype=np.float64 if bits == 64 else np.float32)
    return normal_from_words(ncl_words(seed, step, entity, stream), bits)


# Known-answer vectors for philox4x32 (counter, key, expected output): the
# Random123 tests/kat_vectors lines, as quoted verbatim in
# DEShawResearch/fs123 core123/ut/ut_philox.cpp (commit 3ea43efd78b7),
# "cut-and-pasted from the kat_vectors file in the original Random123
# distribution".
KAT = [
    (10, [0x00000000] * 4, [0x00000000] * 2, [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
    (10, [0xffffffff] * 4, [0xffffffff] * 2, [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
    (10, [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
     [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]),
    (7, [0x00000000] * 4, [0x00000000] * 2, [0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48]),
    (7, [0xffffffff] * 4, [0xffffffff] * 2, [0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662]),
    (7, [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
     [0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a]),
]

# Golden NCL values shared with test/unit/random/PhiloxTest.cpp (NclGolden):
# (seed, step, entity, stream) -> words, and the bit patterns of
# uniform f64, uniform f32, normal f64, normal f32. Both implementations
# must reproduce them.
GOLDEN_INPUTS = [
    (0, 0, 0, 0),
    (42, 0, 0, 0),
    (42, 1, 0, 0),
    (42, 0, 1, 0),
    (42, 0, 0, 1),
    (0xDEADBEEFCAFEF00D, 123456789012, 0xABCDEF012345, 0xFFFF),
    (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, (1 << 48) - 1, 7),
    (12345, 1000, 99999, 3),
]


def _bits64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _bits32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def golden_rows():
    rows = []
    for seed, step, ent, stream in GOLDEN_INPUTS:
        w = ncl_words(seed, step, ent, stream)
        rows.append(((seed, step, ent, stream), w,
                     _bits64(uniform_from_words(w, 64)), _bits32(uniform_from_words(w, 32)),
                     _bits64(normal_from_words(w, 64)), _bits32(normal_from_words(w, 32))))
    return rows


def main(argv):
    ok = True
    for rounds, ctr, key, want in KAT:
        got = philox4x32(ctr, key, rounds)
        if got != want:
            ok = False
            print("KAT FAIL philox4x32_%d %s %s: got %s want %s" % (
                rounds, [hex(x) for x in ctr], [hex(x) for x in key],
                [hex(x) for x in got], [hex(x) for x in want]))
    print("KAT: %d vectors %s" % (len(KAT), "ok" if ok else "FAILED"))
    # Range and vectorised path against the scalar path.
    try:
        import numpy as np
        ents = np.arange(0, 2000, dtype=np.uint64) * np.uint64(0x10001)
        for bits in (32, 64):
            uv = ncl_uniform(7, 11, ents, 5, bits)
            us = [ncl_uniform(7, 11, int(e), 5, bits) for e in ents]
            if not np.array_equal(uv, np.array(us, dtype=uv.dtype)):
                ok = False
                print("vectorised uniform%d differs from scalar" % bits)
            if not (uv.min() > 0 and uv.max() < 1):
                ok = False
                print("uniform%d out of (0,1)" % bits)
        print("vectorised == scalar: %s" % ("ok" if ok else "FAILED"))
    except ImportError:
        print("numpy missing: vectorised path not checked")
    if "--golden" in argv:
        for (inp, w, uf64, uf32, nf64, nf32) in golden_rows():
            print("  {0x%016xull, 0x%xull, 0x%xull, 0x%xu, {0x%08xu, 0x%08xu, 0x%08xu, 0x%08xu}, "
                  "0x%016xull, 0x%08xu, 0x%016xull, 0x%08xu}," % (inp + tuple(w) + (uf64, uf32, nf64, nf32)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
