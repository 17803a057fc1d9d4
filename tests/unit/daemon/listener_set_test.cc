// The listener set's bookkeeping with fake sockets: the fake SocketOps hands
// out eventfds (any fd will do; nothing listens) and records what was opened.
#include "daemon/listener_set.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace wsgid {
namespace {

class FakeSockets : public SocketOps {
 public:
  StatusOr<UniqueFd> Open(const std::string& bind, int backlog) override {
    opened.push_back(bind);
    last_backlog = backlog;
    if (failing.count(bind) != 0)
      return Status::Unavailable(bind + ": Address already in use");
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC));
    names[fd.get()] = "bound:" + bind;
    return fd;
  }
  void Adopt(int fd) override { adopted.push_back(fd); }
  std::string Describe(int fd) override { return names[fd]; }
  int64_t QueueLength(int fd) override { return queues[names[fd]]; }

  std::vector<std::string> opened;
  std::set<std::string> failing;
  std::map<int, std::string> names;
  std::map<std::string, int64_t> queues;  // by name
  std::vector<int> adopted;
  int last_backlog = 0;
};

TEST(ListenerSetTest, OpensEachBindInOrder) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  ASSERT_TRUE(set.Open({"a:1", "b:2"}, 128).ok());
  EXPECT_EQ(sockets.opened, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(sockets.last_backlog, 128);
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.names(), (std::vector<std::string>{"bound:a:1", "bound:b:2"}));
}

TEST(ListenerSetTest, AReloadKeepsTheSocketsOfBindsItStillHas) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  ASSERT_TRUE(set.Open({"a:1", "b:2"}, 128).ok());
  int b_fd = set.fds()[1];
  sockets.opened.clear();
  ASSERT_TRUE(set.Open({"b:2", "c:3"}, 128).ok());
  EXPECT_EQ(sockets.opened, std::vector<std::string>{"c:3"});
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set.fds()[0], b_fd);  // the same socket: its queue survives
  EXPECT_EQ(set.names(), (std::vector<std::string>{"bound:b:2", "bound:c:3"}));
}

TEST(ListenerSetTest, ABindThatCannotOpenChangesNothing) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  ASSERT_TRUE(set.Open({"a:1"}, 128).ok());
  std::vector<int> before = set.fds();
  sockets.failing = {"bad:9"};
  Status s = set.Open({"c:3", "bad:9", "a:1"}, 128);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad:9"), std::string::npos);
  EXPECT_EQ(set.fds(), before);
  EXPECT_EQ(set.names(), std::vector<std::string>{"bound:a:1"});
  // And the set still works after it.
  sockets.failing.clear();
  ASSERT_TRUE(set.Open({"a:1", "c:3"}, 128).ok());
  EXPECT_EQ(set.fds()[0], before[0]);
}

TEST(ListenerSetTest, TheSameBindTwiceNeedsTwoSockets) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  ASSERT_TRUE(set.Open({"a:1", "a:1"}, 128).ok());
  EXPECT_EQ(sockets.opened.size(), 2u);
  sockets.opened.clear();
  ASSERT_TRUE(set.Open({"a:1", "a:1"}, 128).ok());  // both kept
  EXPECT_TRUE(sockets.opened.empty());
}

TEST(ListenerSetTest, QueueLengthsByListener) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  ASSERT_TRUE(set.Open({"a:1", "b:2"}, 128).ok());
  sockets.queues = {{"bound:a:1", 3}, {"bound:b:2", 4}};
  auto queues = set.QueueLengths();
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_EQ(queues[0], (std::pair<std::string, int64_t>{"bound:a:1", 3}));
  EXPECT_EQ(set.TotalQueueLength(), 7);
}

TEST(ListenerSetTest, AdoptingNothingAddsNothing) {
  FakeSockets sockets;
  ListenerSet set(&sockets);
  set.Adopt(0, {"a:1"});
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(sockets.adopted.empty());
}

TEST(InheritedListenerCountTest, OnlyWhenHandedToThisProcess) {
  EXPECT_EQ(InheritedListenerCount("2", "1234", 1234), 2);
  EXPECT_EQ(InheritedListenerCount("0", "1234", 1234), 0);
  EXPECT_EQ(InheritedListenerCount("2", "999", 1234), std::nullopt);
  EXPECT_EQ(InheritedListenerCount(nullptr, "1234", 1234), std::nullopt);
  EXPECT_EQ(InheritedListenerCount("2", nullptr, 1234), std::nullopt);
  EXPECT_EQ(InheritedListenerCount("-5", "1234", 1234), 0);
}

}  // namespace
}  // namespace wsgid
