// URL helpers: redact_url() strips credentials and secrets before a URL reaches a log or an
// error context.
//
//   assert(kithara::net::redact_url("https://bob:pw@cdn.example/a.mp3?token=abc&v=2#t") ==
//          "https://***@cdn.example/a.mp3?token=***&v=2");
//
// Pure functions, any thread, no allocation beyond the returned string.
#pragma once

#include <kithara/net/export.hpp>

#include <string>
#include <string_view>

namespace kithara::net {

// Userinfo becomes "***"; query values whose key looks secret (token, key, sig, auth, pass,
// secret, session, sid, cred, jwt, code, policy, x-amz-*, ...) or that are long opaque strings
// (24+ characters) become "***"; the fragment is dropped. Never fails: text that is not a URL is
// returned with the same rules applied as far as they fit.
[[nodiscard]] KITHARA_NET_EXPORT std::string redact_url(std::string_view url);

}  // namespace kithara::net
