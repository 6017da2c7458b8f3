// SPDX-License-Identifier: MIT
// HdrHistogram V2 encoding and the interval log writer.
#include "libhft/core/hdr_log.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

namespace hft::core {
namespace {

constexpr std::uint32_t kEncodingCookie = 0x1c849303;
constexpr std::uint32_t kCompressedCookie = 0x1c849304;
constexpr std::size_t kHeaderSize = 40;

// Enough buckets that the last one holds kHighestTrackable, as Java's getBucketsNeededToCoverValue.
constexpr std::size_t countsLength() {
  std::uint64_t smallestUntrackable = 2 * HdrHistogram::kSubBucketHalfCount;
  std::size_t buckets = 1;
  while (smallestUntrackable <= HdrHistogram::kHighestTrackable) {
    smallestUntrackable <<= 1;
    ++buckets;
  }
  return (buckets + 1) * HdrHistogram::kSubBucketHalfCount;
}

void putBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}
void putBe64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}
void setBe32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// ZigZag then LEB128, at most 9 bytes: the 9th byte carries 8 bits (HdrHistogram's LEB128-64b9B).
void putZigZag(std::vector<std::uint8_t>& out, std::int64_t value) {
  std::uint64_t v =
      (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((v >> 7) == 0) {
      out.push_back(static_cast<std::uint8_t>(v));
      return;
    }
    out.push_back(static_cast<std::uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

} // namespace

HdrHistogram::HdrHistogram() : counts_(countsLength(), 0) {
  static_assert(indexOf(0) == 0 && indexOf(2047) == 2047 && indexOf(2048) == 2048);
}

void HdrHistogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  max_ = 0;
}

std::vector<std::uint8_t> HdrHistogram::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderSize + 64);
  putBe32(out, kEncodingCookie);
  putBe32(out, 0); // payload length, set below
  putBe32(out, 0); // normalizingIndexOffset
  putBe32(out, kSignificantDigits);
  putBe64(out, 1); // lowestDiscernibleValue
  putBe64(out, kHighestTrackable);
  putBe64(out, std::bit_cast<std::uint64_t>(1.0)); // integerToDoubleValueConversionRatio
  const std::size_t limit = count_ ? indexOf(max_) + 1 : 0;
  for (std::size_t i = 0; i < limit;) {
    const std::uint64_t c = counts_[i++];
    if (c == 0) {
      std::int64_t zeros = 1;
      while (i < limit && counts_[i] == 0) {
        ++zeros;
        ++i;
      }
      putZigZag(out, zeros > 1 ? -zeros : 0);
    } else {
      putZigZag(out, static_cast<std::int64_t>(c));
    }
  }
  setBe32(out, 4, static_cast<std::uint32_t>(out.size() - kHeaderSize));
  return out;
}

std::vector<std::uint8_t> HdrHistogram::encodeCompressed() const {
  const std::vector<std::uint8_t> raw = encode();
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> out(8 + size);
  if (compress2(out.data() + 8, &size, raw.data(), static_cast<uLong>(raw.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::runtime_error("HdrHistogram: zlib compress2 failed");
  out.resize(8 + size);
  setBe32(out, 0, kCompressedCookie);
  setBe32(out, 4, static_cast<std::uint32_t>(size));
  return out;
}

std::string base64Encode(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n =
        (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

HdrLogWriter::~HdrLogWriter() { close(); }

void HdrLogWriter::open(const std::string& path, std::uint64_t baseNs) {
  close();
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (!f)
    throw std::system_error(errno, std::generic_category(), "cannot create " + path);
  file_ = f;
  baseNs_ = baseNs;
  const std::time_t secs = static_cast<std::time_t>(baseNs / 1'000'000'000ULL);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char when[64];
  std::strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", &tm);
  const double base = static_cast<double>(baseNs) / 1e9;
  std::fprintf(f, "#[Histogram log format version 1.3]\n");
  std::fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", base, when);
  std::fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", base);
  std::fprintf(f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                  "\"Interval_Compressed_Histogram\"\n");
}

bool HdrLogWriter::writeInterval(const char* tag, std::uint64_t startNs, std::uint64_t endNs,
                                 const HdrHistogram& histogram) {
  if (!file_)
    return false;
  const std::string b64 = base64Encode(histogram.encodeCompressed());
  const double start = static_cast<double>(startNs - baseNs_) / 1e9;
  const double length = static_cast<double>(endNs - startNs) / 1e9;
  const double maxMs = static_cast<double>(histogram.max()) / 1e6;
  return std::fprintf(file_, "Tag=%s,%.3f,%.3f,%.3f,%s\n", tag, start, length, maxMs, b64.c_str()) >
         0;
}

bool HdrLogWriter::flush() { return !file_ || std::fflush(file_) == 0; }

void HdrLogWriter::close() {
  if (file_) {
    std::fflush(file_);
    ::fsync(fileno(file_));
    std::fclose(file_);
    file_ = nullptr;
  }
}

} // namespace hft::core
