package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// maxDialAttempts bounds the endpoints one passthrough connection tries
// before it is closed.
const maxDialAttempts = 3

// streamServer serves one TLS socket: it reads each connection's
// ClientHello, picks the listener and TLSRoute by its server name from the
// current table, and splices the bytes both ways to one endpoint of the
// route's weighted backends: as they are (Passthrough), or, on a listener
// with certificates (Terminate), after completing the handshake with the
// listener's certificate. A connection no route takes is closed.
type streamServer struct {
	server *Server
	key    routetable.SocketKey
	ln     net.Listener
	slots  chan struct{} // MaxConnectionsPerListener
	ctx    context.Context

	mu      sync.Mutex
	conns   map[net.Conn]*stream
	wg      sync.WaitGroup
	closing bool // set by drain: no connection is tracked afterwards
}

// streamMetrics count passthrough connections by outcome.
type streamMetrics struct {
	connections *prometheus.CounterVec
}

func newStreamMetrics(reg prometheus.Registerer) *streamMetrics {
	m := &streamMetrics{connections: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantgate_proxy_tls_passthrough_connections_total",
		Help: "TLS passthrough connections by listener, route (namespace/name), backend and result (forwarded, no_route, no_backend, no_endpoint, dial_failed, bad_client_hello, handshake_failed).",
	}, []string{"listener", "route", "backend", "result"})}
	if reg != nil {
		reg.MustRegister(m.connections)
	}
	return m
}

// openStream binds id for TLS passthrough and serves it until it is retired.
func (s *Server) openStream(id socketID) (*socket, error) {
	ln, err := net.Listen("tcp", id.String())
	if err != nil {
		return nil, err
	}
	ctx, abort := context.WithCancel(s.hardCtx)
	st := &streamServer{server: s, key: id.SocketKey, ln: ln, ctx: ctx,
		slots: make(chan struct{}, s.opts.MaxConnectionsPerListener), conns: map[net.Conn]*stream{}}
	go st.serve()
	return &socket{id: id, ln: ln, stream: st, abort: abort}, nil
}

// serve accepts until the listener closes; beyond MaxConnectionsPerListener
// open connections it stops accepting and the rest wait in the kernel's queue.
func (st *streamServer) serve() {
	for {
		st.slots <- struct{}{}
		c, err := st.ln.Accept()
		if err != nil {
			<-st.slots
			if errors.Is(err, net.ErrClosed) {
				return
			}
			st.server.opts.Logger.V(1).Info("accept failed", "socket", st.ln.Addr().String(), "error", err.Error())
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !st.track(c, true) {
			_ = c.Close()
			<-st.slots
			return
		}
		go func() {
			defer func() { st.track(c, false); <-st.slots }()
			st.handle(c)
		}()
	}
}

// track adds or removes an open connection; false when the socket is
// draining and takes no more.
func (st *streamServer) track(c net.Conn, open bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case open && st.closing:
		return false
	case open:
		st.conns[c] = &stream{}
		st.wg.Add(1)
	default:
		delete(st.conns, c)
		st.wg.Done()
	}
	return true
}

// handle routes one client connection and closes it when either side is done.
func (st *streamServer) handle(client net.Conn) {
	defer client.Close()
	opts := st.server.opts
	_ = client.SetReadDeadline(time.Now().Add(opts.ReadHeaderTimeout))
	hello, serverName, err := readClientHello(client)
	if err != nil {
		st.count("", "", "", "bad_client_hello")
		opts.Logger.V(1).Info("TLS passthrough connection closed", "remote", client.RemoteAddr().String(), "error", err.Error())
		return
	}
	_ = client.SetReadDeadline(time.Time{})
	sock := st.server.table.Load().Socket(st.key.Address, st.key.Port)
	var l *routetable.CompiledListener
	if sock != nil {
		l = sock.Listener(serverName)
	}
	if l == nil || l.Protocol != routetable.ProtocolTLS {
		st.count("", "", "", "no_route")
		return
	}
	rule := l.TLSRoute(serverName)
	if rule == nil {
		st.count(l.Name, "", "", "no_route")
		return
	}
	backend := rule.PickBackend()
	if backend == nil || backend.Unresolved != "" {
		// An unusable backendRef keeps its weight share: those connections are refused.
		st.count(l.Name, rule.Route, backendName(backend), "no_backend")
		return
	}
	var downstream net.Conn = client
	if l.Terminates() {
		tc, err := st.terminate(client, hello, l)
		if err != nil {
			st.count(l.Name, rule.Route, backend.Name, "handshake_failed")
			opts.Logger.V(1).Info("TLS handshake failed", "listener", l.Name, "remote", client.RemoteAddr().String(), "error", err.Error())
			return
		}
		defer tc.Close()
		downstream, hello = tc, nil
	}
	upstream, result := st.dial(backend)
	if upstream == nil {
		st.count(l.Name, rule.Route, backend.Name, result)
		return
	}
	defer upstream.Close()
	st.count(l.Name, rule.Route, backend.Name, "forwarded")
	st.forwarding(client, stream{serverName: serverName, backend: backend.Name})
	if _, err := upstream.Write(hello); err != nil {
		return
	}
	splice(downstream, upstream)
}

// terminate completes the handshake whose ClientHello was already read,
// with the listener's certificate, within ReadHeaderTimeout.
func (st *streamServer) terminate(client net.Conn, hello []byte, l *routetable.CompiledListener) (*tls.Conn, error) {
	tc := tls.Server(&replayConn{Conn: client, r: io.MultiReader(bytes.NewReader(hello), client)}, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return l.Certificate(h), nil },
	})
	ctx, cancel := context.WithTimeout(st.ctx, st.server.opts.ReadHeaderTimeout)
	defer cancel()
	return tc, tc.HandshakeContext(ctx)
}

// replayConn reads the bytes already taken off a connection before the rest.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dial connects to the backend's next endpoint, trying a few on failure.
func (st *streamServer) dial(b *routetable.CompiledBackend) (net.Conn, string) {
	n := len(b.Endpoints())
	if n == 0 {
		return nil, "no_endpoint"
	}
	d := net.Dialer{Timeout: st.server.opts.DialTimeout, KeepAlive: 30 * time.Second}
	for range min(n, maxDialAttempts) {
		ep := b.PickEndpoint()
		c, err := d.DialContext(st.ctx, "tcp", net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port))))
		if err == nil {
			return c, ""
		}
		st.server.opts.Logger.V(1).Info("TLS passthrough endpoint unreachable", "backend", b.Name, "error", err.Error())
	}
	return nil, "dial_failed"
}

// splice copies both ways (io.Copy between TCP connections uses splice(2)
// on Linux) and half-closes each side as the other finishes sending.
func splice(client, upstream net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := io.Copy(upstream, client); err != nil {
			_ = upstream.Close() // a reset on one side ends the other
			return
		}
		closeWrite(upstream)
	}()
	if _, err := io.Copy(client, upstream); err != nil {
		_ = client.Close()
	} else {
		closeWrite(client)
	}
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

func backendName(b *routetable.CompiledBackend) string {
	if b == nil {
		return ""
	}
	return b.Name
}

func (st *streamServer) count(listener, route, backend, result string) {
	st.server.streams.connections.WithLabelValues(listener, route, backend, result).Inc()
}

// stream is what a forwarded connection was routed to, so a new table
// that no longer routes its server name there can cut it.
type stream struct {
	serverName string
	backend    string // "" until the connection is forwarded
}

func (st *streamServer) forwarding(c net.Conn, s stream) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if cur := st.conns[c]; cur != nil {
		*cur = s
	}
}

// revalidate closes the forwarded connections whose server name the table
// no longer routes to the same resolved backend (the route, its
// ReferenceGrant or the tenant's permission is gone): a revocation ends
// open streams, not only new ones. A weight change or an endpoint leaving
// (a Pod terminating gracefully) does not, as kube-proxy keeps
// established connections.
func (st *streamServer) revalidate(t *routetable.Table) {
	sock := t.Socket(st.key.Address, st.key.Port)
	st.mu.Lock()
	defer st.mu.Unlock()
	for c, s := range st.conns {
		if s.backend != "" && !stillRouted(sock, s) {
			_ = c.Close()
		}
	}
}

func stillRouted(sock *routetable.Socket, s *stream) bool {
	if sock == nil {
		return false
	}
	l := sock.Listener(s.serverName)
	if l == nil || l.Protocol != routetable.ProtocolTLS {
		return false
	}
	rule := l.TLSRoute(s.serverName)
	if rule == nil {
		return false
	}
	for _, b := range rule.Backends {
		if b.Name == s.backend && b.Unresolved == "" {
			return true
		}
	}
	return false
}

// drain waits for the open connections to end until ctx does, then cuts
// what is left. The listener is already closed.
func (st *streamServer) drain(ctx context.Context) {
	st.mu.Lock()
	st.closing = true
	st.mu.Unlock()
	done := make(chan struct{})
	go func() {
		st.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	st.mu.Lock()
	for c := range st.conns {
		_ = c.Close()
	}
	st.mu.Unlock()
	<-done
}
