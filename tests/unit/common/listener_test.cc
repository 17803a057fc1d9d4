// Unit tests for common/listener.h: bind-address parsing, listening sockets on
// loopback and UNIX paths, and DescribeSocket.
#include "common/listener.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace wsgid {
namespace {

// ---------------------------------------------------------------------------
// ParseBindAddress.

struct BindCase {
  const char* text;
  BindAddress::Kind kind;
  const char* host;
  int port;
  const char* canonical;  // ToString()
};

TEST(ParseBindAddressTest, AcceptedForms) {
  const BindCase cases[] = {
      {"127.0.0.1:8000", BindAddress::Kind::kTcp, "127.0.0.1", 8000,
       "127.0.0.1:8000"},
      {"0.0.0.0:80", BindAddress::Kind::kTcp, "0.0.0.0", 80, "0.0.0.0:80"},
      {"localhost:8080", BindAddress::Kind::kTcp, "localhost", 8080,
       "localhost:8080"},
      {"[::1]:8000", BindAddress::Kind::kTcp, "::1", 8000, "[::1]:8000"},
      {"[::]:443", BindAddress::Kind::kTcp, "::", 443, "[::]:443"},
      {"[fe80::1%lo]:1", BindAddress::Kind::kTcp, "fe80::1%lo", 1,
       "[fe80::1%lo]:1"},
      {":9000", BindAddress::Kind::kTcp, "0.0.0.0", 9000, "0.0.0.0:9000"},
      {"9001", BindAddress::Kind::kTcp, "0.0.0.0", 9001, "0.0.0.0:9001"},
      {"127.0.0.1:0", BindAddress::Kind::kTcp, "127.0.0.1", 0, "127.0.0.1:0"},
      {"127.0.0.1:65535", BindAddress::Kind::kTcp, "127.0.0.1", 65535,
       "127.0.0.1:65535"},
      {"unix:/run/wsgid.sock", BindAddress::Kind::kUnix, "/run/wsgid.sock", 0,
       "unix:/run/wsgid.sock"},
      {"unix:relative.sock", BindAddress::Kind::kUnix, "relative.sock", 0,
       "unix:relative.sock"},
  };
  for (const BindCase& c : cases) {
    StatusOr<BindAddress> a = ParseBindAddress(c.text);
    ASSERT_TRUE(a.ok()) << c.text << ": " << a.status().message();
    EXPECT_EQ(a->kind, c.kind) << c.text;
    EXPECT_EQ(a->host, c.host) << c.text;
    if (c.kind == BindAddress::Kind::kTcp) {
      EXPECT_EQ(a->port, c.port) << c.text;
    }
    EXPECT_EQ(a->ToString(), c.canonical) << c.text;
  }
}

// issue 17: http:// keeps a bind plain when --certfile turns TLS on.
TEST(ParseBindAddressTest, SchemePrefixes) {
  auto plain = ParseBindAddress("http://127.0.0.1:8080");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->scheme, BindAddress::Scheme::kHttp);
  EXPECT_EQ(plain->port, 8080);
  EXPECT_EQ(plain->ToString(), "127.0.0.1:8080");
  auto tls = ParseBindAddress("https://[::1]:8443");
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls->scheme, BindAddress::Scheme::kHttps);
  EXPECT_EQ(tls->host, "::1");
  EXPECT_EQ(ParseBindAddress("127.0.0.1:1")->scheme,
            BindAddress::Scheme::kDefault);
  EXPECT_FALSE(ParseBindAddress("http://").ok());
}

TEST(ListenerUsesTlsTest, EveryTcpBindButHttpOnes) {
  auto a = OpenListener(*ParseBindAddress("127.0.0.1:0"), 8);
  auto b = OpenListener(*ParseBindAddress("127.0.0.1:0"), 8);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string b_name = DescribeSocket(b->get());
  std::string b_port = b_name.substr(b_name.rfind(':') + 1);
  std::vector<std::string> binds = {"127.0.0.1:0",
                                    "http://127.0.0.1:" + b_port};
  EXPECT_TRUE(ListenerUsesTls(a->get(), true, binds));
  EXPECT_FALSE(ListenerUsesTls(b->get(), true, binds));
  EXPECT_FALSE(ListenerUsesTls(a->get(), false, binds));
}

TEST(ParseBindAddressTest, CanonicalFormParsesToTheSameAddress) {
  for (const char* text :
       {"127.0.0.1:8000", "[::1]:8000", ":9000", "9001", "unix:/x.sock"}) {
    StatusOr<BindAddress> a = ParseBindAddress(text);
    ASSERT_TRUE(a.ok()) << text;
    StatusOr<BindAddress> b = ParseBindAddress(a->ToString());
    ASSERT_TRUE(b.ok()) << a->ToString();
    EXPECT_EQ(b->kind, a->kind);
    EXPECT_EQ(b->host, a->host);
    EXPECT_EQ(b->port, a->port);
  }
}

TEST(ParseBindAddressTest, Errors) {
  const std::string too_long_path =
      "unix:/" + std::string(sizeof(sockaddr_un::sun_path), 'p');
  for (const std::string& text :
       {std::string(""), std::string("unix:"), too_long_path,
        std::string("[::1]"), std::string("[::1]8000"),
        std::string("[::1:8000"), std::string("[::1]:"),
        std::string("::1:8000"), std::string("fe80::1:80"),
        std::string("host:"), std::string("host:abc"), std::string("host:80x"),
        std::string("host:65536"), std::string("host:-1"),
        std::string("host:99999999999999999999"), std::string("localhost"),
        std::string("127.0.0.1")}) {
    StatusOr<BindAddress> a = ParseBindAddress(text);
    EXPECT_FALSE(a.ok()) << "'" << text << "' parsed as "
                         << (a.ok() ? a->ToString() : "");
    if (!a.ok()) {
      EXPECT_FALSE(a.status().message().empty());
      if (!text.empty()) {
        EXPECT_NE(a.status().message().find(text), std::string::npos)
            << a.status().message() << " does not quote " << text;
      }
    }
  }
}

// Regression (fixed): the port is read with strtol, which skips leading blanks
// and takes a sign, so "127.0.0.1: 80" and "127.0.0.1:+80" are port 80; "[]:80"
// gives an empty host that only fails later, in getaddrinfo.
TEST(ParseBindAddressTest, MalformedPortOrHostRejected) {
  for (const char* text : {"127.0.0.1: 80", "127.0.0.1:+80", ":-0", "[]:80"}) {
    StatusOr<BindAddress> a = ParseBindAddress(text);
    EXPECT_FALSE(a.ok()) << "'" << text << "' parsed as "
                         << (a.ok() ? a->ToString() : "");
  }
}

TEST(ParseBindAddressTest, LongestUnixPathAccepted) {
  std::string path = "/" + std::string(sizeof(sockaddr_un::sun_path) - 2, 'p');
  StatusOr<BindAddress> a = ParseBindAddress("unix:" + path);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->host, path);
}

// ---------------------------------------------------------------------------
// OpenListener and DescribeSocket.

bool IsNonBlocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }
bool IsCloseOnExec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }
bool IsListening(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v != 0;
}
int IntOption(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}

// Connects a blocking client to `address` (TCP or UNIX) and returns its fd or
// -1.
int ConnectTo(const sockaddr* address, socklen_t len) {
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, address, len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Expects a client connection to `listener` to be accepted.
void ExpectAcceptsConnection(int listener) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  UniqueFd client(ConnectTo(reinterpret_cast<sockaddr*>(&ss), len));
  ASSERT_TRUE(client.valid()) << std::strerror(errno);
  UniqueFd accepted(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_TRUE(accepted.valid()) << std::strerror(errno);
}

TEST(OpenListenerTest, TcpLoopbackEphemeralPort) {
  StatusOr<BindAddress> a = ParseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  StatusOr<UniqueFd> fd = OpenListener(*a, 16);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  int s = fd->get();
  EXPECT_TRUE(IsNonBlocking(s));
  EXPECT_TRUE(IsCloseOnExec(s));
  EXPECT_TRUE(IsListening(s));
  EXPECT_EQ(IntOption(s, SOL_SOCKET, SO_REUSEADDR), 1);

  std::string described = DescribeSocket(s);
  ASSERT_EQ(described.rfind("127.0.0.1:", 0), 0u) << described;
  int port = std::atoi(described.c_str() + 10);
  EXPECT_GT(port, 0);
  EXPECT_LE(port, 65535);
  ExpectAcceptsConnection(s);

  // A non-blocking listener with nothing queued reports EAGAIN instead of
  // waiting.
  EXPECT_LT(::accept4(s, nullptr, nullptr, SOCK_CLOEXEC), 0);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(OpenListenerTest, TcpPortInUseIsAnError) {
  StatusOr<UniqueFd> first = OpenListener(*ParseBindAddress("127.0.0.1:0"), 16);
  ASSERT_TRUE(first.ok()) << first.status().message();
  std::string described = DescribeSocket(first->get());
  StatusOr<BindAddress> same = ParseBindAddress(described);
  ASSERT_TRUE(same.ok()) << described;
  StatusOr<UniqueFd> second = OpenListener(*same, 16);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(described), std::string::npos)
      << second.status().message();
}

TEST(OpenListenerTest, TcpIpv6Loopback) {
  {
    UniqueFd probe(::socket(AF_INET6, SOCK_STREAM, 0));
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    if (!probe.valid() ||
        ::bind(probe.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) !=
            0)
      GTEST_SKIP() << "no IPv6 loopback here";
  }
  StatusOr<UniqueFd> fd = OpenListener(*ParseBindAddress("[::1]:0"), 16);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  std::string described = DescribeSocket(fd->get());
  EXPECT_EQ(described.rfind("[::1]:", 0), 0u) << described;
  EXPECT_EQ(IntOption(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY), 1);
  ExpectAcceptsConnection(fd->get());
}

class UnixListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/wsgid-listener-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    path_ = dir_ + "/s.sock";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  BindAddress Address() const { return *ParseBindAddress("unix:" + path_); }

  std::string dir_;
  std::string path_;
};

TEST_F(UnixListenerTest, OpensAndDescribes) {
  StatusOr<UniqueFd> fd = OpenListener(Address(), 16);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  EXPECT_TRUE(IsNonBlocking(fd->get()));
  EXPECT_TRUE(IsCloseOnExec(fd->get()));
  EXPECT_TRUE(IsListening(fd->get()));
  EXPECT_EQ(DescribeSocket(fd->get()), "unix:" + path_);
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  ExpectAcceptsConnection(fd->get());
}

TEST_F(UnixListenerTest, StaleSocketFileReplaced) {
  {
    StatusOr<UniqueFd> old = OpenListener(Address(), 16);
    ASSERT_TRUE(old.ok()) << old.status().message();
  }  // closed: the socket file stays behind
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  StatusOr<UniqueFd> fd = OpenListener(Address(), 16);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  ExpectAcceptsConnection(fd->get());
}

TEST_F(UnixListenerTest, RegularFileAtPathRefusedAndKept) {
  std::FILE* f = std::fopen(path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("precious", f);
  std::fclose(f);
  StatusOr<UniqueFd> fd = OpenListener(Address(), 16);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find(path_), std::string::npos)
      << fd.status().message();
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 8);
}

TEST_F(UnixListenerTest, DirectoryAtPathRefused) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  StatusOr<UniqueFd> fd = OpenListener(Address(), 16);
  EXPECT_FALSE(fd.ok());
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(UnixListenerTest, SymlinkAtPathRefused) {
  std::string target = dir_ + "/target";
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  StatusOr<UniqueFd> fd = OpenListener(Address(), 16);
  EXPECT_FALSE(fd.ok());
  ::unlink(path_.c_str());
}

TEST_F(UnixListenerTest, MissingDirectoryIsAnError) {
  StatusOr<UniqueFd> fd = OpenListener(
      *ParseBindAddress("unix:" + dir_ + "/no/such/dir/s.sock"), 16);
  ASSERT_FALSE(fd.ok());
  EXPECT_FALSE(fd.status().message().empty());
}

TEST(DescribeSocketTest, NotASocket) {
  EXPECT_EQ(DescribeSocket(-1), "");
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  EXPECT_EQ(DescribeSocket(p[0]), "");
  ::close(p[0]);
  ::close(p[1]);
}

TEST(DescribeSocketTest, UnboundTcpSocket) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(s.valid());
  EXPECT_EQ(DescribeSocket(s.get()), "0.0.0.0:0");
}

}  // namespace
}  // namespace wsgid
