package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// reused sends a GET and reports whether it went over a pooled connection.
func reused(t *testing.T, c *http.Client, url string) bool {
	t.Helper()
	var wasReused bool
	req, _ := http.NewRequest("GET", url, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { wasReused = info.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return wasReused
}

func TestApplyOpensAndClosesOnlyChangedSockets(t *testing.T) {
	b := startBackend(t, "b")
	routes := []*routetable.Route{simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}})}
	addrA, portA := loopback(t)
	addrB, portB := loopback(t)
	addrC, portC := loopback(t)
	a := httpListener("infra/gw/a", addrA, portA, "", routes...)
	bl := httpListener("infra/gw/b", addrB, portB, "", routes...)
	c := httpListener("infra/gw/c", addrC, portC, "", routes...)
	s := NewServer(Options{})
	defer s.Shutdown(context.Background())
	client := &http.Client{Timeout: 5 * time.Second}
	urlOf := func(addr string, port int32) string { return "http://" + net.JoinHostPort(addr, itoa(port)) + "/" }

	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{a, bl}})
	reused(t, client, urlOf(addrA, portA))
	reused(t, client, urlOf(addrB, portB))
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{a, c}})
	if !reused(t, client, urlOf(addrA, portA)) {
		t.Error("the connection to the unchanged socket did not survive Apply")
	}
	reused(t, client, urlOf(addrC, portC))
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(addrB, itoa(portB)), time.Second); err == nil {
		conn.Close()
		t.Error("the removed socket still accepts connections")
	}
}

func TestApplyReportsBindErrorsByListener(t *testing.T) {
	b := startBackend(t, "b")
	routes := []*routetable.Route{simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}})}
	busyAddr, busyPort := loopback(t)
	squatter, err := net.Listen("tcp", net.JoinHostPort(busyAddr, itoa(busyPort)))
	if err != nil {
		t.Fatal(err)
	}
	freeAddr, freePort := loopback(t)
	cfg := routetable.Config{Listeners: []routetable.Listener{
		httpListener("infra/gw/busy-a", busyAddr, busyPort, "a.example.com", routes...),
		httpListener("infra/gw/busy-b", busyAddr, busyPort, "b.example.com", routes...),
		httpListener("infra/gw/free", freeAddr, freePort, "", routes...),
	}}
	table, faults := routetable.Compile(cfg)
	if err := faults.Err(); err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{})
	defer s.Shutdown(context.Background())
	errs := s.Apply(table)
	if len(errs) != 2 || errs["infra/gw/busy-a"] == nil || errs["infra/gw/busy-b"] == nil {
		t.Fatalf("Apply errors %v, want infra/gw/busy-a and infra/gw/busy-b", errs)
	}
	if msg := errs["infra/gw/busy-a"].Error(); !strings.Contains(msg, "listener infra/gw/busy-a cannot listen on "+busyAddr) || !strings.Contains(msg, "address already in use") {
		t.Errorf("error %q does not say which listener, where and why", msg)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	reused(t, client, "http://"+net.JoinHostPort(freeAddr, itoa(freePort))+"/")

	squatter.Close()
	if errs := s.Apply(table); errs != nil {
		t.Fatalf("Apply after the port was freed: %v", errs)
	}
	resp, _ := get(t, client, "http://"+net.JoinHostPort(busyAddr, itoa(busyPort))+"/", "a.example.com")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("retried socket answered %d, want 200", resp.StatusCode)
	}
}

func TestApplyReopensASocketThatChangesProtocol(t *testing.T) {
	b := startBackend(t, "b")
	route := simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}})
	addr, port := loopback(t)
	s := NewServer(Options{})
	defer s.Shutdown(context.Background())
	plain := httpListener("infra/gw/l", addr, port, "", route)
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{plain}})
	secure := plain
	secure.Protocol = routetable.ProtocolHTTPS
	secure.Certificates = []routetable.Certificate{testCertificate(t, "example.com")}
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{secure}})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tlsInsecure}}
	resp, _ := get(t, client, "https://"+net.JoinHostPort(addr, itoa(port))+"/", "example.com")
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("got %d (TLS %v), want 200 over TLS", resp.StatusCode, resp.TLS != nil)
	}
}

// blockingBackend answers once release is closed, and reports each request
// it starts on started.
func blockingBackend(t *testing.T) (*testBackend, chan struct{}, chan struct{}) {
	release, started := make(chan struct{}), make(chan struct{}, 10)
	b := startBackend(t, "blocking")
	b.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
			_, _ = w.Write([]byte("done"))
		case <-r.Context().Done():
		}
	})
	return b, release, started
}

func TestShutdownDrainsInFlightRequests(t *testing.T) {
	b, release, started := blockingBackend(t)
	g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	result := make(chan int, 1)
	go func() {
		resp, err := g.client.Get(g.url("/"))
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	<-started
	shutdown := make(chan error, 1)
	go func() { shutdown <- g.server.Shutdown(context.Background()) }()
	// Until the port is closed the dial may still succeed; bounded wait.
	for i := 0; ; i++ {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(g.addr, itoa(g.port)), time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if i == 100 {
			t.Fatal("the socket still accepts connections after Shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) before the in-flight request finished", err)
	default:
	}
	close(release)
	if status := <-result; status != http.StatusOK {
		t.Errorf("in-flight request got %d, want 200", status)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestShutdownCutsRequestsPastTheGracePeriod(t *testing.T) {
	b, release, started := blockingBackend(t)
	defer close(release)
	g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	result := make(chan error, 1)
	go func() {
		resp, err := g.client.Get(g.url("/"))
		if err == nil {
			resp.Body.Close()
			// Cut either way: the connection closed, or the proxy answered
			// the cancelled exchange with an error status first.
			if resp.StatusCode == http.StatusOK {
				err = nil
			} else {
				err = fmt.Errorf("answered %d", resp.StatusCode)
			}
		}
		result <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := g.server.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	if err := <-result; err == nil {
		t.Error("the request outlived Shutdown")
	}
}

func TestApplyDrainsARemovedSocket(t *testing.T) {
	b, release, started := blockingBackend(t)
	g := startGateway(t, Options{}, simpleRoute("r", "/", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	result := make(chan int, 1)
	go func() {
		resp, err := g.client.Get(g.url("/"))
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	<-started
	applyConfig(t, g.server, routetable.Config{})
	close(release)
	if status := <-result; status != http.StatusOK {
		t.Errorf("in-flight request on the removed socket got %d, want 200", status)
	}
}
