//===- Connectivity.h - Deterministic synapse construction at load time -*- C++ -*-===//
//
// Builds the synapses of a projection (which presynaptic neuron connects to
// which postsynaptic one) from a connection rule and the simulation's seed,
// when the runtime loads a network: connectivity is never stored in the
// model library. Every random choice is a pure function of (seed,
// projection, entity, word) through Philox (ncl/random_streams.h,
// docs/random.md "Connectivity draws") and integer arithmetic only, so the
// result is the same on any thread count and a GPU can reproduce it bit for
// bit.
//
// Errors: countSynapses and buildConnectivity throw std::runtime_error with
// a message for the user (a bad rule or sizes, see validateConnectSpec);
// the caller catches it and prefixes the projection's name. buildExplicit
// reports through its `error` argument instead. Nothing here aborts on user
// input.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_CONNECTIVITY_H
#define NCL_RUNTIME_LIB_CONNECTIVITY_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ncl::rt {

enum class ConnectRule {
  AllToAll,
  OneToOne,
  FixedProbability,
  FixedInDegree,
  FixedOutDegree,
  FixedTotal,
  Explicit,
  Condition
};

/// The rule's name as the language spells it ("all_to_all", ...).
const char *connectRuleName(ConnectRule rule);

struct ConnectSpec {
  ConnectRule rule;
  /// Presynaptic neurons: [preBegin, preBegin + preCount) of the source.
  int64_t preBegin, preCount;
  /// Postsynaptic neurons: [postBegin, postBegin + postCount) of the target.
  int64_t postBegin, postCount;
  /// Whole source / target population sizes (the CSR has preSize rows).
  /// Both at most INT32_MAX.
  int64_t preSize, postSize;
  /// Source and target are the same population: i -> i is an autapse.
  bool samePopulation;
  /// FixedProbability and Condition: the probability of each candidate
  /// pair, in [0, 1].
  double p = 0;
  /// FixedInDegree / FixedOutDegree: synapses per neuron; FixedTotal: in all.
  int64_t n = 0;
  /// Allow i -> i when samePopulation.
  bool autapses = true;
  /// FixedInDegree / FixedOutDegree / FixedTotal (and Explicit): allow
  /// several synapses between one pair.
  bool multapses = true;
  /// The projection's index in the network (the random stream key), at
  /// most NCL_RANDOM_MAX_PROJECTION.
  uint32_t projection = 0;
};

/// Compressed sparse rows by presynaptic neuron: row i (global index in the
/// source population, 0..preSize-1; rows outside the subgroup are empty)
/// holds post[rowPtr[i] .. rowPtr[i+1]), global indices in the target
/// population, ascending; the synapses of one pair (multapses) are adjacent.
struct Csr {
  std::vector<int64_t> rowPtr; ///< preSize + 1 entries.
  std::vector<int32_t> post;   ///< rowPtr[preSize] entries.
  /// Explicit only: order[k] is the index in the file of synapse k (to
  /// permute weights and delays read from files); empty otherwise.
  std::vector<int64_t> order;

  int64_t rows() const { return static_cast<int64_t>(rowPtr.size()) - 1; }
  int64_t size() const { return rowPtr.empty() ? 0 : rowPtr.back(); }
};

/// How the caller lends threads: calls fn(begin, end) over a partition of
/// [0, n), on one or several threads, and returns when all are done. The
/// results here never depend on the partition. An empty ParallelFor runs
/// serially.
using ParallelFor = std::function<void(int64_t n, const std::function<void(int64_t, int64_t)> &)>;

/// Sorts out[0..n), values in [lo, lo + count). A row often holds a good
/// share of its range (10^4 of 10^4 neurons), and then counting beats a
/// comparison sort several times over; a sparser row (the microcircuit's:
/// 2000 of 20 000) is sorted by the digits of its offsets from lo, a byte
/// a pass from the lowest (two passes below 2^16 neurons), some ten times
/// faster than std::sort from a few dozen values up. `scratch` holds the
/// histogram, or the offsets twice (at most 16 MB, or 8 bytes a value).
void sortIndices(int32_t *out, int64_t n, int64_t lo, int64_t count,
                 std::vector<uint32_t> &scratch);

/// The message describing what is wrong with `spec`, or "" if it is valid
/// (ranges within the populations, p in [0,1], enough candidates for n
/// without multapses, equal counts for one_to_one, ...).
std::string validateConnectSpec(const ConnectSpec &spec);

/// Pass 1: the number of synapses of every row (preSize entries), so the
/// caller can check memory before the big allocation. AllToAll, OneToOne
/// and FixedOutDegree need no draws; FixedProbability, FixedInDegree and
/// FixedTotal make all their draws (as buildConnectivity does again) but
/// keep only the counts, except FixedTotal without multapses, which keeps
/// them all to find repeated pairs.
/// Throws std::runtime_error for an invalid spec or an Explicit or
/// Condition rule.
std::vector<int64_t> countSynapses(const ConnectSpec &spec, uint64_t seed,
                                   const ParallelFor &parallelFor);

/// Pass 2: the synapses. Besides the CSR (4 bytes per synapse and 8 per
/// row) it holds, while it runs, the drawn synapses of FixedInDegree (4
/// bytes each) and FixedTotal (8 bytes each, plus a hash set of the pairs
/// without multapses). Throws std::runtime_error for an invalid spec or an
/// Explicit or Condition rule (use buildExplicit, buildConditional).
Csr buildConnectivity(const ConnectSpec &spec, uint64_t seed, const ParallelFor &parallelFor);

/// The condition of a Condition rule for one presynaptic row: sets
/// mask[k] to a non-zero value iff the pair (row, postBegin + k) is a
/// candidate, for k in [0, postCount). Called on the ParallelFor's threads
/// (any row on any thread), so it must not depend on which thread calls it.
using RowCondition = std::function<void(int64_t row, int32_t *mask)>;

/// Condition: every candidate pair (i, j) the condition accepts (less
/// autapses when excluded) is kept iff Bernoulli word j of entity i is
/// below p * 2^32: the same word fixed_probability uses, so a condition
/// that is always true gives exactly fixed_probability's synapses. Calls
/// the condition once per presynaptic row of the range; holds each row's
/// synapses in a vector of its own until the CSR is assembled (8 bytes per
/// synapse at the peak). Throws std::runtime_error for an invalid spec.
Csr buildConditional(const ConnectSpec &spec, uint64_t seed, const RowCondition &condition,
                     const ParallelFor &parallelFor);

/// Explicit lists: synapse k connects pre[k] to post[k] (global indices,
/// within the spec's subgroup ranges). Returns the CSR with `order` set
/// (file order among the synapses of one pair), or, with `error` set, an
/// empty Csr when the lists differ in length, an index is out of range, or
/// a synapse is an autapse or a repeated pair that the spec disallows.
Csr buildExplicit(const ConnectSpec &spec, const std::vector<int64_t> &pre,
                  const std::vector<int64_t> &post, std::string &error);

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_CONNECTIVITY_H
