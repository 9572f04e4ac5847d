package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// Options configure a Server. The zero value works: every limit has a default.
type Options struct {
	// Registerer receives the proxy's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Logger reports bind, drain and backend errors; the zero Logger discards.
	Logger logr.Logger
	// AccessLog, when it has a sink, gets one line per request.
	AccessLog logr.Logger
	// ReadHeaderTimeout bounds reading a request's headers; default 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long; default 120s.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps request headers (larger gets 431); default 64 KiB.
	MaxHeaderBytes int
	// DrainTimeout is how long a socket removed by Apply may finish its
	// in-flight requests before they are cut; default 30s.
	DrainTimeout time.Duration
	// DialTimeout bounds connecting to an endpoint; default 5s.
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is the backend connection pool per endpoint; default 256.
	MaxIdleConnsPerHost int
	// MirrorBodyLimit is the largest request body copied to mirrors; a larger
	// request is not mirrored. Default 1 MiB.
	MirrorBodyLimit int64
	// MirrorTimeout bounds one mirrored request; default 10s.
	MirrorTimeout time.Duration
	// MaxMirrorsInFlight drops mirror copies beyond this many; default 256.
	MaxMirrorsInFlight int
	// RetryBodyLimit is the largest request body kept to be sent again by a
	// rule's retry policy; a larger request is tried once. Default 1 MiB.
	RetryBodyLimit int64
	// MaxBufferedBodyBytes bounds the request body bytes held in memory for
	// mirrors and retries by all requests at once, taken before a body is
	// read; a request the budget cannot cover goes to its backend streaming,
	// unmirrored and tried once. Default 64 MiB: 64 bodies at the 1 MiB
	// per-request limits, a small share of a data plane Pod's memory.
	MaxBufferedBodyBytes int64
	// TenantOf names the tenant of a namespace, for the metrics' tenant
	// label; nil leaves it empty.
	TenantOf func(namespace string) string
	// MetricsRoutes is how many routes get metric series of their own
	// (route label); the traffic of later ones is counted under route
	// "_overflow". Default 1000; negative drops the route label, leaving
	// tenant and namespace.
	MetricsRoutes int
	// MaxConnectionsPerListener bounds the client connections open on one
	// socket (address and port, shared by the listeners on it); more wait
	// in the kernel's accept queue. Default 10,000: at roughly 10 KiB per
	// idle HTTP/1.1 connection, about 100 MiB at worst.
	MaxConnectionsPerListener int
	// BodyReadTimeout is how long a client may take to send a request
	// body, plus one second per 500 bytes received (Apache mod_reqtimeout's
	// rule), counting only time the proxy waits for it; a slower client gets
	// 408. Default 30s.
	BodyReadTimeout time.Duration
	// DisableFastPath serves every connection with net/http alone; by
	// default HTTP/1.1 requests to plain HTTP/1.1 backends take the fast
	// path (fastpath.go).
	DisableFastPath bool
	// MaxConnsPerEndpoint bounds the fast path's connections to one
	// endpoint; a request finding it reached waits up to DialTimeout for
	// one to come back, then gets 503. 0: no limit.
	MaxConnsPerEndpoint int
}

func (o Options) withDefaults() Options {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.ReadHeaderTimeout, 10*time.Second)
	set(&o.IdleTimeout, 120*time.Second)
	set(&o.DrainTimeout, 30*time.Second)
	set(&o.DialTimeout, 5*time.Second)
	set(&o.MirrorTimeout, 10*time.Second)
	set(&o.BodyReadTimeout, 30*time.Second)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 256
	}
	if o.MirrorBodyLimit <= 0 {
		o.MirrorBodyLimit = 1 << 20
	}
	if o.RetryBodyLimit <= 0 {
		o.RetryBodyLimit = 1 << 20
	}
	if o.MaxBufferedBodyBytes <= 0 {
		o.MaxBufferedBodyBytes = 64 << 20
	}
	if o.MaxConnectionsPerListener <= 0 {
		o.MaxConnectionsPerListener = 10_000
	}
	if o.MaxMirrorsInFlight <= 0 {
		o.MaxMirrorsInFlight = 256
	}
	if o.MetricsRoutes == 0 {
		o.MetricsRoutes = 1000
	}
	return o
}

// Server serves a routetable.Table on the sockets it names. Apply swaps in
// a new table; a request uses the table it started with to the end.
type Server struct {
	opts  Options
	table atomic.Pointer[routetable.Table]
	// series caches each rule's metric series for the current table;
	// routes bounds the routes with series of their own.
	series   atomic.Pointer[seriesCache]
	resolved resolvedSeries
	routes   *routeSeries
	forward  *forwarder
	// fastPools are the fast path's backend connections by endpoint.
	fastPools *backendPools
	metrics   *metrics
	streams   *streamMetrics // TLS passthrough (passthrough.go)
	mirrors   chan struct{}  // slots for mirror copies in flight
	// hardStop cuts every draining request and mirror when Shutdown runs out of time.
	hardCtx  context.Context
	hardStop context.CancelFunc
	drains   sync.WaitGroup

	mu      sync.Mutex // guards sockets and closed
	sockets map[socketID]*socket
	closed  bool
}

// socketID is a bound socket; TLS and passthrough are part of it so a port
// that changes protocol is re-opened.
type socketID struct {
	routetable.SocketKey
	tls         bool
	passthrough bool
}

func idOf(sock *routetable.Socket) socketID {
	return socketID{SocketKey: sock.SocketKey, tls: sock.Protocol == routetable.ProtocolHTTPS, passthrough: sock.Protocol == routetable.ProtocolTLS}
}

func (id socketID) String() string {
	return net.JoinHostPort(id.Address, strconv.Itoa(int(id.Port)))
}

// socket is one bound listener and the http.Server on it, or for TLS
// passthrough the stream server instead.
type socket struct {
	id      socketID
	ln      net.Listener
	srv     *http.Server
	handler *socketHandler
	stream  *streamServer
	fast    *fastSocket        // nil when the fast path is off
	abort   context.CancelFunc // ends in-flight requests, upgrades included
}

// NewServer returns a Server serving an empty table; call Apply to open sockets.
func NewServer(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:    opts,
		metrics: newMetrics(opts.Registerer),
		streams: newStreamMetrics(opts.Registerer),
		mirrors: make(chan struct{}, opts.MaxMirrorsInFlight),
		sockets: map[socketID]*socket{},
	}
	s.hardCtx, s.hardStop = context.WithCancel(context.Background())
	s.forward = newForwarder(opts, s.metrics)
	s.fastPools = newBackendPools(opts)
	go s.fastPools.sweepEvery(30*time.Second, s.hardCtx.Done())
	s.table.Store(&routetable.Table{})
	s.series.Store(&seriesCache{})
	s.routes = newRouteSeries(opts.MetricsRoutes)
	return s
}

// Apply serves t from now on: it opens the sockets t adds, closes (and
// drains) those it drops and leaves the others untouched. It returns, keyed
// by listener name ("namespace/gateway/listener"), why a listener's socket
// could not be opened; those listeners are not Programmed (PortUnavailable).
// A failed socket is retried by the next Apply.
func (s *Server) Apply(t *routetable.Table) map[string]error {
	if t == nil {
		t = &routetable.Table{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := map[string]error{}
	if s.closed {
		for _, sock := range t.Sockets() {
			for _, l := range sock.Listeners {
				errs[l.Name] = fmt.Errorf("listener %s is not served because the proxy is shutting down", l.Name)
			}
		}
		return errs
	}
	prev := s.table.Swap(t)
	s.forgetRoutes(prev, t)
	s.forward.retainTLS(t)
	want := map[socketID]*routetable.Socket{}
	for _, sock := range t.Sockets() {
		want[idOf(sock)] = sock
	}
	for id, so := range s.sockets {
		if want[id] == nil {
			delete(s.sockets, id)
			ctx, cancel := context.WithTimeout(s.hardCtx, s.opts.DrainTimeout)
			s.retire(ctx, cancel, so)
		}
	}
	for _, sock := range t.Sockets() {
		id := idOf(sock)
		if so := s.sockets[id]; so != nil {
			if so.stream != nil {
				so.stream.revalidate(t)
			}
			continue
		}
		so, err := s.open(id)
		if err != nil {
			for _, l := range sock.Listeners {
				errs[l.Name] = fmt.Errorf("listener %s cannot listen on %s (%w); free the port or give the listener another", l.Name, id, err)
			}
			s.opts.Logger.Error(err, "socket not opened", "socket", id.String())
			continue
		}
		s.sockets[id] = so
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Shutdown stops accepting connections, lets in-flight requests finish and
// returns when they have or ctx ends; then it cuts whatever is left (long
// upgrades, mirrors) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for id, so := range s.sockets {
		delete(s.sockets, id)
		s.retire(s.hardCtx, func() {}, so)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.drains.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.hardStop()
		<-done
	}
	s.hardStop()
	s.forward.closeIdle()
	s.fastPools.closeIdle()
	return err
}

// open binds id and serves it until it is retired.
func (s *Server) open(id socketID) (*socket, error) {
	if id.passthrough {
		return s.openStream(id)
	}
	ln, err := net.Listen("tcp", id.String())
	if err != nil {
		return nil, err
	}
	ln = netutil.LimitListener(ln, s.opts.MaxConnectionsPerListener)
	ctx, abort := context.WithCancel(s.hardCtx)
	h := &socketHandler{server: s, key: id.SocketKey}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		Protocols:         protocols,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(logWriter{s.opts.Logger}, "", 0),
	}
	so := &socket{id: id, ln: ln, srv: srv, handler: h, abort: abort}
	if id.tls {
		protocols.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certificate(id.SocketKey), NextProtos: alpnProtocols}
		srv.TLSConfig.GetConfigForClient = s.clientValidation(id.SocketKey, srv.TLSConfig)
	} else {
		protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge
	}
	if s.opts.DisableFastPath {
		if id.tls {
			go so.serve(func() error { return srv.ServeTLS(ln, "", "") }, s.opts.Logger)
		} else {
			go so.serve(func() error { return srv.Serve(ln) }, s.opts.Logger)
		}
		return so, nil
	}
	// The fast path accepts and handshakes; net/http serves what it hands off.
	so.fast = &fastSocket{server: s, so: so, ln: ln, handoff: newHandoffListener(ln.Addr()), conns: map[*fastConn]struct{}{}}
	if id.tls {
		so.fast.tls = srv.TLSConfig
	}
	srv.ConnContext = connContext
	go so.serve(func() error { return srv.Serve(so.fast.handoff) }, s.opts.Logger)
	go so.serve(so.fast.serve, s.opts.Logger)
	return so, nil
}

func (so *socket) serve(serve func() error, logger logr.Logger) {
	if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		logger.Error(err, "socket stopped serving", "socket", so.id.String())
	}
}

// retire frees the port at once and drains the socket in the background
// until ctx ends, when it cuts what is left. Callers hold s.mu.
func (s *Server) retire(ctx context.Context, cancel context.CancelFunc, so *socket) {
	_ = so.ln.Close() // the port is free before Apply returns, so it can be re-bound
	s.drains.Add(1)
	go func() {
		defer s.drains.Done()
		defer cancel()
		if so.stream != nil {
			so.stream.drain(ctx)
			so.abort()
			return
		}
		if so.fast != nil {
			so.fast.drain()
		}
		err := so.srv.Shutdown(ctx)
		if err == nil && so.fast != nil {
			err = so.fast.wait(ctx)
		}
		// Shutdown does not wait for hijacked (upgraded) connections; the handler count does.
		for err == nil && so.handler.active.Load() > 0 {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err != nil {
			so.abort()
			_ = so.srv.Close()
			if so.fast != nil {
				so.fast.abort()
			}
		}
	}()
}

// certificate chooses the certificate of the listener SNI selects on a socket.
func (s *Server) certificate(key routetable.SocketKey) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		sock := s.table.Load().Socket(key.Address, key.Port)
		if sock == nil {
			return nil, fmt.Errorf("no listener is configured on %s:%d", key.Address, key.Port)
		}
		l := sock.Listener(hello.ServerName)
		if l == nil || len(l.Certificates) == 0 {
			return nil, fmt.Errorf("no HTTPS listener on %s:%d accepts server name %q", key.Address, key.Port, hello.ServerName)
		}
		return l.Certificate(hello), nil
	}
}

// alpnProtocols are what http.Server offers on its TLS sockets (HTTP/2 and
// HTTP/1.1); a config returned for one handshake must offer them itself.
var alpnProtocols = []string{"h2", "http/1.1"}

// clientValidation gives a handshake whose SNI picks a listener with client
// certificate validation that listener's CAs and mode; other handshakes use
// base. Session tickets are off there, so every connection shows a
// certificate checked against the CAs of the listener it reaches.
func (s *Server) clientValidation(key routetable.SocketKey, base *tls.Config) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		sock := s.table.Load().Socket(key.Address, key.Port)
		if sock == nil {
			return nil, nil
		}
		l := sock.Listener(hello.ServerName)
		if l == nil || l.ClientCAs == nil {
			return nil, nil
		}
		return &tls.Config{
			MinVersion:             base.MinVersion,
			GetCertificate:         base.GetCertificate,
			NextProtos:             alpnProtocols,
			ClientAuth:             l.ClientAuth,
			ClientCAs:              l.ClientCAs,
			SessionTicketsDisabled: true,
		}, nil
	}
}

// logWriter sends http.Server's own messages (TLS handshake errors and the
// like) to the logger at debug level.
type logWriter struct{ logger logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.logger.V(1).Info(string(p))
	return len(p), nil
}
