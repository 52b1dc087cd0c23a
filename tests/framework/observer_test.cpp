// Tests of scaf/observer.hpp: the live tree served over HTTP on loopback, to
// a client that speaks plain sockets (tests/browser has the page in a real
// browser): what it serves, who may read and act, a cancel that reaches its
// node with its reason, bad requests answered without harm, and the
// `scaf.observer` setting.
#include "scaf/observer.hpp"

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "scaf/all.hpp"

#include "../common/fixture.hpp"
#include "../common/http_client.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace std::chrono_literals;

namespace {

caf::behavior waiter(task_actor*) {
  return {[](test::finish_atom) {}};
}

/// A task that hands its cancel's reason to `seen`, then stops.
caf::behavior reason_keeper(task_actor* self,
                            std::shared_ptr<std::promise<std::string>> seen) {
  self->on_cancel([self, seen](const caf::error& why) {
    seen->set_value(render(why));
    self->quit(why);
  });
  return {[](test::finish_atom) {}};
}

using ObserverTest = test::leak_checked_threaded_test;

/// A configuration for scaf whose `scaf.observer` is `address`.
struct observed_config : caf::actor_system_config {
  explicit observed_config(const char* address) {
    init(*this);
    set("logger.console", caf::atom("none"));
    set("scaf.observer", address);
  }
};

/// Waits until `ref`'s scope has started (a call runs after that).
void started(const scope_ref& ref) {
  ASSERT_TRUE(ref.call([](scope&) {}).wait_for(30s));
}

} // namespace

TEST_F(ObserverTest, ServesThePageAndTheLiveTreeOfEveryTopLevelScope) {
  auto one = make_scope(sys, {.name = "one"});
  auto two = make_scope(sys, {.name = "two"});
  two.ref().spawn({.name = "worker"}, waiter);
  started(one.ref());
  started(two.ref());
  auto obs = observer::start(sys);
  ASSERT_TRUE(obs) << render(obs.error());
  EXPECT_EQ(obs->url(),
            "http://127.0.0.1:" + std::to_string(obs->port()) + "/");
  auto page = test::http_get(obs->port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.head.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(page.body.find("<title>scaf observer</title>"), std::string::npos);
  // One file: nothing loaded from elsewhere.
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos);
  auto tree = test::http_get(obs->port(), "/api/tree");
  ASSERT_EQ(tree.status, 200) << tree.body;
  auto json = tree.json();
  EXPECT_EQ(json["pid"], ::getpid());
  EXPECT_EQ(json["actions"], false);
  ASSERT_EQ(json["scopes"].size(), 2u) << tree.body;
  EXPECT_EQ(json["scopes"][0]["path"], "one");
  EXPECT_EQ(json["scopes"][1]["path"], "two");
  ASSERT_EQ(json["scopes"][1]["children"].size(), 1u);
  EXPECT_EQ(json["scopes"][1]["children"][0]["path"], "two/worker");
  EXPECT_EQ(json["scopes"][1]["children"][0]["state"], "running");
  one.ref().cancel("done");
  two.ref().cancel("done");
  ASSERT_TRUE(one.ref().done().wait_for(30s));
  ASSERT_TRUE(two.ref().done().wait_for(30s));
}

TEST_F(ObserverTest, WithoutATokenItIsReadOnlyAndForThisMachineOnly) {
  auto svc = make_scope(sys, {.name = "svc"});
  started(svc.ref());
  for (auto address : {"0.0.0.0:0", "[::]:0"}) {
    auto refused = observer::start(sys, {.address = address});
    ASSERT_FALSE(refused) << address;
    EXPECT_EQ(render(refused.error()),
              std::string{"scaf::invalid_argument(observer: '"} + address +
                "' is not a loopback address: an observer that others can "
                "reach needs a token (scaf.observer-token))");
  }
  auto obs = observer::start(sys, {.address = "localhost:0"});
  ASSERT_TRUE(obs) << render(obs.error());
  auto act =
    test::http_post_cancel(obs->port(), "", test::cancel_body("svc", "no"));
  EXPECT_EQ(act.status, 403);
  EXPECT_EQ(act.json()["error"], "this observer is read-only: start it with "
                                 "a token to allow actions");
  // A page of another site that resolves to 127.0.0.1 (DNS rebinding).
  auto rebound =
    test::http_get(obs->port(), "/api/tree", "", "attacker.example:80");
  EXPECT_EQ(rebound.status, 403);
  EXPECT_EQ(test::http_get(obs->port(), "/api/tree", "", "localhost:1").status,
            200);
  EXPECT_FALSE(svc.ref().is_cancelled());
  svc.ref().cancel("done");
  ASSERT_TRUE(svc.ref().done().wait_for(30s));
}

TEST_F(ObserverTest, ATokenGuardsTheTreeAndAllowsCancels) {
  auto obs = observer::start(sys, {.address = "127.0.0.1:0", .token = "t0k"});
  ASSERT_TRUE(obs) << render(obs.error());
  EXPECT_EQ(obs->url(),
            "http://127.0.0.1:" + std::to_string(obs->port()) + "/#token=t0k");
  // The page holds no data: it asks with the token from its URL.
  EXPECT_EQ(test::http_get(obs->port(), "/").status, 200);
  EXPECT_EQ(test::http_get(obs->port(), "/api/tree").status, 401);
  EXPECT_EQ(test::http_get(obs->port(), "/api/tree", "t0K").status, 401);
  EXPECT_EQ(test::http_get(obs->port(), "/api/tree", "t0k").status, 200);
  EXPECT_EQ(test::http_get(obs->port(), "/api/tree", "t0k").json()["actions"],
            true);
  EXPECT_EQ(
    test::http_post_cancel(obs->port(), "wrong", test::cancel_body("x", "y"))
      .status,
    401);
  // With a token, other addresses are allowed.
  auto wide = observer::start(sys, {.address = "0.0.0.0:0", .token = "t0k"});
  ASSERT_TRUE(wide) << render(wide.error());
  EXPECT_EQ(
    test::http_get(wide->port(), "/api/tree", "t0k", "host.example").status,
    200);
  // Its URL names this machine, not 0.0.0.0.
  char machine[256] = {};
  ASSERT_EQ(::gethostname(machine, sizeof(machine) - 1), 0);
  EXPECT_EQ(wide->url(), "http://" + std::string{machine} + ":" +
                           std::to_string(wide->port()) + "/#token=t0k");
  auto bad = observer::start(sys, {.address = "127.0.0.1:0", .token = "a b"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category(), errc_category);
}

TEST_F(ObserverTest, ACancelReachesItsNodeWithItsReason) {
  auto kept = std::make_shared<std::promise<std::string>>();
  auto nested = std::make_shared<std::promise<std::string>>();
  auto svc = make_scope(sys, {.name = "svc"});
  auto worker = svc.ref().spawn({.name = "worker"}, reason_keeper, kept);
  ASSERT_TRUE(svc.ref()
                .call([nested](scope& s) {
                  s.spawn_scope({.name = "inner"}, [nested](scope& in) {
                    in.spawn({.name = "job"}, reason_keeper, nested);
                    in.spawn({.name = "other"}, waiter);
                  });
                })
                .wait_for(30s));
  auto obs = observer::start(sys, {.token = "k"});
  ASSERT_TRUE(obs) << render(obs.error());
  auto port = obs->port();
  // A task of the top-level scope.
  auto a = test::http_post_cancel(
    port, "k", test::cancel_body("svc/worker", "maintenance"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json()["cancelled"], "svc/worker");
  auto seen = kept->get_future();
  ASSERT_EQ(seen.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(seen.get(), "scaf::cancelled(svc/worker: maintenance)");
  auto ended = worker.wait_for(30s);
  ASSERT_TRUE(ended);
  EXPECT_TRUE(is(ended->error(), errc::cancelled));
  // A task two scopes down: the cancel is passed on.
  auto b = test::http_post_cancel(
    port, "k", test::cancel_body("svc/inner/job", "rebalance"));
  ASSERT_EQ(b.status, 200) << b.body;
  auto seen_nested = nested->get_future();
  ASSERT_EQ(seen_nested.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(seen_nested.get(), "scaf::cancelled(svc/inner/job: rebalance)");
  // Nodes that are not there.
  for (auto path :
       {"svc/nope", "svc/inner/job/deeper", "nope/x", "svc/worker"}) {
    auto c = test::http_post_cancel(port, "k", test::cancel_body(path, "x"));
    EXPECT_EQ(c.status, 404) << path;
    EXPECT_NE(c.json()["error"].get<std::string>().find("scaf::no_such_child"),
              std::string::npos)
      << c.body;
  }
  // Cancelling one task cancelled nobody else.
  EXPECT_FALSE(svc.ref().is_cancelled());
  // The top-level scope itself.
  auto d =
    test::http_post_cancel(port, "k", test::cancel_body("svc", "closing time"));
  ASSERT_EQ(d.status, 200) << d.body;
  auto report = svc.ref().done().wait_for(30s);
  ASSERT_TRUE(report);
  ASSERT_TRUE(*report);
  EXPECT_EQ((*report)->status, scope_status::cancelled);
  EXPECT_EQ(render((*report)->cancel_reason),
            "scaf::cancelled(svc: closing time)");
}

TEST_F(ObserverTest, BadRequestsGetClearErrorsAndTheObserverGoesOn) {
  auto obs = observer::start(sys, {.token = "k"});
  ASSERT_TRUE(obs) << render(obs.error());
  auto port = obs->port();
  EXPECT_EQ(test::http_exchange(port, "NONSENSE\r\n\r\n").status, 400);
  EXPECT_EQ(test::http_exchange(port, "GET / HTTP/1.1\r\n\r\n").status,
            400); // no Host
  EXPECT_EQ(test::http_exchange(port, "GET / HTTP/1.1\r\nHost: localhost\r\n"
                                      "Content-Length: -1\r\n\r\n")
              .status,
            400);
  EXPECT_EQ(
    test::http_exchange(port, "GET / HTTP/1.1\r\nHost: localhost\r\nX: " +
                                std::string(70'000, 'x') + "\r\n\r\n")
      .status,
    413);
  EXPECT_EQ(test::http_get(port, "/etc/passwd", "k").status, 404);
  EXPECT_EQ(test::http_exchange(port,
                                "DELETE /api/tree HTTP/1.1\r\nHost: localhost"
                                "\r\n\r\n")
              .status,
            405);
  EXPECT_EQ(test::http_post_cancel(port, "k", "{not json").status, 400);
  EXPECT_EQ(test::http_post_cancel(port, "k", R"({"path": "svc"})").status,
            400);
  EXPECT_EQ(
    test::http_post_cancel(port, "k", test::cancel_body("svc", "")).status,
    400);
  EXPECT_EQ(test::http_post_cancel(port, "k", test::cancel_body("svc", "x"),
                                   "text/plain")
              .status,
            415);
  // A client that connects and says nothing holds nobody up.
  auto silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  EXPECT_EQ(test::http_get(port, "/api/tree", "k").status, 200);
  ::close(silent);
  // Addresses it cannot use.
  for (auto address : {"nonsense", "127.0.0.1", "127.0.0.1:99999", "::1:80",
                       "127.0.0.1:http", "no.such.host.invalid:0"}) {
    auto x = observer::start(sys, {.address = address});
    ASSERT_FALSE(x) << address;
    EXPECT_TRUE(is(x.error(), errc::invalid_argument)) << address;
  }
  auto taken =
    observer::start(sys, {.address = "127.0.0.1:" + std::to_string(port)});
  ASSERT_FALSE(taken);
  EXPECT_NE(render(taken.error()).find("cannot listen on"), std::string::npos)
    << render(taken.error());
}

TEST(ObserverSettingTest, TheSettingStartsOneWithTheSystemAndStopsItWithIt) {
  uint16_t port = 0;
  {
    observed_config cfg{"127.0.0.1:0"};
    cfg.set("scaf.observer-token", "s");
    caf::actor_system sys{cfg};
    auto url = observer_url(sys);
    ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
    EXPECT_EQ(url.substr(url.size() - 9), "/#token=s");
    port = static_cast<uint16_t>(std::stoi(url.substr(17)));
    auto app = make_scope(sys, {.name = "app"});
    started(app.ref());
    auto tree = test::http_get(port, "/api/tree", "s");
    ASSERT_EQ(tree.status, 200);
    EXPECT_EQ(tree.json()["scopes"][0]["path"], "app");
    app.ref().cancel("done");
    ASSERT_TRUE(app.ref().done().wait_for(30s));
  }
  // Gone with its system.
  EXPECT_EQ(test::http_get(port, "/api/tree", "s").status, 0);
  // One that cannot start is refused like any invalid setting.
  observed_config cfg{"0.0.0.0:0"};
  caf::actor_system sys{cfg};
  EXPECT_EQ(observer_url(sys), "");
  auto app = make_scope(sys, {.name = "app"});
  auto report = app.ref().done().wait_for(30s);
  ASSERT_TRUE(report);
  ASSERT_TRUE(*report);
  EXPECT_EQ((*report)->status, scope_status::failed);
  EXPECT_TRUE(is((*report)->failure, errc::invalid_argument));
  EXPECT_EQ(render((*report)->failure),
            "scaf::invalid_argument(configuration: scaf.observer: '0.0.0.0:0' "
            "is not a loopback address: an observer that others can reach "
            "needs a token (scaf.observer-token))");
}
