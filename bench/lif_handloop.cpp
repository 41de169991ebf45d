// Hand-written reference loop for the uncoupled-LIF benchmark (bench/run_benchmarks.py).
//
// The practical ceiling for one sweep of all neurons per time step: the same state
// layout as NCL's generated code (one array of v in float or double, one int32 array
// `refractory_until` holding the first step index at which a neuron may integrate
// again), the exact update
//     v <- v*e^(-dt/tau) + (El + R*I)*(1 - e^(-dt/tau))
// with threshold Vt, reset Vr and refractory period t_ref, written with branch-free
// selects on GCC/Clang vector types, so that g++ -O3 -march=native turns it into
// AVX-512 (or AVX2) code without relying on the auto-vectoriser's if-conversion
// (which, on this loop, gcc 12 turned into branches and masked stores, 2x slower). Values in SI
// units (V, s), as NCL stores them. OpenMP threads take static, contiguous neuron ranges; there is
// one barrier per step, as a simulator that exchanges spikes every step would have.
//
// Build: g++ -O3 -march=native -fopenmp lif_handloop.cpp -o lif_handloop
// Usage: lif_handloop [--n N] [--time-ms T] [--dt-ms DT] [--precision f32|f64]
//                     [--threads K] [--mode stream|blocked] [--block B]
//   stream : one sweep of all N neurons per step (the benchmark's ceiling).
//   blocked: neurons in cache-sized blocks of B, each block advanced through all steps
//            (legal only without coupling; printed for information).
// Prints one JSON object on stdout.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

struct Params {
  double tau_m = 20e-3, El = -70e-3, Vt = -55e-3, Vr = -75e-3, R = 10e6, t_ref = 2e-3;
  double I = 2e-9;
};

template <typename T> struct Consts {
  T a, b, Vt, Vr;
  int32_t nref; // round(t_ref/dt)
};

// Vector types (GCC/Clang vector extensions): W lanes of T, a lane mask of the same
// width, and W int32 refractory counters. 64 bytes of v per vector (one AVX-512 register).
template <typename T> struct Vec;
template <> struct Vec<float> {
  static constexpr int W = 16;
  typedef float V __attribute__((vector_size(64)));
  typedef int32_t M __attribute__((vector_size(64)));
  typedef int32_t R __attribute__((vector_size(64)));
};
template <> struct Vec<double> {
  static constexpr int W = 8;
  typedef double V __attribute__((vector_size(64)));
  typedef int64_t M __attribute__((vector_size(64)));
  typedef int32_t R __attribute__((vector_size(32)));
};

// One step of neurons [lo, hi); returns the number of spikes. Every neuron is loaded,
// updated and stored each step (no branches on neuron state): the integrated value is
// computed for every lane and kept only where the neuron is free.
template <typename T>
static inline int64_t step_range(T *__restrict v, int32_t *__restrict ru, int64_t lo, int64_t hi,
                                 int32_t step, const Consts<T> c) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::M M;
  typedef typename Vec<T>::R R;
  constexpr int W = Vec<T>::W;
  const int32_t until = step + 1 + c.nref;
  V stepv = {};
  stepv += T(step);
  R count = {};
  int64_t i = lo;
  for (; i + W <= hi; i += W) {
    V vi;
    R ri;
    std::memcpy(&vi, v + i, sizeof vi);
    std::memcpy(&ri, ru + i, sizeof ri);
    const M free_ = stepv >= __builtin_convertvector(ri, V); // step >= refractory_until
    const V vn = free_ ? vi * c.a + c.b : vi;
    const M sp = free_ & (vn > c.Vt);
    const R spr = __builtin_convertvector(sp, R); // -1 where it spiked
    const V vo = sp ? c.Vr : vn;
    const R ro = spr ? until : ri;
    std::memcpy(v + i, &vo, sizeof vo);
    std::memcpy(ru + i, &ro, sizeof ro);
    count -= spr;
  }
  int64_t spikes = 0;
  for (unsigned k = 0; k < sizeof(R) / sizeof(int32_t); ++k)
    spikes += count[k];
  for (; i < hi; ++i) { // tail, same arithmetic
    const T vi = v[i];
    const int32_t ri = ru[i];
    const bool free_ = step >= ri;
    const T vn = free_ ? vi * c.a + c.b : vi;
    const bool sp = free_ && vn > c.Vt;
    v[i] = sp ? c.Vr : vn;
    ru[i] = sp ? until : ri;
    spikes += sp;
  }
  return spikes;
}

template <typename T> struct Result {
  double seconds;
  int64_t spikes;
};

template <typename T>
Result<T> run(int64_t n, int32_t steps, double dt, const Params &p, int threads, bool blocked,
              int64_t block) {
  Consts<T> c;
  const double a = std::exp(-dt / p.tau_m);
  c.a = T(a);
  c.b = T((p.El + p.R * p.I) * (1.0 - a));
  c.Vt = T(p.Vt);
  c.Vr = T(p.Vr);
  c.nref = int32_t(std::lround(p.t_ref / dt));

  // 64-byte aligned arrays, first touched by the thread that later owns them.
  auto *v = static_cast<T *>(std::aligned_alloc(64, ((n * sizeof(T) + 63) / 64) * 64));
  auto *ru = static_cast<int32_t *>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64));
  if (!v || !ru) {
    std::fprintf(stderr, "lif_handloop: out of memory\n");
    std::exit(1);
  }
  const T El = T(p.El);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    v[i] = El;
    ru[i] = 0;
  }

  int64_t total = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (!blocked) {
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const int nt = omp_get_num_threads(), id = omp_get_thread_num();
      // Static contiguous partition, rounded to 16 elements (one 64-byte line of f32).
      const int64_t chunk = ((n + nt - 1) / nt + 15) / 16 * 16;
      const int64_t lo = std::min<int64_t>(n, chunk * id), hi = std::min<int64_t>(n, lo + chunk);
      int64_t mine = 0;
      for (int32_t s = 0; s < steps; ++s) {
        mine += step_range<T>(v, ru, lo, hi, s, c);
#pragma omp barrier
      }
      total += mine;
    }
  } else {
    const int64_t nblocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : total)
    for (int64_t b = 0; b < nblocks; ++b) {
      const int64_t lo = b * block, hi = std::min(n, lo + block);
      for (int32_t s = 0; s < steps; ++s)
        total += step_range<T>(v, ru, lo, hi, s, c);
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::free(v);
  std::free(ru);
  return {std::chrono::duration<double>(t1 - t0).count(), total};
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: lif_handloop [--n N] [--time-ms T] [--dt-ms DT] [--precision f32|f64]\n"
               "                    [--threads K] [--mode stream|blocked] [--block B]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  int64_t n = 10000000, block = 16384;
  double time_ms = 200, dt_ms = 0.1;
  std::string precision = "f64", mode = "stream";
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc)
      usage();
    const char *val = argv[++i];
    if (a == "--n")
      n = std::atoll(val);
    else if (a == "--time-ms")
      time_ms = std::atof(val);
    else if (a == "--dt-ms")
      dt_ms = std::atof(val);
    else if (a == "--precision")
      precision = val;
    else if (a == "--threads")
      threads = std::atoi(val);
    else if (a == "--mode")
      mode = val;
    else if (a == "--block")
      block = std::atoll(val);
    else
      usage();
  }
  if (n <= 0 || threads <= 0 || block <= 0 || dt_ms <= 0 || time_ms < 0 ||
      (precision != "f32" && precision != "f64") || (mode != "stream" && mode != "blocked"))
    usage();
  const int32_t steps = int32_t(std::llround(time_ms / dt_ms));
  const double dt = dt_ms * 1e-3;
  const Params p;
  const bool blocked = mode == "blocked";
  double secs;
  int64_t spikes;
  if (precision == "f32") {
    auto r = run<float>(n, steps, dt, p, threads, blocked, block);
    secs = r.seconds, spikes = r.spikes;
  } else {
    auto r = run<double>(n, steps, dt, p, threads, blocked, block);
    secs = r.seconds, spikes = r.spikes;
  }
  std::printf(
      "{\"n\": %lld, \"steps\": %d, \"precision\": \"%s\", \"threads\": %d, \"mode\": \"%s\", "
      "\"simulate_s\": %.6f, \"spikes\": %lld, \"updates_per_s\": %.6e}\n",
      (long long)n, steps, precision.c_str(), threads, mode.c_str(), secs, (long long)spikes,
      secs > 0 ? double(n) * steps / secs : 0.0);
  return 0;
}
