#include "ctl/views.h"

#include <algorithm>
#include <vector>

#include "ctl/format.h"
#include "ctl/json_fields.h"

namespace wsgid::ctl {
namespace {

std::string Fraction(std::optional<double> part, std::optional<double> whole) {
  return FormatCount(part) + "/" + FormatCount(whole);
}

// Keys of an autoscale object that AutoscaleSummary already shows.
bool IsSummaryKey(const std::string& key) {
  return key == "enabled" || key == "min" || key == "max";
}

}  // namespace

std::string AutoscaleSummary(const nlohmann::json& autoscale) {
  std::optional<bool> enabled = BoolField(autoscale, "enabled");
  std::string text = FormatSwitch(enabled);
  auto min = NumberField(autoscale, "min");
  auto max = NumberField(autoscale, "max");
  if (min || max)
    text += " (min " + FormatCount(min) + ", max " + FormatCount(max) + ")";
  return text;
}

std::string PoolSummary(const nlohmann::json& status) {
  const nlohmann::json& pool = Field(status, "pool");
  std::string text =
      Fraction(NumberField(pool, "ready"), NumberField(pool, "live")) +
      " ready (" + FormatCount(NumberField(pool, "starting")) + " starting, " +
      FormatCount(NumberField(pool, "draining")) + " draining), desired " +
      FormatCount(NumberField(pool, "desired"));
  if (auto max = NumberField(status, "max_workers"))
    text += ", max " + FormatCount(max);
  return text;
}

std::string ThreadsSummary(const nlohmann::json& status) {
  const nlohmann::json& pool = Field(status, "pool");
  return FormatCount(NumberField(pool, "threads")) + " per worker, " +
         FormatCount(NumberField(pool, "busy_threads")) + " busy";
}

std::string RenderStatus(const nlohmann::json& status) {
  Table table;
  std::string daemon = "wsgid " + StringField(status, "version");
  if (auto pid = NumberField(status, "pid"))
    daemon += " (pid " + FormatCount(pid) + ")";
  table.AddRow({"daemon", daemon});
  table.AddRow(
      {"uptime", FormatDuration(NumberField(status, "uptime_seconds"))});
  table.AddRow({"generation", FormatCount(NumberField(status, "generation"))});
  table.AddRow({"listeners", ScalarText(Field(status, "listeners"))});
  table.AddRow({"workers", PoolSummary(status)});
  table.AddRow({"threads", ThreadsSummary(status)});
  table.AddRow({"autoscale", AutoscaleSummary(Field(status, "autoscale"))});
  // issue 16: the zygote of --preload, when there is one.
  if (const nlohmann::json& preload = Field(status, "preload");
      preload.is_object())
    table.AddRow(
        {"preload", StringField(preload, "state") + ", generation " +
                        FormatCount(NumberField(preload, "generation")) +
                        " (zygote pid " +
                        FormatCount(NumberField(preload, "pid")) + ")"});
  return table.Render();
}

std::string RenderAutoscale(const nlohmann::json& autoscale) {
  Table table;
  table.AddRow({"autoscale", AutoscaleSummary(autoscale)});
  // Whatever else the scaler reports (its last decision, targets...), as it
  // comes.
  if (autoscale.is_object()) {
    for (const auto& [key, value] : autoscale.items()) {
      if (IsSummaryKey(key)) continue;
      std::string label = key;
      std::replace(label.begin(), label.end(), '_', ' ');
      table.AddRow({label, ScalarText(value)});
    }
  }
  return table.Render();
}

std::string CurrentRequestText(const nlohmann::json& worker) {
  const nlohmann::json& current = Field(worker, "current");
  if (!current.is_array() || current.empty()) return "-";
  const nlohmann::json* longest = nullptr;
  double longest_seconds = -1;
  for (const auto& request : current) {
    double seconds = NumberField(request, "seconds").value_or(0);
    if (longest == nullptr || seconds > longest_seconds) {
      longest = &request;
      longest_seconds = seconds;
    }
  }
  std::string text = StringField(*longest, "method", "?") + " " +
                     StringField(*longest, "path", "?") + " " +
                     FormatSeconds(NumberField(*longest, "seconds"));
  if (current.size() > 1) text += " +" + std::to_string(current.size() - 1);
  return text;
}

Table WorkersTable(const nlohmann::json& workers, const WorkerRates* rates) {
  std::vector<std::string> header = {"ID",    "PID",  "GEN",
                                     "STATE", "BUSY", "CONNS"};
  if (rates != nullptr) header.push_back("REQ/S");
  for (const char* h : {"REQUESTS", "RSS MB", "HEARTBEAT", "CURRENT"})
    header.push_back(h);
  Table table(header);
  for (size_t column : {0, 1, 2, 4, 5, 6, 7, 8})
    table.SetAlign(column, Table::Align::kRight);
  if (rates != nullptr) table.SetAlign(9, Table::Align::kRight);

  std::vector<const nlohmann::json*> sorted;
  const nlohmann::json& list = Field(workers, "workers");
  if (list.is_array()) {
    for (const auto& worker : list) sorted.push_back(&worker);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) {
                     return NumberField(*a, "id").value_or(0) <
                            NumberField(*b, "id").value_or(0);
                   });
  for (const nlohmann::json* worker : sorted) {
    std::optional<double> id = NumberField(*worker, "id");
    std::vector<std::string> row = {
        FormatCount(id),
        FormatCount(NumberField(*worker, "pid")),
        FormatCount(NumberField(*worker, "generation")),
        StringField(*worker, "state"),
        Fraction(NumberField(*worker, "busy_threads"),
                 NumberField(*worker, "threads")),
        FormatCount(NumberField(*worker, "connections"))};
    if (rates != nullptr) {
      std::optional<double> rate;
      if (id) {
        auto it = rates->find(static_cast<int64_t>(*id));
        if (it != rates->end()) rate = it->second;
      }
      row.push_back(FormatRate(rate));
    }
    row.push_back(FormatCount(NumberField(*worker, "requests")));
    row.push_back(FormatMegabytes(NumberField(*worker, "rss_bytes")));
    row.push_back(FormatSeconds(NumberField(*worker, "heartbeat_age_seconds")));
    row.push_back(CurrentRequestText(*worker));
    table.AddRow(std::move(row));
  }
  return table;
}

}  // namespace wsgid::ctl
