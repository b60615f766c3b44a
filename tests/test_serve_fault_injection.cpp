#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "thumbfetch/serve/fault_injection.hpp"

using namespace thumbfetch;

// Fault injection without sockets: the choice of fault and the response it makes are plain
// functions, called here directly (test_serve_image_server.cpp sees the same over TCP).

namespace {

ServedAsset asset_of(std::string bytes, std::string type = "image/jpeg") {
  ServedAsset a;
  a.bytes = std::make_shared<const std::string>(std::move(bytes));
  a.content_type = std::move(type);
  return a;
}

HttpRequest get(std::string target, std::string method = "GET") {
  ParseResult r = parse_http_request(method + " " + target + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.state, ParseState::complete) << target;
  return r.request;
}

const std::string kBase = "http://127.0.0.1:8080";

bool head_has(const Response& r, const std::string& line) {
  return r.head.find(line + "\r\n") != std::string::npos;
}

}  // namespace

TEST(ServeFaultInjection, TheQueryNamesTheFaultOrTurnsTheDrawOff) {
  FaultRates always;
  always.rate_500 = 1.0;
  EXPECT_EQ(choose_fault(always, "", 0), "500");
  EXPECT_EQ(choose_fault(always, "fault=stall", 0), "stall");
  EXPECT_EQ(choose_fault(always, "a=1&fault=", 0), "");  // named: none
  EXPECT_EQ(choose_fault(always, "nofault", 0), "");
  EXPECT_EQ(choose_fault(always, "flaky=2", 0), "");
  EXPECT_EQ(choose_fault(FaultRates{}, "", 0), "");
}

TEST(ServeFaultInjection, RandomDrawsDependOnlyOnSeedAndOrder) {
  FaultRates rates;
  rates.rate_500 = 0.25;
  rates.rate_truncate = 0.25;
  rates.rate_redirect = 0.25;
  auto sequence = [&rates](std::uint64_t seed) {
    rates.seed = seed;
    std::string s;
    for (std::uint64_t order = 0; order < 400; ++order) {
      const std::string kind = choose_fault(rates, "", order);
      s += kind.empty() ? '.' : kind[0];
    }
    return s;
  };
  const std::string a = sequence(7);
  EXPECT_EQ(a, sequence(7));
  EXPECT_NE(a, sequence(8));
  // Each kind drawn about a quarter of the time (400 draws: within 60-140 of 100).
  for (char k : {'.', '5', 't', 'r'}) {
    auto n = std::count(a.begin(), a.end(), k);
    EXPECT_GT(n, 60) << k;
    EXPECT_LT(n, 140) << k;
  }
  EXPECT_EQ(choose_fault(rates, "", 3), choose_fault(rates, "x=1", 3));  // order, not the URL
}

TEST(ServeFaultInjection, TheFileWholeSlowOrCut) {
  const ServedAsset a = asset_of(std::string(1000, 'j'));
  Response plain = fault_response("", get("/img/a.jpg"), a, kBase);
  EXPECT_EQ(plain.head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_TRUE(head_has(plain, "Content-Length: 1000"));
  EXPECT_TRUE(head_has(plain, "Content-Type: image/jpeg"));
  EXPECT_EQ(plain.send_bytes, 1000u);
  EXPECT_EQ(plain.after, After::keep_alive);
  EXPECT_EQ(plain.bandwidth_kbps, 0);
  EXPECT_EQ(fault_response("slow", get("/img/a.jpg"), a, kBase).bandwidth_kbps, 20);

  Response cut = fault_response("truncate", get("/img/a.jpg"), a, kBase);
  EXPECT_TRUE(head_has(cut, "Content-Length: 1000"));
  EXPECT_EQ(cut.send_bytes, 500u);
  EXPECT_EQ(cut.after, After::close);

  Response stall = fault_response("stall", get("/img/a.jpg"), a, kBase);
  EXPECT_EQ(stall.send_bytes, 16u);
  EXPECT_EQ(stall.after, After::hold);

  Response head = fault_response("", get("/img/a.jpg", "HEAD"), a, kBase);
  EXPECT_TRUE(head_has(head, "Content-Length: 1000"));
  EXPECT_EQ(head.send_bytes, 0u);
}

TEST(ServeFaultInjection, LyingHeadersAndBigBodies) {
  const ServedAsset a = asset_of("PNGDATA", "image/png");
  Response wrong = fault_response("wrong-type", get("/img/a.png"), a, kBase);
  EXPECT_TRUE(head_has(wrong, "Content-Type: text/html; charset=utf-8"));
  EXPECT_EQ(*wrong.body.data, "PNGDATA");
  Response html = fault_response("html", get("/img/a.png"), a, kBase);
  EXPECT_TRUE(head_has(html, "Content-Type: image/jpeg"));
  EXPECT_NE(html.body.data->find("<html>"), std::string::npos);

  Response big = fault_response("big", get("/img/a.png"), a, kBase);
  EXPECT_TRUE(head_has(big, "Content-Length: 1000"));
  EXPECT_EQ(big.send_bytes, 60u * 1024 * 1024);
  EXPECT_EQ(big.after, After::close);
  EXPECT_TRUE(head_has(fault_response("big-honest", get("/img/a.png"), a, kBase),
                       "Content-Length: " + std::to_string(60u * 1024 * 1024)));
  for (const char* kind : {"big-nolength", "nolength"}) {
    Response r = fault_response(kind, get("/img/a.png"), a, kBase);
    EXPECT_EQ(r.head.find("Content-Length"), std::string::npos) << kind;
    EXPECT_EQ(r.after, After::close) << kind;
  }
}

TEST(ServeFaultInjection, StatusesAndRedirects) {
  const ServedAsset a = asset_of("x");
  EXPECT_EQ(fault_response("500", get("/img/a.jpg"), a, kBase).head.rfind("HTTP/1.1 500", 0), 0u);
  EXPECT_EQ(fault_response("503", get("/img/a.jpg"), a, kBase).head.rfind("HTTP/1.1 503", 0), 0u);
  Response e429 = fault_response("429", get("/img/a.jpg"), a, kBase);
  EXPECT_TRUE(head_has(e429, "Retry-After: 1"));

  auto location = [&](const std::string& kind, const std::string& target) {
    Response r = fault_response(kind, get(target), a, kBase);
    EXPECT_EQ(r.head.rfind("HTTP/1.1 302 Found\r\n", 0), 0u) << kind;
    auto at = r.head.find("Location: ");
    return r.head.substr(at + 10, r.head.find("\r\n", at) - at - 10);
  };
  EXPECT_EQ(location("redirect", "/img/a.jpg?a=1&fault=redirect&b=2"),
            kBase + "/img/a.jpg?a=1&b=2");
  EXPECT_EQ(location("random-redirect", "/img/a.jpg"), kBase + "/img/a.jpg?nofault=1");
  EXPECT_EQ(location("redirect-file", "/img/a.jpg"), "file:///etc/passwd");
  EXPECT_EQ(location("redirect-ftp", "/img/a.jpg"), "ftp://127.0.0.1/x.jpg");
  EXPECT_EQ(location("redirect-loop", "/img/a.jpg?fault=redirect-loop"),
            kBase + "/img/a.jpg?fault=redirect-loop");

  Response unknown = fault_response("bogus", get("/img/a.jpg"), a, kBase);
  EXPECT_EQ(unknown.head.rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_NE(unknown.body.data->find("Unknown fault: bogus"), std::string::npos);
}
