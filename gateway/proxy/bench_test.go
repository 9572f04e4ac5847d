package proxy

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// BenchmarkProxy compares, in one run over loopback, a request sent to a
// backend directly and the same request sent through the proxy, with the
// same client settings and concurrency. It reports requests per second and
// the 99th percentile latency.
func BenchmarkProxy(b *testing.B) {
	backend := startBackendWith(b, "hello", func(s *http.Server) {
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("hello\n"))
		})
	})
	g := startGateway(b, Options{}, simpleRoute("hello", "/", routetable.Rule{Backends: []routetable.Backend{backend.ref(b, 1)}}))
	for _, target := range []struct{ name, url string }{
		{"direct", backend.srv.URL + "/hello"},
		{"proxy", g.url("/hello")},
	} {
		b.Run(target.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			var mu sync.Mutex
			latencies := make([]time.Duration, 0, b.N)
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var local []time.Duration
				for pb.Next() {
					sent := time.Now()
					resp, err := client.Get(target.url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					local = append(local, time.Since(sent))
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			if len(latencies) == 0 {
				return
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
		})
	}
}
