#include "scaf/network.hpp"

#include <cstdlib>
#include <memory>

#include <cxxabi.h>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/settings.hpp>

#include "remote_protocol.hpp"

namespace scaf {

void init_network(caf::actor_system_config& cfg, network_options opts) {
  cfg.load<caf::io::middleman>();
  // Keys as caf::string_view: CAF 0.17 builds one from a `const char*` only
  // under g++ (clang takes string literals alone).
  auto set_unless_given = [&cfg](caf::string_view key, caf::timespan x) {
    if (caf::get_if(&cfg.content, key) == nullptr)
      cfg.set(key, x);
  };
  set_unless_given("middleman.heartbeat-interval", opts.heartbeat);
  set_unless_given("middleman.connection-timeout", opts.connection_timeout);
  if (opts.tls) {
    // After the middleman: the OpenSSL module stands on it.
    cfg.load<caf::openssl::manager>();
    auto set_path = [&cfg](caf::string_view key, const std::string& x) {
      if (caf::get_if(&cfg.content, key) == nullptr)
        cfg.set(key, x);
    };
    set_path("openssl.certificate", opts.tls->certificate);
    set_path("openssl.key", opts.tls->key);
    set_path("openssl.passphrase", opts.tls->passphrase);
    set_path("openssl.cafile", opts.tls->cafile);
  }
}

caf::io::middleman_actor
remote_protocol::network_actor(caf::actor_system& sys) {
  return sys.has_openssl_manager() ? sys.openssl_manager().actor_handle()
                                   : sys.middleman().actor_handle();
}

namespace remote_protocol {

namespace {

/// The C++ name of a type, for a reader looking for what to register.
std::string demangled(const std::type_info& ti) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(ti.name(), nullptr, nullptr, &status), std::free};
  return status == 0 && name ? std::string{name.get()} : ti.name();
}

} // namespace

std::vector<std::string> type_names(caf::actor_system& sys,
                                    const remote_signature& sig) {
  std::vector<std::string> result;
  auto add = [&](const caf::rtti_pair& x) {
    auto& name = sys.types().portable_name(x);
    if (!name.empty())
      result.push_back(name);
    else if (x.second != nullptr)
      result.push_back("unregistered " + demangled(*x.second));
    else
      result.push_back("unregistered type #" + std::to_string(x.first));
  };
  for (auto& x : sig.args)
    add(x);
  if (sig.result)
    add(*sig.result);
  else
    result.emplace_back("void");
  return result;
}

bool all_registered(const std::vector<std::string>& names) {
  for (auto& x : names)
    if (x.rfind("unregistered ", 0) == 0)
      return false;
  return true;
}

std::string render_signature(const std::string& name,
                             const std::vector<std::string>& types) {
  std::string result = name;
  result += '(';
  for (size_t i = 0; i + 1 < types.size(); ++i) {
    if (i > 0)
      result += ", ";
    result += types[i];
  }
  result += ") -> ";
  result += types.empty() ? std::string{"?"} : types.back();
  return result;
}

link_settings settings_of(caf::actor_system& sys) {
  auto& content = sys.config().content;
  link_settings result;
  result.heartbeat =
    caf::get_or(content, "middleman.heartbeat-interval", caf::timespan{0});
  result.timeout =
    caf::get_or(content, "middleman.connection-timeout", caf::timespan{0});
  return result;
}

std::string render(const link_settings& x) {
  return "heartbeat " + std::to_string(x.heartbeat.count() / 1000000) +
         " ms, connection timeout " +
         std::to_string(x.timeout.count() / 1000000) + " ms";
}

} // namespace remote_protocol

} // namespace scaf
