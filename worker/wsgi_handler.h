// WsgiHandler: serves one parsed request through the Python WSGI application
// (PEP 3333).
//
// One request is a fixed sequence of steps, each a function of its own:
// with the GIL held (RunApplication), build the environ, call the app, send
// its result (a file_wrapper through sendfile, a list or tuple walked
// directly, anything else iterated) releasing the GIL around socket writes,
// and always call result.close(); then without the GIL (CompleteResponse),
// turn an app error into 500 (or close the connection once the head is out),
// or finish the response; last, the access log line. The first failure of a
// request is the one reported (RequestFailure). Each app thread keeps one
// PyThreadState for its whole life, so threading.local state (database
// connections) survives between requests.
//
// Hot path: the steps share the request's stack objects (body, response,
// RequestContext, RequestFailure) through pointers; splitting them adds no
// allocation, no GIL round-trip and no indirect call. Python objects are
// released only inside RunApplication, with the GIL held.
#pragma once

#include <Python.h>

#include <string>
#include <vector>

#include "common/address_allow_list.h"
#include "common/config.h"
#include "worker/access_log.h"
#include "worker/server.h"
#include "worker/server_hooks.h"
#include "worker/wsgi_types.h"

namespace wsgid {

// Why a request failed: the first failure wins (wsgi_result.h).
class RequestFailure;

class WsgiHandler : public RequestHandler {
 public:
  // REQUIRES: the GIL is held by the calling thread; `app` is a new reference
  // owned by the handler from now on; listen_fds are the sockets the server
  // accepts from.
  WsgiHandler(const Config& config, PyObject* app,
              const std::vector<int>& listen_fds);
  Status Init();
  // pre_request and post_request run around each app call when `hooks` has
  // them (null: none). REQUIRES: before serving; `hooks` outlives the handler.
  void SetHooks(ServerHooks* hooks) {
    request_hooks_ =
        hooks != nullptr && hooks->has_request_hooks() ? hooks : nullptr;
  }

  // On each app thread: its one PyThreadState, made and (when retired) freed.
  void ThreadStart() override;
  void ThreadStop(bool retired) override;
  // On an app thread, without the GIL: serves one request (takes the GIL once
  // for RunApplication).
  RequestOutcome Handle(Connection* conn, RequestHead* head,
                        bool keep_alive) override;

 private:
  struct ServerAddress {
    PyObject* name;  // SERVER_NAME default for this listener
    PyObject* port;  // SERVER_PORT default
  };
  // A trusted forwarder's --secure-scheme-headers disagree: 400 as Gunicorn
  // answers it, the connection closed. No GIL needed.
  RequestOutcome RefuseContradictoryScheme(Connection* conn);
  // REQUIRES: the GIL. Builds the environ, calls the app and sends its result
  // into ctx->response, recording the first failure in *failure. Leaves no
  // Python object of the request alive but those the app kept (detached).
  void RunApplication(const RequestHead& head, RequestContext* ctx,
                      RequestFailure* failure);
  // REQUIRES: the GIL not held. Ends the response after RunApplication: the
  // error answer, or the response's end and the body's drain. Returns the
  // outcome, whose status is the one the access log shows.
  RequestOutcome CompleteResponse(const RequestHead& head,
                                  const RequestContext& ctx,
                                  const RequestFailure& failure);
  // One access log line. REQUIRES: access_log_.enabled().
  void WriteAccessLog(const Connection* conn, const RequestHead* head,
                      int status, const Response& response, int64_t start_ns,
                      const std::vector<std::string>* environ) const;
  // The values of the access log's {name}e atoms. REQUIRES: the GIL.
  void ReadEnvironAtoms(PyObject* environ,
                        std::vector<std::string>* values) const;

  // The environ of one request (a new reference, or nullptr with an error
  // set). REQUIRES: the GIL.
  PyObject* BuildEnviron(Connection* conn, const RequestHead& head);
  // REQUEST_METHOD, RAW_URI, PATH_INFO, QUERY_STRING, SERVER_PROTOCOL.
  void SetRequestLine(PyObject* env, const RequestHead& head);
  // REMOTE_ADDR and REMOTE_PORT, made once per connection.
  void SetPeerAddress(PyObject* env, Connection* conn);
  // issue 17: wsgi.url_scheme https and, when the client presented a
  // certificate, SSL_CLIENT_S_DN, SSL_CLIENT_I_DN and SSL_CLIENT_VERIFY.
  void SetTlsKeys(PyObject* env, const TlsTransport& tls);
  // HTTP_* (and CONTENT_TYPE, CONTENT_LENGTH) of one request header.
  void AddHeader(PyObject* env, const HeaderField& header);
  // wsgi.url_scheme and REMOTE_ADDR from X-Forwarded-Proto / -For, for a
  // request from a trusted proxy.
  void ApplyForwardedHeaders(PyObject* env, const RequestHead& head);
  bool IsTrustedProxy(const Connection* conn) const;

  const Config& config_;
  const AddressAllowList forwarded_allow_ips_;
  PyObject* app_;
  ServerHooks* request_hooks_ = nullptr;  // set when it has request hooks
  PyInterpreterState* interp_;
  AccessLog access_log_;
  std::vector<ServerAddress> server_addresses_;
  PyObject* environ_template_ = nullptr;
  PyObject* http_11_ = nullptr;
  PyObject* http_10_ = nullptr;
  PyObject* https_ = nullptr;
  PyObject* wsgi_input_key_ = nullptr;
  PyObject* close_key_ = nullptr;
  std::vector<std::pair<std::string, PyObject*>> method_cache_;
  std::vector<std::pair<std::string, PyObject*>>
      header_keys_;  // lower-case name -> key
  // Interned environ keys, indexed by Key.
  enum Key {
    kRequestMethod,
    kRawUri,
    kPathInfo,
    kQueryString,
    kServerProtocol,
    kRemoteAddr,
    kRemotePort,
    kServerName,
    kServerPort,
    kWsgiUrlScheme
  };
  std::vector<PyObject*> keys_;
};

}  // namespace wsgid
