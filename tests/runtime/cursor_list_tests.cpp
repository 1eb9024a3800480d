// CursorList: an instance's cursors with their indexes by branch and by parent, and the
// remembered place of find_remembered().
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/runtime/instance.hpp"

using namespace rmaflow;

namespace {

LiveCursor at(const std::string& branch, Phase phase = Phase::idle) {
  LiveCursor c;
  c.branch = branch;
  c.phase = phase;
  return c;
}

std::vector<std::string> children_of(CursorList& list, const std::string& parent) {
  std::vector<std::string> out;
  if (const auto* children = list.children(parent)) {
    for (const LiveCursor* c : children->cursors) out.push_back(c->branch);
  }
  return out;
}

}  // namespace

TEST_CASE("Runtime.CursorList.ChildrenAreKeptInOrderAsCursorsComeAndGo") {
  CursorList list;
  list.push_back(at(""));
  for (const char* b :
       {"lines[L1]", "lines[L2]", "lines[L1]/checks[a]", "lines[L3]", "lines[L1]/checks[b]"}) {
    list.push_back(at(b));
  }
  CHECK(children_of(list, "") == std::vector<std::string>{"lines[L1]", "lines[L2]", "lines[L3]"});
  CHECK(children_of(list, "lines[L1]") ==
        std::vector<std::string>{"lines[L1]/checks[a]", "lines[L1]/checks[b]"});
  CHECK(list.children("lines[L2]") == nullptr);

  const auto before = list.children("")->changed;
  list.remove_if([](const LiveCursor& c) { return c.branch == "lines[L2]"; });
  CHECK(children_of(list, "") == std::vector<std::string>{"lines[L1]", "lines[L3]"});
  CHECK(list.children("")->changed != before);
  CHECK(list.find("lines[L2]") == nullptr);

  list.remove_if([](const LiveCursor& c) { return within(c.branch, "lines[L1]/checks[a]"); });
  list.remove_if([](const LiveCursor& c) { return c.branch == "lines[L1]/checks[b]"; });
  CHECK(list.children("lines[L1]") == nullptr);
  CHECK(list.size() == 3);
}

TEST_CASE("Runtime.CursorList.DescendantsAreFoundByPrefixOnly") {
  CursorList list;
  list.push_back(at(""));
  CHECK_FALSE(list.has_descendants(""));
  list.push_back(at("lines[1]"));
  list.push_back(at("lines[10]"));
  list.push_back(at("lines[1]/checks[a]"));
  list.push_back(at("lines[1]/checks[a]/deep[x]"));
  CHECK(list.has_descendants(""));
  CHECK(list.has_descendants("lines[1]"));
  CHECK(list.has_descendants("lines[1]/checks[a]"));
  CHECK_FALSE(list.has_descendants("lines[10]"));
  CHECK_FALSE(list.has_descendants("lines[1]/checks[a]/deep[x]"));
  CHECK_FALSE(list.has_descendants("lines"));

  // A branch nested two levels down whose holder is gone is still found (a damaged row).
  list.remove_if([](const LiveCursor& c) { return c.branch == "lines[1]/checks[a]"; });
  CHECK(list.children("lines[1]") == nullptr);
  CHECK(list.has_descendants("lines[1]"));
}

TEST_CASE("Runtime.CursorList.FindRememberedLooksOnFromItsLastFindAndSurvivesRemovals") {
  CursorList list;
  list.push_back(at(""));
  for (int i = 1; i <= 6; ++i) list.push_back(at("b[" + std::to_string(i) + "]"));
  auto invoking = [](const LiveCursor& c) { return c.phase == Phase::invoking; };
  CHECK(list.find_remembered(invoking) == nullptr);

  list.find("b[2]")->phase = Phase::invoking;
  list.find("b[5]")->phase = Phase::invoking;
  CHECK(list.find_remembered(invoking)->branch == "b[2]");
  // The last one found comes first while it matches...
  CHECK(list.find_remembered(invoking)->branch == "b[2]");
  // ...then the search goes on from there, and round to the start.
  list.find("b[2]")->phase = Phase::ended;
  CHECK(list.find_remembered(invoking)->branch == "b[5]");
  list.find("b[1]")->phase = Phase::invoking;
  list.find("b[5]")->phase = Phase::ended;
  CHECK(list.find_remembered(invoking)->branch == "b[1]");

  // The remembered cursor removed: nothing points at it any more.
  list.remove_if([](const LiveCursor& c) { return c.branch == "b[1]"; });
  CHECK(list.find_remembered(invoking) == nullptr);
  list.find("b[6]")->phase = Phase::invoking;
  CHECK(list.find_remembered(invoking)->branch == "b[6]");

  // Moved, the list keeps its cursors and indexes and forgets where it looked.
  CHECK(list.find_remembered(invoking)->branch == "b[6]");
  CursorList moved = std::move(list);
  CHECK(moved.find_remembered(invoking)->branch == "b[6]");
  // The list moved from remembers nothing of the nodes it gave away.
  CHECK(list.find_remembered(invoking) == nullptr);  // NOLINT(bugprone-use-after-move)
  CHECK(moved.find("b[3]") != nullptr);
  CHECK(moved.children("")->cursors.size() == 5);
}
