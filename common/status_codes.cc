#include "common/status_codes.h"

namespace wsgid {

int ExitCodeFor(Program program, const Status& status) {
  const StatusCodeRow& row = StatusCodeInfo(status.code());
  switch (program) {
    case Program::kDaemon:
      return row.daemon_exit;
    case Program::kWorker:
      return row.worker_exit;
    case Program::kCtl:
      return row.ctl_exit;
  }
  return 1;
}

StatusCode StatusCodeFromHttp(int http_status) {
  if (http_status < 400) return StatusCode::kOk;
  for (const StatusCodeRow& row : kStatusCodeTable)
    if (row.http_status == http_status && row.code != StatusCode::kAppLoad &&
        row.code != StatusCode::kRefused)
      return row.code;
  return StatusCode::kRefused;
}

}  // namespace wsgid
