//===- AlignedArrayTest.cpp - Storage of the runtime's state arrays -------===//
//
// AlignedArray (runtime/lib/AlignedArray.h): every size reads as zeros, is
// writable to its last byte, and is aligned as the header says: 64 bytes
// below 64 KiB (aligned_alloc), a page from 64 KiB (mapped), 2 MiB from
// 4 MiB (mapped, for huge pages).
//
//===----------------------------------------------------------------------===//
#include "AlignedArray.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

using ncl::rt::AlignedArray;

namespace {

bool allZero(const AlignedArray &a) {
  const auto *p = static_cast<const unsigned char *>(a.data());
  for (size_t i = 0; i < a.bytes(); ++i)
    if (p[i] != 0)
      return false;
  return true;
}

uintptr_t address(const AlignedArray &a) { return reinterpret_cast<uintptr_t>(a.data()); }

} // namespace

TEST(AlignedArray, EverySizeIsZeroWritableAndAligned) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const std::pair<size_t, size_t> sizesAndAlignments[] = {
      {1, 64},
      {100, 64},
      {(size_t{64} << 10) - 1, 64},
      {size_t{64} << 10, 4096},
      {(size_t{64} << 10) + 3, 4096},
      {2 * kHugePage - 1, 4096},
      {2 * kHugePage, kHugePage},
      {3 * kHugePage + 5, kHugePage},
  };
  for (auto [bytes, alignment] : sizesAndAlignments) {
    // Twice: the second array may reuse memory the first one dirtied.
    for (int round = 0; round < 2; ++round) {
      AlignedArray a(bytes);
      ASSERT_NE(a.data(), nullptr) << bytes;
      EXPECT_EQ(a.bytes(), bytes);
      EXPECT_EQ(address(a) % alignment, 0u) << bytes << " bytes";
      EXPECT_TRUE(allZero(a)) << bytes << " bytes, round " << round;
      std::memset(a.data(), 0xA5, bytes); // every byte writable
    }
  }
}

TEST(AlignedArray, MovesAndFreesBothKinds) {
  AlignedArray small(256), large(size_t{5} << 20);
  std::memset(small.data(), 1, small.bytes());
  std::memset(large.data(), 1, large.bytes());
  AlignedArray moved = std::move(large);
  EXPECT_EQ(moved.bytes(), size_t{5} << 20);
  EXPECT_EQ(static_cast<unsigned char *>(moved.data())[moved.bytes() - 1], 1);
  moved = std::move(small); // frees the mapped array, keeps the allocated one
  EXPECT_EQ(moved.bytes(), 256u);
  EXPECT_EQ(static_cast<unsigned char *>(moved.data())[255], 1);
  AlignedArray empty;
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_EQ(empty.bytes(), 0u);
}
