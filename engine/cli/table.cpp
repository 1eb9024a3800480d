#include "engine/cli/table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rmaflow::cli {

namespace {

// The columns `text` takes: its code points (a UTF-8 continuation byte takes none).
std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::vector<std::string> printable_row(std::vector<std::string> row) {
  for (auto& cell : row) cell = printable(cell);
  return row;
}

}  // namespace

std::string printable(std::string_view text) {
  auto is_control = [](unsigned char c) { return c < 0x20 || c == 0x7F; };
  // C1 controls (U+0080..U+009F) are two bytes in UTF-8: C2 80..C2 9F.
  auto is_c1 = [&](std::size_t i) {
    return static_cast<unsigned char>(text[i]) == 0xC2 && i + 1 < text.size() &&
           static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(text[i + 1]) <= 0x9F;
  };
  bool clean = true;
  for (std::size_t i = 0; i < text.size() && clean; ++i)
    clean = !is_control(static_cast<unsigned char>(text[i])) && !is_c1(i);
  if (clean) return std::string(text);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_control(c)) {
      out += fmt::format("\\x{:02x}", c);
    } else if (is_c1(i)) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Table::Table(std::vector<std::string> header) : rows_{printable_row(std::move(header))} {}

void Table::add(std::vector<std::string> row) {
  rows_.push_back(printable_row(std::move(row)));
}

std::string Table::render() const {
  std::vector<std::size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], columns(row[i]));
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - columns(row[i]) + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last column leaves no padding
    out += line + '\n';
  }
  return out;
}

}  // namespace rmaflow::cli
