// RawTerminal: the terminal handling of `top`. Puts the tty in non-canonical,
// no-echo mode on the alternate screen and restores everything when destroyed,
// also when the process is asked to stop by a signal (which would otherwise
// leave a broken shell).
#pragma once

#include <termios.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace wsgid::ctl {

class RawTerminal {
 public:
  enum class Event { kTimeout, kQuit, kResize, kKey };

  // Enters raw mode on stdin/stdout, which must both be terminals. One at a
  // time.
  static StatusOr<std::unique_ptr<RawTerminal>> Enter();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // Waits up to `timeout` for a key or a signal. q, Q, Ctrl-C, Ctrl-D and
  // SIGINT, SIGTERM, SIGHUP mean kQuit; a window size change means kResize.
  Event Wait(std::chrono::duration<double> timeout);

  // Replaces the screen's content with `lines`, cut to the window so nothing
  // wraps or scrolls, in one write.
  void Draw(const std::vector<std::string>& lines);

 private:
  RawTerminal() = default;
  termios saved_{};
};

}  // namespace wsgid::ctl
