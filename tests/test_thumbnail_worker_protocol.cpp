#include <gtest/gtest.h>

#include "thumbfetch/thumbnail/worker_protocol.hpp"

using namespace thumbfetch;

TEST(WorkerProtocol, RequestsSurviveAnyBytesInPaths) {
  ThumbJob job{"dir/with space\nand newline/\xff.jpg", "out/stem\t2"};
  std::string wire = encode_request(job) + encode_request({"b.png", "out/b"});
  std::string partial = wire.substr(0, 10);
  EXPECT_FALSE(take_request(partial).has_value());  // incomplete: nothing taken
  EXPECT_EQ(partial.size(), 10u);
  auto first = take_request(wire);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->input, job.input);
  EXPECT_EQ(first->output_stem, job.output_stem);
  auto second = take_request(wire);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->input, "b.png");
  EXPECT_TRUE(wire.empty());
}

TEST(WorkerProtocol, ResponsesCarryResultsAndErrors) {
  ThumbResult ok;
  ok.state = ThumbResult::State::done;
  ok.done = {"out/a.jpg", {128, 96}, {1600, 1200}, 4321, Decoder::libspng};
  ok.seconds = 0.25;
  ThumbResult bad;
  bad.error = {ErrorKind::truncated, "truncated JPEG: the data ends\nearly"};
  std::string wire = encode_response(ok) + encode_response(bad);
  auto a = take_response(wire);
  auto b = take_response(wire);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->state, ThumbResult::State::done);
  EXPECT_EQ(a->done.output, "out/a.jpg");
  EXPECT_EQ(a->done.size, (Size{128, 96}));
  EXPECT_EQ(a->done.source, (Size{1600, 1200}));
  EXPECT_EQ(a->done.bytes, 4321u);
  EXPECT_EQ(a->done.decoder, Decoder::libspng);
  EXPECT_NEAR(a->seconds, 0.25, 1e-6);
  EXPECT_EQ(b->state, ThumbResult::State::failed);
  EXPECT_EQ(b->error.kind, ErrorKind::truncated);
  EXPECT_EQ(b->error.message, bad.error.message);
}

TEST(WorkerProtocol, MalformedInputThrows) {
  std::string garbage = "X nonsense\n";
  EXPECT_THROW(take_request(garbage), std::runtime_error);
}
