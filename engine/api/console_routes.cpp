// The web console: one page (GET /) and its files (GET /console/{file}), compiled into the
// binary. They need no token: they hold no data, and the page signs in with a token the
// operator pastes, sent as a bearer token on every API call (no cookies, so no CSRF). The page
// is served with a strict Content-Security-Policy: scripts only from these files, nothing
// inline, no other origin.
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/console_assets.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/problem.hpp"

namespace rmaflow::api {

namespace {

constexpr const char* kConsolePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ConsoleAsset* find_asset(std::string_view name) {
  for (const auto& asset : console_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

// The file, or 304 when the browser's copy is current (the ETag is its content's hash).
net::HttpResponse asset_response(const ApiRequest& request, const ConsoleAsset& asset) {
  net::HttpResponse response;
  if (request.http.headers.get("if-none-match") == asset.etag) {
    response.status = 304;
  } else {
    response = net::HttpResponse::with_body(200, std::string(asset.body), std::string(asset.content_type));
  }
  response.headers.set("ETag", std::string(asset.etag));
  response.headers.set("Cache-Control", "no-cache");
  response.headers.set("Content-Security-Policy", kConsolePolicy);
  response.headers.set("Referrer-Policy", "no-referrer");
  response.headers.set("X-Frame-Options", "DENY");
  response.headers.set("Cross-Origin-Opener-Policy", "same-origin");
  return response;
}

}  // namespace

void get_console(ApiContext&, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto* page = find_asset("index.html");
  if (page == nullptr) fail(404, "not-found", "this build has no web console");
  answer(asset_response(request, *page));
}

void get_console_file(ApiContext&, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto& name = request.path.at("file");
  const auto* asset = find_asset(name);
  if (asset == nullptr) fail(404, "not-found", fmt::format("the console has no file {}", name));
  answer(asset_response(request, *asset));
}

}  // namespace rmaflow::api
