// The web console's static files (engine/api/console/), compiled into the binary at build time
// (engine/api/console_assets.cmake), so that `rmaflow serve` alone serves the console: nothing
// to install beside it, nothing fetched at run time.
#pragma once

#include <span>
#include <string_view>

namespace rmaflow::api {

struct ConsoleAsset {
  std::string_view name;          // the file's name: "index.html", "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // a quoted strong validator: the SHA-256 of the content
  std::string_view body;
};

// Every file of the console, by name.
std::span<const ConsoleAsset> console_assets();

}  // namespace rmaflow::api
