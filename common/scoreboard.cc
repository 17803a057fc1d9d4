#include "common/scoreboard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wsgid {

int MethodIndex(std::string_view method) {
  for (int i = 0; i < kMethodCount - 1; ++i)
    if (method == kMethodLabels[i]) return i;
  return kMethodCount - 1;
}

int CodeIndex(int status) {
  for (int i = 0; i < kListedCodes; ++i)
    if (status == kStatusCodes[i]) return i;
  int cls = std::clamp(status / 100, 1, 5);
  return kListedCodes + cls - 1;
}

std::string CodeLabel(int index) {
  if (index < kListedCodes) return std::to_string(kStatusCodes[index]);
  return std::to_string(index - kListedCodes + 1) + "xx";
}

int LatencyBucket(double seconds) {
  for (int i = 0; i < kLatencyBuckets - 1; ++i)
    if (seconds <= kLatencyBounds[i]) return i;
  return kLatencyBuckets - 1;
}

Scoreboard::Scoreboard(Scoreboard&& other) noexcept {
  *this = std::move(other);
}

Scoreboard& Scoreboard::operator=(Scoreboard&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) ::munmap(map_, size_);
    fd_ = std::move(other.fd_);
    map_ = std::exchange(other.map_, nullptr);
    size_ = std::exchange(other.size_, 0);
    slots_ = std::exchange(other.slots_, 0);
  }
  return *this;
}

Scoreboard::~Scoreboard() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

StatusOr<Scoreboard> Scoreboard::Create(int slots) {
  Scoreboard board;
  board.fd_.reset(
      ::memfd_create("wsgid-scoreboard", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!board.fd_.valid()) return Status::FromErrno("memfd_create", errno);
  board.size_ = SizeFor(slots);
  if (::ftruncate(board.fd_.get(), static_cast<off_t>(board.size_)) < 0)
    return Status::FromErrno("ftruncate(scoreboard)", errno);
  if (::fcntl(board.fd_.get(), F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    return Status::FromErrno("sealing the scoreboard", errno);
  board.map_ = ::mmap(nullptr, board.size_, PROT_READ | PROT_WRITE, MAP_SHARED,
                      board.fd_.get(), 0);
  if (board.map_ == MAP_FAILED) {
    board.map_ = nullptr;
    return Status::FromErrno("mmap(scoreboard)", errno);
  }
  auto* header = static_cast<ScoreboardHeader*>(board.map_);
  header->magic = kScoreboardMagic;
  header->version = kScoreboardVersion;
  header->slots = static_cast<uint32_t>(slots);
  board.slots_ = slots;
  return board;
}

StatusOr<Scoreboard> Scoreboard::Attach(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return Status::FromErrno("scoreboard fd", errno);
  Scoreboard board;
  board.map_ = ::mmap(nullptr, static_cast<size_t>(st.st_size),
                      PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (board.map_ == MAP_FAILED) {
    board.map_ = nullptr;
    return Status::FromErrno("mmap(scoreboard)", errno);
  }
  board.size_ = static_cast<size_t>(st.st_size);
  board.fd_.reset(fd);
  auto* header = static_cast<ScoreboardHeader*>(board.map_);
  if (header->magic != kScoreboardMagic ||
      header->version != kScoreboardVersion ||
      SizeFor(static_cast<int>(header->slots)) > board.size_)
    return Status::Internal(
        "scoreboard layout mismatch (master and worker versions differ?)");
  board.slots_ = static_cast<int>(header->slots);
  return board;
}

void Scoreboard::Reset(int index, int64_t now_ns) {
  WorkerSlot* s = &slot(index);
  std::memset(static_cast<void*>(s), 0, sizeof *s);
  s->heartbeat_ns.store(now_ns, std::memory_order_relaxed);
}

void Scoreboard::BeginRequest(ThreadSlot* t, int64_t now_ns,
                              std::string_view method, std::string_view path) {
  uint32_t seq = t->seq.load(std::memory_order_relaxed);
  t->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  size_t m = std::min(method.size(), sizeof t->method - 1);
  if (m > 0) std::memcpy(t->method, method.data(), m);
  t->method[m] = '\0';
  size_t p = std::min(path.size(), sizeof t->path - 1);
  if (p > 0) std::memcpy(t->path, path.data(), p);
  t->path[p] = '\0';
  t->request_start_ns.store(now_ns, std::memory_order_relaxed);
  t->busy.store(1, std::memory_order_relaxed);
  t->seq.store(seq + 2, std::memory_order_release);
}

void Scoreboard::EndRequest(ThreadSlot* t, int64_t now_ns) {
  int64_t start = t->request_start_ns.load(std::memory_order_relaxed);
  t->busy.store(0, std::memory_order_relaxed);
  t->busy_ns.fetch_add(now_ns - start, std::memory_order_relaxed);
  t->requests.fetch_add(1, std::memory_order_relaxed);
}

ThreadActivity Scoreboard::Read(const ThreadSlot& t) {
  ThreadActivity a;
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint32_t before = t.seq.load(std::memory_order_acquire);
    if (before & 1) continue;
    char method[sizeof t.method];
    char path[sizeof t.path];
    std::memcpy(method, t.method, sizeof method);
    std::memcpy(path, t.path, sizeof path);
    a.busy = t.busy.load(std::memory_order_relaxed) != 0;
    a.request_start_ns = t.request_start_ns.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (t.seq.load(std::memory_order_relaxed) != before) continue;
    method[sizeof method - 1] = '\0';
    path[sizeof path - 1] = '\0';
    a.method = method;
    a.path = path;
    return a;
  }
  a.busy = t.busy.load(std::memory_order_relaxed) != 0;
  a.request_start_ns = t.request_start_ns.load(std::memory_order_relaxed);
  return a;
}

}  // namespace wsgid
