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

// TestSharedHostSplitByPath is issue 12's dot-segment attack: shop.example.com
// is split by path prefix between two tenants, and no spelling of a path
// reaches the other tenant's backend (or reaches a backend with a path that
// resolves into the other tenant's space): each request lands where its
// normalised path says, or gets 400.
func TestSharedHostSplitByPath(t *testing.T) {
	apples, bananas := startPathBackend(t, "apples"), startPathBackend(t, "bananas")
	applesRoute := simpleRoute("apples", "/apples", routetable.Rule{Backends: []routetable.Backend{apples.ref(t, 1)}})
	bananasRoute := simpleRoute("bananas", "/bananas", routetable.Rule{Backends: []routetable.Backend{bananas.ref(t, 1)}})
	bananasRoute.Namespace = "bananas"
	applesRoute.Hostnames, bananasRoute.Hostnames = []string{"shop.example.com"}, []string{"shop.example.com"}
	g := startGateway(t, Options{}, applesRoute, bananasRoute)

	cases := []struct {
		name, target string
		wantStatus   int
		wantBackend  string // "" when the proxy answers itself
		wantURI      string // path and query the backend saw
	}{
		{"own prefix", "/apples/x", 200, "apples", "/apples/x"},
		{"other prefix", "/bananas/x", 200, "bananas", "/bananas/x"},
		{"encoded dot-dot goes where it resolves", "/apples/%2e%2e/bananas/x", 200, "bananas", "/bananas/x"},
		{"raw dot-dot goes where it resolves", "/apples/../bananas/x", 200, "bananas", "/bananas/x"},
		{"dot segment and merged slashes", "//apples/./x//y", 200, "apples", "/apples/x/y"},
		{"encoded unreserved", "/%61pples/%7Ex", 200, "apples", "/apples/~x"},
		{"query untouched", "/apples/x?next=/../../bananas/%2e%2e&a=%2F", 200, "apples", "/apples/x?next=/../../bananas/%2e%2e&a=%2F"},
		{"encoded slash inside one tenant passes", "/apples/group%2fproject", 200, "apples", "/apples/group%2Fproject"},
		{"encoded slash into the other tenant", "/apples/x%2F..%2F..%2Fbananas/x", 400, "", ""},
		{"encoded backslash into the other tenant", "/apples/%5C..%5Cbananas", 400, "", ""},
		{"encoded slashes climbing", "/apples/..%2F..%2Fbananas", 400, "", ""},
		{"climbs above the root", "/apples/../../bananas/x", 400, "", ""},
		{"encoded climb", "/%2e%2e/bananas/x", 400, "", ""},
		{"raw backslash", `/apples\..\bananas\x`, 400, "", ""},
		{"Tomcat path parameter", "/apples/..;/bananas/x", 400, "", ""},
		{"encoded NUL", "/apples/%00/x", 400, "", ""},
		{"unmatched stays 404", "/cherries/%2e/x", 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawGet(t, g, tc.target, "shop.example.com")
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("GET %s: status %d (%s), want %d", tc.target, resp.StatusCode, strings.TrimSpace(body), tc.wantStatus)
			}
			if got := resp.Header.Get("X-Backend"); got != tc.wantBackend {
				t.Fatalf("GET %s answered by %q, want %q", tc.target, got, tc.wantBackend)
			}
			if got := resp.Header.Get("Seen-URI"); got != tc.wantURI {
				t.Fatalf("GET %s: backend saw %q, want %q", tc.target, got, tc.wantURI)
			}
			if tc.wantStatus == 400 && !strings.HasPrefix(body, "400 Bad Request: the request path") {
				t.Fatalf("GET %s: 400 body %q does not say what is wrong with the path", tc.target, body)
			}
		})
	}
}

// startPathBackend is a backend that reports the request target it received.
func startPathBackend(t *testing.T, name string) *testBackend {
	return startBackendWith(t, name, func(s *http.Server) {
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", name)
			w.Header().Set("Seen-URI", r.RequestURI)
		})
	})
}

// rawGet sends target byte for byte (a Go client would clean or escape it)
// and reads the response.
func rawGet(t *testing.T, g *gateway, target, host string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(g.addr, itoa(g.port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}
