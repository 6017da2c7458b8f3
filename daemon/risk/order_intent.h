// SPDX-License-Identifier: MIT
// An order the strategy wants to send, before risk has passed it and before it has an id.
#pragma once

#include <cstdint>

#include "libhft/protocol/wire.h"

namespace hft::risk {

struct OrderIntent {
  std::uint32_t symbolId = 0;
  protocol::Side side = protocol::Side::Buy;
  protocol::Tif tif = protocol::Tif::Ioc;
  std::int64_t price = 0; // limit price, 1e-4 units
  std::uint32_t qty = 0;
  // Header timestamp of the MARKET_DATA frame that led to this order (NEW_ORDER md_timestamp).
  std::uint64_t mdTimestamp = 0;
};

} // namespace hft::risk
