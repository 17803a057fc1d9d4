#include "daemon/scaler_mode.h"

namespace wsgid {

void ScalerMode::Observe(Reading reading, int64_t now_ns) {
  Load next = Load::kSteady;
  switch (reading) {
    case Reading::kInBand:
      next = Load::kSteady;
      break;
    case Reading::kUnderused:
      next = Load::kUnderused;
      break;
    case Reading::kSaturatedCpu:
      next = Load::kConfirmingCpu;
      break;
    case Reading::kSaturatedIo:
      next = Load::kConfirmingIo;
      break;
  }
  bool same = next == load_;
  load_ = next;
  if (next != Load::kUnderused) underused_since_ns_ = -1;
  switch (next) {
    case Load::kSteady:
      streak_ = 0;
      break;
    case Load::kUnderused:
      streak_ = 0;
      if (!same) underused_since_ns_ = now_ns;
      if (trim_ == Trim::kRefuted) trim_ = Trim::kNone;
      break;
    case Load::kConfirmingCpu:
    case Load::kConfirmingIo:
      streak_ = same ? streak_ + 1 : 1;
      break;
  }
}

void ScalerMode::OnThreadsTrimmed() {
  trim_ = Trim::kTrimmed;
  streak_ = 0;
}

void ScalerMode::OnThreadsGrown() {
  if (trim_ == Trim::kTrimmed) trim_ = Trim::kRefuted;
}

std::string_view ScalerMode::LoadName(Load load) {
  switch (load) {
    case Load::kSteady:
      return "steady";
    case Load::kUnderused:
      return "underused";
    case Load::kConfirmingCpu:
      return "confirming_cpu";
    case Load::kConfirmingIo:
      return "confirming_io";
  }
  return "?";
}

std::string_view ScalerMode::TrimName(Trim trim) {
  switch (trim) {
    case Trim::kNone:
      return "none";
    case Trim::kTrimmed:
      return "trimmed";
    case Trim::kRefuted:
      return "refuted";
  }
  return "?";
}

}  // namespace wsgid
