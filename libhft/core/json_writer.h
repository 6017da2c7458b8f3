// SPDX-License-Identifier: MIT
// A small streaming JSON writer for stats and reports (no dependency, strings escaped).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace hft::core {

class JsonWriter {
public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& beginObject() { return open('{'); }
  JsonWriter& endObject() { return close('}'); }
  JsonWriter& beginArray() { return open('['); }
  JsonWriter& endArray() { return close(']'); }

  JsonWriter& key(std::string_view k) {
    separate();
    string(k);
    out_ += pretty_ ? ": " : ":";
    afterKey_ = true;
    return *this;
  }
  JsonWriter& value(std::string_view v) {
    separate();
    string(v);
    return *this;
  }
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& value(std::uint64_t v) { return raw(std::to_string(v)); }
  JsonWriter& value(std::int64_t v) { return raw(std::to_string(v)); }
  JsonWriter& value(std::uint32_t v) { return raw(std::to_string(v)); }
  JsonWriter& value(int v) { return raw(std::to_string(v)); }
  JsonWriter& value(double v) {
    if (!std::isfinite(v))
      return raw("null");
    char buf[64];
    // Shortest text that reads back to the same double: no PnL lost to rounding.
    const auto result = std::to_chars(buf, buf + sizeof(buf), v);
    return raw(std::string_view(buf, static_cast<std::size_t>(result.ptr - buf)));
  }
  template <typename T> JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  [[nodiscard]] std::string take() { return std::move(out_); }

private:
  JsonWriter& raw(std::string_view text) {
    separate();
    out_ += text;
    return *this;
  }
  JsonWriter& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (pretty_ && !empty)
      newline();
    out_ += c;
    return *this;
  }
  void separate() {
    if (afterKey_) {
      afterKey_ = false;
      return;
    }
    if (first_.empty())
      return;
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
    if (pretty_)
      newline();
  }
  void newline() {
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
  }
  void string(std::string_view s) { appendQuoted(out_, s); }

public:
  // A JSON string literal, quotes included; control characters escaped as \u00XX.
  static void appendQuoted(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
      }
    }
    out += '"';
  }
  [[nodiscard]] static std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    appendQuoted(out, s);
    return out;
  }

private:
  std::string out_;
  std::vector<bool> first_;
  bool afterKey_ = false;
  bool pretty_;
};

} // namespace hft::core
