#include "daemon/embedded_python.h"

#include <gtest/gtest.h>

namespace wsgid {
namespace {

TEST(EmbeddedPythonTest, ParsesTheWorkersAnswer) {
  auto python = ParseEmbeddedPython(
      "3.12.1 /root/.pyenv/versions/3.12.1/bin/python3.12\n");
  ASSERT_TRUE(python.ok());
  EXPECT_EQ(python->version, "3.12.1");
  EXPECT_EQ(python->executable, "/root/.pyenv/versions/3.12.1/bin/python3.12");
  // A path with a space stays whole.
  EXPECT_EQ(ParseEmbeddedPython("3.9.18 /opt/my py/bin/python3\n")->executable,
            "/opt/my py/bin/python3");
}

TEST(EmbeddedPythonTest, GarbageIsUnavailable) {
  EXPECT_EQ(ParseEmbeddedPython("").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ParseEmbeddedPython("usage: wsgid-worker\n").status().code(),
            StatusCode::kUnavailable);
}

TEST(EmbeddedPythonTest, MissingWorkerIsUnavailable) {
  EXPECT_EQ(QueryEmbeddedPython("/nonexistent/wsgid-worker").status().code(),
            StatusCode::kUnavailable);
}

TEST(EmbeddedPythonTest, NoVirtualenvNeedsNoWorker) {
  Config config;
  EXPECT_TRUE(
      CheckConfiguredVirtualenv(config, "/nonexistent/wsgid-worker").ok());
  config.virtualenv = "/tmp";
  EXPECT_FALSE(
      CheckConfiguredVirtualenv(config, "/nonexistent/wsgid-worker").ok());
}

}  // namespace
}  // namespace wsgid
