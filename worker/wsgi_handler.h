// WsgiHandler: serves one parsed request through the Python WSGI application
// (PEP 3333).
//
// Builds the environ, calls the app with the GIL held, streams its result into
// a Response with the GIL released around socket writes, always calls
// result.close(), turns app errors into 500 (or closes the connection once the
// head is out), and writes the access log line. Each app thread keeps one
// PyThreadState for its whole life, so threading.local state (database
// connections) survives between requests.
#pragma once

#include <Python.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "worker/access_log.h"
#include "worker/server.h"

namespace wsgid {

class WsgiHandler : public RequestHandler {
 public:
  // REQUIRES: the GIL is held by the calling thread; `app` is a new reference
  // owned by the handler from now on; listen_fds are the sockets the server
  // accepts from.
  WsgiHandler(const Config& config, PyObject* app,
              const std::vector<int>& listen_fds);
  Status Init();

  void ThreadStart() override;
  void ThreadStop(bool retired) override;
  RequestOutcome Handle(Connection* conn, RequestHead* head,
                        bool keep_alive) override;

 private:
  struct ServerAddress {
    PyObject* name;  // SERVER_NAME default for this listener
    PyObject* port;  // SERVER_PORT default
  };

  PyObject* BuildEnviron(Connection* conn, const RequestHead& head);
  bool IsTrustedProxy(const Connection* conn) const;

  const Config& config_;
  PyObject* app_;
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
