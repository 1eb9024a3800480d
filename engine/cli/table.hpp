// Plain-text tables for the CLI: columns padded to their widest cell.
//
// Cells often hold what came from outside (business keys, error messages, reasons, actors), so
// a cell is shown as text, never as terminal control: control characters (an escape sequence
// could move the cursor, clear the screen or retitle the window) appear as visible escapes,
// "\x1b", "\n", "\u009b". Widths count code points, so accented keys line up.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmaflow::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void add(std::vector<std::string> row);
  std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// `text` with its control characters (C0, DEL, C1) written as visible escapes.
std::string printable(std::string_view text);

}  // namespace rmaflow::cli
