// net_fetch: a program linked with kithara::net alone, for bench/curl_modes.sh. With no argument
// it starts and exits, so its time is process start-up: the loader mapping and relocating
// kithara::net, libcurl and what they link. With a URL it fetches it whole to stdout (so a static
// link keeps what an application using the client has).
//   net_fetch                    # start-up only
//   net_fetch URL > body         # exit status 1 with a message on failure
#include <kithara/net/client.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <thread>

int main(int argc, char** argv) {
    if (argc < 2) return 0;
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::thread runner([&io] { io.run(); });
    int status = 0;
    {
        kithara::net::client client{io.get_executor()};
        kithara::net::request req;
        req.url = argv[1];
        auto r = kithara::net::fetch(client, req);
        if (!r) {
            std::fprintf(stderr, "net_fetch: %s\n", r.error().message().c_str());
            status = 1;
        } else if (std::fwrite(r->body.data(), 1, r->body.size(), stdout) != r->body.size()) {
            status = 1;
        }
    }
    work.reset();
    runner.join();
    return status;
}
