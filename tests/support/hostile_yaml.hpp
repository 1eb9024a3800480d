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

// Workflow `name`: `steps` steps in a line, each with a catch route to a step drawn by a fixed
// pseudo-random sequence. Graphviz's crossing minimisation takes about 45 s over 200 of them on
// the standard machine (a catch to (i * 119) % 150 took 2.6 s), whatever its iteration limits
// say.
inline std::string slow_layout_workflow(const std::string& name, int steps = 200) {
  std::string yaml = "workflow: " + name + "\nversion: 1\nstart: s0\nsteps:\n";
  unsigned long long x = 1;
  for (int i = 0; i < steps; ++i) {
    x = (x * 1103515245 + 12345) % (1ULL << 31);
    const std::string next = i + 1 < steps ? "s" + std::to_string(i + 1) : "done";
    yaml += "  s" + std::to_string(i) + ": { action: builtin.noop, next: " + next +
            ", catch: [ { errors: [X], next: s" + std::to_string((x >> 16) % steps) + " } ] }\n";
  }
  return yaml + "  done: { end: completed }\n";
}

}  // namespace rmaflow::testing
