// Gunicorn's access log atoms, text and JSON; the grouping of the app's
// printed lines into records (tracebacks and stack dumps whole).
#include "worker/access_log_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "worker/record_grouper.h"

namespace wsgid {
namespace {

class AccessLogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_.remote_addr = "10.0.0.1";
    raw_ = "GET /a/b?x=1 HTTP/1.1";
    head_.method = std::string_view(raw_).substr(0, 3);
    head_.target = std::string_view(raw_).substr(4, 8);
    head_.path = std::string_view(raw_).substr(4, 4);
    head_.query = std::string_view(raw_).substr(9, 3);
    head_.headers.push_back({"User-Agent", "curl/8"});
    head_.headers.push_back({"X-Foo", "bar"});
    head_.headers.push_back({"X-Request-ID", "from-proxy"});
    response_headers_ = {{"Content-Type", "text/plain"}};
  }
  AccessLogEntry Entry() {
    return {&conn_,          &head_, 404, 1234, 1500000, &response_headers_,
            &environ_values_};
  }
  Connection conn_{};
  std::string raw_;
  RequestHead head_;
  std::vector<std::pair<std::string, std::string>> response_headers_;
  std::vector<std::string> environ_values_;
  timespec now_{1764640800, 0};
};

TEST_F(AccessLogFormatTest, LetterAtoms) {
  AccessLogFormat f(
      "%(h)s %(l)s %(u)s \"%(r)s\" %(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(b)s "
      "\"%(f)s\" \"%(a)s\" %(T)s %(M)s %(D)s %(L)s %(p)s %(z)s");
  EXPECT_EQ(f.Text(Entry(), now_, 77),
            "10.0.0.1 - - \"GET /a/b?x=1 HTTP/1.1\" GET /a/b x=1 HTTP/1.1 404 "
            "1234 1234 \"-\" \"curl/8\" 1 1500 1500000 1.500000 <77> -");
}

TEST_F(AccessLogFormatTest, HeaderAndEnvironAtoms) {
  AccessLogFormat f(
      "%({x-foo}i)s %({X-Missing}i)s %({content-type}o)s "
      "%({wsgi.url_scheme}e)s "
      "%({remote_addr}e)s %({wsgi.url_scheme}e)s");
  ASSERT_EQ(f.environ_keys(),
            (std::vector<std::string>{"wsgi.url_scheme", "remote_addr"}));
  environ_values_ = {"https", "10.0.0.9"};
  EXPECT_EQ(f.Text(Entry(), now_, 1), "bar - text/plain https 10.0.0.9 https");
  AccessLogEntry no_environ = Entry();
  no_environ.environ_values = nullptr;
  EXPECT_EQ(f.Text(no_environ, now_, 1), "bar - text/plain - - -");
}

TEST_F(AccessLogFormatTest, JsonRecordHasStableFields) {
  AccessLogFormat f(
      "%(h)s %({x-foo}i)s %({content-type}o)s %({remote_addr}e)s");
  environ_values_ = {"10.0.0.9"};
  std::string line = f.Json(Entry(), now_, 55, 2);
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["pid"], 55);
  EXPECT_EQ(j["worker"], 2);
  EXPECT_EQ(j["stream"], "access");
  EXPECT_EQ(j["message"], "10.0.0.1 bar text/plain 10.0.0.9");
  EXPECT_EQ(j["remote_addr"], "10.0.0.1");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/a/b");
  EXPECT_EQ(j["query"], "x=1");
  EXPECT_EQ(j["protocol"], "HTTP/1.1");
  EXPECT_EQ(j["request_line"], "GET /a/b?x=1 HTTP/1.1");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["bytes"], 1234);
  EXPECT_EQ(j["user_agent"], "curl/8");
  EXPECT_EQ(j["referer"], "-");
  EXPECT_EQ(j["duration_us"], 1500000);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 1.5);
  EXPECT_EQ(j["request_id"], "from-proxy");
  EXPECT_EQ(j["request_headers"]["x-foo"], "bar");
  EXPECT_EQ(j["response_headers"]["content-type"], "text/plain");
  EXPECT_EQ(j["environ"]["remote_addr"], "10.0.0.9");
  // The app's X-Request-ID wins over the proxy's.
  response_headers_.push_back({"x-request-id", "from-app"});
  EXPECT_EQ(nlohmann::json::parse(f.Json(Entry(), now_, 55, 2))["request_id"],
            "from-app");
  head_.headers.pop_back();
  response_headers_.pop_back();
  EXPECT_TRUE(nlohmann::json::parse(f.Json(Entry(), now_, 55, 2))["request_id"]
                  .is_null());
}

// Gunicorn's _get_user: "Basic" (any case), the base64 after the first space
// decoded as Python's b64decode does, the part before the first ':'.
TEST(BasicAuthUser, DecodesTheNameBeforeTheColon) {
  EXPECT_EQ(BasicAuthUser("Basic YWxpY2U6czM6Y3JldA=="), "alice");  // s3:cret
  EXPECT_EQ(BasicAuthUser("basic dXNlcjpwYXNz"), "user");
  EXPECT_EQ(BasicAuthUser("BASIC   dXNlcjpwYXNz  "), "user");
  EXPECT_EQ(BasicAuthUser("Basic Ym9i"), "bob");           // no colon: all
  EXPECT_EQ(BasicAuthUser("Basic dXNlcg=="), "user");      // 1 byte padded
  EXPECT_EQ(BasicAuthUser("Basic dXNlcjo="), "user");      // 2 bytes padded
  EXPECT_EQ(BasicAuthUser("Basic w6k6eA=="), "\xC3\xA9");  // UTF-8 name
  // As Python's non-strict decoder: characters outside the alphabet are
  // skipped, and what follows complete padding is ignored.
  EXPECT_EQ(BasicAuthUser("Basic dXNl cjpw YXNz"), "user");
  EXPECT_EQ(BasicAuthUser("Basic !!dXN!lcjpwYXNz"), "user");
  EXPECT_EQ(BasicAuthUser("Basic dXNlcg==junk"), "user");
}

TEST(BasicAuthUser, NoNameWhenNotBasicOrMalformed) {
  EXPECT_EQ(BasicAuthUser(""), "");
  EXPECT_EQ(BasicAuthUser("Bearer dXNlcjpwYXNz"), "");
  EXPECT_EQ(BasicAuthUser("Digest username=\"user\""), "");
  EXPECT_EQ(BasicAuthUser("Basic"), "");                // no credentials
  EXPECT_EQ(BasicAuthUser("Basic "), "");               // empty
  EXPECT_EQ(BasicAuthUser("Basic dXNlcg"), "");         // missing padding
  EXPECT_EQ(BasicAuthUser("Basic dXNlcg="), "");        // padding short
  EXPECT_EQ(BasicAuthUser("Basic d"), "");              // 1 character over
  EXPECT_EQ(BasicAuthUser("Basic OnB3"), "");           // ":pw": empty name
  EXPECT_EQ(BasicAuthUser("Basic //46cHc="), "");       // not UTF-8
  EXPECT_EQ(BasicAuthUser("Basic\tdXNlcjpwYXNz"), "");  // no space
}

TEST_F(AccessLogFormatTest, UserAtomAndJsonUserField) {
  AccessLogFormat f("%(u)s %(h)s");
  EXPECT_EQ(f.Text(Entry(), now_, 1), "- 10.0.0.1");
  EXPECT_TRUE(
      nlohmann::json::parse(f.Json(Entry(), now_, 1, 1))["user"].is_null());
  head_.headers.push_back({"Authorization", "Basic YWxpY2U6czM6Y3JldA=="});
  EXPECT_EQ(f.Text(Entry(), now_, 1), "alice 10.0.0.1");
  auto j = nlohmann::json::parse(f.Json(Entry(), now_, 1, 1));
  EXPECT_EQ(j["user"], "alice");
  EXPECT_EQ(j["message"], "alice 10.0.0.1");
  EXPECT_EQ(j["process"], "worker");
  head_.headers.back().value = "Bearer YWxpY2U6czM6Y3JldA==";
  EXPECT_EQ(f.Text(Entry(), now_, 1), "- 10.0.0.1");
  EXPECT_TRUE(
      nlohmann::json::parse(f.Json(Entry(), now_, 1, 1))["user"].is_null());
  head_.headers.back().value = "Basic %%%";
  EXPECT_EQ(f.Text(Entry(), now_, 1), "- 10.0.0.1");
}

std::vector<GroupedRecord> Feed(const std::vector<std::string>& lines) {
  RecordGrouper g;
  std::vector<GroupedRecord> out;
  for (const std::string& line : lines)
    for (GroupedRecord& r : g.Add(line)) out.push_back(std::move(r));
  for (GroupedRecord& r : g.Flush()) out.push_back(std::move(r));
  return out;
}

TEST(RecordGrouper, EachPlainLineIsARecord) {
  auto records = Feed({"one", "", "two"});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].text, "one");
  EXPECT_FALSE(records[0].multiline_kind);
  EXPECT_EQ(records[1].text, "two");
}

TEST(RecordGrouper, ChainedTracebackIsOneRecord) {
  auto records = Feed(
      {"before", "Exception in thread Thread-1:",
       "Traceback (most recent call last):", "  File \"a.py\", line 1, in f",
       "    g()", "KeyError: 'x'", "",
       "During handling of the above exception, another "
       "exception occurred:",
       "", "Traceback (most recent call last):",
       "  File \"a.py\", line 3, in f", "ValueError: y", "after"});
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].text, "before");
  EXPECT_TRUE(records[1].multiline_kind);
  EXPECT_EQ(records[1].text.rfind("Exception in thread", 0), 0u);
  EXPECT_NE(records[1].text.find("KeyError: 'x'\n\nDuring handling"),
            std::string::npos);
  EXPECT_EQ(records[1].text.substr(records[1].text.size() - 13),
            "ValueError: y");
  EXPECT_EQ(records[2].text, "after");
}

TEST(RecordGrouper, FaulthandlerDumpIsOneRecord) {
  auto records =
      Feed({"Fatal Python error: Aborted", "",
            "Thread 0x00007f (most recent call first):",
            "  File \"app.py\", line 40 in app", "",
            "Current thread 0x00007e (most recent call first):",
            "  <no Python frame>", "", "Extension modules: x, y", "next"});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].multiline_kind);
  EXPECT_NE(records[0].text.find("Current thread"), std::string::npos);
  EXPECT_NE(records[0].text.find("Extension modules"), std::string::npos);
  EXPECT_EQ(records[1].text, "next");
}

}  // namespace
}  // namespace wsgid
