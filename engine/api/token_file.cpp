#include "engine/api/token_file.hpp"

#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/dsl/yaml_bounds.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::api {

namespace {

[[noreturn]] void malformed(const std::string& path, const YAML::Mark& mark,
                            const std::string& why) {
  throw Error(Errc::invalid_argument,
              fmt::format("{}:{}:{}: {}", path, mark.line + 1, mark.column + 1, why));
}

bool is_hex_digest(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

TokenEntry read_entry(const std::string& path, const YAML::Node& node) {
  if (!node.IsMap()) malformed(path, node.Mark(), "each token must be a mapping {name, role, sha256}");
  TokenEntry entry;
  for (const auto& field : node) {
    auto key = field.first.as<std::string>();
    const auto& value = field.second;
    if (!value.IsScalar()) malformed(path, value.Mark(), fmt::format("{} must be a string", key));
    auto text = value.as<std::string>();
    if (key == "name") {
      if (!valid_token_name(text)) {
        malformed(path, value.Mark(),
                  fmt::format("token name \"{}\" may only hold letters, digits and . _ @ -", text));
      }
      entry.name = text;
    } else if (key == "role") {
      auto role = parse_role(text);
      if (!role) {
        malformed(path, value.Mark(),
                  fmt::format("unknown role \"{}\" (submitter, viewer, operator, admin)", text));
      }
      entry.role = *role;
    } else if (key == "sha256") {
      if (!is_hex_digest(text)) {
        malformed(path, value.Mark(), "sha256 must be 64 lower-case hex digits");
      }
      entry.sha256 = text;
    } else {
      malformed(path, field.first.Mark(),
                fmt::format("unknown key \"{}\" (name, role, sha256)", key));
    }
  }
  for (auto [missing, present] : {std::pair{"name", !entry.name.empty()},
                                  std::pair{"sha256", !entry.sha256.empty()},
                                  std::pair{"role", node["role"].IsDefined()}}) {
    if (!present) malformed(path, node.Mark(), fmt::format("this token has no {}", missing));
  }
  return entry;
}

}  // namespace

bool valid_token_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
           c == '-';
  });
}

std::vector<TokenEntry> load_token_file(const std::string& path) {
  auto root = dsl::load_bounded_yaml_file(
      path, "the tokens file", dsl::data_file_bounds("a tokens file"), Errc::invalid_argument);
  std::vector<TokenEntry> tokens;
  if (root.IsNull()) return tokens;  // an empty file: no tokens yet
  if (!root.IsMap() || !root["tokens"] || root.size() != 1) {
    malformed(path, root.Mark(), "a tokens file holds one key, tokens: a list of tokens");
  }
  const auto& list = root["tokens"];
  if (list.IsNull()) return tokens;
  if (!list.IsSequence()) malformed(path, list.Mark(), "tokens must be a list");
  std::set<std::string> names;
  for (const auto& node : list) {
    auto entry = read_entry(path, node);
    if (!names.insert(entry.name).second) {
      malformed(path, node.Mark(), fmt::format("a second token is named {}", entry.name));
    }
    tokens.push_back(std::move(entry));
  }
  return tokens;
}

void save_token_file(const std::string& path, const std::vector<TokenEntry>& tokens) {
  std::string text =
      "# rmaflow API tokens: name, role and the SHA-256 of the token (the token itself is "
      "not kept).\n# Managed with `rmaflow token`.\ntokens:\n";
  for (const auto& t : tokens) {
    text += fmt::format("  - {{ name: {}, role: {}, sha256: {} }}\n", t.name, to_string(t.role),
                        t.sha256);
  }
  auto temp = path + ".new";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(Errc::io, fmt::format("cannot write the tokens file {}", temp));
    ::chmod(temp.c_str(), S_IRUSR | S_IWUSR);
    out << text;
    out.flush();
    if (!out) throw Error(Errc::io, fmt::format("cannot write the tokens file {}", temp));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) throw Error(Errc::io, fmt::format("cannot replace {}: {}", path, ec.message()));
}

std::string new_token() {
  std::array<unsigned char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n <= 0) throw Error(Errc::io, "the system has no randomness to make a token with");
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "rmf_";
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

}  // namespace rmaflow::api
