// kithara::test::scoped_env: sets an environment variable for a scope and restores what it was
// (or unsets it) at the end.
//
//   const kithara::test::scoped_env via("https_proxy", proxy.url(""));
//
// Threads: the environment is the process's; use it on the test's thread while no other thread
// reads the variable (libcurl reads the proxy variables when a transfer starts).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace kithara::test {

class scoped_env {
public:
    scoped_env(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;
    ~scoped_env() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace kithara::test
