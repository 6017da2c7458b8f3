// SPDX-License-Identifier: MIT
// What hftctl prints: aligned human tables by default, JSON with --json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libhft/control/control_types.h"

namespace hft::ctl {

// Columns padded to their widest cell; numbers right-aligned, text left-aligned.
class TextTable {
public:
  enum class Align { Left, Right };
  struct Column {
    std::string header;
    Align align = Align::Left;
  };

  // Without a header row when showHeader is false (key/value blocks).
  explicit TextTable(std::vector<Column> columns, bool showHeader = true)
      : columns_(std::move(columns)), showHeader_(showHeader) {}
  void addRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }
  [[nodiscard]] std::string render() const;

private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
  bool showHeader_;
};

// "1h 02m 03s"; "-" for 0.
[[nodiscard]] std::string formatDuration(std::uint64_t ns);
// "2026-11-24 10:15:00 UTC" from CLOCK_REALTIME ns; "-" for 0.
[[nodiscard]] std::string formatTimestamp(std::uint64_t realtimeNs);

[[nodiscard]] std::string formatStatus(const control::EngineStatus& status);
[[nodiscard]] std::string formatStats(const control::EngineStats& stats);
[[nodiscard]] std::string formatSummary(const control::SessionSummary& summary);
[[nodiscard]] std::string formatReload(const control::ReloadResult& result);

// JSON documents (one line each, no trailing newline); schemas in docs/control.md.
[[nodiscard]] std::string statusJson(const control::EngineStatus& status);
[[nodiscard]] std::string statsJson(const control::EngineStats& stats);
[[nodiscard]] std::string summaryJson(const control::SessionSummary& summary);
[[nodiscard]] std::string reloadJson(const control::ReloadResult& result);
[[nodiscard]] std::string sessionIdJson(std::string_view sessionId);
[[nodiscard]] std::string killSwitchJson(bool on);
[[nodiscard]] std::string versionJson(std::string_view client, std::string_view daemon);

// A JSON string literal, quotes included; control characters escaped as \u00XX.
[[nodiscard]] std::string jsonString(std::string_view text);

} // namespace hft::ctl
