package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	var table []*routetable.Route
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

// asPEM is a signed certificate as the route table carries it.
func asPEM(t *testing.T, c tls.Certificate) *routetable.Certificate {
	t.Helper()
	key, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return &routetable.Certificate{
		Secret:  "infra/gateway-client",
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: key}),
	}
}

func TestProxyPresentsTheGatewayClientCertificate(t *testing.T) {
	serverCA, clientCA := newTestAuthority(t, "backend CA"), newTestAuthority(t, "gateway client CA")
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Seen-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCA.server(t, []string{"backend.example.com"})}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	backend := routetable.Backend{Name: "apples/mtls:443", Weight: 1, Endpoints: []routetable.Endpoint{endpointOf(t, srv)},
		TLS: &routetable.BackendTLS{Policy: "apples/mtls", ServerName: "backend.example.com", CAPEM: serverCA.pem, CACertificates: []string{"ConfigMap apples/ca"}}}

	addr, port := loopback(t)
	_, otherPort := loopback(t)
	withCert := httpListener("infra/with-cert/http", addr, port, "", simpleRoute("mtls", "/", routetable.Rule{Backends: []routetable.Backend{backend}}))
	withCert.BackendClientCertificate = asPEM(t, clientCA.client(t))
	withoutCert := httpListener("infra/without-cert/http", addr, otherPort, "", simpleRoute("mtls", "/", routetable.Rule{Backends: []routetable.Backend{backend}}))
	s := NewServer(Options{})
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{withCert, withoutCert}})

	client := &http.Client{Timeout: 10 * time.Second}
	resp, _ := get(t, client, "http://"+net.JoinHostPort(addr, itoa(port))+"/", "example.com")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Seen-Client") != "issued by gateway client CA" {
		t.Errorf("through the Gateway with a client certificate: %d, backend saw %q; want 200 and the Gateway's certificate", resp.StatusCode, resp.Header.Get("Seen-Client"))
	}
	resp, _ = get(t, client, "http://"+net.JoinHostPort(addr, itoa(otherPort))+"/", "example.com")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("through the Gateway without a client certificate: %d, want 502 from a backend that requires one", resp.StatusCode)
	}
}
