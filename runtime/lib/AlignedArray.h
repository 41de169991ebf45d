//===- AlignedArray.h - Aligned, zeroed storage for state arrays -*- C++ -*-===//
//
// The runtime's state arrays (per neuron, per synapse, connectivity) live
// in AlignedArrays: zero-initialised, aligned for vector code, and, when
// large, mapped from the kernel with huge pages (AlignedArray.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NCL_RUNTIME_LIB_ALIGNEDARRAY_H
#define NCL_RUNTIME_LIB_ALIGNEDARRAY_H

#include <cstddef>
#include <memory>

namespace ncl::rt {

/// Zero-initialised raw storage for a state array, aligned to a cache line
/// (so generated vector code gets aligned loads), to a page from 64 KiB and
/// to 2 MiB from 4 MiB (AlignedArray.cpp says why).
class AlignedArray {
public:
  AlignedArray() = default;
  explicit AlignedArray(size_t bytes);
  void *data() const { return ptr_.get(); }
  size_t bytes() const { return bytes_; }

private:
  struct Free {
    Free() noexcept {}
    explicit Free(size_t bytesMapped) noexcept : mapped(bytesMapped) {}
    void operator()(void *p) const;
    size_t mapped = 0; // bytes mapped with mmap, else 0 (malloc'd)
  };
  std::unique_ptr<void, Free> ptr_;
  size_t bytes_ = 0;
};

} // namespace ncl::rt

#endif // NCL_RUNTIME_LIB_ALIGNEDARRAY_H
