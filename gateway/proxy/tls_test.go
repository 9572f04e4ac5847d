package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// tlsGateway serves two HTTPS listeners on one socket, each with its own
// certificate, and returns a client that dials that socket for any name.
func tlsGateway(t *testing.T, protocols func(*http.Protocols)) (*http.Client, *Server) {
	t.Helper()
	addr, port := loopback(t)
	apples, bananas := startBackend(t, "apples"), startBackend(t, "bananas")
	applesCert := testCertificate(t, "apples.example.com")
	bananasCert := testCertificate(t, "*.bananas.example.com", "*.b.bananas.example.com") // X.509 wildcards span one label
	listener := func(name, hostname string, cert routetable.Certificate, b *testBackend) routetable.Listener {
		return routetable.Listener{Name: name, Address: addr, Port: port, Protocol: routetable.ProtocolHTTPS, Hostname: hostname,
			Certificates: []routetable.Certificate{cert},
			Routes:       []*routetable.Route{simpleRoute(b.name, "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}})}}
	}
	s := NewServer(Options{})
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{
		listener("infra/gw/apples", "apples.example.com", applesCert, apples),
		listener("infra/gw/bananas", "*.bananas.example.com", bananasCert, bananas),
	}})
	roots := x509.NewCertPool()
	for _, c := range []routetable.Certificate{applesCert, bananasCert} {
		roots.AppendCertsFromPEM(c.CertPEM)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort(addr, itoa(port)))
		},
		Protocols: new(http.Protocols),
	}
	protocols(transport.Protocols)
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}, s
}

func TestTLSChoosesCertificateAndListenerBySNI(t *testing.T) {
	for name, protocols := range map[string]func(*http.Protocols){
		"HTTP/2":   func(p *http.Protocols) { p.SetHTTP2(true) },
		"HTTP/1.1": func(p *http.Protocols) { p.SetHTTP1(true) },
	} {
		t.Run(name, func(t *testing.T) {
			client, _ := tlsGateway(t, protocols)
			cases := []struct {
				url, host   string
				wantStatus  int
				wantBackend string
			}{
				{"https://apples.example.com/", "", http.StatusOK, "apples"},
				{"https://green.bananas.example.com/", "", http.StatusOK, "bananas"},
				{"https://a.b.bananas.example.com/", "A.B.Bananas.example.com:443", http.StatusOK, "bananas"},
				// The connection is for apples' certificate; the Host is the bananas listener's.
				{"https://apples.example.com/", "green.bananas.example.com", http.StatusMisdirectedRequest, ""},
				{"https://green.bananas.example.com/", "apples.example.com", http.StatusMisdirectedRequest, ""},
				// No listener takes this Host at all.
				{"https://apples.example.com/", "cherries.example.com", http.StatusNotFound, ""},
			}
			for _, tc := range cases {
				resp, _ := get(t, client, tc.url, tc.host)
				if resp.StatusCode != tc.wantStatus || resp.Header.Get("X-Backend") != tc.wantBackend {
					t.Errorf("%s with Host %q: got %d from %q, want %d from %q", tc.url, tc.host, resp.StatusCode, resp.Header.Get("X-Backend"), tc.wantStatus, tc.wantBackend)
				}
				if want := name[len("HTTP/")] - '0'; resp.ProtoMajor != int(want) {
					t.Errorf("%s: protocol %s, want %s", tc.url, resp.Proto, name)
				}
				if resp.StatusCode == http.StatusOK && resp.Header.Get("Seen-X-Forwarded-Proto") != "https" {
					t.Errorf("%s: backend saw X-Forwarded-Proto %q, want https", tc.url, resp.Header.Get("Seen-X-Forwarded-Proto"))
				}
			}
		})
	}
}

func TestTLSRefusesUnknownServerName(t *testing.T) {
	client, _ := tlsGateway(t, func(p *http.Protocols) { p.SetHTTP1(true) })
	if resp, err := client.Get("https://cherries.example.com/"); err == nil {
		resp.Body.Close()
		t.Fatalf("handshake for a name no listener has succeeded with %d", resp.StatusCode)
	}
}

func TestH2C(t *testing.T) {
	h2cOnly := func(s *http.Server) {
		s.Protocols = new(http.Protocols)
		s.Protocols.SetUnencryptedHTTP2(true)
	}
	plain, h2c := startBackend(t, "plain"), startBackendWith(t, "h2c", h2cOnly)
	h2cRef := h2c.ref(t, 1)
	h2cRef.AppProtocol = routetable.AppProtocolH2C
	g := startGateway(t, Options{},
		simpleRoute("plain", "/plain", routetable.Rule{Backends: []routetable.Backend{plain.ref(t, 1)}}),
		simpleRoute("h2c", "/h2c", routetable.Rule{Backends: []routetable.Backend{h2cRef}}),
	)
	client := &http.Client{Transport: &http.Transport{Protocols: new(http.Protocols)}}
	client.Transport.(*http.Transport).Protocols.SetUnencryptedHTTP2(true)
	cases := []struct{ path, wantClientProto, wantBackendProto string }{
		{"/plain", "HTTP/2.0", "HTTP/1.1"},
		{"/h2c", "HTTP/2.0", "HTTP/2.0"},
	}
	for _, tc := range cases {
		resp, _ := get(t, client, g.url(tc.path), "example.com")
		if resp.StatusCode != http.StatusOK || resp.Proto != tc.wantClientProto || resp.Header.Get("Seen-Proto") != tc.wantBackendProto {
			t.Errorf("%s: got %d over %s, backend saw %q; want 200 over %s, backend %s", tc.path, resp.StatusCode, resp.Proto, resp.Header.Get("Seen-Proto"), tc.wantClientProto, tc.wantBackendProto)
		}
	}
}
