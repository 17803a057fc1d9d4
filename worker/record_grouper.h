// Groups the lines an app prints into log records (--log-format json): each
// line is a record, but a Python traceback (with its chained exceptions) and a
// faulthandler stack dump stay one record each, and an indented line continues
// the record before it.
//
// Pure: fed complete lines, it returns the records they complete. One per
// stream; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wsgid {

struct GroupedRecord {
  std::string text;     // lines joined with '\n', no trailing newline
  bool multiline_kind;  // a traceback or a stack dump (logged as error)
};

class RecordGrouper {
 public:
  // Feeds one line (without its '\n'); returns the records it completed.
  std::vector<GroupedRecord> Add(std::string_view line);
  // The pending record, if any (at EOF, or when the stream went quiet).
  std::vector<GroupedRecord> Flush();
  bool pending() const { return mode_ != Mode::kNone; }

 private:
  enum class Mode { kNone, kLine, kTraceback, kAfterException, kStack };
  void Start(std::string_view line, Mode mode);
  void Append(std::string_view line);
  Mode mode_ = Mode::kNone;
  std::string text_;
  size_t held_blank_lines_ = 0;  // blank lines that may end the record
};

}  // namespace wsgid
