#include "ctl/table.h"

#include <algorithm>

namespace wsgid::ctl {

size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80)
      ++width;  // continuation bytes do not start a character
  }
  return width;
}

void Table::SetAlign(size_t column, Align align) {
  if (align_.size() <= column) align_.resize(column + 1, Align::kLeft);
  align_[column] = align;
}

void Table::AddRow(std::vector<std::string> cells) {
  rows_.push_back(std::move(cells));
}

std::vector<std::string> Table::Lines() const {
  std::vector<const std::vector<std::string>*> all;
  if (!header_.empty()) all.push_back(&header_);
  for (const auto& row : rows_) all.push_back(&row);

  std::vector<size_t> widths;
  for (const auto* row : all) {
    if (widths.size() < row->size()) widths.resize(row->size(), 0);
    for (size_t i = 0; i < row->size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth((*row)[i]));
    }
  }

  std::vector<std::string> lines;
  for (const auto* row : all) {
    std::string line;
    for (size_t i = 0; i < row->size(); ++i) {
      const std::string& cell = (*row)[i];
      size_t pad = widths[i] - DisplayWidth(cell);
      bool right = i < align_.size() && align_[i] == Align::kRight;
      if (i > 0) line += "  ";
      if (right) line.append(pad, ' ');
      line += cell;
      if (!right) line.append(pad, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string Table::Render() const {
  std::string out;
  for (const std::string& line : Lines()) out += line + "\n";
  return out;
}

}  // namespace wsgid::ctl
