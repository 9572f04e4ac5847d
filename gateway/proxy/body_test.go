package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// countingBody records how many bytes were read from it.
type countingBody struct {
	io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

func TestKeepBody(t *testing.T) {
	payload := strings.Repeat("0123456789", 10_000) // 100,000 bytes: several chunks
	cases := []struct {
		name          string
		contentLength int64 // -1: chunked
		limit, budget int64
		used          int64 // budget already taken by others
		wantReason    string
		wantRead      int // bytes read before deciding
	}{
		{"known length within budget", 100_000, 200_000, 1 << 20, 0, "", 100_000},
		{"chunked within limit", -1, 200_000, 1 << 20, 0, "", 100_000},
		{"known length over the limit is not read", 100_000, 50_000, 1 << 20, 0, bodyTooLarge, 0},
		{"chunked over the limit: limit plus one byte read", -1, 50_000, 1 << 20, 0, bodyTooLarge, 50_001},
		{"budget spent by others: nothing read", 100_000, 200_000, 1 << 20, 1<<20 - 50_000, bodyBudgetExhaused, 0},
		{"chunked needs the limit in budget", -1, 200_000, 150_000, 0, bodyBudgetExhaused, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(nil)
			f := &forwarder{metrics: m, budget: newBodyBudget(tc.budget, m)}
			f.budget.take(tc.used)
			src := &countingBody{Reader: strings.NewReader(payload)}
			r, _ := http.NewRequest("POST", "http://example.com/", nil)
			r.Body, r.ContentLength = src, tc.contentLength
			ex := &exchange{}
			if got := f.keepBody(ex, r, tc.limit); got != tc.wantReason {
				t.Fatalf("keepBody = %q, want %q", got, tc.wantReason)
			}
			if src.read != tc.wantRead {
				t.Fatalf("read %d bytes before deciding, want %d", src.read, tc.wantRead)
			}
			if held := f.budget.used.Load() - tc.used; held != chunkBytes(int64(tc.wantRead)) {
				t.Fatalf("budget holds %d bytes for the request, want the %d read in whole chunks", held, tc.wantRead)
			}
			if ex.body != nil && ex.body.complete {
				copy1, copy2 := ex.body.reader(), ex.body.reader()
				for _, c := range []io.ReadCloser{copy1, copy2} {
					if got, _ := io.ReadAll(c); string(got) != payload {
						t.Fatalf("a held copy has %d bytes, want the whole body", len(got))
					}
					_ = c.Close()
				}
			}
			// The request itself always sees its whole body.
			if got, _ := io.ReadAll(r.Body); string(got) != payload {
				t.Fatalf("the request body has %d bytes after keepBody, want %d", len(got), len(payload))
			}
			_ = r.Body.Close()
			ex.releaseBody()
			if used := f.budget.used.Load(); used != tc.used {
				t.Fatalf("budget holds %d bytes after every reader closed, want %d", used, tc.used)
			}
			if g := metricValue(t, m.bufferedBodyBytes); g != float64(tc.used) {
				t.Fatalf("buffered body gauge %v, want %d", g, tc.used)
			}
		})
	}
}

func TestHeldReaderRefusesReadsAfterClose(t *testing.T) {
	m := newMetrics(nil)
	f := &forwarder{metrics: m, budget: newBodyBudget(1<<20, m)}
	r, _ := http.NewRequest("POST", "http://example.com/", strings.NewReader("secret of apples"))
	ex := &exchange{}
	if reason := f.keepBody(ex, r, 1<<10); reason != "" {
		t.Fatal(reason)
	}
	c := ex.body.reader()
	_ = c.Close()
	ex.releaseBody()
	_ = r.Body.Close()
	if n, err := c.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Fatalf("Read after Close = %d, %v; want an error and no bytes (the chunk may hold another request's body)", n, err)
	}
}

// TestMirrorAndRetryWithoutBudget shows a request the body budget cannot
// cover still reaches its backend whole, unmirrored and tried once, and
// that both are counted.
func TestMirrorAndRetryWithoutBudget(t *testing.T) {
	mirrored := make(chan string, 4)
	mirrorBackend := startBackendWith(t, "mirror", func(s *http.Server) {
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mirrored <- string(body)
		})
	})
	primary := startBackend(t, "primary")
	flaky := startFlakyBackend(t)
	mirror := routetable.Filter{Type: routetable.FilterRequestMirror, Mirror: &routetable.Mirror{Backend: mirrorBackend.ref(t, 1), Percent: 100}}
	g := startGateway(t, Options{MaxBufferedBodyBytes: 4 << 10, MirrorBodyLimit: 64 << 10, RetryBodyLimit: 64 << 10},
		simpleRoute("mirrored", "/mirrored", routetable.Rule{Backends: []routetable.Backend{primary.ref(t, 1)}, Filters: []routetable.Filter{mirror}}),
		simpleRoute("retried", "/retried", routetable.Rule{Retry: &routetable.Retry{Codes: []int{500}, Attempts: 2, Backoff: time.Millisecond}, Backends: []routetable.Backend{flaky.ref(t, 1)}}),
	)
	post := func(path, body string) (*http.Response, string) {
		resp, err := g.client.Post(g.url(path), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp, string(got)
	}
	small, large := "within the budget", strings.Repeat("x", 16<<10)
	if _, got := post("/mirrored", small); got != small {
		t.Fatalf("primary answered %q", got)
	}
	if got := <-mirrored; got != small {
		t.Fatalf("mirror saw %q, want %q", got, small)
	}
	if _, got := post("/mirrored", large); got != large {
		t.Fatalf("a body over the budget reached the primary as %d bytes, want %d", len(got), len(large))
	}
	if n := metricValue(t, g.server.metrics.mirrors.WithLabelValues("apples/mirror:80", bodyBudgetExhaused)); n != 1 {
		t.Fatalf("mirrors skipped for the budget = %v, want 1", n)
	}
	resp, got := post("/retried?id=small&fail=1&code=500", small)
	if resp.StatusCode != 200 || got != small || flaky.triesOf("small") != 2 {
		t.Fatalf("a body within the budget: status %d, %d tries; want 200 after 2", resp.StatusCode, flaky.triesOf("small"))
	}
	resp, _ = post("/retried?id=large&fail=1&code=500", large)
	if resp.StatusCode != 500 || flaky.triesOf("large") != 1 {
		t.Fatalf("a body over the budget: status %d after %d tries; want the first try's 500", resp.StatusCode, flaky.triesOf("large"))
	}
	if n := metricValue(t, g.server.metrics.retriesUnavailable.WithLabelValues("apples/retried", bodyBudgetExhaused)); n != 1 {
		t.Fatalf("retries unavailable for the budget = %v, want 1", n)
	}
	select {
	case got := <-mirrored:
		t.Fatalf("the mirror got a copy of %d bytes over the budget", len(got))
	default:
	}
	// A mirror's transport closes its copy of the body just after sending it.
	for deadline := time.Now().Add(5 * time.Second); g.server.forward.budget.used.Load() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("budget holds %d bytes with no request in flight", g.server.forward.budget.used.Load())
		}
	}
}

// TestBodyReadTimeout: a client trickling its body gets 408 even though
// every byte arrives well within the grace time of the one before; a
// client sending at a modest speed is served.
func TestBodyReadTimeout(t *testing.T) {
	b := startBackend(t, "apples")
	g := startGateway(t, Options{BodyReadTimeout: 200 * time.Millisecond}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	upload := func(size int, gap time.Duration, chunk int) (int, error) {
		conn, err := net.Dial("tcp", net.JoinHostPort(g.addr, itoa(g.port)))
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n", size)
		for sent := 0; sent < size; sent += chunk {
			if _, err := conn.Write(bytes.Repeat([]byte("x"), min(chunk, size-sent))); err != nil {
				break // the proxy gave up on us
			}
			time.Sleep(gap)
		}
		resp, err := http.ReadResponse(bufioReader(conn), nil)
		if err != nil {
			return 0, err
		}
		return resp.StatusCode, nil
	}
	// 1 byte per 100ms: each byte earns 2ms, so the 200ms grace runs out by the third byte.
	if status, err := upload(1000, 100*time.Millisecond, 1); err != nil || status != http.StatusRequestTimeout {
		t.Fatalf("trickled body: status %d, %v; want 408", status, err)
	}
	// 4 KiB per 50ms (80 KB/s): every chunk earns 8s.
	if status, err := upload(64<<10, 50*time.Millisecond, 4<<10); err != nil || status != http.StatusOK {
		t.Fatalf("steady body: status %d, %v; want 200", status, err)
	}
}

// TestConnectionLimitPerListener: with a limit of 2, a third connection is
// served only once one of the first two closes.
func TestConnectionLimitPerListener(t *testing.T) {
	b := startBackend(t, "apples")
	g := startGateway(t, Options{MaxConnectionsPerListener: 2}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	addr := net.JoinHostPort(g.addr, itoa(g.port))
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	third, err := net.Dial("tcp", addr) // the kernel completes the handshake; the proxy does not accept it yet
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := io.WriteString(third, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := third.Read(make([]byte, 1)); n != 0 || !isTimeout(err) {
		t.Fatalf("a connection over the limit was answered (%d bytes, %v)", n, err)
	}
	_ = held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufioReader(third), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a slot freed: %v, %v; want 200", resp, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error) //nolint:errorlint // net.Conn returns it unwrapped
	return ok && ne.Timeout()
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// metricValue reads one counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
