// The code of docs/porting.md: a small CAF program (a typed calculator
// server and a class-based client, in the manner of CAF's own calculator
// example, written anew), then the same program ported to scaf. Each
// snippet of the guide is a region of this file; the test run builds and
// runs it (ctest: demo.docs_porting) and it checks what the guide claims.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>

#include "scaf/all.hpp"

namespace {

using add_atom = caf::atom_constant<caf::atom("add")>;
using sub_atom = caf::atom_constant<caf::atom("sub")>;

//! [interface]
using calculator =
  caf::typed_actor<caf::replies_to<add_atom, int, int>::with<int>,
                   caf::replies_to<sub_atom, int, int>::with<int>>;
//! [interface]

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

// -- the CAF program ----------------------------------------------------------

//! [caf-server]
calculator::behavior_type caf_server(calculator::pointer) {
  return {
    [](add_atom, int x, int y) { return x + y; },
    [](sub_atom, int x, int y) { return x - y; },
  };
}

class caf_client : public caf::event_based_actor {
public:
  caf_client(caf::actor_config& cfg, calculator server)
    : caf::event_based_actor(cfg), server_(std::move(server)) {
    // nop
  }

protected:
  caf::behavior make_behavior() override {
    request(server_, std::chrono::seconds(1), add_atom::value, 40, 2)
      .then([this](int sum) {
        std::printf("caf: 40 + 2 = %d\n", sum);
        quit(); // the server runs on
      });
    return {};
  }

private:
  calculator server_;
};
//! [caf-server]

void run_caf(caf::actor_system& sys) {
  //! [caf-main]
  auto server = sys.spawn(caf_server);
  auto client = sys.spawn<caf_client>(server);
  // Nobody stops the server: wait for the client, then stop it by hand.
  caf::scoped_actor self{sys};
  self->wait_for(client);
  self->send_exit(server, caf::exit_reason::user_shutdown);
  //! [caf-main]
}

// -- the same program in scaf
// ---------------------------------------------------

//! [scaf-server]
calculator::behavior_type scaf_server(scaf::task_actor*) {
  return {
    [](add_atom, int x, int y) { return x + y; },
    [](sub_atom, int x, int y) { return x - y; },
  };
}

class scaf_client : public scaf::task_base {
public:
  scaf_client(caf::actor_config& cfg, calculator server)
    : scaf::task_base(cfg), server_(std::move(server)) {
    // nop
  }

protected:
  caf::behavior make_behavior() override {
    request(server_, std::chrono::seconds(1), add_atom::value, 40, 2)
      .then(
        [this](int sum) {
          std::printf("scaf: 40 + 2 = %d\n", sum);
          quit(); // success; the scope stops the server
        },
        [this](caf::error& err) { quit(std::move(err)); });
    return {};
  }

private:
  calculator server_;
};
//! [scaf-server]

void run_scaf(caf::actor_system& sys) {
  //! [scaf-main]
  scaf::scope_report report;
  auto done = scaf::run(sys,
                        [](scaf::scope& s) -> caf::expected<void> {
                          // A background child: cancelled once the main work
                          // (the client) ends.
                          auto server = s.spawn_bg(
                            scaf_server); // a caf::expected<calculator>
                          if (!server)
                            return server.error();
                          s.spawn<scaf_client>(*server);
                          return caf::unit;
                        },
                        {.scope = {.name = "calc"}, .report = &report});
  //! [scaf-main]
  expect(static_cast<bool>(done), "the ported program succeeds");
  expect(report.status == scaf::scope_status::succeeded,
         "the scope reports success, the server's cancel is no failure");
}

//! [signals]
/// A service that runs until Ctrl-C (cancel) or a second Ctrl-C (abort).
scaf::scope_report serve_until_signal(caf::actor_system& sys) {
  auto app = scaf::make_scope(sys, {.name = "app"});
  app.ref().spawn(scaf_server);
  auto watch = scaf::cancel_on_signal(app.ref(), {SIGINT, SIGTERM});
  if (!watch)
    app.cancel(scaf::render(watch.error()));
  auto report = app.done().wait();
  return report ? *report : scaf::scope_report{};
}
//! [signals]

void run_signals(caf::actor_system& sys) {
  std::thread interrupt{[] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(::getpid(), SIGTERM);
  }};
  auto report = serve_until_signal(sys);
  interrupt.join();
  expect(scaf::render(report.cancel_reason) == "scaf::cancelled(app: SIGTERM)",
         "SIGTERM cancels the service with the signal's name");
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  caf::actor_system sys{cfg};
  run_caf(sys);
  run_scaf(sys);
  run_signals(sys);
  std::printf("%s\n", failures == 0 ? "all porting examples ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
