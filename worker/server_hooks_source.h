// The Python source of the module `_wsgid_hooks` (server_hooks_source.cc):
// Gunicorn's hook stand-ins, the hook loader and guarded call, and the
// master's hook helper loop. Data only.
#pragma once

namespace wsgid {

extern const char kServerHooksSource[];

}  // namespace wsgid
