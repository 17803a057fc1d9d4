#include "common/status_codes.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

namespace wsgid {
namespace {

TEST(StatusCodesTest, ExitCodesTheReadmeDocuments) {
  EXPECT_EQ(ExitCodeFor(Program::kDaemon, Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Program::kDaemon, Status::InvalidArgument("-w x")), 2);
  EXPECT_EQ(ExitCodeFor(Program::kDaemon,
                        Status::Error(StatusCode::kAppLoad, "import")),
            3);
  EXPECT_EQ(ExitCodeFor(Program::kDaemon, Status::Unavailable("in use")), 1);
  EXPECT_EQ(ExitCodeFor(Program::kWorker,
                        Status::Error(StatusCode::kAppLoad, "import")),
            4);
  EXPECT_EQ(ExitCodeFor(Program::kWorker, Status::Unavailable("boot")), 3);
  EXPECT_EQ(ExitCodeFor(Program::kCtl, Status::Unavailable("no daemon")), 3);
  EXPECT_EQ(ExitCodeFor(Program::kCtl,
                        Status::Error(StatusCode::kUnauthenticated, "401")),
            4);
  EXPECT_EQ(ExitCodeFor(Program::kCtl,
                        Status::Error(StatusCode::kDeadlineExceeded, "t")),
            124);
}

TEST(StatusCodesTest, EveryRowSitsAtItsCodeWithADistinctApiName) {
  std::set<std::string> names;
  for (size_t i = 0; i < std::size(kStatusCodeTable); ++i) {
    EXPECT_EQ(static_cast<size_t>(kStatusCodeTable[i].code), i);
    EXPECT_TRUE(names.insert(kStatusCodeTable[i].api_error).second)
        << kStatusCodeTable[i].api_error;
  }
}

TEST(StatusCodesTest, HttpStatusesMapBackToTheirCodes) {
  EXPECT_EQ(StatusCodeFromHttp(200), StatusCode::kOk);
  EXPECT_EQ(StatusCodeFromHttp(400), StatusCode::kMalformed);
  EXPECT_EQ(StatusCodeFromHttp(401), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusCodeFromHttp(404), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeFromHttp(409), StatusCode::kConflict);
  EXPECT_EQ(StatusCodeFromHttp(422), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromHttp(418), StatusCode::kRefused);
  EXPECT_EQ(StatusCodeFromHttp(500), StatusCode::kInternal);
}

TEST(StatusCodesTest, ErrnoPicksACode) {
  EXPECT_EQ(Status::FromErrno("open x", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::FromErrno("bind", EADDRINUSE).code(),
            StatusCode::kUnavailable);
  Status s = Status::FromErrno("bind", EADDRINUSE).Prefixed("--ops-bind: ");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().rfind("--ops-bind: bind: ", 0), 0u) << s.message();
}

}  // namespace
}  // namespace wsgid
