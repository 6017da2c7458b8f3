// SPDX-License-Identifier: MIT
// Writes and reads the io.hft.Engine1 replies: a{sv} dictionaries and arrays of structs.
#include "libhft/control/control_codec.h"

#include <cerrno>
#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "libhft/control/control_protocol.h"

namespace hft::control {
namespace {

using DictValue =
    std::variant<std::string, bool, std::uint64_t, std::uint32_t, std::int64_t, double>;
using Dict = std::map<std::string, DictValue, std::less<>>;

// Returns -errno from the first failing call, 0 when all succeed.
#define HFT_TRY(expr)                                                                              \
  do {                                                                                             \
    const int hftTryResult = (expr);                                                               \
    if (hftTryResult < 0)                                                                          \
      return hftTryResult;                                                                         \
  } while (false)

int appendEntry(sd_bus_message* m, const char* key, const std::string& v) {
  return sd_bus_message_append(m, "{sv}", key, "s", v.c_str());
}
int appendEntry(sd_bus_message* m, const char* key, bool v) {
  return sd_bus_message_append(m, "{sv}", key, "b", static_cast<int>(v));
}
int appendEntry(sd_bus_message* m, const char* key, std::uint64_t v) {
  return sd_bus_message_append(m, "{sv}", key, "t", v);
}
int appendEntry(sd_bus_message* m, const char* key, std::uint32_t v) {
  return sd_bus_message_append(m, "{sv}", key, "u", v);
}

// Reads one basic value of D-Bus type `type`, held by sd-bus as Wire, into `out` as Stored
// (a string from sd-bus's const char*, a bool from its int).
template <typename Wire, typename Stored = Wire>
int readBasic(sd_bus_message* m, char type, DictValue& out) {
  Wire wire{};
  HFT_TRY(sd_bus_message_read_basic(m, type, &wire));
  out = Stored(wire);
  return 0;
}

// Reads an a{sv}; values of types other than s, b, t, u, x, d are skipped.
int readDict(sd_bus_message* m, Dict& out) {
  HFT_TRY(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}"));
  for (;;) {
    int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
    if (r < 0)
      return r;
    if (r == 0)
      break;
    const char* key = nullptr;
    HFT_TRY(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key));
    char type = 0;
    const char* contents = nullptr;
    HFT_TRY(sd_bus_message_peek_type(m, &type, &contents));
    if (type != SD_BUS_TYPE_VARIANT || contents == nullptr)
      return -EBADMSG;
    const std::string inner(contents);
    if (inner.size() != 1) {
      HFT_TRY(sd_bus_message_skip(m, "v"));
    } else {
      HFT_TRY(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents));
      switch (inner[0]) {
      case SD_BUS_TYPE_STRING:
        HFT_TRY((readBasic<const char*, std::string>(m, 's', out[key])));
        break;
      case SD_BUS_TYPE_BOOLEAN: HFT_TRY((readBasic<int, bool>(m, 'b', out[key]))); break;
      case SD_BUS_TYPE_UINT64: HFT_TRY(readBasic<std::uint64_t>(m, 't', out[key])); break;
      case SD_BUS_TYPE_UINT32: HFT_TRY(readBasic<std::uint32_t>(m, 'u', out[key])); break;
      case SD_BUS_TYPE_INT64: HFT_TRY(readBasic<std::int64_t>(m, 'x', out[key])); break;
      case SD_BUS_TYPE_DOUBLE: HFT_TRY(readBasic<double>(m, 'd', out[key])); break;
      default: HFT_TRY(sd_bus_message_skip(m, inner.c_str()));
      }
      HFT_TRY(sd_bus_message_exit_container(m));
    }
    HFT_TRY(sd_bus_message_exit_container(m));
  }
  return sd_bus_message_exit_container(m);
}

// Copies dict[key] into out when present; -EBADMSG when it has another type.
template <typename T> int take(const Dict& dict, std::string_view key, T& out) {
  const auto it = dict.find(key);
  if (it == dict.end())
    return 0;
  const T* v = std::get_if<T>(&it->second);
  if (v == nullptr)
    return -EBADMSG;
  out = *v;
  return 0;
}

int appendCounters(sd_bus_message* m, const EngineStats& s) {
  HFT_TRY(sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}"));
  HFT_TRY(appendEntry(m, "state", s.state));
  HFT_TRY(appendEntry(m, "session_id", s.sessionId));
  HFT_TRY(appendEntry(m, "kill_switch", s.killSwitch));
  for (const CounterField& field : kCounterFields)
    HFT_TRY(appendEntry(m, field.key, s.*field.member));
  return sd_bus_message_close_container(m);
}

int readCounters(sd_bus_message* m, EngineStats& s) {
  Dict dict;
  HFT_TRY(readDict(m, dict));
  HFT_TRY(take(dict, "state", s.state));
  HFT_TRY(take(dict, "session_id", s.sessionId));
  HFT_TRY(take(dict, "kill_switch", s.killSwitch));
  for (const CounterField& field : kCounterFields)
    HFT_TRY(take(dict, field.key, s.*field.member));
  return 0;
}

int appendStringArray(sd_bus_message* m, const std::vector<std::string>& items) {
  HFT_TRY(sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "s"));
  for (const std::string& item : items)
    HFT_TRY(sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, item.c_str()));
  return sd_bus_message_close_container(m);
}

int readStringArray(sd_bus_message* m, std::vector<std::string>& items) {
  HFT_TRY(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s"));
  for (;;) {
    const char* s = nullptr;
    const int r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &s);
    if (r < 0)
      return r;
    if (r == 0)
      break;
    items.emplace_back(s);
  }
  return sd_bus_message_exit_container(m);
}

} // namespace

int appendStatus(sd_bus_message* m, const EngineStatus& s) {
  HFT_TRY(sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}"));
  HFT_TRY(appendEntry(m, "state", s.state));
  HFT_TRY(appendEntry(m, "session_id", s.sessionId));
  HFT_TRY(appendEntry(m, "version", s.version));
  HFT_TRY(appendEntry(m, "network_core", s.networkCore));
  HFT_TRY(appendEntry(m, "strategy_core", s.strategyCore));
  HFT_TRY(appendEntry(m, "poll_mode", s.pollMode));
  HFT_TRY(appendEntry(m, "exchange", s.exchange));
  HFT_TRY(appendEntry(m, "kill_switch", s.killSwitch));
  HFT_TRY(appendEntry(m, "uptime_ns", s.uptimeNs));
  return sd_bus_message_close_container(m);
}

int readStatus(sd_bus_message* m, EngineStatus& s) {
  Dict dict;
  HFT_TRY(readDict(m, dict));
  HFT_TRY(take(dict, "state", s.state));
  HFT_TRY(take(dict, "session_id", s.sessionId));
  HFT_TRY(take(dict, "version", s.version));
  HFT_TRY(take(dict, "network_core", s.networkCore));
  HFT_TRY(take(dict, "strategy_core", s.strategyCore));
  HFT_TRY(take(dict, "poll_mode", s.pollMode));
  HFT_TRY(take(dict, "exchange", s.exchange));
  HFT_TRY(take(dict, "kill_switch", s.killSwitch));
  HFT_TRY(take(dict, "uptime_ns", s.uptimeNs));
  return 0;
}

int appendStats(sd_bus_message* m, const EngineStats& s) {
  HFT_TRY(appendCounters(m, s));
  HFT_TRY(sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, kSymbolSignature));
  for (const SymbolStats& sym : s.symbols)
    HFT_TRY(sd_bus_message_append(m, kSymbolSignature, sym.symbolId, sym.position, sym.realizedPnl,
                                  sym.unrealizedPnl, sym.midPrice));
  HFT_TRY(sd_bus_message_close_container(m));
  HFT_TRY(sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, kLatencySignature));
  for (const StageLatency& l : s.latency)
    HFT_TRY(sd_bus_message_append(m, kLatencySignature, l.stage.c_str(), l.count, l.min, l.p50,
                                  l.p90, l.p99, l.p999, l.max, l.mean));
  return sd_bus_message_close_container(m);
}

int readStats(sd_bus_message* m, EngineStats& s) {
  HFT_TRY(readCounters(m, s));
  HFT_TRY(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, kSymbolSignature));
  for (;;) {
    SymbolStats sym;
    const int r = sd_bus_message_read(m, kSymbolSignature, &sym.symbolId, &sym.position,
                                      &sym.realizedPnl, &sym.unrealizedPnl, &sym.midPrice);
    if (r < 0)
      return r;
    if (r == 0)
      break;
    s.symbols.push_back(sym);
  }
  HFT_TRY(sd_bus_message_exit_container(m));
  HFT_TRY(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, kLatencySignature));
  for (;;) {
    StageLatency l;
    const char* stage = nullptr;
    const int r = sd_bus_message_read(m, kLatencySignature, &stage, &l.count, &l.min, &l.p50,
                                      &l.p90, &l.p99, &l.p999, &l.max, &l.mean);
    if (r < 0)
      return r;
    if (r == 0)
      break;
    l.stage = stage;
    s.latency.push_back(std::move(l));
  }
  return sd_bus_message_exit_container(m);
}

int appendSummary(sd_bus_message* m, const SessionSummary& summary) {
  HFT_TRY(sd_bus_message_append(m, "ss", summary.sessionId.c_str(), summary.directory.c_str()));
  return appendStats(m, summary.stats);
}

int readSummary(sd_bus_message* m, SessionSummary& summary) {
  const char* id = nullptr;
  const char* dir = nullptr;
  HFT_TRY(sd_bus_message_read(m, "ss", &id, &dir));
  summary.sessionId = id;
  summary.directory = dir;
  return readStats(m, summary.stats);
}

int appendReload(sd_bus_message* m, const ReloadResult& result) {
  HFT_TRY(appendStringArray(m, result.applied));
  return appendStringArray(m, result.needsRestart);
}

int readReload(sd_bus_message* m, ReloadResult& result) {
  HFT_TRY(readStringArray(m, result.applied));
  return readStringArray(m, result.needsRestart);
}

} // namespace hft::control

#undef HFT_TRY
