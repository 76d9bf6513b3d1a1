#!/usr/bin/env bash
# CTest fixture: runs Debian's nginx as the current user on 127.0.0.1 for interop tests.
#
#   nginx.sh start <dir>   generates <dir>/root fixtures and nginx.conf, starts nginx (daemon),
#                          writes the chosen port to <dir>/port
#   nginx.sh stop <dir>    stops it
#
# A second server on <dir>/tls_port speaks TLS (HTTP/2 offered) with a self-signed certificate
# for 127.0.0.1 (<dir>/tls/cert.pem).
# Locations: / serves <dir>/root; /slow/ serves the same files with limit_rate 1m (1 MiB/s; note
# nginx lets the first second's worth through at once, then paces on whole-second boundaries).
# The access log (<dir>/logs/access.log) starts each line with the connection serial number.
# A missing nginx is a failure, not a skip: CI installs nginx-light.
set -euo pipefail
NGINX=${NGINX:-/usr/sbin/nginx}
cmd=${1:?usage: nginx.sh start|stop <dir>}
dir=${2:?usage: nginx.sh start|stop <dir>}

stop() {
    if [[ -f $dir/nginx.pid ]]; then
        local pid
        pid=$(cat "$dir/nginx.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$dir/nginx.pid"
    fi
}

case $cmd in
stop)
    stop
    echo "nginx stopped"
    ;;
start)
    if [[ ! -x $NGINX ]]; then
        echo "FAIL: $NGINX not found; install nginx-light" >&2
        exit 1
    fi
    stop
    mkdir -p "$dir/root" "$dir/logs" "$dir/tmp"
    : > "$dir/logs/access.log"  # tests count lines per run
    dir=$(cd "$dir" && pwd)
    # Fixtures: deterministic content (tests read the same files to compare).
    if [[ ! -f $dir/root/data_16m.bin ]]; then
        head -c 1048576 /dev/urandom > "$dir/root/data_1m.bin"
        head -c 3145728 /dev/urandom > "$dir/root/data_3m.bin"
        head -c 16777216 /dev/urandom > "$dir/root/data_16m.bin"  # paced: 15 s left to cancel
        head -c 65536 /dev/urandom > "$dir/root/small.bin"
    fi
    if [[ ! -f $dir/tls/cert.pem ]]; then  # self-signed, for 127.0.0.1; tests trust it explicitly
        mkdir -p "$dir/tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/tls/key.pem" \
            -out "$dir/tls/cert.pem" 2> "$dir/logs/openssl.log"
    fi
    user_line=""
    if [[ $(id -u) -eq 0 ]]; then user_line="user root;"; fi
    for attempt in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        tls_port=$((port + 1))
        cat > "$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 512; }
http {
    log_format kithara '\$connection \$connection_requests \$status "\$request" \$body_bytes_sent "\$http_range"';
    access_log $dir/logs/access.log kithara;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$port;
        root $dir/root;
        location /slow/ {
            alias $dir/root/;
            limit_rate 1m;
        }
    }
    server {
        listen 127.0.0.1:$tls_port ssl http2;
        ssl_certificate $dir/tls/cert.pem;
        ssl_certificate_key $dir/tls/key.pem;
        root $dir/root;
    }
}
CONF
        if "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2> "$dir/logs/start.log"; then
            echo "$port" > "$dir/port"
            echo "$tls_port" > "$dir/tls_port"
            echo "nginx started on 127.0.0.1:$port (attempt $attempt)"
            exit 0
        fi
        if ! grep -q "Address already in use" "$dir/logs/start.log" "$dir/logs/error.log" 2>/dev/null; then
            echo "FAIL: nginx did not start:" >&2
            cat "$dir/logs/start.log" >&2
            exit 1
        fi
    done
    echo "FAIL: no free port for nginx after 20 attempts" >&2
    exit 1
    ;;
*)
    echo "usage: nginx.sh start|stop <dir>" >&2
    exit 2
    ;;
esac
