#include "daemon/worker_slots.h"

#include <algorithm>

namespace wsgid {

void WorkerSlots::Claim(int id, int64_t now_ns, int threads) {
  std::lock_guard<std::mutex> lock(mu_);
  board_.Reset(id - 1, now_ns);
  slot(id).desired_threads.store(static_cast<uint32_t>(threads));
  live_.insert(id);
}

void WorkerSlots::Retire(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (live_.erase(id) == 0) return;
  retired_.Add(slot(id));
}

void WorkerSlots::SetDesiredThreads(int threads) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int id : live_)
    slot(id).desired_threads.store(static_cast<uint32_t>(threads));
}

WorkerObservation WorkerSlots::Observe(int id, int64_t now_ns) {
  WorkerSlot& s = slot(id);
  WorkerObservation observation;
  observation.heartbeat_ns =
      std::min(s.heartbeat_ns.load(std::memory_order_relaxed), now_ns);
  int threads = std::clamp<int>(
      static_cast<int>(s.threads.load(std::memory_order_relaxed)), 1,
      kMaxThreadsPerWorker);
  for (int t = 0; t < threads; ++t) {
    ThreadActivity activity = Scoreboard::Read(s.thread[t]);
    activity.request_start_ns = std::min(activity.request_start_ns, now_ns);
    observation.threads.push_back(std::move(activity));
  }
  return observation;
}

uint64_t WorkerSlots::RequestsServed(int id) {
  return slot(id).requests.load(std::memory_order_relaxed);
}

RequestTotals WorkerSlots::Totals() {
  std::lock_guard<std::mutex> lock(mu_);
  RequestTotals totals = retired_;
  for (int id : live_) totals.Add(slot(id));
  return totals;
}

const WorkerSlot* WorkerSlots::Find(int id) {
  return id >= 1 && id <= count() ? &slot(id) : nullptr;
}

}  // namespace wsgid
