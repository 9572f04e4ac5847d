#!/usr/bin/env bash
# Bounded before/after of the proxy's fast path (issue 14): the same proxy
# binary with the fast path ("tenantgate") and without it ("nethttp", the
# net/http path alone), next to nginx, each pinned to CPU 1 in turn with
# the backend, wrk and the open-loop generator on CPU 0. Only the HTTP proxy
# comparison of run.sh: no HAProxy, Caddy, control plane or gRPC. Targets
# are interleaved cell by cell, so the noise of a shared machine falls on
# all of them alike. Prints a table of medians and writes the raw results
# to $BENCH_OUT/fastpath.json (default docs/bench).
#
# Knobs: BENCH_REPS (3), BENCH_DURATION (3s), BENCH_CONNS ("1,64"),
# BENCH_HTTPS_CONNS ("64"), BENCH_PORT_BASE (18500).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
reps=${BENCH_REPS:-3}
duration=${BENCH_DURATION:-3s}
conns=${BENCH_CONNS:-1,64}
https_conns=${BENCH_HTTPS_CONNS:-64}
base=${BENCH_PORT_BASE:-18500}
out=${BENCH_OUT:-docs/bench}
work=$(mktemp -d "${TMPDIR:-/tmp}/tenantgate-fastpath.XXXXXX")
pids=()

stop() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	local rc=$?
	stop
	if ((rc == 0)); then rm -rf "$work"; else echo "fastpath bench: failed; logs kept in $work" >&2; fi
}
trap cleanup EXIT
start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
}
wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -fsk -o /dev/null --max-time 1 "$1" && return
		sleep 0.1
	done
	echo "fastpath bench: $1 did not answer 200 within 10 s; see $work" >&2
	exit 1
}

for cmd in nginx wrk taskset openssl curl; do
	command -v "$cmd" >/dev/null || { echo "fastpath bench: $cmd is missing; hack/bench/run.sh installs it" >&2; exit 1; }
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
go build -o "$work/bin/" ./hack/bench/cmd/backend ./hack/bench/cmd/gateway ./hack/bench/cmd/dataplane ./hack/bench/cmd/fastpathreport

backend=$base fast=$((base + 10)) slow=$((base + 20)) nx=$((base + 30)) two=$((base + 40))
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
    upstream backend { server 127.0.0.1:$backend; keepalive 128; }
    server {
        listen 127.0.0.1:$nx;
        listen 127.0.0.1:$((nx + 1)) ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
declare -A pid
start backend env GOMAXPROCS=1 taskset -c 0 "$work/bin/backend" -listen "127.0.0.1:$backend" -tls-listen "127.0.0.1:$((backend + 1))" -cert "$work/cert.pem" -key "$work/key.pem"
start tenantgate env GOMAXPROCS=1 taskset -c 1 "$work/bin/gateway" -http "$fast" -https $((fast + 1)) -backend "127.0.0.1:$backend" -cert "$work/cert.pem" -key "$work/key.pem" -pprof "127.0.0.1:$((fast + 9))"
pid[tenantgate]=${pids[-1]}
start nethttp env GOMAXPROCS=1 taskset -c 1 "$work/bin/gateway" -fast-path=false -http "$slow" -https $((slow + 1)) -backend "127.0.0.1:$backend" -cert "$work/cert.pem" -key "$work/key.pem" -pprof "127.0.0.1:$((slow + 9))"
pid[nethttp]=${pids[-1]}
# The scaling row: the same fast-path proxy given both cores (GOMAXPROCS=2),
# which it shares with the backend and the load generator on CPU 0.
start tenantgate-2cpu env GOMAXPROCS=2 taskset -c 0,1 "$work/bin/gateway" -http "$two" -https $((two + 1)) -backend "127.0.0.1:$backend" -cert "$work/cert.pem" -key "$work/key.pem" -pprof "127.0.0.1:$((two + 9))"
pid[tenantgate-2cpu]=${pids[-1]}
start nginx taskset -c 1 nginx -p "$work/nginx" -c "$work/nginx.conf" -e "$work/nginx-error.log" -g 'daemon off;'
pid[nginx]=${pids[-1]}
for port in $fast $slow $nx $two; do
	wait_http "http://127.0.0.1:$port/"
	wait_http "https://127.0.0.1:$((port + 1))/"
done
targets=()
for t in tenantgate:$fast nethttp:$slow nginx:$nx tenantgate-2cpu:$two; do
	name=${t%%:*} port=${t#*:} allocs=
	# The Go proxies report their heap allocations (allocs/req in the table).
	[[ $name == nginx ]] || allocs=",http://127.0.0.1:$((port + 9))/debug/allocs"
	targets+=(-target "$name=http://127.0.0.1:$port,https://127.0.0.1:$((port + 1)),${pid[$name]}$allocs")
done
GOMAXPROCS=1 taskset -c 0 "$work/bin/dataplane" "${targets[@]}" -reps "$reps" -duration "$duration" \
	-conns "$conns" -https-conns "$https_conns" -open-duration 2s -ca "$work/cert.pem" -out "$work/fastpath.json" \
	-pprof "http://127.0.0.1:$((fast + 9))" -profile-target tenantgate
stop
mkdir -p "$out"
cp "$work/fastpath.json" "$out/fastpath.json"
"$work/bin/fastpathreport" -results "$out/fastpath.json" -baseline nginx
