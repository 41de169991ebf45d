//===- Connectivity.cpp - Deterministic synapse construction at load time --===//
//
// The rules of Connectivity.h. Each random rule gives every entity (a row,
// a postsynaptic neuron or a chunk of synapses) its own sequence of Philox
// words, so any entity can be drawn on any thread in any order; the
// parallel loops below only ever split work by entity and merge by
// position or by integer sums, which is why the result cannot depend on the
// partition ParallelFor chooses.
//
//===----------------------------------------------------------------------===//
#include "Connectivity.h"

#include "ncl/philox.h"
#include "ncl/random_streams.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

using namespace ncl::rt;

void ncl::rt::sortIndices(int32_t *out, int64_t n, int64_t lo, int64_t count,
                          std::vector<uint32_t> &scratch) {
  if (n < 2)
    return;
  if (n * 8 >= count && count <= (int64_t(1) << 22) && n <= UINT32_MAX) {
    scratch.assign(static_cast<size_t>(count), 0);
    for (int64_t k = 0; k < n; ++k)
      ++scratch[out[k] - lo];
    int64_t k = 0;
    for (int64_t v = 0; v < count; ++v)
      for (uint32_t c = scratch[v]; c > 0; --c)
        out[k++] = static_cast<int32_t>(lo + v);
    return;
  }
  if (n < 32 || n > UINT32_MAX) {
    std::sort(out, out + n);
    return;
  }
  scratch.resize(static_cast<size_t>(2 * n));
  uint32_t *from = scratch.data(), *to = from + n;
  for (int64_t k = 0; k < n; ++k)
    from[k] = static_cast<uint32_t>(out[k] - lo);
  int bits = 0;
  while (bits < 32 && (int64_t(1) << bits) < count)
    ++bits;
  for (int shift = 0; shift < bits; shift += 8) {
    uint32_t starts[257] = {};
    for (int64_t k = 0; k < n; ++k)
      ++starts[(from[k] >> shift & 255) + 1];
    for (int d = 0; d < 256; ++d)
      starts[d + 1] += starts[d];
    for (int64_t k = 0; k < n; ++k)
      to[starts[from[k] >> shift & 255]++] = from[k];
    std::swap(from, to);
  }
  for (int64_t k = 0; k < n; ++k)
    out[k] = static_cast<int32_t>(lo + from[k]);
}

namespace {

//===----------------------------------------------------------------------===//
// Random words
//===----------------------------------------------------------------------===//

/// Philox blocks per entity: the block number is the low word of the step.
constexpr uint64_t kMaxBlocks = uint64_t(1) << 32;

/// Words 0..3 of connectivity block `block` of `entity`.
inline ncl::philox::Words connectBlock(const ncl::philox::Key &key, uint32_t projection,
                                       uint64_t block, uint64_t entity) {
  ncl::philox::Words ctr;
  ncl_random_connect_counter(projection, static_cast<uint32_t>(block), entity,
                             NCL_RANDOM_CONNECT_PURPOSE_STRUCTURE, ctr.data());
  return ncl::philox::philox4x32_10(ctr, key);
}

/// The connectivity words of one entity in order: word w is word (w & 3) of
/// block (w >> 2). Rules that redraw simply take the next word, so an
/// entity's choices depend on nothing but its own words.
class WordStream {
public:
  WordStream(const ncl::philox::Key &key, uint32_t projection, uint64_t entity)
      : key_(key), projection_(projection), entity_(entity) {}

  uint32_t next() {
    if (lane_ == 4) {
      if (block_ == kMaxBlocks)
        throw std::runtime_error("connectivity needs more than 2^34 random words for one neuron");
      words_ = connectBlock(key_, projection_, block_++, entity_);
      lane_ = 0;
    }
    return words_[lane_++];
  }

private:
  ncl::philox::Key key_;
  uint32_t projection_;
  uint64_t entity_;
  uint64_t block_ = 0;
  unsigned lane_ = 4;
  ncl::philox::Words words_{};
};

/// Uniform integers in [0, count), 1 <= count <= 2^32, exactly: Lemire's
/// multiply-shift (u * count) >> 32 of a 32-bit word u, rejecting the
/// words whose low product half is below 2^32 mod count. Each result then
/// has exactly floor(2^32 / count) accepted words; the rejection rate is
/// below count / 2^32 (2.3e-6 for 10^4 neurons). count = 0 is allowed when
/// nothing is drawn.
class UniformBelow {
public:
  explicit UniformBelow(uint64_t count)
      : count_(count), threshold_(count ? (uint64_t(1) << 32) % count : 0) {}

  uint64_t operator()(WordStream &s) const {
    for (;;) {
      const uint64_t m = uint64_t(s.next()) * count_;
      if (static_cast<uint32_t>(m) >= threshold_)
        return m >> 32;
    }
  }

private:
  uint64_t count_;
  uint64_t threshold_;
};

/// Scratch of drawValues, kept across the entities of one thread.
struct DrawScratch {
  std::vector<uint64_t> taken; ///< bitmap of count bits, all clear between calls
  std::vector<int64_t> drawn;
  std::vector<uint32_t> histogram; ///< sortIndices' scratch
};

/// Draws n values of [0, count) other than `skip` (-1: none) into out[0..n)
/// as offset + value, ascending if `sorted`. With `distinct`, no value
/// twice (n <= candidates, checked by validation): values already taken
/// are redrawn, and when n exceeds half the candidates the complement (the
/// candidates left out) is drawn instead, so rejection never takes more
/// than two words per value on average.
void drawValues(WordStream &s, int64_t count, int64_t skip, int64_t n, bool distinct, bool sorted,
                DrawScratch &scratch, int32_t *out, int64_t offset) {
  const UniformBelow below(static_cast<uint64_t>(count));
  if (!distinct) {
    for (int64_t k = 0; k < n; ++k) {
      int64_t v;
      do
        v = static_cast<int64_t>(below(s));
      while (v == skip);
      out[k] = static_cast<int32_t>(offset + v);
    }
    if (sorted)
      sortIndices(out, n, offset, count, scratch.histogram);
    return;
  }
  std::vector<uint64_t> &taken = scratch.taken;
  std::vector<int64_t> &drawn = scratch.drawn;
  if (taken.size() * 64 < static_cast<uint64_t>(count))
    taken.assign(static_cast<size_t>((count + 63) / 64), 0);
  const int64_t candidates = count - (skip >= 0 ? 1 : 0);
  const bool complement = n > candidates / 2;
  const int64_t m = complement ? candidates - n : n;
  auto test = [&](int64_t v) { return (taken[v >> 6] >> (v & 63)) & 1; };
  drawn.clear();
  while (static_cast<int64_t>(drawn.size()) < m) {
    const int64_t v = static_cast<int64_t>(below(s));
    if (v == skip || test(v))
      continue;
    taken[v >> 6] |= uint64_t(1) << (v & 63);
    drawn.push_back(v);
  }
  if (complement || (sorted && n * 8 >= count)) {
    // Read the bitmap in order: the values left out, or those drawn.
    int64_t k = 0;
    for (int64_t v = 0; v < count; ++v)
      if (v != skip && test(v) != complement)
        out[k++] = static_cast<int32_t>(offset + v);
  } else {
    if (sorted)
      std::sort(drawn.begin(), drawn.end());
    for (int64_t k = 0; k < n; ++k)
      out[k] = static_cast<int32_t>(offset + drawn[k]);
  }
  for (int64_t v : drawn)
    taken[v >> 6] &= ~(uint64_t(1) << (v & 63));
}

/// Bernoulli threshold: a word u accepts iff u < T, T = floor(p * 2^32)
/// (exact in doubles: p * 2^32 only shifts the exponent). p = 1 gives
/// T = 2^32, which every word is below.
uint64_t bernoulliThreshold(double p) {
  return static_cast<uint64_t>(std::floor(p * 4294967296.0));
}

/// Calls emit(j) for each accepted post j of [j0, j1) in row i, ascending.
/// The decision for pair (i, j) is word j of entity i, whatever the range,
/// so a subgroup sees the same pairs as the whole population would.
template <typename Emit>
void bernoulliRow(const ncl::philox::Key &key, uint32_t projection, int64_t i, int64_t j0,
                  int64_t j1, uint64_t threshold, int64_t skip, Emit emit) {
  for (int64_t j = j0; j < j1;) {
    const ncl::philox::Words w =
        connectBlock(key, projection, static_cast<uint64_t>(j) >> 2, static_cast<uint64_t>(i));
    for (int64_t lane = j & 3; lane < 4 && j < j1; ++lane, ++j)
      if (w[lane] < threshold && j != skip)
        emit(j);
  }
}

/// The number of posts bernoulliRow accepts, without a branch per
/// candidate (which mispredicts for p far from 0 and 1).
int64_t bernoulliCount(const ncl::philox::Key &key, uint32_t projection, int64_t i, int64_t j0,
                       int64_t j1, uint64_t threshold, int64_t skip) {
  int64_t count = 0;
  for (int64_t block = j0 >> 2; block * 4 < j1; ++block) {
    const ncl::philox::Words w =
        connectBlock(key, projection, static_cast<uint64_t>(block), static_cast<uint64_t>(i));
    const int64_t base = block * 4;
    const int64_t lo = std::max(j0, base), hi = std::min(j1, base + 4);
    for (int64_t j = lo; j < hi; ++j)
      count += w[j - base] < threshold;
    if (skip >= lo && skip < hi && w[skip - base] < threshold)
      --count;
  }
  return count;
}

//===----------------------------------------------------------------------===//
// Parallel loops
//===----------------------------------------------------------------------===//

/// Runs body(begin, end) over [0, count) split into at most maxGroups
/// groups, through parallelFor (serially if it is empty). Grouping bounds
/// the per-call cost of bodies with per-call scratch however finely the
/// caller partitions. The first exception a body throws is rethrown here,
/// after all have finished, so worker threads never see one.
void forGroups(const ParallelFor &parallelFor, int64_t count, int64_t maxGroups,
               const std::function<void(int64_t, int64_t)> &body) {
  if (count <= 0)
    return;
  const int64_t groups = std::min(count, maxGroups);
  auto start = [&](int64_t g) { return count / groups * g + std::min(g, count % groups); };
  std::mutex mu;
  std::exception_ptr first;
  auto guarded = [&](int64_t gb, int64_t ge) {
    try {
      if (gb < ge)
        body(start(gb), start(ge));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!first)
        first = std::current_exception();
    }
  };
  if (parallelFor)
    parallelFor(groups, guarded);
  else
    guarded(0, groups);
  if (first)
    std::rethrow_exception(first);
}

constexpr int64_t kRowGroups = 1024;                    // scratch (a bitmap at most) per group
constexpr int64_t kCountGroups = 256;                   // each group holds a count per row
constexpr int64_t kScanGroups = 32;                     // each group scans all drawn synapses
constexpr int64_t kPrivateTallyRows = int64_t(1) << 16; // 512 kB per group

void throwIfInvalid(const ConnectSpec &spec) {
  if (spec.rule == ConnectRule::Explicit)
    throw std::runtime_error("explicit connectivity is read from files (buildExplicit)");
  if (spec.rule == ConnectRule::Condition)
    throw std::runtime_error("a condition's connectivity needs its condition (buildConditional)");
  std::string error = validateConnectSpec(spec);
  if (!error.empty())
    throw std::runtime_error(error);
}

bool excludesAutapses(const ConnectSpec &spec) { return spec.samePopulation && !spec.autapses; }

/// Neurons in both [b0, b0+c0) and [b1, b1+c1).
int64_t overlap(int64_t b0, int64_t c0, int64_t b1, int64_t c1) {
  return std::max<int64_t>(0, std::min(b0 + c0, b1 + c1) - std::max(b0, b1));
}

/// The index in [0, count) of the autapse candidate `self` in the range
/// starting at `begin`, or -1 when autapses are allowed or it is outside.
int64_t skipOf(const ConnectSpec &spec, int64_t self, int64_t begin, int64_t count) {
  if (!excludesAutapses(spec) || self < begin || self >= begin + count)
    return -1;
  return self - begin;
}

std::vector<int64_t> prefixSum(const std::vector<int64_t> &counts) {
  std::vector<int64_t> rowPtr(counts.size() + 1, 0);
  for (size_t i = 0; i < counts.size(); ++i)
    rowPtr[i + 1] = rowPtr[i] + counts[i];
  return rowPtr;
}

//===----------------------------------------------------------------------===//
// Rules drawn per source-side entity: all drawn synapses in a temporary,
// then moved into rows
//===----------------------------------------------------------------------===//

/// Synapses drawn before they are sorted into rows: synapse k connects
/// pre[k] to post[k] (FixedTotal) or pre[k] to postBegin + k / n
/// (FixedInDegree, where `post` stays empty).
/// An allocator whose resize leaves new elements uninitialised, for arrays
/// that are written in full before they are read: zeroing the drawn pairs
/// first (8 bytes a synapse, the full microcircuit's 2.4 GB) wrote them
/// twice.
template <typename T> struct UninitialisedAllocator : std::allocator<T> {
  template <typename U> struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <typename U> UninitialisedAllocator(const UninitialisedAllocator<U> &) noexcept {}
  template <typename U> void construct(U *p) noexcept { ::new (static_cast<void *>(p)) U; }
  template <typename U, typename... Args> void construct(U *p, Args &&...args) {
    ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
  }
};

/// The synapses drawn, in the order drawn: every entry written before read.
struct Drawn {
  std::vector<int32_t, UninitialisedAllocator<int32_t>> pre, post;
};

/// FixedInDegree: the n presynaptic neurons of post j, into out[0..n).
void drawInDegreeOf(const ConnectSpec &spec, const ncl::philox::Key &key, int64_t j,
                    DrawScratch &scratch, int32_t *out) {
  WordStream s(key, spec.projection, static_cast<uint64_t>(j));
  drawValues(s, spec.preCount, skipOf(spec, j, spec.preBegin, spec.preCount), spec.n,
             !spec.multapses, /*sorted=*/false, scratch, out, spec.preBegin);
}

Drawn drawInDegree(const ConnectSpec &spec, const ncl::philox::Key &key,
                   const ParallelFor &parallelFor) {
  Drawn d;
  d.pre.resize(static_cast<size_t>(spec.n * spec.postCount));
  forGroups(parallelFor, spec.postCount, kRowGroups, [&](int64_t b, int64_t e) {
    DrawScratch scratch;
    for (int64_t jj = b; jj < e; ++jj)
      drawInDegreeOf(spec, key, spec.postBegin + jj, scratch, d.pre.data() + jj * spec.n);
  });
  return d;
}

/// A uniform pair for synapse k: pre from the stream's next words, then
/// post, both again if it is a disallowed autapse.
inline std::pair<int64_t, int64_t> drawPair(const ConnectSpec &spec, WordStream &s,
                                            const UniformBelow &pre, const UniformBelow &post) {
  for (;;) {
    const int64_t i = spec.preBegin + static_cast<int64_t>(pre(s));
    const int64_t j = spec.postBegin + static_cast<int64_t>(post(s));
    if (!(excludesAutapses(spec) && i == j))
      return {i, j};
  }
}

/// FixedTotal draws synapses in chunks: chunk c (the entity) draws synapses
/// c * kTotalChunk .. (c + 1) * kTotalChunk - 1 in order from its words,
/// so one Philox call serves two synapses and chunks are independent.
constexpr int64_t kTotalChunk = 256;

int64_t totalChunks(const ConnectSpec &spec) { return (spec.n + kTotalChunk - 1) / kTotalChunk; }

/// FixedTotal with multapses: calls emit(k, i, j) for the synapses of chunk c.
template <typename Emit>
void drawTotalChunk(const ConnectSpec &spec, const ncl::philox::Key &key, int64_t c, Emit emit) {
  const UniformBelow pre(static_cast<uint64_t>(spec.preCount));
  const UniformBelow post(static_cast<uint64_t>(spec.postCount));
  WordStream s(key, spec.projection, static_cast<uint64_t>(c));
  for (int64_t k = c * kTotalChunk; k < std::min(spec.n, (c + 1) * kTotalChunk); ++k) {
    auto [i, j] = drawPair(spec, s, pre, post);
    emit(k, i, j);
  }
}

Drawn drawTotal(const ConnectSpec &spec, const ncl::philox::Key &key,
                const ParallelFor &parallelFor) {
  Drawn d;
  d.pre.resize(static_cast<size_t>(spec.n));
  d.post.resize(static_cast<size_t>(spec.n));
  const int64_t chunks = totalChunks(spec);
  if (spec.multapses) {
    forGroups(parallelFor, chunks, kRowGroups, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c)
        drawTotalChunk(spec, key, c, [&](int64_t k, int64_t i, int64_t j) {
          d.pre[k] = static_cast<int32_t>(i);
          d.post[k] = static_cast<int32_t>(j);
        });
    });
    return d;
  }
  // Without multapses synapse k redraws the pairs synapses 0..k-1 took, so
  // synapses are drawn in order on this thread (from the same chunk words).
  const UniformBelow pre(static_cast<uint64_t>(spec.preCount));
  const UniformBelow post(static_cast<uint64_t>(spec.postCount));
  std::unordered_set<uint64_t> used;
  used.reserve(static_cast<size_t>(spec.n));
  for (int64_t c = 0; c < chunks; ++c) {
    WordStream s(key, spec.projection, static_cast<uint64_t>(c));
    for (int64_t k = c * kTotalChunk; k < std::min(spec.n, (c + 1) * kTotalChunk); ++k) {
      for (;;) {
        auto [i, j] = drawPair(spec, s, pre, post);
        if (used.insert(static_cast<uint64_t>(i) << 32 | static_cast<uint64_t>(j)).second) {
          d.pre[k] = static_cast<int32_t>(i);
          d.post[k] = static_cast<int32_t>(j);
          break;
        }
      }
    }
  }
  return d;
}

/// Synapses per row, added up over items [0, items) (posts, chunks or drawn
/// synapses): forEachPre(b, e, add) calls add(i) with the presynaptic
/// neuron of every synapse that items [b, e) make. While rows are few each
/// group adds into its own array, merged at the end; with many rows (where
/// an array per group would cost more than the draws) all add atomically.
/// Integer sums either way, so the partition cannot show.
template <typename ForEachPre>
std::vector<int64_t> tallyRows(const ConnectSpec &spec, const ParallelFor &parallelFor,
                               int64_t items, ForEachPre forEachPre) {
  std::vector<int64_t> counts(static_cast<size_t>(spec.preSize), 0);
  const size_t rows = static_cast<size_t>(spec.preCount);
  if (spec.preCount <= kPrivateTallyRows) {
    std::mutex mu;
    forGroups(parallelFor, items, kCountGroups, [&](int64_t b, int64_t e) {
      std::vector<int64_t> local(rows, 0);
      forEachPre(b, e, [&](int64_t i) { ++local[i - spec.preBegin]; });
      std::lock_guard<std::mutex> lock(mu);
      for (size_t r = 0; r < rows; ++r)
        counts[spec.preBegin + r] += local[r];
    });
    return counts;
  }
  std::vector<std::atomic<int64_t>> shared(rows);
  for (std::atomic<int64_t> &c : shared)
    c.store(0, std::memory_order_relaxed);
  forGroups(parallelFor, items, kRowGroups, [&](int64_t b, int64_t e) {
    forEachPre(b, e, [&](int64_t i) {
      shared[i - spec.preBegin].fetch_add(1, std::memory_order_relaxed);
    });
  });
  for (size_t r = 0; r < rows; ++r)
    counts[spec.preBegin + r] = shared[r].load(std::memory_order_relaxed);
  return counts;
}

std::vector<int64_t> countDrawn(const ConnectSpec &spec, const Drawn &d,
                                const ParallelFor &parallelFor) {
  return tallyRows(spec, parallelFor, static_cast<int64_t>(d.pre.size()),
                   [&](int64_t b, int64_t e, auto add) {
                     for (int64_t k = b; k < e; ++k)
                       add(d.pre[k]);
                   });
}

/// Pass 1 of FixedInDegree and FixedTotal: the draws of pass 2, counted as
/// they are made instead of kept (except FixedTotal without multapses,
/// which needs them all to find repeated pairs).
std::vector<int64_t> countDrawnByPost(const ConnectSpec &spec, const ncl::philox::Key &key,
                                      const ParallelFor &parallelFor) {
  if (spec.rule == ConnectRule::FixedInDegree)
    return tallyRows(spec, parallelFor, spec.postCount, [&](int64_t b, int64_t e, auto add) {
      DrawScratch scratch;
      std::vector<int32_t> pres(static_cast<size_t>(spec.n));
      for (int64_t jj = b; jj < e; ++jj) {
        drawInDegreeOf(spec, key, spec.postBegin + jj, scratch, pres.data());
        for (int32_t i : pres)
          add(i);
      }
    });
  if (spec.multapses)
    return tallyRows(spec, parallelFor, totalChunks(spec), [&](int64_t b, int64_t e, auto add) {
      for (int64_t c = b; c < e; ++c)
        drawTotalChunk(spec, key, c, [&](int64_t, int64_t i, int64_t) { add(i); });
    });
  return countDrawn(spec, drawTotal(spec, key, parallelFor), parallelFor);
}

/// Moves drawn synapses into rows in the order they were drawn (a counting
/// sort). Each group of rows scans all synapses and writes only its own
/// rows, so no two threads write one row. FixedInDegree's synapses are in
/// ascending post order already; FixedTotal's rows are sorted afterwards.
void scatterDrawn(const ConnectSpec &spec, const Drawn &d, Csr &csr,
                  const ParallelFor &parallelFor) {
  const int64_t total = static_cast<int64_t>(d.pre.size());
  std::vector<int64_t> cursor(csr.rowPtr.begin(), csr.rowPtr.end() - 1);
  forGroups(parallelFor, spec.preCount, kScanGroups, [&](int64_t b, int64_t e) {
    const int32_t lo = static_cast<int32_t>(spec.preBegin + b);
    const int32_t hi = static_cast<int32_t>(spec.preBegin + e);
    for (int64_t k = 0; k < total; ++k) {
      const int32_t i = d.pre[k];
      if (i < lo || i >= hi)
        continue;
      csr.post[cursor[i]++] =
          d.post.empty() ? static_cast<int32_t>(spec.postBegin + k / spec.n) : d.post[k];
    }
  });
}

//===----------------------------------------------------------------------===//
// Counts and rows of the rules drawn row by row
//===----------------------------------------------------------------------===//

/// Synapses of row i under AllToAll, OneToOne, FixedProbability and
/// FixedOutDegree (for FixedProbability it draws the row).
int64_t rowCount(const ConnectSpec &spec, const ncl::philox::Key &key, int64_t i) {
  switch (spec.rule) {
  case ConnectRule::AllToAll:
    return spec.postCount - (skipOf(spec, i, spec.postBegin, spec.postCount) >= 0 ? 1 : 0);
  case ConnectRule::OneToOne:
    return excludesAutapses(spec) && spec.postBegin + (i - spec.preBegin) == i ? 0 : 1;
  case ConnectRule::FixedOutDegree:
    return spec.n;
  case ConnectRule::FixedProbability: {
    return bernoulliCount(key, spec.projection, i, spec.postBegin, spec.postBegin + spec.postCount,
                          bernoulliThreshold(spec.p), excludesAutapses(spec) ? i : -1);
  }
  default:
    return 0; // not drawn row by row
  }
}

bool drawnByRow(ConnectRule rule) {
  return rule == ConnectRule::AllToAll || rule == ConnectRule::OneToOne ||
         rule == ConnectRule::FixedProbability || rule == ConnectRule::FixedOutDegree;
}

std::vector<int64_t> rowCounts(const ConnectSpec &spec, const ncl::philox::Key &key,
                               const ParallelFor &parallelFor) {
  std::vector<int64_t> counts(static_cast<size_t>(spec.preSize), 0);
  forGroups(parallelFor, spec.preCount, kRowGroups, [&](int64_t b, int64_t e) {
    for (int64_t i = spec.preBegin + b; i < spec.preBegin + e; ++i)
      counts[i] = rowCount(spec, key, i);
  });
  return counts;
}

void fillRows(const ConnectSpec &spec, const ncl::philox::Key &key, Csr &csr,
              const ParallelFor &parallelFor) {
  forGroups(parallelFor, spec.preCount, kRowGroups, [&](int64_t b, int64_t e) {
    DrawScratch scratch;
    for (int64_t i = spec.preBegin + b; i < spec.preBegin + e; ++i) {
      int32_t *out = csr.post.data() + csr.rowPtr[i];
      const int64_t skip = skipOf(spec, i, spec.postBegin, spec.postCount);
      switch (spec.rule) {
      case ConnectRule::AllToAll:
        for (int64_t v = 0; v < spec.postCount; ++v)
          if (v != skip)
            *out++ = static_cast<int32_t>(spec.postBegin + v);
        break;
      case ConnectRule::OneToOne:
        if (csr.rowPtr[i + 1] > csr.rowPtr[i])
          *out = static_cast<int32_t>(spec.postBegin + (i - spec.preBegin));
        break;
      case ConnectRule::FixedProbability:
        bernoulliRow(key, spec.projection, i, spec.postBegin, spec.postBegin + spec.postCount,
                     bernoulliThreshold(spec.p), excludesAutapses(spec) ? i : -1,
                     [&](int64_t j) { *out++ = static_cast<int32_t>(j); });
        break;
      case ConnectRule::FixedOutDegree: {
        WordStream s(key, spec.projection, static_cast<uint64_t>(i));
        drawValues(s, spec.postCount, skip, spec.n, !spec.multapses, /*sorted=*/true, scratch, out,
                   spec.postBegin);
        break;
      }
      default:
        break;
      }
    }
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// Public interface
//===----------------------------------------------------------------------===//

const char *ncl::rt::connectRuleName(ConnectRule rule) {
  switch (rule) {
  case ConnectRule::AllToAll:
    return "all_to_all";
  case ConnectRule::OneToOne:
    return "one_to_one";
  case ConnectRule::FixedProbability:
    return "fixed_probability";
  case ConnectRule::FixedInDegree:
    return "fixed_in_degree";
  case ConnectRule::FixedOutDegree:
    return "fixed_out_degree";
  case ConnectRule::FixedTotal:
    return "fixed_total";
  case ConnectRule::Explicit:
    return "explicit";
  case ConnectRule::Condition:
    return "condition";
  }
  return "?";
}

std::string ncl::rt::validateConnectSpec(const ConnectSpec &s) {
  auto str = [](int64_t v) { return std::to_string(v); };
  const int64_t kMaxSize = INT32_MAX; // post indices are int32
  if (s.preSize < 0 || s.preSize > kMaxSize || s.postSize < 0 || s.postSize > kMaxSize)
    return "population sizes " + str(s.preSize) + " and " + str(s.postSize) +
           " are outside [0, 2^31 - 1]";
  if (s.samePopulation && s.preSize != s.postSize)
    return "source and target are one population but have sizes " + str(s.preSize) + " and " +
           str(s.postSize);
  auto badRange = [&](const char *what, int64_t begin, int64_t count, int64_t size) {
    if (begin >= 0 && count >= 0 && begin <= size && count <= size - begin)
      return std::string();
    return std::string(what) + " neurons [" + str(begin) + ", " + str(begin) + " + " + str(count) +
           ") are outside the population's [0, " + str(size) + ")";
  };
  if (std::string e = badRange("presynaptic", s.preBegin, s.preCount, s.preSize); !e.empty())
    return e;
  if (std::string e = badRange("postsynaptic", s.postBegin, s.postCount, s.postSize); !e.empty())
    return e;
  if (s.projection > NCL_RANDOM_MAX_PROJECTION)
    return "projection index " + std::to_string(s.projection) + " is above the limit of " +
           std::to_string(NCL_RANDOM_MAX_PROJECTION) + " projections";

  const std::string rule = connectRuleName(s.rule);
  const bool noSelf = excludesAutapses(s);
  const int64_t shared = overlap(s.preBegin, s.preCount, s.postBegin, s.postCount);
  switch (s.rule) {
  case ConnectRule::AllToAll:
  case ConnectRule::Explicit:
    return "";
  case ConnectRule::OneToOne:
    if (s.preCount != s.postCount)
      return "one_to_one connects equally many neurons, but there are " + str(s.preCount) +
             " presynaptic and " + str(s.postCount) + " postsynaptic ones";
    return "";
  case ConnectRule::FixedProbability:
  case ConnectRule::Condition:
    if (!(s.p >= 0.0 && s.p <= 1.0))
      return rule + " needs p in [0, 1], got " + std::to_string(s.p);
    return "";
  case ConnectRule::FixedInDegree:
  case ConnectRule::FixedOutDegree: {
    const bool in = s.rule == ConnectRule::FixedInDegree;
    // Each neuron on the drawing side picks from the other side's range,
    // less itself when it lies in that range and autapses are excluded.
    const int64_t pool = in ? s.preCount : s.postCount;
    const int64_t drawers = in ? s.postCount : s.preCount;
    const int64_t candidates = pool - (noSelf && shared > 0 ? 1 : 0);
    const char *side = in ? "presynaptic" : "postsynaptic";
    if (s.n < 0)
      return rule + " needs n >= 0, got " + str(s.n);
    if (drawers > 0 && s.n > INT64_MAX / drawers)
      return rule + " with n = " + str(s.n) + " makes too many synapses";
    if (s.n > 0 && drawers > 0 && candidates < 1)
      return rule + " = " + str(s.n) + " has no " + side + " neuron to choose from" +
             (noSelf ? " (autapses are excluded)" : "");
    if (!s.multapses && s.n > candidates && drawers > 0)
      return rule + " = " + str(s.n) + " without multapses needs at least " + str(s.n) + " " +
             side + " candidates per neuron, but there are only " + str(candidates) +
             (noSelf && shared > 0 ? " (autapses excluded)" : "");
    return "";
  }
  case ConnectRule::FixedTotal: {
    const int64_t pairs = s.preCount * s.postCount - (noSelf ? shared : 0);
    if (s.n < 0)
      return rule + " needs n >= 0, got " + str(s.n);
    if (s.n >= (int64_t(1) << NCL_RANDOM_ENTITY_BITS))
      return rule + " = " + str(s.n) + " is above the limit of 2^48 synapses";
    if (s.n > 0 && pairs < 1)
      return rule + " = " + str(s.n) + " has no pair of neurons to connect" +
             (noSelf ? " (autapses are excluded)" : "");
    if (!s.multapses && s.n > pairs)
      return rule + " = " + str(s.n) + " without multapses needs at least " + str(s.n) +
             " distinct pairs, but there are only " + str(pairs);
    return "";
  }
  }
  return "unknown connection rule";
}

std::vector<int64_t> ncl::rt::countSynapses(const ConnectSpec &spec, uint64_t seed,
                                            const ParallelFor &parallelFor) {
  throwIfInvalid(spec);
  const ncl::philox::Key key = ncl::philox::make_key(seed);
  if (drawnByRow(spec.rule))
    return rowCounts(spec, key, parallelFor);
  return countDrawnByPost(spec, key, parallelFor);
}

Csr ncl::rt::buildConnectivity(const ConnectSpec &spec, uint64_t seed,
                               const ParallelFor &parallelFor) {
  throwIfInvalid(spec);
  const ncl::philox::Key key = ncl::philox::make_key(seed);
  Csr csr;
  if (drawnByRow(spec.rule)) {
    csr.rowPtr = prefixSum(rowCounts(spec, key, parallelFor));
    csr.post.resize(static_cast<size_t>(csr.rowPtr.back()));
    fillRows(spec, key, csr, parallelFor);
    return csr;
  }
  Drawn d = spec.rule == ConnectRule::FixedInDegree ? drawInDegree(spec, key, parallelFor)
                                                    : drawTotal(spec, key, parallelFor);
  csr.rowPtr = prefixSum(countDrawn(spec, d, parallelFor));
  csr.post.resize(static_cast<size_t>(csr.rowPtr.back()));
  scatterDrawn(spec, d, csr, parallelFor);
  if (spec.rule == ConnectRule::FixedTotal)
    forGroups(parallelFor, spec.preCount, kRowGroups, [&](int64_t b, int64_t e) {
      std::vector<uint32_t> histogram;
      for (int64_t i = spec.preBegin + b; i < spec.preBegin + e; ++i)
        sortIndices(csr.post.data() + csr.rowPtr[i], csr.rowPtr[i + 1] - csr.rowPtr[i],
                    spec.postBegin, spec.postCount, histogram);
    });
  return csr;
}

Csr ncl::rt::buildConditional(const ConnectSpec &spec, uint64_t seed, const RowCondition &condition,
                              const ParallelFor &parallelFor) {
  if (spec.rule != ConnectRule::Condition)
    throw std::runtime_error("buildConditional builds the condition rule only");
  if (std::string error = validateConnectSpec(spec); !error.empty())
    throw std::runtime_error(error);
  const ncl::philox::Key key = ncl::philox::make_key(seed);
  const uint64_t threshold = bernoulliThreshold(spec.p);
  const bool everyPair = threshold >= (uint64_t(1) << 32);
  // Each row's synapses in a vector of its own: rows are written by
  // whichever thread draws them, and only their positions merge them.
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(spec.preCount));
  forGroups(parallelFor, spec.preCount, kRowGroups, [&](int64_t b, int64_t e) {
    std::vector<int32_t> mask(static_cast<size_t>(std::max<int64_t>(spec.postCount, 1)));
    for (int64_t r = b; r < e; ++r) {
      const int64_t i = spec.preBegin + r;
      std::fill(mask.begin(), mask.end(), 0);
      condition(i, mask.data());
      const int64_t skip = skipOf(spec, i, spec.postBegin, spec.postCount);
      std::vector<int32_t> &out = rows[static_cast<size_t>(r)];
      int64_t wordsBlock = -1;
      ncl::philox::Words words{};
      for (int64_t k = 0; k < spec.postCount; ++k) {
        if (!mask[k] || k == skip)
          continue;
        const int64_t j = spec.postBegin + k;
        if (!everyPair) {
          // Word j of entity i, as bernoulliRow draws it.
          if (j >> 2 != wordsBlock) {
            wordsBlock = j >> 2;
            words = connectBlock(key, spec.projection, static_cast<uint64_t>(wordsBlock),
                                 static_cast<uint64_t>(i));
          }
          if (words[j & 3] >= threshold)
            continue;
        }
        out.push_back(static_cast<int32_t>(j));
      }
    }
  });
  std::vector<int64_t> counts(static_cast<size_t>(spec.preSize), 0);
  for (int64_t r = 0; r < spec.preCount; ++r)
    counts[spec.preBegin + r] = static_cast<int64_t>(rows[static_cast<size_t>(r)].size());
  Csr csr;
  csr.rowPtr = prefixSum(counts);
  csr.post.resize(static_cast<size_t>(csr.rowPtr.back()));
  forGroups(parallelFor, spec.preCount, kRowGroups, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      std::vector<int32_t> &row = rows[static_cast<size_t>(r)];
      std::copy(row.begin(), row.end(), csr.post.begin() + csr.rowPtr[spec.preBegin + r]);
      std::vector<int32_t>().swap(row);
    }
  });
  return csr;
}

Csr ncl::rt::buildExplicit(const ConnectSpec &spec, const std::vector<int64_t> &pre,
                           const std::vector<int64_t> &post, std::string &error) {
  error.clear();
  ConnectSpec ranges = spec;
  ranges.rule = ConnectRule::Explicit;
  if (std::string e = validateConnectSpec(ranges); !e.empty()) {
    error = e;
    return {};
  }
  if (pre.size() != post.size()) {
    error = "the explicit lists differ in length: " + std::to_string(pre.size()) +
            " presynaptic and " + std::to_string(post.size()) + " postsynaptic indices";
    return {};
  }
  const int64_t total = static_cast<int64_t>(pre.size());
  auto outside = [](int64_t v, int64_t begin, int64_t count) {
    return v < begin || v >= begin + count;
  };
  for (int64_t k = 0; k < total; ++k) {
    const char *side = nullptr;
    int64_t v = 0, begin = 0, count = 0;
    if (outside(pre[k], spec.preBegin, spec.preCount))
      side = "presynaptic", v = pre[k], begin = spec.preBegin, count = spec.preCount;
    else if (outside(post[k], spec.postBegin, spec.postCount))
      side = "postsynaptic", v = post[k], begin = spec.postBegin, count = spec.postCount;
    if (side) {
      error = "synapse " + std::to_string(k) + ": " + side + " index " + std::to_string(v) +
              " is outside [" + std::to_string(begin) + ", " + std::to_string(begin + count) + ")";
      return {};
    }
    if (excludesAutapses(spec) && pre[k] == post[k]) {
      error = "synapse " + std::to_string(k) + " connects neuron " + std::to_string(pre[k]) +
              " to itself, but autapses are not allowed";
      return {};
    }
  }

  // Two stable counting sorts, by post and then by pre: rows ascend by
  // post, and one pair's synapses keep their file order.
  auto countingSort = [&](const std::vector<int64_t> &key, int64_t size,
                          const std::vector<int64_t> &in, std::vector<int64_t> &start) {
    start.assign(static_cast<size_t>(size) + 1, 0);
    for (int64_t k : in)
      ++start[key[k] + 1];
    for (int64_t v = 0; v < size; ++v)
      start[v + 1] += start[v];
    std::vector<int64_t> out(in.size());
    std::vector<int64_t> cursor(start.begin(), start.end() - 1);
    for (int64_t k : in)
      out[cursor[key[k]]++] = k;
    return out;
  };
  std::vector<int64_t> identity(static_cast<size_t>(total));
  for (int64_t k = 0; k < total; ++k)
    identity[k] = k;
  std::vector<int64_t> postStart;
  std::vector<int64_t> byPost = countingSort(post, spec.postSize, identity, postStart);
  Csr csr;
  csr.order = countingSort(pre, spec.preSize, byPost, csr.rowPtr);
  csr.post.resize(static_cast<size_t>(total));
  for (int64_t k = 0; k < total; ++k)
    csr.post[k] = static_cast<int32_t>(post[csr.order[k]]);
  if (!spec.multapses)
    for (int64_t i = 0; i < spec.preSize; ++i)
      for (int64_t k = csr.rowPtr[i] + 1; k < csr.rowPtr[i + 1]; ++k)
        if (csr.post[k] == csr.post[k - 1]) {
          error = "synapses " + std::to_string(csr.order[k - 1]) + " and " +
                  std::to_string(csr.order[k]) + " both connect neuron " + std::to_string(i) +
                  " to neuron " + std::to_string(csr.post[k]) + ", but multapses are not allowed";
          return {};
        }
  return csr;
}
