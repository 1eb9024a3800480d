// Hostile YAML the readers of every kind of file are tried with.
#pragma once

#include <string>

namespace rmaflow::testing {

// Anchors `a` to `h`, each a list of nine aliases of the one before: a few hundred bytes that
// stand for 9^8 (43 million) nodes once the aliases are expanded. `*h` names it all.
inline std::string yaml_alias_bomb() {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    const std::string alias = std::string("*") + static_cast<char>(c - 1);
    yaml += std::string(1, c) + ": &" + c + " [" + alias;
    for (int i = 1; i < 9; ++i) yaml += ", " + alias;
    yaml += "]\n";
  }
  return yaml;
}

}  // namespace rmaflow::testing
