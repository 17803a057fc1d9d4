#include "worker/wsgi_types.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace wsgid {
namespace {

// --- helpers
// -------------------------------------------------------------------------

// A str as latin-1 bytes (PEP 3333 "native strings"); false with
// TypeError/ValueError.
bool Latin1(PyObject* obj, const char* what, std::string* out) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what,
                 Py_TYPE(obj)->tp_name);
    return false;
  }
  if (PyUnicode_IS_COMPACT_ASCII(obj)) {
    out->assign(reinterpret_cast<const char*>(PyUnicode_DATA(obj)),
                static_cast<size_t>(PyUnicode_GET_LENGTH(obj)));
    return true;
  }
  PyObject* bytes = PyUnicode_AsLatin1String(obj);
  if (bytes == nullptr) return false;
  out->assign(PyBytes_AS_STRING(bytes),
              static_cast<size_t>(PyBytes_GET_SIZE(bytes)));
  Py_DECREF(bytes);
  return true;
}

PyObject* RaiseDetached() {
  PyErr_SetString(PyExc_RuntimeError,
                  "the request this object belonged to has finished");
  return nullptr;
}

// --- start_response
// ------------------------------------------------------------------

struct StartResponseObject {
  PyObject_HEAD RequestContext* ctx;
  vectorcallfunc vectorcall;
};

// The write() callable start_response returns.
struct WriterObject {
  PyObject_HEAD RequestContext* ctx;
};

PyTypeObject kWriterType = {};  // filled in by InitWsgiTypes

// A per-thread object of `type` for this request: the one from the previous
// request when nobody else kept a reference to it (saving an allocation per
// request), else a new one. Returns a new reference; the cache keeps its own.
template <typename T>
T* Reuse(PyObject** cache, PyTypeObject* type) {
  if (*cache == nullptr || Py_REFCNT(*cache) != 1) {
    Py_XDECREF(*cache);
    *cache = reinterpret_cast<PyObject*>(PyObject_New(T, type));
    if (*cache == nullptr) return nullptr;
  }
  Py_INCREF(*cache);
  return reinterpret_cast<T*>(*cache);
}

thread_local PyObject* t_start_response = nullptr;
thread_local PyObject* t_writer = nullptr;
thread_local PyObject* t_input = nullptr;

// The exc_info argument of a start_response call (Py_None when absent), or
// nullptr with TypeError for a call that fits no form of
// start_response(status, headers, exc_info=None).
PyObject* StartResponseExcInfo(PyObject* const* args, Py_ssize_t nargs,
                               PyObject* kwnames) {
  if (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) == 1 && nargs == 2 &&
      PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                       "exc_info") == 0)
    return args[2];
  if ((kwnames != nullptr && PyTuple_GET_SIZE(kwnames) > 0) || nargs < 2 ||
      nargs > 3) {
    PyErr_SetString(PyExc_TypeError,
                    "start_response(status, headers, exc_info=None)");
    return nullptr;
  }
  return nargs == 3 ? args[2] : Py_None;
}

// PEP 3333 on a call after the first: with exc_info once the head is out, it
// is too late to change the response and the app's exception is raised
// again; without exc_info, a second call is an error. False with the
// exception set.
bool MayStartResponse(const RequestContext* ctx, PyObject* exc_info) {
  if (exc_info == Py_None) {
    if (!ctx->head_set) return true;
    PyErr_SetString(PyExc_AssertionError,
                    "start_response called a second time without exc_info");
    return false;
  }
  if (!ctx->response->head_sent()) return true;
  if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
    PyErr_SetString(PyExc_TypeError,
                    "exc_info must be a (type, value, traceback) tuple");
    return false;
  }
  PyObject* type = PyTuple_GET_ITEM(exc_info, 0);
  PyObject* value = PyTuple_GET_ITEM(exc_info, 1);
  PyObject* tb = PyTuple_GET_ITEM(exc_info, 2);
  if (tb == Py_None) tb = nullptr;
  Py_INCREF(type);
  Py_INCREF(value);
  Py_XINCREF(tb);
  PyErr_Restore(type, value, tb);
  return false;
}

// The response headers, a list of (name, value) str tuples, as latin-1
// pairs. False with TypeError (or the encoding's error) set.
bool HeaderFields(PyObject* headers,
                  std::vector<std::pair<std::string, std::string>>* fields) {
  if (!PyList_Check(headers)) {
    PyErr_Format(PyExc_TypeError, "headers must be a list, not %.100s",
                 Py_TYPE(headers)->tp_name);
    return false;
  }
  fields->reserve(static_cast<size_t>(PyList_GET_SIZE(headers)));
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(headers); ++i) {
    PyObject* item = PyList_GET_ITEM(headers, i);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_SetString(PyExc_TypeError,
                      "each header must be a (name, value) tuple");
      return false;
    }
    std::string name, value;
    if (!Latin1(PyTuple_GET_ITEM(item, 0), "header name", &name) ||
        !Latin1(PyTuple_GET_ITEM(item, 1), "header value", &value))
      return false;
    fields->emplace_back(std::move(name), std::move(value));
  }
  return true;
}

PyObject* StartResponseCall(PyObject* self, PyObject* const* args,
                            size_t nargsf, PyObject* kwnames) {
  RequestContext* ctx = reinterpret_cast<StartResponseObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  PyObject* exc_info =
      StartResponseExcInfo(args, PyVectorcall_NARGS(nargsf), kwnames);
  if (exc_info == nullptr || !MayStartResponse(ctx, exc_info)) return nullptr;
  std::string status;
  if (!Latin1(args[0], "status", &status)) return nullptr;
  std::vector<std::pair<std::string, std::string>> fields;
  if (!HeaderFields(args[1], &fields)) return nullptr;
  if (Status s = ctx->response->SetHead(status, std::move(fields)); !s.ok()) {
    PyErr_SetString(PyExc_ValueError, s.message().c_str());
    return nullptr;
  }
  ctx->head_set = true;
  WriterObject* writer = Reuse<WriterObject>(&t_writer, &kWriterType);
  if (writer == nullptr) return nullptr;
  writer->ctx = ctx;
  ctx->writer = reinterpret_cast<PyObject*>(writer);
  return reinterpret_cast<PyObject*>(writer);
}

PyObject* WriteCallable(PyObject* self, PyObject* args, PyObject* kwargs) {
  RequestContext* ctx = reinterpret_cast<WriterObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  PyObject* data = nullptr;
  if (kwargs != nullptr || !PyArg_UnpackTuple(args, "write", 1, 1, &data)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "write(data)");
    return nullptr;
  }
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s",
                 Py_TYPE(data)->tp_name);
    return nullptr;
  }
  if (ctx->client_gone) {
    PyErr_SetString(PyExc_OSError, "client disconnected");
    return nullptr;
  }
  ctx->response->Append(std::string_view(
      PyBytes_AS_STRING(data), static_cast<size_t>(PyBytes_GET_SIZE(data))));
  Status s;
  Py_BEGIN_ALLOW_THREADS s = ctx->response->Flush();
  Py_END_ALLOW_THREADS if (!s.ok()) {
    ctx->client_gone = true;
    PyErr_SetString(PyExc_OSError, s.message().c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyTypeObject kStartResponseType = {};  // filled in by InitWsgiTypes

// --- wsgi.input
// ----------------------------------------------------------------------

struct InputObject {
  PyObject_HEAD RequestContext* ctx;
};

// Ensures decoded bytes are available; false at the end of the body; -1 on
// error (set).
int InputFill(RequestContext* ctx) {
  RequestBody* body = ctx->body;
  if (!body->Peek().empty()) return 1;
  bool ok;
  Py_BEGIN_ALLOW_THREADS ok = body->Fill();
  Py_END_ALLOW_THREADS if (ok) return 1;
  if (body->failed()) {
    PyErr_Format(PyExc_OSError, "request body: %s", body->error().c_str());
    return -1;
  }
  return 0;
}

// The optional size/hint argument of read(), readline(), readlines(): -1 when
// absent or None. False with a Python error set.
bool OptionalSize(PyObject* const* args, Py_ssize_t nargs, const char* usage,
                  Py_ssize_t* size) {
  *size = -1;
  if (nargs > 1) {
    PyErr_SetString(PyExc_TypeError, usage);
    return false;
  }
  if (nargs == 1 && args[0] != Py_None) {
    *size = PyLong_AsSsize_t(args[0]);
    if (*size == -1 && PyErr_Occurred()) return false;
  }
  return true;
}

// Reads up to `size` bytes (all when negative), stopping after a newline when
// `line` is set: read() and readline() in one loop.
PyObject* ReadUpTo(RequestContext* ctx, Py_ssize_t size, bool line) {
  // read() of a body whose length is known goes straight into the bytes
  // object it returns: one copy from the connection's buffer, no growing
  // string in between. Not readline() (one line of a large body would
  // allocate the whole rest), nor beyond kMaxPrealloc: a Content-Length the
  // client never sends costs at most that much up front.
  constexpr int64_t kMaxPrealloc = 16 << 20;
  int64_t known = line ? -1 : ctx->body->Remaining();
  if (size >= 0 && known > size) known = size;
  if (known >= 0 && known <= kMaxPrealloc) {
    Py_ssize_t want = static_cast<Py_ssize_t>(known);
    PyObject* bytes = PyBytes_FromStringAndSize(nullptr, want);
    if (bytes == nullptr) return nullptr;
    char* dst = PyBytes_AS_STRING(bytes);
    Py_ssize_t got = 0;
    while (got < want) {
      int r = InputFill(ctx);
      if (r < 0) {
        Py_DECREF(bytes);
        return nullptr;
      }
      if (r == 0) break;
      std::string_view avail = ctx->body->Peek();
      size_t take = std::min(avail.size(), static_cast<size_t>(want - got));
      std::memcpy(dst + got, avail.data(), take);
      ctx->body->Consume(take);
      got += static_cast<Py_ssize_t>(take);
    }
    if (got < want && _PyBytes_Resize(&bytes, got) < 0) return nullptr;
    return bytes;
  }
  std::string out;
  while (size < 0 || static_cast<Py_ssize_t>(out.size()) < size) {
    int r = InputFill(ctx);
    if (r < 0) return nullptr;
    if (r == 0) break;
    std::string_view avail = ctx->body->Peek();
    size_t limit = avail.size();
    if (size >= 0)
      limit = std::min(limit, static_cast<size_t>(size) - out.size());
    size_t nl =
        line ? avail.substr(0, limit).find('\n') : std::string_view::npos;
    size_t take = nl == std::string_view::npos ? limit : nl + 1;
    out.append(avail.data(), take);
    ctx->body->Consume(take);
    if (nl != std::string_view::npos) break;
  }
  return PyBytes_FromStringAndSize(out.data(),
                                   static_cast<Py_ssize_t>(out.size()));
}

PyObject* ReadLine(RequestContext* ctx, Py_ssize_t size) {
  return ReadUpTo(ctx, size, /*line=*/true);
}

PyObject* InputRead(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  RequestContext* ctx = reinterpret_cast<InputObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  Py_ssize_t size;
  if (!OptionalSize(args, nargs, "read([size])", &size)) return nullptr;
  return ReadUpTo(ctx, size, /*line=*/false);
}

PyObject* InputReadLine(PyObject* self, PyObject* const* args,
                        Py_ssize_t nargs) {
  RequestContext* ctx = reinterpret_cast<InputObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  Py_ssize_t size;
  if (!OptionalSize(args, nargs, "readline([size])", &size)) return nullptr;
  return ReadLine(ctx, size);
}

PyObject* InputReadLines(PyObject* self, PyObject* const* args,
                         Py_ssize_t nargs) {
  RequestContext* ctx = reinterpret_cast<InputObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  Py_ssize_t hint;
  if (!OptionalSize(args, nargs, "readlines([hint])", &hint)) return nullptr;
  PyObject* lines = PyList_New(0);
  Py_ssize_t total = 0;
  while (true) {
    PyObject* line = ReadLine(ctx, -1);
    if (line == nullptr) {
      Py_DECREF(lines);
      return nullptr;
    }
    if (PyBytes_GET_SIZE(line) == 0) {
      Py_DECREF(line);
      break;
    }
    total += PyBytes_GET_SIZE(line);
    PyList_Append(lines, line);
    Py_DECREF(line);
    if (hint > 0 && total >= hint) break;
  }
  return lines;
}

PyObject* InputIterNext(PyObject* self) {
  RequestContext* ctx = reinterpret_cast<InputObject*>(self)->ctx;
  if (ctx == nullptr) return RaiseDetached();
  PyObject* line = ReadLine(ctx, -1);
  if (line != nullptr && PyBytes_GET_SIZE(line) == 0) {
    Py_DECREF(line);
    return nullptr;  // StopIteration
  }
  return line;
}

PyMethodDef kInputMethods[] = {
    {"read",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(InputRead)),
     METH_FASTCALL, "read([size]) -> bytes"},
    {"readline",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(InputReadLine)),
     METH_FASTCALL, "readline([size]) -> bytes"},
    {"readlines",
     reinterpret_cast<PyCFunction>(
         reinterpret_cast<void (*)()>(InputReadLines)),
     METH_FASTCALL, "readlines([hint]) -> list of bytes"},
    {nullptr, nullptr, 0, nullptr}};

PyTypeObject kInputType = {};  // filled in by InitWsgiTypes

// --- wsgi.file_wrapper
// ---------------------------------------------------------------

struct FileWrapperObject {
  PyObject_HEAD PyObject* filelike;
  Py_ssize_t blksize;
};

int FileWrapperInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  auto* fw = reinterpret_cast<FileWrapperObject*>(self);
  static const char* kwlist[] = {"filelike", "block_size", nullptr};
  PyObject* filelike = nullptr;
  Py_ssize_t blksize = 8192;
  if (!PyArg_ParseTupleAndKeywords(
          args, kwargs, "O|n", const_cast<char**>(kwlist), &filelike, &blksize))
    return -1;
  Py_INCREF(filelike);
  Py_XSETREF(fw->filelike, filelike);
  fw->blksize = blksize > 0 ? blksize : 8192;
  return 0;
}

void FileWrapperDealloc(PyObject* self) {
  Py_XDECREF(reinterpret_cast<FileWrapperObject*>(self)->filelike);
  Py_TYPE(self)->tp_free(self);
}

PyObject* FileWrapperNext(PyObject* self) {
  auto* fw = reinterpret_cast<FileWrapperObject*>(self);
  PyObject* data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
  if (data == nullptr) return nullptr;
  if (!PyBytes_Check(data) || PyBytes_GET_SIZE(data) == 0) {
    if (!PyBytes_Check(data))
      PyErr_SetString(PyExc_TypeError,
                      "file_wrapper: read() must return bytes");
    Py_DECREF(data);
    return nullptr;
  }
  return data;
}

PyObject* FileWrapperClose(PyObject* self, PyObject*) {
  auto* fw = reinterpret_cast<FileWrapperObject*>(self);
  if (PyObject_HasAttrString(fw->filelike, "close")) {
    PyObject* r = PyObject_CallMethod(fw->filelike, "close", nullptr);
    if (r == nullptr) return nullptr;
    Py_DECREF(r);
  }
  Py_RETURN_NONE;
}

PyMethodDef kFileWrapperMethods[] = {
    {"close", FileWrapperClose, METH_NOARGS, "Closes the wrapped file."},
    {nullptr, nullptr, 0, nullptr}};

PyTypeObject kFileWrapperType = {};  // filled in by InitWsgiTypes

}  // namespace

bool InitWsgiTypes() {
  for (PyTypeObject* type :
       {&kStartResponseType, &kWriterType, &kInputType, &kFileWrapperType})
    Py_SET_REFCNT(type, 1);  // static types are never freed

  kWriterType.tp_name = "wsgid.Write";
  kWriterType.tp_basicsize = sizeof(WriterObject);
  kWriterType.tp_flags = Py_TPFLAGS_DEFAULT;
  kWriterType.tp_call = WriteCallable;
  kWriterType.tp_doc = "write(data): sends body bytes at once (PEP 3333)";
  kStartResponseType.tp_name = "wsgid.StartResponse";
  kStartResponseType.tp_basicsize = sizeof(StartResponseObject);
  kStartResponseType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
  kStartResponseType.tp_vectorcall_offset =
      offsetof(StartResponseObject, vectorcall);
  kStartResponseType.tp_call = PyVectorcall_Call;
  kStartResponseType.tp_doc = "start_response(status, headers, exc_info=None)";

  kInputType.tp_name = "wsgid.Input";
  kInputType.tp_basicsize = sizeof(InputObject);
  kInputType.tp_flags = Py_TPFLAGS_DEFAULT;
  kInputType.tp_methods = kInputMethods;
  kInputType.tp_iter = PyObject_SelfIter;
  kInputType.tp_iternext = InputIterNext;
  kInputType.tp_doc = "wsgi.input: the request body, streamed";

  kFileWrapperType.tp_name = "wsgid.FileWrapper";
  kFileWrapperType.tp_basicsize = sizeof(FileWrapperObject);
  kFileWrapperType.tp_flags = Py_TPFLAGS_DEFAULT;
  kFileWrapperType.tp_new = PyType_GenericNew;
  kFileWrapperType.tp_init = FileWrapperInit;
  kFileWrapperType.tp_dealloc = FileWrapperDealloc;
  kFileWrapperType.tp_iter = PyObject_SelfIter;
  kFileWrapperType.tp_iternext = FileWrapperNext;
  kFileWrapperType.tp_methods = kFileWrapperMethods;
  kFileWrapperType.tp_doc = "wsgi.file_wrapper(filelike, block_size=8192)";

  return PyType_Ready(&kStartResponseType) == 0 &&
         PyType_Ready(&kWriterType) == 0 && PyType_Ready(&kInputType) == 0 &&
         PyType_Ready(&kFileWrapperType) == 0;
}

PyObject* NewStartResponse(RequestContext* ctx) {
  auto* sr = Reuse<StartResponseObject>(&t_start_response, &kStartResponseType);
  if (sr == nullptr) return nullptr;
  sr->ctx = ctx;
  sr->vectorcall = StartResponseCall;
  return reinterpret_cast<PyObject*>(sr);
}

PyObject* NewInputStream(RequestContext* ctx) {
  auto* in = Reuse<InputObject>(&t_input, &kInputType);
  if (in == nullptr) return nullptr;
  in->ctx = ctx;
  return reinterpret_cast<PyObject*>(in);
}

void DetachContext(RequestContext* ctx, PyObject* start_response,
                   PyObject* input) {
  if (start_response)
    reinterpret_cast<StartResponseObject*>(start_response)->ctx = nullptr;
  if (input) reinterpret_cast<InputObject*>(input)->ctx = nullptr;
  if (ctx->writer) reinterpret_cast<WriterObject*>(ctx->writer)->ctx = nullptr;
}

PyObject* FileWrapperType() {
  return reinterpret_cast<PyObject*>(&kFileWrapperType);
}

bool FileWrapperFd(PyObject* result, int* fd, int64_t* offset, int64_t* size) {
  if (Py_TYPE(result) != &kFileWrapperType) return false;
  auto* fw = reinterpret_cast<FileWrapperObject*>(result);
  PyObject* fileno = PyObject_CallMethod(fw->filelike, "fileno", nullptr);
  if (fileno == nullptr) {
    PyErr_Clear();
    return false;
  }
  long n = PyLong_AsLong(fileno);
  Py_DECREF(fileno);
  if (n < 0) {
    PyErr_Clear();
    return false;
  }
  // Buffered Python files may have read ahead: flush them and take the logical
  // position.
  PyObject* pos = PyObject_CallMethod(fw->filelike, "tell", nullptr);
  if (pos == nullptr) {
    PyErr_Clear();
    return false;
  }
  long long p = PyLong_AsLongLong(pos);
  Py_DECREF(pos);
  struct stat st;
  if (p < 0 || ::fstat(static_cast<int>(n), &st) != 0 || !S_ISREG(st.st_mode)) {
    PyErr_Clear();
    return false;
  }
  *fd = static_cast<int>(n);
  *offset = p;
  *size = st.st_size;
  return true;
}

}  // namespace wsgid
