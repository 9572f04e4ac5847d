package roles

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounded load of the isolation test: the dedicated data plane is offered a
// fixed rate for a fixed window, once alone and once while saturators
// closed-loop clients keep the shared data plane (limited to 8 connections
// per listener) beyond what it accepts.
const (
	offeredRate = 200 // requests per second to the dedicated data plane
	window      = 3 * time.Second
	saturators  = 64
)

// rateResult is what one fixed-rate window measured.
type rateResult struct {
	offered, ok, failed int
	elapsed             time.Duration // from the first request sent to the last answer
	p50, p99            time.Duration
}

func (r rateResult) achieved() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r rateResult) String() string {
	return fmt.Sprintf("%d of %d offered served (%.0f req/s), %d failed, p50 %v, p99 %v", r.ok, r.offered, r.achieved(), r.failed, r.p50, r.p99)
}

// fixedRate offers offeredRate requests per second to addr for window
// (open loop: a slow answer does not slow the offer) and counts the 200s.
func fixedRate(addr string) rateResult {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	var (
		mu        sync.Mutex
		res       rateResult
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	begin := time.Now()
	for i := range offeredRate * int(window/time.Second) {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * time.Second / offeredRate))) // on schedule, however slow the answers
		res.offered++
		wg.Go(func() {
			start := time.Now()
			ok := get(hc, addr)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				res.ok++
				latencies = append(latencies, time.Since(start))
			} else {
				res.failed++
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.p50, res.p99 = latencies[n/2], latencies[n*99/100]
	}
	return res
}

func get(hc *http.Client, addr string) bool {
	resp, err := hc.Get("http://" + addr + "/")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// saturate runs closed-loop clients against addr until ctx ends and
// returns how many requests they completed and failed.
func saturate(ctx context.Context, addr string) func() (ok, failed int64) {
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	for range saturators {
		wg.Go(func() {
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			for ctx.Err() == nil {
				if get(hc, addr) {
					done.Add(1)
				} else if ctx.Err() == nil {
					failed.Add(1)
				}
			}
		})
	}
	return func() (int64, int64) { wg.Wait(); return done.Load(), failed.Load() }
}

// testIsolation measures the dedicated data plane's rate alone, then while
// the shared one is saturated, and requires the same full rate both times.
func testIsolation(t *testing.T, dedicatedAddr, sharedAddr string) {
	idle := fixedRate(dedicatedAddr)
	sharedIdle := fixedRate(sharedAddr)
	ctx, cancel := context.WithCancel(context.Background())
	wait := saturate(ctx, sharedAddr)
	time.Sleep(500 * time.Millisecond) // let the saturators fill the shared data plane's connection limit
	loaded := fixedRate(dedicatedAddr)
	sharedLoaded := fixedRate(sharedAddr)
	cancel()
	done, failed := wait()
	elapsed := 2*window + 500*time.Millisecond
	t.Logf("figures: dedicated data plane alone: %s", idle)
	t.Logf("figures: shared data plane alone: %s", sharedIdle)
	t.Logf("figures: %d closed-loop clients on the shared data plane (8 connections per listener): %.0f req/s, %d failed", saturators, float64(done)/elapsed.Seconds(), failed)
	t.Logf("figures: shared data plane while saturated: %s", sharedLoaded)
	t.Logf("figures: dedicated data plane while the shared one is saturated: %s", loaded)
	for name, r := range map[string]rateResult{"alone": idle, "while the shared data plane is saturated": loaded} {
		// Rates are figures (speed targets live in benchmarks); what is required is that every offered request is served.
		if r.failed > 0 || r.ok != r.offered {
			t.Errorf("dedicated data plane %s: %s; want every request of the offer (%d req/s for %v) served", name, r, offeredRate, window)
		}
	}
	if sharedLoaded.p99 <= sharedIdle.p99 && sharedLoaded.failed == 0 {
		t.Errorf("the shared data plane does not look saturated: p99 %v loaded vs %v alone, no failures; the test proves nothing", sharedLoaded.p99, sharedIdle.p99)
	}
}
