// SPDX-License-Identifier: MIT
// hftctl stats as metrics: OpenMetrics 1.0 text, or Prometheus text 0.0.4 for node_exporter.
#pragma once

#include <string>
#include <string_view>

#include "libhft/control/control_types.h"

namespace hft::ctl {

// The two text expositions differ only in framing: OpenMetrics names a counter family without
// its `_total` suffix, has `# UNIT` lines, `info` families and a final `# EOF`; the Prometheus
// text format (what node_exporter's textfile collector parses) types every sample name itself.
enum class MetricsDialect { OpenMetrics, Prometheus };

// The metric families of docs/control.md ("Metrics"), one document ending in a newline.
[[nodiscard]] std::string statsMetrics(const control::EngineStats& stats, MetricsDialect dialect);

// A label value between its quotes: backslash, double quote and newline escaped.
[[nodiscard]] std::string escapeLabelValue(std::string_view value);
// A number as both formats write it: the shortest text that reads back exactly (plain digits
// while at most 20 characters); NaN, +Inf, -Inf.
[[nodiscard]] std::string metricNumber(double value);

} // namespace hft::ctl
