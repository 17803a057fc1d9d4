// Sending the app's result (PEP 3333): the steps after the app returned, with
// the GIL held, each releasing it only around a socket write. A failed write
// marks the client gone, which stops the response without being an app
// failure; everything else that goes wrong is the request's RequestFailure.
#pragma once

#include <Python.h>

#include <string>
#include <utility>

#include "worker/python_app.h"
#include "worker/wsgi_types.h"

namespace wsgid {

// Why a request failed, for the error log. The first failure is the cause;
// later ones (close() raising after the body failed) are its consequences.
class RequestFailure {
 public:
  bool failed() const { return failed_; }
  const std::string& message() const { return message_; }
  void Set(std::string message) {
    if (failed_) return;
    failed_ = true;
    message_ = std::move(message);
  }
  // The pending Python exception, which is cleared even when it is not the
  // first failure. REQUIRES: the GIL.
  void SetFromPython() { Set(FormatPythonError()); }

 private:
  bool failed_ = false;
  std::string message_;  // empty (no allocation) while the request is fine
};

// Sends `result`: a wsgi.file_wrapper over a regular file with sendfile, a
// list or tuple walked directly, anything else through the iterator protocol
// (each item flushed as produced). REQUIRES: the GIL.
void SendResult(PyObject* result, RequestContext* ctx, RequestFailure* failure);

// Calls result.close() when it has one (`close_key` is the interned "close"),
// whatever happened before, also when the client went away. REQUIRES: the
// GIL.
void CloseResult(PyObject* result, PyObject* close_key,
                 RequestFailure* failure);

}  // namespace wsgid
