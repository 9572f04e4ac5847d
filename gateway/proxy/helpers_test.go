package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// testCertificate is a self-signed certificate for dnsNames, so a client
// can trust exactly it.
func testCertificate(t testing.TB, dnsNames ...string) routetable.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(mrand.Int64()),
		Subject:               pkix.Name{CommonName: dnsNames[0]},
		DNSNames:              dnsNames,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return routetable.Certificate{
		Secret:  "infra/" + dnsNames[0],
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

// loopback returns a random 127.x.y.z address and a port free on it, so
// tests running at once on this machine do not collide.
func loopback(t testing.TB) (string, int32) {
	t.Helper()
	addr := fmt.Sprintf("127.%d.%d.%d", 1+mrand.IntN(250), mrand.IntN(256), 1+mrand.IntN(250))
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return addr, int32(ln.Addr().(*net.TCPAddr).Port)
}

// testBackend is an upstream that reports what it saw as "Seen-" response
// headers and its name as X-Backend.
type testBackend struct {
	name string
	srv  *httptest.Server
}

func startBackend(t testing.TB, name string) *testBackend {
	return startBackendWith(t, name, func(*http.Server) {})
}

// startBackendWith lets the test configure the backend's http.Server first.
func startBackendWith(t testing.TB, name string, configure func(*http.Server)) *testBackend {
	t.Helper()
	b := &testBackend{name: name}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range r.Header {
			w.Header()["Seen-"+k] = v
		}
		w.Header().Set("Seen-Host", r.Host)
		w.Header().Set("Seen-Path", r.URL.EscapedPath())
		w.Header().Set("Seen-Proto", r.Proto)
		w.Header().Set("X-Backend", name)
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
	configure(b.srv.Config)
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

// endpoint is the backend's address as the route table names it.
func endpointOf(t testing.TB, srv *httptest.Server) routetable.Endpoint {
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return routetable.Endpoint{Address: host, Port: int32(p)}
}

func (b *testBackend) ref(t testing.TB, weight int32) routetable.Backend {
	return routetable.Backend{Name: "apples/" + b.name + ":80", Weight: weight, Endpoints: []routetable.Endpoint{endpointOf(t, b.srv)}}
}

// gateway is a Server serving one table on a fresh loopback socket.
type gateway struct {
	server *Server
	addr   string
	port   int32
	client *http.Client
	// compiler compiles each table after the last, as the controller's does.
	compiler routetable.Compiler
}

func (g *gateway) url(path string) string {
	return "http://" + net.JoinHostPort(g.addr, strconv.Itoa(int(g.port))) + path
}

// startGateway serves routes on one HTTP listener (hostname "") of a fresh
// socket and shuts the server down when the test ends.
func startGateway(t testing.TB, opts Options, routes ...*routetable.Route) *gateway {
	t.Helper()
	addr, port := loopback(t)
	g := &gateway{server: NewServer(opts), addr: addr, port: port, client: &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.server.Shutdown(ctx)
	})
	g.apply(t, routes...)
	return g
}

func (g *gateway) apply(t testing.TB, routes ...*routetable.Route) {
	t.Helper()
	table, faults := g.compiler.Compile(routetable.Config{Listeners: []routetable.Listener{httpListener("infra/gw/http", g.addr, g.port, "", routes...)}})
	if err := faults.Err(); err != nil {
		t.Fatal(err)
	}
	if errs := g.server.Apply(table); errs != nil {
		t.Fatalf("Apply: %v", errs)
	}
}

func applyConfig(t testing.TB, s *Server, cfg routetable.Config) {
	t.Helper()
	table, faults := routetable.Compile(cfg)
	if err := faults.Err(); err != nil {
		t.Fatal(err)
	}
	if errs := s.Apply(table); errs != nil {
		t.Fatalf("Apply: %v", errs)
	}
}

func httpListener(name, addr string, port int32, hostname string, routes ...*routetable.Route) routetable.Listener {
	return routetable.Listener{Name: name, Address: addr, Port: port, Protocol: routetable.ProtocolHTTP, Hostname: hostname, Routes: routes}
}

// simpleRoute is route apples/NAME with one rule: PathPrefix path to backends.
func simpleRoute(name, path string, rule routetable.Rule) *routetable.Route {
	if len(rule.Matches) == 0 {
		rule.Matches = []routetable.Match{{Path: routetable.PathMatch{Type: routetable.PathPrefix, Value: path}}}
	}
	return &routetable.Route{Namespace: "apples", Name: name, Rules: []routetable.Rule{rule}}
}

// get sends one GET request and returns the response with its body read.
func get(t testing.TB, c *http.Client, url, host string, headers ...string) (*http.Response, string) {
	t.Helper()
	return send(t, c, "GET", url, host, headers...)
}

// send sends one request; headers are name, value pairs.
func send(t testing.TB, c *http.Client, method, url, host string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, url, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func itoa(port int32) string { return strconv.Itoa(int(port)) }

// tlsInsecure is for tests that check a TLS socket opened, not its certificate.
var tlsInsecure = tls.Config{InsecureSkipVerify: true}
