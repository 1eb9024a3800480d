// The tokens file: `rmaflow serve --auth F` reads it, `rmaflow token` writes it. It holds each
// token's name, role and SHA-256 hash, never the token itself:
//
//   tokens:
//     - { name: returns-platform, role: submitter, sha256: 9f86d081884c7d65... }
#pragma once

#include <string>
#include <vector>

#include "engine/api/auth.hpp"

namespace rmaflow::api {

// Throws Error(io) when the file cannot be read, Error(invalid_argument) naming the file, line
// and column of what is malformed (an unknown role, a duplicate name, a hash that is not 64
// hex digits, an unknown key).
std::vector<TokenEntry> load_token_file(const std::string& path);

// Writes the file whole (a new file renamed over the old), readable by its owner only.
// Throws Error(io).
void save_token_file(const std::string& path, const std::vector<TokenEntry>& tokens);

// A fresh token: "rmf_" and 256 random bits in base64url. Throws Error(io) when the system
// has no randomness to give.
std::string new_token();

// Token names: letters, digits and . _ @ - (they appear in audits and file lines).
bool valid_token_name(const std::string& name);

}  // namespace rmaflow::api
