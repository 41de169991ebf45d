//===- ThreadPool.cpp - Fixed pool of worker threads for the stepper ------===//
//
// Spin-then-sleep on both sides: a chunk usually finishes within
// microseconds of the other threads' chunks, so a short spin avoids a
// futex round trip; a long wait (between runs, or on an oversubscribed
// machine) falls back to sleeping so it does not steal the core.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace ncl::rt;

namespace {
constexpr int kSpinIterations = 2000;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}
} // namespace

ThreadPool::ThreadPool(int n) : n_(n < 1 ? 1 : n) {
  workers_.reserve(static_cast<size_t>(n_ - 1));
  for (int k = 1; k < n_; ++k)
    workers_.emplace_back([this, k] { workerLoop(k); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void ThreadPool::run(const std::function<void(int)> &job) {
  if (n_ == 1) {
    job(0);
    return;
  }
  pending_.store(n_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  job(0);
  for (int i = 0; i < kSpinIterations; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0)
      return;
    cpuRelax();
  }
  std::unique_lock<std::mutex> lock(doneMu_);
  done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::workerLoop(int k) {
  uint64_t seen = 0;
  for (;;) {
    bool woke = false;
    for (int i = 0; i < kSpinIterations; ++i) {
      if (generation_.load(std::memory_order_acquire) != seen) {
        woke = true;
        break;
      }
      cpuRelax();
    }
    const std::function<void(int)> *job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!woke)
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      if (stop_)
        return;
      seen = generation_.load(std::memory_order_acquire);
      job = job_;
    }
    (*job)(k);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(doneMu_);
      done_.notify_one();
    }
  }
}

namespace {
/// How long a waiter spins before it sleeps: a few microseconds, the time
/// a running peer needs to arrive.
constexpr int kSpinsBeforeSleep = 4000;

long futex(std::atomic<uint32_t> *word, int op, uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op, value, nullptr, nullptr, 0);
}
} // namespace

void SpinBarrier::wait() {
  const uint32_t generation = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
    arrived_.store(0, std::memory_order_relaxed);
    // Sequentially consistent with the sleeper's count and check below, so
    // that either it sees the new generation or this sees it sleeping.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0)
      futex(&generation_, FUTEX_WAKE_PRIVATE, INT32_MAX);
    return;
  }
  for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
    if (spins < kSpinsBeforeSleep) {
      _mm_pause();
      continue;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    // Sleeps only while the generation is still the old one.
    while (generation_.load(std::memory_order_seq_cst) == generation)
      futex(&generation_, FUTEX_WAIT_PRIVATE, generation);
    sleepers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}
