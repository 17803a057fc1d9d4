#include "ctl/top_frame.h"

#include <ctime>

#include "ctl/format.h"
#include "ctl/json_fields.h"
#include "ctl/views.h"

namespace wsgid::ctl {
namespace {

std::string LocalTime() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

}  // namespace

std::vector<std::string> RenderTopFrame(const TopSample& sample,
                                        const RequestRates& rates,
                                        const std::string& problem) {
  const nlohmann::json& status = sample.status;
  std::vector<std::string> lines;
  lines.push_back(
      "wsgid " + StringField(status, "version") + "  pid " +
      FormatCount(NumberField(status, "pid")) + "  up " +
      FormatDuration(NumberField(status, "uptime_seconds")) + "  generation " +
      FormatCount(NumberField(status, "generation")) + "  " + LocalTime());
  lines.push_back("workers " + PoolSummary(status) + "  req/s " +
                  FormatRate(rates.total()));
  lines.push_back("threads " + ThreadsSummary(status) + "  autoscale " +
                  AutoscaleSummary(Field(status, "autoscale")) +
                  "  listeners " + ScalarText(Field(status, "listeners")));
  if (!problem.empty()) lines.push_back("! " + problem);
  lines.push_back("");
  for (std::string& line :
       WorkersTable(sample.workers, &rates.per_worker()).Lines()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace wsgid::ctl
