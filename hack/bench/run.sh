#!/usr/bin/env bash
# `make bench`: the proxy against nginx, HAProxy and Caddy on this machine,
# then the control plane and the webhook at scale, into docs/bench/REPORT.md.
#
# It installs nginx, haproxy, caddy and wrk from Debian packages when they
# are missing (their services are kept from starting), builds the backend,
# the standalone proxy and the drivers from hack/bench, writes every config
# into a temporary folder, and stops every process it started, by PID, on
# exit. All traffic goes to 127.0.0.1 (the control-plane part: to the local
# cluster's loopback Gateway addresses and its Pods' network namespaces).
#
# Knobs (environment): BENCH_REPS (3), BENCH_DURATION (3s), BENCH_CONNS
# ("1,16,64"), BENCH_HTTPS_CONNS ("1,64"), BENCH_OPEN_DURATION (5s),
# BENCH_PORT_BASE (18400), BENCH_SKIP (any of "dataplane", "controlplane",
# "grpc", "tls"),
# BENCH_OUT (docs/bench). To re-render the report from the kept results
# without measuring: go run ./hack/bench/cmd/report -results docs/bench/results.json.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
reps=${BENCH_REPS:-3}
duration=${BENCH_DURATION:-3s}
conns=${BENCH_CONNS:-1,16,64}
https_conns=${BENCH_HTTPS_CONNS:-1,64}
open_duration=${BENCH_OPEN_DURATION:-5s}
base=${BENCH_PORT_BASE:-18400}
skip=${BENCH_SKIP:-}
out=${BENCH_OUT:-docs/bench}

work=$(mktemp -d "${TMPDIR:-/tmp}/tenantgate-bench.XXXXXX")
pids=()
removed_policy=""

# stop ends every process this script started, TERM first, KILL after 5s.
stop() {
	local pid i
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

cleanup() {
	local rc=$?
	stop
	if [[ -n $removed_policy ]]; then rm -f /usr/sbin/policy-rc.d; fi
	if ((rc == 0)); then rm -rf "$work"; else echo "bench: failed; logs and configs kept in $work" >&2; fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }

# install_packages installs what is missing, without starting the services
# the packages ship (nginx and caddy would bind port 80 on every address).
install_packages() {
	local missing=() cmd pkg
	for cmd in nginx:nginx haproxy:haproxy caddy:caddy wrk:wrk taskset:util-linux openssl:openssl curl:curl; do
		command -v "${cmd%%:*}" >/dev/null || missing+=("${cmd#*:}")
	done
	((${#missing[@]} == 0)) && return
	say "installing ${missing[*]} from Debian packages"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		removed_policy=yes
	fi
	pkg=$(apt-cache policy "${missing[0]}" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [[ -z $pkg || $pkg == "(none)" ]]; then apt-get update -qq; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1 ||
		{ cat "$work/apt.log" >&2; echo "bench: apt-get install ${missing[*]} failed; install them by hand and rerun" >&2; exit 1; }
}

# start runs a command in the background and remembers its PID (env and
# taskset exec, so the PID is the program's own).
start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
}

# wait_http waits, at most 10 s, until url answers 200.
wait_http() {
	local url=$1 i
	for ((i = 0; i < 100; i++)); do
		if curl -fsk -o /dev/null --max-time 1 "$url"; then return; fi
		sleep 0.1
	done
	echo "bench: $url did not answer 200 within 10 s; see the logs in $work" >&2
	exit 1
}

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

data_plane() {
	local p port
	for ((p = base; p < base + 50; p++)); do
		port_free "$p" || { echo "bench: port $p is in use; set BENCH_PORT_BASE to a free range of 50 ports" >&2; exit 1; }
	done
	local backend=$base tg=$((base + 10)) nx=$((base + 20)) hp=$((base + 30)) cd=$((base + 40))

	say "certificate and configs in $work"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
	cat "$work/cert.pem" "$work/key.pem" >"$work/haproxy.pem"

	mkdir -p "$work/nginx"
	cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream backend {
        server 127.0.0.1:$backend;
        keepalive 128;
    }
    server {
        listen 127.0.0.1:$nx;
        listen 127.0.0.1:$((nx + 1)) ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
	cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend bench
    bind 127.0.0.1:$hp
    bind 127.0.0.1:$((hp + 1)) ssl crt $work/haproxy.pem
    default_backend backend
backend backend
    http-reuse always
    server backend 127.0.0.1:$backend
EOF
	cat >"$work/Caddyfile" <<EOF
{
    admin off
    auto_https off
    storage file_system $work/caddy
}
http://:$cd {
    reverse_proxy 127.0.0.1:$backend
}
https://:$((cd + 1)) {
    tls $work/cert.pem $work/key.pem
    reverse_proxy 127.0.0.1:$backend
}
EOF

	say "starting the backend (CPU 0) and the proxies (CPU 1, one worker/thread each, GOMAXPROCS=1)"
	local -A pid
	start backend env GOMAXPROCS=1 taskset -c 0 "$work/bin/backend" -listen "127.0.0.1:$backend" -tls-listen "127.0.0.1:$((backend + 1))" -cert "$work/cert.pem" -key "$work/key.pem"
	pid[direct]=${pids[-1]}
	start tenantgate env GOMAXPROCS=1 taskset -c 1 "$work/bin/gateway" -http "$tg" -https $((tg + 1)) -backend "127.0.0.1:$backend" -cert "$work/cert.pem" -key "$work/key.pem" -pprof "127.0.0.1:$((tg + 9))"
	pid[tenantgate]=${pids[-1]}
	start nginx taskset -c 1 nginx -p "$work/nginx" -c "$work/nginx.conf" -e "$work/nginx-error.log" -g 'daemon off;'
	pid[nginx]=${pids[-1]}
	start haproxy taskset -c 1 haproxy -db -f "$work/haproxy.cfg"
	pid[haproxy]=${pids[-1]}
	start caddy env GOMAXPROCS=1 XDG_DATA_HOME="$work/caddy" XDG_CONFIG_HOME="$work/caddy" taskset -c 1 caddy run --config "$work/Caddyfile" --adapter caddyfile
	pid[caddy]=${pids[-1]}
	for port in $backend $tg $nx $hp $cd; do
		wait_http "http://127.0.0.1:$port/"
		wait_http "https://127.0.0.1:$((port + 1))/"
	done

	say "data plane: wrk closed loop, then the open-loop generator (this takes a while)"
	local targets=() name allocs
	for t in direct:$backend tenantgate:$tg nginx:$nx haproxy:$hp caddy:$cd; do
		name=${t%%:*} port=${t#*:}
		allocs=
		# tenantgate reports its heap allocations (allocs/req in the report).
		[[ $name == tenantgate ]] && allocs=",http://127.0.0.1:$((port + 9))/debug/allocs"
		targets+=(-target "$name=http://127.0.0.1:$port,https://127.0.0.1:$((port + 1)),${pid[$name]}$allocs")
	done
	GOMAXPROCS=1 taskset -c 0 "$work/bin/dataplane" "${targets[@]}" \
		-reps "$reps" -duration "$duration" -conns "$conns" -https-conns "$https_conns" \
		-open-duration "$open_duration" -ca "$work/cert.pem" \
		-pprof "http://127.0.0.1:$((tg + 9))" -profile-target tenantgate \
		-out "$work/dataplane.json" -profile-out "$work/tenantgate.cpu.pprof"
	stop
}

versions() {
	{
		printf 'tenantgate\t%s\n' "$(git describe --always --dirty 2>/dev/null || echo unknown)"
		printf 'go\t%s\n' "$(go version | awk '{print $3}')"
		printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's/^nginx version: //')"
		printf 'haproxy\t%s\n' "$(haproxy -v | head -1 | awk '{print $3}')"
		printf 'caddy\t%s\n' "$(caddy version | awk '{print $1}')"
		printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
		printf 'openssl\t%s\n' "$(openssl version | awk '{print $2}')"
		printf 'kube-apiserver\t%s\n' "$(bin/kube-apiserver --version 2>/dev/null | awk '{print $2}')"
		printf 'etcd\t%s\n' "$(bin/etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}')"
	} >"$work/versions.tsv"
	{
		printf 'cpu\t%s\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
		printf 'cores\t%s\n' "$(nproc)"
		printf 'memory\t%s\n' "$(free -h | awk '/^Mem:/ {print $2}')"
		printf 'kernel\t%s\n' "$(uname -sr)"
		printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
		printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
		printf 'load average before the run\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$work/machine.tsv"
}

install_packages
versions
say "building the backend, the standalone proxy and the drivers"
go build -o "$work/bin/" ./hack/bench/cmd/...

if [[ $skip != *dataplane* ]]; then
	data_plane
	printf 'load average after the data plane\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/machine.tsv"
fi

say "webhook decisions per second on one core, and one translation of 5,000 routes"
GOMAXPROCS=1 taskset -c 1 go test -run '^$' -bench 'BenchmarkCheckHTTPRoute$' -benchtime 2s -count "$reps" ./tenancy/ | tee "$work/decisions.txt"
GOMAXPROCS=1 taskset -c 1 go test -run '^$' -bench 'BenchmarkBuild$' -benchtime 20x -count "$reps" ./gateway/translate/ | tee "$work/build.txt"

failed=""
if [[ $skip != *controlplane* ]]; then
	say "control plane and webhook at scale: a local cluster with tenantgate in-process (a few minutes)"
	# The tree may have moved since the data plane was built (a shared work tree).
	printf 'tenantgate at the control-plane step\t%s\n' "$(git describe --always --dirty 2>/dev/null || echo unknown)" >>"$work/versions.tsv"
	# A failed phase still leaves the others' figures; the report says what is missing.
	go test -run '^$' -bench 'BenchmarkControlPlane$' -benchtime 1x -timeout 30m ./tests/bench/ | tee "$work/controlplane.txt" ||
		failed="the control-plane benchmark failed (its output is in the log above)"
fi

mkdir -p "$out"
"$work/bin/report" -machine "$work/machine.tsv" -versions "$work/versions.tsv" \
	-dataplane "$work/dataplane.json" -decisions "$work/decisions.txt" -build "$work/build.txt" \
	-controlplane "$work/controlplane.txt" -markdown "$out/REPORT.md" -json "$out/results.json"
say "wrote $out/REPORT.md"

# The other route kinds: gRPC unary calls against nginx's grpc_pass (its own
# script and report, docs/bench/GRPC.md) and TLS passthrough against HAProxy
# in TCP mode (a Go benchmark, each proxy in its own process).
if [[ $skip != *grpc* ]]; then
	say "gRPC unary calls: tenantgate vs nginx grpc_pass"
	BENCH_OUT="$out" hack/bench/grpc.sh || failed="${failed:+$failed; }the gRPC benchmark failed"
fi
if [[ $skip != *tls* ]]; then
	say "TLS passthrough: tenantgate vs HAProxy in TCP mode"
	go test -run '^$' -bench 'BenchmarkTLSPassthrough' -benchtime 3s -count "$reps" ./gateway/proxy/ | tee "$out/TLS-PASSTHROUGH.txt" ||
		failed="${failed:+$failed; }the TLS passthrough benchmark failed"
fi
if [[ -n $failed ]]; then
	echo "bench: $failed" >&2
	exit 1
fi
