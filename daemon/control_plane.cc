#include "daemon/control_plane.h"

#include "common/control_socket.h"
#include "common/log.h"
#include "common/token_file.h"

namespace wsgid {

ControlApi::Options ControlApiOptionsFor(const Config& config) {
  ControlApi::Options options;
  options.socket_path = config.control_socket.empty()
                            ? DefaultControlSocketPath()
                            : config.control_socket;
  if (options.socket_path == "off") options.socket_path.clear();
  options.socket_mode = config.control_socket_mode;
  options.tcp_bind = config.control_bind;
  options.certfile = config.control_certfile;  // issue 17
  options.keyfile = config.control_keyfile;
  options.max_workers = config.max_workers;
  options.version = WSGID_VERSION;
  return options;
}

Status ControlPlane::Start(const Config& config, ControlBackend* backend,
                           MetricsGatherer gather) {
  if (Status s = StartOps(config, backend, std::move(gather)); !s.ok())
    return s;
  return StartControlApi(config, backend);
}

Status ControlPlane::StartOps(const Config& config, ControlBackend* backend,
                              MetricsGatherer gather) {
  if (config.ops_bind.empty() || config.ops_bind == "off") return Status::Ok();
  ops_ = std::make_unique<OpsServer>(backend, std::move(gather));
  if (Status s = ops_->Start(config.ops_bind); !s.ok()) {
    ops_.reset();
    if (config.ops_bind != Config().ops_bind)
      return s.Prefixed("--ops-bind: ");  // its own code: in use exits 1
    Log(LogLevel::kWarning)
        << "ops port: " << s.message() << "; running without it";
    return Status::Ok();
  }
  Log(LogLevel::kInfo) << "Ops port (/livez /readyz /metrics) at: "
                       << config.ops_bind;
  return Status::Ok();
}

Status ControlPlane::StartControlApi(const Config& config,
                                     ControlBackend* backend) {
  ControlApi::Options options = ControlApiOptionsFor(config);
  if (!config.control_token_file.empty()) {
    auto token = ReadTokenFile(config.control_token_file);
    if (!token.ok()) return token.status().Prefixed("--control-token-file: ");
    options.token = std::move(token).value();
  }
  if (options.socket_path.empty() && options.tcp_bind.empty())
    return Status::Ok();
  control_ = std::make_unique<ControlApi>(backend, options);
  if (Status s = control_->Start(); !s.ok()) {
    control_.reset();
    if (!config.control_socket.empty() || !options.tcp_bind.empty())
      return s.Prefixed("control API: ");
    Log(LogLevel::kWarning)
        << "control API: " << s.message() << "; running without it";
    return Status::Ok();
  }
  if (!options.socket_path.empty())
    Log(LogLevel::kInfo) << "Control API at: unix:" << options.socket_path;
  if (!options.tcp_bind.empty())
    Log(LogLevel::kInfo) << "Control API at: " << options.tcp_bind;
  return Status::Ok();
}

void ControlPlane::Stop() {
  // The HTTP threads read through the backend: stop them first.
  ops_.reset();
  control_.reset();
}

}  // namespace wsgid
