// SPDX-License-Identifier: MIT
// Open-addressing map from cl_ord_id to a slot, for one session: every id the session used,
// so duplicates are refused, and where each still-resting order lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace hft::matching {

class ClOrdIdMap {
public:
  static constexpr std::uint32_t kNotResting = 0xffff'ffffU;

  // `capacity` is rounded up to a power of two; the table doubles past half full, so a session
  // that sends more ids than that allocates, rarely and amortised.
  explicit ClOrdIdMap(std::size_t capacity = 4096) { allocate(roundUp(capacity)); }
  ClOrdIdMap(const ClOrdIdMap&) = delete;
  ClOrdIdMap& operator=(const ClOrdIdMap&) = delete;
  ClOrdIdMap(ClOrdIdMap&&) noexcept = default;
  ClOrdIdMap& operator=(ClOrdIdMap&&) noexcept = default;

  // The value stored for `id`, or nullptr. id 0 is never stored (the spec forbids it).
  [[nodiscard]] std::uint32_t* find(std::uint64_t id) noexcept {
    for (std::size_t i = hash(id) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == id)
        return &slots_[i].value;
      if (slots_[i].key == 0)
        return nullptr;
    }
  }

  // The value of an id known to be stored.
  [[nodiscard]] std::uint32_t& at(std::uint64_t id) noexcept {
    std::size_t i = hash(id) & mask_;
    while (slots_[i].key != id)
      i = (i + 1) & mask_;
    return slots_[i].value;
  }

  // Adds an id that find() did not return.
  void insert(std::uint64_t id, std::uint32_t value) {
    if (2 * (size_ + 1) > mask_ + 1)
      grow();
    place(id, value);
    ++size_;
  }

  // Forgets everything (a new session in this slot); keeps the memory.
  void clear() noexcept {
    for (std::size_t i = 0; i <= mask_; ++i)
      slots_[i] = {};
    size_ = 0;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  struct Slot {
    std::uint64_t key = 0; // 0 marks an empty slot
    std::uint32_t value = 0;
  };

  static std::size_t roundUp(std::size_t n) noexcept {
    std::size_t p = 16;
    while (p < n)
      p *= 2;
    return p;
  }
  static std::size_t hash(std::uint64_t id) noexcept {
    // Fibonacci hashing: clients often use consecutive ids, which must not cluster.
    return static_cast<std::size_t>((id * 0x9e3779b97f4a7c15ULL) >> 16);
  }
  void allocate(std::size_t capacity) {
    slots_ = std::make_unique<Slot[]>(capacity);
    mask_ = capacity - 1;
  }
  void place(std::uint64_t id, std::uint32_t value) noexcept {
    std::size_t i = hash(id) & mask_;
    while (slots_[i].key != 0)
      i = (i + 1) & mask_;
    slots_[i] = {id, value};
  }
  void grow() {
    auto old = std::move(slots_);
    const std::size_t oldCapacity = mask_ + 1;
    allocate(oldCapacity * 2);
    for (std::size_t i = 0; i < oldCapacity; ++i)
      if (old[i].key != 0)
        place(old[i].key, old[i].value);
  }

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace hft::matching
