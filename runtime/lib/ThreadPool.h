//===- ThreadPool.h - Fixed pool of worker threads for the stepper -*- C++ -*-===//
//
// The simulator hands the pool one job per chunk (hundreds to thousands of
// steps), so what matters is that a dispatch costs microseconds and that
// idle workers do not burn a core between runs: workers spin briefly for
// the next job, then sleep on a condition variable. The calling thread does
// share 0 itself, so n threads means n-1 workers.
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_THREADPOOL_H
#define NCL_RUNTIME_LIB_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ncl::rt {

class ThreadPool {
public:
  /// A pool in which `run` executes `n` shares at once (n >= 1).
  explicit ThreadPool(int n);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return n_; }

  /// Calls job(k) for every k in [0, size()), k = 0 on the calling thread,
  /// and returns when all have finished. `job` must not throw.
  void run(const std::function<void(int)> &job);

private:
  void workerLoop(int k);

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  const std::function<void(int)> *job_ = nullptr;
  bool stop_ = false;

  std::atomic<int> pending_{0};
  std::mutex doneMu_;
  std::condition_variable done_;
};

/// A barrier for the threads of one pool job that meet every few
/// microseconds (a network's spike exchange): arrivals count on an atomic
/// and waiters spin on a generation number, so passing it costs a cache
/// line's round trip when all threads are running. A waiter that has spun
/// for a while (its peer was descheduled: more threads than free cores)
/// sleeps on a futex and is woken by the last arrival, instead of yielding
/// in a loop, which costs a scheduler time slice per step on a busy
/// machine.
class SpinBarrier {
public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait();

private:
  const int n_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
};

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_THREADPOOL_H
