// libFuzzer target: ChunkedDecoder fed in random pieces.
//
// The whole input is the bytes after a request head: a chunked body, possibly
// followed by a pipelined request. A hash of the input picks the trailer bound,
// the room the caller gives per call (max_out) and where the bytes are split,
// so the seeds stay plain chunked bodies. The input is decoded twice: at once
// with unlimited room (the reference), and piece by piece as the server does it
// (keep what was not consumed, append what arrives, drain the output when
// full). Checked:
// - each call: consumed <= its input, output <= max_out and <= consumed (the
//   output never exceeds the input), progress whenever there is input and room;
// - kNeedMore with room left means every byte was used;
// - the split changes nothing: same result, same bytes consumed in all, same
//   output, same error as the reference;
// - kDone comes once: afterwards the decoder stays done and consumes none of
//   the pipelined bytes (kError likewise stays, consuming nothing).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "worker/chunked_decoder.h"

namespace {

using wsgid::ChunkedDecoder;
using Result = ChunkedDecoder::Result;

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "chunked_decoder_fuzz: invariant violated: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  if (!(cond)) Violation(#cond)

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// xorshift64*: the split points.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

// One Decode call with the per-call checks.
Result Call(ChunkedDecoder* d, std::string_view in, std::string* out,
            size_t max_out, size_t* consumed) {
  size_t before = out->size();
  *consumed = std::numeric_limits<size_t>::max();
  Result r = d->Decode(in, out, max_out, consumed);
  size_t produced = out->size() - before;
  CHECK(*consumed <= in.size());
  CHECK(produced <= max_out);
  CHECK(produced <= *consumed);
  CHECK((r == Result::kDone) == d->done());
  CHECK((r == Result::kError) == !d->error().empty());
  if (r == Result::kNeedMore && produced < max_out)
    CHECK(*consumed == in.size());  // room left: nothing may stay behind
  return r;
}

// After kDone or kError: the state sticks and the rest is left alone.
void CheckFinal(ChunkedDecoder* d, Result r, std::string_view rest) {
  std::string out;
  size_t consumed = 0;
  std::string error = d->error();
  CHECK(Call(d, rest, &out, kUnlimited, &consumed) == r);
  CHECK(consumed == 0 && out.empty());
  CHECK(d->error() == error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t h = Fnv1a(input);
  static constexpr size_t kTrailerBounds[] = {8192, 0, 1, 16, 64};
  static constexpr size_t kRooms[] = {kUnlimited, 1, 2, 3, 7, 64, 4096};
  const size_t max_trailer = kTrailerBounds[h % 5];
  const size_t room = kRooms[(h >> 4) % 7];
  const size_t max_piece = 1 + (h >> 8) % 64;
  Rng rng{h | 1};

  // The reference: everything at once, unlimited room.
  ChunkedDecoder ref(max_trailer);
  std::string ref_out;
  size_t ref_consumed = 0;
  Result ref_result = Call(&ref, input, &ref_out, kUnlimited, &ref_consumed);
  if (ref_result == Result::kNeedMore) CHECK(ref_consumed == size);
  if (ref_result != Result::kNeedMore)
    CheckFinal(&ref, ref_result, input.substr(ref_consumed));

  // Piece by piece, as the server's reads deliver it.
  ChunkedDecoder dec(max_trailer);
  std::string out;
  std::string pending;  // received, not consumed yet
  size_t fed = 0;
  size_t total_consumed = 0;
  size_t c = 0;
  Result r = Call(&dec, {}, &out, room, &c);
  CHECK(r == Result::kNeedMore && c == 0);
  while (r == Result::kNeedMore && fed < size) {
    size_t piece = 1 + rng.Next() % max_piece;
    if (piece > size - fed) piece = size - fed;
    pending.append(input.substr(fed, piece));
    fed += piece;
    while (!pending.empty()) {
      size_t before = out.size();
      r = Call(&dec, pending, &out, room, &c);
      pending.erase(0, c);
      total_consumed += c;
      if (r != Result::kNeedMore) break;
      // Stuck with input and room left would hang the connection.
      CHECK(c > 0 || out.size() > before);
      if (out.size() - before < room) break;  // wants more input
      // Output full: the caller hands the body on and calls again.
    }
  }
  CHECK(r == ref_result);
  CHECK(total_consumed == ref_consumed);
  CHECK(out == ref_out);
  CHECK(dec.error() == ref.error());
  if (r != Result::kNeedMore) {
    // Exactly one kDone (or kError): what follows is not consumed.
    CheckFinal(&dec, r, input.substr(total_consumed));
  }
  return 0;
}
