// rmaflow token add / list / remove: manages the tokens file `rmaflow serve --auth F` reads. A
// new token is printed once; the file keeps only its SHA-256.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "engine/api/token_file.hpp"
#include "engine/cli/commands.hpp"
#include "engine/support/sha256.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::cli {

namespace {

struct TokenOptions {
  std::string file;
  std::string name;
  std::string role;
};

std::vector<api::TokenEntry> existing(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  return api::load_token_file(file);
}

int add(const TokenOptions& opt) {
  if (!api::valid_token_name(opt.name)) {
    throw Error(Errc::invalid_argument,
                fmt::format("token name \"{}\" may only hold letters, digits and . _ @ -", opt.name));
  }
  auto role = api::parse_role(opt.role);
  auto tokens = existing(opt.file);
  for (const auto& t : tokens) {
    if (t.name == opt.name) {
      throw Error(Errc::conflict, fmt::format("{} already has a token named {}; remove it first",
                                              opt.file, opt.name));
    }
  }
  auto token = api::new_token();
  tokens.push_back(api::TokenEntry{opt.name, *role, sha256_hex(token)});
  api::save_token_file(opt.file, tokens);
  fmt::print("{}\n", token);
  fmt::print(stderr, "added token {} ({}) to {}; it is shown only now: keep it somewhere safe\n",
             opt.name, opt.role, opt.file);
  return kExitOk;
}

int list(const TokenOptions& opt) {
  auto tokens = api::load_token_file(opt.file);
  for (const auto& t : tokens) fmt::print("{}\t{}\n", t.name, api::to_string(t.role));
  return kExitOk;
}

int remove(const TokenOptions& opt) {
  auto tokens = api::load_token_file(opt.file);
  auto it = std::find_if(tokens.begin(), tokens.end(),
                         [&](const api::TokenEntry& t) { return t.name == opt.name; });
  if (it == tokens.end()) {
    throw Error(Errc::not_found, fmt::format("{} has no token named {}", opt.file, opt.name));
  }
  tokens.erase(it);
  api::save_token_file(opt.file, tokens);
  fmt::print("removed token {} from {}; a running server stops accepting it when restarted\n",
             opt.name, opt.file);
  return kExitOk;
}

}  // namespace

void register_token(CLI::App& app, int& exit_code) {
  auto* token = app.add_subcommand("token", "Manage the API's bearer tokens (the file serve --auth reads)");
  token->require_subcommand(1);

  auto add_opt = std::make_shared<TokenOptions>();
  auto* a = token->add_subcommand("add", "Make a token, print it once, store its hash");
  a->add_option("--auth", add_opt->file, "The tokens file (created if missing)")->required();
  a->add_option("--name", add_opt->name, "Who it is for; recorded as the actor of its actions")
      ->required();
  a->add_option("--role", add_opt->role, "submitter, viewer, operator or admin")
      ->required()
      ->check(CLI::IsMember({"submitter", "viewer", "operator", "admin"}));
  a->callback([add_opt, &exit_code] { exit_code = add(*add_opt); });

  auto list_opt = std::make_shared<TokenOptions>();
  auto* l = token->add_subcommand("list", "List the tokens' names and roles");
  l->add_option("--auth", list_opt->file, "The tokens file")->required();
  l->callback([list_opt, &exit_code] { exit_code = list(*list_opt); });

  auto rm_opt = std::make_shared<TokenOptions>();
  auto* r = token->add_subcommand("remove", "Remove a token");
  r->add_option("--auth", rm_opt->file, "The tokens file")->required();
  r->add_option("--name", rm_opt->name, "The token's name")->required();
  r->callback([rm_opt, &exit_code] { exit_code = remove(*rm_opt); });
}

}  // namespace rmaflow::cli
