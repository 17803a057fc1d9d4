// The shared-memory scoreboard: layout, attach checks, sealing, thread
// activity.
#include "common/scoreboard.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace wsgid {
namespace {

TEST(ScoreboardTest, WorkerSeesWhatTheMasterCreated) {
  auto master = Scoreboard::Create(4);
  ASSERT_TRUE(master.ok()) << master.status().message();
  master->Reset(2, 12345);
  auto worker = Scoreboard::Attach(::dup(master->fd()));
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  EXPECT_EQ(worker->slots(), 4);
  EXPECT_EQ(worker->slot(2).heartbeat_ns.load(), 12345);
  worker->slot(2).heartbeat_ns.store(999);
  EXPECT_EQ(master->slot(2).heartbeat_ns.load(), 999);
}

TEST(ScoreboardTest, SealedAgainstResizing) {
  auto master = Scoreboard::Create(2);
  ASSERT_TRUE(master.ok());
  // A worker (or app code through ctypes) shrinking it would make the master
  // SIGBUS.
  EXPECT_NE(::ftruncate(master->fd(), 0), 0);
  EXPECT_NE(::ftruncate(master->fd(), 1 << 30), 0);
}

TEST(ScoreboardTest, AttachRefusesAForeignFile) {
  int fd = ::memfd_create("not-a-scoreboard", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  auto board = Scoreboard::Attach(fd);
  EXPECT_FALSE(board.ok());
}

TEST(ScoreboardTest, ResetClearsAPreviousWorkersState) {
  auto board = Scoreboard::Create(1);
  ASSERT_TRUE(board.ok());
  Scoreboard::BeginRequest(&board->slot(0).thread[0], 10, "GET", "/x");
  board->slot(0).requests.store(7);
  board->Reset(0, 50);
  EXPECT_FALSE(Scoreboard::Read(board->slot(0).thread[0]).busy);
  EXPECT_EQ(board->slot(0).requests.load(), 0u);
  EXPECT_EQ(board->slot(0).heartbeat_ns.load(), 50);
}

TEST(ScoreboardTest, ThreadActivityRoundTrip) {
  auto board = Scoreboard::Create(1);
  ASSERT_TRUE(board.ok());
  ThreadSlot* t = &board->slot(0).thread[3];
  Scoreboard::BeginRequest(t, 100, "POST", "/upload");
  ThreadActivity a = Scoreboard::Read(*t);
  EXPECT_TRUE(a.busy);
  EXPECT_EQ(a.request_start_ns, 100);
  EXPECT_EQ(a.method, "POST");
  EXPECT_EQ(a.path, "/upload");
  Scoreboard::EndRequest(t, 350);
  a = Scoreboard::Read(*t);
  EXPECT_FALSE(a.busy);
  EXPECT_EQ(t->busy_ns.load(), 250);
  EXPECT_EQ(t->requests.load(), 1u);
}

TEST(ScoreboardTest, LongStringsAreTruncatedAndTerminated) {
  auto board = Scoreboard::Create(1);
  ASSERT_TRUE(board.ok());
  ThreadSlot* t = &board->slot(0).thread[0];
  std::string path(500, 'p');
  Scoreboard::BeginRequest(t, 1, std::string(40, 'M'), path);
  ThreadActivity a = Scoreboard::Read(*t);
  EXPECT_EQ(a.path.size(), sizeof t->path - 1);
  EXPECT_EQ(a.method.size(), sizeof t->method - 1);
}

TEST(ScoreboardTest, ReadSurvivesGarbageWrittenByTheApp) {
  auto board = Scoreboard::Create(1);
  ASSERT_TRUE(board.ok());
  ThreadSlot* t = &board->slot(0).thread[0];
  // No terminator anywhere: the reader must still produce bounded strings.
  std::memset(t->method, 'x', sizeof t->method);
  std::memset(t->path, 'y', sizeof t->path);
  ThreadActivity a = Scoreboard::Read(*t);
  EXPECT_LT(a.method.size(), sizeof t->method);
  EXPECT_LT(a.path.size(), sizeof t->path);
}

}  // namespace
}  // namespace wsgid
