// Unit tests for daemon/statsd_reporter.h: Gunicorn's metric names and types,
// aggregated per flush, with a fake socket and a fake clock.
#include "daemon/statsd_reporter.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace wsgid {
namespace {

class FakeSender : public DatagramSender {
 public:
  explicit FakeSender(std::vector<std::string>* sent) : sent_(sent) {}
  void Send(const std::string& payload) override { sent_->push_back(payload); }

 private:
  std::vector<std::string>* sent_;
};

constexpr int64_t kSecond = 1'000'000'000;

RequestTotals WithRequests(int ok, int not_found, uint64_t latency_us) {
  RequestTotals t;
  t.responses[0][CodeIndex(200)] = static_cast<uint64_t>(ok);
  t.responses[2][CodeIndex(404)] = static_cast<uint64_t>(not_found);
  t.latency_sum_us = latency_us;
  return t;
}

TEST(StatsdReporterTest, FlushesDeltasWithGunicornsNames) {
  std::vector<std::string> sent;
  StatsdReporter reporter(std::make_unique<FakeSender>(&sent), "myapp", "",
                          kSecond);
  reporter.Tick(0, WithRequests(5, 0, 1000), 2);  // the baseline: not sent
  EXPECT_TRUE(sent.empty());
  reporter.Tick(kSecond / 2, WithRequests(20, 1, 5000), 2);  // too soon
  EXPECT_TRUE(sent.empty());
  reporter.Tick(kSecond, WithRequests(35, 2, 9000), 3);
  EXPECT_EQ(sent, (std::vector<std::string>{
                      "myapp.gunicorn.requests:32|c|@1.0",
                      "myapp.gunicorn.request.status.200:30|c|@1.0",
                      "myapp.gunicorn.request.status.404:2|c|@1.0",
                      "myapp.gunicorn.request.duration:0.250|ms",
                      "myapp.gunicorn.workers:3|g"}));
  sent.clear();
  reporter.Tick(2 * kSecond, WithRequests(35, 2, 9000), 3);  // nothing new
  EXPECT_EQ(sent, (std::vector<std::string>{"myapp.gunicorn.workers:3|g"}));
}

TEST(StatsdReporterTest, LogCountersByLevelAsGunicornNamesThem) {
  std::vector<std::string> sent;
  StatsdReporter reporter(std::make_unique<FakeSender>(&sent), "", "", kSecond);
  RequestTotals t;
  t.log_records[static_cast<int>(LogCounter::kWarning)] = 4;
  reporter.Tick(0, t, 1);  // the baseline
  t.log_records[static_cast<int>(LogCounter::kWarning)] = 6;
  t.log_records[static_cast<int>(LogCounter::kError)] = 1;
  t.log_records[static_cast<int>(LogCounter::kCritical)] = 3;
  t.log_records[static_cast<int>(LogCounter::kException)] = 2;
  reporter.Tick(kSecond, t, 1);
  EXPECT_EQ(sent,
            (std::vector<std::string>{
                "gunicorn.log.warning:2|c|@1.0", "gunicorn.log.error:1|c|@1.0",
                "gunicorn.log.critical:3|c|@1.0",
                "gunicorn.log.exception:2|c|@1.0", "gunicorn.workers:1|g"}));
  sent.clear();
  reporter.Tick(2 * kSecond, t, 1);  // unchanged: no log line
  EXPECT_EQ(sent, (std::vector<std::string>{"gunicorn.workers:1|g"}));
}

TEST(StatsdReporterTest, PrefixDotAndDogstatsdTags) {
  std::vector<std::string> sent;
  StatsdReporter reporter(std::make_unique<FakeSender>(&sent), "app.",
                          "env:prod,web", kSecond);
  reporter.Flush(0, WithRequests(1, 0, 2000), 1);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], "app.gunicorn.requests:1|c|@1.0|#env:prod,web");
  EXPECT_EQ(sent[3], "app.gunicorn.workers:1|g|#env:prod,web");
}

TEST(StatsdReporterTest, NoPrefix) {
  std::vector<std::string> sent;
  StatsdReporter reporter(std::make_unique<FakeSender>(&sent), "", "", kSecond);
  reporter.Flush(0, WithRequests(0, 0, 0), 4);
  EXPECT_EQ(sent, (std::vector<std::string>{"gunicorn.workers:4|g"}));
}

TEST(StatsdReporterTest, BadAddressesAreErrors) {
  EXPECT_FALSE(OpenStatsdSender("no-such-host.invalid:8125").ok());
  EXPECT_FALSE(OpenStatsdSender("[::1").ok());
  EXPECT_TRUE(OpenStatsdSender("127.0.0.1:8125").ok());
  EXPECT_TRUE(OpenStatsdSender("localhost").ok());  // default port 8125
}

}  // namespace
}  // namespace wsgid
