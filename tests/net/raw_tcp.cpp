#include "tests/net/raw_tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace rmaflow::testing {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

void set_read_timeout(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Reads one message (header, then a Content-Length body) from `buffer` + `fd`.
std::string read_message(int fd, std::string& buffer) {
  char chunk[4096];
  for (;;) {
    auto end = buffer.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      auto header = buffer.substr(0, end);
      for (auto& c : header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto at = header.find("content-length:"); at != std::string::npos) {
        length = std::strtoul(header.c_str() + at + 15, nullptr, 10);
      }
      if (buffer.size() >= end + 4 + length) {
        auto message = buffer.substr(0, end + 4 + length);
        buffer.erase(0, end + 4 + length);
        return message;
      }
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  set_read_timeout(fd_);
}

RawConnection::~RawConnection() {
  ::close(fd_);
}

void RawConnection::send(const std::string& bytes) {
  write_all(fd_, bytes);
}

std::string RawConnection::read_response() {
  return read_message(fd_, pending_);
}

std::string RawConnection::read_all() {
  std::string out = std::move(pending_);
  pending_.clear();
  char chunk[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return out;
    out.append(chunk, static_cast<std::size_t>(n));
  }
}

// Closed in order (end of stream) or reset: either way the server let the connection go.
bool RawConnection::closed_by_peer() {
  char c;
  if (!pending_.empty()) return false;
  ssize_t n = ::recv(fd_, &c, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

bool connection_refused(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(port);
  bool refused = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
  ::close(fd);
  return refused;
}

RawListener::RawListener(int connections, std::function<void(int fd)> script) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this, connections, script = std::move(script)] {
    for (int i = 0; i < connections; ++i) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      set_read_timeout(client);
      script(client);
      ::close(client);
    }
  });
}

RawListener::~RawListener() {
  ::shutdown(fd_, SHUT_RDWR);
  join();
  ::close(fd_);
}

void RawListener::join() {
  if (thread_.joinable()) thread_.join();
}

std::string read_request(int fd) {
  std::string buffer;
  return read_message(fd, buffer);
}

void write_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace rmaflow::testing
