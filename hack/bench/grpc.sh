#!/usr/bin/env bash
# `make bench-grpc`: gRPC unary calls (grpc.health.v1.Health/Check) through
# tenantgate's proxy against nginx's grpc_pass and the backend directly,
# into docs/bench/GRPC.md.
#
# It installs nginx from Debian's packages when missing (its service kept
# from starting), builds hack/bench/cmd/grpcbench, pins the backend and the
# load generator to CPU 0 and each proxy to CPU 1 (one worker, GOMAXPROCS=1,
# as hack/bench/run.sh does), and stops every process it started, by PID,
# on exit. All traffic is h2c on 127.0.0.1.
#
# Knobs (environment): BENCH_REPS (3), BENCH_DURATION (3s), BENCH_STREAMS
# ("1,16,64", calls in flight on one HTTP/2 connection), BENCH_GRPC_PORT_BASE
# (18450), BENCH_OUT (docs/bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
reps=${BENCH_REPS:-3}
duration=${BENCH_DURATION:-3s}
streams=${BENCH_STREAMS:-1,16,64}
base=${BENCH_GRPC_PORT_BASE:-18450}
out=${BENCH_OUT:-docs/bench}

work=$(mktemp -d "${TMPDIR:-/tmp}/tenantgate-grpc-bench.XXXXXX")
pids=()
removed_policy=""

stop() {
	local pid i
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
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
	if ((rc == 0)); then rm -rf "$work"; else echo "bench-grpc: failed; logs and configs kept in $work" >&2; fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }

start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
}

if ! command -v nginx >/dev/null; then
	say "installing nginx from Debian's packages"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		removed_policy=yes
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >"$work/apt.log" 2>&1 ||
		{ cat "$work/apt.log" >&2; echo "bench-grpc: apt-get install nginx failed; install it by hand and rerun" >&2; exit 1; }
fi

backend=$base tg=$((base + 1)) nx=$((base + 2))
for port in $backend $tg $nx; do
	if ss -Htln "sport = :$port" | grep -q .; then
		echo "bench-grpc: port $port is in use; set BENCH_GRPC_PORT_BASE to a free range of 3 ports" >&2
		exit 1
	fi
done

say "building hack/bench/cmd/grpcbench"
go build -o "$work/grpcbench" ./hack/bench/cmd/grpcbench

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
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
    keepalive_requests 100000000;
    upstream grpcbackend {
        server 127.0.0.1:$backend;
        keepalive 128;
        keepalive_requests 100000000;
    }
    server {
        listen 127.0.0.1:$nx http2;
        location / {
            grpc_pass grpc://grpcbackend;
        }
    }
}
CONF

say "starting the backend (CPU 0), tenantgate and nginx (CPU 1, one worker each)"
start backend env GOMAXPROCS=1 taskset -c 0 "$work/grpcbench" backend -listen "127.0.0.1:$backend"
start tenantgate env GOMAXPROCS=1 taskset -c 1 "$work/grpcbench" gateway -listen "127.0.0.1:$tg" -backend "127.0.0.1:$backend"
start nginx taskset -c 1 nginx -p "$work/nginx" -c "$work/nginx.conf" -e "$work/nginx-error.log" -g 'daemon off;'
sleep 1

say "closed-loop unary calls: $reps x $duration per target and stream count ($streams)"
GOMAXPROCS=1 taskset -c 0 "$work/grpcbench" load \
	-target "direct=127.0.0.1:$backend" -target "tenantgate=127.0.0.1:$tg" -target "nginx=127.0.0.1:$nx" \
	-streams "$streams" -duration "$duration" -reps "$reps" | tee "$work/runs.jsonl"
stop

mkdir -p "$out"
{
	echo "# gRPC unary: tenantgate vs nginx grpc_pass"
	echo
	echo "Written by \`make bench-grpc\` (hack/bench/grpc.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):"
	echo "$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, load average before the run $(cut -d' ' -f1-3 /proc/loadavg);"
	echo "tenantgate $(git describe --always --dirty 2>/dev/null || echo unknown), $(go version | awk '{print $3}'), nginx $(nginx -v 2>&1 | sed 's/^nginx version: nginx\///')."
	echo "grpc.health.v1.Health/Check over one h2c connection; backend and load generator on CPU 0, the proxy on CPU 1"
	echo "(GOMAXPROCS=1 / one nginx worker); $reps runs of $duration each, interleaved across targets."
	echo
	"$work/grpcbench" report -baseline nginx <"$work/runs.jsonl"
} >"$out/GRPC.md"
say "wrote $out/GRPC.md"
cat "$out/GRPC.md"
