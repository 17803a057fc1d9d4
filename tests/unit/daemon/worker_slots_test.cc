// The scoreboard as the master uses it, on a real scoreboard (a memfd; no
// workers): claiming slots, bounded reads, totals that never go down.
#include "daemon/worker_slots.h"

#include <gtest/gtest.h>

#include <memory>

namespace wsgid {
namespace {

constexpr int64_t kSec = 1'000'000'000;

std::unique_ptr<WorkerSlots> MakeSlots(int count) {
  auto board = Scoreboard::Create(count);
  EXPECT_TRUE(board.ok());
  return std::make_unique<WorkerSlots>(std::move(board).value());
}

void Serve(WorkerSlot& slot, uint64_t requests, uint64_t bytes) {
  slot.requests.fetch_add(requests);
  slot.bytes_out.fetch_add(bytes);
  slot.accepts.fetch_add(requests);
}

TEST(WorkerSlotsTest, AClaimedSlotStartsAfreshWithItsThreadTarget) {
  auto slots = MakeSlots(4);
  Serve(slots->slot(2), 10, 100);  // left over from an earlier worker
  slots->Claim(2, 5 * kSec, 3);
  EXPECT_EQ(slots->slot(2).requests.load(), 0u);
  EXPECT_EQ(slots->slot(2).heartbeat_ns.load(), 5 * kSec);
  EXPECT_EQ(slots->slot(2).desired_threads.load(), 3u);
}

TEST(WorkerSlotsTest, TotalsSurviveAWorkersExit) {
  auto slots = MakeSlots(4);
  slots->Claim(1, kSec, 1);
  slots->Claim(2, kSec, 1);
  Serve(slots->slot(1), 5, 50);
  Serve(slots->slot(2), 7, 70);
  EXPECT_EQ(slots->Totals().bytes_out, 120u);
  slots->Retire(1);
  EXPECT_EQ(slots->Totals().bytes_out, 120u);
  // The slot goes to a new worker: what the old one counted stays counted.
  slots->Claim(1, 2 * kSec, 1);
  Serve(slots->slot(1), 1, 1);
  EXPECT_EQ(slots->Totals().bytes_out, 121u);
  EXPECT_EQ(slots->Totals().accepts, 13u);
}

TEST(WorkerSlotsTest, LogCountsNeitherGoBackNorDoubleWhenAWorkerExits) {
  auto slots = MakeSlots(1);
  constexpr int kWarn = static_cast<int>(LogCounter::kWarning);
  slots->Claim(1, kSec, 1);
  slots->slot(1).log_records[kWarn].fetch_add(3);
  EXPECT_EQ(slots->Totals().log_records[kWarn], 3u);
  slots->Retire(1);
  EXPECT_EQ(slots->Totals().log_records[kWarn], 3u);
  slots->Claim(1, 2 * kSec, 1);  // the replacement starts from zero
  EXPECT_EQ(slots->Totals().log_records[kWarn], 3u);
  slots->slot(1).log_records[kWarn].fetch_add(1);
  EXPECT_EQ(slots->Totals().log_records[kWarn], 4u);
}

TEST(WorkerSlotsTest, RetiringTwiceOrAClaimRepeatedCountsOnce) {
  auto slots = MakeSlots(2);
  slots->Claim(1, kSec, 1);
  slots->Claim(1, kSec, 1);  // a spawn that failed, then one that did not
  Serve(slots->slot(1), 1, 10);
  EXPECT_EQ(slots->Totals().bytes_out, 10u);
  slots->Retire(1);
  slots->Retire(1);
  EXPECT_EQ(slots->Totals().bytes_out, 10u);
}

TEST(WorkerSlotsTest, TheThreadTargetReachesEveryLiveWorker) {
  auto slots = MakeSlots(3);
  slots->Claim(1, kSec, 1);
  slots->Claim(3, kSec, 1);
  slots->SetDesiredThreads(6);
  EXPECT_EQ(slots->slot(1).desired_threads.load(), 6u);
  EXPECT_EQ(slots->slot(2).desired_threads.load(), 0u);  // not live
  EXPECT_EQ(slots->slot(3).desired_threads.load(), 6u);
}

TEST(WorkerSlotsTest, ObservationsAreClampedToWhatCanBeTrue) {
  auto slots = MakeSlots(1);
  slots->Claim(1, kSec, 1);
  WorkerSlot& s = slots->slot(1);
  s.heartbeat_ns.store(100 * kSec);  // in the future
  s.threads.store(100000);           // more than a slot holds
  s.thread[0].busy.store(1);
  s.thread[0].request_start_ns.store(200 * kSec);
  WorkerObservation o = slots->Observe(1, 10 * kSec);
  EXPECT_EQ(o.heartbeat_ns, 10 * kSec);
  EXPECT_EQ(o.threads.size(), static_cast<size_t>(kMaxThreadsPerWorker));
  EXPECT_TRUE(o.threads[0].busy);
  EXPECT_EQ(o.threads[0].request_start_ns, 10 * kSec);
  s.threads.store(0);  // a worker says none: judged on one
  EXPECT_EQ(slots->Observe(1, 10 * kSec).threads.size(), 1u);
}

TEST(WorkerSlotsTest, FindIsBoundsChecked) {
  auto slots = MakeSlots(2);
  EXPECT_EQ(slots->Find(0), nullptr);
  EXPECT_EQ(slots->Find(3), nullptr);
  EXPECT_EQ(slots->Find(2), &slots->slot(2));
  EXPECT_EQ(slots->count(), 2);
  EXPECT_GE(slots->fd(), 0);
}

TEST(WorkerSlotsTest, RequestsServed) {
  auto slots = MakeSlots(1);
  slots->Claim(1, kSec, 1);
  Serve(slots->slot(1), 9, 0);
  EXPECT_EQ(slots->RequestsServed(1), 9u);
}

}  // namespace
}  // namespace wsgid
