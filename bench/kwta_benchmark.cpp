//===- kwta_benchmark.cpp - NCL's k-WTA against std::nth_element and std::sort -===//
//
// Times, for one population size N, k-winners-take-all with k = 2 % of N
// (ties by the lower index, losers zeroed) three ways, all on one thread:
//  - NCL: a model whose units take a fresh normal draw every step
//    (`update { x = I }`, `stimulus L.I += randn()`), run with and without
//    `kwta x keep 2 %` through the C API; the k-WTA's cost per step is the
//    difference of the two runs' simulate times over the steps;
//  - std::nth_element on neuron indices with the same order ("larger value
//    first, then lower index"), then the same masking pass;
//  - std::sort of the indices by that order, then the masking pass.
// Prints one JSON line with the seconds per step of each.
// Usage: kwta_benchmark N STEPS WITH.so WITHOUT.so
//
//===----------------------------------------------------------------------===//
#include "ncl/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

double seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

/// Seconds per step of `steps` steps of the model at `path` with N units
/// in each of `batch` members.
double simulatePerStep(const char *path, int64_t n, int64_t steps, int64_t batch = 1) {
  ncl_model *m = ncl_open(path);
  if (!m || ncl_set_threads(m, 1) != NCL_OK || ncl_set_size(m, "L", n) != NCL_OK ||
      ncl_set_batch(m, batch) != NCL_OK || ncl_init(m, 1) != NCL_OK) {
    std::fprintf(stderr, "kwta_benchmark: %s\n", ncl_last_error());
    std::exit(1);
  }
  ncl_run_steps(m, 1); // warm caches and pages
  const double start = seconds();
  if (ncl_run_steps(m, steps) != NCL_OK) {
    std::fprintf(stderr, "kwta_benchmark: %s\n", ncl_last_error());
    std::exit(1);
  }
  const double elapsed = seconds() - start;
  ncl_close(m);
  return elapsed / static_cast<double>(steps);
}

/// The best of `repeats` timings of select(x, order, k) plus the masking
/// pass over each of `batch` rows of n values, on fresh values each time.
template <typename Select>
double selectPerStep(int64_t n, int64_t k, int repeats, Select select, int64_t batch = 1) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  std::vector<double> values(static_cast<size_t>(n * batch));
  std::vector<int32_t> order(static_cast<size_t>(n));
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    for (double &v : values)
      v = normal(rng);
    const double start = seconds();
    for (int64_t row = 0; row < batch; ++row) {
      double *x = values.data() + row * n;
      std::iota(order.begin(), order.end(), 0);
      auto before = [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
      select(order, k, before);
      const int32_t kth = order[static_cast<size_t>(k - 1)];
      const double kx = x[kth];
      for (int64_t i = 0; i < n; ++i) {
        const bool kept = x[i] > kx || (x[i] == kx && i <= kth);
        x[i] = kept ? x[i] : 0.0;
      }
    }
    best = std::min(best, seconds() - start);
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  // `steps N STEPS A.so B.so ...`: only the seconds per step of each model,
  // in the order given (the fused-against-unfused table).
  if (argc >= 5 && std::string(argv[1]) == "steps") {
    const int64_t n = std::atoll(argv[2]), steps = std::atoll(argv[3]);
    std::printf("[");
    for (int i = 4; i < argc; ++i)
      std::printf("%s%.9g", i > 4 ? ", " : "", simulatePerStep(argv[i], n, steps));
    std::printf("]\n");
    return 0;
  }
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: kwta_benchmark N STEPS WITH.so WITHOUT.so [BATCH]\n"
                         "       kwta_benchmark steps N STEPS A.so [B.so ...]\n");
    return 2;
  }
  const int64_t batch = argc == 6 ? std::atoll(argv[5]) : 1;
  const int64_t n = std::atoll(argv[1]), steps = std::atoll(argv[2]);
  const int64_t k = static_cast<int64_t>(0.02 * static_cast<double>(n) + 0.5);
  const int repeats = static_cast<int>(std::max<int64_t>(3, std::min<int64_t>(steps, 50)));
  const double with = simulatePerStep(argv[3], n, steps, batch);
  const double without = simulatePerStep(argv[4], n, steps, batch);
  const double nth = selectPerStep(
      n, k, repeats,
      [](auto &order, int64_t kk, auto before) {
        std::nth_element(order.begin(), order.begin() + (kk - 1), order.end(), before);
      },
      batch);
  const double sorted = selectPerStep(
      n, k, repeats,
      [](auto &order, int64_t, auto before) { std::sort(order.begin(), order.end(), before); },
      batch);
  std::printf("{\"n\": %lld, \"batch\": %lld, \"k\": %lld, \"steps\": %lld, "
              "\"step_with_kwta_s\": %.9g, "
              "\"step_without_kwta_s\": %.9g, \"ncl_kwta_s\": %.9g, \"nth_element_s\": %.9g, "
              "\"sort_s\": %.9g}\n",
              static_cast<long long>(n), static_cast<long long>(batch), static_cast<long long>(k),
              static_cast<long long>(steps), with, without, std::max(0.0, with - without), nth,
              sorted);
  return 0;
}
