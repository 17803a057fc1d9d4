#include "worker/wsgi_result.h"

#include "worker/python_compat.h"
#include "worker/response.h"

namespace wsgid {
namespace {

// A wsgi.file_wrapper over a regular file: its rest goes out with sendfile.
void SendFileResult(int fd, int64_t offset, int64_t size, RequestContext* ctx,
                    RequestFailure* failure) {
  if (!ctx->response->has_head()) {
    failure->Set(
        "the application returned a file without calling start_response");
    return;
  }
  Status s;
  Py_BEGIN_ALLOW_THREADS s = ctx->response->SendFile(fd, offset, size - offset);
  Py_END_ALLOW_THREADS if (!s.ok()) ctx->client_gone = true;
}

// Appends one item of the result to the response, flushing when the buffer is
// full or the result `streams` (a generator's items go out as produced).
// Returns false when the response must stop: a failure or the client gone.
bool SendBodyItem(PyObject* item, bool streams, RequestContext* ctx,
                  RequestFailure* failure) {
  if (!PyBytes_Check(item)) {
    failure->Set(std::string("the application yielded ") +
                 Py_TYPE(item)->tp_name + ", not bytes");
    return false;
  }
  if (PyBytes_GET_SIZE(item) == 0) return true;
  Response* response = ctx->response;
  if (!response->has_head()) {
    failure->Set(
        "the application sent body data before calling start_response");
    return false;
  }
  response->Append(std::string_view(
      PyBytes_AS_STRING(item), static_cast<size_t>(PyBytes_GET_SIZE(item))));
  if (!response->ShouldFlush() && !streams) return true;
  Status s;
  Py_BEGIN_ALLOW_THREADS s = response->Flush();
  Py_END_ALLOW_THREADS if (s.ok()) return true;
  ctx->client_gone = true;
  return false;
}

// A list or tuple, walked directly. Its size is read again after every item:
// another thread may change a list while a flush has the GIL released, which
// is also why each item is held while it is sent.
void SendSequence(PyObject* sequence, RequestContext* ctx,
                  RequestFailure* failure) {
  for (Py_ssize_t i = 0;
       !ctx->client_gone && i < PySequence_Fast_GET_SIZE(sequence); ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(sequence, i);
    Py_INCREF(item);
    bool more = SendBodyItem(item, /*streams=*/false, ctx, failure);
    Py_DECREF(item);
    if (!more) return;
  }
}

// Any other iterable, through the iterator protocol.
void SendIterable(PyObject* iterable, RequestContext* ctx,
                  RequestFailure* failure) {
  PyObject* iterator = PyObject_GetIter(iterable);
  if (iterator == nullptr) {
    failure->SetFromPython();
    return;
  }
  while (!ctx->client_gone) {
    PyObject* item = PyIter_Next(iterator);
    if (item == nullptr) {
      if (PyErr_Occurred()) failure->SetFromPython();
      break;
    }
    bool more = SendBodyItem(item, /*streams=*/true, ctx, failure);
    Py_DECREF(item);
    if (!more) break;
  }
  Py_DECREF(iterator);
}

}  // namespace

void SendResult(PyObject* result, RequestContext* ctx,
                RequestFailure* failure) {
  int file_fd;
  int64_t offset, size;
  if (FileWrapperFd(result, &file_fd, &offset, &size))
    SendFileResult(file_fd, offset, size, ctx, failure);
  else if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
    SendSequence(result, ctx, failure);
  else
    SendIterable(result, ctx, failure);
}

// PEP 3333: close() is called whatever happened, also when the client went
// away. (Lists and tuples have none; looking it up would build an
// AttributeError.)
void CloseResult(PyObject* result, PyObject* close_key,
                 RequestFailure* failure) {
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return;
  PyObject* close = nullptr;
  if (LookupOptionalAttr(result, close_key, &close) < 0) PyErr_Clear();
  if (close == nullptr) return;
  PyObject* r = PyObject_CallNoArgs(close);
  Py_DECREF(close);
  if (r == nullptr)
    failure->SetFromPython();
  else
    Py_DECREF(r);
}

}  // namespace wsgid
