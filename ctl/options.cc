#include "ctl/options.h"

namespace wsgid::ctl {
namespace {

// Matches `arg` against an option taking a value, in the forms "--long VALUE",
// "--long=VALUE", "-s VALUE" and "-sVALUE". Returns false when it is another
// option; advances *i past the value when it is this one.
StatusOr<bool> MatchValueOption(const std::vector<std::string>& args, size_t* i,
                                const std::string& long_name,
                                const std::string& short_name,
                                std::optional<std::string>* value) {
  const std::string& arg = args[*i];
  std::string name;
  if (arg == long_name || (!short_name.empty() && arg == short_name)) {
    name = arg;
    if (*i + 1 >= args.size())
      return Status::InvalidArgument(name + " needs a value");
    *value = args[++*i];
    return true;
  }
  if (arg.rfind(long_name + "=", 0) == 0) {
    *value = arg.substr(long_name.size() + 1);
    return true;
  }
  if (!short_name.empty() && arg.size() > short_name.size() &&
      arg.rfind(short_name, 0) == 0 && arg[1] != '-') {
    *value = arg.substr(short_name.size());
    return true;
  }
  return false;
}

}  // namespace

StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                       std::optional<std::string> env_socket) {
  CommandLine line;
  line.endpoint.env_socket = std::move(env_socket);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      line.words.insert(line.words.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "-h" || arg == "--help") {
      line.help = true;
      continue;
    }
    if (arg == "--version") {  // the habit of every other tool
      line.words.push_back("version");
      continue;
    }
    std::optional<std::string> output;
    struct Spec {
      const char* long_name;
      const char* short_name;
      std::optional<std::string>* target;
    } specs[] = {{"--socket", "-s", &line.endpoint.socket},
                 {"--url", "", &line.endpoint.url},
                 {"--token-file", "", &line.endpoint.token_file},
                 {"--cacert", "", &line.endpoint.cacert},
                 {"--output", "-o", &output}};
    bool matched = false;
    for (const Spec& spec : specs) {
      auto match = MatchValueOption(args, &i, spec.long_name, spec.short_name,
                                    spec.target);
      if (!match.ok()) return match.status();
      if (*match) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      line.words.push_back(arg);
      continue;
    }
    if (output) {
      if (*output == "json") {
        line.format = OutputFormat::kJson;
      } else if (*output == "table" || *output == "text") {
        line.format = OutputFormat::kTable;
      } else {
        return Status::InvalidArgument("-o " + *output +
                                       ": expected json or table");
      }
    }
  }
  return line;
}

std::string UsageText() {
  return R"(usage: wsgictl [options] COMMAND [ARGS]

Controls a running wsgid through its control API.

commands:
  status                        the daemon and its pool
  config                        the running settings (as wsgid --print-config)
  workers                       one line per worker: state, load, memory, current request
  scale N|+N|-N                 set the worker count, or change it by N
  threads N                     set the app threads per worker
  reload                        rolling reload (re-reads the config, replaces workers)
  autoscale [on|off] [--min N] [--max N]
                                show autoscaling, or switch it and set its bounds
  worker restart|kill ID        replace one worker gracefully, or kill it at once
  top [--interval S] [--once]   live view of the pool (q or Ctrl-C quits); --once
                                prints one frame and exits
  wait-ready [--timeout S]      wait until every desired worker is ready (default 60 s)
  stop [--graceful]             stop the daemon (finishing requests with --graceful)
  version                       wsgictl's version, and the daemon's when reachable

options:
  -s, --socket PATH             the control socket (env WSGICTL_SOCKET; default
                                /run/wsgid.sock for root, else
                                $XDG_RUNTIME_DIR/wsgid.sock, else /tmp/wsgid-UID.sock)
      --url http://HOST:PORT    reach the control API over TCP instead
                                (https://HOST:PORT: over TLS, verified)
      --cacert FILE             CA certificate(s) to verify an https:// daemon
      --token-file FILE         bearer token for --url (the file's content)
  -o, --output json|table       print the API's JSON instead of tables (and, when
                                the daemon refuses, its error object)
  -h, --help                    this text

exit status: 0 ok, 1 the daemon refused, 2 usage error, 3 daemon not reachable,
4 unauthorised, 124 wait-ready timed out.
)";
}

}  // namespace wsgid::ctl
