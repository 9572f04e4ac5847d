package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// fastSocket accepts a socket's connections and serves each on its own
// goroutine (fastConn); a connection the fast path does not take is handed,
// with the bytes already read, to the socket's http.Server through handoff.
type fastSocket struct {
	server  *Server
	so      *socket
	ln      net.Listener
	tls     *tls.Config // nil on plain HTTP
	handoff *handoffListener

	mu       sync.Mutex
	conns    map[*fastConn]struct{}
	draining atomic.Bool // set under mu, read per request without it
	live     sync.WaitGroup
	// served counts the requests of ended connections the fast path answered.
	served atomic.Int64
}

// serve accepts until the listener is closed.
func (fs *fastSocket) serve() error {
	for {
		nc, err := fs.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		c := &fastConn{fs: fs, nc: nc, raw: nc}
		fs.mu.Lock()
		if fs.draining.Load() {
			fs.mu.Unlock()
			_ = nc.Close()
			continue
		}
		fs.conns[c] = struct{}{}
		fs.live.Add(1)
		fs.mu.Unlock()
		go c.serve()
	}
}

// drain closes idle connections and makes busy ones close after their
// request; idle ones arriving later close themselves.
func (fs *fastSocket) drain() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.draining.Store(true)
	for c := range fs.conns {
		if c.state.CompareAndSwap(connIdle, connClosed) {
			_ = c.raw.Close()
		}
	}
}

// abort cuts every connection still open.
func (fs *fastSocket) abort() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.draining.Store(true)
	for c := range fs.conns {
		c.state.Store(connClosed)
		_ = c.raw.Close()
	}
}

func (fs *fastSocket) isDraining() bool { return fs.draining.Load() }

func (fs *fastSocket) forget(c *fastConn) {
	fs.mu.Lock()
	delete(fs.conns, c)
	fs.mu.Unlock()
	fs.live.Done()
}

// wait returns when every fast connection has ended or ctx is done.
func (fs *fastSocket) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { fs.live.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const (
	connIdle int32 = iota
	connActive
	connClosed
)

// fastConn is one client connection served by its own goroutine: read,
// route, write to a pooled backend connection, stream the answer back. Its
// buffers and request state are reused for every request on it.
type fastConn struct {
	fs    *fastSocket
	nc    net.Conn // *tls.Conn on HTTPS sockets
	raw   net.Conn
	state atomic.Int32

	buf        []byte // read buffer; buf[start:end] is unread
	start, end int
	out        []byte // bytes queued for the client
	vecs       [2][]byte
	vec        net.Buffers // writev of out and a large piece, without allocating
	bout       []byte      // request head (and buffered body) for the backend
	body       []byte      // request body bytes on their way to the backend
	req        fastRequest
	resp       fastResponse
	// closeAfter is set when the client connection must close after this response.
	closeAfter bool
	// hreq is what routetable matching reads; its fields point into buf.
	hreq   http.Request
	url    url.URL
	header http.Header
	values [maxFastHeaders]string
	ex     exchange

	tlsState   *tls.ConnectionState
	clientIP   string
	remoteAddr string
	proto      string // X-Forwarded-Proto
	served     int    // requests answered on this connection
}

const (
	fastReadBuffer  = 8 << 10
	fastWriteBuffer = 16 << 10
)

// serve runs the connection until it closes or is handed off.
func (c *fastConn) serve() {
	handedOff := false
	defer func() {
		if !handedOff {
			_ = c.nc.Close()
		}
		c.fs.served.Add(int64(c.served))
		c.fs.forget(c)
	}()
	s := c.fs.server
	c.remoteAddr = c.raw.RemoteAddr().String()
	c.clientIP, _, _ = net.SplitHostPort(c.remoteAddr)
	c.proto = "http"
	if c.fs.tls != nil {
		tc := tls.Server(c.raw, c.fs.tls)
		c.nc = tc
		_ = c.raw.SetDeadline(time.Now().Add(s.opts.ReadHeaderTimeout))
		if err := tc.Handshake(); err != nil {
			s.opts.Logger.V(1).Info("TLS handshake failed", "remote", c.remoteAddr, "error", err.Error())
			return
		}
		_ = c.raw.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		c.tlsState, c.proto = &st, "https"
		if st.NegotiatedProtocol == "h2" {
			handedOff = c.handOff(nil)
			return
		}
	}
	c.buf = make([]byte, fastReadBuffer)
	c.out = make([]byte, 0, fastWriteBuffer)
	c.bout = make([]byte, 0, fastReadBuffer)
	c.header = http.Header{}
	for {
		verdict, ok := c.readHead()
		if !ok {
			return
		}
		if verdict == handOff {
			handedOff = c.handOff(c.buf[c.start:c.end])
			return
		}
		keep, handed := c.exchange()
		if handed {
			handedOff = c.handOff(c.buf[c.start:c.end])
			return
		}
		c.served++
		if !keep || c.fs.isDraining() {
			return
		}
	}
}

// readHead reads until a whole request head is buffered (fastOK), the
// fast path gives up on it (handOff) or the connection ends (ok false). A
// connection waiting for its next request is idle: draining closes it.
func (c *fastConn) readHead() (parseVerdict, bool) {
	s := c.fs.server
	if c.start == c.end {
		c.start, c.end = 0, 0
	}
	waiting := c.start == c.end
	if waiting {
		c.state.Store(connIdle)
		if c.fs.isDraining() {
			return 0, false
		}
		deadline := s.opts.ReadHeaderTimeout
		if c.served > 0 {
			deadline = s.opts.IdleTimeout
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(deadline))
	} else {
		c.state.Store(connActive)
		_ = c.nc.SetReadDeadline(time.Now().Add(s.opts.ReadHeaderTimeout))
	}
	for {
		if c.end > c.start {
			if v := parseFastRequest(c.buf[c.start:c.end], &c.req); v != needMore {
				return v, true
			}
			if c.end == len(c.buf) && c.start > 0 { // a pipelined head: move it to the front
				c.end = copy(c.buf, c.buf[c.start:c.end])
				c.start = 0
			} else if c.end == len(c.buf) {
				return handOff, true // a head this large is net/http's (431 beyond MaxHeaderBytes)
			}
		}
		n, err := c.nc.Read(c.buf[c.end:])
		if n > 0 && waiting {
			waiting = false
			if !c.state.CompareAndSwap(connIdle, connActive) {
				return 0, false // closed by drain
			}
			_ = c.nc.SetReadDeadline(time.Now().Add(s.opts.ReadHeaderTimeout))
		}
		c.end += n
		if err != nil && n == 0 {
			return 0, false // closed, reset or too slow: net/http closes these without an answer too
		}
	}
}

// handOff gives the connection and the bytes read but not served to the
// socket's http.Server for the rest of its life.
func (c *fastConn) handOff(unread []byte) bool {
	_ = c.nc.SetReadDeadline(time.Time{})
	var conn net.Conn = c.nc
	if len(unread) > 0 || c.served > 0 {
		replay := bytes.NewReader(append([]byte(nil), unread...))
		conn = &handoffConn{replayConn: replayConn{Conn: c.nc, r: io.MultiReader(replay, c.nc)}, tlsState: c.tlsState}
	}
	return c.fs.handoff.give(conn)
}

// route fills the exchange for the buffered request and reports whether
// the fast path can serve it: a matched rule with one plain HTTP/1.1
// endpoint and nothing the general path must do (filters, mirrors,
// retries, timeouts, CORS, redirects, answers of its own).
func (c *fastConn) route(t *routetable.Table) bool {
	req := &c.req
	path := bstr(req.path)
	if normal, err := routetable.NormalizePath(path); err != nil || normal != path {
		return false
	}
	sock := t.Socket(c.fs.so.id.Address, c.fs.so.id.Port)
	if sock == nil {
		return false
	}
	host := bstr(req.host)
	ex := &c.ex
	*ex = exchange{start: time.Now()}
	ex.listener = sock.Listener(host)
	if ex.listener == nil || (c.tlsState != nil && ex.listener != sock.Listener(c.tlsState.ServerName)) {
		return false
	}
	clear(c.header)
	for i := range req.nheaders {
		h := &req.headers[i]
		name := bstr(h.name)
		if have := c.header[name]; have != nil {
			c.header[name] = append(have, bstr(h.value)) // repeated field: rare, allocates
			continue
		}
		c.values[i] = bstr(h.value)
		c.header[name] = c.values[i : i+1 : i+1]
	}
	r := &c.hreq
	r.Method, r.Host, r.Header = bstr(req.method), host, c.header
	r.URL = &c.url
	r.URL.Path, r.URL.RawPath, r.URL.RawQuery = path, "", ""
	if q := len(req.path); q < len(req.target) {
		r.URL.RawQuery = bstr(req.target[q+1:])
	}
	ex.match = ex.listener.Match(host, r)
	if ex.match == nil {
		return false
	}
	rule := ex.match.Rule
	if !rule.Filters.Empty() || rule.Retry != nil || rule.Timeouts.Request > 0 || rule.Timeouts.BackendRequest > 0 || rule.GRPC {
		return false
	}
	ex.backend = rule.PickBackend()
	b := ex.backend
	if b == nil || b.Unresolved != "" || b.TLS != nil || b.AppProtocol == routetable.AppProtocolH2C ||
		b.AppProtocol == routetable.AppProtocolHTTP2 || !b.Filters.Empty() {
		return false
	}
	ex.endpoint = b.PickEndpoint()
	return ex.endpoint != nil
}

// bstr views b as a string without copying; the string is only valid
// while the buffer holds this request.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// handoffConn is a connection handed to net/http with the bytes already
// read in front; tlsState tells the handler it came over TLS.
type handoffConn struct {
	replayConn
	tlsState *tls.ConnectionState
}

// handoffListener feeds handed-off connections to an http.Server.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// tlsStateKey carries a handed-off TLS connection's state to the handler,
// which net/http cannot see through replayConn.
type tlsStateKey struct{}

func connContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*handoffConn); ok && rc.tlsState != nil {
		return context.WithValue(ctx, tlsStateKey{}, rc.tlsState)
	}
	return ctx
}
