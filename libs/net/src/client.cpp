// The public client: a handle on client_impl (curl_multi.cpp) that posts every call to the
// executor; each request is a transfer (transfer.cpp).
#include <kithara/net/client.hpp>

#include "detail/client_impl.hpp"
#include "detail/transfer.hpp"

#include <asio/post.hpp>

#include <cassert>

namespace kithara::net {

void request_handle::cancel() const {
    auto t = transfer_.lock();
    if (!t) return;
    asio::post(t->executor(), [t] { t->cancel(errc::cancelled); });
}

client::client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_shared<detail::client_impl>(std::move(executor), std::move(options))) {}

client::~client() {
    asio::any_io_executor ex = impl_->executor();
    asio::post(ex, [impl = std::move(impl_)] { impl->shutdown(); });
}

request_handle client::start(request req, std::shared_ptr<sink> s) {
    assert(s);
    auto t = std::make_shared<detail::transfer>(impl_, std::move(req), std::move(s));
    request_handle h(t);
    asio::post(impl_->executor(), [impl = impl_, t] { impl->start(t); });
    return h;
}

const asio::any_io_executor& client::executor() const noexcept {
    return impl_->executor();
}

}  // namespace kithara::net
