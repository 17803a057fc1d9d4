#include "common/gunicorn_rows.h"

#include <cctype>

#include "common/config.h"
#include "common/setting_fields.h"

namespace wsgid {
namespace {

constexpr bool kPublic = false;  // the `internal` column

// issue 15: -k. Gunicorn's sync worker with --threads above 1 is its gthread
// worker, and so is wsgid's: both names serve with --threads app threads.
StatusOr<std::string> CheckWorkerClass(const std::string& value) {
  if (value == "sync" || value == "gunicorn.workers.sync.SyncWorker")
    return std::string("sync");
  if (value == "gthread" || value == "gunicorn.workers.gthread.ThreadWorker")
    return std::string("gthread");
  std::string lower;
  for (char c : value)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string why;
  if (lower.find("gevent") != std::string::npos ||
      lower.find("eventlet") != std::string::npos)
    why =
        "wsgid has no green-thread workers (they need the app "
        "monkey-patched); instead: -k gthread --threads N (--autoscale "
        "sizes the threads from load)";
  else if (lower.find("uvicorn") != std::string::npos ||
           lower.find("asgi") != std::string::npos)
    why =
        "wsgid serves WSGI, not ASGI; instead: run the ASGI app with "
        "uvicorn itself (uvicorn MODULE:app --workers N)";
  else if (lower.find("tornado") != std::string::npos)
    why =
        "Tornado's worker runs Tornado apps, not WSGI; instead: run it "
        "with Tornado, or serve a WSGI app with -k gthread";
  else
    why =
        "not a worker class wsgid has (its workers are not Python "
        "classes); instead: sync or gthread";
  return Status::InvalidArgument("'" + value + "' refused: " + why);
}

// Rows for Gunicorn settings that mean nothing here, and refused ones.
Setting MeansNothing(const std::string& flag, std::vector<std::string> aliases,
                     const std::string& gunicorn, const std::string& metavar,
                     const std::string& why) {
  ValueKind kind = metavar.empty() ? ValueKind::kBool : ValueKind::kString;
  return {
      flag,
      std::move(aliases),
      gunicorn,
      Needs::kMaster,
      kPublic,
      metavar,
      "Gunicorn's; accepted, changes nothing here\n(the start log says why)",
      metavar.empty() ? "true" : "/dev/shm",
      UnusedField(flag, kind),
      Support::kMeansNothing,
      why};
}

Setting Refused(const std::string& flag, std::vector<std::string> aliases,
                const std::string& gunicorn, const std::string& metavar,
                const std::string& why) {
  ValueKind kind = metavar.empty() ? ValueKind::kBool : ValueKind::kString;
  return {flag,
          std::move(aliases),
          gunicorn,
          Needs::kMaster,
          kPublic,
          metavar,
          "Gunicorn's; refused, with why and what instead",
          metavar.empty() ? "true" : "x",
          RefusedField(why, kind),
          Support::kRefused,
          why};
}

}  // namespace

std::vector<Setting> GunicornCompatibilityRows() {
  using N = Needs;
  // clang-format off
  return {
      {"--worker-class", {"-k"}, "worker_class", N::kMaster, kPublic, "CLASS",
       "sync or gthread: both serve with --threads threads\n"
       "(gevent, eventlet, tornado, uvicorn: refused)",
       "gthread", TextField(&Config::worker_class, CheckWorkerClass)},
      {"--name", {"-n"}, "proc_name", N::kBoth, kPublic, "NAME",
       "process titles 'wsgid: master [NAME]', 'wsgid:\n"
       "worker [NAME]' (ps, top)",
       "shop", TextField(&Config::proc_name)},
      {"--reuse-port", {}, "reuse_port", N::kMaster, kPublic, "",
       "SO_REUSEPORT on the listeners (a second master\n"
       "can bind the port during an upgrade)",
       "true", SwitchField(&Config::reuse_port)},
      {"--daemon", {"-D"}, "daemon", N::kMaster, kPublic, "",
       "detach into the background (not with systemd\n"
       "Type=notify)",
       "true", SwitchField(&Config::daemon)},
      {"--print-config", {}, "print_config", N::kMaster, kPublic, "",
       "print the effective settings (name = value) and exit",
       "true", SwitchField(&Config::print_config)},
      {"--secure-scheme-headers", {}, "secure_scheme_headers", N::kWorker,
       kPublic, "LIST",
       "HEADER=VALUE,... from a trusted proxy that mean https\n"
       "(default X-FORWARDED-PROTOCOL=ssl,\n"
       "X-FORWARDED-PROTO=https, X-FORWARDED-SSL=on)",
       "X-SCHEME=https", CommaListField(&Config::secure_scheme_headers)},
      {"--forwarder-headers", {}, "forwarder_headers", N::kWorker, kPublic,
       "LIST",
       "environ keys a trusted proxy may set as headers\n"
       "(default SCRIPT_NAME,PATH_INFO)",
       "SCRIPT_NAME,REMOTE_USER", CommaListField(&Config::forwarder_headers)},
      {"--strip-header-spaces", {}, "strip_header_spaces", N::kWorker, kPublic,
       "",
       "accept spaces before a header's colon (unsafe)",
       "true", SwitchField(&Config::strip_header_spaces)},
      {"--statsd-host", {}, "statsd_host", N::kMaster, kPublic, "HOST:PORT",
       "send Gunicorn's statsd metrics there over UDP",
       "127.0.0.1:8125", TextField(&Config::statsd_host)},
      {"--statsd-prefix", {}, "statsd_prefix", N::kMaster, kPublic, "PREFIX",
       "put PREFIX. before the statsd metric names",
       "myapp", TextField(&Config::statsd_prefix)},
      {"--dogstatsd-tags", {}, "dogstatsd_tags", N::kMaster, kPublic, "TAGS",
       "tags (a:b,c) added to every statsd line",
       "env:prod,app", TextField(&Config::dogstatsd_tags)},
      MeansNothing("--worker-connections", {}, "worker_connections", "N",
                   "--worker-connections changes nothing: idle keep-alive "
                   "connections wait in the worker's epoll set without a "
                   "thread, and a worker takes new ones only while a thread "
                   "is free; --threads bounds the requests served at once"),
      MeansNothing("--worker-tmp-dir", {}, "worker_tmp_dir", "DIR",
                   "--worker-tmp-dir changes nothing: the heartbeat is in "
                   "shared memory, not a file"),
      MeansNothing("--no-sendfile", {}, "sendfile", "",
                   "--no-sendfile changes nothing: wsgi.file_wrapper always "
                   "uses sendfile()"),
      MeansNothing("--initgroups", {}, "initgroups", "",
                   "--initgroups changes nothing: with --user, workers "
                   "always get that user's groups"),
      MeansNothing("--tmp-upload-dir", {}, "tmp_upload_dir", "DIR",
                   "tmp_upload_dir changes nothing: request bodies are "
                   "streamed to the app, never spooled to disk"),
      MeansNothing("--default-proc-name", {}, "default_proc_name", "NAME",
                   "default_proc_name changes nothing: it is Gunicorn's "
                   "internal setting; -n names the processes"),
      MeansNothing("--casefold-http-method", {}, "casefold_http_method", "",
                   "--casefold-http-method changes nothing: methods reach "
                   "the app as sent (they are case-sensitive)"),
      MeansNothing("--permit-unconventional-http-method", {},
                   "permit_unconventional_http_method", "",
                   "--permit-unconventional-http-method changes nothing: "
                   "any token is a method here"),
      MeansNothing("--permit-unconventional-http-version", {},
                   "permit_unconventional_http_version", "",
                   "--permit-unconventional-http-version changes nothing: "
                   "HTTP/1.0 and 1.1 are served, other versions refused"),
      MeansNothing("--reload-engine", {}, "reload_engine", "ENGINE",
                   "--reload-engine changes nothing: there is no --reload"),
      Refused("--reload", {}, "reload", "",
              "wsgid does not watch code for changes; instead: after "
              "changing the code, send SIGHUP or run `wsgictl reload` (a "
              "rolling restart that drops no request)"),
      Refused("--reload-extra-file", {}, "reload_extra_files", "FILE",
              "there is no --reload; instead: SIGHUP or `wsgictl reload`"),
      Refused("--spew", {}, "spew", "",
              "wsgid's master runs no Python to trace; instead: "
              "sys.settrace or faulthandler in the app"),
      Refused("--paste", {"--paster"}, "paste", "FILE",
              "PasteDeploy files are not read; instead: a module with "
              "`app = paste.deploy.loadapp('config:/path/app.ini')` served "
              "as MODULE:app"),
      Refused("--paste-global", {}, "raw_paste_global_conf", "CONF",
              "PasteDeploy files are not read; instead: see --paste"),
      Refused("--tolerate-dangerous-framing", {}, "tolerate_dangerous_framing",
              "",
              "a request with both Content-Length and Transfer-Encoding "
              "is always refused (request smuggling); instead: fix the "
              "client or the proxy"),
  };
  // clang-format on
}

}  // namespace wsgid
