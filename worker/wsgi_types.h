// The Python objects a WSGI request sees, written against the CPython C API
// because they sit on the hot path: start_response (and the write() it
// returns), wsgi.input and wsgi.file_wrapper.
//
// REQUIRES: the GIL for every function here. A RequestContext lives on the
// serving thread's stack for one request; objects the app keeps afterwards are
// detached from it (DetachContext) and raise if used later.
#pragma once

#include <Python.h>

#include <string>
#include <vector>

#include "worker/connection.h"
#include "worker/http_parser.h"
#include "worker/request_body.h"
#include "worker/response.h"

namespace wsgid {

struct RequestContext {
  Connection* conn = nullptr;
  RequestBody* body = nullptr;
  Response* response = nullptr;
  bool head_set = false;       // start_response was called
  bool client_gone = false;    // a write failed: stop producing the response
  PyObject* writer = nullptr;  // the write() callable handed out (borrowed)
  // The access log's {name}e atoms, read from the environ after the app ran.
  std::vector<std::string> environ_values;
};

// Registers the types; call once after the interpreter starts.
bool InitWsgiTypes();

// A new start_response callable bound to ctx.
PyObject* NewStartResponse(RequestContext* ctx);
// A new wsgi.input stream reading ctx->body.
PyObject* NewInputStream(RequestContext* ctx);
// Clears the context pointer of the objects made for ctx (start_response, its
// write(), wsgi.input), so an app that kept them gets an error instead of a
// dangling request.
void DetachContext(RequestContext* ctx, PyObject* start_response,
                   PyObject* input);

// The wsgi.file_wrapper type object (a borrowed reference).
PyObject* FileWrapperType();
// If `result` is a FileWrapper over a regular file with a descriptor, sets *fd
// and *offset (the file's current position) and returns true. Never raises.
bool FileWrapperFd(PyObject* result, int* fd, int64_t* offset, int64_t* size);

}  // namespace wsgid
