// The observer that the settings `scaf.observer` and `scaf.observer-token`
// start with an actor system (scaf/observer.hpp, src/config.hpp).
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

#include "scaf/errc.hpp"
#include "scaf/observer.hpp"

#include "config.hpp"
#include "log.hpp"

namespace scaf {

namespace {

std::mutex configured_mtx;
std::map<const caf::actor_system*, observer> configured;

} // namespace

caf::error detail::start_configured_observer(caf::actor_system& sys) {
  auto& content = sys.config().content;
  auto setting = [&](const char* key) -> const std::string* {
    auto x = caf::get_if(&content, key);
    return x != nullptr ? caf::get_if<std::string>(x) : nullptr;
  };
  auto address = setting("scaf.observer");
  if (address == nullptr)
    return {};
  observer_options opts;
  opts.address = *address;
  if (auto token = setting("scaf.observer-token"))
    opts.token = *token;
  auto obs = observer::start(sys, std::move(opts));
  if (!obs) {
    // (A scaf error's context is its path and its detail.)
    auto& ctx = obs.error().context();
    auto what = ctx.match_elements<std::string, std::string>()
                  ? ctx.get_as<std::string>(1)
                  : render(obs.error());
    return make_error(errc::invalid_argument, "configuration",
                      "scaf.observer: " + what);
  }
  detail::log().info("scaf observer: {}", obs->url());
  std::lock_guard<std::mutex> guard{configured_mtx};
  configured.insert_or_assign(&sys, std::move(*obs));
  return {};
}

void detail::stop_configured_observer(const caf::actor_system& sys) {
  std::optional<observer> going;
  {
    std::lock_guard<std::mutex> guard{configured_mtx};
    if (auto i = configured.find(&sys); i != configured.end()) {
      going.emplace(std::move(i->second));
      configured.erase(i);
    }
  }
  // (Joins its thread, which may be answering: not under the lock.)
}

std::string observer_url(const caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{configured_mtx};
  auto i = configured.find(&sys);
  return i == configured.end() ? std::string{} : i->second.url();
}

} // namespace scaf
