// read_bandwidth: the rate at which one core reads an array of a given size,
// the hardware's limit for any kernel that must stream that many bytes per
// step (bench/rate_benchmarks.py's "read GB/s" column).
//
//   read_bandwidth BYTES [SECONDS]   prints the best rate in GB/s
//
// The array is summed into 32 independent accumulators (no floating-point
// reassociation is needed to vectorise it, and no chain of dependent adds
// limits it), repeatedly for about SECONDS (default 0.3), after a warm-up pass
// that brings it into whichever cache level holds it. Compiled by the
// benchmark with g++ -O3 -march=native.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr std::size_t kLanes = 32;

double sumOnce(const double *a, std::size_t n) {
  double acc[kLanes] = {};
  for (std::size_t i = 0; i + kLanes <= n; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k)
      acc[k] += a[i + k];
  double total = 0;
  for (double v : acc)
    total += v;
  return total;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: read_bandwidth BYTES [SECONDS]\n");
    return 2;
  }
  std::size_t n = std::strtoull(argv[1], nullptr, 10) / sizeof(double);
  double seconds = argc > 2 ? std::atof(argv[2]) : 0.3;
  n = std::max<std::size_t>(kLanes, n / kLanes * kLanes);
  std::vector<double> a(n);
  for (std::size_t i = 0; i < n; ++i)
    a[i] = 1e-9 * double(i % 1000);
  using clock = std::chrono::steady_clock;
  volatile double sink = sumOnce(a.data(), n);
  double best = 1e30;
  auto until = clock::now() + std::chrono::duration<double>(seconds);
  for (int pass = 0; pass < 3 || clock::now() < until; ++pass) {
    auto start = clock::now();
    sink = sink + sumOnce(a.data(), n);
    best = std::min(best, std::chrono::duration<double>(clock::now() - start).count());
  }
  std::printf("%.3f\n", double(n * sizeof(double)) / best / 1e9);
  return 0;
}
