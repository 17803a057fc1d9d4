#include "worker/connection_balance.h"

#include <algorithm>

namespace wsgid {

int ConnectionBalance::Quota() const {
  if (quota_ == nullptr) return 0;
  // The master's word, through shared memory: it can only cost keep-alives.
  return static_cast<int>(
      std::min<uint32_t>(quota_->load(std::memory_order_relaxed), 1u << 30));
}

int ConnectionBalance::Observe(int64_t now_ns) {
  int open = open_.load();
  int quota = Quota();
  if (quota == 0 || open <= quota) {
    over_quota_since_ns_ = 0;
  } else if (over_quota_since_ns_ == 0) {
    over_quota_since_ns_ = now_ns;
  }
  may_shed_.store(over_quota_since_ns_ != 0 &&
                      now_ns - over_quota_since_ns_ >= kShedAfterNs,
                  std::memory_order_relaxed);
  return open;
}

bool ConnectionBalance::ShedForBalance(Connection* conn) {
  if (!may_shed_.load(std::memory_order_relaxed) || conn->requests == 0 ||
      conn->shed)
    return false;
  int quota = Quota();
  if (quota == 0) return false;
  // Connections already marked close soon: count them gone, so concurrent
  // threads shed the surplus once, not once each.
  int shedding = shedding_.load();
  while (open_.load() - shedding > quota) {
    if (shedding_.compare_exchange_weak(shedding, shedding + 1)) {
      conn->shed = true;
      return true;
    }
  }
  return false;
}

}  // namespace wsgid
