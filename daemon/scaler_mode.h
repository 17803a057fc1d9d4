// ScalerMode: what the autoscaler (daemon/scaler.h) remembers between ticks,
// as two small state machines with named transitions instead of loose fields.
//
// - Load: what the recent ticks read. Each tick's reading moves it (Observe):
//   steady (between the thresholds), underused since a time (the scale-down
//   window runs from there), or saturated and confirming a CPU-bound or an
//   I/O-bound reading for `streak()` ticks in a row (thread counts are turned
//   around only on a reading that held for Scaler::kConfirmTicks).
// - Trim: what became of the last CPU trim of the threads: none, trimmed
//   (growing them back waits for an I/O-bound reading to hold), or refuted (a
//   trim was grown back under this load: no more trims until the pool is
//   underused).
// Beside them, not a mode: when workers were last added (new workers get a
// grace to take their share of the connections).
//
// Owned by one Scaler; thread-compatible.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsgid {

class ScalerMode {
 public:
  enum class Load {
    kSteady,         // neither saturated nor underused
    kUnderused,      // underused every tick since underused_since_ns()
    kConfirmingCpu,  // saturated and CPU-bound for streak() ticks
    kConfirmingIo,   // saturated and waiting on I/O for streak() ticks
  };
  enum class Trim {
    kNone,     // no CPU trim since the threads last grew
    kTrimmed,  // the last thread change was a CPU trim
    kRefuted,  // a CPU trim was grown back under this load
  };
  // What one tick read.
  enum class Reading { kInBand, kUnderused, kSaturatedCpu, kSaturatedIo };

  // Every tick, first. In band: steady. Underused: the window starts unless
  // it runs already, and a refuted trim may be tried again (the load that
  // refuted it is over). Saturated: the streak grows, or starts at 1 when the
  // kind of load changed.
  void Observe(Reading reading, int64_t now_ns);

  // The threads were trimmed for a CPU-bound load: the next trim needs a new
  // confirmation. REQUIRES: load() == kConfirmingCpu, trim() != kRefuted.
  void OnThreadsTrimmed();
  // The threads grew: a trim before it was wrong (refuted).
  void OnThreadsGrown();
  // Workers were added at `now_ns` (the settling grace starts).
  void OnWorkersAdded(int64_t now_ns) { workers_added_ns_ = now_ns; }
  // A reading that contradicts the CPU-bound one (busy threads blocked on
  // I/O): the count towards a trim starts again. REQUIRES: saturated.
  void RestartConfirmation() { streak_ = 0; }
  // A scale-down step was taken at `now_ns`: a whole new window before the
  // next. REQUIRES: load() == kUnderused.
  void RestartUnderuseWindow(int64_t now_ns) { underused_since_ns_ = now_ns; }

  Load load() const { return load_; }
  Trim trim() const { return trim_; }
  // Consecutive saturated ticks of the current kind (0 after a restart).
  int streak() const { return streak_; }
  // -1 unless load() is kUnderused.
  int64_t underused_since_ns() const { return underused_since_ns_; }
  // -1 when workers were never added.
  int64_t workers_added_ns() const { return workers_added_ns_; }

  static std::string_view LoadName(Load load);
  static std::string_view TrimName(Trim trim);

 private:
  Load load_ = Load::kSteady;
  Trim trim_ = Trim::kNone;
  int streak_ = 0;
  int64_t underused_since_ns_ = -1;
  int64_t workers_added_ns_ = -1;
};

}  // namespace wsgid
