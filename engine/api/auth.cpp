#include "engine/api/auth.hpp"

#include "engine/support/name_table.hpp"
#include "engine/support/sha256.hpp"

namespace rmaflow::api {

namespace {

constexpr NameTable<Role, 4> kRoles{{
    {Role::submitter, "submitter"},
    {Role::viewer, "viewer"},
    {Role::operator_, "operator"},
    {Role::admin, "admin"},
}};

constexpr NameTable<Permission, 7> kPermissions{{
    {Permission::anyone, "anyone"},
    {Permission::identify, "identify"},
    {Permission::start, "start"},
    {Permission::signal, "signal"},
    {Permission::read, "read"},
    {Permission::act, "act"},
    {Permission::deploy, "deploy"},
}};

}  // namespace

std::string_view to_string(Role role) { return name_of(kRoles, role); }
std::optional<Role> parse_role(std::string_view text) { return value_of(kRoles, text); }
std::string_view to_string(Permission permission) { return name_of(kPermissions, permission); }

bool role_may(Role role, Permission permission) {
  // clang-format off
  switch (permission) {
    case Permission::anyone:   return true;
    case Permission::identify: return true;
    case Permission::start:    return role == Role::submitter || role == Role::admin;
    case Permission::signal:   return role == Role::submitter || role == Role::operator_ || role == Role::admin;
    case Permission::read:     return role == Role::viewer || role == Role::operator_ || role == Role::admin;
    case Permission::act:      return role == Role::operator_ || role == Role::admin;
    case Permission::deploy:   return role == Role::admin;
  }
  // clang-format on
  return false;
}

Authenticator::Authenticator(const std::vector<TokenEntry>& tokens) {
  for (const auto& t : tokens) by_hash_.emplace(t.sha256, Principal{t.name, t.role});
}

std::optional<Principal> Authenticator::authenticate(std::string_view authorization) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {  // the scheme is case-insensitive
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return std::nullopt;
    }
  }
  auto token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  auto it = by_hash_.find(sha256_hex(token));
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

}  // namespace rmaflow::api
