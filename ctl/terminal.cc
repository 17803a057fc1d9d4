#include "ctl/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "ctl/table.h"

namespace wsgid::ctl {
namespace {

// Set by the signal handlers, read by Wait(). The signals stay blocked except
// inside ppoll, so a signal cannot slip in between the check and the wait.
volatile sig_atomic_t quit_signal = 0;
volatile sig_atomic_t resized = 0;

sigset_t saved_mask;
struct sigaction saved_actions[NSIG];
constexpr int kQuitSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void OnQuit(int) { quit_signal = 1; }
void OnResize(int) { resized = 1; }

// Enters the alternate screen (the shell's screen comes back on exit) and hides
// the cursor, which would otherwise blink somewhere in the table.
constexpr char kEnterScreen[] = "\x1b[?1049h\x1b[?25l";
constexpr char kLeaveScreen[] = "\x1b[?25h\x1b[?1049l";

void WriteOut(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal went away; nothing useful to do
    done += static_cast<size_t>(n);
  }
}

// Cuts `text` to `width` columns without splitting a UTF-8 character.
std::string Cut(const std::string& text, size_t width) {
  if (DisplayWidth(text) <= width) return text;
  size_t columns = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (columns == width) return text.substr(0, i);
      ++columns;
    }
  }
  return text;
}

}  // namespace

StatusOr<std::unique_ptr<RawTerminal>> RawTerminal::Enter() {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
    return Status::InvalidArgument(
        "top needs a terminal (use --once to print one frame)");
  }
  std::unique_ptr<RawTerminal> terminal(new RawTerminal());
  if (::tcgetattr(STDIN_FILENO, &terminal->saved_) != 0) {
    return Status::FromErrno("tcgetattr", errno);
  }
  termios raw = terminal->saved_;
  // Keys arrive one by one without echo; Ctrl-C arrives as a byte (no ISIG) so
  // that quitting always goes through the destructor that restores the
  // terminal.
  raw.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
  raw.c_iflag &= ~(IXON | ICRNL);
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) {
    return Status::FromErrno("tcsetattr", errno);
  }

  quit_signal = 0;
  resized = 0;
  sigset_t block;
  sigemptyset(&block);
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = OnQuit;
  for (int sig : kQuitSignals) {
    sigaddset(&block, sig);
    ::sigaction(sig, &action, &saved_actions[sig]);
  }
  action.sa_handler = OnResize;
  sigaddset(&block, SIGWINCH);
  ::sigaction(SIGWINCH, &action, &saved_actions[SIGWINCH]);
  ::sigprocmask(SIG_BLOCK, &block, &saved_mask);

  WriteOut(kEnterScreen);
  return terminal;
}

RawTerminal::~RawTerminal() {
  WriteOut(kLeaveScreen);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  for (int sig : kQuitSignals) ::sigaction(sig, &saved_actions[sig], nullptr);
  ::sigaction(SIGWINCH, &saved_actions[SIGWINCH], nullptr);
  ::sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
}

RawTerminal::Event RawTerminal::Wait(std::chrono::duration<double> timeout) {
  using Clock = std::chrono::steady_clock;
  auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  while (true) {
    if (quit_signal) return Event::kQuit;
    if (resized) {
      resized = 0;
      return Event::kResize;
    }
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return Event::kTimeout;
    auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait{static_cast<time_t>(ns / 1000000000),
                  static_cast<long>(ns % 1000000000)};
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    int n = ::ppoll(&fd, 1, &wait, &saved_mask);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Event::kQuit;  // stdin is broken: no way to read q either
    }
    if (n == 0) continue;
    if (fd.revents & (POLLHUP | POLLERR | POLLNVAL)) return Event::kQuit;
    char keys[64];
    ssize_t got = ::read(STDIN_FILENO, keys, sizeof keys);
    if (got == 0) return Event::kQuit;  // end of input
    for (ssize_t i = 0; i < got; ++i) {
      char key = keys[i];
      if (key == 'q' || key == 'Q' || key == 0x03 /* Ctrl-C */ ||
          key == 0x04 /* Ctrl-D */) {
        return Event::kQuit;
      }
    }
    if (got > 0) return Event::kKey;
  }
}

void RawTerminal::Draw(const std::vector<std::string>& lines) {
  winsize size{};
  size_t columns = 80;
  size_t rows = 24;
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 &&
      size.ws_row > 0) {
    columns = size.ws_col;
    rows = size.ws_row;
  }
  // Home, then each line followed by erase-to-end-of-line, then erase below:
  // the screen is cleared without the flash of a full clear on every refresh.
  std::string frame = "\x1b[H";
  size_t shown = std::min(lines.size(), rows);
  for (size_t i = 0; i < shown; ++i) {
    std::string line = lines[i];
    if (i + 1 == rows && lines.size() > rows) {
      line = "... " + std::to_string(lines.size() - rows + 1) + " more lines";
    }
    frame += Cut(line, columns) + "\x1b[K";
    // No newline after the last row: it would scroll the screen by one line.
    if (i + 1 < rows) frame += "\r\n";
  }
  frame += "\x1b[J";
  WriteOut(frame);
}

}  // namespace wsgid::ctl
