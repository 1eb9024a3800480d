// Which signals an instance of a workflow version can ever consume. A signal no wait step
// could take is refused when it arrives rather than kept forever (a misspelt name, or an event
// sent to the wrong workflow). Sub-flows add theirs here as the DSL grows them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::dsl {

// The names the definition's wait steps wait for, sorted, each once.
std::vector<std::string> consumable_signals(const Definition& definition);

// Empty when an instance of `definition` can consume a signal named `name`; otherwise the
// sentence that refuses it, naming the signals the definition does wait for.
std::string signal_refusal(const Definition& definition, std::string_view name);

}  // namespace rmaflow::dsl
