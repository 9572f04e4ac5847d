package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// corsBackend answers with CORS headers of its own, which the gateway's
// answer for an allowed origin replaces.
func corsBackend(t *testing.T) *testBackend {
	return startBackendWith(t, "cors", func(s *http.Server) {
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", "cors")
			w.Header().Set("Access-Control-Allow-Origin", "https://backend.example")
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Vary", "Accept-Encoding")
		})
	})
}

func corsFilter(c routetable.CORS) routetable.Filter {
	return routetable.Filter{Type: routetable.FilterCORS, CORS: &c}
}

func TestProxyCORS(t *testing.T) {
	backend := corsBackend(t)
	strict := corsFilter(routetable.CORS{
		AllowOrigins: []string{"https://www.foo.com", "https://*.bar.com"}, AllowMethods: []string{"GET", "OPTIONS"},
		AllowHeaders: []string{"x-header-1", "x-header-2"}, ExposeHeaders: []string{"x-header-3"}, AllowCredentials: true, MaxAge: 3600,
	})
	open := corsFilter(routetable.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}})
	backendOnly := backend.ref(t, 1)
	backendOnly.Filters = []routetable.Filter{corsFilter(routetable.CORS{AllowOrigins: []string{"https://www.foo.com"}})}
	overridden := routetable.Filter{Type: routetable.FilterResponseHeaderModifier, ResponseHeader: &routetable.HeaderModifier{
		Set: []routetable.Header{{Name: "Access-Control-Allow-Origin", Value: "https://override.example"}},
	}}
	g := startGateway(t, Options{},
		simpleRoute("strict", "/strict", routetable.Rule{Filters: []routetable.Filter{strict}, Backends: []routetable.Backend{backend.ref(t, 1)}}),
		simpleRoute("open", "/open", routetable.Rule{Filters: []routetable.Filter{open}, Backends: []routetable.Backend{backend.ref(t, 1)}}),
		simpleRoute("per-backend", "/per-backend", routetable.Rule{Backends: []routetable.Backend{backendOnly}}),
		simpleRoute("overridden", "/overridden", routetable.Rule{Filters: []routetable.Filter{strict, overridden}, Backends: []routetable.Backend{backend.ref(t, 1)}}),
	)
	preflight := func(origin, method string) []string {
		return []string{"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", "x-header-1, x-header-2"}
	}
	cases := []struct {
		name       string
		method     string
		path       string
		headers    []string
		wantStatus int
		// want maps a response header to its value; "" means absent.
		want map[string]string
	}{
		{"preflight from an allowed origin is answered by the gateway", "OPTIONS", "/strict", preflight("https://www.foo.com", "GET"), http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Methods": "GET, OPTIONS",
			"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Expose-Headers": "x-header-3",
			"Access-Control-Max-Age": "3600", "Access-Control-Allow-Credentials": "true", "Vary": "Origin", "X-Backend": "",
		}},
		{"preflight from a wildcard origin echoes it", "OPTIONS", "/strict", preflight("https://xpto.www.bar.com", "GET"), http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "https://xpto.www.bar.com",
		}},
		{"preflight from another origin gets no CORS headers", "OPTIONS", "/strict", preflight("https://foobar.com", "GET"), http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Access-Control-Allow-Credentials": "", "X-Backend": "",
		}},
		{"wildcards echo the requested method and headers", "OPTIONS", "/open", preflight("https://foobar.com:12345", "PUT"), http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "https://foobar.com:12345", "Access-Control-Allow-Methods": "PUT",
			"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Allow-Credentials": "", "Access-Control-Max-Age": "",
		}},
		{"request from an allowed origin replaces the backend's CORS headers", "GET", "/strict", []string{"Origin", "https://www.foo.com"}, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "x-header-3", "Vary": "Origin, Accept-Encoding", "X-Backend": "cors",
		}},
		{"without credentials the backend's credentials header goes", "GET", "/open", []string{"Origin", "https://foobar.com"}, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "https://foobar.com", "Access-Control-Allow-Credentials": "",
		}},
		{"request from another origin keeps the backend's headers", "GET", "/strict", []string{"Origin", "https://foobar.com"}, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "https://backend.example", "X-Backend": "cors",
		}},
		{"OPTIONS without a requested method goes to the backend", "OPTIONS", "/strict", []string{"Origin", "https://www.foo.com"}, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "X-Backend": "cors",
		}},
		{"a backendRef's CORS filter applies to its requests", "OPTIONS", "/per-backend", preflight("https://www.foo.com", "GET"), http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "X-Backend": "",
		}},
		{"a response header filter has the last word", "GET", "/overridden", []string{"Origin", "https://www.foo.com"}, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "https://override.example",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := send(t, g.client, tc.method, g.url(tc.path), "example.com", tc.headers...)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			for name, want := range tc.want {
				if got := strings.Join(resp.Header.Values(name), ", "); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}
