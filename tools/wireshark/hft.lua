-- SPDX-License-Identifier: MIT
-- hft.lua: Wireshark/tshark dissector for the hft wire protocol, version 1 (docs/protocol.md).
--
-- Decodes every frame type and field on the exchange's TCP port (frames split across segments
-- and several frames in one segment are reassembled) and on the UDP feed port, and flags
-- malformed frames with expert info. Load with `tshark -X lua_script:tools/wireshark/hft.lua`
-- or install into a Wireshark plugin folder (docs/wireshark.md). Preferences: hft.tcp_port
-- (default 9000) and hft.udp_port (default 9001).

local hft = Proto("hft", "HFT wire protocol v1")

local HEADER_LEN = 16
local MAX_LEN = 4096
local MAX_ENTRIES = 64
local PRICE_SCALE = 10000

local msg_types = {
  [1] = "MARKET_DATA", [2] = "EXECUTION_REPORT", [3] = "NEW_ORDER", [4] = "CANCEL_ORDER",
  [5] = "LOGON", [6] = "LOGON_RESPONSE", [7] = "HEARTBEAT", [8] = "LOGOUT",
}
-- Fixed frame sizes; MARKET_DATA is 24 + 16 * num_entries.
local frame_sizes = { [2] = 80, [3] = 56, [4] = 32, [5] = 48, [6] = 32, [7] = 16, [8] = 24 }

local md_sides = { [0] = "bid", [1] = "ask" }
local order_sides = { [0] = "buy", [1] = "sell" }
local tifs = { [0] = "day", [1] = "ioc" }
local exec_types = {
  [0] = "new", [1] = "partial fill", [2] = "fill", [3] = "canceled", [4] = "rejected",
  [5] = "cancel rejected", [6] = "expired",
}
local reject_reasons = {
  [0] = "none", [1] = "unknown symbol", [2] = "invalid price", [3] = "invalid quantity",
  [4] = "duplicate cl_ord_id", [5] = "unknown order", [6] = "not logged on",
  [7] = "invalid side or tif", [8] = "throttled", [99] = "other",
}
local logon_status = { [0] = "accepted", [1] = "rejected" }
local logon_reasons = {
  [0] = "none", [1] = "unsupported version", [2] = "already logged on", [3] = "not authorised",
}
local logout_reasons = {
  [0] = "normal", [1] = "protocol error", [2] = "heartbeat timeout", [3] = "exchange closing",
}

local f = {
  msg_length = ProtoField.uint16("hft.msg_length", "Message length", base.DEC),
  msg_type = ProtoField.uint16("hft.msg_type", "Message type", base.DEC, msg_types),
  seq = ProtoField.uint32("hft.seq", "Sequence number", base.DEC),
  timestamp = ProtoField.uint64("hft.timestamp", "Timestamp (ns, CLOCK_REALTIME)", base.DEC),
  symbol_id = ProtoField.uint32("hft.symbol_id", "Symbol id", base.DEC),
  -- MARKET_DATA
  num_entries = ProtoField.uint16("hft.md.num_entries", "Entries", base.DEC),
  md_flags = ProtoField.uint16("hft.md.flags", "Flags", base.HEX),
  md_snapshot = ProtoField.bool("hft.md.snapshot", "Snapshot", 16, nil, 0x0001),
  md_entry = ProtoField.none("hft.md.entry", "Entry"),
  md_price = ProtoField.int64("hft.md.price", "Price (1e-4)", base.DEC),
  md_qty = ProtoField.uint32("hft.md.qty", "Quantity", base.DEC),
  md_side = ProtoField.uint8("hft.md.side", "Side", base.DEC, md_sides),
  md_level = ProtoField.uint8("hft.md.level", "Level", base.DEC),
  -- orders and reports
  cl_ord_id = ProtoField.uint64("hft.cl_ord_id", "Client order id", base.DEC),
  order_id = ProtoField.uint64("hft.order_id", "Exchange order id", base.DEC),
  exec_id = ProtoField.uint64("hft.exec_id", "Execution id", base.DEC),
  side = ProtoField.uint8("hft.side", "Side", base.DEC, order_sides),
  tif = ProtoField.uint8("hft.tif", "Time in force", base.DEC, tifs),
  price = ProtoField.int64("hft.price", "Price (1e-4)", base.DEC),
  qty = ProtoField.uint32("hft.qty", "Quantity", base.DEC),
  md_timestamp = ProtoField.uint64("hft.md_timestamp", "Market data timestamp (ns)", base.DEC),
  exec_type = ProtoField.uint8("hft.exec_type", "Execution type", base.DEC, exec_types),
  reject_reason = ProtoField.uint8("hft.reject_reason", "Reject reason", base.DEC,
    reject_reasons),
  last_px = ProtoField.int64("hft.last_px", "Last price (1e-4)", base.DEC),
  last_qty = ProtoField.uint32("hft.last_qty", "Last quantity", base.DEC),
  cum_qty = ProtoField.uint32("hft.cum_qty", "Cumulative quantity", base.DEC),
  leaves_qty = ProtoField.uint32("hft.leaves_qty", "Leaves quantity", base.DEC),
  -- session
  protocol_version = ProtoField.uint32("hft.protocol_version", "Protocol version", base.DEC),
  heartbeat_ms = ProtoField.uint32("hft.heartbeat_interval_ms", "Heartbeat interval (ms)",
    base.DEC),
  account = ProtoField.string("hft.account", "Account"),
  logon_status = ProtoField.uint8("hft.logon.status", "Status", base.DEC, logon_status),
  logon_reason = ProtoField.uint8("hft.logon.reason", "Reason", base.DEC, logon_reasons),
  session_id = ProtoField.uint64("hft.session_id", "Session id", base.DEC),
  logout_reason = ProtoField.uint8("hft.logout.reason", "Logout reason", base.DEC,
    logout_reasons),
  reserved = ProtoField.bytes("hft.reserved", "Reserved"),
  unknown_body = ProtoField.bytes("hft.body", "Body of an unknown type"),
}
hft.fields = f

local e = {
  short = ProtoExpert.new("hft.malformed.short", "Malformed: msg_length < 16",
    expert.group.MALFORMED, expert.severity.ERROR),
  long = ProtoExpert.new("hft.malformed.long", "Malformed: msg_length > 4096",
    expert.group.MALFORMED, expert.severity.ERROR),
  size = ProtoExpert.new("hft.malformed.size", "Malformed: msg_length wrong for the type",
    expert.group.MALFORMED, expert.severity.ERROR),
  entries = ProtoExpert.new("hft.malformed.entries", "Malformed: num_entries > 64",
    expert.group.MALFORMED, expert.severity.ERROR),
  datagram = ProtoExpert.new("hft.malformed.datagram", "Malformed: datagram ends inside a frame",
    expert.group.MALFORMED, expert.severity.ERROR),
  unknown = ProtoExpert.new("hft.unknown_type", "Unknown message type (counted and skipped)",
    expert.group.UNDECODED, expert.severity.WARN),
  reserved = ProtoExpert.new("hft.reserved_nonzero", "Reserved bytes are not 0",
    expert.group.PROTOCOL, expert.severity.NOTE),
}
hft.experts = { e.short, e.long, e.size, e.entries, e.datagram, e.unknown, e.reserved }

hft.prefs.tcp_port = Pref.uint("Exchange TCP port", 9000, "TCP port of the exchange (orders, "
  .. "reports, market data)")
hft.prefs.udp_port = Pref.uint("UDP feed port", 9001, "UDP port of the market-data feed")

local function price_text(v)
  local n = v:tonumber()
  return string.format(" (%.4f)", n / PRICE_SCALE)
end

local function add_price(tree, field, range)
  local v = range:le_int64()
  tree:add_le(field, range):append_text(price_text(v))
end

local function add_reserved(tree, range)
  local item = tree:add(f.reserved, range)
  for i = 0, range:len() - 1 do
    if range:range(i, 1):uint() ~= 0 then
      item:add_proto_expert_info(e.reserved)
      break
    end
  end
end

-- Why a frame whose header starts at tvb(offset) is malformed, or nil. Needs 16 bytes; reads
-- num_entries when the bytes are there.
local function problem(tvb, offset, avail)
  local len = tvb(offset, 2):le_uint()
  local t = tvb(offset + 2, 2):le_uint()
  if len < HEADER_LEN then return e.short, "msg_length " .. len .. " < 16" end
  if len > MAX_LEN then return e.long, "msg_length " .. len .. " > 4096" end
  if t == 1 then
    if len < 24 then return e.size, "MARKET_DATA msg_length " .. len .. " < 24" end
    if avail >= 22 then
      local n = tvb(offset + 20, 2):le_uint()
      if n > MAX_ENTRIES then return e.entries, "num_entries " .. n .. " > 64" end
      if len ~= 24 + 16 * n then
        return e.size, "MARKET_DATA msg_length " .. len .. " != 24 + 16 * " .. n
      end
    end
  elseif frame_sizes[t] and len ~= frame_sizes[t] then
    return e.size, msg_types[t] .. " msg_length " .. len .. " != " .. frame_sizes[t]
  end
  return nil
end

local function dissect_body(t, fr, sub)
  if t == 1 then
    sub:add_le(f.symbol_id, fr(16, 4))
    local n = fr(20, 2):le_uint()
    sub:add_le(f.num_entries, fr(20, 2))
    local flags = sub:add_le(f.md_flags, fr(22, 2))
    flags:add_le(f.md_snapshot, fr(22, 2))
    for i = 0, n - 1 do
      local o = 24 + 16 * i
      local side = fr(o + 12, 1):uint()
      local entry = sub:add(f.md_entry, fr(o, 16))
      entry:set_text(string.format("Entry %d: %s level %d, %d @ %.4f", i,
        md_sides[side] or "?", fr(o + 13, 1):uint(), fr(o + 8, 4):le_uint(),
        fr(o, 8):le_int64():tonumber() / PRICE_SCALE))
      add_price(entry, f.md_price, fr(o, 8))
      entry:add_le(f.md_qty, fr(o + 8, 4))
      entry:add(f.md_side, fr(o + 12, 1))
      entry:add(f.md_level, fr(o + 13, 1))
      add_reserved(entry, fr(o + 14, 2))
    end
  elseif t == 2 then
    sub:add_le(f.cl_ord_id, fr(16, 8))
    sub:add_le(f.order_id, fr(24, 8))
    sub:add_le(f.exec_id, fr(32, 8))
    sub:add_le(f.symbol_id, fr(40, 4))
    sub:add(f.exec_type, fr(44, 1))
    sub:add(f.side, fr(45, 1))
    sub:add(f.reject_reason, fr(46, 1))
    add_reserved(sub, fr(47, 1))
    add_price(sub, f.price, fr(48, 8))
    add_price(sub, f.last_px, fr(56, 8))
    sub:add_le(f.last_qty, fr(64, 4))
    sub:add_le(f.cum_qty, fr(68, 4))
    sub:add_le(f.leaves_qty, fr(72, 4))
    add_reserved(sub, fr(76, 4))
  elseif t == 3 then
    sub:add_le(f.cl_ord_id, fr(16, 8))
    sub:add_le(f.symbol_id, fr(24, 4))
    sub:add(f.side, fr(28, 1))
    sub:add(f.tif, fr(29, 1))
    add_reserved(sub, fr(30, 2))
    add_price(sub, f.price, fr(32, 8))
    sub:add_le(f.qty, fr(40, 4))
    add_reserved(sub, fr(44, 4))
    sub:add_le(f.md_timestamp, fr(48, 8))
  elseif t == 4 then
    sub:add_le(f.cl_ord_id, fr(16, 8))
    sub:add_le(f.symbol_id, fr(24, 4))
    add_reserved(sub, fr(28, 4))
  elseif t == 5 then
    sub:add_le(f.protocol_version, fr(16, 4))
    sub:add_le(f.heartbeat_ms, fr(20, 4))
    sub:add(f.account, fr(24, 16), fr(24, 16):stringz())
    add_reserved(sub, fr(40, 8))
  elseif t == 6 then
    sub:add(f.logon_status, fr(16, 1))
    sub:add(f.logon_reason, fr(17, 1))
    add_reserved(sub, fr(18, 2))
    sub:add_le(f.heartbeat_ms, fr(20, 4))
    sub:add_le(f.session_id, fr(24, 8))
  elseif t == 8 then
    sub:add(f.logout_reason, fr(16, 1))
    add_reserved(sub, fr(17, 7))
  elseif t ~= 7 and fr:len() > HEADER_LEN then
    sub:add(f.unknown_body, fr(HEADER_LEN))
  end
end

-- Adds one whole frame at tvb(offset, len) to the tree; returns its type name.
local function dissect_frame(tvb, offset, len, tree)
  local fr = tvb(offset, len)
  local t = fr(2, 2):le_uint()
  local name = msg_types[t] or ("type " .. t)
  local sub = tree:add(hft, fr)
  sub:set_text(string.format("HFT %s, seq %d, %d bytes", name, fr(4, 4):le_uint(), len))
  sub:add_le(f.msg_length, fr(0, 2))
  sub:add_le(f.msg_type, fr(2, 2))
  sub:add_le(f.seq, fr(4, 4))
  sub:add_le(f.timestamp, fr(8, 8))
  if not msg_types[t] then
    sub:add_proto_expert_info(e.unknown)
  end
  dissect_body(t, fr:tvb(), sub)
  return name
end

-- A malformed frame: flag it and claim the rest (a receiver closes the connection here).
local function flag_malformed(tvb, offset, tree, expert_field, reason)
  local sub = tree:add(hft, tvb(offset))
  sub:set_text("HFT malformed frame: " .. reason)
  sub:add_le(f.msg_length, tvb(offset, 2))
  sub:add_le(f.msg_type, tvb(offset + 2, 2))
  sub:add_proto_expert_info(expert_field, reason)
end

local function set_info(pinfo, names)
  if #names > 0 then
    pinfo.cols.protocol = "HFT"
    pinfo.cols.info = table.concat(names, ", ")
  end
end

local function dissect_tcp(tvb, pinfo, tree)
  local total = tvb:len()
  local offset = 0
  local names = {}
  while offset < total do
    local avail = total - offset
    if avail < HEADER_LEN then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      break
    end
    local expert_field, reason = problem(tvb, offset, avail)
    if expert_field then
      flag_malformed(tvb, offset, tree, expert_field, reason)
      names[#names + 1] = "MALFORMED"
      offset = total
      break
    end
    local len = tvb(offset, 2):le_uint()
    if avail < len then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = len - avail
      break
    end
    names[#names + 1] = dissect_frame(tvb, offset, len, tree)
    offset = offset + len
  end
  set_info(pinfo, names)
  return total
end

local function dissect_udp(tvb, pinfo, tree)
  local total = tvb:len()
  local offset = 0
  local names = {}
  while offset < total do
    local avail = total - offset
    if avail < HEADER_LEN then
      local sub = tree:add(hft, tvb(offset))
      sub:set_text("HFT: " .. avail .. " trailing bytes, less than a header")
      sub:add_proto_expert_info(e.datagram)
      names[#names + 1] = "MALFORMED"
      break
    end
    local expert_field, reason = problem(tvb, offset, avail)
    local len = tvb(offset, 2):le_uint()
    if not expert_field and avail < len then
      expert_field, reason = e.datagram, "frame of " .. len .. " bytes, " .. avail .. " left"
    end
    if expert_field then
      flag_malformed(tvb, offset, tree, expert_field, reason)
      names[#names + 1] = "MALFORMED"
      break
    end
    names[#names + 1] = dissect_frame(tvb, offset, len, tree)
    offset = offset + len
  end
  set_info(pinfo, names)
  return total
end

function hft.dissector(tvb, pinfo, tree)
  if pinfo.port_type == 3 then -- PT_UDP
    return dissect_udp(tvb, pinfo, tree)
  end
  return dissect_tcp(tvb, pinfo, tree)
end

local registered = { tcp = nil, udp = nil }

local function register_ports()
  local tcp_table = DissectorTable.get("tcp.port")
  local udp_table = DissectorTable.get("udp.port")
  if registered.tcp then tcp_table:remove(registered.tcp, hft) end
  if registered.udp then udp_table:remove(registered.udp, hft) end
  registered.tcp = hft.prefs.tcp_port
  registered.udp = hft.prefs.udp_port
  if registered.tcp ~= 0 then tcp_table:add(registered.tcp, hft) end
  if registered.udp ~= 0 then udp_table:add(registered.udp, hft) end
end

function hft.prefs_changed()
  register_ports()
end

register_ports()
