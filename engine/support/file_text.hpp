// The text of a file from outside (a workflow, a schema, an adapters, data, tokens or scenario
// file, an input), read only when it keeps its bound: its size is known before a byte of it is
// read, and nothing past the bound is read (a file that grows while it is read, or one that
// does not know its size, like those under /proc, is cut off there). A FIFO or a device is
// refused unread: opening a FIFO would wait for a writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rmaflow {

struct FileText {
  enum class Fault { none, missing, directory, not_regular, unreadable, too_large };
  Fault fault = Fault::none;
  std::string text;         // when it was read
  std::uintmax_t size = 0;  // bytes: what it holds, or for too_large at least max_bytes + 1
  std::string why;          // for unreadable, the system's words ("Permission denied")

  bool read() const { return fault == Fault::none; }
};

FileText read_file_text(const std::string& path, std::size_t max_bytes);

// Why `file` (at `path`) was not read, for a fault other than too_large, naming the file by its
// role when one is given ("the tokens file"): "cannot read the tokens file P: no such file",
// "...: it is a directory", "...: it is not a regular file", "...: Permission denied".
std::string unread_sentence(const std::string& path, const FileText& file,
                            std::string_view role = {});

}  // namespace rmaflow
