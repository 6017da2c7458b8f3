// SPDX-License-Identifier: MIT
// The EXECUTION_REPORT reject_reason codes (docs/protocol.md) as counter slots and names: hftd
// counts exchange rejects per reason, the control protocol and the metrics name them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libhft/protocol/wire.h"

namespace hft::protocol {

struct RejectReasonName {
  RejectReason reason;
  std::string_view name; // the metrics' `reason` label, and `rejects_<name>` in the stats
};

// Every reason the protocol defines, in the order of the stats; "other" (99) also counts a code
// the protocol does not define (0 or an unknown one): the slots always add up to all rejects.
inline constexpr std::array<RejectReasonName, 9> kRejectReasons{{
    {RejectReason::UnknownSymbol, "unknown_symbol"},
    {RejectReason::InvalidPrice, "invalid_price"},
    {RejectReason::InvalidQuantity, "invalid_quantity"},
    {RejectReason::DuplicateClOrdId, "duplicate_cl_ord_id"},
    {RejectReason::UnknownOrder, "unknown_order"},
    {RejectReason::NotLoggedOn, "not_logged_on"},
    {RejectReason::InvalidSideOrTif, "invalid_side_or_tif"},
    {RejectReason::Throttled, "throttled"},
    {RejectReason::Other, "other"},
}};
inline constexpr std::size_t kRejectReasonSlots = kRejectReasons.size();

// The slot of a wire reject_reason in kRejectReasons: codes 1-8 are slots 0-7, anything else
// the slot of "other".
constexpr std::size_t rejectReasonSlot(std::uint8_t code) noexcept {
  return code >= 1 && code <= 8 ? code - 1U : kRejectReasonSlots - 1;
}

static_assert(rejectReasonSlot(1) == 0 && rejectReasonSlot(8) == 7 &&
              kRejectReasons[rejectReasonSlot(8)].reason == RejectReason::Throttled &&
              kRejectReasons[rejectReasonSlot(99)].reason == RejectReason::Other &&
              rejectReasonSlot(0) == kRejectReasonSlots - 1);

} // namespace hft::protocol
