// What kind of value a jq program's output is, where that can be told from its text alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rmaflow::dsl {

// When the program's first output can never be a boolean or null (so jq always takes it as
// true), what it is instead: "an assignment, which outputs the changed input" for `.a = "x"`,
// "an object" for `{a: 1}`, "an array", "a string", "a number". nullopt when it may be a
// boolean or null, or when the text does not tell (a function call, a pipe into `not`, ...).
std::optional<std::string> never_boolean(std::string_view program);

}  // namespace rmaflow::dsl
