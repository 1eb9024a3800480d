#include "engine/net/http_message.hpp"

#include <algorithm>
#include <boost/beast/http/status.hpp>
#include <cctype>
#include <ostream>  // boost/core/detail/string_view.hpp uses std::ostream without including it

namespace rmaflow::net {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::optional<std::string_view> HttpHeaders::find(std::string_view name) const {
  for (const auto& field : fields_) {
    if (same_name(field.name, name)) return std::string_view(field.value);
  }
  return std::nullopt;
}

void HttpHeaders::set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const Field& f) { return same_name(f.name, name); });
  add(std::move(name), std::move(value));
}

void HttpHeaders::add(std::string name, std::string value) {
  fields_.push_back(Field{std::move(name), std::move(value)});
}

HttpResponse HttpResponse::with_body(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.headers.set("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

std::string_view reason_phrase(int status) {
  auto text = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  return {text.data(), text.size()};
}

}  // namespace rmaflow::net
