// read_file_text: a file from outside is read only when it keeps its bound, its size known
// before a byte of it is read; FIFOs and devices are refused unread.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/support/file_text.hpp"

using namespace rmaflow;
using Fault = FileText::Fault;

namespace {

struct Folder {
  Folder() {
    char name[] = "/tmp/rmaflow-file-text-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~Folder() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& text) const {
    auto at = path + "/" + name;
    int fd = ::open(at.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    return at;
  }
  std::string path;
};

}  // namespace

TEST_CASE("Support.FileText.ReadWithinItsBoundOnly") {
  Folder folder;
  auto small = folder.file("small.yaml", "hello");
  auto read = read_file_text(small, 5);
  CHECK(read.read());
  CHECK(read.text == "hello");
  read = read_file_text(small, 4);
  CHECK(read.fault == Fault::too_large);
  CHECK(read.size == 5);
  CHECK(read.text.empty());
  CHECK(unread_sentence(small, read, "the tokens file") ==
        "cannot read the tokens file " + small + ": it holds 5 bytes, more than the 4 it may hold");
  CHECK(read_file_text(folder.file("empty.yaml", ""), 0).read());

  // 8 GiB, sparse: refused by its size, unread (reading it would take 8 GiB of memory).
  auto big = folder.file("big.yaml", "");
  REQUIRE(::truncate(big.c_str(), off_t{8} << 30) == 0);
  read = read_file_text(big, 1 << 20);
  CHECK(read.fault == Fault::too_large);
  CHECK(read.size == std::uintmax_t{8} << 30);

  // A file that does not know its size is read up to its bound, and no further.
  read = read_file_text("/proc/self/maps", 10);
  CHECK(read.fault == Fault::too_large);
  CHECK(read.size == 11);
  CHECK(unread_reason(read) == "it holds 11 bytes, more than the 10 it may hold");
  read = read_file_text("/proc/self/maps", 16 << 20);
  CHECK(read.read());
  CHECK(read.text.find("[stack]") != std::string::npos);
}

TEST_CASE("Support.FileText.WhatIsNotARegularFileIsRefusedUnread") {
  Folder folder;
  // Opening a FIFO for reading waits for a writer: this test would not end if it were opened
  // so.
  auto fifo = folder.path + "/fifo.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto read = read_file_text(fifo, 1 << 20);
  CHECK(read.fault == Fault::not_regular);
  CHECK(unread_sentence(fifo, read) == "cannot read " + fifo + ": it is not a regular file");
  read = read_file_text("/dev/zero", 1 << 20);
  CHECK(read.fault == Fault::not_regular);
  read = read_file_text(folder.path, 1 << 20);
  CHECK(read.fault == Fault::directory);
  CHECK(unread_sentence(folder.path, read) == "cannot read " + folder.path + ": it is a directory");
  auto missing = folder.path + "/missing.yaml";
  read = read_file_text(missing, 1 << 20);
  CHECK(read.fault == Fault::missing);
  CHECK(unread_sentence(missing, read, "the tokens file") ==
        "cannot read the tokens file " + missing + ": no such file");
  read = read_file_text(folder.file("plain", "x") + "/below", 1 << 20);
  CHECK(read.fault == Fault::missing);
}

// A terminal named as a file is refused, and the open that finds out does not make it the
// controlling terminal of a process that has none (a daemon's session, `serve` under systemd),
// which would let the terminal's hangup end the process.
TEST_CASE("Support.FileText.ATerminalIsNotMadeTheControllingTerminal") {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  std::string terminal = ::ptsname(master);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A session of its own has no controlling terminal: the first terminal its leader opens
    // without O_NOCTTY becomes it.
    if (::setsid() < 0) ::_exit(2);
    auto read = read_file_text(terminal, 1 << 20);
    if (read.fault != Fault::not_regular) ::_exit(3);
    int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY);
    ::_exit(tty < 0 ? 0 : 1);  // /dev/tty opens only for a process with a controlling terminal
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(master);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
