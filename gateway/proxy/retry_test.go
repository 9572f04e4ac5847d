package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// flakyBackend fails the first ?fail=N tries of each ?id: with ?code (a
// status), by resetting the connection (code=reset) or by stalling
// (code=stall) for a second. Then it answers 200 with the request body and
// the number of tries in X-Tries.
type flakyBackend struct {
	*testBackend
	mu    sync.Mutex
	tries map[string]int
}

func startFlakyBackend(t *testing.T) *flakyBackend {
	f := &flakyBackend{tries: map[string]int{}}
	f.testBackend = startBackendWith(t, "flaky", func(s *http.Server) { s.Handler = f })
	return f
}

func (f *flakyBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail, _ := strconv.Atoi(q.Get("fail"))
	f.mu.Lock()
	f.tries[q.Get("id")]++
	try := f.tries[q.Get("id")]
	f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if try <= fail {
		switch code := q.Get("code"); code {
		case "reset":
			conn, _, _ := http.NewResponseController(w).Hijack()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		case "stall":
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
			w.WriteHeader(http.StatusTeapot)
		default:
			status, _ := strconv.Atoi(code)
			w.WriteHeader(status)
		}
		return
	}
	w.Header().Set("X-Tries", strconv.Itoa(try))
	_, _ = w.Write(body)
}

func (f *flakyBackend) triesOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries[id]
}

// deadEndpoint is a loopback address where nothing listens.
func deadEndpoint(t *testing.T) routetable.Endpoint {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	_ = ln.Close()
	return routetable.Endpoint{Address: "127.0.0.1", Port: int32(addr.Port)}
}

func TestProxyRetry(t *testing.T) {
	flaky := startFlakyBackend(t)
	retry := func(path string, policy routetable.Retry, timeouts routetable.Timeouts, backend routetable.Backend) *routetable.Route {
		return simpleRoute(strings.Trim(path, "/"), path, routetable.Rule{Retry: &policy, Timeouts: timeouts, Backends: []routetable.Backend{backend}})
	}
	withDeadFirst := flaky.ref(t, 1)
	withDeadFirst.Endpoints = append([]routetable.Endpoint{deadEndpoint(t)}, withDeadFirst.Endpoints...)
	g := startGateway(t, Options{RetryBodyLimit: 16},
		retry("/on-500", routetable.Retry{Codes: []int{500}, Attempts: 2, Backoff: time.Millisecond}, routetable.Timeouts{}, flaky.ref(t, 1)),
		retry("/per-try-timeout", routetable.Retry{Attempts: 1, Backoff: time.Millisecond}, routetable.Timeouts{BackendRequest: 100 * time.Millisecond}, flaky.ref(t, 1)),
		retry("/request-timeout", routetable.Retry{Codes: []int{500}, Attempts: 5, Backoff: 100 * time.Millisecond}, routetable.Timeouts{Request: 250 * time.Millisecond}, flaky.ref(t, 1)),
		retry("/dead-endpoint", routetable.Retry{Attempts: 1}, routetable.Timeouts{}, withDeadFirst),
		simpleRoute("no-retry", "/no-retry", routetable.Rule{Backends: []routetable.Backend{flaky.ref(t, 1)}}),
	)
	cases := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		wantTries  int
		wantBody   string
	}{
		{"retried status succeeds within the attempts", "/on-500?id=a&fail=2&code=500", "", 200, 3, ""},
		{"retried status fails past the attempts", "/on-500?id=b&fail=3&code=500", "", 500, 3, ""},
		{"other statuses are not retried", "/on-500?id=c&fail=1&code=503", "", 503, 1, ""},
		{"a reset connection is retried", "/on-500?id=d&fail=1&code=reset", "", 200, 2, ""},
		{"a body is sent again", "/on-500?id=e&fail=1&code=500", "short", 200, 2, "short"},
		{"a body over the limit is tried once", "/on-500?id=f&fail=1&code=500", "longer than sixteen bytes", 500, 1, ""},
		{"a try past backendRequest is retried", "/per-try-timeout?id=g&fail=1&code=stall", "", 200, 2, ""},
		{"a try past backendRequest with no attempts left is 504", "/per-try-timeout?id=h&fail=2&code=stall", "", 504, 2, ""},
		{"the request timeout bounds every try", "/request-timeout?id=i&fail=9&code=500", "", 504, 2, ""},
		{"a refused connection goes to the next endpoint", "/dead-endpoint?id=j", "", 200, 1, ""},
		{"a rule without a policy tries once", "/no-retry?id=k&fail=1&code=500", "", 500, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", g.url(tc.target), strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := g.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			id := req.URL.Query().Get("id")
			if got := flaky.triesOf(id); got != tc.wantTries {
				t.Errorf("backend saw %d tries, want %d", got, tc.wantTries)
			}
			if tc.wantStatus == 200 && string(body) != tc.wantBody {
				t.Errorf("backend got body %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		try      int
		min, max time.Duration // of the minimum 100ms
	}{
		{1, 100 * time.Millisecond, 150 * time.Millisecond},
		{2, 200 * time.Millisecond, 300 * time.Millisecond},
		{4, 800 * time.Millisecond, 1200 * time.Millisecond},
		{9, 800 * time.Millisecond, 1200 * time.Millisecond},
	}
	for _, tc := range cases {
		for range 50 {
			if got := backoff(100*time.Millisecond, tc.try); got < tc.min || got > tc.max {
				t.Fatalf("backoff before retry %d = %v, want between %v and %v", tc.try, got, tc.min, tc.max)
			}
		}
	}
	if got := backoff(0, 3); got != 0 {
		t.Errorf("backoff without a minimum = %v, want 0", got)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("sleep on an ended context = %v, want context.Canceled", err)
	}
}
