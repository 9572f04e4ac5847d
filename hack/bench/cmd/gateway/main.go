package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/metrics"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantgate/tenantgate/gateway/proxy"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

func main() {
	httpPort := flag.Int("http", 18410, "plain HTTP port on 127.0.0.1")
	httpsPort := flag.Int("https", 18411, "HTTPS port on 127.0.0.1")
	backend := flag.String("backend", "127.0.0.1:18400", "backend host:port")
	cert := flag.String("cert", "", "PEM certificate for the HTTPS listener")
	key := flag.String("key", "", "PEM key for the HTTPS listener")
	pprofAddr := flag.String("pprof", "127.0.0.1:18419", "net/http/pprof address")
	fastPath := flag.Bool("fast-path", true, "serve HTTP/1.1 on the proxy's fast path; false measures the net/http path alone")
	flag.Parse()
	cfg, err := config(*httpPort, *httpsPort, *backend, *cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	table, faults := routetable.Compile(cfg)
	if err := faults.Err(); err != nil {
		log.Fatalf("compiling the benchmark route table: %v", err)
	}
	// Metrics are recorded as in production, into a registry nobody scrapes.
	srv := proxy.NewServer(proxy.Options{Registerer: prometheus.NewRegistry(), DisableFastPath: !*fastPath})
	for name, err := range srv.Apply(table) {
		log.Fatalf("listener %s: %v", name, err)
	}
	go servePprof(*pprofAddr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// config is one HTTP and one HTTPS listener, each with a route for every
// host and path to the backend, as the translator would emit it.
func config(httpPort, httpsPort int, backend, certFile, keyFile string) (routetable.Config, error) {
	host, portText, err := net.SplitHostPort(backend)
	if err != nil {
		return routetable.Config{}, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return routetable.Config{}, err
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return routetable.Config{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return routetable.Config{}, err
	}
	route := routetable.Route{
		Namespace: "bench", Name: "bench",
		Rules: []routetable.Rule{{
			Matches: []routetable.Match{{Path: routetable.PathMatch{Type: routetable.PathPrefix, Value: "/"}}},
			Backends: []routetable.Backend{{
				Name: "bench/backend:80", Weight: 1,
				Endpoints: []routetable.Endpoint{{Address: host, Port: int32(port)}},
			}},
		}},
	}
	return routetable.Config{Listeners: []routetable.Listener{
		{Name: "bench/bench/http", Address: "127.0.0.1", Port: int32(httpPort), Protocol: routetable.ProtocolHTTP, Routes: []*routetable.Route{&route}},
		{Name: "bench/bench/https", Address: "127.0.0.1", Port: int32(httpsPort), Protocol: routetable.ProtocolHTTPS, Routes: []*routetable.Route{&route},
			Certificates: []routetable.Certificate{{Secret: "bench/cert", CertPEM: certPEM, KeyPEM: keyPEM}}},
	}}, nil
}

func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/allocs", serveAllocs)
	s := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(s.ListenAndServe())
}

// serveAllocs writes the heap objects this process has allocated so far
// (runtime/metrics), so the bench can divide a run's difference by its
// requests: allocations per request under real load.
func serveAllocs(w http.ResponseWriter, _ *http.Request) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(sample)
	fmt.Fprintln(w, sample[0].Value.Uint64())
}
