// Unit tests for worker/connection_table.h: slots by fd, chunks allocated on
// first use and kept, capacity, ForEach over allocated chunks only.
#include "worker/connection_table.h"

#include <gtest/gtest.h>

#include <thread>

namespace wsgid {
namespace {

constexpr int kChunk = ConnectionTable::kChunkSize;

TEST(ConnectionTableTest, CapacityRoundsUpToWholeChunks) {
  EXPECT_EQ(ConnectionTable(100).capacity(), static_cast<size_t>(kChunk));
  EXPECT_EQ(ConnectionTable(kChunk).capacity(),
            static_cast<size_t>(2 * kChunk));
  EXPECT_EQ(ConnectionTable(0).capacity(), static_cast<size_t>(kChunk));
}

TEST(ConnectionTableTest, FindIsNullUntilTheChunkIsAllocated) {
  ConnectionTable table(4 * kChunk);
  EXPECT_EQ(table.Find(5), nullptr);
  Connection* conn = table.Get(5);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(table.Find(5), conn);
  // The rest of that chunk is there too; other chunks are not.
  EXPECT_NE(table.Find(kChunk - 1), nullptr);
  EXPECT_EQ(table.Find(kChunk), nullptr);
  EXPECT_EQ(table.Find(3 * kChunk + 5), nullptr);
}

TEST(ConnectionTableTest, FindBeyondTheCapacityIsNull) {
  ConnectionTable table(kChunk);
  EXPECT_EQ(table.Find(static_cast<int>(table.capacity())), nullptr);
  EXPECT_EQ(table.Find(1 << 30), nullptr);
}

TEST(ConnectionTableTest, SlotsAreStableAndKeepTheirGeneration) {
  ConnectionTable table(kChunk);
  Connection* conn = table.Get(7);
  conn->word.store(Connection::Make(41, Connection::kParked));
  table.Get(8);  // the same chunk: nothing moves
  EXPECT_EQ(table.Get(7), conn);
  EXPECT_EQ(table.Find(7), conn);
  EXPECT_EQ(Connection::Generation(table.Find(7)->word.load()), 41u);
  EXPECT_NE(table.Get(8), conn);
}

TEST(ConnectionTableTest, ForEachVisitsEverySlotOfAllocatedChunksOnly) {
  ConnectionTable table(4 * kChunk);
  int visited = 0;
  table.ForEach([&](Connection*) { ++visited; });
  EXPECT_EQ(visited, 0);
  table.Get(3);
  table.Get(2 * kChunk + 1);
  table.Get(2 * kChunk + 2);
  table.ForEach([&](Connection*) { ++visited; });
  EXPECT_EQ(visited, 2 * kChunk);
}

TEST(ConnectionTableTest, ThreadsRacingForANewChunkGetTheSameSlot) {
  for (int round = 0; round < 20; ++round) {
    ConnectionTable table(8 * kChunk);
    Connection* seen[2] = {nullptr, nullptr};
    std::thread a([&] { seen[0] = table.Get(5 * kChunk + 9); });
    std::thread b([&] { seen[1] = table.Get(5 * kChunk + 9); });
    a.join();
    b.join();
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_EQ(table.Find(5 * kChunk + 9), seen[0]);
  }
}

}  // namespace
}  // namespace wsgid
