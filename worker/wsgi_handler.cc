#include "worker/wsgi_handler.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/clock.h"
#include "common/listener.h"
#include "common/log.h"
#include "worker/python_app.h"
#include "worker/request_body.h"
#include "worker/response.h"
#include "worker/scheme_headers.h"
#include "worker/stdio_relay.h"
#include "worker/wsgi_result.h"
#include "worker/wsgi_types.h"

namespace wsgid {
namespace {

thread_local PyThreadState* t_thread_state = nullptr;

// Entries an environ has room for without a resize: the template's dozen,
// the request's dozen, and a browser's worth of headers.
constexpr Py_ssize_t kEnvironCapacity = 40;

PyObject* Latin1(std::string_view s) {
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()),
                                nullptr);
}

// Sets env[key] = value, stealing the value reference.
void SetItem(PyObject* env, const char* key, PyObject* value) {
  if (value == nullptr) {
    PyErr_Clear();
    return;
  }
  PyDict_SetItemString(env, key, value);
  Py_DECREF(value);
}

// Same with an interned key object (no key string built per request).
void SetItem(PyObject* env, PyObject* key, PyObject* value) {
  if (value == nullptr) {
    PyErr_Clear();
    return;
  }
  PyDict_SetItem(env, key, value);
  Py_DECREF(value);
}

// Headers most requests carry; their environ keys are made once.
constexpr const char* kCommonHeaders[] = {"host",
                                          "user-agent",
                                          "accept",
                                          "accept-encoding",
                                          "accept-language",
                                          "connection",
                                          "cookie",
                                          "referer",
                                          "cache-control",
                                          "origin",
                                          "authorization",
                                          "x-forwarded-for",
                                          "x-forwarded-proto",
                                          "x-forwarded-host",
                                          "x-real-ip",
                                          "x-request-id",
                                          "if-none-match",
                                          "if-modified-since",
                                          "pragma",
                                          "upgrade-insecure-requests",
                                          "dnt",
                                          "sec-fetch-mode",
                                          "sec-fetch-site",
                                          "sec-fetch-dest",
                                          "expect",
                                          "transfer-encoding"};

// HTTP_<NAME> for a header name, '-' as '_', upper-cased.
std::string EnvironKey(std::string_view name) {
  std::string key = "HTTP_";
  for (char c : name)
    key +=
        c == '-' ? '_' : (c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
  return key;
}

}  // namespace

WsgiHandler::WsgiHandler(const Config& config, PyObject* app,
                         const std::vector<int>& listen_fds)
    : config_(config),
      forwarded_allow_ips_(
          AddressAllowList::FromChecked(config.forwarded_allow_ips)),
      app_(app),
      interp_(PyInterpreterState_Get()) {
  for (int fd : listen_fds) {
    std::string address = DescribeSocket(fd);
    std::string name = address, port;
    if (address.rfind("unix:", 0) != 0) {
      size_t colon = address.rfind(':');
      name = address.substr(0, colon);
      port = address.substr(colon + 1);
      if (name.size() > 1 && name.front() == '[')
        name = name.substr(1, name.size() - 2);
    }
    server_addresses_.push_back({Latin1(name), Latin1(port)});
  }
}

Status WsgiHandler::Init() {
  AccessLogOptions log;
  log.path = config_.access_logfile;
  log.format = config_.access_logformat;
  log.log_format = CurrentLogFormat();
  log.stdout_fd = InheritedStdoutFd();
  if (!config_.disable_redirect_access_to_syslog) log.syslog = ErrorSyslog();
  if (Status s = access_log_.Open(std::move(log)); !s.ok()) return s;
  if (!InitWsgiTypes())
    return Status::Internal("cannot create WSGI types: " + FormatPythonError());
  // Sized for a whole environ: each request's copy keeps the template's table,
  // so adding the per-request keys never resizes (rehashes) the dict.
  PyObject* env = _PyDict_NewPresized(kEnvironCapacity);
  SetItem(env, "wsgi.version", Py_BuildValue("(ii)", 1, 0));
  SetItem(env, "wsgi.url_scheme", PyUnicode_FromString("http"));
  PyObject* stderr_stream = PySys_GetObject("stderr");  // borrowed
  Py_XINCREF(stderr_stream);
  SetItem(env, "wsgi.errors", stderr_stream);
  // True whenever this worker has, or may be given, more than one thread.
  SetItem(env, "wsgi.multithread", PyBool_FromLong(MaxThreads(config_) > 1));
  SetItem(env, "wsgi.multiprocess", PyBool_FromLong(config_.workers > 1));
  SetItem(env, "wsgi.run_once", PyBool_FromLong(0));
  SetItem(env, "wsgi.input_terminated", PyBool_FromLong(1));
  Py_INCREF(FileWrapperType());
  SetItem(env, "wsgi.file_wrapper", FileWrapperType());
  SetItem(env, "SERVER_SOFTWARE", PyUnicode_FromString("wsgid/" WSGID_VERSION));
  SetItem(env, "SCRIPT_NAME", Latin1(config_.root_path));
  environ_template_ = env;
  http_11_ = PyUnicode_InternFromString("HTTP/1.1");
  http_10_ = PyUnicode_InternFromString("HTTP/1.0");
  https_ = PyUnicode_InternFromString("https");
  wsgi_input_key_ = PyUnicode_InternFromString("wsgi.input");
  close_key_ = PyUnicode_InternFromString("close");
  for (const char* m :
       {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
    method_cache_.emplace_back(m, PyUnicode_InternFromString(m));
  for (const char* name : kCommonHeaders)
    header_keys_.emplace_back(
        name, PyUnicode_InternFromString(EnvironKey(name).c_str()));
  header_keys_.emplace_back("content-type",
                            PyUnicode_InternFromString("CONTENT_TYPE"));
  header_keys_.emplace_back("content-length",
                            PyUnicode_InternFromString("CONTENT_LENGTH"));
  for (const char* key :
       {"REQUEST_METHOD", "RAW_URI", "PATH_INFO", "QUERY_STRING",
        "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "SERVER_NAME",
        "SERVER_PORT", "wsgi.url_scheme"})
    keys_.push_back(PyUnicode_InternFromString(key));
  return Status::Ok();
}

void WsgiHandler::ThreadStart() { t_thread_state = PyThreadState_New(interp_); }

void WsgiHandler::ThreadStop(bool retired) {
  // At a stop the thread state is left to process exit: clearing it needs the
  // GIL, which a thread stuck in the app may hold. A retired thread is between
  // requests, so it can take the GIL and give its state back.
  if (retired && t_thread_state != nullptr) {
    PyEval_RestoreThread(t_thread_state);
    PyThreadState_Clear(t_thread_state);
    PyThreadState_DeleteCurrent();
  }
  t_thread_state = nullptr;
}

bool WsgiHandler::IsTrustedProxy(const Connection* conn) const {
  // A UNIX peer has no address: only "*" trusts it.
  return forwarded_allow_ips_.Allows(conn->is_unix ? std::string_view()
                                                   : conn->remote_addr);
}

PyObject* WsgiHandler::BuildEnviron(Connection* conn, const RequestHead& head) {
  PyObject* env = PyDict_Copy(environ_template_);
  if (env == nullptr) return nullptr;
  SetRequestLine(env, head);
  SetPeerAddress(env, conn);
  if (conn->tls != nullptr) SetTlsKeys(env, *conn->tls);
  bool trusted = IsTrustedProxy(conn);
  for (const HeaderField& h : head.headers) {
    if (!IsForwarderHeader(h.name, config_.forwarder_headers)) {
      AddHeader(env, h);
    } else if (trusted) {  // the proxy's SCRIPT_NAME, as the key itself
      std::string key(h.name);
      for (char& c : key)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      SetItem(env, key.c_str(), Latin1(h.value));
    } else if (config_.header_map == HeaderMap::kDangerous) {
      AddHeader(env, h);
    }
  }
  // As Gunicorn: the address the request came in on (the client's view is
  // HTTP_HOST, which PEP 3333's URL reconstruction reads first).
  const ServerAddress& server =
      server_addresses_[static_cast<size_t>(conn->listener)];
  Py_INCREF(server.name);
  SetItem(env, keys_[kServerName], server.name);
  Py_INCREF(server.port);
  SetItem(env, keys_[kServerPort], server.port);
  if (trusted) ApplyForwardedHeaders(env, head);
  return env;
}

void WsgiHandler::SetRequestLine(PyObject* env, const RequestHead& head) {
  PyObject* method = nullptr;
  for (const auto& [name, obj] : method_cache_) {
    if (head.method == name) {
      method = obj;
      Py_INCREF(method);
      break;
    }
  }
  SetItem(env, keys_[kRequestMethod], method ? method : Latin1(head.method));
  SetItem(env, keys_[kRawUri], Latin1(head.target));
  std::string path = PercentDecode(head.path);
  const std::string& root = config_.root_path;
  if (!root.empty() && path.compare(0, root.size(), root) == 0 &&
      (path.size() == root.size() || path[root.size()] == '/'))
    path.erase(0, root.size());
  SetItem(env, keys_[kPathInfo], Latin1(path));
  SetItem(env, keys_[kQueryString], Latin1(head.query));
  PyObject* protocol = head.version_minor >= 1 ? http_11_ : http_10_;
  Py_INCREF(protocol);
  SetItem(env, keys_[kServerProtocol], protocol);
}

void WsgiHandler::SetPeerAddress(PyObject* env, Connection* conn) {
  // The peer's address and port belong to the connection: made once for it.
  uint64_t generation =
      Connection::Generation(conn->word.load(std::memory_order_relaxed));
  if (conn->py_generation != generation || conn->py_remote_addr == nullptr) {
    Py_CLEAR(conn->py_remote_addr);
    Py_CLEAR(conn->py_remote_port);
    conn->py_remote_addr = Latin1(conn->remote_addr);
    if (!conn->is_unix) conn->py_remote_port = Latin1(conn->remote_port);
    if (PyErr_Occurred()) PyErr_Clear();
    conn->py_generation = generation;
  }
  if (conn->py_remote_addr != nullptr) {
    Py_INCREF(conn->py_remote_addr);
    SetItem(env, keys_[kRemoteAddr], conn->py_remote_addr);
  }
  if (conn->py_remote_port != nullptr) {
    Py_INCREF(conn->py_remote_port);
    SetItem(env, keys_[kRemotePort], conn->py_remote_port);
  }
}

void WsgiHandler::SetTlsKeys(PyObject* env, const TlsTransport& tls) {
  Py_INCREF(https_);
  SetItem(env, keys_[kWsgiUrlScheme], https_);
  // mod_ssl's names, which Django and Flask extensions already read.
  if (tls.client_subject().empty()) return;
  SetItem(env, "SSL_CLIENT_S_DN", Latin1(tls.client_subject()));
  SetItem(env, "SSL_CLIENT_I_DN", Latin1(tls.client_issuer()));
  SetItem(env, "SSL_CLIENT_VERIFY",
          PyUnicode_FromString(tls.client_verified() ? "SUCCESS" : "FAILED"));
}

void WsgiHandler::AddHeader(PyObject* env, const HeaderField& header) {
  PyObject* key = nullptr;
  bool framing = false;  // CONTENT_TYPE / CONTENT_LENGTH: the first one counts
  for (const auto& [name, obj] : header_keys_) {
    if (EqualsIgnoreCase(header.name, name)) {
      key = obj;
      Py_INCREF(key);
      framing = name == "content-type" || name == "content-length";
      break;
    }
  }
  if (key == nullptr)
    key = PyUnicode_FromString(EnvironKey(header.name).c_str());
  PyObject* value = Latin1(header.value);
  if (key == nullptr || value == nullptr) {
    PyErr_Clear();
    Py_XDECREF(key);
    Py_XDECREF(value);
    return;
  }
  PyObject* existing = PyDict_GetItemWithError(env, key);  // borrowed
  if (existing != nullptr && framing) {
    Py_DECREF(value);
  } else {
    // A repeated header: its values joined with commas (RFC 9110 5.3).
    if (existing != nullptr) {
      PyObject* joined = PyUnicode_FromFormat("%U,%U", existing, value);
      Py_DECREF(value);
      value = joined;
    }
    SetItem(env, key, value);
  }
  Py_DECREF(key);
}

void WsgiHandler::ApplyForwardedHeaders(PyObject* env,
                                        const RequestHead& head) {
  // --secure-scheme-headers, as Gunicorn: the proxy's word wins over the
  // connection's either way (a contradiction was answered 400 in Handle).
  switch (SchemeFromHeaders(head, config_.secure_scheme_headers)) {
    case ForwardedScheme::kHttps:
      Py_INCREF(https_);
      SetItem(env, keys_[kWsgiUrlScheme], https_);
      break;
    case ForwardedScheme::kHttp:
      SetItem(env, keys_[kWsgiUrlScheme], PyUnicode_FromString("http"));
      break;
    default:
      break;
  }
  // The last entry is the one the trusted proxy wrote; those before it came
  // with the request, and a client can put anything there.
  const HeaderField* fwd = head.Find("x-forwarded-for");
  if (fwd == nullptr) return;
  std::string_view client = fwd->value;
  if (size_t comma = client.rfind(','); comma != std::string_view::npos)
    client.remove_prefix(comma + 1);
  while (!client.empty() && client.front() == ' ') client.remove_prefix(1);
  while (!client.empty() && client.back() == ' ') client.remove_suffix(1);
  if (!client.empty()) SetItem(env, keys_[kRemoteAddr], Latin1(client));
}

// --- serving one request

RequestOutcome WsgiHandler::Handle(Connection* conn, RequestHead* head,
                                   bool keep_alive) {
  if (IsTrustedProxy(conn) &&
      SchemeFromHeaders(*head, config_.secure_scheme_headers) ==
          ForwardedScheme::kContradictory)
    return RefuseContradictoryScheme(conn);
  const int64_t start_ns = MonotonicNs();
  RequestBody body(conn, *head, config_.limit_request_body, config_.io_timeout);
  Response::Options options;
  options.is_head = head->method == "HEAD";
  options.version_minor = head->version_minor;
  options.keep_alive = keep_alive;
  options.server_header = config_.server_header;
  options.io_timeout = config_.io_timeout;
  options.request_body = &body;
  Response response(conn, options);
  RequestContext ctx;
  ctx.conn = conn;
  ctx.body = &body;
  ctx.response = &response;
  RequestFailure failure;

  PyEval_RestoreThread(t_thread_state);
  RunApplication(*head, &ctx, &failure);
  PyEval_SaveThread();

  RequestOutcome outcome = CompleteResponse(*head, ctx, failure);
  if (access_log_.enabled())
    WriteAccessLog(conn, head, outcome.status, response, start_ns,
                   &ctx.environ_values);
  // The server counts no status for a client that left before the head.
  if (ctx.client_gone && !response.head_sent()) outcome.status = 0;
  return outcome;
}

RequestOutcome WsgiHandler::RefuseContradictoryScheme(Connection* conn) {
  // Gunicorn refuses it while parsing: before any hook or the app, no access
  // log line, the connection closed.
  Log(LogLevel::kDebug) << "bad request from " << conn->remote_addr << ": "
                        << kContradictorySchemeHeaders;
  Response::WriteError(conn, 400, kContradictorySchemeHeaders,
                       config_.server_header, config_.io_timeout);
  RequestOutcome outcome;
  outcome.status = 400;
  outcome.keep_alive = false;
  return outcome;
}

void WsgiHandler::RunApplication(const RequestHead& head, RequestContext* ctx,
                                 RequestFailure* failure) {
  PyObject* environ = BuildEnviron(ctx->conn, head);
  PyObject* input = NewInputStream(ctx);
  PyObject* start_response = NewStartResponse(ctx);
  PyObject* result = nullptr;
  PyObject* req =
      request_hooks_ != nullptr ? request_hooks_->PreRequest(head) : nullptr;
  if (environ != nullptr && input != nullptr && start_response != nullptr &&
      PyDict_SetItem(environ, wsgi_input_key_, input) == 0) {
    PyObject* args[] = {environ, start_response};
    result = PyObject_Vectorcall(app_, args, 2, nullptr);
  }
  if (result == nullptr) {
    failure->SetFromPython();
  } else {
    SendResult(result, ctx, failure);
    CloseResult(result, close_key_, failure);
    Py_DECREF(result);
  }
  if (!ctx->response->has_head())
    failure->Set("the application did not call start_response");
  if (environ != nullptr && access_log_.enabled())
    ReadEnvironAtoms(environ, &ctx->environ_values);
  if (request_hooks_ != nullptr)
    request_hooks_->PostRequest(req, environ, *ctx->response);
  DetachContext(ctx, start_response, input);
  Py_XDECREF(start_response);
  Py_XDECREF(input);
  Py_XDECREF(environ);
}

RequestOutcome WsgiHandler::CompleteResponse(const RequestHead& head,
                                             const RequestContext& ctx,
                                             const RequestFailure& failure) {
  Response& response = *ctx.response;
  RequestBody& body = *ctx.body;
  RequestOutcome outcome;
  outcome.status = response.status_code();
  if (failure.failed()) {
    // Gunicorn logs this with log.exception (its statsd counts
    // gunicorn.log.exception); a body the client failed to send is an error.
    (body.failed() ? Log(LogLevel::kError) : Log::Exception())
        << "Error handling request " << head.target << "\n"
        << failure.message();
    if (!response.head_sent() && !ctx.client_gone) {
      outcome.status = body.failed() ? body.error_status() : 500;
      Response::WriteError(ctx.conn, outcome.status, "", config_.server_header,
                           config_.io_timeout);
    }
  } else if (!ctx.client_gone) {
    if (Status s = response.Finish(); s.ok())
      outcome.keep_alive = response.keep_alive() && body.Drain();
  }
  outcome.body_bytes = response.body_bytes();
  outcome.app_exception = failure.failed() && !body.failed();
  return outcome;
}

void WsgiHandler::WriteAccessLog(
    const Connection* conn, const RequestHead* head, int status,
    const Response& response, int64_t start_ns,
    const std::vector<std::string>* environ) const {
  AccessLogEntry entry{conn,
                       head,
                       status,
                       response.body_bytes(),
                       (MonotonicNs() - start_ns) / 1000,
                       &response.headers(),
                       environ};
  access_log_.Write(entry);
}

void WsgiHandler::ReadEnvironAtoms(PyObject* environ,
                                   std::vector<std::string>* values) const {
  for (const std::string& key : access_log_.format().environ_keys()) {
    // Gunicorn's atom is the lowercased key: "{remote_addr}e" is REMOTE_ADDR.
    std::string upper = key;
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    PyObject* value = PyDict_GetItemString(environ, key.c_str());
    if (value == nullptr) value = PyDict_GetItemString(environ, upper.c_str());
    PyObject* text = value ? PyObject_Str(value) : nullptr;
    Py_ssize_t size = 0;
    const char* utf8 = text ? PyUnicode_AsUTF8AndSize(text, &size) : nullptr;
    values->push_back(utf8 ? std::string(utf8, static_cast<size_t>(size))
                           : std::string("-"));
    if (utf8 == nullptr) PyErr_Clear();
    Py_XDECREF(text);
  }
}

}  // namespace wsgid
