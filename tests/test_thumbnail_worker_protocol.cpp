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
  EXPECT_EQ(first->hash, HashInput::no);
  auto second = take_request(wire);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->input, "b.png");
  EXPECT_TRUE(wire.empty());
  std::string hashed = encode_request({"c.jpg", "out/c", HashInput::yes});
  auto third = take_request(hashed);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->hash, HashInput::yes);
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
  EXPECT_EQ(b->input_sha256, "");
}

// The worker's digest of the input it read comes back whole, after the output and message.
TEST(WorkerProtocol, ResponsesCarryTheInputDigest) {
  ThumbResult ok;
  ok.state = ThumbResult::State::done;
  ok.done = {"out/a.jpg", {128, 96}, {1600, 1200}, 4321, Decoder::libjpeg_turbo};
  ok.input_sha256 = std::string(32, 'a') + std::string(32, '9');
  ThumbResult bad;
  bad.error = {ErrorKind::corrupt, "corrupt"};
  bad.input_sha256 = std::string(64, '0');
  std::string wire = encode_response(ok) + encode_response(bad);
  auto a = take_response(wire);
  auto b = take_response(wire);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->input_sha256, ok.input_sha256);
  EXPECT_EQ(a->done.output, "out/a.jpg");
  EXPECT_EQ(b->input_sha256, bad.input_sha256);
  EXPECT_EQ(b->error.message, "corrupt");
  EXPECT_TRUE(wire.empty());
  // A digest of another length, or not lowercase hex, is a garbled worker.
  for (std::string garbled : {std::string("R 1 0 0 0 0 0 0 0 0 0 0 3\nabc"),
                              "R 1 0 0 0 0 0 0 0 0 0 0 64\n" + std::string(64, 'G')}) {
    EXPECT_THROW(take_response(garbled), std::runtime_error) << garbled;
  }
}

TEST(WorkerProtocol, MalformedInputThrows) {
  std::string garbage = "X nonsense\n";
  EXPECT_THROW(take_request(garbage), std::runtime_error);
}

// A header whose lengths add up past 2^64 must not wrap into a short payload (which then threw
// std::out_of_range from substr, an error the pool did not expect from a garbled worker).
TEST(WorkerProtocol, LengthsThatWouldWrapAreMalformed) {
  for (std::string wire :
       {std::string("R 0 1 1 1 1 1 0 0 18446744073709551615 2 0 0\nab"),
        std::string("R 1 0 0 1 1 0 0 0 18446744073709551614 3 0 0\nabc"),
        std::string("J 18446744073709551615 1 0\nx"), std::string("J -1 2 0\nab"),
        std::string("R 1 0 0 1 1 0 0 0 99999999999 0 0 0\n")}) {
    SCOPED_TRACE(wire);
    std::string buffer = wire;
    try {
      if (wire[0] == 'J')
        take_request(buffer);
      else
        take_response(buffer);
      ADD_FAILURE() << "taken";
    } catch (const std::runtime_error& e) {
      // Refused for its length, not for a count of fields this test did not mean to get wrong.
      EXPECT_EQ(std::string(e.what()).find("field count"), std::string::npos) << e.what();
    }
  }
}

// A state, decoder or error kind that is none of ours is a garbled worker, not a value to cast.
TEST(WorkerProtocol, UnknownStatesDecodersAndKindsAreMalformed) {
  for (std::string wire : {"R 7 1 1 1 1 1 0 0 0 0 0 0\n",
                           "R 2 1 1 1 1 1 0 0 0 0 0 0\n" /* skipped: never a worker's word */,
                           "R 0 1 1 1 1 1 9 0 0 0 0 0\n", "R 1 0 0 1 1 0 0 200 0 0 0 0\n",
                           "R 0 1 1 1 1 1 0 0 0 0 0\n", "R 0 1 1 1 1 1 0 0 0 0 0 0 0\n",
                           "R 0 1 x 1 1 1 0 0 0 0 0 0\n", "R 0 1 1 1 1 1 0 0 0 0 0 0 \n"}) {
    SCOPED_TRACE(wire);
    try {
      take_response(wire);
      ADD_FAILURE() << "taken";
    } catch (const std::runtime_error& e) {
      // Only the two headers with a field too few or too many are refused for their count.
      const bool count_case =
          wire == "R 0 1 1 1 1 1 0 0 0 0 0\n" || wire == "R 0 1 1 1 1 1 0 0 0 0 0 0 0\n";
      EXPECT_EQ(std::string(e.what()).find("field count") != std::string::npos, count_case)
          << e.what();
    }
  }
}

// Bytes that cannot start an answer are garbage at once, and so is a header line that never
// ends: neither waits for more.
TEST(WorkerProtocol, StrayBytesAndEndlessHeadersAreMalformedAtOnce) {
  std::string stray = "x";
  EXPECT_THROW(take_response(stray), std::runtime_error);
  std::string endless = "R " + std::string(4096, '1');
  EXPECT_THROW(take_response(endless), std::runtime_error);
  std::string partial = "R 0 1";
  EXPECT_FALSE(take_response(partial).has_value());  // a real answer on its way
}
