#include "worker/request_loop.h"

#include <cerrno>

#include "common/clock.h"
#include "common/log.h"
#include "worker/request_handler.h"
#include "worker/response.h"

namespace wsgid {
namespace {

// Request bodies up to this size are received while the connection waits in
// epoll, before the app is called (see AwaitsBody).
constexpr int64_t kPrebufferBytes = int64_t{256} * 1024;

// This app thread's scoreboard entry (nullptr when running without a master).
thread_local ThreadSlot* t_thread_slot = nullptr;

// The head being served on this thread, reused so its buffers are allocated
// once per thread.
thread_local RequestHead t_head;

}  // namespace

RequestLoop::RequestLoop(const Config& config, RequestHandler* handler,
                         WorkerSlot* slot, ConnectionSet* connections,
                         const std::atomic<bool>* draining)
    : config_(config),
      limits_(HttpLimits::FromConfig(config)),
      preface_(config),
      handler_(handler),
      slot_(slot),
      connections_(connections),
      draining_(draining) {}

RequestLoop::~RequestLoop() = default;

bool RequestLoop::PassPreface(Connection* conn) {
  switch (preface_.Advance(conn, config_.io_timeout)) {
    case ConnectionPreface::Step::kReady:
      return true;
    case ConnectionPreface::Step::kWait:
      connections_->Park(conn, draining());
      return false;
    case ConnectionPreface::Step::kClose:
      connections_->Close(conn);
      return false;
  }
  return false;
}

void RequestLoop::BindThread(ThreadSlot* thread_slot) {
  t_thread_slot = thread_slot;
}

void RequestLoop::Serve(Connection* conn) {
  if (conn->stage != Connection::Stage::kHttp && !PassPreface(conn)) return;
  // After a response the next request has usually not arrived yet, so the
  // loop parks instead of trying a read that would fail.
  bool try_read = true;
  while (true) {
    if (!conn->Pending().empty()) {
      Step step = ServePending(conn);
      if (step == Step::kFinished) return;
      if (step == Step::kNextRequest) {
        // Read on only if the last read may have left bytes in the socket, or
        // the peer half-closed: edge-triggered parking would not report either
        // again.
        try_read = conn->read_full || conn->hangup;
        continue;
      }
      try_read = true;  // more bytes are on their way
    }
    if (!try_read) {
      connections_->Park(conn, draining());
      return;
    }
    ssize_t n = conn->ReadAvailable();
    if (n > 0) continue;
    if (n < 0 && errno == EAGAIN) {
      connections_->Park(conn, draining());
      return;
    }
    connections_->Close(conn);  // EOF or error; a partial request is abandoned
    return;
  }
}

RequestLoop::Step RequestLoop::ServePending(Connection* conn) {
  RequestHead& head = t_head;
  std::string_view pending = conn->Pending();
  size_t consumed = 0;
  HttpError error;
  ParseStatus status =
      ParseRequestHead(pending, limits_, &head, &consumed, &error);
  if (status == ParseStatus::kNeedMore) return Step::kReadMore;
  if (status == ParseStatus::kError) {
    Log(LogLevel::kDebug) << "bad request from " << conn->remote_addr << ": "
                          << error.reason;
    Response::WriteError(conn, error.status, error.reason,
                         config_.server_header, config_.io_timeout);
    connections_->LingerClose(conn);
    return Step::kFinished;
  }
  if (config_.limit_request_body >= 0 &&
      head.body_kind == RequestHead::BodyKind::kLength &&
      head.content_length > config_.limit_request_body) {
    conn->Consume(consumed);
    Response::WriteError(conn, 413, "request body too large",
                         config_.server_header, config_.io_timeout);
    connections_->LingerClose(conn);
    return Step::kFinished;
  }
  if (AwaitsBody(head, pending.size() - consumed)) {
    // The rest of a small body is on its way: wait for it in epoll, not in an
    // app thread (the head is parsed again once it is here).
    conn->awaiting_body.store(true, std::memory_order_relaxed);
    return Step::kReadMore;
  }
  conn->Consume(consumed);
  conn->awaiting_body.store(false, std::memory_order_relaxed);
  bool keep_alive = Dispatch(conn, &head,
                             head.keep_alive && !draining() &&
                                 !connections_->balance().ShedForBalance(conn));
  ++conn->requests;
  if (keep_alive) return Step::kNextRequest;
  connections_->LingerClose(conn);
  return Step::kFinished;
}

bool RequestLoop::AwaitsBody(const RequestHead& head, size_t buffered) const {
  // Worth it only while one thread would otherwise sit in poll() for the rest:
  // bodies up to kPrebufferBytes, whose client is not waiting for a 100
  // Continue (that is answered when the app reads) and has not hung up.
  return head.body_kind == RequestHead::BodyKind::kLength &&
         !head.expect_continue && head.content_length <= kPrebufferBytes &&
         static_cast<int64_t>(buffered) < head.content_length;
}

bool RequestLoop::Dispatch(Connection* conn, RequestHead* head,
                           bool keep_alive) {
  if (t_thread_slot != nullptr)
    Scoreboard::BeginRequest(t_thread_slot, MonotonicNs(), head->method,
                             head->path);
  RequestOutcome outcome = handler_->Handle(conn, head, keep_alive);
  if (t_thread_slot != nullptr)
    RecordRequest(*head, outcome.status, outcome.body_bytes,
                  outcome.app_exception);
  return outcome.keep_alive;
}

void RequestLoop::RecordRequest(const RequestHead& head, int status,
                                int64_t body_bytes, bool app_exception) {
  int64_t end = MonotonicNs();
  int64_t took_ns =
      end - t_thread_slot->request_start_ns.load(std::memory_order_relaxed);
  Scoreboard::EndRequest(t_thread_slot, end);
  auto relaxed = std::memory_order_relaxed;
  slot_->requests.fetch_add(1, relaxed);
  slot_->bytes_out.fetch_add(static_cast<uint64_t>(body_bytes), relaxed);
  if (app_exception) slot_->app_exceptions.fetch_add(1, relaxed);
  if (status != 0)
    slot_->responses[MethodIndex(head.method)][CodeIndex(status)].fetch_add(
        1, relaxed);
  slot_->latency[LatencyBucket(static_cast<double>(took_ns) / 1e9)].fetch_add(
      1, relaxed);
  slot_->latency_sum_us.fetch_add(static_cast<uint64_t>(took_ns / 1000),
                                  relaxed);
}

}  // namespace wsgid
