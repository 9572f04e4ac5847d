package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

func ptr[T any](v T) *T { return &v }

func TestReplacePrefix(t *testing.T) {
	// The table of HTTPPathModifier.ReplacePrefixMatch, row by row.
	cases := []struct{ path, prefix, replacement, want string }{
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		{"/anything", "/", "/xyz", "/xyz/anything"},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s with prefix %s and %q", tc.path, tc.prefix, tc.replacement)
		t.Run(name, func(t *testing.T) {
			m := compiledMatch(t, routetable.ProtocolHTTP, 80, tc.prefix)
			if got := replacePrefix(tc.path, m.PathPrefix(), tc.replacement); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// compiledMatch compiles one listener with one PathPrefix rule and returns
// its match.
func compiledMatch(t *testing.T, protocol routetable.Protocol, port int32, prefix string) *routetable.CompiledMatch {
	t.Helper()
	l := routetable.Listener{Name: "ns/gw/l", Address: "127.0.0.1", Port: port, Protocol: protocol, Routes: []*routetable.Route{{
		Namespace: "ns", Name: "r", Rules: []routetable.Rule{{Matches: []routetable.Match{{Path: routetable.PathMatch{Type: routetable.PathPrefix, Value: prefix}}}}},
	}}}
	if protocol == routetable.ProtocolHTTPS {
		l.Certificates = []routetable.Certificate{testCertificate(t, "example.com")}
	}
	table, faults := routetable.Compile(routetable.Config{Listeners: []routetable.Listener{l}})
	if err := faults.Err(); err != nil {
		t.Fatal(err)
	}
	_, m := table.Socket("127.0.0.1", port).Route("example.com", httptest.NewRequest("GET", prefix, nil))
	return m
}

func TestRedirectLocation(t *testing.T) {
	cases := []struct {
		name     string
		protocol routetable.Protocol
		port     int32
		prefix   string
		redirect routetable.Redirect
		target   string
		host     string
		want     string
	}{
		{"hostname only keeps listener port", routetable.ProtocolHTTP, 8080, "/", routetable.Redirect{Hostname: ptr("b.example.com")}, "/p?q=1", "a.example.com:8080", "http://b.example.com:8080/p?q=1"},
		{"well-known listener port is omitted", routetable.ProtocolHTTP, 80, "/", routetable.Redirect{Hostname: ptr("b.example.com")}, "/p", "a.example.com", "http://b.example.com/p"},
		{"scheme https uses 443 and omits it", routetable.ProtocolHTTP, 8080, "/", routetable.Redirect{Scheme: ptr("https")}, "/p", "a.example.com:8080", "https://a.example.com/p"},
		{"scheme http uses 80 and omits it", routetable.ProtocolHTTPS, 8443, "/", routetable.Redirect{Scheme: ptr("http")}, "/p", "a.example.com:8443", "http://a.example.com/p"},
		{"explicit port is kept", routetable.ProtocolHTTP, 80, "/", routetable.Redirect{Scheme: ptr("https"), Port: ptr(int32(8443))}, "/p", "a.example.com", "https://a.example.com:8443/p"},
		{"explicit well-known port is omitted", routetable.ProtocolHTTP, 8080, "/", routetable.Redirect{Scheme: ptr("https"), Port: ptr(int32(443))}, "/p", "a.example.com", "https://a.example.com/p"},
		{"https listener keeps its scheme", routetable.ProtocolHTTPS, 443, "/", routetable.Redirect{Hostname: ptr("b.example.com")}, "/p", "a.example.com", "https://b.example.com/p"},
		{"full path replace", routetable.ProtocolHTTP, 80, "/", routetable.Redirect{Path: &routetable.PathModifier{Type: routetable.ReplaceFullPath, Value: "/new"}}, "/old/x?y=1", "a.example.com", "http://a.example.com/new?y=1"},
		{"prefix replace", routetable.ProtocolHTTP, 80, "/old", routetable.Redirect{Path: &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: "/new"}}, "/old/x", "a.example.com", "http://a.example.com/new/x"},
		{"IPv6 host keeps its brackets", routetable.ProtocolHTTP, 8080, "/", routetable.Redirect{Port: ptr(int32(9090))}, "/", "[::1]:8080", "http://[::1]:9090/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := compiledMatch(t, tc.protocol, tc.port, tc.prefix)
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = tc.host
			l := &routetable.CompiledListener{Protocol: tc.protocol, Port: tc.port}
			if got := redirectLocation(&tc.redirect, r, l, m); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModifyRequestHeaders(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["X-Keep"] = []string{"1"}
	r.Header["X-Set"] = []string{"old", "older"}
	r.Header["X-Add"] = []string{"a"}
	r.Header["X-Remove"] = []string{"gone"}
	modifyRequestHeaders(r, &routetable.HeaderModifier{
		Set:    []routetable.Header{{Name: "X-Set", Value: "new"}, {Name: "Host", Value: "other.example.com"}},
		Add:    []routetable.Header{{Name: "X-Add", Value: "b"}, {Name: "X-New", Value: "n"}},
		Remove: []string{"X-Remove", "X-Absent"},
	})
	want := http.Header{"X-Keep": {"1"}, "X-Set": {"new"}, "X-Add": {"a", "b"}, "X-New": {"n"}}
	if fmt.Sprint(r.Header) != fmt.Sprint(want) {
		t.Errorf("headers %v, want %v", r.Header, want)
	}
	if r.Host != "other.example.com" {
		t.Errorf("Host %q, want other.example.com", r.Host)
	}
}

func TestRewriteRequest(t *testing.T) {
	cases := []struct {
		name     string
		prefix   string
		rewrite  routetable.Rewrite
		target   string
		wantHost string
		wantPath string
	}{
		{"hostname", "/", routetable.Rewrite{Hostname: ptr("internal.svc")}, "/a", "internal.svc", "/a"},
		{"full path", "/", routetable.Rewrite{Path: &routetable.PathModifier{Type: routetable.ReplaceFullPath, Value: "/b"}}, "/a/c", "example.com", "/b"},
		{"prefix", "/api", routetable.Rewrite{Path: &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: "/v2"}}, "/api/items", "example.com", "/v2/items"},
		{"prefix keeps escapes", "/api", routetable.Rewrite{Path: &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: "/"}}, "/api/a%2Fb", "example.com", "/a%2Fb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = "example.com"
			rewriteRequest(r, &tc.rewrite, compiledMatch(t, routetable.ProtocolHTTP, 80, tc.prefix))
			if r.Host != tc.wantHost || r.URL.EscapedPath() != tc.wantPath {
				t.Errorf("got host %q path %q, want %q %q", r.Host, r.URL.EscapedPath(), tc.wantHost, tc.wantPath)
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"rule timeout expired", expired, context.DeadlineExceeded, http.StatusGatewayTimeout},
		{"connection refused", context.Background(), dial, http.StatusServiceUnavailable},
		{"response header timeout", context.Background(), fmt.Errorf("read: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"connection reset", context.Background(), &net.OpError{Op: "read", Err: errors.New("reset")}, http.StatusBadGateway},
	}
	for _, tc := range cases {
		if got := errorStatus(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	retry := &routetable.Retry{Attempts: 2}
	cases := []struct {
		name    string
		in      routetable.Timeouts
		retry   *routetable.Retry
		upgrade bool
		wantDur time.Duration
	}{
		{"none", routetable.Timeouts{}, nil, false, 0},
		{"request only", routetable.Timeouts{Request: time.Second}, nil, false, time.Second},
		{"backend only", routetable.Timeouts{BackendRequest: time.Second}, nil, false, time.Second},
		{"shorter wins", routetable.Timeouts{Request: 2 * time.Second, BackendRequest: time.Second}, nil, false, time.Second},
		{"with retries only the request timeout bounds it", routetable.Timeouts{Request: 2 * time.Second, BackendRequest: time.Second}, retry, false, 2 * time.Second},
		{"with retries and no request timeout", routetable.Timeouts{BackendRequest: time.Second}, retry, false, 0},
		{"an upgrade is never retried", routetable.Timeouts{Request: 2 * time.Second, BackendRequest: time.Second}, retry, true, time.Second},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.upgrade {
			r.Header.Set("Upgrade", "websocket")
		}
		rule := &routetable.CompiledRule{Timeouts: tc.in, Retry: tc.retry}
		if got := requestTimeout(rule, r); got != tc.wantDur {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.wantDur)
		}
	}
}
