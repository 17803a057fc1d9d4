// Table: rows of text cells printed as aligned columns, each padded to its
// widest cell.
#pragma once

#include <string>
#include <vector>

namespace wsgid::ctl {

class Table {
 public:
  enum class Align { kLeft, kRight };

  // `header` may be empty for a table without a heading line (key/value
  // listings).
  explicit Table(std::vector<std::string> header = {})
      : header_(std::move(header)) {}

  // Right alignment is for numbers, so their digits line up.
  void SetAlign(size_t column, Align align);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // One string per line (the header first), columns two spaces apart, without
  // trailing blanks and without newlines.
  std::vector<std::string> Lines() const;
  // Lines() joined, each ending with a newline.
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<Align> align_;
};

// The width of `text` on a terminal, counting UTF-8 code points (paths can hold
// any).
size_t DisplayWidth(const std::string& text);

}  // namespace wsgid::ctl
