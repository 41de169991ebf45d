//===- AlignedArray.cpp - Aligned, zeroed storage for state arrays --------===//
//
// Small arrays come from aligned_alloc and are zeroed; arrays of 64 KiB or
// more are mapped from the kernel, whose pages are zero already.
//
//===----------------------------------------------------------------------===//
#include "AlignedArray.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

using namespace ncl::rt;

AlignedArray::AlignedArray(size_t bytes) : bytes_(bytes) {
  // An array of 64 KiB or more is mapped from the kernel, whose pages are
  // zero already: the first write (the connect stages', for per-synapse
  // state) touches them once, where zeroing them first wrote every byte
  // twice (a seventh of the microcircuit's init). A large array (4 MiB or
  // more: per-synapse state, connectivity) is read at random, by the
  // on_post column walk and by spikes arriving anywhere: with 4 KiB pages
  // nearly every such access misses the TLB as well as the cache. It
  // starts at a 2 MiB boundary and gets 2 MiB pages where the kernel offers
  // them (transparent huge pages in "madvise" mode, Debian's default),
  // before the first touch.
  constexpr size_t kHugePage = size_t{2} << 20, kPage = 4096, kMapped = size_t{64} << 10;
  if (bytes >= kMapped) {
    const size_t align = bytes >= 2 * kHugePage ? kHugePage : kPage;
    const size_t rounded = (bytes + align - 1) / align * align;
    // Room to start at a boundary of `align`; the rest is given back.
    const size_t mapped = rounded + (align == kPage ? 0 : align);
    void *p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::bad_alloc();
    const uintptr_t at = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (at + align - 1) / align * align;
    if (aligned > at)
      munmap(p, aligned - at);
    if (const size_t tail = at + mapped - (aligned + rounded); tail > 0)
      munmap(reinterpret_cast<void *>(aligned + rounded), tail);
#ifdef MADV_HUGEPAGE
    if (align == kHugePage)
      (void)madvise(reinterpret_cast<void *>(aligned), rounded, MADV_HUGEPAGE); // advice only
#endif
    ptr_ = std::unique_ptr<void, Free>(reinterpret_cast<void *>(aligned), Free{rounded});
    return;
  }
  const size_t rounded = std::max<size_t>((bytes + 63) / 64 * 64, 64);
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded);
  ptr_.reset(p);
}

void AlignedArray::Free::operator()(void *p) const {
  if (mapped)
    munmap(p, mapped);
  else
    std::free(p);
}
