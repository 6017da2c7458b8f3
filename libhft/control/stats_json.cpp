// SPDX-License-Identifier: MIT
// The stats JSON of docs/control.md.
#include "libhft/control/stats_json.h"

#include "libhft/control/control_protocol.h"

namespace hft::control {

core::Json statsJsonValue(const EngineStats& s) {
  core::Json j = core::Json::object();
  j["state"] = s.state;
  j["session_id"] = s.sessionId;
  j["kill_switch"] = s.killSwitch;
  for (const CounterField& f : kCounterFields)
    j[std::string(f.key)] = s.*f.member;
  core::Json symbols = core::Json::array();
  for (const SymbolStats& sym : s.symbols)
    symbols.push_back(core::Json{{"symbol_id", sym.symbolId},
                                 {"position", sym.position},
                                 {"realized_pnl", sym.realizedPnl},
                                 {"unrealized_pnl", sym.unrealizedPnl},
                                 {"mid", sym.midPrice}});
  j["symbols"] = std::move(symbols);
  core::Json latency = core::Json::object();
  for (const StageLatency& l : s.latency)
    latency[l.stage] =
        core::Json{{"count", l.count}, {"min", l.min}, {"mean", l.mean},  {"p50", l.p50},
                   {"p90", l.p90},     {"p99", l.p99}, {"p99_9", l.p999}, {"max", l.max}};
  j["latency"] = std::move(latency);
  return j;
}

std::string statsJson(const EngineStats& stats, bool pretty) {
  return core::dumpJson(statsJsonValue(stats), pretty);
}

} // namespace hft::control
