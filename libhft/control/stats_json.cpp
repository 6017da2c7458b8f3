// SPDX-License-Identifier: MIT
// The stats JSON of docs/control.md.
#include "libhft/control/stats_json.h"

#include "libhft/control/control_protocol.h"

namespace hft::control {

void writeStatsJson(core::JsonWriter& j, const EngineStats& s) {
  j.beginObject();
  j.field("state", s.state);
  j.field("session_id", s.sessionId);
  j.field("kill_switch", s.killSwitch);
  for (const CounterField& f : kCounterFields)
    j.field(f.key, s.*f.member);
  j.key("symbols").beginArray();
  for (const SymbolStats& sym : s.symbols) {
    j.beginObject();
    j.field("symbol_id", sym.symbolId);
    j.field("position", sym.position);
    j.field("realized_pnl", sym.realizedPnl);
    j.field("unrealized_pnl", sym.unrealizedPnl);
    j.field("mid", sym.midPrice);
    j.endObject();
  }
  j.endArray();
  j.key("latency").beginObject();
  for (const StageLatency& l : s.latency) {
    j.key(l.stage).beginObject();
    j.field("count", l.count);
    j.field("min", l.min);
    j.field("mean", l.mean);
    j.field("p50", l.p50);
    j.field("p90", l.p90);
    j.field("p99", l.p99);
    j.field("p99_9", l.p999);
    j.field("max", l.max);
    j.endObject();
  }
  j.endObject();
  j.endObject();
}

std::string statsJson(const EngineStats& stats, bool pretty) {
  core::JsonWriter j(pretty);
  writeStatsJson(j, stats);
  return j.take();
}

} // namespace hft::control
