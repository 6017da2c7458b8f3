// SPDX-License-Identifier: MIT
// Bounded lock-free single-producer single-consumer ring with preallocated slots.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#include "libhft/core/mapped_region.h"
#include "libhft/core/prefetch.h"

namespace hft::core {

template <typename T> class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "slots are copied without constructors");

public:
  // Capacity is rounded up to a power of two so the index wraps with a mask.
  explicit SpscRing(std::size_t capacity, const RegionOptions& memory = {})
      : mask_(roundUp(capacity) - 1), region_(sizeof(T) * (mask_ + 1), memory),
        slots_(static_cast<T*>(region_.data())) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer only.
  [[nodiscard]] bool tryPush(const T& value) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed); // only we write head_
    if (head - tailCache_ > mask_) {
      // acquire: the consumer's reads of the slots it freed happen before we overwrite them.
      tailCache_ = tail_.load(std::memory_order_acquire);
      if (head - tailCache_ > mask_)
        return false;
    }
    slots_[head & mask_] = value;
    // release: the slot's contents are visible before the consumer sees the new head.
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Producer only: a free slot to fill in place (nullptr when full), then publish().
  // Saves copying a large slot when only part of it is used.
  [[nodiscard]] T* claim() noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed); // only we write head_
    if (head - tailCache_ > mask_) {
      tailCache_ = tail_.load(std::memory_order_acquire); // as in tryPush
      if (head - tailCache_ > mask_)
        return nullptr;
    }
    return &slots_[head & mask_];
  }
  // Producer only: at least n slots free. Reads the consumer's index only when the cached one
  // says there are fewer, so a ring that is far from full costs no shared cache line.
  [[nodiscard]] bool hasRoom(std::size_t n) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (mask_ + 1 - (head - tailCache_) >= n)
      return true;
    tailCache_ = tail_.load(std::memory_order_acquire);
    return mask_ + 1 - (head - tailCache_) >= n;
  }
  // Producer only: brings the slot the next claim() returns into this core's cache, if it is
  // free by the cached index (no shared load), without claiming it. For a producer that will
  // write rarely and wants that write not to miss.
  void prefetchClaim() const noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head - tailCache_ <= mask_)
      prefetchForWrite(&slots_[head & mask_], sizeof(T));
  }
  void publish() noexcept {
    // release: the claimed slot's contents are visible before the new head.
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Consumer only: the oldest slot, read in place (nullptr when empty), then release().
  [[nodiscard]] const T* front() noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == headCache_) {
      headCache_ = head_.load(std::memory_order_acquire); // as in tryPop
      if (tail == headCache_)
        return nullptr;
    }
    return &slots_[tail & mask_];
  }
  void release() noexcept {
    // release: our reads of the slot happen before the producer may reuse it.
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  [[nodiscard]] bool onHugePages() const noexcept { return region_.onHugePages(); }

  // Consumer only.
  [[nodiscard]] bool tryPop(T& out) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed); // only we write tail_
    if (tail == headCache_) {
      // acquire: pairs with the producer's release so the slot's contents are visible.
      headCache_ = head_.load(std::memory_order_acquire);
      if (tail == headCache_)
        return false;
    }
    out = slots_[tail & mask_];
    // release: our read of the slot happens before the producer may reuse it.
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  // Approximate when called concurrently; exact when both sides are idle.
  [[nodiscard]] std::size_t size() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

private:
  static std::size_t roundUp(std::size_t n) {
    std::size_t p = 2;
    while (p < n)
      p <<= 1;
    return p;
  }

  // Each index on its own cache line: producer and consumer must not false-share.
  alignas(64) std::atomic<std::size_t> head_{0};
  std::size_t tailCache_ = 0; // producer's copy of tail_, refreshed only when the ring looks full
  alignas(64) std::atomic<std::size_t> tail_{0};
  std::size_t headCache_ = 0; // consumer's copy of head_, refreshed only when it looks empty
  alignas(64) std::size_t mask_;
  MappedRegion region_; // slots, mapped once; zero-filled so every page is resident
  T* slots_;
};

} // namespace hft::core
