// ConnectionTable: every Connection of the worker, indexed by its fd.
//
// Slots are allocated in chunks of kChunkSize on first use and never freed
// while the table lives, so a thread holding a stale epoll event can always
// read the slot's generation word (Connection::word) to tell that the fd was
// closed or reused under it.
//
// Thread-safety: Find, Get and ForEach are safe from any thread (a chunk is
// published once with a compare-and-swap). The table hands out pointers; who
// may touch a Connection is the Connection's own ownership rule (its word).
// Ownership: the table owns the chunks and every Connection in them.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "worker/connection.h"

namespace wsgid {

class ConnectionTable {
 public:
  static constexpr int kChunkBits = 10;
  static constexpr int kChunkSize = 1 << kChunkBits;

  // Room for fds 0 .. max_fds (rounded up to whole chunks).
  explicit ConnectionTable(size_t max_fds);
  ~ConnectionTable();
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // The slot of `fd`, or nullptr when its chunk was never allocated (no
  // connection ever had that fd) or fd is beyond the capacity.
  Connection* Find(int fd) const {
    size_t c = static_cast<size_t>(fd) >> kChunkBits;
    if (c >= chunk_count_) return nullptr;
    Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    return chunk ? &chunk->conns[fd & (kChunkSize - 1)] : nullptr;
  }

  // The slot of `fd`, allocating its chunk on first use.
  // REQUIRES: 0 <= fd < capacity().
  Connection* Get(int fd);

  size_t capacity() const { return chunk_count_ * kChunkSize; }

  // Calls f(Connection*) for every slot of every allocated chunk, whatever its
  // state.
  template <typename F>
  void ForEach(F f) {
    for (size_t c = 0; c < chunk_count_; ++c) {
      Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (Connection& conn : chunk->conns) f(&conn);
    }
  }

 private:
  struct Chunk {
    Connection conns[kChunkSize];
  };

  size_t chunk_count_;
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
};

}  // namespace wsgid
