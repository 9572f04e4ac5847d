package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

func TestProxyForwardsToTheMatchedRoute(t *testing.T) {
	apples, bananas := startBackend(t, "apples"), startBackend(t, "bananas")
	g := startGateway(t, Options{},
		simpleRoute("apples", "/apples", routetable.Rule{Backends: []routetable.Backend{apples.ref(t, 1)}}),
		simpleRoute("bananas", "/bananas", routetable.Rule{Backends: []routetable.Backend{bananas.ref(t, 1)}}),
	)
	resp, _ := get(t, g.client, g.url("/bananas/ripe?x=1"), "shop.example.com:8080", "Connection", "X-Hop", "X-Hop", "1", "X-Forwarded-For", "6.6.6.6")
	checks := map[string]string{
		"X-Backend":              "bananas",
		"Seen-Host":              "shop.example.com:8080", // the Host goes to the backend unmodified
		"Seen-Path":              "/bananas/ripe",
		"Seen-X-Hop":             "", // named by Connection: hop-by-hop
		"Seen-X-Forwarded-For":   "127.0.0.1",
		"Seen-X-Forwarded-Host":  "shop.example.com:8080",
		"Seen-X-Forwarded-Proto": "http",
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	for name, want := range checks {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestProxyStatusWithoutAUsableBackend(t *testing.T) {
	ok := startBackend(t, "ok")
	refused := startBackend(t, "refused")
	refusedRef := refused.ref(t, 1)
	refused.srv.Close() // its port now refuses connections
	unresolved := routetable.Backend{Name: "bananas/missing:80", Weight: 1, Unresolved: "RefNotPermitted"}
	cases := []struct {
		name string
		rule routetable.Rule
		want int
	}{
		{"unresolved backend gets 500", routetable.Rule{Backends: []routetable.Backend{unresolved}}, http.StatusInternalServerError},
		{"rule without backends gets 500", routetable.Rule{}, http.StatusInternalServerError},
		{"all weights zero gets 500", routetable.Rule{Backends: []routetable.Backend{ok.ref(t, 0)}}, http.StatusInternalServerError},
		{"backend without endpoints gets 503", routetable.Rule{Backends: []routetable.Backend{{Name: "apples/idle:80", Weight: 1}}}, http.StatusServiceUnavailable},
		{"refused connection gets 503", routetable.Rule{Backends: []routetable.Backend{refusedRef}}, http.StatusServiceUnavailable},
		{"weight zero backend is never chosen", routetable.Rule{Backends: []routetable.Backend{ok.ref(t, 1), {Name: "bananas/missing:80", Weight: 0, Unresolved: "BackendNotFound"}}}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, Options{}, simpleRoute("r", "/", tc.rule))
			for range 20 {
				if resp, _ := get(t, g.client, g.url("/"), "example.com"); resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
				}
			}
		})
	}
}

func TestProxyNotFound(t *testing.T) {
	b := startBackend(t, "b")
	route := simpleRoute("r", "/api", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}})
	route.Hostnames = []string{"api.example.com"}
	g := startGateway(t, Options{}, route)
	for _, tc := range []struct{ host, path string }{{"api.example.com", "/apiv2"}, {"other.example.com", "/api"}} {
		if resp, _ := get(t, g.client, g.url(tc.path), tc.host); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s%s: status %d, want 404", tc.host, tc.path, resp.StatusCode)
		}
	}
}

// Within ±5 percentage points over 2,000 requests: more than 4 standard
// deviations of a fair 70/30 split, so a correct proxy fails this about once
// in 30,000 runs.
func TestProxyWeightedSplit(t *testing.T) {
	apples, bananas := startBackend(t, "apples"), startBackend(t, "bananas")
	g := startGateway(t, Options{}, simpleRoute("fruits", "/fruits", routetable.Rule{Backends: []routetable.Backend{bananas.ref(t, 70), apples.ref(t, 30)}}))
	counts := map[string]int{}
	const total = 2000
	for range total {
		resp, _ := get(t, g.client, g.url("/fruits"), "shop.example.com")
		counts[resp.Header.Get("X-Backend")]++
	}
	for name, want := range map[string]float64{"bananas": 70, "apples": 30} {
		if got := float64(counts[name]) * 100 / total; got < want-5 || got > want+5 {
			t.Errorf("%s got %.1f%% of requests, want %.0f%% ± 5", name, got, want)
		}
	}
}

func TestProxyUnresolvedShareGets500(t *testing.T) {
	bananas := startBackend(t, "bananas")
	g := startGateway(t, Options{}, simpleRoute("fruits", "/", routetable.Rule{Backends: []routetable.Backend{
		bananas.ref(t, 70), {Name: "apples/apple-echo:80", Weight: 30, Unresolved: "RefNotPermitted"},
	}}))
	const total = 2000
	failed := 0
	for range total {
		resp, _ := get(t, g.client, g.url("/"), "shop.example.com")
		switch resp.StatusCode {
		case http.StatusInternalServerError:
			failed++
		case http.StatusOK:
		default:
			t.Fatalf("status %d, want 200 or 500", resp.StatusCode)
		}
	}
	if got := float64(failed) * 100 / total; got < 25 || got > 35 {
		t.Errorf("%.1f%% got 500, want 30%% ± 5", got)
	}
}

func TestProxyFilters(t *testing.T) {
	b := startBackend(t, "b")
	ref := b.ref(t, 1)
	ref.Filters = []routetable.Filter{{Type: routetable.FilterRequestHeaderModifier, RequestHeader: &routetable.HeaderModifier{Set: []routetable.Header{{Name: "x-backend-filter", Value: "yes"}}}}}
	g := startGateway(t, Options{}, simpleRoute("r", "/api", routetable.Rule{
		Backends: []routetable.Backend{ref},
		Filters: []routetable.Filter{
			{Type: routetable.FilterRequestHeaderModifier, RequestHeader: &routetable.HeaderModifier{
				Set: []routetable.Header{{Name: "x-team", Value: "apples"}}, Add: []routetable.Header{{Name: "x-multi", Value: "b"}}, Remove: []string{"x-secret"},
			}},
			{Type: routetable.FilterResponseHeaderModifier, ResponseHeader: &routetable.HeaderModifier{
				Set: []routetable.Header{{Name: "x-served-by", Value: "tenantgate"}}, Remove: []string{"seen-x-team"},
			}},
			{Type: routetable.FilterURLRewrite, Rewrite: &routetable.Rewrite{
				Hostname: ptr("internal.apples.svc"), Path: &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: "/v2"},
			}},
		},
	}))
	resp, _ := get(t, g.client, g.url("/api/items"), "shop.example.com", "X-Team", "bananas", "X-Multi", "a", "X-Secret", "s")
	checks := map[string]string{
		"Seen-X-Team":           "", // set, then removed from the response
		"Seen-X-Multi":          "a",
		"Seen-X-Secret":         "",
		"Seen-X-Backend-Filter": "yes",
		"Seen-Host":             "internal.apples.svc",
		"Seen-Path":             "/v2/items",
		"X-Served-By":           "tenantgate",
	}
	for name, want := range checks {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := resp.Header.Values("Seen-X-Multi"); strings.Join(got, ",") != "a,b" {
		t.Errorf("Seen-X-Multi = %q, want a,b", got)
	}
}

func TestProxyRedirect(t *testing.T) {
	g := startGateway(t, Options{}, simpleRoute("r", "/old", routetable.Rule{Filters: []routetable.Filter{{
		Type:     routetable.FilterRequestRedirect,
		Redirect: &routetable.Redirect{Scheme: ptr("https"), Path: &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: "/new"}, StatusCode: http.StatusMovedPermanently},
	}}}))
	resp, _ := get(t, g.client, g.url("/old/page?x=1"), "shop.example.com")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://shop.example.com/new/page?x=1" {
		t.Errorf("got %d Location %q, want 301 https://shop.example.com/new/page?x=1", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestProxyTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := startBackend(t, "slow")
	slow.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	for name, timeouts := range map[string]routetable.Timeouts{
		"request":        {Request: 100 * time.Millisecond},
		"backendRequest": {Request: 10 * time.Second, BackendRequest: 100 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Timeouts: timeouts, Backends: []routetable.Backend{slow.ref(t, 1)}}))
			if resp, _ := get(t, g.client, g.url("/"), "example.com"); resp.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("status %d, want 504", resp.StatusCode)
			}
		})
	}
}

func TestProxyMirrors(t *testing.T) {
	seen := make(chan string, 10)
	mirrorHandler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			seen <- name + " " + r.Method + " " + r.Host + r.URL.Path + " " + r.Header.Get("X-Team") + " " + string(body)
		}
	}
	always, never := startBackend(t, "always"), startBackend(t, "never")
	always.srv.Config.Handler, never.srv.Config.Handler = mirrorHandler("always"), mirrorHandler("never")
	primary := startBackend(t, "primary")
	mirror := func(b *testBackend, percent float64) routetable.Filter {
		return routetable.Filter{Type: routetable.FilterRequestMirror, Mirror: &routetable.Mirror{Backend: b.ref(t, 1), Percent: percent}}
	}
	g := startGateway(t, Options{MirrorBodyLimit: 16}, simpleRoute("r", "/", routetable.Rule{
		Backends: []routetable.Backend{primary.ref(t, 1)},
		Filters: []routetable.Filter{
			mirror(always, 100), mirror(never, 0),
			{Type: routetable.FilterRequestHeaderModifier, RequestHeader: &routetable.HeaderModifier{Set: []routetable.Header{{Name: "X-Team", Value: "apples"}}}},
		},
	}))
	post := func(body string) string {
		resp, err := g.client.Post(g.url("/orders"), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return string(got)
	}
	if got := post("small"); got != "small" {
		t.Errorf("primary answered %q, want the body echoed", got)
	}
	select {
	case got := <-seen:
		if want := "always POST " + net.JoinHostPort(g.addr, itoa(g.port)) + "/orders apples small"; got != want {
			t.Errorf("mirror saw %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the 100% mirror received nothing")
	}
	large := strings.Repeat("x", 100)
	if got := post(large); got != large {
		t.Errorf("a body over the mirror limit reached the backend as %d bytes, want 100", len(got))
	}
	// A request after the large one: if the large one had been mirrored, it would arrive first.
	post("again")
	select {
	case got := <-seen:
		if !strings.HasSuffix(got, " again") {
			t.Errorf("mirror saw %q, want only the small requests", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the 100% mirror received nothing")
	}
	if len(seen) != 0 {
		t.Errorf("unexpected mirror copy: %s", <-seen)
	}
}

// TestProxyUpgrade sends an HTTP/1.1 Upgrade through the proxy to a tiny
// echo protocol, as WebSocket does, and talks over the switched connection.
func TestProxyUpgrade(t *testing.T) {
	echo := startBackend(t, "echo")
	echo.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(conn, brw)
	})
	g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{echo.ref(t, 1)}}))
	conn, err := net.Dial("tcp", net.JoinHostPort(g.addr, itoa(g.port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	for _, msg := range []string{"hello\n", "world\n"} {
		_, _ = io.WriteString(conn, msg)
		if got, err := br.ReadString('\n'); err != nil || got != msg {
			t.Fatalf("echoed %q (%v), want %q", got, err, msg)
		}
	}
}

func TestProxyRefusesBadRequests(t *testing.T) {
	b := startBackend(t, "b")
	g := startGateway(t, Options{MaxHeaderBytes: 4 << 10}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	cases := []struct {
		name    string
		request string
		want    int
	}{
		{"oversized headers get 431", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("x", 8<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"malformed request line gets 400", "GET / HTTP/9.9.9\r\nHost: a\r\n\r\n", http.StatusBadRequest},
		{"missing Host gets 400", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", net.JoinHostPort(g.addr, itoa(g.port)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(conn, tc.request)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestProxyStreamsResponses checks that a flushed chunk reaches the client
// while the backend is still writing, as server-sent events need.
func TestProxyStreamsResponses(t *testing.T) {
	release := make(chan struct{})
	stream := startBackend(t, "stream")
	stream.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "data: first\n")
		_ = http.NewResponseController(w).Flush()
		<-release
		_, _ = io.WriteString(w, "data: last\n")
	})
	g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{stream.ref(t, 1)}}))
	resp, err := g.client.Get(g.url("/events"))
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	close(release) // only now may the response end
	if err != nil || first != "data: first\n" {
		t.Errorf("first chunk %q (%v), want it before the response ends", first, err)
	}
}
