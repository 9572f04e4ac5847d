package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tenantgate/tenantgate/gateway/proxy"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: grpcbench backend|gateway|load|report [flags]; see doc.go")
	}
	role, args := os.Args[1], os.Args[2:]
	var err error
	switch role {
	case "backend":
		err = backend(args)
	case "gateway":
		err = gateway(args)
	case "load":
		err = load(args)
	case "report":
		err = report(args)
	default:
		err = fmt.Errorf("unknown role %q; use backend, gateway, load or report", role)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func backend(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:18450", "h2c address")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer()) // "" is SERVING
	go func() { waitForSignal(); srv.Stop() }()
	return srv.Serve(ln)
}

func gateway(args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:18451", "h2c listener address")
	backendAddr := fs.String("backend", "127.0.0.1:18450", "backend host:port")
	_ = fs.Parse(args)
	listenHost, listenPort, err := splitHostPort(*addr)
	if err != nil {
		return err
	}
	host, port, err := splitHostPort(*backendAddr)
	if err != nil {
		return err
	}
	route := routetable.Route{
		Namespace: "bench", Name: "grpc", GRPC: true,
		Rules: []routetable.Rule{{
			Matches: []routetable.Match{{GRPC: &routetable.GRPCMethodMatch{Type: routetable.MatchExact, Service: "grpc.health.v1.Health"}}},
			Backends: []routetable.Backend{{
				Name: "bench/backend:8080", Weight: 1, AppProtocol: routetable.AppProtocolH2C,
				Endpoints: []routetable.Endpoint{{Address: host, Port: port}},
			}},
		}},
	}
	table, faults := routetable.Compile(routetable.Config{Listeners: []routetable.Listener{
		{Name: "bench/bench/grpc", Address: listenHost, Port: listenPort, Protocol: routetable.ProtocolHTTP, Routes: []*routetable.Route{&route}},
	}})
	if err := faults.Err(); err != nil {
		return fmt.Errorf("compiling the benchmark route table: %w", err)
	}
	// Metrics are recorded as in production, into a registry nobody scrapes.
	srv := proxy.NewServer(proxy.Options{Registerer: prometheus.NewRegistry()})
	for name, err := range srv.Apply(table) {
		return fmt.Errorf("listener %s: %w", name, err)
	}
	waitForSignal()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// run is one load run's figures.
type run struct {
	Target   string  `json:"target"`
	Conns    int     `json:"conns"`
	Streams  int     `json:"streams"`
	Calls    int     `json:"calls"`
	Errors   int     `json:"errors"`
	PerSec   float64 `json:"perSec"`
	P50Micro float64 `json:"p50us"`
	P99Micro float64 `json:"p99us"`
}

type targetFlag [][2]string

func (t *targetFlag) String() string { return fmt.Sprint(*t) }
func (t *targetFlag) Set(v string) error {
	name, addr, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("target %q is not NAME=ADDR", v)
	}
	*t = append(*t, [2]string{name, addr})
	return nil
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var targets targetFlag
	fs.Var(&targets, "target", "NAME=host:port, repeatable")
	conns := fs.Int("conns", 1, "HTTP/2 connections per target")
	streams := fs.String("streams", "1,16,64", "calls in flight per connection, one run each")
	duration := fs.Duration("duration", 3*time.Second, "length of one run")
	reps := fs.Int("reps", 3, "runs per target and stream count, interleaved across targets")
	_ = fs.Parse(args)
	var levels []int
	for _, s := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("-streams %q: want positive integers", *streams)
		}
		levels = append(levels, n)
	}
	out := json.NewEncoder(os.Stdout)
	for range *reps {
		for _, level := range levels {
			for _, t := range targets {
				r, err := measure(t[0], t[1], *conns, level, *duration)
				if err != nil {
					return err
				}
				if err := out.Encode(r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// measure runs closed-loop Health/Check calls and reports their rate and
// latency; a call that fails counts as an error, and any error fails the
// run (a proxy that drops calls is not fast).
func measure(name, addr string, conns, streams int, d time.Duration) (run, error) {
	clients := make([]healthpb.HealthClient, conns)
	for i := range clients {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return run{}, err
		}
		defer cc.Close()
		clients[i] = healthpb.NewHealthClient(cc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = clients[i].Check(ctx, &healthpb.HealthCheckRequest{}) // connect and warm up
		cancel()
		if err != nil {
			return run{}, fmt.Errorf("%s (%s): warm-up call failed: %w", name, addr, err)
		}
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for _, c := range clients {
		for range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own := make([]time.Duration, 0, 4096)
				bad := 0
				for time.Now().Before(deadline) {
					t0 := time.Now()
					_, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{})
					if err != nil {
						bad++
						continue
					}
					own = append(own, time.Since(t0))
				}
				mu.Lock()
				latencies, errs = append(latencies, own...), errs+bad
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if errs > 0 {
		return run{}, fmt.Errorf("%s (%s): %d calls failed", name, addr, errs)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Nanoseconds()) / 1e3
	}
	return run{Target: name, Conns: conns, Streams: streams, Calls: len(latencies),
		PerSec: float64(len(latencies)) / elapsed.Seconds(), P50Micro: pct(0.50), P99Micro: pct(0.99)}, nil
}

func splitHostPort(addr string) (string, int32, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("port of %q: %w", addr, err)
	}
	return host, int32(port), nil
}

func waitForSignal() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
