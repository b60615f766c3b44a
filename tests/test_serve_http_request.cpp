#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "thumbfetch/serve/http_request.hpp"

using namespace thumbfetch;

TEST(ServeHttpRequest, ParsesRequestLineHeadersAndQuery) {
  std::string raw =
      "GET /img/a.jpg?fault=500&delay=10 HTTP/1.1\r\nHost: x\r\nAuthorization:  Client-ID abc "
      "\r\n\r\nGET";
  ParseResult r = parse_http_request(raw);
  ASSERT_EQ(r.state, ParseState::complete);
  EXPECT_EQ(r.consumed, raw.size() - 3);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/img/a.jpg");
  EXPECT_EQ(r.request.query, "fault=500&delay=10");
  ASSERT_NE(r.request.header("authorization"), nullptr);
  EXPECT_EQ(*r.request.header("authorization"), "Client-ID abc");
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_FALSE(r.request.has_body);
}

TEST(ServeHttpRequest, WaitsForTheBlankLine) {
  EXPECT_EQ(parse_http_request("GET / HTTP/1.1\r\nHost: x\r\n").state, ParseState::incomplete);
  EXPECT_EQ(parse_http_request("").state, ParseState::incomplete);
}

TEST(ServeHttpRequest, KeepAliveFollowsVersionAndConnectionHeader) {
  EXPECT_FALSE(
      parse_http_request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(parse_http_request("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(
      parse_http_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(parse_http_request("GET / HTTP/1.1\n\n").request.keep_alive);  // bare LF
}

TEST(ServeHttpRequest, RefusesGarbage) {
  for (const char* bad :
       {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 x\r\n\r\n", "GET\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n", "GET a HTTP/1.1\r\n\r\n", "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    ParseResult r = parse_http_request(bad);
    EXPECT_EQ(r.state, ParseState::error) << bad;
    EXPECT_EQ(r.error_status, 400) << bad;
  }
  // A TLS ClientHello is refused before any line ends.
  EXPECT_EQ(parse_http_request(std::string("\x16\x03\x01\x02\x00", 5)).state, ParseState::error);
  EXPECT_EQ(parse_http_request("GET / HTTP/2.0\r\n\r\n").error_status, 505);
}

TEST(ServeHttpRequest, LimitsTheHeadSize) {
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHeadBytes, 'a');
  ParseResult open = parse_http_request(huge);
  EXPECT_EQ(open.state, ParseState::error);
  EXPECT_EQ(open.error_status, 431);
  ParseResult closed = parse_http_request(huge + "\r\n\r\n");
  EXPECT_EQ(closed.error_status, 431);
}

TEST(ServeHttpRequest, NotesABodyItWillNotRead) {
  EXPECT_TRUE(parse_http_request("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").request.has_body);
  EXPECT_TRUE(
      parse_http_request("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").request.has_body);
}

TEST(ServeHttpRequest, QueryHelpers) {
  EXPECT_EQ(query_param("a=1&fault=500&b", "fault"), "500");
  EXPECT_EQ(query_param("a=1&fault=500&b", "b"), "");
  EXPECT_EQ(query_param("a=1", "fault"), std::nullopt);
  EXPECT_EQ(query_param("faulty=1", "fault"), std::nullopt);
  EXPECT_EQ(query_without("a=1&fault=redirect&b=2", "fault"), "a=1&b=2");
  EXPECT_EQ(query_without("fault=redirect", "fault"), "");
}

TEST(ServeHttpRequest, LeadingBlankLinesCountTowardsTheLimit) {
  // Blank lines before the request line are skipped (RFC 9112 2.2) but not for free: an endless
  // stream of them is refused like an endless header block, not buffered forever.
  ParseResult blank = parse_http_request(std::string(kMaxRequestHeadBytes + 1, '\n'));
  EXPECT_EQ(blank.state, ParseState::error);
  EXPECT_EQ(blank.error_status, 431);
  std::string crlf;
  while (crlf.size() < kMaxRequestHeadBytes) crlf += "\r\n";
  ParseResult late = parse_http_request(crlf + "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(late.state, ParseState::error);
  EXPECT_EQ(late.error_status, 431);
  // A few are fine.
  ParseResult few = parse_http_request("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
  ASSERT_EQ(few.state, ParseState::complete);
  EXPECT_EQ(few.consumed, 23u);
  EXPECT_EQ(few.request.path, "/a");
}

TEST(ServeHttpRequest, TheScannerNeverLooksAtAByteTwice) {
  // A head that arrives one byte per read: each call examines only what is new, so the work is
  // linear in the head, not quadratic (blank lines first, then a long header).
  std::string head = std::string(4000, '\n') + "GET /x HTTP/1.1\r\nX: " + std::string(8000, 'a') +
                     "\r\n\r\nGET /next";
  RequestHeadScanner scanner;
  ParseResult r;
  std::size_t fed = 0;
  while (fed < head.size()) {
    ++fed;
    r = scanner.scan(std::string_view(head).substr(0, fed));
    if (r.state != ParseState::incomplete) break;
  }
  ASSERT_EQ(r.state, ParseState::complete);
  EXPECT_EQ(r.request.path, "/x");
  EXPECT_EQ(r.consumed, head.size() - 9);
  EXPECT_EQ(fed, r.consumed);  // complete as soon as the blank line is in
  EXPECT_EQ(scanner.bytes_examined(), r.consumed);
  // After reset() it starts afresh on the rest.
  scanner.reset();
  EXPECT_EQ(scanner.scan("GET /next HTTP/1.1\n\n").request.path, "/next");
}

TEST(ServeHttpRequest, RefusesAnEndlessBlankPrefixAsItArrives) {
  RequestHeadScanner scanner;
  std::string buffer;
  ParseResult r;
  while (r.state == ParseState::incomplete && buffer.size() <= 4 * kMaxRequestHeadBytes) {
    buffer += "\r\n";
    r = scanner.scan(buffer);
  }
  EXPECT_EQ(r.state, ParseState::error);
  EXPECT_EQ(r.error_status, 431);
  EXPECT_LE(buffer.size(), kMaxRequestHeadBytes + 2);
}

TEST(ServeHttpRequest, AnySplitIntoReadsGivesTheSameResultAsTheWhole) {
  // However the bytes arrive, the incremental scanner ends where a scan of the whole input does.
  const std::string inputs[] = {
      "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
      "\r\n\nHEAD /h HTTP/1.0\nConnection: keep-alive\n\n",
      "GET /x HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01",
      "GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHeadBytes, 'a'),
  };
  std::uint64_t state = 12345;
  for (const std::string& input : inputs) {
    const ParseResult whole = parse_http_request(input);
    for (int round = 0; round < 50; ++round) {
      RequestHeadScanner scanner;
      ParseResult r;
      std::size_t fed = 0;
      while (fed < input.size() && r.state == ParseState::incomplete) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        fed = std::min(input.size(), fed + 1 + static_cast<std::size_t>((state >> 33) % 40));
        r = scanner.scan(std::string_view(input).substr(0, fed));
      }
      ASSERT_EQ(r.state, whole.state) << input;
      EXPECT_EQ(r.error_status, whole.error_status) << input;
      EXPECT_EQ(r.consumed, whole.consumed) << input;
      EXPECT_EQ(r.request.target, whole.request.target) << input;
      EXPECT_EQ(r.request.headers, whole.request.headers) << input;
      EXPECT_EQ(r.request.keep_alive, whole.request.keep_alive) << input;
    }
  }
}
