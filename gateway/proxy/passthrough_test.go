package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// tlsEchoBackend terminates TLS with its own certificate for names, greets
// each connection with "hello from NAME (SNI)\n" and echoes what it reads
// until the client half-closes.
type tlsEchoBackend struct {
	name string
	cert routetable.Certificate
	ln   net.Listener
}

func startTLSEchoBackend(t *testing.T, name string, names ...string) *tlsEchoBackend {
	t.Helper()
	b := &tlsEchoBackend{name: name, cert: testCertificate(t, names...)}
	pair, err := tls.X509KeyPair(b.cert.CertPEM, b.cert.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if b.ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.ln.Close() })
	go func() {
		for {
			c, err := b.ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				_, _ = io.WriteString(c, "hello from "+name+" ("+tc.ConnectionState().ServerName+")\n")
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return b
}

func (b *tlsEchoBackend) ref(t testing.TB, weight int32) routetable.Backend {
	addr := b.ln.Addr().(*net.TCPAddr)
	return routetable.Backend{Name: "apples/" + b.name + ":443", Weight: weight,
		Endpoints: []routetable.Endpoint{{Address: addr.IP.String(), Port: int32(addr.Port)}}}
}

// passthroughGateway serves TLS listeners on a fresh loopback socket.
func passthroughGateway(t testing.TB, listeners ...routetable.Listener) (*Server, string) {
	t.Helper()
	addr, port := loopback(t)
	for i := range listeners {
		listeners[i].Address, listeners[i].Port, listeners[i].Protocol = addr, port, routetable.ProtocolTLS
	}
	s := NewServer(Options{ReadHeaderTimeout: 2 * time.Second})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	applyConfig(t, s, routetable.Config{Listeners: listeners})
	return s, net.JoinHostPort(addr, itoa(port))
}

func tlsRouteTo(name string, hostnames []string, backends ...routetable.Backend) *routetable.Route {
	return &routetable.Route{Namespace: "apples", Name: name, Hostnames: hostnames, Rules: []routetable.Rule{{Backends: backends}}}
}

// dialTLS completes a handshake through the gateway, trusting only the
// backends' certificates: success proves the gateway did not terminate.
func dialTLS(t *testing.T, addr, sni string, trusted ...*tlsEchoBackend) (*tls.Conn, error) {
	t.Helper()
	roots := x509.NewCertPool()
	for _, b := range trusted {
		roots.AppendCertsFromPEM(b.cert.CertPEM)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: sni, RootCAs: roots}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*tls.Conn), nil
}

func greeting(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the backend's greeting: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestPassthroughRoutesBySNI(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "apples.example.com")
	bananas := startTLSEchoBackend(t, "bananas", "*.bananas.example.com")
	_, addr := passthroughGateway(t,
		routetable.Listener{Name: "infra/gw/apples", Hostname: "apples.example.com",
			Routes: []*routetable.Route{tlsRouteTo("apples", nil, apples.ref(t, 1))}},
		routetable.Listener{Name: "infra/gw/wild", Hostname: "*.example.com",
			Routes: []*routetable.Route{tlsRouteTo("bananas", []string{"*.bananas.example.com"}, bananas.ref(t, 1))}},
	)
	for sni, want := range map[string]string{
		"apples.example.com":     "hello from apples (apples.example.com)",
		"a.bananas.example.com":  "hello from bananas (a.bananas.example.com)",
		"ab.bananas.example.com": "hello from bananas (ab.bananas.example.com)",
	} {
		c, err := dialTLS(t, addr, sni, apples, bananas)
		if err != nil {
			t.Fatalf("SNI %s: %v", sni, err)
		}
		if got := greeting(t, c); got != want {
			t.Errorf("SNI %s: %q, want %q", sni, got, want)
		}
	}
}

// TestPassthroughRefuses: a name no route claims, a route whose backend
// did not resolve, and a client that does not speak TLS are all closed.
func TestPassthroughRefuses(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "*.example.com")
	unresolved := routetable.Backend{Name: "apples/missing:443", Weight: 1, Unresolved: "BackendNotFound"}
	_, addr := passthroughGateway(t, routetable.Listener{Name: "infra/gw/tls", Hostname: "*.example.com", Routes: []*routetable.Route{
		tlsRouteTo("ok", []string{"ok.example.com"}, apples.ref(t, 1)),
		tlsRouteTo("broken", []string{"broken.example.com"}, unresolved),
	}})
	for _, sni := range []string{"nobody.example.com", "broken.example.com", "other.org"} {
		if _, err := dialTLS(t, addr, sni, apples); err == nil {
			t.Errorf("SNI %s: handshake succeeded, want the connection closed", sni)
		}
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: ok.example.com\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Closed with the rest of the request unread, so a reset is as good as EOF.
	if n, err := c.Read(make([]byte, 1)); n != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("plain HTTP read %d bytes, %v; want the connection closed", n, err)
	}
	if _, err := dialTLS(t, addr, "ok.example.com", apples); err != nil {
		t.Fatalf("the served name must still work: %v", err)
	}
}

// TestPassthroughHalfClose: bytes flow both ways, and when the client
// stops sending the backend still delivers all it has.
func TestPassthroughHalfClose(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "apples.example.com")
	_, addr := passthroughGateway(t, routetable.Listener{Name: "infra/gw/tls",
		Routes: []*routetable.Route{tlsRouteTo("apples", nil, apples.ref(t, 1))}})
	c, err := dialTLS(t, addr, "apples.example.com", apples)
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("0123456789", 100_000) // 1 MB
	go func() {
		_, _ = io.WriteString(c, payload)
		_ = c.CloseWrite()
	}()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := "hello from apples (apples.example.com)\n" + payload
	if string(got) != want {
		t.Fatalf("got %d bytes back, want %d", len(got), len(want))
	}
}

// TestPassthroughSwap: a new table takes new connections at once; one
// without the socket closes it.
func TestPassthroughSwap(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "a.example.com")
	bananas := startTLSEchoBackend(t, "bananas", "a.example.com")
	s, addr := passthroughGateway(t, routetable.Listener{Name: "infra/gw/tls",
		Routes: []*routetable.Route{tlsRouteTo("r", nil, apples.ref(t, 1))}})
	c, err := dialTLS(t, addr, "a.example.com", apples)
	if err != nil {
		t.Fatal(err)
	}
	if got := greeting(t, c); !strings.Contains(got, "apples") {
		t.Fatalf("before the swap: %q", got)
	}
	host, port, _ := net.SplitHostPort(addr)
	p := routetable.Listener{Name: "infra/gw/tls", Address: host, Port: parsePort(t, port), Protocol: routetable.ProtocolTLS,
		Routes: []*routetable.Route{tlsRouteTo("r", nil, bananas.ref(t, 1))}}
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{p}})
	c2, err := dialTLS(t, addr, "a.example.com", bananas)
	if err != nil {
		t.Fatal(err)
	}
	if got := greeting(t, c2); !strings.Contains(got, "bananas") {
		t.Fatalf("after the swap: %q", got)
	}
	applyConfig(t, s, routetable.Config{})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the socket still accepts after its listener was removed")
	}
}

func parsePort(t *testing.T, s string) int32 {
	t.Helper()
	addr, err := net.ResolveTCPAddr("tcp", net.JoinHostPort("127.0.0.1", s))
	if err != nil {
		t.Fatal(err)
	}
	return int32(addr.Port)
}

// startPlainEchoBackend greets with "hello from NAME (plain)\n" and echoes.
func startPlainEchoBackend(t *testing.T, name string) routetable.Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, "hello from "+name+" (plain)\n")
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	return routetable.Backend{Name: "apples/" + name + ":3000", Weight: 1,
		Endpoints: []routetable.Endpoint{{Address: addr.IP.String(), Port: int32(addr.Port)}}}
}

// TestTerminateAndPassthroughShareASocket: a Terminate listener ends TLS
// with its own certificate and sends plaintext on; a Passthrough listener
// on the same port hands the handshake to its backend.
func TestTerminateAndPassthroughShareASocket(t *testing.T) {
	gatewayCert := testCertificate(t, "term.example.com")
	passthrough := startTLSEchoBackend(t, "tls-echo", "pass.example.com")
	plain := startPlainEchoBackend(t, "plain-echo")
	_, addr := passthroughGateway(t,
		routetable.Listener{Name: "infra/gw/term", Hostname: "term.example.com", Certificates: []routetable.Certificate{gatewayCert},
			Routes: []*routetable.Route{tlsRouteTo("term", nil, plain)}},
		routetable.Listener{Name: "infra/gw/pass", Hostname: "pass.example.com",
			Routes: []*routetable.Route{tlsRouteTo("pass", nil, passthrough.ref(t, 1))}},
	)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(gatewayCert.CertPEM)
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: "term.example.com", RootCAs: roots}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("handshake with the gateway's certificate: %v", err)
	}
	defer c.Close()
	if got := greeting(t, c); got != "hello from plain-echo (plain)" {
		t.Fatalf("terminated: %q", got)
	}
	_, _ = io.WriteString(c, "ping\n")
	_ = c.(*tls.Conn).CloseWrite()
	rest, err := io.ReadAll(c)
	if err != nil || string(rest) != "ping\n" {
		t.Fatalf("echo after the greeting: %q, %v", rest, err)
	}
	pc, err := dialTLS(t, addr, "pass.example.com", passthrough)
	if err != nil {
		t.Fatalf("passthrough beside a terminating listener: %v", err)
	}
	if got := greeting(t, pc); got != "hello from tls-echo (pass.example.com)" {
		t.Fatalf("passed through: %q", got)
	}
	// A client that does not trust the gateway's certificate fails its handshake.
	if _, err := dialTLS(t, addr, "term.example.com", passthrough); err == nil {
		t.Fatal("a terminating listener's handshake succeeded with a certificate the client does not trust")
	}
}

// TestPassthroughRevocationCutsOpenStreams: a table that no longer lets a
// server name reach a backend (its backendRef became unresolved, say a
// ReferenceGrant was deleted) closes the streams already open to it; one
// that still does (a weight change) keeps them.
func TestPassthroughRevocationCutsOpenStreams(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "a.example.com")
	bananas := startTLSEchoBackend(t, "bananas", "b.example.com")
	s, addr := passthroughGateway(t, routetable.Listener{Name: "infra/gw/tls", Routes: []*routetable.Route{
		tlsRouteTo("a", []string{"a.example.com"}, apples.ref(t, 1)),
		tlsRouteTo("b", []string{"b.example.com"}, bananas.ref(t, 1)),
	}})
	ca, err := dialTLS(t, addr, "a.example.com", apples)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := dialTLS(t, addr, "b.example.com", bananas)
	if err != nil {
		t.Fatal(err)
	}
	greeting(t, ca)
	greeting(t, cb)
	host, port, _ := net.SplitHostPort(addr)
	revoked := apples.ref(t, 1)
	revoked.Unresolved, revoked.Endpoints = "RefNotPermitted", nil
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{{Name: "infra/gw/tls", Address: host, Port: parsePort(t, port), Protocol: routetable.ProtocolTLS,
		Routes: []*routetable.Route{
			tlsRouteTo("a", []string{"a.example.com"}, revoked),
			tlsRouteTo("b", []string{"b.example.com"}, bananas.ref(t, 5)),
		}}}})
	_ = ca.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ca.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the revoked stream is still open: %v", err)
	}
	_, _ = io.WriteString(cb, "still here\n")
	if got := greeting(t, cb); got != "still here" {
		t.Fatalf("the permitted stream: %q", got)
	}
}

// TestPassthroughWeights: connections split by weight, and the share of a
// backendRef that did not resolve is refused, as the spec requires.
func TestPassthroughWeights(t *testing.T) {
	apples := startTLSEchoBackend(t, "apples", "w.example.com")
	bananas := startTLSEchoBackend(t, "bananas", "w.example.com")
	unresolved := routetable.Backend{Name: "apples/missing:443", Weight: 1, Unresolved: "BackendNotFound"}
	_, addr := passthroughGateway(t, routetable.Listener{Name: "infra/gw/tls", Routes: []*routetable.Route{
		tlsRouteTo("split", []string{"w.example.com"}, apples.ref(t, 2), bananas.ref(t, 1), unresolved),
	}})
	counts := map[string]int{}
	const n = 400
	for range n {
		c, err := dialTLS(t, addr, "w.example.com", apples, bananas)
		if err != nil {
			counts["refused"]++
			continue
		}
		counts[strings.Fields(greeting(t, c))[2]]++
		_ = c.Close()
	}
	// Shares 1/2, 1/4, 1/4; ±0.1 is over four standard deviations at n=400.
	for name, want := range map[string]float64{"apples": 0.5, "bananas": 0.25, "refused": 0.25} {
		if got := float64(counts[name]) / n; got < want-0.1 || got > want+0.1 {
			t.Errorf("%s took %.2f of connections, want about %.2f (%v)", name, got, want, counts)
		}
	}
}
