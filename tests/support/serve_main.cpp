// kithara_serve: serves a directory on 127.0.0.1 with the loopback test server.
//
//   kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE]
//
// Prints the port on stdout (one line), then serves until SIGINT or SIGTERM.
#include "test_server.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE]\n";
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server thread starts

    kithara::test::http_server server{std::filesystem::path(argv[1])};
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--rate") == 0) {
            server.set_rate(std::strtoull(argv[i + 1], nullptr, 10));
        } else if (std::strcmp(argv[i], "--port-file") == 0) {
            std::ofstream(argv[i + 1]) << server.port() << '\n';
        }
    }
    std::cout << server.port() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    return 0;
}
