// What a worker and a USR2 master are handed, planned without starting
// anything: fd placement, the worker's argv and environment, the new master's
// command line and environment.
#include "daemon/process_spawner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace wsgid {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool AnyContains(const std::vector<std::string>& v, const std::string& part) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) {
    return s.find(part) != std::string::npos;
  });
}

// A null-terminated environ from strings.
struct Environ {
  explicit Environ(std::vector<std::string> entries) : strings(entries) {
    for (std::string& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  char* const* get() { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

TEST(PlanWorkerFdsTest, EverythingLandsAboveEverySource) {
  FdPlacement p = PlanWorkerFds({{5, 9, 4},
                                 /*ready_pipe=*/7,
                                 /*scoreboard=*/6});
  EXPECT_EQ(p.listen_targets, (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(p.ready_target, 13);
  EXPECT_EQ(p.scoreboard_target, 14);
  std::vector<std::pair<int, int>> expected = {
      {5, 10}, {9, 11}, {4, 12}, {7, 13}, {6, 14}};
  EXPECT_EQ(p.dup2s, expected);
  // No dup2 overwrites a fd a later one reads from.
  for (size_t i = 0; i < p.dup2s.size(); ++i)
    for (size_t j = i + 1; j < p.dup2s.size(); ++j)
      EXPECT_NE(p.dup2s[i].second, p.dup2s[j].first);
}

TEST(PlanWorkerFdsTest, TheScoreboardCanBeTheHighestFd) {
  FdPlacement p = PlanWorkerFds({{3}, 5, 20});
  EXPECT_EQ(p.listen_targets, std::vector<int>{21});
  EXPECT_EQ(p.ready_target, 22);
  EXPECT_EQ(p.scoreboard_target, 23);
}

TEST(PlanWorkerArgsTest, TheWorkersFdsAndSlotButNoEnvironmentValues) {
  Config c;
  c.app = "hello:app";
  c.env = {{"SECRET", "hunter2"}};
  FdPlacement p = PlanWorkerFds({{3, 4}, 5, 6});
  std::vector<std::string> args = PlanWorkerArgs("/opt/wsgid-worker", c, 7, p);
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args[0], "/opt/wsgid-worker");
  EXPECT_TRUE(Has(args, "hello:app"));
  EXPECT_FALSE(AnyContains(args, "hunter2"));  // ps shows argv to everyone
  EXPECT_FALSE(AnyContains(args, "SECRET"));
  Config expected = c;
  expected.env.clear();
  expected.worker_listen_fds = {7, 8};
  expected.worker_ready_fd = 9;
  expected.worker_scoreboard_fd = 10;
  expected.worker_id = 7;
  std::vector<std::string> want = ToArgs(expected);
  want.insert(want.begin(), "/opt/wsgid-worker");
  EXPECT_EQ(args, want);
}

TEST(PlanWorkerEnvironmentTest, EnvironmentValuesReplaceInheritedOnes) {
  Environ inherited({"PATH=/bin", "SECRET=old", "HOME=/root", "SECRETS=x"});
  std::vector<std::string> env = PlanWorkerEnvironment(
      inherited.get(), {{"SECRET", "new"}, {"EXTRA", "1"}});
  EXPECT_EQ(env,
            (std::vector<std::string>{"PATH=/bin", "HOME=/root", "SECRETS=x",
                                      "SECRET=new", "EXTRA=1"}));
}

TEST(PlanWorkerEnvironmentTest, NoValuesKeepsTheEnvironment) {
  Environ inherited({"PATH=/bin", "EMPTY="});
  EXPECT_EQ(PlanWorkerEnvironment(inherited.get(), {}),
            (std::vector<std::string>{"PATH=/bin", "EMPTY="}));
}

TEST(PlanNewMasterTest, TheBinaryNextToTheWorkerWithTheListeners) {
  Environ inherited({"PATH=/bin", "LISTEN_FDS=1", "LISTEN_PID=42",
                     "LISTEN_FDNAMES=x", "WSGID_REEXEC=1", "HOME=/root"});
  NewMasterPlan plan = PlanNewMaster(
      "/opt/bin/wsgid-worker", {"-w", "2", "hello:app"}, inherited.get(), 3);
  EXPECT_EQ(plan.program, "/opt/bin/wsgid");
  EXPECT_EQ(plan.argv, (std::vector<std::string>{"/opt/bin/wsgid", "-w", "2",
                                                 "hello:app"}));
  EXPECT_EQ(plan.env, (std::vector<std::string>{
                          "PATH=/bin", "HOME=/root", "LISTEN_FDS=3",
                          "WSGID_REEXEC=1", "LISTEN_PID=0000000000"}));
}

TEST(PlanNewMasterTest, AWorkerPathWithoutADirectory) {
  Environ inherited({});
  NewMasterPlan plan = PlanNewMaster("wsgid-worker", {}, inherited.get(), 1);
  EXPECT_EQ(plan.program, "wsgid");
  EXPECT_EQ(plan.argv, std::vector<std::string>{"wsgid"});
}

}  // namespace
}  // namespace wsgid
