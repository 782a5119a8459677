// LineFramer and Cancellation: the pieces every transport shares.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kube/transport.h"

namespace kube {
namespace {

struct Collector {
  std::vector<std::string> lines;
  std::function<bool(std::string_view)> fn() {
    return [this](std::string_view line) {
      lines.emplace_back(line);
      return true;
    };
  }
};

TEST(LineFramer, JoinsALineSplitAcrossChunks) {
  LineFramer framer;
  Collector got;
  EXPECT_TRUE(framer.feed("{\"type\":\"ADD", got.fn()));
  EXPECT_TRUE(got.lines.empty());
  EXPECT_TRUE(framer.feed("ED\"}", got.fn()));
  EXPECT_TRUE(framer.feed("\n", got.fn()));
  EXPECT_EQ(got.lines, (std::vector<std::string>{"{\"type\":\"ADDED\"}"}));
}

TEST(LineFramer, DeliversSeveralLinesOfOneChunkInOrder) {
  LineFramer framer;
  Collector got;
  EXPECT_TRUE(framer.feed("a\nbb\nccc\nd", got.fn()));
  EXPECT_EQ(got.lines, (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_TRUE(framer.feed("d\n", got.fn()));
  EXPECT_EQ(got.lines.back(), "dd");
}

TEST(LineFramer, ToleratesCarriageReturnLineFeed) {
  LineFramer framer;
  Collector got;
  framer.feed("one\r\ntwo\r", got.fn());
  framer.feed("\nthree\r\n", got.fn());
  EXPECT_EQ(got.lines, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(LineFramer, KeepsEmptyLines) {
  LineFramer framer;
  Collector got;
  framer.feed("\n\nx\n", got.fn());
  EXPECT_EQ(got.lines, (std::vector<std::string>{"", "", "x"}));
}

TEST(LineFramer, HandlesHugeLinesInSmallChunks) {
  const std::string huge(3 * 1024 * 1024 + 17, 'x');  // > 1 MiB
  const std::string stream = "first\n" + huge + "\nlast\n";
  LineFramer framer;
  Collector got;
  constexpr size_t kChunk = 4093;  // prime, so boundaries fall everywhere
  for (size_t at = 0; at < stream.size(); at += kChunk) {
    ASSERT_TRUE(framer.feed(std::string_view(stream).substr(at, kChunk), got.fn()));
  }
  ASSERT_EQ(got.lines.size(), 3u);
  EXPECT_EQ(got.lines[0], "first");
  EXPECT_EQ(got.lines[1].size(), huge.size());
  EXPECT_EQ(got.lines[1], huge);
  EXPECT_EQ(got.lines[2], "last");
}

TEST(LineFramer, EveryChunkingGivesTheSameLines) {
  const std::string stream = "alpha\nbeta\r\n\ngamma delta\nomega";
  const std::vector<std::string> expected{"alpha", "beta", "", "gamma delta", "omega"};
  for (size_t size = 1; size <= stream.size(); ++size) {
    LineFramer framer;
    Collector got;
    for (size_t at = 0; at < stream.size(); at += size) {
      framer.feed(std::string_view(stream).substr(at, size), got.fn());
    }
    framer.finish(got.fn());
    EXPECT_EQ(got.lines, expected) << "chunk size " << size;
  }
}

TEST(LineFramer, FinishDeliversTheTrailingPartialLineOnce) {
  LineFramer framer;
  Collector got;
  framer.feed("done\npartial", got.fn());
  EXPECT_TRUE(framer.finish(got.fn()));
  EXPECT_TRUE(framer.finish(got.fn()));
  EXPECT_EQ(got.lines, (std::vector<std::string>{"done", "partial"}));
}

TEST(LineFramer, FinishWithNothingPendingDeliversNothing) {
  LineFramer framer;
  Collector got;
  framer.feed("a\n", got.fn());
  framer.finish(got.fn());
  EXPECT_EQ(got.lines.size(), 1u);
}

TEST(LineFramer, StopsWhenTheCallbackSaysSoAndKeepsTheRest) {
  LineFramer framer;
  std::vector<std::string> lines;
  auto stop_at_b = [&](std::string_view line) {
    lines.emplace_back(line);
    return line != "b";
  };
  EXPECT_FALSE(framer.feed("a\nb\nc\nd", stop_at_b));
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b"}));
  // Feeding on resumes exactly where it stopped.
  EXPECT_TRUE(framer.feed("d\ne\n", stop_at_b));
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c", "dd", "e"}));
}

TEST(Cancellation, RunsCallbacksOnceOnCancel) {
  Cancellation cancel;
  int runs = 0;
  cancel.on_cancel([&] { ++runs; });
  EXPECT_FALSE(cancel.cancelled());
  cancel.cancel();
  cancel.cancel();
  EXPECT_TRUE(cancel.cancelled());
  EXPECT_EQ(runs, 1);
}

TEST(Cancellation, RunsALateCallbackAtOnce) {
  Cancellation cancel;
  cancel.cancel();
  int runs = 0;
  cancel.on_cancel([&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

TEST(Cancellation, RemovedCallbacksDoNotRun) {
  Cancellation cancel;
  int first = 0, second = 0;
  const auto id = cancel.on_cancel([&] { ++first; });
  cancel.on_cancel([&] { ++second; });
  cancel.remove_on_cancel(id);
  cancel.remove_on_cancel(12345);  // unknown: ignored
  cancel.cancel();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST(Cancellation, ACallbackMayUseTheCancellation) {
  Cancellation cancel;
  bool saw_cancelled = false;
  cancel.on_cancel([&] {
    saw_cancelled = cancel.cancelled();
    cancel.on_cancel([] {});  // must not deadlock
  });
  cancel.cancel();
  EXPECT_TRUE(saw_cancelled);
}

}  // namespace
}  // namespace kube
