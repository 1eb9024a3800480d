// Who may call the API: bearer tokens, each with a name (the actor recorded in audits) and a
// role. Only SHA-256 hashes of the tokens are stored; a token is shown once, when it is made.
//
// Roles (design §6): submitter starts instances and sends signals; viewer reads; operator
// reads, repairs (actions, bulk jobs) and sends signals by hand; admin does all of it and
// deploys workflows. What a role is not granted it may not do (default deny).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rmaflow::api {

enum class Role { submitter, viewer, operator_, admin };
// anyone: no token needed; identify: any valid token (who am I); the rest as the roles grant.
enum class Permission { anyone, identify, start, signal, read, act, deploy };

std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);
std::string_view to_string(Permission permission);
bool role_may(Role role, Permission permission);

struct TokenEntry {
  std::string name;
  Role role = Role::viewer;
  std::string sha256;  // hex digest of the token
};

struct Principal {
  std::string name;
  Role role = Role::viewer;
};

class Authenticator {
 public:
  // Without entries nobody is authenticated.
  explicit Authenticator(const std::vector<TokenEntry>& tokens);
  // The principal an Authorization header names ("Bearer <token>"); nullopt for a missing,
  // malformed or unknown token.
  std::optional<Principal> authenticate(std::string_view authorization) const;

 private:
  std::unordered_map<std::string, Principal> by_hash_;
};

}  // namespace rmaflow::api
