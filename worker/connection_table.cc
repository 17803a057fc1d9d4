#include "worker/connection_table.h"

namespace wsgid {

ConnectionTable::ConnectionTable(size_t max_fds)
    : chunk_count_(max_fds / kChunkSize + 1) {
  chunks_ = std::make_unique<std::atomic<Chunk*>[]>(chunk_count_);
  for (size_t i = 0; i < chunk_count_; ++i) chunks_[i].store(nullptr);
}

ConnectionTable::~ConnectionTable() {
  for (size_t i = 0; i < chunk_count_; ++i) delete chunks_[i].load();
}

Connection* ConnectionTable::Get(int fd) {
  size_t c = static_cast<size_t>(fd) >> kChunkBits;
  Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    // Two threads may race to allocate the same chunk: one wins, the other
    // drops its copy.
    auto* fresh = new Chunk();
    if (chunks_[c].compare_exchange_strong(chunk, fresh,
                                           std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete fresh;
    }
  }
  return &chunk->conns[fd & (kChunkSize - 1)];
}

}  // namespace wsgid
