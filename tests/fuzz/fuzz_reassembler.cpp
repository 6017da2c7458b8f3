// SPDX-License-Identifier: MIT
// Fuzz target: the TCP stream reassembler fed arbitrary bytes in arbitrary chunks, checked
// against a one-loop model of docs/protocol.md's framing.
//
// Input: byte 0 = mode (bit 0: recv-style writable()+commit() instead of append(); bit 1: the
// smallest capacity, 2 x 4096; bits 2..5: how many chunk-size bytes follow, 0 = one chunk);
// then the chunk sizes (b + 1, or (b & 0x7f) * 64 + 1 when b >= 0x80), used in turn; then the
// stream.
#include <sanitizer/asan_interface.h>

#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "libhft/protocol/codec.h"
#include "libhft/protocol/reassembler.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace hft::protocol;
using Result = StreamReassembler::Result;

// What the spec says the stream holds: whole frames, then the end or a malformed frame.
struct Model {
  struct Frame {
    std::size_t offset;
    std::size_t length;
  };
  std::vector<Frame> frames;
  std::optional<FrameError> malformed; // the stream breaks after the last frame
  std::size_t malformedAt = 0;         // offset of the broken frame
  std::size_t detectable = 0;          // bytes from malformedAt needed to see it is broken
};

Model model(std::span<const std::byte> s) {
  Model m;
  std::size_t p = 0;
  while (s.size() - p >= 2) {
    std::uint16_t length;
    std::memcpy(&length, s.data() + p, sizeof(length));
    if (length < kHeaderSize || length > kMaxFrameSize) {
      m.malformed = length < kHeaderSize ? FrameError::TooShort : FrameError::TooLong;
      m.malformedAt = p;
      m.detectable = 2;
      return m;
    }
    if (s.size() - p < length)
      return m;
    if (const FrameError e = checkFrame(s.subspan(p, length)); e != FrameError::None) {
      m.malformed = e;
      m.malformedAt = p;
      m.detectable = length;
      return m;
    }
    m.frames.push_back({p, length});
    p += length;
  }
  return m;
}

std::size_t chunkSize(std::uint8_t b) {
  return b < 0x80 ? std::size_t{b} + 1 : std::size_t{b & 0x7fU} * 64 + 1;
}

// Feeds the whole stream once; returns after the end of the stream or a Malformed result.
void feedStream(StreamReassembler& r, std::size_t capacity, bool recvStyle,
                std::span<const std::uint8_t> sizes, std::span<const std::byte> stream,
                const Model& m, std::byte* base) {
  FUZZ_CHECK(r.buffered() == 0);
  std::size_t appended = 0; // stream bytes handed to the reassembler
  std::size_t consumed = 0; // stream bytes returned as frames
  std::size_t nextFrame = 0;
  std::size_t chunk = 0;
  while (appended < stream.size()) {
    std::size_t n = sizes.empty() ? stream.size() : chunkSize(sizes[chunk++ % sizes.size()]);
    n = std::min(n, stream.size() - appended);
    const std::byte* tail = nullptr; // one past the last byte handed over, when known
    if (recvStyle) {
      ASAN_UNPOISON_MEMORY_REGION(base, capacity);
      const std::span<std::byte> w = r.writable();
      // Every frame was consumed (we drained until NeedMore): a whole frame must fit.
      FUZZ_CHECK(w.size() >= kMaxFrameSize);
      FUZZ_CHECK(w.data() >= base && w.data() + w.size() == base + capacity);
      n = std::min(n, w.size());
      std::memcpy(w.data(), stream.data() + appended, n);
      r.commit(n);
      tail = w.data() + n;
      // Bytes not yet received: reading them is a bug ASan now reports.
      ASAN_POISON_MEMORY_REGION(tail, static_cast<std::size_t>(base + capacity - tail));
    } else {
      const bool fits = r.buffered() + n <= capacity;
      const bool ok = r.append(stream.subspan(appended, n));
      FUZZ_CHECK(ok == fits);
      if (!ok)
        return; // a caller would have to drop the connection; nothing more to check
    }
    appended += n;
    FUZZ_CHECK(r.buffered() == appended - consumed);
    FUZZ_CHECK(r.buffered() <= capacity);

    for (;;) {
      FrameView view;
      FrameError error = FrameError::None;
      const Result result = r.next(view, error);
      if (result == Result::Frame) {
        FUZZ_CHECK(error == FrameError::None);
        FUZZ_CHECK(nextFrame < m.frames.size());
        const Model::Frame& want = m.frames[nextFrame++];
        FUZZ_CHECK(want.offset == consumed);
        FUZZ_CHECK(view.length == want.length);
        FUZZ_CHECK(std::memcmp(view.data, stream.data() + want.offset, want.length) == 0);
        FUZZ_CHECK(checkFrame({view.data, view.length}) == FrameError::None);
        Header h;
        std::memcpy(&h, view.data, sizeof(h));
        FUZZ_CHECK(view.type == h.msgType && view.length == h.msgLength);
        if (tail != nullptr)
          FUZZ_CHECK(view.data >= base && view.data + view.length <= tail);
        consumed += view.length;
        FUZZ_CHECK(r.buffered() == appended - consumed);
        continue;
      }
      if (result == Result::NeedMore) {
        // The model agrees that the next event needs bytes not yet handed over.
        if (nextFrame < m.frames.size())
          FUZZ_CHECK(m.frames[nextFrame].offset == consumed &&
                     consumed + m.frames[nextFrame].length > appended);
        else if (m.malformed)
          FUZZ_CHECK(m.malformedAt == consumed && consumed + m.detectable > appended);
        break;
      }
      FUZZ_CHECK(result == Result::Malformed);
      FUZZ_CHECK(m.malformed && *m.malformed == error);
      FUZZ_CHECK(nextFrame == m.frames.size() && m.malformedAt == consumed);
      FUZZ_CHECK(consumed + m.detectable <= appended);
      // Sticky: asking again, even with more bytes, gives the same verdict until reset().
      for (int again = 0; again < 2; ++again) {
        FrameError e2 = FrameError::None;
        FUZZ_CHECK(r.next(view, e2) == Result::Malformed && e2 == error);
        if (!recvStyle && appended < stream.size() && r.buffered() + 1 <= capacity) {
          FUZZ_CHECK(r.append(stream.subspan(appended, 1)));
          ++appended;
        }
      }
      FUZZ_CHECK(r.buffered() == appended - consumed);
      return;
    }
  }
  FUZZ_CHECK(nextFrame == m.frames.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::uint8_t mode = data[0];
  const bool recvStyle = (mode & 1) != 0;
  const std::size_t capacity = (mode & 2) != 0 ? 2 * kMaxFrameSize : 64 * 1024;
  std::size_t k = (mode >> 2) & 0xf;
  k = std::min(k, size - 1);
  const std::span<const std::uint8_t> sizes(data + 1, k);
  std::vector<std::byte> stream(size - 1 - k);
  if (!stream.empty())
    std::memcpy(stream.data(), data + 1 + k, stream.size());
  const Model m = model(stream);

  StreamReassembler r(capacity);
  // A fresh reassembler's free space is the whole buffer: that gives its start.
  std::byte* base = r.writable().data();
  feedStream(r, capacity, recvStyle, sizes, stream, m, base);
  // reset() starts a new connection: the same stream gives the same frames again.
  ASAN_UNPOISON_MEMORY_REGION(base, capacity);
  r.reset();
  FUZZ_CHECK(r.buffered() == 0);
  FrameView view;
  FrameError error = FrameError::None;
  FUZZ_CHECK(r.next(view, error) == Result::NeedMore);
  feedStream(r, capacity, recvStyle, sizes, stream, m, base);
  ASAN_UNPOISON_MEMORY_REGION(base, capacity);
  return 0;
}
