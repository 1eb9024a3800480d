// The keys of every mapping in the workflow DSL, in one table. The parsers accept exactly these
// keys; the editor schema (workflows/schemas/workflow.schema.json) lists each table under
// "definitions" by the same name, and a test checks that both say the same.
#pragma once

#include <string_view>
#include <vector>

namespace rmaflow::dsl {

using Keys = std::vector<std::string_view>;

struct KeyTable {
  std::string_view name;  // the schema's definition name: "workflow", "task_step", "retry", ...
  Keys keys;              // in the order the docs list them
};

// Every mapping of the DSL.
const std::vector<KeyTable>& key_tables();

// The keys of the table named `name`; a name not in key_tables() is a programming error
// (std::logic_error).
const Keys& keys_of(std::string_view name);

}  // namespace rmaflow::dsl
