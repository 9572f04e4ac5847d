package proxy

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// TestSwapUnderLoad swaps the table 1,000 times while clients send requests
// over keep-alive connections: every request must succeed, each client must
// keep its one connection, and the last generation must be served.
func TestSwapUnderLoad(t *testing.T) {
	const swaps, clients = 1000, 4
	apples, bananas := startBackend(t, "apples"), startBackend(t, "bananas")
	g := startGateway(t, Options{})
	apply := func(generation int) {
		g.apply(t, simpleRoute("r", "/", routetable.Rule{
			Backends: []routetable.Backend{apples.ref(t, 1), bananas.ref(t, int32(generation%3))},
			Filters: []routetable.Filter{{Type: routetable.FilterResponseHeaderModifier, ResponseHeader: &routetable.HeaderModifier{
				Set: []routetable.Header{{Name: "X-Generation", Value: strconv.Itoa(generation)}},
			}}},
		}))
	}
	apply(0)

	var answered, failed, dialed, highest atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				if !info.Reused {
					dialed.Add(1)
				}
			}}
			for range 1_000_000 { // bounded; stop ends it first
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", g.url("/"), nil)
				resp, err := client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
				answered.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if gen, err := strconv.Atoi(resp.Header.Get("X-Generation")); err == nil && int64(gen) > highest.Load() {
					highest.Store(int64(gen))
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for generation := 1; generation <= swaps; generation++ {
		apply(generation)
		// Pace the swaps so requests interleave with them: one answer per swap at least.
		for answered.Load() < int64(generation) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Microsecond)
		}
	}
	time.Sleep(20 * time.Millisecond) // a few requests on the last table
	close(stop)
	wg.Wait()
	t.Logf("%d requests during %d swaps over %d connections, %d failed", answered.Load(), swaps, dialed.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during table swaps", failed.Load(), answered.Load())
	}
	if dialed.Load() != clients {
		t.Errorf("clients dialed %d connections, want %d kept alive throughout", dialed.Load(), clients)
	}
	if answered.Load() < swaps {
		t.Errorf("only %d requests were sent during %d swaps", answered.Load(), swaps)
	}
	if highest.Load() != swaps {
		t.Errorf("highest generation served %d, want %d", highest.Load(), swaps)
	}
}
