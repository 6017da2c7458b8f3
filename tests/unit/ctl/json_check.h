// SPDX-License-Identifier: MIT
// A strict little JSON parser for tests: proves output is valid JSON and lets tests read it.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hft::testing {

struct JsonValue {
  enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string text; // the string, or a number's literal text
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members; // in document order

  [[nodiscard]] bool has(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key)
        return true;
    return false;
  }
  [[nodiscard]] const JsonValue& at(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key)
        return v;
    throw std::out_of_range("no key " + std::string(key));
  }
};

class JsonParser {
public:
  explicit JsonParser(std::string_view text) : s_(text) {}
  // Throws std::runtime_error on anything but exactly one JSON value (plus whitespace).
  JsonValue parse() {
    JsonValue v = value();
    skip();
    if (pos_ != s_.size())
      fail("trailing characters");
    return v;
  }

private:
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string(what) + " at offset " + std::to_string(pos_));
  }
  void skip() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  char peek() {
    skip();
    if (pos_ >= s_.size())
      fail("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c)
      fail("unexpected character");
    ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size())
        fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        fail("raw control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        fail("bad escape");
      const char e = s_[pos_++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (pos_ + 4 > s_.size())
          fail("bad \\u escape");
        const unsigned long code =
            std::strtoul(std::string(s_.substr(pos_, 4)).c_str(), nullptr, 16);
        pos_ += 4;
        if (code >= 0x80)
          fail("test parser handles only ASCII \\u escapes");
        out += static_cast<char>(code);
        break;
      }
      default: fail("bad escape");
      }
    }
  }
  JsonValue value() {
    JsonValue v;
    const char c = peek();
    if (c == '{') {
      ++pos_;
      v.type = JsonValue::Type::Object;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        std::string k = string();
        expect(':');
        v.members.emplace_back(std::move(k), value());
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      ++pos_;
      v.type = JsonValue::Type::Array;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.items.push_back(value());
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.type = JsonValue::Type::String;
      v.text = string();
      return v;
    }
    if (literal("true")) {
      v.type = JsonValue::Type::Bool;
      v.boolean = true;
      return v;
    }
    if (literal("false")) {
      v.type = JsonValue::Type::Bool;
      return v;
    }
    if (literal("null"))
      return v;
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-')
      ++pos_;
    while (pos_ < s_.size() &&
           std::string_view("0123456789.eE+-").find(s_[pos_]) != std::string_view::npos)
      ++pos_;
    if (start == pos_)
      fail("unexpected character");
    v.type = JsonValue::Type::Number;
    v.text = std::string(s_.substr(start, pos_ - start));
    char* end = nullptr;
    v.number = std::strtod(v.text.c_str(), &end);
    if (end != v.text.c_str() + v.text.size())
      fail("bad number");
    return v;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

inline JsonValue parseJson(std::string_view text) { return JsonParser(text).parse(); }

} // namespace hft::testing
