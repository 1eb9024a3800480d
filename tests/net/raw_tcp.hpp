// Test helpers speaking TCP by hand, for what a well-behaved HTTP client or server never does:
// a header that stops half-way, garbage instead of HTTP, a server that closes the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace rmaflow::testing {

// A blocking client connection to 127.0.0.1. Reads give up after 10 s (a hung server fails
// the test instead of hanging it).
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes);
  // One HTTP response: its header and, by Content-Length, its body. Empty when the server
  // closed the connection first.
  std::string read_response();
  // Everything until the server closes the connection.
  std::string read_all();
  // True when the server has closed the connection (a read sees end of file).
  bool closed_by_peer();

 private:
  int fd_ = -1;
  std::string pending_;  // read past the last response
};

// True when a connection to 127.0.0.1:port is refused.
bool connection_refused(std::uint16_t port);

// A TCP listener on 127.0.0.1 whose accepted connections a test script serves on its own
// thread: script(fd) runs for each accepted connection, in turn, up to `connections`.
class RawListener {
 public:
  RawListener(int connections, std::function<void(int fd)> script);
  ~RawListener();
  std::uint16_t port() const { return port_; }
  // Waits for the script to have served every connection.
  void join();

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// For scripts: reads one HTTP request (header and Content-Length body) from fd; empty at EOF.
std::string read_request(int fd);
void write_all(int fd, const std::string& bytes);

}  // namespace rmaflow::testing
