// The text of a file from outside (a workflow, a schema, an adapters, data, tokens or scenario
// file, an input), read only when it keeps its bound: its size is known before a byte of it is
// read, and nothing past the bound is read (a file that grows while it is read, or one that
// does not know its size, like those under /proc, is cut off there). A FIFO or a device is
// refused unread: opening a FIFO would wait for a writer, and a terminal is never made the
// process's controlling terminal by the open.
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
  std::size_t bound = 0;    // the max_bytes it was read against
  std::string why;          // for unreadable, the system's words ("Permission denied")

  bool read() const { return fault == Fault::none; }
};

FileText read_file_text(const std::string& path, std::size_t max_bytes);

// The one wording of a file or a text past its bound, to follow its name ("the file ",
// "P "): "holds 8589934592 bytes, more than the 1048576 a workflow file may hold".
std::string past_bound(std::uintmax_t bytes, std::size_t bound, std::string_view kind);

// Why `file` was not read: "no such file", "it is a directory", "it is not a regular file",
// "it holds 9 bytes, more than the 8 it may hold", or the system's words ("Permission denied").
std::string unread_reason(const FileText& file);

// The same as a sentence naming the file, by its role when one is given ("the tokens file"):
// "cannot read the tokens file P: no such file".
std::string unread_sentence(const std::string& path, const FileText& file,
                            std::string_view role = {});

}  // namespace rmaflow
