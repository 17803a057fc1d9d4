#include "worker/record_grouper.h"

namespace wsgid {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool StartsTraceback(std::string_view line) {
  return StartsWith(line, "Traceback (most recent call last):");
}

// The first lines of faulthandler's dumps.
bool StartsStack(std::string_view line) {
  return StartsWith(line, "Fatal Python error") ||
         StartsWith(line, "Thread 0x") ||
         StartsWith(line, "Current thread 0x") ||
         StartsWith(line, "Stack (most recent call first)");
}

// Python's headers of a traceback printed outside the main flow: a thread's
// unhandled exception, an exception in __del__ or a callback.
bool StartsTracebackHeader(std::string_view line) {
  return StartsWith(line, "Exception in thread ") ||
         StartsWith(line, "Exception ignored in");
}

bool IsChainLine(std::string_view line) {
  return StartsWith(line, "During handling of the above exception") ||
         StartsWith(line, "The above exception was the direct cause");
}

bool Indented(std::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

}  // namespace

void RecordGrouper::Start(std::string_view line, Mode mode) {
  mode_ = mode;
  text_.assign(line);
  held_blank_lines_ = 0;
}

void RecordGrouper::Append(std::string_view line) {
  for (; held_blank_lines_ > 0; --held_blank_lines_) text_ += '\n';
  text_ += '\n';
  text_.append(line);
}

std::vector<GroupedRecord> RecordGrouper::Flush() {
  std::vector<GroupedRecord> out;
  if (mode_ != Mode::kNone)
    out.push_back({std::move(text_), mode_ != Mode::kLine});
  text_.clear();
  mode_ = Mode::kNone;
  held_blank_lines_ = 0;
  return out;
}

std::vector<GroupedRecord> RecordGrouper::Add(std::string_view line) {
  bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
  switch (mode_) {
    case Mode::kTraceback:
    case Mode::kAfterException:
    case Mode::kStack:
      if (blank) {
        ++held_blank_lines_;
        return {};
      }
      if (Indented(line) || IsChainLine(line) ||
          (mode_ == Mode::kStack && StartsStack(line)) ||
          (mode_ == Mode::kStack && StartsWith(line, "Extension modules:"))) {
        Append(line);
        return {};
      }
      if (StartsTraceback(line) && mode_ != Mode::kStack) {
        Append(line);
        mode_ = Mode::kTraceback;
        return {};
      }
      if (mode_ == Mode::kTraceback && held_blank_lines_ == 0) {
        Append(line);  // the exception line ends the traceback
        mode_ = Mode::kAfterException;
        return {};
      }
      break;
    case Mode::kLine:
      if (Indented(line)) {
        Append(line);
        return {};
      }
      break;
    case Mode::kNone:
      break;
  }
  std::vector<GroupedRecord> out = Flush();
  if (blank) return out;  // a blank line alone is no record
  Start(line, StartsTraceback(line)         ? Mode::kTraceback
              : StartsStack(line)           ? Mode::kStack
              : StartsTracebackHeader(line) ? Mode::kAfterException
                                            : Mode::kLine);
  return out;
}

}  // namespace wsgid
