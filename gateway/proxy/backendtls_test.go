package proxy

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// startTLSBackend serves cert and reports the SNI it was reached with in
// Seen-SNI.
func startTLSBackend(t *testing.T, cert tls.Certificate) routetable.Endpoint {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Seen-SNI", r.TLS.ServerName)
		w.Header().Set("X-Backend", "tls")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return endpointOf(t, srv)
}

func TestProxyBackendTLS(t *testing.T) {
	ca, other := newTestAuthority(t, "backend CA"), newTestAuthority(t, "other CA")
	endpoint := startTLSBackend(t, ca.server(t, []string{"backend.example.com", "*.pods.example.com"}, "spiffe://cluster.local/ns/apples/sa/backend"))
	backend := func(name string, settings routetable.BackendTLS) routetable.Backend {
		if settings.CAPEM == nil {
			settings.CAPEM = ca.pem
		}
		settings.Policy, settings.CACertificates = "apples/"+name, []string{"ConfigMap apples/ca"}
		return routetable.Backend{Name: "apples/" + name + ":443", Weight: 1, TLS: &settings, Endpoints: []routetable.Endpoint{endpoint}}
	}
	san := func(typ routetable.SubjectAltNameType, value string) []routetable.SubjectAltName {
		return []routetable.SubjectAltName{{Type: typ, Value: value}}
	}
	routes := []struct {
		path    string
		backend routetable.Backend
		wantOK  bool
		wantSNI string
	}{
		{"/verified", backend("verified", routetable.BackendTLS{ServerName: "backend.example.com"}), true, "backend.example.com"},
		{"/wildcard-name", backend("wildcard-name", routetable.BackendTLS{ServerName: "a.pods.example.com"}), true, "a.pods.example.com"},
		{"/wrong-name", backend("wrong-name", routetable.BackendTLS{ServerName: "mismatch.example.com"}), false, ""},
		{"/other-ca", backend("other-ca", routetable.BackendTLS{ServerName: "backend.example.com", CAPEM: other.pem}), false, ""},
		{"/san-uri", backend("san-uri", routetable.BackendTLS{ServerName: "sni-only.example.com", SubjectAltNames: san(routetable.SANURI, "spiffe://cluster.local/ns/apples/sa/backend")}), true, "sni-only.example.com"},
		{"/san-uri-mismatch", backend("san-uri-mismatch", routetable.BackendTLS{ServerName: "backend.example.com", SubjectAltNames: san(routetable.SANURI, "spiffe://cluster.local/ns/apples/sa/other")}), false, ""},
		{"/san-hostname", backend("san-hostname", routetable.BackendTLS{ServerName: "sni-only.example.com", SubjectAltNames: san(routetable.SANHostname, "b.pods.example.com")}), true, "sni-only.example.com"},
		{"/san-other-ca", backend("san-other-ca", routetable.BackendTLS{ServerName: "backend.example.com", CAPEM: other.pem, SubjectAltNames: san(routetable.SANHostname, "backend.example.com")}), false, ""},
	}
	var table []routetable.Route
	for _, r := range routes {
		table = append(table, simpleRoute(strings.Trim(r.path, "/"), r.path, routetable.Rule{Backends: []routetable.Backend{r.backend}}))
	}
	g := startGateway(t, Options{}, table...)
	for _, r := range routes {
		t.Run(r.path, func(t *testing.T) {
			resp, _ := get(t, g.client, g.url(r.path), "example.com")
			switch {
			case r.wantOK && (resp.StatusCode != http.StatusOK || resp.Header.Get("Seen-SNI") != r.wantSNI):
				t.Errorf("got %d with SNI %q, want 200 with SNI %q", resp.StatusCode, resp.Header.Get("Seen-SNI"), r.wantSNI)
			case !r.wantOK && resp.StatusCode != http.StatusBadGateway:
				t.Errorf("got %d from %q, want 502 for a backend that fails verification", resp.StatusCode, resp.Header.Get("X-Backend"))
			}
		})
	}

	pools := func() int {
		n := 0
		g.server.forward.tls.Range(func(any, any) bool { n++; return true })
		return n
	}
	if got, want := pools(), len(routes); got != want {
		t.Errorf("%d TLS connection pools after one request per backend, want one per TLS settings (%d)", got, want)
	}
	g.apply(t, table[0])
	if got := pools(); got != 1 {
		t.Errorf("%d TLS connection pools once the table keeps one TLS backend, want 1", got)
	}
}
