// Status and StatusOr: how errors cross module boundaries (no exceptions
// outside the pybind11 layer and HTTP handlers).
//
// A failed Status carries a code (what kind of failure, for callers to branch
// on) and a message (for people). The code decides the HTTP status of a
// control API answer and the exit code of a process through one table
// (common/status_codes.h); never match message text.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace wsgid {

enum class StatusCode {
  kOk,
  kInvalidArgument,   // a setting or value out of range, or unknown
  kMalformed,         // input that does not parse (JSON, a request body)
  kUnauthenticated,   // a missing or wrong credential
  kNotFound,          // no such thing (a worker id, a route)
  kMethodNotAllowed,  // the thing exists; not with this method
  kConflict,          // refused in the current state (a reload that failed)
  kUnavailable,       // the OS or a peer could not do it now (bind, spawn)
  kDeadlineExceeded,  // gave up waiting
  kAppLoad,           // the application could not be imported
  kRefused,           // the other side answered with an error
  kInternal,          // anything else
};

// The outcome of an operation: ok, or a code and a human-readable reason.
class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(StatusCode code, std::string message) {
    assert(code != StatusCode::kOk);
    return Status(code, std::move(message));
  }
  static Status InvalidArgument(std::string message) {
    return Error(StatusCode::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Error(StatusCode::kNotFound, std::move(message));
  }
  static Status Conflict(std::string message) {
    return Error(StatusCode::kConflict, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Error(StatusCode::kUnavailable, std::move(message));
  }
  static Status Internal(std::string message) {
    return Error(StatusCode::kInternal, std::move(message));
  }
  // An error built from errno: "what: strerror(errno)", code kUnavailable
  // (kNotFound for ENOENT, kInvalidArgument for EINVAL).
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The same failure with `prefix` before its message ("--ops-bind: ...").
  Status Prefixed(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + message_);
  }

 private:
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status)
      : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace wsgid
