package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// rawResponses are backend answers net/http's server would not write
// itself: /raw/N writes the Nth as is and closes.
var rawResponses = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
	// With a type: net/http sniffs an unknown length only when its first write beats ReverseProxy's header flush.
	"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the connection closes",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 204 No Content\r\nX-B: 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: X-Hop\r\nX-Hop: gone\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold server",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
}

// equivalenceBackend echoes what it saw (startBackend's Seen- headers),
// streams chunked bodies, sends trailers, and answers /raw/N verbatim.
func equivalenceBackend(t *testing.T) *testBackend {
	return startBackendWith(t, "eq", func(s *http.Server) {
		echo := s.Handler
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/raw/"):
				n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/raw/"))
				c, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.WriteString(c, rawResponses[n])
				c.Close()
			case r.URL.Path == "/chunked":
				for i := range 3 {
					fmt.Fprintf(w, "part %d\n", i)
					http.NewResponseController(w).Flush()
				}
			case r.URL.Path == "/trailer":
				w.Header().Set("Trailer", "X-Sum")
				_, _ = io.WriteString(w, "body")
				w.Header().Set("X-Sum", "42")
			default:
				echo.ServeHTTP(w, r)
			}
		})
	})
}

// TestFastPathAnswersAsNetHTTP sends the same requests, on one keep-alive
// connection, to a proxy with the fast path and one without, and requires
// the same answers (Date aside) and the same requests at the backend; and
// that the fast path served them rather than handing them off.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	backend := equivalenceBackend(t)
	route := simpleRoute("eq", "/", routetable.Rule{Backends: []routetable.Backend{backend.ref(t, 1)}})
	fast := startGateway(t, Options{}, route)
	general := startGateway(t, Options{DisableFastPath: true}, route)
	requests := []string{
		"GET /echo?q=1 HTTP/1.1\r\nHost: shop.example\r\nx-forwarded-for: 6.6.6.6\r\nforwarded: for=6.6.6.6\r\nx-custom: a\r\nX-Custom: b\r\nConnection: keep-alive\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
		"PUT /echo HTTP/1.1\r\nHost: shop.example\r\n\r\n",
		"HEAD /echo HTTP/1.1\r\nHost: shop.example\r\n\r\n",
		"GET /chunked HTTP/1.1\r\nHost: shop.example\r\n\r\n",
		"GET /trailer HTTP/1.1\r\nHost: shop.example\r\n\r\n",
	}
	for i := range rawResponses {
		requests = append(requests, fmt.Sprintf("GET /raw/%d HTTP/1.1\r\nHost: shop.example\r\n\r\n", i))
	}
	requests = append(requests, "GET /echo HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n")

	want := exchangeAll(t, general, requests)
	got := exchangeAll(t, fast, requests)
	if len(got) != len(want) {
		t.Errorf("fast path answered %d requests, net/http %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("request %q:\nfast path %+v\nnet/http  %+v", requests[i], got[i], want[i])
		}
	}
	fs := fast.server.sockets[socketID{SocketKey: routetable.SocketKey{Address: fast.addr, Port: fast.port}}].fast
	deadline := time.Now().Add(5 * time.Second)
	for fs.served.Load() != int64(len(requests)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := fs.served.Load(); n != int64(len(requests)) {
		t.Errorf("fast path served %d of %d requests", n, len(requests))
	}
}

// answer is what a client sees of a response, Date aside.
type answer struct {
	Status  int
	Header  http.Header
	Body    string
	Trailer http.Header
	// Informational are the 1xx answers before it.
	Informational []string
	Err           string
}

func exchangeAll(t *testing.T, g *gateway, requests []string) []answer {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort(g.addr, strconv.Itoa(int(g.port))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var out []answer
	for _, raw := range requests {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		method, _, _ := strings.Cut(raw, " ")
		var informational []string
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		for err == nil && resp.StatusCode < 200 {
			informational = append(informational, resp.Status+" "+resp.Header.Get("Link"))
			resp, err = http.ReadResponse(br, &http.Request{Method: method})
		}
		if err != nil {
			out = append(out, answer{Err: err.Error()})
			break
		}
		body, err := io.ReadAll(resp.Body)
		a := answer{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Trailer: resp.Trailer, Informational: informational}
		if err != nil {
			a.Err = err.Error()
		}
		delete(a.Header, "Date")
		if a.Header.Get("Seen-X-Forwarded-For") == "" && a.Header.Get("X-Backend") != "" {
			t.Errorf("%q: the backend saw no X-Forwarded-For", raw)
		}
		out = append(out, a)
	}
	return out
}

// servedFast is how many requests the server's fast path answered on
// connections that have ended, waiting up to 5s for want.
func servedFast(s *Server, want int64) int64 {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int64
		s.mu.Lock()
		for _, so := range s.sockets {
			if so.fast != nil {
				n += so.fast.served.Load()
			}
		}
		s.mu.Unlock()
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFastPathHandsOffMidConnection: once a request is not fast-path
// material (an encoded slash here), net/http serves it and the rest of the
// connection, from the bytes already read.
func TestFastPathHandsOffMidConnection(t *testing.T) {
	backend := startBackend(t, "apples")
	g := startGateway(t, Options{}, simpleRoute("shop", "/", routetable.Rule{Backends: []routetable.Backend{backend.ref(t, 1)}}))
	requests := []string{
		"GET /one HTTP/1.1\r\nHost: shop.example\r\n\r\n",
		"GET /a%2Fb HTTP/1.1\r\nHost: shop.example\r\n\r\n",
		"GET /three HTTP/1.1\r\nHost: shop.example\r\n\r\n",
	}
	answers := exchangeAll(t, g, append(requests, "GET /four HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"))
	for i, want := range []string{"/one", "/a%2Fb", "/three", "/four"} {
		if i >= len(answers) || answers[i].Status != http.StatusOK || answers[i].Header.Get("Seen-Path") != want {
			t.Fatalf("answer %d: %+v, want 200 from the backend for %s", i, answers, want)
		}
	}
	if n := servedFast(g.server, 1); n != 1 {
		t.Errorf("fast path served %d requests, want 1 (the first)", n)
	}
}

// TestFastPathOverTLS: HTTP/1.1 over TLS takes the fast path and tells the
// backend it was HTTPS; HTTP/2 is handed to net/http after the handshake.
func TestFastPathOverTLS(t *testing.T) {
	for name, tc := range map[string]struct {
		protocols func(*http.Protocols)
		fast      int64
	}{
		"HTTP/1.1": {func(p *http.Protocols) { p.SetHTTP1(true) }, 3},
		"HTTP/2":   {func(p *http.Protocols) { p.SetHTTP2(true) }, 0},
	} {
		t.Run(name, func(t *testing.T) {
			client, s := tlsGateway(t, tc.protocols)
			for range 3 {
				resp, _ := get(t, client, "https://apples.example.com/x", "")
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Seen-X-Forwarded-Proto") != "https" {
					t.Fatalf("got %d, X-Forwarded-Proto %q; want 200 and https", resp.StatusCode, resp.Header.Get("Seen-X-Forwarded-Proto"))
				}
			}
			client.CloseIdleConnections()
			if n := servedFast(s, tc.fast); n != tc.fast {
				t.Errorf("fast path served %d requests, want %d", n, tc.fast)
			}
		})
	}
}

// TestBackendPoolsSweep: connections idle past the idle timeout close,
// fresh ones stay, and an endpoint with none open is forgotten.
func TestBackendPoolsSweep(t *testing.T) {
	backend := startRawBackend(t, []byte("x"))
	bp := newBackendPools(Options{}.withDefaults())
	p := bp.pool(backend.ln.Addr().String())
	now := time.Now()
	stale, _, err := p.dial()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := p.dial()
	if err != nil {
		t.Fatal(err)
	}
	p.put(stale, now.Add(-2*backendIdleTimeout))
	p.put(fresh, now)
	bp.sweep(now)
	if n := p.open.Load(); n != 1 || len(p.idle) != 1 {
		t.Fatalf("after a sweep: %d open, %d idle; want the fresh one alone", n, len(p.idle))
	}
	bp.sweep(now.Add(2 * backendIdleTimeout))
	if n := p.open.Load(); n != 0 || bp.pools[p.addr] != nil || !p.removed.Load() {
		t.Fatalf("after the last connection aged out: %d open, pool kept %v", n, bp.pools[p.addr] != nil)
	}
}
